"""Writing spreadsheets: the one module of the project that produces .xlsx and .csv files.

Everything written is protected against formula injection (CSV injection, OWASP):

* In CSV, :func:`safe_cell` prefixes a single quote to any text that starts with a formula
  trigger (``=``, ``+``, ``-``, ``@``, tab, carriage return, line feed), as OWASP advises.
  Text that is nothing but a plain number ("-5", "+84912345678", "-0,5") is left alone: a
  spreadsheet reads it as that number, never as a formula, and the quote would only spoil
  it. Diacritics and everything else are kept as they are. The reader
  (:func:`quantriet.imports.readers.clean_text`) removes such a protecting quote again, so
  an exported CSV imports back unchanged.
* In XLSX, text is always stored as a string cell (never a formula cell, which openpyxl
  would otherwise make of "=..."), and text starting with a trigger also gets Excel's
  "quote prefix" style: Excel shows and keeps it as text even when the cell is edited, and
  the value is stored without an added quote, so it round-trips exactly.
"""

import csv
import io
import os
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import chain, islice
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from quantriet.imports import columns as cols

__all__ = [
    "CSV_BOM",
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "csv_chunks",
    "safe_cell",
    "sheet_title",
    "write_csv",
    "write_xlsx",
]

DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
CSV_BOM = "\ufeff"
"""UTF-8 byte order mark: without it Excel reads a UTF-8 CSV as ANSI and garbles diacritics."""

_TRIGGERS = frozenset("=+-@\t\r\n")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)", re.ASCII)
_MAX_TEXT = 32767  # Excel's limit on the length of a cell's text
_MAX_EXACT_INT = 10**15  # Excel keeps 15 significant digits; longer integers go as text
_WIDTH_SAMPLE = 200  # rows looked at to size the columns
_MIN_WIDTH, _MAX_WIDTH = 8, 60
_CSV_BATCH = 1000


def safe_cell(value: Any) -> Any:
    """`value`, with a quote prefixed when it is text starting with a formula trigger.

    "=1+2" -> "'=1+2"; "@SUM(A1)" -> "'@SUM(A1)"; "-2+3" -> "'-2+3"; "+84 912 345 678" ->
    "'+84 912 345 678"; but "-5", "+84912345678" and "Nguyễn" are unchanged, and so is any
    non-text value.
    """
    if (
        isinstance(value, str)
        and value
        and value[0] in _TRIGGERS
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_cell(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return safe_cell(str(value))


def csv_chunks(
    header: list[str], rows: Iterable[Iterable[Any]], *, delimiter: str = ","
) -> Iterator[str]:
    """The CSV text of `header` and `rows` in chunks of about a thousand rows, starting
    with the BOM; for a streaming HTTP response. Same formatting as :func:`write_csv`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    buffer.write(CSV_BOM)
    writer.writerow([_csv_text(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        count += 1
        if count % _CSV_BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_csv(
    target: str | os.PathLike[str] | IO[str] | IO[bytes] | Any,
    header: list[str],
    rows: Iterable[Iterable[Any]],
    *,
    delimiter: str = ",",
) -> None:
    """Write one table as CSV: UTF-8 with BOM (so Excel shows diacritics), CRLF line ends,
    :func:`safe_cell` applied to every cell, dates as dd/mm/yyyy, None as "".

    `target` is a path, a text stream, or anything with a ``write(bytes)`` method (a binary
    file, a zip member opened for writing, an HttpResponse). Rows are written as they come.
    Note: Excel in a Vietnamese locale may expect ";" between fields when the file is
    double-clicked; pass ``delimiter=";"`` for such users, or give them XLSX.
    """
    chunks = csv_chunks(header, rows, delimiter=delimiter)
    if isinstance(target, str | os.PathLike):
        with open(target, "w", encoding="utf-8", newline="") as f:
            for chunk in chunks:
                f.write(chunk)
    elif isinstance(target, io.TextIOBase):
        for chunk in chunks:
            target.write(chunk)
    else:
        for chunk in chunks:
            target.write(chunk.encode("utf-8"))


_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def sheet_title(title: str, used: set[str] | None = None) -> str:
    """A valid, unique (case-insensitively, within `used`) Excel sheet title for `title`:
    at most 31 characters, none of []:*?/\\, not starting or ending with an apostrophe."""
    base = _BAD_TITLE.sub(" ", title).strip().strip("'").strip() or "Sheet"
    base = base[:31]
    candidate, n = base, 1
    taken = {t.casefold() for t in used or ()}
    while candidate.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        candidate = base[: 31 - len(suffix)] + suffix
    if used is not None:
        used.add(candidate)
    return candidate


def _is_code_header(header: str) -> bool:
    """Tell whether the header names a code/ID column (in any table)."""
    for table in cols.TABLES:
        key = cols.match_header(header, table)
        if key is not None and cols.column(table, key).kind == "code":
            return True
    return False


def _display_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = str(value)
    return max((len(line) for line in text.splitlines()), default=0)


def write_xlsx(
    target: str | os.PathLike[str] | IO[bytes] | Any,
    sheets: dict[str, tuple[list[str], Iterable[Iterable[Any]]]],
) -> None:
    """Write a workbook with one sheet per entry of `sheets` (title -> (header, rows)).

    Streams with openpyxl's write-only mode: rows are consumed one at a time (the first
    200 are looked at first to size the columns). The header row is bold and frozen;
    dates are real date cells shown as dd/mm/yyyy (datetimes as dd/mm/yyyy hh:mm; aware
    datetimes are written with their own wall-clock time); text is always a text cell, so
    codes such as "001185012345" keep their leading zeros, and columns whose header names
    a code or ID, or whose text looks numeric, are formatted as Text so that values typed
    in later keep theirs too. Integers of 16 digits or more are written as text (Excel
    keeps 15 significant digits). Characters XML cannot hold are dropped. Text starting
    with a formula trigger is protected (see the module docstring). Titles are made valid
    with :func:`sheet_title`.
    """
    wb = Workbook(write_only=True)
    used: set[str] = set()
    bold = Font(bold=True)
    for title, (header, rows) in sheets.items():
        ws = wb.create_sheet(sheet_title(title, used))
        rows = iter(rows)
        head = [list(row) for row in islice(rows, _WIDTH_SAMPLE)]
        width = max([len(header), *(len(row) for row in head)], default=0)
        for index in range(width):
            name = header[index] if index < len(header) else ""
            values = [row[index] for row in head if index < len(row)]
            letter = get_column_letter(index + 1)
            dim = ws.column_dimensions[letter]
            widest = max([_display_width(name) + 2, *(_display_width(v) for v in values)])
            dim.width = min(max(widest + 1, _MIN_WIDTH), _MAX_WIDTH)
            texts = [v for v in values if isinstance(v, str) and v]
            if (name and _is_code_header(str(name))) or (
                texts and all(_PLAIN_NUMBER.fullmatch(v) for v in texts)
            ):
                dim.number_format = "@"
        if header:
            ws.freeze_panes = "A2"
            cells = []
            for name in header:
                cell = WriteOnlyCell(ws, value=_cell_text(name))
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                cell.font = bold
                cells.append(cell)
            ws.append(cells)

        for row in chain(head, rows):
            ws.append([_xlsx_value(ws, v) for v in row])
    if not used:
        wb.create_sheet("Sheet")
    wb.save(target)


def _cell_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value[:_MAX_TEXT]


def _xlsx_value(ws: Any, value: Any) -> Any:
    """What to append for `value`: a plain value, or a styled write-only cell."""
    if value is None:
        return None
    if isinstance(value, str):
        text = _cell_text(value)
        if text and text[0] in _TRIGGERS:
            cell = WriteOnlyCell(ws, value=text)
            cell.data_type = "s"  # openpyxl would make a formula of "=..."
            cell.quotePrefix = True
            return cell
        return text
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value=value.replace(tzinfo=None))
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, int):
        return str(value) if abs(value) >= _MAX_EXACT_INT else value
    if isinstance(value, float):
        return value
    return _xlsx_value(ws, str(value))
