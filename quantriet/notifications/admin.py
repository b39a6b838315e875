from django.contrib import admin

from quantriet.notifications.models import BadAddress, Notification, Preference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "channel", "address", "user", "status", "sent_at"]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["address", "dedup_key"]
    raw_id_fields = ["user", "person", "campaign"]
    readonly_fields = ["dedup_key", "context", "attempts", "claimed_until", "error",
                       "created_at", "sent_at", "read_at"]


@admin.register(BadAddress)
class BadAddressAdmin(admin.ModelAdmin):
    list_display = ["address", "reason", "count", "last_seen"]
    search_fields = ["address"]
    raw_id_fields = ["person"]


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["recipient_key", "language", "updated_at"]
    search_fields = ["recipient_key"]
