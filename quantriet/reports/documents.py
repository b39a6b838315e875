"""A report as a PDF (for the unit's ZIP export): the author, unit, status, grade and the
text of the latest submitted version, then the review rounds. Vietnamese, DejaVu Sans."""

from __future__ import annotations

import io

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from quantriet.conference.documents import FONT, FONT_BOLD, file_slug, markup, register_fonts
from quantriet.reports.models import Report

STATUS_VI = {
    Report.Status.DRAFT: "Bản nháp",
    Report.Status.SUBMITTED: "Đã nộp, chờ chấm",
    Report.Status.RETURNED: "Trả lại để sửa",
    Report.Status.GRADED: "Đã chấm",
}


def report_filename(report: Report) -> str:
    person = report.participant.person
    return f"{file_slug(person.full_name)}-{report.participant_id}.pdf"


def report_pdf(report: Report) -> bytes:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=15, spaceAfter=6)
    small = ParagraphStyle("small", fontName=FONT, fontSize=9, leading=12)
    title = ParagraphStyle("title", fontName=FONT_BOLD, fontSize=14, leading=18,
                           alignment=1, spaceAfter=8)
    head = ParagraphStyle("head", fontName=FONT_BOLD, fontSize=11, leading=15, spaceBefore=8)
    person = report.participant.person
    version = report.versions.order_by("-number").first()
    story = [
        Paragraph("BÀI THU HOẠCH", title),
        Paragraph(markup(report.campaign.title), ParagraphStyle(
            "c", parent=body, alignment=1)),
        Spacer(1, 4 * mm),
        Paragraph(f"Họ và tên: <b>{markup(person.full_name)}</b> — số đại biểu "
                  f"{report.participant_id}", body),
        Paragraph(f"Đơn vị: {markup(report.participant.unit.name)}", body),
        Paragraph(f"Trạng thái: {STATUS_VI.get(report.status, report.status)}"
                  + (" (nộp muộn)" if report.late else "")
                  + (f" — Xếp loại: <b>{markup(report.grade.label)}</b>" if report.grade else ""),
                  body),
    ]
    if version is not None:
        at = timezone.localtime(version.submitted_at)
        story.append(Paragraph(f"Bản nộp lần {version.number}, lúc {at:%H:%M} ngày "
                               f"{at:%d/%m/%Y}; {version.words} từ.", small))
        story.append(Spacer(1, 4 * mm))
        for para in version.text.split("\n\n"):
            if para.strip():
                story.append(Paragraph(markup(para).replace("\n", "<br/>"), body))
    reviews = list(report.reviews.select_related("grade").order_by("created_at"))
    if reviews:
        story.append(Paragraph("Nhận xét của người chấm", head))
        for r in reviews:
            at = timezone.localtime(r.created_at)
            outcome = (f"Xếp loại {r.grade.label}" if r.grade else "Trả lại để sửa")
            story.append(Paragraph(f"{at:%d/%m/%Y} — {markup(outcome)}"
                                   + (f": {markup(r.comments)}" if r.comments else ""), small))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=25 * mm, rightMargin=20 * mm,
                      topMargin=20 * mm, bottomMargin=20 * mm,
                      title=f"Bài thu hoạch — {person.full_name}").build(story)
    return buf.getvalue()
