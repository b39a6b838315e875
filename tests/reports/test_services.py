"""Reports: drafts, submission and deadlines, routing and assignment, review rounds."""

import datetime as dt
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from quantriet.conference import services as conference
from quantriet.conference.models import Attendance
from quantriet.core.models import AuditEvent
from quantriet.reports import services
from quantriet.reports.models import Report, ReportPolicy, Version
from tests.factories import user

TEXT = "Bài thu hoạch: học tập và làm theo Nghị quyết, liên hệ bản thân và đơn vị."


def _docx(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml",
                    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                    'package/2006/content-types"><Override PartName="/word/document.xml" '
                    'ContentType="application/vnd.openxmlformats-officedocument.'
                    'wordprocessingml.document.main+xml"/></Types>')
        zf.writestr("word/document.xml",
                    '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats'
                    '.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
                    f'{text}</w:t></w:r></w:p></w:body></w:document>')
    return buf.getvalue()


def test_default_policy_and_scale(rep):
    policy = services.policy_for(rep.campaign)
    assert policy.late == ReportPolicy.Late.ACCEPT
    assert [(g.label, g.passing) for g in rep.campaign.grade_levels.all()] == [
        ("Xuất sắc", True), ("Tốt", True), ("Đạt", True), ("Chưa đạt", False)]


def test_only_the_author_writes(rep):
    with pytest.raises(ValidationError):
        services.save_draft(participant=rep.part["a"], text="x", actor=rep.authors["b"])
    with pytest.raises(ValidationError):
        services.submit(participant=rep.part["a"], text=TEXT, actor=rep.organiser)
    assert not Version.objects.exists()


def test_submit_routes_to_the_managing_units_reviewers_balanced(rep):
    r1, r2 = user("cham1", reviewer=rep.org.bd), user("cham2", reviewer=rep.org.bd)
    got = []
    for key in ("a", "b", "c"):
        v = services.submit(participant=rep.part[key], text=TEXT, actor=rep.authors[key])
        report = Report.objects.get(pk=v.report_id)
        assert report.status == Report.Status.SUBMITTED and report.managing_unit == rep.org.bd
        assert report.review_unit == rep.org.bd and not report.escalated
        got.append(report.reviewer)
    assert got == [r1, r2, r1]
    # a reviewer at an ancestor is not in the district's pool; nor one at a child
    assert services.reviewers_of(rep.org.bd) == [r1, r2]


def test_no_reviewers_escalates_to_the_nearest_ancestor_with_some(rep):
    boss = user("cham.hp", reviewer=rep.org.hp)
    v = services.submit(participant=rep.part["h"], text=TEXT, actor=rep.authors["h"])
    report = v.report
    assert (report.managing_unit, report.review_unit, report.escalated, report.reviewer) == (
        rep.org.lc, rep.org.hp, True, boss)
    assert AuditEvent.objects.filter(action="reports.escalated").count() == 1


def test_nobody_anywhere_leaves_it_waiting_then_assign(rep):
    v = services.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"])
    assert v.report.reviewer is None
    admin = user("qt.bd", unit_admin=rep.org.bd)
    reviewer = user("cham.bd", reviewer=rep.org.bd)
    assert services.assign_waiting(campaign=rep.campaign, unit=rep.org.bd, actor=admin) == 1
    assert Report.objects.get(pk=v.report_id).reviewer == reviewer


def test_repeated_submission_is_stored_once(rep):
    one = services.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"],
                          client_ref="abc")
    two = services.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"],
                          client_ref="abc")
    assert one.pk == two.pk and Version.objects.count() == 1
    with pytest.raises(ValidationError, match="already submitted"):
        services.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"],
                        client_ref="other")


def test_empty_short_and_closed(rep):
    with pytest.raises(ValidationError, match="empty"):
        services.submit(participant=rep.part["a"], text="  \n ", actor=rep.authors["a"])
    services.save_policy(campaign=rep.campaign, actor=rep.organiser, min_words=50)
    with pytest.raises(ValidationError, match="at least 50"):
        services.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"])
    services.save_policy(campaign=rep.campaign, actor=rep.organiser, min_words=0)
    rep.campaign.status = "closed"
    rep.campaign.save()
    with pytest.raises(ValidationError, match="not collecting"):
        services.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"])
    assert not Version.objects.exists()


def test_deadline_late_flag_refusal_and_extension(rep):
    today = timezone.localdate()
    services.save_policy(campaign=rep.campaign, actor=rep.organiser,
                         closes_on=today - dt.timedelta(days=1))
    v = services.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"])
    assert v.late and v.report.late
    services.save_policy(campaign=rep.campaign, actor=rep.organiser,
                         late=ReportPolicy.Late.REFUSE)
    with pytest.raises(ValidationError, match="deadline"):
        services.submit(participant=rep.part["b"], text=TEXT, actor=rep.authors["b"])
    report = services.report_of(rep.part["b"])
    with pytest.raises(ValidationError):  # only the managing unit's admins extend
        services.extend(report=report, until=today + dt.timedelta(days=3),
                        actor=user(unit_admin=rep.org.hn))
    services.extend(report=report, until=today + dt.timedelta(days=3),
                    actor=user(unit_admin=rep.org.bd))
    v = services.submit(participant=rep.part["b"], text=TEXT, actor=rep.authors["b"])
    assert not v.late
    with pytest.raises(ValidationError, match="opening"):
        services.save_policy(campaign=rep.campaign, actor=rep.organiser,
                             opens_on=today + dt.timedelta(days=9))


def test_opening_date(rep):
    services.save_policy(campaign=rep.campaign, actor=rep.organiser,
                         opens_on=timezone.localdate() + dt.timedelta(days=2), closes_on=None)
    with pytest.raises(ValidationError, match="open on"):
        services.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"])


def test_attendance_setting(rep):
    services.save_policy(campaign=rep.campaign, actor=rep.organiser, attendance_required=True)
    conference.generate_points(campaign=rep.campaign, level_codes=["province"],
                               actor=rep.organiser)
    conference.assign_default(campaign=rep.campaign, actor=rep.organiser)
    point = rep.part["a"].attendance.point
    conference.check_in(point=point, participant=rep.part["a"], actor=rep.organiser)
    conference.excuse(attendance=Attendance.objects.get(participant=rep.part["b"]),
                      reason="ốm", actor=rep.organiser)
    conference.lock_point(point=point, actor=rep.organiser)
    owes = {k: services.must_submit(p) for k, p in rep.part.items() if k != "h"}
    assert owes == {"a": True, "b": True, "c": False}
    services.save_policy(campaign=rep.campaign, actor=rep.organiser, attendance_required=False)
    assert services.must_submit(rep.part["c"])


def test_upload_docx_and_refusals(rep):
    v = services.submit(participant=rep.part["a"], actor=rep.authors["a"],
                        upload=services.Upload(io.BytesIO(_docx(TEXT)), "bai thu hoach.docx"))
    assert v.kind == "docx" and v.text == TEXT and v.file and v.size > 0
    with pytest.raises(ValidationError):
        services.submit(participant=rep.part["b"], actor=rep.authors["b"],
                        upload=services.Upload(io.BytesIO(b"MZ\x90\x00" * 100), "bai.docx"))
    services.save_policy(campaign=rep.campaign, actor=rep.organiser, allow_upload=False)
    with pytest.raises(ValidationError, match="online only"):
        services.submit(participant=rep.part["b"], actor=rep.authors["b"],
                        upload=services.Upload(io.BytesIO(_docx(TEXT)), "b.docx"))
    assert Version.objects.count() == 1


def test_review_rounds_return_resubmit_grade(rep):
    services.add_criterion(campaign=rep.campaign, title="Nội dung", max_points=6,
                           actor=rep.organiser)
    services.add_criterion(campaign=rep.campaign, title="Liên hệ bản thân", max_points=4,
                           actor=rep.organiser)
    reviewer = user("cham", reviewer=rep.org.bd)
    v1 = services.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"])
    report = v1.report
    with pytest.raises(ValidationError):  # not theirs
        services.review(report=report, actor=user(reviewer=rep.org.bd), outcome="returned",
                        comments="x")
    with pytest.raises(ValidationError, match="revised"):
        services.review(report=report, actor=reviewer, outcome="returned")
    services.review(report=report, actor=reviewer, outcome="returned",
                    comments="Cần liên hệ cụ thể hơn.")
    report.refresh_from_db()
    assert report.status == Report.Status.RETURNED and report.draft == TEXT
    services.save_draft(participant=rep.part["a"], text=TEXT + " Bổ sung.",
                        actor=rep.authors["a"])
    v2 = services.submit(participant=rep.part["a"], text=TEXT + " Bổ sung.",
                         actor=rep.authors["a"])
    report.refresh_from_db()
    assert v2.number == 2 and report.reviewer == reviewer  # back to the same reviewer
    crit = list(rep.campaign.criteria.all())
    good = rep.campaign.grade_levels.get(label="Tốt")
    with pytest.raises(ValidationError, match="every criterion"):
        services.review(report=report, actor=reviewer, outcome="graded", grade=good,
                        points={crit[0].pk: 5})
    with pytest.raises(ValidationError, match="between 0 and 4"):
        services.review(report=report, actor=reviewer, outcome="graded", grade=good,
                        points={crit[0].pk: 5, crit[1].pk: 9})
    services.review(report=report, actor=reviewer, outcome="graded", grade=good,
                    points={crit[0].pk: 5, crit[1].pk: 3}, comments="Tốt.")
    report.refresh_from_db()
    assert (report.status, report.grade, report.points) == (Report.Status.GRADED, good, 8)
    assert [(r.version.number, r.outcome) for r in report.reviews.all()] == [
        (1, "returned"), (2, "graded")]
    with pytest.raises(ValidationError):
        services.set_scale(campaign=rep.campaign, grades=[("A", True), ("B", False)],
                           actor=rep.organiser)


def test_reassign_within_the_pool_only(rep):
    r1, r2 = user("c1", reviewer=rep.org.bd), user("c2", reviewer=rep.org.bd)
    outsider = user("c3", reviewer=rep.org.hn)
    report = services.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"]).report
    admin = user("qt", unit_admin=rep.org.bd)
    with pytest.raises(ValidationError):
        services.reassign(report=report, reviewer=outsider, actor=admin)
    with pytest.raises(ValidationError):
        services.reassign(report=report, reviewer=r2, actor=user(unit_admin=rep.org.hn))
    services.reassign(report=report, reviewer=r2 if report.reviewer == r1 else r1, actor=admin)
    assert Report.objects.get(pk=report.pk).reviewer != report.reviewer


def test_scale_editing(rep):
    services.set_scale(campaign=rep.campaign, grades=[("Hoàn thành xuất sắc", True),
                                                      ("Hoàn thành", True),
                                                      ("Không hoàn thành", False)],
                       actor=rep.organiser)
    assert rep.campaign.grade_levels.count() == 3
    with pytest.raises(ValidationError):
        services.set_scale(campaign=rep.campaign, grades=[("A", True)], actor=rep.organiser)
    with pytest.raises(ValidationError):
        services.set_scale(campaign=rep.campaign, grades=[("A", True), ("a", False)],
                           actor=rep.organiser)
