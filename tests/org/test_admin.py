"""The admin site is scoped like every other page."""

from django.test import Client
from django.urls import reverse

from quantriet.org.models import Person, Unit
from tests.factories import user
from tests.permissions import check_matrix


def _staff_client(**grants):
    c = Client()
    c.force_login(user(staff=True, **grants))
    return c


def test_admin_change_page_matrix(org):
    url = reverse("admin:org_unit_change", args=[org.bd.pk])
    check_matrix(url, unit=org.bd, ancestor=org.hn, elsewhere=org.hp, staff=True,
                 login_prefix="/admin/login/")


def test_admin_person_change_page_matrix(org):
    url = reverse("admin:org_person_change", args=[org.people["an"].pk])
    check_matrix(url, unit=org.cs1, ancestor=org.top, elsewhere=org.lc, staff=True,
                 login_prefix="/admin/login/")


def test_admin_changelist_shows_only_the_subtree(org):
    c = _staff_client(unit_admin=org.hn)
    resp = c.get(reverse("admin:org_unit_changelist"))
    assert resp.status_code == 200
    codes = {u.code for u in resp.context["cl"].result_list}
    assert codes == {"LDLD-01", "HN-BD", "HN-BD-CS1", "HN-BD-CS2", "HN-CS"}
    resp = c.get(reverse("admin:org_person_changelist"), {"q": "hoa"})
    assert [p.full_name for p in resp.context["cl"].result_list] == ["Lê Thị Hoà"]


def test_inspector_reads_but_cannot_change(org):
    c = _staff_client(inspector=org.hn)
    url = reverse("admin:org_unit_change", args=[org.bd.pk])
    resp = c.get(url)
    assert resp.status_code == 200
    assert not resp.context["has_change_permission"]
    resp = c.post(url, {"name": "Đổi tên"})
    assert resp.status_code == 403
    assert Unit.objects.get(pk=org.bd.pk).name == "Liên đoàn Lao động quận Ba Đình"


def test_admin_creates_units_and_people_through_the_services(org):
    c = _staff_client(unit_admin=org.hn)
    resp = c.post(reverse("admin:org_unit_add"), {
        "code": "HN-BD-CS9", "name": "Công đoàn cơ sở  Trường Tiểu học Kim Đồng",
        "level": org.cs1.level.pk, "parent": org.bd.pk, "province_code": "",
        "province_name": "", "member_count": "40", "valid_from": "",
    })
    assert resp.status_code == 302, resp.content.decode()[:2000]
    new = Unit.objects.get(code="HN-BD-CS9")
    assert new.path.startswith(org.bd.path) and new.name.count("  ") == 0
    resp = c.post(reverse("admin:org_person_add"), {
        "family_name": "Hoàng", "middle_name": "Thị", "given_name": "Mai", "gender": "F",
        "birth_date": "", "national_id": "", "union_card": "", "member_code": "",
        "email": "", "phone": "", "unit": new.pk, "user": "",
    })
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert Person.objects.get(given_name="Mai").search_name == "hoang thi mai"
    assert Unit.objects.get(pk=new.pk).direct_members == 1


def test_admin_rejects_a_unit_outside_the_scope(org):
    c = _staff_client(unit_admin=org.hn)
    resp = c.post(reverse("admin:org_unit_add"), {
        "code": "HP-X", "name": "Ngoài phạm vi", "level": org.cs1.level.pk,
        "parent": org.lc.pk, "member_count": "",
    })
    assert resp.status_code == 200  # form error: the parent is not a valid choice
    assert not Unit.objects.filter(code="HP-X").exists()


def test_admin_rejects_a_member_in_a_non_grassroots_unit(org):
    c = _staff_client(unit_admin=org.hn)
    resp = c.post(reverse("admin:org_person_add"), {
        "given_name": "Sai", "unit": org.bd.pk, "national_id": "",
    })
    assert resp.status_code == 200
    assert not Person.objects.filter(given_name="Sai").exists()
