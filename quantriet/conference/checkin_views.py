"""Check-in at a bridge point, built for a coordinator's phone.

Three ways to find the participant: scan the QR code of the invitation (the signed token
of ``services.invitation_token``), search the campaign's roster by name ignoring accents,
or type the participant number. The page's script (``conference/checkin.js``) posts scans
and numbers to ``scan``; when the phone is offline it keeps them in a queue, each with a
unique client reference, and posts the queue to ``sync`` when the connection returns.
``services.check_in`` is idempotent and honours the client reference, so a replayed
queue counts every person once.

Who may open these pages: the point's coordinators and the campaign's organisers; anyone
else gets 404. A participant number or a token of another campaign is refused, and the
answers name only participants of this campaign.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from quantriet.campaigns.models import Campaign, Participant
from quantriet.conference import quick, services
from quantriet.conference.models import Attendance, BridgePoint
from quantriet.org.managers import can
from quantriet.org.models import Person
from quantriet.text import search_terms

SEARCH_LIMIT = 20  # rows shown by the name search
MAX_SYNC_ITEMS = 500  # items accepted in one sync request (the script sends 100 at a time)
MAX_TOKEN_LENGTH = 600  # an invitation token is about 70 characters
OFFLINE_MAX_AGE = dt.timedelta(hours=24)  # older offline times are replaced by now


# ---------------------------------------------------------------- access


# the point's coordinators and the campaign's organisers (a yes is kept on the point
# instance, so the check-ins of the request do not ask again)
may_check_in = services.may_check_in


def _point(request, slug: str, code: str,
           related: tuple[str, ...] = ("campaign__owner_unit", "host_unit")) -> BridgePoint:
    """The point if the user may check people in there (404 otherwise)."""
    try:  # (campaign, code) is unique
        point = BridgePoint.objects.select_related(*related).get(campaign__slug=slug, code=code)
    except BridgePoint.DoesNotExist:
        raise Http404 from None
    if not may_check_in(request.user, point):
        raise Http404
    return point


def _json_view(view):
    """For the script's endpoints: answers are always JSON, also when the session has
    ended (401) or the point is not the user's (404), so that the script can tell an
    answer from a network failure and keep offline check-ins until they are answered."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"outcome": "error", "message": _(
                "Your session has ended: log in again. Check-ins not sent yet are kept "
                "on this device.")}, status=401)
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return JsonResponse({"outcome": "error", "message": _(
                "You cannot check people in at this bridge point.")}, status=404)

    return wrapper


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# ---------------------------------------------------------------- shared pieces


def counts(point: BridgePoint) -> dict[str, int]:
    """Fresh counters of the point (the services change them with F() expressions)."""
    row = BridgePoint.objects.filter(pk=point.pk).values(
        "expected", "present", "excused", "substitutes", "locked").get()
    row["waiting"] = max(row["expected"] - row["present"] - row["excused"], 0)
    row["locked"] = int(row["locked"])
    return row


def _token(item: dict[str, Any]) -> str:
    token = str(item.get("token") or "")
    return token[:MAX_TOKEN_LENGTH]  # a longer one is refused by read_token as altered


def _number(item: dict[str, Any]) -> str:
    return str(item.get("participant_id") or "").strip().lstrip("#").strip()


def _participant(campaign: Campaign, item: dict[str, Any],
                 known: dict[int, Participant] | None = None) -> Participant:
    """The participant named by a token or a participant number, in this campaign only.
    ``known``: this campaign's participants already read (see ``_known``)."""
    if item.get("token"):
        return services.read_token(_token(item), campaign, known)
    raw = _number(item)
    if not raw:
        raise ValidationError(_("Scan a code or type the participant number."))
    found = None
    if raw.isdigit() and len(raw) <= 18:
        found = known.get(int(raw)) if known else None
        if found is None:
            found = (campaign.participants.select_related("person", "unit")
                     .filter(pk=int(raw)).first())
    if found is None:
        raise ValidationError(_("There is no participant number %(number)s in this campaign.")
                              % {"number": raw[:20]})
    return found


def _offline_time(value: Any) -> dt.datetime | None:
    """When an offline check-in was made (milliseconds since the epoch, sent by the
    phone); None (meaning now) when absent, in the future or implausibly old."""
    try:
        when = dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    now = timezone.now()
    if when > now or when < now - OFFLINE_MAX_AGE:
        return None
    return when


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true", "on", "yes")


def _known(campaign: Campaign, items: list[Any]) -> dict[int, Participant]:
    """The participants of this campaign that a list of items names, read in one query (the
    items are then checked one by one exactly as alone; a name not found here is looked up
    again)."""
    pks = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("token"):
            pk = services.token_participant_pk(_token(item), campaign.pk)
            if pk is not None:
                pks.add(pk)
        else:
            raw = _number(item)
            if raw.isdigit() and len(raw) <= 18:
                pks.add(int(raw))
    if not pks:
        return {}
    return campaign.participants.select_related("person", "unit").in_bulk(pks)


def process(actor: Any, point: BridgePoint, item: dict[str, Any],
            offline: bool = False, known: dict[int, Participant] | None = None
            ) -> dict[str, Any]:
    """Check in one scan, number or search row; the answer the page shows."""
    ref = str(item.get("client_ref") or "")[:64]
    answer: dict[str, Any] = {"client_ref": ref}
    try:
        participant = _participant(point.campaign, item, known)
        answer.update(participant=participant.pk, name=participant.person.full_name)
        result = services.check_in(
            point=point, participant=participant, actor=actor, client_ref=ref,
            accept_other_point=_flag(item.get("accept_other_point")),
            at=_offline_time(item.get("at")) if offline else None)
    except ValidationError as exc:
        answer.update(outcome="error", message=" ".join(exc.messages))
        return answer
    answer.update(outcome=result.outcome, message=result.message)
    if result.attendance.checked_in_at and result.outcome != "other_point":
        answer["time"] = timezone.localtime(result.attendance.checked_in_at).strftime("%H:%M")
    return answer


def js_strings() -> dict[str, str]:
    """The script's texts, translated here (placeholders are %(name)s)."""
    return {
        "waiting": _("%(n)s waiting to sync"),
        "offline": _("Offline: check-ins are kept on this device and sent when the "
                     "connection returns."),
        "queued": _("No connection: the check-in of %(what)s is kept on this device and "
                    "will be sent later."),
        "confirm": _("Yes, check in here"),
        "reading": _("Reading the code…"),
        "no_code": _("No QR code found in the photo. Take it again, closer and sharper."),
        "camera_error": _("The camera could not be opened (%(error)s). Take a photo "
                          "instead."),
        "scanning": _("Point the camera at the QR code of the invitation."),
        "synced": _("Sent %(n)s check-ins kept on this device:"),
        "sync_failed": _("The check-ins kept on this device could not be sent yet: "
                         "%(error)s"),
        "number": _("number %(number)s"),
        "code": _("a scanned code"),
        "present": _("present"),
    }


# ---------------------------------------------------------------- pages


@login_required
@require_http_methods(["GET", "POST"])
def checkin_page(request, slug, code):
    """The page (GET), its live counts (GET ?part=counts), and absence with leave or a
    substitute from a search row (POST, answered with a fragment for htmx)."""
    point = _point(request, slug, code)
    if request.method == "POST":
        return _absence(request, point)
    context = {"campaign": point.campaign, "point": point, "counts": counts(point)}
    if request.GET.get("part") == "counts":
        return render(request, "conference/checkin_counts.html", context)
    context.update(
        organiser=can(request.user, "change", point.campaign.owner_unit),
        strings=js_strings(),
        scan_key=_scan_key(request, point),
    )
    return render(request, "conference/checkin.html", context)


def _scan_key(request, point: BridgePoint) -> str:
    """The phone's key for the one-statement check-in, for the point's coordinators (an
    organiser who is not one takes the full path)."""
    if not quick.supported() or not request.session.session_key:
        return ""
    if not point.coordinators.filter(pk=request.user.pk).exists():
        return ""
    return quick.scan_key(user_id=request.user.pk, point=point,
                          session_key=request.session.session_key)


def _absence(request, point: BridgePoint):
    action = request.POST.get("action")
    reason = request.POST.get("reason", "").strip()[:300]
    outcome = "error"
    try:
        participant = _participant(point.campaign,
                                   {"participant_id": request.POST.get("participant_id")})
        if action == "excuse":
            att = Attendance.objects.filter(participant=participant).first()
            if att is None:
                raise ValidationError(_("%(person)s is not assigned to a bridge point yet.")
                                      % {"person": participant.person.full_name})
            services.excuse(attendance=att, reason=reason, actor=request.user)
            outcome = "excused"
            message = (_("%(person)s is recorded absent with leave.")
                       % {"person": participant.person.full_name})
        elif action == "substitute":
            member_code = request.POST.get("member_code", "").strip()[:40]
            # only people of the organising unit's subtree: a code of anyone else is
            # answered as unknown, without their name
            people = Person.objects.in_subtree(point.campaign.owner_unit.path)
            person = None
            if member_code:
                person = (people.filter(member_code=member_code).first()
                          or people.filter(member_code__iexact=member_code).order_by("pk")
                          .first())
            if person is None:
                raise ValidationError(
                    _("No member with the code “%(code)s” in the organising unit.")
                    % {"code": member_code})
            result = services.check_in_substitute(point=point, participant=participant,
                                                  person=person, reason=reason,
                                                  actor=request.user)
            outcome, message = "substitute", result.message
        else:
            raise ValidationError(_("Unknown action."))
    except ValidationError as exc:
        message = " ".join(exc.messages)
    if not _is_htmx(request):
        (messages.error if outcome == "error" else messages.success)(request, message)
        return redirect("conference:checkin", point.campaign.slug, point.code)
    response = render(request, "conference/checkin_answer.html", {
        "campaign": point.campaign, "point": point, "counts": counts(point),
        "outcome": outcome, "message": message})
    if outcome != "error":
        response["HX-Trigger"] = "qt-refresh-search"
    return response


@login_required
@require_GET
def search(request, slug, code):
    """Participants of the whole campaign whose name contains every word typed, accents
    ignored ("le van a" finds "Lê Văn A"); a number finds that participant."""
    point = _point(request, slug, code)
    q = request.GET.get("q", "")[:100]
    terms = search_terms(q)
    rows: list[dict[str, Any]] = []
    more = searched = False
    if terms and (sum(len(t) for t in terms) >= 2 or q.strip().isdigit()):
        searched = True
        qs = point.campaign.participants.filter(active=True)
        if q.strip().isdigit() and len(q.strip()) <= 18:
            qs = qs.filter(pk=int(q.strip()))
        else:
            for term in terms:
                qs = qs.filter(person__search_name__contains=term)
        found = list(qs.select_related("person", "unit", "attendance__point",
                                       "attendance__checked_in_point",
                                       "attendance__substitute")
                     .order_by("person__sort_key", "pk")[:SEARCH_LIMIT + 1])
        more = len(found) > SEARCH_LIMIT
        for p in found[:SEARCH_LIMIT]:
            try:
                att = p.attendance
            except Attendance.DoesNotExist:
                att = None
            rows.append({"participant": p, "attendance": att,
                         "here": att is not None and att.point_id == point.pk,
                         "present": att is not None
                         and att.status == Attendance.Status.PRESENT})
    return render(request, "conference/checkin_results.html", {
        "campaign": point.campaign, "point": point, "q": q, "rows": rows, "more": more,
        "limit": SEARCH_LIMIT, "searched": searched})


# ---------------------------------------------------------------- the script's endpoints

# what scan and sync read with the point: they never show the host unit, and the organising
# unit is only read (for the rights) when the user is not one of the point's coordinators
JSON_RELATED = ("campaign",)


@require_POST
def scan(request, slug, code):
    """One check-in: ``token`` (the decoded QR code) or ``participant_id``, with
    ``accept_other_point`` after the coordinator confirmed and the ``client_ref`` the
    script gave it. A coordinator's phone sends the page's scan key, and the common case
    is answered by one statement (:mod:`quantriet.conference.quick`); everything else by
    the full path below."""
    answer = quick.check_in(request, slug, code)
    if answer is not None:
        return JsonResponse(answer)
    return _scan(request, slug, code)


@_json_view
def _scan(request, slug, code):
    point = _point(request, slug, code, related=JSON_RELATED)
    answer = process(request.user, point, request.POST)
    answer["counts"] = counts(point)
    return JsonResponse(answer)


@require_POST
@_json_view
def sync(request, slug, code):
    """The queue of check-ins made offline: a JSON list (or ``{"items": [...]}``) of
    ``{client_ref, token | participant_id, accept_other_point, at}``; answers one result
    per item, in order, each with its client_ref. The script drops an item from its queue
    only when its result came back."""
    point = _point(request, slug, code, related=JSON_RELATED)
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        payload = None
    items = payload.get("items") if isinstance(payload, dict) else payload
    if not isinstance(items, list) or len(items) > MAX_SYNC_ITEMS:
        return JsonResponse({"outcome": "error", "message": _(
            "The list of check-ins to send was not understood.")}, status=400)
    results = []
    known = _known(point.campaign, items)
    for item in items:
        if not isinstance(item, dict) or not str(item.get("client_ref") or "").strip():
            ref = str(item.get("client_ref") or "")[:64] if isinstance(item, dict) else ""
            results.append({"client_ref": ref, "outcome": "error",
                            "message": _("An item without a reference was ignored.")})
            continue
        results.append(process(request.user, point, item, offline=True, known=known))
    return JsonResponse({"results": results, "counts": counts(point)})

