"""The notification centre: the user's own in-app notices, newest first, and their
notification settings. Notices are read only through ``Notification.objects.visible_to``:
someone else's notice is a 404."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from quantriet.notifications import services
from quantriet.notifications.models import (
    OPTIONAL,
    BadAddress,
    Kind,
    Notification,
    NotifySettings,
    Preference,
)
from quantriet.org import tree
from quantriet.org.managers import can
from quantriet.org.models import Unit


@login_required
def centre(request):
    qs = Notification.objects.visible_to(request.user).order_by("-created_at", "-id")
    page = Paginator(qs, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/centre.html", {"page": page})


@login_required
@require_POST
def read_all(request):
    n = services.mark_read(user=request.user)
    if n:
        messages.success(request, _("All notifications marked as read."))
    return redirect("notifications:centre")


@login_required
@require_POST
def open_one(request, pk: int):
    """Mark one notice read and go to what it is about."""
    note = get_object_or_404(Notification.objects.visible_to(request.user), pk=pk)
    services.mark_read(user=request.user, ids=[note.pk])
    if note.url and url_has_allowed_host_and_scheme(note.url, allowed_hosts=None):
        return redirect(note.url)
    return redirect("notifications:centre")


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language of e-mails"), required=False)
    opted_out = forms.MultipleChoiceField(
        label=gettext_lazy("Optional notices I do not want"), required=False,
        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Vietnamese (default)")),
                                           *settings.LANGUAGES]
        self.fields["opted_out"].choices = [(k.value, k.label) for k in Kind if k in OPTIONAL]


@login_required
def preferences(request):
    pref = Preference.objects.filter(
        recipient_key=services.key_of_user(request.user)).first()
    initial = {"language": pref.language if pref else "",
               "opted_out": pref.opted_out if pref else []}
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_preferences(user=request.user, language=form.cleaned_data["language"],
                                      opted_out=form.cleaned_data["opted_out"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Your notification settings were saved."))
            return redirect("notifications:settings")
    mandatory = [k.label for k in Kind if k not in OPTIONAL]
    return render(request, "notifications/settings.html",
                  {"form": form, "mandatory": mandatory})


@login_required
def addresses(request, code: str):
    """The e-mail addresses of the unit's subtree that could not be delivered to: for its
    administrators, to correct them in the roster."""
    unit = get_object_or_404(Unit.objects.visible_to(request.user), code=code)
    if not can(request.user, "view_people", unit):
        raise Http404
    qs = (BadAddress.objects.visible_to(request.user)
          .filter(tree.subtree_q(unit.path, "person__unit__path"))
          .select_related("person", "person__unit").order_by("-last_seen", "-id"))
    page = Paginator(qs, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/addresses.html", {"unit": unit, "page": page})


@login_required
def remind(request, slug: str, code: str):
    """A unit admin's one-off reminder to the non-submitters of their subtree: the count
    first, then the button."""
    from quantriet.campaigns.models import Campaign

    campaign = get_object_or_404(Campaign.objects.visible_to(request.user), slug=slug)
    unit = get_object_or_404(Unit.objects.visible_to(request.user), code=code)
    if not can(request.user, "change", unit):
        raise Http404
    if request.method == "POST":
        try:
            n = services.remind_non_submitters(campaign=campaign, unit=unit,
                                               actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(n)s reminder(s) queued; anyone already reminded "
                                        "today is not reminded again.") % {"n": n})
        back = request.POST.get("next", "")
        if back and url_has_allowed_host_and_scheme(back, allowed_hosts=None):
            return redirect(back)  # the progress dashboard, where the button also is
        return redirect("notifications:remind", slug=campaign.slug, code=unit.code)
    owing = services.owing_in(campaign, unit).count()
    return render(request, "notifications/remind.html",
                  {"campaign": campaign, "unit": unit, "owing": owing})


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = NotifySettings
        fields = ["invitations", "conference_hours", "deadline_days", "deadline_passed",
                  "escalation", "digests"]


@login_required
def schedule(request, slug: str):
    """The campaign's notification schedule, for its organisers."""
    from quantriet.campaigns.models import Campaign

    campaign = get_object_or_404(Campaign.objects.visible_to(request.user)
                                 .select_related("owner_unit"), slug=slug)
    if not can(request.user, "change", campaign.owner_unit):
        raise Http404
    form = ScheduleForm(request.POST or None, instance=services.settings_for(campaign))
    if request.method == "POST" and form.is_valid():
        try:
            services.save_notify_settings(
                campaign=campaign, actor=request.user,
                **{name: form.cleaned_data[name] for name in ScheduleForm.Meta.fields})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The notification schedule was saved."))
            return redirect("notifications:schedule", slug=campaign.slug)
    return render(request, "notifications/schedule.html", {"campaign": campaign, "form": form})
