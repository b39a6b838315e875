"""The campaign's notification schedule (kept per campaign, set by its organisers) and the
periodic run that sends whatever is due, once."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from quantriet.conference import services as conference
from quantriet.notifications import services
from quantriet.notifications.models import Channel, Kind, Notification, NotifySettings
from quantriet.reports import services as reports
from tests.factories import user
from tests.progress.conftest import prog  # noqa: F401 - the shared fixture


def _at(day: dt.date, hour: int = 8) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _kinds() -> dict[str, int]:
    out: dict[str, int] = {}
    for kind in Notification.objects.filter(channel=Channel.IN_APP).values_list("kind",
                                                                                  flat=True):
        out[kind] = out.get(kind, 0) + 1
    return out


def _events(kind) -> set[str]:
    return {key.split(":", 2)[2].rsplit(":", 1)[0] for key in Notification.objects.filter(
        kind=kind, channel=Channel.IN_APP).values_list("dedup_key", flat=True)}


@pytest.fixture
def due(prog):  # noqa: F811
    today = timezone.localdate()
    prog.deadline = today + dt.timedelta(days=10)
    reports.save_policy(campaign=prog.campaign, actor=prog.organiser, closes_on=prog.deadline)
    return prog


def test_the_run_follows_the_default_schedule_once(due, settings):
    settings.NOTIFY_DAILY_HOUR = 7
    c, deadline = due.campaign, due.deadline
    # ten days before: the invitations and the heads' daily digest (nobody has submitted),
    # no deadline reminder yet
    services.run_due(now=_at(deadline - dt.timedelta(days=10)))
    assert set(_kinds()) == {Kind.INVITATION, Kind.LAGGING_UNITS}
    # five days before: the 7-day reminder (a run missed two days ago is caught up)
    services.run_due(now=_at(deadline - dt.timedelta(days=5)))
    services.run_due(now=_at(deadline - dt.timedelta(days=5), 9))
    assert _events(Kind.DEADLINE_SOON) == {f"campaign:{c.pk}:{deadline.isoformat()}:d7"}
    soon = _kinds()[Kind.DEADLINE_SOON]
    assert soon == c.participants.filter(active=True, person__user__isnull=False).count()
    # the last day, before the daily hour: nothing daily yet; then the 1-day reminder
    services.run_due(now=_at(deadline - dt.timedelta(days=1), 6))
    assert _kinds()[Kind.DEADLINE_SOON] == soon
    services.run_due(now=_at(deadline - dt.timedelta(days=1)))
    assert _kinds()[Kind.DEADLINE_SOON] == 2 * soon
    # the day after: "deadline passed" and the escalations, once however often it runs
    assert Kind.DEADLINE_PASSED not in _kinds()
    services.run_due(now=_at(deadline + dt.timedelta(days=1)))
    after = _kinds()
    assert after[Kind.DEADLINE_PASSED] == soon and after[Kind.ESCALATION] > 0
    services.run_due(now=_at(deadline + dt.timedelta(days=1), 20))
    assert _kinds() == after


def test_conference_reminder_at_the_nearest_offset(due):
    now = timezone.now()
    services.save_notify_settings(campaign=due.campaign, actor=due.organiser,
                                  conference_hours="24, 2", invitations=False)
    conference.update_point(point=due.hn, actor=due.organiser,
                            starts_at=now + dt.timedelta(hours=10))
    conference.update_point(point=due.hp, actor=due.organiser,
                            starts_at=now + dt.timedelta(hours=1))
    services.run_due(now=now)
    services.run_due(now=now)
    events = _events(Kind.CONFERENCE_SOON)
    assert {e.rsplit(":", 1)[1] for e in events if e.startswith(f"point:{due.hn.pk}:")} == {
        "h24"}
    assert {e.rsplit(":", 1)[1] for e in events if e.startswith(f"point:{due.hp.pk}:")} == {
        "h2"}
    assert Kind.INVITATION not in _kinds()


def test_organiser_sets_the_schedule_in_the_ui(due, settings):
    settings.NOTIFY_DAILY_HOUR = 0
    url = reverse("notifications:schedule", args=[due.campaign.slug])
    outsider = Client()
    outsider.force_login(user("qt.bd", unit_admin=due.org.bd))
    assert outsider.get(url).status_code == 404
    client = Client()
    client.force_login(due.organiser)
    detail = client.get(reverse("campaigns:detail", args=[due.campaign.slug]))
    assert url in detail.content.decode()
    page = client.get(url)
    assert page.status_code == 200 and 'value="7, 1"' in page.content.decode()
    form = {"invitations": "", "conference_hours": "", "deadline_days": "abc",
            "deadline_passed": "on", "escalation": "", "digests": ""}
    bad = client.post(url, form)
    assert bad.status_code == 200 and not NotifySettings.objects.exists()
    form["deadline_days"] = "10; 3"
    assert client.post(url, form).status_code == 302
    saved = NotifySettings.objects.get(campaign=due.campaign)
    assert (saved.days, saved.hours, saved.invitations, saved.escalation) == (
        [3, 10], [], False, False)
    # ten days before the deadline: the 10-day reminder, and nothing switched off
    call_command("notify-run", "--campaign", due.campaign.slug)
    assert _events(Kind.DEADLINE_SOON) == {
        f"campaign:{due.campaign.pk}:{due.deadline.isoformat()}:d10"}
    assert set(_kinds()) == {Kind.DEADLINE_SOON}
