"""State changes of imports: create a job from an upload, set its mapping, run it."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from quantriet.core.audit import record
from quantriet.imports.engine import ImportResult, RosterImport
from quantriet.imports.models import ImportIssue, ImportJob
from quantriet.imports.readers import ReadError, open_workbook
from quantriet.org.managers import scope_paths

log = logging.getLogger(__name__)

ALLOWED_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".zip"}


def check_upload(upload: UploadedFile) -> None:
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise ValidationError(
            _("“%(name)s” is not a spreadsheet: send an .xlsx, .ods, .csv or a .zip of .csv "
              "files.") % {"name": upload.name}
        )
    if upload.size and upload.size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(
            _("The file is %(size)s MB; the limit is %(limit)s MB. Split it by unit or "
              "send a .zip of .csv files.")
            % {"size": upload.size // (1024 * 1024),
               "limit": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
        )


def read_error_text(exc: ReadError) -> str:
    lang = translation.get_language() or "vi"
    return exc.message_en if lang.startswith("en") else exc.message_vi


@transaction.atomic
def create_job(*, upload: UploadedFile, actor: Any) -> ImportJob:
    """Store an upload and look at its tables; a job whose headers need a mapping waits."""
    check_upload(upload)
    job = ImportJob(created_by=actor, original_name=(upload.name or "")[:255])
    job.file.save(upload.name or "roster", upload, save=False)
    try:
        workbook = open_workbook(job.file.path)
    except ReadError as exc:
        job.file.delete(save=False)
        raise ValidationError(read_error_text(exc)) from None
    if not workbook.tables:
        job.file.delete(save=False)
        en = (translation.get_language() or "vi").startswith("en")
        reasons = "; ".join(
            f"{u.source}: {u.message_en if en else u.message_vi}" for u in workbook.unknown
        )
        raise ValidationError(
            _("No table of units, members or positions was recognised in this file.")
            + (f" ({reasons})" if reasons else "")
        )
    job.mapping = {name: dict(t.columns) for name, t in workbook.tables.items()}
    job.status = (
        ImportJob.Status.MAPPING if needs_mapping(workbook) else ImportJob.Status.QUEUED
    )
    job.save()
    record("imports.upload", job, actor=actor, file=job.original_name)
    return job


def needs_mapping(workbook: Any) -> bool:
    from quantriet.imports.columns import REQUIRED

    if not any(name in workbook.tables for name in REQUIRED):
        return True
    for name, t in workbook.tables.items():
        missing = [k for k in REQUIRED.get(name, ()) if k not in t.columns]
        if missing or t.unmapped:
            return True
    return False


@transaction.atomic
def set_mapping(*, job: ImportJob, mapping: dict[str, dict[str, int]], actor: Any) -> ImportJob:
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.is_busy and job.status != ImportJob.Status.QUEUED:
        raise ValidationError(_("This import is running; wait for it to finish."))
    job.mapping = mapping
    job.status = ImportJob.Status.QUEUED
    job.save(update_fields=["mapping", "status", "updated_at"])
    return job


def enqueue(*, job: ImportJob, apply: bool, actor: Any) -> ImportJob:
    """Queue a preview (apply=False) or the real import of a checked job."""
    from quantriet.imports.tasks import run_import_job

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if apply and job.status != ImportJob.Status.PREVIEWED:
            raise ValidationError(_("Only a checked import without errors can be applied."))
        job.apply_requested = apply
        job.status = ImportJob.Status.QUEUED
        job.progress_rows = 0
        job.progress_phase = ""
        job.error = ""
        job.save()
    transaction.on_commit(lambda: run_import_job.enqueue(str(job.pk)))
    return job


STALE_AFTER = dt.timedelta(minutes=2)


def is_stale(job: ImportJob) -> bool:
    """A running job that has reported no progress for a while: its worker died."""
    return job.status == ImportJob.Status.RUNNING and (
        timezone.now() - live_progress(job).updated_at > STALE_AFTER
    )


def retry_job(*, job: ImportJob, actor: Any) -> ImportJob:
    """Queue a failed or abandoned run again, as it was (check, or check and apply).
    Safe: a run is one transaction, so a dead run left nothing behind."""
    from quantriet.imports.tasks import run_import_job

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status == ImportJob.Status.APPLIED:
            raise ValidationError(_("This import has already been applied."))
        if job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING) and not is_stale(
            job
        ):
            raise ValidationError(_("This import is running; wait for it to finish."))
        job.status = ImportJob.Status.QUEUED
        job.progress_rows = 0
        job.error = ""
        job.save()
        record("imports.retry", job, actor=actor)
    transaction.on_commit(lambda: run_import_job.enqueue(str(job.pk)))
    return job


def run_job(job_id: str) -> ImportJob:
    """Run one job now (called by the task). Safe to retry: it is all or nothing."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status in (ImportJob.Status.APPLIED,):
        return job
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, progress_rows=0, updated_at=timezone.now()
    )
    try:
        workbook = open_workbook(job.file.path)
        for name, table in list(workbook.tables.items()):
            if name in job.mapping:
                workbook.tables[name] = table.with_mapping(
                    {k: int(v) for k, v in job.mapping[name].items()}
                )
        total = sum(getattr(t, "estimated_rows", 0) or 0 for t in workbook.tables.values())
        ImportJob.objects.filter(pk=job.pk).update(total_rows=total)
        actor = job.created_by
        result = RosterImport(
            workbook, actor=actor, scope=scope_paths(actor, "change"),
            progress=_progress_file_writer(job),
        ).run(apply=job.apply_requested)
    except ReadError as exc:
        return _finish(job, None, error=exc.message_vi + " / " + exc.message_en)
    except Exception as exc:  # noqa: BLE001 - recorded on the job, shown to the user
        log.exception("import %s failed", job.pk)
        return _finish(job, None, error=f"{type(exc).__name__}: {exc}")
    return _finish(job, result)


PROGRESS_EVERY = 0.5
"""Seconds between two writes of a running import's progress file."""


def _progress_file_writer(job: ImportJob) -> Callable[[str, int], None]:
    """The import's progress callback: rows read so far, written to the job's progress
    file (:meth:`ImportJob.progress_path`) at most every :data:`PROGRESS_EVERY` seconds.

    Not in the job's row: the import runs in one transaction, so an update of the row
    would stay invisible to the pages until the end, and on PostgreSQL it cannot even be
    sent while the import's connection is copying rows.
    """
    path = job.progress_path()
    counted: dict[str, int] = {}
    last = [0.0]

    def progress(phase: str, done: int) -> None:
        counted[phase] = done
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        partial = path.with_name(path.name + ".part")
        partial.write_text(json.dumps({"phase": phase, "rows": sum(counted.values())}))
        os.replace(partial, path)  # a reader sees the old file or the new one, whole

    return progress


def live_progress(job: ImportJob) -> ImportJob:
    """``job`` with the progress its running import last wrote (phase, rows and the time,
    in ``updated_at``); unchanged when the job is not running or wrote nothing yet."""
    if job.status != ImportJob.Status.RUNNING:
        return job
    path = job.progress_path()
    try:
        data = json.loads(path.read_text())
        written = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    except (OSError, ValueError):
        return job
    job.progress_phase = str(data.get("phase", ""))[:20]
    job.progress_rows = max(0, int(data.get("rows", 0)))
    job.updated_at = max(job.updated_at, written)
    return job


@transaction.atomic
def _finish(job: ImportJob, result: ImportResult | None, error: str = "") -> ImportJob:
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    job.progress_path().unlink(missing_ok=True)
    job.issues.all().delete()
    job.finished_at = timezone.now()
    if result is None:
        job.status = ImportJob.Status.FAILED
        job.error = error[:5000]
    else:
        job.summary = result.summary()
        job.issue_count = result.issue_count
        ImportIssue.objects.bulk_create(
            [
                ImportIssue(job=job, table=i.table, row=i.row, column=i.column,
                            message_vi=i.text("vi"), message_en=i.text("en"))
                for i in result.issues
            ],
            batch_size=2000,
        )
        if not result.ok:
            job.status = ImportJob.Status.INVALID
        elif result.applied:
            job.status = ImportJob.Status.APPLIED
        else:
            job.status = ImportJob.Status.PREVIEWED
    job.save()
    return job


# One example row per table for the downloadable template.
_EXAMPLE_ROWS: dict[str, dict[str, Any]] = {
    "units": {
        "code": "LDLD-01-CS0001", "name": "Công đoàn cơ sở Trường THPT Phan Đình Phùng",
        "parent_code": "LDLD-01-P0001", "level": "Công đoàn cơ sở", "province": "Hà Nội",
        "member_count": 120, "valid_from": "01/07/2025",
    },
    "members": {
        "member_code": "DV0000001", "full_name": "Nguyễn Thị Thu Hà", "gender": "Nữ",
        "birth_date": "15/03/1985", "national_id": "001185012345", "union_card": "TDV123456",
        "email": "ha.ntt@example.vn", "phone": "0912345678", "unit_code": "LDLD-01-CS0001",
    },
    "positions": {
        "member_code": "DV0000001", "unit_code": "LDLD-01-CS0001", "position": "Chủ tịch",
        "full_time": "", "start_date": "01/10/2023", "end_date": "",
        "managing_unit_code": "LDLD-01-P0001",
    },
}


def _template_examples() -> dict[str, list[Any]]:
    """The example rows in the column order of the template."""
    from quantriet.imports.columns import COLUMNS

    return {t: [row.get(c.key, "") for c in COLUMNS[t]] for t, row in _EXAMPLE_ROWS.items()}


TEMPLATE_EXAMPLES = _template_examples()


def write_rejected_rows(job: ImportJob, stream: Any, language: str) -> None:
    """Re-read the job's file and write the rows that have errors, with an error column."""
    from quantriet.imports.columns import COLUMNS, TABLE_TITLES
    from quantriet.imports.spreadsheets import write_xlsx

    en = language.startswith("en")
    by_table: dict[str, dict[int, list[str]]] = {}
    for issue in job.issues.all().iterator():
        col = issue.column
        msg = issue.message(language)
        by_table.setdefault(issue.table, {}).setdefault(issue.row, []).append(
            f"[{col}] {msg}" if col else msg
        )
    workbook = open_workbook(job.file.path)
    sheets = {}
    for name in ("units", "members", "positions"):
        if name not in by_table or name not in workbook.tables:
            continue
        table = workbook.tables[name]
        if name in job.mapping:
            table = table.with_mapping({k: int(v) for k, v in job.mapping[name].items()})
        cols = [c for c in COLUMNS[name] if c.key in table.columns]
        header = ["Row" if en else "Dòng"] + [
            c.header_en if en else c.header for c in cols] + ["Lỗi / Error"]
        wanted = by_table[name]

        def rows(table=table, cols=cols, wanted=wanted):
            for rownum, values in table.rows():
                if rownum in wanted:
                    yield [rownum] + [values.get(c.key) for c in cols] + [
                        "; ".join(wanted[rownum])]

        sheets[TABLE_TITLES[name][1 if en else 0]] = (header, rows())
    if not sheets:  # errors that concern the file as a whole
        sheets["Lỗi"] = (["Lỗi / Error"], iter([[i.message(language)] for i in job.issues.all()]))
    write_xlsx(stream, sheets)
