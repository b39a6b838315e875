"""Turning spreadsheet cells into clean values. Each function raises ``CellError`` with a
message that names what was expected; the engine adds sheet, row and column.

Text cells arrive from ``readers`` already NFC-normalised, stripped and with inner
whitespace collapsed; these functions keep a fast path for that case, since they run
once per cell of files with millions of rows."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext_lazy as _

from quantriet.text import fold, nfc, parse_date

EXCEL_EPOCH = dt.date(1899, 12, 30)


class CellError(ValueError):
    def __init__(self, message: Any, **params: Any) -> None:
        super().__init__(str(message))
        self.message = message
        self.params = params


def text(value: Any, max_length: int = 300) -> str:
    if type(value) is str:
        if len(value) > max_length:
            raise CellError(_("Longer than %(max)s characters."), max=max_length)
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "1" if value else "0"
    elif isinstance(value, float) and value.is_integer():
        value = str(int(value))
    elif isinstance(value, (dt.date, dt.datetime)):
        value = value.strftime("%d/%m/%Y")
    out = nfc(str(value))
    if len(out) > max_length:
        raise CellError(_("Longer than %(max)s characters."), max=max_length)
    return out


CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/]*")
"""What a code may hold."""


def code(value: Any, max_length: int = 40) -> str:
    """A natural key: numbers stored as numbers lose their '.0', text keeps leading zeros."""
    out = text(value, max_length)
    if out and not CODE.fullmatch(out):
        raise CellError(_("“%(value)s” is not a valid code (letters, digits, . _ - /)."),
                        value=out)
    return out


def full_name(value: Any) -> str:
    """A person's full name, as wide as the column that keeps it."""
    return text(value, 220)


def union_card(value: Any) -> str:
    """A union card number: a code of at most 30 characters (the column's width)."""
    return code(value, 30)


def excel_serial(n: float) -> dt.date:
    if not 1 <= n < 2958466:
        raise CellError(_("%(value)s is not a date."), value=n)
    return EXCEL_EPOCH + dt.timedelta(days=int(n))


def date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise CellError(_("“%(value)s” is not a date."), value=value)
    if isinstance(value, (int, float)):
        return excel_serial(float(value))
    if type(value) is str:
        return _date_str(value)
    return _date_text(nfc(str(value)))


@lru_cache(maxsize=100_000)
def _date_str(value: str) -> dt.date:
    return _date_text(nfc(value))


@lru_cache(maxsize=100_000)
def _date_text(s: str) -> dt.date:
    """Dates repeat a lot in a roster (birth dates): parse each distinct text once."""
    if re.fullmatch(r"\d{4,5}(\.0+)?", s):
        return excel_serial(float(s))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?", s):
        s = s[:10]
    try:
        return parse_date(s)
    except ValueError:
        raise CellError(
            _("“%(value)s” is not a date: write dd/mm/yyyy (01/07/2025) or yyyy-mm-dd."),
            value=s,
        ) from None


def integer(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError(_("“%(value)s” is not a whole number."), value=value)
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("“%(value)s” is not a whole number."), value=value)
        return int(value)
    if isinstance(value, int):
        return value
    s = re.sub(r"[\s.,]", "", str(value))
    if not s.isdigit():
        raise CellError(_("“%(value)s” is not a whole number."), value=value)
    return int(s)


_TRUE = {"1", "x", "co", "yes", "true", "y", "v", "✓", "✔", "chuyen trach", "ct"}
_FALSE = {"", "0", "khong", "no", "false", "n", "-", "kiem nhiem"}


def boolean(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    f = fold(str(value))
    if f in _TRUE:
        return True
    if f in _FALSE:
        return False
    raise CellError(_("“%(value)s” is not yes/no (write x, có or leave empty)."), value=value)


GENDERS = {
    "nam": "M", "m": "M", "male": "M", "trai": "M",
    "nu": "F", "f": "F", "female": "F", "gai": "F",
    "khac": "O", "other": "O", "o": "O", "": "",
}


_GENDERS_FAST = {"Nam": "M", "Nữ": "F", "nam": "M", "nữ": "F", "NAM": "M", "NỮ": "F", "": ""}


def gender(value: Any) -> str:
    if value is None:
        return ""
    fast = _GENDERS_FAST.get(value) if type(value) is str else None
    if fast is not None:
        return fast
    f = fold(text(value))
    if f not in GENDERS:
        raise CellError(_("“%(value)s” is not a gender (Nam / Nữ)."), value=value)
    return GENDERS[f]


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email(value: Any) -> str:
    s = text(value, 254)
    if s and not _EMAIL.match(s):
        raise CellError(_("“%(value)s” is not an e-mail address."), value=s)
    return s.lower()


def phone(value: Any) -> str:
    s = text(value, 40)
    if not s:
        return ""
    if s[0] == "0" and 9 <= len(s) <= 11 and s.isdecimal():
        return s  # already what the rules below make of it (\d is a decimal digit)
    digits = re.sub(r"[\s.\-()]", "", s)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.isdigit() and len(digits) == 9 and not digits.startswith("0"):
        digits = "0" + digits  # Excel dropped the leading zero of a number cell
    if not re.fullmatch(r"0\d{8,10}", digits):
        raise CellError(_("“%(value)s” is not a Vietnamese phone number."), value=s)
    return digits


def national_id(value: Any) -> str | None:
    s = text(value, 40)
    if isinstance(value, (int, float)) and len(s) == 11:
        s = "0" + s  # a number cell lost the leading zero of the province code
    return s or None
