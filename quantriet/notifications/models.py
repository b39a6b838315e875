"""Notifications: one row per event, recipient and channel, the recipients' preferences
(language, opted-out kinds) and the e-mail addresses found to be invalid.

A row is written once: its ``dedup_key`` (channel, event, recipient) is unique, so
enqueuing the same event again -- a retried task, a command run twice -- adds nothing.
An e-mail row goes from ``queued`` to ``sent``, ``failed`` or ``bounced``; an in-app row is
delivered when it is written (``sent``) and carries ``read_at``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from quantriet.campaigns.models import Campaign
from quantriet.org import tree
from quantriet.org.managers import scope_paths
from quantriet.org.models import Person


class Kind(models.TextChoices):
    REPORT_RETURNED = "report_returned", _("report returned for revision")
    REPORT_GRADED = "report_graded", _("report graded")
    REVIEWER_ASSIGNED = "reviewer_assigned", _("report assigned for review")
    DEADLINE_SOON = "deadline_soon", _("report deadline approaching")
    DEADLINE_PASSED = "deadline_passed", _("report deadline passed")
    REPORT_REMINDER = "report_reminder", _("reminder from the unit to submit the report")
    REVIEW_BACKLOG = "review_backlog", _("reports waiting for your review (daily digest)")
    LAGGING_UNITS = "lagging_units", _("child units lagging behind (daily digest for unit heads)")
    ESCALATION = "escalation", _("a unit below the threshold after the deadline")
    INVITATION = "invitation", _("invitation to the conference")
    CONFERENCE_SOON = "conference_soon", _("conference reminder")
    PLAN_RETURNED = "plan_returned", _("the unit's action plan returned for revision")
    PLAN_APPROVED = "plan_approved", _("the unit's action plan approved")
    PLAN_OVERDUE = "plan_overdue", _("overdue measures of the units below (daily digest)")


MANDATORY = frozenset({Kind.REPORT_RETURNED, Kind.REPORT_GRADED, Kind.DEADLINE_PASSED,
                       Kind.ESCALATION, Kind.INVITATION, Kind.PLAN_RETURNED})
"""Notices about a person's own report or duty (an invitation; a unit of one's subtree still
below the threshold after the deadline): sent whatever their preferences say."""
OPTIONAL = frozenset(set(Kind) - MANDATORY)
"""Reminders and courtesy notices a person may opt out of."""


class Channel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    IN_APP = "inapp", _("in the application")


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> NotificationQuerySet:
        """The in-app notifications addressed to the user; nobody sees anyone else's."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(user=user, channel=Channel.IN_APP)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", pgettext_lazy("notification status", "sent")
        FAILED = "failed", _("failed")
        BOUNCED = "bounced", _("bounced (invalid address)")

    kind = models.CharField(_("event"), max_length=30, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    mandatory = models.BooleanField(_("mandatory"), default=False)
    dedup_key = models.CharField(
        max_length=200, unique=True,
        help_text=_("Channel, event and recipient: the same event is never sent twice to "
                    "the same person."))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True,
                             related_name="+", verbose_name=_("account"))
    person = models.ForeignKey(Person, models.CASCADE, null=True, blank=True, related_name="+",
                               verbose_name=_("person"))
    address = models.CharField(_("address"), max_length=254, blank=True)
    language = models.CharField(_("language"), max_length=8, default="vi")
    campaign = models.ForeignKey(Campaign, models.CASCADE, null=True, blank=True,
                                 related_name="+", verbose_name=_("campaign"))
    target_type = models.ForeignKey(ContentType, models.CASCADE, null=True, blank=True,
                                    related_name="+")
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    context = models.JSONField(default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_until = models.DateTimeField(
        null=True, blank=True,
        help_text=_("A sender holds the row until then; after that another may take it."))
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "channel", "-created_at"], name="notif_user_list"),
            models.Index(fields=["id"], name="notif_email_queue",
                         condition=models.Q(status="queued", channel="email")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.address or self.user or self.person}"

    @property
    def title(self) -> str:
        from quantriet.notifications.content import subject

        return subject(self.kind, self.context)


class Preference(models.Model):
    """A recipient's language for e-mails and the optional kinds they do not want.

    ``recipient_key`` names the person (``p<id>``) or, for an account with no person
    record, the account (``u<id>``) -- the same key the notifications use."""

    recipient_key = models.CharField(max_length=24, unique=True)
    language = models.CharField(_("language of e-mails"), max_length=8, blank=True,
                                choices=settings.LANGUAGES)
    opted_out = models.JSONField(_("optional notices not wanted"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return self.recipient_key


class BadAddressQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> BadAddressQuerySet:
        """Invalid addresses of the people in the subtrees where the user may see people
        (unit admins, organisers, inspectors)."""
        paths = scope_paths(user, "view_people")
        if paths is None:
            return self.all()
        return self.filter(tree.any_subtree_q(paths, "person__unit__path", self.db))


class BadAddress(models.Model):
    """An e-mail address the mail server refused or that cannot be written at all; no
    further e-mail is tried to it until it is removed here (after it has been fixed)."""

    address = models.CharField(_("address"), max_length=254, unique=True)
    reason = models.CharField(_("reason"), max_length=500)
    person = models.ForeignKey(Person, models.SET_NULL, null=True, blank=True,
                               related_name="+", verbose_name=_("person"))
    first_seen = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen = models.DateTimeField(_("last seen"), auto_now=True)
    count = models.PositiveIntegerField(_("times refused"), default=1)

    objects = BadAddressQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen"]
        verbose_name = _("invalid address")
        verbose_name_plural = _("invalid addresses")

    def __str__(self) -> str:
        return self.address


def parse_offsets(text: str) -> list[int]:
    """"7, 1" → [1, 7]: the offsets of a reminder, whole numbers, smallest first."""
    from django.core.exceptions import ValidationError

    out = set()
    for part in str(text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 0 < int(part) <= 365:
            raise ValidationError(_("Write whole numbers from 1 to 365, separated by "
                                    "commas."))
        out.add(int(part))
    return sorted(out)


def validate_offsets(text: str) -> None:
    """The field validator: raises what :func:`parse_offsets` raises."""
    parse_offsets(text)


class NotifySettings(models.Model):
    """When a campaign's reminders go out, set by its organisers; ``notify-run`` (called
    periodically by a scheduler) sends whatever is due. A campaign without a row has the
    defaults."""

    campaign = models.OneToOneField(Campaign, models.CASCADE, related_name="notify_settings",
                                    verbose_name=_("campaign"))
    deadline_days = models.CharField(
        _("report deadline reminders (days before)"), max_length=60, default="7, 1",
        blank=True, validators=[validate_offsets],
        help_text=_("For example “7, 1”: a reminder 7 days and 1 day before the deadline. "
                    "Empty: none."))
    deadline_passed = models.BooleanField(
        _("tell the non-submitters when the deadline has passed"), default=True)
    escalation = models.BooleanField(
        _("after the deadline, report the units still lagging to the unit above"),
        default=True)
    digests = models.BooleanField(
        _("daily digests (reviewers' backlog, unit heads' lagging units)"), default=True)
    invitations = models.BooleanField(_("send the invitations by e-mail"), default=True)
    conference_hours = models.CharField(
        _("conference reminders (hours before the session)"), max_length=60, default="24",
        blank=True, validators=[validate_offsets],
        help_text=_("For example “24, 2”. Empty: none."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification schedule")
        verbose_name_plural = _("notification schedules")

    def __str__(self) -> str:
        return str(self.campaign)

    @property
    def days(self) -> list[int]:
        return parse_offsets(self.deadline_days)

    @property
    def hours(self) -> list[int]:
        return parse_offsets(self.conference_hours)
