"""The counters follow every event in the same transaction and equal a recount."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from quantriet.campaigns import services as campaigns
from quantriet.conference import services as conference
from quantriet.progress import counters
from quantriet.progress.models import UnitProgress
from quantriet.reports import services as reports
from quantriet.reports.models import GradeLevel, Report
from quantriet.similarity import services as similarity
from quantriet.similarity.models import Flag
from tests.similarity.test_flags import ORIGINAL


def row(prog, unit):
    return UnitProgress.objects.get(campaign=prog.campaign, unit=unit)


def test_roster_creates_one_row_per_unit_with_participants(prog):
    units = set(UnitProgress.objects.filter(campaign=prog.campaign).values_list("unit__code",
                                                                                flat=True))
    assert {"HN-BD-CS1", "HN-BD-CS2", "HN-CS", "HP-LC-CS3"} <= units
    assert row(prog, prog.org.cs1).invited == prog.campaign.participants.filter(
        unit=prog.org.cs1, active=True).count() >= 2
    assert counters.differences(prog.campaign.pk) == []


def test_events_change_the_counters(prog):
    org, c = prog.org, prog.campaign
    a, b, h = prog.part["a"], prog.part["b"], prog.part["h"]
    conference.check_in(point=prog.hn, participant=a, actor=prog.organiser)
    conference.excuse(attendance=b.attendance, reason="ốm", actor=prog.organiser)
    assert (row(prog, org.cs1).attended, row(prog, org.cs1).excused) == (1, 1)
    conference.check_in(point=prog.hn, participant=b, actor=prog.organiser)  # came after all
    assert (row(prog, org.cs1).attended, row(prog, org.cs1).excused) == (2, 0)
    conference.lock_point(point=prog.hp, actor=prog.organiser)
    assert row(prog, org.cs3).absent == 2
    # reports
    v = reports.submit(participant=a, text=ORIGINAL, actor=prog.authors["a"])
    assert row(prog, org.cs1).submitted == 1
    report = Report.objects.get(pk=v.report_id)
    reports.review(report=report, actor=prog.reviewer, outcome="returned", comments="Thêm")
    assert (row(prog, org.cs1).submitted, row(prog, org.cs1).returned) == (1, 1)
    v2 = reports.submit(participant=a, text=ORIGINAL + " Bổ sung.", actor=prog.authors["a"])
    assert similarity.check_version(v2.pk) is None
    assert row(prog, org.cs1).returned == 0
    good = GradeLevel.objects.get(campaign=c, order=1)
    reports.review(report=report, actor=prog.reviewer, outcome="graded", grade=good)
    r = row(prog, org.cs1)
    assert (r.graded, r.grade_1, r.grade_0) == (1, 1, 0)
    # a copy flag, then dismissed
    reports.submit(participant=h, text=ORIGINAL, actor=prog.authors["h"])
    flag = similarity.check_version(Report.objects.get(participant=h).versions.get().pk)
    assert flag is not None and row(prog, org.cs3).flagged == 1
    similarity.decide(flag=flag, status=Flag.Status.DISMISSED, actor=prog.reviewer)
    assert row(prog, org.cs3).flagged == 0
    assert counters.differences(c.pk) == []


def test_leaving_and_coming_back_moves_the_whole_contribution(prog):
    a = prog.part["a"]
    conference.check_in(point=prog.hn, participant=a, actor=prog.organiser)
    reports.submit(participant=a, text=ORIGINAL, actor=prog.authors["a"])
    before = row(prog, prog.org.cs1)
    campaigns.remove_participant(participant=a, reason="chuyển công tác", actor=prog.organiser)
    after = row(prog, prog.org.cs1)
    assert (after.invited, after.attended, after.submitted) == (
        before.invited - 1, before.attended - 1, before.submitted - 1)
    # a review of a report whose author has left the roster changes nothing
    reports.review(report=Report.objects.get(participant=a), actor=prog.reviewer,
                   outcome="returned", comments="Thêm")
    assert row(prog, prog.org.cs1).returned == 0
    campaigns.add_participant(campaign=prog.campaign, person=a.person, reason="trở lại",
                              actor=prog.organiser)
    back = row(prog, prog.org.cs1)
    assert (back.invited, back.attended, back.submitted, back.returned) == (
        before.invited, before.attended, before.submitted, 1)
    assert counters.differences(prog.campaign.pk) == []


def test_one_statement_per_event(prog):
    a = prog.part["a"]
    with CaptureQueriesContext(connection) as ctx:
        conference.check_in(point=prog.hn, participant=a, actor=prog.organiser)
    progress = [q["sql"] for q in ctx.captured_queries if "progress_unitprogress" in q["sql"]]
    assert len(progress) == 1 and progress[0].startswith("UPDATE")
    with CaptureQueriesContext(connection) as ctx:
        reports.submit(participant=a, text=ORIGINAL, actor=prog.authors["a"])
    progress = [q["sql"] for q in ctx.captured_queries if "progress_unitprogress" in q["sql"]]
    assert len(progress) == 1


def test_bump_creates_the_row_and_rejects_unknown_counters(prog):
    UnitProgress.objects.filter(campaign=prog.campaign, unit=prog.org.hp).delete()
    counters.bump(prog.campaign.pk, prog.org.hp.pk, invited=2)
    counters.bump(prog.campaign.pk, prog.org.hp.pk, invited=1, attended=1)
    assert (row(prog, prog.org.hp).invited, row(prog, prog.org.hp).attended) == (3, 1)
    counters.bump_many(prog.campaign.pk, {prog.org.hp.pk: {"absent": 2},
                                          prog.org.lc.pk: {"absent": 1}})
    # a change at a unit reaches the rows of its ancestors below the top
    assert (row(prog, prog.org.hp).absent, row(prog, prog.org.lc).absent) == (3, 1)
    assert not UnitProgress.objects.filter(campaign=prog.campaign, unit=prog.org.top).exists()
    with pytest.raises(ValueError):
        counters.bump(prog.campaign.pk, prog.org.hp.pk, nonsense=1)
    # the verification sees these rows as wrong, and a recount repairs them
    wrong = {(u, k) for u, k, _s, _e in counters.differences(prog.campaign.pk)}
    assert (prog.org.hp.pk, "invited") in wrong and (prog.org.lc.pk, "absent") in wrong
    counters.recount(prog.campaign.pk)
    assert counters.differences(prog.campaign.pk) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_events_keep_the_counters_exact(prog, seed):
    rnd = random.Random(seed)
    keys = list(prog.part)
    grades = list(GradeLevel.objects.filter(campaign=prog.campaign))
    if not grades:
        reports.policy_for(prog.campaign)
        grades = list(GradeLevel.objects.filter(campaign=prog.campaign))
    texts = [ORIGINAL, ORIGINAL.replace("công", "cong"), "Bài viết riêng số %d về nghị quyết."]
    for step in range(60):
        key = rnd.choice(keys)
        p = prog.campaign.participants.select_related("person", "unit").get(
            pk=prog.part[key].pk)
        action = rnd.choice(["checkin", "excuse", "submit", "review", "remove", "add",
                             "lock", "sub"])
        try:
            if action == "checkin":
                point = p.attendance.point
                conference.check_in(point=point, participant=p, actor=prog.organiser,
                                    accept_other_point=True)
            elif action == "excuse":
                conference.excuse(attendance=p.attendance, reason="bận", actor=prog.organiser)
            elif action == "sub":
                conference.check_in_substitute(point=p.attendance.point, participant=p,
                                               person=prog.people["d"], reason="thay",
                                               actor=prog.organiser)
            elif action == "submit":
                text = rnd.choice(texts)
                v = reports.submit(participant=p, actor=prog.authors[key],
                                   text=text % step if "%d" in text else text)
                similarity.check_version(v.pk)
            elif action == "review":
                report = Report.objects.filter(participant=p).first()
                if report:
                    outcome = rnd.choice(["graded", "returned"])
                    reports.review(report=report, actor=prog.reviewer, outcome=outcome,
                                   comments="Góp ý", grade=rnd.choice(grades))
            elif action == "remove":
                campaigns.remove_participant(participant=p, reason="x", actor=prog.organiser)
            elif action == "add":
                campaigns.add_participant(campaign=prog.campaign, person=p.person,
                                          reason="y", actor=prog.organiser)
            elif action == "lock" and rnd.random() < 0.2:
                conference.lock_point(point=p.attendance.point, actor=prog.organiser)
        except Exception as exc:  # refusals are part of the game; errors are not
            from django.core.exceptions import ValidationError

            assert isinstance(exc, ValidationError), exc
        flags = Flag.objects.filter(campaign=prog.campaign).exclude(status="dismissed")
        if flags and rnd.random() < 0.3:
            similarity.decide(flag=flags[0], status="dismissed", actor=prog.reviewer)
    assert counters.differences(prog.campaign.pk) == []
