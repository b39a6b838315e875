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
at a time; a loaded sheet stays cached until :meth:`Workbook.close`. An .xlsx/.xlsm
worksheet whose XML is larger than :data:`XLSX_STREAM_THRESHOLD` is instead streamed from
the zip a few megabytes at a time, giving the same rows (memory then holds one chunk of XML
and the workbook's shared strings: their UTF-8 text plus 4 bytes each).

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
import math
import os
import re
import unicodedata
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from quantriet.imports import columns as cols
from quantriet.text import nfc

__all__ = [
    "SPREADSHEET_EXTENSIONS",
    "TEXT_EXTENSIONS",
    "UNKNOWN_REASONS",
    "Misaligned",
    "ReadError",
    "Span",
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
_HAS_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
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
        if _HAS_INVISIBLE.search(s):  # a search is far cheaper than a translate
            s = s.translate(_INVISIBLE)
        s = nfc(s)
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
    cells_are_text = False  # True when every raw cell is a str (CSV)
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

    def __init__(self, opener: Callable[[], Any], name: str, *, lazy: bool = False) -> None:
        self._opener = opener
        self.name = name
        self._book: Any = None
        self._sheets: dict[str, Any] = {}
        if not lazy:
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


# --------------------------------------------------------------------------------------
# Streaming .xlsx/.xlsm sheets
#
# python-calamine parses a whole sheet into memory before the first row can be read (about
# 0.9 KB per 9-column row). A worksheet whose XML is larger than XLSX_STREAM_THRESHOLD is
# instead read here, straight from the zip, 4 MB of XML at a time: one findall of a
# compiled bytes regex per chunk turns the plain rows and cells (as Excel, LibreOffice and
# openpyxl write them) into tokens, and rows holding anything else (rich text, cells
# without a reference, other attributes) are parsed one by one with general patterns.
# A first pass finds what calamine knows before its first row: the columns in use (its
# rows start at the first and are padded to the last), the merged ranges (<mergeCells>
# follows <sheetData>) and the last row. The shared strings are kept as one UTF-8 buffer
# plus an array of offsets (5 million strings: about 80 MB; as a list of str, 300).
#
# The rows are those of the calamine path: the same row numbers, padding ("" for missing
# cells), value types (str, float, bool, date, datetime, time, timedelta; formulas give
# their cached value), date conversion and text normalisation (line ends, entities, <t>
# text trimmed unless xml:space="preserve"). Where calamine fails on a malformed file (an
# unknown error code or cell type, a shared string index out of range, a duration beyond
# timedelta), this reader carries on leniently. Rows are padded differently only when
# some cells have no reference (r attribute). Small sheets, .xlsb, .xls and .ods are
# read by python-calamine.

XLSX_STREAM_THRESHOLD = 20 * 1024 * 1024
"""A worksheet whose XML (uncompressed size in the zip) is larger than this many bytes is
streamed instead of being loaded by python-calamine."""

_XLSX_CHUNK = 4 * 1024 * 1024  # decompressed bytes parsed at a time
_XLSX_MAX_CARRY = 64 * 1024 * 1024  # an unterminated element longer than this is damage
_OTHER, _DATETIME, _DURATION = 0, 1, 2  # what a cell's number format makes of a number
_MS_PER_DAY = 86_400_000
_EXCEL_EPOCH = datetime(1899, 12, 30)
_I64_MAX = 2**63 - 1
_I64_LIMIT = float(2**63)
# chrono's NaiveDate range, in days from 1899-12-30 (times of day outside it give floats)
_CHRONO_MIN_DAY, _CHRONO_MAX_DAY = -96_439_723, 95_052_170


def _format_kind(code: str) -> int:
    """What calamine makes of a custom number format code: a date/time, a duration
    ([h]:mm) or a plain number (first section only; quoted text, escaped characters and
    [colour]/[condition] brackets do not count)."""
    escaped = quoted = ap = hms = False
    brackets = 0
    prev = " "
    for ch in code:
        if escaped:
            escaped = False
        elif ch in "_\\*":
            escaped = True  # the next character is a literal (or a fill/width character)
        elif quoted:
            if ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == ";":
            return _OTHER
        elif ch == "[":
            brackets += 1
        elif ch == "]" and brackets == 1 and hms:
            return _DURATION
        elif ch == "]":
            brackets = max(0, brackets - 1)
        elif ch in "aA" and not ap and brackets == 0:
            ap = True
        elif ch in "pm/PM" and ap and brackets == 0:
            return _DATETIME
        elif ch in "dmhysDMHYS" and not ap and brackets == 0:
            return _DATETIME
        elif not (hms and ch.lower() == prev.lower()):
            hms = prev == "[" and ch in "mhsMHS"
        prev = ch
    return _OTHER


def _builtin_format_kind(num_fmt_id: str) -> int:
    if num_fmt_id == "46":
        return _DURATION
    if num_fmt_id in {"14", "15", "16", "17", "18", "19", "20", "21", "22", "45", "47"}:
        return _DATETIME
    return _OTHER


def _round_ms(y: float) -> int:
    """``y.round() as i64`` in Rust: half away from zero, NaN -> 0, saturating."""
    if y != y:
        return 0
    if y >= _I64_LIMIT:
        return _I64_MAX
    if y < -_I64_LIMIT:
        return -_I64_MAX - 1
    r = math.floor(y)
    frac = y - r
    return r + 1 if frac > 0.5 or (frac == 0.5 and y >= 0) else r


def _serial_value(x: float, kind: int, date1904: bool) -> Any:
    """A number in a date/time or duration format as python-calamine gives it: time for
    serials below 1, date for whole serials, datetime otherwise, timedelta for durations
    (millisecond precision); the number itself when out of range."""
    if kind == _DURATION:
        try:
            return timedelta(milliseconds=_round_ms(x * _MS_PER_DAY))
        except OverflowError:
            return x
    f = x + 1462.0 if date1904 else x
    if f < 60.0:
        f += 1.0  # Excel's phantom 1900-02-29 shifts the serials before it
    ms = _round_ms(f * _MS_PER_DAY)
    if x < 1.0:
        day, ms = divmod(ms, _MS_PER_DAY)
        if not _CHRONO_MIN_DAY <= day <= _CHRONO_MAX_DAY:
            return x
        seconds, milli = divmod(ms, 1000)
        minutes, second = divmod(seconds, 60)
        return time(minutes // 60, minutes % 60, second, milli * 1000)
    try:
        moment = _EXCEL_EPOCH + timedelta(milliseconds=ms)
    except OverflowError:
        return x
    return moment.date() if x.is_integer() else moment


_ISO_DATETIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)", re.ASCII)
_ISO_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?", re.ASCII)


def _iso_value(text: str) -> Any:
    """A t="d" cell: an ISO 8601 datetime, date or time, else the text."""
    try:
        if m := _ISO_DATETIME.fullmatch(text):
            micro = int((m[7] or "0").ljust(6, "0")[:6])
            return datetime(*map(int, m.group(1, 2, 3, 4, 5, 6)), micro)
        if m := _ISO_DATE.fullmatch(text):
            return date(*map(int, m.group(1, 2, 3)))
        if m := _ISO_TIME.fullmatch(text):
            return time(*map(int, m.group(1, 2, 3)), int((m[4] or "0").ljust(6, "0")[:6]))
    except ValueError:
        pass
    return text


_XML_ENTITY = re.compile(r"&(?:#([0-9]+)|#x([0-9A-Fa-f]+)|(lt|gt|amp|quot|apos));")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _entity(m: re.Match[str]) -> str:
    try:
        if m[1]:
            return chr(int(m[1]))
        if m[2]:
            return chr(int(m[2], 16))
    except (ValueError, OverflowError):
        return m[0]
    return _NAMED_ENTITIES[m[3]]


def _xml_text(raw: bytes) -> str:
    """Character data as an XML parser gives it: line ends normalised, references
    resolved."""
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    text = raw.decode("utf-8", "replace")
    return _XML_ENTITY.sub(_entity, text) if "&" in text else text


_COLUMN_CACHE: dict[bytes, int] = {}


def _column_index(letters: bytes) -> int:
    """0-based index of column `letters` (b"A" -> 0, b"ab" -> 27)."""
    index = _COLUMN_CACHE.get(letters)
    if index is None:
        index = 0
        for ch in letters.upper():
            index = index * 26 + ch - 64
        index -= 1
        if len(_COLUMN_CACHE) < 100_000:
            _COLUMN_CACHE[letters] = index
    return index


_CELL_REF = re.compile(rb"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _cell_ref(ref: bytes) -> tuple[int, int] | None:
    """(0-based row, column) of a reference such as b"B7"."""
    m = _CELL_REF.fullmatch(ref.strip())
    if not m or int(m[2]) == 0:
        return None
    return int(m[2]) - 1, _column_index(m[1])


def _attributes(raw: bytes) -> dict[bytes, bytes]:
    """Attributes of a start tag by local name (values not unescaped)."""
    found: dict[bytes, bytes] = {}
    for name, double, single in _ATTRIBUTE.findall(raw):
        found.setdefault(name.rpartition(b":")[2], double or single)
    return found


def _column_class(lo: int, hi: int) -> str:
    """A regex matching the letters of exactly the columns lo..hi (as in a cell ref)."""
    by_prefix: dict[str, list[int]] = {}
    for index in range(lo, hi + 1):
        letters = column_letter(index)
        by_prefix.setdefault(letters[:-1], []).append(ord(letters[-1]))
    parts = []
    for prefix, lasts in by_prefix.items():
        parts.append(f"{prefix}[{chr(min(lasts))}-{chr(max(lasts))}]")
    return "(?:" + "|".join(parts) + ")"


class _SheetPatterns:
    """The regexes of a sheet whose elements have namespace prefix `prefix` (b"" or
    b"x:"). In the pattern texts below, "P:" stands for the prefix."""

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix
        self.data_start = self._compile(rb"<P:sheetData(?=[\s/>])[^>]*?(/?)>")
        self.data_end = b"</" + prefix + b"sheetData>"
        self.row_start = b"<" + prefix + b"row"
        self.row_end = b"</" + prefix + b"row>"
        # Tokens of the rows and cells Excel, LibreOffice, openpyxl and most libraries
        # write: a row start with its number first, or a whole cell with its reference
        # first, then style and type, and a value (maybe after a formula) or a one-piece
        # inline string; anything else is a token of empty strings (_ODD_TOKEN). Groups:
        # column letters, style, type, <v> text (not empty: an empty <v></v> is odd),
        # <t> attributes + ">" + its text, row number. An empty cell may close with " />"
        # (as openpyxl writes it). (Possessive quantifiers: about a quarter faster than
        # greedy ones.)
        self.token = self._compile(
            rb'<(?:P:c r="([A-Z]++)[0-9]++"(?: s="([0-9]++)")?+(?: t="([a-zA-Z]++)")?+'
            rb"(?:\s*+/>|>(?:<P:f\b[^>/]*+(?:/>|>[^<]*+</P:f>))?+"
            rb"(?:<(?:P:v>([^<]++)</P:v|P:is><P:t([^>]*+>[^<]*+)</P:t></P:is)>)?+</P:c>)"
            rb'|P:row r="([0-9]++)"[^>]*+>|(?!/P:row>))'
        )
        # Any cell. Groups: column letters, style, type, other attributes, content.
        self.cell = self._compile(
            rb'<P:c(?=[\s/>])(?:\s+r="([A-Za-z]*)[0-9]*")?(?:\s+s="([0-9]*)")?'
            rb'(?:\s+t="(\w*)")?([^>]*?)\s*(?:/>|>(.*?)</P:c>)',
            re.S,
        )
        self.value = self._compile(rb"<P:v(?:\s[^>]*?)?(?:/>|>(.*?)</P:v>)", re.S)
        self.inline = self._compile(rb"<P:is(?:\s[^>]*?)?(?:/>|>(.*?)</P:is>)", re.S)
        self.first_cell = self._compile(rb"<P:c(?=[\s/>])([^>]*)>")
        self.merge = self._compile(rb"<P:mergeCell\s([^>]*)>")
        # For the columns in use: a cell with a value (calamine leaves out self-closing
        # cells and cells whose <v> is missing or empty, unless they hold text or ISO dates)
        self.valued = (
            rb'(?:(?=[^>]*\st="(?:str|d)")|(?![^>]*>(?:<P:f\b[^>]*/>|<P:f\b[^>]*>[^<]*</P:f>)?'
            rb"(?:<P:v\s*/>|<P:v></P:v>)?</P:c>))(?:\s[^>]*)?(?<!/)>"
        )
        self.used_columns = self._compile(rb'<P:c r="([A-Za-z]+)[0-9]+"' + self.valued)
        # A cell not written as <c r="A1"...: without a reference, or another layout.
        self.odd_cell = self._compile(rb'<P:c(?=[\s/>])(?! r="[A-Za-z])')

    def _compile(self, pattern: bytes, flags: int = 0) -> re.Pattern[bytes]:
        return re.compile(pattern.replace(b"P:", re.escape(self.prefix)), flags)

    def unexpected(self, lo: int, hi: int) -> re.Pattern[bytes]:
        """A cell that is odd (group 1 empty) or has a value outside columns lo..hi."""
        allowed = _column_class(lo, hi).encode()
        return self._compile(
            rb'<P:c(?:(?=[\s/>])(?! r="[A-Za-z])|( r="(?!'
            + allowed
            + rb'[0-9])[A-Za-z]+[0-9]+"'
            + self.valued
            + rb"))"
        )


def _general_cells(
    content: bytes, pats: _SheetPatterns
) -> Iterator[tuple[int, bytes, bytes, bytes]]:
    """(column, style, type, content) of each cell of a row's XML, whatever its layout: a
    cell without a reference follows the one before it, as in calamine."""
    col = -1
    for letters, s, t, rest, inner in pats.cell.findall(content):
        if rest:
            attrs = _attributes(rest)
            if not letters and b"r" in attrs:
                ref = _CELL_REF.fullmatch(attrs[b"r"])
                letters = ref[1] if ref else b""
            s = s or attrs.get(b"s", b"")
            t = t or attrs.get(b"t", b"")
        col = _column_index(letters) if letters else col + 1
        yield col, s, t, inner


def _has_value(t: bytes, inner: bytes, pats: _SheetPatterns) -> bool:
    """Whether calamine keeps a cell of type `t` and content `inner`: an inline string,
    or a <v> that is not empty (for text and ISO date cells, even empty)."""
    if not inner:
        return False
    if pats.inline.search(inner):
        return True
    found = pats.value.search(inner)
    if found is None or t in (b"inlineStr", b"is"):
        return False
    return bool(found[1]) or t in (b"str", b"d")


_SHEET_PATTERNS: dict[bytes, _SheetPatterns] = {}
_ROOT_PREFIX = re.compile(rb"<(?:([\w.-]+):)?(?:worksheet|sst)[\s>]")


def _patterns(prefix: bytes) -> _SheetPatterns:
    if prefix not in _SHEET_PATTERNS:
        _SHEET_PATTERNS[prefix] = _SheetPatterns(prefix)
    return _SHEET_PATTERNS[prefix]


_RICH_RUN = re.compile(rb"<(?:[\w.-]+:)?r[\s/>]")
_PHONETIC = re.compile(rb"<((?:[\w.-]+:)?)rPh(?:\s[^>]*?)?(?:/>|>.*?</\1rPh>)", re.S)
_TEXT = re.compile(rb"<((?:[\w.-]+:)?)t(\s[^>]*?)?(?:/>|>(.*?)</\1t>)", re.S)
_XML_SPACE = " \t\n\r"


def _t_text(attrs: bytes | None, raw: bytes | None) -> str:
    """The text of a <t> element: stripped of XML white space unless it has
    xml:space="preserve" (as calamine reads it)."""
    text = _xml_text(raw or b"")
    return text if attrs and b"preserve" in attrs else text.strip(_XML_SPACE)


def _rich_text(xml: bytes) -> str:
    """The text of a shared or inline string (<si>/<is> content) as calamine reads it:
    the runs of rich text joined, phonetic guides (<rPh>) left out; without runs, the
    first <t>."""
    if b"rPh" in xml:
        xml = _PHONETIC.sub(b"", xml)
    texts = _TEXT.finditer(xml)
    first = next(texts, None)
    if first is None:
        return ""
    if _RICH_RUN.search(xml, 0, first.start()) is None:
        return _t_text(first[2], first[3])
    return "".join([_t_text(first[2], first[3]), *(_t_text(m[2], m[3]) for m in texts)])


class _SharedStrings:
    """The shared strings table, compactly: the UTF-8 text of all strings in one buffer
    and their end offsets in an array of 4-byte ints (a list of str takes some 60 bytes
    per string: 5 million strings hold 81 MB here, 297 MB as a list)."""

    __slots__ = ("blob", "ends")

    def __init__(self, size_hint: int) -> None:
        self.blob = bytearray()
        self.ends = array("I" if size_hint < 2**31 else "Q", [0])

    def add(self, texts: list[bytes]) -> None:
        self.blob += b"".join(texts)
        ends = accumulate(map(len, texts), initial=self.ends[-1])
        next(ends)
        self.ends.extend(ends)

    def __len__(self) -> int:
        return len(self.ends) - 1


_XML_SPACE_BYTES = b" \t\n\r"


def _read_shared_strings(stream: IO[bytes], size_hint: int) -> _SharedStrings:
    """Parse xl/sharedStrings.xml from `stream`, a chunk at a time."""
    table = _SharedStrings(size_hint)
    head = stream.read(4096)
    root = _ROOT_PREFIX.search(head)
    prefix = root[1] + b":" if root and root[1] else b""

    def compile_(pattern: bytes, flags: int = 0) -> re.Pattern[bytes]:
        return re.compile(pattern.replace(b"P:", re.escape(prefix)), flags)

    simple = compile_(rb"<P:si><P:t>([^<]*+)</P:t></P:si>")  # the usual item: its text
    plain = compile_(rb"<P:si><P:t(\s[^>]*+)?>([^<]*+)</P:t></P:si>")  # (attributes, text)
    item = compile_(rb"<P:si(?:\s[^>]*?)?(?:/>|>(.*?)</P:si>)", re.S)  # anything: content
    start, end_tag = b"<" + prefix + b"si", b"</" + prefix + b"si>"
    buf = head
    while True:
        chunk = stream.read(_XLSX_CHUNK)
        if chunk:
            buf += chunk
            cut = buf.rfind(end_tag)
            if cut < 0:
                if len(buf) > _XLSX_MAX_CARRY:
                    raise ValueError("unterminated shared string")
                continue
            cut += len(end_tag)
        else:
            cut = len(buf)
        count = buf.count(start, 0, cut)
        texts = simple.findall(buf, 0, cut)
        special = buf.find(b"&", 0, cut) >= 0 or buf.find(b"\r", 0, cut) >= 0
        if len(texts) == count and not special:
            texts = [t.strip(_XML_SPACE_BYTES) for t in texts]
        else:
            items = plain.findall(buf, 0, cut) if len(texts) != count else [(b"", t) for t in texts]
            if len(items) != count:
                # rich text, phonetic guides or an unusual layout somewhere in this chunk
                texts = [_rich_text(content).encode() for content in item.findall(buf, 0, cut)]
            else:
                texts = [
                    _t_text(attrs, t).encode()
                    if b"&" in t or b"\r" in t
                    else t
                    if attrs and b"preserve" in attrs
                    else t.strip(_XML_SPACE_BYTES)
                    for attrs, t in items
                ]
        table.add(texts)
        if not chunk:
            return table
        buf = buf[cut:]


class _XmlRefused(ValueError):
    """A workbook part with a DOCTYPE or entity declarations (never in a real workbook)."""


def _xml_elements(xml: bytes) -> list[tuple[str, dict[str, str]]]:
    """The start tags of a small XML document in order: (local name, attributes with
    values unescaped). Document type and entity declarations are refused (no entity
    expansion attacks); raises ValueError for anything that is not well-formed."""
    elements: list[tuple[str, dict[str, str]]] = []
    parser = expat.ParserCreate()

    def refuse(*args: Any) -> None:
        raise _XmlRefused("DOCTYPE or entity declaration in a workbook part")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = lambda tag, attrs: elements.append((tag.rpartition(":")[2], attrs))
    try:
        parser.Parse(xml, True)
    except expat.ExpatError as exc:
        raise ValueError(str(exc)) from exc
    return elements


@dataclass(frozen=True)
class _XlsxSheetInfo:
    name: str
    member: str | None  # zip member of the sheet XML (None: missing)
    worksheet: bool  # False for chart and dialog sheets
    size: int  # uncompressed size of the sheet XML


@dataclass(frozen=True)
class _XlsxLayout:
    sheets: list[_XlsxSheetInfo]
    date1904: bool
    shared_strings: str | None
    shared_strings_size: int
    styles: str | None


def _xlsx_layout(open_binary: Callable[[], IO[bytes]]) -> _XlsxLayout | None:
    """The sheets of an .xlsx/.xlsm package as calamine lists them (workbook order,
    names from xl/workbook.xml, paths from xl/_rels/workbook.xml.rels); None when the file
    is not such a package or looks unusual (calamine then reads it, or reports it)."""
    try:
        with open_binary() as f, zipfile.ZipFile(f) as zf:
            infos = {i.filename.lower(): i for i in zf.infolist()}
            wb_info = infos.get("xl/workbook.xml")
            rels_info = infos.get("xl/_rels/workbook.xml.rels")
            if (
                wb_info is None
                or rels_info is None
                or any(i.flag_bits & 0x1 for i in infos.values())
                or max(wb_info.file_size, rels_info.file_size) > _XLSX_CHUNK
            ):
                return None
            relationships = _xml_elements(zf.read(rels_info))
            workbook = _xml_elements(zf.read(wb_info))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
        zlib.error,
    ):
        return None
    targets = {
        attrs.get("Id"): attrs.get("Target") or ""
        for tag, attrs in relationships
        if tag == "Relationship"
    }
    date1904 = False
    sheets: list[_XlsxSheetInfo] = []
    for tag, attrs in workbook:
        if tag == "workbookPr":
            date1904 = attrs.get("date1904") in ("1", "true")
        elif tag == "sheet":
            rid = next((v for k, v in attrs.items() if k.endswith(":id")), None)
            target = targets.get(rid)
            if target is None:
                return None
            if target.startswith("/xl/"):
                path = target[1:]
            elif target.startswith("xl/"):
                path = target
            else:
                path = "xl/" + target
            folder = path.split("/")[1] if "/" in path else ""
            if folder not in ("worksheets", "chartsheets", "dialogsheets"):
                return None
            info = infos.get(path.lower())
            sheets.append(
                _XlsxSheetInfo(
                    name=attrs.get("name") or "",
                    member=info.filename if info else None,
                    worksheet=folder == "worksheets",
                    size=info.file_size if info else 0,
                )
            )
    sst = infos.get("xl/sharedstrings.xml")
    styles = infos.get("xl/styles.xml")
    return _XlsxLayout(
        sheets=sheets,
        date1904=date1904,
        shared_strings=sst.filename if sst else None,
        shared_strings_size=sst.file_size if sst else 0,
        styles=styles.filename if styles else None,
    )


def _style_kinds(xml: bytes) -> list[int]:
    """What each cell format (<cellXfs>/<xf>, by index) makes of numbers."""
    custom: dict[str, str] = {}
    kinds: list[int] = []
    section = ""
    for tag, attrs in _xml_elements(xml):
        if tag in ("numFmts", "cellXfs", "cellStyleXfs", "cellStyles", "dxfs"):
            section = tag
        elif tag == "numFmt" and section == "numFmts":
            if code := attrs.get("formatCode"):
                custom[attrs.get("numFmtId") or ""] = code
        elif tag == "xf" and section == "cellXfs":
            fmt = attrs.get("numFmtId")
            if fmt is None:
                kinds.append(_OTHER)
            elif fmt in custom:
                kinds.append(_format_kind(custom[fmt]))
            else:
                kinds.append(_builtin_format_kind(fmt))
    return kinds


class _XlsxBook:
    """An .xlsx/.xlsm package whose large sheets are streamed: the workbook parts
    (styles, the shared strings once a sheet needs them) and a way to reopen the file."""

    def __init__(
        self, open_binary: Callable[[], IO[bytes]], name: str, label: str, layout: _XlsxLayout
    ) -> None:
        self._open = open_binary
        self.name = name  # the file, for error messages
        self.label = label  # prefix of the sheet names shown to the user
        self.layout = layout
        self.date1904 = layout.date1904
        self._styles: dict[bytes, int] | None = None
        self._strings: _SharedStrings | None = None

    @contextmanager
    def member(self, name: str) -> Iterator[IO[bytes]]:
        """The decompressed stream of zip member `name`; damage raises ReadError."""
        try:
            with self._open() as f, zipfile.ZipFile(f) as zf, zf.open(name) as stream:
                yield _CheckedStream(stream, self.name)
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            OSError,
            EOFError,
            zlib.error,
            NotImplementedError,
        ) as exc:
            raise _error("corrupt", self.name) from exc

    def styles(self) -> dict[bytes, int]:
        """Cell style index (the `s` attribute, as bytes) -> _OTHER/_DATETIME/_DURATION."""
        if self._styles is None:
            kinds: list[int] = []
            if self.layout.styles:
                with self.member(self.layout.styles) as stream:
                    xml = stream.read()
                try:
                    kinds = _style_kinds(xml)
                except ValueError as exc:
                    raise _error("corrupt", self.name) from exc
            self._styles = {str(i).encode(): kind for i, kind in enumerate(kinds)}
            self._styles[b""] = _OTHER
        return self._styles

    def style_kind(self, s: bytes) -> int | None:
        """Kind of a style index not in styles() ("007", "x"); None when out of range."""
        styles = self.styles()
        digits = s.strip()
        index = int(digits) if digits.isdigit() else 0
        return styles.get(str(index).encode())

    def strings(self) -> _SharedStrings:
        if self._strings is None:
            table = _SharedStrings(0)
            if self.layout.shared_strings:
                with self.member(self.layout.shared_strings) as stream:
                    try:
                        table = _read_shared_strings(stream, self.layout.shared_strings_size)
                    except ValueError as exc:
                        raise _error("corrupt", self.name) from exc
            self._strings = table
        return self._strings

    def close(self) -> None:
        self._strings = None


class _CheckedStream:
    """A zip member stream that turns decompression errors into ReadError."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self._stream = stream
        self._name = name

    def read(self, size: int = -1) -> bytes:
        try:
            return self._stream.read(size)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise _error("corrupt", self._name) from exc


@dataclass
class _SheetScan:
    """What a first pass over a streamed sheet found."""

    col_offset: int = 0
    width: int = 0  # cells per row, as calamine pads them (0: unknown, not padded)
    last_row: int = 0
    merges: Merges = field(default_factory=list)


_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"']([0-9]+)[\"']")
_EMPTY = object()  # a cell without a value (calamine leaves it out)
_ODD_TOKEN = (b"",) * 6  # what _SheetPatterns.token gives for anything unusual


class _XlsxSheetSource(_Source):
    """A worksheet read straight from the zip, a chunk at a time (see the section
    comment); gives the same rows as _SheetSource."""

    def __init__(self, book: _XlsxBook, sheet: _XlsxSheetInfo, hints: tuple[str, ...]) -> None:
        self.book = book
        self.sheet = sheet.name
        self.member = sheet.member
        self.name = sheet.name if not book.label else f"{book.label} › {sheet.name}"
        self.hints = hints
        self._scan: _SheetScan | None = None

    @property  # type: ignore[override]
    def col_offset(self) -> int:
        return self._prescan().col_offset

    def merges(self) -> Merges:
        return list(self._prescan().merges)

    def last_row(self) -> int:
        return self._prescan().last_row

    def _chunks(self) -> Iterator[bytes]:
        """The decompressed sheet XML, a chunk at a time."""
        if self.member is None:
            raise _error("corrupt", self.book.name)
        with self.book.member(self.member) as stream:
            while chunk := stream.read(_XLSX_CHUNK):
                yield chunk

    def _sheet_data(self, tail: bool) -> Iterator[tuple[bytes, int, int, _SheetPatterns]]:
        """(buffer, start, end, patterns): spans of the <sheetData> content, each ending
        after a complete row; with `tail`, then the rest of the document (start == -1)."""
        pats: _SheetPatterns | None = None
        buf = b""
        pos = -1  # where the sheetData content starts in buf (-1: not found yet)
        done = False
        for chunk in self._chunks():
            buf = buf + chunk if buf else chunk
            if pats is None:
                root = _ROOT_PREFIX.search(buf)
                if root is None:
                    if len(buf) > _XLSX_MAX_CARRY:
                        raise _error("corrupt", self.book.name)
                    continue
                pats = _patterns(root[1] + b":" if root[1] else b"")
            if done:
                yield buf, -1, len(buf), pats
                buf = b""
                continue
            if pos < 0:
                m = pats.data_start.search(buf)
                if m is None:
                    keep = buf.rfind(b"<")
                    buf = buf[keep:] if keep >= 0 else b""
                    continue
                pos = m.end()
                if m[1]:  # <sheetData/>
                    if not tail:
                        return
                    done = True
                    buf = buf[pos:]
                    if buf:
                        yield buf, -1, len(buf), pats
                    buf = b""
                    continue
            last = buf.rfind(pats.row_end, pos)
            end = buf.find(pats.data_end, max(pos, last))
            if end >= 0:
                yield buf, pos, end, pats
                if not tail:
                    return
                done = True
                buf = buf[end + len(pats.data_end) :]
                if buf:
                    yield buf, -1, len(buf), pats
                buf = b""
                continue
            if last < 0:
                if len(buf) - pos > _XLSX_MAX_CARRY:
                    raise _error("corrupt", self.book.name)
                continue
            cut = last + len(pats.row_end)
            yield buf, pos, cut, pats
            buf = buf[cut:]
            pos = 0
        if not done and (pats is None or pos >= 0):
            raise _error("corrupt", self.book.name)  # cut short (no <sheetData>: empty)

    def _prescan(self) -> _SheetScan:
        """One pass over the sheet for what calamine knows before the first row: the
        columns in use (where its rows start and end), the last row, and the merged
        ranges (<mergeCells> comes after <sheetData>)."""
        if self._scan is not None:
            return self._scan
        scan = _SheetScan()
        lo = hi = -1
        check: re.Pattern[bytes] | None = None  # finds cells that may widen lo..hi
        tail = b""
        for buf, start, end, pats in self._sheet_data(tail=True):
            if start < 0:  # after </sheetData>
                text = tail + buf
                for m in pats.merge.finditer(text):
                    first, _, last = _attributes(m[1]).get(b"ref", b"").partition(b":")
                    a = _cell_ref(first)
                    b = _cell_ref(last) if last else a
                    if a is not None and b is not None:
                        scan.merges.append((a, b))
                keep = text.rfind(b"<")
                tail = text[keep:] if keep >= 0 else b""
                continue
            if end <= start:
                continue
            at = buf.rfind(pats.row_start, start, end)
            if at >= 0:
                number = _ROW_NUMBER.search(buf, at, buf.find(b">", at, end))
                scan.last_row = (
                    int(number[1])
                    if number
                    else scan.last_row + buf.count(pats.row_start, start, end)
                )
            if check is not None and not check.search(buf, start, end):
                continue
            if pats.odd_cell.search(buf, start, end):
                # cells without a reference (placed after the cell before them), with it
                # after other attributes or in single quotes: walk the rows
                used = {
                    col
                    for piece in buf[start:end].split(pats.row_end)
                    for col, _, t, inner in _general_cells(piece, pats)
                    if _has_value(t, inner, pats)
                }
            else:
                used = {_column_index(x) for x in set(pats.used_columns.findall(buf, start, end))}
            if used:
                lo = min(used) if lo < 0 else min(lo, *used)
                hi = max(hi, *used)
                check = pats.unexpected(lo, hi) if hi - lo < 2000 else None
        scan.col_offset = max(lo, 0)
        scan.width = hi - scan.col_offset + 1 if hi >= 0 else 0
        self._scan = scan
        return scan

    def raw_rows(self) -> Iterator[tuple[int, list[Any]]]:
        return self._rows()

    def _rows(self) -> Iterator[tuple[int, list[Any]]]:  # noqa: C901 - the hot loop
        scan = self._prescan()
        offset, width = scan.col_offset, scan.width
        book = self.book
        styles = dict(book.styles())
        date1904 = book.date1904
        blob: bytearray | None = None
        ends: Any = None
        column_cache = _COLUMN_CACHE
        serial = _serial_value
        t_text = _t_text
        other_value = self._value
        pending = 1  # the next row number calamine gives (rows above the data are padded)
        number = 0
        cells: list[Any] = []
        size = 0
        for buf, start, end, pats in self._sheet_data(tail=False):
            tokens = pats.token.findall(buf, start, end)
            if _ODD_TOKEN in tokens:
                tokens = self._row_tokens(buf[start:end], pats, styles, offset, number)
            plain = buf.find(b"&", start, end) < 0 and buf.find(b"\r", start, end) < 0
            for letters, s, t, v, inline, row in tokens:
                if row:  # a new row: yield the one before
                    if size:
                        while pending < number:
                            yield pending, [""] * width
                            pending += 1
                        if size < width:
                            cells.extend([""] * (width - size))
                        yield number, cells
                        pending = number + 1
                    if row.__class__ is bytes:
                        number = int(row)
                        cells = []
                        size = 0
                    else:  # a row read by _general_row
                        number, cells = row
                        size = len(cells)
                    continue
                if inline:
                    if inline[0] == 62:  # b">": no xml:space="preserve", so trimmed
                        raw = inline[1:].strip(b" \t\n\r")
                        value: Any = raw.decode("utf-8", "replace") if plain else t_text(None, raw)
                    else:
                        attrs, _, raw = inline.partition(b">")
                        value = t_text(attrs, raw)
                elif not v:
                    continue
                elif t == b"s":
                    raw = v
                    if blob is None:
                        strings = book.strings()
                        blob, ends = strings.blob, strings.ends
                    if raw.isdigit():
                        try:
                            i = int(raw)
                            value = blob[ends[i] : ends[i + 1]].decode("utf-8", "replace")
                        except IndexError:
                            value = ""  # calamine: error
                    else:
                        value = other_value(t, s, raw, styles)
                        if value is _EMPTY:
                            continue
                elif not t or t == b"n":
                    raw = v
                    kind = styles.get(s)
                    try:
                        x = float(raw)
                    except ValueError:
                        kind = None
                    if kind is None or b"_" in raw or raw.strip() is not raw:
                        value = other_value(t, s, raw, styles)
                        if value is _EMPTY:
                            continue
                    elif kind:
                        value = serial(x, kind, date1904)
                    else:
                        value = x
                else:
                    value = other_value(t, s, v, styles)
                    if value is _EMPTY:
                        continue
                col = column_cache.get(letters)
                if col is None:
                    col = _column_index(letters)
                i = col - offset
                if i == size:
                    cells.append(value)
                    size += 1
                elif i > size:
                    cells.extend([""] * (i - size))
                    cells.append(value)
                    size = i + 1
                elif i >= 0:
                    cells[i] = value
        if size:
            while pending < number:
                yield pending, [""] * width
                pending += 1
            if size < width:
                cells.extend([""] * (width - size))
            yield number, cells

    def _row_tokens(
        self,
        region: bytes,
        pats: _SheetPatterns,
        styles: dict[bytes, int],
        offset: int,
        number: int,
    ) -> list[tuple[Any, ...]]:
        """The tokens of a chunk with cells or rows the token pattern does not cover: row
        by row, the plain rows as tokens and the others read by _general_row (one token
        carrying (row number, cells)). `number`: the row before the chunk."""
        row_start = pats.row_start
        tokens: list[tuple[Any, ...]] = []
        for piece in region.split(pats.row_end):
            at = piece.rfind(row_start)
            close = piece.find(b">", at)
            if at < 0 or close < 0:
                continue
            found = pats.token.findall(piece)
            if _ODD_TOKEN not in found:
                tokens += found
                number = int(next(tok[5] for tok in reversed(found) if tok[5]))
                continue
            head = piece[at + len(row_start) : close]
            if (m := _ROW_NUMBER.search(head)) is not None:
                number = int(m[1])
            else:
                number += 1 + piece.count(row_start, 0, at)
                first = pats.first_cell.search(piece, close)
                ref = _attributes(first[1]).get(b"r") if first else None
                cell_at = _cell_ref(ref) if ref else None
                if cell_at is not None:
                    number = cell_at[0] + 1
            if piece[close - 1] == 47:  # b"/": a self-closing row, no cells
                continue
            cells = self._general_row(piece[close + 1 :], pats, styles, offset)
            tokens.append((b"", b"", b"", b"", b"", (number, cells)))
        return tokens

    def _value(self, t: bytes, s: bytes, raw: bytes, styles: dict[bytes, int]) -> Any:
        """The value of a cell of type `t`, style `s` and <v> text `raw` (the cases the
        hot loop leaves out); _EMPTY for a cell calamine leaves out."""
        if t == b"str":
            return _xml_text(raw)
        if t == b"d":
            text = _xml_text(raw)
            return _iso_value(text) if text else text
        if not raw or t in (b"inlineStr", b"is"):
            return _EMPTY
        if t == b"s":
            strings = self.book.strings()
            i = int(raw) if raw.isdigit() else 0
            try:
                return strings.blob[strings.ends[i] : strings.ends[i + 1]].decode(
                    "utf-8", "replace"
                )
            except IndexError:
                return ""  # calamine: error
        if t == b"b":
            low = raw.lower()
            if low in (b"1", b"true"):
                return True
            if low in (b"0", b"false"):
                return False
            return _xml_text(raw)  # calamine: error
        if t == b"e":
            return ""  # python-calamine gives "" for errors (#N/A, #DIV/0!...)
        try:
            x = float(raw)
            if b"_" in raw or raw.strip() is not raw:
                raise ValueError(raw)
        except ValueError:
            return _xml_text(raw)  # no type: text; t="n" (calamine: error)
        kind = styles.get(s)
        if kind is None:
            kind = styles[s] = self.book.style_kind(s) or _OTHER
        return _serial_value(x, kind, self.book.date1904) if kind else x

    def _general_row(
        self, content: bytes, pats: _SheetPatterns, styles: dict[bytes, int], offset: int
    ) -> list[Any]:
        """The cells of a row the plain-cell pattern does not cover (rich text, cells
        without a reference, other attributes...)."""
        cells: list[Any] = []
        for col, s, t, inner in _general_cells(content, pats):
            if not inner:
                continue
            inline = pats.inline.search(inner)
            if inline is not None:
                value: Any = _rich_text(inline[1] or b"")
            else:
                found = pats.value.search(inner)
                if found is None or t in (b"inlineStr", b"is"):
                    continue
                value = self._value(t, s, found[1] or b"", styles)
                if value is _EMPTY:
                    continue
            i = col - offset
            if i >= len(cells):
                cells.extend([""] * (i - len(cells)))
                cells.append(value)
            elif i >= 0:
                cells[i] = value
        return cells


_Book = _CalamineBook | _XlsxBook


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
_LONE_CR = re.compile(rb"\r(?!\n)")
_SPLITTABLE = frozenset({"utf-8", "utf-8-sig", "cp1258", "cp1252", "latin-1"})
"""Encodings in which a line feed byte is always a line feed (not UTF-16)."""
_MAX_QUOTES = 4_000_000
"""Above this many quote characters in a part, finding a cut costs too much to be worth it."""


@dataclass(frozen=True)
class Span:
    """A part of a CSV file that starts and ends between records: bytes ``start`` to
    ``end``, holding records ``first`` to ``last`` (None: to the end of the file)."""

    start: int
    end: int
    first: int
    last: int | None


class Misaligned(Exception):
    """A part of a CSV file did not hold the records its cut predicted (a quote character
    inside an unquoted cell fools the count); read the file whole instead."""


class _Range(io.RawIOBase):
    """At most ``size`` bytes of an open binary file, from where it stands."""

    def __init__(self, raw: IO[bytes], size: int) -> None:
        self._raw = raw
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)
        n = self._raw.readinto(view[: min(len(view), self._left)])  # type: ignore[attr-defined]
        self._left -= n
        return n


class _CsvSource(_Source):
    cells_are_text = True

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
            records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))[:60]
            window = [(n, r) for n, r in enumerate(records, 1)]
            found = _detect_any(window, [], tables)
            score = found.score if found else 0
            widths = [len(r) for r in records if r]
            mode = max(set(widths), key=widths.count) if widths else 0
            consistency = widths.count(mode) if mode > 1 else 0
            rank = (score, consistency, -order)
            if best_rank is None or rank > best_rank:
                best_rank, self.delimiter = rank, delimiter

    def raw_rows(self, span: Span | None = None) -> Iterator[tuple[int, list[Any]]]:
        """Records with their numbers; with ``span``, only that part of the file (raises
        :class:`Misaligned` when it does not end with record ``span.last``)."""
        if self.delimiter is None:
            self.prepare(None)
        with ExitStack() as stack:
            if span is None or span.start == 0 and span.last is None:
                text = self._text(stack)
            else:
                raw = stack.enter_context(self._open())
                raw.seek(span.start)
                text = io.TextIOWrapper(
                    io.BufferedReader(_Range(raw, span.end - span.start), _CHUNK),
                    encoding=self.encoding or "utf-8", errors="replace", newline="",
                )
            reader = csv.reader(text, delimiter=self.delimiter or ",")
            number = 0 if span is None else span.first - 1
            try:
                if self._skip_sep_line and (span is None or span.start == 0):
                    next(reader, None)
                for record in reader:
                    number += 1
                    yield number, record
            except csv.Error as exc:
                raise _error("csv", self.name, f" ({number + 1}: {exc})") from exc
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
                raise _error("corrupt", self.name) from exc
            if span is not None and span.last is not None and number != span.last:
                raise Misaligned(f"{self.name}: records {span.first}..{number}, "
                                 f"expected ..{span.last}")

    def spans(self, parts: int) -> list[Span] | None:
        """Cut the file into about ``parts`` equal parts between records, for reading them
        in parallel; None when it cannot be (not a file on disk, UTF-16, a lone carriage
        return, too many quotes) or is not worth it (fewer than two parts).

        A cut is a line feed outside quotes: the quote characters before it are counted
        (an even number: outside), and so are the line feeds outside quotes, which give
        the number of the next record. A file whose quotes do not only open and close
        cells can fool the count; reading a part then raises :class:`Misaligned`.
        """
        if self.delimiter is None:
            self.prepare(None)
        if parts < 2 or self.encoding not in _SPLITTABLE:
            return None
        with self._open() as f:
            if not isinstance(f, io.BufferedReader):
                return None
            return self._cuts(f, os.fstat(f.fileno()).st_size, parts)

    def _cuts(self, f: IO[bytes], size: int, parts: int) -> list[Span] | None:
        """The cuts of :meth:`spans`, reading the file a megabyte at a time (memory stays
        flat whatever its size)."""
        cuts: list[tuple[int, int]] = []  # (byte after the cut, records before it)
        pos, records, inside = 0, 0, False
        for k in range(1, parts):
            target = size * k // parts
            if target <= pos:
                continue
            quotes, at = 0, pos
            while at < target:  # count up to the target
                n = min(_CHUNK, target - at)
                f.seek(at)
                data = f.read(n + 1)  # one byte more: a carriage return's next byte
                block = data[:n]
                at += n
                if b"\r" in block and (m := _LONE_CR.search(data)) and m.start() < n:
                    return None  # csv ends a record there too: the counts would differ
                if b'"' not in block:
                    records += 0 if inside else block.count(b"\n")
                    continue
                pieces = block.split(b'"')
                quotes += len(pieces) - 1
                if quotes > _MAX_QUOTES:
                    return None
                for i, piece in enumerate(pieces):
                    if inside == bool(i % 2):  # outside quotes
                        records += piece.count(b"\n")
                inside ^= bool((len(pieces) - 1) % 2)
            p = target
            while True:  # on to the next line feed outside quotes
                f.seek(p)
                data = f.read(_CHUNK)
                if not data:
                    p = size
                    break
                if inside:
                    q = data.find(b'"')
                    if q < 0:
                        p += len(data)
                    else:
                        p, inside = p + q + 1, False
                    continue
                nl = data.find(b"\n")
                q = data.find(b'"', 0, nl if nl >= 0 else len(data))
                if q >= 0:
                    p, inside = p + q + 1, True
                    continue
                # up to the line feed; without one, a carriage return that ends the
                # read is looked at again with the byte after it
                upto = nl + 1 if nl >= 0 else len(data) - data.endswith(b"\r")
                if upto == 0 or _LONE_CR.search(data, 0, upto):
                    return None
                if nl >= 0:
                    records += 1
                    p += nl + 1
                    break
                p += upto
            if p >= size:
                break
            cuts.append((p, records))
            pos = p
        if not cuts:
            return None
        skipped = 1 if self._skip_sep_line else 0
        spans, start, first = [], 0, 1
        for end, before in cuts:
            spans.append(Span(start, end, first, before - skipped))
            start, first = end, before - skipped + 1
        spans.append(Span(start, size, first, None))
        return spans


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

    def spans(self, parts: int) -> list[Span] | None:
        """Parts of the table's CSV file that :meth:`rows` can read apart and in parallel
        (see ``_CsvSource.spans``); None for a sheet, or a file that cannot be cut."""
        cut = getattr(self._source, "spans", None)
        return cut(parts) if cut else None

    def rows(self, span: Span | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield (row number as seen in Excel, {key: value}) for each data row (of one part
        of a CSV file with ``span``, from :meth:`spans`).

        Streams: one row is converted at a time. Rows with no value in any mapped column
        (blank rows, rows with only a row number) and repetitions of the header (as at the
        top of printed pages) are skipped. Values: str, int, float, datetime.date, bool, or
        None for an empty cell; see the module docstring.
        """
        reading = self.reading(span)
        first, convert = reading.first, reading.convert
        for number, cells in reading.raw:
            if number < first:
                continue
            values = convert(cells)
            if values is not None:
                yield number, values

    def reading(self, span: Span | None = None) -> "Reading":
        """What :meth:`rows` does, in parts: the raw rows and the conversion of one row's
        cells, for a caller that handles the usual row on its own (the member import)."""
        offset = self._source.col_offset
        converters = dict(_CONVERTERS)
        if self._source.cells_are_text:  # what _as_text and _as_date do with a str
            converters["code"] = converters["text"] = converters["date"] = clean_text
        plan = [
            (key, index - offset, converters[cols.column(self.name, key).kind])
            for key, index in self.columns.items()
        ]
        signatures = self._header.signatures if self.columns == self._header.mapping else {}
        check = [(key, signatures[key]) for key, _, _ in plan if signatures.get(key)]
        if len(check) < 2:
            check = []
        needed = max((index for _, index, _ in plan), default=-1) + 1
        wide = all(index >= 0 for _, index, _ in plan)

        def convert(cells: list[Any]) -> dict[str, Any] | None:
            """The row's {key: value}; None for a row to skip (empty, a repeated header)."""
            width = len(cells)
            if wide and width >= needed:
                values = {key: conv(cells[index]) for key, index, conv in plan}
            else:
                values = {
                    key: conv(cells[index]) if 0 <= index < width else None
                    for key, index, conv in plan
                }
            for value in values.values():
                if value is not None:
                    break
            else:
                return None  # nothing in any mapped column
            if check:
                hits = 0
                for key, texts in check:  # _signature, inlined: this runs for every row
                    value = values[key]
                    kind = type(value)
                    if kind is str:
                        if value.casefold() in texts:
                            hits += 1
                    elif kind is int and str(value) in texts:
                        hits += 1
                if hits >= 2:
                    filled = sum(1 for value in values.values() if value is not None)
                    if hits * 2 >= filled:
                        return None
            return values

        raw = self._source.raw_rows(span) if span else self._source.raw_rows()
        return Reading(
            raw=raw, first=self.first_data_row, convert=convert,
            cells={key: (index, conv) for key, index, conv in plan} if wide else {},
            header_texts={key: texts for key, texts in check},
        )


@dataclass
class Reading:
    """One pass over a table's rows (:meth:`Table.reading`).

    Attributes:
        raw: (row number, cells) of every row of the sheet or part, header rows included.
        first: the first data row's number; rows before it are the header.
        convert: a data row's cells -> its {key: value}, or None when :meth:`Table.rows`
            skips the row.
        cells: key -> (index in a row's cells, the reader's conversion of that cell);
            empty when a mapped column lies left of the cells a row holds.
        header_texts: key -> the header texts (casefolded) by which ``convert`` knows a
            repeated header row; empty when it does not look for one.
    """

    raw: Iterator[tuple[int, list[Any]]]
    first: int
    convert: Callable[[list[Any]], dict[str, Any] | None]
    cells: dict[str, tuple[int, Callable[[Any], Any]]]
    header_texts: dict[str, frozenset[str]]


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
    _books: list[_Book] = field(default_factory=list, repr=False)

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
    books: list[_Book],
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
    books: list[_Book],
    unknown: list[Unknown],
    label: str,
    open_binary: Callable[[], IO[bytes]] | None = None,
) -> list[_Source]:
    """The sheets of a workbook: read by python-calamine, except for the large worksheets
    of an .xlsx/.xlsm package (`open_binary` gives its bytes), which are streamed."""
    from python_calamine import SheetTypeEnum

    if open_binary is not None:
        layout = _xlsx_layout(open_binary)
        if layout is not None and any(
            s.worksheet and s.size > XLSX_STREAM_THRESHOLD for s in layout.sheets
        ):
            return _xlsx_sources(
                opener, open_binary, name, file_hint, books, unknown, label, layout
            )
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


def _xlsx_sources(
    opener: Callable[[], Any],
    open_binary: Callable[[], IO[bytes]],
    name: str,
    file_hint: str,
    books: list[_Book],
    unknown: list[Unknown],
    label: str,
    layout: _XlsxLayout,
) -> list[_Source]:
    """Sources of an .xlsx/.xlsm package with a large worksheet: large worksheets are
    streamed; the small ones are left to python-calamine, unless the shared strings table
    is large too (calamine would load all of it when the workbook is opened)."""
    book = _XlsxBook(open_binary, name, label, layout)
    books.append(book)
    stream_all = layout.shared_strings_size > XLSX_STREAM_THRESHOLD
    calamine: _CalamineBook | None = None
    worksheets = [s for s in layout.sheets if s.worksheet]
    sources: list[_Source] = []
    for sheet in layout.sheets:
        if not sheet.worksheet:
            unknown.append(
                Unknown(f"{label} › {sheet.name}" if label else sheet.name, "unsupported")
            )
            continue
        hints = (sheet.name, file_hint) if len(worksheets) == 1 else (sheet.name,)
        if stream_all or sheet.size > XLSX_STREAM_THRESHOLD:
            sources.append(_XlsxSheetSource(book, sheet, hints))
            continue
        if calamine is None:
            calamine = _CalamineBook(opener, label, lazy=True)
            books.append(calamine)
        sources.append(_SheetSource(calamine, sheet.name, hints))
    return sources


def _open_calamine_file(path: Path, books: list[_Book], *, zipped: bool = False) -> Workbook:
    from python_calamine import CalamineWorkbook

    unknown: list[Unknown] = []
    sources = _calamine_sources(
        lambda: CalamineWorkbook.from_path(str(path)),
        path.name,
        path.stem,
        books,
        unknown,
        "",
        (lambda: open(path, "rb")) if zipped else None,
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
    books: list[_Book],
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

            def seekable(read=read_bytes, open_binary=open_binary) -> IO[bytes]:
                return io.BytesIO(read()) if read else open_binary()

            ooxml = seekable if ext in (".xlsx", ".xlsm") else None
            try:
                sources += _calamine_sources(opener, name, stem, books, unknown, name, ooxml)
            except ReadError:
                unknown.append(Unknown(name, "unreadable"))
        else:
            unknown.append(Unknown(name, "unsupported"))
    return sources


def _open_zip(path: Path, books: list[_Book]) -> Workbook:
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


def _open_folder(path: Path, books: list[_Book]) -> Workbook:
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
    books: list[_Book] = []
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
            return _open_calamine_file(p, books, zipped=True)
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
