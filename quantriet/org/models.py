"""The organisation: levels, units in a tree, people, positions, access grants."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from quantriet.org import tree
from quantriet.org.fields import BytewiseCharField
from quantriet.org.managers import GrantQuerySet, PersonQuerySet, PositionQuerySet, UnitQuerySet


class UnitLevel(models.Model):
    """A level of the organisation. Levels are data: the 2025 reform changed them."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    rank = models.PositiveSmallIntegerField(
        _("rank"), help_text=_("0 for the top of the organisation; larger is lower.")
    )
    accepts_members = models.BooleanField(
        _("accepts members"),
        default=False,
        help_text=_("Members belong to units of this level (grassroots and below)."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["rank", "order", "code"]
        verbose_name = _("unit level")
        verbose_name_plural = _("unit levels")

    def __str__(self) -> str:
        return self.name

    def label(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        lang = language or get_language() or "vi"
        return self.name_en if lang.startswith("en") and self.name_en else self.name


class Unit(models.Model):
    """A node of the organisation tree (đơn vị / công đoàn)."""

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", _("Letters, digits, . _ - only."))
        ],
    )
    name = models.CharField(_("name"), max_length=300)
    search_name = models.CharField(max_length=300, db_index=True, editable=False)
    level = models.ForeignKey(
        UnitLevel, models.PROTECT, related_name="units", verbose_name=_("level")
    )
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    path = models.CharField(max_length=120, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    province_code = models.CharField(
        _("province code"), max_length=4, blank=True, help_text=_("Administrative code.")
    )
    province_name = models.CharField(_("province"), max_length=100, blank=True)
    member_count = models.PositiveIntegerField(
        _("declared member count"), null=True, blank=True
    )
    direct_members = models.PositiveIntegerField(
        _("members on record"),
        default=0,
        editable=False,
        help_text=_("People whose unit is this one; maintained by the services."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="predecessors",
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        indexes = [models.Index(fields=["parent", "name"], name="org_unit_parent_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.valid_to is None or self.valid_to >= dt.date.today()

    def ancestor_ids(self) -> list[int]:
        return tree.ancestor_ids(self.path)

    def ancestors(self) -> UnitQuerySet:
        return Unit.objects.filter(path__in=tree.ancestor_paths(self.path)).order_by("path")

    def descendants(self, include_self: bool = False) -> UnitQuerySet:
        qs = Unit.objects.filter(tree.subtree_q(self.path))
        return qs if include_self else qs.exclude(pk=self.pk)

    def is_within(self, other: Unit) -> bool:
        return self.path.startswith(other.path)


class Person(models.Model):
    """A member (đoàn viên) of a grassroots unit, or a cadre."""

    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")
        OTHER = "O", _("Other")

    # NULL, not "", for "none": the unique constraints below allow many NULLs
    member_code = BytewiseCharField(  # noqa: DJ001
        _("member code"), max_length=40, null=True, blank=True
    )
    family_name = models.CharField(_("family name"), max_length=60, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    given_name = models.CharField(_("given name"), max_length=60)
    full_name = models.CharField(_("full name"), max_length=220, editable=False)
    search_name = models.CharField(max_length=220, editable=False)
    sort_key = BytewiseCharField(max_length=200, editable=False)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    national_id = BytewiseCharField(  # noqa: DJ001
        _("national ID number"), max_length=12, null=True, blank=True
    )
    union_card = BytewiseCharField(  # noqa: DJ001
        _("union card number"), max_length=30, null=True, blank=True
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="members", verbose_name=_("unit"),
        db_index=False,  # the (unit, sort_key) index serves every lookup by unit
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
        verbose_name=_("account"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["sort_key", "id"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        indexes = [
            models.Index(fields=["unit", "sort_key"], name="org_person_unit_sort"),
        ]
        # constraints rather than unique=True: on PostgreSQL a unique CharField also gets a
        # second, varchar_pattern_ops index for LIKE, which nothing here queries and every
        # write of a member would keep up to date
        constraints = [
            models.UniqueConstraint(fields=[name], name=f"org_person_{name}_key")
            for name in ("member_code", "national_id", "union_card")
        ]

    def __str__(self) -> str:
        return self.full_name


class PositionType(models.Model):
    """A kind of position (chức vụ); data, not code."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    executive_committee = models.BooleanField(
        _("member of the Executive Committee (BCH)"), default=False
    )
    inspection_committee = models.BooleanField(
        _("member of the Inspection Committee (UBKT)"), default=False
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("position type")
        verbose_name_plural = _("position types")

    def __str__(self) -> str:
        return self.name

    def label(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        lang = language or get_language() or "vi"
        return self.name_en if lang.startswith("en") and self.name_en else self.name


class Position(models.Model):
    """A position held by a person at a unit, with dates."""

    person = models.ForeignKey(
        Person, models.CASCADE, related_name="positions", verbose_name=_("person")
    )
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="positions", verbose_name=_("unit")
    )
    type = models.ForeignKey(
        PositionType, models.PROTECT, related_name="positions", verbose_name=_("position")
    )
    full_time = models.BooleanField(_("full-time"), default=False)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    managing_unit = models.ForeignKey(
        Unit,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_positions",
        verbose_name=_("managing unit"),
        help_text=_("The unit that manages this cadre (đơn vị quản lý cán bộ), if known."),
    )

    objects = PositionQuerySet.as_manager()

    class Meta:
        ordering = ["unit__path", "type__order", "id"]
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        indexes = [models.Index(fields=["type", "unit"], name="org_position_type_unit")]

    def __str__(self) -> str:
        return f"{self.type} — {self.unit}"

    @property
    def is_current(self) -> bool:
        today = dt.date.today()
        return (self.start_date is None or self.start_date <= today) and (
            self.end_date is None or self.end_date >= today
        )


class UnitEvent(models.Model):
    """History of restructuring: what happened to a unit, when, by whom."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        RENAMED = "renamed", _("renamed")
        MOVED = "moved", _("moved")
        MERGED = "merged", _("merged into another unit")
        ABSORBED = "absorbed", _("absorbed other units")
        DISSOLVED = "dissolved", _("dissolved")

    unit = models.ForeignKey(Unit, models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    date = models.DateField(_("effective date"))
    other_unit = models.ForeignKey(
        Unit, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    old_parent = models.ForeignKey(
        Unit, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    new_parent = models.ForeignKey(
        Unit, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("unit event")
        verbose_name_plural = _("unit events")

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.get_kind_display()}: {self.unit}"


class Role(models.TextChoices):
    ORGANISER = "organiser", _("Organiser")
    UNIT_ADMIN = "unit_admin", _("Unit administrator")
    COORDINATOR = "coordinator", _("Bridge-point coordinator")
    REVIEWER = "reviewer", _("Reviewer")
    INSPECTOR = "inspector", _("Inspector (UBKT)")


class Grant(models.Model):
    """A role held by an account at a unit; it covers the unit's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="grants", verbose_name=_("account")
    )
    unit = models.ForeignKey(Unit, models.CASCADE, related_name="grants", verbose_name=_("unit"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("access grant")
        verbose_name_plural = _("access grants")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="org_grant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} @ {self.unit}"
