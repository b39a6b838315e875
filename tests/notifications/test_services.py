"""Notifications: enqueued once per event and person, sent through a real SMTP server on
loopback, in the recipient's language; a crashed batch, opt-outs, invalid addresses."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from quantriet.notifications import services
from quantriet.notifications.models import BadAddress, Channel, Kind, Notification
from quantriet.org.models import Person
from quantriet.reports import services as reports
from tests.factories import user

TEXT = "Bài thu hoạch: học tập và làm theo Nghị quyết, liên hệ bản thân và đơn vị."


def _graded(rep, key="a"):
    reviewer = user("chambai", reviewer=rep.org.bd)
    version = reports.submit(participant=rep.part[key], text=TEXT, actor=rep.authors[key])
    grade = rep.campaign.grade_levels.get(label="Xuất sắc")
    reports.review(report=version.report, actor=reviewer, outcome="graded", grade=grade)
    return version.report


def _deadline(rep, days=3):
    reports.save_policy(campaign=rep.campaign, actor=rep.organiser,
                        closes_on=timezone.localdate() + dt.timedelta(days=days))


def _plain(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def test_graded_report_arrives_in_vietnamese(rep, smtp):
    _graded(rep)
    mail = Notification.objects.get(channel=Channel.EMAIL)
    assert (mail.kind, mail.mandatory, mail.status, mail.address) == (
        Kind.REPORT_GRADED, True, "queued", "dva@example.org")
    assert Notification.objects.filter(channel=Channel.IN_APP, user=rep.authors["a"]).exists()
    result = services.send_batch()
    assert (result.claimed, result.sent) == (1, 1)
    assert len(smtp.messages) == 1
    got = smtp.messages[0]
    assert got.to == ["dva@example.org"]
    assert got.msg["Subject"] == ("Bài thu hoạch của đồng chí trong đợt “Học tập Nghị quyết” "
                                  "đã được chấm: Xuất sắc")
    assert got.msg["Message-ID"] == f"<notification-{mail.pk}@quantriet.test>"
    body = _plain(got.msg)
    assert "đã được chấm: Xuất sắc" in body
    assert "https://quantriet.test/reports/nq/" in body
    html = got.msg.get_body(preferencelist=("html",)).get_content()
    assert "Xuất sắc" in html and 'lang="vi"' in html
    assert b"charset=\"utf-8\"" in got.raw or b"charset=utf-8" in got.raw
    mail.refresh_from_db()
    assert mail.status == "sent" and mail.sent_at is not None and mail.claimed_until is None
    assert services.send_batch().claimed == 0


def test_english_when_the_recipient_chose_it(rep, smtp):
    services.save_preferences(user=rep.authors["a"], language="en", opted_out=[])
    _graded(rep)
    services.send_batch()
    assert smtp.messages[0].msg["Subject"] == (
        "Your report for “Học tập Nghị quyết” was graded: Xuất sắc")


def test_returned_report_carries_the_comments(rep, smtp):
    reviewer = user("chambai", reviewer=rep.org.bd)
    version = reports.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"])
    reports.review(report=version.report, actor=reviewer, outcome="returned",
                   comments="Cần liên hệ thực tiễn ở đơn vị nhiều hơn.")
    services.send_batch()
    got = smtp.messages[0].msg
    assert "trả lại" in got["Subject"]
    assert "Cần liên hệ thực tiễn ở đơn vị nhiều hơn." in _plain(got)


def test_the_same_event_enqueued_twice_is_sent_once(rep, smtp):
    report = _graded(rep)
    review = report.reviews.get()
    services.report_reviewed(review)
    services.report_reviewed(review)
    assert Notification.objects.filter(channel=Channel.EMAIL).count() == 1
    assert Notification.objects.filter(channel=Channel.IN_APP).count() == 1
    services.send_batch()
    services.report_reviewed(review)
    services.send_batch()
    assert len(smtp.messages) == 1


def test_deadline_reminder_goes_to_non_submitters_once(rep, smtp):
    _deadline(rep)
    reports.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"])
    call_command("notify-deadline", "--campaign", "nq", "--days", "3")
    call_command("notify-deadline", "--campaign", "nq", "--days", "3")
    assert Notification.objects.filter(channel=Channel.EMAIL).count() == 3
    services.send_batch()
    assert sorted(m.to[0] for m in smtp.messages) == [
        "dvb@example.org", "dvc@example.org", "dvh@example.org"]
    msg = smtp.messages[0].msg
    assert msg["Subject"].startswith("Nhắc việc: bài thu hoạch")
    assert "3 ngày" in _plain(msg)
    # another offset is another reminder
    services.deadline_approaching(campaign=rep.campaign, days=1)
    assert Notification.objects.filter(channel=Channel.EMAIL).count() == 6


def test_one_notice_to_many_is_built_once_and_readdressed(rep, smtp):
    """The deadline reminder to four people: one message built, three copies readdressed;
    each arrives with its own To and Message-ID and otherwise the same headers and body
    as a message built for it alone."""
    import email.policy
    from email import message_from_bytes

    _deadline(rep)
    services.deadline_approaching(campaign=rep.campaign, days=3)
    notes = list(Notification.objects.filter(channel=Channel.EMAIL).order_by("pk"))
    assert len(notes) == 4
    built = []
    real = services.message_for
    services.message_for = lambda note: built.append(note.pk) or real(note)
    try:
        services.send_batch()
    finally:
        services.message_for = real
    assert built == [notes[0].pk]  # the two others are copies
    by_to = {m.to[0]: m for m in smtp.messages}
    assert sorted(by_to) == sorted(n.address for n in notes)
    for note in notes:
        got = by_to[note.address].msg
        alone = message_from_bytes(real(note).message(policy=email.policy.SMTP).as_bytes(),
                                   policy=email.policy.default)
        assert got["To"] == note.address
        assert got["Message-ID"] == f"<notification-{note.pk}@quantriet.test>"
        assert got["Subject"] == alone["Subject"] and got["Subject"].startswith("Nhắc việc")
        assert _plain(got) == _plain(alone)
        assert got.get_body(preferencelist=("html",)).get_content() == \
            alone.get_body(preferencelist=("html",)).get_content()
    assert Notification.objects.filter(channel=Channel.EMAIL,
                                       status=Notification.Status.SENT).count() == 4


def test_a_retried_batch_does_not_resend_what_was_marked(rep, smtp, monkeypatch):
    """The worker dies after the SMTP server accepted the third message and before its
    mark committed. The retry after the lease sends the two unsent messages and the third
    again (the one duplicate the guarantee allows); the first two are never sent again."""
    _deadline(rep)
    services.deadline_approaching(campaign=rep.campaign, days=3)
    extra = user("thu5")
    services.enqueue(kind=Kind.REVIEWER_ASSIGNED, event="x",
                     recipients=[services.recipient_of_user(extra)], context={"campaign": "X"})
    ids = list(Notification.objects.filter(channel=Channel.EMAIL).order_by("pk")
               .values_list("pk", flat=True))
    assert len(ids) == 5
    real_mark, calls = services._mark_sent, []

    def dying_mark(pk):
        calls.append(pk)
        if len(calls) == 3:
            raise SystemExit("worker killed")
        real_mark(pk)

    monkeypatch.setattr(services, "_mark_sent", dying_mark)
    with pytest.raises(SystemExit):
        services.send_batch()
    monkeypatch.setattr(services, "_mark_sent", real_mark)
    assert len(smtp.messages) == 3
    emails = Notification.objects.filter(channel=Channel.EMAIL)
    assert emails.filter(status="sent").count() == 2
    # the batch is still held by the dead worker: nothing is taken before the lease ends
    assert services.send_batch().claimed == 0
    later = timezone.now() + dt.timedelta(seconds=601)
    result = services.send_batch(now=later)
    assert (result.claimed, result.sent) == (3, 3)
    assert emails.filter(status="sent").count() == 5
    sent_ids = [m.msg["Message-ID"] for m in smtp.messages]
    assert len(sent_ids) == 6
    per_id = {i: sent_ids.count(i) for i in set(sent_ids)}
    third = f"<notification-{ids[2]}@quantriet.test>"
    assert per_id.pop(third) == 2
    assert set(per_id.values()) == {1}


def test_opt_out_of_optional_kinds_only(rep, smtp):
    services.save_preferences(user=rep.authors["b"], language="",
                              opted_out=[Kind.DEADLINE_SOON, Kind.REPORT_GRADED])
    _deadline(rep)
    services.deadline_approaching(campaign=rep.campaign, days=3)
    assert not Notification.objects.filter(user=rep.authors["b"]).exists()
    # graded is mandatory: the opt-out (not even stored for it) changes nothing
    _graded(rep, key="b")
    assert Notification.objects.filter(user=rep.authors["b"], kind=Kind.REPORT_GRADED,
                                       channel=Channel.EMAIL).exists()
    services.send_batch()
    graded = [m for m in smtp.messages if m.to == ["dvb@example.org"]]
    assert len(graded) == 1 and "đã được chấm" in graded[0].msg["Subject"]


def test_invalid_and_refused_addresses_are_recorded(rep, smtp):
    Person.objects.filter(pk=rep.people["b"].pk).update(email="khong-phai-dia-chi")
    Person.objects.filter(pk=rep.people["c"].pk).update(email="nobody@example.org")
    _deadline(rep)
    services.deadline_approaching(campaign=rep.campaign, days=3)
    result = services.send_batch()
    assert (result.sent, result.bounced) == (2, 2)
    assert sorted(m.to[0] for m in smtp.messages) == ["dva@example.org", "dvh@example.org"]
    bad = {b.address: b for b in BadAddress.objects.all()}
    assert set(bad) == {"khong-phai-dia-chi", "nobody@example.org"}
    assert "550" in bad["nobody@example.org"].reason
    assert bad["nobody@example.org"].person_id == rep.people["c"].pk
    assert set(Notification.objects.filter(status="bounced")
               .values_list("address", flat=True)) == set(bad)
    # a refused address is not tried again
    services.deadline_approaching(campaign=rep.campaign, days=1)
    result = services.send_batch()
    assert (result.sent, result.bounced) == (2, 2)
    assert len(smtp.messages) == 4
    assert BadAddress.objects.get(address="nobody@example.org").count == 2


def test_server_down_gives_the_batch_back(rep, settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2}}}
    _graded(rep)
    result = services.send_batch()
    assert (result.claimed, result.sent, result.released) == (1, 0, 1)
    mail = Notification.objects.get(channel=Channel.EMAIL)
    assert (mail.status, mail.claimed_until, mail.attempts) == ("queued", None, 1)
    for _i in range(services.MAX_ATTEMPTS - 1):
        services.send_batch()
    mail.refresh_from_db()
    assert mail.status == "failed" and mail.error


def test_reassigning_tells_the_new_reviewer(rep):
    first = user("cham1", reviewer=rep.org.bd)
    second = user("cham2", reviewer=rep.org.bd)
    admin = user("qt.bd", unit_admin=rep.org.bd)
    version = reports.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"])
    assert version.report.reviewer == first
    reports.reassign(report=version.report, reviewer=second, actor=admin)
    note = Notification.objects.get(user=second, channel=Channel.IN_APP)
    assert note.kind == Kind.REVIEWER_ASSIGNED and not note.mandatory
    assert note.url == f"/reports/nq/r/{version.report_id}/"


def test_rate_limit(rep, smtp, settings):
    settings.NOTIFY_RATE = 20
    _deadline(rep)
    services.deadline_approaching(campaign=rep.campaign, days=3)
    started = timezone.now()
    assert services.send_batch().sent == 4
    assert (timezone.now() - started).total_seconds() >= 3 / 20


def test_a_batch_stops_before_its_lease_runs_out(rep, smtp, settings):
    """A sender gives back what it has not sent when 80 % of its lease has passed, so no
    other sender can take a message it is still about to send."""
    settings.NOTIFY_LEASE_SECONDS = 1
    settings.NOTIFY_RATE = 2  # four messages would take 1.5 s
    _deadline(rep)
    services.deadline_approaching(campaign=rep.campaign, days=3)
    result = services.send_batch()
    assert (result.claimed, result.sent, result.released) == (4, 2, 2)
    left = Notification.objects.filter(channel=Channel.EMAIL, status="queued")
    assert left.count() == 2 and not left.filter(claimed_until__isnull=False).exists()
    assert set(left.values_list("attempts", flat=True)) == {0}
    settings.NOTIFY_RATE = 0
    assert services.send_batch().sent == 2
    assert len(smtp.messages) == 4


def test_one_off_reminder_arrives_in_vietnamese(rep, smtp):
    _deadline(rep)
    admin = user("qt.lc", unit_admin=rep.org.lc)
    n = services.remind_non_submitters(campaign=rep.campaign, unit=rep.org.lc, actor=admin)
    assert n == 2  # h: an e-mail and an in-app notice
    services.send_batch()
    (got,) = smtp.messages
    assert got.to == ["dvh@example.org"]
    assert got.msg["Subject"] == "Nhắc việc: đề nghị nộp bài thu hoạch đợt “Học tập Nghị quyết”"
    assert "Liên đoàn Lao động quận Lê Chân nhắc đồng chí" in _plain(got.msg)
    with pytest.raises(ValidationError):
        services.remind_non_submitters(campaign=rep.campaign, unit=rep.org.hn, actor=admin)


def test_deadline_passed_is_mandatory_and_once(rep, smtp):
    services.save_preferences(user=rep.authors["b"], language="",
                              opted_out=[Kind.DEADLINE_SOON])
    reports.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"])
    admin = user("qt.lc", unit_admin=rep.org.lc)
    reports.extend(report=reports.report_of(rep.part["h"]),
                   until=timezone.localdate() + dt.timedelta(days=3), actor=admin)
    _deadline(rep, days=-1)
    with pytest.raises(ValidationError):
        services.deadline_approaching(campaign=rep.campaign, days=1)
    call_command("notify-deadline", "--campaign", "nq", "--passed")
    call_command("notify-deadline", "--campaign", "nq", "--passed")
    services.send_batch()
    # b opted out of reminders, but this one is mandatory; h has an extension
    assert sorted(m.to[0] for m in smtp.messages) == ["dvb@example.org", "dvc@example.org"]
    body = _plain(smtp.messages[0].msg)
    assert "chưa được nộp" in body and "vẫn được nhận" in body


def test_reviewer_backlog_digest_once_a_day(rep, smtp):
    first = user("cham1", reviewer=rep.org.bd)
    second = user("cham2", reviewer=rep.org.bd)
    for key in ("a", "b", "c"):  # balanced: first, second, first
        reports.submit(participant=rep.part[key], text=TEXT, actor=rep.authors[key])
    call_command("notify-digests", "--campaign", "nq")
    call_command("notify-digests")
    services.send_batch()
    got = {m.to[0]: m.msg for m in smtp.messages}
    # the organiser, head of the top unit, has the digest of its lagging child units
    assert set(got) == {"cham1@example.org", "cham2@example.org", "tochuc@example.org"}
    assert "chậm tiến độ" in got["tochuc@example.org"]["Subject"]
    assert got["cham1@example.org"]["Subject"] == (
        "2 bài thu hoạch đợt “Học tập Nghị quyết” đang chờ đồng chí chấm")
    assert "Bài sớm nhất được nộp ngày" in _plain(got["cham2@example.org"])
    assert Notification.objects.filter(user=first, kind=Kind.REVIEW_BACKLOG,
                                       channel=Channel.IN_APP).count() == 1
    assert Notification.objects.filter(user=second, channel=Channel.IN_APP).count() == 1
