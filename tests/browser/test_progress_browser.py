"""The progress pages in real Chromium, on a phone: a unit administrator of Hà Nội goes
from the campaign page to the progress of their federation, drills down to a grassroots
union and its participants, and downloads the results report."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from quantriet.conference import services as conference
from quantriet.reports import services as reports
from tests.browser.conftest import login
from tests.factories import user
from tests.progress.conftest import prog  # noqa: F401 - fixture
from tests.similarity.test_flags import ORIGINAL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_drill_down_and_download(page, live_server, prog):  # noqa: F811
    org = prog.org
    conference.check_in(point=prog.hn, participant=prog.part["a"], actor=prog.organiser)
    reports.submit(participant=prog.part["a"], text=ORIGINAL, actor=prog.authors["a"])
    user("truongdv", unit_admin=org.hn)
    login(page, live_server, "truongdv")
    page.goto(f"{live_server.url}{reverse('campaigns:detail', args=[prog.campaign.slug])}")
    page.get_by_role("link", name="Tiến độ và báo cáo kết quả").click()
    expect(page.locator("h1")).to_contain_text(org.hn.name)  # their own federation
    expect(page.locator("#figures")).to_contain_text("Triệu tập")
    assert page.locator("svg.chart").count() >= 2  # drawn on the server
    page.locator("table.progress-table").get_by_role("link", name=org.bd.name).click()
    expect(page.locator("h1")).to_contain_text(org.bd.name)
    page.locator("table.progress-table").get_by_role("link", name=org.cs1.name).click()
    expect(page.locator("#participants")).to_contain_text("Lê Văn An")
    expect(page.locator("#participants")).to_contain_text("Có mặt")
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel (.xlsx)").click()
    assert download.value.suggested_filename.endswith(f"{org.cs1.code.lower()}.xlsx")
    # the nation is out of their scope
    page.goto(f"{live_server.url}"
              f"{reverse('progress:unit', args=[prog.campaign.slug, org.top.code])}")
    expect(page.locator("body")).not_to_contain_text("Triệu tập")
