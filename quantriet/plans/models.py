"""Unit action plans (chương trình hành động / kế hoạch thực hiện Nghị quyết): each unit's
concrete measures for a campaign, submitted by its head and reviewed by the level above.

A plan is built on the report machinery: its submitted versions and review rounds inherit
the same abstract bases as a report's (``reports.rounds``), it is routed upward as a report
is routed to its managing unit, and its notices go through the notifications services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from quantriet.campaigns.models import Campaign, Topic
from quantriet.org.models import Unit, UnitLevel
from quantriet.plans.managers import MeasureQuerySet, PlanQuerySet
from quantriet.reports.rounds import ReviewRoundBase, VersionBase


class PlanSettings(models.Model):
    """Which units of a campaign must produce an action plan."""

    class Required(models.TextChoices):
        NONE = "none", _("no unit (plans are optional)")
        LEVELS = "levels", _("every unit between two levels")
        PARTICIPANTS = "participants", _("every unit with participants")

    campaign = models.OneToOneField(Campaign, models.CASCADE, related_name="plan_settings")
    required = models.CharField(_("units that must produce a plan"), max_length=20,
                                choices=Required.choices, default=Required.NONE)
    highest_level = models.ForeignKey(
        UnitLevel, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("from the level"),
        help_text=_("Usually the level of the bridge points (e.g. provincial federations)."))
    lowest_level = models.ForeignKey(
        UnitLevel, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("down to the level"))
    due_on = models.DateField(_("plans due"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("plan settings")
        verbose_name_plural = _("plan settings")

    def __str__(self) -> str:
        return str(self.campaign)


class Plan(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("not started")
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted, awaiting approval")
        RETURNED = "returned", _("returned for revision")
        APPROVED = "approved", pgettext_lazy("plan status", "approved")

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="plans",
                                 db_index=False)
    unit = models.ForeignKey(Unit, models.PROTECT, related_name="+", verbose_name=_("unit"))
    unit_path = models.CharField(
        max_length=120, editable=False,
        help_text=_("The unit's place in the tree when the plan was created (for the "
                    "roll-up by subtree)."))
    review_unit = models.ForeignKey(
        Unit, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("reviewed by"),
        help_text=_("The parent unit, or the campaign's organising unit."))
    required = models.BooleanField(_("required"), default=False)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.NOT_STARTED)
    summary = models.TextField(_("summary"), blank=True)
    version_count = models.PositiveSmallIntegerField(default=0)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("action plan")
        verbose_name_plural = _("action plans")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit"], name="plans_one_per_unit"),
        ]
        indexes = [
            models.Index(fields=["campaign", "unit_path"], name="plans_subtree"),
            models.Index(fields=["campaign", "review_unit", "status"], name="plans_review"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} — {self.campaign}"

    @property
    def editable(self) -> bool:
        return self.status in (self.Status.NOT_STARTED, self.Status.DRAFT,
                               self.Status.RETURNED)


class Measure(models.Model):
    """One concrete measure of a plan."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("not started")
        IN_PROGRESS = "in_progress", _("in progress")
        DONE = "done", pgettext_lazy("measure status", "done")
        OVERDUE = "overdue", _("overdue")

    plan = models.ForeignKey(Plan, models.CASCADE, related_name="measures")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("measure"), max_length=500)
    topic = models.ForeignKey(Topic, models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("topic served"))
    owner = models.CharField(_("responsible"), max_length=200)
    due_on = models.DateField(_("due date"))
    target = models.CharField(_("measurable target"), max_length=500)
    status = models.CharField(_("follow-up"), max_length=12, choices=Status.choices,
                              default=Status.PLANNED)
    note = models.CharField(_("note"), max_length=500, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "order", "id"]
        verbose_name = _("measure")
        verbose_name_plural = _("measures")

    def __str__(self) -> str:
        return self.title


class PlanAttachment(models.Model):
    plan = models.ForeignKey(Plan, models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="plans/%Y/%m/")
    filename = models.CharField(_("file"), max_length=255)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "uploaded_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class PlanVersion(VersionBase):
    """A submitted plan: its summary and measures as they were, never changed."""

    plan = models.ForeignKey(Plan, models.CASCADE, related_name="versions", db_index=False)
    summary = models.TextField(blank=True)
    measures = models.JSONField(default=list)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                     related_name="+")

    class Meta:
        ordering = ["plan", "number"]
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plans_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"


class PlanReview(ReviewRoundBase):
    class Outcome(models.TextChoices):
        APPROVED = "approved", pgettext_lazy("plan review outcome", "approved")
        RETURNED = "returned", _("returned for revision")

    plan = models.ForeignKey(Plan, models.CASCADE, related_name="reviews")
    version = models.ForeignKey(PlanVersion, models.CASCADE, related_name="reviews")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)

    class Meta:
        ordering = ["plan", "created_at", "id"]
        verbose_name = _("plan review")
        verbose_name_plural = _("plan reviews")

    def __str__(self) -> str:
        return f"{self.plan}: {self.get_outcome_display()}"
