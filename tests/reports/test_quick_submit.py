"""The one-statement first submission (``reports/quick.py``): the writing page gives a
submit key, the common case is stored by one statement on PostgreSQL, and every other case
-- and every database without the statement -- takes the full path with the same answers
and the same rows."""

import datetime as dt
import re

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from quantriet.progress import counters
from quantriet.reports import quick, services
from quantriet.reports.models import Report, Version
from tests.factories import user

TEXT = ("Bài thu hoạch: học tập và làm theo Nghị quyết, liên hệ bản thân và đơn vị.\n\n"
        "Giải pháp: tổ chức sinh hoạt chuyên đề  hằng tháng.")
JSON = {"Accept": "application/json", "Accept-Language": "en"}


def _client(account):
    c = Client(headers={"Accept-Language": "en"})
    c.force_login(account)
    return c


def _key(client, rep):
    html = client.get(reverse("reports:mine", args=[rep.campaign.slug])).content.decode()
    found = re.search(r'name="submit_key" value="([^"]+)"', html)
    return found.group(1) if found else ""


def _submit(client, rep, key, **data):
    data = {"text": TEXT, "client_ref": "r1", **data}
    if key:
        data["submit_key"] = key
    with CaptureQueriesContext(connection) as ctx:
        res = client.post(reverse("reports:submit", args=[rep.campaign.slug]), data,
                          headers=JSON)
    return res.status_code, res.json(), [q["sql"] for q in ctx.captured_queries]


def _row(report):
    return (report.status, report.managing_unit_id, report.review_unit_id, report.escalated,
            report.version_count, report.draft, report.late, report.first_submitted_at
            is not None, report.submitted_at is not None, report.assigned_at is not None)


def _version(v):
    return (v.number, v.kind, v.text, v.words, v.filename, v.size, v.sha256, v.late)


def test_the_page_gives_a_key_until_something_is_submitted(rep):
    c = _client(rep.authors["a"])
    key = _key(c, rep)
    assert bool(key) == quick.supported()
    user("cham", reviewer=rep.org.bd)
    _submit(c, rep, key)
    assert _key(c, rep) == ""  # submitted: a resubmission takes the full path


def test_one_statement_stores_what_the_full_path_stores(rep,
                                                        django_capture_on_commit_callbacks):
    r1, r2 = user("cham1", reviewer=rep.org.bd), user("cham2", reviewer=rep.org.bd)
    # a: the full path (no key); b: the page's key
    cb = _client(rep.authors["b"])
    key = _key(cb, rep)
    with django_capture_on_commit_callbacks(execute=True):  # the full path's queueing
        full = _submit(_client(rep.authors["a"]), rep, "")
        status, answer, queries = _submit(cb, rep, key, client_ref="r2")
    assert full[:2] == (status, answer) == (200, {"ok": True, "version": 1, "late": False})
    assert len(queries) == 1 if quick.supported() else len(queries) > 1 < len(full[2])
    a, b = (Report.objects.get(participant=rep.part[k]) for k in "ab")
    assert _row(a) == _row(b) and a.managing_unit == rep.org.bd and not b.escalated
    assert (a.reviewer, b.reviewer) == (r1, r2)  # balanced: b goes to the one with none
    va, vb = Version.objects.get(report=a), Version.objects.get(report=b)
    assert _version(va) == _version(vb) and (va.client_ref, vb.client_ref) == ("r1", "r2")
    assert va.text == services.tidy_text(TEXT) and "\n\n" in va.text
    # both queue their copy check, the statement with the row enqueue() writes
    tasks = {t.args_kwargs["args"][0]: t for t in DBTaskResult.objects.all()}
    assert sorted(tasks) == [va.pk, vb.pk]
    assert all(t.args_kwargs == {"args": [v.pk], "kwargs": {}}
               for v, t in ((va, tasks[va.pk]), (vb, tasks[vb.pk])))
    skip = {"id", "args_kwargs", "enqueued_at"}
    fields = [f.attname for f in DBTaskResult._meta.concrete_fields if f.attname not in skip]
    assert [getattr(tasks[va.pk], f) for f in fields] == \
        [getattr(tasks[vb.pk], f) for f in fields]
    assert tasks[vb.pk].task.func.__name__ == "check_version"  # the worker can load it
    assert counters.differences(rep.campaign.pk) == []
    # the same request again (a retry): the full path finds the version by its reference
    status, answer, _ = _submit(cb, rep, key, client_ref="r2")
    assert (status, answer["version"]) == (200, 1) and Version.objects.count() == 2
    # another click with a new reference: refused as the full path refuses it
    status, answer, _ = _submit(cb, rep, key, client_ref="r3")
    assert status == 409 and "already submitted" in answer["message"]


def test_the_autosaved_draft_becomes_the_submission(rep):
    reviewer = user("cham", reviewer=rep.org.bd)
    c = _client(rep.authors["a"])
    key = _key(c, rep)  # the page creates the draft report
    c.post(reverse("reports:draft", args=[rep.campaign.slug]), {"text": "nháp"})
    draft = Report.objects.get(participant=rep.part["a"])
    status, answer, queries = _submit(c, rep, key)
    assert status == 200 and answer["ok"]
    report = Report.objects.get(participant=rep.part["a"])
    assert report.pk == draft.pk and report.status == "submitted" and report.reviewer == reviewer
    assert report.draft == services.tidy_text(TEXT)
    assert counters.differences(rep.campaign.pk) == []


def test_a_late_submission_is_counted_late_or_refused_by_the_policy(rep):
    user("cham", reviewer=rep.org.bd)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    services.save_policy(campaign=rep.campaign, actor=rep.organiser, closes_on=yesterday)
    c = _client(rep.authors["a"])
    status, answer, _ = _submit(c, rep, _key(c, rep))
    assert status == 200 and answer["late"] is True
    report = Report.objects.get(participant=rep.part["a"])
    assert report.late and report.versions.get().late
    assert counters.differences(rep.campaign.pk) == []
    services.save_policy(campaign=rep.campaign, actor=rep.organiser, late="refuse")
    c = _client(rep.authors["b"])
    status, answer, _ = _submit(c, rep, _key(c, rep))
    assert status == 409 and "deadline" in answer["message"]
    assert not Version.objects.filter(report__participant=rep.part["b"]).exists()


def test_every_other_case_takes_the_full_path(rep):
    c = _client(rep.authors["a"])
    key = _key(c, rep)
    # not open yet, too short: refused with the full path's message, nothing stored
    services.save_policy(campaign=rep.campaign, actor=rep.organiser,
                         opens_on=timezone.localdate() + dt.timedelta(days=2))
    status, answer, _ = _submit(c, rep, key)
    assert status == 409 and "open on" in answer["message"]
    services.save_policy(campaign=rep.campaign, actor=rep.organiser, opens_on=None,
                         min_words=500)
    status, answer, _ = _submit(c, rep, key)
    assert status == 409 and "at least 500" in answer["message"]
    services.save_policy(campaign=rep.campaign, actor=rep.organiser, min_words=0)
    assert not Version.objects.exists()
    # no reviewer at the managing unit: escalated by the full path
    boss = user("cham.hn", reviewer=rep.org.hn)
    status, answer, queries = _submit(c, rep, key)
    assert status == 200 and len(queries) > 1
    report = Report.objects.get(participant=rep.part["a"])
    assert (report.review_unit, report.escalated, report.reviewer) == (rep.org.hn, True, boss)
    assert counters.differences(rep.campaign.pk) == []


def test_a_key_works_only_for_its_author_and_live_session(rep):
    user("cham", reviewer=rep.org.bd)
    ca = _client(rep.authors["a"])
    key = _key(ca, rep)
    session = ca.cookies[settings.SESSION_COOKIE_NAME].value
    if quick.supported():
        assert quick.read_submit_key(key, slug=rep.campaign.slug, session_key=session)
    assert quick.read_submit_key(key, slug="other", session_key=session) is None
    assert quick.read_submit_key(key, slug=rep.campaign.slug, session_key="x") is None
    # a's key with b's session: the full path submits b's own report
    cb = _client(rep.authors["b"])
    status, answer, _ = _submit(cb, rep, key)
    assert status == 200 and Report.objects.get(participant=rep.part["b"]).status == "submitted"
    assert Report.objects.get(participant=rep.part["a"]).status == "draft"
    # a deactivated author, then a logged-out one: nothing stored
    rep.authors["a"].is_active = False
    rep.authors["a"].save(update_fields=["is_active"])
    res = ca.post(reverse("reports:submit", args=[rep.campaign.slug]),
                  {"text": TEXT, "client_ref": "x", "submit_key": key}, headers=JSON)
    assert res.status_code == 302 and "/login/" in res["Location"]
    rep.authors["a"].is_active = True
    rep.authors["a"].save(update_fields=["is_active"])
    ca.post("/logout/")
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = session
    res = replay.post(reverse("reports:submit", args=[rep.campaign.slug]),
                      {"text": TEXT, "client_ref": "x", "submit_key": key}, headers=JSON)
    assert res.status_code == 302
    assert not Version.objects.filter(report__participant=rep.part["a"]).exists()
    assert counters.differences(rep.campaign.pk) == []


def test_the_reviewer_is_picked_as_the_policy_counts(rep):
    """Balanced counts the waiting reports of each reviewer, round-robin all of them."""
    r1, r2 = user("cham1", reviewer=rep.org.bd), user("cham2", reviewer=rep.org.bd)
    first = services.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"])
    assert first.report.reviewer == r1
    services.review(report=first.report, actor=r1, outcome="graded",
                    grade=rep.campaign.grade_levels.first())
    c = _client(rep.authors["b"])
    _submit(c, rep, _key(c, rep))  # balanced: r1 holds nothing waiting, the lower id
    assert Report.objects.get(participant=rep.part["b"]).reviewer == r1
    services.save_policy(campaign=rep.campaign, actor=rep.organiser, assignment="round_robin")
    c = _client(rep.authors["c"])
    status, _, queries = _submit(c, rep, _key(c, rep))  # round-robin: r1 holds 2, r2 none
    assert status == 200 and Report.objects.get(participant=rep.part["c"]).reviewer == r2
    if quick.supported():  # one statement, which also queues the copy check
        assert len(queries) == 1 and "WITH who" in queries[0]
        assert DBTaskResult._meta.db_table in queries[0]
    assert counters.differences(rep.campaign.pk) == []


def test_the_statement_is_prepared_at_its_first_run(rep):
    """PostgreSQL plans it once per connection (Django's connections never prepare)."""
    user("cham", reviewer=rep.org.bd)
    c = _client(rep.authors["a"])
    status, _, _ = _submit(c, rep, _key(c, rep))
    assert status == 200
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                           ["%INSERT INTO reports_version%"])
            assert cursor.fetchone()[0] == 1


def test_the_paths_can_be_turned_off(rep, settings):
    settings.QUANTRIET_FAST_PATHS = False  # e.g. behind a pooler in transaction mode
    user("cham", reviewer=rep.org.bd)
    c = _client(rep.authors["a"])
    assert _key(c, rep) == "" and not quick.supported()
    status, answer, queries = _submit(c, rep, "")
    assert status == 200 and answer["version"] == 1 and len(queries) > 2
