"""The one place where progress counters change.

A row of :class:`~quantriet.progress.models.UnitProgress` holds the counters of one
campaign for the **subtree** of one unit: every active participant whose unit
(``Participant.unit``, frozen with the roster) is that unit or lies below it. The top of
the organisation is the exception: its row counts only the participants whose unit is the
top itself, since a row changed by every event in the country would make every event wait
for the others; the top's figures are the sum of its children's rows and its own. A
page therefore reads the row of its unit and the rows of its children, whatever the size of
the subtree. What each participant adds is a function of their state, :func:`vector`:

=============  ==================================================================
invited        on the roster (``Participant.active``)
attended       attendance ``present`` (a substitute's check-in included)
excused        attendance ``excused`` (absent with leave)
absent         attendance ``absent`` (recorded when the point is locked)
substitutes    someone attended in their place (``Attendance.substitute``)
submitted      the report has been submitted (status submitted, returned or graded)
returned       the report is back with its author for revision
late           the report's current submission was late (``Report.late``)
graded         the report is graded
grade_N        graded with the grade at place N of the scale (``GradeLevel.order``)
flagged        the report has a copy flag that is not dismissed
=============  ==================================================================

The services call :func:`bump` (or :func:`bump_participant` when the participant may
have left the roster) in the same transaction as the event, with the change of that
vector; each call reads the unit's path (the ancestors' ids are in it) unless the caller
has it, then runs **one** ``UPDATE`` of the rows of the unit and of its ancestors below
the top, with increments computed by the database (``SET x = x + 1``), so concurrent
events never lose an update. The rows are locked in the
order of their unit ids, by every writer, so two events never wait for each other in a
circle. Bulk changes (the roster applied by the rules, a point locked, a unit moved in the
tree) call :func:`bump_many` -- one statement for all the rows concerned -- or
:func:`recount`. :func:`expected` recomputes every row from scratch
(``quantriet progress-verify``).

Rows exist for every unit that has an active participant in its subtree (created by
:func:`recount`, :func:`ensure_rows` and :func:`bump_many`); a :func:`bump` that finds no
row creates them. Code that changes attendances or reports in raw SQL must change these
rows in the same statement or transaction, for example with :data:`CHECK_IN_SQL` as a
data-modifying ``WITH`` clause, or the counters drift (and ``progress-verify`` says where).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection

from quantriet.org import tree
from quantriet.progress.models import COUNTERS, GRADE_SLOTS, UnitProgress

TABLE = UnitProgress._meta.db_table
_KNOWN = frozenset(COUNTERS)
_MAX_PATH = 120  # org.Unit.path

SUBMITTED_STATUSES = ("submitted", "returned", "graded")
ATTENDANCE_COUNTERS = {"present": "attended", "excused": "excused", "absent": "absent"}


def _ancestry(unit: str, ancestor: str) -> str:
    """PostgreSQL condition: ``ancestor`` (an org_unit alias) is the unit ``unit`` (an
    alias) or one of its ancestors below the top -- the rows an event at ``unit``
    changes. (One array, not an ``IN`` list: half the planning time.)"""
    prefixes = ", ".join(f"substr({unit}.path, 1, {n})"
                         for n in range(2 * tree.SEGMENT, _MAX_PATH + 1, tree.SEGMENT))
    return (f"{ancestor}.path = ANY(ARRAY[{unit}.path, {prefixes}]::text[]) "
            f"AND ({ancestor}.id = {unit}.id OR {ancestor}.parent_id IS NOT NULL)")


def _clause(source: str, sets: str) -> str:
    """A ``progress`` ``WITH`` clause that applies ``sets`` to the rows of the unit of the
    participant returned by the clause ``source`` (one row at most, read as ``d`` by
    ``sets``) and of its ancestors below the top, locked in the order of their unit ids as
    every writer does. The rows are found by a subquery that does not refer to the outer
    row, so PostgreSQL runs it once and reaches the rows by their ids (referring to ``d``
    inside made it re-run the subquery for every row of the table)."""
    return f"""
progress AS (
    UPDATE {TABLE} up
       SET {sets}
      FROM {source} d
     WHERE up.id IN (
           SELECT r.id FROM {source} s
             JOIN campaigns_participant p ON p.id = s.participant_id AND p.active
             JOIN org_unit u ON u.id = p.unit_id
             JOIN {TABLE} r ON r.campaign_id = p.campaign_id
             JOIN org_unit a ON {_ancestry("u", "a")}
            WHERE r.unit_id = a.id
            ORDER BY r.unit_id FOR UPDATE OF r)
)"""  # noqa: S608 - the table name comes from the model


CHECK_IN_SQL = _clause("done", """attended = up.attended + 1,
           excused = up.excused - (CASE WHEN d.old_status = 'excused' THEN 1 ELSE 0 END),
           absent = up.absent - (CASE WHEN d.old_status = 'absent' THEN 1 ELSE 0 END)""")
"""A ``WITH`` clause for a raw check-in statement whose ``done`` clause returns the
``participant_id`` and ``old_status`` of the attendance it marked present."""

SUBMIT_SQL = _clause("saved", """submitted = up.submitted + 1,
           late = up.late + (CASE WHEN d.late THEN 1 ELSE 0 END)""")
"""A ``WITH`` clause for a raw first submission whose ``saved`` clause returns the
``participant_id`` and ``late`` of the report it submitted (a draft before, or new)."""


def grade_field(order: int | None) -> str:
    return f"grade_{min(max(order or 0, 0), GRADE_SLOTS - 1)}"


def vector(*, attendance: str | None = None, substitute: bool = False,
           report: str | None = None, late: bool = False, grade_order: int | None = None,
           flagged: bool = False) -> dict[str, int]:
    """What one active participant in this state adds to the counters of their unit."""
    out = {"invited": 1}
    if attendance in ATTENDANCE_COUNTERS:
        out[ATTENDANCE_COUNTERS[attendance]] = 1
    if substitute:
        out["substitutes"] = 1
    if report in SUBMITTED_STATUSES:
        out["submitted"] = 1
        if report == "returned":
            out["returned"] = 1
        if report == "graded":
            out["graded"] = 1
            if grade_order is not None:
                out[grade_field(grade_order)] = 1
    if late:
        out["late"] = 1
    if flagged:
        out["flagged"] = 1
    return out


def difference(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """``after - before``, counter by counter, without the zeros."""
    keys = set(before) | set(after)
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys
            if after.get(k, 0) != before.get(k, 0)}


def negate(values: Mapping[str, int]) -> dict[str, int]:
    return {k: -v for k, v in values.items()}


def _clean(deltas: Mapping[str, int]) -> dict[str, int]:
    unknown = set(deltas) - _KNOWN
    if unknown:
        raise ValueError(f"unknown progress counters: {sorted(unknown)}")
    return {k: int(v) for k, v in deltas.items() if v}


def targets(path: str, unit_id: int) -> list[int]:
    """The units whose rows an event at the unit (``path``, ``unit_id``) changes: the unit
    and its ancestors below the top."""
    return [unit_id, *(tree.decode(p[-tree.SEGMENT:]) for p in tree.ancestor_paths(path)
                       if len(p) > tree.SEGMENT)]


def _paths(unit_ids: Iterable[int]) -> dict[int, str]:
    from quantriet.org.models import Unit

    return dict(Unit.objects.filter(pk__in=list(unit_ids)).values_list("pk", "path"))


def spread(changes: Mapping[int, Mapping[str, int]]) -> dict[int, dict[str, int]]:
    """Changes at units (unit id → deltas) as changes of the rows they move."""
    out: dict[int, dict[str, int]] = {}
    paths = _paths(changes)
    for unit_id, deltas in changes.items():
        for target in targets(paths[unit_id], unit_id):
            row = out.setdefault(target, {})
            for k, v in deltas.items():
                row[k] = row.get(k, 0) + v
    return out


def _upsert(campaign_id: int, rows: Mapping[int, Mapping[str, int]],
            add: bool = True) -> None:
    """``INSERT … ON CONFLICT``: add the deltas to the rows (``add``), or only create the
    missing rows; the units in ascending order, as every writer locks them."""
    fields = sorted({k for d in rows.values() for k in d}) or ["invited"]
    units = sorted(rows)
    conflict = ("DO UPDATE SET " + ", ".join(f"{f} = {TABLE}.{f} + excluded.{f}"
                                             for f in fields)) if add else "DO NOTHING"
    one = "(" + ", ".join(["%s"] * (2 + len(fields))) + ")"
    with connection.cursor() as cur:
        for start in range(0, len(units), 500):  # below SQLite's limit on parameters
            part = units[start:start + 500]
            params: list[Any] = []
            for unit_id in part:
                params += [campaign_id, unit_id, *(rows[unit_id].get(f, 0) for f in fields)]
            cur.execute(f"INSERT INTO {TABLE} (campaign_id, unit_id, {', '.join(fields)}) "  # noqa: S608
                        f"VALUES {', '.join([one] * len(part))} "
                        f"ON CONFLICT (campaign_id, unit_id) {conflict}", params)


def ensure_rows(campaign_id: int, unit_ids: Iterable[int]) -> None:
    """Create the (empty) rows an event at these units will change, if missing."""
    _upsert(campaign_id, {t: {} for t in spread({u: {} for u in unit_ids})}, add=False)


def _update(campaign_id: int, unit_ids: list[int], deltas: Mapping[str, int]) -> set[int]:
    """One ``UPDATE`` of the campaign's rows of these units, locked in the order of their
    unit ids where the database locks rows; the unit ids of the rows it found."""
    sets = ", ".join(f"{f} = {f} + %s" for f in deltas)
    lock = " ORDER BY r.unit_id FOR UPDATE" if connection.features.has_select_for_update \
        else ""
    marks = ", ".join(["%s"] * len(unit_ids))
    sql = (f"UPDATE {TABLE} SET {sets} WHERE id IN "  # noqa: S608 - fixed names
           f"(SELECT r.id FROM {TABLE} r WHERE r.campaign_id = %s AND r.unit_id IN ({marks})"
           f"{lock}) RETURNING unit_id")
    with connection.cursor() as cur:
        cur.execute(sql, [*deltas.values(), campaign_id, *unit_ids])
        return {row[0] for row in cur.fetchall()}


def _apply(campaign_id: int, unit_id: int, path: str, deltas: dict[str, int]) -> None:
    ids = sorted(targets(path, unit_id))
    found = _update(campaign_id, ids, deltas)
    if len(found) < len(ids):  # the first participant below a unit: its row is created
        _upsert(campaign_id, {u: deltas for u in ids if u not in found})


def cached_path(participant: Any) -> str | None:
    """The path of a participant's unit if it is already loaded (saves :func:`bump` a
    query), else None."""
    field = participant._meta.get_field("unit")
    return participant.unit.path if field.is_cached(participant) else None


def bump(campaign_id: int, unit_id: int, *, path: str | None = None, **deltas: int) -> None:
    """Add ``deltas`` (counter name → change) to the rows of a unit and of its ancestors
    below the top: one ``UPDATE`` (and the unit's path read first, unless given);
    missing rows are created."""
    deltas = _clean(deltas)
    if not deltas:
        return
    if path is None:
        with connection.cursor() as cur:
            cur.execute("SELECT path FROM org_unit WHERE id = %s", [unit_id])
            path = cur.fetchone()[0]
    _apply(campaign_id, unit_id, path, deltas)


def bump_participant(participant_id: int, **deltas: int) -> None:
    """Like :func:`bump`, for the unit of a participant -- and nothing at all when the
    participant is no longer on the roster (read with the unit's path first)."""
    deltas = _clean(deltas)
    if not deltas:
        return
    with connection.cursor() as cur:
        cur.execute("SELECT p.campaign_id, p.unit_id, u.path FROM campaigns_participant p "
                    "JOIN org_unit u ON u.id = p.unit_id WHERE p.id = %s AND p.active",
                    [participant_id])
        found = cur.fetchone()
    if found:
        _apply(found[0], found[1], found[2], deltas)


def bump_many(campaign_id: int, changes: Mapping[int, Mapping[str, int]]) -> None:
    """Changes at several units (unit id → deltas), spread to their ancestors: one
    ``INSERT … ON CONFLICT DO UPDATE`` (in rows of 500 units on SQLite)."""
    cleaned = {unit_id: _clean(d) for unit_id, d in changes.items()}
    cleaned = {unit_id: d for unit_id, d in cleaned.items() if d}
    if cleaned:
        _upsert(campaign_id, spread(cleaned))


def unit_moved(unit_id: int, old_path: str, new_path: str) -> None:
    """A unit and its subtree moved in the tree (``org.services``): the rows of its old
    ancestors lose its figures in every campaign, those of the new ones gain them."""
    old = set(targets(old_path, unit_id)) - {unit_id}
    new = set(targets(new_path, unit_id)) - {unit_id}
    if old == new:
        return
    for row in UnitProgress.objects.filter(unit_id=unit_id).values("campaign_id", *COUNTERS):
        campaign_id = row.pop("campaign_id")
        values = {k: v for k, v in row.items() if v}
        if not values:
            continue
        changes = {u: negate(values) for u in old - new}
        changes.update({u: dict(values) for u in new - old})
        _upsert(campaign_id, changes)


# ---------------------------------------------------------------- state of a participant

_STATE_SQL = """
SELECT a.status, a.substitute_id, r.status, r.late, g."order",
       CASE WHEN r.id IS NOT NULL AND EXISTS (
           SELECT 1 FROM similarity_flag f WHERE f.report_id = r.id
              AND f.status <> 'dismissed') THEN 1 ELSE 0 END
  FROM campaigns_participant p
  LEFT JOIN conference_attendance a ON a.participant_id = p.id
  LEFT JOIN reports_report r ON r.participant_id = p.id
  LEFT JOIN reports_gradelevel g ON g.id = r.grade_id
 WHERE p.id = %s
"""


def state_of(participant_id: int) -> dict[str, int]:
    """What the participant adds to their unit's counters while on the roster."""
    with connection.cursor() as cur:
        cur.execute(_STATE_SQL, [participant_id])
        row = cur.fetchone()
    if row is None:
        return {}
    att, sub, rep, late, order, flagged = row
    return vector(attendance=att, substitute=sub is not None, report=rep, late=bool(late),
                  grade_order=order, flagged=bool(flagged))


# ---------------------------------------------------------------- from scratch


def _expected_sql() -> str:
    cases = [
        "COUNT(*)",
        "SUM(CASE WHEN a.status = 'present' THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN a.status = 'excused' THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN a.status = 'absent' THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN a.substitute_id IS NOT NULL THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN r.status IN ('submitted', 'returned', 'graded') THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN r.status = 'returned' THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN r.late THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN r.status = 'graded' THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN r.id IS NOT NULL AND EXISTS (SELECT 1 FROM similarity_flag f "
        "WHERE f.report_id = r.id AND f.status <> 'dismissed') THEN 1 ELSE 0 END)",
    ]
    last = GRADE_SLOTS - 1
    for i in range(GRADE_SLOTS):
        test = f'g."order" >= {i}' if i == last else f'g."order" = {i}'
        if i == 0:
            test = 'g."order" <= 0'
        cases.append(f"SUM(CASE WHEN r.status = 'graded' AND {test} THEN 1 ELSE 0 END)")
    return (
        "SELECT p.unit_id, " + ", ".join(cases) + " "
        "FROM campaigns_participant p "
        "LEFT JOIN conference_attendance a ON a.participant_id = p.id "
        "LEFT JOIN reports_report r ON r.participant_id = p.id "
        "LEFT JOIN reports_gradelevel g ON g.id = r.grade_id "
        "WHERE p.campaign_id = %s AND p.active GROUP BY p.unit_id"
    )


def expected(campaign_id: int) -> dict[int, dict[str, int]]:
    """Every row recomputed from the participants, attendances, reports and flags: one
    ``GROUP BY`` by unit, then each unit's figures added to its ancestors below the top."""
    direct: dict[int, dict[str, int]] = {}
    with connection.cursor() as cur:
        cur.execute(_expected_sql(), [campaign_id])
        for unit_id, *values in cur.fetchall():
            direct[unit_id] = {k: int(v or 0) for k, v in zip(COUNTERS, values, strict=True)}
    out: dict[int, dict[str, int]] = {}
    for target, deltas in spread(direct).items():
        out[target] = {k: deltas.get(k, 0) for k in COUNTERS}
    return out


def stored(campaign_id: int) -> dict[int, dict[str, int]]:
    rows = UnitProgress.objects.filter(campaign_id=campaign_id).values_list("unit_id",
                                                                           *COUNTERS)
    return {unit_id: dict(zip(COUNTERS, values, strict=True)) for unit_id, *values in rows}


def differences(campaign_id: int) -> list[tuple[int, str, int, int]]:
    """(unit id, counter, stored, expected) for every counter that is wrong."""
    want, have = expected(campaign_id), stored(campaign_id)
    zero = dict.fromkeys(COUNTERS, 0)
    out = []
    for unit_id in sorted(set(want) | set(have)):
        w, h = want.get(unit_id, zero), have.get(unit_id, zero)
        out += [(unit_id, k, h[k], w[k]) for k in COUNTERS if h[k] != w[k]]
    return out


def recount(campaign_id: int) -> int:
    """Write the recomputed counters (after bulk changes); returns how many rows changed.
    Call it in a transaction that holds the changes it follows."""
    want, have = expected(campaign_id), stored(campaign_id)
    zero = dict.fromkeys(COUNTERS, 0)
    create: list[UnitProgress] = []
    changed = 0
    for unit_id in set(want) | set(have):
        w = want.get(unit_id, zero)
        if unit_id not in have:
            create.append(UnitProgress(campaign_id=campaign_id, unit_id=unit_id, **w))
        elif have[unit_id] != w:
            UnitProgress.objects.filter(campaign_id=campaign_id, unit_id=unit_id).update(**w)
            changed += 1
    UnitProgress.objects.bulk_create(create, batch_size=2000)
    return changed + len(create)
