"""The demo command: structure, counters, paths, determinism, accounts, refusals.

The command runs at the hidden "tiny" scale (the whole structure, a few thousand
people) to keep each test at a few seconds; the planner is checked at the real scales
without touching the database.
"""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from quantriet.org import demo, services, tree
from quantriet.org.models import Grant, Person, Position, Unit
from quantriet.org.validators import clean_national_id, national_id_matches
from quantriet.text import fold, nfc, sort_key


def run_demo(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("demo", "--scale", "tiny", *args, stdout=out, stderr=err)
    return out.getvalue()


def names():
    return list(Person.objects.order_by("id").values_list("full_name", flat=True))


def assert_consistent():
    # every person sits in a unit that accepts members
    assert not Person.objects.exclude(unit__level__accepts_members=True).exists()
    # the counters equal the real counts
    assert services.verify_member_counters() == []
    # paths follow the parents
    for pk, parent_path, path, depth in Unit.objects.values_list(
        "pk", "parent__path", "path", "depth"
    ):
        assert path == (parent_path or "") + tree.encode(pk)
        assert depth == tree.depth_of(path)


@pytest.mark.django_db
def test_structure_2025():
    out = run_demo("--seed", "3")
    assert "demo12345" in out
    top = Unit.objects.get(parent__isnull=True)
    assert (top.code, top.name, top.level.code) == (
        "TLD", "Tổng Liên đoàn Lao động Việt Nam", "confederation"
    )
    provinces = Unit.objects.filter(level__code="province")
    assert provinces.count() == 34
    assert set(provinces.values_list("parent", flat=True)) == {top.pk}
    hn = Unit.objects.get(code="LDLD-01")
    assert hn.name == "Liên đoàn Lao động Thành phố Hà Nội"
    assert (hn.province_code, hn.province_name) == ("01", "Thành phố Hà Nội")
    assert Unit.objects.get(code="LDLD-04").name == "Liên đoàn Lao động tỉnh Cao Bằng"
    assert Unit.objects.filter(level__code="central_sector").count() == 20
    assert Unit.objects.filter(level__code="corporation").count() == 10
    assert Unit.objects.filter(name="Công đoàn Giáo dục Việt Nam").exists()
    assert Unit.objects.filter(name="Công đoàn Dầu khí Việt Nam").exists()
    # real wards: Hà Nội's first ward is Ba Đình
    assert Unit.objects.filter(level__code="commune", name="Công đoàn phường Ba Đình",
                               parent=hn).exists()
    assert not Unit.objects.filter(level__code="district").exists()
    assert Unit.objects.filter(level__code="industrial_zone").count() == 34
    # the federation's own grassroots union holds its staff
    office = Unit.objects.get(
        parent=hn, name="Công đoàn cơ sở Cơ quan Liên đoàn Lao động Thành phố Hà Nội"
    )
    assert office.level.code == "grassroots" and office.direct_members > 0
    assert_consistent()
    # grassroots unions declare their member count; some have at least 2,000 members
    grassroots = Unit.objects.filter(level__code="grassroots")
    assert not grassroots.filter(member_count__isnull=True).exists()
    big = grassroots.filter(member_count__gte=2000)
    assert big.exists()
    assert Position.objects.filter(unit__in=big, type__code="chu_tich").exists()
    # every grassroots union has a chair and a vice-chair
    for code in ("chu_tich", "pho_chu_tich"):
        held = set(Position.objects.filter(type__code=code, unit__level__code="grassroots")
                   .values_list("unit", flat=True))
        assert held == set(grassroots.values_list("pk", flat=True))
    # the provincial federation has its committees and full-time cadres
    at_hn = set(Position.objects.filter(unit=hn).values_list("type__code", flat=True))
    assert {"chu_tich", "pho_chu_tich", "uv_ban_thuong_vu", "uv_bch", "chu_nhiem_ubkt",
            "uv_ubkt", "can_bo_chuyen_trach"} <= at_hn
    assert Position.objects.filter(unit=hn, type__code="can_bo_chuyen_trach",
                                   full_time=True).exists()
    assert Position.objects.filter(unit=hn, managing_unit=top).exists()


@pytest.mark.django_db
def test_people_follow_the_service_rules():
    run_demo("--seed", "4")
    people = list(Person.objects.all()[:3000])
    assert len(people) > 1000
    nids = [p.national_id for p in people if p.national_id]
    assert len(nids) == len(set(nids)) and len(nids) > 0.9 * len(people)
    for p in people:
        full = " ".join(x for x in (p.family_name, p.middle_name, p.given_name) if x)
        assert p.full_name == nfc(full)
        assert p.search_name == fold(p.full_name)
        assert p.sort_key == sort_key(p.given_name, p.family_name, p.middle_name)
        assert p.member_code.startswith("DV")
        assert p.gender in ("M", "F")
        assert 1965 <= p.birth_date.year <= 2004
        if p.national_id:
            assert clean_national_id(p.national_id) == p.national_id
            assert national_id_matches(p.national_id, p.birth_date, p.gender)
    families = [p.family_name for p in people]
    assert 0.3 < families.count("Nguyễn") / len(families) < 0.46
    # old-style tone placement is present, and folded search finds both spellings
    assert Person.objects.filter(given_name__in=["Hoà", "Thuỷ", "Thuý"]).exists()
    assert Person.objects.search("hoa").filter(given_name="Hoà").exists()


@pytest.mark.django_db
def test_structure_2018():
    run_demo("--structure", "2018")
    assert Unit.objects.filter(level__code="province").count() == 63
    assert not Unit.objects.filter(level__code="commune").exists()
    hn = Unit.objects.get(code="LDLD-01")
    assert Unit.objects.filter(level__code="district", parent=hn,
                               name="Liên đoàn Lao động quận Ba Đình").exists()
    assert_consistent()


@pytest.mark.django_db
def test_same_seed_same_names():
    run_demo("--seed", "7")
    first = names()
    units = list(Unit.objects.order_by("id").values_list("code", "name", "path"))
    run_demo("--seed", "7", "--flush")
    assert names() == first
    assert list(Unit.objects.order_by("id").values_list("code", "name", "path")) == units
    run_demo("--seed", "8", "--flush")
    assert names() != first
    assert_consistent()


@pytest.mark.django_db
def test_demo_accounts_and_grants():
    out = run_demo()
    User = get_user_model()
    for username in demo.DEMO_USERNAMES:
        assert username in out
        user = User.objects.get(username=username)
        assert user.check_password("demo12345")
    assert User.objects.get(username="admin").is_superuser
    tinh = User.objects.get(username="tinh")
    assert tinh.is_staff and not tinh.is_superuser
    assert set(Grant.objects.filter(user=tinh).values_list("unit__code", "role")) == {
        ("LDLD-01", "unit_admin"), ("LDLD-01", "organiser")
    }
    assert set(Grant.objects.filter(user__username="kiemtra")
               .values_list("unit__code", "role")) == {("LDLD-01", "inspector")}
    coso_grants = list(Grant.objects.filter(user__username="coso"))
    assert len(coso_grants) == 1 and coso_grants[0].role == "unit_admin"
    coso_unit = coso_grants[0].unit
    assert coso_unit.level.code == "grassroots"
    assert coso_unit.is_within(Unit.objects.get(code="LDLD-01"))
    doanvien = User.objects.get(username="doanvien")
    assert not Grant.objects.filter(user=doanvien).exists()
    assert doanvien.person.unit == coso_unit


@pytest.mark.django_db
def test_refuses_a_database_with_units():
    run_demo()
    n = Unit.objects.count()
    with pytest.raises(CommandError, match="--flush"):
        run_demo()
    assert "not loaded" in run_demo("--if-empty")
    assert Unit.objects.count() == n


@pytest.mark.django_db
def test_full_scale_refuses_sqlite(monkeypatch):
    # the refusal depends only on the vendor the connection reports: checked on every
    # database by reporting SQLite (nothing is written before the check)
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("demo", "--scale", "full", stdout=io.StringIO(), stderr=io.StringIO())
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_copy_loader_matches_the_orm_loader():
    if connection.vendor != "postgresql":
        # COPY is PostgreSQL's: elsewhere the method is refused and nothing is written
        with pytest.raises(CommandError, match="needs PostgreSQL"):
            run_demo("--seed", "9", "--method", "copy")
        assert not Unit.objects.exists() and not Person.objects.exists()
        return
    run_demo("--seed", "9", "--method", "copy")
    copied = list(Person.objects.order_by("id").values_list(
        "id", "member_code", "full_name", "search_name", "sort_key", "national_id",
        "birth_date", "unit_id"))
    positions = Position.objects.count()
    assert_consistent()
    run_demo("--seed", "9", "--method", "orm", "--flush")
    shift = Person.objects.order_by("id").values_list("id", flat=True).first() - copied[0][0]
    orm = [(r[0] - shift, *r[1:]) for r in Person.objects.order_by("id").values_list(
        "id", "member_code", "full_name", "search_name", "sort_key", "national_id",
        "birth_date", "unit_id")]
    assert [r[2:7] for r in orm] == [r[2:7] for r in copied]
    assert Position.objects.count() == positions


def test_plans_at_real_scales():
    """The planner alone (no database): sizes of the small and full organisations."""
    small = demo.make_plan("small", "2025", seed=1)
    assert 17_000 <= small.people <= 23_000
    full = demo.make_plan("full", "2025", seed=1)
    grassroots = full.grassroots
    assert 11_500_000 <= full.people <= 12_500_000
    assert 120_000 <= len(grassroots) <= 135_000
    assert 125_000 <= len(full.units) <= 140_000
    assert 85 <= full.people / len(grassroots) <= 105
    big = sum(1 for u in grassroots if u.size >= 2000)
    assert 0.01 <= big / len(grassroots) <= 0.05
    # preorder ids: path order is id order
    paths = [u.path for u in full.units]
    assert paths == sorted(paths)
    old = demo.make_plan("full", "2018", seed=1)
    assert sum(1 for u in old.units if u.level == "district") == 696
