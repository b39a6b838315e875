"""Reads of the progress pages: the figures of a subtree and of its child units from the
counters' rows, the participants of one unit, and the series over time.

A row holds its unit's subtree (see :mod:`quantriet.progress.counters`), so a page reads
the rows of its unit and of its children, one query whatever the size of the subtree; the
totals are the sum of the lines, so a table's totals row always equals the page's figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from quantriet.campaigns.models import Campaign, Participant
from quantriet.org import tree
from quantriet.org.models import Unit
from quantriet.progress.models import COUNTERS, GRADE_SLOTS, DailyProgress

LIVE_LIMIT = 5_000
"""Subtrees with at most this many participants get their chart over time from the
timestamps of check-ins and reports; larger ones from the daily snapshots."""


LAGGING_BELOW = 0.5
"""A unit lags when fewer than this share of those who must submit have submitted a
report. The one threshold of the dashboard's highlight, of its chart's red bars, of the
unit heads' daily digest of lagging child units and of the escalation to the parent unit."""


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


@dataclass
class Totals:
    """The counters of a unit or a subtree, with the rates shown on the pages."""

    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    attendance_required: bool = False

    def __getattr__(self, name: str) -> int:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def add(self, other: dict[str, int]) -> None:
        for k in COUNTERS:
            self.values[k] += other.get(k, 0)

    @property
    def owing(self) -> int:
        """Participants who must submit a report."""
        v = self.values
        return v["invited"] - (v["absent"] if self.attendance_required else 0)

    @property
    def missing(self) -> int:
        return max(self.owing - self.values["submitted"], 0)

    @property
    def waiting(self) -> int:
        """Submitted reports awaiting review."""
        v = self.values
        return v["submitted"] - v["returned"] - v["graded"]

    @property
    def attended_rate(self) -> float | None:
        return _rate(self.values["attended"], self.values["invited"])

    @property
    def submitted_rate(self) -> float | None:
        return _rate(self.values["submitted"], self.owing)

    @property
    def graded_rate(self) -> float | None:
        return _rate(self.values["graded"], self.values["submitted"])

    @property
    def late_rate(self) -> float | None:
        return _rate(self.values["late"], self.values["submitted"])

    @property
    def lagging(self) -> bool:
        """Below :data:`LAGGING_BELOW` (a unit with nobody who must submit does not lag)."""
        rate = self.submitted_rate
        return rate is not None and rate < LAGGING_BELOW

    @property
    def grades(self) -> list[int]:
        return [self.values[f"grade_{i}"] for i in range(GRADE_SLOTS)]


@dataclass
class Line:
    """One line of a roll-up table: a child unit (or the unit's own participants)."""

    unit: Unit
    totals: Totals
    own: bool = False  # the participants whose unit is the root itself


@dataclass
class Rollup:
    unit: Unit
    totals: Totals
    lines: list[Line]


def rollup(campaign: Campaign, unit: Unit, attendance_required: bool = False) -> Rollup:
    """The subtree of ``unit``: one line per child unit that has participants (its row
    holds its subtree's counters), plus the unit's own participants, and the totals --
    from the rows of the unit and of its children (one query), whatever the size of the
    subtree. The own participants are the unit's row minus its children's (the top of the
    organisation keeps only its own participants in its row: see ``counters``)."""
    columns = ", ".join(f"p.{c}" for c in COUNTERS)
    sql = (f"SELECT p.unit_id, {columns} FROM progress_unitprogress p "  # noqa: S608
           f"WHERE p.campaign_id = %s AND p.unit_id IN "
           f"(SELECT id FROM org_unit WHERE parent_id = %s UNION ALL SELECT %s)")
    with connection.cursor() as cur:
        cur.execute(sql, [campaign.pk, unit.pk, unit.pk])
        rows = {unit_id: dict(zip(COUNTERS, (int(v or 0) for v in values), strict=True))
                for unit_id, *values in cur.fetchall()}
    mine = rows.pop(unit.pk, dict.fromkeys(COUNTERS, 0))
    children = {u.pk: u for u in Unit.objects.filter(pk__in=list(rows))
                .select_related("level")}
    own = dict(mine)
    if unit.parent_id is not None:  # the row holds the subtree: take the children out
        for values in rows.values():
            for k in COUNTERS:
                own[k] -= values[k]
    total = Totals(attendance_required=attendance_required)
    lines = []
    if any(own.values()):
        t = Totals(attendance_required=attendance_required)
        t.add(own)
        lines.append(Line(unit, t, own=True))
        total.add(own)
    for unit_id, values in sorted(rows.items(), key=lambda kv: children[kv[0]].path):
        if not any(values.values()):
            continue
        t = Totals(attendance_required=attendance_required)
        t.add(values)
        lines.append(Line(children[unit_id], t))
        total.add(values)
    return Rollup(unit, total, lines)


def lagging_children(roll: Rollup) -> list[Line]:
    """The child units of a roll-up that lag, worst first (then by name): those the
    dashboard's table highlights."""
    return sorted((line for line in roll.lines if not line.own and line.totals.lagging),
                  key=lambda line: (line.totals.submitted_rate, line.unit.name))


def participant_ids(campaign: Campaign, unit: Unit) -> Any:
    """The ids of the active participants whose unit is ``unit``, in Vietnamese order (a
    page of them is read by :func:`participants_by_id`). The order key is the one frozen
    on the roster row, so a page is a range of the index on (campaign, active, unit,
    sort_key, id) and never joins or sorts the unit's members, however many there are."""
    return (Participant.objects.filter(campaign=campaign, unit=unit, active=True)
            .order_by("sort_key", "pk").values_list("pk", flat=True))


def participants_by_id(ids: list[int]) -> list[Participant]:
    """These participants, in this order, with their attendance, report and grade (not
    the report's text)."""
    found = {p.pk: p for p in Participant.objects.filter(pk__in=ids)
             .select_related("person", "attendance", "report", "report__grade")
             .defer("report__draft")}
    return [found[pk] for pk in ids if pk in found]


# ---------------------------------------------------------------- over time


@dataclass
class Point:
    day: dt.date
    attended: int
    submitted: int
    graded: int


def _cumulative(days: dict[str, dict[dt.date, int]], start: dt.date,
                end: dt.date) -> list[Point]:
    out, running = [], {k: 0 for k in days}
    for k, per_day in days.items():  # what happened before the start
        running[k] = sum(n for d, n in per_day.items() if d < start)
    day = start
    while day <= end:
        for k, per_day in days.items():
            running[k] += per_day.get(day, 0)
        out.append(Point(day, running["attended"], running["submitted"], running["graded"]))
        day += dt.timedelta(days=1)
    return out


def _per_day(qs: Any, field_name: str) -> dict[dt.date, int]:
    rows = (qs.filter(**{f"{field_name}__isnull": False})
            .annotate(day=TruncDate(field_name)).values("day").annotate(n=Count("pk"))
            .values_list("day", "n"))
    return {d: n for d, n in rows if d is not None}


def from_timestamps(campaign: Campaign, unit: Unit, start: dt.date,
                    end: dt.date) -> list[Point]:
    """The cumulative series of the subtree from the times of check-ins, first submissions
    and grading (three ``GROUP BY`` over the subtree's participants)."""
    from quantriet.conference.models import Attendance
    from quantriet.reports.models import Report

    sub = tree.subtree_q(unit.path, "participant__unit__path")
    reports = Report.objects.filter(campaign=campaign, participant__active=True).filter(sub)
    present = Attendance.objects.filter(participant__campaign=campaign,
                                        participant__active=True,
                                        status=Attendance.Status.PRESENT).filter(sub)
    return _cumulative({"attended": _per_day(present, "checked_in_at"),
                        "submitted": _per_day(reports, "first_submitted_at"),
                        "graded": _per_day(reports, "graded_at")}, start, end)


def window(campaign: Campaign, deadline: dt.date | None) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    start = campaign.conference_date or (campaign.created_at and
                                         timezone.localtime(campaign.created_at).date()) or today
    end = max(deadline or today, today)
    if (end - start).days > 366:
        start = end - dt.timedelta(days=366)
    return min(start, end), end


def timeline(campaign: Campaign, unit: Unit, totals: Totals,
             deadline: dt.date | None) -> list[Point]:
    """Cumulative attended, submitted and graded per day, from the conference (or the
    campaign's creation) to the deadline or today, whichever is later."""
    start, end = window(campaign, deadline)
    today = timezone.localdate()
    if totals.invited <= LIVE_LIMIT:
        series = from_timestamps(campaign, unit, start, min(end, today))
    else:
        snaps = {s.day: s for s in DailyProgress.objects.filter(
            campaign=campaign, unit=unit, day__gte=start, day__lt=today).order_by("day")}
        series = [Point(d, s.attended, s.submitted, s.graded) for d, s in snaps.items()]
        series.append(Point(today, totals.attended, totals.submitted, totals.graded))
    return series
