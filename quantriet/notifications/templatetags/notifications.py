"""``{% unread_notifications %}``: the number of unread in-app notices of the user (the
navigation shows it next to the link to the notification centre)."""

from django import template

from quantriet.notifications.models import Notification

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.visible_to(user).unread().count()
