"""Vietnamese date formatting and parsing."""

import re
from datetime import date

from quantriet.text.normalize import nfc

__all__ = ["formal_date", "format_date", "parse_date"]

_DMY = re.compile(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4})", re.ASCII)
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_FORMATS = "dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy or yyyy-mm-dd"


def format_date(d: date | None) -> str:
    """Format `d` as "dd/mm/yyyy"; "" for None."""
    if d is None:
        return ""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def formal_date(d: date, place: str = "") -> str:
    """Administrative date line: "ngày 01 tháng 02 năm 2026", prefixed by "Place, " if given."""
    text = f"ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"
    place = nfc(place)
    return f"{place}, {text}" if place else text


def parse_date(s: str) -> date:
    """Parse "dd/mm/yyyy", "d/m/yyyy", "dd-mm-yyyy" or "yyyy-mm-dd" into a date.

    Raises ValueError naming the accepted formats, or the reason the date is impossible.
    """
    text = s.strip()
    if match := _DMY.fullmatch(text):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
    elif match := _YMD.fullmatch(text):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    else:
        raise ValueError(f"Invalid date {s!r}: expected {_FORMATS}")
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"Invalid date {s!r}: {exc}") from exc
