"""Eligibility of the seed campaign's three preset rules on the loaded organisation.

Expects the demo organisation in the database named by DATABASE_URL (for the full scale:
``quantriet demo --scale full --no-campaign`` into PostgreSQL). Creates the campaign
``bench-eligibility`` owned by the top unit with the preset rules (replacing an earlier
one), then times, each once:

  preview_first   evaluate the rules and diff against the empty roster
  apply_first     freeze the roster (insert participants, rule links, managing units)
  preview_rerun   evaluate again and diff against the frozen roster
  apply_rerun     apply again (nothing changes)

and prints one JSON line with the seconds and the counts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qt_bench .venv/bin/python bench/eligibility.py
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantriet.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from quantriet.campaigns import services  # noqa: E402
from quantriet.campaigns.models import Campaign  # noqa: E402
from quantriet.org.models import Person, Position, Unit  # noqa: E402

SLUG = "bench-eligibility"


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return round(time.perf_counter() - t, 2), out


def main() -> None:
    User = get_user_model()
    actor = User.objects.filter(is_superuser=True).order_by("pk").first()
    if actor is None:
        actor = User.objects.create_superuser("bench", "bench@example.org", None)
    top = Unit.objects.get(parent__isnull=True)
    old = Campaign.objects.filter(slug=SLUG).first()
    if old is not None:
        with connection.cursor() as cur:  # fast delete of a big roster
            cur.execute("DELETE FROM campaigns_participant_rules WHERE participant_id IN "
                        "(SELECT id FROM campaigns_participant WHERE campaign_id = %s)",
                        [old.pk])
            cur.execute("DELETE FROM campaigns_participant WHERE campaign_id = %s", [old.pk])
        old.delete()
    campaign = services.create_campaign(slug=SLUG, title="Benchmark", owner_unit=top,
                                        actor=actor)
    services.add_preset_rules(campaign=campaign, actor=actor)
    out = {
        "database": connection.vendor,
        "units": Unit.objects.count(),
        "people": Person.objects.count(),
        "positions": Position.objects.count(),
    }
    out["preview_first_s"], first = timed(lambda: services.preview_roster(campaign=campaign))
    out["apply_first_s"], applied = timed(
        lambda: services.apply_roster(campaign=campaign, actor=actor))
    out["preview_rerun_s"], rerun = timed(lambda: services.preview_roster(campaign=campaign))
    out["apply_rerun_s"], _ = timed(lambda: services.apply_roster(campaign=campaign,
                                                                  actor=actor))
    out["eligible"] = first.eligible
    out["by_rule"] = {name: n for name, n in first.by_rule}
    out["participants"] = campaign.participants.filter(active=True).count()
    out["rerun_changes"] = rerun.added + rerun.removed + rerun.reactivated
    out["routed"] = campaign.participants.filter(managing_unit__isnull=False).count()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
