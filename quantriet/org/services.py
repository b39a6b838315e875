"""Every state change of the organisation: named functions, keyword-only arguments,
one transaction each, an audit row each.

Views, admin, imports, tasks and commands all call these; nothing else writes units,
people, positions or grants.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from quantriet.core.audit import record
from quantriet.core.audit import user_or_none as _user
from quantriet.org import tree
from quantriet.org.managers import forget_scope
from quantriet.org.models import (
    Grant,
    Person,
    Position,
    PositionType,
    Role,
    Unit,
    UnitEvent,
    UnitLevel,
)
from quantriet.org.validators import clean_national_id
from quantriet.text import fold, nfc, sort_key, split_full_name

# ---------------------------------------------------------------- units


@transaction.atomic
def create_unit(
    *,
    code: str,
    name: str,
    level: UnitLevel,
    parent: Unit | None = None,
    province_code: str = "",
    province_name: str = "",
    member_count: int | None = None,
    valid_from: dt.date | None = None,
    actor: Any = None,
) -> Unit:
    code = code.strip()
    if Unit.objects.filter(code=code).exists():
        raise ValidationError(_("A unit with code “%(code)s” already exists.") % {"code": code})
    if parent is not None and parent.level.rank >= level.rank:
        raise ValidationError(
            _("A unit of level “%(level)s” cannot sit under “%(parent)s”.")
            % {"level": level.name, "parent": parent.name}
        )
    if parent is None and Unit.objects.filter(parent__isnull=True).exists():
        raise ValidationError(_("The organisation already has a top unit; choose a parent."))
    name = nfc(name)
    unit = Unit.objects.create(
        code=code,
        name=name,
        search_name=fold(f"{name} {code}"),
        level=level,
        parent=parent,
        path=f"~{uuid.uuid4().hex}",
        province_code=province_code or (parent.province_code if parent else ""),
        province_name=nfc(province_name) or (parent.province_name if parent else ""),
        member_count=member_count,
        valid_from=valid_from,
    )
    unit.path = (parent.path if parent else "") + tree.encode(unit.pk)
    unit.depth = tree.depth_of(unit.path)
    unit.save(update_fields=["path", "depth"])
    UnitEvent.objects.create(
        unit=unit, kind=UnitEvent.Kind.CREATED, date=valid_from or dt.date.today(),
        new_parent=parent, actor=_user(actor),
    )
    record("org.unit.create", unit, actor=actor, unit_path=unit.path, code=code)
    return unit


@transaction.atomic
def update_unit(*, unit: Unit, actor: Any = None, **changes: Any) -> Unit:
    """Change a unit's own fields (not its place in the tree: see move_unit)."""
    allowed = {"name", "level", "province_code", "province_name", "member_count", "valid_from"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"update_unit cannot change {sorted(unknown)}")
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    before = {k: getattr(unit, k) for k in changes}
    if "name" in changes:
        changes["name"] = nfc(changes["name"])
    if "level" in changes:
        level = changes["level"]
        if unit.parent and unit.parent.level.rank >= level.rank:
            raise ValidationError(_("The new level must be below the parent's level."))
        if unit.children.filter(level__rank__lte=level.rank).exists():
            raise ValidationError(_("The new level must be above the children's level."))
    for k, v in changes.items():
        setattr(unit, k, v)
    unit.search_name = fold(f"{unit.name} {unit.code}")
    unit.save()
    if "name" in changes and before["name"] != unit.name:
        UnitEvent.objects.create(
            unit=unit, kind=UnitEvent.Kind.RENAMED, date=dt.date.today(),
            note=f"{before['name']} → {unit.name}", actor=_user(actor),
        )
    record("org.unit.update", unit, actor=actor, unit_path=unit.path,
           before={k: str(v) for k, v in before.items()})
    return unit


@transaction.atomic
def move_unit(
    *, unit: Unit, new_parent: Unit, date: dt.date | None = None, actor: Any = None,
    note: str = "",
) -> Unit:
    """Put a unit (with its subtree) under another parent; one UPDATE rewrites the paths."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    new_parent = Unit.objects.get(pk=new_parent.pk)
    if new_parent.path.startswith(unit.path):
        raise ValidationError(_("A unit cannot be moved into its own subtree."))
    if new_parent.level.rank >= unit.level.rank:
        raise ValidationError(
            _("A unit of level “%(level)s” cannot sit under “%(parent)s”.")
            % {"level": unit.level.name, "parent": new_parent.name}
        )
    if unit.parent_id == new_parent.pk:
        return unit
    old_parent = unit.parent
    _rewrite_subtree(unit, new_parent)
    unit.refresh_from_db()
    UnitEvent.objects.create(
        unit=unit, kind=UnitEvent.Kind.MOVED, date=date or dt.date.today(),
        old_parent=old_parent, new_parent=new_parent, note=note, actor=_user(actor),
    )
    record("org.unit.move", unit, actor=actor, unit_path=unit.path,
           old_parent=old_parent, new_parent=new_parent)
    return unit


def _rewrite_subtree(unit: Unit, new_parent: Unit) -> None:
    old_path = unit.path
    new_path = new_parent.path + tree.encode(unit.pk)
    delta = tree.depth_of(new_path) - tree.depth_of(old_path)
    Unit.objects.filter(pk=unit.pk).update(parent=new_parent)
    from quantriet.progress import counters  # the campaigns' subtree figures follow

    counters.unit_moved(unit.pk, old_path, new_path)
    Unit.objects.subtree(old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + delta,
    )
    if new_parent.province_code and unit.province_code != new_parent.province_code:
        Unit.objects.subtree(new_path).update(
            province_code=new_parent.province_code, province_name=new_parent.province_name
        )


@transaction.atomic
def merge_units(
    *, sources: Iterable[Unit], target: Unit, date: dt.date, actor: Any = None,
    note: str = "",
) -> Unit:
    """Merge units into one. Members, positions and child units move to the target;
    each source stays for history, closed the day before ``date``, pointing to its
    successor."""
    target = Unit.objects.select_for_update().get(pk=target.pk)
    src_list = list(Unit.objects.select_for_update().filter(pk__in=[s.pk for s in sources]))
    if not src_list:
        raise ValidationError(_("Choose at least one unit to merge."))
    closed = date - dt.timedelta(days=1)
    for src in src_list:
        if src.pk == target.pk:
            raise ValidationError(_("A unit cannot be merged into itself."))
        if target.path.startswith(src.path):
            raise ValidationError(
                _("“%(target)s” lies inside “%(source)s”; merge the other way round.")
                % {"target": target.name, "source": src.name}
            )
        if src.valid_to is not None and src.valid_to < date:
            raise ValidationError(
                _("“%(unit)s” was already closed on %(date)s.")
                % {"unit": src.name, "date": src.valid_to.strftime("%d/%m/%Y")}
            )
    for src in src_list:
        moved = Person.objects.filter(unit=src).update(unit=target)
        Position.objects.filter(unit=src, end_date__isnull=True).update(unit=target)
        Position.objects.filter(unit=src, end_date__gte=date).update(unit=target)
        Position.objects.filter(managing_unit=src).update(managing_unit=target)
        for child in list(src.children.filter(valid_to__isnull=True)):
            child.refresh_from_db()
            target.refresh_from_db()
            _rewrite_subtree(child, target)
            UnitEvent.objects.create(
                unit=child, kind=UnitEvent.Kind.MOVED, date=date, old_parent=src,
                new_parent=target, note=note, actor=_user(actor),
            )
        Unit.objects.filter(pk=src.pk).update(
            valid_to=closed, successor=target, direct_members=0
        )
        Unit.objects.filter(pk=target.pk).update(direct_members=F("direct_members") + moved)
        if target.member_count is not None and src.member_count:
            Unit.objects.filter(pk=target.pk).update(
                member_count=F("member_count") + src.member_count
            )
        UnitEvent.objects.create(
            unit=src, kind=UnitEvent.Kind.MERGED, date=date, other_unit=target, note=note,
            actor=_user(actor),
        )
        UnitEvent.objects.create(
            unit=target, kind=UnitEvent.Kind.ABSORBED, date=date, other_unit=src, note=note,
            actor=_user(actor),
        )
        record("org.unit.merge", src, actor=actor, unit_path=src.path, into=target,
               members_moved=moved)
    target.refresh_from_db()
    return target


@transaction.atomic
def dissolve_unit(*, unit: Unit, date: dt.date, actor: Any = None, note: str = "") -> Unit:
    """Close a unit that no longer has members or open child units."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    if unit.valid_to is not None:
        raise ValidationError(_("“%(unit)s” is already closed.") % {"unit": unit.name})
    if unit.children.filter(valid_to__isnull=True).exists():
        raise ValidationError(
            _("“%(unit)s” still has open child units: move or merge them first.")
            % {"unit": unit.name}
        )
    if Person.objects.filter(unit=unit).exists():
        raise ValidationError(
            _("“%(unit)s” still has members: move them or merge the unit instead.")
            % {"unit": unit.name}
        )
    unit.valid_to = date
    unit.save(update_fields=["valid_to", "updated_at"])
    Position.objects.filter(unit=unit, end_date__isnull=True).update(end_date=date)
    UnitEvent.objects.create(
        unit=unit, kind=UnitEvent.Kind.DISSOLVED, date=date, note=note, actor=_user(actor)
    )
    record("org.unit.dissolve", unit, actor=actor, unit_path=unit.path)
    return unit


# ---------------------------------------------------------------- people


def person_name_fields(
    *, full_name: str = "", family_name: str = "", middle_name: str = "", given_name: str = ""
) -> dict[str, str]:
    """Split or join a name into the stored fields (NFC, folded, sort key)."""
    if full_name and not given_name:
        family_name, middle_name, given_name = split_full_name(full_name)
    family_name, middle_name, given_name = nfc(family_name), nfc(middle_name), nfc(given_name)
    if not given_name:
        raise ValidationError(_("A person needs at least a given name."))
    full = " ".join(p for p in (family_name, middle_name, given_name) if p)
    return {
        "family_name": family_name,
        "middle_name": middle_name,
        "given_name": given_name,
        "full_name": full,
        "search_name": fold(full),
        "sort_key": sort_key(given_name, family_name, middle_name),
    }


def _check_member_unit(unit: Unit) -> None:
    if not unit.level.accepts_members:
        raise ValidationError(
            _("Members belong to a grassroots union or below; “%(unit)s” is a %(level)s.")
            % {"unit": unit.name, "level": unit.level.name}
        )
    if unit.valid_to is not None and unit.valid_to < dt.date.today():
        raise ValidationError(_("“%(unit)s” is closed.") % {"unit": unit.name})


@transaction.atomic
def create_person(
    *,
    unit: Unit,
    full_name: str = "",
    family_name: str = "",
    middle_name: str = "",
    given_name: str = "",
    gender: str = "",
    birth_date: dt.date | None = None,
    national_id: str | None = None,
    union_card: str | None = None,
    member_code: str | None = None,
    email: str = "",
    phone: str = "",
    actor: Any = None,
) -> Person:
    _check_member_unit(unit)
    nid = clean_national_id(national_id)
    if nid and Person.objects.filter(national_id=nid).exists():
        raise ValidationError(
            _("Another member already has national ID %(nid)s.") % {"nid": nid}
        )
    person = Person.objects.create(
        unit=unit,
        gender=gender,
        birth_date=birth_date,
        national_id=nid,
        union_card=(union_card or "").strip() or None,
        member_code=(member_code or "").strip() or None,
        email=email.strip(),
        phone=phone.strip(),
        **person_name_fields(
            full_name=full_name, family_name=family_name, middle_name=middle_name,
            given_name=given_name,
        ),
    )
    Unit.objects.filter(pk=unit.pk).update(direct_members=F("direct_members") + 1)
    record("org.person.create", person, actor=actor, unit_path=unit.path)
    return person


@transaction.atomic
def update_person(*, person: Person, actor: Any = None, **changes: Any) -> Person:
    """Change a person's own fields; a new unit goes through move_person."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    names: dict[str, str] = {
        k: changes.pop(k)
        for k in ("full_name", "family_name", "middle_name", "given_name")
        if k in changes
    }
    if names:
        current: dict[str, str] = {
            "family_name": person.family_name,
            "middle_name": person.middle_name,
            "given_name": person.given_name,
        }
        if "full_name" in names:
            current = {"full_name": names["full_name"]}
        else:
            current.update(names)
        for k, v in person_name_fields(**current).items():
            setattr(person, k, v)
    if "national_id" in changes:
        changes["national_id"] = clean_national_id(changes["national_id"])
        nid = changes["national_id"]
        if nid and Person.objects.filter(national_id=nid).exclude(pk=person.pk).exists():
            raise ValidationError(
                _("Another member already has national ID %(nid)s.") % {"nid": nid}
            )
    allowed = {"gender", "birth_date", "national_id", "union_card", "member_code", "email",
               "phone"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"update_person cannot change {sorted(unknown)}")
    for k, v in changes.items():
        setattr(person, k, v)
    person.save()
    record("org.person.update", person, actor=actor, unit_path=person.unit.path,
           fields=sorted([*names, *changes]))
    return person


@transaction.atomic
def move_person(*, person: Person, unit: Unit, actor: Any = None) -> Person:
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.unit_id == unit.pk:
        return person
    _check_member_unit(unit)
    old = person.unit
    person.unit = unit
    person.save(update_fields=["unit", "updated_at"])
    Unit.objects.filter(pk=old.pk).update(direct_members=F("direct_members") - 1)
    Unit.objects.filter(pk=unit.pk).update(direct_members=F("direct_members") + 1)
    record("org.person.move", person, actor=actor, unit_path=unit.path, old_unit=old)
    return person


@transaction.atomic
def delete_person(*, person: Person, actor: Any = None) -> None:
    """Erase a person (erasure on request); positions go with them."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    unit = person.unit
    record("org.person.delete", person, actor=actor, unit_path=unit.path)
    person.delete()
    Unit.objects.filter(pk=unit.pk).update(direct_members=F("direct_members") - 1)


# ---------------------------------------------------------------- positions


@transaction.atomic
def add_position(
    *,
    person: Person,
    unit: Unit,
    type: PositionType,  # noqa: A002 - the domain word
    full_time: bool = False,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    managing_unit: Unit | None = None,
    actor: Any = None,
) -> Position:
    if start_date and end_date and end_date < start_date:
        raise ValidationError(_("The end date is before the start date."))
    position = Position.objects.create(
        person=person, unit=unit, type=type, full_time=full_time, start_date=start_date,
        end_date=end_date, managing_unit=managing_unit,
    )
    record("org.position.add", position, actor=actor, unit_path=unit.path)
    return position


@transaction.atomic
def end_position(*, position: Position, end_date: dt.date, actor: Any = None) -> Position:
    position = Position.objects.select_for_update().get(pk=position.pk)
    if position.start_date and end_date < position.start_date:
        raise ValidationError(_("The end date is before the start date."))
    position.end_date = end_date
    position.save(update_fields=["end_date"])
    record("org.position.end", position, actor=actor, unit_path=position.unit.path)
    return position


# ---------------------------------------------------------------- access


@transaction.atomic
def grant_role(*, user: Any, unit: Unit, role: str, actor: Any = None) -> Grant:
    if role not in Role.values:
        raise ValidationError(_("Unknown role “%(role)s”.") % {"role": role})
    grant, created = Grant.objects.get_or_create(
        user=user, unit=unit, role=role, defaults={"granted_by": _user(actor)}
    )
    if created:
        record("org.grant.add", grant, actor=actor, unit_path=unit.path, role=role)
    forget_scope(user)
    return grant


@transaction.atomic
def revoke_grant(*, grant: Grant, actor: Any = None) -> None:
    record("org.grant.revoke", grant, actor=actor, unit_path=grant.unit.path, role=grant.role)
    user = grant.user
    grant.delete()
    forget_scope(user)


# ---------------------------------------------------------------- counters


def verify_member_counters(*, fix: bool = False) -> list[tuple[str, int, int]]:
    """Compare each unit's ``direct_members`` with a fresh count.

    Returns (unit code, stored, actual) for every difference; with ``fix`` the
    stored numbers are corrected.
    """
    actual = dict(
        Person.objects.values("unit_id").annotate(n=Count("id")).values_list("unit_id", "n")
    )
    diffs = []
    for pk, code, stored in Unit.objects.values_list("pk", "code", "direct_members").iterator():
        real = actual.get(pk, 0)
        if real != stored:
            diffs.append((code, stored, real))
            if fix:
                Unit.objects.filter(pk=pk).update(direct_members=real)
    return diffs

