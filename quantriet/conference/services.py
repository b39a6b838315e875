"""State changes of conference day: bridge points, assignment, invitations' signed tokens,
check-in, absence and substitutes, locking.

Each bridge point keeps counters (expected, present, excused, substitutes) that every
service changes in the same transaction as the attendance row, with ``F()`` expressions
so concurrent check-ins never lose an update; the live board reads the counters of the
points only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from quantriet.campaigns.models import Campaign, Participant
from quantriet.conference.models import Attendance, BridgePoint
from quantriet.core.audit import record
from quantriet.core.audit import user_or_none as _user
from quantriet.org import tree
from quantriet.org.managers import can
from quantriet.org.models import Person, Unit
from quantriet.progress import counters

TOKEN_SALT = "quantriet.conference.invitation"  # noqa: S105 - a namespace, not a secret
TOKEN_MAX_AGE = 60 * 60 * 24 * 120  # an invitation's QR code is valid for 120 days


def _require(actor: Any, campaign: Campaign) -> None:
    if not can(actor, "change", campaign.owner_unit):
        raise ValidationError(_("Only the campaign's organisers can do this."))


# ---------------------------------------------------------------- bridge points


@transaction.atomic
def generate_points(*, campaign: Campaign, level_codes: list[str], actor: Any,
                    central: bool = True) -> int:
    """One bridge point per current unit of the given levels in the organising unit's
    subtree (plus the central point at the organising unit). Existing points are kept."""
    _require(actor, campaign)
    existing = set(campaign.bridge_points.values_list("code", flat=True))
    points = []
    if central and campaign.owner_unit.code not in existing:
        points.append(BridgePoint(campaign=campaign, code=campaign.owner_unit.code,
                                  name=_("Central point: %(unit)s")
                                  % {"unit": campaign.owner_unit.name},
                                  host_unit=campaign.owner_unit, is_central=True))
    hosts = (Unit.objects.subtree(campaign.owner_unit.path, include_root=False)
             .filter(level__code__in=level_codes, valid_to__isnull=True).order_by("path"))
    for unit in hosts.iterator(chunk_size=5000):
        if unit.code not in existing:
            points.append(BridgePoint(campaign=campaign, code=unit.code,
                                      name=_("Bridge point %(unit)s") % {"unit": unit.name},
                                      host_unit=unit))
    BridgePoint.objects.bulk_create(points, batch_size=2000)
    record("conference.points.generate", campaign, actor=actor,
           unit_path=campaign.owner_unit.path, created=len(points))
    return len(points)


@transaction.atomic
def assign_default(*, campaign: Campaign, actor: Any) -> int:
    """Send each participant without a manual assignment to the point hosted by their
    nearest ancestor that hosts one (the central point otherwise). Returns how many
    attendances were created or moved."""
    _require(actor, campaign)
    points = {p.host_unit.path: p for p in campaign.bridge_points.select_related("host_unit")}
    central = next((p for p in points.values() if p.is_central), None)
    if central is None and not points:
        raise ValidationError(_("Create the bridge points first."))
    current = dict(Attendance.objects.filter(participant__campaign=campaign)
                   .values_list("participant_id", "point_id"))
    overridden = set(Attendance.objects.filter(participant__campaign=campaign, overridden=True)
                     .values_list("participant_id", flat=True))
    create, move = [], []
    participants = campaign.participants.filter(active=True).values_list("pk", "unit__path")
    for pk, path in participants.iterator(chunk_size=20_000):
        if pk in overridden:
            continue
        target = None
        for anc in [path, *reversed(tree.ancestor_paths(path))]:
            if anc in points:
                target = points[anc]
                break
        target = target or central
        if target is None:
            continue
        if pk not in current:
            create.append(Attendance(participant_id=pk, point=target))
        elif current[pk] != target.pk:
            move.append((pk, target.pk))
    Attendance.objects.bulk_create(create, batch_size=5000)
    for pk, point_id in move:
        Attendance.objects.filter(participant_id=pk, status=Attendance.Status.EXPECTED).update(
            point_id=point_id)
    _recount(campaign)
    record("conference.assign", campaign, actor=actor, unit_path=campaign.owner_unit.path,
           created=len(create), moved=len(move))
    return len(create) + len(move)


@transaction.atomic
def move_attendance(*, attendance: Attendance, point: BridgePoint, actor: Any) -> Attendance:
    """Assign one participant to another point by hand (kept by later default runs)."""
    _require(actor, attendance.point.campaign)
    if point.campaign_id != attendance.point.campaign_id:
        raise ValidationError(_("That bridge point belongs to another campaign."))
    attendance = Attendance.objects.select_for_update().get(pk=attendance.pk)
    if attendance.status != Attendance.Status.EXPECTED:
        raise ValidationError(_("Attendance is already recorded; it cannot be moved."))
    old = attendance.point_id
    attendance.point, attendance.overridden = point, True
    attendance.save(update_fields=["point", "overridden"])
    BridgePoint.objects.filter(pk=old).update(expected=F("expected") - 1)
    BridgePoint.objects.filter(pk=point.pk).update(expected=F("expected") + 1)
    record("conference.move", attendance, actor=actor, unit_path=point.host_unit.path,
           old_point=old, new_point=point.pk)
    return attendance


@transaction.atomic
def add_coordinator(*, point: BridgePoint, user: Any, actor: Any) -> None:
    """Give an account the right to check people in at this point only."""
    _require(actor, point.campaign)
    point.coordinators.add(user)
    record("conference.coordinator.add", point, actor=actor, unit_path=point.host_unit.path,
           user=user.pk)


def over_capacity(campaign: Campaign) -> list[BridgePoint]:
    """Points where more people are expected than there are seats."""
    return list(campaign.bridge_points.filter(capacity__isnull=False,
                                              expected__gt=F("capacity")))


def _recount(campaign: Campaign) -> None:
    """Recompute the counters of every point of the campaign from the attendances."""
    from django.db.models import Count, Q

    counts = {
        row["point_id"]: row for row in
        Attendance.objects.filter(point__campaign=campaign).values("point_id").annotate(
            n=Count("id"),
            p=Count("id", filter=Q(status=Attendance.Status.PRESENT)),
            e=Count("id", filter=Q(status=Attendance.Status.EXCUSED)),
            s=Count("id", filter=Q(substitute__isnull=False)),
        )
    }
    for point in campaign.bridge_points.all():
        c = counts.get(point.pk, {"n": 0, "p": 0, "e": 0, "s": 0})
        if (point.expected, point.present, point.excused, point.substitutes) != (
                c["n"], c["p"], c["e"], c["s"]):
            BridgePoint.objects.filter(pk=point.pk).update(
                expected=c["n"], present=c["p"], excused=c["e"], substitutes=c["s"])


def verify_counters(campaign: Campaign) -> list[tuple[str, tuple, tuple]]:
    """Points whose stored counters differ from a fresh count: (code, stored, actual)."""
    before = {p.code: (p.expected, p.present, p.excused, p.substitutes)
              for p in campaign.bridge_points.all()}
    with transaction.atomic():
        _recount(campaign)
        after = {p.code: (p.expected, p.present, p.excused, p.substitutes)
                 for p in campaign.bridge_points.all()}
        transaction.set_rollback(True)
    return [(code, before[code], after[code]) for code in before if before[code] != after[code]]


# ---------------------------------------------------------------- invitations


def invitation_token(participant: Participant) -> str:
    """The content of the QR code: signed, so it cannot be forged or altered."""
    return signing.dumps({"c": participant.campaign_id, "p": participant.pk}, salt=TOKEN_SALT,
                         compress=True)


def _load_token(token: str) -> Any:
    return signing.loads(token.strip(), salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)


def token_participant_pk(token: str, campaign_id: int) -> int | None:
    """The participant number in a valid, unexpired token of this campaign (by its id);
    None for any other token (never raises: ``read_token`` says what is wrong)."""
    try:
        data = _load_token(token)
    except signing.BadSignature:
        return None
    if isinstance(data, dict) and data.get("c") == campaign_id and isinstance(data.get("p"),
                                                                              int):
        return data["p"]
    return None


def read_token(token: str, campaign: Campaign,
               known: dict[int, Participant] | None = None) -> Participant:
    """The participant of an invitation's token, with their person. ``known``: participants
    of the campaign already read (by number), looked up before the database."""
    try:
        data = _load_token(token)
    except signing.SignatureExpired:
        raise ValidationError(_("This invitation code has expired.")) from None
    except signing.BadSignature:
        raise ValidationError(_("This is not a valid invitation code (it was altered or "
                                "belongs to another system).")) from None
    if not isinstance(data, dict) or data.get("c") != campaign.pk:
        raise ValidationError(_("This invitation is for another campaign."))
    pk = data.get("p")
    if known and isinstance(pk, int) and pk in known:
        return known[pk]
    try:
        return campaign.participants.select_related("person").get(pk=pk)
    except Participant.DoesNotExist:
        raise ValidationError(_("This invitation is no longer on the roster.")) from None


# ---------------------------------------------------------------- check-in


@dataclass
class CheckIn:
    attendance: Attendance
    outcome: str  # "checked_in", "already", "other_point", "removed"
    message: str


def may_check_in(actor: Any, point: BridgePoint) -> bool:
    """The point's coordinators and the campaign's organisers.

    A yes is remembered on the point instance (which lives for one request), so the view
    that opened the point, the check-in and every item of a synced queue ask the database
    once; a no is asked again."""
    if not getattr(actor, "is_authenticated", False):
        return False
    allowed: set[Any] = point.__dict__.setdefault("_qt_may_check_in", set())
    if actor.pk in allowed:
        return True
    coordinators = BridgePoint.coordinators.through.objects
    if (coordinators.filter(bridgepoint_id=point.pk, user_id=actor.pk).exists()
            or can(actor, "change", point.campaign.owner_unit)):
        allowed.add(actor.pk)
        return True
    return False


def _can_check_in(actor: Any, point: BridgePoint) -> None:
    if not may_check_in(actor, point):
        raise ValidationError(_("You are not a coordinator of this bridge point."))


@transaction.atomic
def check_in(*, point: BridgePoint, participant: Participant, actor: Any,
             accept_other_point: bool = False, client_ref: str = "",
             at: Any = None) -> CheckIn:
    """Record that a participant is present at ``point``. Idempotent: a second scan says
    when they were checked in; a participant of another point is only accepted when the
    coordinator confirms."""
    _can_check_in(actor, point)
    if point.locked:
        raise ValidationError(_("Attendance at this point is locked."))
    if participant.campaign_id != point.campaign_id:
        raise ValidationError(_("This person is not on this campaign's roster."))
    if not participant.active:
        raise ValidationError(_("%(person)s is no longer on the roster.")
                              % {"person": participant.person.full_name})
    try:
        att = Attendance.objects.select_for_update().get(participant=participant)
    except Attendance.DoesNotExist:  # not assigned yet: assign here
        att = Attendance.objects.create(participant=participant, point=point)
        BridgePoint.objects.filter(pk=point.pk).update(expected=F("expected") + 1)
    if att.status == Attendance.Status.PRESENT or (client_ref and att.client_ref == client_ref):
        local = timezone.localtime(att.checked_in_at)
        return CheckIn(att, "already",
                       _("%(person)s was already checked in at %(time)s.")
                       % {"person": participant.person.full_name,
                          "time": local.strftime("%H:%M")})
    if att.point_id != point.pk and not accept_other_point:
        return CheckIn(att, "other_point",
                       _("%(person)s is expected at “%(point)s”. Check in here anyway?")
                       % {"person": participant.person.full_name, "point": att.point.name})
    old_status = att.status
    att.status = Attendance.Status.PRESENT
    att.checked_in_at = at or timezone.now()
    att.checked_in_point = point
    att.checked_in_by = _user(actor)
    att.client_ref = client_ref
    att.save(update_fields=["status", "checked_in_at", "checked_in_point", "checked_in_by",
                            "client_ref"])
    changes: dict[str, Any] = {"present": F("present") + 1}
    if old_status == Attendance.Status.EXCUSED:
        changes["excused"] = F("excused") - 1
    BridgePoint.objects.filter(pk=att.point_id).update(**changes)
    counters.bump(participant.campaign_id, participant.unit_id,
                  **counters.difference(counters.vector(attendance=old_status),
                                        counters.vector(attendance=att.status)))
    return CheckIn(att, "checked_in",
                   _("%(person)s checked in.") % {"person": participant.person.full_name})


@transaction.atomic
def excuse(*, attendance: Attendance, reason: str, actor: Any) -> Attendance:
    """Absent with leave (vắng có lý do)."""
    _can_check_in(actor, attendance.point)
    if not reason.strip():
        raise ValidationError(_("Give the reason."))
    att = Attendance.objects.select_for_update().get(pk=attendance.pk)
    if att.point.locked:
        raise ValidationError(_("Attendance at this point is locked."))
    if att.status == Attendance.Status.PRESENT:
        raise ValidationError(_("This participant is checked in."))
    if att.status != Attendance.Status.EXCUSED:
        BridgePoint.objects.filter(pk=att.point_id).update(excused=F("excused") + 1)
        counters.bump_participant(att.participant_id, **counters.difference(
            counters.vector(attendance=att.status),
            counters.vector(attendance=Attendance.Status.EXCUSED)))
    att.status, att.reason = Attendance.Status.EXCUSED, reason
    att.save(update_fields=["status", "reason"])
    return att


@transaction.atomic
def check_in_substitute(*, point: BridgePoint, participant: Participant, person: Person,
                        reason: str, actor: Any) -> CheckIn:
    """Someone attends in place of an absent participant (người dự thay)."""
    if not reason.strip():
        raise ValidationError(_("Give the reason."))
    if not person.unit.path.startswith(point.campaign.owner_unit.path):
        raise ValidationError(_("%(person)s is not in the organising unit's subtree.")
                              % {"person": person.full_name})
    result = check_in(point=point, participant=participant, actor=actor,
                      accept_other_point=True)
    if result.outcome == "already":
        raise ValidationError(_("%(person)s is present; no substitute is needed.")
                              % {"person": participant.person.full_name})
    att = result.attendance
    had_substitute = att.substitute_id is not None
    att.substitute, att.reason = person, reason
    att.save(update_fields=["substitute", "reason"])
    BridgePoint.objects.filter(pk=att.point_id).update(substitutes=F("substitutes") + 1)
    if not had_substitute:
        counters.bump(participant.campaign_id, participant.unit_id,
                      path=counters.cached_path(participant), substitutes=1)
    record("conference.substitute", att, actor=actor, unit_path=point.host_unit.path,
           person=person.pk, reason=reason)
    return CheckIn(att, "checked_in",
                   _("%(sub)s attends instead of %(person)s.")
                   % {"sub": person.full_name, "person": participant.person.full_name})


@transaction.atomic
def lock_point(*, point: BridgePoint, actor: Any) -> BridgePoint:
    """After the session: whoever is still expected is recorded absent; nothing changes
    afterwards."""
    _can_check_in(actor, point)
    # the attendances first, then the point, in the order a check-in locks them (so the
    # two never wait for each other); a check-in that commits meanwhile is not counted
    # absent
    waiting = list(Attendance.objects.select_for_update(of=("self",))
                   .filter(point_id=point.pk, status=Attendance.Status.EXPECTED)
                   .order_by("pk")
                   .values_list("pk", "participant__unit_id", "participant__active"))
    point = BridgePoint.objects.select_for_update().get(pk=point.pk)
    if point.locked:
        return point
    absent: dict[int, dict[str, int]] = {}
    for start in range(0, len(waiting), 5000):
        Attendance.objects.filter(pk__in=[pk for pk, _u, _a in waiting[start:start + 5000]]
                                  ).update(status=Attendance.Status.ABSENT)
    for _pk, unit_id, active in waiting:
        if active:
            absent.setdefault(unit_id, {"absent": 0})["absent"] += 1
    counters.bump_many(point.campaign_id, absent)
    point.locked = True
    point.save(update_fields=["locked"])
    record("conference.lock", point, actor=actor, unit_path=point.host_unit.path)
    return point


# ---------------------------------------------------------------- editing and import

POINT_FIELDS = ("name", "address", "capacity", "stream_url", "starts_at", "ends_at")


@transaction.atomic
def update_point(*, point: BridgePoint, actor: Any, **changes: Any) -> BridgePoint:
    """Change a point's details (name, address, capacity, link, session times)."""
    _require(actor, point.campaign)
    unknown = set(changes) - set(POINT_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    starts, ends = (changes.get("starts_at", point.starts_at),
                    changes.get("ends_at", point.ends_at))
    if starts and ends and ends <= starts:
        raise ValidationError(_("The session ends before it starts."))
    before = {f: getattr(point, f) for f in changes}
    for name, value in changes.items():
        setattr(point, name, value)
    point.full_clean(exclude=["campaign", "host_unit", "coordinators"])
    point.save(update_fields=list(changes))
    record("conference.point.update", point, actor=actor, unit_path=point.host_unit.path,
           changed=sorted(f for f in changes if before[f] != changes[f]))
    return point


def _aware(value: Any) -> Any:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


@dataclass
class PointImport:
    created: int
    updated: int
    errors: list[tuple[int, str]]


def import_points(*, campaign: Campaign, sheet: Any, actor: Any) -> PointImport:
    """Create or update the bridge points listed in a sheet (see
    :mod:`quantriet.conference.point_import`), matched by point code. Every row is checked
    first -- host unit inside the organising unit's subtree and current, coordinators'
    accounts exist; with any error nothing is written and the errors are returned."""
    from django.contrib.auth import get_user_model

    _require(actor, campaign)
    errors = list(sheet.errors)
    codes = {row.host_unit for row in sheet.rows}
    units = {u.code: u for u in Unit.objects.filter(code__in=codes, valid_to__isnull=True)}
    logins = {login for row in sheet.rows for login in row.coordinators}
    accounts = {u.get_username(): u for u in get_user_model().objects.filter(
        username__in=logins, is_active=True)}
    root = campaign.owner_unit.path
    for row in sheet.rows:
        unit = units.get(row.host_unit)
        if unit is None:
            errors.append((row.line, _("No current unit has the code %(code)s.")
                           % {"code": row.host_unit}))
        elif not unit.path.startswith(root):
            errors.append((row.line, _("%(unit)s is outside the organising unit.")
                           % {"unit": unit.name}))
        missing = [login for login in row.coordinators if login not in accounts]
        if missing:
            errors.append((row.line, _("No active account with the login %(logins)s.")
                           % {"logins": ", ".join(missing)}))
    if errors:
        return PointImport(0, 0, sorted(errors))
    created = updated = 0
    with transaction.atomic():
        existing = {p.code: p for p in campaign.bridge_points.select_for_update()}
        for row in sheet.rows:
            unit = units[row.host_unit]
            fields = {"host_unit": unit, "address": row.address, "capacity": row.capacity,
                      "stream_url": row.stream_url, "starts_at": _aware(row.starts_at),
                      "ends_at": _aware(row.ends_at),
                      "name": row.name or (_("Central point: %(unit)s") if unit == campaign
                                           .owner_unit else _("Bridge point %(unit)s"))
                      % {"unit": unit.name}}
            point = existing.get(row.code)
            if point is None:
                point = BridgePoint.objects.create(
                    campaign=campaign, code=row.code,
                    is_central=unit.pk == campaign.owner_unit_id, **fields)
                created += 1
            else:
                for name, value in fields.items():
                    setattr(point, name, value)
                point.save()
                updated += 1
            if row.coordinators:
                point.coordinators.add(*(accounts[login] for login in row.coordinators))
        record("conference.points.import", campaign, actor=actor, unit_path=root,
               created=created, updated=updated)
    return PointImport(created, updated, [])


@transaction.atomic
def move_subtree(*, campaign: Campaign, unit: Unit, point: BridgePoint, actor: Any) -> int:
    """Send every participant of ``unit``'s subtree whose attendance is not yet recorded to
    ``point`` (a bulk override, kept by later default assignments)."""
    _require(actor, campaign)
    if point.campaign_id != campaign.pk:
        raise ValidationError(_("That bridge point belongs to another campaign."))
    qs = Attendance.objects.filter(
        participant__campaign=campaign, status=Attendance.Status.EXPECTED,
    ).filter(tree.subtree_q(unit.path, "participant__unit__path", Attendance.objects.db)
             ).exclude(point=point)
    ids = list(qs.values_list("pk", flat=True))
    for start in range(0, len(ids), 5000):
        Attendance.objects.filter(pk__in=ids[start:start + 5000]).update(
            point=point, overridden=True)
    _recount(campaign)
    record("conference.move.bulk", campaign, actor=actor, unit_path=unit.path,
           unit=unit.pk, point=point.pk, moved=len(ids))
    return len(ids)
