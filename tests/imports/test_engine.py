"""The roster import end to end: CSV/XLSX in, database out, all or nothing."""

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from quantriet.imports.engine import RosterImport
from quantriet.imports.readers import open_workbook
from quantriet.org import services
from quantriet.org.models import Person, Position, Unit, UnitEvent
from tests.factories import user

UNITS_H = ["Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Cấp", "Tỉnh/thành phố",
           "Số đoàn viên", "Ngày hiệu lực"]
MEMBERS_H = ["Mã đoàn viên", "Họ và tên", "Giới tính", "Ngày sinh", "Số CCCD",
             "Số thẻ đoàn viên", "Email", "Số điện thoại", "Mã công đoàn cơ sở"]
POSITIONS_H = ["Mã đoàn viên", "Mã đơn vị", "Chức vụ", "Chuyên trách", "Từ ngày", "Đến ngày",
               "Mã đơn vị quản lý cán bộ"]


def write_csvs(folder: Path, units=None, members=None, positions=None, encoding="utf-8-sig"):
    folder.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (("don_vi", UNITS_H, units), ("doan_vien", MEMBERS_H, members),
                               ("chuc_vu", POSITIONS_H, positions)):
        if rows is None:
            continue
        with open(folder / f"{name}.csv", "w", newline="", encoding=encoding) as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
    return folder


UNITS = [
    ["HN-BD-CS5", "Công đoàn cơ sở Trường Tiểu học Ngọc Hà", "HN-BD", "Công đoàn cơ sở", "",
     "45", "05/09/2024"],
    ["HN-BD-CS6", "Công đoàn Công ty CP Bánh kẹo Hải Hà", "HN-BD", "grassroots", "",
     "2100", ""],
]
MEMBERS = [
    ["DV001", "Hoàng Thị Mai", "Nữ", "12/05/1990", "001190000111", "", "mai@example.vn",
     "0912 345 678", "HN-BD-CS5"],
    ["DV002", "Nguyễn Văn Toàn", "Nam", "1985-01-31", "", "", "", "", "HN-BD-CS6"],
    ["DV003", "Trần Thị Thuỷ", "nữ", "33000", "", "", "", "", "HN-BD-CS6"],
]
POSITIONS = [
    ["DV002", "HN-BD-CS6", "Chủ tịch", "", "01/10/2023", "", "HN-BD"],
    ["DV003", "HN-BD", "Ủy viên Ban Chấp hành", "x", "01/10/2023", "", ""],
]


def run(path, *, apply=True, actor=None):
    from quantriet.org.managers import scope_paths

    scope = scope_paths(actor, "change") if actor else None
    return RosterImport(open_workbook(path), actor=actor, scope=scope).run(apply=apply)


def test_import_creates_units_members_positions(org, tmp_path):
    folder = write_csvs(tmp_path / "f", UNITS, MEMBERS, POSITIONS)
    result = run(folder)
    assert result.ok, [i.text("en") for i in result.issues]
    assert result.tables["units"].new == 2
    assert result.tables["members"].new == 3
    assert result.tables["positions"].new == 2
    cs5 = Unit.objects.get(code="HN-BD-CS5")
    assert cs5.parent == org.bd and cs5.path.startswith(org.bd.path)
    assert cs5.valid_from == dt.date(2024, 9, 5) and cs5.member_count == 45
    mai = Person.objects.get(member_code="DV001")
    assert (mai.family_name, mai.middle_name, mai.given_name) == ("Hoàng", "Thị", "Mai")
    assert mai.phone == "0912345678" and mai.national_id == "001190000111"
    assert mai.search_name == "hoang thi mai"
    thuy = Person.objects.get(member_code="DV003")
    assert thuy.birth_date == dt.date(1990, 5, 7)  # Excel serial 33000
    assert Position.objects.get(person=thuy).full_time is True
    assert Position.objects.get(person__member_code="DV002").managing_unit == org.bd
    assert services.verify_member_counters() == []
    events = UnitEvent.objects.filter(unit__code__in=["HN-BD-CS5", "HN-BD-CS6"])
    assert sorted(events.values_list("unit__code", "kind", "date", "new_parent", "note",
                                     "other_unit", "old_parent")) == [
        ("HN-BD-CS5", "created", dt.date(2024, 9, 5), org.bd.pk, "imported", None, None),
        ("HN-BD-CS6", "created", dt.date.today(), org.bd.pk, "imported", None, None),
    ]
    assert all(e.created_at is not None for e in events)


def test_reimporting_the_same_file_changes_nothing(org, tmp_path):
    folder = write_csvs(tmp_path / "f", UNITS, MEMBERS, POSITIONS)
    assert run(folder).ok
    before = list(Person.objects.values_list("member_code", "updated_at").order_by("id"))
    again = run(folder)
    assert again.ok
    for name in ("units", "members", "positions"):
        t = again.tables[name]
        assert (t.new, t.updated) == (0, 0), (name, t)
    assert list(Person.objects.values_list("member_code", "updated_at").order_by("id")) == before


def test_a_changed_row_is_an_update(org, tmp_path):
    assert run(write_csvs(tmp_path / "a", UNITS, MEMBERS, POSITIONS)).ok
    members = [r[:] for r in MEMBERS]
    members[1][8] = "HN-BD-CS5"  # Toàn moves to another union
    members[0][1] = "Hoàng Thị Mai Anh"
    result = run(write_csvs(tmp_path / "b", None, members, None))
    assert result.ok
    assert (result.tables["members"].updated, result.tables["members"].unchanged) == (2, 1)
    assert Person.objects.get(member_code="DV002").unit.code == "HN-BD-CS5"
    assert Person.objects.get(member_code="DV001").given_name == "Anh"
    assert services.verify_member_counters() == []


def test_dry_run_writes_nothing_but_counts(org, tmp_path):
    folder = write_csvs(tmp_path / "f", UNITS, MEMBERS, POSITIONS)
    result = run(folder, apply=False)
    assert result.ok and not result.applied
    assert result.tables["members"].new == 3
    assert not Unit.objects.filter(code="HN-BD-CS5").exists()
    assert not Person.objects.filter(member_code__startswith="DV").exists()


@pytest.mark.parametrize("table,row,column", [
    ("units", ["X1", "Đơn vị lạ", "NOPE", "Công đoàn cơ sở", "", "", ""], "parent_code"),
    ("units", ["HN-BD-CS5", "Trùng mã", "HN-BD", "Công đoàn cơ sở", "", "", ""], "code"),
    ("units", ["X2", "Cấp lạ", "HN-BD", "Cấp không có", "", "", ""], "level"),
    ("units", ["X3", "Ngày sai", "HN-BD", "Công đoàn cơ sở", "", "", "31/02/2024"], "valid_from"),
    ("members", ["DV009", "Lê Văn Sai", "Nam", "", "12345", "", "", "", "HN-BD-CS5"],
     "national_id"),
    ("members", ["DV009", "Lê Văn Sai", "Nam", "", "", "", "", "", "HN-BD"], "unit_code"),
    ("members", ["DV001", "Trùng Mã", "Nam", "", "", "", "", "", "HN-BD-CS5"], "member_code"),
    ("members", ["DV009", "Lê Văn Sai", "Nam", "32/13/1990", "", "", "", "", "HN-BD-CS5"],
     "birth_date"),
    ("members", ["DV009", "Lê Văn Sai", "Nam", "", "001185012345", "", "", "", "HN-BD-CS5"],
     "national_id"),  # already An's ID
    ("members", ["DV009", "Lê Văn Dài", "Nam", "", "", "T" * 31, "", "", "HN-BD-CS5"],
     "union_card"),  # wider than the column
    ("members", ["DV009", "Lê Văn " + "A" * 61, "Nam", "", "", "", "", "", "HN-BD-CS5"],
     "full_name"),  # a word wider than the given-name column
    ("positions", ["DV001", "HN-BD-CS5", "Tổng thống", "", "", "", ""], "position"),
    ("positions", ["DV404", "HN-BD-CS5", "Chủ tịch", "", "", "", ""], "member_code"),
])
def test_one_bad_row_writes_nothing_and_is_named(org, tmp_path, table, row, column):
    units, members, positions = [r[:] for r in UNITS], [r[:] for r in MEMBERS], [
        r[:] for r in POSITIONS]
    {"units": units, "members": members, "positions": positions}[table].append(row)
    result = run(write_csvs(tmp_path / "f", units, members, positions))
    assert not result.ok
    assert not result.applied
    bad = [(i.table, i.column) for i in result.issues]
    assert (table, column) in bad, [(i.table, i.row, i.column, i.text("en")) for i in result.issues]
    expected_row = {"units": len(units), "members": len(members),
                    "positions": len(positions)}[table] + 1
    assert any(i.row == expected_row for i in result.issues if i.table == table)
    assert all(i.text("vi") and i.text("en") for i in result.issues)
    assert not Unit.objects.filter(code="HN-BD-CS5").exists()
    assert not Person.objects.filter(member_code="DV001").exists()


def test_union_card_numbers_are_unique(org, tmp_path):
    members = [r[:] for r in MEMBERS]
    members[0][5] = members[2][5] = "TDV-7"  # the same card twice in the file
    result = run(write_csvs(tmp_path / "a", UNITS, members, None))
    assert not result.ok
    assert [(i.row, i.column) for i in result.issues] == [(4, "union_card")]
    assert "TDV-7" in result.issues[0].text("en")
    assert not Person.objects.filter(member_code="DV001").exists()

    members[2][5] = ""
    assert run(write_csvs(tmp_path / "b", UNITS, members, POSITIONS)).ok
    other = [["DV010", "Đỗ Văn Khác", "Nam", "", "", "TDV-7", "", "", "HN-BD-CS5"]]
    result = run(write_csvs(tmp_path / "c", None, other, None))
    assert [(i.row, i.column) for i in result.issues] == [(2, "union_card")]
    assert "another member" in result.issues[0].text("en")
    assert not Person.objects.filter(member_code="DV010").exists()


def test_cycle_is_an_error(org, tmp_path):
    units = [
        ["C1", "Vòng 1", "C2", "Công đoàn ngành địa phương", "", "", ""],
        ["C2", "Vòng 2", "C1", "Công đoàn ngành địa phương", "", "", ""],
    ]
    result = run(write_csvs(tmp_path / "f", units))
    assert not result.ok
    assert {i.column for i in result.issues} >= {"parent_code"}


def test_scope_rows_outside_the_subtree_are_errors(org, tmp_path):
    admin = user(unit_admin=org.hp)
    result = run(write_csvs(tmp_path / "f", UNITS, MEMBERS), actor=admin)
    assert not result.ok
    assert {i.column for i in result.issues if i.table == "units"} == {"parent_code"}
    assert not Unit.objects.filter(code="HN-BD-CS5").exists()
    own = user(unit_admin=org.hn)
    assert run(write_csvs(tmp_path / "g", UNITS, MEMBERS), actor=own).ok


def cp1258_bytes(text: str) -> bytes:
    """Windows-1258 the way Windows writes it: letters with ^ ˘ ơ ư precomposed, tones as
    combining marks after them."""
    import unicodedata

    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            out.append((base + "".join(c for c in parts if c in tones)).encode("cp1258"))
    return b"".join(out)


def test_cp1258_and_nfd_csv(org, tmp_path):
    import unicodedata

    folder = write_csvs(tmp_path / "f", UNITS, None, None)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(MEMBERS_H)
    w.writerows(MEMBERS)
    (folder / "doan_vien.csv").write_bytes(cp1258_bytes(buf.getvalue()))
    nfd = [[unicodedata.normalize("NFD", c) for c in r] for r in MEMBERS]
    nfd[0][0], nfd[1][0], nfd[2][0] = "DV101", "DV102", "DV103"
    nfd[0][4] = ""
    write_csvs(tmp_path / "g", None, nfd, None)
    result = run(folder)
    assert result.ok, [i.text("en") for i in result.issues]
    assert run(tmp_path / "g").ok
    assert Person.objects.get(member_code="DV103").full_name == "Trần Thị Thuỷ"
    assert result.ok, [i.text("en") for i in result.issues]
    assert Person.objects.get(member_code="DV003").full_name == "Trần Thị Thuỷ"


def test_export_then_import_is_a_no_op(org, tmp_path):
    from quantriet.imports.export import export_roster

    assert run(write_csvs(tmp_path / "f", UNITS, MEMBERS, POSITIONS)).ok
    for fmt in ("xlsx", "zip"):
        out = tmp_path / f"export.{fmt}"
        with open(out, "wb") as fh:
            export_roster(org.hn, fh, fmt)
        result = run(out)
        assert result.ok, (fmt, [i.text("en") for i in result.issues][:5])
        for name in ("units", "members", "positions"):
            t = result.tables[name]
            assert (t.new, t.updated) == (0, 0), (fmt, name, vars(t))
        assert result.tables["members"].unchanged == 3


def test_cli_import_and_export(org, tmp_path, capsys):
    folder = write_csvs(tmp_path / "f", UNITS, MEMBERS, POSITIONS)
    call_command("import-roster", str(folder), "--dry-run")
    assert not Person.objects.filter(member_code="DV001").exists()
    call_command("import-roster", str(folder))
    assert Person.objects.filter(member_code="DV001").exists()
    bad = write_csvs(tmp_path / "bad", None, [["DV1", "", "", "", "", "", "", "", "NOPE"]])
    with pytest.raises(CommandError):
        call_command("import-roster", str(bad))
    call_command("export-roster", str(tmp_path / "out.xlsx"), "--unit", "HN-BD")
    assert zipfile.is_zipfile(tmp_path / "out.xlsx")


def test_a_unit_moves_under_a_unit_the_same_file_creates(org, tmp_path):
    units = [
        ["HN-TH", "Liên đoàn Lao động quận Tây Hồ", "LDLD-01", "district", "", "", "01/01/2025"],
        ["HN-BD-CS1", "Công đoàn cơ sở Trường THPT Phan Đình Phùng", "HN-TH", "grassroots", "",
         "2500", "01/07/2025"],
    ]
    result = run(write_csvs(tmp_path / "m", units))
    assert result.ok, [i.text("en") for i in result.issues]
    assert (result.tables["units"].new, result.tables["units"].updated) == (1, 1)
    tay_ho, cs1 = Unit.objects.get(code="HN-TH"), Unit.objects.get(code="HN-BD-CS1")
    assert tay_ho.parent == org.hn and tay_ho.path.startswith(org.hn.path)
    assert tay_ho.search_name == "lien doan lao dong quan tay ho hn-th"
    assert tay_ho.valid_from == dt.date(2025, 1, 1) and tay_ho.depth == org.hn.depth + 1
    assert cs1.parent == tay_ho and cs1.path.startswith(tay_ho.path)
    assert UnitEvent.objects.filter(unit=tay_ho, kind=UnitEvent.Kind.CREATED).count() == 1
    assert cs1.members.count() == 3 and services.verify_member_counters() == []


def test_new_units_are_written_as_the_orm_writes_them(org):
    from quantriet.imports.engine import _NewUnit
    from quantriet.org import tree
    from quantriet.text import fold

    imp = RosterImport(None)
    grassroots = org.cs1.level
    values = [dict(name="Công đoàn Công ty Sông Hồng", level_id=grassroots.pk,
                   parent_id=org.bd.pk, province_code="01", province_name="Hà Nội",
                   member_count=120, valid_from=dt.date(2025, 7, 1)),
              dict(name="Công đoàn cơ sở Phường Kim Mã", level_id=grassroots.pk,
                   parent_id=org.bd.pk, province_code="", province_name="",
                   member_count=None, valid_from=None)]
    ids = imp._allocate_unit_ids(4)
    rows = [_NewUnit(pk=pk, code=f"COPY-{pk}", path=org.bd.path + tree.encode(pk), **v)
            for pk, v in zip(ids[:2], values, strict=True)]
    imp._insert_units(rows)
    Unit.objects.bulk_create([
        Unit(pk=pk, code=f"ORM-{pk}", path=org.bd.path + tree.encode(pk),
             depth=org.bd.depth + 1, search_name=fold(f"{v['name']} ORM-{pk}"), **v)
        for pk, v in zip(ids[2:], values, strict=True)])
    fields = [f.attname for f in Unit._meta.concrete_fields
              if f.attname not in ("id", "code", "path", "search_name", "created_at",
                                   "updated_at")]
    copied = Unit.objects.filter(code__startswith="COPY-").order_by("id")
    orm = Unit.objects.filter(code__startswith="ORM-").order_by("id")
    assert list(copied.values_list(*fields)) == list(orm.values_list(*fields))
    assert [u.search_name for u in copied] == [fold(f"{u.name} {u.code}") for u in copied]
    assert all(u.created_at and u.updated_at and u.depth == org.bd.depth + 1 for u in copied)


def test_restructuring_columns(org, tmp_path):
    """A units sheet can merge, move and dissolve (dissolved_on = the effective date)."""
    header = UNITS_H + ["Sáp nhập vào", "Chuyển về", "Ngày giải thể"]
    rows = [
        ["LDLD-31", "Liên đoàn Lao động Thành phố Hải Phòng", "TLD", "province", "", "", "",
         "LDLD-01", "", "01/07/2025"],
        ["HN-BD-CS2", "Công đoàn Bệnh viện Xanh Pôn", "HN-BD", "grassroots", "", "800", "",
         "", "", ""],
    ]
    folder = tmp_path / "r"
    folder.mkdir()
    with open(folder / "units.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    result = run(folder)
    assert result.ok, [i.text("en") for i in result.issues]
    hp = Unit.objects.get(code="LDLD-31")
    assert hp.successor == org.hn and hp.valid_to == dt.date(2025, 6, 30)
    assert Unit.objects.get(code="HP-LC").parent == org.hn
    again = run(folder)
    assert again.ok and again.tables["units"].restructured == 0


def test_the_2025_reform_example_applies_to_the_2018_demo(db, tmp_path):
    """63 provincial federations of the 2018 demo → 34, from the shipped example sheet."""
    from quantriet.imports.examples import reform_2025_header, reform_2025_rows

    call_command("demo", "--scale", "tiny", "--structure", "2018", verbosity=0)
    assert Unit.objects.filter(level__code="province", valid_to__isnull=True).count() == 63
    folder = tmp_path / "reform"
    folder.mkdir()
    with open(folder / "don_vi.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(reform_2025_header())
        w.writerows(reform_2025_rows())
    result = run(folder)
    assert result.ok, [i.text("en") for i in result.issues][:5]
    assert result.tables["units"].restructured == 29
    assert Unit.objects.filter(level__code="province", valid_to__isnull=True).count() == 34
    assert Unit.objects.filter(level__code="province").count() == 63
    hg = Unit.objects.get(code="LDLD-02")
    assert hg.successor.code == "LDLD-08" and hg.valid_to == dt.date(2025, 6, 30)
    assert services.verify_member_counters() == []
    again = run(folder)
    assert again.ok and again.tables["units"].restructured == 0
