"""Notices of action plans, through the notifications services: the unit's administrators
and head hear that its plan was returned for revision or approved; the level above gets a
daily digest of the overdue measures of the plans it approved (``notify-digests`` and
``notify-run``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse

from quantriet.notifications import services as notify
from quantriet.notifications.models import Kind
from quantriet.plans.managers import HEAD_POSITIONS


def unit_recipients(unit: Any, roles: tuple[str, ...] = ("unit_admin",)
                    ) -> list[notify.Recipient]:
    """The accounts holding one of ``roles`` at the unit itself, and its head."""
    today = dt.date.today()
    users = (get_user_model().objects.filter(is_active=True).filter(
        Q(grants__unit=unit, grants__role__in=roles)
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


DIGEST_LINES = 10


def overdue_digests(*, campaign: Any, today: dt.date | None = None) -> int:
    """The daily digest of the overdue measures of approved plans, to the units that
    approved them (the level above: its unit administrators and organisers, and its head),
    the oldest first. Optional kind; once per unit, campaign and day. Returns the number of
    notices offered."""
    from django.db import transaction
    from django.utils import timezone

    from quantriet.org.models import Unit
    from quantriet.plans.managers import overdue_q
    from quantriet.plans.models import Measure, Plan

    today = today or timezone.localdate()
    rows = (Measure.objects.filter(plan__campaign=campaign, plan__status=Plan.Status.APPROVED,
                                   plan__review_unit__isnull=False)
            .filter(overdue_q(today))
            .values_list("plan__review_unit_id", "title", "plan__unit__name", "due_on")
            .order_by("plan__review_unit_id", "due_on", "pk"))
    by_unit: dict[int, list[tuple[str, str, dt.date]]] = {}
    for unit_id, title, unit_name, due in rows.iterator(chunk_size=2000):
        by_unit.setdefault(unit_id, []).append((title, unit_name, due))
    told = 0
    for unit in Unit.objects.filter(pk__in=list(by_unit)).order_by("path"):
        recipients = unit_recipients(unit, roles=("unit_admin", "organiser"))
        if not recipients:
            continue
        found = by_unit[unit.pk]
        ctx = {"campaign": campaign.title, "unit": unit.name, "count": len(found),
               "measures": [{"measure": t, "unit": u, "date": d.strftime("%d/%m/%Y")}
                            for t, u, d in found[:DIGEST_LINES]]}
        with transaction.atomic():
            told += notify.enqueue(kind=Kind.PLAN_OVERDUE,
                                   event=f"campaign:{campaign.pk}:{today}:unit{unit.pk}",
                                   recipients=recipients, context=ctx, campaign=campaign,
                                   target=unit, url=reverse("progress:unit", args=[
                                       campaign.slug, unit.code]) + "#plans")
    return told
