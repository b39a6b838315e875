"""Imports of more rows than one batch: progress reported while rows are copied, the first
load into an empty member table, and files read in parts by several processes."""

import copy
import warnings

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from quantriet.imports import parallel, services
from quantriet.imports.engine import RosterImport
from quantriet.imports.models import ImportJob
from quantriet.org import services as services_org
from quantriet.org.models import Person, Position, Unit
from tests.factories import person, unit, user
from tests.imports.test_engine import MEMBERS_H, POSITIONS, UNITS, UNITS_H, run, write_csvs
from tests.imports.test_views import _csv, _zip


def members(n, unit="HN-BD-CS5"):
    return [[f"DV{i:06d}", f"Nguyễn Văn An {i % 7}", "Nam", "12/05/1990",
             f"001090{i:06d}", "", "", "", unit] for i in range(1, n + 1)]


def _job(org, rows):
    account = user(unit_admin=org.hn)
    upload = SimpleUploadedFile("roster.zip", _zip(units=_csv(UNITS_H, UNITS),
                                                   members=_csv(MEMBERS_H, members(rows))))
    return account, services.create_job(upload=upload, actor=account)


def test_a_job_reports_progress_outside_its_transaction(org, monkeypatch):
    """More rows than one progress batch (5,000): the progress is written while rows are
    being copied (on PostgreSQL the import's own connection cannot send anything then),
    and another process can read it while the import's transaction is open."""
    _account, job = _job(org, 12_000)
    seen = []
    real = services._progress_file_writer

    def spy(job):
        write = real(job)
        running = copy.copy(job)
        running.status = ImportJob.Status.RUNNING

        def progress(phase, done):
            write(phase, done)
            # what the status page reads: the file only, no query
            live = services.live_progress(copy.copy(running))
            seen.append((live.progress_phase, live.progress_rows))

        return progress

    monkeypatch.setattr(services, "_progress_file_writer", spy)
    monkeypatch.setattr(services, "PROGRESS_EVERY", 0)
    services.run_job(str(job.pk))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED, job.error
    assert job.summary["members"]["new"] == 12_000
    assert not Person.objects.filter(member_code="DV000001").exists()
    # units (2 rows) first, then members counted on top, 5,000 at a time
    assert ("members", 5_002) in seen and ("members", 10_002) in seen
    assert not job.progress_path().exists()  # removed when the job finished


def test_the_status_page_shows_the_progress_file(org):
    account, job = _job(org, 3)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, total_rows=10)
    services._progress_file_writer(job)("members", 7)
    c = Client()
    c.force_login(account)
    page = c.get(reverse("imports:status", args=[job.pk])).content.decode()
    assert "Đoàn viên: đã đọc 7 dòng" in page and 'aria-valuenow="70"' in page
    job.refresh_from_db()
    assert services.live_progress(job).percent == 70
    assert not services.is_stale(job)


# ------------------------------------------------------------------ first load, parts

POSTGRES = connection.vendor == "postgresql"


@pytest.fixture
def empty_tree(db):
    """The units the test files hang from, and no member at all."""
    top = unit("TLD", "Tổng Liên đoàn Lao động Việt Nam", "confederation")
    hn = unit("LDLD-01", "Liên đoàn Lao động Thành phố Hà Nội", "province", top)
    return unit("HN-BD", "Liên đoàn Lao động quận Ba Đình", "district", hn)


@pytest.fixture
def paths(monkeypatch):
    """Small files take the large-file paths: the first load from 1 row, parts from 1 row,
    four parts (more than this machine's cores, so children run); returns what ran."""
    taken = []
    monkeypatch.setattr(RosterImport, "FIRST_LOAD_MIN_ROWS", 1)
    monkeypatch.setattr(RosterImport, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(parallel, "workers", lambda: 4)
    real_run, real_first = parallel.run, RosterImport._first_load

    def run(spans, *a):
        taken.append(f"{len(spans)} parts")
        return real_run(spans, *a)

    def first(self, table):
        done = real_first(self, table)
        taken.append("first load" if done else "staging")
        return done

    monkeypatch.setattr(parallel, "run", run)
    monkeypatch.setattr(RosterImport, "_first_load", first)
    with warnings.catch_warnings():
        # workers() is replaced: the children check rows only (see test_parallel.py)
        warnings.filterwarnings("ignore", "This process .* is multi-threaded",
                                DeprecationWarning)
        yield taken


def _people():
    return list(Person.objects.order_by("id").values_list(
        "member_code", "family_name", "middle_name", "given_name", "full_name", "search_name",
        "sort_key", "gender", "birth_date", "national_id", "union_card", "email", "phone",
        "unit__code"))


def _roster(n):
    rows = members(n)
    for i, r in enumerate(rows):
        r[0] = f"{'DV' if i % 2 else 'dv-'}{i:05d}"
        r[1] = ["Hoàng Thị Mai", "Nguyễn Văn Toàn", "Tôn Nữ Thị Ngọc Hân", "Trần Thuỷ"][i % 4]
        r[2] = ["Nữ", "Nam", "nữ", ""][i % 4]
        r[3] = ["12/05/1990", "1985-01-31", "33000", ""][i % 4]
        r[4] = f"0011{i:08d}" if i % 3 else ""
        r[5] = f"CD{i}" if i % 5 == 0 else ""
        r[6] = f"a{i}@example.vn" if i % 2 else ""
        r[7] = "0912 345 678" if i % 3 == 1 else ""
        r[8] = ["HN-BD-CS5", "HN-BD-CS6"][i % 2]
    return rows


def _import(tmp_path, name, member_rows):
    result = run(write_csvs(tmp_path / name, UNITS, member_rows, POSITIONS[:1]))
    return result, _people(), services_org.verify_member_counters()


def test_the_first_load_writes_what_the_staging_path_writes(empty_tree, tmp_path,
                                                           monkeypatch, paths):
    rows = _roster(900)
    rows[1] = ["DV002", "Nguyễn Văn Toàn", "Nam", "1985-01-31", "", "", "", "", "HN-BD-CS6"]
    fast, fast_people, fast_counters = _import(tmp_path, "a", rows)
    assert fast.ok, [i.text("en") for i in fast.issues[:5]]
    assert paths == (["4 parts", "first load"] if POSTGRES else ["staging"])
    # the first load wrote ids of its own: the sequence goes on after them
    last = Person.objects.order_by("-id").values_list("id", flat=True)[0]
    assert person(Unit.objects.get(code="HN-BD-CS5"), "Lê Văn Sau").pk > last
    # again, on the staging path: into an empty table too, read by one process
    Position.objects.all().delete()
    Person.objects.all().delete()
    Unit.objects.filter(code__in=["HN-BD-CS5", "HN-BD-CS6"]).delete()
    monkeypatch.setattr(RosterImport, "FIRST_LOAD_MIN_ROWS", 10**9)
    monkeypatch.setattr(RosterImport, "PARALLEL_MIN_ROWS", 10**9)
    slow, slow_people, slow_counters = _import(tmp_path, "b", rows)
    assert slow.ok
    assert fast.summary() == slow.summary()
    assert fast_people == slow_people and len(fast_people) == 900
    assert fast_counters == slow_counters == []
    assert Unit.objects.get(code="HN-BD-CS6").direct_members == 450


@pytest.mark.parametrize("mistake", ["bad date", "repeated national ID", "repeated code"])
def test_a_first_load_with_an_error_lists_what_the_staging_path_lists(
        empty_tree, tmp_path, monkeypatch, paths, mistake):
    rows = _roster(900)
    if mistake == "bad date":
        rows[700][3] = "31/02/1990"
    elif mistake == "repeated national ID":
        rows[800][4] = rows[2][4]
    else:
        rows[650][0] = rows[3][0]
    fast = run(write_csvs(tmp_path / "a", UNITS, rows, None))
    assert not Person.objects.exists()
    if POSTGRES:  # given up (at the row, or when the constraint was built), then staged
        assert paths == ["4 parts", "staging", "4 parts"]
    monkeypatch.setattr(RosterImport, "FIRST_LOAD_MIN_ROWS", 10**9)
    monkeypatch.setattr(RosterImport, "PARALLEL_MIN_ROWS", 10**9)
    slow = run(write_csvs(tmp_path / "b", UNITS, rows, None))
    issues = [(i.table, i.row, i.column, i.text("en")) for i in fast.issues]
    assert issues == [(i.table, i.row, i.column, i.text("en")) for i in slow.issues]
    assert len(issues) == 1 and issues[0][1] in (702, 802, 652)
    assert fast.summary() == slow.summary()


def test_one_bad_row_among_100000_writes_nothing_and_is_named(empty_tree, tmp_path):
    """At the real thresholds: on PostgreSQL a first load, given up at the row."""
    rows = _roster(100_000)
    rows[61_233][3] = "31/02/1990"  # row 61,235 of the file, under its header
    units_before = Unit.objects.count()
    result = run(write_csvs(tmp_path / "a", UNITS, rows, None))
    assert not result.applied and result.issue_count == 1
    (issue,) = result.issues
    assert (issue.table, issue.row, issue.column) == ("members", 61_235, "birth_date")
    assert "31/02/1990" in issue.text("en")
    assert result.tables["members"].rows == 100_000
    assert not Person.objects.exists()
    assert Unit.objects.count() == units_before  # the file's units are not written either


def test_errors_found_by_the_parts_are_listed_in_file_order(org, tmp_path, monkeypatch,
                                                           paths):
    """The member table is not empty: the staging path, its rows read in four parts."""
    rows = _roster(1000)
    for i in (5, 260, 499, 777, 998):
        rows[i][3] = "not a date"
    rows[900][8] = "NO-SUCH-UNIT"
    fast = run(write_csvs(tmp_path / "a", UNITS, rows, None))
    if POSTGRES:
        assert paths == ["staging", "4 parts"]
    monkeypatch.setattr(RosterImport, "PARALLEL_MIN_ROWS", 10**9)
    slow = run(write_csvs(tmp_path / "b", UNITS, rows, None))
    issues = [(i.table, i.row, i.column, i.text("en")) for i in fast.issues]
    assert issues == [(i.table, i.row, i.column, i.text("en")) for i in slow.issues]
    assert [i[1] for i in issues] == [7, 262, 501, 779, 902, 1000]
    assert fast.summary() == slow.summary()
    assert fast.tables["members"].rows == 1000


def test_a_misleading_quote_sends_the_file_back_to_one_reader(org, tmp_path, paths, caplog):
    rows = _roster(600)
    rows[20][1] = 'Lê Văn 5" An'
    rows[60][1] = 'Lê Văn 7" Bình'
    folder = write_csvs(tmp_path / "a", UNITS, rows, None)
    # as a program that never quotes writes it (csv.writer would quote these cells)
    (folder / "doan_vien.csv").write_text(
        "\r\n".join(",".join(r) for r in [MEMBERS_H, *rows]), encoding="utf-8-sig")
    result = run(folder)
    assert result.ok, [i.text("en") for i in result.issues[:3]]
    assert Person.objects.get(member_code="dv-00020").full_name == 'Lê Văn 5" An'
    assert result.tables["members"].new == 600
    if POSTGRES:
        assert paths == ["staging", "4 parts"]
        assert "in one part" in caplog.text
