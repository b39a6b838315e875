"""Pages of personal learning reports: the participant's writing page, the reviewer's
queue and review page, the unit's table, the organisers' settings and the inspectors' log
of reads. Reports are read only through ``Report.objects.visible_to``; every page that shows
a report's text to someone other than its author writes an audit row."""

from __future__ import annotations

import contextlib
import io
import zipfile

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from quantriet.campaigns.models import Campaign, Participant
from quantriet.core.models import AuditEvent
from quantriet.org import tree
from quantriet.org.forms import VNDateField
from quantriet.org.managers import can, scope_paths
from quantriet.org.models import Unit
from quantriet.reports import documents, quick, services
from quantriet.reports.managers import admin_unit_ids
from quantriet.reports.models import GradeLevel, Report, ReportPolicy, Review
from quantriet.text import search_terms

# ---------------------------------------------------------------- helpers


def _campaign(request, slug) -> Campaign:
    return get_object_or_404(Campaign.objects.visible_to(request.user), slug=slug)


def _run(request, fn, success: str | None = None, **kwargs):
    """Call a service; its ValidationError becomes an error message. Returns the result,
    or None when refused."""
    try:
        result = fn(**kwargs)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return None
    if success:
        messages.success(request, success)
    return result


# ---------------------------------------------------------------- the participant


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Your report as a file (.docx, .odt or .pdf)"))


def _my_participant(request, campaign) -> Participant:
    participant = (Participant.objects.filter(campaign=campaign, person__user=request.user,
                                              active=True)
                   .select_related("person", "unit", "managing_unit", "campaign").first())
    if participant is None:
        raise Http404
    return participant


def _participation(request, slug) -> Participant:
    """``_my_participant(request, _campaign(request, slug))`` for the editor's requests,
    with the campaign, its report policy and the report in the same query (the unit is
    read only when there is no managing unit; each joined table costs planning). An active
    participant sees every campaign that is not a draft (``Campaign.objects.visible_to``);
    only for a draft campaign is the full check needed."""
    found = list(Participant.objects.filter(campaign__slug=slug, person__user=request.user,
                                            active=True)  # one at most: (campaign, person)
                 .select_related("person", "managing_unit", "campaign",
                                 "campaign__report_policy", "report")[:1])
    participant = found[0] if found else None
    if participant is None or (
            participant.campaign.status == Campaign.Status.DRAFT
            and not Campaign.objects.visible_to(request.user).filter(
                pk=participant.campaign_id).exists()):
        raise Http404
    return participant


@login_required
def mine(request, slug):
    campaign = _campaign(request, slug)
    participant = _my_participant(request, campaign)
    policy = services.policy_for(campaign)
    report = services.report_of(participant)
    versions = list(report.versions.order_by("-number"))
    reviews = {r.version_id: r for r in report.reviews.select_related("grade")}
    for v in versions:
        v.review = reviews.get(v.pk)
    return render(request, "reports/mine.html", {
        "campaign": campaign, "participant": participant, "report": report,
        "policy": policy, "versions": versions,
        "window": services.window(report, campaign),
        "must_submit": services.must_submit(participant, policy),
        "editable": report.status in (Report.Status.DRAFT, Report.Status.RETURNED),
        "prompts": campaign.report_prompts.select_related("topic"),
        "upload_form": UploadForm(), "max_chars": services.MAX_TEXT_CHARS,
        "criteria": {str(c.pk): c for c in campaign.criteria.all()},
        "submit_key": _submit_key(request, participant, report),
    })


def _submit_key(request, participant: Participant, report: Report) -> str:
    """The writing page's key for the one-statement first submission (only worth giving
    while nothing has been submitted)."""
    if (not quick.supported() or not request.session.session_key or report.version_count
            or report.status != Report.Status.DRAFT):
        return ""
    return quick.submit_key(user_id=request.user.pk, participant=participant,
                            slug=participant.campaign.slug,
                            session_key=request.session.session_key)


@login_required
@require_POST
def save_draft(request, slug):
    """Autosave from the editor: answers JSON (the page shows "saved at HH:MM")."""
    participant = _participation(request, slug)
    try:
        report = services.save_draft(participant=participant,
                                     text=request.POST.get("text", ""), actor=request.user)
    except ValidationError as exc:
        return JsonResponse({"ok": False, "message": " ".join(exc.messages)}, status=409)
    saved = timezone.localtime(report.draft_saved_at).strftime("%H:%M")
    return JsonResponse({"ok": True, "saved_at": saved,
                         "message": _("Draft saved at %(time)s.") % {"time": saved}})


@require_POST
def submit(request, slug):
    """A submission: typed ``text`` or an uploaded ``file``, with the ``client_ref`` the
    page gave it. The writing page sends its submit key, and a first typed submission is
    stored by one statement (:mod:`quantriet.reports.quick`); everything else by the full
    path below, which gives the same answers."""
    stored = quick.submit(request, slug)
    if stored is None:
        return _submit(request, slug)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"ok": True, "version": stored["number"], "late": stored["late"]})
    messages.success(request, _("Your report (version %(n)s) was submitted. It goes to "
                                "%(unit)s.") % {"n": stored["number"], "unit": stored["unit"]})
    return redirect("reports:mine", slug)


@login_required
def _submit(request, slug):
    participant = _participation(request, slug)
    ref = request.POST.get("client_ref", "")[:64]
    if "file" in request.FILES:
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, _("Choose a file."))
            return redirect("reports:mine", slug)
        upload = form.cleaned_data["file"]
        kwargs = {"upload": services.Upload(upload, upload.name)}
    else:
        kwargs = {"text": request.POST.get("text", "")}
    version = _run(request, services.submit, participant=participant, actor=request.user,
                   client_ref=ref, **kwargs)
    if version is None and kwargs.get("text", "").strip():
        # keep what was typed even though the submission is refused (a submitted version
        # is the draft already); the refusal above says why
        with contextlib.suppress(ValidationError):
            services.save_draft(participant=participant, text=kwargs["text"],
                                actor=request.user)
    if version is not None:
        if request.headers.get("Accept") == "application/json":
            return JsonResponse({"ok": True, "version": version.number, "late": version.late})
        messages.success(request, _("Your report (version %(n)s) was submitted. It goes to "
                                    "%(unit)s.") % {"n": version.number,
                                                    "unit": version.report.managing_unit})
    elif request.headers.get("Accept") == "application/json":
        return JsonResponse({"ok": False, "message": " ".join(
            str(m) for m in messages.get_messages(request))}, status=409)
    return redirect("reports:mine", slug)


# ---------------------------------------------------------------- reviewers


QUEUE_FILTERS = {
    "waiting": Q(status=Report.Status.SUBMITTED),
    "returned": Q(status=Report.Status.RETURNED),
    "graded": Q(status=Report.Status.GRADED),
    "late": Q(late=True),
    "all": Q(),
}


def _queue(request, campaign):
    """The reports assigned to the user, filtered and ordered as the queue page shows them."""
    f = request.GET.get("f", "waiting")
    qs = (Report.objects.visible_to(request.user)
          .filter(campaign=campaign, reviewer=request.user)
          .filter(QUEUE_FILTERS.get(f, QUEUE_FILTERS["waiting"]))
          .select_related("participant__person", "participant__unit", "grade"))
    q = request.GET.get("q", "").strip()
    policy = services.policy_for(campaign)
    if q and not policy.blind_review:
        for term in search_terms(q):
            qs = qs.filter(participant__person__search_name__contains=term)
    return qs.order_by("submitted_at", "pk"), f, q


@login_required
def queue(request, slug):
    campaign = _campaign(request, slug)
    qs, f, q = _queue(request, campaign)
    policy = services.policy_for(campaign)
    counts = (Report.objects.filter(campaign=campaign, reviewer=request.user)
              .aggregate(waiting=Count("id", filter=QUEUE_FILTERS["waiting"]),
                         returned=Count("id", filter=QUEUE_FILTERS["returned"]),
                         graded=Count("id", filter=QUEUE_FILTERS["graded"])))
    return render(request, "reports/queue.html", {
        "campaign": campaign, "page": Paginator(qs, 50).get_page(request.GET.get("page")),
        "f": f, "q": q, "blind": policy.blind_review, "counts": counts,
        "filters": [("waiting", _("Waiting")), ("returned", _("Returned")),
                    ("graded", _("Graded")), ("late", _("Late")), ("all", _("All"))],
    })


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("Decision"), choices=Review.Outcome.choices,
                                widget=forms.RadioSelect)
    grade = forms.ModelChoiceField(label=gettext_lazy("Grade"), queryset=GradeLevel.objects.none(),
                                   required=False, widget=forms.RadioSelect, empty_label=None)
    comments = forms.CharField(label=gettext_lazy("Comments"), required=False,
                               widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grade"].queryset = campaign.grade_levels.all()
        self.criteria = list(campaign.criteria.all())
        for c in self.criteria:
            self.fields[f"c{c.pk}"] = forms.IntegerField(
                label=f"{c.title} (0–{c.max_points})", min_value=0, max_value=c.max_points,
                required=False)


def _visible_report(request, campaign, pk) -> Report:
    return get_object_or_404(
        Report.objects.visible_to(request.user).filter(campaign=campaign).select_related(
            "participant__person", "participant__unit", "managing_unit", "review_unit",
            "reviewer", "grade"), pk=pk)


@login_required
def report_detail(request, slug, pk):
    """A report as its reviewer or the unit's administrators see it, with the review form
    for the assigned reviewer. Every view is audited."""
    campaign = _campaign(request, slug)
    report = _visible_report(request, campaign, pk)
    if report.participant.person.user_id == request.user.pk:
        return redirect("reports:mine", slug)
    policy = services.policy_for(campaign)
    reviewer = services.may_review(request.user, report)
    form = ReviewForm(request.POST or None, campaign=campaign)
    if request.method == "POST":
        if not reviewer:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            points = {c.pk: data.get(f"c{c.pk}") for c in form.criteria}
            done = _run(request, services.review, report=report, actor=request.user,
                        outcome=data["outcome"], grade=data.get("grade"),
                        comments=data.get("comments", ""),
                        points=points if data["outcome"] == Review.Outcome.GRADED else None)
            if done is not None:
                messages.success(request, _("Saved: %(outcome)s.")
                                 % {"outcome": done.get_outcome_display()})
                following = request.POST.get("next_pk")
                if following:
                    return redirect(reverse("reports:report", args=[slug, following])
                                    + "?" + request.GET.urlencode())
                return redirect(reverse("reports:queue", args=[slug]))
    services.record_read(report, request.user)
    versions = list(report.versions.order_by("-number"))
    reviews = {r.version_id: r for r in report.reviews.select_related("grade", "reviewer")}
    for v in versions:
        v.review = reviews.get(v.pk)
    prev_pk = next_pk = None
    if reviewer:
        ids = list(_queue(request, campaign)[0].values_list("pk", flat=True)[:5000])
        if report.pk in ids:
            i = ids.index(report.pk)
            prev_pk = ids[i - 1] if i > 0 else None
            next_pk = ids[i + 1] if i + 1 < len(ids) else None
        elif ids:
            next_pk = ids[0]
    admin = request.user.is_superuser or bool(
        {report.managing_unit_id, report.review_unit_id} & set(admin_unit_ids(request.user)))
    return render(request, "reports/report.html", {
        "campaign": campaign, "report": report, "versions": versions,
        "current": versions[0] if versions else None, "form": form,
        "reviewer": reviewer and report.status == Report.Status.SUBMITTED,
        "blind": policy.blind_review and not admin, "admin": admin,
        "prev_pk": prev_pk, "next_pk": next_pk, "query": request.GET.urlencode(),
        "criteria": {str(c.pk): c for c in campaign.criteria.all()},
        "pool": services.reviewers_of(report.review_unit) if admin and report.review_unit
        else [],
        "extend_form": ExtendForm(),
        "copy_flags": report.copy_flags.select_related("source").order_by("-created_at")[:5],
    })


@login_required
def version_file(request, slug, pk, number):
    """The uploaded file of a version (author, reviewer, unit admins; audited)."""
    campaign = _campaign(request, slug)
    report = _visible_report(request, campaign, pk)
    version = get_object_or_404(report.versions, number=number)
    if not version.file:
        raise Http404
    services.record_read(report, request.user, what=f"file v{number}")
    return FileResponse(version.file.open("rb"), as_attachment=True,
                        filename=version.filename or version.file.name.rsplit("/", 1)[-1])


# ---------------------------------------------------------------- the unit's table


class ExtendForm(forms.Form):
    until = VNDateField(label=gettext_lazy("Extended until"))


def _admin_unit(request, code) -> Unit:
    unit = get_object_or_404(Unit, code=code)
    if not (request.user.is_superuser or unit.pk in admin_unit_ids(request.user)):
        raise Http404
    return unit


@login_required
def unit_reports(request, slug, code):
    campaign = _campaign(request, slug)
    unit = _admin_unit(request, code)
    qs = (Report.objects.managed_by(request.user).filter(campaign=campaign)
          .filter(Q(managing_unit=unit) | Q(review_unit=unit))
          .select_related("participant__person", "participant__unit", "reviewer", "grade",
                          "review_unit"))
    status = request.GET.get("status", "")
    if status in Report.Status.values:
        qs = qs.filter(status=status)
    if request.GET.get("late") == "1":
        qs = qs.filter(late=True)
    q = request.GET.get("q", "").strip()
    for term in search_terms(q):
        qs = qs.filter(participant__person__search_name__contains=term)
    owing = (campaign.participants.filter(active=True).filter(
        Q(managing_unit=unit) | Q(managing_unit__isnull=True, unit=unit))
        .exclude(report__status__in=[Report.Status.SUBMITTED, Report.Status.GRADED])
        .count())
    pool = services.reviewers_of(unit)
    return render(request, "reports/unit.html", {
        "campaign": campaign, "unit": unit, "status": status, "q": q,
        "page": Paginator(qs.order_by("participant__person__sort_key", "pk"), 100)
        .get_page(request.GET.get("page")),
        "statuses": Report.Status.choices, "pool": pool, "owing": owing,
        "unassigned": qs.filter(status=Report.Status.SUBMITTED, reviewer__isnull=True).count(),
        "escalated_away": Report.objects.filter(campaign=campaign, managing_unit=unit,
                                                escalated=True).count(),
    })


@login_required
@require_POST
def extend(request, slug, pk):
    campaign = _campaign(request, slug)
    report = _visible_report(request, campaign, pk)
    form = ExtendForm(request.POST)
    if form.is_valid():
        _run(request, services.extend, report=report, until=form.cleaned_data["until"],
             actor=request.user, success=_("Extension saved."))
    else:
        messages.error(request, _("Enter a date as dd/mm/yyyy, for example 01/07/2025."))
    return redirect("reports:report", slug, report.pk)


@login_required
@require_POST
def reassign(request, slug, pk):
    campaign = _campaign(request, slug)
    report = _visible_report(request, campaign, pk)
    account = get_user_model().objects.filter(pk=request.POST.get("reviewer") or 0).first()
    if account is None:
        messages.error(request, _("Choose a reviewer."))
    else:
        _run(request, services.reassign, report=report, reviewer=account, actor=request.user,
             success=_("Reassigned to %(user)s.") % {"user": account.get_username()})
    return redirect("reports:report", slug, report.pk)


@login_required
@require_POST
def assign_waiting(request, slug, code):
    campaign = _campaign(request, slug)
    unit = _admin_unit(request, code)
    n = _run(request, services.assign_waiting, campaign=campaign, unit=unit, actor=request.user)
    if n is not None:
        messages.success(request, _("%(n)s reports assigned.") % {"n": n})
    return redirect("reports:unit", slug, unit.code)


@login_required
def unit_zip(request, slug, code):
    """The unit's submitted reports as a ZIP of PDFs (audited: one row per report)."""
    campaign = _campaign(request, slug)
    unit = _admin_unit(request, code)
    reports = list(Report.objects.managed_by(request.user).filter(campaign=campaign)
                   .filter(Q(managing_unit=unit) | Q(review_unit=unit))
                   .exclude(status=Report.Status.DRAFT)
                   .select_related("participant__person", "participant__unit", "grade")
                   .order_by("participant__person__sort_key", "pk")[:5000])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for report in reports:
            zf.writestr(documents.report_filename(report), documents.report_pdf(report))
            services.record_read(report, request.user, what="zip")
    return HttpResponse(buf.getvalue(), content_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="bai-thu-hoach-{campaign.slug}-'
                               f'{unit.code}.zip"'})


# ---------------------------------------------------------------- organisers' settings


class PolicyForm(forms.ModelForm):
    opens_on = VNDateField(label=gettext_lazy("Submissions open"), required=False)
    closes_on = VNDateField(label=gettext_lazy("Deadline"), required=False)

    class Meta:
        model = ReportPolicy
        fields = services.POLICY_FIELDS


class ScaleForm(forms.Form):
    grades = forms.CharField(
        label=gettext_lazy("Grades, best first, one per line; add “*” to a grade that does "
                           "not pass"),
        widget=forms.Textarea(attrs={"rows": 5}))


class CriterionForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Criterion"), max_length=300)
    max_points = forms.IntegerField(label=gettext_lazy("Maximum points"), min_value=1,
                                    max_value=100, initial=10)


class PromptForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Prompt"), widget=forms.Textarea(attrs={"rows": 3}))
    topic = forms.ModelChoiceField(label=gettext_lazy("Topic"), queryset=None, required=False)

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = campaign.topics.all()


@login_required
def settings_page(request, slug):
    campaign = _campaign(request, slug)
    if not can(request.user, "change", campaign.owner_unit):
        raise Http404
    policy = services.policy_for(campaign)
    form = PolicyForm(instance=policy)
    action = request.POST.get("action")
    if request.method == "POST":
        if action == "policy":
            form = PolicyForm(request.POST, instance=ReportPolicy.objects.get(pk=policy.pk))
            if form.is_valid():
                if _run(request, services.save_policy, campaign=campaign, actor=request.user,
                        success=_("Saved."),
                        **{f: form.cleaned_data[f] for f in services.POLICY_FIELDS}):
                    return redirect("reports:settings", slug)
        elif action == "scale":
            scale = ScaleForm(request.POST)
            if scale.is_valid():
                lines = [line.strip() for line in scale.cleaned_data["grades"].splitlines()]
                grades = [(line.rstrip("*").strip(), not line.endswith("*"))
                          for line in lines if line]
                _run(request, services.set_scale, campaign=campaign, grades=grades,
                     actor=request.user, success=_("Saved."))
            return redirect("reports:settings", slug)
        elif action == "criterion":
            cf = CriterionForm(request.POST)
            if cf.is_valid():
                _run(request, services.add_criterion, campaign=campaign, actor=request.user,
                     success=_("Saved."), **cf.cleaned_data)
            else:
                messages.error(request, _("Give the criterion a title and between 1 and 100 "
                                          "points."))
            return redirect("reports:settings", slug)
        elif action == "delete_criterion":
            criterion = get_object_or_404(campaign.criteria, pk=request.POST.get("pk") or 0)
            _run(request, services.delete_criterion, criterion=criterion, actor=request.user)
            return redirect("reports:settings", slug)
        elif action == "prompt":
            pf = PromptForm(request.POST, campaign=campaign)
            if pf.is_valid():
                _run(request, services.add_prompt, campaign=campaign, actor=request.user,
                     success=_("Saved."), **pf.cleaned_data)
            return redirect("reports:settings", slug)
        elif action == "delete_prompt":
            prompt = get_object_or_404(campaign.report_prompts, pk=request.POST.get("pk") or 0)
            _run(request, services.delete_prompt, prompt=prompt, actor=request.user)
            return redirect("reports:settings", slug)
    scale_text = "\n".join(g.label + ("" if g.passing else " *")
                           for g in campaign.grade_levels.all())
    return render(request, "reports/settings.html", {
        "campaign": campaign, "form": form,
        "scale_form": ScaleForm(initial={"grades": scale_text}),
        "criterion_form": CriterionForm(), "prompt_form": PromptForm(campaign=campaign),
        "criteria": campaign.criteria.all(),
        "prompts": campaign.report_prompts.select_related("topic"),
    })


# ---------------------------------------------------------------- inspectors


@login_required
def reads(request, slug):
    """Who read which report: the audit rows of reads in the inspector's subtree."""
    campaign = _campaign(request, slug)
    paths = scope_paths(request.user, "view_people")
    if paths is not None and not paths:
        raise Http404
    rows = AuditEvent.objects.filter(action="reports.read", data__campaign=campaign.pk)
    if paths is not None:
        rows = rows.filter(tree.any_subtree_q(paths, "unit_path", rows.db))
    return render(request, "reports/reads.html", {
        "campaign": campaign,
        "page": Paginator(rows.select_related("actor"), 100).get_page(request.GET.get("page")),
    })
