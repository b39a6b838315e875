"""Tests for quantriet.imports.spreadsheets: formula-injection protection, CSV and XLSX
writing, and round trips through quantriet.imports.readers."""

import datetime as dt
import io
import unicodedata
import zipfile

import openpyxl
import pytest

from quantriet.imports.readers import open_workbook
from quantriet.imports.spreadsheets import (
    CSV_BOM,
    csv_chunks,
    safe_cell,
    sheet_title,
    write_csv,
    write_xlsx,
)

HEADER = ["Mã đoàn viên", "Họ và tên", "Ngày sinh", "Số CCCD", "Số điện thoại", "Mã CĐCS"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+2", "'+1+2"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("+84 912 345 678", "'+84 912 345 678"),
        ("-", "'-"),
        ("=", "'="),
        # plain numbers are numbers to any spreadsheet, never formulas: left alone
        ("-5", "-5"),
        ("+84912345678", "+84912345678"),
        ("-0.5", "-0.5"),
        ("-0,5", "-0,5"),
        # ordinary text, diacritics kept
        ("Nguyễn Văn Ánh", "Nguyễn Văn Ánh"),
        ("a=b", "a=b"),
        (" =1+1", " =1+1"),
        ("", ""),
        ("001185012345", "001185012345"),
        # other types unchanged
        (None, None),
        (5, 5),
        (-5.5, -5.5),
        (dt.date(2020, 1, 1), dt.date(2020, 1, 1)),
        (True, True),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_safe_cell_keeps_diacritics_and_normalisation():
    nfd = unicodedata.normalize("NFD", "=Đặng")
    assert safe_cell(nfd) == "'" + nfd


def test_write_csv_bytes_bom_quoting_and_protection(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(
        path,
        HEADER,
        [
            ["001", "Nguyễn Văn Ánh", dt.date(1990, 2, 3), "001185012345", "+84912345678", "A,B"],
            ["002", "=1+1", None, 12, "@x", 'Công đoàn "X"'],
            [3.0, True, dt.datetime(2024, 5, 6, 7, 8), 1.5, "-5", "-1+2"],
        ],
    )
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.split("\r\n") == [
        ",".join(HEADER),
        '001,Nguyễn Văn Ánh,03/02/1990,001185012345,+84912345678,"A,B"',
        '002,\'=1+1,,12,\'@x,"Công đoàn ""X"""',
        "3,TRUE,06/05/2024 07:08,1.5,-5,'-1+2",
        "",
    ]


def test_write_csv_to_streams(tmp_path):
    rows = [["001", "Ánh"]]
    binary = io.BytesIO()
    write_csv(binary, ["Mã", "Tên"], rows)
    assert binary.getvalue() == "\ufeffMã,Tên\r\n001,Ánh\r\n".encode()
    text = io.StringIO()
    write_csv(text, ["Mã", "Tên"], rows, delimiter=";")
    assert text.getvalue() == "\ufeffMã;Tên\r\n001;Ánh\r\n"

    class Response:  # anything with write(bytes), like Django's HttpResponse
        def __init__(self):
            self.parts = []

        def write(self, data):
            self.parts.append(data)

    response = Response()
    write_csv(response, ["Mã", "Tên"], rows)
    assert b"".join(response.parts) == binary.getvalue()
    # a zip member opened for writing, as an export of three CSV files does
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as zf, zf.open("members.csv", "w") as member:
        write_csv(member, ["Mã", "Tên"], rows)
    with zipfile.ZipFile(archive) as zf:
        assert zf.read("members.csv") == binary.getvalue()


def test_csv_chunks_stream_in_batches():
    rows = ([str(i), "x"] for i in range(2500))
    chunks = list(csv_chunks(["a", "b"], rows))
    assert len(chunks) == 3
    assert chunks[0].startswith(CSV_BOM + "a,b\r\n0,x\r\n")
    assert "".join(chunks).count("\r\n") == 2501


def test_csv_round_trip_through_the_reader(tmp_path):
    rows = [
        ["001", "Nguyễn Văn Ánh", dt.date(1990, 2, 3), "001185012345", "0912345678", "CS01"],
        ["002", "=cmd|' /C calc'!A0", None, "", "+84 912 345 678", "-1"],
    ]
    path = tmp_path / "doan_vien.csv"
    write_csv(path, HEADER, rows)
    table = open_workbook(path).tables["members"]
    assert table.encoding == "utf-8-sig"
    got = list(table.rows())
    assert got[0] == (
        2,
        {
            "member_code": "001",
            "full_name": "Nguyễn Văn Ánh",
            "birth_date": "03/02/1990",
            "national_id": "001185012345",
            "phone": "0912345678",
            "unit_code": "CS01",
        },
    )
    # the protecting quote is removed again on import
    assert got[1][1]["full_name"] == "=cmd|' /C calc'!A0"
    assert got[1][1]["phone"] == "+84 912 345 678"
    assert got[1][1]["unit_code"] == "-1"


def test_sheet_title():
    used: set[str] = set()
    assert sheet_title("Đoàn viên", used) == "Đoàn viên"
    assert sheet_title("đoàn VIÊN", used) == "đoàn VIÊN (2)"
    assert sheet_title("a/b:c?[d]*", used) == "a b c  d"
    assert len(sheet_title("x" * 40, used)) == 31
    assert sheet_title("''", used) == "Sheet"


def _rows():
    yield ["001", "Nguyễn Văn Ánh", dt.date(1990, 2, 3), "001185012345", "0912345678", "01"]
    yield ["002", "=1+1", dt.datetime(2001, 12, 31, 23, 59), 12345678901234567, "@x", "-5"]
    yield [3, "Ça\x01va", None, 1.5, "+84912345678", True]


def test_write_xlsx_cells_and_formatting(tmp_path):
    path = tmp_path / "out.xlsx"
    write_xlsx(path, {"Đoàn viên": (HEADER, _rows()), "Trống": (["A"], iter([]))})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Đoàn viên", "Trống"]
    ws = wb["Đoàn viên"]
    assert [c.value for c in ws[1]] == HEADER
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws["A2"].value == "001" and ws["A2"].data_type == "s"
    assert ws["D2"].value == "001185012345" and ws["D2"].data_type == "s"
    assert ws["C2"].value == dt.datetime(1990, 2, 3)  # a real date cell
    assert ws["C2"].number_format == "dd/mm/yyyy"
    assert ws["C3"].number_format == "dd/mm/yyyy hh:mm"
    # formula-looking text stays text, protected by Excel's quote prefix
    assert ws["B3"].value == "=1+1" and ws["B3"].data_type == "s"
    assert ws["B3"].quotePrefix
    assert ws["E3"].value == "@x" and ws["E3"].quotePrefix
    assert ws["D3"].value == "12345678901234567"  # too long for Excel's 15 digits
    assert ws["B4"].value == "Çava"  # control character dropped
    assert ws["A4"].value == 3 and ws["D4"].value == 1.5 and ws["F4"].value is True
    # columns sized, code columns formatted as Text for values typed in later
    assert 14 <= ws.column_dimensions["B"].width <= 60
    assert ws.column_dimensions["A"].number_format == "@"
    assert ws.column_dimensions["D"].number_format == "@"
    assert ws.column_dimensions["C"].number_format != "@"
    with zipfile.ZipFile(path) as zf:
        assert b"<f>" not in zf.read("xl/worksheets/sheet1.xml")


def test_write_xlsx_round_trip_through_the_reader(tmp_path):
    members = [
        ["001185012345", "Nguyễn Văn Ánh", dt.date(1990, 2, 3), "001185012345", "0912", "0001"],
        ["0002", unicodedata.normalize("NFD", "Đặng Thị Thuỷ"), dt.date(1900, 3, 1), "", "", "01"],
        ["3", "=SUM(1,2)", None, None, "-5", "CS 01"],
    ]
    units = [["0001", "Công đoàn cơ sở Trường Tiểu học Lê Lợi", "", "1", dt.date(2025, 7, 1)]]
    stream = io.BytesIO()
    write_xlsx(
        stream,
        {
            "Đơn vị": (
                ["Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Cấp", "Ngày hiệu lực"],
                units,
            ),
            "Đoàn viên": (HEADER, iter(members)),
        },
    )
    path = tmp_path / "roster.xlsx"
    path.write_bytes(stream.getvalue())
    wb = open_workbook(path)
    assert list(wb.tables) == ["units", "members"]
    got = [v for _, v in wb.tables["members"].rows()]
    assert got[0] == {
        "member_code": "001185012345",
        "full_name": "Nguyễn Văn Ánh",
        "birth_date": dt.date(1990, 2, 3),
        "national_id": "001185012345",
        "phone": "0912",
        "unit_code": "0001",
    }
    assert got[1]["member_code"] == "0002"
    assert got[1]["full_name"] == "Đặng Thị Thuỷ"  # NFC again
    assert got[1]["birth_date"] == dt.date(1900, 3, 1)
    assert got[1]["national_id"] is None
    assert got[2]["full_name"] == "=SUM(1,2)"
    assert got[2]["phone"] == "-5"
    assert got[2]["unit_code"] == "CS 01"
    [(number, unit)] = list(wb.tables["units"].rows())
    assert number == 2
    assert unit == {
        "code": "0001",
        "name": "Công đoàn cơ sở Trường Tiểu học Lê Lợi",
        "parent_code": None,
        "level": "1",
        "valid_from": dt.date(2025, 7, 1),
    }


def test_write_xlsx_consumes_rows_lazily(tmp_path):
    produced = []

    def rows():
        for i in range(1000):
            produced.append(i)
            yield [f"{i:05d}", f"Tên {i}"]

    generator = rows()
    write_xlsx(tmp_path / "lazy.xlsx", {"members": (["Mã đoàn viên", "Họ và tên"], generator)})
    assert len(produced) == 1000
    table = open_workbook(tmp_path / "lazy.xlsx").tables["members"]
    numbers = [(n, v["member_code"]) for n, v in table.rows()]
    assert numbers[0] == (2, "00000") and numbers[-1] == (1001, "00999")


def test_write_xlsx_with_no_sheets_still_makes_a_valid_workbook(tmp_path):
    write_xlsx(tmp_path / "empty.xlsx", {})
    assert openpyxl.load_workbook(tmp_path / "empty.xlsx").sheetnames == ["Sheet"]
