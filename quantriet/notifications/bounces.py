"""Bounces that arrive later: delivery status notifications (DSNs, RFC 3464).

Most refusals do not happen while the sender talks to the SMTP server: the server accepts
the e-mail, tries to deliver it, and later mails a *delivery status notification* back to
the envelope sender (``NOTIFY_BOUNCE_ADDRESS``, or the sender address). Such a report is a
``multipart/report`` whose ``message/delivery-status`` part has one block per recipient
(``Action: failed``, ``Status: 5.1.1``, ``Final-Recipient: rfc822; …``) and which usually
quotes the returned e-mail's headers -- with our ``Message-ID``
``<notification-N@…>``, which names the notice.

:func:`read_report` takes the permanent failures (``Action: failed`` with a 5.x.x status)
out of a message; temporary ones (``delayed``, 4.x.x) and anything that is not such a
report are ignored. :func:`record` marks the notice *bounced* and records the address as
the SMTP-time refusals are recorded, so the unit's administrators see it on their list of
invalid addresses and no further e-mail is tried to it. Reading the same report twice
changes nothing more (a report that names no notice of ours records its address once). The command ``notify-bounces`` feeds it from a Maildir, an mbox, a
file or standard input (for a mail server that pipes the bounce mailbox to a command).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from quantriet.notifications.models import BadAddress, Channel, Notification

NOTICE_ID = re.compile(r"<notification-(\d+)@([^>\s]+)>")


@dataclass
class Failure:
    """One permanent failure of a report."""

    address: str
    status: str
    diagnostic: str
    notice_id: int | None


def _recipient(block: Message) -> str:
    value = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
    return value.split(";", 1)[-1].strip().strip("<>").lower()


def _quoted_notice(report: Message, domain: str) -> int | None:
    """The notice named by the Message-ID of the returned e-mail quoted in the report
    (only ours, and only if it names exactly one)."""
    found: set[int] = set()
    for part in report.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            for msg in inner if isinstance(inner, list) else [inner]:
                text = str(msg.get("Message-ID", "")) if isinstance(msg, Message) else ""
                found.update(int(n) for n, d in NOTICE_ID.findall(text) if d == domain)
        elif ctype == "text/rfc822-headers":
            payload = part.get_payload(decode=True) or b""
            text = payload.decode("utf-8", "replace")
            for line in text.splitlines():
                if line.lower().startswith("message-id:"):
                    found.update(int(n) for n, d in NOTICE_ID.findall(line) if d == domain)
    return found.pop() if len(found) == 1 else None


def read_report(msg: Message, domain: str) -> list[Failure]:
    """The permanent failures reported by ``msg``; [] if it is not a delivery report."""
    if msg.get_content_type() != "multipart/report":
        return []
    notice = _quoted_notice(msg, domain)
    failures = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks[1:]:  # the first block is about the report, not a recipient
            action = str(block.get("Action", "")).strip().lower()
            status = str(block.get("Status", "")).strip()
            address = _recipient(block)
            if action != "failed" or not status.startswith("5") or "@" not in address:
                continue
            diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
            failures.append(Failure(address, status, diagnostic, notice))
    return failures


@transaction.atomic
def record(failures: list[Failure]) -> dict[str, int]:
    """Mark the notices bounced and record the addresses; a failure already recorded
    (the notice is bounced already) is skipped. Returns counts for the command."""
    out = {"bounced": 0, "addresses_only": 0, "already": 0}
    now = timezone.now()
    for f in failures:
        note = None
        if f.notice_id is not None:
            note = (Notification.objects.select_for_update()
                    .filter(pk=f.notice_id, channel=Channel.EMAIL).first())
            if note is not None and note.address.strip().lower() != f.address:
                note = None  # the report is about another recipient (a forward)
        if note is not None and note.status == Notification.Status.BOUNCED:
            out["already"] += 1
            continue
        reason = f"DSN {f.status}: {f.diagnostic}"[:500] if f.diagnostic else f"DSN {f.status}"
        if note is not None:
            Notification.objects.filter(pk=note.pk).update(
                status=Notification.Status.BOUNCED, claimed_until=None, error=reason)
            out["bounced"] += 1
        else:
            out["addresses_only"] += 1
            # without the notice, a report read again cannot be told from a new one: the
            # address is recorded once and not counted again
            BadAddress.objects.bulk_create(
                [BadAddress(address=f.address[:254], reason=reason)], ignore_conflicts=True)
            continue
        updated = BadAddress.objects.filter(address=f.address[:254]).update(
            reason=reason, count=F("count") + 1, last_seen=now)
        if not updated:
            BadAddress.objects.bulk_create(
                [BadAddress(address=f.address[:254], reason=reason, person_id=note.person_id)],
                ignore_conflicts=True)
    return out


def domain() -> str:
    """The domain of the notices' Message-IDs (as ``services`` writes them)."""
    from quantriet.notifications.services import _domain

    return _domain()


def process(messages: Any) -> dict[str, int]:
    """Read and record every report among ``messages`` (email.message.Message objects)."""
    total = {"messages": 0, "reports": 0, "bounced": 0, "addresses_only": 0, "already": 0}
    d = domain()
    for msg in messages:
        total["messages"] += 1
        failures = read_report(msg, d)
        if failures:
            total["reports"] += 1
            for k, v in record(failures).items():
                total[k] += v
    return total
