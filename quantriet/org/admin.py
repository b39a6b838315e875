"""Django admin for the org models, scoped like every other page.

Staff accounts that are not superusers see and edit only rows inside the subtrees
where they hold a grant; any other object is a 404. Writes go through the services.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from quantriet.org import services
from quantriet.org.managers import can, has_any_grant, scope_paths
from quantriet.org.models import (
    Grant,
    Person,
    Position,
    PositionType,
    Unit,
    UnitEvent,
    UnitLevel,
)
from quantriet.org.validators import clean_national_id


class ScopedAdmin(admin.ModelAdmin):
    """Queryset through ``visible_to``; out-of-scope objects are 404; rights from grants."""

    view_action = "view"

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user, self.view_action)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such object in your scope."))
        return obj

    def has_module_permission(self, request):
        return request.user.is_superuser or has_any_grant(request.user)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or bool(scope_paths(request.user, self.view_action))

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(scope_paths(request.user, "change"))
        return can(request.user, "change", self.unit_of(obj))

    def has_add_permission(self, request):
        return request.user.is_superuser or bool(scope_paths(request.user, "change"))

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def unit_of(self, obj):
        return obj.unit

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Unit:
            kwargs["queryset"] = Unit.objects.visible_to(request.user, "change")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)



@admin.register(UnitLevel)
class UnitLevelAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "rank", "accepts_members", "valid_from", "valid_to"]
    ordering = ["rank", "order"]


@admin.register(PositionType)
class PositionTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "executive_committee", "inspection_committee", "order"]


class ChildInline(admin.TabularInline):
    model = Unit
    fk_name = "parent"
    fields = ["code", "name", "level", "valid_to"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    max_num = 0


class UnitAdminForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["code", "name", "level", "parent", "province_code", "province_name",
                  "member_count", "valid_from", "valid_to"]

    def clean(self):
        data = super().clean()
        level = data.get("level")
        parent = data.get("parent", self.instance.parent if self.instance.pk else None)
        if level and parent and parent.level.rank >= level.rank:
            raise ValidationError(
                _("A unit of level “%(level)s” cannot sit under “%(parent)s”."),
                params={"level": level.name, "parent": parent.name},
            )
        return data


class PersonAdminForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = ["family_name", "middle_name", "given_name", "gender", "birth_date",
                  "national_id", "union_card", "member_code", "email", "phone", "unit", "user"]

    def clean_national_id(self):
        return clean_national_id(self.cleaned_data.get("national_id"))

    def clean_unit(self):
        unit = self.cleaned_data["unit"]
        if not unit.level.accepts_members:
            raise ValidationError(
                _("Members belong to a grassroots union or below; “%(unit)s” is a %(level)s."),
                params={"unit": unit.name, "level": unit.level.name},
            )
        return unit


@admin.register(Unit)
class UnitAdmin(ScopedAdmin):
    form = UnitAdminForm
    list_display = ["name", "code", "level", "province_name", "direct_members", "valid_to"]
    list_filter = ["level", "province_name"]
    search_fields = ["search_name", "code"]
    list_select_related = ["level"]
    raw_id_fields = ["parent", "successor"]
    readonly_fields = ["path", "depth", "direct_members", "successor"]
    fields = ["code", "name", "level", "parent", "province_code", "province_name",
              "member_count", "valid_from", "valid_to", "successor", "direct_members", "path"]

    def unit_of(self, obj):
        return obj

    def get_readonly_fields(self, request, obj=None):
        ro = list(self.readonly_fields)
        if obj is not None:
            # Place in the tree and closing go through move / merge / dissolve.
            ro += ["code", "parent", "valid_to"]
        return ro

    def get_search_results(self, request, queryset, search_term):
        if not search_term:
            return queryset, False
        return queryset.search(search_term), False

    def save_model(self, request, obj, form, change):
        if change:
            fields = {f: form.cleaned_data[f] for f in form.changed_data
                      if f in {"name", "level", "province_code", "province_name",
                               "member_count", "valid_from"}}
            saved = services.update_unit(unit=obj, actor=request.user, **fields)
        else:
            parent = form.cleaned_data.get("parent")
            if parent is not None and not can(request.user, "change", parent):
                raise Http404
            saved = services.create_unit(
                code=obj.code, name=obj.name, level=obj.level, parent=parent,
                province_code=obj.province_code, province_name=obj.province_name,
                member_count=obj.member_count, valid_from=obj.valid_from, actor=request.user,
            )
        obj.pk, obj.path = saved.pk, saved.path


@admin.register(Person)
class PersonAdmin(ScopedAdmin):
    form = PersonAdminForm
    view_action = "view_people"
    list_display = ["full_name", "member_code", "birth_date", "unit"]
    search_fields = ["search_name", "member_code", "national_id"]
    list_select_related = ["unit"]
    raw_id_fields = ["unit", "user"]
    readonly_fields = ["full_name"]
    fields = ["family_name", "middle_name", "given_name", "full_name", "gender", "birth_date",
              "national_id", "union_card", "member_code", "email", "phone", "unit", "user"]

    def get_search_results(self, request, queryset, search_term):
        if not search_term:
            return queryset, False
        return queryset.search(search_term), False

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data.get(f) for f in
                ["family_name", "middle_name", "given_name", "gender", "birth_date",
                 "national_id", "union_card", "member_code", "email", "phone"]}
        unit = form.cleaned_data["unit"]
        if not can(request.user, "change", unit):
            raise Http404
        if change:
            old = Person.objects.get(pk=obj.pk)
            services.update_person(person=old, actor=request.user, **data)
            if old.unit_id != unit.pk:
                services.move_person(person=old, unit=unit, actor=request.user)
            saved = old
        else:
            saved = services.create_person(unit=unit, actor=request.user, **data)
        obj.pk = saved.pk


@admin.register(Position)
class PositionAdmin(ScopedAdmin):
    view_action = "view_people"
    list_display = ["person", "type", "unit", "full_time", "start_date", "end_date"]
    list_filter = ["type", "full_time"]
    raw_id_fields = ["person", "unit", "managing_unit"]
    list_select_related = ["person", "type", "unit"]


@admin.register(Grant)
class GrantAdmin(ScopedAdmin):
    view_action = "change"
    list_display = ["user", "role", "unit", "granted_by", "created_at"]
    list_filter = ["role"]
    raw_id_fields = ["unit"]
    readonly_fields = ["granted_by"]
    list_select_related = ["user", "unit"]

    def save_model(self, request, obj, form, change):
        if not can(request.user, "change", obj.unit):
            raise Http404
        saved = services.grant_role(user=obj.user, unit=obj.unit, role=obj.role, actor=request.user)
        obj.pk = saved.pk


@admin.register(UnitEvent)
class UnitEventAdmin(ScopedAdmin):
    list_display = ["date", "kind", "unit", "other_unit", "actor"]
    list_filter = ["kind"]
    list_select_related = ["unit", "other_unit", "actor"]

    def get_queryset(self, request):
        from quantriet.org import tree

        qs = admin.ModelAdmin.get_queryset(self, request)
        paths = scope_paths(request.user, "view")
        return qs if paths is None else qs.filter(tree.any_subtree_q(paths, "unit__path"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
