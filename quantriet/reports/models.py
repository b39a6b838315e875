"""Personal learning reports (bài thu hoạch): what a participant writes, every submitted
version, who reviews it, and the grades.

A report belongs to one participant of one campaign. It is routed to the participant's
managing unit (``Participant.managing_unit``, set by the campaign's routing); a reviewer of
that unit -- an account holding the ``reviewer`` role *at that unit* -- is assigned to it.
When the unit has no reviewer the report goes up to the nearest ancestor that has one
(``review_unit``) and is marked ``escalated``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from quantriet.campaigns.models import Campaign, Participant, Topic
from quantriet.org.models import Unit
from quantriet.reports.managers import ReportQuerySet
from quantriet.reports.rounds import ReviewRoundBase, VersionBase


class ReportPolicy(models.Model):
    """How a campaign collects and reviews reports."""

    class Late(models.TextChoices):
        ACCEPT = "accept", _("accepted and flagged late")
        REFUSE = "refuse", _("refused")

    class Assignment(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("round-robin (equal numbers)")
        BALANCED = "balanced", _("balanced by open workload")

    campaign = models.OneToOneField(Campaign, models.CASCADE, related_name="report_policy")
    opens_on = models.DateField(_("submissions open"), null=True, blank=True,
                                help_text=_("Empty: as soon as the campaign is published."))
    closes_on = models.DateField(_("deadline"), null=True, blank=True,
                                 help_text=_("Last day of submission (until 23:59)."))
    late = models.CharField(_("late submissions are"), max_length=10, choices=Late.choices,
                            default=Late.ACCEPT)
    attendance_required = models.BooleanField(
        _("only attendees and excused participants must submit"), default=False,
        help_text=_("When set, participants recorded absent without leave at the "
                    "conference are not counted as owing a report."))
    allow_upload = models.BooleanField(_("allow .docx, .odt and .pdf uploads"), default=True)
    max_upload_mb = models.PositiveSmallIntegerField(_("largest upload (MB)"), default=10)
    min_words = models.PositiveIntegerField(_("minimum number of words"), default=0)
    blind_review = models.BooleanField(
        _("blind review"), default=False,
        help_text=_("Reviewers do not see the author's name or unit."))
    assignment = models.CharField(_("reviewer assignment"), max_length=20,
                                  choices=Assignment.choices, default=Assignment.BALANCED)
    copy_threshold = models.FloatField(
        _("copy threshold"), null=True, blank=True,
        help_text=_("Share of a report's text found in another (0–1) from which it is flagged "
                    "as a possible copy. Empty: the default."))

    class Meta:
        verbose_name = _("report policy")
        verbose_name_plural = _("report policies")

    def __str__(self) -> str:
        return str(self.campaign)


class GradeLevel(models.Model):
    """One step of a campaign's grading scale (default Xuất sắc / Tốt / Đạt / Chưa đạt)."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="grade_levels")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    label = models.CharField(_("grade"), max_length=60)
    passing = models.BooleanField(_("passing"), default=True)

    class Meta:
        ordering = ["campaign", "order", "id"]
        verbose_name = _("grade")
        verbose_name_plural = _("grading scale")

    def __str__(self) -> str:
        return self.label


class Criterion(models.Model):
    """An optional rubric criterion with a maximum of points."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="criteria")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("criterion"), max_length=300)
    max_points = models.PositiveSmallIntegerField(_("maximum points"), default=10)

    class Meta:
        ordering = ["campaign", "order", "id"]
        verbose_name = _("rubric criterion")
        verbose_name_plural = _("rubric criteria")

    def __str__(self) -> str:
        return self.title


class Prompt(models.Model):
    """A question the organiser asks participants to answer in their report."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="report_prompts")
    topic = models.ForeignKey(Topic, models.CASCADE, null=True, blank=True, related_name="+",
                              verbose_name=_("topic"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.TextField(_("prompt"))

    class Meta:
        ordering = ["campaign", "order", "id"]
        verbose_name = _("prompt")
        verbose_name_plural = _("prompts")

    def __str__(self) -> str:
        return self.text[:80]


class Report(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted, awaiting review")
        RETURNED = "returned", _("returned for revision")
        GRADED = "graded", pgettext_lazy("report status", "graded")

    # no index of its own on ``campaign`` and ``reviewer``: the indexes below start with
    # them, and every index is one more write per submission
    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="reports",
                                 db_index=False)
    participant = models.OneToOneField(Participant, models.CASCADE, related_name="report")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.DRAFT)
    draft = models.TextField(_("draft"), blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    managing_unit = models.ForeignKey(Unit, models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("managing unit"))
    review_unit = models.ForeignKey(
        Unit, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("reviewed at"),
        help_text=_("The managing unit, or the nearest ancestor with reviewers."))
    escalated = models.BooleanField(_("escalated"), default=False)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                 blank=True, related_name="+", verbose_name=_("reviewer"),
                                 db_index=False)
    assigned_at = models.DateTimeField(null=True, blank=True)
    version_count = models.PositiveSmallIntegerField(default=0)
    first_submitted_at = models.DateTimeField(_("first submitted"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    late = models.BooleanField(_("late"), default=False)
    extended_until = models.DateField(_("extended until"), null=True, blank=True)
    grade = models.ForeignKey(GradeLevel, models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("grade"))
    points = models.PositiveSmallIntegerField(_("points"), null=True, blank=True)
    graded_at = models.DateTimeField(_("graded"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        indexes = [
            models.Index(fields=["campaign", "review_unit", "status"],
                         name="reports_unit_status"),
            models.Index(fields=["reviewer", "status"], name="reports_reviewer"),
            models.Index(fields=["campaign", "managing_unit"], name="reports_managing"),
        ]

    def __str__(self) -> str:
        return f"{self.participant.person} — {self.campaign}"


class Version(VersionBase):
    """One submitted version; never changed afterwards."""

    class Kind(models.TextChoices):
        TEXT = "text", _("written online")
        DOCX = "docx", "Word (.docx)"
        ODT = "odt", "OpenDocument (.odt)"
        PDF = "pdf", "PDF"

    # indexed by the unique (report, number) constraint
    report = models.ForeignKey(Report, models.CASCADE, related_name="versions",
                               db_index=False)
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.TEXT)
    text = models.TextField()
    words = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    filename = models.CharField(max_length=255, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    late = models.BooleanField(default=False)

    class Meta:
        ordering = ["report", "number"]
        verbose_name = _("report version")
        verbose_name_plural = _("report versions")
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="reports_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.report} v{self.number}"


class Review(ReviewRoundBase):
    """One round of review: a grade, or a return for revision, with comments."""

    class Outcome(models.TextChoices):
        GRADED = "graded", pgettext_lazy("review outcome", "graded")
        RETURNED = "returned", _("returned for revision")

    report = models.ForeignKey(Report, models.CASCADE, related_name="reviews")
    version = models.ForeignKey(Version, models.CASCADE, related_name="reviews")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    grade = models.ForeignKey(GradeLevel, models.PROTECT, null=True, blank=True,
                              related_name="+")
    points = models.JSONField(default=dict, blank=True,
                              help_text=_("Points per rubric criterion (criterion id → "
                                          "points)."))
    total = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["report", "created_at", "id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self) -> str:
        return f"{self.report}: {self.get_outcome_display()}"
