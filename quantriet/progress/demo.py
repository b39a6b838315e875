"""Activity for the demo campaign, so that its progress pages show something: bridge
points at the provinces, most participants checked in on the conference day, some
excused, reports submitted over the following days, many of them graded.

Rows are written in bulk (the demo has thousands of participants); the counters are then
recomputed from scratch with :func:`quantriet.progress.services.rebuild`, exactly as after
any bulk change. The demo's participant account (``daibieu``) is left untouched, so the
whole flow can still be tried with it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from quantriet.campaigns.models import Campaign
from quantriet.conference import services as conference
from quantriet.conference.models import Attendance, BridgePoint
from quantriet.progress import services
from quantriet.reports import services as reports
from quantriet.reports.models import GradeLevel, Report, Review, Version

SENTENCES = (
    "Qua học tập nghị quyết, bản thân tôi nhận thức sâu sắc hơn vai trò đại diện, chăm lo, "
    "bảo vệ quyền, lợi ích hợp pháp, chính đáng của đoàn viên và người lao động.",
    "Tại đơn vị, ban chấp hành sẽ tổ chức đối thoại định kỳ với người sử dụng lao động và "
    "thương lượng thỏa ước lao động tập thể có nhiều điều khoản có lợi hơn luật.",
    "Tôi sẽ chủ động nắm bắt tâm tư, nguyện vọng của công nhân, nhất là lao động nữ và công "
    "nhân làm ca đêm, để kịp thời kiến nghị giải quyết.",
    "Công đoàn cơ sở cần đổi mới nội dung, phương thức hoạt động, hướng mạnh về cơ sở, lấy "
    "đoàn viên làm trung tâm.",
    "Bản thân tôi cam kết vận động thêm đoàn viên mới, phát triển tổ chức công đoàn trong "
    "doanh nghiệp ngoài nhà nước.",
    "Cần tăng cường công tác kiểm tra, giám sát, công khai thu chi tài chính công đoàn theo "
    "quy chế dân chủ ở cơ sở.",
    "Tôi đề xuất số hóa hồ sơ đoàn viên và đẩy mạnh tuyên truyền trên mạng xã hội để thông "
    "tin đến được với người lao động trẻ.",
)
GRADE_WEIGHTS = (15, 45, 34, 6)  # Xuất sắc, Tốt, Đạt, Chưa đạt


def _text(rnd: random.Random) -> str:
    return " ".join(rnd.sample(SENTENCES, rnd.randint(3, 6)))


def simulate(campaign: Campaign, *, skip_participants: set[int] | None = None,
             seed: int = 2018, log: Any = None) -> None:
    """Bridge points, attendance, reports and grades for ``campaign`` (whose conference
    date should lie in the past)."""
    rnd = random.Random(seed)
    skip = skip_participants or set()
    admin = campaign.created_by
    day = campaign.conference_date or timezone.localdate() - dt.timedelta(days=5)
    today = timezone.localdate()
    conference.generate_points(campaign=campaign, actor=admin,
                               level_codes=["province", "central_sector", "corporation"])
    conference.assign_default(campaign=campaign, actor=admin)
    reports.policy_for(campaign)
    grades = list(GradeLevel.objects.filter(campaign=campaign).order_by("order"))
    weights = list(GRADE_WEIGHTS[:len(grades)]) + [1] * max(len(grades) - 4, 0)

    def at(d: dt.date, hour: int, minute: int) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(d, dt.time(hour, minute)))

    with transaction.atomic():
        rows = list(Attendance.objects.filter(participant__campaign=campaign,
                                              participant__active=True)
                    .values_list("pk", "participant_id", "point_id",
                                 "participant__managing_unit_id", "participant__unit_id"))
        present: dict[dt.datetime, list[int]] = defaultdict(list)
        excused: list[int] = []
        came: list[tuple[int, int | None, int]] = []
        for pk, participant_id, _point, managing, unit in rows:
            if participant_id in skip:
                continue
            r = rnd.random()
            if r < 0.87:
                present[at(day, 7, rnd.choice((30, 40, 45, 50, 55)))].append(pk)
                came.append((participant_id, managing, unit))
            elif r < 0.93:
                excused.append(pk)
                came.append((participant_id, managing, unit))
        for when, ids in present.items():
            for start in range(0, len(ids), 5000):
                Attendance.objects.filter(pk__in=ids[start:start + 5000]).update(
                    status=Attendance.Status.PRESENT, checked_in_at=when,
                    checked_in_point_id=None)
        for start in range(0, len(excused), 5000):
            Attendance.objects.filter(pk__in=excused[start:start + 5000]).update(
                status=Attendance.Status.EXCUSED, reason="Công tác đột xuất")
        # the points checked people in where they were expected; after the session every
        # point is locked except Hà Nội's, which stays open to try the check-in page
        from django.db.models import F

        Attendance.objects.filter(participant__campaign=campaign,
                                  status=Attendance.Status.PRESENT).update(
            checked_in_point_id=F("point_id"))
        (BridgePoint.objects.filter(campaign=campaign).exclude(code="LDLD-01")
         .update(locked=True))
        Attendance.objects.filter(point__campaign=campaign, point__locked=True,
                                  status=Attendance.Status.EXPECTED).update(
            status=Attendance.Status.ABSENT)
        conference._recount(campaign)
        # reports over the days since the conference, most of them graded
        span = max((today - day).days, 1)
        new_reports = []
        for participant_id, managing, unit in came:
            if rnd.random() > 0.78:
                continue
            sent = day + dt.timedelta(days=min(int(rnd.expovariate(1 / (span / 3))), span))
            when = at(sent, rnd.randint(7, 21), rnd.randint(0, 59))
            report = Report(campaign=campaign, participant_id=participant_id,
                            managing_unit_id=managing or unit, review_unit_id=managing or unit,
                            status=Report.Status.SUBMITTED, version_count=1,
                            first_submitted_at=when, submitted_at=when)
            r = rnd.random()
            if r < 0.6 and grades and sent < today:
                report.status = Report.Status.GRADED
                report.grade = rnd.choices(grades, weights)[0]
                report.graded_at = min(when + dt.timedelta(days=rnd.randint(1, 4)),
                                       timezone.now())
            elif r < 0.65:
                report.status = Report.Status.RETURNED
            new_reports.append(report)
        Report.objects.bulk_create(new_reports, batch_size=2000)
        saved = list(Report.objects.filter(campaign=campaign, version_count=1).values_list(
            "pk", "status", "grade_id", "submitted_at"))
        versions, reviews = [], []
        for pk, _status, _grade, submitted in saved:
            text = _text(rnd)
            versions.append(Version(report_id=pk, number=1, text=text,
                                    words=len(text.split()), sha256="demo",
                                    submitted_at=submitted))
        Version.objects.bulk_create(versions, batch_size=2000)
        by_report = dict(Version.objects.filter(report__campaign=campaign)
                         .values_list("report_id", "pk"))
        for pk, status, grade_id, _submitted in saved:
            if status == Report.Status.GRADED:
                reviews.append(Review(report_id=pk, version_id=by_report[pk],
                                      outcome=Review.Outcome.GRADED, grade_id=grade_id))
            elif status == Report.Status.RETURNED:
                reviews.append(Review(report_id=pk, version_id=by_report[pk],
                                      outcome=Review.Outcome.RETURNED,
                                      comments="Đề nghị bổ sung phần liên hệ thực tế."))
        Review.objects.bulk_create(reviews, batch_size=2000)
        services.rebuild(campaign=campaign, actor=admin)
    if log:
        log(f"progress: {sum(len(v) for v in present.values()):,} checked in, "
            f"{len(new_reports):,} reports submitted, "
            f"{sum(1 for r in new_reports if r.status == 'graded'):,} graded")
