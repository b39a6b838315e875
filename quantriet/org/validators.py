"""Validation of identity numbers."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_NID = re.compile(r"^\d{12}$")


@cache
def province_prefixes() -> frozenset[str]:
    """Three-digit place-of-birth codes that open a citizen ID (the 63 provinces)."""
    from vietnam_provinces import legacy

    return frozenset(f"{int(p.code):03d}" for p in legacy.Province.iter_all())


def clean_national_id(value: str | None) -> str | None:
    """Strip spaces and dots; return None for empty input; raise for a malformed ID."""
    if value is None:
        return None
    if type(value) is str and len(value) == 12 and value.isascii() and value.isdigit():
        if value[:3] in province_prefixes():
            return value
    digits = re.sub(r"[\s.\-]", "", str(value))
    if not digits:
        return None
    if not _NID.match(digits):
        raise ValidationError(
            _("A national ID number has exactly 12 digits (got “%(value)s”)."),
            code="nid_format",
            params={"value": value},
        )
    if digits[:3] not in province_prefixes():
        raise ValidationError(
            _("“%(value)s” does not start with a province code (001–096)."),
            code="nid_province",
            params={"value": value},
        )
    return digits


def national_id_matches(nid: str, birth_date: dt.date | None, gender: str | None) -> bool:
    """Whether digits 4–6 agree with the birth year and gender (Circular 07/2016/TT-BCA).

    The 4th digit encodes century and gender (0/1: 1900s male/female, 2/3: 2000s, 8/9:
    1800s); the 5th and 6th are the last two digits of the birth year.
    """
    if birth_date is None:
        return True
    century_digit = int(nid[3])
    centuries = {0: 1900, 1: 1900, 2: 2000, 3: 2000, 4: 2100, 5: 2100, 6: 2200, 7: 2200, 8: 1800, 9: 1800}
    year = centuries[century_digit] + int(nid[4:6])
    if year != birth_date.year:
        return False
    if gender in ("M", "F"):
        return (century_digit % 2 == 0) == (gender == "M")
    return True
