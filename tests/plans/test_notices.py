"""The daily digest of overdue measures to the level above."""

import datetime as dt

import pytest
from django.core.management import call_command

from quantriet.notifications.content import paragraphs, subject
from quantriet.notifications.models import Notification
from quantriet.plans import services
from quantriet.plans.notices import overdue_digests

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = dt.date(2030, 3, 1)


def test_overdue_digest_goes_to_the_level_above_once_a_day(pl):
    ms = [services.add_measure(plan=pl.plan, actor=pl.admin, title=f"Biện pháp {i}",
                               owner="BTV", due_on=due, target="1")
          for i, due in enumerate([dt.date(2030, 1, 10), dt.date(2030, 2, 20),
                                   dt.date(2030, 12, 1)])]
    assert overdue_digests(campaign=pl.campaign, today=TODAY) == 0  # not approved yet
    services.submit(plan=pl.plan, actor=pl.head)
    services.review(plan=pl.plan, actor=pl.parent, outcome="approved")
    services.follow_up(measure=ms[1], actor=pl.admin, status="done")
    services.follow_up(measure=ms[2], actor=pl.admin, status="overdue")
    assert overdue_digests(campaign=pl.campaign, today=TODAY) == 2  # in-app and e-mail
    assert overdue_digests(campaign=pl.campaign, today=TODAY) == 2  # offered again...
    notes = Notification.objects.filter(kind="plan_overdue")
    assert notes.count() == 2  # ...but stored once
    note = notes.get(channel="inapp")
    assert note.user == pl.parent and note.context["count"] == 2
    assert [m["measure"] for m in note.context["measures"]] == ["Biện pháp 0", "Biện pháp 2"]
    assert pl.org.bd.name in subject("plan_overdue", note.context)
    assert "Biện pháp 0" in "\n".join(paragraphs("plan_overdue", note.context))
    call_command("notify-digests", "--campaign", pl.campaign.slug, verbosity=0)
    assert Notification.objects.filter(kind="plan_overdue", user=pl.admin).count() == 0
