"""Concurrent events keep the counters exact; a unit moved in the tree takes its figures
along."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from quantriet.campaigns.models import Participant
from quantriet.conference import services as conference
from quantriet.conference.models import BridgePoint
from quantriet.org import services as org_services
from quantriet.progress import counters, queries
from quantriet.progress.models import UnitProgress
from quantriet.reports import services as reports
from tests.similarity.test_flags import ORIGINAL, OTHER


@pytest.mark.django_db(transaction=True)
def test_concurrent_check_ins_submissions_and_locking(prog):
    """Six participants, each a thread (its own connection): check-in or absence, then a
    report; meanwhile a thread locks Hải Phòng's point. The rows of the participants'
    units and of their province are shared by the threads. PostgreSQL runs them at once
    (row locks, taken in one order by every writer); SQLite's in-memory test database
    refuses a second writer, so there they run one after another."""
    parallel = connection.vendor == "postgresql"
    keys = list(prog.part)
    start = threading.Barrier(len(keys) + 1 if parallel else 1)
    errors: list[BaseException] = []

    def participant(key, i):
        try:
            start.wait()
            p = Participant.objects.select_related("person", "unit", "attendance__point").get(
                pk=prog.part[key].pk)
            point = BridgePoint.objects.get(pk=p.attendance.point_id)
            try:
                if i % 3 == 2:
                    conference.excuse(attendance=p.attendance, reason="ốm",
                                      actor=prog.organiser)
                else:
                    conference.check_in(point=point, participant=p, actor=prog.organiser)
            except ValidationError:  # the point was locked first
                pass
            reports.submit(participant=p, actor=prog.authors[key],
                           text=(ORIGINAL if i % 2 else OTHER) + f" Số {i}.")
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def locker():
        try:
            start.wait()
            conference.lock_point(point=prog.hp, actor=prog.organiser)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=participant, args=(k, i)) for i, k in enumerate(keys)]
    threads.append(threading.Thread(target=locker))
    for t in threads:
        t.start()
        if not parallel:
            t.join()
    for t in threads:
        t.join()
    assert errors == []
    assert counters.differences(prog.campaign.pk) == []
    totals = queries.rollup(prog.campaign, prog.org.top).totals
    assert totals.submitted == len(keys)


def test_a_moved_unit_takes_its_figures_along(prog):
    org = prog.org
    conference.check_in(point=prog.hn, participant=prog.part["a"], actor=prog.organiser)
    before_hn = queries.rollup(prog.campaign, org.hn).totals
    bd = queries.rollup(prog.campaign, org.bd).totals
    org_services.move_unit(unit=org.bd, new_parent=org.hp)
    assert counters.differences(prog.campaign.pk) == []
    after_hn = queries.rollup(prog.campaign, org.hn).totals
    assert after_hn.invited == before_hn.invited - bd.invited
    assert after_hn.attended == before_hn.attended - 1
    hp = queries.rollup(prog.campaign, org.hp)
    assert org.bd.code in {line.unit.code for line in hp.lines}
    # the nation's figures do not change
    assert queries.rollup(prog.campaign, org.top).totals.invited == \
        prog.campaign.participants.filter(active=True).count()


def test_rows_hold_subtrees_and_the_top_only_its_own(prog):
    org = prog.org
    reports.submit(participant=prog.part["a"], text=ORIGINAL, actor=prog.authors["a"])
    rows = {r.unit_id: r for r in UnitProgress.objects.filter(campaign=prog.campaign)}
    assert rows[org.hn.pk].invited == sum(rows[u.pk].invited for u in (org.bd, org.cshn))
    assert rows[org.bd.pk].submitted == rows[org.cs1.pk].submitted == 1
    assert org.top.pk not in rows
    page = queries.rollup(prog.campaign, org.top)
    assert [line.unit for line in page.lines] == [org.hn, org.hp]
