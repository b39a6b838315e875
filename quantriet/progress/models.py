"""Progress of a campaign up the tree: one row of counters per (campaign, unit) for the
units that have participants, daily snapshots of the roll-ups of large subtrees, and the
official results reports generated for a unit.

The counters of a row count the *active* participants whose unit (``Participant.unit``,
frozen with the roster) is that unit or lies in its subtree -- except the top of the
organisation, whose row counts only its own participants (see
:mod:`quantriet.progress.counters`, the only code that changes them, in the same
transaction as each event); ``quantriet progress-verify`` recounts them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from quantriet.campaigns.models import Campaign
from quantriet.org.models import Unit

GRADE_SLOTS = 8
"""Grades are counted by their place on the campaign's scale (``GradeLevel.order``, 0 for
the best); a scale longer than this counts its remaining grades in the last slot."""

COUNTERS = ("invited", "attended", "excused", "absent", "substitutes", "submitted",
            "returned", "late", "graded", "flagged",
            *(f"grade_{i}" for i in range(GRADE_SLOTS)))


def _counter() -> models.IntegerField:
    # not Positive: a counter must never make an event fail; progress-verify finds drift
    return models.IntegerField(default=0, db_default=0, editable=False)


class UnitProgress(models.Model):
    """Counters of one campaign for one unit's subtree (the top: its own participants)."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="+", db_index=False)
    unit = models.ForeignKey(Unit, models.PROTECT, related_name="+")
    invited = _counter()
    attended = _counter()
    excused = _counter()
    absent = _counter()
    substitutes = _counter()
    submitted = _counter()
    returned = _counter()
    late = _counter()
    graded = _counter()
    flagged = _counter()
    grade_0 = _counter()
    grade_1 = _counter()
    grade_2 = _counter()
    grade_3 = _counter()
    grade_4 = _counter()
    grade_5 = _counter()
    grade_6 = _counter()
    grade_7 = _counter()

    class Meta:
        verbose_name = _("unit progress")
        verbose_name_plural = _("unit progress")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit"], name="progress_campaign_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.unit_id}"


class DailyProgress(models.Model):
    """The roll-up of a large subtree at the end of a day (for the chart over time)."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="+", db_index=False)
    unit = models.ForeignKey(Unit, models.CASCADE, related_name="+")
    day = models.DateField()
    invited = models.IntegerField(default=0)
    attended = models.IntegerField(default=0)
    submitted = models.IntegerField(default=0)
    graded = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("daily progress")
        verbose_name_plural = _("daily progress")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit", "day"],
                                    name="progress_daily_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.unit_id} {self.day}"


class ResultsReport(models.Model):
    """An official results report (báo cáo kết quả) of a unit's subtree, as a file."""

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (.xlsx)"
        PDF = "pdf", "PDF"

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting")
        RUNNING = "running", _("being prepared")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, models.CASCADE, related_name="+")
    format = models.CharField(max_length=4, choices=Format.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="results/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                     blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("results report")
        verbose_name_plural = _("results reports")

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.unit_id}.{self.format}"
