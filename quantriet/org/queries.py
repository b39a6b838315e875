"""Reads of the org app that are more than one ORM call."""

from __future__ import annotations

from django.db.models import Count, Sum
from django.db.models.functions import Substr

from quantriet.org import tree
from quantriet.org.models import Unit


def subtree_member_total(unit: Unit) -> int:
    """Members in the unit's subtree, from the per-unit counters (no scan of people)."""
    total = Unit.objects.subtree(unit.path).aggregate(n=Sum("direct_members"))["n"]
    return int(total or 0)


def child_totals(unit: Unit) -> dict[int, dict[str, int]]:
    """For each child of ``unit``: members on record and units below it, in one query."""
    width = len(unit.path) + tree.SEGMENT
    rows = (
        Unit.objects.subtree(unit.path, include_root=False)
        .annotate(prefix=Substr("path", 1, width))
        .values("prefix")
        .annotate(members=Sum("direct_members"), units=Count("id"))
        .values_list("prefix", "members", "units")
        .order_by()
    )
    return {
        tree.decode(prefix[-tree.SEGMENT :]): {"members": int(m or 0), "units": n - 1}
        for prefix, m, n in rows
    }
