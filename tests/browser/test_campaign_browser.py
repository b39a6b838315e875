"""The main path of campaigns in a real browser, on a phone-sized screen: an organiser
creates a campaign, adds the preset rules, previews and applies the roster, and opens a
participant's page to see the rule that selected them."""

import re

import pytest
from playwright.sync_api import expect

from quantriet.campaigns.models import Campaign
from tests.browser.conftest import login
from tests.factories import OrgTree, person, position, user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHAIR_RULE = "Chủ tịch công đoàn cơ sở có từ 2.000 đoàn viên trở lên"


def test_organiser_creates_a_campaign_and_freezes_its_roster(page, live_server):
    org = OrgTree.build()  # binh chairs CS1 (2,500 members); chu is full-time BCH at HN
    kiem = person(org.cs1, "Lê Văn Kiểm")
    position(kiem, org.bd, "uv_ubkt")
    user("tochuc", organiser=org.hn)
    login(page, live_server, "tochuc")

    # the campaign list, from the main navigation; create a campaign of the province
    page.click("header a[href='/campaigns/']")
    page.fill("#id_owner_unit", org.hn.code)
    page.fill("#id_slug", "nq-xiii-hn")
    page.fill("#id_title", "Quán triệt Nghị quyết Đại hội XIII Công đoàn Việt Nam")
    page.fill("#id_conference_date", "15/08/2025")
    page.fill("#id_report_deadline", "30/09/2025")
    page.click("#new-campaign button.primary")
    expect(page.locator("h1")).to_contain_text("Quán triệt Nghị quyết Đại hội XIII")
    expect(page.locator("main")).to_contain_text("15/08/2025")
    assert Campaign.objects.get().owner_unit == org.hn

    # Rules tab: no rules yet, add the three preset rules of 2018
    page.click("nav.tabs a[href$='?tab=rules']")
    page.click("#add-preset")
    expect(page.locator("main table.list")).to_contain_text(CHAIR_RULE)
    expect(page.locator("#add-preset")).to_have_count(0)

    # preview: nothing written yet; three people would be added
    page.click("main a[href$='/roster/preview/']")
    expect(page.locator("#n-added")).to_have_text("3")
    expect(page.locator("table.added")).to_contain_text("Nguyễn Văn Bình")
    assert not Campaign.objects.get().participants.exists()

    # apply: back on the Roster tab with the frozen roster
    page.click("#apply-roster")
    page.wait_for_url(re.compile(r"tab=roster"))
    roster = page.locator("table.roster")
    expect(roster).to_contain_text("Nguyễn Văn Bình")
    expect(roster).to_contain_text("Đỗ Văn Chung")
    expect(roster).to_contain_text("Lê Văn Kiểm")
    assert Campaign.objects.get().participants.filter(active=True).count() == 3

    # the participant page says why Bình was selected and where his report goes
    roster.locator("a:has-text('Nguyễn Văn Bình')").click()
    expect(page.locator("h1")).to_contain_text("Nguyễn Văn Bình")
    expect(page.locator("#why")).to_contain_text(CHAIR_RULE)
    expect(page.locator("main .facts")).to_contain_text(org.bd.name)
