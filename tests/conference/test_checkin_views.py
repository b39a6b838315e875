"""The coordinators' check-in page: who may open it, scans, numbers, name search, the
other-point confirmation, absence with leave, substitutes and the offline sync."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from quantriet.campaigns import services as campaigns
from quantriet.conference import services
from quantriet.conference.models import Attendance, BridgePoint
from quantriet.org.models import Person
from tests.conference.test_services import conf  # noqa: F401 - fixture
from tests.factories import person, position, user


def _client(account):
    # English, so that the texts checked here hold after the Vietnamese catalogue grows
    c = Client(headers={"Accept-Language": "en"})
    c.force_login(account)
    return c


def _urls(conf, point=None):  # noqa: F811
    args = [conf.campaign.slug, (point or conf.hn).code]
    return {name: reverse(f"conference:{name}", args=args)
            for name in ("checkin", "checkin_search", "checkin_scan", "checkin_sync")}


def _scan(client, conf, point=None, **data):  # noqa: F811
    res = client.post(_urls(conf, point)["checkin_scan"], data)
    assert res["Content-Type"] == "application/json"
    return res.status_code, res.json()


def _counts(point):
    point.refresh_from_db()
    return point.expected, point.present, point.excused, point.substitutes


# ---------------------------------------------------------------- who may check in


def test_checkin_page_permission_matrix(conf):  # noqa: F811
    urls = _urls(conf)
    page = urls["checkin"]
    anonymous = Client().get(page)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    hp_coordinator = user()
    conf.hp.coordinators.add(hp_coordinator)
    denied = {
        "no right": user(),
        "coordinator of another point": hp_coordinator,
        "unit admin below the organising unit": user(unit_admin=conf.org.hn),
        "inspector of the organising unit": user(inspector=conf.org.top),
        "organiser elsewhere": user(organiser=conf.org.hp),
    }
    for label, account in denied.items():
        c = _client(account)
        assert c.get(page).status_code == 404, label
        assert c.get(urls["checkin_search"], {"q": "le van a"}).status_code == 404, label
        assert c.post(page, {"action": "excuse", "participant_id": conf.part["d"].pk,
                             "reason": "x"}).status_code == 404, label
        status, body = _scan(c, conf, participant_id=conf.part["a"].pk)
        assert status == 404 and "Lê Văn A" not in json.dumps(body, ensure_ascii=False), label
        res = c.post(urls["checkin_sync"], json.dumps(
            [{"client_ref": "x-1", "participant_id": conf.part["a"].pk}]),
            content_type="application/json")
        assert res.status_code == 404 and "results" not in res.json(), label
    for label, account in {"organiser": conf.organiser,
                           "coordinator of the point": conf.coordinator,
                           "superuser": user(superuser=True)}.items():
        res = _client(account).get(page)
        assert res.status_code == 200, label
        assert conf.hn.name in res.content.decode()
    assert _client(conf.organiser).get(_urls(conf, conf.hp)["checkin"]).status_code == 200
    assert _client(conf.coordinator).get(_urls(conf, conf.hp)["checkin"]).status_code == 404
    # the script's endpoints answer an ended session with JSON, and record nothing
    res = Client().post(urls["checkin_scan"], {"participant_id": conf.part["a"].pk})
    assert res.status_code == 401 and res.json()["outcome"] == "error"
    res = Client().post(urls["checkin_sync"], "[]", content_type="application/json")
    assert res.status_code == 401
    assert not Attendance.objects.filter(status="present").exists()
    assert Client().get(urls["checkin_scan"]).status_code == 405


def test_page_shows_counts_and_the_three_ways(conf):  # noqa: F811
    c = _client(conf.coordinator)
    html = c.get(_urls(conf)["checkin"]).content.decode()
    for needle in ('id="qr-photo"', 'accept="image/*"', 'capture="environment"',
                   'id="camera-start"', 'id="number-form"', 'name="q"', 'vendor/jsQR.js',
                   'conference/checkin.js', 'id="checkin-strings"', 'data-count="expected"',
                   "data-csrf="):
        assert needle in html, needle
    counts = c.get(_urls(conf)["checkin"], {"part": "counts"})
    assert 'data-count="expected">6<' in counts.content.decode()
    assert "<html" not in counts.content.decode()


# ---------------------------------------------------------------- scans and numbers


def test_scan_valid_then_again_is_idempotent(conf):  # noqa: F811
    c = _client(conf.coordinator)
    token = services.invitation_token(conf.part["a"])
    status, first = _scan(c, conf, token=token, client_ref="dev-1")
    assert status == 200 and first["outcome"] == "checked_in"
    assert "Lê Văn A" in first["message"] and first["participant"] == conf.part["a"].pk
    assert first["counts"]["present"] == 1
    _, again = _scan(c, conf, token=token, client_ref="dev-2")
    assert again["outcome"] == "already"
    at = timezone.localtime(Attendance.objects.get(participant=conf.part["a"]).checked_in_at)
    assert at.strftime("%H:%M") in again["message"]
    assert _counts(conf.hn)[1] == 1
    assert services.verify_counters(conf.campaign) == []


def test_tampered_expired_and_foreign_tokens_are_refused(conf, monkeypatch):  # noqa: F811
    c = _client(conf.coordinator)
    token = services.invitation_token(conf.part["a"])
    tampered = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    _, answer = _scan(c, conf, token=tampered)
    assert answer["outcome"] == "error" and "not a valid invitation code" in answer["message"]
    assert "participant" not in answer
    _, answer = _scan(c, conf, token="x" * 5000)
    assert answer["outcome"] == "error"
    other = campaigns.create_campaign(slug="khac", title="Khác", owner_unit=conf.org.top,
                                      actor=conf.organiser)
    campaigns.add_preset_rules(campaign=other, actor=conf.organiser)
    campaigns.apply_roster(campaign=other, actor=conf.organiser)
    foreign = other.participants.get(person=conf.p["c"])
    _, answer = _scan(c, conf, token=services.invitation_token(foreign))
    assert answer["outcome"] == "error" and "another campaign" in answer["message"]
    # a participant number of another campaign is not found here either
    _, answer = _scan(c, conf, participant_id=foreign.pk)
    assert answer["outcome"] == "error" and "Phạm" not in answer["message"]
    assert "There is no participant number" in answer["message"]
    _, answer = _scan(c, conf, participant_id="abc")
    assert answer["outcome"] == "error"
    _, answer = _scan(c, conf)
    assert answer["outcome"] == "error"
    monkeypatch.setattr(services, "TOKEN_MAX_AGE", -1)
    _, answer = _scan(c, conf, token=token)
    assert answer["outcome"] == "error" and "expired" in answer["message"]
    assert not Attendance.objects.filter(status="present").exists()
    assert _counts(conf.hn)[1] == 0


def test_number_and_other_point_warning_then_confirm(conf):  # noqa: F811
    c = _client(conf.coordinator)
    _, answer = _scan(c, conf, participant_id=f"#{conf.part['c'].pk}")
    assert answer["outcome"] == "checked_in"
    # Vũ Văn H is expected in Hải Phòng
    _, warn = _scan(c, conf, participant_id=conf.part["h"].pk)
    assert warn["outcome"] == "other_point" and conf.hp.name in warn["message"]
    assert Attendance.objects.get(participant=conf.part["h"]).status == "expected"
    _, ok = _scan(c, conf, participant_id=conf.part["h"].pk, accept_other_point="1")
    assert ok["outcome"] == "checked_in"
    att = Attendance.objects.get(participant=conf.part["h"])
    assert att.status == "present" and att.checked_in_point == conf.hn
    assert _counts(conf.hp)[1] == 1 and _counts(conf.hn)[1] == 1
    assert services.verify_counters(conf.campaign) == []


def test_locked_point(conf):  # noqa: F811
    services.lock_point(point=conf.hn, actor=conf.organiser)
    c = _client(conf.coordinator)
    html = c.get(_urls(conf)["checkin"]).content.decode()
    assert "locked" in html and 'id="number-form"' not in html
    _, answer = _scan(c, conf, participant_id=conf.part["a"].pk)
    assert answer["outcome"] == "error" and "locked" in answer["message"]


# ---------------------------------------------------------------- offline sync


def test_sync_replayed_batch_counts_each_once(conf):  # noqa: F811
    c = _client(conf.coordinator)
    url = _urls(conf)["checkin_sync"]
    ten_minutes_ago = timezone.now() - dt.timedelta(minutes=10)
    batch = [
        {"client_ref": "phone-1", "token": services.invitation_token(conf.part["a"]),
         "at": int(ten_minutes_ago.timestamp() * 1000)},
        {"client_ref": "phone-2", "participant_id": conf.part["c"].pk,
         "at": int((timezone.now() + dt.timedelta(days=3)).timestamp() * 1000)},
        {"client_ref": "phone-3", "participant_id": conf.part["h"].pk},
        {"client_ref": "phone-4", "participant_id": conf.part["h"].pk,
         "accept_other_point": True},
        {"client_ref": "phone-2", "participant_id": conf.part["c"].pk},  # twice in a batch
        {"participant_id": conf.part["d"].pk},  # no reference: refused, not checked in
        {"client_ref": "phone-5", "participant_id": 999999},
    ]
    first = c.post(url, json.dumps(batch), content_type="application/json").json()
    outcomes = [(r["client_ref"], r["outcome"]) for r in first["results"]]
    assert outcomes == [("phone-1", "checked_in"), ("phone-2", "checked_in"),
                        ("phone-3", "other_point"), ("phone-4", "checked_in"),
                        ("phone-2", "already"), ("", "error"), ("phone-5", "error")]
    counts = (_counts(conf.hn), _counts(conf.hp))
    assert counts[0][1] == 2 and counts[1][1] == 1
    # the phone never got the answer and sends everything again, in the wrapped form too
    again = c.post(url, json.dumps({"items": batch}), content_type="application/json").json()
    assert [r["outcome"] for r in again["results"]][:5] == ["already"] * 5
    assert (_counts(conf.hn), _counts(conf.hp)) == counts
    assert again["counts"]["present"] == 2
    assert services.verify_counters(conf.campaign) == []
    # the offline time is kept when plausible; a future one becomes the time of the sync
    a = Attendance.objects.get(participant=conf.part["a"])
    assert abs((a.checked_in_at - ten_minutes_ago).total_seconds()) < 1
    assert a.client_ref == "phone-1"
    c_at = Attendance.objects.get(participant=conf.part["c"]).checked_in_at
    assert c_at <= timezone.now()
    assert Attendance.objects.get(participant=conf.part["d"]).status == "expected"


def test_sync_refuses_malformed_requests(conf):  # noqa: F811
    c = _client(conf.coordinator)
    url = _urls(conf)["checkin_sync"]
    assert c.post(url, "not json", content_type="application/json").status_code == 400
    assert c.post(url, json.dumps({"x": 1}), content_type="application/json").status_code == 400
    too_many = [{"client_ref": f"r{i}", "participant_id": 1} for i in range(501)]
    assert c.post(url, json.dumps(too_many),
                  content_type="application/json").status_code == 400
    res = c.post(url, json.dumps([1, "x", None]), content_type="application/json").json()
    assert [r["outcome"] for r in res["results"]] == ["error"] * 3
    assert not Attendance.objects.filter(status="present").exists()


# ---------------------------------------------------------------- search, leave, substitutes


def test_search_ignores_diacritics_and_stays_in_the_campaign(conf):  # noqa: F811
    c = _client(conf.coordinator)
    url = _urls(conf)["checkin_search"]
    html = c.get(url, {"q": "le van a"}).content.decode()
    assert "Lê Văn A" in html and f'data-participant-id="{conf.part["a"].pk}"' in html
    assert "Phạm Văn C" not in html
    assert conf.hn.name not in html or "Expected here" in html
    # Trần Thị An is a member of the organisation but not on the roster: not shown
    html = c.get(url, {"q": "TRAN THI"}).content.decode()
    assert "Trần Thị B" in html and "Trần Thị An" not in html
    # participants of the whole campaign, with their expected point
    html = c.get(url, {"q": "vu van h"}).content.decode()
    assert "Vũ Văn H" in html and conf.hp.name in html
    # a number finds that participant; too short a query runs no search
    html = c.get(url, {"q": str(conf.part["d"].pk)}).content.decode()
    assert "Hoàng Thị D" in html
    html = c.get(url, {"q": "a"}).content.decode()
    assert "<li" not in html and "two letters" in html
    assert "Nobody" in c.get(url, {"q": "khong co ai"}).content.decode()
    # a checked-in row says so and offers no buttons
    services.check_in(point=conf.hn, participant=conf.part["a"], actor=conf.coordinator)
    html = c.get(url, {"q": "le van a"}).content.decode()
    assert 'data-status="present"' in html and "js-checkin" not in html


def test_search_does_not_reach_another_campaign(conf):  # noqa: F811
    # a cadre who became eligible after this roster was frozen is on a later campaign's
    # roster only
    late = person(conf.org.cs3, "Lê Văn Lạ")
    position(late, conf.org.cs3, "can_bo_chuyen_trach", full_time=True)
    other = campaigns.create_campaign(slug="khac", title="Khác", owner_unit=conf.org.hp,
                                      actor=conf.organiser)
    campaigns.add_preset_rules(campaign=other, actor=conf.organiser)
    campaigns.apply_roster(campaign=other, actor=conf.organiser)
    assert other.participants.filter(person=late).exists()
    c = _client(conf.coordinator)
    html = c.get(_urls(conf)["checkin_search"], {"q": "le van"}).content.decode()
    assert "Lê Văn A" in html and "Lê Văn Lạ" not in html


def test_absent_with_leave_and_substitute_from_a_search_row(conf):  # noqa: F811
    c = _client(conf.coordinator)
    page = _urls(conf)["checkin"]
    htmx = {"HTTP_HX_REQUEST": "true"}
    res = c.post(page, {"action": "excuse", "participant_id": conf.part["d"].pk,
                        "reason": "Ốm"}, **htmx)
    html = res.content.decode()
    assert 'data-outcome="excused"' in html and 'hx-swap-oob="true"' in html
    assert res["HX-Trigger"] == "qt-refresh-search"
    assert Attendance.objects.get(participant=conf.part["d"]).status == "excused"
    res = c.post(page, {"action": "excuse", "participant_id": conf.part["c"].pk,
                        "reason": " "}, **htmx)
    assert 'data-outcome="error"' in res.content.decode()

    an = conf.org.people["an"]
    Person.objects.filter(pk=an.pk).update(member_code="DV-AN")
    res = c.post(page, {"action": "substitute", "participant_id": conf.part["b"].pk,
                        "member_code": "dv-an", "reason": "Đi công tác"}, **htmx)
    html = res.content.decode()
    assert 'data-outcome="substitute"' in html and "Trần Thị An" in html
    att = Attendance.objects.get(participant=conf.part["b"])
    assert att.status == "present" and att.substitute_id == an.pk
    assert _counts(conf.hn) == (6, 1, 1, 1)
    assert services.verify_counters(conf.campaign) == []
    # without htmx: a message and back to the page
    res = c.post(page, {"action": "excuse", "participant_id": conf.part["c"].pk,
                        "reason": "Nghỉ phép"})
    assert res.status_code == 302 and res["Location"] == page
    assert c.post(page, {"action": "nothing", "participant_id": 1}).status_code == 302


def test_substitute_from_outside_the_organising_unit_stays_unnamed(conf):  # noqa: F811
    """A campaign of Hà Nội: a member code of Hải Phòng is answered as unknown, without
    the name of its owner."""
    hn_campaign = campaigns.create_campaign(slug="hn", title="HN", owner_unit=conf.org.hn,
                                            actor=conf.organiser)
    campaigns.add_preset_rules(campaign=hn_campaign, actor=conf.organiser)
    campaigns.apply_roster(campaign=hn_campaign, actor=conf.organiser)
    services.generate_points(campaign=hn_campaign, level_codes=["district"],
                             actor=conf.organiser)
    services.assign_default(campaign=hn_campaign, actor=conf.organiser)
    point = hn_campaign.bridge_points.get(code="HN-BD")
    participant = hn_campaign.participants.get(person=conf.p["b"])
    hai = conf.org.people["hai"]
    Person.objects.filter(pk=hai.pk).update(member_code="HP-HAI")
    res = _client(conf.organiser).post(
        reverse("conference:checkin", args=[hn_campaign.slug, point.code]),
        {"action": "substitute", "participant_id": participant.pk, "member_code": "HP-HAI",
         "reason": "Đi công tác"}, HTTP_HX_REQUEST="true")
    html = res.content.decode()
    assert 'data-outcome="error"' in html and "HP-HAI" in html and hai.full_name not in html
    assert Attendance.objects.get(participant=participant).status == "expected"


@pytest.mark.parametrize("action", ["excuse", "substitute"])
def test_absence_of_another_campaigns_participant_is_refused(conf, action):  # noqa: F811
    other = campaigns.create_campaign(slug="khac", title="Khác", owner_unit=conf.org.top,
                                      actor=conf.organiser)
    campaigns.add_preset_rules(campaign=other, actor=conf.organiser)
    campaigns.apply_roster(campaign=other, actor=conf.organiser)
    foreign = other.participants.get(person=conf.p["c"])
    res = _client(conf.coordinator).post(
        _urls(conf)["checkin"], {"action": action, "participant_id": foreign.pk,
                                 "reason": "x", "member_code": "x"},
        HTTP_HX_REQUEST="true")
    html = res.content.decode()
    assert 'data-outcome="error"' in html and "Phạm Văn C" not in html
    assert BridgePoint.objects.get(pk=conf.hn.pk).excused == 0
