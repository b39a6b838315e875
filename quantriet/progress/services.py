"""State changes of the progress app: rebuilding the counters after bulk changes, daily
snapshots of large subtrees, and the official results reports."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from quantriet.campaigns.models import Campaign
from quantriet.core.audit import record
from quantriet.core.audit import user_or_none as _user
from quantriet.org import tree
from quantriet.org.managers import can
from quantriet.org.models import Unit
from quantriet.progress import counters, queries
from quantriet.progress.models import DailyProgress, ResultsReport, UnitProgress


@transaction.atomic
def rebuild(*, campaign: Campaign, actor: Any = None) -> int:
    """Recompute every counter of the campaign from scratch (after bulk changes made
    outside the services). The campaign's rows are locked first, so an event that
    commits meanwhile is counted once. Returns how many rows changed."""
    list(UnitProgress.objects.select_for_update().filter(campaign=campaign)
         .values_list("pk", flat=True))
    changed = counters.recount(campaign.pk)
    record("progress.rebuild", campaign, actor=actor, unit_path=campaign.owner_unit.path,
           changed=changed)
    return changed


def verify(campaign: Campaign) -> list[tuple[str, str, int, int]]:
    """(unit code, counter, stored, recomputed) for every counter that is wrong."""
    diffs = counters.differences(campaign.pk)
    codes = dict(Unit.objects.filter(pk__in={d[0] for d in diffs}).values_list("pk", "code"))
    return [(codes.get(u, str(u)), k, s, e) for u, k, s, e in diffs]


# ---------------------------------------------------------------- snapshots


def take_snapshot(*, campaign: Campaign, day: dt.date | None = None,
                  backfill: bool | None = None) -> int:
    """Store today's figures of every subtree larger than ``queries.LIVE_LIMIT`` (the
    chart over time reads them); taken again the same day, it replaces the day's rows.
    The first snapshot of a campaign (or with ``backfill``) also fills the days before
    from the timestamps of check-ins and reports. Returns how many subtrees were
    stored."""
    day = day or timezone.localdate()
    if backfill is None:
        backfill = not DailyProgress.objects.filter(campaign=campaign, day__lt=day).exists()
    fields = ("invited", "attended", "submitted", "graded")
    big: dict[int, tuple[int, ...]] = {
        unit_id: tuple(values) for unit_id, *values in UnitProgress.objects.filter(
            campaign=campaign, invited__gt=queries.LIVE_LIMIT, unit__parent__isnull=False)
        .values_list("unit_id", *fields)}
    for top in Unit.objects.filter(path=campaign.owner_unit.path[:tree.SEGMENT]):
        totals = queries.rollup(campaign, top).totals
        if totals.invited > queries.LIVE_LIMIT:
            big[top.pk] = tuple(getattr(totals, f) for f in fields)
    with transaction.atomic():
        DailyProgress.objects.filter(campaign=campaign, day=day).delete()
        DailyProgress.objects.bulk_create(
            DailyProgress(campaign=campaign, unit_id=unit_id, day=day,
                          **dict(zip(fields, values, strict=True)))
            for unit_id, values in big.items())
    if backfill and big:
        start, _end = queries.window(campaign, None)
        past = []
        for unit in Unit.objects.filter(pk__in=list(big)):
            for p in queries.from_timestamps(campaign, unit, start,
                                             day - dt.timedelta(days=1)):
                past.append(DailyProgress(campaign=campaign, unit=unit, day=p.day,
                                          invited=big[unit.pk][0], attended=p.attended,
                                          submitted=p.submitted, graded=p.graded))
        DailyProgress.objects.bulk_create(past, batch_size=2000, ignore_conflicts=True)
    return len(big)


# ---------------------------------------------------------------- results reports

DIRECT_LIMIT_LINES = 300
DIRECT_LIMIT_INVITED = 100_000
"""A results report of a subtree with more child lines or participants than this is made
by the task worker (with a status page); a smaller one is downloaded at once."""


def is_big(rollup: queries.Rollup) -> bool:
    return (len(rollup.lines) > DIRECT_LIMIT_LINES
            or rollup.totals.invited > DIRECT_LIMIT_INVITED)


def may_see(user: Any, campaign: Campaign, unit: Unit) -> bool:
    """Progress of ``unit``'s subtree: a right to see the people there (organisers, unit
    administrators, inspectors at the unit or above), inside the campaign's tree."""
    return unit.path.startswith(campaign.owner_unit.path) and can(user, "view_people", unit)


@transaction.atomic
def request_results(*, campaign: Campaign, unit: Unit, fmt: str, actor: Any) -> ResultsReport:
    """Queue the results report of a subtree for the task worker."""
    if not may_see(actor, campaign, unit):
        raise ValidationError(_("You cannot see the progress of this unit."))
    if fmt not in ResultsReport.Format.values:
        raise ValidationError(_("Unknown format."))
    job = ResultsReport.objects.create(campaign=campaign, unit=unit, format=fmt,
                                       requested_by=_user(actor))
    record("progress.results.request", job, actor=actor, unit_path=unit.path, format=fmt)

    def enqueue() -> None:
        from quantriet.progress.tasks import build_results

        build_results.enqueue(job.pk)

    transaction.on_commit(enqueue)
    return job


def build_results(job_id: int) -> ResultsReport | None:
    """Make the file of a queued results report (run by the task worker; safe to run
    again: a finished report is left as it is)."""
    from quantriet.progress import documents

    job = ResultsReport.objects.select_related("campaign__owner_unit", "unit").filter(
        pk=job_id).first()
    if job is None or job.status == ResultsReport.Status.DONE:
        return job
    ResultsReport.objects.filter(pk=job.pk).update(status=ResultsReport.Status.RUNNING,
                                                   progress=10)
    try:
        data = documents.results_file(job.campaign, job.unit, job.format,
                                      on_progress=lambda n: ResultsReport.objects.filter(
                                          pk=job.pk).update(progress=n))
    except Exception as exc:
        ResultsReport.objects.filter(pk=job.pk).update(
            status=ResultsReport.Status.FAILED, error=str(exc)[:2000],
            finished_at=timezone.now())
        raise
    job.file.save(documents.results_filename(job.campaign, job.unit, job.format),
                  ContentFile(data), save=False)
    job.status, job.progress, job.finished_at = ResultsReport.Status.DONE, 100, timezone.now()
    job.save(update_fields=["file", "status", "progress", "finished_at"])
    return job


def results_bytes(*, campaign: Campaign, unit: Unit, fmt: str, actor: Any) -> bytes:
    """A small subtree's results report, made in the request."""
    from quantriet.progress import documents

    if not may_see(actor, campaign, unit):
        raise ValidationError(_("You cannot see the progress of this unit."))
    buf = io.BytesIO(documents.results_file(campaign, unit, fmt))
    record("progress.results.download", campaign, actor=actor, unit_path=unit.path,
           format=fmt)
    return buf.getvalue()
