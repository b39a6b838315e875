"""The copy check around the fingerprints: the task after submission, flags in clusters,
reference texts, circulating templates, the evidence page and who may see it."""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from quantriet.core.models import AuditEvent
from quantriet.reports import services as reports
from quantriet.similarity import services
from quantriet.similarity.models import BandKey, Flag, Source
from tests.factories import user

RESOLUTION = (
    "Nghị quyết xác định mục tiêu tổng quát là xây dựng tổ chức công đoàn vững mạnh toàn "
    "diện, đổi mới nội dung và phương thức hoạt động, hướng mạnh về cơ sở, lấy đoàn viên "
    "và người lao động làm trung tâm, chăm lo đời sống vật chất và tinh thần cho người lao "
    "động, bảo vệ quyền và lợi ích hợp pháp chính đáng của đoàn viên.")

ORIGINAL = (
    "Qua học tập nghị quyết, bản thân tôi nhận thức sâu sắc hơn về vai trò của công đoàn cơ "
    "sở trong doanh nghiệp ngoài nhà nước. Tại đơn vị, ban chấp hành đã tổ chức đối thoại "
    "định kỳ với người sử dụng lao động, thương lượng thỏa ước lao động tập thể có nhiều "
    "điều khoản có lợi hơn luật. Tôi sẽ chủ động nắm bắt tâm tư của công nhân ca đêm, đề "
    "xuất xây dựng nhà trẻ cho con công nhân, phối hợp với chuyên môn cải thiện bữa ăn giữa "
    "ca và vận động thêm hai mươi đoàn viên mới trong năm nay.")

OTHER = (
    "Là giáo viên trường trung học phổ thông, tôi tâm đắc nhất phần nói về đổi mới phương "
    "thức hoạt động. Công đoàn trường sẽ số hóa hồ sơ đoàn viên, tổ chức hội thi giáo viên "
    "dạy giỏi gắn với phong trào thi đua, thăm hỏi kịp thời thầy cô có hoàn cảnh khó khăn, "
    "và kiến nghị nhà trường công khai các khoản thu chi theo quy chế dân chủ ở cơ sở.")


def _submit(rep, key, text):
    version = reports.submit(participant=rep.part[key], text=text, actor=rep.authors[key])
    return services.check_version(version.pk)


@pytest.fixture
def reviewed(rep):
    return user("cham", reviewer=rep.org.bd), user("cham.hp", reviewer=rep.org.lc)


def test_submission_queues_the_check(rep, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        reports.submit(participant=rep.part["a"], text=ORIGINAL, actor=rep.authors["a"])
    assert DBTaskResult.objects.filter(task_path__endswith="check_version").count() == 1


def test_copy_is_flagged_original_is_not(rep, reviewed):
    assert _submit(rep, "a", ORIGINAL) is None
    assert BandKey.objects.filter(report__participant=rep.part["a"]).exists()
    assert _submit(rep, "c", OTHER) is None
    flag = _submit(rep, "b", ORIGINAL.replace("hai mươi", "ba mươi"))
    assert flag is not None and flag.other.participant == rep.part["a"]
    assert flag.cluster.earliest.participant == rep.part["a"] and flag.cluster.size == 2
    # a third writer copying the same text joins the cluster: one cluster, not n² pairs
    third = _submit(rep, "h", ORIGINAL)
    assert third.cluster_id == flag.cluster_id
    flag.cluster.refresh_from_db()
    assert flag.cluster.size == 3 and Flag.objects.count() == 2


def test_a_flagged_check_is_a_few_queries(rep, reviewed, django_assert_max_num_queries):
    """Each query is a round trip of a check that runs for every submission: a flagged check
    reads the version with its report, participant's unit, threshold and reference texts'
    stamp, the phrase sets, the candidates with their texts, then locks, stores the keys if
    the generation is still the latest (one statement on PostgreSQL), counts the submitted
    reports (only in a campaign too young for its last phrase set), finds the cluster
    together with the report's flags, makes the cluster, writes the flag and bumps the
    progress counters."""
    _submit(rep, "a", ORIGINAL)
    version = reports.submit(participant=rep.part["b"], text=ORIGINAL, actor=rep.authors["b"])
    # with the test's savepoint and its release; SQLite has no row lock to take and stores
    # the keys in three statements
    with django_assert_max_num_queries(12 if connection.vendor == "postgresql" else 13):
        flag = services.check_version(version.pk)
    assert flag is not None and flag.cluster.size == 2


def test_template_cluster_counts_its_writers(rep, reviewed):
    template = services.add_source(campaign=rep.campaign, kind=Source.Kind.TEMPLATE,
                                   title="Mẫu trên mạng", text=OTHER, actor=rep.organiser)
    first = _submit(rep, "a", OTHER)
    second = _submit(rep, "b", OTHER + " Tôi xin hứa.")
    assert first.cluster_id == second.cluster_id and first.cluster.template == template
    assert second.cluster.size == 2
    # the same version checked again updates its flag and counts nobody twice
    again = services.check_version(second.version_id)
    assert again.pk == second.pk and Flag.objects.count() == 2
    assert again.cluster.size == 2


def test_quoting_the_resolution_is_not_copying(rep, reviewed):
    services.add_source(campaign=rep.campaign, kind=Source.Kind.REFERENCE,
                        title="Nghị quyết", text=RESOLUTION, actor=rep.organiser)
    assert _submit(rep, "a", RESOLUTION + "\n\n" + ORIGINAL) is None
    assert _submit(rep, "b", RESOLUTION + "\n\n" + OTHER) is None
    assert not Flag.objects.exists()


def test_circulating_template_flagged_alone(rep, reviewed):
    services.add_source(campaign=rep.campaign, kind=Source.Kind.TEMPLATE,
                        title="Mẫu trên mạng", text=OTHER, actor=rep.organiser)
    flag = _submit(rep, "a", OTHER)
    assert flag is not None and flag.source.title == "Mẫu trên mạng" and flag.other is None


def test_evidence_page_scope_audit_and_decision(rep, reviewed):
    reviewer_bd, reviewer_lc = reviewed
    _submit(rep, "a", ORIGINAL)
    flag = _submit(rep, "h", ORIGINAL)  # h is reviewed at HP-LC, a at HN-BD
    url = reverse("similarity:flag", args=[rep.campaign.slug, flag.pk])
    for account in (reviewer_bd, reviewer_lc):
        c = Client()
        c.force_login(account)
        page = c.get(url)
        assert page.status_code == 200 and '<mark class="shared">' in page.content.decode()
    for account in (user("cham.khac", reviewer=rep.org.hp), rep.organiser,
                    rep.authors["b"], user("ubkt", inspector=rep.org.top)):
        c = Client()
        c.force_login(account)
        assert c.get(url).status_code == 404
    assert AuditEvent.objects.filter(action="reports.read", data__what="copy evidence",
                                     actor=reviewer_bd).count() == 2
    c = Client()
    c.force_login(reviewer_lc)
    c.post(url, {"status": "confirmed"})
    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED and flag.decided_by == reviewer_lc
