"""The campaign pages: permission matrix, the set-up and roster flows through the forms,
bad input that changes nothing, the participant's own view, and a query-count guard."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from quantriet.campaigns import services
from quantriet.campaigns.models import (
    Campaign,
    EligibilityRule,
    Material,
    Participant,
    RoutingRule,
    Topic,
)
from quantriet.org import services as org_services
from quantriet.org.models import Person, PositionType, UnitLevel
from tests.factories import person, position, user
from tests.permissions import check_matrix

TABS = ["overview", "topics", "rules", "roster", "routing"]


def _client(account, language=None):
    c = Client(headers={"accept-language": language} if language else None)
    c.force_login(account)
    return c


def _errors(resp, form="form"):
    """All error messages of a form in the response context."""
    f = resp.context[form]
    return [m for msgs in f.errors.values() for m in msgs]


@pytest.fixture
def camp(org):
    """A campaign of the Hà Nội federation with the preset rules, not applied yet.

    The preset rules select within Hà Nội: chu (full-time uv_bch at HN: rules 1 and 2),
    binh (chair of CS1, 2,500 members: rule 3), kiem (uv_ubkt at BD: rule 1) and chuyen
    (full-time cadre at CS2: rule 2). Not selected: coso (uv_bch of a grassroots union),
    and anyone of Hải Phòng (phong)."""
    p = dict(org.people)
    p["kiem"] = person(org.cs1, "Lê Văn Kiểm", member_code="DV-KIEM")
    position(p["kiem"], org.bd, "uv_ubkt")
    p["chuyen"] = person(org.cs2, "Trần Văn Chuyên", member_code="DV-CHUYEN")
    position(p["chuyen"], org.cs2, "can_bo_chuyen_trach", full_time=True)
    p["coso"] = person(org.cs2, "Vũ Thị Cơ Sở", member_code="DV-COSO")
    position(p["coso"], org.cs2, "uv_bch")
    p["phong"] = person(org.cs3, "Hoàng Văn Phòng", member_code="DV-HP")
    organiser = user("tochuc", organiser=org.hn)
    campaign = services.create_campaign(
        slug="nq-hn", title="Quán triệt Nghị quyết Đại hội XIII — Hà Nội", owner_unit=org.hn,
        actor=organiser, conference_date=dt.date(2025, 8, 15),
        report_deadline=dt.date(2025, 9, 30))
    services.add_preset_rules(campaign=campaign, actor=organiser)
    return SimpleNamespace(org=org, p=p, organiser=organiser, campaign=campaign,
                           c=_client(organiser))


@pytest.fixture
def applied(camp):
    services.apply_roster(campaign=camp.campaign, actor=camp.organiser)
    return camp


def _url(name, campaign, *args):
    return reverse(f"campaigns:{name}", args=[campaign.slug, *args])


def _participant(camp, key):
    return camp.campaign.participants.get(person=camp.p[key])


# ---------------------------------------------------------------- permission matrix


@pytest.mark.parametrize("tab", TABS)
def test_campaign_tabs_matrix(applied, tab):
    org = applied.org
    check_matrix(_url("detail", applied.campaign) + f"?tab={tab}", unit=org.hn,
                 ancestor=org.top, elsewhere=org.hp)


def test_preview_matrix(camp):
    org = camp.org
    check_matrix(_url("roster_preview", camp.campaign), unit=org.hn, ancestor=org.top,
                 elsewhere=org.hp, role="organiser")


def test_participant_page_matrix(applied):
    org = applied.org
    check_matrix(_url("participant", applied.campaign, _participant(applied, "binh").pk),
                 unit=org.hn, ancestor=org.top, elsewhere=org.hp)


def test_read_only_roles(applied):
    """A reviewer sees the campaign but no people; an inspector sees people but changes
    nothing; a unit admin below the organising unit does not see the campaign."""
    org, campaign = applied.org, applied.campaign
    binh = _participant(applied, "binh")
    reviewer = _client(user(reviewer=org.hn))
    assert reviewer.get(_url("detail", campaign)).status_code == 200
    assert reviewer.get(_url("detail", campaign) + "?tab=routing").status_code == 200
    assert reviewer.get(_url("detail", campaign) + "?tab=roster").status_code == 404
    assert reviewer.get(_url("participant", campaign, binh.pk)).status_code == 404
    assert reviewer.get(_url("roster_preview", campaign)).status_code == 404

    inspector = _client(user(inspector=org.hn))
    resp = inspector.get(_url("detail", campaign) + "?tab=roster")
    assert resp.status_code == 200 and "add_form" not in resp.context
    resp = inspector.get(_url("participant", campaign, binh.pk))
    assert resp.status_code == 200 and "remove_form" not in resp.context
    assert inspector.post(_url("participant_remove", campaign, binh.pk),
                          {"remove-reason": "x"}).status_code == 404
    assert inspector.post(_url("status", campaign), {"status": "closed"}).status_code == 404
    assert inspector.get(_url("roster_preview", campaign)).status_code == 404
    assert inspector.post(_url("roster_apply", campaign)).status_code == 404
    binh.refresh_from_db()
    assert binh.active and Campaign.objects.get().status == "draft"

    # a unit admin below the organising unit sees the campaign and their part of the roster
    below = _client(user(unit_admin=org.bd))
    assert below.get(_url("detail", campaign)).status_code == 200
    resp = below.get(_url("detail", campaign) + "?tab=roster")
    units = {p.unit.path[: len(org.bd.path)] for p in resp.context["page"].object_list}
    assert units <= {org.bd.path}
    assert below.get(_url("roster_preview", campaign)).status_code == 404
    elsewhere = _client(user(unit_admin=org.hp))
    assert elsewhere.get(_url("participant", campaign, binh.pk)).status_code == 404


def test_list_shows_only_visible_campaigns(applied):
    org = applied.org
    hp = services.create_campaign(slug="nq-hp", title="Hải Phòng", owner_unit=org.hp,
                                  actor=user(organiser=org.hp))
    titles = [c.title for c in applied.c.get(reverse("campaigns:list")).context["page"]]
    assert titles == [applied.campaign.title]
    top = _client(user(inspector=org.top))
    assert {c.slug for c in top.get(reverse("campaigns:list")).context["page"]} == {
        "nq-hn", hp.slug}
    nobody = _client(user())
    resp = nobody.get(reverse("campaigns:list"))
    assert list(resp.context["page"]) == [] and resp.context["form"] is None
    assert nobody.post(reverse("campaigns:list"), {"slug": "x"}).status_code == 404


# ---------------------------------------------------------------- creating and setting up


def _new(**kw):
    data = {"owner_unit": "HN-BD", "slug": "nq-bd", "title": "Quán triệt ở Ba Đình",
            "resolution": "Nghị quyết Đại hội XIII", "description": "",
            "conference_date": "15/08/2025", "report_deadline": "30/09/2025"}
    data.update(kw)
    return data


def test_create_campaign(camp):
    resp = camp.c.post(reverse("campaigns:list"), _new())
    assert resp.status_code == 302 and resp["Location"] == _url("detail", Campaign(slug="nq-bd"))
    new = Campaign.objects.get(slug="nq-bd")
    assert new.owner_unit == camp.org.bd and new.created_by == camp.organiser
    assert (new.conference_date, new.report_deadline) == (dt.date(2025, 8, 15),
                                                         dt.date(2025, 9, 30))
    assert new.status == "draft"


@pytest.mark.parametrize("data,field", [
    (_new(conference_date="31/02/2025"), "conference_date"),
    (_new(report_deadline="tomorrow"), "report_deadline"),
    (_new(owner_unit="LDLD-31"), "owner_unit"),  # forged: a unit outside the change scope
    (_new(owner_unit="TLD"), "owner_unit"),  # the parent of the organiser's unit
    (_new(slug="mine"), "slug"),
    (_new(slug="nq-hn"), "__all__"),  # exists (service)
    (_new(report_deadline="01/08/2025"), "__all__"),  # before the conference (service)
    (_new(title=""), "title"),
])
def test_create_campaign_bad_input_changes_nothing(camp, data, field):
    before = Campaign.objects.count()
    resp = camp.c.post(reverse("campaigns:list"), data)
    assert resp.status_code == 200
    assert resp.context["form"].errors.get(field), resp.context["form"].errors
    assert Campaign.objects.count() == before


def test_status_change(camp):
    resp = camp.c.post(_url("status", camp.campaign), {"status": "published"})
    assert resp.status_code == 302
    assert Campaign.objects.get().status == "published"
    camp.c.post(_url("status", camp.campaign), {"status": "nonsense"})
    assert Campaign.objects.get().status == "published"


def test_topics_add_and_move(camp):
    url = _url("topic_add", camp.campaign)
    assert camp.c.post(url, {"title": "Chuyên đề 1", "presenter": "Đ/c Chủ tịch"}).status_code == 302
    assert camp.c.post(url, {"title": "Chuyên đề 2", "summary": "Tóm tắt"}).status_code == 302
    resp = camp.c.post(url, {"title": ""})
    assert resp.status_code == 200 and _errors(resp, "topic_form")
    assert list(Topic.objects.values_list("title", flat=True)) == ["Chuyên đề 1", "Chuyên đề 2"]
    second = Topic.objects.get(title="Chuyên đề 2")
    camp.c.post(_url("topic_move", camp.campaign, second.pk), {"direction": "up"})
    assert list(Topic.objects.values_list("title", flat=True)) == ["Chuyên đề 2", "Chuyên đề 1"]
    Material.objects.create(topic=second, title="Bài giảng", url="https://example.org/a.pdf")
    body = camp.c.get(_url("detail", camp.campaign) + "?tab=topics").content.decode()
    assert body.index("Chuyên đề 2") < body.index("Chuyên đề 1")
    assert "https://example.org/a.pdf" in body


def test_preset_rules_and_readable_conditions(org):
    organiser = user(organiser=org.hn)
    campaign = services.create_campaign(slug="x", title="X", owner_unit=org.hn, actor=organiser)
    c = _client(organiser, language="en")
    body = c.get(_url("detail", campaign) + "?tab=rules").content.decode()
    assert "Add the 2018 preset rules" in body
    assert c.post(_url("rules_preset", campaign)).status_code == 302
    assert campaign.rules.count() == 3
    # a second time adds nothing
    c.post(_url("rules_preset", campaign))
    assert campaign.rules.count() == 3
    resp = c.get(_url("detail", campaign) + "?tab=rules")
    body = resp.content.decode()
    assert "Add the 2018 preset rules" not in body
    conditions = dict((r.name, " | ".join(cs)) for r, cs in resp.context["rules"])
    assert conditions["Chủ tịch công đoàn cơ sở có từ 2.000 đoàn viên trở lên"] == (
        "positions: Chair | held at a unit of level: Grassroots union | "
        "the unit has at least 2,000 members")
    assert "full-time only" in conditions["Cán bộ công đoàn chuyên trách từ cơ sở trở lên"]


def test_rule_form_add_edit_delete(camp):
    campaign = camp.campaign
    chair = PositionType.objects.get(code="chu_tich")
    vice = PositionType.objects.get(code="pho_chu_tich")
    grassroots = UnitLevel.objects.get(code="grassroots")
    url = _url("rule_add", campaign)
    data = {"name": "Phó chủ tịch ở Ba Đình", "position_types": [chair.pk, vice.pk],
            "unit_levels": [grassroots.pk], "full_time": "yes", "min_members": "10",
            "max_members": "5000", "subtree": "hn-bd"}
    assert camp.c.get(url).status_code == 200
    resp = camp.c.post(url, data)
    assert resp.status_code == 302, _errors(resp)
    rule = EligibilityRule.objects.get(name="Phó chủ tịch ở Ba Đình")
    assert set(rule.position_types.all()) == {chair, vice}
    assert list(rule.unit_levels.all()) == [grassroots]
    assert (rule.full_time, rule.min_members, rule.max_members, rule.subtree) == (
        True, 10, 5000, camp.org.bd)

    edit = _url("rule_edit", campaign, rule.pk)
    resp = camp.c.get(edit)
    assert resp.context["form"].initial["subtree"] == "HN-BD"
    resp = camp.c.post(edit, {"name": "Phó chủ tịch", "position_types": [vice.pk],
                              "full_time": "no", "subtree": ""})
    assert resp.status_code == 302, _errors(resp)
    rule.refresh_from_db()
    assert (rule.name, rule.full_time, rule.subtree, rule.min_members) == (
        "Phó chủ tịch", False, None, None)
    assert list(rule.unit_levels.all()) == []

    assert camp.c.post(_url("rule_delete", campaign, rule.pk)).status_code == 302
    assert not EligibilityRule.objects.filter(pk=rule.pk).exists()


@pytest.mark.parametrize("bad,field", [
    ({"min_members": "100", "max_members": "10"}, "__all__"),  # service: max below min
    ({"subtree": "LDLD-31"}, "subtree"),  # outside the organising unit
    ({"subtree": "TLD"}, "subtree"),  # above it
    ({"min_members": "nhiều"}, "min_members"),
    ({"position_types": ["999999"]}, "position_types"),
    ({"name": ""}, "name"),
])
def test_rule_form_bad_input_changes_nothing(camp, bad, field):
    before = list(EligibilityRule.objects.values_list("pk", "name", "min_members"))
    resp = camp.c.post(_url("rule_add", camp.campaign), {"name": "Quy tắc", **bad})
    assert resp.status_code == 200
    assert resp.context["form"].errors.get(field), resp.context["form"].errors
    assert list(EligibilityRule.objects.values_list("pk", "name", "min_members")) == before


def test_preview_then_apply(camp):
    campaign = camp.campaign
    resp = camp.c.get(_url("roster_preview", campaign))
    diff = resp.context["diff"]
    assert (diff.eligible, diff.added, diff.removed) == (4, 4, 0)
    assert sorted(n for _, n, _ in diff.added_sample) == sorted(
        camp.p[k].full_name for k in ("chu", "binh", "kiem", "chuyen"))
    assert not Participant.objects.exists()
    resp = camp.c.post(_url("roster_apply", campaign), follow=True)
    assert resp.redirect_chain[-1][0] == _url("detail", campaign) + "?tab=roster"
    assert set(campaign.participants.filter(active=True).values_list("person_id", flat=True)) \
        == {camp.p[k].pk for k in ("chu", "binh", "kiem", "chuyen")}
    assert any("4" in str(m) for m in resp.context["messages"])
    # a second preview shows nothing more to do
    diff = camp.c.get(_url("roster_preview", campaign)).context["diff"]
    assert (diff.added, diff.removed, diff.reactivated) == (0, 0, 0)


def test_apply_needs_post(camp):
    assert camp.c.get(_url("roster_apply", camp.campaign)).status_code == 405
    assert not Participant.objects.exists()


# ---------------------------------------------------------------- the roster tab


def test_roster_tab_counts_search_and_removed_filter(applied):
    org, campaign, c = applied.org, applied.campaign, _client(applied.organiser, "en")
    url = _url("detail", campaign) + "?tab=roster"
    resp = c.get(url)
    assert resp.context["counts"] == {"active": 4, "removed": 0, "manual": 0}
    by_child = {(u.code if u else None): n for u, _own, n in resp.context["by_child"]}
    assert by_child == {org.bd.code: 3, org.cshn.code: 1}
    names = [p.person.full_name for p in resp.context["page"]]
    assert names == sorted(names, key=lambda n: Person.objects.get(full_name=n).sort_key)
    body = resp.content.decode()
    assert "Chủ tịch công đoàn cơ sở có từ 2.000 đoàn viên trở lên" in body  # binh's rule

    resp = c.get(url + "&q=chuyen")
    assert [p.person.full_name for p in resp.context["page"]] == ["Trần Văn Chuyên"]
    resp = c.get(url + "&q=LE+VAN+KIEM")
    assert [p.person.full_name for p in resp.context["page"]] == ["Lê Văn Kiểm"]

    # CS1 shrinks below 2,000 members: binh no longer matches and is removed on re-apply
    org_services.update_unit(unit=org.cs1, member_count=1500)
    services.apply_roster(campaign=campaign, actor=applied.organiser)
    resp = c.get(url + "&show=removed")
    assert [p.person.full_name for p in resp.context["page"]] == ["Nguyễn Văn Bình"]
    assert "no longer matches any rule" in resp.content.decode()
    assert resp.context["counts"]["removed"] == 1


def test_roster_tab_query_count_does_not_grow(applied, django_assert_max_num_queries):
    org, campaign = applied.org, applied.campaign
    url = _url("detail", campaign) + "?tab=roster"

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert applied.c.get(url).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for i in range(60):
        cadre = person(org.cs2 if i % 2 else org.cs1, f"Nguyễn Văn Số {i}")
        position(cadre, org.cs2 if i % 2 else org.cs1, "can_bo_chuyen_trach", full_time=True)
    services.apply_roster(campaign=campaign, actor=applied.organiser)
    services.add_participant(campaign=campaign, person=applied.p["coso"], reason="Mời",
                             actor=applied.organiser)
    assert campaign.participants.count() == 65
    assert count() == small
    with django_assert_max_num_queries(16):
        applied.c.get(url)
    with django_assert_max_num_queries(16):
        applied.c.get(url + "&page=2")


# ---------------------------------------------------------------- changes by hand


def test_add_participant_by_hand(applied):
    campaign = applied.campaign
    url = _url("participant_add", campaign)
    resp = applied.c.post(url, {"add-member_code": "dv-coso", "add-reason": "Được BTV mời"})
    assert resp.status_code == 302
    p = _participant(applied, "coso")
    assert p.active and p.source == "manual" and p.reason == "Được BTV mời" and p.pinned
    assert p.managing_unit is not None
    assert resp["Location"] == _url("participant", campaign, p.pk)


@pytest.mark.parametrize("data,field", [
    ({"add-member_code": "DV-KHONG-CO", "add-reason": "x"}, "member_code"),  # unknown
    ({"add-member_code": "DV-HP", "add-reason": "x"}, "member_code"),  # outside the scope
    ({"add-member_code": "DV-COSO", "add-reason": "  "}, "reason"),  # empty reason
    ({"add-member_code": "DV-KIEM", "add-reason": "x"}, "__all__"),  # already on (service)
])
def test_add_participant_bad_input_changes_nothing(applied, data, field):
    before = list(Participant.objects.values_list("pk", "active", "reason"))
    resp = applied.c.post(_url("participant_add", applied.campaign), data)
    assert resp.status_code == 200
    assert resp.context["add_form"].errors.get(field), resp.context["add_form"].errors
    assert list(Participant.objects.values_list("pk", "active", "reason")) == before


def test_remove_substitute_and_restore(applied):
    campaign = applied.campaign
    kiem = _participant(applied, "kiem")
    page = _url("participant", campaign, kiem.pk)
    resp = applied.c.get(page)
    assert "remove_form" in resp.context and "substitute_form" in resp.context

    resp = applied.c.post(_url("participant_remove", campaign, kiem.pk), {"remove-reason": ""})
    assert resp.status_code == 200 and resp.context["remove_form"].errors["reason"]
    kiem.refresh_from_db()
    assert kiem.active

    resp = applied.c.post(_url("participant_substitute", campaign, kiem.pk),
                          {"sub-member_code": "DV-NOBODY", "sub-reason": "Đi công tác"})
    assert resp.status_code == 200 and resp.context["substitute_form"].errors["member_code"]
    resp = applied.c.post(_url("participant_substitute", campaign, kiem.pk),
                          {"sub-member_code": "DV-COSO", "sub-reason": ""})
    assert resp.status_code == 200 and resp.context["substitute_form"].errors["reason"]
    kiem.refresh_from_db()
    assert kiem.active and not campaign.participants.filter(person=applied.p["coso"]).exists()

    resp = applied.c.post(_url("participant_substitute", campaign, kiem.pk),
                          {"sub-member_code": "DV-COSO", "sub-reason": "Đi công tác"})
    assert resp.status_code == 302
    kiem.refresh_from_db()
    sub = _participant(applied, "coso")
    assert not kiem.active and "Vũ Thị Cơ Sở" in kiem.reason
    assert sub.active and sub.source == "substitute" and sub.substitute_for == kiem
    body = applied.c.get(_url("participant", campaign, sub.pk)).content.decode()
    assert "Lê Văn Kiểm" in body and "Đi công tác" in body

    chuyen = _participant(applied, "chuyen")
    resp = applied.c.post(_url("participant_remove", campaign, chuyen.pk),
                          {"remove-reason": "Nghỉ thai sản"})
    assert resp.status_code == 302
    chuyen.refresh_from_db()
    assert not chuyen.active and chuyen.reason == "Nghỉ thai sản"
    resp = applied.c.get(_url("participant", campaign, chuyen.pk))
    assert "restore_form" in resp.context and "Nghỉ thai sản" in resp.content.decode()
    resp = applied.c.post(_url("participant_restore", campaign, chuyen.pk),
                          {"restore-reason": "Đi làm lại"})
    assert resp.status_code == 302
    chuyen.refresh_from_db()
    assert chuyen.active and chuyen.reason == "Đi làm lại"


def test_participant_page_explains_the_rules_and_removal(applied):
    org, campaign = applied.org, applied.campaign
    c = _client(applied.organiser, "en")
    binh = _participant(applied, "binh")
    resp = c.get(_url("participant", campaign, binh.pk))
    assert [r.name for r in resp.context["rules"]] == [
        "Chủ tịch công đoàn cơ sở có từ 2.000 đoàn viên trở lên"]
    body = resp.content.decode()
    assert org.cs1.name in body and org.bd.name in body  # unit, managing unit (its parent)
    org_services.update_unit(unit=org.cs1, member_count=1500)
    services.apply_roster(campaign=campaign, actor=applied.organiser)
    body = c.get(_url("participant", campaign, binh.pk)).content.decode()
    assert "no longer matches any rule" in body


# ---------------------------------------------------------------- the participant's view


def test_participant_sees_own_page_and_my_campaigns_only(applied):
    campaign = applied.campaign
    account = user("binh")
    Person.objects.filter(pk=applied.p["binh"].pk).update(user=account)
    topic = services.add_topic(campaign=campaign, title="Chuyên đề 1: Tổng quan",
                               actor=applied.organiser)
    Material.objects.create(topic=topic, title="Tài liệu hỏi đáp", url="https://example.org/q")
    c = _client(account, "en")
    me = _participant(applied, "binh")
    # a draft campaign is not shown to its participants yet
    assert c.get(_url("detail", campaign)).status_code == 404
    services.set_status(campaign=campaign, status="published", actor=applied.organiser)

    resp = c.get(_url("participant", campaign, me.pk))
    assert resp.status_code == 200
    assert not {"remove_form", "substitute_form", "restore_form"} & set(resp.context.keys())
    other = _participant(applied, "kiem")
    assert c.get(_url("participant", campaign, other.pk)).status_code == 404
    assert c.post(_url("participant_remove", campaign, me.pk),
                  {"remove-reason": "x"}).status_code == 404
    assert c.get(_url("detail", campaign)).status_code == 200
    assert c.get(_url("detail", campaign) + "?tab=roster").status_code == 404
    assert c.get(_url("detail", campaign) + "?tab=routing").status_code == 404
    assert c.get(_url("roster_preview", campaign)).status_code == 404

    resp = c.get(reverse("campaigns:mine"))
    body = resp.content.decode()
    assert campaign.title in body
    assert ("You are invited because: Chủ tịch công đoàn cơ sở có từ 2.000 đoàn viên trở lên"
            in body)
    assert applied.org.bd.name in body  # the managing unit: where the report goes
    assert reverse("reports:mine", args=[campaign.slug]) in body
    assert "Chuyên đề 1: Tổng quan" in body and "https://example.org/q" in body
    assert "15/08/2025" in body or "08/15/2025" in body or "Aug" in body

    # removed: the campaign and the page are gone for the participant
    services.remove_participant(participant=me, reason="Ốm", actor=applied.organiser)
    assert c.get(_url("participant", campaign, me.pk)).status_code == 404
    assert campaign.title not in c.get(reverse("campaigns:mine")).content.decode()


def test_my_campaigns_without_a_member_record(db):
    resp = _client(user()).get(reverse("campaigns:mine"))
    assert resp.status_code == 200 and resp.context["participations"] == []


# ---------------------------------------------------------------- routing


def test_routing_form_and_reroute(applied):
    campaign, org = applied.campaign, applied.org
    grassroots = UnitLevel.objects.get(code="grassroots")
    province = UnitLevel.objects.get(code="province")
    url = _url("routing_set", campaign)
    resp = applied.c.post(url, {"level": grassroots.pk, "target": "ancestor",
                                "ancestor_level": grassroots.pk})
    assert resp.status_code == 200 and _errors(resp, "routing_form")
    assert not RoutingRule.objects.exists()
    resp = applied.c.post(url, {"level": grassroots.pk, "target": "ancestor",
                                "ancestor_level": province.pk})
    assert resp.status_code == 302
    assert applied.c.post(_url("routing_reroute", campaign)).status_code == 302
    binh = _participant(applied, "binh")
    assert binh.managing_unit == org.hn
    resp = applied.c.get(_url("detail", campaign) + "?tab=routing")
    table = {u.code: n for u, n in resp.context["page"]}
    assert sum(table.values()) == 4 and table[org.hn.code] >= 1


# ---------------------------------------------------------------- admin


def test_admin_campaign_change_page_matrix(applied):
    org = applied.org
    check_matrix(reverse("admin:campaigns_campaign_change", args=[applied.campaign.pk]),
                 unit=org.hn, ancestor=org.top, elsewhere=org.hp, staff=True,
                 login_prefix="/admin/login/")


def test_admin_is_scoped_and_participants_read_only(applied):
    org = applied.org
    c = _client(user(staff=True, unit_admin=org.hn))
    resp = c.get(reverse("admin:campaigns_participant_changelist"))
    assert resp.status_code == 200
    assert resp.context["cl"].result_count == 4
    p = _participant(applied, "binh")
    resp = c.get(reverse("admin:campaigns_participant_change", args=[p.pk]))
    assert resp.status_code == 200 and not resp.context["has_change_permission"]
    other = _client(user(staff=True, unit_admin=org.hp))
    assert other.get(reverse("admin:campaigns_participant_changelist")).context[
        "cl"].result_count == 0
    assert other.get(reverse("admin:campaigns_participant_change", args=[p.pk])).status_code \
        == 404
    rule = applied.campaign.rules.first()
    assert other.get(reverse("admin:campaigns_eligibilityrule_change",
                             args=[rule.pk])).status_code == 404


def test_admin_creates_a_campaign_through_the_service(org):
    c = _client(user(staff=True, organiser=org.hn))
    resp = c.post(reverse("admin:campaigns_campaign_add"), {
        "slug": "qua-admin", "title": "Qua trang quản trị", "resolution": "",
        "description": "", "owner_unit": org.bd.pk, "conference_date": "",
        "report_deadline": "",
        "topics-TOTAL_FORMS": "1", "topics-INITIAL_FORMS": "0",
        "topics-MIN_NUM_FORMS": "0", "topics-MAX_NUM_FORMS": "1000",
        "topics-0-order": "1", "topics-0-title": "Chuyên đề", "topics-0-presenter": "",
        "topics-0-summary": "",
    })
    assert resp.status_code == 302, resp.content.decode()[:3000]
    campaign = Campaign.objects.get(slug="qua-admin")
    assert campaign.owner_unit == org.bd and campaign.topics.get().title == "Chuyên đề"
    from quantriet.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="campaigns.create").exists()
    # a unit outside the scope is refused
    resp = c.post(reverse("admin:campaigns_campaign_add"), {
        "slug": "ngoai", "title": "x", "owner_unit": org.hp.pk,
        "topics-TOTAL_FORMS": "0", "topics-INITIAL_FORMS": "0",
        "topics-MIN_NUM_FORMS": "0", "topics-MAX_NUM_FORMS": "1000"})
    assert resp.status_code == 200 and not Campaign.objects.filter(slug="ngoai").exists()


def test_materials_links_and_files(camp, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    campaign = camp.campaign
    topic = services.add_topic(campaign=campaign, title="Chuyên đề 1", actor=camp.organiser)
    url = reverse("campaigns:material_add", args=[campaign.slug, topic.pk])
    camp.c.post(url, {"title": "Video bài giảng", "kind": "video",
                      "url": "https://example.org/v"})
    camp.c.post(url, {"title": "Đề cương", "upload": SimpleUploadedFile(
        "de-cuong.pdf", b"%PDF-1.4 test", content_type="application/pdf")})
    kinds = dict(topic.materials.values_list("title", "kind"))
    assert kinds == {"Video bài giảng": "video", "Đề cương": "file"}
    # refused: a program, neither address nor file, both
    camp.c.post(url, {"title": "x", "upload": SimpleUploadedFile("x.exe", b"MZ")})
    camp.c.post(url, {"title": "y"})
    camp.c.post(url, {"title": "z", "url": "https://example.org/z",
                      "upload": SimpleUploadedFile("z.pdf", b"%PDF")})
    assert topic.materials.count() == 2
    body = camp.c.get(_url("detail", campaign) + "?tab=topics").content.decode()
    assert "Video bài giảng" in body and "de-cuong" in body
    # only organisers add or remove
    other = _client(user(inspector=camp.org.hn))
    assert other.post(url, {"title": "w", "url": "https://example.org/w"}).status_code == 404
    material = topic.materials.get(kind="file")
    camp.c.post(reverse("campaigns:material_delete", args=[campaign.slug, material.pk]))
    assert topic.materials.count() == 1


def test_edit_the_campaign(camp):
    campaign = camp.campaign
    url = reverse("campaigns:edit", args=[campaign.slug])
    resp = camp.c.post(url, {"title": "Tiêu đề mới", "resolution": "NQ XIII",
                             "conference_date": "20/08/2025", "report_deadline": "01/08/2025"})
    assert resp.status_code == 200 and resp.context["edit_form"].errors  # deadline first
    campaign.refresh_from_db()
    assert campaign.title != "Tiêu đề mới"
    resp = camp.c.post(url, {"title": "Tiêu đề mới", "resolution": "NQ XIII",
                             "conference_date": "20/08/2025", "report_deadline": "30/09/2025"})
    assert resp.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.title, campaign.conference_date) == ("Tiêu đề mới", dt.date(2025, 8, 20))
    inspector = _client(user(inspector=camp.org.hn))
    assert inspector.post(url, {"title": "x"}).status_code == 404
