"""``{% invitation_url participant as url %}``: the address of the participant's invitation
letter when the current user may download it, otherwise ""."""

from django import template
from django.urls import reverse

from quantriet.conference.document_views import may_download_invitation

register = template.Library()


@register.simple_tag(takes_context=True)
def invitation_url(context, participant):
    request = context.get("request")
    if request is None or not may_download_invitation(request.user, participant):
        return ""
    return reverse("conference:participant_invitation",
                   args=[participant.campaign.slug, participant.pk])
