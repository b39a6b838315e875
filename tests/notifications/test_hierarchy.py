"""Notices that follow the tree: the unit heads' daily digest of their lagging child units
(exactly the units the progress dashboard highlights) and the escalation to the unit above
when a unit is still below the threshold after the deadline."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from quantriet.notifications import services
from quantriet.notifications.models import Channel, Kind, Notification
from quantriet.progress import queries
from quantriet.reports import services as reports
from tests.factories import user
from tests.progress.conftest import prog  # noqa: F401 - the shared fixture

TEXT = "Bài thu hoạch: học tập và làm theo Nghị quyết, liên hệ bản thân và đơn vị."


@pytest.fixture
def heads(prog):  # noqa: F811
    """a, b and d submit. On the roster, with the people of the tree's factory: under the
    top, HN 3/6 (exactly the threshold: not lagging) and HP 0/2; under HN, BD 2/4 and CSHN
    1/1; under BD, CS1 2/3 and CS2 0/1; under LC, CS3 0/2."""
    for key in ("a", "b", "d"):
        reports.submit(participant=prog.part[key], text=TEXT, actor=prog.authors[key])
    org = prog.org
    prog.heads = {"top": prog.organiser, "hn": user("qt.hn", unit_admin=org.hn),
                  "bd": user("qt.bd", unit_admin=org.bd), "lc": user("qt.lc", unit_admin=org.lc)}
    return prog


def _highlighted(client, campaign, unit) -> set[str]:
    """The child units whose rate the dashboard's table shows as low."""
    page = client.get(reverse("progress:unit", args=[campaign.slug, unit.code]))
    assert page.status_code == 200
    html = page.content.decode()
    body = html[html.index("progress-table"):]
    body = body[:body.index("</table>")]
    out = set()
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        name = re.search(r'<a href="[^"]+">([^<]+)</a>', row)
        if name and 'class="num low"' in row:
            out.add(name.group(1).replace("&#x27;", "'"))
    return out


def _digest_units(account) -> set[str]:
    notes = Notification.objects.filter(kind=Kind.LAGGING_UNITS, user=account,
                                        channel=Channel.IN_APP)
    return {line["name"] for note in notes for line in note.context["units"]}


def test_digest_lists_exactly_the_units_the_dashboard_shows_as_lagging(heads, smtp):
    services.lagging_digests(campaign=heads.campaign)
    org = heads.org
    expected = {"top": {org.hp.name}, "hn": set(), "bd": {org.cs2.name}, "lc": {org.cs3.name}}
    for key, account in heads.heads.items():
        client = Client()
        client.force_login(account)
        unit = {"top": org.top, "hn": org.hn, "bd": org.bd, "lc": org.lc}[key]
        shown = _highlighted(client, heads.campaign, unit)
        assert shown == expected[key], key
        assert _digest_units(account) == shown, key
    # units exactly at the threshold (HN, BD) are not lagging, on the page or in the digest
    assert queries.LAGGING_BELOW == 0.5
    services.send_batch()
    got = {m.to[0]: m.msg for m in smtp.messages}
    assert set(got) == {"tochuc@example.org", "qt.lc@example.org", "qt.bd@example.org"}
    body = got["qt.bd@example.org"].get_body(preferencelist=("plain",)).get_content()
    assert f"– {org.cs2.name}: 0,0 % (0/1 " in body
    assert "50 %" in body
    assert f"https://quantriet.test/progress/nq/unit/{org.bd.code}/" in body


def test_digest_once_a_day_and_optional(heads):
    services.save_preferences(user=heads.heads["lc"], language="",
                              opted_out=[Kind.LAGGING_UNITS])
    services.lagging_digests(campaign=heads.campaign)
    first = Notification.objects.filter(kind=Kind.LAGGING_UNITS).count()
    assert first == 4  # the top's and BD's heads, in the application and by e-mail
    services.lagging_digests(campaign=heads.campaign)
    assert Notification.objects.filter(kind=Kind.LAGGING_UNITS).count() == first
    assert not Notification.objects.filter(kind=Kind.LAGGING_UNITS,
                                           user=heads.heads["lc"]).exists()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    services.lagging_digests(campaign=heads.campaign, today=tomorrow)
    assert Notification.objects.filter(kind=Kind.LAGGING_UNITS).count() == 2 * first


def test_escalation_after_the_deadline_to_the_unit_above(heads, smtp):
    campaign, org = heads.campaign, heads.org
    deadline = timezone.localdate() + dt.timedelta(days=2)
    reports.save_policy(campaign=campaign, actor=heads.organiser, closes_on=deadline)
    with pytest.raises(ValidationError):
        services.escalations(campaign=campaign, today=deadline)
    # LC's head opted out of the digest: an escalation is mandatory
    services.save_preferences(user=heads.heads["lc"], language="",
                              opted_out=[Kind.LAGGING_UNITS])
    after = deadline + dt.timedelta(days=1)
    services.escalations(campaign=campaign, today=after)
    services.escalations(campaign=campaign, today=after + dt.timedelta(days=1))
    got = {(n.user.username, n.context["name"]) for n in Notification.objects.filter(
        kind=Kind.ESCALATION, channel=Channel.IN_APP).select_related("user")}
    # lagging: HP 0/2 (to the top's head), LC 0/2 (its parent HP has no head: to the
    # top), CS3 0/2 (to LC) and CS2 0/1 (to BD); HN and BD are at the threshold
    assert got == {("tochuc", org.hp.name), ("tochuc", org.lc.name),
                   ("qt.lc", org.cs3.name), ("qt.bd", org.cs2.name)}
    assert all(n.mandatory for n in Notification.objects.filter(kind=Kind.ESCALATION))
    services.send_batch()
    mails = [m for m in smtp.messages if m.to == ["qt.bd@example.org"]]
    assert len(mails) == 1
    assert org.cs2.name in mails[0].msg["Subject"]
    assert "0,0 % (0/1 " in mails[0].msg.get_body(preferencelist=("plain",)).get_content()


def test_commands(heads):
    call_command("notify-digests", "--campaign", "nq")
    assert Notification.objects.filter(kind=Kind.LAGGING_UNITS, user=heads.heads["bd"]).exists()
    with pytest.raises(CommandError):
        call_command("notify-deadline", "--campaign", "nq", "--escalate")  # no deadline yet
    reports.save_policy(campaign=heads.campaign, actor=heads.organiser,
                        closes_on=timezone.localdate() - dt.timedelta(days=1))
    call_command("notify-deadline", "--campaign", "nq", "--escalate")
    assert Notification.objects.filter(kind=Kind.ESCALATION, user=heads.heads["bd"]).exists()
