"""The usual member row, checked and written as COPY text in one step.

A member row goes through the general path in many small steps: each cell cleaned
(:func:`~quantriet.imports.readers.clean_text`), put in a dictionary, converted
(:mod:`~quantriet.imports.values`), checked, the name split, and the row written as COPY
text. That costs about 10 µs a row, most of a million-row import.

:func:`member_lines` builds a function that takes a row's raw cells and returns its COPY
text directly, or None, in which case the row takes the general path, which records
its errors or skips it. A cell in its usual form is taken as it is: a code, twelve
digits, a phone number, an address that need no cleaning (checked by one regular
expression each); a name, a gender or a birth date is looked up by its raw text in a
table of those already converted. Any other cell goes through the general path's own
steps, so an accepted row gets exactly the values the general path would give it.

Rows the general path skips never get through: the member code must be there (so the
row is not empty), and a repeated header row cannot pass unless its header texts are
themselves acceptable values. :func:`member_lines` finds out, from the file's header
texts, whether that can happen (a column headed "ID" could hold a code "ID"); if it can,
it returns None and every row takes the general path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from django.core.exceptions import ValidationError

from quantriet.imports import values as V
from quantriet.imports.bulk import copy_value
from quantriet.imports.readers import Reading
from quantriet.org.validators import clean_national_id, province_prefixes
from quantriet.text import fold

Line = Callable[[list[Any]], "tuple[str, int] | None"]

KEYS = ("member_code", "full_name", "gender", "birth_date", "national_id", "union_card",
        "email", "phone", "unit_code")

CACHE_SIZE = 200_000
"""Distinct raw texts kept per looked-up column (names, birth dates); the table starts
again when full."""

# cells that need no cleaning and pass the general checks unchanged (ASCII, no space,
# no backslash, tab or line break, so nothing to escape for COPY either)
_CODE_40 = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/]{0,39}").fullmatch
_CODE_30 = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/]{0,29}").fullmatch
_EMAIL = re.compile(  # at most 249 characters: the column holds 254
    r"[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9.\-]{1,120}\.[A-Za-z]{2,63}").fullmatch
_PHONE = re.compile(r"0[0-9]{8,10}").fullmatch
_NID = re.compile(r"[0-9]{12}").fullmatch

# which header texts (casefolded) could equal, casefolded, a value each column accepts
_CAN_HOLD: dict[str, Callable[[str], Any]] = {
    "member_code": V.CODE.fullmatch,
    "unit_code": V.CODE.fullmatch,
    "union_card": V.CODE.fullmatch,
    "national_id": re.compile(r"[\d\s.\-]+").fullmatch,
    "phone": re.compile(r"[\d\s.\-()+]+").fullmatch,
    "email": lambda text: "@" in text,
    "gender": lambda text: fold(text) in V.GENDERS,
    "birth_date": lambda text: any(c.isdigit() for c in text),
}


class _Slow(Exception):
    """A cell the general path must look at (an error, or a row it may skip)."""


def member_lines(reading: Reading, units: dict[str, int],
                 names: Callable[[str], tuple[str, ...]]) -> Line | None:
    """A function of a member row's raw cells returning (its COPY text from the member
    code to the unit id, with the line's end, the unit id), or None for a row the general
    path must take. ``units``: code -> id of each unit a member may be written into (in
    scope, taking members, open). ``names``: the engine's full name -> (family, middle,
    given, full, search, sort key). None when the table cannot be read this way."""
    header_hits = [key for key, texts in reading.header_texts.items()
                   if any(_CAN_HOLD.get(key, bool)(text) for text in texts)]
    if len(header_hits) >= 2 or not reading.cells:
        return None
    cells = reading.cells
    # a raw cell equal to one of these codes is a code as the general path reads it (a
    # unit whose code it would refuse, "CS 01", is left to it)
    units = {code: pk for code, pk in units.items() if _CODE_40(code)}
    missing = [key for key in KEYS if key not in cells]
    indexes = [cells[key][0] if key in cells else -1 for key in KEYS]
    getter = itemgetter(*indexes)
    pick: Callable[[list[Any]], tuple] = getter if not missing else (
        lambda row: getter([*row, None]))  # an unmapped column reads the None at -1

    def general(key: str, conv: Callable[[Any], Any]) -> Callable[[Any], Any]:
        read = cells[key][1] if key in cells else (lambda v: v)

        def convert(raw: Any) -> Any:
            try:
                return conv(read(raw))
            except V.CellError:
                raise _Slow from None
        return convert

    code_of, name_of, gender_of, date_of, nid_of, card_of, email_of, phone_of, unit_of = (
        general(key, conv) for key, conv in zip(KEYS, (
            V.code, V.full_name, V.gender, V.date, V.national_id, V.union_card, V.email,
            V.phone, V.code), strict=True))
    prefixes = province_prefixes()
    name_texts: dict[Any, str] = {}
    genders: dict[Any, str] = {}
    dates: dict[Any, str] = {}

    def name_text(raw: Any) -> str:
        full = name_of(raw)
        if not full:
            raise _Slow
        parts = names(full)
        family, middle, given = parts[:3]
        if len(family) > 60 or len(middle) > 100 or len(given) > 60:
            raise _Slow
        return _keep(name_texts, raw, "\t".join(copy_value(p) for p in parts))

    def gender_text(raw: Any) -> str:
        return _keep(genders, raw, gender_of(raw))

    def date_text(raw: Any) -> str:
        value = date_of(raw)
        return _keep(dates, raw, "\\N" if value is None else str(value))

    def line(row: list[Any]) -> tuple[str, int] | None:
        try:
            code, name, sex, born, nid, card, mail, tel, unit_code = pick(row)
            if type(code) is not str or not _CODE_40(code):
                code = code_of(code)
                if not code:
                    raise _Slow
                code = copy_value(code)
            name = name_texts.get(name) or name_text(name)
            gender = genders.get(sex)
            if gender is None:  # "" is a gender text: no `or` here
                gender = gender_text(sex)
            born = dates.get(born) or date_text(born)
            if type(nid) is not str or not (_NID(nid) and nid[:3] in prefixes):
                nid = nid_of(nid)
                nid = copy_value(clean_national_id(nid) if nid else None)
            if type(card) is not str or not _CODE_30(card):
                card = copy_value(card_of(card) or None)
            if type(mail) is not str or mail and not _EMAIL(mail):
                mail = copy_value(email_of(mail))
            else:
                mail = mail.lower()
            if type(tel) is not str or tel and not _PHONE(tel):
                tel = copy_value(phone_of(tel)[:20])
            unit = units.get(unit_code)
            if unit is None:
                unit = units.get(unit_of(unit_code))
                if unit is None:
                    raise _Slow
        except (_Slow, ValidationError, IndexError):  # IndexError: a short row
            return None
        return f"{code}\t{name}\t{gender}\t{born}\t{nid}\t{card}\t{mail}\t{tel}\t{unit}\n", unit

    return line


def _keep(table: dict[Any, str], raw: Any, text: str) -> str:
    """Remember the text made of a raw text cell. Only text: cells of other types can be
    equal and convert differently (True == 1, but only 1 is an Excel date)."""
    if type(raw) is str:
        if len(table) >= CACHE_SIZE:
            table.clear()
        table[raw] = text
    return text
