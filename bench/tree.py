"""Subtree member totals: per-unit counters versus a scan of the people.

Expects the demo organisation (``quantriet demo``) in the database named by
DATABASE_URL (the project settings). Prints one JSON line:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qt_bench .venv/bin/python bench/tree.py

For (a) the provincial federation LDLD-01 (Hà Nội), (b) the upper-grassroots unit
(commune/ward or district level) with the most members and (c) the whole tree, it
times ``queries.subtree_member_total`` (a SUM over the units of the subtree) and
``Person.objects.in_subtree(path).count()`` (a scan of the people), each the median
of 5 runs in milliseconds, and says whether the two agree.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantriet.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.db.models.functions import Substr  # noqa: E402

from quantriet.org import queries, tree  # noqa: E402
from quantriet.org.models import Person, Position, Unit  # noqa: E402

RUNS = 5


def timed(fn: Callable[[], Any], runs: int = RUNS) -> tuple[Any, float]:
    """The result of ``fn`` and the median of ``runs`` timings in milliseconds."""
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return result, round(statistics.median(times), 2)


def busiest_upper_grassroots() -> Unit | None:
    """The commune/ward (2025) or district (2018) union with the most members in its
    subtree (any unit of rank 2 if there is none), from the counters in one query."""
    rank2 = Unit.objects.filter(level__rank=2)
    territorial = rank2.filter(level__code__in=["commune", "district"])
    candidates = dict((territorial if territorial.exists() else rank2).values_list("path", "pk"))
    if not candidates:
        return None
    width = len(next(iter(candidates)))  # every rank-2 unit is at depth 2 in the demo
    rows = (
        Unit.objects.filter(depth__gte=tree.depth_of("x" * width))
        .annotate(prefix=Substr("path", 1, width))
        .values("prefix")
        .annotate(n=Sum("direct_members"))
        .order_by("-n")
        .values_list("prefix", "n")
    )
    for prefix, _ in rows:
        if prefix in candidates:
            return Unit.objects.get(pk=candidates[prefix])
    return None


def measure(unit: Unit) -> dict[str, Any]:
    counter, counter_ms = timed(lambda: queries.subtree_member_total(unit))
    scan, scan_ms = timed(lambda: Person.objects.in_subtree(unit.path).count())
    return {
        "code": unit.code,
        "name": unit.name,
        "level": unit.level.code,
        "units": Unit.objects.subtree(unit.path).count(),
        "counter_total": counter,
        "counter_ms": counter_ms,
        "scan_total": scan,
        "scan_ms": scan_ms,
        "agree": counter == scan,
        "speedup": round(scan_ms / counter_ms, 1) if counter_ms else None,
    }


def main() -> int:
    top = Unit.objects.filter(parent__isnull=True).select_related("level").first()
    if top is None:
        print(json.dumps({"error": "no units: load the demo first (quantriet demo)"}))
        return 1
    province = Unit.objects.select_related("level").filter(code="LDLD-01").first()
    upper = busiest_upper_grassroots()
    out: dict[str, Any] = {
        "database": connection.vendor,
        "units": Unit.objects.count(),
        "people": Person.objects.count(),
        "positions": Position.objects.count(),
        "runs": RUNS,
    }
    out["province"] = measure(province) if province else None
    out["upper_grassroots"] = measure(upper) if upper else None
    out["tree"] = measure(top)
    out["all_agree"] = all(
        out[k]["agree"] for k in ("province", "upper_grassroots", "tree") if out[k]
    )
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
