import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from quantriet.core.models import AuditEvent
from quantriet.org import queries, services, tree
from quantriet.org.models import Person, Position, Unit, UnitEvent
from tests.factories import person, unit

D = dt.date(2025, 7, 1)


def test_create_unit_sets_path_search_name_and_audit(org):
    u = Unit.objects.get(code="HN-BD-CS2")
    assert u.path == org.bd.path + tree.encode(u.pk)
    assert u.search_name == "cong doan benh vien xanh pon hn-bd-cs2"
    assert AuditEvent.objects.filter(action="org.unit.create", target_id=str(u.pk)).exists()


def test_create_unit_rejects_duplicates_and_wrong_levels(org):
    with pytest.raises(ValidationError):
        unit("HN-BD", "Trùng mã", "district", org.hn)
    with pytest.raises(ValidationError):
        unit("X1", "Cấp sai", "province", org.bd)  # a province under a district
    with pytest.raises(ValidationError):
        unit("X2", "Gốc thứ hai", "confederation")
    assert not Unit.objects.filter(code__in=["X1", "X2"]).exists()


def test_person_names_are_stored_split_folded_and_sortable(org):
    p = Person.objects.get(pk=org.people["thuy"].pk)
    assert (p.family_name, p.middle_name, p.given_name) == ("Phạm", "Thị", "Thuỷ")
    assert p.search_name == "pham thi thuy"
    assert p.sort_key.isalnum()


def test_person_must_be_in_a_unit_that_accepts_members(org):
    with pytest.raises(ValidationError):
        person(org.bd, "Nguyễn Văn Sai")
    assert org.bd.members.count() == 0


def test_national_id_is_validated_and_unique(org):
    with pytest.raises(ValidationError):
        person(org.cs1, "Sai Số", national_id="12345")
    with pytest.raises(ValidationError):
        person(org.cs1, "Sai Tỉnh", national_id="999185012345")  # no province 999
    with pytest.raises(ValidationError):
        person(org.cs1, "Trùng Số", national_id="001185012345")
    ok = person(org.cs1, "Đúng Số", national_id="001 185 012 346")
    assert ok.national_id == "001185012346"


def test_counters_follow_create_move_and_delete(org):
    assert services.verify_member_counters() == []
    assert queries.subtree_member_total(org.hn) == 5
    assert queries.subtree_member_total(org.top) == 7
    services.move_person(person=org.people["hai"], unit=org.cs2)
    assert queries.subtree_member_total(org.hn) == 6
    services.delete_person(person=org.people["an"])
    assert queries.subtree_member_total(org.hn) == 5
    assert services.verify_member_counters() == []


def test_move_unit_rewrites_the_whole_subtree(org):
    services.move_unit(unit=org.bd, new_parent=org.hp, date=D, note="điều chỉnh")
    bd = Unit.objects.get(pk=org.bd.pk)
    cs1 = Unit.objects.get(pk=org.cs1.pk)
    assert bd.parent_id == org.hp.pk
    assert bd.path == org.hp.path + tree.encode(bd.pk)
    assert cs1.path == bd.path + tree.encode(cs1.pk)
    assert cs1.depth == 3
    assert cs1.province_code == "31"
    assert queries.subtree_member_total(org.hp) == 6
    assert queries.subtree_member_total(Unit.objects.get(pk=org.hn.pk)) == 1
    event = UnitEvent.objects.get(unit=bd, kind="moved")
    assert event.old_parent_id == org.hn.pk and event.new_parent_id == org.hp.pk


def test_move_unit_refuses_cycles_and_level_inversions(org):
    with pytest.raises(ValidationError):
        services.move_unit(unit=org.hn, new_parent=org.cs1)
    with pytest.raises(ValidationError):
        services.move_unit(unit=org.cs1, new_parent=org.cs2)  # grassroots under grassroots
    assert Unit.objects.get(pk=org.hn.pk).path == org.hn.path


def test_merge_moves_members_positions_and_children_and_keeps_history(org):
    target = services.merge_units(sources=[org.hp], target=org.hn, date=D, note="2025")
    hp = Unit.objects.get(pk=org.hp.pk)
    assert hp.valid_to == D - dt.timedelta(days=1)
    assert hp.successor_id == target.pk
    lc = Unit.objects.get(pk=org.lc.pk)
    assert lc.parent_id == target.pk and lc.path.startswith(target.path)
    assert Unit.objects.get(pk=org.cs3.pk).path.startswith(target.path)
    assert queries.subtree_member_total(target) == 7
    assert services.verify_member_counters() == []
    assert UnitEvent.objects.filter(unit=hp, kind="merged", other_unit=target).exists()
    assert UnitEvent.objects.filter(unit=target, kind="absorbed", other_unit=hp).exists()


def test_merging_grassroots_units_moves_people_and_positions(org):
    services.merge_units(sources=[org.cs1], target=org.cs2, date=D)
    assert Person.objects.filter(unit=org.cs2).count() == 4
    assert Position.objects.get(person=org.people["binh"]).unit_id == org.cs2.pk
    assert services.verify_member_counters() == []


def test_merge_refuses_bad_requests(org):
    with pytest.raises(ValidationError):
        services.merge_units(sources=[org.hn], target=org.hn, date=D)
    with pytest.raises(ValidationError):
        services.merge_units(sources=[org.hn], target=org.cs1, date=D)  # target inside source


def test_dissolve_requires_an_empty_unit(org):
    with pytest.raises(ValidationError):
        services.dissolve_unit(unit=org.cs2, date=D)  # still has a member
    services.move_person(person=org.people["thuy"], unit=org.cs1)
    services.dissolve_unit(unit=org.cs2, date=D, note="giải thể")
    assert Unit.objects.get(pk=org.cs2.pk).valid_to == D
    with pytest.raises(ValidationError):
        services.dissolve_unit(unit=org.bd, date=D)  # CS1 is still open


def test_2025_reform_as_a_sequence_of_services(db):
    """63 → 34: provinces merge into the one that keeps the name; districts dissolve
    after their grassroots unions move to the new commune unions."""
    from vietnam_provinces import legacy
    from vietnam_provinces._province_conversion_2025 import OLD_TO_NEW

    top = unit("TLD", "Tổng Liên đoàn Lao động Việt Nam", "confederation")
    old = {}
    for p in legacy.Province.iter_all():
        code = int(p.code)
        old[code] = unit(f"OLD-{code:02d}", f"Liên đoàn Lao động {p.name}", "province", top,
                         province_code=f"{code:02d}")
    # one district with one grassroots union and one member in each old province
    for code, prov in old.items():
        d = unit(f"D-{code:02d}", f"LĐLĐ huyện {code}", "district", prov)
        cs = unit(f"CS-{code:02d}", f"Công đoàn cơ sở {code}", "grassroots", d)
        person(cs, f"Nguyễn Văn Số{code}")
    groups: dict[int, list[int]] = {}
    for code, entry in OLD_TO_NEW.items():
        groups.setdefault(entry.new_provinces[0].code, []).append(code)
    assert len(groups) == 34
    for new_code, olds in groups.items():
        keeper = old[new_code] if new_code in olds else old[olds[0]]
        others = [old[c] for c in olds if old[c].pk != keeper.pk]
        if others:
            services.merge_units(sources=others, target=keeper, date=D)
    # district level abolished: commune unions take the grassroots unions
    for code in old:
        d = Unit.objects.get(code=f"D-{code:02d}")
        commune = unit(f"X-{code:02d}", f"Công đoàn xã {code}", "commune", d.parent)
        services.move_unit(unit=Unit.objects.get(code=f"CS-{code:02d}"), new_parent=commune,
                           date=D)
        services.dissolve_unit(unit=d, date=D)
    current = Unit.objects.filter(level__code="province", valid_to__isnull=True)
    assert current.count() == 34
    assert Unit.objects.filter(level__code="province").count() == 63  # history kept
    assert queries.subtree_member_total(top) == 63
    assert services.verify_member_counters() == []
    assert not Unit.objects.filter(level__code="district", valid_to__isnull=True).exists()


def test_org_verify_command_finds_and_fixes_drift(org):
    from django.core.management import CommandError, call_command

    call_command("org-verify")
    Unit.objects.filter(pk=org.cs1.pk).update(direct_members=99)
    with pytest.raises(CommandError):
        call_command("org-verify")
    call_command("org-verify", "--fix")
    assert Unit.objects.get(pk=org.cs1.pk).direct_members == 3
