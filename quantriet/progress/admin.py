"""Read-only views of the progress rows and results reports, for superusers (unit heads
read progress on its own pages, scoped by their grants)."""

from django.contrib import admin

from quantriet.progress.models import COUNTERS, ResultsReport, UnitProgress


class _SuperuserReadOnly(admin.ModelAdmin):
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UnitProgress)
class UnitProgressAdmin(_SuperuserReadOnly):
    list_display = ("campaign", "unit", *COUNTERS[:9])
    list_filter = ("campaign",)
    list_select_related = ("campaign", "unit")
    search_fields = ("unit__code", "unit__name")


@admin.register(ResultsReport)
class ResultsReportAdmin(_SuperuserReadOnly):
    list_display = ("campaign", "unit", "format", "status", "progress", "created_at",
                    "finished_at")
    list_filter = ("status", "format")
    list_select_related = ("campaign", "unit")
