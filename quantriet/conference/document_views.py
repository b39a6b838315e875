"""Downloads of the conference documents (see :mod:`quantriet.conference.documents`).

Who may download a point's documents (roster XLSX and PDF, its invitations as one PDF or
as a ZIP): the campaign's organisers and whoever has "view" on the organising unit (the
rule of the organisers' pages), and the point's coordinators, for their point. One
participant's invitation: the same people (a coordinator for the participants of their
point) and the participant themself, once the campaign is published. Anyone else, and a
participant removed from the roster, gets 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from quantriet.campaigns.models import Campaign, Participant
from quantriet.conference import documents
from quantriet.conference.models import BridgePoint
from quantriet.org.managers import can

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


def may_download_point(user: Any, point: BridgePoint) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return (can(user, "view", point.campaign.owner_unit)
            or point.coordinators.filter(pk=user.pk).exists())


def may_download_invitation(user: Any, participant: Participant) -> bool:
    """Whether ``user`` may download ``participant``'s invitation letter."""
    if not getattr(user, "is_authenticated", False) or not participant.active:
        return False
    if can(user, "view", participant.campaign.owner_unit):
        return True
    # the participant themself, as "My campaigns" finds them (published campaigns only)
    if participant.person.user_id == user.pk and Participant.objects.filter(
            pk=participant.pk, person__user=user, active=True,
            campaign__in=Campaign.objects.visible_to(user)).exists():
        return True
    return BridgePoint.objects.filter(attendances__participant=participant,
                                      coordinators=user).exists()


def _point(request, slug: str, code: str) -> BridgePoint:
    point = (BridgePoint.objects.select_related("campaign__owner_unit", "host_unit")
             .filter(campaign__slug=slug, code=code).first())
    if point is None or not may_download_point(request.user, point):
        raise Http404
    return point


def _file(data: bytes, content_type: str, filename: str, attachment: bool) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(attachment, filename) or ""
    return response


@login_required
@require_GET
def roster_xlsx(request, slug, code):
    point = _point(request, slug, code)
    return _file(documents.roster_xlsx(point), XLSX,
                 f"{documents.roster_basename(point)}.xlsx", attachment=True)


@login_required
@require_GET
def roster_pdf(request, slug, code):
    point = _point(request, slug, code)
    return _file(documents.roster_pdf(point), PDF, f"{documents.roster_basename(point)}.pdf",
                 attachment=False)


@login_required
@require_GET
def invitations_pdf(request, slug, code):
    point = _point(request, slug, code)
    data = documents.invitation_pdf(documents.point_participants(point))
    return _file(data, PDF, f"giay-moi-{documents.file_slug(point.code)}.pdf",
                 attachment=False)


@login_required
@require_GET
def invitations_zip(request, slug, code):
    """Streamed: the first bytes leave at once, one invitation is in memory at a time."""
    point = _point(request, slug, code)
    response = StreamingHttpResponse(documents.iter_point_zip(point),
                                     content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        True, f"diem-cau-{documents.file_slug(point.code)}.zip") or ""
    return response


@login_required
@require_GET
def participant_invitation(request, slug, pk):
    participant = get_object_or_404(
        Participant.objects.select_related("person", "unit", "campaign__owner_unit",
                                           "attendance__point"),
        campaign__slug=slug, pk=pk)
    if not may_download_invitation(request.user, participant):
        raise Http404
    return _file(documents.invitation_pdf([participant]), PDF,
                 documents.invitation_filename(participant), attachment=False)
