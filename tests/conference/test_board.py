"""The live attendance board: who sees it, that its numbers are the database's, and that
it costs the same few queries whatever the number of points.

The 15,000-point timing is in bench/board.py.
"""

import random

from django.db import connection
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from quantriet.campaigns import services as campaigns
from quantriet.conference import services
from quantriet.conference.models import Attendance, BridgePoint
from quantriet.org.models import Person
from tests.conference.test_services import conf  # noqa: F401 - fixture
from tests.factories import user
from tests.permissions import check_matrix


def _client(account):
    c = Client(headers={"Accept-Language": "en"})
    c.force_login(account)
    return c


def _urls(campaign):
    return (reverse("conference:board", args=[campaign.slug]),
            reverse("conference:board_data", args=[campaign.slug]))


def _activity(conf):  # noqa: F811
    """Check-ins at two points, one from another point, leave and a substitute."""
    services.check_in(point=conf.hn, participant=conf.part["a"], actor=conf.coordinator)
    services.check_in(point=conf.hn, participant=conf.part["c"], actor=conf.coordinator)
    services.check_in(point=conf.hn, participant=conf.part["h"], actor=conf.coordinator,
                      accept_other_point=True)
    services.excuse(attendance=conf.part["d"].attendance, reason="Ốm", actor=conf.coordinator)
    services.check_in_substitute(point=conf.hn, participant=conf.part["b"],
                                 person=conf.org.people["an"], reason="Đi công tác",
                                 actor=conf.coordinator)


def _bulk_points(conf, n, seed=1):  # noqa: F811
    """n points with random counters, hosted by the units of the small tree."""
    rng = random.Random(seed)
    hosts = [conf.org.hn, conf.org.bd, conf.org.cs1, conf.org.cs2, conf.org.cshn, conf.org.hp,
             conf.org.lc, conf.org.cs3]
    points = []
    for i in range(n):
        expected = rng.randint(0, 300)
        present = rng.randint(0, expected)
        excused = rng.randint(0, expected - present)
        points.append(BridgePoint(campaign=conf.campaign, code=f"BP-{i:05d}",
                                  name=f"Điểm cầu số {i}", host_unit=hosts[i % len(hosts)],
                                  expected=expected, present=present, excused=excused,
                                  substitutes=rng.randint(0, present)))
    BridgePoint.objects.bulk_create(points, batch_size=2000)


# ---------------------------------------------------------------- who sees it


def test_board_permission_matrix(conf):  # noqa: F811
    board, data = _urls(conf.campaign)
    for url in (board, data):
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    # a participant with an account sees the campaign, not its board
    campaigns.set_status(campaign=conf.campaign, status="conference", actor=conf.organiser)
    delegate = user()
    Person.objects.filter(pk=conf.p["a"].pk).update(user=delegate)
    hp_coordinator = user()
    conf.hp.coordinators.add(hp_coordinator)
    for label, account in {"no right": user(), "participant": delegate,
                           "coordinator of a point (no grant)": conf.coordinator,
                           "coordinator of another point": hp_coordinator}.items():
        for url in (board, data):
            assert _client(account).get(url).status_code == 404, (label, url)
    for label, account in {"organiser": conf.organiser,
                           "inspector": user(inspector=conf.org.top),
                           "unit admin": user(unit_admin=conf.org.top),
                           "superuser": user(superuser=True)}.items():
        for url in (board, data):
            res = _client(account).get(url)
            assert res.status_code == 200, (label, url)
            assert not res.context["restricted"]
            assert res.context["total"].points == 3


def test_board_of_a_provincial_campaign_matrix(conf):  # noqa: F811
    hn_campaign = campaigns.create_campaign(slug="hn", title="HN", owner_unit=conf.org.hn,
                                            actor=conf.organiser)
    for url in _urls(hn_campaign):
        check_matrix(url, unit=conf.org.hn, ancestor=conf.org.top, elsewhere=conf.org.hp,
                     role="inspector")


def test_staff_of_a_province_see_their_points_only(conf):  # noqa: F811
    _activity(conf)
    res = _client(user(unit_admin=conf.org.hp)).get(_urls(conf.campaign)[1])
    assert res.status_code == 200 and res.context["restricted"]
    assert [s.code for s in res.context["page"].object_list] == [conf.hp.code]
    conf.hp.refresh_from_db()
    total = res.context["total"]
    assert (total.expected, total.present) == (conf.hp.expected, conf.hp.present) == (1, 1)
    html = res.content.decode()
    assert conf.hn.name not in html and "Total of your units" in html


def test_ended_session_reloads_the_polling_page(conf):  # noqa: F811
    res = Client().get(_urls(conf.campaign)[1], HTTP_HX_REQUEST="true")
    assert res.status_code == 401 and res["HX-Refresh"] == "true"


# ---------------------------------------------------------------- numbers


def test_board_numbers_match_the_database(conf):  # noqa: F811
    _activity(conf)
    assert services.verify_counters(conf.campaign) == []
    res = _client(conf.organiser).get(_urls(conf.campaign)[1])
    atts = Attendance.objects.filter(point__campaign=conf.campaign)
    db = atts.aggregate(expected=Count("id"), present=Count("id", filter=Q(status="present")),
                        excused=Count("id", filter=Q(status="excused")),
                        substitutes=Count("id", filter=Q(substitute__isnull=False)))
    total = res.context["total"]
    assert (total.expected, total.present, total.excused, total.substitutes) == (
        db["expected"], db["present"], db["excused"], db["substitutes"]) == (7, 4, 1, 1)
    assert total.missing == 2 and round(total.rate, 1) == 57.1
    html = res.content.decode()
    assert 'data-total="present">4<' in html and 'data-total="expected">7<' in html
    # by province: each point's attendances under the province of its host
    provinces = {s.label: (s.expected, s.present, s.excused, s.substitutes)
                 for s in res.context["provinces"]}
    for unit_ in (conf.org.hn, conf.org.hp):
        q = atts.filter(point__host_unit__path__startswith=unit_.path)
        assert provinces[unit_.name] == (
            q.count(), q.filter(status="present").count(), q.filter(status="excused").count(),
            q.filter(substitute__isnull=False).count())
    assert res.context["group_title"] == "By province"
    # per point, worst first: the central point has nobody, so it comes last
    codes = [s.code for s in res.context["page"].object_list]
    assert codes == [conf.hn.code, conf.hp.code, conf.central.code]
    for s in res.context["page"].object_list:
        p = BridgePoint.objects.get(campaign=conf.campaign, code=s.code)
        assert (s.expected, s.present, s.excused, s.substitutes) == (
            p.expected, p.present, p.excused, p.substitutes)


def test_sorting_paging_and_big_screen(conf):  # noqa: F811
    _bulk_points(conf, 230)
    c = _client(conf.organiser)
    board, data = _urls(conf.campaign)
    res = c.get(data)
    rows = res.context["page"].object_list
    assert len(rows) == 50 and res.context["page"].paginator.num_pages == 5
    rates = [s.rate for s in rows]
    assert rates == sorted(rates)  # worst first
    best = c.get(data, {"sort": "best"}).context["page"].object_list
    assert [s.rate for s in best] == sorted((s.rate for s in best), reverse=True)
    by_code = c.get(data, {"sort": "code", "page": "2"}).context["page"].object_list
    assert [s.code for s in by_code] == sorted(s.code for s in by_code)
    assert by_code[0].code > "BP-00040"
    missing = c.get(data, {"sort": "missing"}).context["page"].object_list
    assert [s.missing for s in missing] == sorted((s.missing for s in missing), reverse=True)
    assert c.get(data, {"sort": "nonsense"}).context["sort"] == "worst"
    page = c.get(board, {"sort": "code"}).content.decode()
    assert 'hx-trigger="every 2s"' in page and "board/data/?sort=code" in page
    assert '<header class="top">' in page
    screen = c.get(board, {"screen": "1"})
    html = screen.content.decode()
    assert '<header class="top">' not in html and 'class="screen"' in html
    assert "board/data/?screen=1" in html and 'class="pager"' not in html
    assert len(screen.context["page"].object_list) == 15


def test_board_queries_do_not_grow_with_the_points(conf, django_assert_max_num_queries):  # noqa: F811
    c = _client(conf.organiser)
    board, data = _urls(conf.campaign)
    c.get(data)  # the session and its user are loaded the same way below
    with CaptureQueriesContext(connection) as few:
        assert c.get(data).status_code == 200
    _bulk_points(conf, 2000)
    with CaptureQueriesContext(connection) as many:
        res = c.get(data)
    assert res.context["total"].points == 2003
    assert len(many) == len(few)
    with django_assert_max_num_queries(8):
        assert c.get(board).status_code == 200
    with django_assert_max_num_queries(8):
        assert c.get(data, {"page": "7", "sort": "name"}).status_code == 200
    # no query reads the attendances
    assert not any("conference_attendance" in q["sql"] for q in many.captured_queries)
