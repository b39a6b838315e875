"""Organisers' pages of the conference: bridge points, assignment, coordinators."""

import io

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from quantriet.campaigns.models import Campaign
from quantriet.conference import point_import, services
from quantriet.conference.models import Attendance, BridgePoint
from quantriet.imports.spreadsheets import write_xlsx
from quantriet.org import tree
from quantriet.org.managers import can
from quantriet.org.models import Unit, UnitLevel
from quantriet.text import search_terms

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _campaign(request, slug, action="view"):
    campaign = get_object_or_404(
        Campaign.objects.visible_to(request.user, action).select_related("owner_unit"),
        slug=slug)
    if action == "view" and not can(request.user, "view", campaign.owner_unit):
        # participants see the campaign, not its conference management
        from django.http import Http404

        raise Http404
    return campaign


class GenerateForm(forms.Form):
    levels = forms.ModelMultipleChoiceField(
        label=gettext_lazy("One bridge point per unit of the levels"),
        queryset=UnitLevel.objects.filter(accepts_members=False, rank__gt=0),
        widget=forms.CheckboxSelectMultiple)
    central = forms.BooleanField(label=gettext_lazy("and the central point"), required=False,
                                 initial=True)


class CoordinatorForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Login of the coordinator"), max_length=150)


class VNDateTimeField(forms.CharField):
    """A date and time typed as dd/mm/yyyy hh:mm."""

    widget = forms.TextInput(attrs={"placeholder": "dd/mm/yyyy hh:mm"})

    def prepare_value(self, value):
        if hasattr(value, "strftime"):
            return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            parsed = point_import.parse_datetime(value)
        except point_import.values.CellError:
            raise forms.ValidationError(
                _("Enter a date and time as dd/mm/yyyy hh:mm, for example 15/12/2026 08:00."),
                code="invalid") from None
        return timezone.make_aware(parsed) if parsed and timezone.is_naive(parsed) else parsed


class PointForm(forms.ModelForm):
    starts_at = VNDateTimeField(label=gettext_lazy("Session starts"), required=False)
    ends_at = VNDateTimeField(label=gettext_lazy("Session ends"), required=False)

    class Meta:
        model = BridgePoint
        fields = services.POINT_FIELDS


class ImportPointsForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Sheet of bridge points (.xlsx, .ods, .csv)"))


class BulkMoveForm(forms.Form):
    unit = forms.CharField(label=gettext_lazy("Code of the unit (with its whole subtree)"),
                           max_length=40)
    point = forms.CharField(label=gettext_lazy("Code of the new bridge point"), max_length=40)


class MoveForm(forms.Form):
    participant = forms.IntegerField(label=gettext_lazy("Participant number"))
    point = forms.CharField(label=gettext_lazy("Code of the new bridge point"), max_length=40)


@login_required
def points(request, slug):
    campaign = _campaign(request, slug)
    organiser = can(request.user, "change", campaign.owner_unit)
    qs = campaign.bridge_points.select_related("host_unit")
    q = request.GET.get("q", "").strip()
    for term in search_terms(q):
        qs = qs.filter(Q(host_unit__search_name__contains=term) | Q(code__iexact=term))
    if request.GET.get("over") == "1":
        qs = qs.filter(capacity__isnull=False, expected__gt=F("capacity"))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "conference/points.html", {
        "campaign": campaign, "page": page, "q": q, "organiser": organiser,
        "generate_form": GenerateForm(), "move_form": MoveForm(),
        "import_form": ImportPointsForm(), "bulk_form": BulkMoveForm(),
        "over": services.over_capacity(campaign)[:20],
        "unassigned": campaign.participants.filter(active=True, attendance__isnull=True)
        .count(),
    })


@login_required
@require_POST
def generate(request, slug):
    campaign = _campaign(request, slug, "change")
    form = GenerateForm(request.POST)
    if form.is_valid():
        try:
            n = services.generate_points(
                campaign=campaign, actor=request.user, central=form.cleaned_data["central"],
                level_codes=[lv.code for lv in form.cleaned_data["levels"]])
            messages.success(request, _("%(n)s bridge points created.") % {"n": n})
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
    else:
        messages.error(request, _("Choose at least one level."))
    return redirect("conference:points", campaign.slug)


@login_required
@require_POST
def assign(request, slug):
    campaign = _campaign(request, slug, "change")
    try:
        n = services.assign_default(campaign=campaign, actor=request.user)
        messages.success(request, _("%(n)s participants assigned.") % {"n": n})
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("conference:points", campaign.slug)


@login_required
@require_POST
def move(request, slug):
    campaign = _campaign(request, slug, "change")
    form = MoveForm(request.POST)
    if form.is_valid():
        att = Attendance.objects.filter(participant__campaign=campaign,
                                        participant_id=form.cleaned_data["participant"]).first()
        point = campaign.bridge_points.filter(code=form.cleaned_data["point"]).first()
        if att is None or point is None:
            messages.error(request, _("No such participant or bridge point in this campaign."))
        else:
            try:
                services.move_attendance(attendance=att, point=point, actor=request.user)
                messages.success(request, _("Moved to %(point)s.") % {"point": point.name})
            except ValidationError as exc:
                messages.error(request, exc.messages[0])
    return redirect("conference:points", campaign.slug)


@login_required
def point_detail(request, slug, code):
    campaign = _campaign(request, slug)
    point = get_object_or_404(campaign.bridge_points.select_related("host_unit"), code=code)
    organiser = can(request.user, "change", campaign.owner_unit)
    attendances = (point.attendances.select_related("participant__person", "participant__unit",
                                                    "substitute")
                   .order_by("participant__person__sort_key", "pk"))
    status = request.GET.get("status")
    if status in Attendance.Status.values:
        attendances = attendances.filter(status=status)
    return render(request, "conference/point.html", {
        "campaign": campaign, "point": point, "organiser": organiser,
        "page": Paginator(attendances, 100).get_page(request.GET.get("page")),
        "coordinator_form": CoordinatorForm(), "status": status,
        "statuses": Attendance.Status.choices,
    })


@login_required
@require_POST
def add_coordinator(request, slug, code):
    campaign = _campaign(request, slug, "change")
    point = get_object_or_404(campaign.bridge_points, code=code)
    form = CoordinatorForm(request.POST)
    account = None
    if form.is_valid():
        account = get_user_model().objects.filter(username=form.cleaned_data["username"],
                                                  is_active=True).first()
    if account is None:
        messages.error(request, _("No active account with that login."))
    else:
        services.add_coordinator(point=point, user=account, actor=request.user)
        messages.success(request, _("%(user)s can now check people in at this point.")
                         % {"user": account.get_username()})
    return redirect("conference:point", campaign.slug, point.code)


@login_required
@require_POST
def lock(request, slug, code):
    campaign = _campaign(request, slug, "change")
    point = get_object_or_404(campaign.bridge_points, code=code)
    services.lock_point(point=point, actor=request.user)
    messages.success(request, _("Attendance at %(point)s is locked; those not checked in are "
                                "recorded absent.") % {"point": point.name})
    return redirect("conference:point", campaign.slug, point.code)



@login_required
def edit_point(request, slug, code):
    campaign = _campaign(request, slug, "change")
    point = get_object_or_404(campaign.bridge_points.select_related("host_unit"), code=code)
    form = PointForm(request.POST or None, instance=BridgePoint.objects.get(pk=point.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_point(point=point, actor=request.user,
                                  **{f: form.cleaned_data[f] for f in services.POINT_FIELDS})
            messages.success(request, _("Saved."))
            return redirect("conference:point", campaign.slug, point.code)
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(request, "conference/point_edit.html",
                  {"campaign": campaign, "point": point, "form": form})


@login_required
def import_points(request, slug):
    """Upload a sheet of bridge points: all rows are created or updated, or none."""
    campaign = _campaign(request, slug, "change")
    form = ImportPointsForm(request.POST or None, request.FILES or None)
    errors: list[tuple[int, str]] = []
    ignored: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            sheet = point_import.read_sheet(upload, upload.name)
        except point_import.SheetError as exc:
            form.add_error("file", str(exc))
        else:
            ignored = sheet.ignored_headers
            try:
                result = services.import_points(campaign=campaign, sheet=sheet,
                                                actor=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                errors = result.errors
                if not errors:
                    messages.success(request, _(
                        "%(created)s bridge points created, %(updated)s updated.")
                        % {"created": result.created, "updated": result.updated})
                    return redirect("conference:points", campaign.slug)
    return render(request, "conference/points_import.html", {
        "campaign": campaign, "form": form, "errors": errors[:500],
        "error_count": len(errors), "ignored": ignored,
        "columns": [(str(h), aliases[0]) for h, aliases in point_import.COLUMNS.values()],
    })


@login_required
def points_template(request, slug):
    campaign = _campaign(request, slug, "change")
    header, rows = point_import.template_rows()
    buf = io.BytesIO()
    write_xlsx(buf, {_("Bridge points"): (header, iter(rows))})
    return HttpResponse(buf.getvalue(), content_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="diem-cau-{campaign.slug}.xlsx"'})


@login_required
@require_POST
def bulk_move(request, slug):
    campaign = _campaign(request, slug, "change")
    form = BulkMoveForm(request.POST)
    if form.is_valid():
        unit = Unit.objects.filter(code=form.cleaned_data["unit"]).filter(
            tree.subtree_q(campaign.owner_unit.path)).first()
        point = campaign.bridge_points.filter(code=form.cleaned_data["point"]).first()
        if unit is None or point is None:
            messages.error(request, _("No such unit in the organising unit's subtree, or no "
                                      "such bridge point in this campaign."))
        else:
            try:
                n = services.move_subtree(campaign=campaign, unit=unit, point=point,
                                          actor=request.user)
                messages.success(request, _("%(n)s participants of %(unit)s moved to "
                                            "%(point)s.")
                                 % {"n": n, "unit": unit.name, "point": point.name})
            except ValidationError as exc:
                messages.error(request, exc.messages[0])
    else:
        messages.error(request, _("Give a unit code and a bridge point code."))
    return redirect("conference:points", campaign.slug)
