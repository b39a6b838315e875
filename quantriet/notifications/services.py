"""State changes of notifications: enqueue the notices of an event (once per recipient and
channel, whatever happens), send queued e-mails in batches, mark in-app notices read,
save preferences; and the events of reports and deadlines.

The guarantee. A notice is *enqueued* exactly once: the row's unique ``dedup_key``
(channel, event, recipient) makes a second enqueue of the same event a no-op
(``INSERT … ON CONFLICT DO NOTHING``). A queued e-mail is *sent* at least once and, after a
worker dies, at most twice: the sender claims a batch (a lease, ``claimed_until``, taken
with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL), sends each message and commits
``sent`` for it right after the SMTP server accepted it; it stops and gives back the rest
of its batch when 80 % of the lease has passed, so that no other sender takes a message it
is still going to send. A message already marked is never
sent again; only the one message whose sending finished while its mark had not committed
-- at most one per dead worker -- is sent again when its lease has run out. Its
``Message-ID`` is the same both times, so a mail client that files by Message-ID shows one.
"""

from __future__ import annotations

import datetime as dt
import email.message
import email.policy
import json
import logging
import smtplib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, connection, models, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from quantriet.campaigns.models import Campaign, Participant
from quantriet.notifications.content import paragraphs, subject
from quantriet.notifications.models import (
    MANDATORY,
    BadAddress,
    Channel,
    Kind,
    Notification,
    NotifySettings,
    Preference,
)
from quantriet.org import tree

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
"""An e-mail that could not be handed to the server this many times is marked failed."""
CHUNK = 1000


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# ---------------------------------------------------------------- recipients


@dataclass(frozen=True)
class Recipient:
    """Whom a notice goes to: a person (with or without an account) or an account."""

    user_id: int | None
    person_id: int | None
    email: str = ""

    @property
    def key(self) -> str:
        return f"p{self.person_id}" if self.person_id else f"u{self.user_id}"


def recipient_of_user(user: Any) -> Recipient:
    person = getattr(user, "person", None)
    email = (getattr(person, "email", "") or user.email or "").strip()
    return Recipient(user.pk, person.pk if person else None, email)


def recipient_of_person(person: Any) -> Recipient:
    user = person.user if person.user_id else None
    email = (person.email or (user.email if user else "") or "").strip()
    return Recipient(person.user_id, person.pk, email)


def key_of_user(user: Any) -> str:
    person = getattr(user, "person", None)
    return f"p{person.pk}" if person else f"u{user.pk}"


# ---------------------------------------------------------------- enqueue


def _preferences(keys: Iterable[str]) -> dict[str, Preference]:
    keys = list(keys)
    found: dict[str, Preference] = {}
    for i in range(0, len(keys), CHUNK):
        found.update((p.recipient_key, p) for p in
                     Preference.objects.filter(recipient_key__in=keys[i:i + CHUNK]))
    return found


def enqueue(*, kind: str, event: str, recipients: Sequence[Recipient],
            context: dict[str, Any], campaign: Campaign | None = None,
            target: models.Model | None = None, url: str = "",
            channels: Sequence[str] = (Channel.EMAIL, Channel.IN_APP),
            schedule: bool = True) -> int:
    """Write the notices of one event (``event`` names it, e.g. ``review:42``) for the
    recipients: an in-app notice for those with an account, an e-mail for those with an
    address. Optional kinds skip the recipients who opted out of them. Idempotent: an event
    enqueued again for the same recipient adds nothing. Returns the number of rows offered
    (existing ones included); the sender task is queued when the transaction commits."""
    if kind not in Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    mandatory = kind in MANDATORY
    now = timezone.now()
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    prefs = _preferences(r.key for r in recipients)
    rows = []
    for r in recipients:
        pref = prefs.get(r.key)
        if pref is not None and not mandatory and kind in (pref.opted_out or []):
            continue
        common = {"kind": kind, "mandatory": mandatory, "user_id": r.user_id,
                  "person_id": r.person_id, "campaign": campaign, "target_type": target_type,
                  "target_id": target.pk if target is not None else None,
                  "context": context, "url": url,
                  "language": (pref.language if pref and pref.language
                               else settings.LANGUAGE_CODE)}
        if Channel.IN_APP in channels and r.user_id:
            rows.append(Notification(channel=Channel.IN_APP, status=Notification.Status.SENT,
                                     sent_at=now,
                                     dedup_key=f"inapp:{kind}:{event}:{r.key}"[:200],
                                     **common))
        if Channel.EMAIL in channels and r.email:
            rows.append(Notification(channel=Channel.EMAIL, address=r.email,
                                     dedup_key=f"email:{kind}:{event}:{r.key}"[:200],
                                     **common))
    Notification.objects.bulk_create(rows, batch_size=CHUNK, ignore_conflicts=True)
    if schedule and any(n.channel == Channel.EMAIL for n in rows):
        transaction.on_commit(schedule_sending)
    return len(rows)


def schedule_sending(senders: int = 1) -> None:
    """Queue the sender task (``senders`` of them to spread a big batch over workers)."""
    from quantriet.notifications.tasks import send_queued

    for _i in range(senders):
        send_queued.enqueue()


# ---------------------------------------------------------------- sending


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    bounced: int = 0
    failed: int = 0
    released: int = 0
    errors: list[str] = field(default_factory=list)


def claim(*, size: int, now: dt.datetime | None = None) -> list[int]:
    """Take up to ``size`` queued e-mails nobody holds (or whose holder's lease ran out)
    for this sender, in one short transaction."""
    now = now or timezone.now()
    lease = dt.timedelta(seconds=_setting("NOTIFY_LEASE_SECONDS", 600))
    with transaction.atomic():
        qs = (Notification.objects.filter(channel=Channel.EMAIL,
                                          status=Notification.Status.QUEUED)
              .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
              .order_by("id"))
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("pk", flat=True)[:size])
        if ids:
            Notification.objects.filter(pk__in=ids).update(
                claimed_until=now + lease, attempts=F("attempts") + 1)
    return ids


_MARK_SQL = (f"UPDATE {Notification._meta.db_table} SET status = %s, sent_at = %s, "  # noqa: S608
             f"claimed_until = NULL, error = '' WHERE id = %s")


def _mark_sent(pk: int) -> None:
    """Commit ``sent`` for one message (its own transaction: autocommit). One prepared
    statement: it runs once per e-mail, right after the server accepted it."""
    with connection.cursor() as cur:
        cur.execute(_MARK_SQL, [Notification.Status.SENT, timezone.now(), pk])


class _FastCommits:
    """On PostgreSQL, the sender's commits do not wait for the disk
    (``synchronous_commit = off``) while it sends a batch: a mark is committed -- visible
    to every other sender, kept if the worker dies -- as soon as the UPDATE returns; only
    a crash of the database server itself could lose the last fraction of a second of
    marks (and so send those messages again). Restored afterwards (connections are
    reused)."""

    def __enter__(self) -> None:
        self.on = connection.vendor == "postgresql" and not connection.in_atomic_block
        if self.on:
            with connection.cursor() as cur:
                cur.execute("SET synchronous_commit TO off")

    def __exit__(self, *exc: object) -> None:
        if self.on:
            try:
                with connection.cursor() as cur:
                    cur.execute("RESET synchronous_commit")
            except DatabaseError:  # the connection broke: it is not reused
                connection.close()


def _mark_bad(note: Notification, status: str, reason: str) -> None:
    reason = reason[:500]
    Notification.objects.filter(pk=note.pk).update(status=status, claimed_until=None,
                                                   error=reason)
    address = note.address.strip().lower()[:254]
    if not address:
        return
    updated = BadAddress.objects.filter(address=address).update(
        reason=reason, count=F("count") + 1, last_seen=timezone.now())
    if not updated:
        BadAddress.objects.bulk_create(
            [BadAddress(address=address, reason=reason, person_id=note.person_id)],
            ignore_conflicts=True)


def _release(ids: list[int], reason: str) -> None:
    """Give claimed messages back to the queue (the server could not be reached); those
    tried too often are marked failed."""
    if not ids:
        return
    Notification.objects.filter(pk__in=ids, attempts__gte=MAX_ATTEMPTS).update(
        status=Notification.Status.FAILED, claimed_until=None, error=reason[:500])
    Notification.objects.filter(pk__in=ids, status=Notification.Status.QUEUED).update(
        claimed_until=None, error=reason[:500])


class _Message(mail.EmailMultiAlternatives):
    """Headers are not folded below the 998-character line limit: Python's folding of a
    long non-ASCII subject into several encoded words drops the space at the fold
    ("bài thu hoạch" arrived as "bài thuhoạch")."""

    def message(self, *, policy: Any = email.policy.default) -> Any:
        return super().message(policy=policy.clone(max_line_length=998))


def message_for(note: Notification) -> mail.EmailMultiAlternatives:
    """The e-mail of a notice, in the recipient's language: plain text and HTML."""
    qr_cid = (f"qr-{note.pk}@{_domain()}"
              if note.kind == Kind.INVITATION and note.context.get("token") else "")
    with translation.override(note.language or settings.LANGUAGE_CODE):
        ctx = {"note": note, "qr_cid": qr_cid, "subject": subject(note.kind, note.context),
               "paragraphs": paragraphs(note.kind, note.context),
               "link": _absolute(note.url) if note.url else "",
               "optional": not note.mandatory,
               "settings_link": _absolute("/notifications/settings/")}
        text = render_to_string("notifications/email/message.txt", ctx)
        html = render_to_string("notifications/email/message.html", ctx)
        headers = {"Message-ID": f"<notification-{note.pk}@{_domain()}>"}
        bounce = _setting("NOTIFY_BOUNCE_ADDRESS", "")
        if bounce:  # the envelope sender, where delivery reports go (see bounces.py)
            headers["From"] = settings.DEFAULT_FROM_EMAIL
        msg = _Message(
            subject=str(ctx["subject"]), body=text,
            from_email=bounce or settings.DEFAULT_FROM_EMAIL, to=[note.address],
            headers=headers)
        msg.attach_alternative(html, "text/html")
        if qr_cid:
            msg.attach(_qr_part(note.context["token"], qr_cid))
    return msg


def _qr_part(token: str, cid: str) -> email.message.MIMEPart:
    """The invitation's QR code as an inline PNG (the HTML shows it by its Content-ID)."""
    from quantriet.notifications import qr

    part = email.message.MIMEPart()
    part.set_content(qr.png(token), maintype="image", subtype="png", disposition="inline",
                     filename="qr.png", cid=f"<{cid}>")
    return part


def _absolute(url: str) -> str:
    return url if url.startswith("http") else _setting("SITE_URL", "").rstrip("/") + url


def _domain() -> str:
    address = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)
    return address[1].strip(" >") if len(address) == 2 else "localhost"


def send_batch(*, size: int | None = None, now: dt.datetime | None = None,
               mailer: str = "default") -> BatchResult:
    """Claim a batch of queued e-mails and send them over one SMTP connection, at most
    ``NOTIFY_RATE`` per second (0: no limit). Must not run inside a transaction: each
    message is marked sent in its own commit, right after the server accepted it."""
    size = size or _setting("NOTIFY_BATCH_SIZE", 100)
    rate = float(_setting("NOTIFY_RATE", 0))
    result = BatchResult()
    claimed_at = time.monotonic()
    ids = claim(size=size, now=now)
    result.claimed = len(ids)
    if not ids:
        return result
    notes = list(Notification.objects.filter(pk__in=ids).order_by("pk"))
    bad = set(BadAddress.objects.filter(
        address__in={n.address.strip().lower() for n in notes}).values_list("address",
                                                                            flat=True))
    conn = mail.mailers[mailer]
    try:
        conn.open()
    except (OSError, smtplib.SMTPException) as exc:
        _release(ids, f"SMTP: {exc}")
        result.released, result.errors = len(ids), [str(exc)]
        return result
    started = time.monotonic()
    # stop well before the lease runs out: after that another sender may take the rest
    stop_at = claimed_at + 0.8 * _setting("NOTIFY_LEASE_SECONDS", 600)
    try:
        with _FastCommits():
            _send_all(notes, conn, bad, result, rate, started, stop_at)
    finally:
        conn.close()
    result.failed = Notification.objects.filter(
        pk__in=ids, status=Notification.Status.FAILED).count()
    return result


class _Renderer:
    """The bytes of each e-mail of a batch. Most of a batch is one notice to many people
    -- the same kind, language, context and link -- and Python's e-mail package spends
    most of a message's cost folding and encoding its Vietnamese headers, so such a
    message is built once (exactly as the SMTP backend would send it) and each further
    recipient gets a copy whose ``To`` and ``Message-ID`` lines are replaced. Invitations
    (each with its own QR code), non-ASCII addresses and other backends (console, tests)
    are built one by one."""

    def __init__(self, conn: Any) -> None:
        self.smtp = getattr(conn, "connection", None)
        self.conn = conn
        self.shapes: dict[tuple[Any, ...], tuple[bytes, bytes]] = {}
        self.sender = ""

    @property
    def raw(self) -> bool:
        return hasattr(self.smtp, "sendmail")

    def send(self, note: Notification, address: str) -> None:
        """Send ``note`` to ``address`` over the open connection (raises what the backend
        raises; ValueError for an address it cannot write)."""
        if not self.raw:
            self.conn.send_messages([message_for(note)])
            return
        self.sender = self.sender or self.conn.prep_address(
            _setting("NOTIFY_BOUNCE_ADDRESS", "") or settings.DEFAULT_FROM_EMAIL)
        recipient = self.conn.prep_address(address)
        self.smtp.sendmail(self.sender, [recipient], self.message(note, address))

    def message(self, note: Notification, address: str) -> bytes:
        key = None if note.kind == Kind.INVITATION or not address.isascii() else (
            note.kind, note.language, note.mandatory, note.url,
            json.dumps(note.context, sort_keys=True, default=str))
        if key is not None and key in self.shapes:
            head, body = self.shapes[key]
            return _readdress(head, note, address) + body
        raw = message_for(note).message(policy=email.policy.SMTP).as_bytes()
        if key is not None:
            head, sep, body = raw.partition(b"\r\n\r\n")
            if sep and _readdress(head, note, address) == head:  # the lines are found
                self.shapes[key] = (head, sep + body)
        return raw


def _readdress(head: bytes, note: Notification, address: str) -> bytes:
    """A header block with the ``To`` and ``Message-ID`` lines of ``note``."""
    lines = head.split(b"\r\n")
    for i, line in enumerate(lines):
        if line.startswith(b"To: "):
            lines[i] = b"To: " + address.encode("ascii")
        elif line.startswith(b"Message-ID: "):
            lines[i] = f"Message-ID: <notification-{note.pk}@{_domain()}>".encode("ascii")
    return b"\r\n".join(lines)


def _send_all(notes: list[Notification], conn: Any, bad: set[str], result: BatchResult,
              rate: float, started: float, stop_at: float) -> None:
    """The loop of ``send_batch``: send, and mark each message at once."""
    renderer = _Renderer(conn)
    for i, note in enumerate(notes):
        if rate > 0:
            wait = i / rate - (time.monotonic() - started)
            if wait > 0:
                time.sleep(min(wait, max(stop_at - time.monotonic(), 0)))
        if time.monotonic() >= stop_at:
            rest = [n.pk for n in notes[i:]]
            Notification.objects.filter(pk__in=rest,
                                        status=Notification.Status.QUEUED).update(
                claimed_until=None, attempts=F("attempts") - 1)
            result.released += len(rest)
            break
        address = note.address.strip()
        if address.lower() in bad:
            _mark_bad(note, Notification.Status.BOUNCED,
                      _("The address was refused before; not tried again."))
            result.bounced += 1
            continue
        try:
            validate_email(address)
        except ValidationError:
            _mark_bad(note, Notification.Status.BOUNCED, _("Not a valid e-mail address."))
            result.bounced += 1
            continue
        try:
            renderer.send(note, address)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = "; ".join(f"{code} {text!r}" for code, text in
                              exc.recipients.values())
            _mark_bad(note, Notification.Status.BOUNCED, f"SMTP: {codes}")
            bad.add(address.lower())
            result.bounced += 1
            continue
        except ValueError as exc:  # the backend could not write the address
            _mark_bad(note, Notification.Status.BOUNCED, str(exc))
            result.bounced += 1
            continue
        except (OSError, smtplib.SMTPException) as exc:
            # the server went away: give back this message and the rest of the batch
            rest = [n.pk for n in notes[i:]]
            _release(rest, f"SMTP: {exc}")
            result.released += len(rest)
            result.errors.append(str(exc))
            break
        _mark_sent(note.pk)
        result.sent += 1


def drain(*, seconds: float | None = None, mailer: str = "default") -> BatchResult:
    """Send batches until the queue is empty or ``seconds`` have passed (the task then
    queues itself again). Returns the totals."""
    budget = seconds if seconds is not None else _setting("NOTIFY_TASK_SECONDS", 60)
    total = BatchResult()
    end = time.monotonic() + budget
    while True:
        r = send_batch(mailer=mailer)
        for name in ("claimed", "sent", "bounced", "failed", "released"):
            setattr(total, name, getattr(total, name) + getattr(r, name))
        total.errors += r.errors
        if not r.claimed or r.errors:
            return total
        if time.monotonic() >= end:
            schedule_sending()
            return total


# ---------------------------------------------------------------- in-app centre


def mark_read(*, user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's in-app notices read (``ids``: some of them; None: all)."""
    qs = Notification.objects.visible_to(user).unread()
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


@transaction.atomic
def save_preferences(*, user: Any, language: str, opted_out: Iterable[str]) -> Preference:
    """The account holder's language for e-mails and the optional kinds they refuse."""
    kinds = sorted({k for k in opted_out if k in Kind.values and k not in MANDATORY})
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Unknown language."))
    pref, _created = Preference.objects.update_or_create(
        recipient_key=key_of_user(user), defaults={"language": language, "opted_out": kinds})
    return pref


# ---------------------------------------------------------------- events


def _report_context(report: Any) -> dict[str, Any]:
    return {"campaign": report.campaign.title}


def report_reviewed(review: Any) -> int:
    """The author hears that their report was graded or returned (mandatory)."""
    from django.urls import reverse

    report = review.report
    person = report.participant.person
    kind = Kind.REPORT_GRADED if review.outcome == "graded" else Kind.REPORT_RETURNED
    ctx = _report_context(report)
    if review.grade_id:
        ctx["grade"] = review.grade.label
    if review.comments:
        ctx["comments"] = review.comments
    return enqueue(kind=kind, event=f"review:{review.pk}",
                   recipients=[recipient_of_person(person)], context=ctx,
                   campaign=report.campaign, target=report,
                   url=reverse("reports:mine", args=[report.campaign.slug]))


def reviewer_assigned(report: Any) -> int:
    """The reviewer hears that a report waits for them (optional)."""
    from django.urls import reverse

    if not report.reviewer_id:
        return 0
    return enqueue(kind=Kind.REVIEWER_ASSIGNED,
                   event=f"report:{report.pk}:v{report.version_count}:r{report.reviewer_id}",
                   recipients=[recipient_of_user(report.reviewer)],
                   context=_report_context(report), campaign=report.campaign, target=report,
                   url=reverse("reports:report", args=[report.campaign.slug, report.pk]))


def non_submitters(campaign: Campaign) -> models.QuerySet[Participant]:
    """Active participants who owe a report and have submitted none: no report, or one
    still a draft (a returned report was submitted once; its author is told separately).
    With ``attendance_required``, only those present or excused."""
    from quantriet.reports.models import Report
    from quantriet.reports.services import policy_for

    policy = policy_for(campaign)
    qs = (Participant.objects.filter(campaign=campaign, active=True)
          .exclude(report__status__in=[Report.Status.SUBMITTED, Report.Status.RETURNED,
                                       Report.Status.GRADED]))
    if policy.attendance_required:
        from quantriet.conference.models import Attendance

        qs = qs.filter(attendance__status__in=[Attendance.Status.PRESENT,
                                               Attendance.Status.EXCUSED])
    return qs


def _deadline_of(campaign: Campaign) -> dt.date:
    from quantriet.reports.services import policy_for

    deadline = policy_for(campaign).closes_on or campaign.report_deadline
    if deadline is None:
        raise ValidationError(_("The campaign has no report deadline."))
    return deadline


def deadline_approaching(*, campaign: Campaign, days: int, today: dt.date | None = None,
                         senders: int = 2) -> int:
    """Remind every participant who must submit and has not that the deadline is ``days``
    away (optional kind). The event is (campaign, deadline, days): running it again the
    same day, or after a crash, sends nobody a second reminder; a moved deadline is a new
    event. Returns the number of notices offered."""
    deadline = _deadline_of(campaign)
    left = (deadline - (today or timezone.localdate())).days
    if left < 0:
        raise ValidationError(_("The deadline has passed."))
    ctx = {"campaign": campaign.title, "deadline": deadline.strftime("%d/%m/%Y"),
           "days": left}
    return _to_owing(non_submitters(campaign), campaign, Kind.DEADLINE_SOON,
                     f"campaign:{campaign.pk}:{deadline.isoformat()}:d{days}", ctx, senders)


def deadline_passed(*, campaign: Campaign, today: dt.date | None = None,
                    senders: int = 2) -> int:
    """Tell every participant who had to submit and has not that the deadline has passed,
    and whether a late report is still accepted (mandatory: it is about their own report).
    Once per deadline; a moved deadline is a new event."""
    from quantriet.reports.models import ReportPolicy
    from quantriet.reports.services import policy_for

    deadline = _deadline_of(campaign)
    today = today or timezone.localdate()
    if today <= deadline:
        raise ValidationError(_("The deadline has not passed yet."))
    ctx = {"campaign": campaign.title, "deadline": deadline.strftime("%d/%m/%Y"),
           "late_accepted": policy_for(campaign).late == ReportPolicy.Late.ACCEPT}
    owing = non_submitters(campaign).exclude(report__extended_until__gte=today)
    return _to_owing(owing, campaign, Kind.DEADLINE_PASSED,
                     f"campaign:{campaign.pk}:{deadline.isoformat()}:passed", ctx, senders)


def _to_owing(people: models.QuerySet[Participant], campaign: Campaign, kind: str,
              event: str, ctx: dict[str, Any], senders: int) -> int:
    """Enqueue one event for the participants, a thousand at a time (each chunk its own
    transaction: a crash leaves whole chunks, and running again completes the rest)."""
    from django.urls import reverse

    url = reverse("reports:mine", args=[campaign.slug])
    total = 0
    batch: list[Recipient] = []
    rows = people.select_related("person", "person__user").order_by("pk")
    for p in rows.iterator(chunk_size=CHUNK):
        batch.append(recipient_of_person(p.person))
        if len(batch) == CHUNK:
            total += _enqueue_chunk(batch, campaign, kind, event, ctx, url)
            batch = []
    total += _enqueue_chunk(batch, campaign, kind, event, ctx, url)
    if total:
        transaction.on_commit(lambda: schedule_sending(senders))
    return total


def _enqueue_chunk(batch: list[Recipient], campaign: Campaign, kind: str, event: str,
                   ctx: dict[str, Any], url: str) -> int:
    if not batch:
        return 0
    with transaction.atomic():
        return enqueue(kind=kind, event=event, recipients=batch, context=ctx,
                       campaign=campaign, target=campaign, url=url, schedule=False)


def owing_in(campaign: Campaign, unit: Any) -> models.QuerySet[Participant]:
    """The non-submitters of the campaign whose unit lies in ``unit``'s subtree."""
    from quantriet.org import tree

    return non_submitters(campaign).filter(tree.subtree_q(unit.path, "unit__path"))


def remind_non_submitters(*, campaign: Campaign, unit: Any, actor: Any,
                          today: dt.date | None = None) -> int:
    """A unit admin's one-off reminder to the non-submitters of their subtree (optional
    kind). At most one such reminder per person, campaign and day, whoever sends it:
    pressing the button again, or an admin above doing the same, adds nothing that day.
    Returns the number of notices offered."""
    from quantriet.core.audit import record
    from quantriet.org.managers import can
    from quantriet.reports.services import policy_for

    if not can(actor, "change", unit):
        raise ValidationError(_("Only the unit's administrators can do this."))
    if campaign.status not in (Campaign.Status.PUBLISHED, Campaign.Status.CONFERENCE,
                               Campaign.Status.REPORTING):
        raise ValidationError(_("This campaign is not collecting reports."))
    today = today or timezone.localdate()
    deadline = policy_for(campaign).closes_on or campaign.report_deadline
    ctx = {"campaign": campaign.title, "unit": unit.name,
           "deadline": deadline.strftime("%d/%m/%Y") if deadline else ""}
    total = _to_owing(owing_in(campaign, unit), campaign, Kind.REPORT_REMINDER,
                      f"campaign:{campaign.pk}:{today.isoformat()}", ctx, senders=2)
    record("notifications.remind", campaign, actor=actor, unit_path=unit.path,
           unit=unit.pk, notices=total)
    return total


def review_backlogs(*, campaign: Campaign, today: dt.date | None = None) -> int:
    """The daily digest of every reviewer holding reports that wait for review: how many,
    and since when (optional kind). Once per reviewer, campaign and day. Returns the number
    of reviewers told."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Min
    from django.urls import reverse

    from quantriet.reports.models import Report

    today = today or timezone.localdate()
    waiting = (Report.objects.filter(campaign=campaign, status=Report.Status.SUBMITTED,
                                     reviewer__isnull=False)
               .order_by().values("reviewer").annotate(n=Count("id"),
                                                       oldest=Min("submitted_at")))
    counts = {row["reviewer"]: row for row in waiting}
    users = get_user_model().objects.filter(pk__in=list(counts)).select_related("person")
    url = reverse("reports:queue", args=[campaign.slug])
    told = 0
    for reviewer in users:
        row = counts[reviewer.pk]
        ctx = {"campaign": campaign.title, "count": row["n"],
               "oldest": timezone.localtime(row["oldest"]).strftime("%d/%m/%Y")}
        with transaction.atomic():
            enqueue(kind=Kind.REVIEW_BACKLOG, event=f"campaign:{campaign.pk}:{today}",
                    recipients=[recipient_of_user(reviewer)], context=ctx,
                    campaign=campaign, target=campaign, url=url, schedule=False)
        told += 1
    if told:
        transaction.on_commit(lambda: schedule_sending(2))
    return told


# ---------------------------------------------------------------- unit heads

HEAD_ROLES = ("unit_admin", "organiser")
"""A unit's heads, for the digests and escalations about its child units: the accounts
holding one of these grants at the unit itself (those above have their own units)."""


def heads_of(unit_ids: Iterable[int]) -> dict[int, list[Any]]:
    """The heads of each unit (accounts with a head role granted at the unit itself)."""
    from quantriet.org.models import Grant

    out: dict[int, list[Any]] = {}
    grants = (Grant.objects.filter(unit_id__in=list(unit_ids), role__in=HEAD_ROLES,
                                   user__is_active=True)
              .select_related("user", "user__person").order_by("unit_id", "user_id"))
    for g in grants:
        users = out.setdefault(g.unit_id, [])
        if all(u.pk != g.user_id for u in users):
            users.append(g.user)
    return out


def _attendance_required(campaign: Campaign) -> bool:
    """What the progress dashboard counts as "must submit" (read as the dashboard does)."""
    from quantriet.reports.models import ReportPolicy

    policy = ReportPolicy.objects.filter(campaign=campaign).first()
    return bool(policy and policy.attendance_required)


def _unit_line(unit: Any, totals: Any) -> dict[str, Any]:
    return {"name": unit.name, "code": unit.code, "submitted": totals.submitted,
            "owing": totals.owing, "rate": round(totals.submitted_rate * 100, 1)}


def lagging_digests(*, campaign: Campaign, today: dt.date | None = None) -> int:
    """The daily digest of every unit head whose child units lag: the child units the
    progress dashboard of their unit highlights (``queries.lagging_children``), worst
    first, with their rates (optional kind). Once per head, unit, campaign and day.
    Returns the number of digests offered."""
    from django.urls import reverse

    from quantriet.org.models import Unit
    from quantriet.progress import queries

    today = today or timezone.localdate()
    required = _attendance_required(campaign)
    owner = campaign.owner_unit
    heads = heads_of(Unit.objects.filter(tree.subtree_q(owner.path))
                     .filter(grants__role__in=HEAD_ROLES).values_list("pk", flat=True))
    units = Unit.objects.filter(pk__in=list(heads)).order_by("path")
    told = 0
    for unit in units:
        lagging = queries.lagging_children(queries.rollup(campaign, unit, required))
        if not lagging:
            continue
        ctx = {"campaign": campaign.title, "unit": unit.name,
               "threshold": round(queries.LAGGING_BELOW * 100),
               "units": [_unit_line(line.unit, line.totals) for line in lagging]}
        with transaction.atomic():
            told += enqueue(kind=Kind.LAGGING_UNITS,
                            event=f"campaign:{campaign.pk}:{today}:unit{unit.pk}",
                            recipients=[recipient_of_user(u) for u in heads[unit.pk]],
                            context=ctx, campaign=campaign, target=unit,
                            url=reverse("progress:unit", args=[campaign.slug, unit.code]),
                            schedule=False)
    if told:
        transaction.on_commit(lambda: schedule_sending(2))
    return told


def escalations(*, campaign: Campaign, today: dt.date | None = None) -> int:
    """After the deadline, every unit of the campaign's tree still lagging (below
    ``queries.LAGGING_BELOW``, as the dashboard shows it) is reported to the heads of its
    parent unit -- or, when the parent has none, of the nearest unit above it inside the
    campaign's tree that has (mandatory kind: it is their duty). Once per unit, campaign
    and recipient. Returns the number of notices offered."""
    from django.urls import reverse

    from quantriet.org.models import Unit
    from quantriet.progress import queries
    from quantriet.progress.models import COUNTERS, UnitProgress

    deadline = _deadline_of(campaign)
    if (today or timezone.localdate()) <= deadline:
        raise ValidationError(_("The deadline has not passed yet."))
    required = _attendance_required(campaign)
    owner = campaign.owner_unit
    rows = (UnitProgress.objects.filter(campaign=campaign)
            .filter(tree.subtree_q(owner.path, "unit__path")).exclude(unit=owner)
            .select_related("unit").order_by("unit__path"))
    below = []
    for row in rows:
        totals = queries.Totals(attendance_required=required)
        totals.add({k: getattr(row, k) for k in COUNTERS})
        if totals.lagging:
            below.append((row.unit, totals))
    if not below:
        return 0
    above = {a for unit, _t in below for a in tree.ancestor_paths(unit.path)
             if a.startswith(owner.path)}
    by_path = {u.path: u for u in Unit.objects.filter(path__in=above)}
    heads = heads_of(u.pk for u in by_path.values())
    told = 0
    for unit, totals in below:
        parents = [by_path[p] for p in reversed(tree.ancestor_paths(unit.path))
                   if p in by_path and heads.get(by_path[p].pk)]
        if not parents:
            continue
        parent = parents[0]
        ctx = {"campaign": campaign.title, "parent": parent.name,
               "deadline": deadline.strftime("%d/%m/%Y"),
               "threshold": round(queries.LAGGING_BELOW * 100), **_unit_line(unit, totals)}
        with transaction.atomic():
            told += enqueue(kind=Kind.ESCALATION,
                            event=f"campaign:{campaign.pk}:unit{unit.pk}",
                            recipients=[recipient_of_user(u) for u in heads[parent.pk]],
                            context=ctx, campaign=campaign, target=unit,
                            url=reverse("progress:unit", args=[campaign.slug, unit.code]),
                            schedule=False)
    if told:
        transaction.on_commit(lambda: schedule_sending(2))
    return told


# ---------------------------------------------------------------- the conference


def _point_context(campaign: Campaign, point: Any) -> dict[str, Any]:
    starts = (timezone.localtime(point.starts_at).strftime("%H:%M %d/%m/%Y")
              if point.starts_at else
              campaign.conference_date.strftime("%d/%m/%Y") if campaign.conference_date
              else "")
    return {"campaign": campaign.title, "point": point.name, "address": point.address,
            "starts": starts, "stream": point.stream_url}


def _attendances(campaign: Campaign) -> Any:
    from quantriet.conference.models import Attendance

    return (Attendance.objects.filter(participant__campaign=campaign,
                                      participant__active=True)
            .select_related("participant__person__user", "point").order_by("point_id", "pk"))


def invitations(*, campaign: Campaign) -> int:
    """The invitation of every active participant of a published campaign: their bridge
    point (name, address, session, link of the stream) and the QR code of their invitation
    letter, which the check-in scanners read (the e-mail carries it as an image, and links
    to the letter). Mandatory: it is their duty to attend. Once per participant and
    point: a participant moved to another point is invited again, to the new one.
    Returns the number of notices offered."""
    from django.urls import reverse

    from quantriet.conference.services import invitation_token

    if campaign.status not in (Campaign.Status.PUBLISHED, Campaign.Status.CONFERENCE):
        raise ValidationError(_("The invitations go out once the campaign is published."))
    total = 0
    batch: list[tuple[Recipient, Any]] = []

    def flush() -> int:
        with transaction.atomic():
            return sum(enqueue(
                kind=Kind.INVITATION, event=f"campaign:{campaign.pk}:point{a.point_id}",
                recipients=[r],
                context={**_point_context(campaign, a.point), "point_id": a.point_id,
                         "number": a.participant_id,
                         "token": invitation_token(a.participant)},
                campaign=campaign, target=a.participant,
                url=reverse("conference:participant_invitation",
                            args=[campaign.slug, a.participant_id]),
                schedule=False) for r, a in batch)

    done = set(Notification.objects.filter(kind=Kind.INVITATION, campaign=campaign)
               .values_list("target_id", "context__point_id"))
    for a in _attendances(campaign).iterator(chunk_size=CHUNK):
        if (a.participant_id, a.point_id) in done:  # invited to this point already
            continue
        r = recipient_of_person(a.participant.person)
        if r.user_id or r.email:  # nobody can reach the others: no token to sign
            batch.append((r, a))
        if len(batch) == CHUNK:
            total += flush()
            batch = []
    total += flush()
    if total:
        transaction.on_commit(lambda: schedule_sending(2))
    return total


def conference_reminders(*, campaign: Campaign, hours: int, beyond: int = 0,
                         now: dt.datetime | None = None) -> int:
    """Remind the participants of every bridge point whose session starts within ``hours``
    (and has not started; with ``beyond``, not within that many hours either: a nearer
    reminder is due) of the time and place (optional kind). The event is (point, start,
    hours): running it again adds nothing; a session that moves is a new event.
    Returns the number of notices offered."""
    from django.urls import reverse

    from quantriet.conference.models import BridgePoint

    now = now or timezone.now()
    points = BridgePoint.objects.filter(campaign=campaign,
                                        starts_at__gt=now + dt.timedelta(hours=beyond),
                                        starts_at__lte=now + dt.timedelta(hours=hours))
    total = 0
    url = reverse("campaigns:detail", args=[campaign.slug])
    for point in points.order_by("starts_at", "pk"):
        people = [recipient_of_person(a.participant.person)
                  for a in _attendances(campaign).filter(point=point)]
        ctx = {**_point_context(campaign, point), "hours": hours}
        for i in range(0, len(people), CHUNK):
            with transaction.atomic():
                total += enqueue(kind=Kind.CONFERENCE_SOON,
                                 event=f"point:{point.pk}:{point.starts_at.isoformat()}:h{hours}",
                                 recipients=people[i:i + CHUNK], context=ctx,
                                 campaign=campaign, target=point, url=url, schedule=False)
    if total:
        transaction.on_commit(lambda: schedule_sending(2))
    return total


# ---------------------------------------------------------------- the schedule

COLLECTING = ("published", "conference", "reporting")
"""The statuses of the campaigns whose notices ``run_due`` sends."""


def settings_for(campaign: Campaign) -> NotifySettings:
    """The campaign's schedule, or the defaults (not saved) when it has none."""
    found = NotifySettings.objects.filter(campaign=campaign).first()
    return found or NotifySettings(campaign=campaign)


@transaction.atomic
def save_notify_settings(*, campaign: Campaign, actor: Any, **fields: Any) -> NotifySettings:
    """The organisers' schedule of the campaign's reminders (audited)."""
    from quantriet.core.audit import record
    from quantriet.org.managers import can

    if not can(actor, "change", campaign.owner_unit):
        raise ValidationError(_("Only the campaign's organisers can do this."))
    known = {f.name for f in NotifySettings._meta.concrete_fields} - {
        "id", "campaign", "updated_at"}
    unknown = set(fields) - known
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    current = settings_for(campaign)
    for name, value in fields.items():
        setattr(current, name, value)
    current.full_clean(exclude=["campaign"])
    current.save()
    record("notifications.schedule", campaign, actor=actor,
           unit_path=campaign.owner_unit.path, changed=sorted(fields))
    return current


def _nearest(offsets: list[int], left: int) -> int | None:
    """The reminder due when ``left`` days remain: the smallest offset not below it;
    None when none is due yet."""
    return next((o for o in offsets if o >= left), None)


def run_due(*, now: dt.datetime | None = None,
            campaigns: Iterable[Campaign] | None = None) -> dict[str, int]:
    """Send whatever is due for the campaigns collecting reports (or those given), by
    their schedules: the invitations, the conference reminder nearest to each session, the
    deadline reminder nearest to the deadline (7 and 1 days before: 7 when 2 to 7 days
    remain, 1 on the last day, so a day missed by the scheduler is caught up by the next
    run), the "deadline passed" notice and the escalations after it, and the daily
    digests from ``NOTIFY_DAILY_HOUR`` o'clock. Meant to run periodically (e.g. every 15
    minutes); each notice is kept once by its dedup key, so running it again, or after a
    crash, sends nobody anything twice. Returns the counts offered, by kind."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    today = local.date()
    daily = local.hour >= _setting("NOTIFY_DAILY_HOUR", 7)
    out: dict[str, int] = {}

    def add(kind: str, n: int) -> None:
        out[kind] = out.get(kind, 0) + n

    if campaigns is None:
        campaigns = (Campaign.objects.filter(status__in=COLLECTING)
                     .select_related("owner_unit").order_by("pk"))
    for campaign in campaigns:
        if campaign.status not in COLLECTING:
            continue
        plan = settings_for(campaign)
        if plan.invitations and campaign.status != Campaign.Status.REPORTING:
            add(Kind.INVITATION, invitations(campaign=campaign))
        hours = plan.hours
        for i, h in enumerate(hours):
            add(Kind.CONFERENCE_SOON, conference_reminders(
                campaign=campaign, hours=h, beyond=hours[i - 1] if i else 0, now=now))
        if not daily:
            continue
        try:
            deadline = _deadline_of(campaign)
        except ValidationError:
            deadline = None
        if deadline is not None:
            left = (deadline - today).days
            due = _nearest(plan.days, left) if left >= 0 else None
            if due is not None:
                add(Kind.DEADLINE_SOON, deadline_approaching(campaign=campaign, days=due,
                                                             today=today))
            if left < 0 and plan.deadline_passed:
                add(Kind.DEADLINE_PASSED, deadline_passed(campaign=campaign, today=today))
            if left < 0 and plan.escalation:
                add(Kind.ESCALATION, escalations(campaign=campaign, today=today))
        if plan.digests:
            add(Kind.REVIEW_BACKLOG, review_backlogs(campaign=campaign, today=today))
            add(Kind.LAGGING_UNITS, lagging_digests(campaign=campaign, today=today))
            from quantriet.plans.notices import overdue_digests

            add(Kind.PLAN_OVERDUE, overdue_digests(campaign=campaign, today=today))
    return out
