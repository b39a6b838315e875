"""The one-statement check-in (``conference/quick.py``): a coordinator's phone sends the
page's scan key, the common case is answered by one statement on PostgreSQL, and every
other case -- and every database without the statement -- falls back to the full path
with the same answers."""

import re
import threading

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from quantriet.conference import quick, services
from quantriet.conference.models import Attendance
from quantriet.progress import counters
from tests.conference.test_checkin_queries import SCAN_QUERIES
from tests.conference.test_checkin_views import _client, _counts, _urls
from tests.conference.test_services import conf  # noqa: F401 - fixture


def _key(client, conf, point=None):  # noqa: F811
    html = client.get(_urls(conf, point)["checkin"]).content.decode()
    found = re.search(r'data-scan-key="([^"]+)"', html)
    return found.group(1) if found else ""


def _post(client, conf, key, point=None, **data):  # noqa: F811
    with CaptureQueriesContext(connection) as ctx:
        res = client.post(_urls(conf, point)["checkin_scan"], data, headers={"X-Scan-Key": key})
    assert res["Content-Type"] == "application/json"
    return res.status_code, res.json(), len(ctx.captured_queries)


def test_coordinators_get_a_key_where_the_statement_exists(conf):  # noqa: F811
    coordinator = _client(conf.coordinator)
    assert bool(_key(coordinator, conf)) == quick.supported()
    # an organiser who is not a coordinator takes the full path: no key
    assert _key(_client(conf.organiser), conf) == ""


def test_common_case_is_one_statement_with_the_full_paths_answer(conf):  # noqa: F811
    c = _client(conf.coordinator)
    key = _key(c, conf)
    token = services.invitation_token(conf.part["a"])
    # (the page's script always sends accept_other_point, "0" until confirmed)
    status, answer, queries = _post(c, conf, key, token=token, client_ref="k-1",
                                    accept_other_point="0")
    assert status == 200 and answer["outcome"] == "checked_in"
    assert answer["message"] == "Lê Văn A checked in."
    assert answer["participant"] == conf.part["a"].pk and answer["client_ref"] == "k-1"
    assert answer["counts"]["present"] == 1 and answer["counts"]["waiting"] == 5
    assert queries == (1 if quick.supported() else SCAN_QUERIES)
    att = Attendance.objects.get(participant=conf.part["a"])
    assert (att.status, att.checked_in_point, att.checked_in_by, att.client_ref) == (
        "present", conf.hn, conf.coordinator, "k-1")
    # by participant number too
    _, answer, queries = _post(c, conf, key, participant_id=f"#{conf.part['d'].pk}",
                               client_ref="k-2")
    assert answer["outcome"] == "checked_in" and answer["counts"]["present"] == 2
    assert queries == (1 if quick.supported() else SCAN_QUERIES)
    # a second scan of someone present: "already", with the time of the first, also in
    # one statement
    _, again, queries = _post(c, conf, key, token=token, client_ref="k-3")
    assert again["outcome"] == "already" and (queries == 1) == quick.supported()
    local = timezone.localtime(att.checked_in_at).strftime("%H:%M")
    assert again["message"] == f"Lê Văn A was already checked in at {local}."
    assert again["time"] == local and again["counts"]["present"] == 2
    assert Attendance.objects.get(pk=att.pk).client_ref == "k-1"
    assert _counts(conf.hn)[1] == 2
    assert services.verify_counters(conf.campaign) == []
    assert counters.stored(conf.campaign.pk)[conf.part["a"].unit_id]["attended"] >= 1
    assert counters.differences(conf.campaign.pk) == []


def test_excused_then_present_moves_the_counters(conf):  # noqa: F811
    att = Attendance.objects.get(participant=conf.part["b"])
    services.excuse(attendance=att, reason="Ốm", actor=conf.coordinator)
    c = _client(conf.coordinator)
    _, answer, _ = _post(c, conf, _key(c, conf), participant_id=conf.part["b"].pk)
    assert answer["outcome"] == "checked_in"
    assert (answer["counts"]["present"], answer["counts"]["excused"]) == (1, 0)
    assert services.verify_counters(conf.campaign) == []
    assert counters.differences(conf.campaign.pk) == []


def test_other_cases_fall_back_to_the_full_path(conf):  # noqa: F811
    c = _client(conf.coordinator)
    key = _key(c, conf)
    # expected at another point: the warning, then the confirmation
    _, warn, _ = _post(c, conf, key, participant_id=conf.part["h"].pk)
    assert warn["outcome"] == "other_point"
    _, ok, _ = _post(c, conf, key, participant_id=conf.part["h"].pk, accept_other_point="1")
    assert ok["outcome"] == "checked_in"
    # no longer on the roster
    conf.part["c"].active = False
    conf.part["c"].save(update_fields=["active"])
    _, gone, _ = _post(c, conf, key, participant_id=conf.part["c"].pk)
    assert gone["outcome"] == "error" and "no longer on the roster" in gone["message"]
    # a token of nobody, and a number of nobody
    _, bad, _ = _post(c, conf, key, token="abc")
    assert bad["outcome"] == "error" and "not a valid invitation code" in bad["message"]
    _, nobody, _ = _post(c, conf, key, participant_id="999999")
    assert nobody["outcome"] == "error"
    # a locked point
    services.lock_point(point=conf.hn, actor=conf.organiser)
    _, locked, _ = _post(c, conf, key, participant_id=conf.part["a"].pk)
    assert locked["outcome"] == "error" and "locked" in locked["message"]
    assert Attendance.objects.get(participant=conf.part["a"]).status == "absent"
    assert services.verify_counters(conf.campaign) == []


def test_a_key_works_only_for_its_point_session_and_coordinator(conf, monkeypatch):  # noqa: F811
    c = _client(conf.coordinator)
    key = _key(c, conf)
    session = c.cookies[settings.SESSION_COOKIE_NAME].value
    args = {"slug": conf.campaign.slug, "code": conf.hn.code, "session_key": session}
    if quick.supported():
        assert quick.read_scan_key(key, **args) is not None
    assert quick.read_scan_key(key, **{**args, "session_key": "another"}) is None
    assert quick.read_scan_key(key, **{**args, "code": conf.hp.code}) is None
    assert quick.read_scan_key(key + "x", **args) is None
    assert quick.read_scan_key(services.invitation_token(conf.part["a"]), **args) is None
    # the key with another session cookie: the full path answers by that session
    other = _client(conf.organiser)
    _, answer, queries = _post(other, conf, key, participant_id=conf.part["a"].pk)
    assert answer["outcome"] == "checked_in" and queries > 1
    assert Attendance.objects.get(participant=conf.part["a"]).checked_in_by == conf.organiser
    # an expired key: the full path
    monkeypatch.setattr(quick, "KEY_MAX_AGE", -1)
    _, answer, queries = _post(c, conf, key, participant_id=conf.part["d"].pk)
    assert answer["outcome"] == "checked_in" and queries > 1
    monkeypatch.undo()
    # a coordinator removed from the point: refused at once, with the key still valid
    conf.hn.coordinators.remove(conf.coordinator)
    status, answer, _ = _post(c, conf, key, participant_id=conf.part["b"].pk)
    assert status == 404 and answer["outcome"] == "error"
    assert Attendance.objects.get(participant=conf.part["b"]).status == "expected"
    # a deactivated account: the full path finds the session without a user
    conf.hn.coordinators.add(conf.coordinator)
    conf.coordinator.is_active = False
    conf.coordinator.save(update_fields=["is_active"])
    status, answer, _ = _post(c, conf, key, participant_id=conf.part["b"].pk)
    assert status == 401 and Attendance.objects.get(participant=conf.part["b"]).status == (
        "expected")
    assert services.verify_counters(conf.campaign) == []


def test_a_key_dies_with_its_session(conf):  # noqa: F811
    """Logging out ends the session in the database; the key and the old cookie, replayed
    together, then check in nobody."""
    c = _client(conf.coordinator)
    key = _key(c, conf)
    session = c.cookies[settings.SESSION_COOKIE_NAME].value
    _, answer, _ = _post(c, conf, key, participant_id=conf.part["a"].pk)
    assert answer["outcome"] == "checked_in"
    c.post("/logout/")
    replay = Client(headers={"Accept-Language": "en"})
    replay.cookies[settings.SESSION_COOKIE_NAME] = session
    status, answer, _ = _post(replay, conf, key, participant_id=conf.part["b"].pk)
    assert status == 401 and answer["outcome"] == "error"
    assert Attendance.objects.get(participant=conf.part["b"]).status == "expected"
    assert services.verify_counters(conf.campaign) == []


@pytest.mark.django_db(transaction=True)
def test_simultaneous_scans_of_one_person_count_once(conf):  # noqa: F811
    """Eight phones scan the same invitation at the same moment (each thread has its own
    database connection): one check-in, seven "already". The row lock that makes this so
    is PostgreSQL's; SQLite's in-memory test database refuses a second writer with "table
    is locked" instead of waiting, so there the eight scans run one after another."""
    parallel = connection.vendor == "postgresql"
    c = _client(conf.coordinator)
    key = _key(c, conf)
    session = c.cookies[settings.SESSION_COOKIE_NAME].value
    token = services.invitation_token(conf.part["a"])
    answers: list[str] = []
    start = threading.Barrier(8 if parallel else 1)

    def phone(i):
        try:
            client = Client(headers={"Accept-Language": "en"})
            client.cookies[settings.SESSION_COOKIE_NAME] = session
            start.wait()
            res = client.post(_urls(conf)["checkin_scan"],
                              {"token": token, "client_ref": f"t-{i}"},
                              headers={"X-Scan-Key": key})
            answers.append(res.json()["outcome"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=phone, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
        if not parallel:
            t.join()
    for t in threads:
        t.join()
    assert sorted(answers) == ["already"] * 7 + ["checked_in"]
    assert _counts(conf.hn)[1] == 1
    assert services.verify_counters(conf.campaign) == []
    assert counters.differences(conf.campaign.pk) == []


def test_the_statement_is_prepared_on_the_server(conf):  # noqa: F811
    """PostgreSQL plans the statement once per connection, not on every scan (Django's
    connections never prepare: ``core.fastpath`` asks for it)."""
    c = _client(conf.coordinator)
    key = _key(c, conf)
    _, answer, _ = _post(c, conf, key, participant_id=conf.part["a"].pk)
    assert answer["outcome"] == "checked_in"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements "
                           "WHERE statement LIKE %s", ["%UPDATE conference_attendance att%"])
            assert cursor.fetchone()[0] == 1


def test_a_check_in_changes_no_indexed_column(conf):  # noqa: F811
    """So PostgreSQL can update the row in place without touching an index (HOT)."""
    changed = {"status", "checked_in_at", "checked_in_point_id", "checked_in_by_id",
               "client_ref"}
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor,
                                                               Attendance._meta.db_table)
    indexed = {col for c in constraints.values() if c["index"] or c["unique"]
               for col in c["columns"]}
    assert "participant_id" in indexed and "point_id" in indexed
    assert not indexed & changed
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s",
                           [Attendance._meta.db_table])
            assert "fillfactor=70" in cursor.fetchone()[0]
