"""Conference documents: the roster of a bridge point (XLSX and PDF), invitation letters
(PDF, one A4 page per participant, with the QR code that the check-in page scans) and a
ZIP of everything for one point.

These are administrative documents issued in Vietnamese, whatever the language of the
user interface: their text is written here in Vietnamese, dates in the formal form
("ngày 01 tháng 02 năm 2026"). People are listed in Vietnamese order (``Person.sort_key``:
given name, then family and middle names). The QR code of an invitation carries
``services.invitation_token(participant)``, a signed token, never a bare number; the
participant number is printed beside it for typing.

Every function returns bytes (or writes to a binary file) and needs no request. The PDFs
embed DejaVu Sans (vendored in ``fonts/``), so the text is Unicode and can be searched and
copied; the QR code is drawn as one vector path.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils import timezone
from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from quantriet.campaigns.models import Campaign, Participant
from quantriet.conference import services
from quantriet.conference.models import Attendance, BridgePoint
from quantriet.imports.spreadsheets import safe_cell, write_xlsx
from quantriet.org.models import Position, Unit
from quantriet.text import fold, formal_date, nfc

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"

# The right-hand heading of a Vietnamese administrative letter (quốc hiệu, tiêu ngữ).
# An organisation whose letters carry another heading (the Party's, for instance) sets
# QUANTRIET_LETTER_MOTTO in the settings to a pair of lines.
DEFAULT_MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
STATUS_LABELS = {
    Attendance.Status.EXPECTED: "",
    Attendance.Status.PRESENT: "Có mặt",
    Attendance.Status.EXCUSED: "Vắng có lý do",
    Attendance.Status.ABSENT: "Vắng",
}
XLSX_HEADER = ["STT", "Số đại biểu", "Mã đoàn viên", "Họ và tên", "Đơn vị", "Chức vụ",
               "Trạng thái", "Giờ điểm danh", "Người dự thay", "Lý do"]
_CHUNK = 500  # ids per IN (...) query, well under SQLite's limit on parameters
_TABLE_ROWS = 300  # rows per platypus table: long tables split slowly


def register_fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
        # <b> in paragraphs; no italic is vendored, so italic stays upright
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT,
                                      boldItalic=FONT_BOLD)


# ---------------------------------------------------------------- formats


def session_text(point: BridgePoint | None, campaign: Campaign | None = None) -> str:
    """When the session is, in Vietnamese: "08 giờ 00, Thứ Hai, ngày 02 tháng 02 năm
    2026" (with "từ … đến …" when the end on the same day is known); the campaign's
    conference date when the point has no time; "" when neither is known."""
    if point is not None and point.starts_at:
        start = timezone.localtime(point.starts_at)
        day = f"{WEEKDAYS[start.weekday()]}, {formal_date(start.date())}"
        if point.ends_at:
            end = timezone.localtime(point.ends_at)
            if end.date() == start.date():
                return f"từ {start:%H} giờ {start:%M} đến {end:%H} giờ {end:%M}, {day}"
        return f"{start:%H} giờ {start:%M}, {day}"
    if campaign is not None and campaign.conference_date:
        d = campaign.conference_date
        return f"{WEEKDAYS[d.weekday()]}, {formal_date(d)}"
    return ""


def place_date(unit: Unit, day: dt.date) -> str:
    """The place-and-date line of a letter of ``unit``: "Hà Nội, ngày 05 tháng 01 năm
    2026", the place being the province of the unit or of its nearest ancestor that has
    one (none for a national unit without a province)."""
    place = unit.province_name
    if not place and unit.parent_id:
        place = (Unit.objects.filter(pk__in=unit.ancestor_ids()).exclude(province_name="")
                 .order_by("-depth").values_list("province_name", flat=True).first() or "")
    return formal_date(day, place)


def file_slug(text: str, limit: int = 60) -> str:
    """ASCII file-name part: "Đỗ Văn Chung" -> "do-van-chung"."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")
    return slug[:limit].rstrip("-") or "x"


# ---------------------------------------------------------------- data


@dataclass
class Row:
    """One participant of a point's roster."""

    number: int  # participant number (Participant.pk), typed at check-in
    member_code: str
    name: str
    unit: str
    position: str
    status: str
    checked_in_at: dt.datetime | None
    substitute: str
    reason: str


def _chunks(values: Sequence[int], size: int = _CHUNK) -> Iterator[Sequence[int]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def position_names(person_ids: Sequence[int], on: dt.date | None = None) -> dict[int, str]:
    """Current positions (chức vụ) of each person, "Chủ tịch; Ủy viên BCH"."""
    names: dict[int, list[str]] = {}
    for ids in _chunks(list(dict.fromkeys(person_ids))):
        qs = (Position.objects.current(on).filter(person_id__in=ids)
              .order_by("person_id", "type__order", "id").values_list("person_id", "type__name"))
        for pid, name in qs:
            if name not in names.setdefault(pid, []):
                names[pid].append(name)
    return {pid: "; ".join(v) for pid, v in names.items()}


def _attendances(point: BridgePoint):
    """The point's active participants in Vietnamese order."""
    return (point.attendances.filter(participant__active=True)
            .select_related("participant__person", "participant__unit", "substitute")
            .order_by("participant__person__sort_key", "participant_id"))


def roster_rows(point: BridgePoint) -> list[Row]:
    atts = list(_attendances(point))
    positions = position_names([a.participant.person_id for a in atts])
    return [
        Row(number=a.participant_id, member_code=a.participant.person.member_code or "",
            name=a.participant.person.full_name, unit=a.participant.unit.name,
            position=positions.get(a.participant.person_id, ""),
            status=STATUS_LABELS.get(a.status, a.status),
            checked_in_at=timezone.localtime(a.checked_in_at) if a.checked_in_at else None,
            substitute=a.substitute.full_name if a.substitute else "", reason=a.reason)
        for a in atts
    ]


def point_participants(point: BridgePoint) -> list[Participant]:
    """The point's active participants in roster order, ready for :func:`invitation_pdf`."""
    return list(
        Participant.objects.filter(attendance__point=point, active=True)
        .select_related("person", "unit", "campaign__owner_unit", "attendance__point")
        .order_by("person__sort_key", "pk"))


# ---------------------------------------------------------------- roster


def write_roster_xlsx(point: BridgePoint, fh: IO[bytes], rows: list[Row] | None = None) -> None:
    rows = roster_rows(point) if rows is None else rows

    def lines() -> Iterator[list[Any]]:
        for i, r in enumerate(rows, 1):
            # names and units come from imported sheets: never let them become formulas
            yield [i, r.number, safe_cell(r.member_code), safe_cell(r.name), safe_cell(r.unit),
                   safe_cell(r.position), r.status,
                   r.checked_in_at.replace(tzinfo=None) if r.checked_in_at else None,
                   safe_cell(r.substitute), safe_cell(r.reason)]

    write_xlsx(fh, {point.code: (XLSX_HEADER, lines())})


def roster_xlsx(point: BridgePoint) -> bytes:
    """The roster of a point as a workbook: STT, participant number, member code, name,
    unit, position, status, check-in time, substitute, reason."""
    buf = io.BytesIO()
    write_roster_xlsx(point, buf)
    return buf.getvalue()


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    return {
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=9, leading=11),
        "head": ParagraphStyle("head", fontName=FONT_BOLD, fontSize=8, leading=10,
                               alignment=1),
        "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=14, leading=18,
                                alignment=1, spaceAfter=2),
        "center": ParagraphStyle("center", fontName=FONT, fontSize=10, leading=13,
                                 alignment=1),
        "line": ParagraphStyle("line", fontName=FONT, fontSize=10, leading=13),
        "right": ParagraphStyle("right", fontName=FONT, fontSize=10, leading=13,
                                alignment=2),
    }


def markup(text: str) -> str:
    return nfc(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_roster_pdf(point: BridgePoint, fh: IO[bytes], rows: list[Row] | None = None,
                     issued: dt.date | None = None) -> None:
    rows = roster_rows(point) if rows is None else rows
    campaign = point.campaign
    st = _styles()
    day = issued or timezone.localdate()
    owner = campaign.owner_unit
    heading = [Paragraph(f"<b>{markup(owner.name.upper())}</b>", st["center"]),
               Paragraph(markup(place_date(owner, day)), st["right"])]
    top = Table([heading], colWidths=[85 * mm, 95 * mm])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                             ("LEFTPADDING", (0, 0), (-1, -1), 0),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story: list[Any] = [
        top,
        Spacer(1, 6 * mm),
        Paragraph("DANH SÁCH ĐẠI BIỂU DỰ HỘI NGHỊ", st["title"]),
        Paragraph(markup(campaign.title), st["center"]),
        Spacer(1, 3 * mm),
        Paragraph(f"<b>Điểm cầu:</b> {markup(point.name)} ({markup(point.code)})", st["line"]),
    ]
    if point.address:
        story.append(Paragraph(f"<b>Địa chỉ:</b> {markup(point.address)}", st["line"]))
    when = session_text(point, campaign)
    if when:
        story.append(Paragraph(f"<b>Thời gian:</b> {markup(when)}", st["line"]))
    story.append(Paragraph(f"<b>Số đại biểu:</b> {len(rows)}", st["line"]))
    story.append(Spacer(1, 3 * mm))
    header = [Paragraph(h, st["head"]) for h in
              ("STT", "Họ và tên", "Đơn vị", "Chức vụ", "Số ĐB", "Ký tên", "Ghi chú")]
    widths = [11 * mm, 42 * mm, 48 * mm, 27 * mm, 13 * mm, 21 * mm, 18 * mm]  # 180 mm
    style = TableStyle([
        ("FONT", (0, 0), (-1, -1), FONT, 9),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 1), (0, -1), "RIGHT"),
        ("ALIGN", (4, 1), (4, -1), "RIGHT"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("TOPPADDING", (0, 1), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 5),
    ])
    cell = st["cell"]
    body = []
    for i, r in enumerate(rows, 1):
        note = r.status
        if r.checked_in_at and r.status:
            note = f"{r.status} {r.checked_in_at:%H:%M}"
        if r.substitute:
            note = f"{note}; dự thay: {r.substitute}" if note else f"Dự thay: {r.substitute}"
        body.append([str(i), Paragraph(markup(r.name), cell), Paragraph(markup(r.unit), cell),
                     Paragraph(markup(r.position), cell) if r.position else "", str(r.number),
                     "", Paragraph(markup(note), cell) if note else ""])
    if not body:
        body.append(["", Paragraph("(Chưa có đại biểu)", cell), "", "", "", "", ""])
    for start in range(0, len(body), _TABLE_ROWS):
        table = Table([header, *body[start:start + _TABLE_ROWS]], colWidths=widths,
                      repeatRows=1)
        table.setStyle(style)
        story.append(table)

    def footer(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, f"{point.code} · Trang {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(fh, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=18 * mm,
                            title=f"Danh sách đại biểu - {point.name}",
                            author=owner.name, pageCompression=1)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def roster_pdf(point: BridgePoint, issued: dt.date | None = None) -> bytes:
    """The sign-in sheet of a point: heading with the campaign, point, address, session
    time and formal date; a table STT, name, unit, position, participant number, an empty
    column to sign and a note (attendance already recorded)."""
    buf = io.BytesIO()
    write_roster_pdf(point, buf, issued=issued)
    return buf.getvalue()


# ---------------------------------------------------------------- invitations


_RUN = re.compile(r"0{5,}|1{5,}")
_FINDER = re.compile(r"(?=00001011101|10111010000)")


def _penalty(rows: list[str]) -> int:
    """The mask penalty of ISO/IEC 18004 (runs, 2x2 blocks, finder-like patterns, dark
    share) of a symbol given as rows of "0"/"1"; evaluated on strings and integers, it
    costs a fifth of the encoder's own evaluation."""
    n = len(rows)
    cols = ["".join(c) for c in zip(*rows, strict=True)]
    score = 0
    for line in (*rows, *cols):
        score += sum(len(m) - 2 for m in _RUN.findall(line))
        score += 40 * len(_FINDER.findall(f"0000{line}0000"))
    full = (1 << n) - 1
    ints = [int(r, 2) for r in rows]
    pairs = full >> 1
    for a, b in zip(ints, ints[1:], strict=False):
        dark = a & b
        light = ~(a | b) & full
        score += 3 * ((dark & (dark >> 1) & pairs).bit_count()
                      + (light & (light >> 1) & pairs).bit_count())
    dark_share = sum(r.count("1") for r in rows) * 100 // (n * n)
    score += 10 * (abs(dark_share - 50) // 5)
    return score


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR symbol of ``text`` (byte mode, error correction M), rows top to bottom,
    True = dark. Encoded by reportlab's encoder; the mask is chosen by the standard's
    penalty rules as the encoder does, with a faster evaluation (:func:`_penalty`)."""
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.version = qr.calculate_version()
    best, best_score = 0, None
    for mask in range(8):
        qr.makeImpl(True, mask)
        score = _penalty(["".join("1" if m else "0" for m in row) for row in qr.modules])
        if best_score is None or score < best_score:
            best, best_score = mask, score
    qr.makeImpl(False, best)
    return [[bool(m) for m in row] for row in qr.modules]


def draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """Draw the QR code of ``text`` in the square of side ``size`` whose lower-left corner
    is (x, y), with the 4-module quiet zone inside the square. Written as PDF operators
    in module units (one ``cm``, integer rectangles, one fill): sharp, compact and fast."""
    matrix = qr_matrix(text)
    n = len(matrix)
    box = size / (n + 8)
    ops = ["q", "0 g", f"{box:.4f} 0 0 {box:.4f} {x + 4 * box:.4f} {y + 4 * box:.4f} cm"]
    for r, row in enumerate(matrix):
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                ops.append(f"{start} {n - 1 - r} {c - start} 1 re")
            else:
                c += 1
    ops += ["f", "Q"]
    canvas.addLiteral("\n".join(ops))


def _motto() -> tuple[str, str]:
    motto = getattr(settings, "QUANTRIET_LETTER_MOTTO", None) or DEFAULT_MOTTO
    return motto[0], motto[1]


class _Letterhead:
    """What every letter of one campaign shares (looked up once per document)."""

    def __init__(self, campaign: Campaign, issued: dt.date):
        owner = campaign.owner_unit
        self.parent = owner.parent.name if owner.parent_id and owner.parent else ""
        self.owner = owner.name
        self.place_date = place_date(owner, issued)
        self.title = campaign.title
        self.resolution = campaign.resolution
        self.topics = list(campaign.topics.order_by("order", "id").values_list("title",
                                                                                  flat=True))


def _centered_lines(canvas: Canvas, lines: list[tuple[str, str, float]], cx: float,
                    y: float, width: float) -> float:
    """Draw (text, font, size) lines centred on cx, wrapping to ``width``; the new y."""
    for text, font, size in lines:
        for part in simpleSplit(nfc(text), font, size, width):
            canvas.setFont(font, size)
            canvas.drawCentredString(cx, y, part)
            y -= size * 1.3
    return y


def _draw_invitation(canvas: Canvas, head: _Letterhead, participant: Participant,
                     point: BridgePoint | None, position: str) -> None:
    width, height = A4
    left, right, top = 30 * mm, width - 20 * mm, height - 20 * mm
    text_width = right - left
    # letterhead: organising unit on the left, the motto on the right
    col = 75 * mm
    y_left = _centered_lines(canvas, [(head.parent.upper(), FONT, 10)] if head.parent else [],
                             left + col / 2 - 5 * mm, top, col + 10 * mm)
    y_left = _centered_lines(canvas, [(head.owner.upper(), FONT_BOLD, 10)],
                             left + col / 2 - 5 * mm, y_left, col + 10 * mm)
    canvas.setLineWidth(0.6)
    canvas.line(left + col / 2 - 18 * mm, y_left + 6, left + col / 2 + 8 * mm, y_left + 6)
    motto_top, motto_sub = _motto()
    rx = right - 42 * mm
    canvas.setFont(FONT_BOLD, 10)
    canvas.drawCentredString(rx, top, motto_top)
    canvas.setFont(FONT_BOLD, 11)
    canvas.drawCentredString(rx, top - 14, motto_sub)
    sub_w = pdfmetrics.stringWidth(motto_sub, FONT_BOLD, 11)
    canvas.line(rx - sub_w / 2, top - 17, rx + sub_w / 2, top - 17)
    canvas.setFont(FONT, 10)
    canvas.drawCentredString(rx, top - 34, head.place_date)

    y = min(y_left, top - 34) - 18 * mm
    y = _centered_lines(canvas, [("GIẤY MỜI", FONT_BOLD, 18)], width / 2 + 5 * mm, y,
                        text_width)
    y = _centered_lines(canvas, [(f"Hội nghị học tập, quán triệt: {head.title}", FONT_BOLD,
                                  12)], width / 2 + 5 * mm, y - 2, text_width - 10 * mm)
    y -= 8 * mm

    def line(label: str, value: str, bold: bool = False, size: float = 11) -> None:
        nonlocal y
        canvas.setFont(FONT, size)
        label_w = pdfmetrics.stringWidth(label, FONT, size)
        canvas.drawString(left, y, label)
        font = FONT_BOLD if bold else FONT
        parts = simpleSplit(nfc(value), font, size, text_width - label_w - 4)
        for i, part in enumerate(parts or [""]):
            canvas.setFont(font, size)
            canvas.drawString(left + label_w + 4, y, part)
            if i < len(parts) - 1:
                y -= size * 1.45
        y -= size * 1.9

    def paragraph(text: str, font: str = FONT, size: float = 11) -> None:
        nonlocal y
        for part in simpleSplit(nfc(text), font, size, text_width):
            canvas.setFont(font, size)
            canvas.drawString(left, y, part)
            y -= size * 1.45
        y -= size * 0.5

    paragraph(f"{head.owner} trân trọng kính mời:")
    line("Đồng chí:", participant.person.full_name, bold=True, size=13)
    if position:
        line("Chức vụ:", position)
    line("Đơn vị:", participant.unit.name)
    paragraph("Tới dự hội nghị học tập, quán triệt " + head.title
              + (f" ({head.resolution})" if head.resolution else "") + ".")
    when = session_text(point, participant.campaign)
    line("Thời gian:", when or "sẽ thông báo sau")
    if point is not None:
        line("Địa điểm:", f"{point.name}" + (f", {point.address}" if point.address else ""))
    else:
        line("Địa điểm:", "điểm cầu sẽ thông báo sau")
    if head.topics:
        paragraph("Nội dung:")
        for i, topic in enumerate(head.topics, 1):
            if y < 100 * mm:  # keep the room of the QR code and the closing lines
                paragraph("…", size=10)
                break
            paragraph(f"{i}. {topic}", size=10)
    paragraph("Đề nghị đồng chí mang theo giấy mời này; khi đến điểm cầu, cán bộ điểm danh "
              "quét mã QR dưới đây (hoặc nhập số đại biểu).", size=10)

    # the QR code and the number to type
    qr_size = 40 * mm
    qr_y = max(y - qr_size, 45 * mm)
    draw_qr(canvas, services.invitation_token(participant), left - 3 * mm, qr_y, qr_size)
    canvas.setFont(FONT, 10)
    canvas.drawString(left + qr_size, qr_y + qr_size / 2 + 4, "Số đại biểu:")
    canvas.setFont(FONT_BOLD, 16)
    canvas.drawString(left + qr_size, qr_y + qr_size / 2 - 14, str(participant.pk))
    # signature block of the organising unit
    sx = right - 40 * mm
    canvas.setFont(FONT_BOLD, 10)
    canvas.drawCentredString(sx, qr_y + qr_size - 6, "TM. BAN TỔ CHỨC")
    _centered_lines(canvas, [(head.owner.upper(), FONT_BOLD, 9)], sx, qr_y + qr_size - 20,
                    75 * mm)


class _Invitations:
    """Writes invitation letters; letterheads and positions are looked up once for all the
    participants given, so a point's ZIP of one PDF per person costs no query per page."""

    def __init__(self, participants: Iterable[Participant], issued: dt.date | None = None):
        register_fonts()
        self.day = issued or timezone.localdate()
        self.people = list(participants)
        self.positions = position_names([p.person_id for p in self.people])
        self.heads: dict[int, _Letterhead] = {}

    def write(self, fh: IO[bytes], people: Sequence[Participant]) -> int:
        canvas = Canvas(fh, pagesize=A4, pageCompression=1)
        canvas.setTitle("Giấy mời")
        for p in people:
            head = self.heads.get(p.campaign_id)
            if head is None:
                head = self.heads[p.campaign_id] = _Letterhead(p.campaign, self.day)
            canvas.setAuthor(head.owner)
            try:
                point = p.attendance.point
            except Attendance.DoesNotExist:
                point = None
            _draw_invitation(canvas, head, p, point, self.positions.get(p.person_id, ""))
            canvas.showPage()
        if not people:
            canvas.showPage()
        canvas.save()
        return len(people)


def write_invitations(participants: Iterable[Participant], fh: IO[bytes],
                      issued: dt.date | None = None) -> int:
    """Write one A4 page per participant to ``fh``; returns the number of pages.

    Participants should come with ``person``, ``unit``, ``campaign__owner_unit`` and
    ``attendance__point`` selected (see :func:`point_participants`).
    """
    writer = _Invitations(participants, issued)
    return writer.write(fh, writer.people)


def invitation_pdf(participants: Iterable[Participant], issued: dt.date | None = None) -> bytes:
    """Invitation letters (giấy mời), one A4 page per participant: the organising unit's
    letterhead, "GIẤY MỜI", the campaign, the person, their unit and position, the bridge
    point with its address and session time, the place-and-date line, and the QR code of
    the signed token with the participant number printed beside it."""
    buf = io.BytesIO()
    write_invitations(participants, buf, issued)
    return buf.getvalue()


# ---------------------------------------------------------------- the ZIP of a point


def invitation_filename(participant: Participant, index: int | None = None) -> str:
    """ "giay-moi-le-van-a-123.pdf"; with ``index`` (the roster order) first, so that the
    files list in roster order: "0007-le-van-a-123.pdf"."""
    name = f"{file_slug(participant.person.full_name)}-{participant.pk}.pdf"
    return f"{index:04d}-{name}" if index is not None else f"giay-moi-{name}"


def roster_basename(point: BridgePoint) -> str:
    return f"danh-sach-{file_slug(point.code)}"


def _zip_members(point: BridgePoint, issued: dt.date | None) -> Iterator[tuple[str, bytes]]:
    day = issued or timezone.localdate()
    rows = roster_rows(point)
    people = point_participants(point)
    writer = _Invitations(people, day)
    base = roster_basename(point)
    buf = io.BytesIO()
    write_roster_xlsx(point, buf, rows)
    yield f"{base}.xlsx", buf.getvalue()
    buf = io.BytesIO()
    write_roster_pdf(point, buf, rows, issued=day)
    yield f"{base}.pdf", buf.getvalue()
    for i, p in enumerate(people, 1):
        buf = io.BytesIO()
        writer.write(buf, [p])
        yield f"giay-moi/{invitation_filename(p, i)}", buf.getvalue()


def write_point_zip(point: BridgePoint, fh: IO[bytes], issued: dt.date | None = None) -> int:
    """Write the ZIP of a point to ``fh``: ``danh-sach-<code>.xlsx`` and ``.pdf``, then
    ``giay-moi/NNNN-<name>-<number>.pdf`` for each participant in roster order (NNNN is
    the row on the roster). Returns the number of files. The PDFs and the workbook are
    compressed already, so the members are stored, not deflated again."""
    count = 0
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in _zip_members(point, issued):
            zf.writestr(name, data)
            count += 1
    return count


class _Sink:
    """A write-only, unseekable file for :mod:`zipfile` whose bytes are taken out as they
    come (zipfile then writes each member's sizes after its data)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def write(self, data: bytes, /) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def iter_point_zip(point: BridgePoint, issued: dt.date | None = None) -> Iterator[bytes]:
    """The ZIP of :func:`write_point_zip` in pieces, one file at a time, for a streamed
    response: the download starts at once and memory holds one invitation at a time."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in _zip_members(point, issued):
            zf.writestr(name, data)
            yield sink.take()
    yield sink.take()


def point_zip(point: BridgePoint, issued: dt.date | None = None) -> bytes:
    """The roster (XLSX and PDF) and one invitation PDF per participant of a point."""
    buf = io.BytesIO()
    write_point_zip(point, buf, issued)
    return buf.getvalue()
