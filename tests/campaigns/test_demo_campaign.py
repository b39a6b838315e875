import csv

from django.core.management import call_command

from quantriet.campaigns.demo import SLUG, TOPICS
from quantriet.campaigns.models import Campaign
from tests.campaigns.test_roster import independent


def test_demo_builds_the_seed_campaign_and_its_roster(db, tmp_path):
    call_command("demo", "--scale", "small", verbosity=0)
    campaign = Campaign.objects.get(slug=SLUG)
    assert [t.title for t in campaign.topics.all()] == TOPICS
    assert campaign.rules.count() == 3
    roster = set(campaign.participants.filter(active=True).values_list("person_id", flat=True))
    import datetime as dt

    assert roster == independent(campaign, dt.date.today())
    by_rule = {r.order: r.participants.count() for r in campaign.rules.all()}
    assert all(by_rule.values()), by_rule  # each of the three rules selects someone
    assert not campaign.participants.filter(active=True, managing_unit__isnull=True).exists()

    out = tmp_path / "roster.csv"
    call_command("campaign-roster", SLUG, "--export", str(out), verbosity=0)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(roster)
    assert all(r["member_code"] and r["unit_code"] and r["managing_unit_code"] for r in rows)
    assert any("2.000" in r["rules"] for r in rows)


def test_demo_participant_account_sees_the_invitation(db):
    from django.test import Client
    from django.urls import reverse

    call_command("demo", "--scale", "small", verbosity=0)
    c = Client()
    assert c.login(username="daibieu", password="demo12345")
    body = c.get(reverse("campaigns:mine")).content.decode()
    assert "Nghị quyết Đại hội XII" in body
    assert "Tư duy mới" in body  # the first topic


def test_demo_reviewer_receives_the_participants_report(db):
    from quantriet.campaigns.models import Participant
    from quantriet.reports import services as reports

    call_command("demo", "--scale", "small", verbosity=0)
    participant = Participant.objects.get(campaign__slug=SLUG, person__user__username="daibieu")
    version = reports.submit(participant=participant, actor=participant.person.user,
                             text="Bài thu hoạch thử của đại biểu.")
    assert version.report.reviewer.username == "chambai"
