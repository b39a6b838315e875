"""What one check-in costs in queries (the hot path of conference day, see
``bench/checkin.py``), and that the shortcuts taken for it answer exactly as before: the
coordinator's right is asked once per request, a synced queue reads its participants in
one query."""

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from quantriet.campaigns import services as campaigns
from quantriet.conference import services
from quantriet.conference.models import BridgePoint
from tests.conference.test_checkin_views import _client, _counts, _scan, _urls
from tests.conference.test_services import conf  # noqa: F401 - fixture
from tests.factories import user

# session, account, point, coordinator, participant with their person, savepoint, the
# attendance (for update), its update, the point's counters, the path of the participant's
# unit and the progress counters of the unit and its ancestors, release, fresh counters
SCAN_QUERIES = 13
# savepoint, the attendance (for update), its update, the point's counters, the unit's
# path and progress counters, release
SYNC_QUERIES_PER_ITEM = 7


def _queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_scan_by_token_or_number_costs_a_fixed_number_of_queries(conf):  # noqa: F811
    c = _client(conf.coordinator)
    token = services.invitation_token(conf.part["a"])
    n = _queries(lambda: _scan(c, conf, token=token, client_ref="q-1"))
    assert n <= SCAN_QUERIES
    assert _queries(lambda: _scan(c, conf, participant_id=conf.part["d"].pk,
                                  client_ref="q-2")) <= SCAN_QUERIES
    assert _counts(conf.hn)[1] == 2
    assert services.verify_counters(conf.campaign) == []


def test_sync_reads_the_participants_once(conf):  # noqa: F811
    c = _client(conf.coordinator)
    url = _urls(conf)["checkin_sync"]

    def post(items):
        return c.post(url, json.dumps(items), content_type="application/json")

    one = _queries(lambda: post([{"client_ref": "s-1", "participant_id": conf.part["a"].pk}]))
    three = _queries(lambda: post([
        {"client_ref": "s-2", "token": services.invitation_token(conf.part["c"])},
        {"client_ref": "s-3", "participant_id": conf.part["d"].pk},
        {"client_ref": "s-4", "participant_id": conf.part["b"].pk}]))
    assert three - one <= 2 * SYNC_QUERIES_PER_ITEM
    assert _counts(conf.hn)[1] == 4
    assert services.verify_counters(conf.campaign) == []


def test_sync_answers_bad_items_as_scans_do(conf):  # noqa: F811
    """Foreign, tampered and unknown names in a queue get the answers a scan gets."""
    other = campaigns.create_campaign(slug="other", title="Other", owner_unit=conf.org.top,
                                      actor=conf.organiser)
    foreign = other.participants.create(person=conf.p["a"], unit=conf.org.cs1)
    token = services.invitation_token(conf.part["c"])
    items = [
        {"client_ref": "b-1", "token": services.invitation_token(foreign)},
        {"client_ref": "b-2", "token": token[:-3] + ("xyz" if not token.endswith("xyz")
                                                     else "abc")},
        {"client_ref": "b-3", "participant_id": foreign.pk},
        {"client_ref": "b-4", "participant_id": "#" + str(conf.part["d"].pk)},
        {"client_ref": "b-5", "token": token},
        {"client_ref": "b-6", "participant_id": "12345678901234567890"},
    ]
    c = _client(conf.coordinator)
    alone = []
    for item in items:
        _, answer = _scan(c, conf, **{k: v for k, v in item.items() if k != "client_ref"},
                          client_ref=item["client_ref"])
        alone.append((answer["outcome"], answer.get("message")))
    assert [o for o, _ in alone] == ["error", "error", "error", "checked_in", "checked_in",
                                     "error"]
    # undo the two check-ins, so that the queue finds everyone where the scans found them
    for key in ("c", "d"):
        att = conf.part[key].attendance
        att.refresh_from_db()
        att.status, att.checked_in_at, att.client_ref = "expected", None, ""
        att.save()
    BridgePoint.objects.filter(pk=conf.hn.pk).update(present=0)
    res = c.post(_urls(conf)["checkin_sync"], json.dumps(items),
                 content_type="application/json").json()
    assert [(r["outcome"], r.get("message")) for r in res["results"]] == alone
    assert services.verify_counters(conf.campaign) == []


def test_right_to_check_in_is_remembered_only_when_granted(conf):  # noqa: F811
    point = BridgePoint.objects.select_related("campaign__owner_unit").get(pk=conf.hn.pk)
    newcomer = user()
    assert not services.may_check_in(newcomer, point)
    point.coordinators.add(newcomer)  # a refusal is not remembered
    assert services.may_check_in(newcomer, point)
    with CaptureQueriesContext(connection) as ctx:
        assert services.may_check_in(newcomer, point)
    assert not ctx.captured_queries
    assert services.may_check_in(conf.organiser, point)
    assert not services.may_check_in(user(), point)
