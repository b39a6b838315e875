"""Import main path in Chromium: upload → check → apply, with the task worker's part run
by the test between page loads."""

import io
import zipfile

import pytest
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import expect

from quantriet.imports import services
from quantriet.imports.models import ImportJob
from quantriet.org.models import Person
from tests.browser.conftest import login
from tests.factories import OrgTree, user
from tests.imports.test_engine import MEMBERS, MEMBERS_H, UNITS, UNITS_H
from tests.imports.test_views import _csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _worker():
    for result in DBTaskResult.objects.filter(status="READY"):
        services.run_job(result.args_kwargs["args"][0])
        result.delete()


def test_upload_check_and_apply(page, live_server, tmp_path):
    org = OrgTree.build()
    user("tinh", unit_admin=org.hn)
    path = tmp_path / "danh-sach.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("don_vi.csv", _csv(UNITS_H, UNITS))
        zf.writestr("doan_vien.csv", _csv(MEMBERS_H, MEMBERS))
    path.write_bytes(buf.getvalue())

    login(page, live_server, "tinh")
    page.click("header a[href='/imports/']")
    page.set_input_files("#id_file", str(path))
    page.click("main button.primary")
    expect(page.locator("h1")).to_have_text("danh-sach.zip")
    _worker()
    page.reload()
    expect(page.locator("main table.list")).to_contain_text("Đoàn viên")
    apply = page.locator("form[action$='/apply/'] button")
    expect(apply).to_be_visible()
    assert not Person.objects.filter(member_code="DV001").exists()
    apply.click()
    _worker()
    page.reload()
    assert ImportJob.objects.get().status == "applied"
    assert Person.objects.get(member_code="DV001").unit.code == "HN-BD-CS5"
    expect(page.locator("form[action$='/apply/']")).to_have_count(0)
    expect(page.locator("#status")).to_contain_text("đã áp dụng")
