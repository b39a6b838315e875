"""Charts drawn on the server as SVG: no script, no external service, readable on a phone
and printable. Each function returns markup to place in a page; the numbers are also in
the page's tables, and each chart has a title for screen readers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from quantriet.progress.queries import LAGGING_BELOW, Point

WIDTH = 640
COLOURS = ("#1b7f3b", "#4c9f38", "#a3c93a", "#f2b134", "#e8743b", "#d64545", "#8e44ad",
           "#555")


def _short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


@dataclass
class Bar:
    label: str
    rate: float | None
    detail: str = ""
    url: str = ""


def completion(bars: Sequence[Bar], title: str) -> SafeString:
    """Horizontal bars, worst first (the order given), 0-100 %."""
    row, left, right = 22, 230, 60
    span = WIDTH - left - right
    height = row * len(bars) + 24
    out = [format_html('<svg class="chart" viewBox="0 0 {} {}" role="img" '
                       'aria-label="{}" xmlns="http://www.w3.org/2000/svg">', WIDTH, height,
                       title), format_html("<title>{}</title>", title)]
    for tick in (0, 25, 50, 75, 100):
        x = left + span * tick / 100
        out.append(format_html('<line x1="{}" y1="0" x2="{}" y2="{}" class="grid"/>'
                               '<text x="{}" y="{}" class="tick">{}</text>',
                               x, x, height - 16, x, height - 4, f"{tick}%"))
    for i, bar in enumerate(bars):
        y = i * row + 4
        rate = bar.rate or 0.0
        colour = "#d64545" if rate < LAGGING_BELOW else "#f2b134" if rate < 0.8 else "#1b7f3b"
        label = format_html('<text x="{}" y="{}" class="label">{}</text>', left - 6, y + 13,
                            _short(bar.label))
        if bar.url:
            label = format_html('<a href="{}">{}</a>', bar.url, label)
        out.append(label)
        out.append(format_html('<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                               "<title>{}: {}</title></rect>", left, y,
                               round(span * min(rate, 1.0), 1), row - 6, colour, bar.label,
                               bar.detail or _pct(bar.rate)))
        out.append(format_html('<text x="{}" y="{}" class="value">{}</text>',
                               left + span * min(rate, 1.0) + 4, y + 13, _pct(bar.rate)))
    out.append(mark_safe("</svg>"))
    return mark_safe("".join(out))


def grades(labels: Sequence[str], counts: Sequence[int], title: str) -> SafeString:
    """Vertical bars, one per grade of the scale, best first."""
    height, bottom, top = 200, 40, 16
    n = max(len(labels), 1)
    slot = (WIDTH - 40) / n
    peak = max([*counts, 1])
    total = sum(counts) or 1
    out = [format_html('<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
                       'xmlns="http://www.w3.org/2000/svg">', WIDTH, height, title),
           format_html("<title>{}</title>", title)]
    for i, (label, count) in enumerate(zip(labels, counts, strict=False)):
        h = (height - bottom - top) * count / peak
        x = 20 + i * slot + slot * 0.15
        y = height - bottom - h
        out.append(format_html('<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                               "<title>{}: {}</title></rect>", round(x, 1), round(y, 1),
                               round(slot * 0.7, 1), round(h, 1),
                               COLOURS[i % len(COLOURS)], label, count))
        out.append(format_html('<text x="{}" y="{}" class="value mid">{} ({})</text>',
                               round(x + slot * 0.35, 1), round(y - 3, 1), count,
                               _pct(count / total)))
        out.append(format_html('<text x="{}" y="{}" class="label mid">{}</text>',
                               round(x + slot * 0.35, 1), height - bottom + 16,
                               _short(label, 18)))
    out.append(mark_safe("</svg>"))
    return mark_safe("".join(out))


def over_time(points: Sequence[Point], target: int, deadline: dt.date | None,
              labels: dict[str, str], title: str) -> SafeString:
    """Cumulative lines (attended, submitted, graded) per day, with the number who must
    submit as a dashed line and the deadline as a vertical line."""
    height, left, right, top, bottom = 240, 48, 16, 12, 36
    out = [format_html('<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
                       'xmlns="http://www.w3.org/2000/svg">', WIDTH, height, title),
           format_html("<title>{}</title>", title)]
    if not points:
        out.append(mark_safe("</svg>"))
        return mark_safe("".join(out))
    first = points[0].day
    last = max(points[-1].day, deadline or points[-1].day)
    days = max((last - first).days, 1)
    peak = max(target, *(max(p.attended, p.submitted, p.graded) for p in points), 1)
    span_x, span_y = WIDTH - left - right, height - top - bottom

    def x(day: dt.date) -> float:
        return round(left + span_x * (day - first).days / days, 1)

    def y(value: int) -> float:
        return round(top + span_y * (1 - value / peak), 1)

    for frac in (0, 0.5, 1):
        value = round(peak * frac)
        out.append(format_html('<line x1="{}" y1="{}" x2="{}" y2="{}" class="grid"/>'
                               '<text x="{}" y="{}" class="tick end">{}</text>', left, y(value),
                               WIDTH - right, y(value), left - 4, y(value) + 4, value))
    out.append(format_html('<line x1="{}" y1="{}" x2="{}" y2="{}" class="target"/>', left,
                           y(target), WIDTH - right, y(target)))
    if deadline and first <= deadline <= last:
        out.append(format_html('<line x1="{}" y1="{}" x2="{}" y2="{}" class="deadline"/>'
                               '<text x="{}" y="{}" class="tick end">{}</text>', x(deadline),
                               top, x(deadline), height - bottom, x(deadline) - 3, top + 10,
                               deadline.strftime("%d/%m")))
    for key, colour in (("attended", "#4c78a8"), ("submitted", "#1b7f3b"),
                        ("graded", "#e8743b")):
        coords = " ".join(f"{x(p.day)},{y(getattr(p, key))}" for p in points)
        out.append(format_html('<polyline points="{}" fill="none" stroke="{}" '
                               'stroke-width="2"><title>{}</title></polyline>', coords, colour,
                               labels[key]))
    for day, anchor in ((first, "start"), (last, "end")):
        out.append(format_html('<text x="{}" y="{}" class="tick {}">{}</text>', x(day),
                               height - bottom + 16, anchor, day.strftime("%d/%m/%Y")))
    legend_x = left
    for key, colour in (("attended", "#4c78a8"), ("submitted", "#1b7f3b"),
                        ("graded", "#e8743b"), ("target", "#777")):
        out.append(format_html('<rect x="{}" y="{}" width="12" height="4" fill="{}"/>'
                               '<text x="{}" y="{}" class="label start">{}</text>', legend_x,
                               height - 9, colour, legend_x + 16, height - 4, labels[key]))
        legend_x += 150
    out.append(mark_safe("</svg>"))
    return mark_safe("".join(out))

