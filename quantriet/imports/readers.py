"""Reading the roster spreadsheets unit administrators keep.

:func:`open_workbook` accepts

* an Excel or OpenDocument workbook (.xlsx, .xlsm, .xlsb, .xls, .ods) -- one table per sheet;
* a delimited text file (.csv, .tsv, .txt) -- one table, named by the file name;
* a folder or a .zip holding such CSV files (or workbooks).

It finds the three roster tables (``units``, ``members``, ``positions``) by sheet or file
name (:func:`~quantriet.imports.columns.match_table`) and, failing that, by their headers;
it finds the header row among the first rows of each sheet and maps each header to a
canonical column key (:func:`~quantriet.imports.columns.match_header`). Whatever it cannot
attribute is listed in :attr:`Workbook.unknown`; odd content never raises. Only a file that
cannot be read at all raises :class:`ReadError`, which carries a Vietnamese and an English
message for the user.

Rows come out of :meth:`Table.rows` one at a time with the row number the user sees in
Excel. CSV is read line by line (memory does not grow with the file). Workbooks are read with
python-calamine, which parses a whole sheet into native (Rust) memory when the sheet is
first opened -- roughly 0.9 KB per 9-column row -- and converts rows to Python objects one
at a time; a loaded sheet stays cached until :meth:`Workbook.close`.

Cell values are normalised: text is NFC with surrounding whitespace stripped and inner runs
of whitespace collapsed ("" gives None); an apostrophe protecting a formula trigger
("'=x", written by :func:`~quantriet.imports.spreadsheets.safe_cell`) is removed; numbers
in code and text columns become text without a spurious ".0" (1.0 -> "1"; text keeps its
leading zeros); date cells give :class:`datetime.date`; formulas give their cached value
(nothing is ever evaluated). See :data:`~quantriet.imports.columns.KINDS`.
"""

import codecs
import csv
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

from quantriet.imports import columns as cols
from quantriet.text import nfc

__all__ = [
    "SPREADSHEET_EXTENSIONS",
    "TEXT_EXTENSIONS",
    "UNKNOWN_REASONS",
    "ReadError",
    "Table",
    "Unknown",
    "Workbook",
    "clean_text",
    "column_letter",
    "excel_serial_to_date",
    "open_workbook",
]

SPREADSHEET_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"})
TEXT_EXTENSIONS = frozenset({".csv", ".tsv", ".txt"})

HEADER_ROWS = 15
"""The header is looked for among this many first non-empty rows."""
MIN_HEADER_MATCHES = 2
"""A row is a header when at least this many of its cells name distinct columns."""
_CONTINUATION_ROWS = 3  # rows below the header row that may continue a multi-row header
_WINDOW_SCAN_LIMIT = 200  # physical rows scanned at most to find the header candidates
_CSV_SAMPLE = 64 * 1024
_ENCODING_SAMPLE = 256 * 1024
_CHUNK = 1024 * 1024
_DELIMITERS = (",", ";", "\t", "|")

UNKNOWN_REASONS: dict[str, tuple[str, str]] = {
    "empty": ("Trang tính hoặc tệp không có dữ liệu.", "The sheet or file is empty."),
    "no_header": (
        "Không nhận ra dòng tiêu đề của bảng đơn vị, đoàn viên hay chức vụ.",
        "No header row of the units, members or positions table was recognised.",
    ),
    "duplicate": (
        "Bảng này đã được đọc từ một trang tính hoặc tệp khác.",
        "This table was already read from another sheet or file.",
    ),
    "unsupported": (
        "Loại trang tính hoặc tệp này không được hỗ trợ.",
        "This kind of sheet or file is not supported.",
    ),
    "unreadable": ("Không đọc được trang tính hoặc tệp này.", "This sheet or file cannot be read."),
}
"""(Vietnamese, English) explanation of each :attr:`Unknown.reason`."""


class ReadError(Exception):
    """A file that cannot be read at all; carries a message for the user in both languages."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


def _error(kind: str, name: str, detail: str = "") -> ReadError:
    vi, en = {
        "missing": ("Không tìm thấy tệp “{name}”.", "File “{name}” not found."),
        "empty": ("Tệp “{name}” không có dữ liệu.", "File “{name}” is empty."),
        "not_zip": (
            "Tệp “{name}” không phải tệp nén .zip hợp lệ.",
            "File “{name}” is not a valid .zip archive.",
        ),
        "corrupt": (
            "Tệp “{name}” bị hỏng hoặc không phải bảng tính Excel/ODS hợp lệ.",
            "File “{name}” is damaged or not a valid Excel/ODS workbook.",
        ),
        "encrypted": (
            "Tệp “{name}” được đặt mật khẩu. Hãy gỡ mật khẩu (Tệp > Thông tin > Bảo vệ "
            "sổ làm việc) rồi tải lên lại.",
            "File “{name}” is password-protected. Remove the password (File > Info > "
            "Protect Workbook) and upload it again.",
        ),
        "html": (
            "Tệp “{name}” là trang web (HTML/XML) mang đuôi bảng tính, không phải bảng tính "
            "thật. Hãy mở bằng Excel và lưu lại dưới dạng .xlsx.",
            "File “{name}” is a web page (HTML/XML) with a spreadsheet extension, not a real "
            "workbook. Open it in Excel and save it as .xlsx.",
        ),
        "binary": (
            "Tệp “{name}” không phải bảng tính hay tệp CSV.",
            "File “{name}” is neither a spreadsheet nor a CSV file.",
        ),
        "nothing": (
            "Không có tệp CSV hay bảng tính nào trong “{name}”.",
            "“{name}” holds no CSV file or workbook.",
        ),
        "csv": (
            "Tệp “{name}” có dòng không đọc được{detail}.",
            "File “{name}” has an unreadable line{detail}.",
        ),
    }[kind]
    return ReadError(vi.format(name=name, detail=detail), en.format(name=name, detail=detail))


@dataclass(frozen=True, slots=True)
class Unknown:
    """A sheet or file that was not attributed to a table."""

    source: str
    reason: str
    """One of the keys of :data:`UNKNOWN_REASONS`."""

    @property
    def message_vi(self) -> str:
        return UNKNOWN_REASONS[self.reason][0]

    @property
    def message_en(self) -> str:
        return UNKNOWN_REASONS[self.reason][1]


# --------------------------------------------------------------------------------------
# Values


def excel_serial_to_date(n: float, *, date1904: bool = False) -> date:
    """The date of the Excel serial number `n` (its fraction, the time of day, is dropped).

    Uses the 1900 date system (serial 1 is 1900-01-01) with Excel's phantom 1900-02-29
    (serial 60, rejected); `date1904` selects the old Mac system (serial 0 is 1904-01-01).
    Raises ValueError outside 1900-01-01..9999-12-31 and TypeError for non-numbers.
    """
    if isinstance(n, bool) or not isinstance(n, int | float):
        raise TypeError(f"Excel serial date must be a number, not {type(n).__name__}")
    if n != n or n in (float("inf"), float("-inf")):
        raise ValueError(f"Invalid Excel serial date {n!r}")
    days = int(n // 1)
    if date1904:
        if days < 0 or days > 2957003:
            raise ValueError(f"Excel serial date {n!r} is out of range")
        return date(1904, 1, 1) + timedelta(days=days)
    if days < 1 or days > 2958465:
        raise ValueError(f"Excel serial date {n!r} is out of range")
    if days == 60:
        raise ValueError("Excel serial date 60 is 1900-02-29, a day that does not exist")
    if days < 60:
        return date(1899, 12, 31) + timedelta(days=days)
    return date(1899, 12, 30) + timedelta(days=days)


def column_letter(index: int) -> str:
    """The spreadsheet letter of the 0-based column `index`: 0 -> "A", 27 -> "AB"."""
    if index < 0:
        raise ValueError("column index must be >= 0")
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_FORMULA_TRIGGERS = frozenset("=+-@\t\r\n")
_INTEGER_TEXT = re.compile(r"[+-]?\d+", re.ASCII)


def clean_text(s: str) -> str | None:
    """NFC, stripped, inner whitespace collapsed; None when nothing is left.

    Zero-width characters are dropped and an apostrophe protecting a formula trigger
    ("'=SUM(1)", "'+84…") is removed.
    """
    if s.isascii():
        s = " ".join(s.split())
    else:
        s = nfc(s.translate(_INVISIBLE))
    if not s:
        return None
    if s[0] == "'" and len(s) > 1 and s[1] in _FORMULA_TRIGGERS:
        s = s[1:]
    return s


def _float_text(v: float) -> str:
    return str(int(v)) if v.is_integer() else repr(v)


def _as_text(v: Any) -> Any:
    """Code and text columns: str whatever the cell type (dates and booleans kept)."""
    t = type(v)
    if t is str:
        return clean_text(v)
    if v is None:
        return None
    if t is float:
        return _float_text(v)
    if t is bool or t is date:
        return v
    if t is int:
        return str(v)
    if t is datetime:
        return v.date()
    if t is time:
        return v.isoformat()
    return clean_text(str(v))


def _as_number(v: Any) -> Any:
    """Number and boolean columns: int for integral numbers and digit-only text."""
    t = type(v)
    if t is str:
        s = clean_text(v)
        if s is not None and _INTEGER_TEXT.fullmatch(s):
            return int(s)
        return s
    if v is None:
        return None
    if t is float:
        return int(v) if v.is_integer() else v
    if t is int or t is bool or t is date:
        return v
    if t is datetime:
        return v.date()
    return clean_text(str(v))


def _as_date(v: Any) -> Any:
    """Date columns: dates kept, numbers kept (Excel serials: see excel_serial_to_date)."""
    t = type(v)
    if t is str:
        return clean_text(v)
    if v is None:
        return None
    if t is date:
        return v
    if t is datetime:
        return v.date()
    if t is float:
        return int(v) if v.is_integer() else v
    if t is int or t is bool:
        return v
    return clean_text(str(v))


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "code": _as_text,
    "text": _as_text,
    "number": _as_number,
    "bool": _as_number,
    "date": _as_date,
}


def _header_text(v: Any) -> str:
    """A header cell as text ("" for empty)."""
    if isinstance(v, str):
        return clean_text(v) or ""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return _float_text(v)
    if isinstance(v, date):
        return v.isoformat()
    return clean_text(str(v)) or ""


def _signature(v: Any) -> str | None:
    """Comparison form of a cleaned value for spotting repeated header rows."""
    if isinstance(v, str):
        return v.casefold()
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return None


# --------------------------------------------------------------------------------------
# Header detection

Window = list[tuple[int, list[Any]]]
"""Rows (1-based number, cells by absolute 0-based column) at the top of a sheet."""
Merges = list[tuple[tuple[int, int], tuple[int, int]]]

_NUMBERING_CELL = re.compile(r"\(?([A-Za-z]|\d{1,3})\)?", re.ASCII)


def _is_numbering_row(texts: list[str]) -> bool:
    """A row of column numbers under a header: "1 2 3 4", "(1) (2) (3)", "A B 1 2"."""
    cells = [t for t in texts if t]
    numbers = []
    for text in cells:
        match = _NUMBERING_CELL.fullmatch(text)
        if not match:
            return False
        if match[1].isdigit():
            numbers.append(int(match[1]))
    return len(numbers) >= 3 and all(a < b for a, b in zip(numbers, numbers[1:], strict=False))


@dataclass
class _Header:
    table: str
    score: int
    mapping: dict[str, int]  # key -> absolute column
    header_row: int
    first_data_row: int
    headers: list[str]  # by absolute column, "" where none
    duplicates: dict[str, list[int]]
    ignored: list[str]
    signatures: dict[str, frozenset[str]]  # key -> header texts (casefolded) of its column

    @property
    def required(self) -> int:
        return sum(key in self.mapping for key in cols.REQUIRED[self.table])


class _Grid:
    """The header window as text, with merged cells filled from their top-left cell."""

    def __init__(self, window: Window, merges: Merges) -> None:
        self.numbers = [number for number, _ in window]
        width = max((len(cells) for _, cells in window), default=0)
        self.texts = [
            [_header_text(v) for v in cells] + [""] * (width - len(cells)) for _, cells in window
        ]
        self.origin: list[dict[int, int]] = [{} for _ in window]  # merged-in cell -> row index
        index = {number: i for i, number in enumerate(self.numbers)}
        for (r1, c1), (r2, c2) in merges:
            top = index.get(r1 + 1)
            if top is None or c1 >= width:
                continue
            value = self.texts[top][c1]
            if not value:
                continue
            for r in range(r1, r2 + 1):
                i = index.get(r + 1)
                if i is None:
                    continue
                for c in range(c1, min(c2, width - 1) + 1):
                    if (i, c) != (top, c1) and not self.texts[i][c]:
                        self.texts[i][c] = value
                        self.origin[i][c] = top
        self.width = width

    def above(self, i: int, c: int) -> str:
        """The text above (i, c), or the nearest one to its left (an unmerged group header)."""
        if i <= 0:
            return ""
        row = self.texts[i - 1]
        for k in range(c, -1, -1):
            if row[k]:
                return row[k]
        return ""

    def match(self, i: int, c: int, table: str) -> str | None:
        text = self.texts[i][c]
        if not text:
            return None
        key = cols.match_header(text, table)
        if key is None and i > 0:
            group = self.above(i, c)
            if group and group != text:
                key = cols.match_header(f"{group} {text}", table)
        return key

    def matches(self, i: int, table: str) -> dict[int, str]:
        found: dict[int, str] = {}
        for c in range(self.width):
            key = self.match(i, c, table)
            if key is not None:
                found[c] = key
        return found


def _detect(window: Window, merges: Merges, table: str) -> _Header | None:
    """The header of `table` in `window`, or None when no row has a single match."""
    grid = _Grid(window, merges)
    candidates = [i for i, texts in enumerate(grid.texts) if any(texts)][:HEADER_ROWS]
    best, best_score, best_matches = -1, 0, {}
    for i in candidates:
        found = grid.matches(i, table)
        score = len(set(found.values()))
        if score > best_score:
            best, best_score, best_matches = i, score, found
    if best < 0:
        return None

    mapping: dict[str, int] = {}
    duplicates: dict[str, list[int]] = {}

    def take(found: dict[int, str]) -> None:
        for c, key in sorted(found.items()):
            if key in mapping:
                if mapping[key] != c and c not in duplicates.get(key, []):
                    duplicates.setdefault(key, []).append(c)
            else:
                mapping[key] = c

    take(best_matches)
    block = [best]
    numbering = -1
    # Rows above that belong to the header: cells merged down into it, or cells naming
    # columns the header row leaves blank (two-row headers without merges, as in CSV).
    i = best - 1
    while i >= 0 and best - i <= 2 and any(grid.texts[i]):
        mapped = set(mapping.values())
        extra = {
            c: k for c, k in grid.matches(i, table).items() if c not in mapped and k not in mapping
        }
        if not extra and i not in grid.origin[block[0]].values():
            break
        take(extra)
        block.insert(0, i)
        i -= 1
    # Rows below that continue the header: sub-headers under a group header, cells merged
    # down from the header, or a row of column numbers.
    i = best + 1
    while i < len(grid.texts) and i - best <= _CONTINUATION_ROWS:
        texts = grid.texts[i]
        if not any(texts) or grid.numbers[i] != grid.numbers[i - 1] + 1:
            break
        if _is_numbering_row(texts):
            block.append(i)
            numbering = i
            break
        mapped = set(mapping.values())
        extra = {}
        ok = True
        for c, text in enumerate(texts):
            if not text:
                continue
            if grid.origin[i].get(c) in block or text == grid.texts[i - 1][c]:
                continue
            key = grid.match(i, c, table)
            if key is not None and c not in mapped and key not in mapping:
                extra[c] = key
                continue
            ok = False
            break
        if not ok:
            break
        take(extra)
        block.append(i)
        i += 1

    headers: list[str] = []
    for c in range(grid.width):
        parts: list[str] = []
        for i in block:
            text = grid.texts[i][c]
            if text and text not in parts and i != numbering:
                parts.append(text)
        headers.append(" ".join(parts))
    while headers and not headers[-1]:
        headers.pop()
    signatures = {
        key: frozenset(grid.texts[i][c].casefold() for i in block if grid.texts[i][c])
        for key, c in mapping.items()
    }
    mapped = set(mapping.values())
    ignored = [
        text
        for c, text in enumerate(headers)
        if text and c not in mapped and cols.is_ignored_header(text)
    ]
    return _Header(
        table=table,
        score=len(mapping),
        mapping=mapping,
        header_row=grid.numbers[best],
        first_data_row=grid.numbers[block[-1]] + 1,
        headers=headers,
        duplicates=duplicates,
        ignored=ignored,
        signatures=signatures,
    )


def _fallback_header(window: Window, merges: Merges, table: str) -> _Header:
    """Header of a sheet known by name to hold `table` but without a recognisable header:
    the best row if it has one match, else the first non-empty row."""
    found = _detect(window, merges, table)
    if found is not None:
        return found
    grid = _Grid(window, merges)
    first = next((i for i, texts in enumerate(grid.texts) if any(texts)), None)
    headers: list[str] = []
    number = 1
    if first is not None:
        number = grid.numbers[first]
        headers = list(grid.texts[first])
        while headers and not headers[-1]:
            headers.pop()
    return _Header(
        table=table,
        score=0,
        mapping={},
        header_row=number,
        first_data_row=number + 1,
        headers=headers,
        duplicates={},
        ignored=[t for t in headers if t and cols.is_ignored_header(t)],
        signatures={},
    )


def _detect_any(window: Window, merges: Merges, tables: Iterable[str]) -> _Header | None:
    """The best header among `tables` with at least MIN_HEADER_MATCHES matches."""
    best: _Header | None = None
    best_rank: tuple[int, int, int] | None = None
    for order, table in enumerate(tables):
        found = _detect(window, merges, table)
        if found is None or found.score < MIN_HEADER_MATCHES:
            continue
        rank = (found.score, found.required, -order)
        if best_rank is None or rank > best_rank:
            best, best_rank = found, rank
    return best


# --------------------------------------------------------------------------------------
# Sources: where raw rows come from


class _Source:
    """A sheet or a CSV file: yields (1-based row number, cells) from the top."""

    name: str  # shown to the user
    hints: tuple[str, ...]  # names that may designate the table (sheet, then file name)
    col_offset = 0  # absolute column of cells[0]
    encoding: str | None = None
    delimiter: str | None = None

    def raw_rows(self) -> Iterator[tuple[int, list[Any]]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def merges(self) -> Merges:
        return []

    def window(self) -> Window:
        """The first rows, enough to find the header; cells padded to absolute columns."""
        rows: Window = []
        non_empty = 0
        for number, cells in self.raw_rows():
            pad = self.col_offset  # known once the first row is out
            rows.append((number, [""] * pad + list(cells) if pad else list(cells)))
            if any(v != "" and v is not None for v in cells):
                non_empty += 1
            if non_empty >= HEADER_ROWS + _CONTINUATION_ROWS or len(rows) >= _WINDOW_SCAN_LIMIT:
                break
        return rows

    def prepare(self, table: str | None) -> None:
        """Settle how to read the source (CSV: delimiter); may raise ReadError."""


class _CalamineBook:
    """An open python-calamine workbook with its loaded sheets cached."""

    def __init__(self, opener: Callable[[], Any], name: str) -> None:
        self._opener = opener
        self.name = name
        self._book: Any = None
        self._sheets: dict[str, Any] = {}
        self.book  # noqa: B018 - open now so that unreadable files fail in open_workbook

    @property
    def book(self) -> Any:
        if self._book is None:
            from python_calamine import PasswordError

            try:
                self._book = self._opener()
            except PasswordError as exc:
                raise _error("encrypted", self.name) from exc
            except Exception as exc:  # calamine raises several unrelated types
                raise _error("corrupt", self.name) from exc
        return self._book

    def sheet(self, name: str) -> Any:
        if name not in self._sheets:
            try:
                self._sheets[name] = self.book.get_sheet_by_name(name)
            except Exception as exc:
                raise _error("corrupt", self.name) from exc
        return self._sheets[name]

    def close(self) -> None:
        self._sheets.clear()
        if self._book is not None:
            try:
                self._book.close()
            except Exception:  # noqa: S110 - already closed
                pass
            self._book = None


class _SheetSource(_Source):
    def __init__(self, book: _CalamineBook, sheet: str, hints: tuple[str, ...]) -> None:
        self.book = book
        self.sheet = sheet
        self.name = sheet if not book.name else f"{book.name} › {sheet}"
        self.hints = hints
        self._layout: tuple[int, int] | None = None

    def _rows_with_layout(self) -> Iterator[tuple[int, list[Any]]]:
        sheet = self.book.sheet(self.sheet)
        start, end = sheet.start, sheet.end
        if start is None or end is None:
            return
        rows = iter(sheet.iter_rows())
        first = next(rows, None)
        if first is None:
            return
        # python-calamine 0.9 pads rows above the data but not columns left of it; tell
        # which it did from the first row, so that row numbers stay right in any version.
        if start[0] > 0 and not any(v != "" for v in first):
            row_offset = 0
        else:
            row_offset = start[0]
        col_offset = 0 if len(first) == end[1] + 1 else start[1]
        self._layout = (row_offset, col_offset)
        self.col_offset = col_offset
        yield row_offset + 1, first
        yield from enumerate(rows, row_offset + 2)

    def raw_rows(self) -> Iterator[tuple[int, list[Any]]]:
        return self._rows_with_layout()

    def last_row(self) -> int:
        end = self.book.sheet(self.sheet).end
        return 0 if end is None else end[0] + 1

    def merges(self) -> Merges:
        try:
            ranges = self.book.sheet(self.sheet).merged_cell_ranges
        except Exception:
            return []
        return list(ranges or [])


def _looks_markup(text: str) -> bool:
    head = text.lstrip("\ufeff \t\r\n").lower()[:200]
    return head.startswith(("<!doctype html", "<html", "<table", "<?xml", "<head", "<meta"))


_VIET_CHARS = frozenset(
    unicodedata.normalize("NFC", base + mark)
    for base in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
    for mark in ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
) - frozenset("aeiouyAEIOUY") | frozenset("đĐ")


def _plausibility(text: str) -> int:
    """How Vietnamese a decoded sample looks: Vietnamese letters count for it, stray
    combining marks, C1 controls and other letters against it."""
    score = 0
    for ch in unicodedata.normalize("NFC", text):
        if ch < "\x80":
            continue
        if ch in _VIET_CHARS:
            score += 2
        elif "\x80" <= ch < "\xa0":
            score -= 3
        elif unicodedata.category(ch)[0] in "PSZ":
            continue
        else:
            score -= 1
    return score


def _detect_encoding(open_binary: Callable[[], IO[bytes]], name: str) -> str:
    """The text encoding of a CSV: BOM, else UTF-8 if the whole file decodes, else the
    most plausible of Windows-1258, Windows-1252 and Latin-1. Raises ReadError for binary
    content."""
    with open_binary() as f:
        head = f.read(_CHUNK)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        probe = head[:4096]
        zeros = probe.count(0)
        if zeros and zeros * 4 > len(probe):
            odd = probe[1::2].count(0)
            return "utf-16-le" if odd > zeros - odd else "utf-16-be"
        if zeros or head.startswith((b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff")):
            raise _error("binary", name)
        sample = head[:_ENCODING_SAMPLE]
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk = head
        try:
            while chunk:
                decoder.decode(chunk)
                chunk = f.read(_CHUNK)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    best, best_score = "cp1258", None
    for encoding in ("cp1258", "cp1252", "latin-1"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = _plausibility(text)
        if best_score is None or score > best_score:
            best, best_score = encoding, score
    return best


_SEP_LINE = re.compile(r"sep=(.)\s*", re.IGNORECASE)


class _CsvSource(_Source):
    def __init__(self, name: str, hints: tuple[str, ...], open_binary: Callable[[], IO[bytes]]):
        self.name = name
        self.hints = hints
        self._open = open_binary
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self._skip_sep_line = False

    def _text(self, stack: ExitStack) -> IO[str]:
        raw = stack.enter_context(self._open())
        assert self.encoding is not None
        return stack.enter_context(
            io.TextIOWrapper(raw, encoding=self.encoding, errors="replace", newline="")
        )

    def last_row(self) -> int:
        """Lines in the file (for a progress bar; a quoted line break counts twice)."""
        count, tail = 0, b"\n"
        with self._open() as fh:
            while chunk := fh.read(1 << 20):
                count += chunk.count(b"\n")
                tail = chunk[-1:]
        return count + (tail != b"\n")

    def prepare(self, table: str | None) -> None:
        if self.delimiter is not None:
            return
        self.encoding = _detect_encoding(self._open, self.name)
        with ExitStack() as stack:
            sample = self._text(stack).read(_CSV_SAMPLE)
        if _looks_markup(sample):
            raise _error("html", self.name)
        lines = sample.splitlines(keepends=True)
        if len(sample) >= _CSV_SAMPLE and len(lines) > 1:
            lines = lines[:-1]  # drop a line cut by the sample
        if lines and (sep := _SEP_LINE.fullmatch(lines[0].lstrip("\ufeff"))):
            self._skip_sep_line = True
            self.delimiter = sep[1]
            return
        text = "".join(lines)
        tables = (table,) if table else cols.TABLES
        best_rank: tuple[int, int, int] | None = None
        for order, delimiter in enumerate(_DELIMITERS):
            records = list(csv.reader(io.StringIO(text), delimiter=delimiter))[:60]
            window = [(n, r) for n, r in enumerate(records, 1)]
            found = _detect_any(window, [], tables)
            score = found.score if found else 0
            widths = [len(r) for r in records if r]
            mode = max(set(widths), key=widths.count) if widths else 0
            consistency = widths.count(mode) if mode > 1 else 0
            rank = (score, consistency, -order)
            if best_rank is None or rank > best_rank:
                best_rank, self.delimiter = rank, delimiter

    def raw_rows(self) -> Iterator[tuple[int, list[Any]]]:
        if self.delimiter is None:
            self.prepare(None)
        with ExitStack() as stack:
            reader = csv.reader(self._text(stack), delimiter=self.delimiter or ",")
            number = 0
            try:
                if self._skip_sep_line:
                    next(reader, None)
                for record in reader:
                    number += 1
                    yield number, record
            except csv.Error as exc:
                raise _error("csv", self.name, f" ({number + 1}: {exc})") from exc
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
                raise _error("corrupt", self.name) from exc


# --------------------------------------------------------------------------------------
# Tables and workbooks


class Table:
    """One roster table found in a sheet or CSV file.

    Attributes:
        name: the canonical table name ("units", "members" or "positions").
        source: the sheet or file it was read from, as shown to the user.
        columns: canonical key -> 0-based column index (A = 0) in the sheet.
        unmapped: header texts of columns that name no key (excluding :attr:`ignored`).
        ignored: header texts of row-number and notes columns ("STT", "Ghi chú").
        headers: header text of each column by 0-based index ("" for a column without
            one; texts of a multi-row header joined by a space); what a mapping UI shows.
        duplicates: key -> further columns whose header names an already mapped key.
        header_row: 1-based row number of the header row (the row with the most matches
            when the header spans several rows).
        first_data_row: 1-based row number where data starts (after the whole header).
        encoding, delimiter: how a CSV was decoded (None for sheets).
    """

    def __init__(self, source: _Source, header: _Header) -> None:
        self._source = source
        self._header = header
        self.name = header.table
        self.source = source.name
        self.columns = dict(sorted(header.mapping.items(), key=lambda item: item[1]))
        self.headers = list(header.headers)
        self.duplicates = {k: list(v) for k, v in header.duplicates.items()}
        self.ignored = list(header.ignored)
        self.header_row = header.header_row
        self.first_data_row = header.first_data_row
        self.encoding = source.encoding
        self.delimiter = source.delimiter
        mapped = set(self.columns.values())
        extra = {c for cs in self.duplicates.values() for c in cs}
        self.unmapped = [
            text
            for c, text in enumerate(self.headers)
            if text and c not in mapped and c not in extra and not cols.is_ignored_header(text)
        ]

    def __repr__(self) -> str:
        return (
            f"<Table {self.name} from {self.source!r} header_row={self.header_row} "
            f"columns={self.columns}>"
        )

    @property
    def estimated_rows(self) -> int:
        """About how many data rows ``rows()`` will read (for progress bars)."""
        last = getattr(self._source, "last_row", None)
        return max(0, last() - self.first_data_row + 1) if last else 0

    @property
    def missing(self) -> list[str]:
        """Required keys (:data:`~quantriet.imports.columns.REQUIRED`) with no column."""
        return [key for key in cols.REQUIRED[self.name] if key not in self.columns]

    def with_mapping(self, mapping: dict[str, int]) -> "Table":
        """A copy of this table reading the columns of `mapping` (key -> 0-based column)
        instead of the detected ones. Raises ValueError for a key not of this table, a
        negative or non-integer index, or two keys on one column."""
        known = {c.key for c in cols.COLUMNS[self.name]}
        seen: dict[int, str] = {}
        for key, index in mapping.items():
            if key not in known:
                raise ValueError(f"{key!r} is not a column of the {self.name} table")
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                raise ValueError(f"column index of {key!r} must be an int >= 0, not {index!r}")
            if index in seen:
                raise ValueError(f"column {index} is mapped to both {seen[index]!r} and {key!r}")
            seen[index] = key
        header = _Header(
            table=self.name,
            score=len(mapping),
            mapping=dict(mapping),
            header_row=self.header_row,
            first_data_row=self.first_data_row,
            headers=self.headers,
            duplicates={},
            ignored=self.ignored,
            signatures={
                key: frozenset({self.headers[c].casefold()})
                for key, c in mapping.items()
                if c < len(self.headers) and self.headers[c]
            },
        )
        return Table(self._source, header)

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield (row number as seen in Excel, {key: value}) for each data row.

        Streams: one row is converted at a time. Rows with no value in any mapped column
        (blank rows, rows with only a row number) and repetitions of the header (as at the
        top of printed pages) are skipped. Values: str, int, float, datetime.date, bool, or
        None for an empty cell; see the module docstring.
        """
        offset = self._source.col_offset
        plan = [
            (key, index - offset, _CONVERTERS[cols.column(self.name, key).kind])
            for key, index in self.columns.items()
        ]
        signatures = self._header.signatures if self.columns == self._header.mapping else {}
        check = [(key, signatures[key]) for key, _, _ in plan if signatures.get(key)]
        first = self.first_data_row
        for number, cells in self._source.raw_rows():
            if number < first:
                continue
            width = len(cells)
            values: dict[str, Any] = {}
            filled = 0
            for key, index, convert in plan:
                value = convert(cells[index]) if 0 <= index < width else None
                values[key] = value
                if value is not None:
                    filled += 1
            if not filled:
                continue
            if check and len(check) >= 2:
                hits = 0
                for key, texts in check:
                    signature = _signature(values[key])
                    if signature is not None and signature in texts:
                        hits += 1
                if hits >= 2 and hits * 2 >= filled:
                    continue
            yield number, values


@dataclass
class Workbook:
    """The tables found in an upload.

    Attributes:
        path: what was opened.
        tables: canonical table name -> :class:`Table`, in import order.
        unknown: sheets and files not attributed to any table, with the reason.
    """

    path: Path
    tables: dict[str, Table] = field(default_factory=dict)
    unknown: list[Unknown] = field(default_factory=list)
    _sources: dict[str, _Source] = field(default_factory=dict, repr=False)
    _books: list[_CalamineBook] = field(default_factory=list, repr=False)

    def assign(self, source: str, table: str) -> Table:
        """Read the sheet or file named `source` (as in :attr:`Unknown.source` or
        :attr:`Table.source`) as `table`, whatever its name and headers said: the header is
        detected for `table`, or taken to be the first non-empty row. The result replaces
        any table of that name; the UI can then fix columns with :meth:`Table.with_mapping`.
        """
        if table not in cols.TABLES:
            raise ValueError(f"unknown table {table!r}")
        src = self._sources[source]
        src.prepare(table)
        found = _fallback_header(src.window(), src.merges(), table)
        result = Table(src, found)
        for name, other in list(self.tables.items()):
            if other.source == source:
                del self.tables[name]
        self.tables[table] = result
        self.tables = {name: self.tables[name] for name in cols.TABLES if name in self.tables}
        self.unknown = [u for u in self.unknown if u.source != source]
        return result

    def close(self) -> None:
        """Release the workbooks and the sheets held in memory (tables can still be read;
        they reopen their file)."""
        for book in self._books:
            book.close()

    def __enter__(self) -> "Workbook":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _assemble(
    path: Path,
    sources: list[_Source],
    unknown: list[Unknown],
    books: list[_CalamineBook],
    *,
    strict: bool,
) -> Workbook:
    """Attribute `sources` to tables. With `strict` (a single file), a source that cannot
    be read raises ReadError; otherwise it is listed as unknown."""
    workbook = Workbook(path=path, unknown=list(unknown), _books=books)
    found: list[tuple[int, _Source, _Header | None, str | None]] = []
    empty = 0
    for order, src in enumerate(sources):
        workbook._sources[src.name] = src
        named = next((t for t in map(cols.match_table, src.hints) if t), None)
        try:
            src.prepare(named)
            window = src.window()
            merges = src.merges() if window else []
        except ReadError:
            if strict:
                raise
            workbook.unknown.append(Unknown(src.name, "unreadable"))
            continue
        if not any(any(v != "" and v is not None for v in cells) for _, cells in window):
            empty += 1
            workbook.unknown.append(Unknown(src.name, "empty"))
            continue
        if named:
            header = _detect(window, merges, named)
            if header is None or header.score < MIN_HEADER_MATCHES:
                header = _fallback_header(window, merges, named)
            found.append((order, src, header, named))
        else:
            header = _detect_any(window, merges, cols.TABLES)
            found.append((order, src, header, None))
    if sources and empty == len(sources):
        raise _error("empty", path.name)
    claimed: dict[str, Table] = {}
    # Sources named after a table claim it first, then the others by their headers.
    for _, src, header, _named in sorted(found, key=lambda f: (f[3] is None, f[0])):
        if header is None:
            workbook.unknown.append(Unknown(src.name, "no_header"))
        elif header.table in claimed:
            workbook.unknown.append(Unknown(src.name, "duplicate"))
        else:
            claimed[header.table] = Table(src, header)
    workbook.tables = {name: claimed[name] for name in cols.TABLES if name in claimed}
    order_of = {src.name: i for i, src in enumerate(sources)}
    workbook.unknown.sort(key=lambda u: order_of.get(u.source, -1))
    return workbook


# --------------------------------------------------------------------------------------
# Opening files

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")


def _is_encrypted_ole(open_binary: Callable[[], IO[bytes]]) -> bool:
    """An OLE file holding an encrypted OOXML package (a password-protected .xlsx)."""
    with open_binary() as f:
        tail = b""
        while chunk := f.read(_CHUNK):
            if _ENCRYPTED_MARK in tail + chunk:
                return True
            tail = chunk[-len(_ENCRYPTED_MARK) :]
    return False


def _is_spreadsheet_zip(names: list[str]) -> bool:
    return "[Content_Types].xml" in names or "mimetype" in names


def _calamine_sources(
    opener: Callable[[], Any],
    name: str,
    file_hint: str,
    books: list[_CalamineBook],
    unknown: list[Unknown],
    label: str,
) -> list[_Source]:
    from python_calamine import SheetTypeEnum

    book = _CalamineBook(opener, label)
    books.append(book)
    metas = list(book.book.sheets_metadata)
    worksheets = [m for m in metas if m.typ == SheetTypeEnum.WorkSheet]
    sources: list[_Source] = []
    for meta in metas:
        if meta.typ != SheetTypeEnum.WorkSheet:
            unknown.append(Unknown(f"{label} › {meta.name}" if label else meta.name, "unsupported"))
            continue
        hints = (meta.name, file_hint) if len(worksheets) == 1 else (meta.name,)
        sources.append(_SheetSource(book, meta.name, hints))
    return sources


def _open_calamine_file(path: Path, books: list[_CalamineBook]) -> Workbook:
    from python_calamine import CalamineWorkbook

    unknown: list[Unknown] = []
    sources = _calamine_sources(
        lambda: CalamineWorkbook.from_path(str(path)), path.name, path.stem, books, unknown, ""
    )
    if not sources:
        raise _error("empty", path.name)
    return _assemble(path, sources, unknown, books, strict=True)


def _fix_zip_name(info: zipfile.ZipInfo) -> str:
    """Member name, repairing UTF-8 names stored without the UTF-8 flag (read as cp437)."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _skip_member(name: str) -> bool:
    base = name.rstrip("/").rsplit("/", 1)[-1]
    return (
        name.endswith("/")
        or name.startswith("__MACOSX/")
        or "/__MACOSX/" in name
        or base.startswith((".", "~$"))
        or base in ("Thumbs.db", "desktop.ini")
    )


def _container_sources(
    entries: list[tuple[str, Callable[[], IO[bytes]], Callable[[], bytes] | None]],
    books: list[_CalamineBook],
    unknown: list[Unknown],
) -> list[_Source]:
    """Sources of the files of a folder or zip: (display name, binary opener, bytes
    reader for workbooks or None for a path-based workbook)."""
    from python_calamine import CalamineWorkbook

    sources: list[_Source] = []
    for name, open_binary, read_bytes in entries:
        base = name.rsplit("/", 1)[-1]
        stem, ext = os.path.splitext(base)
        ext = ext.lower()
        if ext in TEXT_EXTENSIONS:
            sources.append(_CsvSource(name, (base,), open_binary))
        elif ext in SPREADSHEET_EXTENSIONS:

            def opener(read=read_bytes, open_binary=open_binary) -> Any:
                data = read() if read else open_binary().read()
                return CalamineWorkbook.from_filelike(io.BytesIO(data))

            try:
                sources += _calamine_sources(opener, name, stem, books, unknown, name)
            except ReadError:
                unknown.append(Unknown(name, "unreadable"))
        else:
            unknown.append(Unknown(name, "unsupported"))
    return sources


def _open_zip(path: Path, books: list[_CalamineBook]) -> Workbook:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not _skip_member(_fix_zip_name(i))]
            encrypted = any(i.flag_bits & 0x1 for i in infos)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _error("not_zip", path.name) from exc
    if encrypted:
        raise _error("encrypted", path.name)

    def member(info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
        def open_binary() -> IO[bytes]:
            zf = zipfile.ZipFile(path)
            try:
                stream = zf.open(info)
            except BaseException:
                zf.close()
                raise
            closer = stream.close

            def close() -> None:
                closer()
                zf.close()

            stream.close = close  # type: ignore[method-assign]
            return stream

        return open_binary

    def reader(info: zipfile.ZipInfo) -> Callable[[], bytes]:
        def read() -> bytes:
            with zipfile.ZipFile(path) as zf:
                return zf.read(info)

        return read

    entries = [
        (_fix_zip_name(i), member(i), reader(i))
        for i in sorted(infos, key=lambda i: _fix_zip_name(i))
    ]
    unknown: list[Unknown] = []
    sources = _container_sources(entries, books, unknown)
    if not sources:
        raise _error("nothing", path.name)
    return _assemble(path, sources, unknown, books, strict=False)


def _open_folder(path: Path, books: list[_CalamineBook]) -> Workbook:
    files = sorted(p for p in path.iterdir() if p.is_file() and not _skip_member(p.name))
    entries = [(p.name, (lambda p=p: open(p, "rb")), None) for p in files]
    unknown: list[Unknown] = []
    sources = _container_sources(entries, books, unknown)
    if not sources:
        raise _error("nothing", path.name or str(path))
    return _assemble(path, sources, unknown, books, strict=False)


def open_workbook(path: str | os.PathLike[str]) -> Workbook:
    """Open an upload and find its roster tables.

    Accepts a workbook (.xlsx, .xlsm, .xlsb, .xls, .ods), a CSV/TSV file, a folder of
    them, or a .zip of them. The file type is told from the content, so a CSV or a .xlsx
    with the wrong extension is still read. Raises :class:`ReadError` when the file cannot
    be read at all: missing, empty, not a zip, a damaged or password-protected workbook,
    an HTML page saved as .xls, binary content, or a zip/folder with no CSV or workbook.
    """
    p = Path(path)
    books: list[_CalamineBook] = []
    if p.is_dir():
        return _open_folder(p, books)
    if not p.is_file():
        raise _error("missing", p.name or str(p))
    if p.stat().st_size == 0:
        raise _error("empty", p.name)
    with open(p, "rb") as f:
        magic = f.read(8)
    ext = p.suffix.lower()

    def open_binary() -> IO[bytes]:
        return open(p, "rb")

    if magic.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(p) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            kind = "corrupt" if ext in SPREADSHEET_EXTENSIONS else "not_zip"
            raise _error(kind, p.name) from exc
        if _is_spreadsheet_zip(names):
            return _open_calamine_file(p, books)
        return _open_zip(p, books)
    if magic.startswith(_OLE_MAGIC):
        if _is_encrypted_ole(open_binary):
            raise _error("encrypted", p.name)
        return _open_calamine_file(p, books)
    if ext == ".zip":
        raise _error("not_zip", p.name)
    # Anything else is read as delimited text (also a CSV/TSV saved with a .xls name).
    source = _CsvSource(p.name, (p.name,), open_binary)
    return _assemble(p, [source], [], books, strict=True)
