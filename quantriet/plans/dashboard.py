"""The action plans' part of the progress dashboard of a unit: the roll-up by child unit and
the overdue measures below the unit (``progress.views.unit_progress`` adds it)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from quantriet.campaigns.models import Campaign
from quantriet.org.models import Unit
from quantriet.plans import queries


def context(campaign: Campaign, unit: Unit) -> dict[str, Any] | None:
    """None when no plan of the subtree exists (the dashboard then shows nothing)."""
    roll = queries.rollup(campaign, unit)
    if not roll.lines:
        return None
    template = reverse("plans:unit", args=[campaign.slug, "0"])[:-2]
    return {
        "roll": roll,
        "rows": [(line, f"{template}{line.unit.code}/") for line in roll.lines],
        "overdue": [(m, f"{template}{m.plan.unit.code}/#measure-{m.pk}")
                    for m in queries.overdue_measures(campaign, unit)],
        "limit": queries.OVERDUE_LIST,
        "index": reverse("plans:index", args=[campaign.slug]),
    }
