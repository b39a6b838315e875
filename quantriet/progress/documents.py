"""The official results report (báo cáo kết quả) of a unit's subtree, as XLSX and PDF.

An administrative document in Vietnamese, whatever the language of the interface: the
unit (and its parent) on the left of the heading, the national motto on the right, the
place and formal date ("Hà Nội, ngày 05 tháng 01 năm 2026"), the title, a table with one
line per child unit and a totals row -- the very figures of the progress page, from
:func:`quantriet.progress.queries.rollup` -- then "Nơi nhận" and the signature block.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from quantriet.campaigns.models import Campaign
from quantriet.conference.documents import (
    FONT,
    FONT_BOLD,
    _motto,
    file_slug,
    markup,
    place_date,
    register_fonts,
)
from quantriet.imports.spreadsheets import safe_cell
from quantriet.org.models import Unit
from quantriet.progress import queries
from quantriet.reports.models import GradeLevel, ReportPolicy

TITLE = "BÁO CÁO KẾT QUẢ HỌC TẬP, QUÁN TRIỆT"
PLANS_TITLE = "KẾT QUẢ XÂY DỰNG VÀ THỰC HIỆN CHƯƠNG TRÌNH HÀNH ĐỘNG"
PLANS_HEADER = ["STT", "Đơn vị", "Phải xây dựng", "Đã gửi", "Đã duyệt", "Số giải pháp",
                "Đã hoàn thành", "Quá hạn"]


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}".replace(".", ",")


def scale(campaign: Campaign) -> list[str]:
    from quantriet.progress.models import GRADE_SLOTS

    labels = list(GradeLevel.objects.filter(campaign=campaign).order_by("order", "id")
                  .values_list("label", flat=True))
    return labels[:GRADE_SLOTS]


def attendance_required(campaign: Campaign) -> bool:
    return bool(ReportPolicy.objects.filter(campaign=campaign, attendance_required=True)
                .exists())


class Table_:
    """Header and rows of the report (the same for XLSX and PDF)."""

    def __init__(self, campaign: Campaign, unit: Unit):
        self.campaign, self.unit = campaign, unit
        self.grades = scale(campaign)
        self.rollup = queries.rollup(campaign, unit, attendance_required(campaign))
        self.header = ["STT", "Đơn vị", "Triệu tập", "Có mặt", "Vắng có lý do",
                       "Vắng không lý do", "Dự thay", "Tỷ lệ dự (%)", "Phải nộp", "Đã nộp",
                       "Tỷ lệ nộp (%)", "Nộp muộn", "Đã chấm", *self.grades,
                       "Nghi sao chép"]
        from quantriet.plans import queries as plan_queries

        plans = plan_queries.rollup(campaign, unit)
        self.plans = plans if plans.lines else None

    def plan_rows(self) -> list[list[Any]]:
        """The action plans' table (:func:`quantriet.plans.queries.rollup`), totals last;
        empty when no plan of the subtree exists."""
        if self.plans is None:
            return []
        out = []
        for i, line in enumerate(self.plans.lines, 1):
            name = (f"{line.unit.name} (kế hoạch của đơn vị)" if line.own else line.unit.name)
            out.append([i, name, *self._plan_line(line.totals)])
        return [*out, ["", "Tổng cộng", *self._plan_line(self.plans.totals)]]

    @staticmethod
    def _plan_line(t: Any) -> list[int]:
        return [t.required, t.submitted, t.approved, t.measures, t.done, t.overdue]

    def line(self, t: queries.Totals) -> list[Any]:
        return [t.invited, t.attended, t.excused, t.absent, t.substitutes,
                _pct(t.attended_rate), t.owing, t.submitted, _pct(t.submitted_rate), t.late,
                t.graded, *t.grades[:len(self.grades)], t.flagged]

    def rows(self) -> list[list[Any]]:
        out = []
        for i, line in enumerate(self.rollup.lines, 1):
            name = (f"{line.unit.name} (cán bộ của đơn vị)" if line.own else line.unit.name)
            out.append([i, name, *self.line(line.totals)])
        return out

    def totals(self) -> list[Any]:
        return ["", "Tổng cộng", *self.line(self.rollup.totals)]


def _issued(issued: dt.date | None) -> dt.date:
    return issued or timezone.localdate()


# ---------------------------------------------------------------- XLSX


def results_xlsx(campaign: Campaign, unit: Unit, issued: dt.date | None = None,
                 table: Table_ | None = None) -> bytes:
    table = table or Table_(campaign, unit)
    day = _issued(issued)
    wb = Workbook()
    ws = wb.active
    ws.title = "Báo cáo kết quả"
    ncol = len(table.header)
    half = max(ncol // 2, 2)
    bold, thin = Font(bold=True), Side(style="thin")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    motto = _motto()
    parent = unit.parent.name if unit.parent_id and unit.parent else ""
    heading = [(parent.upper(), motto[0]), (unit.name.upper(), motto[1]),
               ("", place_date(unit, day))]
    for r, (left, right) in enumerate(heading, 1):
        ws.cell(r, 1, safe_cell(left)).font = Font(bold=r == 2)
        ws.cell(r, half + 1, safe_cell(right)).font = Font(bold=r < 3, italic=r == 3)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=half)
        ws.merge_cells(start_row=r, start_column=half + 1, end_row=r, end_column=ncol)
        ws.cell(r, 1).alignment = ws.cell(r, half + 1).alignment = center
    for r, text in ((5, TITLE), (6, campaign.title)):
        ws.cell(r, 1, safe_cell(text)).font = Font(bold=True, size=13 if r == 5 else 11)
        ws.cell(r, 1).alignment = center
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncol)
    top = 8
    for c, h in enumerate(table.header, 1):
        cell = ws.cell(top, c, h)
        cell.font, cell.alignment = bold, center
        cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    body = [*table.rows(), table.totals()]
    for r, values in enumerate(body, top + 1):
        for c, value in enumerate(values, 1):
            cell = ws.cell(r, c, safe_cell(value))
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            if r == top + len(body):
                cell.font = bold
    end = top + len(body) + 2
    ws.cell(end, 1, "Nơi nhận:").font = Font(bold=True, italic=True)
    ws.cell(end + 1, 1, safe_cell(f"- {parent or 'Cấp trên'};"))
    ws.cell(end + 2, 1, "- Lưu: VT.")
    ws.cell(end, half + 1, "TM. BAN THƯỜNG VỤ").font = bold
    ws.cell(end + 1, half + 1, "CHỦ TỊCH").font = bold
    ws.cell(end + 2, half + 1, "(Ký tên, đóng dấu)").font = Font(italic=True)
    for r in (end, end + 1, end + 2):
        ws.merge_cells(start_row=r, start_column=half + 1, end_row=r, end_column=ncol)
        ws.cell(r, half + 1).alignment = center
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 48
    for c in range(3, ncol + 1):
        ws.column_dimensions[get_column_letter(c)].width = 12
    ws.row_dimensions[top].height = 45
    ws.freeze_panes = ws.cell(top + 1, 3)
    plan_rows = table.plan_rows()
    if plan_rows:
        sheet = wb.create_sheet("Chương trình hành động")
        sheet.cell(1, 1, PLANS_TITLE).font = Font(bold=True, size=12)
        sheet.cell(2, 1, safe_cell(f"{unit.name} — {campaign.title}"))
        for c, h in enumerate(PLANS_HEADER, 1):
            cell = sheet.cell(4, c, h)
            cell.font, cell.alignment = bold, center
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        for r, values in enumerate(plan_rows, 5):
            for c, value in enumerate(values, 1):
                cell = sheet.cell(r, c, safe_cell(value))
                cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
                if r == 4 + len(plan_rows):
                    cell.font = bold
        sheet.column_dimensions["A"].width = 6
        sheet.column_dimensions["B"].width = 48
        for c in range(3, len(PLANS_HEADER) + 1):
            sheet.column_dimensions[get_column_letter(c)].width = 14
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- PDF


def results_pdf(campaign: Campaign, unit: Unit, issued: dt.date | None = None,
                table: Table_ | None = None) -> bytes:
    register_fonts()
    table = table or Table_(campaign, unit)
    day = _issued(issued)
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9)
    head = ParagraphStyle("head", fontName=FONT_BOLD, fontSize=7, leading=8.5, alignment=1)
    center = ParagraphStyle("center", fontName=FONT, fontSize=10, leading=13, alignment=1)
    title = ParagraphStyle("title", fontName=FONT_BOLD, fontSize=14, leading=18, alignment=1)
    motto = _motto()
    parent = unit.parent.name if unit.parent_id and unit.parent else ""
    left = (f"{markup(parent.upper())}<br/>" if parent else "") + \
        f"<b>{markup(unit.name.upper())}</b>"
    right = (f"<b>{markup(motto[0])}</b><br/><b>{markup(motto[1])}</b><br/><br/>"
             f"<i>{markup(place_date(unit, day))}</i>")
    page_w = landscape(A4)[0] - 24 * mm
    top = Table([[Paragraph(left, center), Paragraph(right, center)]],
                colWidths=[page_w * 0.45, page_w * 0.55])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story: list[Any] = [top, Spacer(1, 6 * mm), Paragraph(TITLE, title),
                        Paragraph(markup(campaign.title), center), Spacer(1, 4 * mm)]
    header = [Paragraph(markup(h), head) for h in table.header]
    n = len(table.header)
    name_w = 62 * mm
    num_w = (page_w - name_w - 11 * mm) / (n - 2)
    widths = [11 * mm, name_w, *([num_w] * (n - 2))]
    rows = [[str(v) if i != 1 else Paragraph(markup(str(v)), cell) for i, v in enumerate(r)]
            for r in table.rows()]
    totals = [str(v) if i != 1 else Paragraph(f"<b>{markup(str(v))}</b>", cell)
              for i, v in enumerate(table.totals())]
    grid = Table([header, *rows, totals], colWidths=widths, repeatRows=1)
    grid.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), FONT, 7.5),
        ("FONT", (0, -1), (-1, -1), FONT_BOLD, 7.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
    ]))
    story += [grid, Spacer(1, 8 * mm)]
    plan_rows = table.plan_rows()
    if plan_rows:
        plan_w = (page_w - name_w - 11 * mm) / (len(PLANS_HEADER) - 2)
        plan_grid = Table(
            [[Paragraph(markup(h), head) for h in PLANS_HEADER],
             *[[str(v) if i != 1 else Paragraph(markup(str(v)), cell)
                for i, v in enumerate(r)] for r in plan_rows]],
            colWidths=[11 * mm, name_w, *([plan_w] * (len(PLANS_HEADER) - 2))], repeatRows=1)
        plan_grid.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), FONT, 7.5),
            ("FONT", (0, -1), (-1, -1), FONT_BOLD, 7.5),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ]))
        story += [Paragraph(PLANS_TITLE, center), Spacer(1, 3 * mm), plan_grid,
                  Spacer(1, 8 * mm)]
    sign_left = ("<b><i>Nơi nhận:</i></b><br/>"
                 f"- {markup(parent or 'Cấp trên')};<br/>- Lưu: VT.")
    sign_right = "<b>TM. BAN THƯỜNG VỤ<br/>CHỦ TỊCH</b><br/><i>(Ký tên, đóng dấu)</i>"
    sign = Table([[Paragraph(sign_left, cell), Paragraph(sign_right, center)]],
                 colWidths=[page_w * 0.5, page_w * 0.5])
    sign.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(sign)

    def footer(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawRightString(landscape(A4)[0] - 12 * mm, 8 * mm, f"Trang {doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=12 * mm,
                            rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=14 * mm,
                            title=f"Báo cáo kết quả - {unit.name}", author=unit.name,
                            pageCompression=1)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def results_file(campaign: Campaign, unit: Unit, fmt: str,
                 on_progress: Callable[[int], Any] | None = None) -> bytes:
    table = Table_(campaign, unit)
    if on_progress:
        on_progress(50)
    if fmt == "xlsx":
        return results_xlsx(campaign, unit, table=table)
    return results_pdf(campaign, unit, table=table)


def results_filename(campaign: Campaign, unit: Unit, fmt: str) -> str:
    return f"bao-cao-ket-qua-{file_slug(campaign.slug, 30)}-{file_slug(unit.code, 30)}.{fmt}"
