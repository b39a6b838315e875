"""Campaigns (đợt học tập, quán triệt), their topics, eligibility rules and rosters."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from quantriet.org import tree
from quantriet.org.managers import scope_paths
from quantriet.org.models import Person, PositionType, Unit, UnitLevel


class CampaignQuerySet(models.QuerySet):
    def visible_to(self, user: Any, action: str = "view") -> CampaignQuerySet:
        """Campaigns whose owning unit lies in the user's scope, or where the user is a
        participant (read only)."""
        paths = scope_paths(user, action)
        if paths is None:
            return self.all()
        q = tree.any_subtree_q(paths, "owner_unit__path", self.db)
        if action == "view":
            # a campaign run above the user's units reaches into their subtree: its pages
            # show them their part (rosters are filtered by the people they may see)
            q |= models.Q(owner_unit__path__in=[a for p in paths for a in
                                                tree.ancestor_paths(p)])
            if getattr(user, "is_authenticated", False):
                q |= models.Q(participants__person__user=user, participants__active=True,
                              status__in=[s for s in Campaign.Status.values if s != "draft"])
        return self.filter(q).distinct()


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        CONFERENCE = "conference", _("conference")
        REPORTING = "reporting", _("reporting")
        CLOSED = "closed", pgettext_lazy("campaign status", "closed")

    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=300)
    resolution = models.CharField(_("resolution studied"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    owner_unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="campaigns", verbose_name=_("organising unit"),
        help_text=_("Participants come from this unit's subtree."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.DRAFT)
    conference_date = models.DateField(_("conference date"), null=True, blank=True)
    report_deadline = models.DateField(_("report deadline"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    roster_evaluated_at = models.DateTimeField(_("roster evaluated"), null=True, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return self.title


class Topic(models.Model):
    """A thematic part of the resolution (chuyên đề)."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="topics")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("title"), max_length=400)
    summary = models.TextField(_("summary"), blank=True)
    presenter = models.CharField(_("presenter"), max_length=200, blank=True)

    class Meta:
        ordering = ["campaign", "order", "id"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.title


class Material(models.Model):
    class Kind(models.TextChoices):
        FILE = "file", _("file")
        LINK = "link", _("link")
        VIDEO = "video", _("video")

    topic = models.ForeignKey(Topic, models.CASCADE, related_name="materials")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.LINK)
    title = models.CharField(_("title"), max_length=300)
    url = models.URLField(_("address"), blank=True)
    file = models.FileField(_("file"), upload_to="materials/%Y/", blank=True)

    class Meta:
        ordering = ["topic", "id"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self) -> str:
        return self.title


class EligibilityRule(models.Model):
    """Who must attend (đối tượng tham gia): all conditions must hold on one current
    position of the person; a person is eligible when any rule of the campaign matches."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="rules")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=300)
    position_types = models.ManyToManyField(
        PositionType, blank=True, related_name="+", verbose_name=_("positions"),
        help_text=_("Any of these positions; none selected means any position."),
    )
    unit_levels = models.ManyToManyField(
        UnitLevel, blank=True, related_name="+", verbose_name=_("levels of the unit"),
        help_text=_("The position is held at a unit of one of these levels; none means any."),
    )
    full_time = models.BooleanField(
        _("full-time"), null=True, blank=True,
        help_text=_("Only full-time (yes), only part-time (no), or either (empty)."),
    )
    min_members = models.PositiveIntegerField(
        _("unit has at least … members"), null=True, blank=True)
    max_members = models.PositiveIntegerField(
        _("unit has at most … members"), null=True, blank=True)
    subtree = models.ForeignKey(
        Unit, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("only within the subtree of"),
    )

    class Meta:
        ordering = ["campaign", "order", "id"]
        verbose_name = _("eligibility rule")
        verbose_name_plural = _("eligibility rules")

    def __str__(self) -> str:
        return self.name


class Participant(models.Model):
    """A person on a campaign's roster, frozen when the rules were applied."""

    class Source(models.TextChoices):
        RULE = "rule", _("selected by the rules")
        MANUAL = "manual", _("added by hand")
        SUBSTITUTE = "substitute", _("substitute")

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="participants")
    person = models.ForeignKey(Person, models.PROTECT, related_name="participations")
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="+", verbose_name=_("unit"),
        help_text=_("The person's unit when the roster was frozen."),
    )
    sort_key = models.CharField(
        max_length=200, editable=False, default="",
        help_text=_("The person's name order key when the roster was frozen."),
    )
    managing_unit = models.ForeignKey(
        Unit, models.PROTECT, null=True, blank=True, related_name="managed_participants",
        verbose_name=_("managing unit"),
    )
    rules = models.ManyToManyField(EligibilityRule, blank=True, related_name="participants",
                                   verbose_name=_("matched rules"))
    source = models.CharField(_("source"), max_length=12, choices=Source.choices,
                              default=Source.RULE)
    active = models.BooleanField(_("on the roster"), default=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True,
                              help_text=_("Why added by hand, removed or substituted."))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    substitute_for = models.ForeignKey("self", models.SET_NULL, null=True, blank=True,
                                       related_name="substitutes")
    pinned = models.BooleanField(
        default=False,
        help_text=_("A manual decision (add or remove) that re-running the rules keeps."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "person"],
                                    name="campaigns_participant_unique")
        ]
        indexes = [
            # A unit's list of participants in Vietnamese name order is a range of this
            # index (an index-only scan, deep pages too), however many members it has.
            models.Index(fields=["campaign", "active", "unit", "sort_key", "id"],
                         name="campaigns_part_unit_sort"),
            models.Index(fields=["campaign", "managing_unit"], name="campaigns_part_managing"),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.campaign}"


class RoutingRule(models.Model):
    """Where reports of cadres at a level go when the roster names no managing unit."""

    class Target(models.TextChoices):
        SELF = "self", _("the unit itself")
        PARENT = "parent", _("its parent unit")
        ANCESTOR = "ancestor", _("its ancestor at the level")

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="routing_rules")
    level = models.ForeignKey(UnitLevel, models.CASCADE, related_name="+",
                              verbose_name=_("position held at a unit of level"))
    target = models.CharField(_("is managed by"), max_length=10, choices=Target.choices,
                              default=Target.SELF)
    ancestor_level = models.ForeignKey(UnitLevel, models.CASCADE, null=True, blank=True,
                                       related_name="+", verbose_name=_("ancestor level"))

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "level"], name="campaigns_routing_level")
        ]

    def __str__(self) -> str:
        return f"{self.level} → {self.get_target_display()}"
