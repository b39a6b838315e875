"""Organisers' conference pages: points, generation, assignment, coordinators, lock."""

from django.test import Client
from django.urls import reverse

from quantriet.conference.models import Attendance, BridgePoint
from quantriet.org.models import UnitLevel
from tests.conference.test_services import conf  # noqa: F401 - fixture
from tests.factories import user
from tests.permissions import check_matrix


def _client(account):
    c = Client()
    c.force_login(account)
    return c


def test_points_pages_matrix(conf):  # noqa: F811
    slug = conf.campaign.slug
    for url in (reverse("conference:points", args=[slug]),
                reverse("conference:point", args=[slug, conf.hn.code])):
        check_matrix(url, unit=conf.org.top, ancestor=conf.org.top, elsewhere=conf.org.hp,
                     role="organiser")


def test_generate_assign_move_coordinate_lock(conf):  # noqa: F811
    c = _client(conf.organiser)
    slug = conf.campaign.slug
    district = UnitLevel.objects.get(code="district")
    c.post(reverse("conference:generate", args=[slug]), {"levels": [district.pk]})
    assert set(BridgePoint.objects.filter(campaign=conf.campaign).values_list(
        "code", flat=True)) == {"TLD", "LDLD-01", "LDLD-31", "HN-BD", "HP-LC"}
    c.post(reverse("conference:assign", args=[slug]))
    assert conf.part["a"].__class__.objects.get(pk=conf.part["a"].pk).attendance.point.code == \
        "HN-BD"
    c.post(reverse("conference:move", args=[slug]),
           {"participant": conf.part["a"].pk, "point": "LDLD-31"})
    assert Attendance.objects.get(participant=conf.part["a"]).point.code == "LDLD-31"
    # bad input changes nothing
    c.post(reverse("conference:move", args=[slug]), {"participant": 999999, "point": "X"})
    c.post(reverse("conference:add_coordinator", args=[slug, "HN-BD"]), {"username": "nobody"})
    assert not BridgePoint.objects.get(code="HN-BD").coordinators.exists()
    helper = user("dieuphoi")
    c.post(reverse("conference:add_coordinator", args=[slug, "HN-BD"]),
           {"username": "dieuphoi"})
    assert list(BridgePoint.objects.get(code="HN-BD").coordinators.all()) == [helper]
    c.post(reverse("conference:lock", args=[slug, "HN-BD"]))
    assert BridgePoint.objects.get(code="HN-BD").locked
    page = c.get(reverse("conference:points", args=[slug]))
    assert page.status_code == 200 and "HN-BD" in page.content.decode()


def test_only_organisers_change(conf):  # noqa: F811
    inspector = _client(user(inspector=conf.org.top))
    slug = conf.campaign.slug
    assert inspector.get(reverse("conference:points", args=[slug])).status_code == 200
    assert inspector.post(reverse("conference:assign", args=[slug])).status_code == 404
    assert inspector.post(reverse("conference:lock", args=[slug, "LDLD-01"])).status_code == 404
    assert not BridgePoint.objects.get(code="LDLD-01").locked
