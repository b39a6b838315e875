"""Pages of action plans: the permission matrix, the flow through the forms, and the
organisers' settings."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from quantriet.plans import services
from quantriet.plans.models import Measure, Plan
from tests.factories import user
from tests.permissions import check_matrix

pytestmark = pytest.mark.django_db


def _client(account):
    c = Client()
    c.force_login(account)
    return c


def test_plan_page_matrix(pl):
    url = reverse("plans:unit", args=[pl.campaign.slug, pl.org.cs1.code])
    check_matrix(url, unit=pl.org.cs1, ancestor=pl.org.hn, elsewhere=pl.org.hp)
    check_matrix(url, unit=pl.org.cs1, ancestor=pl.org.top, elsewhere=pl.org.cs2,
                 role="inspector")


def test_outsiders_get_404_everywhere(pl):
    services.add_measure(plan=pl.plan, actor=pl.admin, title="Biện pháp", owner="BTV",
                         due_on=dt.date(2030, 1, 1), target="1 hội nghị")
    measure = Measure.objects.get()
    slug, code = pl.campaign.slug, pl.org.cs1.code
    outsider = _client(user(unit_admin=pl.org.cs2))
    for name, args in (("plans:unit", [slug, code]), ("plans:settings", [slug])):
        assert outsider.get(reverse(name, args=args)).status_code == 404
    for name, args in (("plans:submit", [slug, code]), ("plans:review", [slug, code]),
                       ("plans:add_measure", [slug, code]),
                       ("plans:edit_measure", [slug, code, measure.pk]),
                       ("plans:delete_measure", [slug, code, measure.pk]),
                       ("plans:follow_up", [slug, code, measure.pk])):
        assert outsider.post(reverse(name, args=args)).status_code == 404, name
    stranger = _client(user())
    assert stranger.get(reverse("plans:index", args=[slug])).status_code == 404
    assert Measure.objects.get().title == "Biện pháp"


def test_the_head_without_a_grant_sees_the_plan_of_the_unit(pl):
    c = _client(pl.head)
    page = c.get(reverse("plans:unit", args=[pl.campaign.slug, pl.org.cs1.code]))
    assert page.status_code == 200 and b'id="submit-plan"' in page.content
    other = c.get(reverse("plans:unit", args=[pl.campaign.slug, pl.org.cs2.code]))
    assert other.status_code == 404
    index = c.get(reverse("plans:index", args=[pl.campaign.slug]))
    assert index.status_code == 200 and pl.org.cs1.name in index.content.decode()


def test_forms_draft_submit_and_review(pl):
    slug, code = pl.campaign.slug, pl.org.cs1.code
    admin = _client(pl.admin)
    for i in range(3):
        r = admin.post(reverse("plans:add_measure", args=[slug, code]), {
            "new-title": f"Biện pháp {i}", "new-topic": pl.topics[1].pk,
            "new-owner": "Ban Thường vụ", "new-due_on": "30/06/2030",
            "new-target": "100 %"})
        assert r.status_code == 302
    assert Measure.objects.filter(plan=pl.plan, topic=pl.topics[1]).count() == 3
    assert Measure.objects.first().due_on == dt.date(2030, 6, 30)
    admin.post(reverse("plans:submit", args=[slug, code]))
    assert Plan.objects.get(pk=pl.plan.pk).status == Plan.Status.DRAFT  # not the head
    _client(pl.head).post(reverse("plans:submit", args=[slug, code]), {"client_ref": "x1"})
    assert Plan.objects.get(pk=pl.plan.pk).status == Plan.Status.SUBMITTED
    parent = _client(pl.parent)
    page = parent.get(reverse("plans:unit", args=[slug, code]))
    assert b'id="review-form"' in page.content
    index = parent.get(reverse("plans:index", args=[slug]))
    assert 'id="waiting"' in index.content.decode()
    parent.post(reverse("plans:review", args=[slug, code]), {"outcome": "approved"})
    assert Plan.objects.get(pk=pl.plan.pk).status == Plan.Status.APPROVED
    history = parent.get(reverse("plans:unit", args=[slug, code])).content.decode()
    assert "30/06/2030" in history and "2030-06-30" not in history
    m = Measure.objects.first()
    admin.post(reverse("plans:follow_up", args=[slug, code, m.pk]),
               {f"f{m.pk}-status": "done", f"f{m.pk}-note": "Xong"})
    m.refresh_from_db()
    assert (m.status, m.note) == ("done", "Xong")


def test_settings_page(pl):
    url = reverse("plans:settings", args=[pl.campaign.slug])
    assert _client(pl.parent).get(url).status_code == 404
    c = _client(pl.organiser)
    assert c.get(url).status_code == 200
    r = c.post(url, {"required": "participants"})
    assert r.status_code == 302
    assert not Plan.objects.filter(campaign=pl.campaign, required=True).exists()  # no roster


def test_list_is_paginated(pl):
    c = _client(pl.organiser)
    page = c.get(reverse("plans:index", args=[pl.campaign.slug]) + "?status=required")
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 4


def test_attachments(pl, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    slug, code = pl.campaign.slug, pl.org.cs1.code
    admin = _client(pl.admin)
    from django.core.files.uploadedfile import SimpleUploadedFile

    admin.post(reverse("plans:attach", args=[slug, code]),
               {"file": SimpleUploadedFile("ke-hoach.pdf", b"%PDF-1.4 demo")})
    admin.post(reverse("plans:attach", args=[slug, code]),
               {"file": SimpleUploadedFile("virus.exe", b"MZ")})
    item = pl.plan.attachments.get()
    assert item.filename == "ke-hoach.pdf"
    url = reverse("plans:attachment", args=[slug, code, item.pk])
    assert b"".join(admin.get(url).streaming_content) == b"%PDF-1.4 demo"
    assert _client(user(unit_admin=pl.org.cs3)).get(url).status_code == 404


def test_links_from_the_campaign_the_unit_page_and_home(pl):
    slug, code = pl.campaign.slug, pl.org.cs1.code
    plan_url = reverse("plans:unit", args=[slug, code])
    overview = _client(pl.admin).get(reverse("campaigns:detail", args=[slug])).content.decode()
    assert 'id="plan-links"' in overview and plan_url in overview
    organiser = _client(pl.organiser).get(reverse("campaigns:detail", args=[slug]))
    assert reverse("plans:settings", args=[slug]) in organiser.content.decode()
    unit_page = _client(pl.parent).get(reverse("org:unit", args=[code])).content.decode()
    assert plan_url in unit_page
    home = _client(pl.head).get(reverse("home")).content.decode()
    assert 'id="my-plans"' in home and plan_url in home
    outsider = _client(user(unit_admin=pl.org.hp))
    assert plan_url not in outsider.get(reverse("home")).content.decode()


def test_settings_levels_in_the_reader_s_language(pl):
    c = _client(pl.organiser)
    c.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = c.get(reverse("plans:settings", args=[pl.campaign.slug])).content.decode()
    assert "Grassroots union" in page
