import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import user
from tests.permissions import check_matrix


def _client(account):
    c = Client()
    c.force_login(account)
    return c


def test_unit_page_matrix(org):
    check_matrix(reverse("org:unit", args=[org.bd.code]), unit=org.bd, ancestor=org.hn,
                 elsewhere=org.hp)


@pytest.mark.parametrize("tab", ["children", "members", "positions", "history"])
def test_unit_tabs_matrix(org, tab):
    check_matrix(reverse("org:unit", args=[org.cs1.code]) + f"?tab={tab}", unit=org.cs1,
                 ancestor=org.bd, elsewhere=org.lc)


def test_children_partial_matrix(org):
    check_matrix(reverse("org:unit_children", args=[org.bd.code]), unit=org.bd,
                 ancestor=org.top, elsewhere=org.hp)


def test_person_page_matrix(org):
    p = org.people["an"]
    check_matrix(reverse("org:person", args=[p.pk]), unit=org.cs1, ancestor=org.hn,
                 elsewhere=org.hp)


def test_members_hidden_from_roles_without_people_rights(org):
    reviewer = _client(user(reviewer=org.hn))
    assert reviewer.get(reverse("org:unit", args=[org.cs1.code])).status_code == 200
    assert reviewer.get(reverse("org:unit", args=[org.cs1.code]) + "?tab=members").status_code == 404
    assert reviewer.get(reverse("org:person", args=[org.people["an"].pk])).status_code == 404


def test_participant_sees_own_record_only(org):
    account = user()
    from quantriet.org.models import Person

    Person.objects.filter(pk=org.people["an"].pk).update(user=account)
    c = _client(account)
    assert c.get(reverse("org:person", args=[org.people["an"].pk])).status_code == 200
    assert c.get(reverse("org:person", args=[org.people["binh"].pk])).status_code == 404


def test_tree_shows_only_scope_roots(org):
    c = _client(user(unit_admin=org.hn))
    body = c.get(reverse("org:tree")).content.decode()
    assert "Liên đoàn Lao động Thành phố Hà Nội" in body
    assert "Hải Phòng" not in body


def test_unit_search_ignores_diacritics_and_scope(org):
    c = _client(user(unit_admin=org.hn))
    body = c.get(reverse("org:tree"), {"q": "benh vien xanh pon"}).content.decode()
    assert "Công đoàn Bệnh viện Xanh Pôn" in body
    # a unit of another province is never found, even by exact name
    resp = c.get(reverse("org:tree"), {"q": "Lê Chân"})
    assert resp.context["page"].paginator.count == 0
    resp = c.get(reverse("org:tree"), {"q": "le chan"}, HTTP_HX_REQUEST="true")
    assert "Lê Chân" not in resp.content.decode()


@pytest.mark.parametrize("query,expected", [
    ("nguyen van", ["Nguyễn Văn Bình"]),
    ("hoa", ["Lê Thị Hoà"]),
    ("hòa", ["Lê Thị Hoà"]),
    ("THUY", ["Phạm Thị Thuỷ"]),
    ("thủy", ["Phạm Thị Thuỷ"]),
])
def test_member_search_is_diacritic_and_tone_placement_insensitive(org, query, expected):
    c = _client(user(unit_admin=org.hn))
    resp = c.get(reverse("org:unit", args=[org.hn.code]), {"tab": "members", "q": query})
    found = [p.full_name for p in resp.context["page"].object_list]
    assert found == expected


def test_member_list_sorts_the_vietnamese_way(org):
    c = _client(user(unit_admin=org.top))
    resp = c.get(reverse("org:unit", args=[org.top.code]), {"tab": "members"})
    names = [p.given_name for p in resp.context["page"].object_list]
    assert names == ["An", "Bình", "Chung", "Hải", "Hoà", "Hòa", "Thuỷ"] or names == [
        "An", "Bình", "Chung", "Hải", "Hòa", "Hoà", "Thuỷ"]


def test_unit_page_shows_subtree_counts(org):
    c = _client(user(unit_admin=org.hn))
    resp = c.get(reverse("org:unit", args=[org.hn.code]))
    assert resp.context["subtree_members"] == 5
    rows = {u.code: u.subtree_members for u in resp.context["page"].object_list}
    assert rows == {"HN-BD": 4, "HN-CS": 1}


def test_unit_page_query_count_does_not_grow_with_children(org, django_assert_max_num_queries):
    from tests.factories import unit

    c = _client(user(unit_admin=org.hn))
    url = reverse("org:unit", args=[org.bd.code])
    c.get(url)
    for i in range(15):
        unit(f"EXTRA-{i}", f"Công đoàn cơ sở thêm {i}", "grassroots", org.bd)
    with django_assert_max_num_queries(14):  # 12 + the unread notifications in the menu
        # + the unit's action plans
        c.get(url)


def test_home_lists_grants(org):
    c = _client(user(inspector=org.hp))
    body = c.get(reverse("home")).content.decode()
    assert "Hải Phòng" in body


def test_ui_is_vietnamese_by_default_and_english_on_request(org):
    c = _client(user(unit_admin=org.hn))
    assert "Tổ chức" in c.get(reverse("org:tree")).content.decode()
    c.post(reverse("set_language"), {"language": "en", "next": "/org/"})
    assert "Organisation" in c.get(reverse("org:tree")).content.decode()
