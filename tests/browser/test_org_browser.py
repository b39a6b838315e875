"""The main path of the foundation in a real browser, on a phone-sized screen."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories import OrgTree, user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_province_admin_browses_searches_and_switches_language(page, live_server):
    org = OrgTree.build()
    user("tinh", unit_admin=org.hn)
    login(page, live_server, "tinh")

    # Vietnamese by default; the home page lists the right at the province
    expect(page.locator("main")).to_contain_text("Liên đoàn Lao động Thành phố Hà Nội")

    # tree: only the province is a root; expanding loads its children with htmx
    page.goto(f"{live_server.url}/org/")
    tree = page.locator("ul.tree.root")
    expect(tree).to_contain_text("Hà Nội")
    expect(tree).not_to_contain_text("Hải Phòng")
    tree.locator("button.toggle").first.click()
    expect(tree).to_contain_text("Liên đoàn Lao động quận Ba Đình")

    # search without accents finds the unit, live as one types
    page.fill("input[name=q]", "benh vien xanh")
    expect(page.locator("#results")).to_contain_text("Công đoàn Bệnh viện Xanh Pôn")
    page.click("#results a:has-text('Xanh Pôn')")
    expect(page.locator("h1")).to_contain_text("Công đoàn Bệnh viện Xanh Pôn")

    # members of the province, searched without accents, across tone placements
    page.goto(f"{live_server.url}/org/u/{org.hn.code}/?tab=members")
    page.fill("main input[name=q]", "hoa")
    page.press("main input[name=q]", "Enter")
    expect(page.locator("table.list")).to_contain_text("Lê Thị Hoà")

    # another province is a 404
    resp = page.goto(f"{live_server.url}/org/u/{org.hp.code}/")
    assert resp.status == 404

    # switch to English and back
    page.goto(f"{live_server.url}/org/")
    page.click("form.lang button[value=en]")
    expect(page.locator("h1")).to_have_text("Organisation")
    page.click("form.lang button[value=vi]")
    expect(page.locator("h1")).to_have_text(re.compile("Tổ chức"))
