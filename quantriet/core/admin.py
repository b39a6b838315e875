from django.contrib import admin

from quantriet.core.models import AuditEvent
from quantriet.org import tree
from quantriet.org.managers import scope_paths


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only audit log; inspectors and admins see the events of their subtree."""

    list_display = ["at", "actor", "action", "target_repr"]
    list_filter = ["action"]
    search_fields = ["target_repr", "action"]
    date_hierarchy = "at"

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("actor")
        paths = scope_paths(request.user, "view_people")
        return qs if paths is None else qs.filter(tree.any_subtree_q(paths, "unit_path"))

    def has_module_permission(self, request):
        return request.user.is_superuser or bool(scope_paths(request.user, "view_people"))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
