"""Bounces that come back later as delivery status notifications (RFC 3464): the e-mails'
envelope sender is the bounce address, ``notify-bounces`` reads the reports from a Maildir,
an mbox or a file, marks the notice bounced and lists the address for the unit admins."""

import datetime as dt
import mailbox

from django.core.management import call_command
from django.utils import timezone

from quantriet.notifications import bounces, services
from quantriet.notifications.models import BadAddress, Channel, Notification
from quantriet.reports import services as reports
from tests.factories import user

BOUNCE = "bounces@quantriet.test"


def _dsn(recipient: str, message_id: str, *, action="failed", status="5.1.1",
         quote="headers") -> bytes:
    """A delivery report as a mail server writes one."""
    returned = (f"From: no-reply@quantriet.test\r\nTo: {recipient}\r\n"
                f"Subject: =?utf-8?b?TmjhuqFjIHZp4buHYw==?=\r\nMessage-ID: {message_id}\r\n")
    if quote == "headers":
        last = f"Content-Type: text/rfc822-headers\r\n\r\n{returned}"
    else:
        last = f"Content-Type: message/rfc822\r\n\r\n{returned}\r\nBody.\r\n"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        f"To: {BOUNCE}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.example.org>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <x>: Recipient address rejected:\r\n"
        " User unknown in virtual mailbox table\r\n\r\n"
        f"--B\r\n{last}--B--\r\n").encode()


def _sent(rep, smtp, settings):
    settings.NOTIFY_BOUNCE_ADDRESS = BOUNCE
    reports.save_policy(campaign=rep.campaign, actor=rep.organiser,
                        closes_on=timezone.localdate() + dt.timedelta(days=3))
    services.deadline_approaching(campaign=rep.campaign, days=3)
    services.send_batch()
    return list(Notification.objects.filter(channel=Channel.EMAIL).order_by("pk"))


def test_the_envelope_sender_is_the_bounce_address(rep, smtp, settings):
    notes = _sent(rep, smtp, settings)
    assert len(smtp.messages) == len(notes) > 1
    for m in smtp.messages:
        assert m.mail_from == BOUNCE
        assert m.msg["From"].addresses[0].addr_spec == "no-reply@quantriet.test"


def test_a_report_in_a_maildir_marks_the_notice_and_lists_the_address(rep, smtp, settings,
                                                                      tmp_path, client):
    notes = _sent(rep, smtp, settings)
    gone, other = notes[0], notes[1]
    box = mailbox.Maildir(tmp_path / "bounces")
    box.add(_dsn(gone.address, f"<notification-{gone.pk}@quantriet.test>"))
    box.add(_dsn(other.address, f"<notification-{other.pk}@quantriet.test>",
                 action="delayed", status="4.4.1"))  # temporary: not a bounce
    box.add(b"From: someone@example.org\r\nSubject: hello\r\n\r\nNot a report.\r\n")
    call_command("notify-bounces", str(tmp_path / "bounces"), "--delete")
    gone.refresh_from_db()
    other.refresh_from_db()
    assert gone.status == Notification.Status.BOUNCED and "5.1.1" in gone.error
    assert "User unknown" in gone.error
    assert other.status == Notification.Status.SENT
    bad = BadAddress.objects.get()
    assert bad.address == gone.address.lower() and bad.person_id == gone.person_id
    assert bad.count == 1
    assert len(mailbox.Maildir(tmp_path / "bounces")) == 2  # the report read is removed
    # the unit's administrators see it on their list
    client.force_login(user("qt.admin", unit_admin=rep.org.top))
    page = client.get(f"/notifications/unit/{rep.org.top.code}/addresses/")
    assert gone.address in page.content.decode()
    # the same report again changes nothing
    path = tmp_path / "again.eml"
    path.write_bytes(_dsn(gone.address, f"<notification-{gone.pk}@quantriet.test>",
                          quote="message"))
    call_command("notify-bounces", str(path))
    assert BadAddress.objects.get().count == 1
    # and no further e-mail is tried to the address
    smtp.messages.clear()
    services.deadline_approaching(campaign=rep.campaign, days=1)
    services.send_batch()
    assert gone.address not in [m.to[0] for m in smtp.messages]
    assert Notification.objects.filter(address=gone.address, channel=Channel.EMAIL,
                                       status=Notification.Status.BOUNCED).count() == 2


def test_an_mbox_and_reports_that_name_no_notice_of_ours(rep, smtp, settings, tmp_path):
    notes = _sent(rep, smtp, settings)
    note = notes[0]
    box = mailbox.mbox(tmp_path / "bounces.mbox")
    box.add(_dsn(note.address, f"<notification-{note.pk}@quantriet.test>", quote="message"))
    box.add(_dsn("stranger@example.org", "<notification-999999@elsewhere.example>"))
    box.flush()
    box.close()
    call_command("notify-bounces", str(tmp_path / "bounces.mbox"))
    call_command("notify-bounces", str(tmp_path / "bounces.mbox"))  # read twice
    note.refresh_from_db()
    assert note.status == Notification.Status.BOUNCED
    assert {b.address: b.count for b in BadAddress.objects.all()} == {
        note.address.lower(): 1, "stranger@example.org": 1}


def test_reading_a_report():
    from email import message_from_bytes, policy

    msg = message_from_bytes(_dsn("a@example.org", "<notification-7@quantriet.test>"),
                             policy=policy.default)
    [f] = bounces.read_report(msg, "quantriet.test")
    assert (f.address, f.status, f.notice_id) == ("a@example.org", "5.1.1", 7)
    assert f.diagnostic.startswith("smtp; 550 5.1.1")
    assert bounces.read_report(msg, "other.test")[0].notice_id is None
