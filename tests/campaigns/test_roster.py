"""Rule evaluation, the frozen roster, its diff, manual changes and routing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from quantriet.campaigns import services
from quantriet.campaigns.models import Participant
from quantriet.org import services as org_services
from quantriet.org.models import Position, PositionType, Unit, UnitLevel
from tests.factories import person, position, user


@pytest.fixture
def setup(org):
    """The small tree plus cadres that the three preset rules select or not."""
    p = {}
    # rule 1: committee members at upper levels
    p["bch_hn"] = person(org.cshn, "Nguyễn Thị Bích")
    position(p["bch_hn"], org.hn, "uv_bch")
    p["ubkt_bd"] = person(org.cs1, "Lê Văn Kiểm")
    position(p["ubkt_bd"], org.bd, "uv_ubkt")
    # rule 2: full-time cadres from grassroots up
    p["ft_cs2"] = person(org.cs2, "Trần Văn Chuyên")
    position(p["ft_cs2"], org.cs2, "can_bo_chuyen_trach", full_time=True)
    # rule 3: chair of a grassroots union with >= 2000 members (cs1 declares 2500)
    # binh (from OrgTree) is chu_tich of cs1
    p["chair_small"] = person(org.cs2, "Phạm Văn Nhỏ")  # cs2 declares 800: not selected
    position(p["chair_small"], org.cs2, "chu_tich")
    # not selected: a BCH member of a grassroots union, an ended position
    p["bch_cs"] = person(org.cs2, "Vũ Thị Cơ Sở")
    position(p["bch_cs"], org.cs2, "uv_bch")
    p["ended"] = person(org.cs3, "Đặng Văn Cũ")
    position(p["ended"], org.hp, "uv_bch", start_date=dt.date(2015, 1, 1),
             end_date=dt.date(2020, 1, 1))
    organiser = user(organiser=org.top)
    campaign = services.create_campaign(
        slug="nq-xii", title="Học tập, quán triệt Nghị quyết Đại hội XII Công đoàn Việt Nam",
        owner_unit=org.top, actor=organiser)
    services.add_preset_rules(campaign=campaign, actor=organiser)
    return org, p, campaign, organiser


def independent(campaign, on):
    """The three preset rules computed in plain Python over every position."""
    upper = set(services.UPPER_LEVELS)
    committee = set(services.COMMITTEE_TYPES)
    chosen = set()
    for pos in Position.objects.select_related("type", "unit__level"):
        if pos.start_date and pos.start_date > on or pos.end_date and pos.end_date < on:
            continue
        level = pos.unit.level.code
        if pos.type.code in committee and level in upper:
            chosen.add(pos.person_id)
        if pos.full_time and level in upper | {"grassroots"}:
            chosen.add(pos.person_id)
        if pos.type.code == "chu_tich" and level == "grassroots" and (
                pos.unit.member_count or 0) >= 2000:
            chosen.add(pos.person_id)
    return chosen


def test_roster_equals_an_independent_computation(setup):
    org, p, campaign, organiser = setup
    services.apply_roster(campaign=campaign, actor=organiser)
    roster = set(campaign.participants.filter(active=True).values_list("person_id", flat=True))
    assert roster == independent(campaign, dt.date.today())
    assert roster == {p["bch_hn"].pk, p["ubkt_bd"].pk, p["ft_cs2"].pk, org.people["chu"].pk,
                      org.people["binh"].pk}


def test_each_participant_knows_which_rules_selected_them(setup):
    org, p, campaign, organiser = setup
    services.apply_roster(campaign=campaign, actor=organiser)
    chu = campaign.participants.get(person=org.people["chu"])  # full-time uv_bch at HN
    assert sorted(r.order for r in chu.rules.all()) == [1, 2]
    binh = campaign.participants.get(person=org.people["binh"])
    assert [r.name for r in binh.rules.all()] == [
        "Chủ tịch công đoàn cơ sở có từ 2.000 đoàn viên trở lên"]


def test_preview_writes_nothing_and_rerun_shows_the_diff(setup):
    org, p, campaign, organiser = setup
    first = services.preview_roster(campaign=campaign)
    assert (first.eligible, first.added, first.removed) == (5, 5, 0)
    assert not Participant.objects.exists()
    services.apply_roster(campaign=campaign, actor=organiser)
    # the roster changes: cs1 shrinks below 2,000; a new full-time cadre appears
    org_services.update_unit(unit=org.cs1, member_count=1500)
    newcomer = person(org.cs3, "Hồ Thị Mới")
    position(newcomer, org.lc, "can_bo_chuyen_trach", full_time=True)
    diff = services.preview_roster(campaign=campaign)
    assert (diff.added, diff.removed) == (1, 1)
    assert [n for _, n, _ in diff.added_sample] == ["Hồ Thị Mới"]
    assert [n for _, n, _ in diff.removed_sample] == ["Nguyễn Văn Bình"]
    services.apply_roster(campaign=campaign, actor=organiser)
    binh = campaign.participants.get(person=org.people["binh"])
    assert not binh.active and binh.reason == services.REASON_NO_LONGER
    assert campaign.participants.get(person=newcomer).active


def test_manual_decisions_survive_reruns(setup):
    org, p, campaign, organiser = setup
    services.apply_roster(campaign=campaign, actor=organiser)
    extra = services.add_participant(campaign=campaign, person=p["bch_cs"],
                                     reason="Được BTV mời dự", actor=organiser)
    gone = services.remove_participant(
        participant=campaign.participants.get(person=p["ft_cs2"]),
        reason="Nghỉ thai sản", actor=organiser)
    services.apply_roster(campaign=campaign, actor=organiser)
    extra.refresh_from_db()
    gone.refresh_from_db()
    assert extra.active and extra.source == "manual" and extra.reason == "Được BTV mời dự"
    assert not gone.active and gone.reason == "Nghỉ thai sản"
    with pytest.raises(ValidationError):
        services.add_participant(campaign=campaign, person=p["bch_cs"], reason="x",
                                 actor=organiser)
    with pytest.raises(ValidationError):
        services.remove_participant(participant=extra, reason=" ", actor=organiser)


def test_substitute(setup):
    org, p, campaign, organiser = setup
    services.apply_roster(campaign=campaign, actor=organiser)
    original = campaign.participants.get(person=p["ubkt_bd"])
    sub = services.substitute(participant=original, person=org.people["an"],
                              reason="Đi công tác", actor=organiser)
    original.refresh_from_db()
    assert not original.active and "Trần Thị An" in original.reason
    assert sub.active and sub.source == "substitute" and sub.substitute_for == original


def test_unit_admin_edits_only_their_part_of_the_roster(setup):
    org, p, campaign, organiser = setup
    services.apply_roster(campaign=campaign, actor=organiser)
    hp_admin = user(unit_admin=org.hp)
    with pytest.raises(ValidationError):
        services.remove_participant(participant=campaign.participants.get(person=p["ft_cs2"]),
                                    reason="x", actor=hp_admin)
    bd_admin = user(unit_admin=org.bd)
    services.remove_participant(participant=campaign.participants.get(person=p["ft_cs2"]),
                                reason="Ốm", actor=bd_admin)
    with pytest.raises(ValidationError):
        services.apply_roster(campaign=campaign, actor=bd_admin)  # organisers only


def test_a_provincial_campaign_selects_only_its_subtree(setup):
    org, p, _campaign, _organiser = setup
    hn_org = user(organiser=org.hn)
    campaign = services.create_campaign(slug="hn", title="Hà Nội", owner_unit=org.hn,
                                        actor=hn_org)
    services.add_preset_rules(campaign=campaign, actor=hn_org)
    services.apply_roster(campaign=campaign, actor=hn_org)
    persons = set(campaign.participants.values_list("person_id", flat=True))
    assert org.people["chu"].pk in persons
    assert all(Participant.objects.get(campaign=campaign, person_id=i).unit.path.startswith(
        org.hn.path) for i in persons)
    with pytest.raises(ValidationError):
        services.create_campaign(slug="x", title="x", owner_unit=org.top, actor=hn_org)


def test_routing_default_explicit_and_rules(setup):
    org, p, campaign, organiser = setup
    # explicit managing unit on the position wins
    Position.objects.filter(person=p["ubkt_bd"]).update(managing_unit=org.top)
    services.apply_roster(campaign=campaign, actor=organiser)
    routed = dict(campaign.participants.values_list("person_id", "managing_unit_id"))
    assert routed[p["ubkt_bd"].pk] == org.top.pk
    assert routed[org.people["binh"].pk] == org.bd.pk  # default: the parent of CS1
    assert routed[p["bch_hn"].pk] == org.top.pk  # parent of HN
    grassroots = UnitLevel.objects.get(code="grassroots")
    services.set_routing(campaign=campaign, level=grassroots, target="self", actor=organiser)
    province = UnitLevel.objects.get(code="province")
    with pytest.raises(ValidationError):
        services.set_routing(campaign=campaign, level=province, target="ancestor",
                             ancestor_level=grassroots, actor=organiser)
    services.set_routing(campaign=campaign, level=grassroots, target="ancestor",
                         ancestor_level=province, actor=organiser)
    services.reroute(campaign=campaign, actor=organiser)
    routed = dict(campaign.participants.values_list("person_id", "managing_unit_id"))
    assert routed[org.people["binh"].pk] == org.hn.pk
    preview = dict((u.code, n) for u, n in services.routing_preview(campaign))
    assert sum(preview.values()) == campaign.participants.filter(active=True).count()


def test_rules_are_data(setup):
    org, p, campaign, organiser = setup
    rule = services.save_rule(
        campaign=campaign, actor=organiser, name="Phó chủ tịch ở Hải Phòng",
        position_types=[PositionType.objects.get(code="pho_chu_tich")], subtree=org.hp)
    pho = person(org.cs3, "Lý Văn Phó")
    position(pho, org.cs3, "pho_chu_tich")
    pho_hn = person(org.cs1, "Lý Văn Phó Hà Nội")
    position(pho_hn, org.cs1, "pho_chu_tich")
    services.apply_roster(campaign=campaign, actor=organiser)
    assert campaign.participants.get(person=pho).rules.get() == rule
    assert not campaign.participants.filter(person=pho_hn).exists()
    with pytest.raises(ValidationError):
        services.save_rule(campaign=campaign, actor=organiser, name="x", min_members=10,
                           max_members=5)
    assert Unit.objects.count()
