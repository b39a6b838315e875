"""Imports of more rows than one batch: progress reported while rows are copied, the first
load into an empty member table, and files read in parts by several processes."""

import copy

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from quantriet.imports import services
from quantriet.imports.models import ImportJob
from quantriet.org.models import Person
from tests.factories import user
from tests.imports.test_engine import MEMBERS_H, UNITS, UNITS_H
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
    assert "members: đã đọc 7 dòng" in page and 'aria-valuenow="70"' in page
    job.refresh_from_db()
    assert services.live_progress(job).percent == 70
    assert not services.is_stale(job)
