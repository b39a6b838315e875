from django.contrib import admin

from quantriet.plans.models import Plan, PlanSettings


@admin.register(PlanSettings)
class PlanSettingsAdmin(admin.ModelAdmin):
    list_display = ("campaign", "required", "highest_level", "lowest_level", "due_on")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("unit", "campaign", "status", "required", "version_count")
    list_filter = ("status", "required")
    readonly_fields = [f.name for f in Plan._meta.fields]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
