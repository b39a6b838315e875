"""Links to the action plans' pages: on the campaign's overview, on a unit's page and on the
home page (the plans of the units the account heads or administers)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from quantriet.campaigns.models import Campaign
from quantriet.org.managers import can, scope_paths
from quantriet.org.models import Unit
from quantriet.plans.managers import head_unit_ids
from quantriet.plans.models import Plan
from quantriet.reports.managers import admin_unit_ids


def _own_ids(user: Any) -> set[int]:
    return set(admin_unit_ids(user)) | set(head_unit_ids(user))


def plan_links(user: Any, campaign: Campaign) -> list[tuple[str, str]]:
    slug, owner = campaign.slug, campaign.owner_unit
    paths = scope_paths(user, "view")
    own = [u for u in Unit.objects.filter(pk__in=_own_ids(user)).order_by("path")[:10]
           if u.path.startswith(owner.path)]
    sees = paths is None or any(p.startswith(owner.path) or owner.path.startswith(p)
                                for p in paths)
    if not sees and not own:
        return []
    links = [(_("Action plans"), reverse("plans:index", args=[slug]))]
    links += [(_("Action plan of %(unit)s") % {"unit": u.name},
               reverse("plans:unit", args=[slug, u.code])) for u in own]
    if can(user, "change", owner):
        links.append((_("Plan settings"), reverse("plans:settings", args=[slug])))
    return links


def unit_plan_links(user: Any, unit: Unit, limit: int = 5) -> list[tuple[str, str]]:
    """The unit's plans in the latest campaigns that cover it."""
    if not can(user, "view", unit) and unit.pk not in _own_ids(user):
        return []
    plans = (Plan.objects.filter(unit=unit).exclude(campaign__status=Campaign.Status.DRAFT)
             .select_related("campaign").order_by("-campaign__created_at")[:limit])
    return [(p.campaign.title, reverse("plans:unit", args=[p.campaign.slug, unit.code]))
            for p in plans]


def my_plans(user: Any, limit: int = 20) -> list[Plan]:
    """The plans of the units the account heads or administers, in open campaigns."""
    ids = _own_ids(user)
    if not ids:
        return []
    return list(Plan.objects.filter(unit_id__in=ids)
                .filter(~Q(campaign__status__in=[Campaign.Status.DRAFT,
                                                  Campaign.Status.CLOSED]))
                .select_related("campaign", "unit").order_by("-campaign__created_at",
                                                             "unit_path")[:limit])
