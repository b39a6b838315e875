"""Export a subtree's roster in the import format, so that export → import is a no-op."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from quantriet.imports.columns import COLUMNS, TABLE_TITLES
from quantriet.imports.spreadsheets import write_csv, write_xlsx
from quantriet.org.models import Person, Position, Unit


def headers(table: str) -> list[str]:
    return [c.header for c in COLUMNS[table] if c.key in EXPORTED[table]]


EXPORTED = {
    "units": ["code", "name", "parent_code", "level", "province", "member_count", "valid_from"],
    "members": ["member_code", "full_name", "gender", "birth_date", "national_id",
                "union_card", "email", "phone", "unit_code"],
    "positions": ["member_code", "unit_code", "position", "full_time", "start_date",
                  "end_date", "managing_unit_code"],
}
GENDER = {"M": "Nam", "F": "Nữ", "O": "Khác", "": ""}


def _ordered(table: str) -> list[str]:
    """The exported keys in the order of the import template."""
    return [c.key for c in COLUMNS[table] if c.key in EXPORTED[table]]


def unit_rows(root: Unit) -> Iterator[list[Any]]:
    keys = _ordered("units")
    qs = (
        Unit.objects.subtree(root.path).filter(valid_to__isnull=True)
        .select_related("level", "parent").order_by("path")
    )
    for u in qs.iterator(chunk_size=5000):
        row = {
            "code": u.code, "name": u.name, "parent_code": u.parent.code if u.parent else "",
            "level": u.level.name, "province": u.province_name, "member_count": u.member_count,
            "valid_from": u.valid_from,
        }
        yield [row[k] for k in keys]


def member_rows(root: Unit) -> Iterator[list[Any]]:
    keys = _ordered("members")
    qs = (
        Person.objects.in_subtree(root.path).filter(member_code__isnull=False)
        .order_by("unit__path", "sort_key", "id")
        .values_list("member_code", "full_name", "gender", "birth_date", "national_id",
                     "union_card", "email", "phone", "unit__code")
    )
    for code, name, gender, birth, nid, card, email, phone, unit_code in qs.iterator(
        chunk_size=10_000
    ):
        row = {
            "member_code": code, "full_name": name, "gender": GENDER.get(gender, ""),
            "birth_date": birth, "national_id": nid or "", "union_card": card or "",
            "email": email, "phone": phone, "unit_code": unit_code,
        }
        yield [row[k] for k in keys]


def position_rows(root: Unit) -> Iterator[list[Any]]:
    keys = _ordered("positions")
    qs = (
        Position.objects.filter(unit__in=Unit.objects.subtree(root.path))
        .filter(person__member_code__isnull=False)
        .order_by("unit__path", "type__order", "id")
        .values_list("person__member_code", "unit__code", "type__name", "full_time",
                     "start_date", "end_date", "managing_unit__code")
    )
    for member, unit_code, ptype, full_time, start, end, managing in qs.iterator(
        chunk_size=10_000
    ):
        row = {
            "member_code": member, "unit_code": unit_code, "position": ptype,
            "full_time": "x" if full_time else "", "start_date": start, "end_date": end,
            "managing_unit_code": managing or "",
        }
        yield [row[k] for k in keys]


ROWS = {"units": unit_rows, "members": member_rows, "positions": position_rows}


def export_roster(root: Unit, target: str | Path | io.IOBase, fmt: str = "xlsx") -> None:
    """Write the subtree of ``root`` as one .xlsx (three sheets) or a .zip of three .csv."""
    if fmt == "xlsx":
        write_xlsx(target, {
            TABLE_TITLES[t][0]: (headers(t), ROWS[t](root)) for t in ("units", "members",
                                                                      "positions")
        })
    elif fmt == "zip":
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for t in ("units", "members", "positions"):
                with zf.open(f"{t}.csv", "w") as fh:
                    write_csv(fh, headers(t), ROWS[t](root))
    else:
        raise ValueError(f"unknown export format {fmt!r}")
