"""Bridge points, assignment, signed invitations and check-in."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core import signing
from django.core.exceptions import ValidationError

from quantriet.campaigns import services as campaigns
from quantriet.conference import services
from quantriet.conference.models import Attendance, BridgePoint
from tests.factories import person, position, user


@pytest.fixture
def conf(org):
    """A national campaign; points at the provinces; four participants in Hà Nội and one
    in Hải Phòng."""
    p = {}
    for key, unit_, name in (("a", org.cs1, "Lê Văn A"), ("b", org.cs2, "Trần Thị B"),
                             ("c", org.cshn, "Phạm Văn C"), ("d", org.cs1, "Hoàng Thị D"),
                             ("h", org.cs3, "Vũ Văn H")):
        p[key] = person(unit_, name)
        position(p[key], unit_, "can_bo_chuyen_trach", full_time=True)
    organiser = user(organiser=org.top)
    campaign = campaigns.create_campaign(slug="nq", title="NQ", owner_unit=org.top,
                                         actor=organiser)
    campaigns.add_preset_rules(campaign=campaign, actor=organiser)
    campaigns.apply_roster(campaign=campaign, actor=organiser)
    assert services.generate_points(campaign=campaign, level_codes=["province"],
                                    actor=organiser) == 3
    services.assign_default(campaign=campaign, actor=organiser)
    coordinator = user()
    hn_point = BridgePoint.objects.get(campaign=campaign, code=org.hn.code)
    hn_point.coordinators.add(coordinator)
    part = {k: campaign.participants.get(person=v) for k, v in p.items()}
    return SimpleNamespace(org=org, p=p, part=part, campaign=campaign, organiser=organiser,
                           coordinator=coordinator, hn=hn_point,
                           hp=BridgePoint.objects.get(campaign=campaign, code=org.hp.code),
                           central=BridgePoint.objects.get(campaign=campaign, is_central=True))


def test_generation_and_default_assignment(conf):
    assert conf.central.host_unit == conf.org.top
    seats = dict(Attendance.objects.values_list("participant__person__full_name", "point__code"))
    assert seats["Lê Văn A"] == seats["Phạm Văn C"] == "LDLD-01"
    assert seats["Vũ Văn H"] == "LDLD-31"
    conf.hn.refresh_from_db()
    assert conf.hn.expected == Attendance.objects.filter(point=conf.hn).count() == 6
    assert services.verify_counters(conf.campaign) == []
    # running again creates nothing and keeps a manual assignment
    att = conf.part["a"].attendance
    services.move_attendance(attendance=att, point=conf.central, actor=conf.organiser)
    assert services.assign_default(campaign=conf.campaign, actor=conf.organiser) == 0
    assert Attendance.objects.get(pk=att.pk).point == conf.central
    assert services.verify_counters(conf.campaign) == []


def test_capacity_warning(conf):
    BridgePoint.objects.filter(pk=conf.hn.pk).update(capacity=2)
    assert [p.code for p in services.over_capacity(conf.campaign)] == ["LDLD-01"]


def test_tokens_are_signed(conf):
    token = services.invitation_token(conf.part["a"])
    assert services.read_token(token, conf.campaign) == conf.part["a"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(ValidationError, match="not a valid"):
        services.read_token(tampered, conf.campaign)
    forged = signing.dumps({"c": conf.campaign.pk, "p": conf.part["a"].pk}, salt="other")
    with pytest.raises(ValidationError):
        services.read_token(forged, conf.campaign)
    other = campaigns.create_campaign(slug="khac", title="Khác", owner_unit=conf.org.top,
                                      actor=conf.organiser)
    with pytest.raises(ValidationError, match="another campaign"):
        services.read_token(token, other)


def test_expired_token(conf, monkeypatch):
    token = services.invitation_token(conf.part["a"])
    monkeypatch.setattr(services, "TOKEN_MAX_AGE", -1)
    with pytest.raises(ValidationError, match="expired"):
        services.read_token(token, conf.campaign)


def test_check_in_is_idempotent_and_counted_once(conf):
    first = services.check_in(point=conf.hn, participant=conf.part["a"],
                              actor=conf.coordinator)
    again = services.check_in(point=conf.hn, participant=conf.part["a"],
                              actor=conf.coordinator)
    assert first.outcome == "checked_in" and again.outcome == "already"
    assert "already checked in at" in again.message or "đã" in again.message
    conf.hn.refresh_from_db()
    assert conf.hn.present == 1
    # a replayed offline scan with the same reference counts once too
    services.check_in(point=conf.hn, participant=conf.part["c"], actor=conf.coordinator,
                      client_ref="phone1-0001")
    services.check_in(point=conf.hn, participant=conf.part["c"], actor=conf.coordinator,
                      client_ref="phone1-0001")
    conf.hn.refresh_from_db()
    assert conf.hn.present == 2
    assert services.verify_counters(conf.campaign) == []


def test_participant_of_another_point_is_warned(conf):
    hp_coordinator = user()
    conf.hp.coordinators.add(hp_coordinator)
    warn = services.check_in(point=conf.hp, participant=conf.part["b"], actor=hp_coordinator)
    assert warn.outcome == "other_point"
    assert Attendance.objects.get(participant=conf.part["b"]).status == "expected"
    ok = services.check_in(point=conf.hp, participant=conf.part["b"], actor=hp_coordinator,
                           accept_other_point=True)
    assert ok.outcome == "checked_in" and ok.attendance.checked_in_point == conf.hp
    conf.hn.refresh_from_db()
    assert conf.hn.present == 1  # counted at the expected point's board
    assert services.verify_counters(conf.campaign) == []


def test_only_coordinators_of_the_point_check_in(conf):
    with pytest.raises(ValidationError):
        services.check_in(point=conf.hn, participant=conf.part["a"], actor=user())
    other = user()
    conf.hp.coordinators.add(other)
    with pytest.raises(ValidationError):
        services.check_in(point=conf.hn, participant=conf.part["a"], actor=other)


def test_excuse_substitute_and_lock(conf):
    services.excuse(attendance=conf.part["d"].attendance, reason="Ốm", actor=conf.coordinator)
    with pytest.raises(ValidationError):
        services.excuse(attendance=conf.part["c"].attendance, reason=" ",
                        actor=conf.coordinator)
    sub = services.check_in_substitute(point=conf.hn, participant=conf.part["b"],
                                       person=conf.org.people["an"], reason="Đi công tác",
                                       actor=conf.coordinator)
    assert sub.attendance.substitute == conf.org.people["an"]
    services.check_in(point=conf.hn, participant=conf.part["a"], actor=conf.coordinator)
    services.lock_point(point=conf.hn, actor=conf.coordinator)
    conf.hn.refresh_from_db()
    assert (conf.hn.expected, conf.hn.present, conf.hn.excused, conf.hn.substitutes) == (
        6, 2, 1, 1)
    assert Attendance.objects.get(participant=conf.part["c"]).status == "absent"
    with pytest.raises(ValidationError, match="locked"):
        services.check_in(point=conf.hn, participant=conf.part["c"], actor=conf.coordinator)
    assert services.verify_counters(conf.campaign) == []
    assert dt.date.today()
