"""Pages of campaigns: the list, the campaign page with its tabs, the roster evaluation,
participant pages and the participant's own "My campaigns".

Every campaign is fetched through ``Campaign.objects.visible_to(request.user[, "change"])``:
a campaign outside the user's scope is a 404, the same answer as one that does not exist.
Participants are shown as people only to users with ``view_people`` rights over their unit
(and to the participant themself). Every change goes through ``campaigns.services``, which
checks the rights again.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.db.models.functions import Substr
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from quantriet.campaigns import services
from quantriet.campaigns.forms import (
    CampaignEditForm,
    CampaignForm,
    MaterialForm,
    MemberForm,
    ReasonForm,
    RoutingForm,
    RuleForm,
    TopicForm,
)
from quantriet.campaigns.models import Campaign, Material, Participant, Topic
from quantriet.org import tree
from quantriet.org.managers import can, scope_paths
from quantriet.org.models import Person, Unit
from quantriet.text import search_terms

TABS = ("overview", "topics", "rules", "roster", "routing")
EVERYONE = Q(pk__isnull=False)  # "no restriction", safe to OR with (unlike an empty Q)


# ---------------------------------------------------------------- helpers


def _page(request, items, size=None):
    return Paginator(items, size or settings.PAGE_SIZE).get_page(request.GET.get("page"))


def _campaign(request, slug, action="view"):
    qs = Campaign.objects.visible_to(request.user, action).select_related(
        "owner_unit", "owner_unit__level")
    return get_object_or_404(qs, slug=slug)


def _tab_url(campaign, tab):
    return reverse("campaigns:detail", args=[campaign.slug]) + f"?tab={tab}"


def _people_q(user, campaign):
    """Which participants of the campaign the user may see as people: a Q over
    participants, or None when the user may see none (no view_people right overlapping the
    organising unit's subtree)."""
    paths = scope_paths(user, "view_people")
    if paths is None:
        return EVERYONE
    owner = campaign.owner_unit.path
    if not any(owner.startswith(p) or p.startswith(owner) for p in paths):
        return None
    return tree.any_subtree_q(paths, "unit__path")


def _may_edit_roster(user, campaign, unit=None):
    """Organisers of the campaign, or unit administrators of ``unit`` (of some unit of the
    campaign's subtree when no unit is given). The services check it again."""
    if can(user, "change", campaign.owner_unit):
        return True
    if unit is not None:
        return can(user, "change", unit)
    paths = scope_paths(user, "change")
    return paths is None or any(p.startswith(campaign.owner_unit.path) for p in paths)


def _add_errors(form, exc):
    for msg in exc.messages:
        form.add_error(None, msg)


def reason_text(reason):
    """The stored reason, translated when it is the services' own English msgid."""
    return _(services.REASON_NO_LONGER) if reason == services.REASON_NO_LONGER else reason


def _number(n):
    return number_format(n, force_grouping=True)


def describe_rule(rule):
    """The conditions of an eligibility rule in words (relations prefetched)."""
    parts = []
    types = list(rule.position_types.all())
    if types:
        parts.append(_("positions: %(list)s") % {"list": ", ".join(t.label() for t in types)})
    levels = list(rule.unit_levels.all())
    if levels:
        parts.append(_("held at a unit of level: %(list)s")
                     % {"list": ", ".join(lv.label() for lv in levels)})
    if rule.full_time is True:
        parts.append(_("full-time only"))
    elif rule.full_time is False:
        parts.append(_("part-time only"))
    if rule.min_members is not None and rule.max_members is not None:
        parts.append(_("the unit has from %(min)s to %(max)s members")
                     % {"min": _number(rule.min_members), "max": _number(rule.max_members)})
    elif rule.min_members is not None:
        parts.append(_("the unit has at least %(min)s members")
                     % {"min": _number(rule.min_members)})
    elif rule.max_members is not None:
        parts.append(_("the unit has at most %(max)s members")
                     % {"max": _number(rule.max_members)})
    if rule.subtree is not None:
        parts.append(_("only within “%(unit)s”") % {"unit": rule.subtree.name})
    if not parts:
        parts.append(_("any current position in the organising unit's subtree"))
    return parts


def invitation_text(participant):
    """Why the participant is on the roster, addressed to them."""
    if participant.source == Participant.Source.SUBSTITUTE and participant.substitute_for:
        return _("You attend in place of %(person)s: %(reason)s") % {
            "person": participant.substitute_for.person.full_name, "reason": participant.reason}
    if participant.source == Participant.Source.MANUAL:
        return _("You were added by hand: %(reason)s") % {"reason": participant.reason}
    names = "; ".join(r.name for r in participant.rules.all())
    return _("You are invited because: %(rules)s") % {"rules": names or "—"}


# ---------------------------------------------------------------- list, mine


@login_required
@require_http_methods(["GET", "POST"])
def campaign_list(request):
    """Campaigns the user can see; a form to create one for users with change rights."""
    user = request.user
    change_paths = scope_paths(user, "change")
    form = None
    if change_paths is None or change_paths:
        form = CampaignForm(request.POST or None, user=user)
        if request.method == "POST" and form.is_valid():
            try:
                campaign = services.create_campaign(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Campaign “%(title)s” created.")
                                 % {"title": campaign.title})
                return redirect("campaigns:detail", campaign.slug)
    elif request.method == "POST":
        raise Http404
    campaigns = Campaign.objects.visible_to(user).select_related("owner_unit").order_by(
        "-created_at", "-id")
    return render(request, "campaigns/list.html", {
        "page": _page(request, campaigns),
        "form": form,
        "has_person": Person.objects.filter(user=user).exists(),
    })


@login_required
def mine(request):
    """The logged-in member's campaigns: why they are invited, topics, where the report goes."""
    user = request.user
    participations = list(
        Participant.objects.filter(person__user=user, active=True,
                                   campaign__in=Campaign.objects.visible_to(user))
        .select_related("campaign", "campaign__owner_unit", "unit", "managing_unit",
                        "substitute_for__person", "attendance__point", "report__grade")
        .prefetch_related(
            "rules",
            Prefetch("campaign__topics", queryset=Topic.objects.prefetch_related("materials")),
        )
        .order_by("-campaign__created_at", "-campaign_id")
    )
    for p in participations:
        p.invitation = invitation_text(p)
    return render(request, "campaigns/mine.html", {
        "participations": participations,
        "has_person": bool(participations) or Person.objects.filter(user=user).exists(),
    })


# ---------------------------------------------------------------- the campaign page


@login_required
def campaign_detail(request, slug):
    campaign = _campaign(request, slug)
    return _render_detail(request, campaign, request.GET.get("tab", "overview"))


def _render_detail(request, campaign, tab, **bound_forms):
    """The campaign page at one tab; ``bound_forms`` replace the empty forms after a POST
    with errors."""
    user = request.user
    if tab not in TABS:
        tab = "overview"
    people_q = _people_q(user, campaign)
    staff = can(user, "view", campaign.owner_unit)  # through a grant, not as participant
    organiser = can(user, "change", campaign.owner_unit)
    context = {
        "campaign": campaign,
        "tab": tab,
        "staff": staff,
        "organiser": organiser,
        "can_see_roster": people_q is not None,
    }
    if tab == "overview":
        context["statuses"] = [(v, label) for v, label in Campaign.Status.choices
                               if v != campaign.status]
        if staff:
            context["active_count"] = campaign.participants.filter(active=True).count()
        from quantriet.reports.nav import report_links

        context["report_links"] = report_links(user, campaign)
        from quantriet.plans.nav import plan_links

        context["plan_links"] = plan_links(user, campaign)
        from quantriet.progress.nav import progress_url

        context["progress_url"] = progress_url(user, campaign)
        if organiser:
            context["edit_form"] = bound_forms.get("edit_form") or CampaignEditForm(initial={
                f: getattr(campaign, f) for f in CampaignEditForm.base_fields})
    elif tab == "topics":
        context["topics"] = campaign.topics.prefetch_related("materials")
        if organiser:
            context["topic_form"] = bound_forms.get("topic_form") or TopicForm()
            context["material_form"] = MaterialForm()
    elif tab == "rules":
        rules = (campaign.rules.select_related("subtree")
                 .prefetch_related("position_types", "unit_levels")
                 .annotate(n=Count("participants", filter=Q(participants__active=True))))
        context["rules"] = [(r, describe_rule(r)) for r in rules]
    elif tab == "roster":
        if people_q is None:
            raise Http404
        context.update(_roster_context(request, campaign, people_q))
        if _may_edit_roster(user, campaign):
            context["add_form"] = bound_forms.get("add_form") or MemberForm(user=user,
                                                                             prefix="add")
    elif tab == "routing":
        if not staff:
            raise Http404
        context["routing_rules"] = campaign.routing_rules.select_related(
            "level", "ancestor_level").order_by("level__rank", "level__order")
        context["page"] = _page(request, services.routing_preview(campaign))
        if organiser:
            context["routing_form"] = bound_forms.get("routing_form") or RoutingForm()
    return render(request, "campaigns/detail.html", context)


def _roster_context(request, campaign, people_q):
    owner = campaign.owner_unit
    mine = campaign.participants.filter(people_q)
    totals = mine.aggregate(
        n_active=Count("id", filter=Q(active=True)),
        n_removed=Count("id", filter=Q(active=False)),
        n_manual=Count("id", filter=Q(active=True) & ~Q(source=Participant.Source.RULE)),
    )
    counts = {k.removeprefix("n_"): v for k, v in totals.items()}
    # active participants per child unit of the organising unit: one GROUP BY on the prefix
    width = len(owner.path) + tree.SEGMENT
    grouped = dict(
        mine.filter(tree.subtree_q(owner.path, "unit__path"), active=True)
        .annotate(prefix=Substr("unit__path", 1, width))
        .values("prefix").annotate(n=Count("id")).values_list("prefix", "n").order_by()
    )
    children = {u.path: u for u in Unit.objects.filter(path__in=list(grouped)).only(
        "code", "name", "path", "valid_to")} if grouped else {}
    by_child = sorted(
        ((children.get(prefix), prefix == owner.path, n) for prefix, n in grouped.items()),
        key=lambda row: (-row[2], row[0].name if row[0] else ""),
    )

    show = request.GET.get("show", "")
    if show not in ("removed", "manual"):
        show = ""
    q = request.GET.get("q", "").strip()
    rows = mine.filter(active=show != "removed")
    if show == "manual":
        rows = rows.exclude(source=Participant.Source.RULE)
    for term in search_terms(q):
        rows = rows.filter(Q(person__search_name__contains=term)
                           | Q(person__member_code__iexact=term))
    rows = (rows.select_related("person", "unit", "managing_unit")
            .prefetch_related("rules").order_by("person__sort_key", "id"))
    page = _page(request, rows)
    for p in page.object_list:
        p.reason_display = reason_text(p.reason)
    return {"counts": counts, "by_child": by_child, "page": page, "q": q, "show": show}


# ---------------------------------------------------------------- organiser actions


@login_required
@require_POST
def campaign_edit(request, slug):
    campaign = _campaign(request, slug, "change")
    form = CampaignEditForm(request.POST)
    if form.is_valid():
        try:
            services.update_campaign(campaign=campaign, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The campaign was saved."))
            return redirect(_tab_url(campaign, "overview"))
    return _render_detail(request, campaign, "overview", edit_form=form)


@login_required
@require_POST
def campaign_status(request, slug):
    campaign = _campaign(request, slug, "change")
    try:
        services.set_status(campaign=campaign, status=request.POST.get("status", ""),
                            actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("The campaign is now “%(status)s”.")
                         % {"status": campaign.get_status_display()})
    return redirect(_tab_url(campaign, "overview"))


@login_required
@require_POST
def topic_add(request, slug):
    campaign = _campaign(request, slug, "change")
    form = TopicForm(request.POST)
    if form.is_valid():
        try:
            topic = services.add_topic(campaign=campaign, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Topic “%(title)s” added.") % {"title": topic.title})
            return redirect(_tab_url(campaign, "topics"))
    return _render_detail(request, campaign, "topics", topic_form=form)


@login_required
@require_POST
def material_add(request, slug, pk):
    campaign = _campaign(request, slug, "change")
    topic = get_object_or_404(campaign.topics, pk=pk)
    form = MaterialForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_material(topic=topic, title=data["title"], actor=request.user,
                                  kind=data.get("kind") or "link", url=data.get("url") or "",
                                  upload=data.get("upload"))
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, _("Material “%(title)s” added.") % {"title": data["title"]})
    else:
        for errors in form.errors.values():
            messages.error(request, errors[0])
    return redirect(_tab_url(campaign, "topics"))


@login_required
@require_POST
def material_delete(request, slug, pk):
    campaign = _campaign(request, slug, "change")
    material = get_object_or_404(Material.objects.filter(topic__campaign=campaign), pk=pk)
    services.delete_material(material=material, actor=request.user)
    return redirect(_tab_url(campaign, "topics"))


@login_required
@require_POST
def topic_move(request, slug, pk):
    campaign = _campaign(request, slug, "change")
    topic = get_object_or_404(campaign.topics, pk=pk)
    topic.campaign = campaign
    try:
        services.move_topic(topic=topic, up=request.POST.get("direction") == "up",
                            actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect(_tab_url(campaign, "topics"))


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, slug, pk=None):
    """Add (no pk) or edit an eligibility rule."""
    campaign = _campaign(request, slug, "change")
    rule = None
    if pk is not None:
        rule = get_object_or_404(
            campaign.rules.select_related("subtree").prefetch_related("position_types",
                                                                      "unit_levels"), pk=pk)
    form = RuleForm(request.POST or None, user=request.user, campaign=campaign,
                    initial=RuleForm.initial_for(rule) if rule else None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_rule(campaign=campaign, actor=request.user, rule=rule,
                                       **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
            return redirect(_tab_url(campaign, "rules"))
    return render(request, "campaigns/rule_form.html",
                  {"campaign": campaign, "rule": rule, "form": form})


@login_required
@require_POST
def rule_delete(request, slug, pk):
    campaign = _campaign(request, slug, "change")
    rule = get_object_or_404(campaign.rules, pk=pk)
    rule.campaign = campaign
    name = rule.name
    try:
        services.delete_rule(rule=rule, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("Rule “%(name)s” deleted.") % {"name": name})
    return redirect(_tab_url(campaign, "rules"))


@login_required
@require_POST
def rules_preset(request, slug):
    campaign = _campaign(request, slug, "change")
    if campaign.rules.exists():
        messages.error(request, _("The preset rules can only be added to a campaign without "
                                  "rules."))
    else:
        try:
            rules = services.add_preset_rules(campaign=campaign, actor=request.user)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, _("%(n)s preset rules added.") % {"n": len(rules)})
    return redirect(_tab_url(campaign, "rules"))


@login_required
def roster_preview(request, slug):
    """What applying the rules now would change (writes nothing); organisers only."""
    campaign = _campaign(request, slug, "change")
    diff = services.preview_roster(campaign=campaign)
    return render(request, "campaigns/preview.html", {
        "campaign": campaign,
        "diff": diff,
        "has_rules": campaign.rules.exists(),
    })


@login_required
@require_POST
def roster_apply(request, slug):
    campaign = _campaign(request, slug, "change")
    try:
        diff = services.apply_roster(campaign=campaign, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("campaigns:roster_preview", campaign.slug)
    messages.success(request, _(
        "Roster applied: %(added)s added, %(reactivated)s back on the roster, %(removed)s "
        "removed; %(eligible)s people match the rules.") % {
        "added": _number(diff.added), "reactivated": _number(diff.reactivated),
        "removed": _number(diff.removed), "eligible": _number(diff.eligible)})
    return redirect(_tab_url(campaign, "roster"))


@login_required
@require_POST
def routing_set(request, slug):
    campaign = _campaign(request, slug, "change")
    form = RoutingForm(request.POST)
    if form.is_valid():
        try:
            services.set_routing(campaign=campaign, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Routing rule saved. Re-route the reports to apply it "
                                        "to the roster."))
            return redirect(_tab_url(campaign, "routing"))
    return _render_detail(request, campaign, "routing", routing_form=form)


@login_required
@require_POST
def routing_reroute(request, slug):
    campaign = _campaign(request, slug, "change")
    try:
        services.reroute(campaign=campaign, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("Every report was routed again."))
    return redirect(_tab_url(campaign, "routing"))


# ---------------------------------------------------------------- roster changes by hand


@login_required
@require_POST
def participant_add(request, slug):
    campaign = _campaign(request, slug)
    if _people_q(request.user, campaign) is None or not _may_edit_roster(request.user, campaign):
        raise Http404
    form = MemberForm(request.POST, user=request.user, prefix="add")
    if form.is_valid():
        try:
            participant = services.add_participant(
                campaign=campaign, person=form.cleaned_data["member_code"],
                reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("“%(person)s” was added to the roster.")
                             % {"person": participant.person.full_name})
            return redirect("campaigns:participant", campaign.slug, participant.pk)
    return _render_detail(request, campaign, "roster", add_form=form)


def _participant(request, slug, pk):
    """The campaign and one of its participants, if the user may see that person: with
    view_people rights over the participant's unit, or as the participant themself."""
    campaign = _campaign(request, slug)
    people_q = _people_q(request.user, campaign)
    visible = Q(person__user=request.user)
    if people_q is not None:
        visible |= people_q
    participant = get_object_or_404(
        campaign.participants.filter(visible).select_related(
            "person", "person__unit", "unit", "unit__level", "managing_unit",
            "substitute_for__person", "changed_by", "attendance__point"),
        pk=pk,
    )
    participant.campaign = campaign
    return campaign, participant


def _render_participant(request, campaign, participant, **bound_forms):
    user = request.user
    editable = _may_edit_roster(user, campaign, participant.unit)
    context = {
        "campaign": campaign,
        "participant": participant,
        "person": participant.person,
        "is_self": participant.person.user_id == user.pk,
        "rules": list(participant.rules.all()),
        "reason": reason_text(participant.reason),
        "substitutes": list(participant.substitutes.select_related("person")),
        "can_see_roster": _people_q(user, campaign) is not None,
        "person_link": can(user, "view_people", participant.person.unit)
        or participant.person.user_id == user.pk,
        "editable": editable,
    }
    if editable and participant.active:
        context["remove_form"] = bound_forms.get("remove_form") or ReasonForm(prefix="remove")
        context["substitute_form"] = bound_forms.get("substitute_form") or MemberForm(
            user=user, prefix="sub")
    elif editable:
        context["restore_form"] = bound_forms.get("restore_form") or ReasonForm(
            prefix="restore")
    return render(request, "campaigns/participant.html", context)


@login_required
def participant_detail(request, slug, pk):
    campaign, participant = _participant(request, slug, pk)
    return _render_participant(request, campaign, participant)


def _editable_participant(request, slug, pk):
    campaign, participant = _participant(request, slug, pk)
    if not _may_edit_roster(request.user, campaign, participant.unit):
        raise Http404  # the participant's own view is read-only
    return campaign, participant


@login_required
@require_POST
def participant_remove(request, slug, pk):
    campaign, participant = _editable_participant(request, slug, pk)
    form = ReasonForm(request.POST, prefix="remove")
    if form.is_valid():
        try:
            services.remove_participant(participant=participant, actor=request.user,
                                        reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("“%(person)s” was removed from the roster.")
                             % {"person": participant.person.full_name})
            return redirect("campaigns:participant", campaign.slug, participant.pk)
    return _render_participant(request, campaign, participant, remove_form=form)


@login_required
@require_POST
def participant_substitute(request, slug, pk):
    campaign, participant = _editable_participant(request, slug, pk)
    form = MemberForm(request.POST, user=request.user, prefix="sub")
    if form.is_valid():
        try:
            new = services.substitute(participant=participant, actor=request.user,
                                      person=form.cleaned_data["member_code"],
                                      reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("“%(person)s” attends in place of “%(other)s”.")
                             % {"person": new.person.full_name,
                                "other": participant.person.full_name})
            return redirect("campaigns:participant", campaign.slug, new.pk)
    return _render_participant(request, campaign, participant, substitute_form=form)


@login_required
@require_POST
def participant_restore(request, slug, pk):
    """Put a removed participant back on the roster (a manual decision, with a reason)."""
    campaign, participant = _editable_participant(request, slug, pk)
    form = ReasonForm(request.POST, prefix="restore")
    if form.is_valid():
        try:
            services.add_participant(campaign=campaign, person=participant.person,
                                     reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("“%(person)s” is back on the roster.")
                             % {"person": participant.person.full_name})
            return redirect("campaigns:participant", campaign.slug, participant.pk)
    return _render_participant(request, campaign, participant, restore_form=form)
