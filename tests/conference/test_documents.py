"""Conference documents: rosters (XLSX, PDF), invitation letters with the signed QR code,
the ZIP of a point, and who may download them."""

import datetime as dt
import io
import unicodedata
import zipfile

import openpyxl
import pytest
import zxingcpp
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ContentStream

from quantriet.campaigns import services as campaigns
from quantriet.conference import documents, services
from quantriet.conference.models import BridgePoint
from quantriet.org.models import Person
from quantriet.text import person_sort_key
from tests.conference.test_services import conf  # noqa: F401 - fixture
from tests.factories import person, user
from tests.permissions import check_matrix

ISSUED = dt.date(2026, 1, 5)
TITLE = "Nghị quyết Đại hội XIII Công đoàn Việt Nam"
ADDRESS = "Số 1 phố Đinh Lễ, phường Tràng Tiền, Hà Nội"


@pytest.fixture
def docs(conf):  # noqa: F811
    """The Hà Nội point with an address and a session time; three more participants whose
    Vietnamese order differs from code-point and from accent-folded order."""
    start = timezone.make_aware(dt.datetime(2026, 2, 2, 8, 0))
    BridgePoint.objects.filter(pk=conf.hn.pk).update(
        address=ADDRESS, starts_at=start, ends_at=start + dt.timedelta(hours=3, minutes=30))
    campaigns.update_campaign(campaign=conf.campaign, actor=conf.organiser, title=TITLE)
    campaigns.add_topic(campaign=conf.campaign, title="Chuyên đề 1: Đổi mới tổ chức công đoàn",
                        actor=conf.organiser)
    for name in ("Hồ Bảo", "Phạm Thị Ân", "Lý Văn Ánh"):
        campaigns.add_participant(campaign=conf.campaign, person=person(conf.org.cs2, name),
                                  reason="Khách mời", actor=conf.organiser)
    services.assign_default(campaign=conf.campaign, actor=conf.organiser)
    conf.hn = BridgePoint.objects.select_related("campaign__owner_unit").get(pk=conf.hn.pk)
    return conf


def _text(pdf: bytes) -> list[str]:
    """The text of each page, lines joined by spaces (long lines wrap)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


EXPECTED_ORDER = ["Lê Văn A", "Lý Văn Ánh", "Phạm Thị Ân", "Trần Thị B", "Hồ Bảo",
                  "Nguyễn Văn Bình", "Phạm Văn C", "Đỗ Văn Chung", "Hoàng Thị D"]


def test_roster_is_in_vietnamese_order(docs):
    names = [r.name for r in documents.roster_rows(docs.hn)]
    assert names == EXPECTED_ORDER
    assert names == sorted(names, key=person_sort_key)
    assert names != sorted(names)  # code-point order puts "Bảo" before "Ánh"


def test_roster_xlsx(docs):
    att = docs.part["b"].attendance
    services.excuse(attendance=att, reason="=1+2 ốm", actor=docs.coordinator)
    services.check_in(point=docs.hn, participant=docs.part["a"], actor=docs.coordinator,
                      at=timezone.make_aware(dt.datetime(2026, 2, 2, 7, 55)))
    wb = openpyxl.load_workbook(io.BytesIO(documents.roster_xlsx(docs.hn)))
    ws = wb[docs.hn.code]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == tuple(documents.XLSX_HEADER)
    assert [r[3] for r in rows[1:]] == EXPECTED_ORDER
    assert [r[0] for r in rows[1:]] == list(range(1, 10))
    by_name = {r[3]: r for r in rows[1:]}
    a, b = by_name["Lê Văn A"], by_name["Trần Thị B"]
    assert a[1] == docs.part["a"].pk
    assert a[6] == "Có mặt" and a[7] == dt.datetime(2026, 2, 2, 7, 55)
    assert a[5] == "Cán bộ công đoàn chuyên trách"
    assert b[6] == "Vắng có lý do"
    assert b[9] == "'=1+2 ốm"  # never a formula


def test_roster_pdf_text(docs):
    pages = _text(documents.roster_pdf(docs.hn, issued=ISSUED))
    text = "\n".join(pages)
    assert unicodedata.is_normalized("NFC", text)
    for expected in ("DANH SÁCH ĐẠI BIỂU DỰ HỘI NGHỊ", TITLE, ADDRESS,
                     "ngày 05 tháng 01 năm 2026", "TỔNG LIÊN ĐOÀN LAO ĐỘNG VIỆT NAM",
                     "từ 08 giờ 00 đến 11 giờ 30, Thứ Hai, ngày 02 tháng 02 năm 2026",
                     "Họ và tên", "Ký tên", "Số đại biểu: 9"):
        assert expected in text, expected
    positions = [text.index(name) for name in EXPECTED_ORDER]
    assert positions == sorted(positions)


def test_long_roster_pdf_spans_pages(docs):
    rows = [documents.Row(number=i, member_code="", name=f"Nguyễn Văn Tên {i}",
                          unit="Công đoàn cơ sở", position="", status="",
                          checked_in_at=None, substitute="", reason="") for i in range(700)]
    buf = io.BytesIO()
    documents.write_roster_pdf(docs.hn, buf, rows, issued=ISSUED)
    pages = _text(buf.getvalue())
    assert len(pages) > 10
    assert "Nguyễn Văn Tên 699" in pages[-1] and "Họ và tên" in pages[-1]  # header repeated


def test_invitation_text(docs):
    people = documents.point_participants(docs.hn)
    pages = _text(documents.invitation_pdf(people, issued=ISSUED))
    assert len(pages) == len(people) == 9
    first = pages[0]
    assert unicodedata.is_normalized("NFC", first)
    for expected in ("GIẤY MỜI", "TỔNG LIÊN ĐOÀN LAO ĐỘNG VIỆT NAM",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Lê Văn A", TITLE,
                     "Công đoàn cơ sở Trường THPT Phan Đình Phùng", ADDRESS,
                     docs.hn.name, "ngày 05 tháng 01 năm 2026",
                     "từ 08 giờ 00 đến 11 giờ 30, Thứ Hai, ngày 02 tháng 02 năm 2026",
                     "Chuyên đề 1: Đổi mới tổ chức công đoàn",
                     "Số đại biểu:", str(docs.part["a"].pk)):
        assert expected in first, expected
    assert "Đỗ Văn Chung" in pages[EXPECTED_ORDER.index("Đỗ Văn Chung")]


def test_formats():
    assert documents.file_slug("Đỗ Thị Ánh Nguyệt") == "do-thi-anh-nguyet"
    assert documents.file_slug("?!") == "x"


def test_place_date_uses_the_nearest_province(org):
    assert documents.place_date(org.hn, ISSUED) == "Hà Nội, ngày 05 tháng 01 năm 2026"
    assert documents.place_date(org.bd, ISSUED) == "Hà Nội, ngày 05 tháng 01 năm 2026"
    assert documents.place_date(org.top, ISSUED) == "ngày 05 tháng 01 năm 2026"


def _qr_from_page(pdf: bytes, page: int = 0) -> str:
    """Rebuild the QR symbol from the rectangles of the page's content stream (drawn in
    module units after one ``cm``), render it and decode it with zxing-cpp."""
    reader = PdfReader(io.BytesIO(pdf))
    ops = ContentStream(reader.pages[page].get_contents(), reader).operations
    rects: list[list[int]] = []
    collecting, previous = False, None
    for operands, op in ops:
        if op == b"cm" and previous == b"g":  # "q 0 g <box> 0 0 <box> x y cm"
            collecting = True
        elif collecting and op == b"re":
            rects.append([int(v) for v in operands])
        elif collecting:  # "f"
            break
        previous = op
    n = max(x + w for x, _, w, _ in rects)
    scale = 8
    img = Image.new("L", ((n + 8) * scale, (n + 8) * scale), 255)
    for x, y, w, h in rects:
        row = n - 1 - y
        img.paste(0, ((x + 4) * scale, (row + 4) * scale, (x + w + 4) * scale,
                      (row + h + 4) * scale))
    found = zxingcpp.read_barcodes(img)
    assert len(found) == 1
    return found[0].text


def test_qr_code_carries_the_signed_token(docs, monkeypatch):
    drawn, issued = [], []
    real_draw, real_token = documents.draw_qr, services.invitation_token

    def spy_draw(canvas, text, *args):
        drawn.append(text)
        return real_draw(canvas, text, *args)

    def spy_token(participant):
        issued.append(real_token(participant))
        return issued[-1]

    monkeypatch.setattr(documents, "draw_qr", spy_draw)
    monkeypatch.setattr(services, "invitation_token", spy_token)
    me = docs.part["c"]
    pdf = documents.invitation_pdf([me], issued=ISSUED)
    assert drawn == issued and len(drawn) == 1
    token = _qr_from_page(pdf)
    assert token == drawn[0]
    assert token != str(me.pk) and str(me.pk) not in token.split(":")[0]
    assert services.read_token(token, docs.campaign) == me


def test_qr_matrix_decodes_for_many_tokens(docs):
    for participant in docs.campaign.participants.all():
        token = services.invitation_token(participant)
        matrix = documents.qr_matrix(token)
        n, scale = len(matrix), 4
        img = Image.new("L", ((n + 8) * scale, (n + 8) * scale), 255)
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    img.paste(0, ((c + 4) * scale, (r + 4) * scale, (c + 5) * scale,
                                  (r + 5) * scale))
        assert [b.text for b in zxingcpp.read_barcodes(img)] == [token]


def test_point_zip(docs):
    data = documents.point_zip(docs.hn, issued=ISSUED)
    streamed = b"".join(documents.iter_point_zip(docs.hn, issued=ISSUED))
    for blob in (data, streamed):
        zf = zipfile.ZipFile(io.BytesIO(blob))
        assert zf.testzip() is None
        names = zf.namelist()
        assert names[:2] == ["danh-sach-ldld-01.xlsx", "danh-sach-ldld-01.pdf"]
        letters = names[2:]
        assert len(letters) == 9 and all(n.isascii() for n in names)
        a, chung = docs.part["a"], docs.campaign.participants.get(person__full_name="Đỗ Văn Chung")
        assert letters[0] == f"giay-moi/0001-le-van-a-{a.pk}.pdf"
        assert f"giay-moi/0008-do-van-chung-{chung.pk}.pdf" in letters
        pages = _text(zf.read(letters[7]))
        assert len(pages) == 1 and "Đỗ Văn Chung" in pages[0]
        assert services.read_token(_qr_from_page(zf.read(letters[7])), docs.campaign) == chung
        ws = openpyxl.load_workbook(io.BytesIO(zf.read(names[0])))[docs.hn.code]
        assert ws.max_row == 10


def test_removed_participants_get_no_documents(docs):
    campaigns.remove_participant(participant=docs.part["a"], reason="Chuyển công tác",
                                 actor=docs.organiser)
    assert "Lê Văn A" not in [r.name for r in documents.roster_rows(docs.hn)]
    assert docs.part["a"].pk not in [p.pk for p in documents.point_participants(docs.hn)]


# ---------------------------------------------------------------- downloads and access


def _client(account):
    c = Client()
    c.force_login(account)
    return c


def _point_urls(slug, code):
    return [reverse(f"conference:{name}", args=[slug, code])
            for name in ("roster_xlsx", "roster_pdf", "invitations_pdf", "invitations_zip")]


def test_point_documents_matrix(docs):
    first, *others = _point_urls(docs.campaign.slug, docs.hn.code)
    invitation = reverse("conference:participant_invitation",
                         args=[docs.campaign.slug, docs.part["a"].pk])
    for url in (first, invitation):
        check_matrix(url, unit=docs.org.top, ancestor=docs.org.top, elsewhere=docs.org.hp,
                     role="organiser")
    # the other downloads of the point have the same guard
    anonymous, nobody = Client(), _client(user())
    elsewhere, organiser = _client(user(organiser=docs.org.hp)), _client(docs.organiser)
    for url in others:
        assert anonymous.get(url).status_code == 302
        assert nobody.get(url).status_code == elsewhere.get(url).status_code == 404
        assert organiser.get(url).status_code == 200


def test_viewers_and_coordinators(docs):
    slug = docs.campaign.slug
    inspector = _client(user(inspector=docs.org.top))
    for url in _point_urls(slug, docs.hn.code):
        assert inspector.get(url).status_code == 200
    # the coordinator of the Hà Nội point: that point and its participants only
    coordinator = _client(docs.coordinator)
    for url in _point_urls(slug, docs.hn.code):
        assert coordinator.get(url).status_code == 200, url
    for url in _point_urls(slug, docs.hp.code):
        assert coordinator.get(url).status_code == 404, url
    mine = reverse("conference:participant_invitation", args=[slug, docs.part["a"].pk])
    other = reverse("conference:participant_invitation", args=[slug, docs.part["h"].pk])
    assert coordinator.get(mine).status_code == 200
    assert coordinator.get(other).status_code == 404
    # a unit admin of Hà Nội sees the campaign's roster below them, not its documents
    assert _client(user(unit_admin=docs.org.hn)).get(_point_urls(slug, "LDLD-01")[0]) \
        .status_code == 404
    # unknown point or participant, or a participant of another campaign
    assert inspector.get(_point_urls(slug, "NOPE")[0]).status_code == 404
    other_campaign = campaigns.create_campaign(slug="khac", title="Khác",
                                               owner_unit=docs.org.top, actor=docs.organiser)
    assert inspector.get(reverse("conference:participant_invitation",
                                 args=[other_campaign.slug, docs.part["a"].pk])).status_code \
        == 404


def test_participant_downloads_own_invitation(docs):
    slug = docs.campaign.slug
    account = user()
    Person.objects.filter(pk=docs.p["a"].pk).update(user=account)
    c = _client(account)
    mine = reverse("conference:participant_invitation", args=[slug, docs.part["a"].pk])
    other = reverse("conference:participant_invitation", args=[slug, docs.part["b"].pk])
    assert c.get(mine).status_code == 404  # the campaign is still a draft
    campaigns.set_status(campaign=docs.campaign, status="published", actor=docs.organiser)
    resp = c.get(mine)
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert f"le-van-a-{docs.part['a'].pk}.pdf" in resp["Content-Disposition"]
    assert "Lê Văn A" in _text(resp.content)[0]
    assert c.get(other).status_code == 404
    for url in _point_urls(slug, docs.hn.code):
        assert c.get(url).status_code == 404
    # the participant page links to the letter
    page = c.get(reverse("campaigns:participant", args=[slug, docs.part["a"].pk]))
    assert mine in page.content.decode()
    campaigns.remove_participant(participant=docs.part["a"], reason="Chuyển công tác",
                                 actor=docs.organiser)
    assert c.get(mine).status_code == 404
    assert _client(docs.organiser).get(mine).status_code == 404  # removed: no letter


def test_responses(docs):
    c = _client(docs.organiser)
    slug, code = docs.campaign.slug, docs.hn.code
    xlsx, pdf, letters, archive = (c.get(u) for u in _point_urls(slug, code))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'attachment; filename="danh-sach-ldld-01.xlsx"' == xlsx["Content-Disposition"]
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(letters.content)).pages) == 9
    assert archive.streaming and archive["Content-Type"] == "application/zip"
    assert "diem-cau-ldld-01.zip" in archive["Content-Disposition"]
    zf = zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content)))
    assert len(zf.namelist()) == 11
    page = c.get(reverse("conference:point", args=[slug, code])).content.decode()
    for url in _point_urls(slug, code):
        assert url in page
