"""Reads of action plans that are more than one ORM call: the roll-up of a unit's subtree
by child unit (for the progress dashboard and the official results report) and the list of
overdue measures below a unit.

The roll-up is computed from the plans' tables at read time -- two grouped queries over
the subtree's plans (one row per unit that has a plan; about 130,000 nationally), on the
index ``(campaign, unit_path)`` -- instead of maintained counters: a plan changes a few
times, not on every scan of a conference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils import timezone

from quantriet.campaigns.models import Campaign
from quantriet.org import tree
from quantriet.org.models import Unit
from quantriet.plans.managers import overdue_q
from quantriet.plans.models import Measure, Plan

FIELDS = ("required", "submitted", "approved", "measures", "done", "overdue")
OVERDUE_LIST = 50


def today() -> dt.date:
    return timezone.localdate()


@dataclass
class PlanTotals:
    required: int = 0
    submitted: int = 0
    approved: int = 0
    measures: int = 0
    done: int = 0
    overdue: int = 0

    def add(self, other: PlanTotals) -> None:
        for name in FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in FIELDS)


@dataclass
class PlanLine:
    unit: Unit
    own: bool
    totals: PlanTotals = field(default_factory=PlanTotals)


@dataclass
class PlanRollup:
    unit: Unit
    totals: PlanTotals
    lines: list[PlanLine]


def rollup(campaign: Campaign, unit: Unit, on: dt.date | None = None) -> PlanRollup:
    """Plans required, submitted (at least once), approved, and the measures of approved
    plans (total, done, overdue) of ``unit``'s subtree: a line for the unit's own plan and
    one per child unit (its whole subtree), and the totals (the sum of the lines)."""
    on = on or today()
    width = len(unit.path) + tree.SEGMENT
    plans = (Plan.objects.filter(campaign=campaign).in_subtree(unit.path)
             .annotate(branch=Substr("unit_path", 1, width)).values("branch")
             .annotate(required=Count("pk", filter=Q(required=True)),
                       submitted=Count("pk", filter=Q(version_count__gt=0)),
                       approved=Count("pk", filter=Q(status=Plan.Status.APPROVED)))
             .order_by())
    measures = (Measure.objects.filter(plan__campaign=campaign,
                                       plan__status=Plan.Status.APPROVED)
                .filter(tree.subtree_q(unit.path, "plan__unit_path"))
                .annotate(branch=Substr("plan__unit_path", 1, width)).values("branch")
                .annotate(measures=Count("pk"),
                          done=Count("pk", filter=Q(status=Measure.Status.DONE)),
                          overdue=Count("pk", filter=overdue_q(on)))
                .order_by())
    by_branch: dict[str, PlanTotals] = {}
    for row in plans:
        t = by_branch.setdefault(row["branch"], PlanTotals())
        t.required, t.submitted, t.approved = row["required"], row["submitted"], row["approved"]
    for row in measures:
        t = by_branch.setdefault(row["branch"], PlanTotals())
        t.measures, t.done, t.overdue = row["measures"], row["done"], row["overdue"]
    units = {u.path: u for u in Unit.objects.filter(path__in=[
        b for b in by_branch if b != unit.path])}
    lines = []
    if unit.path in by_branch:
        lines.append(PlanLine(unit, True, by_branch[unit.path]))
    children = sorted((PlanLine(units[b], False, t) for b, t in by_branch.items()
                       if b in units), key=lambda line: (line.unit.name, line.unit.path))
    lines.extend(children)
    totals = PlanTotals()
    for line in lines:
        totals.add(line.totals)
    return PlanRollup(unit, totals, lines)


def overdue_measures(campaign: Campaign, unit: Unit, on: dt.date | None = None,
                     limit: int = OVERDUE_LIST) -> list[Measure]:
    """The overdue measures of the approved plans of ``unit``'s subtree, the oldest due
    first (at most ``limit``)."""
    on = on or today()
    return list(Measure.objects.filter(plan__campaign=campaign,
                                       plan__status=Plan.Status.APPROVED)
                .filter(tree.subtree_q(unit.path, "plan__unit_path"), overdue_q(on))
                .select_related("plan__unit").order_by("due_on", "pk")[:limit])
