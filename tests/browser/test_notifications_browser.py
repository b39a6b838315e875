"""The one-off reminder in real Chromium, on a phone: a unit administrator of Ba Đình sees
on the progress dashboard how many of the district's participants have not submitted,
sends them a reminder, and a participant finds it in the notification centre."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from quantriet.notifications.models import Kind, Notification
from quantriet.reports import services as reports
from tests.browser.conftest import login
from tests.factories import user
from tests.progress.conftest import prog  # noqa: F401 - fixture
from tests.similarity.test_flags import ORIGINAL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_unit_admin_reminds_from_the_dashboard_and_the_participant_reads_it(
        browser, live_server, prog):  # noqa: F811
    org = prog.org
    reports.submit(participant=prog.part["a"], text=ORIGINAL, actor=prog.authors["a"])
    user("qt.bd", unit_admin=org.bd)
    dashboard = (f"{live_server.url}"
                 f"{reverse('progress:unit', args=[prog.campaign.slug, org.bd.code])}")
    admin = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
    page = admin.new_page()
    page.set_default_timeout(10_000)
    login(page, live_server, "qt.bd")
    page.goto(dashboard)
    remind = page.locator("#remind")
    # b and c in the district's unions, and the chair of CS1; a has submitted
    expect(remind).to_contain_text(f"3 người tham gia thuộc {org.bd.name}")
    remind.get_by_role("button", name="Gửi lời nhắc").click()
    page.wait_for_url(dashboard)
    # b and c have an account and an address (the chair has neither): two notices each
    expect(page.locator("ul.messages")).to_contain_text("Đã xếp 4 lời nhắc")
    admin.close()
    assert Notification.objects.filter(kind=Kind.REPORT_REMINDER,
                                       user=prog.authors["b"]).exists()

    reader = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
    page = reader.new_page()
    page.set_default_timeout(10_000)
    login(page, live_server, "dvb")
    page.goto(f"{live_server.url}{reverse('notifications:centre')}")
    notice = page.get_by_role("button", name="Nhắc việc: đề nghị nộp bài thu hoạch đợt "
                                             "“Học tập Nghị quyết”")
    expect(notice).to_be_visible()
    notice.click()
    # opening it goes to the participant's report, and marks it read
    page.wait_for_url(f"{live_server.url}{reverse('reports:mine', args=[prog.campaign.slug])}")
    assert Notification.objects.get(kind=Kind.REPORT_REMINDER, user=prog.authors["b"],
                                    channel="inapp").read_at is not None
    reader.close()
