"""Report pages: who may read a report (permission matrix), the audit of reads, writing
and submitting, reviewing, the unit's table, settings."""

import io
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from quantriet.core.models import AuditEvent
from quantriet.reports import services
from quantriet.reports.models import Report, Version
from tests.factories import user
from tests.permissions import check_matrix
from tests.reports.test_services import _docx

TEXT = "Bài thu hoạch về Nghị quyết: nhận thức, liên hệ bản thân, kế hoạch hành động."


def _client(account):
    c = Client()
    c.force_login(account)
    return c


@pytest.fixture
def submitted(rep):
    reviewer = user("cham", reviewer=rep.org.bd)
    version = services.submit(participant=rep.part["a"], actor=rep.authors["a"],
                              upload=services.Upload(io.BytesIO(_docx(TEXT)), "bai.docx"))
    return version.report, reviewer


def test_report_is_never_visible_outside_its_routing(rep, submitted):
    report, reviewer = submitted
    url = reverse("reports:report", args=[rep.campaign.slug, report.pk])
    other_reviewer = user("cham2", reviewer=rep.org.bd)
    cases = {
        "assigned reviewer": (reviewer, 200),
        "managing unit's admin": (user("qt.bd", unit_admin=rep.org.bd), 200),
        "superuser": (user("root", superuser=True), 200),
        "another reviewer of the unit": (other_reviewer, 404),
        "admin of the province above": (user("qt.hn", unit_admin=rep.org.hn), 404),
        "organiser of the campaign": (rep.organiser, 404),
        "inspector": (user("ubkt", inspector=rep.org.top), 404),
        "admin of the grassroots unit": (user("qt.cs1", unit_admin=rep.org.cs1), 404),
        "another participant": (rep.authors["b"], 404),
        "account without rights": (user("ai"), 404),
    }
    for label, (account, expected) in cases.items():
        for page in (url, reverse("reports:file", args=[rep.campaign.slug, report.pk, 1])):
            got = _client(account).get(page).status_code
            assert got == expected, f"{label}: {page}: expected {expected}, got {got}"
    assert Client().get(url).status_code == 302
    # the author is sent to their own page
    assert _client(rep.authors["a"]).get(url)["Location"].endswith(
        reverse("reports:mine", args=[rep.campaign.slug]))
    readers = set(AuditEvent.objects.filter(action="reports.read", target_id=str(report.pk))
                  .values_list("actor__username", flat=True))
    assert readers == {"cham", "qt.bd", "root"}


def test_inspector_sees_the_log_of_reads_in_their_subtree(rep, submitted):
    report, reviewer = submitted
    _client(reviewer).get(reverse("reports:report", args=[rep.campaign.slug, report.pk]))
    url = reverse("reports:reads", args=[rep.campaign.slug])
    page = _client(user("ubkt", inspector=rep.org.hn)).get(url).content.decode()
    assert "cham" in page and f"#{report.pk}" in page
    page = _client(user("ubkt.hp", inspector=rep.org.hp)).get(url).content.decode()
    assert f"#{report.pk}" not in page
    assert _client(user("nobody")).get(url).status_code == 404


def test_participant_writes_autosaves_and_submits(rep):
    c = _client(rep.authors["a"])
    slug = rep.campaign.slug
    page = c.get(reverse("reports:mine", args=[slug]))
    assert page.status_code == 200 and 'id="report-text"' in page.content.decode()
    saved = c.post(reverse("reports:draft", args=[slug]), {"text": "Nháp đầu"}).json()
    assert saved["ok"]
    assert Report.objects.get(participant=rep.part["a"]).draft == "Nháp đầu"
    c.post(reverse("reports:submit", args=[slug]), {"text": TEXT, "client_ref": "r1"})
    c.post(reverse("reports:submit", args=[slug]), {"text": TEXT, "client_ref": "r1"})
    assert Version.objects.filter(report__participant=rep.part["a"]).count() == 1
    refused = c.post(reverse("reports:draft", args=[slug]), {"text": "sửa sau khi nộp"})
    assert refused.status_code == 409
    # someone not on the roster has no report page
    assert _client(user("ngoai")).get(reverse("reports:mine", args=[slug])).status_code == 404


def test_forged_or_bad_upload_changes_nothing(rep):
    c = _client(rep.authors["a"])
    slug = rep.campaign.slug
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = c.post(reverse("reports:submit", args=[slug]),
                  {"file": SimpleUploadedFile("bai.docx", b"PK\x03\x04 broken")}, follow=True)
    assert page.status_code == 200 and 'class="error"' in page.content.decode()
    assert not Version.objects.exists()


def test_reviewer_queue_grade_and_next(rep):
    reviewer = user("cham", reviewer=rep.org.bd)
    for key in ("a", "b", "c"):
        services.submit(participant=rep.part[key], text=TEXT + key, actor=rep.authors[key])
    c = _client(reviewer)
    slug = rep.campaign.slug
    queue = c.get(reverse("reports:queue", args=[slug])).content.decode()
    assert all(rep.people[k].full_name in queue for k in "abc")
    first = Report.objects.filter(reviewer=reviewer).order_by("submitted_at", "pk").first()
    url = reverse("reports:report", args=[slug, first.pk])
    page = c.get(url + "?f=waiting").content.decode()
    assert 'id="next-report"' in page and 'id="review-form"' in page
    good = rep.campaign.grade_levels.get(label="Tốt")
    nxt = c.post(url + "?f=waiting", {"outcome": "graded", "grade": good.pk,
                                      "comments": "Đạt yêu cầu", "next_pk": "999"})
    assert nxt.status_code == 302
    first.refresh_from_db()
    assert first.status == Report.Status.GRADED and first.grade == good
    # the participant sees grade and comments
    mine = _client(first.participant.person.user).get(reverse("reports:mine", args=[slug]))
    assert "Đạt yêu cầu" in mine.content.decode()


def test_blind_review_hides_names(rep):
    services.save_policy(campaign=rep.campaign, actor=rep.organiser, blind_review=True)
    reviewer = user("cham", reviewer=rep.org.bd)
    report = services.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"]).report
    c = _client(reviewer)
    for url in (reverse("reports:queue", args=[rep.campaign.slug]),
                reverse("reports:report", args=[rep.campaign.slug, report.pk])):
        assert rep.people["a"].full_name not in c.get(url).content.decode()


def test_unit_table_zip_and_matrix(rep, submitted):
    report, reviewer = submitted
    admin = user("qt.bd", unit_admin=rep.org.bd)
    url = reverse("reports:unit", args=[rep.campaign.slug, rep.org.bd.code])
    page = _client(admin).get(url).content.decode()
    assert rep.people["a"].full_name in page
    for account in (user(unit_admin=rep.org.hn), reviewer, rep.organiser):
        assert _client(account).get(url).status_code == 404
    data = _client(admin).get(reverse("reports:unit_zip", args=[rep.campaign.slug,
                                                                rep.org.bd.code])).content
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == [f"le-van-an-{rep.part['a'].pk}.pdf"]
    assert AuditEvent.objects.filter(action="reports.read", data__what="zip").count() == 1


def test_settings_page(rep):
    url = reverse("reports:settings", args=[rep.campaign.slug])
    check_matrix(url, unit=rep.org.top, ancestor=rep.org.top, elsewhere=rep.org.hn,
                 role="organiser")
    c = _client(rep.organiser)
    c.post(url, {"action": "scale", "grades": "Hoàn thành tốt\nHoàn thành\nChưa hoàn thành *"})
    assert [(g.label, g.passing) for g in rep.campaign.grade_levels.all()] == [
        ("Hoàn thành tốt", True), ("Hoàn thành", True), ("Chưa hoàn thành", False)]
    c.post(url, {"action": "policy", "closes_on": "31/12/2026", "late": "refuse",
                 "max_upload_mb": "5", "min_words": "100", "assignment": "round_robin"})
    policy = services.policy_for(type(rep.campaign).objects.get(pk=rep.campaign.pk))
    assert (policy.late, policy.max_upload_mb, policy.min_words) == ("refuse", 5, 100)
    c.post(url, {"action": "policy", "closes_on": "31/02/2026", "late": "accept",
                 "max_upload_mb": "5", "min_words": "0", "assignment": "balanced"})
    policy.refresh_from_db()
    assert policy.late == "refuse"  # a wrong date changes nothing
    c.post(url, {"action": "prompt", "text": "Liên hệ với nhiệm vụ của đơn vị"})
    assert rep.campaign.report_prompts.count() == 1
