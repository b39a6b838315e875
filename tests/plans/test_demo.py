"""The demo campaign requires action plans and shows them at every stage."""

from django.contrib.auth import get_user_model
from django.core.management import call_command

from quantriet.campaigns.demo import SLUG
from quantriet.campaigns.models import Campaign
from quantriet.org.models import Grant
from quantriet.plans import queries, services
from quantriet.plans.models import Measure, Plan, PlanVersion


def test_demo_campaign_has_plans(db):
    call_command("demo", "--scale", "small", verbosity=0)
    campaign = Campaign.objects.select_related("owner_unit").get(slug=SLUG)
    plans = Plan.objects.filter(campaign=campaign)
    statuses = set(plans.values_list("status", flat=True))
    assert statuses == {"not_started", "draft", "submitted", "returned", "approved"}
    assert plans.filter(required=True).count() == plans.count() > 100
    assert PlanVersion.objects.filter(plan__campaign=campaign).count() == plans.filter(
        version_count=1).count()
    totals = queries.rollup(campaign, campaign.owner_unit).totals
    assert totals.required == plans.count()
    assert totals.approved == plans.filter(status="approved").count()
    assert totals.measures == Measure.objects.filter(plan__status="approved").count()
    assert 0 < totals.overdue < totals.measures and 0 < totals.done
    # the coso union's plan is left to try: its chair and its parent have accounts
    coso = Grant.objects.get(user__username="coso", role="unit_admin").unit
    plan = plans.get(unit=coso)
    assert plan.status == "not_started" and not plan.measures.exists()
    head = get_user_model().objects.get(username="chutich")
    assert services.is_head(head, coso) and services.may_edit(head, coso)
    parent = Grant.objects.get(user__username="captren").user
    assert Grant.objects.get(user=parent).unit == coso.parent
    # a flush removes the plans with the rest
    call_command("demo", "--scale", "small", "--flush", "--no-campaign", verbosity=0)
    assert not Plan.objects.exists()
