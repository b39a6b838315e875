"""The import pages: upload → check (the worker's job) → apply; mapping; errors; export."""

import io
import os
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from quantriet.imports import services
from quantriet.imports.models import ImportJob
from quantriet.imports.readers import open_workbook
from quantriet.org.models import Person, Unit
from tests.factories import user
from tests.imports.test_engine import MEMBERS, MEMBERS_H, UNITS, UNITS_H


def _csv(header, rows):
    import csv

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def _zip(**tables):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in tables.items():
            zf.writestr(f"{name}.csv", data)
    return buf.getvalue()


def _client(account):
    c = Client()
    c.force_login(account)
    return c


def _upload(client, data, name="roster.zip"):
    return client.post(reverse("imports:list"), {"file": SimpleUploadedFile(name, data)})


def _work(job_pk):
    """What the db_worker does with the queued task."""
    assert DBTaskResult.objects.filter(status="READY").exists()
    services.run_job(str(job_pk))
    DBTaskResult.objects.all().delete()


def test_upload_check_apply(org, django_capture_on_commit_callbacks):
    c = _client(user(unit_admin=org.hn))
    data = _zip(units=_csv(UNITS_H, UNITS), members=_csv(MEMBERS_H, MEMBERS))
    with django_capture_on_commit_callbacks(execute=True):
        resp = _upload(c, data)
    job = ImportJob.objects.get()
    assert resp.status_code == 302 and resp["Location"].endswith(f"/imports/{job.pk}/")
    _work(job.pk)
    page = c.get(reverse("imports:job", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "previewed", job.error
    assert job.summary["members"]["new"] == 3
    assert not Person.objects.filter(member_code="DV001").exists()
    assert "Apply" in page.content.decode() or "Áp dụng" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("imports:apply", args=[job.pk]))
    _work(job.pk)
    job.refresh_from_db()
    assert job.status == "applied"
    assert Person.objects.filter(member_code="DV001").exists()


def test_errors_are_listed_and_downloadable(org, django_capture_on_commit_callbacks):
    c = _client(user(unit_admin=org.hn))
    bad = [r[:] for r in MEMBERS] + [["DV009", "Lê Văn Sai", "Nam", "", "12345", "", "", "",
                                       "HN-BD-CS5"]]
    with django_capture_on_commit_callbacks(execute=True):
        _upload(c, _zip(units=_csv(UNITS_H, UNITS), members=_csv(MEMBERS_H, bad)))
    job = ImportJob.objects.get()
    _work(job.pk)
    job.refresh_from_db()
    assert job.status == "invalid" and job.issue_count == 1
    issue = job.issues.get()
    assert (issue.table, issue.row, issue.column) == ("members", 5, "national_id")
    assert issue.message_vi != issue.message_en
    resp = c.get(reverse("imports:errors", args=[job.pk]))
    assert resp.status_code == 200
    path = _save(resp)
    wb = open_workbook(path)
    assert list(wb.tables) == ["members"] or "members" in wb.tables
    assert not Unit.objects.filter(code="HN-BD-CS5").exists()
    # applying an invalid job is refused
    c.post(reverse("imports:apply", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "invalid"


def _save(resp):
    import tempfile

    f = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    f.write(b"".join(resp.streaming_content))
    f.close()
    return f.name


def test_unknown_headers_ask_for_a_mapping(org, django_capture_on_commit_callbacks):
    c = _client(user(unit_admin=org.hn))
    header = ["Mã đoàn viên", "Tên đầy đủ của người", "Mã công đoàn cơ sở"]
    rows = [["DV050", "Đinh Thị Lan", "HN-BD-CS1"]]
    resp = _upload(c, _csv(header, rows), name="doan_vien.csv")
    job = ImportJob.objects.get()
    assert resp["Location"].endswith(f"/imports/{job.pk}/mapping/")
    page = c.get(resp["Location"])
    assert "Tên đầy đủ của người" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        resp = c.post(resp["Location"], {"members__0": "member_code", "members__1": "full_name",
                                         "members__2": "unit_code"})
    assert resp.status_code == 302
    _work(job.pk)
    job.refresh_from_db()
    assert job.status == "previewed", (job.error, list(job.issues.values_list("message_en")))


@pytest.mark.parametrize("name,data,message", [
    ("virus.exe", b"MZ...", ".xlsx"),
    ("roster.xlsx", b"this is not a workbook", ""),
    ("roster.zip", b"PK\x03\x04broken", ""),
])
def test_bad_files_get_a_clear_message_and_no_job(org, name, data, message):
    c = _client(user(unit_admin=org.hn))
    resp = _upload(c, data, name=name)
    assert resp.status_code == 200
    errors = resp.context["form"].errors["file"]
    assert errors and (message in errors[0] or not message)
    assert not ImportJob.objects.exists()


def test_too_big_upload_is_refused(org, settings):
    settings.IMPORT_MAX_BYTES = 1000
    c = _client(user(unit_admin=org.hn))
    resp = _upload(c, b"x" * 2000, name="big.csv")
    assert resp.status_code == 200 and "MB" in resp.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()


def test_jobs_are_private_to_their_uploader(org):
    owner = user(unit_admin=org.hn)
    job = services.create_job(upload=SimpleUploadedFile("u.csv", _csv(UNITS_H, UNITS)),
                              actor=owner)
    other = _client(user(unit_admin=org.hn))
    for name in ("job", "status", "mapping", "errors"):
        assert other.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404
    assert Client().get(reverse("imports:job", args=[job.pk])).status_code == 302


def test_accounts_without_change_rights_cannot_import(org):
    c = _client(user(inspector=org.hn))
    assert c.get(reverse("imports:list")).status_code == 404


def test_template_download_reads_back(org, tmp_path):
    c = _client(user(unit_admin=org.hn))
    resp = c.get(reverse("imports:template"))
    path = tmp_path / "t.xlsx"
    path.write_bytes(resp.content)
    wb = open_workbook(path)
    assert set(wb.tables) == {"units", "members", "positions"}


def test_export_is_scoped(org):
    c = _client(user(unit_admin=org.hn))
    resp = c.get(reverse("imports:export"), {"unit": "HN-BD"})
    assert resp.status_code == 200
    assert c.get(reverse("imports:export"), {"unit": "LDLD-31"}).status_code == 404
    assert c.get(reverse("imports:export")).status_code == 200
    reviewer = _client(user(reviewer=org.hn))
    assert reviewer.get(reverse("imports:export"), {"unit": "HN-BD"}).status_code == 404


def test_reform_example_download(org):
    c = _client(user(unit_admin=org.hn))
    resp = c.get(reverse("imports:reform_example"))
    text = resp.content.decode("utf-8-sig")
    assert resp.status_code == 200 and "Sáp nhập vào" in text
    assert text.count("01/07/2025") == 29


def test_a_dead_worker_leaves_nothing_and_the_job_can_be_retried(
    org, django_capture_on_commit_callbacks, monkeypatch
):
    """A worker killed in the middle of applying: nothing written, the job is retried."""
    from quantriet.imports.engine import RosterImport

    c = _client(user(unit_admin=org.hn))
    with django_capture_on_commit_callbacks(execute=True):
        _upload(c, _zip(units=_csv(UNITS_H, UNITS), members=_csv(MEMBERS_H, MEMBERS)))
    job = ImportJob.objects.get()
    _work(job.pk)
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("imports:apply", args=[job.pk]))

    real = RosterImport._write_members

    def die(self, res):
        real(self, res)  # the members are written inside the transaction…
        raise KeyboardInterrupt  # …and the process dies before the commit

    monkeypatch.setattr(RosterImport, "_write_members", die)
    with pytest.raises(KeyboardInterrupt):
        services.run_job(str(job.pk))
    monkeypatch.setattr(RosterImport, "_write_members", real)
    job.refresh_from_db()
    assert job.status == "running"
    assert not Person.objects.filter(member_code__startswith="DV").exists()
    assert not Unit.objects.filter(code="HN-BD-CS5").exists()
    # not yet stale: a retry is refused; two minutes later it is offered and works
    c.post(reverse("imports:retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "running"
    # the dead run's last progress file is as old as its last row
    assert job.progress_path().exists()
    aged = (job.updated_at - services.STALE_AFTER * 2)
    ImportJob.objects.filter(pk=job.pk).update(updated_at=aged)
    os.utime(job.progress_path(), (aged.timestamp(), aged.timestamp()))
    page = c.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert reverse("imports:retry", args=[job.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("imports:retry", args=[job.pk]))
    DBTaskResult.objects.filter(status="RUNNING").delete()
    _work(job.pk)
    job.refresh_from_db()
    assert job.status == "applied"
    assert Person.objects.filter(member_code__startswith="DV").count() == 3
