"""Bridge points from a sheet: one row per point (host unit code, name, address, capacity,
link, session times, coordinators' logins).

The sheet is a .xlsx/.xls/.ods workbook (first sheet) or a .csv file whose first non-empty
row holds the headers; headers are recognised in Vietnamese or English, with or without
accents (see :data:`COLUMNS`). Every row is checked before anything is written: one bad row
and nothing changes (see :func:`quantriet.conference.services.import_points`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quantriet.imports import values
from quantriet.imports.columns import header_key
from quantriet.imports.readers import clean_text

MAX_BYTES = 5 * 1024 * 1024
"""A sheet of 15,000 points is well under a megabyte."""
MAX_ROWS = 20_000

COLUMNS: dict[str, tuple[Any, tuple[str, ...]]] = {
    # key: (template header, accepted header texts besides the template's)
    "host_unit": (gettext_lazy("Host unit code"),
                  ("Mã đơn vị chủ trì", "Mã đơn vị", "Đơn vị chủ trì", "Host unit code",
                   "host_unit", "unit_code", "Mã đơn vị đăng cai")),
    "code": (gettext_lazy("Point code"),
             ("Mã điểm cầu", "Point code", "code", "Mã")),
    "name": (gettext_lazy("Point name"),
             ("Tên điểm cầu", "Point name", "name", "Tên", "Điểm cầu")),
    "address": (gettext_lazy("Address"), ("Địa chỉ", "Address", "Địa điểm", "Nơi tổ chức")),
    "capacity": (gettext_lazy("Capacity"),
                 ("Sức chứa", "Số chỗ", "Số chỗ ngồi", "Capacity", "Seats")),
    "stream_url": (gettext_lazy("Stream or meeting link"),
                   ("Đường dẫn", "Link", "Đường dẫn trực tuyến", "Link họp", "Stream or meeting "
                    "link", "stream_url", "URL")),
    "starts_at": (gettext_lazy("Session starts"),
                  ("Bắt đầu", "Thời gian bắt đầu", "Session starts", "starts_at", "Start")),
    "ends_at": (gettext_lazy("Session ends"),
                ("Kết thúc", "Thời gian kết thúc", "Session ends", "ends_at", "End")),
    "coordinators": (gettext_lazy("Coordinators' logins"),
                     ("Tài khoản điều phối", "Người điều phối", "Điều phối viên",
                      "Coordinators", "Coordinators' logins", "coordinators")),
}
REQUIRED = ("host_unit",)

_ALIASES = {header_key(alias): key for key, (_h, aliases) in COLUMNS.items()
            for alias in aliases}


class SheetError(ValueError):
    """The file cannot be read as a sheet of bridge points at all."""


@dataclass
class PointRow:
    line: int
    host_unit: str
    code: str
    name: str
    address: str
    capacity: int | None
    stream_url: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    coordinators: list[str] = field(default_factory=list)


@dataclass
class Sheet:
    rows: list[PointRow]
    errors: list[tuple[int, str]]  # (row number as the user sees it, message)
    ignored_headers: list[str]


def template_rows() -> tuple[list[str], list[list[Any]]]:
    """Headers and one example row of the downloadable template."""
    header = [str(h) for h, _a in COLUMNS.values()]
    example = ["79", "", "", "Hội trường Liên đoàn Lao động TP Hồ Chí Minh", 300,
               "https://meet.example.vn/nq-dh14", "15/12/2026 08:00", "15/12/2026 11:30",
               "dieuphoi.hcm"]
    return header, [example]


def _raw_rows(stream: IO[bytes], filename: str) -> list[tuple[int, list[Any]]]:
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise SheetError(_("The file is larger than %(mb)s MB; a sheet of bridge points is "
                           "much smaller.") % {"mb": MAX_BYTES // (1024 * 1024)})
    name = filename.lower()
    if name.endswith((".csv", ".txt", ".tsv")):
        for encoding in ("utf-8-sig", "cp1258"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise SheetError(_("The text of this file is neither UTF-8 nor Windows-1258; "
                               "save it as CSV UTF-8 and upload it again."))
        sample = text[:4096]
        delimiter = max((",", ";", "\t"), key=sample.count)
        return [(i, list(r)) for i, r in
                enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1)]
    if name.endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        try:
            from python_calamine import CalamineWorkbook

            book = CalamineWorkbook.from_filelike(io.BytesIO(data))
            sheet = book.get_sheet_by_index(0)
            start = sheet.start[0] if sheet.start else 0
            return [(start + i + 1, list(r)) for i, r in enumerate(sheet.to_python())]
        except Exception:  # calamine raises several unrelated types for broken files
            raise SheetError(_("This file cannot be read as a spreadsheet.")) from None
    raise SheetError(_("Upload a .xlsx, .ods or .csv file."))


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if value == "":
        return None
    return value


_DATETIME = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s+(\d{1,2})[:h](\d{2})?)?")


def parse_datetime(value: Any) -> dt.datetime | None:
    """A session time: a date-time cell, "15/12/2026 08:00", "15/12/2026 8h30" or ISO."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    text = str(value).strip()
    m = _DATETIME.fullmatch(text)
    try:
        if m:
            day, month, year, hour, minute = m.groups()
            return dt.datetime(int(year), int(month), int(day), int(hour or 0),
                               int(minute or 0))
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    raise values.CellError(_("“%(value)s” is not a date and time: write dd/mm/yyyy hh:mm."),
                           value=text)


def read_sheet(stream: IO[bytes], filename: str) -> Sheet:
    """The rows of a sheet of bridge points, each checked on its own (the units and
    accounts they name are checked by the service)."""
    raw = _raw_rows(stream, filename)
    header_at = next((k for k, (_n, cells) in enumerate(raw[:15])
                      if sum(1 for c in cells if header_key(str(c or "")) in _ALIASES) >= 1),
                     None)
    if header_at is None:
        raise SheetError(_("No header row found: the first row must name the columns, e.g. "
                           "“Mã đơn vị chủ trì”, “Địa chỉ”, “Sức chứa”."))
    headers = raw[header_at][1]
    mapping: dict[int, str] = {}
    ignored = []
    for i, cell in enumerate(headers):
        key = _ALIASES.get(header_key(str(cell or "")))
        if key and key not in mapping.values():
            mapping[i] = key
        elif str(cell or "").strip():
            ignored.append(str(cell).strip())
    missing = [str(COLUMNS[k][0]) for k in REQUIRED if k not in mapping.values()]
    if missing:
        raise SheetError(_("Missing column: %(cols)s.") % {"cols": ", ".join(missing)})
    rows: list[PointRow] = []
    errors: list[tuple[int, str]] = []
    for line, cells in raw[header_at + 1:]:
        got = {key: _cell(cells[i]) if i < len(cells) else None for i, key in mapping.items()}
        if all(v in (None, "") for v in got.values()):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append((line, _("More than %(n)s rows.") % {"n": MAX_ROWS}))
            break
        try:
            host = values.code(got.get("host_unit"))
            if not host:
                raise values.CellError(_("The host unit code is empty."))
            url = values.text(got.get("stream_url"), 500)
            if url and not re.match(r"https?://\S+$", url):
                raise values.CellError(_("“%(value)s” is not a web link (http:// or "
                                         "https://)."), value=url)
            capacity = values.integer(got.get("capacity"))
            row = PointRow(
                line=line, host_unit=host, code=values.code(got.get("code")) or host,
                name=values.text(got.get("name")), address=values.text(got.get("address")),
                capacity=capacity, stream_url=url,
                starts_at=parse_datetime(got.get("starts_at")),
                ends_at=parse_datetime(got.get("ends_at")),
                coordinators=[c for c in re.split(r"[,;\s]+", values.text(
                    got.get("coordinators"), 2000)) if c])
            if row.starts_at and row.ends_at and row.ends_at <= row.starts_at:
                raise values.CellError(_("The session ends before it starts."))
        except values.CellError as exc:
            errors.append((line, str(exc.message) % exc.params if exc.params
                           else str(exc.message)))
            continue
        rows.append(row)
    seen: dict[str, int] = {}
    for row in rows:
        if row.code in seen:
            errors.append((row.line, _("Point code %(code)s is also on row %(row)s.")
                           % {"code": row.code, "row": seen[row.code]}))
        seen.setdefault(row.code, row.line)
    return Sheet(rows, errors, ignored)
