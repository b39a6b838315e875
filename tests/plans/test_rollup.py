"""The roll-up of plans and measures by child unit: on the progress dashboard and in the
official results report, equal to counts made directly in the database."""

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from quantriet.org import tree
from quantriet.plans import queries, services
from quantriet.plans.models import Measure, Plan
from quantriet.progress import documents
from tests.factories import person, position, user

pytestmark = pytest.mark.django_db

TODAY = dt.date(2030, 3, 1)
PAST, LATER = dt.date(2030, 2, 1), dt.date(2030, 12, 31)


def _head(unit, name):
    account = user()
    p = person(unit, name)
    position(p, unit, "chu_tich")
    type(p).objects.filter(pk=p.pk).update(user=account)
    return account


def _approved(pl, unit, head, parent, dues):
    plan = Plan.objects.get(campaign=pl.campaign, unit=unit)
    ms = [services.add_measure(plan=plan, actor=head, title=f"Biện pháp {i}", owner="BTV",
                               due_on=due, target="1") for i, due in enumerate(dues)]
    services.submit(plan=plan, actor=head)
    services.review(plan=plan, actor=parent, outcome="approved")
    return ms


@pytest.fixture
def spread(pl):
    """CS1 approved (3 measures: done, overdue by date, in progress), CS2 submitted,
    CS3 approved (2 measures: marked overdue, planned), CSHN not started."""
    org = pl.org
    ms = _approved(pl, org.cs1, pl.head, pl.parent, [LATER, PAST, LATER])
    services.follow_up(measure=ms[0], actor=pl.head, status="done")
    services.follow_up(measure=ms[2], actor=pl.head, status="in_progress")
    head2 = _head(org.cs2, "Hoàng Văn Nam")
    services.add_measure(plan=Plan.objects.get(unit=org.cs2), actor=head2, title="Biện pháp",
                         owner="BTV", due_on=PAST, target="1")
    services.submit(plan=Plan.objects.get(unit=org.cs2), actor=head2)
    head3 = _head(org.cs3, "Đinh Thị Lan")
    ms3 = _approved(pl, org.cs3, head3, user(unit_admin=org.lc), [LATER, LATER])
    services.follow_up(measure=ms3[0], actor=head3, status="overdue", note="Thiếu kinh phí")
    return pl


def _db_counts(campaign, unit, on):
    plans = Plan.objects.filter(campaign=campaign, unit__path__startswith=unit.path)
    measures = Measure.objects.filter(plan__in=plans.filter(status="approved"))
    return (plans.filter(required=True).count(), plans.filter(version_count__gt=0).count(),
            plans.filter(status="approved").count(), measures.count(),
            measures.filter(status="done").count(), measures.overdue(on).count())


def _fig(t):
    return (t.required, t.submitted, t.approved, t.measures, t.done, t.overdue)


def test_rollup_equals_database_counts(spread):
    pl = spread
    org = pl.org
    for unit in (org.top, org.hn, org.bd, org.hp, org.cs1, org.cs3):
        roll = queries.rollup(pl.campaign, unit, TODAY)
        assert _fig(roll.totals) == _db_counts(pl.campaign, unit, TODAY), unit.code
        for line in roll.lines:
            if not line.own:
                assert _fig(line.totals) == _db_counts(pl.campaign, line.unit, TODAY)
    top = queries.rollup(pl.campaign, org.top, TODAY)
    assert _fig(top.totals) == (4, 3, 2, 5, 1, 2)
    assert [line.unit.code for line in top.lines] == [org.hn.code, org.hp.code]
    bd = queries.rollup(pl.campaign, org.bd, TODAY)
    assert {line.unit.code: _fig(line.totals) for line in bd.lines} == {
        org.cs1.code: (1, 1, 1, 3, 1, 1), org.cs2.code: (1, 1, 0, 0, 0, 0)}
    overdue = queries.overdue_measures(pl.campaign, org.top, TODAY)
    assert [m.title for m in overdue] == ["Biện pháp 1", "Biện pháp 0"]


def test_the_unit_s_own_plan_is_a_line(spread):
    pl = spread
    services.save_settings(campaign=pl.campaign, actor=pl.organiser, required="participants")
    plan = services.plan_for(campaign=pl.campaign, unit=pl.org.bd, actor=pl.parent)
    assert plan.review_unit == pl.org.hn
    roll = queries.rollup(pl.campaign, pl.org.bd, TODAY)
    own = [line for line in roll.lines if line.own]
    assert len(own) == 1 and own[0].unit == pl.org.bd
    assert roll.totals.submitted == 2 and roll.totals.required == 0
    assert tree.depth_of(own[0].unit.path) == 2


def test_dashboard_and_results_report_show_the_same_figures(spread, monkeypatch):
    pl = spread
    monkeypatch.setattr(queries, "today", lambda: TODAY)
    c = Client()
    c.force_login(pl.organiser)
    page = c.get(reverse("progress:unit", args=[pl.campaign.slug, pl.org.top.code]))
    assert page.status_code == 200
    figures = page.context["plans"]["roll"].totals
    assert _fig(figures) == _db_counts(pl.campaign, pl.org.top, TODAY)
    html = page.content.decode()
    assert 'id="plans-table"' in html and 'id="overdue-measures"' in html
    data = documents.results_xlsx(pl.campaign, pl.org.top)
    sheet = load_workbook(io.BytesIO(data))["Chương trình hành động"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=5)]
    assert rows[-1][1] == "Tổng cộng"
    assert tuple(rows[-1][2:]) == _db_counts(pl.campaign, pl.org.top, TODAY)
    assert [r[1] for r in rows[:-1]] == [pl.org.hn.name, pl.org.hp.name]
    pdf = documents.results_pdf(pl.campaign, pl.org.top)
    assert pdf.startswith(b"%PDF")


def test_no_plans_no_section(org):
    from quantriet.campaigns import services as campaigns

    organiser = user(organiser=org.top)
    campaign = campaigns.create_campaign(slug="khong", title="Không kế hoạch",
                                         owner_unit=org.top, actor=organiser)
    assert queries.rollup(campaign, org.top).lines == []
    assert "Chương trình hành động" not in load_workbook(io.BytesIO(
        documents.results_xlsx(campaign, org.top))).sheetnames
