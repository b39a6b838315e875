"""The one door to action plans: :meth:`PlanQuerySet.visible_to`.

A unit's action plan is not personal data: it follows the subtree rule of the org app. An
account sees the plans of the units where it holds any role, and of their subtrees
(``org.managers.scope_paths``), plus the plans of the units it heads (a chair without an
account role) -- whatever else, a plan outside is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Q

from quantriet.org import tree
from quantriet.org.managers import scope_paths

HEAD_POSITIONS = ("chu_tich",)
"""Position types whose holder is the head of a unit (submits its plan)."""


def head_unit_ids(user: Any) -> list[int]:
    """Units the account's person heads today (a current chair position there)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cache = user.__dict__.get("_qt_head_units")
    if cache is None:
        from quantriet.org.models import Position

        today = dt.date.today()
        cache = list(Position.objects.filter(person__user=user, type__code__in=HEAD_POSITIONS)
                     .filter(Q(start_date__isnull=True) | Q(start_date__lte=today),
                             Q(end_date__isnull=True) | Q(end_date__gte=today))
                     .values_list("unit_id", flat=True))
        user.__dict__["_qt_head_units"] = cache
    return cache


class PlanQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> PlanQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        paths = scope_paths(user, "view")
        if paths is None:
            return self.all()
        q = tree.any_subtree_q(paths, "unit_path", self.db)
        heads = head_unit_ids(user)
        if heads:
            q |= Q(unit_id__in=heads)
        return self.filter(q)

    def in_subtree(self, path: str) -> PlanQuerySet:
        return self.filter(tree.subtree_q(path, "unit_path", self.db))


class MeasureQuerySet(models.QuerySet):
    def overdue(self, today: dt.date | None = None) -> MeasureQuerySet:
        """Marked overdue, or not done and past its due date."""
        today = today or dt.date.today()
        return self.filter(overdue_q(today))


def overdue_q(today: dt.date, prefix: str = "") -> Q:
    return (Q(**{f"{prefix}status": "overdue"})
            | (Q(**{f"{prefix}due_on__lt": today})
               & ~Q(**{f"{prefix}status": "done"})))
