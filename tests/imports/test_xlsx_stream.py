"""The streaming .xlsx reader (quantriet.imports.readers._XlsxSheetSource) against the
python-calamine path.

Large worksheets are streamed instead of being loaded by python-calamine; these tests set
XLSX_STREAM_THRESHOLD to 0 so that small generated workbooks take the streaming path too,
and check that it reads every sheet exactly as calamine does: the raw rows (row numbers,
padding, value types), merged ranges, where the cells start, and the tables found in them.

openpyxl writes every text as an inline string; Excel keeps text in the shared strings
table. `to_shared_strings` turns an openpyxl workbook into that layout, so each workbook is
checked in both. Cells openpyxl cannot write (formulas with a cached value, rich text,
cells without a reference...) are put into the sheet XML by hand, as in test_readers.
"""

import contextlib
import datetime as dt
import math
import re
import unicodedata
import zipfile

import openpyxl
import pytest

from quantriet.imports import readers
from quantriet.imports.readers import ReadError, open_workbook
from quantriet.imports.spreadsheets import write_xlsx

MEMBERS_HEADER = [
    "Mã đoàn viên",
    "Họ và tên",
    "Giới tính",
    "Ngày sinh",
    "Số CCCD",
    "Số thẻ đoàn viên",
    "Email",
    "Số điện thoại",
    "Mã công đoàn cơ sở",
]
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


# --------------------------------------------------------------------------------------
# helpers


def make_xlsx(path, sheets, merges=None, formats=None):
    """Write `sheets` (title -> rows; a row is a list, or a dict of cell -> value) with
    openpyxl; `formats`: title -> {cell: number format}."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            if isinstance(row, dict):
                for ref, value in row.items():
                    ws[ref] = value
            else:
                ws.append(row)
        for ref in (merges or {}).get(title, ()):
            ws.merge_cells(ref)
        for ref, number_format in (formats or {}).get(title, {}).items():
            ws[ref].number_format = number_format
    wb.save(path)
    return path


def read_parts(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_parts(path, parts):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def set_sheet_data(path, sheet_index, sheet_data):
    """Replace the <sheetData> of sheet `sheet_index` (1-based) by `sheet_data` (the XML of
    the rows, written by hand)."""
    parts = read_parts(path)
    member = f"xl/worksheets/sheet{sheet_index}.xml"
    xml = parts[member].decode()
    xml, n = re.subn(
        r"<sheetData\s*/>|<sheetData>.*</sheetData>",
        lambda m: f"<sheetData>{sheet_data}</sheetData>",
        xml,
        flags=re.S,
    )
    assert n == 1
    parts[member] = xml.encode()
    return write_parts(path, parts)


_INLINE = re.compile(
    r'<c ([^>]*?)t="inlineStr"([^>]*)><is><t(?: xml:space="preserve")?>([^<]*)</t></is></c>'
)


def to_shared_strings(path, target, extra=()):
    """Copy the openpyxl workbook `path` to `target` with every inline string moved to the
    shared strings table, as Excel saves text; `extra` <si> items are added at the end."""
    parts = read_parts(path)
    strings: dict[str, int] = {}

    def shared(m):
        text = m[3]
        index = strings.setdefault(text, len(strings))
        return f'<c {m[1]}t="s"{m[2]}><v>{index}</v></c>'

    for name in list(parts):
        if name.startswith("xl/worksheets/sheet"):
            parts[name] = _INLINE.sub(shared, parts[name].decode()).encode()
    items = []
    for text in strings:
        space = ' xml:space="preserve"' if text != text.strip() else ""
        items.append(f"<si><t{space}>{text}</t></si>")
    items += extra
    parts["xl/sharedStrings.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" '
        f'count="{len(items)}" uniqueCount="{len(items)}">{"".join(items)}</sst>'
    ).encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>",
        '<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    ).encode()
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace(
        "</Types>",
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    ).encode()
    return write_parts(target, parts)


def typed(value):
    """A value with its type, so that 1 == 1.0 == True and date == datetime do not pass."""
    if isinstance(value, float) and math.isnan(value):
        return (float, "nan")
    return (type(value), value)


def typed_rows(rows):
    return [(number, [typed(v) for v in cells]) for number, cells in rows]


def snapshot(path, monkeypatch, threshold):
    """Everything the rest of the import sees of `path`, read with the given threshold:
    each source's reader, raw rows, merged ranges and first column, and the tables."""
    monkeypatch.setattr(readers, "XLSX_STREAM_THRESHOLD", threshold)
    wb = open_workbook(path)
    sources = {}
    for name, src in wb._sources.items():
        rows = typed_rows(src.raw_rows())  # read first: calamine sets col_offset then
        sources[name] = {
            "rows": rows,
            "col_offset": src.col_offset,
            "merges": [tuple(map(tuple, m)) for m in src.merges()],
        }
    tables = {
        name: {
            "source": t.source,
            "header_row": t.header_row,
            "first_data_row": t.first_data_row,
            "columns": t.columns,
            "headers": t.headers,
            "unmapped": t.unmapped,
            "ignored": t.ignored,
            "duplicates": t.duplicates,
            "rows": [(n, {k: typed(v) for k, v in values.items()}) for n, values in t.rows()],
        }
        for name, t in wb.tables.items()
    }
    kinds = {name: type(src).__name__ for name, src in wb._sources.items()}
    wb.close()
    return kinds, {"sources": sources, "tables": tables, "unknown": wb.unknown}


def assert_same_both_ways(path, monkeypatch):
    """Streamed and calamine reads of `path` agree; returns the streamed snapshot."""
    calamine_kinds, calamine = snapshot(path, monkeypatch, 10**12)
    stream_kinds, streamed = snapshot(path, monkeypatch, 0)
    assert set(calamine_kinds.values()) <= {"_SheetSource"}
    assert set(stream_kinds.values()) <= {"_XlsxSheetSource"}
    assert streamed["unknown"] == calamine["unknown"]
    for name, expected in calamine["sources"].items():
        assert streamed["sources"][name] == expected, name
    assert streamed == calamine
    return streamed


@pytest.fixture
def stream_all(monkeypatch):
    monkeypatch.setattr(readers, "XLSX_STREAM_THRESHOLD", 0)


# --------------------------------------------------------------------------------------
# workbooks written with openpyxl, read both ways


def roster_workbook(path):
    nfd_name = unicodedata.normalize("NFD", "Trần Thị Bích")
    return make_xlsx(
        path,
        {
            "Đoàn viên": [
                ["DANH SÁCH ĐOÀN VIÊN CÔNG ĐOÀN CƠ SỞ"],
                ["(kèm theo công văn số 12/CV)"],
                [],
                ["STT", *MEMBERS_HEADER, "Ghi chú", "Quê quán"],
                [1, "001", "  Nguyễn   Văn An ", "Nam", dt.date(1985, 3, 1), "001185012345"]
                + ["T-01", "an@example.vn", "0912345678", "CS01", None, "Hà Nội"],
                [2, 2.0, nfd_name, "Nữ", dt.datetime(1990, 1, 2, 8, 30), 1185012345.0, 17]
                + [None, 912345678, 1.0, "x", None],
                [3, "0003", "Lê Văn Cường", None, None, "079099000123", None, "c&d@x.vn"]
                + ["'+84912345678", "CS02", "a < b > c", "Đà Nẵng"],
                [],
                [None, "0004", "Phạm Thị Dung", "Nữ", dt.date(2000, 2, 29), None, True, None]
                + [None, "CS02", False, None],
            ],
            "Đơn vị": [
                ["Mã đơn vị", "Tên đơn vị", "Cấp", "Mã đơn vị cấp trên", "Số đoàn viên"]
                + ["Ngày hiệu lực", "Ngày giải thể"],
                [1, "Tổng", 1.0, None, 1200.0, 45658, dt.date(2025, 7, 1)],
                ["02", "Con", "2", 1, "35", "01/07/2025", 45658.5],
                ["03", "Lẻ", 2, "01", 12.5, "", True],
                ["04", "Tab\there", -0.0, "01", 1e300, dt.time(10, 30), dt.timedelta(hours=2)],
            ],
            "Cán bộ": [
                {"C3": "Mã đoàn viên", "D3": "Mã công đoàn cơ sở", "E3": "Chức vụ"},
                {"C4": "001", "D4": "CS01", "E4": "Chủ tịch", "F4": dt.date(2020, 1, 1)},
                {"C6": "002", "D6": "CS01", "E6": "Ủy viên"},
            ],
            "Trống": [],
            "Ghi chú": [["Chỉ có một dòng tiêu đề"]],
        },
        merges={"Đoàn viên": ["A1:L1", "A2:L2"]},
    )


def test_openpyxl_workbook_reads_the_same_streamed(tmp_path, monkeypatch):
    path = roster_workbook(tmp_path / "ds.xlsx")
    streamed = assert_same_both_ways(path, monkeypatch)
    members = streamed["tables"]["members"]
    assert members["header_row"] == 4 and members["first_data_row"] == 5
    first = dict(members["rows"][0][1])
    assert first["member_code"] == (str, "001")
    assert first["national_id"] == (str, "001185012345")  # leading zeros kept
    assert first["full_name"] == (str, "Nguyễn Văn An")
    assert first["birth_date"] == (dt.date, dt.date(1985, 3, 1))
    assert sorted(streamed["sources"]["Đoàn viên"]["merges"]) == [
        ((0, 0), (0, 11)),
        ((1, 0), (1, 11)),
    ]
    positions = streamed["sources"]["Cán bộ"]
    assert positions["col_offset"] == 2  # data from column C, as calamine gives it
    assert [n for n, _ in positions["rows"]] == [1, 2, 3, 4, 5, 6]


def test_shared_strings_workbook_reads_the_same_streamed(tmp_path, monkeypatch):
    path = to_shared_strings(roster_workbook(tmp_path / "ds.xlsx"), tmp_path / "shared.xlsx")
    assert "xl/sharedStrings.xml" in read_parts(path)
    assert b't="inlineStr"' not in read_parts(path)["xl/worksheets/sheet1.xml"]
    streamed = assert_same_both_ways(path, monkeypatch)
    number, cells = streamed["sources"]["Đoàn viên"]["rows"][4]
    assert number == 5
    assert cells[1:3] == [(str, "001"), (str, "  Nguyễn   Văn An ")]  # xml:space="preserve"


def test_write_xlsx_workbook_reads_the_same_streamed(tmp_path, monkeypatch):
    """The project's own writer: write-only openpyxl, no <dimension>, quote-prefixed text,
    date and datetime formats."""
    rows = [
        ["DV0000001", "Nguyễn Văn An", "Nam", dt.date(1990, 1, 2), "001185012345", "T1"]
        + ["an@example.vn", "0912345678", "CS01"],
        ["DV0000002", "=SUM(A1)", "Nữ", dt.datetime(1991, 5, 6, 7, 8), "079099000123", None]
        + [None, "+84 912 345 678", "CS02"],
        ["DV0000003", "Lê Thị Cúc", None, None, None, 12345678901234567, None, None, "CS01"],
    ]
    path = tmp_path / "export.xlsx"
    write_xlsx(path, {"Đoàn viên": (MEMBERS_HEADER, rows), "Trống": ([], [])})
    streamed = assert_same_both_ways(path, monkeypatch)
    values = [dict(v) for _, v in streamed["tables"]["members"]["rows"]]
    assert values[1]["full_name"] == (str, "=SUM(A1)")  # text, never a formula
    assert values[1]["birth_date"] == (dt.date, dt.date(1991, 5, 6))


def test_number_formats_make_the_same_dates_times_and_numbers(tmp_path, monkeypatch):
    formats = {
        "A2": "dd/mm/yyyy",
        "B2": '"Ngày "dd" tháng "mm" năm "yyyy',
        "C2": "[h]:mm:ss",
        "D2": "0.00",
        "E2": "@",
        "F2": "hh:mm",
        "G2": "yyyy-mm-dd hh:mm:ss",
        "H2": '#,##0 "đ"',
        "I2": "mm:ss",
        "J2": "[$-42A]dd/mm/yyyy;@",
    }
    serials = [45658, 45658.5, 1.25, 45658, 45658, 0.75, 45658.999999, 1200, 0.01, 60]
    path = make_xlsx(
        tmp_path / "formats.xlsx",
        {"S": [[f"c{i}" for i in range(10)], serials]},
        formats={"S": formats},
    )
    streamed = assert_same_both_ways(path, monkeypatch)
    row = streamed["sources"]["S"]["rows"][1][1]
    assert row[0] == (dt.date, dt.date(2025, 1, 1))
    assert row[1] == (dt.datetime, dt.datetime(2025, 1, 1, 12, 0))  # quoted text ignored
    assert row[2] == (dt.timedelta, dt.timedelta(hours=30))
    assert row[3] == (float, 45658.0)
    assert row[5] == (dt.time, dt.time(18, 0))
    assert row[7] == (float, 1200.0)
    assert row[9] == (dt.date, dt.date(1900, 2, 28))  # Excel's phantom 29 February


def test_merged_multi_row_header_is_found_the_same(tmp_path, monkeypatch):
    rows = [
        ["DANH SÁCH CÁN BỘ CÔNG ĐOÀN"],
        ["Mã đoàn viên", "Họ và tên", "Mã công đoàn cơ sở", "Chức vụ", "Thời gian giữ chức vụ"],
        [None, None, None, None, "Từ ngày", "Đến ngày"],
        ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"],
        ["001", "Nguyễn Văn A", "CS01", "Chủ tịch", dt.date(2020, 1, 1), None],
        ["002", "Trần Thị B", "CS01", "Ủy viên", dt.date(2021, 5, 1), dt.date(2023, 1, 1)],
    ]
    path = make_xlsx(
        tmp_path / "cb.xlsx",
        {"Cán bộ": rows},
        merges={"Cán bộ": ["A1:F1", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:F2"]},
    )
    streamed = assert_same_both_ways(path, monkeypatch)
    table = streamed["tables"]["positions"]
    assert table["header_row"] == 3 and table["first_data_row"] == 5
    assert table["headers"][4] == "Thời gian giữ chức vụ Từ ngày"


# --------------------------------------------------------------------------------------
# sheet XML written by hand


def test_inline_strings_formulas_and_odd_cells(tmp_path, monkeypatch):
    path = make_xlsx(tmp_path / "hand.xlsx", {"members": [["x"]]})
    set_sheet_data(
        path,
        1,
        '<row r="1" spans="1:5">'
        '<c r="A1" t="inlineStr"><is><t>Mã đoàn viên</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t xml:space="preserve"> Họ và tên </t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>Mã CĐCS</t></is></c>'
        '<c r="D1" t="inlineStr"><is><t>Ngày sinh</t></is></c>'
        '<c r="E1" t="inlineStr"><is><t>Số CCCD</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>  001  </t></is></c>'
        '<c r="B2" t="str"><f>CONCAT("Nguyễn ","Văn A")</f><v>Nguyễn Văn A</v></c>'
        '<c r="C2"><f>1+1</f><v>2</v></c>'
        '<c r="D2" s="0"><f>DATE(1990,1,2)</f><v>32875</v></c>'
        '<c r="E2" t="inlineStr"><is><r><t>0011</t></r><r><rPr><b/><color rgb="FFFF0000"/>'
        '</rPr><t xml:space="preserve">85 </t></r><rPh sb="0" eb="1"><t>PH</t></rPh></is></c>'
        "</row>"
        '<row r="3"><c r="A3" t="inlineStr"><is><t>002</t></is></c>'
        '<c r="B3" t="str"><f>B2</f><v>Cached, not recomputed</v></c>'
        '<c r="C3"><f t="shared" ref="C3:C4" si="0">C2*0</f><v>7</v></c>'
        '<c r="D3" t="e"><v>#N/A</v></c><c r="E3" t="b"><v>1</v></c></row>'
        '<row r="4"><c r="A4" t="inlineStr"><is><t>003</t></is></c>'
        '<c r="C4"><f t="shared" si="0"/><v>8</v></c><c r="D4"><f>D3+1</f><v/></c>'
        '<c r="E4" t="str"><f>""</f><v></v></c></row>'
        "<row><c t=\"inlineStr\"><is><t>004</t></is></c><c s='0' t='str'><v>r-less</v></c>"
        "</row>"
        '<row r="7"><c r="A7" t="inlineStr"><is><t>a &amp; b &lt;c&gt; &#7840;</t></is></c>'
        '<c r="B7" t="inlineStr"><is><t>line\r\nbreak</t></is></c>'
        '<c r="C7" cm="1" t="n" s="0"><v>12.5</v></c></row>',
    )
    streamed = assert_same_both_ways(path, monkeypatch)
    rows = dict(streamed["sources"]["members"]["rows"])
    assert rows[1][1] == (str, " Họ và tên ")  # xml:space="preserve" keeps the spaces
    assert rows[2] == [
        (str, "001"),  # <t> without xml:space="preserve": trimmed
        (str, "Nguyễn Văn A"),  # the cached result, the formula is never evaluated
        (float, 2.0),
        (float, 32875.0),
        (str, "001185 "),  # rich text runs joined, the phonetic guide left out
    ]
    assert rows[3] == [(str, "002"), (str, "Cached, not recomputed"), (float, 7.0)] + [
        (str, ""),  # an error value
        (bool, True),
    ]
    assert rows[4][2:4] == [(float, 8.0), (str, "")]  # no cached value: empty
    assert rows[5][:2] == [(str, "004"), (str, "r-less")]  # cells without a reference
    assert rows[7][:3] == [(str, "a & b <c> Ạ"), (str, "line\nbreak"), (float, 12.5)]
    table = streamed["tables"]["members"]
    assert [n for n, _ in table["rows"]] == [2, 3, 4, 5, 7]


def test_empty_cells_closed_with_a_space_stay_on_the_fast_path(tmp_path, monkeypatch):
    """openpyxl writes an empty cell as <c r="G2" t="inlineStr" />: the same rows as
    calamine, and the row is still read by the fast pattern, not by the general parser
    (a million such rows took three times as long)."""
    path = make_xlsx(tmp_path / "spaces.xlsx", {"members": [["x"]]})
    set_sheet_data(
        path,
        1,
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Mã đoàn viên</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Email</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>Mã CĐCS</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>DV01</t></is></c>'
        '<c r="B2" t="inlineStr" /><c r="C2" t="inlineStr"><is><t>CS01</t></is></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>DV02</t></is></c>'
        '<c r="B3" s="1"  /><c r="C3"><v>7</v></c></row>',
    )
    streamed = assert_same_both_ways(path, monkeypatch)
    rows = dict(streamed["sources"]["members"]["rows"])
    assert rows[2] == [(str, "DV01"), (str, ""), (str, "CS01")]
    assert rows[3] == [(str, "DV02"), (str, ""), (float, 7.0)]
    general = []
    real = readers._XlsxSheetSource._general_row
    monkeypatch.setattr(readers._XlsxSheetSource, "_general_row",
                        lambda self, *a: general.append(a) or real(self, *a))
    monkeypatch.setattr(readers, "XLSX_STREAM_THRESHOLD", 0)
    table = open_workbook(path).tables["members"]
    assert [r for _, r in table.rows()] and general == []


def test_date1904_workbook(tmp_path, monkeypatch):
    path = make_xlsx(
        tmp_path / "mac.xlsx",
        {"Chức vụ": [["Mã đoàn viên", "Mã công đoàn cơ sở", "Từ ngày"], ["001", "CS01", 1]]},
        formats={"Chức vụ": {"C2": "dd/mm/yyyy"}},
    )
    parts = read_parts(path)
    workbook = parts["xl/workbook.xml"].decode()
    parts["xl/workbook.xml"] = re.sub(
        r"<workbookPr\s*/>|<workbookPr([^>]*)/>", '<workbookPr date1904="1"/>', workbook
    ).encode()
    assert b'date1904="1"' in parts["xl/workbook.xml"]
    write_parts(path, parts)
    set_sheet_data(
        path,
        1,
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Mã đoàn viên</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Mã công đoàn cơ sở</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>Từ ngày</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>001</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>CS01</t></is></c><c r="C2" s="1"><v>1</v></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>002</t></is></c>'
        '<c r="B3" t="inlineStr"><is><t>CS01</t></is></c><c r="C3" s="1"><v>44196.5</v></c>'
        "</row>",
    )
    streamed = assert_same_both_ways(path, monkeypatch)
    rows = dict(streamed["sources"]["Chức vụ"]["rows"])
    assert rows[2][2] == (dt.date, dt.date(1904, 1, 2))
    assert rows[3][2] == (dt.datetime, dt.datetime(2025, 1, 1, 12, 0))


def test_rich_text_and_phonetic_shared_strings(tmp_path, monkeypatch):
    base = make_xlsx(tmp_path / "base.xlsx", {"members": [MEMBERS_HEADER[:3], ["001", "A", "Nam"]]})
    extra = [
        '<si><r><t xml:space="preserve">Nguyễn </t></r><r><rPr><b/><sz val="11"/>'
        '<color theme="1"/></rPr><t xml:space="preserve">Văn </t></r><r><t>An</t></r></si>',
        "<si><r><t>Trần </t></r><r><rPr><i/></rPr><t>Bình</t></r></si>",
        '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si>',
        "<si><t/></si>",
        '<si><t xml:space="preserve">  giữ  khoảng trắng </t></si>',
        "<si><t>  bỏ khoảng trắng\n</t></si>",
    ]
    path = to_shared_strings(base, tmp_path / "rich.xlsx", extra)
    n = len(re.findall(rb"<si>", read_parts(path)["xl/sharedStrings.xml"])) - len(extra)
    set_sheet_data(
        path,
        1,
        '<row r="1">'
        + "".join(
            f'<c r="{c}1" t="inlineStr"><is><t>{h}</t></is></c>'
            for c, h in zip("ABC", MEMBERS_HEADER, strict=False)
        )
        + "</row>"
        + "".join(
            f'<row r="{i + 2}"><c r="A{i + 2}" t="inlineStr"><is><t>00{i}</t></is></c>'
            f'<c r="B{i + 2}" t="s"><v>{n + i}</v></c></row>'
            for i in range(len(extra))
        ),
    )
    streamed = assert_same_both_ways(path, monkeypatch)
    names = [cells[1] for _, cells in streamed["sources"]["members"]["rows"][1:]]
    assert names == [
        (str, "Nguyễn Văn An"),  # the runs joined
        (str, "TrầnBình"),  # each run without xml:space="preserve" trimmed, as calamine does
        (str, "漢字"),  # the phonetic guide left out
        (str, ""),
        (str, "  giữ  khoảng trắng "),
        (str, "bỏ khoảng trắng"),
    ]


# --------------------------------------------------------------------------------------
# choosing the reader, containers, damage


def test_only_large_sheets_are_streamed(tmp_path, monkeypatch):
    path = make_xlsx(
        tmp_path / "mixed.xlsx",
        {
            "Hướng dẫn": [["Điền danh sách vào các trang sau"]],
            "Đoàn viên": [MEMBERS_HEADER]
            + [[f"{i:04d}", f"Người {i}", "Nam", dt.date(1990, 1, 1)] for i in range(300)],
        },
    )
    sizes = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            sizes[info.filename] = info.file_size
    small, large = sizes["xl/worksheets/sheet1.xml"], sizes["xl/worksheets/sheet2.xml"]
    assert small < large
    monkeypatch.setattr(readers, "XLSX_STREAM_THRESHOLD", (small + large) // 2)
    wb = open_workbook(path)
    kinds = {name: type(src).__name__ for name, src in wb._sources.items()}
    assert kinds == {"Hướng dẫn": "_SheetSource", "Đoàn viên": "_XlsxSheetSource"}
    rows = list(wb.tables["members"].rows())
    assert len(rows) == 300
    number, first = rows[0]
    assert number == 2
    assert (first["member_code"], first["full_name"], first["birth_date"]) == (
        "0000",
        "Người 0",
        dt.date(1990, 1, 1),
    )
    assert wb.tables["members"].estimated_rows == 300
    wb.close()
    assert list(wb.tables["members"].rows()) == rows  # reopens the file after close()
    assert_same_both_ways(path, monkeypatch)


def test_zip_and_folder_of_workbooks_are_streamed(tmp_path, monkeypatch):
    book = roster_workbook(tmp_path / "ds.xlsx")
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(book, "nộp/ds.xlsx")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "ds.xlsx").write_bytes(book.read_bytes())
    _, calamine = snapshot(book, monkeypatch, 10**12)
    expected = [(n, dict(v)) for n, v in calamine["tables"]["members"]["rows"]]
    monkeypatch.setattr(readers, "XLSX_STREAM_THRESHOLD", 0)
    uploads = ((archive, "nộp/ds.xlsx › Đoàn viên"), (folder, "ds.xlsx › Đoàn viên"))
    for upload, source in uploads:
        wb = open_workbook(upload)
        table = wb.tables["members"]
        assert table.source == source
        assert type(table._source).__name__ == "_XlsxSheetSource"
        got = [(n, {k: typed(v) for k, v in values.items()}) for n, values in table.rows()]
        assert got == expected


def test_damaged_sheet_xml_raises_read_error(tmp_path, stream_all):
    path = make_xlsx(tmp_path / "good.xlsx", {"members": [MEMBERS_HEADER, ["001"]]})
    parts = read_parts(path)
    parts["xl/worksheets/sheet1.xml"] = b"<worksheet><sheetData><row><c"
    write_parts(tmp_path / "garbage.xlsx", parts)
    with pytest.raises(ReadError) as info:
        open_workbook(tmp_path / "garbage.xlsx")
    assert "damaged" in info.value.message_en
    # a sheet cut short: deflate data truncated inside the zip
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info_ = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info_.header_offset + 30 + len(info_.filename.encode()) + len(info_.extra)
    data[start + 10 : start + info_.compress_size] = b"\x00" * (info_.compress_size - 10)
    (tmp_path / "cut.xlsx").write_bytes(bytes(data))
    with pytest.raises(ReadError):
        open_workbook(tmp_path / "cut.xlsx")


def test_rows_stream_from_the_zip(tmp_path, monkeypatch, stream_all):
    """The first rows come out before more than a chunk or two of the sheet's XML has
    been decompressed."""
    rows = [[f"{i:06d}", f"Người số {i}", "Nam"] for i in range(40_000)]
    path = tmp_path / "big.xlsx"
    write_xlsx(path, {"Đoàn viên": (MEMBERS_HEADER[:3], rows)})
    with zipfile.ZipFile(path) as zf:
        size = zf.getinfo("xl/worksheets/sheet1.xml").file_size
    monkeypatch.setattr(readers, "_XLSX_CHUNK", 256 * 1024)
    assert size > 8 * readers._XLSX_CHUNK
    wb = open_workbook(path)
    table = wb.tables["members"]
    read: list[int] = []
    original = readers._XlsxBook.member

    @contextlib.contextmanager
    def counting(self, name):
        with original(self, name) as stream:

            class Counted:
                def read(self, size=-1):
                    chunk = stream.read(size)
                    read.append(len(chunk))
                    return chunk

            yield Counted()

    monkeypatch.setattr(readers._XlsxBook, "member", counting)
    values = table.rows()
    assert next(values)[1]["member_code"] == "000000"
    assert 0 < sum(read) <= 2 * readers._XLSX_CHUNK
    values.close()
    assert sum(1 for _ in table.rows()) == 40_000
    assert sum(read) > size
