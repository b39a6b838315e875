"""A unit action plan in real Chromium: the head of a grassroots union writes a plan with
three measures on a phone and submits it; the parent unit returns it with a comment; the
union revises a measure and submits again; the parent approves it and sees it counted on
its progress dashboard. The database is checked after every step."""

import datetime as dt

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from quantriet.plans.models import Measure, Plan, PlanReview, PlanVersion
from tests.browser.conftest import login
from tests.plans.conftest import pl  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MEASURES = [
    ("Tổ chức đối thoại định kỳ với người sử dụng lao động", "Ban Thường vụ", "30/06/2030",
     "2 cuộc đối thoại mỗi năm"),
    ("Tuyên truyền Nghị quyết tới toàn thể đoàn viên", "Tổ tuyên giáo", "31/03/2030",
     "100 % đoàn viên được phổ biến"),
    ("Phát triển đoàn viên mới trong doanh nghiệp", "Chủ tịch công đoàn", "31/12/2030",
     "Thêm 50 đoàn viên"),
]
COMMENT = "Chỉ tiêu thứ nhất cần nêu rõ số người lao động tham gia."
REVISED = "2 cuộc đối thoại mỗi năm, mỗi cuộc ít nhất 100 người lao động"


def _plan(data):
    return Plan.objects.get(pk=data.plan.pk)


def test_submit_return_revise_approve(page, browser, live_server, pl):  # noqa: F811
    url = f"{live_server.url}{reverse('plans:unit', args=[pl.campaign.slug, pl.org.cs1.code])}"

    # ---- the union's head writes three measures on a phone and submits
    login(page, live_server, pl.head.username)
    page.goto(f"{live_server.url}{reverse('plans:index', args=[pl.campaign.slug])}")
    page.click(f"#own-plans a[href$='/u/{pl.org.cs1.code}/']")
    expect(page.locator("h1")).to_contain_text(pl.org.cs1.name)
    for i, (title, owner, due, target) in enumerate(MEASURES):
        page.fill("#id_new-title", title)
        page.select_option("#id_new-topic", str(pl.topics[i % 2].pk))
        page.fill("#id_new-owner", owner)
        page.fill("#id_new-due_on", due)
        page.fill("#id_new-target", target)
        page.click("#add-measure button[type=submit]")
        expect(page.locator("#measures .measure")).to_have_count(i + 1)
    assert list(Measure.objects.filter(plan=pl.plan).values_list("title", "due_on")) == [
        (MEASURES[0][0], dt.date(2030, 6, 30)), (MEASURES[1][0], dt.date(2030, 3, 31)),
        (MEASURES[2][0], dt.date(2030, 12, 31))]
    page.click("#submit-plan")
    expect(page.locator("main .messages li.success")).to_be_visible()
    expect(page.locator("#add-measure")).to_have_count(0)  # locked while it waits
    plan = _plan(pl)
    assert plan.status == Plan.Status.SUBMITTED and plan.version_count == 1

    # ---- the parent unit returns it with a comment
    desk = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    parent = desk.new_page()
    parent.set_default_timeout(10_000)
    login(parent, live_server, pl.parent.username)
    parent.goto(f"{live_server.url}{reverse('plans:index', args=[pl.campaign.slug])}")
    parent.click(f"#waiting a[href$='/u/{pl.org.cs1.code}/']")
    expect(parent.locator("#measures .measure")).to_have_count(3)
    parent.check("#review-form input[name=outcome][value=returned]")
    parent.fill("#id_comments", COMMENT)
    parent.click("#review-form button[type=submit]")
    expect(parent.locator("main .messages li.success")).to_be_visible()
    expect(parent.locator("#review-form")).to_have_count(0)
    assert _plan(pl).status == Plan.Status.RETURNED
    assert PlanReview.objects.get().comments == COMMENT

    # ---- the union sees the comment, revises the first measure, submits again
    page.goto(url)
    expect(page.locator("#returned-note")).to_contain_text(COMMENT)
    first = page.locator("#measures .measure").first
    first.locator("summary").click()
    target = first.locator("input[name$='-target']")
    target.fill(REVISED)
    first.locator("form.edit-measure button[type=submit]").click()
    expect(page.locator("#measures .measure").first).to_contain_text(REVISED)
    assert Measure.objects.filter(plan=pl.plan, target=REVISED).count() == 1
    page.click("#submit-plan")
    expect(page.locator("main .messages li.success")).to_be_visible()
    plan = _plan(pl)
    assert plan.status == Plan.Status.SUBMITTED and plan.version_count == 2

    # ---- the parent approves; the history shows both rounds
    parent.goto(url)
    parent.check("#review-form input[name=outcome][value=approved]")
    parent.click("#review-form button[type=submit]")
    expect(parent.locator("main .messages li.success")).to_be_visible()
    expect(parent.locator(".history .round")).to_have_count(2)
    plan = _plan(pl)
    assert plan.status == Plan.Status.APPROVED
    assert list(PlanReview.objects.order_by("pk").values_list("version__number", "outcome")) \
        == [(1, "returned"), (2, "approved")]
    versions = {v.number: v for v in PlanVersion.objects.filter(plan=plan)}
    assert versions[1].measures[0]["target"] == MEASURES[0][3]
    assert versions[2].measures[0]["target"] == REVISED

    # ---- the parent's dashboard counts the approved plan and its measures
    parent.goto(f"{live_server.url}"
                f"{reverse('progress:unit', args=[pl.campaign.slug, pl.org.bd.code])}")
    expect(parent.locator("#plans-required")).to_have_text("2")  # CS1 and CS2
    expect(parent.locator("#plans-approved")).to_have_text("1")
    expect(parent.locator("#measures-total")).to_have_text("3")
    expect(parent.locator(f"#plans-table tr[data-unit='{pl.org.cs1.code}'] td").nth(3)) \
        .to_have_text("1")
    desk.close()
