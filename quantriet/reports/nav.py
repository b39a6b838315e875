"""Links to the report pages a user may use in a campaign (shown on the campaign page)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from quantriet.campaigns.models import Campaign
from quantriet.org.managers import can, scope_paths
from quantriet.org.models import Grant, Unit


def report_links(user: Any, campaign: Campaign) -> list[tuple[str, str]]:
    slug = campaign.slug
    links = []
    if campaign.participants.filter(person__user=user, active=True).exists():
        links.append((_("My report"), reverse("reports:mine", args=[slug])))
    reviewer = Grant.objects.filter(user=user, role="reviewer").exists()
    if reviewer:
        links.append((_("Reports to review"), reverse("reports:queue", args=[slug])))
    units = Unit.objects.filter(grants__user=user, grants__role="unit_admin").order_by(
        "path")[:10]
    for unit in units:
        links.append((_("Reports managed by %(unit)s") % {"unit": unit.name},
                      reverse("reports:unit", args=[slug, unit.code])))
    if reviewer or units:
        links.append((_("Possible copies"), reverse("similarity:flags", args=[slug])))
    if can(user, "change", campaign.owner_unit):
        links.append((_("Report settings"), reverse("reports:settings", args=[slug])))
        links.append((_("Reference texts and circulating templates"),
                      reverse("similarity:sources", args=[slug])))
    paths = scope_paths(user, "view_people")
    if paths is None or paths:
        links.append((_("Who read which report"), reverse("reports:reads", args=[slug])))
    return links
