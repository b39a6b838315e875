"""The conference's notices: the invitation with the bridge point and the QR code of the
invitation letter (which the check-in reads), and the reminder before the session of the
participant's point."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from quantriet.conference import services as conference
from quantriet.conference.documents import qr_matrix
from quantriet.notifications import qr, services
from quantriet.notifications.models import Channel, Kind, Notification
from tests.progress.conftest import prog  # noqa: F401 - the shared fixture


def _by_address(smtp):
    return {m.to[0]: m.msg for m in smtp.messages}


def test_invitation_with_the_point_and_a_qr_code_the_check_in_reads(prog, smtp):  # noqa: F811
    conference.update_point(point=prog.hn, actor=prog.organiser, address="Số 1 Lý Thái Tổ",
                            starts_at=timezone.make_aware(dt.datetime(2026, 12, 2, 8, 0)))
    prog.hn.refresh_from_db()
    # the participants' own choice does not matter: an invitation is mandatory
    services.save_preferences(user=prog.authors["a"], language="",
                              opted_out=[Kind.CONFERENCE_SOON, Kind.DEADLINE_SOON])
    assert services.invitations(campaign=prog.campaign) == 12  # e-mail and in-app, 6 each
    assert services.invitations(campaign=prog.campaign) == 0  # all invited already
    mails = Notification.objects.filter(kind=Kind.INVITATION, channel=Channel.EMAIL)
    # every active participant with an address: the six with an account (the others of
    # the roster have neither address nor account)
    reachable = prog.campaign.participants.filter(active=True).filter(
        Q(person__user__isnull=False) | ~Q(person__email=""))
    assert mails.count() == reachable.count() == 6
    assert all(m.mandatory for m in mails)
    services.send_batch()
    got = _by_address(smtp)
    assert len(smtp.messages) == mails.count()
    msg = got["dva@example.org"]
    assert msg["Subject"] == f"Giấy mời: “Học tập Nghị quyết” tại {prog.hn.name}"
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert f"Điểm cầu: {prog.hn.name} — Số 1 Lý Thái Tổ" in body
    assert "08:00 02/12/2026" in body and str(prog.part["a"].pk) in body
    assert (f"https://quantriet.test/conference/nq/participants/{prog.part['a'].pk}"
            "/invitation.pdf") in body
    html = msg.get_body(preferencelist=("html",)).get_content()
    images = [p for p in msg.iter_attachments() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    cid = images[0]["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    # the image is the QR code of a signed token that names this participant
    note = mails.get(person=prog.people["a"])
    token = note.context["token"]
    assert qr.matrix_of_png(images[0].get_content()) == qr_matrix(token)
    assert conference.read_token(token, prog.campaign) == prog.part["a"]
    # a participant moved to another point is invited again, to the new point
    conference.move_attendance(attendance=prog.part["a"].attendance, point=prog.hp,
                               actor=prog.organiser)
    services.invitations(campaign=prog.campaign)
    again = Notification.objects.filter(kind=Kind.INVITATION, channel=Channel.EMAIL)
    assert again.count() == mails.count() + 1
    assert again.filter(person=prog.people["a"], context__point=prog.hp.name).exists()


def test_no_invitation_before_the_campaign_is_published(prog):  # noqa: F811
    from quantriet.campaigns.models import Campaign

    Campaign.objects.filter(pk=prog.campaign.pk).update(status="draft")
    prog.campaign.refresh_from_db()
    with pytest.raises(ValidationError):
        services.invitations(campaign=prog.campaign)


def test_conference_reminder_before_the_session_of_ones_point(prog, smtp):  # noqa: F811
    now = timezone.now()
    conference.update_point(point=prog.hn, actor=prog.organiser,
                            starts_at=now + dt.timedelta(hours=20))
    conference.update_point(point=prog.hp, actor=prog.organiser,
                            starts_at=now + dt.timedelta(days=3))
    services.save_preferences(user=prog.authors["b"], language="",
                              opted_out=[Kind.CONFERENCE_SOON])
    services.conference_reminders(campaign=prog.campaign, hours=24, now=now)
    services.conference_reminders(campaign=prog.campaign, hours=24, now=now)
    people = set(Notification.objects.filter(kind=Kind.CONFERENCE_SOON,
                                             channel=Channel.IN_APP)
                 .values_list("person", flat=True))
    # a and d are at Hà Nội's point (b opted out); h and k at Hải Phòng's, days later
    assert prog.people["a"].pk in people and prog.people["d"].pk in people
    assert not people & {prog.people[k].pk for k in ("b", "h", "k")}
    services.send_batch()
    msg = _by_address(smtp)["dva@example.org"]
    assert prog.hn.name in msg["Subject"]
    # the session moved: a new reminder
    conference.update_point(point=prog.hn, actor=prog.organiser,
                            starts_at=now + dt.timedelta(hours=22))
    before = Notification.objects.filter(kind=Kind.CONFERENCE_SOON).count()
    services.conference_reminders(campaign=prog.campaign, hours=24, now=now)
    assert Notification.objects.filter(kind=Kind.CONFERENCE_SOON).count() == 2 * before
