"""Django admin for campaigns, scoped like the org admin.

Staff accounts that are not superusers see only campaigns (and their topics, rules,
participants and routing rules) that ``Campaign.objects.visible_to`` gives them, and change
only those of units where they hold a change right; any other object is a 404. Creating a
campaign, a topic or a rule and setting a routing rule go through the services; the
roster (participants) is read-only here: it changes on the campaign pages.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from quantriet.campaigns import services
from quantriet.campaigns.models import (
    Campaign,
    EligibilityRule,
    Material,
    Participant,
    RoutingRule,
    Topic,
)
from quantriet.org import tree
from quantriet.org.admin import ScopedAdmin
from quantriet.org.managers import can, scope_paths
from quantriet.text import search_terms


def _can_change_campaign(request, campaign):
    if request.user.is_superuser:
        return True
    if campaign is None:
        return bool(scope_paths(request.user, "change"))
    return can(request.user, "change", campaign.owner_unit)


class ScopedInline(admin.TabularInline):
    """An inline whose rights follow the parent's campaign (not Django model permissions)."""

    extra = 0

    def campaign_of(self, obj):
        return obj

    def has_view_permission(self, request, obj=None):
        return True  # the parent page is already scoped

    def has_change_permission(self, request, obj=None):
        return _can_change_campaign(request, self.campaign_of(obj) if obj else None)

    def has_add_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)


class TopicInline(ScopedInline):
    model = Topic
    fields = ["order", "title", "presenter", "summary"]
    show_change_link = True


class MaterialInline(ScopedInline):
    model = Material
    fields = ["kind", "title", "url", "file"]

    def campaign_of(self, obj):
        return obj.campaign


class CampaignAdminForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["slug", "title", "resolution", "description", "owner_unit", "status",
                  "conference_date", "report_deadline"]

    def clean(self):
        data = super().clean()
        start, end = data.get("conference_date"), data.get("report_deadline")
        if start and end and end < start:
            raise forms.ValidationError(_("The report deadline is before the conference."))
        return data


@admin.register(Campaign)
class CampaignAdmin(ScopedAdmin):
    form = CampaignAdminForm
    list_display = ["title", "slug", "owner_unit", "status", "conference_date",
                    "report_deadline", "roster_evaluated_at"]
    list_filter = ["status"]
    search_fields = ["title", "slug"]
    list_select_related = ["owner_unit"]
    raw_id_fields = ["owner_unit"]
    readonly_fields = ["created_by", "created_at", "updated_at", "roster_evaluated_at"]
    inlines = [TopicInline]

    def unit_of(self, obj):
        return obj.owner_unit

    def get_fields(self, request, obj=None):
        fields = ["slug", "title", "resolution", "description", "owner_unit",
                  "conference_date", "report_deadline"]
        if obj is None:
            return fields
        return [*fields, "status", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        ro = list(self.readonly_fields)
        if obj is not None:
            ro += ["slug", "owner_unit"]  # the address and the scope of a campaign stay put
        return ro

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            saved = services.create_campaign(
                slug=data["slug"], title=data["title"], owner_unit=data["owner_unit"],
                actor=request.user, resolution=data.get("resolution", ""),
                description=data.get("description", ""),
                conference_date=data.get("conference_date"),
                report_deadline=data.get("report_deadline"),
            )
            obj.pk, obj.created_at = saved.pk, saved.created_at
            obj._state.adding = False
            return
        if "status" in form.changed_data:
            services.set_status(campaign=obj, status=data["status"], actor=request.user)
        plain = [f for f in form.changed_data if f in {"title", "resolution", "description",
                                                      "conference_date", "report_deadline"}]
        if plain:
            services.update_campaign(campaign=Campaign.objects.get(pk=obj.pk),
                                     actor=request.user, **{f: data[f] for f in plain})


class CampaignChildAdmin(ScopedAdmin):
    """Rows that belong to a campaign: scoped through the campaign's visibility."""

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return qs
        return qs.filter(campaign__in=Campaign.objects.visible_to(request.user,
                                                                  self.view_action))

    def unit_of(self, obj):
        return obj.campaign.owner_unit

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Campaign:
            kwargs["queryset"] = Campaign.objects.visible_to(request.user, "change")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        ro = list(super().get_readonly_fields(request, obj))
        return [*ro, "campaign"] if obj is not None else ro


@admin.register(Topic)
class TopicAdmin(CampaignChildAdmin):
    list_display = ["title", "campaign", "order", "presenter"]
    search_fields = ["title"]
    list_select_related = ["campaign"]
    fields = ["campaign", "order", "title", "presenter", "summary"]
    inlines = [MaterialInline]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)  # no service edits a topic's text
            return
        data = form.cleaned_data
        saved = services.add_topic(campaign=data["campaign"], title=data["title"],
                                   summary=data.get("summary", ""),
                                   presenter=data.get("presenter", ""), actor=request.user)
        obj.pk, obj.order = saved.pk, saved.order
        obj._state.adding = False


class RuleAdminForm(forms.ModelForm):
    class Meta:
        model = EligibilityRule
        fields = ["campaign", "name", "position_types", "unit_levels", "full_time",
                  "min_members", "max_members", "subtree"]

    def clean(self):
        data = super().clean()
        low, high = data.get("min_members"), data.get("max_members")
        if low is not None and high is not None and high < low:
            raise forms.ValidationError(
                _("The maximum number of members is below the minimum."))
        campaign = data.get("campaign") or getattr(self.instance, "campaign", None)
        subtree = data.get("subtree")
        if campaign and subtree and not subtree.path.startswith(campaign.owner_unit.path):
            self.add_error("subtree", _("The subtree must lie inside the organising unit's."))
        return data


@admin.register(EligibilityRule)
class EligibilityRuleAdmin(CampaignChildAdmin):
    form = RuleAdminForm
    list_display = ["name", "campaign", "order", "full_time", "min_members", "max_members"]
    search_fields = ["name"]
    list_select_related = ["campaign"]
    raw_id_fields = ["subtree"]
    filter_horizontal = ["position_types", "unit_levels"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.save_rule(
            campaign=obj.campaign if change else data["campaign"], actor=request.user,
            name=data["name"], position_types=list(data["position_types"]),
            unit_levels=list(data["unit_levels"]), full_time=data.get("full_time"),
            min_members=data.get("min_members"), max_members=data.get("max_members"),
            subtree=data.get("subtree"), rule=obj if change else None,
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """The service has set the positions and levels already."""


@admin.register(Participant)
class ParticipantAdmin(CampaignChildAdmin):
    """Read only: the roster changes on the campaign pages (apply, add, remove, substitute)."""

    view_action = "view_people"
    list_display = ["person", "campaign", "unit", "source", "active", "managing_unit"]
    list_filter = ["active", "source"]
    search_fields = ["person__search_name"]
    list_select_related = ["person", "campaign", "unit", "managing_unit"]
    raw_id_fields = ["person", "unit", "managing_unit", "substitute_for"]
    fields = ["campaign", "person", "unit", "managing_unit", "rules", "source", "active",
              "reason", "pinned", "substitute_for", "changed_by", "created_at", "updated_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return qs
        paths = scope_paths(request.user, "view_people") or []
        return qs.filter(tree.any_subtree_q(paths, "unit__path"),
                         campaign__in=Campaign.objects.visible_to(request.user))

    def get_search_results(self, request, queryset, search_term):
        for term in search_terms(search_term):
            queryset = queryset.filter(person__search_name__contains=term)
        return queryset, False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RoutingAdminForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ["campaign", "level", "target", "ancestor_level"]

    def clean(self):
        data = super().clean()
        level = data.get("level") or getattr(self.instance, "level", None)
        ancestor = data.get("ancestor_level")
        if data.get("target") == RoutingRule.Target.ANCESTOR and level and (
            ancestor is None or ancestor.rank >= level.rank
        ):
            self.add_error("ancestor_level",
                           _("Choose an ancestor level above the level of the unit."))
        return data


@admin.register(RoutingRule)
class RoutingRuleAdmin(CampaignChildAdmin):
    form = RoutingAdminForm
    list_display = ["campaign", "level", "target", "ancestor_level"]
    list_select_related = ["campaign", "level", "ancestor_level"]

    def get_readonly_fields(self, request, obj=None):
        ro = super().get_readonly_fields(request, obj)
        return [*ro, "level"] if obj is not None else ro

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.set_routing(
            campaign=obj.campaign if change else data["campaign"],
            level=obj.level if change else data["level"], target=data["target"],
            ancestor_level=data.get("ancestor_level"), actor=request.user,
        )
        obj.pk = saved.pk
        obj._state.adding = False
