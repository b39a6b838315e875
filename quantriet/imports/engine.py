"""The roster import: validate every row of the three tables, then write everything or
nothing.

One run happens inside one database transaction. Units are few (≤ 130,000) and are
handled in Python; members and positions are streamed into a temporary staging table
(COPY on PostgreSQL) and checked, classified and written with set-based SQL, so memory
stays flat with the size of the file. A dry run does all of it and rolls back, so the
preview counts are exactly what the real run will do.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from quantriet.core.audit import record
from quantriet.core.audit import user_or_none as _user
from quantriet.imports import bulk, parallel, quick
from quantriet.imports import values as V
from quantriet.imports.readers import Misaligned, Span
from quantriet.org import services as org_services
from quantriet.org import tree
from quantriet.org.models import Person, PositionType, Unit, UnitEvent, UnitLevel
from quantriet.org.validators import clean_national_id
from quantriet.text import fold, nfc, sort_key, split_full_name

log = logging.getLogger(__name__)

TABLE_ORDER = ("units", "members", "positions")
MAX_ISSUES = 50_000
BATCH = 5_000

Progress = Callable[[str, int], None]


class Rollback(Exception):
    """Raised inside the transaction to undo a dry run or an invalid import."""


class _GiveUp(parallel.Stop):
    """Raised inside a savepoint to leave a faster path for the general one."""


@dataclass
class Issue:
    table: str
    row: int
    column: str
    message: Any
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, language: str | None = None) -> str:
        with translation.override(language or translation.get_language() or "vi"):
            msg = str(self.message)
        try:
            return msg % self.params if self.params else msg
        except (KeyError, TypeError, ValueError):
            return msg


@dataclass
class TableResult:
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    restructured: int = 0
    errors: int = 0


@dataclass
class ImportResult:
    tables: dict[str, TableResult] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    issue_count: int = 0
    applied: bool = False

    @property
    def ok(self) -> bool:
        return self.issue_count == 0

    def summary(self) -> dict[str, dict[str, int]]:
        return {name: vars(t).copy() for name, t in self.tables.items()}


class RosterImport:
    """One import of a workbook by one account (``scope``: root paths, None = all)."""

    def __init__(
        self,
        workbook: Any,
        *,
        actor: Any = None,
        scope: list[str] | None = None,
        progress: Progress | None = None,
        today: dt.date | None = None,
    ) -> None:
        self.workbook = workbook
        self.actor = actor
        self.scope = scope
        self.progress = progress or (lambda phase, done: None)
        self.today = today or dt.date.today()
        self.result = ImportResult()
        self.vendor = connection.vendor
        self.levels = {}
        for lv in UnitLevel.objects.all():
            for key in (lv.code, lv.name, lv.name_en):
                if key:
                    self.levels[fold(key)] = lv
        self.position_types = {}
        for pt in PositionType.objects.all():
            for key in (pt.code, pt.name, pt.name_en):
                if key:
                    self.position_types[fold(key)] = pt
        self.bad_units: set[str] = set()  # codes of unit rows that had errors

    # ------------------------------------------------------------ helpers

    def issue(self, table: str, row: int, column: str, message: Any, **params: Any) -> None:
        self.result.issue_count += 1
        self.result.tables[table].errors += 1
        if len(self.result.issues) < MAX_ISSUES:
            self.result.issues.append(Issue(table, row, column, message, params))

    def in_scope(self, path: str) -> bool:
        return self.scope is None or any(path.startswith(p) for p in self.scope)

    def cell(self, table: str, row: int, values: dict, key: str, conv: Callable, *a: Any):
        try:
            return conv(values.get(key), *a)
        except V.CellError as exc:
            self.issue(table, row, key, exc.message, **exc.params)
            raise

    # ------------------------------------------------------------ entry point

    def run(self, *, apply: bool) -> ImportResult:
        for name in TABLE_ORDER:
            self.result.tables[name] = TableResult()
        if not any(name in self.workbook.tables for name in TABLE_ORDER):
            self.result.tables["units"].errors += 1
            self.result.issue_count += 1
            self.result.issues.append(Issue("units", 0, "", _(
                "No sheet or file named units, members or positions (đơn vị, đoàn viên, "
                "chức vụ) was found."
            )))
            return self.result
        try:
            with transaction.atomic():
                self._create_staging()
                try:
                    if "units" in self.workbook.tables:
                        self.import_units(self.workbook.tables["units"])
                    if "members" in self.workbook.tables:
                        self.import_members(self.workbook.tables["members"])
                    if "positions" in self.workbook.tables:
                        self.import_positions(self.workbook.tables["positions"])
                finally:
                    self._drop_staging()
                if not apply or not self.result.ok:
                    raise Rollback
                record("imports.roster", self._audit_target(), actor=self.actor,
                       summary=self.result.summary())
                self.result.applied = True
        except Rollback:
            pass
        return self.result

    def _audit_target(self) -> Unit:
        if self.scope:
            return Unit.objects.get(path=self.scope[0])
        return Unit.objects.filter(parent__isnull=True).first() or Unit(pk=0, name="—")

    # ------------------------------------------------------------ units

    def import_units(self, table: Any) -> None:
        res = self.result.tables["units"]
        rows: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for rownum, raw in table.rows():
            res.rows += 1
            r: dict[str, Any] = {"row": rownum}
            ok = True
            for key, conv in (
                ("code", V.code), ("parent_code", V.code), ("name", V.text),
                ("province", V.text), ("member_count", V.integer), ("valid_from", V.date),
                ("merged_into", V.code), ("moved_to", V.code), ("dissolved_on", V.date),
            ):
                try:
                    r[key] = self.cell("units", rownum, raw, key, conv)
                except V.CellError:
                    ok = False
            code = r.get("code") or ""
            if not code:
                self.issue("units", rownum, "code", _("The unit code is missing."))
                ok = False
            elif code in seen:
                self.issue("units", rownum, "code",
                           _("Code “%(code)s” appears again (first on row %(first)s)."),
                           code=code, first=seen[code])
                ok = False
                code = ""
            else:
                seen[code] = rownum
            if not r.get("name"):
                self.issue("units", rownum, "name", _("The unit name is missing."))
                ok = False
            level_text = V.text(raw.get("level"))
            level = self.levels.get(fold(level_text))
            if level is None:
                self.issue("units", rownum, "level", _("Unknown level “%(value)s”."),
                           value=level_text)
                ok = False
            r["level"] = level
            if not ok and code:
                self.bad_units.add(code)
            rows.append(r)
            if res.rows % BATCH == 0:
                self.progress("units", res.rows)
        self.progress("units", res.rows)
        self._check_and_write_units(rows)

    def _check_and_write_units(self, rows: list[dict[str, Any]]) -> None:
        codes = {r["code"] for r in rows if r.get("code")}
        refs = codes | {r[k] for r in rows for k in ("parent_code", "merged_into", "moved_to")
                        if r.get(k)}
        existing: dict[str, Unit] = {}
        ref_list = list(refs)
        for i in range(0, len(ref_list), 900):
            for u in Unit.objects.filter(code__in=ref_list[i:i + 900]).select_related(
                    "level", "parent"):
                existing[u.code] = u
        file_rows = {r["code"]: r for r in rows if r.get("code")}

        def level_of(code: str) -> UnitLevel | None:
            if code in file_rows:
                return file_rows[code]["level"]
            return existing[code].level if code in existing else None

        def parent_of(code: str) -> str | None:
            if code in file_rows:
                return file_rows[code].get("parent_code") or None
            u = existing.get(code)
            return u.parent.code if u and u.parent_id else None  # type: ignore[union-attr]

        has_root = Unit.objects.filter(parent__isnull=True).exists()
        for r in rows:
            code = r.get("code")
            if not code or code in self.bad_units:
                continue
            rownum, parent_code = r["row"], r.get("parent_code")
            current = existing.get(code)
            ok = True
            if current is not None and not self.in_scope(current.path):
                self.issue("units", rownum, "code",
                           _("Unit “%(code)s” exists outside your scope."), code=code)
                ok = False
            if not parent_code:
                if current is not None and current.parent_id is not None:
                    self.issue("units", rownum, "parent_code",
                               _("The parent unit code is missing."))
                    ok = False
                elif current is None and (has_root or self.scope is not None):
                    self.issue("units", rownum, "parent_code",
                               _("The parent unit code is missing."))
                    ok = False
            elif parent_code == code:
                self.issue("units", rownum, "parent_code", _("A unit cannot be its own parent."))
                ok = False
            elif parent_code not in file_rows and parent_code not in existing:
                self.issue("units", rownum, "parent_code",
                           _("Unknown parent unit “%(code)s”."), code=parent_code)
                ok = False
            elif parent_code in self.bad_units:
                self.issue("units", rownum, "parent_code",
                           _("The parent unit “%(code)s” has errors on its own row."),
                           code=parent_code)
                ok = False
            else:
                parent_level = level_of(parent_code)
                if parent_level and r["level"] and parent_level.rank >= r["level"].rank:
                    self.issue("units", rownum, "level",
                               _("A unit of level “%(level)s” cannot sit under a unit of "
                                 "level “%(parent)s”."),
                               level=r["level"].name, parent=parent_level.name)
                    ok = False
                if parent_code in existing and parent_code not in file_rows and not \
                        self.in_scope(existing[parent_code].path):
                    self.issue("units", rownum, "parent_code",
                               _("The parent unit “%(code)s” is outside your scope."),
                               code=parent_code)
                    ok = False
            if (current is not None and parent_code in existing
                    and parent_code not in file_rows
                    and existing[parent_code].path.startswith(current.path)):
                self.issue("units", rownum, "parent_code",
                           _("“%(parent)s” lies inside “%(code)s”: that would make a cycle."),
                           parent=parent_code, code=code)
                ok = False
            # a cycle: walking up from this unit comes back to it
            seen_up, up = {code}, parent_code
            while up:
                if up in seen_up:
                    self.issue("units", rownum, "parent_code",
                               _("The parent codes form a cycle through “%(code)s”."),
                               code=code)
                    ok = False
                    break
                seen_up.add(up)
                up = parent_of(up)
            for key in ("merged_into", "moved_to"):
                target = r.get(key)
                if target and target not in existing and target not in file_rows:
                    self.issue("units", rownum, key, _("Unknown unit “%(code)s”."),
                               code=target)
                    ok = False
                elif target and target in existing and not self.in_scope(
                        existing[target].path):
                    self.issue("units", rownum, key,
                               _("Unit “%(code)s” is outside your scope."), code=target)
                    ok = False
            if not ok:
                self.bad_units.add(code)
        if self.result.issue_count:
            return
        self._write_units(rows, existing)

    def _write_units(self, rows: list[dict[str, Any]], existing: dict[str, Unit]) -> None:
        res = self.result.tables["units"]
        by_code = {r["code"]: r for r in rows}
        # parents first: order the new units by their depth in the file
        depth_cache: dict[str, int] = {}

        def depth(code: str) -> int:
            if code in depth_cache:
                return depth_cache[code]
            p = by_code[code].get("parent_code") if code in by_code else None
            d = 0 if not p or p not in by_code else depth(p) + 1
            depth_cache[code] = d
            return d

        for code in by_code:
            depth(code)
        ordered = sorted(by_code.values(), key=lambda r: depth_cache[r["code"]])
        today = self.today
        # new units get their ids first, so that each path is known before the insert
        fresh = [r for r in ordered if r["code"] not in existing]
        ids = self._allocate_unit_ids(len(fresh))
        created: list[_NewUnit] = []
        for r, pk in zip(fresh, ids, strict=True):
            parent = existing.get(r.get("parent_code") or "")
            path = (parent.path if parent else "") + tree.encode(pk)
            u = _NewUnit(
                pk=pk, code=r["code"], name=r["name"], level_id=r["level"].pk,
                parent_id=parent.pk if parent else None, path=path,
                province_code=parent.province_code if parent else "",
                province_name=r.get("province") or (parent.province_name if parent else ""),
                member_count=r.get("member_count"), valid_from=r.get("valid_from"),
            )
            existing[u.code] = u  # type: ignore[assignment]  # a parent: pk, path, province
            created.append(u)
        with bulk.indexes_rebuilt_after("org_unit", bulk.worth_it("org_unit", len(created))):
            self._insert_units(created)
        self._unit_events_created(created)
        res.new = len(created)
        created_codes = {u.code for u in created}
        # updates of existing units
        to_update: list[Unit] = []
        for r in ordered:
            if r["code"] in created_codes:
                continue
            u = existing[r["code"]]
            fields = {
                "name": r["name"], "level_id": r["level"].pk,
                "member_count": r.get("member_count"), "valid_from": r.get("valid_from"),
            }
            if r.get("province"):
                fields["province_name"] = r["province"]
            changed = {k: v for k, v in fields.items() if getattr(u, k) != v}
            # with moved_to, parent_code names the old parent: the move is done below
            moved = not r.get("moved_to") and (r.get("parent_code") or None) != (
                u.parent.code if u.parent_id else None)
            if changed:
                for k, v in changed.items():
                    setattr(u, k, v)
                u.search_name = fold(f"{u.name} {u.code}")
                to_update.append(u)
            if moved:
                parent = existing[r["parent_code"]]
                if isinstance(parent, _NewUnit):  # created above, as a row
                    parent = Unit.objects.get(pk=parent.pk)
                try:
                    org_services.move_unit(unit=u, new_parent=parent,
                                           date=r.get("valid_from") or today, actor=self.actor)
                except ValidationError as exc:
                    self.issue("units", r["row"], "parent_code", "; ".join(exc.messages))
            if changed or moved:
                res.updated += 1
            else:
                res.unchanged += 1
        if to_update:
            Unit.objects.bulk_update(to_update, ["name", "search_name", "level", "member_count",
                                                 "valid_from", "province_name"],
                                     batch_size=1000)
        # restructuring columns; ``dissolved_on`` is the effective date of each change
        for r in ordered:
            if not (r.get("moved_to") or r.get("merged_into") or r.get("dissolved_on")):
                continue
            u = Unit.objects.select_related("parent").get(code=r["code"])
            when = r.get("dissolved_on") or today
            try:
                if r.get("moved_to") and (not u.parent_id or u.parent.code != r["moved_to"]):
                    org_services.move_unit(unit=u, new_parent=Unit.objects.get(code=r["moved_to"]),
                                           date=when, actor=self.actor)
                    res.restructured += 1
                if r.get("merged_into"):
                    target = Unit.objects.get(code=r["merged_into"])
                    if u.successor_id != target.pk:
                        org_services.merge_units(sources=[u], target=target, date=when,
                                                 actor=self.actor)
                        res.restructured += 1
                elif r.get("dissolved_on") and not r.get("moved_to") and u.valid_to is None:
                    org_services.dissolve_unit(unit=u, date=when, actor=self.actor)
                    res.restructured += 1
            except ValidationError as exc:
                column = "merged_into" if r.get("merged_into") else (
                    "moved_to" if r.get("moved_to") else "dissolved_on")
                self.issue("units", r["row"], column, "; ".join(exc.messages))

    def _insert_units(self, units: list[_NewUnit]) -> None:
        """Write the new units as rows: model instances of 130,000 units cost seconds. The
        values are those ``Unit(...).save()`` would write, prepared by the fields."""
        field = Unit._meta.get_field
        day, stamp = field("valid_from").get_db_prep_save, field("created_at").get_db_prep_save
        now = stamp(timezone.now(), connection)
        bulk.copy_rows(
            Unit,
            ["id", "code", "name", "search_name", "level_id", "parent_id", "path", "depth",
             "province_code", "province_name", "member_count", "direct_members",
             "valid_from", "created_at", "updated_at"],
            ((u.pk, u.code, u.name, fold(f"{u.name} {u.code}"), u.level_id, u.parent_id,
              u.path, tree.depth_of(u.path), u.province_code, u.province_name,
              u.member_count, 0, day(u.valid_from, connection), now, now) for u in units),
        )

    def _unit_events_created(self, units: list[_NewUnit]) -> None:
        """The history's "created" event of each new unit."""
        actor = _user(self.actor)
        today = self.today
        # rows rather than model instances: 130,000 of those cost seconds; the date and
        # time values prepared by their fields, as the ORM stores them on each database
        field = UnitEvent._meta.get_field
        day, stamp = field("date").get_db_prep_save, field("created_at").get_db_prep_save
        note, actor_id = str(_("imported")), actor.pk if actor else None
        now = stamp(timezone.now(), connection)
        with bulk.indexes_rebuilt_after("org_unitevent",
                                        bulk.worth_it("org_unitevent", len(units))):
            bulk.copy_rows(
                UnitEvent,
                ["unit_id", "kind", "date", "new_parent_id", "note", "actor_id", "created_at"],
                ((u.pk, UnitEvent.Kind.CREATED.value, day(u.valid_from or today, connection),
                  u.parent_id, note, actor_id, now) for u in units),
            )

    def _allocate_unit_ids(self, n: int) -> list[int]:
        """Reserve ``n`` primary keys of org_unit (from its sequence on PostgreSQL; on SQLite
        the IMMEDIATE transaction makes max(id) safe)."""
        if not n:
            return []
        with connection.cursor() as cur:
            if self.vendor == "postgresql":
                cur.execute("SELECT nextval(pg_get_serial_sequence('org_unit', 'id')) "
                            "FROM generate_series(1, %s)", [n])
                return [r[0] for r in cur.fetchall()]
            cur.execute("SELECT coalesce(max(id), 0) FROM org_unit")
            start = cur.fetchone()[0] + 1
            return list(range(start, start + n))

    # ------------------------------------------------------------ staging tables

    # {C}: the collation of org_person's bytewise columns (org.fields.BytewiseCharField),
    # without which PostgreSQL cannot compare the two tables' values
    STAGE_MEMBERS = [
        ("row", "INTEGER"), ("member_code", "VARCHAR(40){C}"), ("family_name", "VARCHAR(60)"),
        ("middle_name", "VARCHAR(100)"), ("given_name", "VARCHAR(60)"),
        ("full_name", "VARCHAR(220)"), ("search_name", "VARCHAR(220)"),
        ("sort_key", "VARCHAR(200){C}"), ("gender", "VARCHAR(1)"), ("birth_date", "DATE"),
        ("national_id", "VARCHAR(12){C}"), ("union_card", "VARCHAR(30){C}"),
        ("email", "VARCHAR(254)"), ("phone", "VARCHAR(20)"), ("unit_id", "BIGINT"),
    ]
    STAGE_POSITIONS = [
        ("row", "INTEGER"), ("member_code", "VARCHAR(40){C}"), ("unit_id", "BIGINT"),
        ("type_id", "BIGINT"), ("full_time", "BOOLEAN"), ("start_date", "DATE"),
        ("end_date", "DATE"), ("managing_unit_id", "BIGINT"),
    ]

    def _create_staging(self) -> None:
        with connection.cursor() as cur:
            if self.vendor == "postgresql":
                # the import's sorts, hashes and index builds (staging tables; a bulk
                # load's rebuilt indexes) over a million rows in memory rather than in
                # temporary files (defaults: 4 MB and 64 MB); for this transaction only
                cur.execute("SET LOCAL work_mem = '128MB'")
                cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
            bytewise = ' COLLATE "C"' if self.vendor == "postgresql" else ""
            for name, cols in (("qt_stage_members", self.STAGE_MEMBERS),
                               ("qt_stage_positions", self.STAGE_POSITIONS)):
                cur.execute(f"DROP TABLE IF EXISTS {name}")
                spec = ", ".join(f"{c} {t.format(C=bytewise)}" for c, t in cols)
                cur.execute(f"CREATE TEMPORARY TABLE {name} ({spec})")

    def _drop_staging(self) -> None:
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS qt_stage_members")
            cur.execute("DROP TABLE IF EXISTS qt_stage_positions")

    def _load(self, table: str, columns: list[tuple[str, str]], rows: Iterable[tuple]) -> None:
        names = [c for c, _t in columns]
        with connection.cursor() as cur:
            if self.vendor == "postgresql":
                with cur.cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as cp:
                    for row in rows:
                        cp.write_row(row)
            else:
                sql = (f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608
                       f"VALUES ({', '.join(['%s'] * len(names))})")
                batch: list[tuple] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) >= BATCH:
                        cur.executemany(sql, batch)
                        batch.clear()
                if batch:
                    cur.executemany(sql, batch)

    def _unit_index(self) -> dict[str, tuple[int, str, bool, bool]]:
        """code → (id, path, accepts members, open) for every unit."""
        return {
            code: (pk, path, accepts, valid_to is None or valid_to >= self.today)
            for code, pk, path, accepts, valid_to in Unit.objects.values_list(
                "code", "pk", "path", "level__accepts_members", "valid_to"
            ).iterator(chunk_size=10_000)
        }

    def _rows_with_errors(self, sql: str, params: list, table: str, column: str,
                          message: Any, param_name: str | None = None) -> None:
        with connection.cursor() as cur:
            cur.execute(sql, params)
            for row in cur.fetchall():
                extra = {param_name: row[1]} if param_name else {}
                self.issue(table, row[0], column, message, **extra)

    # ------------------------------------------------------------ members

    def import_members(self, table: Any) -> None:
        if self._first_load(table):
            return
        res = self.result.tables["members"]
        if self.vendor == "postgresql":
            columns = ", ".join(c for c, _t in self.STAGE_MEMBERS)
            self._copy_members(table, f"qt_stage_members ({columns})", lead=0,
                               give_up=False)
        else:
            units = self._unit_index()
            names = lru_cache(maxsize=200_000)(_name_fields)

            def staged() -> Iterable[tuple]:
                for rownum, raw in table.rows():
                    res.rows += 1
                    if res.rows % BATCH == 0:
                        self.progress("members", res.rows)
                    out = self._member_row(rownum, raw, units, names)
                    if out is not None:
                        yield out

            self._load("qt_stage_members", self.STAGE_MEMBERS, staged())
            self.progress("members", res.rows)
        for column, message, name in (
            ("member_code", _("Member code “%(code)s” appears more than once in the file."),
             "code"),
            ("national_id", _("National ID %(nid)s appears more than once in the file."),
             "nid"),
            ("union_card", _("Union card number %(card)s appears more than once in the file."),
             "card"),
        ):
            self._unique_in_file(column, message, name)
        with connection.cursor() as cur:
            # temporary tables get no automatic statistics: without them the planner
            # takes the staging table for a tiny one and picks nested loops
            cur.execute("ANALYZE qt_stage_members")
        self._rows_with_errors(
            "SELECT s.row, s.national_id FROM qt_stage_members s JOIN org_person p ON "
            "p.national_id = s.national_id WHERE p.member_code IS NULL OR "
            "p.member_code <> s.member_code ORDER BY s.row", [], "members", "national_id",
            _("National ID %(nid)s belongs to another member already on record."), "nid")
        self._rows_with_errors(
            "SELECT s.row, s.union_card FROM qt_stage_members s JOIN org_person p ON "
            "p.union_card = s.union_card WHERE p.member_code IS NULL OR "
            "p.member_code <> s.member_code ORDER BY s.row", [], "members", "union_card",
            _("Union card number %(card)s belongs to another member already on record."),
            "card")
        cond, params = tree.subtree_sql("u.path", self.scope, self.vendor)
        self._rows_with_errors(
            "SELECT s.row, s.member_code FROM qt_stage_members s JOIN org_person p ON "  # noqa: S608
            "p.member_code = s.member_code JOIN org_unit u ON u.id = p.unit_id "
            f"WHERE NOT {cond} ORDER BY s.row", params, "members", "member_code",
            _("Member “%(code)s” is on record in a unit outside your scope."), "code")
        if self.result.issue_count:
            return
        self._write_members(res)

    def _first_load(self, table: Any) -> bool:
        """Members written straight into an empty member table, without the staging table.

        Nothing on record can clash with a file read into an empty table, so of the staging
        path's checks only the repeats within the file remain, and the unique constraints
        built again after the load make them (:mod:`~quantriet.imports.bulk`). The load is
        tried only on PostgreSQL, for a large file, while no error has been found. It is
        given up at the first row with an error or when a constraint cannot be built (a
        repeated code): everything it wrote is rolled back to a savepoint and the file is
        read again on the staging path, which lists every error with its row. True when
        the members are written.
        """
        if (self.vendor != "postgresql" or self.result.issue_count
                or table.estimated_rows < self.FIRST_LOAD_MIN_ROWS
                or Person.objects.exists()):
            return False
        res = self.result.tables["members"]
        saved = self._saved("members")
        columns = ", ".join(["id", "member_code", *self.MEMBER_FIELDS])
        try:
            with transaction.atomic():
                # the time stamps from a default (the transaction's start) rather than as
                # text on each row: 64 bytes a row that PostgreSQL parsed twice
                with bulk.indexes_rebuilt_after("org_person"), \
                        bulk.default_now("org_person", ["created_at", "updated_at"]):
                    # ids made of the row numbers rather than a sequence call per row
                    # (0.25 s of the database's time for a million rows), taken while the
                    # table is locked, so that no other insert can take one of them
                    first_id = _next_person_id()
                    written = self._copy_members(
                        table, f"org_person ({columns})", give_up=True,
                        lead=first_id - table.first_data_row)
                    _person_ids_used()
                _set_member_counts(written)  # the table was empty: these are all
        except (parallel.Stop, IntegrityError):
            self._restore("members", saved)
            return False
        res.new = res.rows
        return True

    FIRST_LOAD_MIN_ROWS = bulk.MIN_ROWS
    PARALLEL_MIN_ROWS = 100_000
    """Files of fewer member rows are read by one process (a fork costs milliseconds, but
    small files are most imports and their tests)."""

    def _saved(self, table: str) -> tuple[int, int, int, int]:
        t = self.result.tables[table]
        return t.rows, t.errors, self.result.issue_count, len(self.result.issues)

    def _restore(self, table: str, saved: tuple[int, int, int, int]) -> None:
        t = self.result.tables[table]
        t.rows, t.errors, self.result.issue_count = saved[:3]
        del self.result.issues[saved[3]:]

    def _copy_members(self, table: Any, into: str, *, lead: int,
                      give_up: bool) -> dict[int, int]:
        """Check the member rows and COPY those without errors into ``into`` (a table and its
        columns: the row's number plus ``lead``, then the member code and
        :attr:`MEMBER_FIELDS`). The file's parts are read in parallel when it is large
        (:mod:`~quantriet.imports.parallel`). With ``give_up``, the first row with an error
        raises :class:`_GiveUp`. Returns how many rows were written for each unit (by id)."""
        res = self.result.tables["members"]
        units = self._unit_index()
        names = lru_cache(maxsize=200_000)(_name_fields)
        open_units = {code: pk for code, (pk, path, accepts, is_open) in units.items()
                      if accepts and is_open and self.in_scope(path)}
        spans = None
        if table.estimated_rows >= self.PARALLEL_MIN_ROWS and (n := parallel.workers()) > 1:
            spans = table.spans(n)

        def work(span: Span | None, write: parallel.Write, tick: parallel.Tick) -> dict:
            return self._member_part(table, span, units, open_units, names, lead,
                                     give_up, write, tick)

        def progress(done: int) -> None:
            self.progress("members", done)

        saved = self._saved("members")
        while True:
            try:
                with transaction.atomic(), connection.cursor() as cur, \
                        cur.cursor.copy(f"COPY {into} FROM STDIN") as cp:
                    if spans:
                        parts = parallel.run(spans, work, cp.write, progress)
                    else:
                        parts = [work(None, cp.write, progress)]
                break
            except Misaligned:  # the file's quotes fooled the cut: read it whole
                log.warning("reading %s in one part", table.source, exc_info=True)
                self._restore("members", saved)
                spans = None
        for part in parts[1:]:  # the first part's issues were recorded here
            for i in part["issues"]:
                self.issue(i.table, i.row, i.column, i.message, **i.params)
            unlisted = part["issue_count"] - len(part["issues"])
            self.result.issue_count += unlisted
            res.errors += unlisted
        res.rows += sum(part["rows"] for part in parts)
        self.progress("members", res.rows)
        touched = parts[0]["touched"]
        for part in parts[1:]:
            for unit, n in part["touched"].items():
                touched[unit] = touched.get(unit, 0) + n
        return touched

    def _member_part(self, table: Any, span: Span | None, units: dict,
                     open_units: dict[str, int], names: Callable, lead: int,
                     give_up: bool, write: parallel.Write, tick: parallel.Tick) -> dict:
        """Check the rows of one part of the members table (all of it when ``span`` is
        None), writing those without errors as COPY text; runs in a child for parts after
        the first, so it reports what it found rather than adding to the totals.

        The usual row is checked and written in one step (:mod:`~quantriet.imports.quick`);
        any other row is converted, checked and written by the general path."""
        result = self.result
        count, listed = result.issue_count, len(result.issues)
        rows, lines, touched = 0, [], {}  # touched: unit id -> rows written
        check, line = self._member_row, bulk.copy_line
        reading = table.reading(span)
        first, convert = reading.first, reading.convert
        usual = quick.member_lines(reading, open_units, names) or (lambda cells: None)
        # the loop frees what it allocates by reference counting; the collector's passes
        # over the growing caches (names, dates) cost about a fifth of it
        collecting = gc.isenabled()
        gc.disable()
        try:
            for number, cells in reading.raw:
                if number < first:
                    continue
                done = usual(cells)
                if done is not None:
                    text, unit = done
                    text = f"{number + lead}\t{text}"
                else:
                    values = convert(cells)
                    if values is None:  # an empty row, a repeated header
                        continue
                    out = check(number, values, units, names)
                    if out is None:
                        if give_up:
                            raise _GiveUp
                        rows += 1
                        continue
                    unit = out[-1]
                    text = line((number + lead, *out[1:]))
                rows += 1
                touched[unit] = touched.get(unit, 0) + 1
                lines.append(text)
                if len(lines) >= BATCH:
                    write("".join(lines))
                    lines.clear()
                    tick(rows)
        finally:
            if collecting:
                gc.enable()
        if lines:
            write("".join(lines))
        tick(rows)
        return {"rows": rows, "touched": touched, "issues": result.issues[listed:],
                "issue_count": result.issue_count - count}

    def _unique_in_file(self, column: str, message: Any, param: str) -> None:
        """Index the staging table on ``column``; list the rows repeating a value.

        The index is built as a unique one: one sort, and in the usual case (no repeats)
        nothing else to do. Only when that fails are the repeating rows looked for.
        """
        index = f"qt_stage_members_{column}"
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(f"CREATE UNIQUE INDEX {index} ON qt_stage_members ({column})")
            return
        except IntegrityError:
            pass
        with connection.cursor() as cur:
            cur.execute(f"CREATE INDEX {index} ON qt_stage_members ({column})")
        self._rows_with_errors(
            f"SELECT s.row, s.{column} FROM qt_stage_members s WHERE s.{column} IS NOT NULL "  # noqa: S608
            f"AND EXISTS (SELECT 1 FROM qt_stage_members t WHERE t.{column} = s.{column} "
            f"AND t.row < s.row) ORDER BY s.row", [], "members", column, message, param)

    MEMBER_CELLS = (
        ("member_code", V.code), ("full_name", V.full_name), ("gender", V.gender),
        ("birth_date", V.date), ("national_id", V.national_id), ("union_card", V.union_card),
        ("email", V.email), ("phone", V.phone), ("unit_code", V.code),
    )

    def _member_row(self, rownum: int, raw: dict, units: dict, names: Callable) -> tuple | None:
        T = "members"
        ok = True
        get = raw.get
        try:  # fast path: every cell converts
            vals: dict[str, Any] = {key: conv(get(key)) for key, conv in self.MEMBER_CELLS}
        except V.CellError:  # slow path: record each bad cell
            vals = {}
            for key, conv in self.MEMBER_CELLS:
                try:
                    vals[key] = self.cell(T, rownum, raw, key, conv)
                except V.CellError:
                    ok = False
        if ok and not vals["member_code"]:
            self.issue(T, rownum, "member_code", _("The member code is missing."))
            ok = False
        if ok and not vals["full_name"]:
            self.issue(T, rownum, "full_name", _("The full name is missing."))
            ok = False
        nid = vals.get("national_id")
        if nid:
            try:
                nid = clean_national_id(nid)
            except ValidationError as exc:
                err = exc.error_list[0]
                self.issue(T, rownum, "national_id", err.message, **(err.params or {}))
                ok = False
        unit_code = vals.get("unit_code")
        unit = units.get(unit_code) if unit_code else None
        if ok and not unit_code:
            self.issue(T, rownum, "unit_code", _("The unit code is missing."))
            ok = False
        elif unit_code and unit is None:
            if unit_code in self.bad_units:
                self.issue(T, rownum, "unit_code",
                           _("Unit “%(code)s” has errors in the units sheet."), code=unit_code)
            else:
                self.issue(T, rownum, "unit_code", _("Unknown unit “%(code)s”."),
                           code=unit_code)
            ok = False
        elif unit is not None:
            if not self.in_scope(unit[1]):
                self.issue(T, rownum, "unit_code",
                           _("Unit “%(code)s” is outside your scope."), code=unit_code)
                ok = False
            elif not unit[2]:
                self.issue(T, rownum, "unit_code",
                           _("Members belong to a grassroots union or below; “%(code)s” is "
                             "not one."), code=unit_code)
                ok = False
            elif not unit[3]:
                self.issue(T, rownum, "unit_code", _("Unit “%(code)s” is closed."),
                           code=unit_code)
                ok = False
        if not ok:
            return None
        family, middle, given, full, search, key = names(vals["full_name"])
        if len(family) > 60 or len(middle) > 100 or len(given) > 60:
            # the columns' widths; only a name with a word of over 60 letters gets here
            self.issue(T, rownum, "full_name", _("Longer than %(max)s characters."), max=60)
            return None
        return (
            rownum, vals["member_code"], family, middle, given, full, search, key,
            vals["gender"], vals["birth_date"], nid, vals["union_card"] or None,
            vals["email"], vals["phone"][:20], unit[0],  # type: ignore[index]
        )

    MEMBER_FIELDS = ["family_name", "middle_name", "given_name", "full_name", "search_name",
                     "sort_key", "gender", "birth_date", "national_id", "union_card", "email",
                     "phone", "unit_id"]

    def _write_members(self, res: TableResult) -> None:
        f = self.MEMBER_FIELDS
        same = " AND ".join(f"p.{c} IS NOT DISTINCT FROM s.{c}" for c in f)
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM qt_stage_members s WHERE NOT EXISTS "
                        "(SELECT 1 FROM org_person p WHERE p.member_code = s.member_code)")
            res.new = cur.fetchone()[0]
            cur.execute(f"SELECT count(*) FROM qt_stage_members s JOIN org_person p "  # noqa: S608
                        f"ON p.member_code = s.member_code WHERE {same}")
            res.unchanged = cur.fetchone()[0]
            res.updated = res.rows - res.new - res.unchanged
            # units whose member counters change: old and new units of moved people
            cur.execute("SELECT DISTINCT p.unit_id FROM org_person p JOIN qt_stage_members s "
                        "ON p.member_code = s.member_code WHERE p.unit_id <> s.unit_id")
            touched = {r[0] for r in cur.fetchall()}
            if res.updated:
                sets = ", ".join(f"{c} = s.{c}" for c in f)
                cur.execute(
                    f"UPDATE org_person AS p SET {sets}, updated_at = CURRENT_TIMESTAMP "  # noqa: S608
                    f"FROM qt_stage_members AS s WHERE p.member_code = s.member_code "
                    f"AND NOT ({same})"
                )
        if res.new:
            cols = ", ".join(["member_code", *f])
            scols = ", ".join(f"s.{c}" for c in ["member_code", *f])
            with bulk.indexes_rebuilt_after("org_person", bulk.worth_it("org_person", res.new)), \
                    connection.cursor() as cur:
                cur.execute(
                    f"INSERT INTO org_person ({cols}, created_at, updated_at) "  # noqa: S608
                    f"SELECT {scols}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
                    f"FROM qt_stage_members s WHERE NOT EXISTS "
                    f"(SELECT 1 FROM org_person p WHERE p.member_code = s.member_code) "
                    # ids in file order; the sort also finishes the anti-join before the
                    # first insert, so the scan never reads rows this statement adds
                    f"ORDER BY s.row"
                )
        with connection.cursor() as cur:
            cur.execute("SELECT DISTINCT unit_id FROM qt_stage_members")
            touched |= {r[0] for r in cur.fetchall()}
        _recount(touched)

    # ------------------------------------------------------------ positions

    def import_positions(self, table: Any) -> None:
        res = self.result.tables["positions"]
        units = self._unit_index()
        T = "positions"

        def staged() -> Iterable[tuple]:
            for rownum, raw in table.rows():
                res.rows += 1
                if res.rows % BATCH == 0:
                    self.progress("positions", res.rows)
                ok = True
                vals: dict[str, Any] = {}
                for key, conv in (
                    ("member_code", V.code), ("unit_code", V.code), ("position", V.text),
                    ("full_time", V.boolean), ("start_date", V.date), ("end_date", V.date),
                    ("managing_unit_code", V.code),
                ):
                    try:
                        vals[key] = self.cell(T, rownum, raw, key, conv)
                    except V.CellError:
                        ok = False
                if not ok:
                    continue
                if not vals["member_code"]:
                    self.issue(T, rownum, "member_code", _("The member code is missing."))
                    ok = False
                ptype = self.position_types.get(fold(vals["position"]))
                if ptype is None:
                    self.issue(T, rownum, "position", _("Unknown position “%(value)s”."),
                               value=vals["position"])
                    ok = False
                ids = {}
                for key in ("unit_code", "managing_unit_code"):
                    code = vals[key]
                    if not code:
                        if key == "unit_code":
                            self.issue(T, rownum, key, _("The unit code is missing."))
                            ok = False
                        ids[key] = None
                        continue
                    u = units.get(code)
                    if u is None:
                        self.issue(T, rownum, key, _("Unknown unit “%(code)s”."), code=code)
                        ok = False
                    elif key == "unit_code" and not self.in_scope(u[1]):
                        self.issue(T, rownum, key, _("Unit “%(code)s” is outside your scope."),
                                   code=code)
                        ok = False
                    else:
                        ids[key] = u[0]
                if vals["start_date"] and vals["end_date"] and \
                        vals["end_date"] < vals["start_date"]:
                    self.issue(T, rownum, "end_date", _("The end date is before the start date."))
                    ok = False
                if ok:
                    yield (rownum, vals["member_code"], ids["unit_code"], ptype.pk,  # type: ignore[union-attr]
                           vals["full_time"], vals["start_date"], vals["end_date"],
                           ids["managing_unit_code"])

        self._load("qt_stage_positions", self.STAGE_POSITIONS, staged())
        self.progress("positions", res.rows)
        with connection.cursor() as cur:
            cur.execute("CREATE INDEX qt_stage_positions_member ON qt_stage_positions "
                        "(member_code)")
            cur.execute("ANALYZE qt_stage_positions")
        self._rows_with_errors(
            "SELECT s.row, s.member_code FROM qt_stage_positions s WHERE NOT EXISTS "
            "(SELECT 1 FROM org_person p WHERE p.member_code = s.member_code) ORDER BY s.row",
            [], T, "member_code", _("Unknown member “%(code)s”."), "code")
        self._rows_with_errors(
            "SELECT s.row, s.member_code FROM qt_stage_positions s WHERE EXISTS (SELECT 1 FROM "
            "qt_stage_positions t WHERE t.member_code = s.member_code AND t.unit_id = s.unit_id "
            "AND t.type_id = s.type_id AND t.start_date IS NOT DISTINCT FROM s.start_date "
            "AND t.row < s.row) ORDER BY s.row", [], T, "position",
            _("The same position of “%(code)s” appears more than once."), "code")
        if self.result.issue_count:
            return
        key = ("p.person_id = m.id AND p.unit_id = s.unit_id AND p.type_id = s.type_id "
               "AND p.start_date IS NOT DISTINCT FROM s.start_date")
        same = ("p.full_time = s.full_time AND p.end_date IS NOT DISTINCT FROM s.end_date AND "
                "p.managing_unit_id IS NOT DISTINCT FROM s.managing_unit_id")
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT count(*) FROM qt_stage_positions s JOIN org_person m "  # noqa: S608
                f"ON m.member_code = s.member_code WHERE NOT EXISTS "
                f"(SELECT 1 FROM org_position p WHERE {key})")
            res.new = cur.fetchone()[0]
            cur.execute(
                f"SELECT count(*) FROM qt_stage_positions s JOIN org_person m "  # noqa: S608
                f"ON m.member_code = s.member_code JOIN org_position p ON {key} WHERE {same}")
            res.unchanged = cur.fetchone()[0]
            res.updated = res.rows - res.new - res.unchanged
            if res.updated:
                cur.execute(
                    f"UPDATE org_position AS p SET full_time = s.full_time, "  # noqa: S608
                    f"end_date = s.end_date, managing_unit_id = s.managing_unit_id "
                    f"FROM qt_stage_positions AS s, org_person AS m "
                    f"WHERE m.member_code = s.member_code AND {key} AND NOT ({same})")
            if res.new:
                cur.execute(
                    f"INSERT INTO org_position (person_id, unit_id, type_id, full_time, "  # noqa: S608
                    f"start_date, end_date, managing_unit_id) SELECT m.id, s.unit_id, "
                    f"s.type_id, s.full_time, s.start_date, s.end_date, s.managing_unit_id "
                    f"FROM qt_stage_positions s JOIN org_person m ON m.member_code = "
                    f"s.member_code WHERE NOT EXISTS (SELECT 1 FROM org_position p WHERE {key}) "
                    f"ORDER BY s.row")


@dataclass(slots=True)
class _NewUnit:
    """A unit the import creates, as written (and as a parent of the units after it)."""

    pk: int
    code: str
    name: str
    level_id: int
    parent_id: int | None
    path: str
    province_code: str
    province_name: str
    member_count: int | None
    valid_from: dt.date | None


def _name_fields(full_name: str) -> tuple[str, str, str, str, str, str]:
    family, middle, given = split_full_name(full_name)
    family, middle, given = nfc(family), nfc(middle), nfc(given)
    full = " ".join(p for p in (family, middle, given) if p)
    return family, middle, given, full, fold(full), sort_key(given, family, middle)


def _next_person_id() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT nextval(pg_get_serial_sequence('org_person', 'id'))")
        return cur.fetchone()[0]


def _person_ids_used() -> None:
    """Move org_person's id sequence past the ids a load wrote itself."""
    with connection.cursor() as cur:
        cur.execute("SELECT setval(pg_get_serial_sequence('org_person', 'id'), max(id)) "
                    "FROM org_person HAVING max(id) IS NOT NULL")


def _set_member_counts(counts: dict[int, int]) -> None:
    """Set each unit's ``direct_members`` to its count (PostgreSQL)."""
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE org_unit AS u SET direct_members = c.n FROM unnest(%s::bigint[], "
            "%s::integer[]) AS c(id, n) WHERE u.id = c.id",
            [list(counts), list(counts.values())],
        )


def _recount(unit_ids: set[int]) -> None:
    ids = list(unit_ids)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":  # one statement, not a count per unit
            cur.execute(
                "UPDATE org_unit AS u SET direct_members = coalesce(c.n, 0) "
                "FROM unnest(%s::bigint[]) AS t(id) LEFT JOIN (SELECT unit_id, count(*) AS n "
                "FROM org_person WHERE unit_id = ANY(%s::bigint[]) GROUP BY unit_id) AS c "
                "ON c.unit_id = t.id WHERE u.id = t.id",
                [ids, ids],
            )
            return
        for i in range(0, len(ids), 900):
            chunk = ids[i:i + 900]
            marks = ", ".join(["%s"] * len(chunk))
            cur.execute(
                f"UPDATE org_unit SET direct_members = (SELECT count(*) FROM org_person "  # noqa: S608
                f"WHERE org_person.unit_id = org_unit.id) WHERE id IN ({marks})", chunk)

