"""Tests for quantriet.imports.readers and quantriet.imports.columns.

Every input is built in the test: workbooks with openpyxl (title rows, merged cells,
multi-row headers), CSV files in UTF-8 (with and without BOM, NFD), Windows-1258,
Windows-1252, Latin-1 and UTF-16, zips and folders. openpyxl cannot store the cached value
of a formula and LibreOffice is not installed here, so formula cells are made by writing a
workbook with openpyxl and then putting the cached value (<v>) into the sheet XML, which is
exactly what Excel stores.
"""

import csv
import datetime as dt
import io
import re
import types
import unicodedata
import zipfile

import openpyxl
import pytest

from quantriet.imports.columns import (
    COLUMNS,
    REQUIRED,
    TABLES,
    header_key,
    is_ignored_header,
    match_header,
    match_table,
)
from quantriet.imports.readers import (
    ReadError,
    Unknown,
    clean_text,
    column_letter,
    excel_serial_to_date,
    open_workbook,
)

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
UNITS_HEADER = ["Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Cấp", "Tỉnh/thành phố"]
POSITIONS_HEADER = ["Mã đoàn viên", "Mã công đoàn cơ sở", "Chức vụ", "Chuyên trách", "Từ ngày"]


# --------------------------------------------------------------------------------------
# helpers


def make_xlsx(path, sheets, merges=None):
    """Write `sheets` (title -> rows, rows are lists or dicts of cell -> value)."""
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
    wb.save(path)
    return path


def set_cached_values(path, sheet_index, values):
    """Give formula cells of an openpyxl-written workbook the cached values Excel would
    have stored: {"C2": 42} (number) or {"D2": "text"} (string result, t="str")."""
    member = f"xl/worksheets/sheet{sheet_index}.xml"
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    xml = parts[member].decode("utf-8")
    for ref, value in values.items():
        pattern = re.compile(rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/>')
        assert pattern.search(xml), f"no formula cell {ref}"
        if isinstance(value, str):
            xml = pattern.sub(rf'<c r="{ref}"\1 t="str"><f>\2</f><v>{value}</v>', xml)
        else:
            xml = pattern.sub(rf'<c r="{ref}"\1><f>\2</f><v>{value}</v>', xml)
    parts[member] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def write_text(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def csv_text(rows, delimiter=","):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_cp1258(text):
    """Encode as Windows-1258 does: tones as combining marks after the base letter."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
            tones = "".join(c for c in parts if c in _TONES)
            out += (base + tones).encode("cp1258")
    return bytes(out)


def all_rows(table):
    return list(table.rows())


# --------------------------------------------------------------------------------------
# columns


def test_every_table_has_its_canonical_keys_and_template_headers():
    keys = {t: [c.key for c in COLUMNS[t]] for t in TABLES}
    assert keys == {
        "units": [
            "code",
            "name",
            "parent_code",
            "level",
            "province",
            "member_count",
            "valid_from",
            "merged_into",
            "moved_to",
            "dissolved_on",
        ],
        "members": [
            "member_code",
            "full_name",
            "gender",
            "birth_date",
            "national_id",
            "union_card",
            "email",
            "phone",
            "unit_code",
        ],
        "positions": [
            "member_code",
            "unit_code",
            "position",
            "full_time",
            "start_date",
            "end_date",
            "managing_unit_code",
        ],
    }
    assert [c.header for c in COLUMNS["members"]] == MEMBERS_HEADER
    assert [c.header for c in COLUMNS["units"]][:5] == UNITS_HEADER
    assert COLUMNS["positions"][-1].header == "Mã đơn vị quản lý cán bộ"
    for table in TABLES:
        for col in COLUMNS[table]:
            # the template header, the English label and the key all read back
            assert match_header(col.header, table) == col.key
            assert match_header(col.header_en, table) == col.key
            assert match_header(col.key, table) == col.key
            assert match_header(col.header.upper(), table) == col.key
        assert set(REQUIRED[table]) <= {c.key for c in COLUMNS[table]}


@pytest.mark.parametrize(
    ("text", "table", "key"),
    [
        ("Họ tên", "members", "full_name"),
        ("Ho va ten", "members", "full_name"),
        ("  HỌ   VÀ  TÊN (*)", "members", "full_name"),
        ("ho_va_ten", "members", "full_name"),
        ("Ngày/tháng/năm sinh", "members", "birth_date"),
        ("Ngày sinh (dd/mm/yyyy)", "members", "birth_date"),
        ("CCCD/CMND", "members", "national_id"),
        ("Số định danh cá nhân", "members", "national_id"),
        ("SĐT", "members", "phone"),
        ("Điện thoại", "members", "phone"),
        ("Mã ĐV", "members", "member_code"),
        ("Mã ĐV", "units", "code"),
        ("Đơn vị", "members", "unit_code"),
        ("Đơn vị", "units", "name"),
        ("Mã đơn vị", "members", "unit_code"),
        ("Mã đơn vị", "units", "code"),
        ("Mã đơn vị", "positions", "unit_code"),
        ("Ngày bắt đầu", "positions", "start_date"),
        ("Ngày kết thúc", "positions", "end_date"),
        ("Giới tính: Nam/Nữ", "members", "gender"),
        ("E-MAIL", "members", "email"),
        ("Member Code", "positions", "member_code"),
        ("mã đơn vị quản lý", "positions", "managing_unit_code"),
        ("Ma don vi cap tren", "units", "parent_code"),
        ("Tỉnh / Thành phố", "units", "province"),
        ("Chức vụ", "positions", "position"),
        ("Ghi chú", "members", None),
        ("Quê quán", "members", None),
        ("", "members", None),
    ],
)
def test_match_header_aliases(text, table, key):
    assert match_header(text, table) == key


def test_match_header_without_table_only_answers_unambiguous_headers():
    assert match_header("Họ và tên") == "full_name"
    assert match_header("Mã đoàn viên") == "member_code"
    assert match_header("Mã đơn vị") is None  # code in units, unit_code elsewhere
    assert match_header(None) is None


def test_header_key_and_ignored_headers():
    assert header_key("Họ và tên (*)") == "hovaten"
    assert header_key("Ngày/tháng/năm sinh") == "ngaythangnamsinh"
    assert is_ignored_header("STT")
    assert is_ignored_header("Số TT")
    assert is_ignored_header("Ghi chú")
    assert not is_ignored_header("Họ và tên")


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("units", "units"),
        ("don_vi", "units"),
        ("Đơn vị", "units"),
        ("DON VI", "units"),
        ("units.csv", "units"),
        ("01_don_vi.csv", "units"),
        ("members", "members"),
        ("doan_vien", "members"),
        ("Đoàn viên", "members"),
        ("DANH SÁCH ĐOÀN VIÊN", "members"),
        ("doan-vien (1).csv", "members"),
        ("positions", "positions"),
        ("chuc_vu", "positions"),
        ("Chức vụ", "positions"),
        ("ds_chuc_vu_2026.xlsx", "positions"),
        ("Sheet1", None),
        ("Hướng dẫn", None),
        ("", None),
    ],
)
def test_match_table(name, table):
    assert match_table(name) == table


# --------------------------------------------------------------------------------------
# values


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, dt.date(1900, 1, 1)),
        (59, dt.date(1900, 2, 28)),
        (61, dt.date(1900, 3, 1)),
        (45658, dt.date(2025, 1, 1)),
        (45658.75, dt.date(2025, 1, 1)),
        (31107.0, dt.date(1985, 3, 1)),
    ],
)
def test_excel_serial_to_date(serial, expected):
    assert excel_serial_to_date(serial) == expected


def test_excel_serial_to_date_rejects_impossible_values():
    for bad in (0, -1, 60, 2958466, float("nan")):
        with pytest.raises(ValueError):
            excel_serial_to_date(bad)
    for bad in (True, "45658", None):
        with pytest.raises(TypeError):
            excel_serial_to_date(bad)
    assert excel_serial_to_date(0, date1904=True) == dt.date(1904, 1, 1)
    assert excel_serial_to_date(1462, date1904=True) == dt.date(1908, 1, 2)


def test_column_letter():
    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 701, 702)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


def test_clean_text():
    nfd = unicodedata.normalize("NFD", "  Nguyễn\u00a0 Văn\n\tÁnh ")
    assert clean_text(nfd) == "Nguyễn Văn Ánh"
    assert unicodedata.is_normalized("NFC", clean_text(nfd))
    assert clean_text("   ") is None
    assert clean_text("\u200bABC\ufeff") == "ABC"
    assert clean_text("'=1+1") == "=1+1"  # the quote our CSV writer adds
    assert clean_text("'+84912") == "+84912"
    assert clean_text("'abc") == "'abc"
    assert clean_text("001185012345") == "001185012345"


# --------------------------------------------------------------------------------------
# workbooks


def test_xlsx_with_title_rows_merged_title_and_typed_cells(tmp_path):
    nfd_name = unicodedata.normalize("NFD", "Trần Thị Bích")
    path = make_xlsx(
        tmp_path / "ds.xlsx",
        {
            "Đoàn viên": [
                ["DANH SÁCH ĐOÀN VIÊN CÔNG ĐOÀN CƠ SỞ"],
                ["(kèm theo công văn số 12/CV)"],
                [],
                ["STT", *MEMBERS_HEADER, "Ghi chú", "Quê quán"],
                [
                    1,
                    "001",
                    "  Nguyễn   Văn An ",
                    "Nam",
                    dt.date(1985, 3, 1),
                    "001185012345",
                    "T-01",
                    "an@example.vn",
                    "0912345678",
                    "CS01",
                    None,
                    "Hà Nội",
                ],
                [
                    2,
                    2.0,
                    nfd_name,
                    "Nữ",
                    dt.datetime(1990, 1, 2, 8, 30),
                    1185012345.0,
                    17,
                    None,
                    912345678,
                    1.0,
                    "x",
                    None,
                ],
            ]
        },
        merges={"Đoàn viên": ["A1:L1", "A2:L2"]},
    )
    wb = open_workbook(path)
    assert list(wb.tables) == ["members"]
    assert wb.unknown == []
    table = wb.tables["members"]
    assert table.name == "members"
    assert table.source == "Đoàn viên"
    assert table.header_row == 4
    assert table.first_data_row == 5
    assert table.columns == {c.key: i + 1 for i, c in enumerate(COLUMNS["members"])}
    assert table.unmapped == ["Quê quán"]
    assert table.ignored == ["STT", "Ghi chú"]
    assert table.headers[0] == "STT"
    assert table.missing == []
    assert table.encoding is None and table.delimiter is None
    rows = all_rows(table)
    assert [n for n, _ in rows] == [5, 6]
    first, second = rows[0][1], rows[1][1]
    assert first == {
        "member_code": "001",
        "full_name": "Nguyễn Văn An",
        "gender": "Nam",
        "birth_date": dt.date(1985, 3, 1),
        "national_id": "001185012345",
        "union_card": "T-01",
        "email": "an@example.vn",
        "phone": "0912345678",
        "unit_code": "CS01",
    }
    assert second["member_code"] == "2"  # 2.0 stored as a number
    assert second["full_name"] == "Trần Thị Bích"
    assert unicodedata.is_normalized("NFC", second["full_name"])
    assert second["birth_date"] == dt.date(1990, 1, 2)  # datetime cell -> date
    assert second["national_id"] == "1185012345"
    assert second["union_card"] == "17"
    assert second["email"] is None
    assert second["phone"] == "912345678"
    assert second["unit_code"] == "1"


def test_xlsx_numbers_dates_and_booleans_by_column_kind(tmp_path):
    path = make_xlsx(
        tmp_path / "x.xlsx",
        {
            "Đơn vị": [
                ["Mã đơn vị", "Tên đơn vị", "Cấp", "Mã đơn vị cấp trên", "Số đoàn viên"]
                + ["Ngày hiệu lực", "Ngày giải thể"],
                [1, "Tổng", 1.0, None, 1200.0, 45658, dt.date(2025, 7, 1)],
                ["02", "Con", "2", 1, "35", "01/07/2025", 45658.5],
                ["03", "Lẻ", 2, "01", 12.5, "", True],
            ],
            "Chức vụ": [
                ["Mã đoàn viên", "Mã công đoàn cơ sở", "Chức vụ", "Chuyên trách", "Từ ngày"],
                ["001", "CS01", "Chủ tịch", True, dt.date(2024, 1, 1)],
                ["002", "CS01", "Phó chủ tịch", False, 45292],
                ["003", "CS01", "Ủy viên", "x", "2024-01-01"],
                ["004", "CS01", "Ủy viên", 1, None],
            ],
        },
    )
    wb = open_workbook(path)
    assert list(wb.tables) == ["units", "positions"]
    units = [v for _, v in wb.tables["units"].rows()]
    assert units[0] == {
        "code": "1",
        "name": "Tổng",
        "level": "1",
        "parent_code": None,
        "member_count": 1200,
        "valid_from": 45658,  # an Excel serial in a date column: for excel_serial_to_date
        "dissolved_on": dt.date(2025, 7, 1),
    }
    assert excel_serial_to_date(units[0]["valid_from"]) == dt.date(2025, 1, 1)
    assert units[1]["member_count"] == 35  # number stored as text
    assert units[1]["level"] == "2"
    assert units[1]["parent_code"] == "1"
    assert units[1]["valid_from"] == "01/07/2025"  # text date left for the validator
    assert units[1]["dissolved_on"] == 45658.5
    assert units[2]["member_count"] == 12.5
    assert units[2]["valid_from"] is None
    assert units[2]["dissolved_on"] is True
    positions = [v for _, v in wb.tables["positions"].rows()]
    assert [p["full_time"] for p in positions] == [True, False, "x", 1]
    assert [p["start_date"] for p in positions] == [dt.date(2024, 1, 1), 45292, "2024-01-01", None]


def test_formulas_give_their_cached_values_and_are_never_evaluated(tmp_path):
    path = make_xlsx(
        tmp_path / "f.xlsx",
        {
            "members": [
                ["Mã đoàn viên", "Họ và tên", "Mã công đoàn cơ sở", "Ngày sinh"],
                ["001", '=CONCAT("Nguyễn ","Văn A")', "=1+1", "=DATE(1990,1,2)"],
                ["002", "=B2", "=C2*0", "=D2+1"],
            ]
        },
    )
    set_cached_values(
        path,
        1,
        {
            "B2": "Nguyễn Văn A",
            "C2": 2,
            "D2": 32875,
            "B3": "Cached, not recomputed",
            "C3": 7,
            # D3 keeps no cached value, as in a file saved by a library without Excel
        },
    )
    rows = [v for _, v in open_workbook(path).tables["members"].rows()]
    assert rows[0] == {
        "member_code": "001",
        "full_name": "Nguyễn Văn A",
        "unit_code": "2",
        "birth_date": 32875,
    }
    assert rows[1]["full_name"] == "Cached, not recomputed"
    assert rows[1]["unit_code"] == "7"
    assert rows[1]["birth_date"] is None


def test_multi_row_header_with_merged_cells_and_column_numbers(tmp_path):
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
    table = open_workbook(path).tables["positions"]
    assert table.columns == {
        "member_code": 0,
        "unit_code": 2,
        "position": 3,
        "start_date": 4,
        "end_date": 5,
    }
    assert table.header_row == 3
    assert table.first_data_row == 5
    assert table.unmapped == ["Họ và tên"]
    assert table.headers[4] == "Thời gian giữ chức vụ Từ ngày"
    got = all_rows(table)
    assert [n for n, _ in got] == [5, 6]
    assert got[1][1]["end_date"] == dt.date(2023, 1, 1)


def test_two_row_header_in_csv_and_group_headers(tmp_path):
    text = csv_text(
        [
            ["Mã đoàn viên", "Mã đơn vị", "Chức vụ", "Ngày", ""],
            ["", "", "", "bắt đầu", "kết thúc"],
            ["001", "CS01", "Chủ tịch", "01/01/2020", ""],
        ]
    )
    table = open_workbook(write_text(tmp_path / "chuc_vu.csv", text)).tables["positions"]
    assert table.columns == {
        "member_code": 0,
        "unit_code": 1,
        "position": 2,
        "start_date": 3,
        "end_date": 4,
    }
    assert table.header_row == 1
    assert table.first_data_row == 3
    assert all_rows(table) == [
        (
            3,
            {
                "member_code": "001",
                "unit_code": "CS01",
                "position": "Chủ tịch",
                "start_date": "01/01/2020",
                "end_date": None,
            },
        )
    ]


def test_sub_header_row_with_more_matches_than_the_row_above(tmp_path):
    text = csv_text(
        [
            ["Thông tin cán bộ", "", "", "Thời gian", ""],
            ["Mã đoàn viên", "Mã đơn vị", "Chức vụ", "Từ ngày", "Đến ngày"],
            ["001", "CS01", "Chủ tịch", "01/01/2020", ""],
        ]
    )
    table = open_workbook(write_text(tmp_path / "positions.csv", text)).tables["positions"]
    assert table.header_row == 2
    assert [n for n, _ in table.rows()] == [3]


def test_blank_rows_repeated_headers_and_row_numbers_as_in_excel(tmp_path):
    header = ["STT", "Mã đoàn viên", "Họ và tên", "Mã công đoàn cơ sở"]
    rows = [
        ["Danh sách"],
        header,
        [1, "001", "A", "CS01"],
        [],
        [None, None, None, None],
        [2, "002", "B", "CS01"],
        header,  # header repeated at the top of a printed page
        ["STT", "MÃ ĐOÀN VIÊN", "HỌ VÀ TÊN", "MÃ CÔNG ĐOÀN CƠ SỞ"],
        [3, None, None, None],  # pre-numbered template row, nothing filled in
        [4, "004", "Mã đoàn viên", "CS01"],  # one coincidence does not make a header
        [5, "005", "E", "CS02"],
    ]
    path = make_xlsx(tmp_path / "m.xlsx", {"Sheet1": rows})
    table = open_workbook(path).tables["members"]
    got = all_rows(table)
    assert [n for n, _ in got] == [3, 6, 10, 11]
    assert got[2][1]["full_name"] == "Mã đoàn viên"
    # the same from CSV, where blank lines are rows too
    csv_path = write_text(tmp_path / "m.csv", csv_text(rows))
    got_csv = all_rows(open_workbook(csv_path).tables["members"])
    assert [n for n, _ in got_csv] == [3, 6, 10, 11]


def test_data_not_starting_in_a1(tmp_path):
    path = make_xlsx(
        tmp_path / "offset.xlsx",
        {
            "members": [
                {"C3": "Mã đoàn viên", "D3": "Họ và tên", "E3": "Mã CĐCS"},
                {"C4": "001", "D4": "Nguyễn Văn A", "E4": "CS01"},
                {"C6": "002", "D6": "Lê B", "E6": "CS02"},
            ]
        },
    )
    table = open_workbook(path).tables["members"]
    assert table.columns == {"member_code": 2, "full_name": 3, "unit_code": 4}
    assert table.header_row == 3
    assert table.headers[:5] == ["", "", "Mã đoàn viên", "Họ và tên", "Mã CĐCS"]
    assert all_rows(table) == [
        (4, {"member_code": "001", "full_name": "Nguyễn Văn A", "unit_code": "CS01"}),
        (6, {"member_code": "002", "full_name": "Lê B", "unit_code": "CS02"}),
    ]


def test_sheets_attributed_by_headers_duplicates_and_unknown_sheets(tmp_path):
    path = make_xlsx(
        tmp_path / "book.xlsx",
        {
            "Hướng dẫn": [["Điền danh sách vào các trang sau"], ["Không sửa tiêu đề cột"]],
            "Sheet2": [MEMBERS_HEADER, ["001", "A", "Nam"] + [None] * 5 + ["CS01"]],
            "Sheet3": [UNITS_HEADER, ["CS01", "Công đoàn A", "T", "Cơ sở", "Hà Nội"]],
            "Trống": [],
            "Đoàn viên": [MEMBERS_HEADER, ["002", "B", "Nữ"] + [None] * 5 + ["CS01"]],
            "Sheet6": [POSITIONS_HEADER, ["002", "CS01", "Chủ tịch", True, None]],
        },
    )
    wb = open_workbook(path)
    assert list(wb.tables) == ["units", "members", "positions"]
    assert wb.tables["members"].source == "Đoàn viên"  # the named sheet wins
    assert wb.tables["units"].source == "Sheet3"
    assert wb.tables["positions"].source == "Sheet6"
    assert wb.unknown == [
        Unknown("Hướng dẫn", "no_header"),
        Unknown("Sheet2", "duplicate"),
        Unknown("Trống", "empty"),
    ]
    assert wb.unknown[0].message_vi and wb.unknown[0].message_en
    wb.close()
    # tables stay readable after close: the workbook is reopened
    assert [v["member_code"] for _, v in wb.tables["members"].rows()] == ["002"]


def test_named_sheet_without_recognisable_header_can_be_mapped(tmp_path):
    path = make_xlsx(
        tmp_path / "m.xlsx",
        {"Đoàn viên": [["Code", "Nom", "Unité"], ["001", "Anh", "CS01"], ["002", "Bình", "CS01"]]},
    )
    wb = open_workbook(path)
    table = wb.tables["members"]
    assert table.header_row == 1
    assert table.columns == {"member_code": 0}
    assert table.unmapped == ["Nom", "Unité"]
    assert table.missing == ["full_name", "unit_code"]
    mapped = table.with_mapping({"member_code": 0, "full_name": 1, "unit_code": 2})
    assert mapped.missing == []
    assert mapped.unmapped == []
    assert table.columns == {"member_code": 0}  # the original is unchanged
    assert all_rows(mapped) == [
        (2, {"member_code": "001", "full_name": "Anh", "unit_code": "CS01"}),
        (3, {"member_code": "002", "full_name": "Bình", "unit_code": "CS01"}),
    ]
    with pytest.raises(ValueError):
        table.with_mapping({"code": 0})
    with pytest.raises(ValueError):
        table.with_mapping({"member_code": -1})
    with pytest.raises(ValueError):
        table.with_mapping({"member_code": 0, "full_name": 0})


def test_with_mapping_can_drop_and_move_columns(tmp_path):
    text = csv_text([["Mã đoàn viên", "Họ và tên", "Tên khác", "Mã CĐCS"], ["1", "A", "B", "C"]])
    table = open_workbook(write_text(tmp_path / "members.csv", text)).tables["members"]
    assert table.unmapped == ["Tên khác"]
    other = table.with_mapping({"member_code": 0, "full_name": 2, "unit_code": 3})
    assert all_rows(other) == [(2, {"member_code": "1", "full_name": "B", "unit_code": "C"})]
    assert other.unmapped == ["Họ và tên"]


def test_unknown_source_can_be_assigned_to_a_table(tmp_path):
    text = csv_text([["Code", "Nom"], ["001", "Anh"]])
    wb = open_workbook(write_text(tmp_path / "export.csv", text))
    assert wb.tables == {}
    assert wb.unknown == [Unknown("export.csv", "no_header")]
    table = wb.assign("export.csv", "members")
    assert wb.tables == {"members": table}
    assert wb.unknown == []
    assert table.header_row == 1
    mapped = table.with_mapping({"member_code": 0, "full_name": 1})
    assert all_rows(mapped) == [(2, {"member_code": "001", "full_name": "Anh"})]


def test_single_sheet_workbook_named_by_its_file(tmp_path):
    path = make_xlsx(
        tmp_path / "doan_vien.xlsx", {"Sheet1": [["Mã", "Tên", "Đơn vị"], ["1", "A", "B"]]}
    )
    table = open_workbook(path).tables["members"]
    assert table.columns == {"member_code": 0, "full_name": 1, "unit_code": 2}


# --------------------------------------------------------------------------------------
# CSV


def test_csv_utf8_with_and_without_bom(tmp_path):
    text = csv_text([MEMBERS_HEADER, ["001", "Nguyễn Văn Ánh"] + [""] * 6 + ["CS01"]])
    for encoding, expected in (("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8")):
        path = write_text(tmp_path / f"members-{encoding}.csv", text, encoding)
        table = open_workbook(path).tables["members"]
        assert table.encoding == expected
        assert table.delimiter == ","
        [(number, values)] = all_rows(table)
        assert number == 2
        assert values["full_name"] == "Nguyễn Văn Ánh"
        assert values["member_code"] == "001"
        assert values["gender"] is None


def test_csv_windows_1258_is_decoded_and_normalised(tmp_path):
    names = ["Nguyễn Văn Ánh", "Đặng Thị Hồng Nhung", "Trương Quốc Việt", "Hoàng Ưng Ơn"]
    rows = [MEMBERS_HEADER] + [
        [f"00{i}", name, "Nữ", "01/02/1990", "", "", "", "", "CĐCS Hà Nội"]
        for i, name in enumerate(names)
    ]
    raw = to_cp1258(csv_text(rows))
    assert raw.decode("cp1258") != csv_text(rows)  # really in decomposed tones
    path = tmp_path / "doan_vien.csv"
    path.write_bytes(raw)
    table = open_workbook(path).tables["members"]
    assert table.encoding == "cp1258"
    values = [v for _, v in table.rows()]
    assert [v["full_name"] for v in values] == names
    assert all(unicodedata.is_normalized("NFC", v["full_name"]) for v in values)
    assert values[0]["gender"] == "Nữ"
    assert values[0]["unit_code"] == "CĐCS Hà Nội"


def test_csv_windows_1252_and_latin_1_fallbacks(tmp_path):
    rows = [["Mã đoàn viên", "Họ và tên", "Mã CĐCS"], ["1", "Šimon Dvořák", "X"]]
    text = csv_text(rows).replace("ř", "r").replace("Mã đoàn viên", "member_code")
    text = text.replace("Họ và tên", "full_name").replace("Mã CĐCS", "unit_code")
    p1252 = tmp_path / "members.csv"
    p1252.write_bytes(text.encode("cp1252"))
    table = open_workbook(p1252).tables["members"]
    assert table.encoding == "cp1252"  # Š is not in Windows-1258
    assert all_rows(table)[0][1]["full_name"] == "Šimon Dvorák"
    latin = tmp_path / "latin.csv"
    latin.write_bytes("member_code,full_name,unit_code\r\n1,Ab\x81c Zoë,X\r\n".encode("latin-1"))
    table = open_workbook(latin).tables["members"]
    assert table.encoding == "latin-1"  # 0x81 is undefined in both Windows code pages
    assert all_rows(table)[0][1]["full_name"] == "Ab\x81c Zoë"


def test_csv_nfd_text_and_headers(tmp_path):
    text = csv_text(
        [["Mã đoàn viên", "Họ và tên", "Mã công đoàn cơ sở"], ["1", "Lê Thị Thuỷ", "Ả"]]
    )
    path = write_text(tmp_path / "m.csv", unicodedata.normalize("NFD", text))
    table = open_workbook(path).tables["members"]
    assert table.columns == {"member_code": 0, "full_name": 1, "unit_code": 2}
    values = all_rows(table)[0][1]
    assert values["full_name"] == unicodedata.normalize("NFC", "Lê Thị Thuỷ")
    assert values["unit_code"] == "Ả"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiter_is_sniffed(tmp_path, delimiter):
    rows = [
        ["Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Cấp"],
        ["CS01", "Công đoàn Công ty A, chi nhánh B; xưởng 2", "T01", "Cơ sở"],
        ["CS02", "Công đoàn trường X", "T01", "Cơ sở"],
    ]
    path = write_text(tmp_path / "don_vi.csv", csv_text(rows, delimiter))
    table = open_workbook(path).tables["units"]
    assert table.delimiter == delimiter
    values = [v for _, v in table.rows()]
    assert values[0]["name"] == "Công đoàn Công ty A, chi nhánh B; xưởng 2"
    assert values[1]["code"] == "CS02"


def test_csv_sep_line_written_by_excel(tmp_path):
    text = "sep=;\r\n" + csv_text(
        [["Mã đoàn viên", "Họ và tên", "Mã CĐCS"], ["1", "A", "B"], ["2", "C", "D"]], ";"
    )
    table = open_workbook(write_text(tmp_path / "m.csv", text)).tables["members"]
    assert table.delimiter == ";"
    assert table.header_row == 1  # Excel hides the sep= line
    assert [n for n, _ in table.rows()] == [2, 3]


def test_csv_header_noise_and_title_rows(tmp_path):
    rows = [
        ["CÔNG ĐOÀN NGÀNH GIÁO DỤC", "", "", "", ""],
        ["Danh sách đoàn viên năm 2026", "", "", "", ""],
        ["", "", "", "", ""],
        ["  ma doan vien ", "HỌ  VÀ  TÊN (*)", "Ngày/tháng/năm sinh", "CCCD/CMND", "SĐT"],
        ["1", "A", "1/2/1990", "001185012345", "0912345678"],
    ]
    wb = open_workbook(write_text(tmp_path / "export (3).csv", csv_text(rows)))
    table = wb.tables["members"]
    assert table.header_row == 4
    assert table.columns == {
        "member_code": 0,
        "full_name": 1,
        "birth_date": 2,
        "national_id": 3,
        "phone": 4,
    }
    assert table.missing == ["unit_code"]
    assert all_rows(table) == [
        (
            5,
            {
                "member_code": "1",
                "full_name": "A",
                "birth_date": "1/2/1990",
                "national_id": "001185012345",
                "phone": "0912345678",
            },
        )
    ]


def test_csv_row_numbers_count_records_not_lines(tmp_path):
    rows = [
        ["Mã đoàn viên", "Họ và tên", "Mã CĐCS"],
        ["1", "Tên có\nxuống dòng", "X"],
        ["2", "B", "X"],
    ]
    table = open_workbook(write_text(tmp_path / "members.csv", csv_text(rows))).tables["members"]
    got = all_rows(table)
    assert [n for n, _ in got] == [2, 3]
    assert got[0][1]["full_name"] == "Tên có xuống dòng"


def test_csv_utf16_tab_separated_unicode_text_export(tmp_path):
    text = csv_text([["Mã đoàn viên", "Họ và tên", "Mã CĐCS"], ["1", "Ngô Bảo Châu", "X"]], "\t")
    path = write_text(tmp_path / "members.txt", text, "utf-16")
    table = open_workbook(path).tables["members"]
    assert table.delimiter == "\t"
    assert all_rows(table)[0][1]["full_name"] == "Ngô Bảo Châu"


def test_csv_saved_with_an_excel_extension_is_still_read(tmp_path):
    text = csv_text([["Mã đoàn viên", "Họ và tên", "Mã CĐCS"], ["1", "A", "X"]], "\t")
    table = open_workbook(write_text(tmp_path / "members.xls", text)).tables["members"]
    assert all_rows(table)[0][1]["member_code"] == "1"


def test_rows_stream_and_can_be_read_twice(tmp_path):
    path = tmp_path / "members.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Mã đoàn viên", "Họ và tên", "Mã CĐCS"])
        for i in range(1, 5001):
            writer.writerow([f"{i:06d}", f"Người {i}", "X"] if i % 7 else [])
    table = open_workbook(path).tables["members"]
    rows = table.rows()
    assert isinstance(rows, types.GeneratorType)
    number, values = next(rows)
    assert (number, values["member_code"]) == (2, "000001")
    numbers = [n for n, v in table.rows() if int(v["member_code"]) + 1 == n]
    assert len(numbers) == 5000 - 5000 // 7
    assert numbers[-1] == 5001


# --------------------------------------------------------------------------------------
# zip and folder


def test_zip_of_csv_files(tmp_path):
    path = tmp_path / "roster.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xuat/don_vi.csv", csv_text([UNITS_HEADER, ["CS01", "A", "T", "1", "HN"]]))
        zf.writestr(
            "xuat/doan_vien.csv",
            b"\xef\xbb\xbf"
            + csv_text([MEMBERS_HEADER, ["001", "Bình"] + [""] * 6 + ["CS01"]]).encode(),
        )
        zf.writestr(
            "xuat/chuc_vu.csv",
            to_cp1258(csv_text([POSITIONS_HEADER, ["001", "CS01", "Chủ tịch", "x", ""]])),
        )
        zf.writestr("__MACOSX/xuat/._don_vi.csv", b"\x00\x05\x16\x07junk")
        zf.writestr("xuat/.DS_Store", b"\x00junk")
        zf.writestr("xuat/logo.png", b"\x89PNG")
        zf.writestr("xuat/", b"")
    wb = open_workbook(path)
    assert list(wb.tables) == ["units", "members", "positions"]
    assert wb.tables["members"].source == "xuat/doan_vien.csv"
    assert wb.unknown == [Unknown("xuat/logo.png", "unsupported")]
    assert all_rows(wb.tables["members"])[0][1]["full_name"] == "Bình"
    assert all_rows(wb.tables["positions"])[0][1]["position"] == "Chủ tịch"
    assert all_rows(wb.tables["units"])[0] == (
        2,
        {"code": "CS01", "name": "A", "parent_code": "T", "level": "1", "province": "HN"},
    )


def test_zip_member_names_without_the_utf8_flag(tmp_path):
    path = tmp_path / "names.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Đoàn viên.csv", csv_text([["Mã", "Tên", "Đơn vị"], ["1", "A", "B"]]))
    data = bytearray(path.read_bytes())
    # clear the UTF-8 flag (bit 11) in the local and central headers, as old zip tools do
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        flags = int.from_bytes(data[at + offset : at + offset + 2], "little") & ~0x800
        data[at + offset : at + offset + 2] = flags.to_bytes(2, "little")
    path.write_bytes(bytes(data))
    wb = open_workbook(path)
    assert list(wb.tables) == ["members"]
    assert wb.tables["members"].source == "Đoàn viên.csv"


def test_zip_of_one_xlsx(tmp_path):
    book = make_xlsx(
        tmp_path / "book.xlsx",
        {
            "Đơn vị": [UNITS_HEADER, ["CS01", "A", "", "1", "HN"]],
            "Đoàn viên": [MEMBERS_HEADER, ["001", "An"] + [None] * 6 + ["CS01"]],
        },
    )
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(book, "danh sach/book.xlsx")
    wb = open_workbook(path)
    assert list(wb.tables) == ["units", "members"]
    assert wb.tables["members"].source == "danh sach/book.xlsx › Đoàn viên"
    assert all_rows(wb.tables["members"])[0][1]["full_name"] == "An"


def test_folder_of_csv_files(tmp_path):
    folder = tmp_path / "roster"
    folder.mkdir()
    write_text(folder / "units.csv", csv_text([UNITS_HEADER, ["CS01", "A", "", "1", "HN"]]))
    write_text(folder / "members.csv", csv_text([MEMBERS_HEADER, ["1", "B"] + [""] * 7]))
    write_text(folder / "ghi_chu.txt", "Tệp này là ghi chú\r\n")
    write_text(folder / "~$members.xlsx", "lock file")
    (folder / "sub").mkdir()
    wb = open_workbook(folder)
    assert list(wb.tables) == ["units", "members"]
    assert wb.unknown == [Unknown("ghi_chu.txt", "no_header")]


def test_broken_member_of_a_zip_is_reported_not_raised(tmp_path):
    path = tmp_path / "mixed.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("members.csv", csv_text([MEMBERS_HEADER, ["1", "B"] + [""] * 7]))
        zf.writestr("units.csv", b"\x00\x01\x02binary\x00")
        zf.writestr("positions.xlsx", b"PK\x03\x04 not really")
    wb = open_workbook(path)
    assert list(wb.tables) == ["members"]
    assert sorted(wb.unknown, key=lambda u: u.source) == [
        Unknown("positions.xlsx", "unreadable"),
        Unknown("units.csv", "unreadable"),
    ]


# --------------------------------------------------------------------------------------
# unreadable files


def _assert_read_error(path, *words):
    with pytest.raises(ReadError) as info:
        open_workbook(path)
    error = info.value
    assert error.message_vi and error.message_en
    assert str(error) == error.message_en
    for word in words:
        assert word in error.message_en
    return error


def test_unreadable_files_raise_read_error(tmp_path):
    (tmp_path / "empty.xlsx").write_bytes(b"")
    _assert_read_error(tmp_path / "empty.xlsx", "empty")
    (tmp_path / "empty.csv").write_bytes(b"")
    _assert_read_error(tmp_path / "empty.csv", "empty")
    _assert_read_error(tmp_path / "nope.xlsx", "not found")
    (tmp_path / "fake.zip").write_bytes(b"this is not a zip at all")
    _assert_read_error(tmp_path / "fake.zip", "not a valid .zip")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    _assert_read_error(tmp_path / "broken.zip", "zip")
    (tmp_path / "binary.csv").write_bytes(b"\x00\x01\x02\x03" * 100)
    _assert_read_error(tmp_path / "binary.csv", "neither")
    (tmp_path / "scan.xlsx").write_bytes(b"%PDF-1.7\n...")
    _assert_read_error(tmp_path / "scan.xlsx", "neither")
    (tmp_path / "export.xls").write_text(
        "<html><body><table><tr><td>Mã</td></tr></table></body></html>", encoding="utf-8"
    )
    error = _assert_read_error(tmp_path / "export.xls", "web page")
    assert ".xlsx" in error.message_vi


def test_corrupt_xlsx_raises_read_error(tmp_path):
    good = make_xlsx(tmp_path / "good.xlsx", {"members": [MEMBERS_HEADER]})
    data = good.read_bytes()
    (tmp_path / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    _assert_read_error(tmp_path / "truncated.xlsx", "damaged")
    # a well-formed zip whose sheet XML is garbage
    with zipfile.ZipFile(good) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    parts["xl/worksheets/sheet1.xml"] = b"<worksheet><sheetData><row><c"
    with zipfile.ZipFile(tmp_path / "garbage.xlsx", "w") as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    _assert_read_error(tmp_path / "garbage.xlsx", "damaged")


def test_password_protected_files_raise_read_error(tmp_path):
    # An encrypted .xlsx is an OLE compound file holding an "EncryptedPackage" stream.
    ole = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4088)
    ole[1024:1024] = "EncryptedPackage".encode("utf-16-le")
    (tmp_path / "secret.xlsx").write_bytes(bytes(ole))
    error = _assert_read_error(tmp_path / "secret.xlsx", "password")
    assert "mật khẩu" in error.message_vi
    # a zip whose members are encrypted (flag bit 0 set)
    path = tmp_path / "secret.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("members.csv", "a,b\r\n")
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + offset] |= 0x01
    path.write_bytes(bytes(data))
    _assert_read_error(path, "password")


def test_not_an_ole_workbook_raises_read_error(tmp_path):
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 600)
    _assert_read_error(tmp_path / "old.xls", "damaged")


def test_empty_workbooks_and_containers_raise_read_error(tmp_path):
    _assert_read_error(make_xlsx(tmp_path / "blank.xlsx", {"Sheet1": [], "Sheet2": []}), "empty")
    (tmp_path / "blank.csv").write_text("\r\n,,\r\n\r\n", encoding="utf-8")
    _assert_read_error(tmp_path / "blank.csv", "empty")
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    _assert_read_error(folder, "no CSV")
    path = tmp_path / "images.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.png", b"\x89PNG")
    _assert_read_error(path, "no CSV")


def test_odd_content_never_raises(tmp_path):
    path = make_xlsx(
        tmp_path / "odd.xlsx",
        {
            "Sheet1": [
                [dt.time(10, 30), dt.timedelta(hours=2), True, 1e300, -0.0],
                ["Mã đoàn viên", "Họ và tên", None, "Mã CĐCS", "x" * 5000],
                [dt.time(8, 0), "A\tB", None, 3.14159, "=1/0"],
            ]
        },
    )
    table = open_workbook(path).tables["members"]
    [(number, values)] = all_rows(table)
    assert number == 3
    assert values == {"member_code": "08:00:00", "full_name": "A B", "unit_code": "3.14159"}


def test_csv_with_carriage_returns_only(tmp_path):
    """Excel for Mac's "CSV (Macintosh)" ends lines with a carriage return alone."""
    path = tmp_path / "doan_vien.csv"
    path.write_bytes("Mã đoàn viên,Họ và tên,Mã công đoàn cơ sở\rDV1,Lê Văn An,CS1\r"
                     "DV2,Trần Thị Bình,CS2\r".encode())
    table = open_workbook(path).tables["members"]
    assert [(n, v["member_code"]) for n, v in table.rows()] == [(2, "DV1"), (3, "DV2")]
