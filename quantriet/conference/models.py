"""Bridge points (điểm cầu) of a campaign's conference, who sits where, and check-in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from quantriet.campaigns.models import Campaign, Participant
from quantriet.org.models import Person, Unit


class BridgePoint(models.Model):
    """One site of the online conference, hosted by a unit."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="bridge_points")
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=300)
    host_unit = models.ForeignKey(Unit, models.PROTECT, related_name="+",
                                  verbose_name=_("host unit"))
    is_central = models.BooleanField(_("central point"), default=False)
    address = models.CharField(_("address"), max_length=300, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    stream_url = models.URLField(_("stream or meeting link"), blank=True)
    starts_at = models.DateTimeField(_("session starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("session ends"), null=True, blank=True)
    locked = models.BooleanField(_("attendance locked"), default=False)
    # live counters, kept exact by the services in the same transaction as each change
    expected = models.PositiveIntegerField(default=0, editable=False)
    present = models.PositiveIntegerField(default=0, editable=False)
    excused = models.PositiveIntegerField(default=0, editable=False)
    substitutes = models.PositiveIntegerField(default=0, editable=False)
    coordinators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                          related_name="bridge_points",
                                          verbose_name=_("coordinators"))

    class Meta:
        ordering = ["campaign", "-is_central", "code"]
        verbose_name = _("bridge point")
        verbose_name_plural = _("bridge points")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="conference_point_code"),
        ]

    def __str__(self) -> str:
        return self.name


class Attendance(models.Model):
    """Where a participant is expected, and whether they came."""

    class Status(models.TextChoices):
        EXPECTED = "expected", _("expected")
        PRESENT = "present", _("present")
        EXCUSED = "excused", _("absent with leave")
        ABSENT = "absent", _("absent")

    participant = models.OneToOneField(Participant, models.CASCADE, related_name="attendance")
    point = models.ForeignKey(BridgePoint, models.PROTECT, related_name="attendances",
                              verbose_name=_("bridge point"))
    overridden = models.BooleanField(
        default=False, help_text=_("Assigned by hand; kept when the default assignment is "
                                   "run again."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.EXPECTED)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    # Not indexed, nor is ``status``: a check-in changes no indexed column, so PostgreSQL
    # can update the row in place (a HOT update, helped by the table's fillfactor, see
    # migration 0002) without touching any index -- the cost of a scan on conference day.
    # What this costs elsewhere: deleting an account or a campaign scans the table once.
    checked_in_point = models.ForeignKey(BridgePoint, models.PROTECT, null=True, blank=True,
                                         related_name="+", db_index=False)
    checked_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                      blank=True, related_name="+", db_index=False)
    substitute = models.ForeignKey(Person, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("attended instead"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    client_ref = models.CharField(
        max_length=64, blank=True,
        help_text=_("Identifier of an offline scan, so that a replayed sync counts once."))

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")

    def __str__(self) -> str:
        return f"{self.participant} @ {self.point}"
