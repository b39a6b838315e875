"""Links to the progress pages from the campaign page and the unit pages."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from quantriet.campaigns.models import Campaign
from quantriet.org import tree
from quantriet.org.managers import can, scope_paths
from quantriet.org.models import Unit


def progress_url(user: Any, campaign: Campaign) -> str:
    """The campaign's progress page, when the user may see some part of it."""
    paths = scope_paths(user, "view_people")
    owner = campaign.owner_unit.path
    if paths is None or any(p.startswith(owner) or owner.startswith(p) for p in paths):
        return reverse("progress:campaign", args=[campaign.slug])
    return ""


def unit_progress_links(user: Any, unit: Unit, limit: int = 5) -> list[tuple[str, str]]:
    """The progress of ``unit`` in the latest campaigns that cover it (run by the unit or
    an ancestor), when the user may see its people."""
    if not can(user, "view_people", unit):
        return []
    campaigns = (Campaign.objects.filter(owner_unit__path__in=[*tree.ancestor_paths(unit.path),
                                                               unit.path])
                 .exclude(status=Campaign.Status.DRAFT).order_by("-created_at")[:limit])
    return [(c.title, reverse("progress:unit", args=[c.slug, unit.code])) for c in campaigns]
