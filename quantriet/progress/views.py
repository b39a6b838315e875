"""Progress pages: the dashboard of a unit's subtree in a campaign (figures, rates, child
units, charts, the unit's own participants), and the official results report.

Scope: a right to see people (organiser, unit administrator, inspector) at the unit or
above, inside the campaign's tree (``services.may_see``); anything else is a 404.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quantriet.campaigns.models import Campaign
from quantriet.org import tree
from quantriet.org.managers import scope_paths
from quantriet.org.models import Unit
from quantriet.plans import dashboard as plan_dashboard
from quantriet.progress import charts, documents, queries, services
from quantriet.progress.models import ResultsReport
from quantriet.reports.models import ReportPolicy

PAGE_SIZE = 50


def _campaign(request, slug) -> Campaign:
    """The campaign by its short name. Every page then checks ``services.may_see`` on a
    unit inside the campaign's tree, which implies that the campaign is visible to the
    user (``Campaign.objects.visible_to``, whose participant clause costs a join over the
    roster, is not needed here)."""
    return get_object_or_404(Campaign.objects.select_related("owner_unit"), slug=slug)


def _unit(request, campaign: Campaign, code: str) -> Unit:
    unit = get_object_or_404(Unit.objects.visible_to(request.user, "view_people")
                             .select_related("level", "parent"), code=code)
    if not services.may_see(request.user, campaign, unit):
        raise Http404
    return unit


@login_required
def campaign_progress(request, slug):
    """The top of what the user may see of the campaign: the organising unit, or the
    subtree(s) where they hold a right."""
    campaign = _campaign(request, slug)
    owner = campaign.owner_unit
    if services.may_see(request.user, campaign, owner):
        return redirect("progress:unit", slug, owner.code)
    paths = [p for p in scope_paths(request.user, "view_people") or []
             if p.startswith(owner.path)]
    units = list(Unit.objects.filter(path__in=paths).order_by("path"))
    if not units:
        raise Http404
    if len(units) == 1:
        return redirect("progress:unit", slug, units[0].code)
    return render(request, "progress/choose.html", {"campaign": campaign, "units": units})


def _deadline(campaign: Campaign, policy: ReportPolicy | None):
    return (policy.closes_on if policy and policy.closes_on else None) or campaign.report_deadline


def _maybe_snapshot(campaign: Campaign) -> None:
    """Big subtrees chart their past from daily snapshots: refresh today's at most once an
    hour, in the task worker."""
    key = f"progress-snapshot-{campaign.pk}-{timezone.now():%Y%m%d%H}"
    if cache.add(key, 1, 3600):
        from quantriet.progress.tasks import take_snapshot

        take_snapshot.enqueue(campaign.pk)


def _cells_formatter(grades: int):
    """The number cells of a line of the table, formatted once here (a large province has
    hundreds of lines; the template's filters cost more than the page's queries):
    the cells' HTML."""
    sep = get_format("THOUSAND_SEPARATOR")

    def n(value: int) -> str:
        return f"{value:,}".replace(",", sep)

    def pct(rate: float | None) -> str:
        return "—" if rate is None else f"{rate * 100:.1f}".replace(".", get_format(
            "DECIMAL_SEPARATOR")) + " %"

    def cells(t: queries.Totals) -> SafeString:
        low = t.lagging
        columns = [(n(t.invited), ""), (n(t.attended), ""), (n(t.excused), " hide-sm"),
                   (n(t.absent), " hide-sm"), (n(t.submitted), ""),
                   (pct(t.submitted_rate), " low" if low else ""), (n(t.late), " hide-sm"),
                   (n(t.graded), ""), *((n(g), " hide-sm") for g in t.grades[:grades]),
                   (n(t.flagged), " hide-sm")]
        # numbers, a percentage and fixed class names: nothing to escape
        return mark_safe("".join(f'<td class="num{css}">{text}</td>'  # noqa: S308
                                 for text, css in columns))

    return cells


def _remind(request, campaign: Campaign, unit: Unit, totals: queries.Totals) -> dict | None:
    """The unit administrator's one-off reminder to the non-submitters of the subtree (the
    notifications' service), for those who may send it, while the campaign collects
    reports. The count shown first is the page's own "reports missing", from the counters
    (counting the subtree's participants would take seconds at a province); after sending,
    the service says how many it told."""
    from quantriet.org.managers import can

    if campaign.status not in (Campaign.Status.PUBLISHED, Campaign.Status.CONFERENCE,
                               Campaign.Status.REPORTING) or not can(request.user, "change",
                                                                     unit):
        return None
    return {"owing": totals.missing,
            "url": reverse("notifications:remind", args=[campaign.slug, unit.code])}


@login_required
def unit_progress(request, slug, code):
    campaign = _campaign(request, slug)
    unit = _unit(request, campaign, code)
    policy = ReportPolicy.objects.filter(campaign=campaign).first()
    required = bool(policy and policy.attendance_required)
    roll = queries.rollup(campaign, unit, required)
    totals = roll.totals
    deadline = _deadline(campaign, policy)
    owner = campaign.owner_unit
    crumbs = [u for u in Unit.objects.filter(path__in=tree.ancestor_paths(unit.path))
              .order_by("path") if u.path.startswith(owner.path)
              and services.may_see(request.user, campaign, u)]
    # completion by child unit, worst first
    children = [line for line in roll.lines if not line.own]
    worst = sorted(children, key=lambda line: (line.totals.submitted_rate
                                               if line.totals.submitted_rate is not None
                                               else 2, line.unit.name))
    # one reverse() for every line (a province has up to a few hundred child units)
    template = reverse("progress:unit", args=[slug, "0"])[:-2]

    def unit_url(line: queries.Line) -> str:
        return f"{template}{quote(line.unit.code, safe='')}/"

    bars = [charts.Bar(line.unit.name, line.totals.submitted_rate,
                       f"{line.totals.submitted}/{line.totals.owing}", unit_url(line))
            for line in worst[:40]]
    grade_labels = documents.scale(campaign)
    cells = _cells_formatter(len(grade_labels))
    if totals.invited > queries.LIVE_LIMIT:
        _maybe_snapshot(campaign)
    series = queries.timeline(campaign, unit, totals, deadline)
    labels = {"attended": _("Attended"), "submitted": _("Reports submitted"),
              "graded": _("Graded"), "target": _("Must submit")}
    context = {
        "campaign": campaign, "unit": unit, "crumbs": crumbs, "totals": totals,
        "rows": [(line, cells(line.totals), "" if line.own else unit_url(line))
                 for line in roll.lines],
        "total_cells": cells(totals), "lines": roll.lines,
        "deadline": deadline, "required": required,
        "grade_rows": list(zip(grade_labels, totals.grades, strict=False)),
        "completion_chart": charts.completion(
            bars, _("Reports submitted by child unit, lowest first")) if bars else "",
        "more_children": max(len(children) - len(bars), 0),
        "grades_chart": charts.grades(grade_labels, totals.grades[:len(grade_labels)],
                                      _("Grades")) if totals.graded else "",
        "time_chart": charts.over_time(series, totals.owing, deadline, labels,
                                       _("Progress over time")),
        "big": services.is_big(roll),
        "plans": plan_dashboard.context(campaign, unit),
    }
    context["remind"] = _remind(request, campaign, unit, totals)
    # how many: the own line's "invited" (the active participants whose unit is this one,
    # which is what participant_ids lists), so the pager needs no COUNT(*)
    own = next((line.totals.invited for line in roll.lines if line.own), 0)
    if own or request.GET.get("page"):
        paginator = Paginator(queries.participant_ids(campaign, unit), PAGE_SIZE)
        paginator.count = own  # type: ignore[misc]
        page = paginator.get_page(request.GET.get("page"))
        page.object_list = queries.participants_by_id(list(page.object_list))
        context["page"] = page
    return render(request, "progress/unit.html", context)


@login_required
def results(request, slug, code, fmt):
    """The results report: at once for a small subtree, through the task worker (with a
    status page) for a big one (or when asked with ``?queue=1``)."""
    campaign = _campaign(request, slug)
    unit = _unit(request, campaign, code)
    if fmt not in ResultsReport.Format.values:
        raise Http404
    roll = queries.rollup(campaign, unit)
    if services.is_big(roll) or request.GET.get("queue") == "1":
        return render(request, "progress/results_confirm.html",
                      {"campaign": campaign, "unit": unit, "fmt": fmt})
    data = services.results_bytes(campaign=campaign, unit=unit, fmt=fmt, actor=request.user)
    response = HttpResponse(data, content_type=(
        "application/pdf" if fmt == "pdf" else
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    name = documents.results_filename(campaign, unit, fmt)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def results_queue(request, slug, code, fmt):
    campaign = _campaign(request, slug)
    unit = _unit(request, campaign, code)
    try:
        job = services.request_results(campaign=campaign, unit=unit, fmt=fmt,
                                       actor=request.user)
    except ValidationError:
        raise Http404 from None
    return redirect("progress:job", job.pk)


def _job(request, pk) -> ResultsReport:
    job = get_object_or_404(ResultsReport.objects.select_related("campaign__owner_unit",
                                                                 "unit"), pk=pk)
    if not services.may_see(request.user, job.campaign, job.unit):
        raise Http404
    return job


@login_required
def job_status(request, pk):
    job = _job(request, pk)
    return render(request, "progress/job.html", {"job": job, "campaign": job.campaign,
                                                 "unit": job.unit})


@login_required
def job_download(request, pk):
    job = _job(request, pk)
    if job.status != ResultsReport.Status.DONE or not job.file:
        raise Http404
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=documents
                        .results_filename(job.campaign, job.unit, job.format))
