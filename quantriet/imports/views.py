"""Pages of the roster import: upload → (column mapping) → check → apply; and export."""

import io
import tempfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from quantriet.imports import services
from quantriet.imports.columns import COLUMNS, TABLE_TITLES
from quantriet.imports.export import export_roster
from quantriet.imports.models import ImportJob
from quantriet.imports.readers import ReadError, open_workbook
from quantriet.imports.spreadsheets import write_xlsx
from quantriet.org.managers import scope_paths
from quantriet.org.models import Unit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _can_import(user) -> bool:
    paths = scope_paths(user, "change")
    return paths is None or bool(paths)


def _job(request, pk) -> ImportJob:
    return get_object_or_404(ImportJob.objects.visible_to(request.user), pk=pk)


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Roster file (.xlsx, .ods, .csv or .zip)"))


@login_required
def job_list(request):
    if not _can_import(request.user):
        raise Http404
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.create_job(upload=form.cleaned_data["file"], actor=request.user)
        except ValidationError as exc:
            form.add_error("file", exc.messages[0])
        else:
            if job.status == ImportJob.Status.MAPPING:
                return redirect("imports:mapping", job.pk)
            services.enqueue(job=job, apply=False, actor=request.user)
            return redirect("imports:job", job.pk)
    jobs = Paginator(ImportJob.objects.visible_to(request.user), 20).get_page(
        request.GET.get("page")
    )
    return render(request, "imports/list.html", {"form": form, "page": jobs})


@login_required
def job_detail(request, pk):
    job = services.live_progress(_job(request, pk))
    issues = Paginator(job.issues.all(), 100).get_page(request.GET.get("page"))
    return render(request, "imports/job.html", {"job": job, "issues": issues,
                                                "tables": _summary_rows(job),
                                                "stale": services.is_stale(job)})


@login_required
def job_status(request, pk):
    """The progress partial, polled by htmx while the job runs."""
    job = services.live_progress(_job(request, pk))
    response = render(request, "imports/_status.html", {"job": job,
                                                        "tables": _summary_rows(job)})
    if not job.is_busy and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # reload the page once to show results
    return response


def _summary_rows(job):
    rows = []
    for name in ("units", "members", "positions"):
        if name in job.summary:
            title = TABLE_TITLES[name][1 if translation.get_language() == "en" else 0]
            rows.append((title, job.summary[name]))
    return rows


@login_required
def job_mapping(request, pk):
    job = _job(request, pk)
    if job.is_busy and job.status != ImportJob.Status.QUEUED and \
            job.status != ImportJob.Status.MAPPING:
        raise Http404
    try:
        workbook = open_workbook(job.file.path)
    except ReadError as exc:
        messages.error(request, services.read_error_text(exc))
        return redirect("imports:list")
    lang_en = (translation.get_language() or "vi").startswith("en")
    tables = []
    for name, table in workbook.tables.items():
        current = {int(v): k for k, v in job.mapping.get(name, table.columns).items()}
        choices = [("", "—")] + [
            (c.key, c.header_en if lang_en else c.header) for c in COLUMNS[name]
        ]
        cols = [
            {"index": i, "header": h, "field": f"{name}__{i}", "value": current.get(i, "")}
            for i, h in enumerate(table.headers) if h not in (None, "")
        ]
        tables.append({"name": name, "title": TABLE_TITLES[name][1 if lang_en else 0],
                       "source": table.source, "columns": cols, "choices": choices})
    error = ""
    if request.method == "POST":
        mapping: dict[str, dict[str, int]] = {}
        for t in tables:
            mapping[t["name"]] = {}
            valid = {k for k, _label in t["choices"] if k}
            for col in t["columns"]:
                key = request.POST.get(col["field"], "")
                col["value"] = key
                if not key:
                    continue
                if key not in valid:
                    error = _("Unknown column choice.")
                elif key in mapping[t["name"]]:
                    error = _("Two columns of “%(table)s” are mapped to the same field.") % {
                        "table": t["title"]}
                else:
                    mapping[t["name"]][key] = col["index"]
        if not error:
            services.set_mapping(job=job, mapping=mapping, actor=request.user)
            services.enqueue(job=job, apply=False, actor=request.user)
            return redirect("imports:job", job.pk)
    return render(request, "imports/mapping.html", {"job": job, "tables": tables,
                                                    "error": error})


@login_required
@require_POST
def job_apply(request, pk):
    job = _job(request, pk)
    try:
        services.enqueue(job=job, apply=True, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("imports:job", job.pk)


@login_required
@require_POST
def job_retry(request, pk):
    job = _job(request, pk)
    try:
        services.retry_job(job=job, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("imports:job", job.pk)


@login_required
@require_POST
def job_recheck(request, pk):
    job = _job(request, pk)
    if job.status == ImportJob.Status.APPLIED:
        raise Http404
    services.enqueue(job=job, apply=False, actor=request.user)
    return redirect("imports:job", job.pk)


@login_required
def job_errors(request, pk):
    """The rejected rows with an error column, as an .xlsx."""
    job = _job(request, pk)
    if not job.issue_count:
        raise Http404
    buf = io.BytesIO()
    services.write_rejected_rows(job, buf, translation.get_language() or "vi")
    buf.seek(0)
    name = f"loi-{job.original_name.rsplit('.', 1)[0]}.xlsx"
    return FileResponse(buf, as_attachment=True, filename=name, content_type=XLSX)


@login_required
def template(request):
    buf = io.BytesIO()
    lang_en = (translation.get_language() or "vi").startswith("en")
    write_xlsx(buf, {
        TABLE_TITLES[t][0]: (
            [c.header_en if lang_en else c.header for c in COLUMNS[t]],
            iter([services.TEMPLATE_EXAMPLES[t]]),
        )
        for t in ("units", "members", "positions")
    })
    return HttpResponse(buf.getvalue(), content_type=XLSX, headers={
        "Content-Disposition": 'attachment; filename="mau-nhap-danh-sach.xlsx"'})


@login_required
def export(request):
    """Export a subtree in the import format (unit administrators, organisers, inspectors)."""
    visible = Unit.objects.visible_to(request.user, "view_people")
    code = request.GET.get("unit", "").strip()
    if not code:
        paths = scope_paths(request.user, "view_people")
        if paths == []:
            raise Http404
        roots = visible.filter(parent__isnull=True) if paths is None else visible.filter(
            path__in=paths)
        return render(request, "imports/export.html", {"roots": roots.order_by("path")})
    root = get_object_or_404(visible, code=code)
    fmt = "zip" if request.GET.get("format") == "zip" else "xlsx"
    tmp = tempfile.TemporaryFile()
    export_roster(root, tmp, fmt)
    tmp.seek(0)
    from quantriet.core.audit import record

    record("imports.export", root, actor=request.user, unit_path=root.path, format=fmt)
    return FileResponse(
        tmp, as_attachment=True, filename=f"{root.code}.{fmt}",
        content_type=XLSX if fmt == "xlsx" else "application/zip",
    )


@login_required
def reform_example(request):
    """The 2025 provincial reform (63 → 34) as a units sheet for the demo organisation."""
    from quantriet.imports.examples import reform_2025_header, reform_2025_rows
    from quantriet.imports.spreadsheets import write_csv

    buf = io.BytesIO()
    write_csv(buf, reform_2025_header(), reform_2025_rows())
    return HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="sap-xep-2025-don-vi.csv"'})
