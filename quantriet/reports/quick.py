"""The submission hot path: a participant's first typed submission in one statement.

Near a deadline hundreds of thousands of participants submit within hours. The full path
(``views.submit`` → ``services.submit``) reads the session, the account, the
participation with its campaign, policy and report, then opens a transaction for the
reviewer pool, the report, the version and the progress counters. This module answers the
common case -- the participant's first submission of a typed text, inside the submission
window, to a managing unit that has reviewers -- with one statement, and leaves every
other case (a file, a resubmission after return, a retried request, an extension, an
escalation, a refusal of any kind) to the full path, which gives the answers it always
gave. Who is asking is proven by a session-bound key (``core/fastpath.py``) that the
writing page puts in its form; the statement re-checks the account, the roster, the
campaign's status, the report settings and the session against the database.

What the statement does is what ``services._store`` does for this case: the report (a draft
until now, or new) becomes submitted with the text as its draft, routed to the managing
unit and assigned to its reviewer holding the fewest reports as ``services._pick`` counts
them (lowest account id among equals); version 1 is stored with its SHA-256 and the
client's reference; the progress counters of the participant's unit move
(``counters.SUBMIT_SQL``); the copy check of the version is queued -- with the database
task backend by the statement itself (``fastpath.queue_clause``; Django's
``task_enqueued`` signal is not sent for it), otherwise by ``enqueue()`` after it. A
report that already has a version, is not a draft or has an extension is left alone by its
``ON CONFLICT … WHERE``, and the full path answers.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.utils import timezone

from quantriet.core import fastpath
from quantriet.progress import counters
from quantriet.reports import extract
from quantriet.reports.services import MAX_TEXT_CHARS, OPEN_STATUSES, tidy_text

KEY_SALT = "quantriet.reports.submit-key"
KEY_MAX_AGE = 60 * 60 * 24 * 3  # a writing page left open for a few days still submits

supported = fastpath.supported


def submit_key(*, user_id: int, participant: Any, slug: str, session_key: str) -> str:
    """The key the writing page puts in its form for this participant."""
    return fastpath.sign(KEY_SALT, [user_id, participant.pk, participant.campaign_id], [slug],
                         session_key)


def read_submit_key(key: str, *, slug: str, session_key: str) -> tuple[int, int, int] | None:
    """(account, participant, campaign) of a valid key for this campaign's address, sent
    with its own session cookie; None for anything else."""
    ids = fastpath.read(KEY_SALT, key, ids=3, names=[slug], session_key=session_key,
                        max_age=KEY_MAX_AGE)
    return (ids[0], ids[1], ids[2]) if ids else None


_OPEN = ", ".join(f"'{status}'" for status in OPEN_STATUSES)

# ``who``: the participant, if everything the full path checks holds (the dates compare
# the local day, as services.window does: a deadline is the end of its day). ``pool``: the
# managing unit's reviewer holding the fewest of the campaign's reports (waiting ones when
# the assignment is balanced; two counts, so that each can use the index by reviewer and
# status). ``saved``: the report, inserted, or updated from a draft
# that was never submitted. ``version``: version 1.
_STORE = """
WITH who AS (
    SELECT p.id AS participant_id, p.campaign_id,
           coalesce(p.managing_unit_id, p.unit_id) AS managing_id, pol.assignment,
           (pol.closes_on IS NOT NULL AND pol.closes_on < %(today)s) AS late
      FROM campaigns_participant p
      JOIN org_person pe ON pe.id = p.person_id
      JOIN auth_user u ON u.id = pe.user_id
      JOIN campaigns_campaign c ON c.id = p.campaign_id
      JOIN reports_reportpolicy pol ON pol.campaign_id = p.campaign_id
     WHERE p.id = %(participant)s AND p.campaign_id = %(campaign)s AND p.active
       AND u.id = %(user)s AND u.is_active
       AND c.status IN ({open})
       AND (pol.opens_on IS NULL OR pol.opens_on <= %(today)s)
       AND (pol.closes_on IS NULL OR pol.closes_on >= %(today)s OR pol.late <> 'refuse')
       AND pol.min_words <= %(words)s
       AND {session_alive}
),
pool AS (
    SELECT g.user_id
      FROM who
      JOIN org_grant g ON g.unit_id = who.managing_id AND g.role = 'reviewer'
      JOIN auth_user a ON a.id = g.user_id AND a.is_active
     ORDER BY CASE WHEN who.assignment = 'balanced'
                   THEN (SELECT count(*) FROM reports_report r
                          WHERE r.reviewer_id = g.user_id AND r.status = 'submitted'
                            AND r.campaign_id = who.campaign_id)
                   ELSE (SELECT count(*) FROM reports_report r
                          WHERE r.reviewer_id = g.user_id
                            AND r.campaign_id = who.campaign_id) END, g.user_id
     LIMIT 1
),
saved AS (
    INSERT INTO reports_report AS old (
           campaign_id, participant_id, status, draft, draft_saved_at, managing_unit_id,
           review_unit_id, escalated, reviewer_id, assigned_at, version_count,
           first_submitted_at, submitted_at, late, updated_at)
    SELECT who.campaign_id, who.participant_id, 'submitted', %(text)s, %(now)s,
           who.managing_id, who.managing_id, false, pool.user_id, %(now)s, 1, %(now)s,
           %(now)s, who.late, %(now)s
      FROM who JOIN pool ON true
        ON CONFLICT (participant_id) DO UPDATE
       SET status = 'submitted', draft = excluded.draft,
           draft_saved_at = excluded.draft_saved_at,
           managing_unit_id = excluded.managing_unit_id,
           review_unit_id = excluded.review_unit_id, escalated = false,
           reviewer_id = excluded.reviewer_id, assigned_at = excluded.assigned_at,
           version_count = 1, first_submitted_at = excluded.first_submitted_at,
           submitted_at = excluded.submitted_at, late = excluded.late,
           updated_at = excluded.updated_at
     WHERE old.status = 'draft' AND old.version_count = 0 AND old.extended_until IS NULL
 RETURNING old.id, old.participant_id, old.late, old.managing_unit_id
),
version AS (
    INSERT INTO reports_version (report_id, number, kind, text, words, file, filename, size,
                                 sha256, client_ref, submitted_at, late)
    SELECT saved.id, 1, 'text', %(text)s, %(words)s, '', '', 0, %(sha256)s, %(ref)s,
           %(now)s, saved.late
      FROM saved
 RETURNING id
),""".replace("{open}", _OPEN).replace("{session_alive}", fastpath.SESSION_ALIVE_SQL)
_ANSWER = """
SELECT v.id, s.late, u.name
  FROM version v JOIN saved s ON true JOIN org_unit u ON u.id = s.managing_unit_id
"""
# (the progress clause is a constant of counters.py; every value is a parameter)
SUBMIT_SQL = _STORE + counters.SUBMIT_SQL + _ANSWER
# the same, with the copy check queued by the statement (database task backend)
_QUEUE = fastpath.queue_clause("queued", "version", "version.id")
SUBMIT_AND_QUEUE_SQL = _STORE + counters.SUBMIT_SQL + "," + _QUEUE + _ANSWER


def submit(request: Any, slug: str) -> dict[str, Any] | None:
    """The answer to a typed submission posted to the campaign ``slug`` with a valid
    submit key, when it is the common case: ``{"version": id, "number": 1, "late": …,
    "unit": name}``; None when the full path must answer (nothing was written)."""
    key = request.POST.get("submit_key")
    if not key or not supported() or request.FILES:
        return None
    session_key = fastpath.session_cookie(request)
    who = read_submit_key(key, slug=slug, session_key=session_key)
    if who is None:
        return None
    text = tidy_text(request.POST.get("text", ""))
    words = extract.count_words(text)
    if not words or len(text) > MAX_TEXT_CHARS:
        return None
    user_id, participant_id, campaign_id = who
    now = timezone.now()
    params = {"participant": participant_id, "campaign": campaign_id, "user": user_id,
              "session": session_key, "today": timezone.localdate(now), "now": now,
              "text": text, "words": words,
              "sha256": hashlib.sha256(text.encode()).hexdigest(),
              "ref": str(request.POST.get("client_ref") or "")[:64]}
    from quantriet.similarity.tasks import check_version  # as services._check_for_copies

    queue = fastpath.queue_params(check_version)
    with fastpath.prepared_cursor() as cursor:
        cursor.execute(SUBMIT_SQL if queue is None else SUBMIT_AND_QUEUE_SQL,
                       params | (queue or {}))
        row = cursor.fetchone()
    if row is None:
        return None
    version_id, late, unit = row
    if queue is None:
        check_version.enqueue(version_id)
    return {"version": version_id, "number": 1, "late": late, "unit": unit}
