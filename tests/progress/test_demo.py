from django.core.management import call_command

from quantriet.campaigns.demo import SLUG
from quantriet.campaigns.models import Campaign
from quantriet.progress import queries, services


def test_demo_campaign_has_progress_and_exact_counters(db):
    call_command("demo", "--scale", "small", verbosity=0)
    campaign = Campaign.objects.select_related("owner_unit").get(slug=SLUG)
    totals = queries.rollup(campaign, campaign.owner_unit).totals
    assert totals.invited == campaign.participants.filter(active=True).count()
    assert 0 < totals.attended < totals.invited
    assert 0 < totals.graded < totals.submitted < totals.invited
    assert totals.excused and totals.absent and totals.returned
    assert services.verify(campaign) == []
    # the demo participant can still write and submit
    p = campaign.participants.get(person__user__username="daibieu")
    assert not hasattr(p, "report") or p.report.status == "draft"
