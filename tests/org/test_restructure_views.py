import datetime as dt

from django.test import Client
from django.urls import reverse

from quantriet.org.models import Unit
from tests.factories import user
from tests.permissions import check_matrix


def _client(**grants):
    c = Client()
    c.force_login(user(**grants))
    return c


def test_restructure_page_matrix(org):
    check_matrix(reverse("org:unit_restructure", args=[org.cs2.code]), unit=org.cs2,
                 ancestor=org.bd, elsewhere=org.lc, unit_itself_status=404)


def test_inspector_cannot_restructure(org):
    c = _client(inspector=org.top)
    assert c.get(reverse("org:unit_restructure", args=[org.bd.code])).status_code == 404


def test_move_through_the_page(org):
    c = _client(organiser=org.top)
    url = reverse("org:unit_restructure", args=[org.cs2.code])
    resp = c.post(url, {"action": "move", "target": "hp-lc", "date": "01/07/2025",
                        "note": "QĐ 12"})
    assert resp.status_code == 302
    cs2 = Unit.objects.get(pk=org.cs2.pk)
    assert cs2.parent_id == org.lc.pk
    assert cs2.events.get(kind="moved").date == dt.date(2025, 7, 1)


def test_merge_and_dissolve_through_the_page(org):
    c = _client(unit_admin=org.hn)
    resp = c.post(reverse("org:unit_restructure", args=[org.cs2.code]),
                  {"action": "merge", "target": "HN-BD-CS1", "date": "2025-07-01"})
    assert resp.status_code == 302 and resp["Location"].endswith("/org/u/HN-BD-CS1/")
    assert Unit.objects.get(pk=org.cs2.pk).successor_id == org.cs1.pk
    assert org.cs1.members.count() == 4


def test_bad_input_changes_nothing(org):
    c = _client(unit_admin=org.hn)
    url = reverse("org:unit_restructure", args=[org.bd.code])
    before = list(Unit.objects.values_list("code", "path", "valid_to"))
    # a target outside the scope is "not found", a wrong date is refused,
    # dissolving a unit with open children is refused with the reason
    for data in (
        {"action": "move", "target": "LDLD-31", "date": "01/07/2025"},
        {"action": "move", "target": "", "date": "01/07/2025"},
        {"action": "merge", "target": "HN-CS", "date": "31/02/2025"},
        {"action": "dissolve", "date": "01/07/2025"},
        {"action": "explode", "date": "01/07/2025"},
    ):
        resp = c.post(url, data)
        assert resp.status_code == 200, data
        assert resp.context["form"].errors, data
    assert list(Unit.objects.values_list("code", "path", "valid_to")) == before
    resp = c.post(url, {"action": "dissolve", "date": "01/07/2025"})
    assert "open child units" in resp.content.decode() or "đơn vị trực thuộc" in resp.content.decode()
