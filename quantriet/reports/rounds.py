"""What every reviewed submission shares -- a personal learning report and a unit's action
plan alike: numbered versions that are never changed, a reference sent by the browser so
that a repeated request stores one version, and review rounds (who decided, with which
comments, when).

The concrete models (``reports.Version``/``reports.Review``, ``plans.PlanVersion``/
``plans.PlanReview``) inherit these abstract bases and add what is theirs (the text of a
report, the measures of a plan, a grade or an approval).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionBase(models.Model):
    """One submitted version; never changed afterwards."""

    number = models.PositiveSmallIntegerField()
    client_ref = models.CharField(
        max_length=64, blank=True,
        help_text=_("Identifier sent by the browser, so that a repeated submission is "
                    "stored once."))
    submitted_at = models.DateTimeField()

    class Meta:
        abstract = True


class ReviewRoundBase(models.Model):
    """One round of review of a version: the decision, by whom, with comments."""

    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                 related_name="+")
    comments = models.TextField(_("comments"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


def repeated(versions: Any, client_ref: str) -> Any:
    """The version already stored with this browser reference (a double click or a retry
    on a bad connection), or None. ``versions`` is the related manager of the
    submission's versions."""
    if not client_ref:
        return None
    return versions.filter(client_ref=client_ref[:64]).first()


def rounds(versions: list[Any], reviews: list[Any]) -> list[tuple[Any, list[Any]]]:
    """Each version with the review rounds of it, newest version first (the history shown
    on the page of a report or a plan)."""
    by_version: dict[int, list[Any]] = {}
    for review in reviews:
        by_version.setdefault(review.version_id, []).append(review)
    return [(v, by_version.get(v.pk, [])) for v in sorted(versions, key=lambda v: -v.number)]
