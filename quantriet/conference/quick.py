"""The check-in hot path: one database statement per scan.

On conference day a single scan must cost little, because thousands of phones scan at
once. The full path (``checkin_views.scan`` → ``services.check_in``) reads the session,
the account, the point, the coordinator's right and the participant, then opens a
transaction for the attendance and the point's counters: eleven statements. This module
answers the common cases -- a coordinator of the point scans someone expected at that
point, who is checked in, or who was already checked in -- with one statement, and
leaves every other case (another point, a locked point, someone no longer on the
roster, an organiser who is not a coordinator, a participant not assigned yet) to the
full path, which gives the same answers it always gave.

Who is asking is proven by a *scan key* rather than by the session (see
``core/fastpath.py``): the check-in page hands the coordinator's phone a key that names
the account, the point and the campaign, bound to the browser's session cookie, valid for
``KEY_MAX_AGE``. The statement itself re-checks, against the database, that the account is
active and still a coordinator of the point and that the session is alive, so removing a
coordinator, deactivating an account or logging out takes effect at once; an expired or
foreign key simply sends the scan down the full path, which reads the session.

The statement exists for PostgreSQL (a data-modifying ``WITH``); on SQLite, the demo
database, every scan takes the full path.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from quantriet.conference import services
from quantriet.core import fastpath
from quantriet.progress import counters

KEY_SALT = "quantriet.conference.scan-key"
KEY_MAX_AGE = 60 * 60 * 12  # a conference day; the page hands out a fresh key on each load


def scan_key(*, user_id: int, point: Any, session_key: str) -> str:
    """The key the check-in page gives the phone of a coordinator of this point."""
    return fastpath.sign(KEY_SALT, [user_id, point.pk, point.campaign_id],
                         [point.campaign.slug, point.code], session_key)


def read_scan_key(key: str, *, slug: str, code: str,
                  session_key: str) -> tuple[int, int, int] | None:
    """(account, point, campaign) of a valid key for the point at this address, sent with
    its own session cookie; None for anything else."""
    ids = fastpath.read(KEY_SALT, key, ids=3, names=[slug, code], session_key=session_key,
                        max_age=KEY_MAX_AGE)
    return (ids[0], ids[1], ids[2]) if ids else None


supported = fastpath.supported


# The attendance must be at this point, the participant still on the roster, the point
# not locked, the account an active coordinator of the point, and the session the key is
# bound to still alive. The row is locked before it is read, so a concurrent scan of the
# same person waits and then finds them present ("already checked in at …", answered here too). A check-in moves the point's
# counters and the progress counters of the participant's unit in the same statement;
# the point's counters come back for the phone.
_MARK = """
WITH target AS (
    SELECT a.id, a.participant_id, a.status AS old_status, a.checked_in_at, pe.full_name
      FROM conference_attendance a
      JOIN campaigns_participant p ON p.id = a.participant_id
      JOIN org_person pe ON pe.id = p.person_id
      JOIN conference_bridgepoint bp ON bp.id = a.point_id
     WHERE a.participant_id = %(participant)s
       AND a.point_id = %(point)s
       AND bp.campaign_id = %(campaign)s
       AND p.active
       AND NOT bp.locked
       AND EXISTS (SELECT 1 FROM conference_bridgepoint_coordinators c
                     JOIN auth_user u ON u.id = c.user_id
                    WHERE c.bridgepoint_id = %(point)s AND c.user_id = %(user)s
                      AND u.is_active)
       AND {session_alive}
       FOR UPDATE OF a
),
done AS (
    UPDATE conference_attendance att
       SET status = 'present', checked_in_at = %(now)s, checked_in_point_id = %(point)s,
           checked_in_by_id = %(user)s, client_ref = %(ref)s
      FROM target
     WHERE att.id = target.id AND target.old_status <> 'present'
 RETURNING target.participant_id, target.old_status
),""".replace("{session_alive}", fastpath.SESSION_ALIVE_SQL)
_COUNT = """,
moved AS (
    UPDATE conference_bridgepoint bp
       SET present = bp.present + 1,
           excused = bp.excused - (SELECT count(*) FROM done WHERE old_status = 'excused')
     WHERE bp.id = %(point)s AND EXISTS (SELECT 1 FROM done)
 RETURNING bp.expected, bp.present, bp.excused, bp.substitutes, bp.locked
)
SELECT t.full_name, t.old_status, t.checked_in_at, m.present IS NOT NULL,
       coalesce(m.expected, bp.expected), coalesce(m.present, bp.present),
       coalesce(m.excused, bp.excused), coalesce(m.substitutes, bp.substitutes),
       coalesce(m.locked, bp.locked)
  FROM target t
  JOIN conference_bridgepoint bp ON bp.id = %(point)s
  LEFT JOIN moved m ON true
"""
# (the progress clause is a constant of counters.py; every value is a parameter)
CHECK_IN_SQL = _MARK + counters.CHECK_IN_SQL + _COUNT


def participant_pk(item: Any, campaign_id: int) -> int | None:
    """The participant number a scan names (by signed token or typed number), if it can
    be read without the database; None otherwise."""
    token = item.get("token")
    if token:
        return services.token_participant_pk(str(token)[:600], campaign_id)
    raw = str(item.get("participant_id") or "").strip().lstrip("#").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


def check_in(request: Any, slug: str, code: str) -> dict[str, Any] | None:
    """The answer to a scan posted to the point ``slug``/``code`` with a valid scan key,
    when it is the common case; None when the full path must answer."""
    key = request.headers.get("X-Scan-Key")
    if (not key or not supported()
            or str(request.POST.get("accept_other_point")).lower() in ("1", "true", "on", "yes")):
        return None
    session_key = fastpath.session_cookie(request)
    who = read_scan_key(key, slug=slug, code=code, session_key=session_key)
    if who is None:
        return None
    user_id, point_id, campaign_id = who
    participant = participant_pk(request.POST, campaign_id)
    if participant is None:
        return None
    ref = str(request.POST.get("client_ref") or "")[:64]
    now = timezone.now()
    with fastpath.prepared_cursor() as cursor:
        cursor.execute(CHECK_IN_SQL, {"participant": participant, "point": point_id,
                                      "campaign": campaign_id, "user": user_id,
                                      "session": session_key, "now": now, "ref": ref})
        row = cursor.fetchone()
    if row is None:
        return None
    name, old_status, checked_in_at, moved, expected, present, excused, substitutes, locked = row
    if moved:
        outcome, message, at = "checked_in", _("%(person)s checked in.") % {"person": name}, now
    else:  # the statement checks in whoever is not present yet
        at = checked_in_at
        outcome, message = "already", (_("%(person)s was already checked in at %(time)s.")
                                       % {"person": name,
                                          "time": timezone.localtime(at).strftime("%H:%M")})
    return {
        "client_ref": ref, "participant": participant, "name": name,
        "outcome": outcome, "message": message,
        "time": timezone.localtime(at).strftime("%H:%M"),
        "counts": {"expected": expected, "present": present, "excused": excused,
                   "substitutes": substitutes, "locked": int(locked),
                   "waiting": max(expected - present - excused, 0)},
    }
