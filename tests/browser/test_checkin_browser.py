"""Check-in on a phone-sized Chromium: a photo of the invitation's QR code decoded in the
page, a name typed without accents, and a check-in made offline that is kept on the
device and sent when the connection returns."""

import pytest
import segno
from django.urls import reverse
from playwright.sync_api import expect

from quantriet.conference import services
from quantriet.conference.models import Attendance, BridgePoint
from tests.browser.conftest import login
from tests.conference.test_services import conf  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _status(participant):
    return Attendance.objects.get(participant=participant).status


def test_scan_search_and_offline_check_in(page, live_server, tmp_path, conf):  # noqa: F811
    assert page.viewport_size == {"width": 390, "height": 844}
    login(page, live_server, conf.coordinator.username)
    url = reverse("conference:checkin", args=[conf.campaign.slug, conf.hn.code])
    page.goto(f"{live_server.url}{url}")
    # the texts checked below are the English ones
    page.click("form.lang button[value=en]")
    page.wait_for_url(f"{live_server.url}{url}")
    expect(page.locator("h1")).to_contain_text(conf.hn.name)
    expect(page.locator('#counts [data-count="expected"]')).to_have_text("6")

    # (a) a photo of the QR code of Lê Văn A's invitation, decoded in the page
    qr = tmp_path / "invitation.png"
    segno.make(services.invitation_token(conf.part["a"]), error="m").save(
        str(qr), scale=6, border=4)
    page.set_input_files("#qr-photo", str(qr))
    answer = page.locator('#answer [data-outcome="checked_in"]')
    expect(answer).to_contain_text("Lê Văn A checked in")
    expect(page.locator('#counts [data-count="present"]')).to_have_text("1")
    assert _status(conf.part["a"]) == "present"
    # the same photo again: already checked in, at what time
    page.set_input_files("#qr-photo", str(tmp_path / "invitation.png"))
    expect(page.locator('#answer [data-outcome="already"]')).to_contain_text(
        "already checked in at")

    # (b) a name typed without accents
    page.fill("#q", "pham van c")
    row = page.locator(f'#results li[data-participant-id="{conf.part["c"].pk}"]')
    expect(row).to_contain_text("Phạm Văn C")
    expect(page.locator("#results li")).to_have_count(1)
    row.locator(".js-checkin").click()
    expect(page.locator('#answer [data-outcome="checked_in"]')).to_contain_text(
        "Phạm Văn C checked in")
    expect(row.locator(".st")).to_have_attribute("data-status", "present")
    assert _status(conf.part["c"]) == "present"

    # (c) offline: the participant number is kept on the phone
    page.context.set_offline(True)
    expect(page.locator("#offline")).to_be_visible()
    page.fill("#participant-number", str(conf.part["d"].pk))
    page.click("#number-form button[type=submit]")
    waiting = page.locator("#waiting")
    expect(waiting).to_have_attribute("data-waiting", "1")
    expect(waiting).to_have_text("1 waiting to sync")
    expect(page.locator('#answer [data-outcome="queued"]')).to_be_visible()
    assert _status(conf.part["d"]) == "expected"

    # back online: the queue is sent, answered and emptied
    page.context.set_offline(False)
    expect(waiting).to_have_attribute("data-waiting", "0")
    expect(waiting).to_be_hidden()
    expect(page.locator('#answer [data-outcome="synced"] li[data-outcome="checked_in"]')
           ).to_contain_text("Hoàng Thị D checked in")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('qt.checkin.queue'))"
                         ".map(k => JSON.parse(localStorage[k]).length)") == [0]
    att = Attendance.objects.get(participant=conf.part["d"])
    assert att.status == "present" and att.client_ref
    # a reload syncs nothing more: each check-in counted once
    page.reload()
    expect(page.locator('#counts [data-count="present"]')).to_have_text("3")
    hn = BridgePoint.objects.get(pk=conf.hn.pk)
    assert hn.present == Attendance.objects.filter(point=hn, status="present").count() == 3
    assert services.verify_counters(conf.campaign) == []
