"""Pages of the copy check: the flags a reviewer may see, the evidence of one flag side by
side, and the organisers' reference texts and circulating templates."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from quantriet.campaigns.models import Campaign
from quantriet.org.managers import can
from quantriet.reports import extract
from quantriet.reports.services import record_read
from quantriet.similarity import fingerprint as fp
from quantriet.similarity import services
from quantriet.similarity.models import Flag, Source


def _campaign(request, slug) -> Campaign:
    return get_object_or_404(Campaign.objects.visible_to(request.user), slug=slug)


def segments(text: str, shared: list[tuple[int, int]],
             quoted: list[tuple[int, int]]) -> list[tuple[str, str]]:
    """The text cut into (piece, kind) with kind "shared", "quoted" or ""."""
    marks = sorted([(a, b, "shared") for a, b in shared] + [(a, b, "quoted") for a, b in quoted])
    out: list[tuple[str, str]] = []
    at = 0
    for start, end, kind in marks:
        start = max(start, at)
        if end <= start:
            continue
        if start > at:
            out.append((text[at:start], ""))
        out.append((text[start:end], kind))
        at = end
    if at < len(text):
        out.append((text[at:], ""))
    return out


@login_required
def flags(request, slug):
    campaign = _campaign(request, slug)
    qs = (services.flags_visible_to(request.user, campaign)
          .select_related("report__participant__person", "other__participant__person",
                          "source", "cluster"))
    status = request.GET.get("status", "open")
    if status in Flag.Status.values:
        qs = qs.filter(status=status)
    return render(request, "similarity/flags.html", {
        "campaign": campaign, "status": status, "statuses": Flag.Status.choices,
        "page": Paginator(qs.order_by("cluster_id", "-score", "pk"), 50)
        .get_page(request.GET.get("page")),
        "organiser": can(request.user, "change", campaign.owner_unit),
    })


@login_required
def flag_detail(request, slug, pk):
    campaign = _campaign(request, slug)
    flag = get_object_or_404(
        services.flags_visible_to(request.user, campaign).select_related(
            "report__participant__person", "other__participant__person", "version",
            "other_version", "source", "cluster__earliest__participant__person"), pk=pk)
    if request.method == "POST":
        try:
            services.decide(flag=flag, status=request.POST.get("status", ""),
                            actor=request.user)
            messages.success(request, _("Saved."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("similarity:flag", slug, flag.pk)
    reference = services.reference_shingles(campaign)
    other_text = flag.other_version.text if flag.other_version else flag.source.text
    comparison = fp.compare(flag.version.text, other_text, reference=reference,
                            common=services.common_phrases(campaign))
    record_read(flag.report, request.user, what="copy evidence")
    if flag.other:
        record_read(flag.other, request.user, what="copy evidence")
    reviewers = {flag.report.reviewer_id, flag.other.reviewer_id if flag.other else None}
    from quantriet.reports.services import policy_for

    blind = policy_for(campaign).blind_review
    return render(request, "similarity/flag.html", {
        "campaign": campaign, "flag": flag, "c": comparison, "blind": blind,
        "left": segments(flag.version.text, comparison.passages_a, comparison.quoted_a),
        "right": segments(other_text, comparison.passages_b, comparison.quoted_b),
        "may_decide": request.user.pk in reviewers,
        "members": flag.cluster.flags.select_related("report__participant__person")
        .order_by("version__submitted_at")[:50],
    })


class SourceForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Source.Kind.choices)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=300)
    text = forms.CharField(label=gettext_lazy("Text"), required=False,
                           widget=forms.Textarea(attrs={"rows": 8}))
    file = forms.FileField(label=gettext_lazy("…or a file (.docx, .odt, .pdf)"),
                           required=False)


@login_required
def sources(request, slug):
    campaign = _campaign(request, slug)
    if not can(request.user, "change", campaign.owner_unit):
        raise Http404
    form = SourceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["text"]
        upload = form.cleaned_data.get("file")
        try:
            if upload:
                text = extract.inspect_upload(upload, upload.name, 20 * 1024 * 1024).text
            services.add_source(campaign=campaign, kind=form.cleaned_data["kind"],
                                title=form.cleaned_data["title"], text=text,
                                actor=request.user)
            messages.success(request, _("Saved."))
            return redirect("similarity:sources", slug)
        except extract.RejectedFile as exc:
            form.add_error("file", str(exc))
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(request, "similarity/sources.html", {
        "campaign": campaign, "form": form,
        "sources": Source.objects.filter(campaign=campaign),
    })


@login_required
@require_POST
def delete_source(request, slug, pk):
    campaign = _campaign(request, slug)
    source = get_object_or_404(Source, campaign=campaign, pk=pk)
    try:
        services.delete_source(source=source, actor=request.user)
    except ValidationError:
        raise Http404 from None
    return redirect("similarity:sources", slug)
