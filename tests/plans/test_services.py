"""Action plans through their services: who must produce one, drafting, submission by the
head, return and approval by the level above, versions, follow-up, notices."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from quantriet.core.models import AuditEvent
from quantriet.notifications.content import paragraphs, subject
from quantriet.notifications.models import Notification
from quantriet.org.models import UnitLevel
from quantriet.plans import services
from quantriet.plans.models import Measure, Plan, PlanReview, PlanVersion
from tests.factories import user

pytestmark = pytest.mark.django_db

DUE = dt.date(2030, 6, 30)


def _measures(pl, actor, n=3):
    return [services.add_measure(plan=pl.plan, actor=actor, title=f"Biện pháp {i}",
                                 owner="Ban Thường vụ", due_on=DUE,
                                 target=f"{i * 10} % đoàn viên", topic=pl.topics[0])
            for i in range(1, n + 1)]


def test_required_units_follow_the_settings(pl):
    org = pl.org
    assert set(Plan.objects.filter(campaign=pl.campaign, required=True)
               .values_list("unit__code", flat=True)) == {
        org.cs1.code, org.cs2.code, org.cshn.code, org.cs3.code}
    plan = pl.plan
    assert plan.status == Plan.Status.NOT_STARTED and plan.review_unit == org.bd
    assert Plan.objects.get(unit=org.cshn).review_unit == org.hn
    # provinces down to districts: the grassroots plans not started are dropped
    services.save_settings(campaign=pl.campaign, actor=pl.organiser, required="levels",
                           highest_level=UnitLevel.objects.get(code="province"),
                           lowest_level=UnitLevel.objects.get(code="district"))
    assert set(Plan.objects.filter(campaign=pl.campaign).values_list(
        "unit__code", flat=True)) == {org.hn.code, org.hp.code, org.bd.code, org.lc.code}
    assert Plan.objects.get(unit=org.hn).review_unit == org.top


def test_a_started_plan_survives_a_change_of_settings(pl):
    _measures(pl, pl.admin, 1)
    services.save_settings(campaign=pl.campaign, actor=pl.organiser, required="none")
    plan = Plan.objects.get(pk=pl.plan.pk)
    assert not plan.required and plan.status == Plan.Status.DRAFT
    assert Plan.objects.filter(campaign=pl.campaign).count() == 1


def test_only_organisers_change_the_settings(pl):
    with pytest.raises(ValidationError):
        services.save_settings(campaign=pl.campaign, actor=pl.parent, required="none")
    with pytest.raises(ValidationError):
        services.save_settings(campaign=pl.campaign, actor=pl.organiser, required="levels")


def test_draft_submit_return_revise_approve(pl):
    measures = _measures(pl, pl.admin)  # the unit admin drafts
    services.edit_measure(measure=measures[1], actor=pl.head, title="Biện pháp hai",
                          owner="Chủ tịch", due_on=DUE, target="2 cuộc đối thoại")
    with pytest.raises(ValidationError):  # the admin may draft, not submit
        services.submit(plan=pl.plan, actor=pl.admin)
    v1 = services.submit(plan=pl.plan, actor=pl.head, client_ref="abc")
    assert services.submit(plan=pl.plan, actor=pl.head, client_ref="abc") == v1  # a retry
    plan = Plan.objects.get(pk=pl.plan.pk)
    assert plan.status == Plan.Status.SUBMITTED and plan.version_count == 1
    assert [m["title"] for m in v1.measures] == ["Biện pháp 1", "Biện pháp hai", "Biện pháp 3"]
    with pytest.raises(ValidationError):  # locked while it waits
        services.add_measure(plan=plan, actor=pl.admin, title="x", owner="y", due_on=DUE,
                             target="z")
    with pytest.raises(ValidationError):  # its own unit does not review it
        services.review(plan=plan, actor=pl.admin, outcome="approved")
    with pytest.raises(ValidationError):  # a return needs comments
        services.review(plan=plan, actor=pl.parent, outcome="returned")
    services.review(plan=plan, actor=pl.parent, outcome="returned",
                    comments="Chỉ tiêu cần đo được.")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.RETURNED
    services.edit_measure(measure=measures[0], actor=pl.admin, title="Biện pháp một",
                          owner="Ban Thường vụ", due_on=DUE, target="100 % đoàn viên")
    v2 = services.submit(plan=plan, actor=pl.head)
    assert v2.number == 2 and v2.measures[0]["title"] == "Biện pháp một"
    assert v1.measures[0]["title"] == "Biện pháp 1"  # a stored version never changes
    services.review(plan=plan, actor=pl.parent, outcome="approved")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.APPROVED and plan.approved_at is not None
    assert list(PlanReview.objects.filter(plan=plan).values_list(
        "version__number", "outcome")) == [(1, "returned"), (2, "approved")]
    assert PlanVersion.objects.filter(plan=plan).count() == 2
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"plans.submit", "plans.review.returned", "plans.review.approved"} <= actions


def test_review_by_an_ancestor_and_not_by_a_sibling(pl):
    _measures(pl, pl.head, 1)
    services.submit(plan=pl.plan, actor=pl.head)
    sibling = user(unit_admin=pl.org.cs2)
    elsewhere = user(unit_admin=pl.org.hp)
    for account in (sibling, elsewhere, user()):
        with pytest.raises(ValidationError):
            services.review(plan=pl.plan, actor=account, outcome="approved")
    services.review(plan=pl.plan, actor=user(organiser=pl.org.hn), outcome="approved")


def test_nothing_to_submit_and_outsiders_cannot_draft(pl):
    with pytest.raises(ValidationError):
        services.submit(plan=pl.plan, actor=pl.head)
    for account in (pl.parent, user(unit_admin=pl.org.cs2), user()):
        with pytest.raises(ValidationError):
            _measures(pl, account, 1)
    with pytest.raises(ValidationError):
        services.add_measure(plan=pl.plan, actor=pl.admin, title="Biện pháp", owner="",
                             due_on=DUE, target="1")
    assert not Measure.objects.exists()


def test_follow_up_after_approval(pl):
    measures = _measures(pl, pl.admin)
    with pytest.raises(ValidationError):
        services.follow_up(measure=measures[0], actor=pl.admin, status="done")
    services.submit(plan=pl.plan, actor=pl.head)
    services.review(plan=pl.plan, actor=pl.parent, outcome="approved")
    services.follow_up(measure=measures[0], actor=pl.admin, status="done",
                       note="Đã tổ chức hội nghị")
    services.follow_up(measure=measures[1], actor=pl.head, status="overdue",
                       note="Chưa bố trí được kinh phí")
    with pytest.raises(ValidationError):
        services.follow_up(measure=measures[2], actor=pl.parent, status="done")
    with pytest.raises(ValidationError):
        services.follow_up(measure=measures[2], actor=pl.admin, status="finished")
    assert dict(Measure.objects.values_list("title", "status")) == {
        "Biện pháp 1": "done", "Biện pháp 2": "overdue", "Biện pháp 3": "planned"}
    assert Measure.objects.overdue(DUE + dt.timedelta(days=1)).count() == 2
    assert Measure.objects.overdue(DUE).count() == 1


def test_a_unit_without_required_plan_may_start_one(pl):
    services.save_settings(campaign=pl.campaign, actor=pl.organiser, required="none")
    assert not Plan.objects.exists()
    with pytest.raises(ValidationError):
        services.plan_for(campaign=pl.campaign, unit=pl.org.cs1, actor=pl.parent)
    plan = services.plan_for(campaign=pl.campaign, unit=pl.org.cs1, actor=pl.admin)
    assert plan.status == Plan.Status.DRAFT and not plan.required
    assert plan.review_unit == pl.org.bd and plan.unit_path == pl.org.cs1.path


@pytest.mark.django_db(transaction=True)
def test_review_notifies_the_units_admins_and_head(pl):
    _measures(pl, pl.admin, 1)
    services.submit(plan=pl.plan, actor=pl.head)
    services.review(plan=pl.plan, actor=pl.parent, outcome="returned", comments="Bổ sung")
    notes = Notification.objects.filter(channel="inapp")
    assert set(notes.values_list("user__username", "kind")) == {
        ("vanphong", "plan_returned"), ("chutich", "plan_returned")}
    services.submit(plan=pl.plan, actor=pl.head)
    services.review(plan=pl.plan, actor=pl.parent, outcome="approved")
    assert notes.filter(kind="plan_approved").count() == 2
    returned = notes.filter(kind="plan_returned").first()
    assert returned.mandatory and returned.context["comments"] == "Bổ sung"
    assert pl.org.cs1.name in subject("plan_returned", returned.context)
    assert any("Bổ sung" in p for p in paragraphs("plan_returned", returned.context))
    assert returned.url.endswith(f"/plans/nq/u/{pl.org.cs1.code}/")
