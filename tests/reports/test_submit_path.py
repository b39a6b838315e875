"""The submission path as the editor uses it: a retried request, a refused first
submission that keeps the draft, and two first submissions racing to create the report."""

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from quantriet.campaigns.models import Participant
from quantriet.reports import services
from quantriet.reports.models import Report, Version
from tests.factories import user

TEXT = "Bài thu hoạch: học tập và làm theo Nghị quyết, liên hệ bản thân và đơn vị."


def _client(account):
    c = Client()
    c.force_login(account)
    return c


def test_retried_submission_answers_the_same_version_without_an_error(rep):
    reviewer = user("cham", reviewer=rep.org.bd)
    c = _client(rep.authors["a"])
    slug = rep.campaign.slug
    url = reverse("reports:submit", args=[slug])
    for _ in range(2):
        answer = c.post(url, {"text": TEXT, "client_ref": "r1"},
                        headers={"Accept": "application/json"})
        assert answer.status_code == 200 and answer.json() == {"ok": True, "version": 1,
                                                                "late": False}
    report = Report.objects.get(participant=rep.part["a"])
    assert report.version_count == 1 and report.reviewer == reviewer
    assert report.draft == TEXT and report.draft_saved_at is not None
    page = c.get(reverse("reports:mine", args=[slug])).content.decode()
    assert 'class="error"' not in page  # no message left behind by the retry


def test_refused_first_submission_keeps_the_draft(rep):
    services.save_policy(campaign=rep.campaign, actor=rep.organiser,
                         opens_on=timezone.localdate() + dt.timedelta(days=3))
    c = _client(rep.authors["a"])
    answer = c.post(reverse("reports:submit", args=[rep.campaign.slug]),
                    {"text": TEXT, "client_ref": "r1"}, headers={"Accept": "application/json"})
    assert answer.status_code == 409 and answer.json()["ok"] is False
    report = Report.objects.get(participant=rep.part["a"])
    assert report.status == Report.Status.DRAFT and report.draft == TEXT
    assert not Version.objects.exists()


def test_first_submissions_racing_to_create_the_report(rep, monkeypatch):
    reviewer = user("cham", reviewer=rep.org.bd)
    calls = []
    store = services._store
    monkeypatch.setattr(services, "_store", lambda *a: calls.append(a[1]) or store(*a))
    author = rep.authors["a"]
    # this request read the participant before the other one created the report
    stale = (Participant.objects.select_related("person", "unit", "managing_unit",
                                                 "campaign", "report")
             .get(pk=rep.part["a"].pk))
    first = services.submit(participant=Participant.objects.get(pk=stale.pk), actor=author,
                            text=TEXT, client_ref="same")
    again = services.submit(participant=stale, actor=author, text=TEXT, client_ref="same")
    assert again.pk == first.pk
    # the stale request tried to create the report, failed, and found the version under
    # the report's lock
    assert calls[1:] == [None, first.report] and calls[0] is None
    assert Version.objects.count() == 1 and Report.objects.count() == 1
    assert Report.objects.get().reviewer == reviewer


def test_assignment_counts_by_policy_and_skips_inactive_reviewers(rep):
    gone = user("cham0", reviewer=rep.org.bd)  # the lowest id, but no longer active
    gone.is_active = False
    gone.save()
    r1, r2 = user("cham1", reviewer=rep.org.bd), user("cham2", reviewer=rep.org.bd)

    def submit(key):
        v = services.submit(participant=rep.part[key], text=TEXT, actor=rep.authors[key])
        return Report.objects.get(pk=v.report_id)

    a = submit("a")
    assert a.reviewer == r1  # equal loads: the lowest id among the active
    services.review(report=a, actor=r1, outcome="graded",
                    grade=rep.campaign.grade_levels.first())
    services.save_policy(campaign=rep.campaign, actor=rep.organiser, assignment="round_robin")
    assert submit("b").reviewer == r2  # round-robin counts r1's graded report
    services.save_policy(campaign=rep.campaign, actor=rep.organiser, assignment="balanced")
    assert submit("c").reviewer == r1  # balanced counts only waiting reports
