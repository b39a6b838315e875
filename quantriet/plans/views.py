"""Pages of unit action plans: the campaign's list (your units, waiting for your review,
every plan in your scope), a unit's plan (measures, attachments, submission, review,
follow-up, history), and the organisers' settings.

Plans are read only through ``Plan.objects.visible_to`` (the org subtree rule, plus the
units the account heads); a unit or plan outside it is a 404.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quantriet.campaigns.models import Campaign
from quantriet.org import tree
from quantriet.org.managers import can, scope_paths
from quantriet.org.models import Unit
from quantriet.plans import queries, services
from quantriet.plans.forms import (
    AttachmentForm,
    FollowUpForm,
    MeasureForm,
    ReviewForm,
    SettingsForm,
    SummaryForm,
)
from quantriet.plans.managers import head_unit_ids
from quantriet.plans.models import Measure, Plan, PlanAttachment
from quantriet.reports import rounds
from quantriet.reports.managers import admin_unit_ids
from quantriet.text import format_date

PAGE_SIZE = 50


def _campaign(slug: str) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("owner_unit"), slug=slug)


def _inside(campaign: Campaign, unit: Unit) -> bool:
    return unit.path.startswith(campaign.owner_unit.path)


def _may_see(user, campaign: Campaign, unit: Unit) -> bool:
    return _inside(campaign, unit) and (can(user, "view", unit)
                                        or unit.pk in head_unit_ids(user))


def _unit(request, campaign: Campaign, code: str) -> Unit:
    unit = Unit.objects.select_related("level", "parent").filter(code=code).first()
    if unit is None or not _may_see(request.user, campaign, unit):
        raise Http404
    return unit


def _plan(request, campaign: Campaign, unit: Unit) -> Plan | None:
    return (Plan.objects.visible_to(request.user).filter(campaign=campaign, unit=unit)
            .select_related("unit", "review_unit", "campaign__owner_unit").first())


def _run(request, fn, success: str | None = None, **kwargs):
    try:
        result = fn(**kwargs)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return None
    if success:
        messages.success(request, success)
    return result


def _own_units(user, campaign: Campaign) -> list[Unit]:
    ids = set(admin_unit_ids(user)) | set(head_unit_ids(user))
    if not ids:
        return []
    return [u for u in Unit.objects.filter(pk__in=ids).order_by("path") if _inside(campaign, u)]


@login_required
def index(request, slug):
    campaign = _campaign(slug)
    owner = campaign.owner_unit
    user = request.user
    paths = scope_paths(user, "view")
    own = _own_units(user, campaign)
    if paths is not None and not own and not any(
            p.startswith(owner.path) or owner.path.startswith(p) for p in paths):
        raise Http404
    plans = Plan.objects.visible_to(user).filter(campaign=campaign).in_subtree(owner.path)
    review_paths = scope_paths(user, "change")
    if review_paths is None:
        review_q = Q()
    else:
        review_q = tree.any_subtree_q(review_paths, "review_unit__path")
        heads = head_unit_ids(user)
        if heads:
            review_q |= Q(review_unit_id__in=heads)
    waiting = list(Plan.objects.filter(campaign=campaign, status=Plan.Status.SUBMITTED)
                   .filter(review_q).select_related("unit").order_by("submitted_at")[:50])
    status = request.GET.get("status", "")
    listed = plans.select_related("unit", "review_unit").order_by("unit_path")
    if status in Plan.Status.values:
        listed = listed.filter(status=status)
    elif status == "required":
        listed = listed.filter(required=True)
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    existing = dict(Plan.objects.filter(campaign=campaign, unit__in=own)
                    .values_list("unit_id", "status"))
    labels = dict(Plan.Status.choices)
    return render(request, "plans/index.html", {
        "campaign": campaign, "page": page, "status": status,
        "statuses": Plan.Status.choices, "waiting": waiting,
        "own": [(u, labels.get(existing.get(u.pk, ""), "")) for u in own],
        "organiser": can(user, "change", owner),
    })


def _dated(versions: list) -> list:
    """The due dates of the measures of each version as dd/mm/yyyy (stored ISO)."""
    for v in versions:
        for m in v.measures:
            with contextlib.suppress(TypeError, ValueError):
                m["due_on"] = format_date(dt.date.fromisoformat(m.get("due_on", "")))
    return versions


def _measure_form(campaign: Campaign, measure: Measure | None = None, data=None):
    initial = None
    prefix = f"m{measure.pk}" if measure else "new"
    if measure is not None:
        initial = {"title": measure.title, "topic": measure.topic_id, "owner": measure.owner,
                   "due_on": measure.due_on, "target": measure.target}
    return MeasureForm(data, campaign=campaign, initial=initial, prefix=prefix)


@login_required
def unit_plan(request, slug, code):
    campaign = _campaign(slug)
    unit = _unit(request, campaign, code)
    plan = _plan(request, campaign, unit)
    user = request.user
    editor = services.may_edit(user, unit)
    context = {"campaign": campaign, "unit": unit, "plan": plan, "editor": editor,
               "head": services.is_head(user, unit),
               "settings": services.settings_for(campaign)}
    if plan is None:
        return render(request, "plans/plan.html", context)
    measures = list(plan.measures.select_related("topic"))
    editable = editor and plan.editable
    followable = editor and plan.status == Plan.Status.APPROVED
    today = queries.today()
    context.update({
        "editable": editable, "followable": followable,
        "reviewer": plan.status == Plan.Status.SUBMITTED and services.may_review(user, plan),
        "measures": [(m, _measure_form(campaign, m) if editable else None,
                      FollowUpForm(initial={"status": m.status, "note": m.note},
                                   prefix=f"f{m.pk}") if followable else None,
                      m.status != Measure.Status.DONE and (m.status == Measure.Status.OVERDUE
                                                           or m.due_on < today))
                     for m in measures],
        "attachments": list(plan.attachments.all()),
        "rounds": rounds.rounds(_dated(list(plan.versions.all())),
                                list(plan.reviews.select_related("reviewer"))),
    })
    if editable:
        context["add_form"] = _measure_form(campaign)
        context["summary_form"] = SummaryForm(initial={"summary": plan.summary})
        context["attachment_form"] = AttachmentForm()
        context["client_ref"] = uuid.uuid4().hex
    if context["reviewer"]:
        context["review_form"] = ReviewForm()
    return render(request, "plans/plan.html", context)


def _back(slug: str, code: str, anchor: str = ""):
    return redirect(reverse("plans:unit", args=[slug, code]) + anchor)


def _editing(request, slug, code) -> tuple[Campaign, Unit, Plan]:
    campaign = _campaign(slug)
    unit = _unit(request, campaign, code)
    plan = _plan(request, campaign, unit)
    if plan is None:
        raise Http404
    return campaign, unit, plan


@login_required
@require_POST
def start(request, slug, code):
    campaign = _campaign(slug)
    unit = _unit(request, campaign, code)
    _run(request, services.plan_for, campaign=campaign, unit=unit, actor=request.user)
    return _back(slug, code)


@login_required
@require_POST
def add_measure(request, slug, code):
    campaign, unit, plan = _editing(request, slug, code)
    form = _measure_form(campaign, data=request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the measure: %(errors)s") % {
            "errors": "; ".join(f"{form.fields[k].label}: {' '.join(v)}"
                                for k, v in form.errors.items())})
        return _back(slug, code, "#add-measure")
    _run(request, services.add_measure, _("The measure was added."), plan=plan,
         actor=request.user, **form.cleaned_data)
    return _back(slug, code, "#measures")


def _measure(plan: Plan, pk: int) -> Measure:
    return get_object_or_404(Measure.objects.select_related("plan"), plan=plan, pk=pk)


@login_required
@require_POST
def edit_measure(request, slug, code, pk):
    campaign, unit, plan = _editing(request, slug, code)
    measure = _measure(plan, pk)
    form = _measure_form(campaign, measure, data=request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the measure: %(errors)s") % {
            "errors": "; ".join(f"{form.fields[k].label}: {' '.join(v)}"
                                for k, v in form.errors.items())})
        return _back(slug, code, "#measures")
    _run(request, services.edit_measure, _("The measure was saved."), measure=measure,
         actor=request.user, **form.cleaned_data)
    return _back(slug, code, "#measures")


@login_required
@require_POST
def delete_measure(request, slug, code, pk):
    _campaign_, _unit_, plan = _editing(request, slug, code)
    _run(request, services.delete_measure, _("The measure was deleted."),
         measure=_measure(plan, pk), actor=request.user)
    return _back(slug, code, "#measures")


@login_required
@require_POST
def summary(request, slug, code):
    _campaign_, _unit_, plan = _editing(request, slug, code)
    form = SummaryForm(request.POST)
    if form.is_valid():
        _run(request, services.save_summary, _("The summary was saved."), plan=plan,
             actor=request.user, summary=form.cleaned_data["summary"])
    return _back(slug, code)


@login_required
@require_POST
def attach(request, slug, code):
    _campaign_, _unit_, plan = _editing(request, slug, code)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file."))
    else:
        _run(request, services.attach, _("The document was attached."), plan=plan,
             actor=request.user, stream=upload, name=upload.name)
    return _back(slug, code, "#attachments")


@login_required
@require_POST
def detach(request, slug, code, pk):
    _campaign_, _unit_, plan = _editing(request, slug, code)
    item = get_object_or_404(PlanAttachment.objects.select_related("plan"), plan=plan, pk=pk)
    _run(request, services.detach, _("The document was removed."), attachment=item,
         actor=request.user)
    return _back(slug, code, "#attachments")


@login_required
def attachment(request, slug, code, pk):
    _campaign_, _unit_, plan = _editing(request, slug, code)
    item = get_object_or_404(PlanAttachment, plan=plan, pk=pk)
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=item.filename)


@login_required
@require_POST
def submit(request, slug, code):
    _campaign_, _unit_, plan = _editing(request, slug, code)
    _run(request, services.submit, _("The plan was sent to the level above."), plan=plan,
         actor=request.user, client_ref=request.POST.get("client_ref", ""))
    return _back(slug, code)


@login_required
@require_POST
def review(request, slug, code):
    _campaign_, _unit_, plan = _editing(request, slug, code)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Approve the plan or return it."))
        return _back(slug, code, "#review")
    outcome = form.cleaned_data["outcome"]
    done = (_("The plan was approved.") if outcome == "approved"
            else _("The plan was returned for revision."))
    _run(request, services.review, done, plan=plan, actor=request.user, outcome=outcome,
         comments=form.cleaned_data["comments"])
    return _back(slug, code)


@login_required
@require_POST
def follow_up(request, slug, code, pk):
    _campaign_, _unit_, plan = _editing(request, slug, code)
    measure = _measure(plan, pk)
    form = FollowUpForm(request.POST, prefix=f"f{measure.pk}")
    if not form.is_valid():
        messages.error(request, _("Unknown follow-up status."))
    else:
        _run(request, services.follow_up, _("The follow-up was saved."), measure=measure,
             actor=request.user, **form.cleaned_data)
    return _back(slug, code, f"#measure-{measure.pk}")


@login_required
def plan_settings(request, slug):
    campaign = _campaign(slug)
    if not can(request.user, "change", campaign.owner_unit):
        raise Http404
    conf = services.settings_for(campaign)
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid() and _run(request, services.save_settings,
                                    _("The plan settings were saved."), campaign=campaign,
                                    actor=request.user, **form.cleaned_data):
            return redirect("plans:settings", slug)
    else:
        form = SettingsForm(initial={"required": conf.required,
                                     "highest_level": conf.highest_level_id,
                                     "lowest_level": conf.lowest_level_id,
                                     "due_on": conf.due_on})
    required = Plan.objects.filter(campaign=campaign, required=True).count()
    return render(request, "plans/settings.html", {"campaign": campaign, "form": form,
                                                   "required_count": required})
