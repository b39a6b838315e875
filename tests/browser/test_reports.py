"""A personal learning report in real Chromium: the participant writes it on a phone (live
word count, autosaved draft), submits it; the reviewer returns it for revision with the
keyboard shortcut ``r`` and a comment; the participant sees the comment, revises and
resubmits; the reviewer grades it and the participant sees the grade. The database is
checked after every step."""

import re
import time

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from quantriet.reports import extract
from quantriet.reports.models import GradeLevel, Report, Review, Version
from tests.browser.conftest import login
from tests.factories import user
from tests.reports.conftest import rep  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST = "Bài thu hoạch của tôi về Nghị quyết"
REST = (" Đại hội XIII Công đoàn Việt Nam.\n\nNhận thức về vai trò của tổ chức công đoàn, "
        "liên hệ bản thân trong công tác chăm lo đời sống đoàn viên, và kế hoạch hành động "
        "cụ thể năm 2026.")
REVISION = (" Bổ sung theo góp ý: ba việc làm cụ thể — tổ chức đối thoại định kỳ, "
            "thăm hỏi đoàn viên ốm đau, và tuyên truyền pháp luật lao động tại xưởng.")
COMMENT = "Cần nêu rõ việc làm cụ thể của bản thân và thời hạn thực hiện."


def _eventually(check, timeout=10.0):
    """Wait until ``check()`` is true (the page answers before the test reads the DB)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def _report(data):
    return Report.objects.get(participant=data.part["a"])


def test_write_submit_return_revise_and_grade(page, browser, live_server, rep):  # noqa: F811
    assert page.viewport_size == {"width": 390, "height": 844}
    reviewer = user("cham", reviewer=rep.org.bd)  # the reviewer of a's managing unit
    slug = rep.campaign.slug
    mine = f"{live_server.url}{reverse('reports:mine', args=[slug])}"

    # ---- the participant writes on a phone
    login(page, live_server, rep.authors["a"].username)
    page.goto(mine)
    text = page.locator("#report-text")
    count = page.locator("#word-count")
    state = page.locator("#draft-state")
    expect(count).to_have_text("0")
    expect(state).to_have_text("")
    text.click()
    text.press_sequentially(FIRST)  # key by key: the count follows the typing
    expect(count).to_have_text(str(extract.count_words(FIRST)))  # 8
    text.press_sequentially(REST[:40])
    expect(count).not_to_have_text(str(extract.count_words(FIRST)))
    text.fill(FIRST + REST)
    typed = FIRST + REST
    expect(count).to_have_text(str(extract.count_words(typed)))
    # autosaved 2.5 s after typing stops: "Draft saved at HH:MM."
    expect(state).to_have_text(re.compile(r"\d\d:\d\d"), timeout=15_000)
    expect(state).not_to_have_class(re.compile(r"error"))
    _eventually(lambda: _report(rep).draft == typed)
    report = _report(rep)
    assert report.status == Report.Status.DRAFT and report.draft_saved_at is not None
    assert not Version.objects.exists()

    page.click("#report-form button[type=submit]")
    expect(page.locator("main .messages li.success")).to_be_visible()
    expect(page.locator("#report-text")).to_have_count(0)  # no editor once submitted
    expect(page.locator(".history .version")).to_have_count(1)
    report = _report(rep)
    assert report.status == Report.Status.SUBMITTED
    assert report.version_count == 1 and report.reviewer == reviewer
    v1 = Version.objects.get(report=report)
    assert (v1.number, v1.text, v1.kind) == (1, typed, "text") and len(v1.client_ref) >= 16
    assert not Review.objects.exists()

    # ---- the reviewer, on a desktop screen, returns it for revision with the keyboard
    desk = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    rpage = desk.new_page()
    rpage.set_default_timeout(10_000)
    try:
        login(rpage, live_server, reviewer.username)
        queue = f"{live_server.url}{reverse('reports:queue', args=[slug])}"
        rpage.goto(queue)
        rpage.click(f"table.list a:has-text('{rep.people['a'].full_name}')")
        expect(rpage.locator("#report-body")).to_contain_text("kế hoạch hành động")
        expect(rpage.locator("#report-body p")).to_have_count(2)  # the paragraphs kept
        returned = rpage.locator("input[name=outcome][value=returned]")
        comments = rpage.locator("#review-form textarea[name=comments]")
        expect(returned).not_to_be_checked()
        rpage.wait_for_load_state("load")  # the deferred review.js has run
        rpage.keyboard.press("r")  # shortcut: choose "returned", focus the comments
        expect(returned).to_be_checked()
        expect(comments).to_be_focused()
        rpage.keyboard.type(COMMENT)  # typed into the focused field
        expect(comments).to_have_value(COMMENT)
        rpage.click("#review-form button[type=submit]")
        rpage.wait_for_url(re.compile(re.escape(queue)))
        expect(rpage.locator("main .messages li.success")).to_be_visible()

        report = _report(rep)
        assert report.status == Report.Status.RETURNED and report.version_count == 1
        assert Version.objects.filter(report=report).count() == 1
        (r1,) = Review.objects.all()
        assert (r1.report_id, r1.version_id, r1.reviewer_id) == (report.pk, v1.pk, reviewer.pk)
        assert r1.outcome == "returned" and r1.grade is None and r1.comments == COMMENT

        # ---- the participant sees the comment, revises and resubmits
        page.goto(mine)
        expect(page.locator("section.returned")).to_contain_text(COMMENT)
        expect(page.locator("#report-text")).to_have_value(typed)
        expect(page.locator("#report-status")).to_have_text(re.compile(r"\S"))
        page.locator("#report-text").press("End")
        page.locator("#report-text").press_sequentially(REVISION[:30])
        page.locator("#report-text").fill(typed + REVISION)
        expect(count).to_have_text(str(extract.count_words(typed + REVISION)))
        page.click("#report-form button[type=submit]")
        expect(page.locator(".history .version")).to_have_count(2)
        report = _report(rep)
        assert report.status == Report.Status.SUBMITTED and report.version_count == 2
        assert report.reviewer == reviewer  # back to the reviewer who returned it
        v2 = Version.objects.get(report=report, number=2)
        assert v2.text == typed + REVISION and v2.client_ref != v1.client_ref
        assert Version.objects.filter(report=report).count() == 2
        assert Review.objects.count() == 1

        # ---- the reviewer grades the new version
        rpage.goto(queue)
        rpage.click(f"table.list a:has-text('{rep.people['a'].full_name}')")
        expect(rpage.locator("#report-body")).to_contain_text("thăm hỏi đoàn viên")
        good = GradeLevel.objects.filter(campaign=rep.campaign).order_by("order", "pk")[1]
        rpage.wait_for_load_state("load")
        rpage.keyboard.press("g")  # shortcut: choose "graded", focus the first grade
        expect(rpage.locator("input[name=outcome][value=graded]")).to_be_checked()
        rpage.check(f"input[name=grade][value='{good.pk}']")
        rpage.fill("#review-form textarea[name=comments]", "Đã bổ sung đầy đủ.")
        rpage.click("#review-form button[type=submit]")
        rpage.wait_for_url(re.compile(re.escape(queue)))

        report = _report(rep)
        assert report.status == Report.Status.GRADED and report.grade == good
        assert report.graded_at is not None and report.version_count == 2
        assert Version.objects.filter(report=report).count() == 2
        reviews = list(Review.objects.order_by("created_at", "pk"))
        assert [(r.outcome, r.version.number) for r in reviews] == [("returned", 1),
                                                                    ("graded", 2)]
        assert reviews[1].grade == good and reviews[1].reviewer == reviewer
    finally:
        desk.close()

    # ---- the participant sees the grade; nothing left to edit
    page.goto(mine)
    expect(page.locator("#report-grade")).to_have_text(good.label)
    expect(page.locator("#report-text")).to_have_count(0)
    expect(page.locator(".history .version").first).to_contain_text("Đã bổ sung đầy đủ.")
