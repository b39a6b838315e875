"""State changes of campaigns: set-up, rule evaluation, the frozen roster, manual changes,
routing of reports to managing units.

Rule evaluation is one ``INSERT … SELECT`` over current positions into a temporary table
(person, rule, position); the diff against the roster and its application are set-based
SQL too. Only the choice of each participant's managing unit walks the participants in
Python, in chunks, using the materialised paths (no query per person).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from quantriet.campaigns.models import (
    Campaign,
    EligibilityRule,
    Material,
    Participant,
    RoutingRule,
    Topic,
)
from quantriet.core.audit import record
from quantriet.core.audit import user_or_none as _user
from quantriet.org import tree
from quantriet.org.managers import can
from quantriet.org.models import Person, PositionType, Unit, UnitLevel
from quantriet.progress import counters

REASON_NO_LONGER = gettext_noop("no longer matches any rule")

# ---------------------------------------------------------------- set-up


def _require(actor: Any, unit: Unit) -> None:
    if not can(actor, "change", unit):
        raise ValidationError(_("You have no right to organise campaigns at “%(unit)s”.")
                              % {"unit": unit.name})


@transaction.atomic
def create_campaign(*, slug: str, title: str, owner_unit: Unit, actor: Any, resolution: str = "",
                    description: str = "", conference_date: dt.date | None = None,
                    report_deadline: dt.date | None = None) -> Campaign:
    _require(actor, owner_unit)
    if Campaign.objects.filter(slug=slug).exists():
        raise ValidationError(_("A campaign with short name “%(slug)s” already exists.")
                              % {"slug": slug})
    if conference_date and report_deadline and report_deadline < conference_date:
        raise ValidationError(_("The report deadline is before the conference."))
    campaign = Campaign.objects.create(
        slug=slug, title=title, owner_unit=owner_unit, resolution=resolution,
        description=description, conference_date=conference_date,
        report_deadline=report_deadline, created_by=actor if actor and actor.pk else None,
    )
    record("campaigns.create", campaign, actor=actor, unit_path=owner_unit.path)
    return campaign


@transaction.atomic
def set_status(*, campaign: Campaign, status: str, actor: Any) -> Campaign:
    _require(actor, campaign.owner_unit)
    if status not in Campaign.Status.values:
        raise ValidationError(_("Unknown status."))
    campaign.status = status
    campaign.save(update_fields=["status", "updated_at"])
    record("campaigns.status", campaign, actor=actor, unit_path=campaign.owner_unit.path,
           status=status)
    return campaign


@transaction.atomic
def add_topic(*, campaign: Campaign, title: str, actor: Any, summary: str = "",
              presenter: str = "") -> Topic:
    _require(actor, campaign.owner_unit)
    order = (campaign.topics.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    topic = Topic.objects.create(campaign=campaign, title=title, summary=summary,
                                 presenter=presenter, order=order)
    record("campaigns.topic.add", topic, actor=actor, unit_path=campaign.owner_unit.path)
    return topic


@transaction.atomic
def move_topic(*, topic: Topic, up: bool, actor: Any) -> None:
    """Swap a topic with its neighbour (organisers reorder topics freely)."""
    _require(actor, topic.campaign.owner_unit)
    topics = list(topic.campaign.topics.order_by("order", "id"))
    i = next(n for n, t in enumerate(topics) if t.pk == topic.pk)
    j = i - 1 if up else i + 1
    if 0 <= j < len(topics):
        topics[i], topics[j] = topics[j], topics[i]
    for n, t in enumerate(topics, 1):
        if t.order != n:
            Topic.objects.filter(pk=t.pk).update(order=n)


MATERIAL_MAX_BYTES = 50 * 1024 * 1024
MATERIAL_SUFFIXES = {".pdf", ".docx", ".doc", ".odt", ".pptx", ".ppt", ".xlsx", ".mp3", ".mp4",
                     ".jpg", ".jpeg", ".png", ".zip"}


@transaction.atomic
def add_material(*, topic: Topic, title: str, actor: Any, kind: str = "link", url: str = "",
                 upload: Any = None) -> Material:
    """A document, link or video for a topic: a URL or an uploaded file (one of the two)."""
    from pathlib import Path

    _require(actor, topic.campaign.owner_unit)
    if bool(url) == bool(upload):
        raise ValidationError(_("Give either an address or a file."))
    if upload is not None:
        suffix = Path(upload.name or "").suffix.lower()
        if suffix not in MATERIAL_SUFFIXES:
            raise ValidationError(_("Files of type “%(suffix)s” are not accepted.")
                                  % {"suffix": suffix or "?"})
        if upload.size and upload.size > MATERIAL_MAX_BYTES:
            raise ValidationError(_("The file is larger than %(limit)s MB.")
                                  % {"limit": MATERIAL_MAX_BYTES // (1024 * 1024)})
        kind = Material.Kind.FILE
    material = Material(topic=topic, title=title, kind=kind, url=url)
    if upload is not None:
        material.file.save(upload.name, upload, save=False)
    material.save()
    record("campaigns.material.add", material, actor=actor,
           unit_path=topic.campaign.owner_unit.path)
    return material


@transaction.atomic
def delete_material(*, material: Material, actor: Any) -> None:
    _require(actor, material.topic.campaign.owner_unit)
    record("campaigns.material.delete", material, actor=actor,
           unit_path=material.topic.campaign.owner_unit.path)
    if material.file:
        material.file.delete(save=False)
    material.delete()


@transaction.atomic
def update_campaign(*, campaign: Campaign, actor: Any, **changes: Any) -> Campaign:
    """Change title, resolution, description or dates."""
    _require(actor, campaign.owner_unit)
    allowed = {"title", "resolution", "description", "conference_date", "report_deadline"}
    if set(changes) - allowed:
        raise ValueError(f"update_campaign cannot change {sorted(set(changes) - allowed)}")
    for k, v in changes.items():
        setattr(campaign, k, v)
    if campaign.conference_date and campaign.report_deadline and (
        campaign.report_deadline < campaign.conference_date
    ):
        raise ValidationError(_("The report deadline is before the conference."))
    campaign.save()
    record("campaigns.update", campaign, actor=actor, unit_path=campaign.owner_unit.path,
           fields=sorted(changes))
    return campaign


@transaction.atomic
def save_rule(*, campaign: Campaign, actor: Any, name: str,
              position_types: list[PositionType] | None = None,
              unit_levels: list[UnitLevel] | None = None, full_time: bool | None = None,
              min_members: int | None = None, max_members: int | None = None,
              subtree: Unit | None = None, rule: EligibilityRule | None = None,
              ) -> EligibilityRule:
    _require(actor, campaign.owner_unit)
    if min_members is not None and max_members is not None and max_members < min_members:
        raise ValidationError(_("The maximum number of members is below the minimum."))
    if subtree is not None and not subtree.path.startswith(campaign.owner_unit.path):
        raise ValidationError(_("The subtree must lie inside the organising unit's."))
    if rule is None:
        order = (campaign.rules.order_by("-order").values_list("order", flat=True).first()
                 or 0) + 1
        rule = EligibilityRule(campaign=campaign, order=order)
    rule.name, rule.full_time = name, full_time
    rule.min_members, rule.max_members, rule.subtree = min_members, max_members, subtree
    rule.save()
    rule.position_types.set(position_types or [])
    rule.unit_levels.set(unit_levels or [])
    record("campaigns.rule.save", rule, actor=actor, unit_path=campaign.owner_unit.path)
    return rule


@transaction.atomic
def delete_rule(*, rule: EligibilityRule, actor: Any) -> None:
    _require(actor, rule.campaign.owner_unit)
    record("campaigns.rule.delete", rule, actor=actor, unit_path=rule.campaign.owner_unit.path)
    rule.delete()


COMMITTEE_TYPES = ["chu_tich", "pho_chu_tich", "uv_doan_chu_tich", "uv_ban_thuong_vu", "uv_bch",
                   "chu_nhiem_ubkt", "pho_chu_nhiem_ubkt", "uv_ubkt"]
UPPER_LEVELS = ["confederation", "province", "central_sector", "corporation", "district",
                "commune", "local_sector", "industrial_zone", "upper_grassroots"]


@transaction.atomic
def add_preset_rules(*, campaign: Campaign, actor: Any) -> list[EligibilityRule]:
    """The three rules of the 2018 conference (đối tượng tham gia of the seed article)."""
    types = {t.code: t for t in PositionType.objects.all()}
    levels = {lv.code: lv for lv in UnitLevel.objects.all()}
    return [
        save_rule(
            campaign=campaign, actor=actor,
            name="Ủy viên BCH, UBKT cấp Tổng Liên đoàn, tỉnh, ngành Trung ương, tổng công ty, "
                 "cấp huyện và tương đương",
            position_types=[types[c] for c in COMMITTEE_TYPES if c in types],
            unit_levels=[levels[c] for c in UPPER_LEVELS if c in levels],
        ),
        save_rule(
            campaign=campaign, actor=actor,
            name="Cán bộ công đoàn chuyên trách từ cơ sở trở lên",
            full_time=True,
            unit_levels=[levels[c] for c in [*UPPER_LEVELS, "grassroots"] if c in levels],
        ),
        save_rule(
            campaign=campaign, actor=actor,
            name="Chủ tịch công đoàn cơ sở có từ 2.000 đoàn viên trở lên",
            position_types=[types["chu_tich"]], unit_levels=[levels["grassroots"]],
            min_members=2000,
        ),
    ]


# ---------------------------------------------------------------- evaluation


def _m2m(field_name: str) -> tuple[str, str, str]:
    through = EligibilityRule._meta.get_field(field_name).remote_field.through
    fields = [f.column for f in through._meta.local_fields if f.column != "id"]
    rule_col = next(c for c in fields if c.startswith("eligibilityrule"))
    other = next(c for c in fields if c != rule_col)
    return through._meta.db_table, rule_col, other


def _evaluate(campaign: Campaign, on: dt.date) -> None:
    """Fill the temporary table qt_elig(person_id, rule_id, position_id, rank)."""
    vendor = connection.vendor
    owner_cond, params = tree.subtree_sql("u.path", [campaign.owner_unit.path], vendor)
    types_table, types_rule, types_col = _m2m("position_types")
    levels_table, levels_rule, levels_col = _m2m("unit_levels")
    sql = f"""
        INSERT INTO qt_elig (person_id, rule_id, position_id, unit_rank)
        SELECT pos.person_id, r.id, pos.id, lv.rank
        FROM org_position pos
        JOIN org_unit u ON u.id = pos.unit_id
        JOIN org_unitlevel lv ON lv.id = u.level_id
        JOIN campaigns_eligibilityrule r ON r.campaign_id = %s
        LEFT JOIN org_unit su ON su.id = r.subtree_id
        WHERE {owner_cond}
          AND (pos.start_date IS NULL OR pos.start_date <= %s)
          AND (pos.end_date IS NULL OR pos.end_date >= %s)
          AND (u.valid_to IS NULL OR u.valid_to >= %s)
          AND (r.full_time IS NULL OR r.full_time = pos.full_time)
          AND (r.min_members IS NULL OR u.member_count >= r.min_members)
          AND (r.max_members IS NULL OR u.member_count <= r.max_members)
          AND (su.id IS NULL OR substr(u.path, 1, length(su.path)) = su.path)
          AND (NOT EXISTS (SELECT 1 FROM {types_table} t WHERE t.{types_rule} = r.id)
               OR EXISTS (SELECT 1 FROM {types_table} t WHERE t.{types_rule} = r.id
                          AND t.{types_col} = pos.type_id))
          AND (NOT EXISTS (SELECT 1 FROM {levels_table} l WHERE l.{levels_rule} = r.id)
               OR EXISTS (SELECT 1 FROM {levels_table} l WHERE l.{levels_rule} = r.id
                          AND l.{levels_col} = u.level_id))
    """  # noqa: S608 - table names come from the models, values are parameters
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS qt_elig")
        cur.execute("CREATE TEMPORARY TABLE qt_elig (person_id BIGINT, rule_id BIGINT, "
                    "position_id BIGINT, unit_rank INTEGER)")
        cur.execute(sql, [campaign.pk, *params, on, on, on])
        cur.execute("CREATE INDEX qt_elig_person ON qt_elig (person_id)")


def _drop() -> None:
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS qt_elig")


@dataclass
class RosterDiff:
    eligible: int = 0
    added: int = 0
    reactivated: int = 0
    removed: int = 0
    kept_manual: int = 0
    added_sample: list[tuple[int, str, str]] = field(default_factory=list)
    removed_sample: list[tuple[int, str, str]] = field(default_factory=list)
    by_rule: list[tuple[str, int]] = field(default_factory=list)


def _diff(campaign: Campaign, sample: int) -> RosterDiff:
    d = RosterDiff()
    c = campaign.pk
    with connection.cursor() as cur:
        cur.execute("SELECT count(DISTINCT person_id) FROM qt_elig")
        d.eligible = cur.fetchone()[0]
        new_sql = ("FROM (SELECT DISTINCT person_id FROM qt_elig) e WHERE NOT EXISTS (SELECT 1 "
                   "FROM campaigns_participant p WHERE p.campaign_id = %s AND "
                   "p.person_id = e.person_id)")
        cur.execute("SELECT count(*) " + new_sql, [c])
        d.added = cur.fetchone()[0]
        back_sql = ("FROM campaigns_participant p WHERE p.campaign_id = %s AND NOT p.active "
                    "AND NOT p.pinned AND EXISTS (SELECT 1 FROM qt_elig e "
                    "WHERE e.person_id = p.person_id)")
        cur.execute("SELECT count(*) " + back_sql, [c])
        d.reactivated = cur.fetchone()[0]
        gone_sql = ("FROM campaigns_participant p WHERE p.campaign_id = %s AND p.active "
                    "AND p.source = 'rule' AND NOT p.pinned AND NOT EXISTS (SELECT 1 FROM "
                    "qt_elig e WHERE e.person_id = p.person_id)")
        cur.execute("SELECT count(*) " + gone_sql, [c])
        d.removed = cur.fetchone()[0]
        cur.execute("SELECT e.person_id " + new_sql + " ORDER BY e.person_id LIMIT %s",
                    [c, sample])
        added_ids = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT p.person_id " + gone_sql + " ORDER BY p.person_id LIMIT %s",
                    [c, sample])
        removed_ids = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT r.name, count(DISTINCT e.person_id) FROM qt_elig e JOIN "
                    "campaigns_eligibilityrule r ON r.id = e.rule_id GROUP BY r.id, r.name, "
                    "r.\"order\" ORDER BY r.\"order\"")
        d.by_rule = list(cur.fetchall())
    d.kept_manual = campaign.participants.filter(pinned=True).count()
    people = Person.objects.in_bulk(added_ids + removed_ids)
    d.added_sample = [(i, people[i].full_name, people[i].unit.name) for i in added_ids
                      if i in people]
    d.removed_sample = [(i, people[i].full_name, people[i].unit.name) for i in removed_ids
                        if i in people]
    return d


def preview_roster(*, campaign: Campaign, on: dt.date | None = None,
                   sample: int = 100) -> RosterDiff:
    """What applying the rules now would change; writes nothing."""
    with transaction.atomic():
        _evaluate(campaign, on or timezone.localdate())
        try:
            return _diff(campaign, sample)
        finally:
            _drop()


@transaction.atomic
def apply_roster(*, campaign: Campaign, actor: Any, on: dt.date | None = None) -> RosterDiff:
    """Freeze the roster: add the newly eligible, remove those no longer eligible (with the
    reason), keep manual decisions, record the matched rules and route every report."""
    _require(actor, campaign.owner_unit)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _evaluate(campaign, on or timezone.localdate())
    try:
        diff = _diff(campaign, 20)
        c = campaign.pk
        now = timezone.now()
        through = Participant.rules.through._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO campaigns_participant (campaign_id, person_id, unit_id, sort_key, "
                "source, active, reason, pinned, created_at, updated_at) "
                "SELECT %s, per.id, per.unit_id, per.sort_key, 'rule', %s, '', %s, %s, %s "
                "FROM (SELECT DISTINCT person_id FROM qt_elig) e "
                "JOIN org_person per ON per.id = e.person_id "
                "WHERE NOT EXISTS (SELECT 1 FROM campaigns_participant p "
                "WHERE p.campaign_id = %s AND p.person_id = e.person_id)",
                [c, True, False, now, now, c],
            )
            cur.execute(
                "UPDATE campaigns_participant SET active = %s, reason = '', updated_at = %s "
                "WHERE campaign_id = %s AND NOT active AND NOT pinned AND EXISTS "
                "(SELECT 1 FROM qt_elig e WHERE e.person_id = campaigns_participant.person_id)",
                [True, now, c],
            )
            cur.execute(
                "UPDATE campaigns_participant SET active = %s, reason = %s, updated_at = %s "
                "WHERE campaign_id = %s AND active AND source = 'rule' AND NOT pinned AND "
                "NOT EXISTS (SELECT 1 FROM qt_elig e "
                "WHERE e.person_id = campaigns_participant.person_id)",
                [False, REASON_NO_LONGER, now, c],
            )
            cur.execute(
                f"DELETE FROM {through} WHERE participant_id IN "  # noqa: S608
                f"(SELECT id FROM campaigns_participant WHERE campaign_id = %s)", [c])
            cur.execute(
                f"INSERT INTO {through} (participant_id, eligibilityrule_id) "  # noqa: S608
                f"SELECT DISTINCT p.id, e.rule_id FROM qt_elig e JOIN campaigns_participant p "
                f"ON p.campaign_id = %s AND p.person_id = e.person_id", [c])
        _route(campaign)
    finally:
        _drop()
    counters.recount(campaign.pk)
    campaign.roster_evaluated_at = timezone.now()
    campaign.save(update_fields=["roster_evaluated_at", "updated_at"])
    record("campaigns.roster.apply", campaign, actor=actor, unit_path=campaign.owner_unit.path,
           added=diff.added, reactivated=diff.reactivated, removed=diff.removed,
           eligible=diff.eligible)
    return diff


# ---------------------------------------------------------------- routing


def _route(campaign: Campaign, participant_ids: list[int] | None = None) -> None:
    """Set each participant's managing unit: the matched position's managing unit if the
    roster gives one, else the campaign's routing rule for the level of the unit where
    that position is held (default: its parent). The position used is the matched one at
    the highest level; a participant added by hand is routed from their own unit."""
    routing = {r.level_id: r for r in campaign.routing_rules.all()}
    units: dict[int, tuple[str, int]] = dict(
        (pk, (path, level)) for pk, path, level in
        Unit.objects.values_list("pk", "path", "level_id").iterator(chunk_size=20_000)
    )
    best: dict[int, tuple[int, int, int | None]] = {}  # person -> (rank, unit, managing)
    with connection.cursor() as cur:
        cur.execute("SELECT e.person_id, e.unit_rank, pos.unit_id, pos.managing_unit_id "
                    "FROM qt_elig e JOIN org_position pos ON pos.id = e.position_id")
        for person_id, rank, unit_id, managing in cur.fetchall():
            current = best.get(person_id)
            if current is None or rank < current[0]:
                best[person_id] = (rank, unit_id, managing)

    def managing_for(unit_id: int, explicit: int | None) -> int:
        if explicit:
            return explicit
        path, level = units[unit_id]
        ancestors = tree.ancestor_ids(path)
        rule = routing.get(level)
        if rule is None or rule.target == "parent":
            return ancestors[-1] if ancestors else unit_id
        if rule.target == "self":
            return unit_id
        for anc in reversed(ancestors):
            if units[anc][1] == rule.ancestor_level_id:
                return anc
        return ancestors[-1] if ancestors else unit_id

    qs = campaign.participants.filter(active=True)
    if participant_ids is not None:
        qs = qs.filter(pk__in=participant_ids)
    rows = []
    for pk, person_id, unit_id in qs.values_list("pk", "person_id", "unit_id").iterator(
        chunk_size=20_000
    ):
        chosen = best.get(person_id)
        target = managing_for(chosen[1], chosen[2]) if chosen else managing_for(unit_id, None)
        rows.append((pk, target))
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS qt_route")
        cur.execute("CREATE TEMPORARY TABLE qt_route (participant_id BIGINT, unit_id BIGINT)")
        for i in range(0, len(rows), 5000):
            cur.executemany("INSERT INTO qt_route VALUES (%s, %s)", rows[i:i + 5000])
        cur.execute("CREATE INDEX qt_route_participant ON qt_route (participant_id)")
        cur.execute("UPDATE campaigns_participant SET managing_unit_id = r.unit_id "
                    "FROM qt_route r WHERE r.participant_id = campaigns_participant.id "
                    "AND campaigns_participant.managing_unit_id IS DISTINCT FROM r.unit_id")
        cur.execute("DROP TABLE qt_route")


@transaction.atomic
def set_routing(*, campaign: Campaign, level: UnitLevel, target: str, actor: Any,
                ancestor_level: UnitLevel | None = None) -> RoutingRule:
    _require(actor, campaign.owner_unit)
    if target == RoutingRule.Target.ANCESTOR and (
        ancestor_level is None or ancestor_level.rank >= level.rank
    ):
        raise ValidationError(_("Choose an ancestor level above the level of the unit."))
    rule, _created = RoutingRule.objects.update_or_create(
        campaign=campaign, level=level,
        defaults={"target": target,
                  "ancestor_level": ancestor_level if target == "ancestor" else None},
    )
    record("campaigns.routing", rule, actor=actor, unit_path=campaign.owner_unit.path)
    return rule


def reroute(*, campaign: Campaign, actor: Any) -> None:
    """Recompute every managing unit after the routing rules changed."""
    _require(actor, campaign.owner_unit)
    with transaction.atomic():
        _evaluate(campaign, timezone.localdate())
        try:
            _route(campaign)
        finally:
            _drop()


def routing_preview(campaign: Campaign) -> list[tuple[Unit, int]]:
    """How many reports each managing unit will receive."""
    counts = (campaign.participants.filter(active=True).values("managing_unit")
              .annotate(n=Count("id")).order_by("-n"))
    units = Unit.objects.in_bulk([c["managing_unit"] for c in counts if c["managing_unit"]])
    return [(units[c["managing_unit"]], c["n"]) for c in counts if c["managing_unit"] in units]


# ---------------------------------------------------------------- manual changes


def _check_person(campaign: Campaign, person: Person) -> None:
    if not person.unit.path.startswith(campaign.owner_unit.path):
        raise ValidationError(_("“%(person)s” is not in the organising unit's subtree.")
                              % {"person": person.full_name})


def _can_edit_roster(actor: Any, campaign: Campaign, unit: Unit) -> None:
    """Organisers of the campaign, or unit administrators of the person's unit."""
    if not (can(actor, "change", campaign.owner_unit) or can(actor, "change", unit)):
        raise ValidationError(_("You cannot change the roster for “%(unit)s”.")
                              % {"unit": unit.name})


@transaction.atomic
def add_participant(*, campaign: Campaign, person: Person, reason: str, actor: Any,
                    substitute_for: Participant | None = None) -> Participant:
    _check_person(campaign, person)
    _can_edit_roster(actor, campaign, person.unit)
    if not reason.strip():
        raise ValidationError(_("Give the reason."))
    source = Participant.Source.SUBSTITUTE if substitute_for else Participant.Source.MANUAL
    participant, created = Participant.objects.get_or_create(
        campaign=campaign, person=person,
        defaults={"unit": person.unit, "sort_key": person.sort_key, "source": source,
                  "reason": reason, "pinned": True, "changed_by": _user(actor),
                  "substitute_for": substitute_for},
    )
    if not created:
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        if participant.active:
            raise ValidationError(_("“%(person)s” is already on the roster.")
                                  % {"person": person.full_name})
        participant.active, participant.pinned, participant.reason = True, True, reason
        participant.source = source
        participant.substitute_for = substitute_for
        participant.changed_by = _user(actor)
        participant.save()
    counters.ensure_rows(campaign.pk, [participant.unit_id])
    counters.bump(campaign.pk, participant.unit_id, **counters.state_of(participant.pk))
    with transaction.atomic():
        _evaluate(campaign, timezone.localdate())
        try:
            _route(campaign, [participant.pk])
        finally:
            _drop()
    record("campaigns.participant.add", participant, actor=actor, unit_path=person.unit.path,
           reason=reason)
    return participant


@transaction.atomic
def remove_participant(*, participant: Participant, reason: str, actor: Any) -> Participant:
    _can_edit_roster(actor, participant.campaign, participant.unit)
    if not reason.strip():
        raise ValidationError(_("Give the reason."))
    was_active = (Participant.objects.select_for_update().filter(pk=participant.pk)
                  .values_list("active", flat=True).get())
    if was_active:
        counters.bump(participant.campaign_id, participant.unit_id,
                      **counters.negate(counters.state_of(participant.pk)))
    participant.active, participant.pinned, participant.reason = False, True, reason
    participant.changed_by = _user(actor)
    participant.save(update_fields=["active", "pinned", "reason", "changed_by", "updated_at"])
    record("campaigns.participant.remove", participant, actor=actor,
           unit_path=participant.unit.path, reason=reason)
    return participant


@transaction.atomic
def substitute(*, participant: Participant, person: Person, reason: str,
               actor: Any) -> Participant:
    """Someone attends in another's place (người dự thay)."""
    remove_participant(participant=participant, actor=actor,
                       reason=_("replaced by %(person)s: %(reason)s")
                       % {"person": person.full_name, "reason": reason})
    return add_participant(campaign=participant.campaign, person=person, reason=reason,
                           actor=actor, substitute_for=participant)

