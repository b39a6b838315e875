"""Notices of action plans, through the notifications services: the unit's administrators
and head hear that its plan was returned for revision or approved."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse

from quantriet.notifications import services as notify
from quantriet.notifications.models import Kind
from quantriet.plans.managers import HEAD_POSITIONS


def unit_recipients(unit: Any) -> list[notify.Recipient]:
    """The accounts holding the unit-admin role at the unit, and its head."""
    import datetime as dt

    from django.db.models import Q

    today = dt.date.today()
    users = (get_user_model().objects.filter(is_active=True).filter(
        Q(grants__unit=unit, grants__role="unit_admin")
        | Q(person__positions__unit=unit, person__positions__type__code__in=HEAD_POSITIONS,
            person__positions__end_date__isnull=True)
        | Q(person__positions__unit=unit, person__positions__type__code__in=HEAD_POSITIONS,
            person__positions__end_date__gte=today))
        .distinct().order_by("pk"))
    return [notify.recipient_of_user(u) for u in users]


def plan_reviewed(review: Any) -> int:
    plan = review.plan
    kind = Kind.PLAN_APPROVED if review.outcome == "approved" else Kind.PLAN_RETURNED
    ctx = {"campaign": plan.campaign.title, "unit": plan.unit.name}
    if review.comments:
        ctx["comments"] = review.comments
    return notify.enqueue(kind=kind, event=f"plan-review:{review.pk}",
                          recipients=unit_recipients(plan.unit), context=ctx,
                          campaign=plan.campaign, target=plan,
                          url=reverse("plans:unit", args=[plan.campaign.slug, plan.unit.code]))
