"""The usual member row's one-step path gives what the general path gives, or leaves the
row to it."""

import csv
import datetime as dt
import unicodedata
from functools import lru_cache

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantriet.imports import bulk, quick
from quantriet.imports.engine import RosterImport, TableResult, _name_fields
from quantriet.imports.readers import open_workbook
from tests.imports.test_engine import MEMBERS_H

NFD = unicodedata.normalize("NFD", "Nguyễn Thị Thuỷ")

CELLS = {  # per column: usual forms, forms the general path cleans, and errors
    "member_code": ["DV001", "dv-01/2.a", " DV002 ", "DV 003", "'=DV", "DV\\1", "", "ĐV01",
                    "0012", 12, 12.0, 1.5, True, None, "X" * 40, "X" * 41],
    "full_name": ["Nguyễn Văn An", NFD, "  Trần   Thị  Bích ", "Lê\tVăn An", "A\\B C", "",
                  None, 123, "x" * 221, "Nguyễn Văn " + "a" * 61, "An", "'=Lê An",
                  "Lê\u200bVăn An"],
    "gender": ["Nam", "Nữ", "nữ", unicodedata.normalize("NFD", "Nữ"), "M", "f", "", None,
               "khác", "x", True, " Nam "],
    "birth_date": ["12/05/1990", "1990-05-12", "1990-05-12 08:30", "33000", "33000.0",
                   "31/02/1990", "", None, 33000, 33000.5, True, dt.date(1990, 5, 12),
                   dt.datetime(1990, 5, 12, 8, 30), "abc", " 1/2/1990 "],
    "national_id": ["001190000111", "001 190 000 111", "999190000111", "00119000011",
                    1190000111, 1190000111.0, "", None, "\uff10" * 12, "001.190.000.111"],
    "union_card": ["TDV001", "", None, "T DV", "X" * 30, "X" * 31, 123, "t\\1"],
    "email": ["a@b.vn", "An.Le@Cong-Ty.com.vn", "", None, "bad", "a b@c.vn", "a\\b@c.vn",
              " a@b.vn ", "x@y", 5, "a@" + "b" * 112 + ".vn",
              "a" * 60 + "@" + "b" * 150 + "." + "c" * 50],  # 262 characters: too long
    "phone": ["0912345678", "0912 345 678", "+84912345678", "912345678", 912345678, "",
              None, "abc", "\u0660\u0669\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",
              "091234567890123"],
    "unit_code": ["HN-BD-CS1", " HN-BD-CS1", "hn-bd-cs1", "HN-BD", "NOPE", "", None,
                  "HP-LC-CS3", "HN-CS"],
}
USUAL = [
    ["DV00000001", "Nguyễn Văn An", "Nam", "21/01/1982", "001082000001", "TDV00000001", "",
     "0937828218", "HN-BD-CS1"],
    ["DV00000002", "Trần Thị Thu Hà", "Nữ", "1990-05-12", "", "", "ha@example.vn", "",
     "HN-BD-CS2"],
]


def _paths(tmp_path, header):
    folder = tmp_path / "csv"
    folder.mkdir()
    with open(folder / "doan_vien.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, USUAL[0]])
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Đoàn viên"
    sheet.append(header)
    sheet.append(USUAL[0])
    book.save(tmp_path / "roster.xlsx")
    return folder, tmp_path / "roster.xlsx"


def _both(org, path):
    """(the one-step path, the general path) for the member rows of ``path``, as the
    importer of an account limited to Ba Đình district builds them."""
    table = open_workbook(path).tables["members"]
    imp = RosterImport(open_workbook(path), scope=[org.bd.path])
    for name in ("units", "members", "positions"):
        imp.result.tables[name] = TableResult()
    units = imp._unit_index()
    open_units = {code: pk for code, (pk, path_, accepts, is_open) in units.items()
                  if accepts and is_open and imp.in_scope(path_)}
    names = lru_cache(maxsize=None)(_name_fields)
    reading = table.reading()
    usual = quick.member_lines(reading, open_units, names)

    def general(cells):
        values = reading.convert(cells)
        if values is None:
            return None
        out = imp._member_row(7, values, units, names)
        return None if out is None else (bulk.copy_line(out[1:]), out[-1])

    return usual, general


def _rows(text_only):
    def column(values, usual):
        pool = [v for v in values if type(v) is str] if text_only else values
        # half the cells usual, so that most rows vary in a few cells only
        return st.one_of(st.just(usual), st.just(usual), st.sampled_from(pool))

    row = st.tuples(*(column(CELLS[key], usual)
                      for key, usual in zip(quick.KEYS, USUAL[0], strict=True))).map(list)
    # short rows (cells trimmed after the last filled one) and rows with extra cells
    shape = st.sampled_from(["whole"] * 6 + ["short", "extra"])
    return st.tuples(row, shape, st.integers(0, 8)).map(
        lambda t: t[0] if t[1] == "whole" else t[0][:t[2]] if t[1] == "short"
        else t[0] + ["extra"])


@pytest.fixture
def paths(org, tmp_path):
    return _paths(tmp_path, MEMBERS_H)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_accepted_row_is_what_the_general_path_writes(org, paths, kind, data):
    usual, general = _both(org, paths[0] if kind == "csv" else paths[1])
    assert usual is not None
    cells = data.draw(_rows(text_only=kind == "csv"))
    got = usual(list(cells))
    if got is not None:
        assert got == general(list(cells))


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_each_cell_changed_alone(org, paths, kind):
    usual, general = _both(org, paths[0] if kind == "csv" else paths[1])
    taken = 0
    for index, key in enumerate(quick.KEYS):
        for value in CELLS[key]:
            if kind == "csv" and type(value) is not str:
                continue
            cells = list(USUAL[0])
            cells[index] = value
            got = usual(cells)
            if got is not None:
                taken += 1
                assert got == general(list(cells)), (key, value)
    assert taken >= 40  # the test compares something: most changes are still accepted


@pytest.mark.parametrize("kind", [0, 1])
def test_the_usual_rows_take_the_one_step_path(org, paths, kind):
    usual, general = _both(org, paths[kind])
    for cells in USUAL:
        assert usual(list(cells)) is not None
        assert usual(list(cells)) == general(list(cells))
        assert usual(list(cells)) == general(list(cells))  # from the tables it keeps


def test_rows_with_errors_or_out_of_scope_take_the_general_path(org, paths):
    usual, _general = _both(org, paths[0])
    for change in ({8: "HP-LC-CS3"}, {8: "HN-BD"}, {8: "NOPE"}, {0: ""}, {1: ""},
                   {4: "999190000111"}, {3: "31/02/1990"}, {6: "bad"}):
        cells = list(USUAL[0])
        for index, value in change.items():
            cells[index] = value
        assert usual(cells) is None, change


def test_a_unit_code_the_general_path_would_refuse_is_left_to_it(org, paths):
    table = open_workbook(paths[0]).tables["members"]
    usual = quick.member_lines(table.reading(), {"CS 01": org.cs1.pk, "HN-BD-CS1": org.cs1.pk},
                               _name_fields)
    cells = list(USUAL[0])
    assert usual(cells) is not None
    cells[8] = "CS 01"  # on record (loaded in bulk, say), but not a code
    assert usual(cells) is None


def test_a_header_whose_texts_could_be_values_leaves_every_row_to_the_general_path(
        org, tmp_path):
    header = ["ID", "Name", "Giới tính", "Ngày sinh", "Số CCCD", "Số thẻ đoàn viên", "Email",
              "Số điện thoại", "Mã công đoàn cơ sở"]
    folder, _xlsx = _paths(tmp_path, header)
    usual, _general = _both(org, folder)
    assert usual is None  # "ID" could be a member code and "Name" a name
    (tmp_path / "b").mkdir()
    folder, _xlsx = _paths(tmp_path / "b", MEMBERS_H)
    usual, _general = _both(org, folder)
    assert usual is not None  # "Mã đoàn viên" is no code, "Giới tính" no gender, …


@pytest.mark.parametrize("header", [
    MEMBERS_H,
    ["ID", "Name", "Giới tính", "Ngày sinh", "Số CCCD", "Số thẻ đoàn viên", "Email",
     "Số điện thoại", "Mã công đoàn cơ sở"],
])
def test_a_repeated_header_row_is_skipped(org, tmp_path, header):
    folder = tmp_path / "f"
    folder.mkdir()
    rows = [[f"DV{i:05d}", "Nguyễn Văn An", "Nam", "", "", "", "", "", "HN-BD-CS1"]
            for i in range(300)]
    rows.insert(150, header)
    with open(folder / "doan_vien.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    result = RosterImport(open_workbook(folder)).run(apply=True)
    assert result.ok, [i.text("en") for i in result.issues]
    assert result.tables["members"].new == 300
