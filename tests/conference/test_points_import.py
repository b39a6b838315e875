"""Bridge points from a sheet, editing a point, moving a whole unit."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from quantriet.conference import point_import, services
from quantriet.conference.models import Attendance, BridgePoint
from quantriet.core.models import AuditEvent
from quantriet.imports.spreadsheets import write_xlsx
from tests.conference.test_services import conf  # noqa: F401 - fixture
from tests.factories import user
from tests.permissions import check_matrix


def _client(account):
    c = Client()
    c.force_login(account)
    return c


def _csv(text: str, name: str = "diem-cau.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8-sig"), content_type="text/csv")


def _snapshot(campaign):
    return list(BridgePoint.objects.filter(campaign=campaign).order_by("code").values_list(
        "code", "name", "address", "capacity", "stream_url", "starts_at"))


def test_read_sheet_vietnamese_headers_without_accents():
    sheet = point_import.read_sheet(io.BytesIO(
        "Ma don vi chu tri;Dia chi;Suc chua;Bat dau;Ket thuc;Ghi chu\n"
        "LDLD-01;Số 1 Tông Đản;250;15/12/2026 8h30;15/12/2026 11:00;x\n".encode()), "a.csv")
    assert sheet.errors == [] and sheet.ignored_headers == ["Ghi chu"]
    row = sheet.rows[0]
    assert (row.host_unit, row.code, row.address, row.capacity) == (
        "LDLD-01", "LDLD-01", "Số 1 Tông Đản", 250)
    assert (row.starts_at.hour, row.starts_at.minute, row.ends_at.hour) == (8, 30, 11)


def test_read_sheet_reports_each_bad_row():
    sheet = point_import.read_sheet(io.BytesIO(
        b"host_unit,capacity,stream_url,starts_at,ends_at\n"
        b"LDLD-01,many,,,\n"
        b"LDLD-31,10,ftp://x,,\n"
        b",10,,,\n"
        b"HN-BD,10,,31/02/2026 08:00,\n"
        b"HP-LC,10,,15/12/2026 10:00,15/12/2026 09:00\n"), "a.csv")
    assert [line for line, _m in sheet.errors] == [2, 3, 4, 5, 6]
    assert sheet.rows == []


def test_import_creates_updates_and_adds_coordinators(conf):  # noqa: F811
    helper = user("dp.hanoi")
    c = _client(conf.organiser)
    url = reverse("conference:import_points", args=[conf.campaign.slug])
    buf = io.BytesIO()
    write_xlsx(buf, {"Điểm cầu": (
        ["Mã đơn vị chủ trì", "Tên điểm cầu", "Địa chỉ", "Sức chứa", "Tài khoản điều phối"],
        iter([["LDLD-01", "Hội trường LĐLĐ Hà Nội", "Số 1 Tông Đản", 300, "dp.hanoi"],
              ["HN-BD", "", "Ba Đình", 40, ""]]))})
    page = c.post(url, {"file": SimpleUploadedFile("points.xlsx", buf.getvalue())})
    assert page.status_code == 302
    hn = BridgePoint.objects.get(campaign=conf.campaign, code="LDLD-01")
    assert (hn.name, hn.address, hn.capacity) == ("Hội trường LĐLĐ Hà Nội", "Số 1 Tông Đản", 300)
    assert list(hn.coordinators.filter(pk=helper.pk)) == [helper]
    bd = BridgePoint.objects.get(campaign=conf.campaign, code="HN-BD")
    assert bd.capacity == 40 and "Ba Đình" in bd.name and not bd.is_central
    assert AuditEvent.objects.filter(action="conference.points.import").count() == 1


def test_import_with_one_bad_row_changes_nothing(conf):  # noqa: F811
    before = _snapshot(conf.campaign)
    c = _client(conf.organiser)
    url = reverse("conference:import_points", args=[conf.campaign.slug])
    page = c.post(url, {"file": _csv("Mã đơn vị chủ trì,Sức chứa,Tài khoản điều phối\n"
                                     "LDLD-01,100,\n"
                                     "KHONG-CO,100,\n"
                                     "LDLD-31,100,ai.do\n")})
    text = page.content.decode()
    assert page.status_code == 200
    assert "KHONG-CO" in text and "ai.do" in text
    assert _snapshot(conf.campaign) == before
    # a unit outside the organising unit's subtree is refused too
    from quantriet.campaigns import services as campaigns

    local = campaigns.create_campaign(slug="hp", title="HP", owner_unit=conf.org.hp,
                                      actor=conf.organiser)
    sheet = point_import.read_sheet(io.BytesIO(b"host_unit\nLDLD-01\n"), "a.csv")
    result = services.import_points(campaign=local, sheet=sheet, actor=conf.organiser)
    assert result.errors and result.created == 0
    assert not local.bridge_points.exists()


def test_import_refuses_unreadable_files(conf):  # noqa: F811
    c = _client(conf.organiser)
    url = reverse("conference:import_points", args=[conf.campaign.slug])
    before = _snapshot(conf.campaign)
    for upload in (SimpleUploadedFile("x.xlsx", b"not a workbook"),
                   SimpleUploadedFile("x.pdf", b"%PDF-1.4"),
                   _csv("a,b\n1,2\n"),
                   # 0x81 is undefined in Windows-1258 and invalid UTF-8
                   SimpleUploadedFile("x.csv", b"host_unit\nLDLD-01\x81\n"),
                   SimpleUploadedFile("big.csv", b"x" * (point_import.MAX_BYTES + 1))):
        page = c.post(url, {"file": upload})
        assert page.status_code == 200 and 'class="error"' in page.content.decode()
    assert _snapshot(conf.campaign) == before


def test_template_reads_back(conf):  # noqa: F811
    c = _client(conf.organiser)
    data = c.get(reverse("conference:points_template", args=[conf.campaign.slug])).content
    book = load_workbook(io.BytesIO(data))
    header = [cell.value for cell in next(book.active.iter_rows(max_row=1))]
    assert "Mã đơn vị chủ trì" in header or "Host unit code" in header
    sheet = point_import.read_sheet(io.BytesIO(data), "t.xlsx")
    assert sheet.errors == [] and sheet.rows[0].capacity == 300


def test_edit_point(conf):  # noqa: F811
    c = _client(conf.organiser)
    url = reverse("conference:edit_point", args=[conf.campaign.slug, conf.hn.code])
    page = c.post(url, {"name": "Điểm cầu Hà Nội", "address": "Số 1 Tông Đản",
                        "capacity": "120", "stream_url": "https://meet.example.vn/hn",
                        "starts_at": "15/12/2026 08:00", "ends_at": "15/12/2026 07:00"})
    assert page.status_code == 200
    conf.hn.refresh_from_db()
    assert conf.hn.capacity is None
    page = c.post(url, {"name": "Điểm cầu Hà Nội", "address": "Số 1 Tông Đản",
                        "capacity": "120", "stream_url": "https://meet.example.vn/hn",
                        "starts_at": "15/12/2026 08:00", "ends_at": "15/12/2026 11:30"})
    assert page.status_code == 302
    conf.hn.refresh_from_db()
    assert conf.hn.capacity == 120
    from django.utils import timezone

    assert timezone.localtime(conf.hn.starts_at).strftime("%d/%m/%Y %H:%M") == \
        "15/12/2026 08:00"
    detail = c.get(reverse("conference:point", args=[conf.campaign.slug, conf.hn.code]))
    assert "08:00 15/12/2026" in detail.content.decode()
    check_matrix(url, unit=conf.org.top, ancestor=conf.org.top, elsewhere=conf.org.hp,
                 role="organiser")


def test_move_whole_unit(conf):  # noqa: F811
    c = _client(conf.organiser)
    slug = conf.campaign.slug
    page = c.post(reverse("conference:bulk_move", args=[slug]),
                  {"unit": conf.org.hn.code, "point": conf.central.code})
    assert page.status_code == 302
    moved = Attendance.objects.filter(participant__unit__path__startswith=conf.org.hn.path)
    assert moved.exists() and all(a.point_id == conf.central.pk and a.overridden
                                  for a in moved)
    assert services.verify_counters(conf.campaign) == []
    # kept by a later default assignment
    services.assign_default(campaign=conf.campaign, actor=conf.organiser)
    assert not Attendance.objects.filter(participant__unit__path__startswith=conf.org.hn.path,
                                         point=conf.hn).exists()
    # an unknown unit changes nothing
    c.post(reverse("conference:bulk_move", args=[slug]), {"unit": "NOPE", "point": "LDLD-31"})
    assert services.verify_counters(conf.campaign) == []
    assert Attendance.objects.filter(point=conf.hp).count() == 1


def test_participant_and_coordinator_find_their_point(conf):  # noqa: F811
    from quantriet.org.models import Person

    member = user("levana")
    Person.objects.filter(pk=conf.p["a"].pk).update(user=member)
    conf.campaign.__class__.objects.filter(pk=conf.campaign.pk).update(status="published")
    services.update_point(point=conf.hn, actor=conf.organiser, address="Số 1 Tông Đản")
    page = _client(member).get(reverse("campaigns:mine")).content.decode()
    assert conf.hn.name in page and "Số 1 Tông Đản" in page
    detail = _client(conf.organiser).get(
        reverse("campaigns:participant", args=[conf.campaign.slug, conf.part["a"].pk]))
    assert conf.hn.name in detail.content.decode()
    home = _client(conf.coordinator).get("/").content.decode()
    assert reverse("conference:checkin", args=[conf.campaign.slug, conf.hn.code]) in home
