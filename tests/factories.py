"""Test data built through the services, never by writing rows directly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import count

from django.contrib.auth import get_user_model

from quantriet.org import services
from quantriet.org.models import PositionType, Unit, UnitLevel

_seq = count(1)


def reference_data() -> None:
    """Levels and position types come from a data migration; transactional tests flush
    every table afterwards, so put them back when they are gone."""
    if not UnitLevel.objects.exists():
        from django.apps import apps

        from quantriet.org.seed import seed

        seed(apps)


def level(code: str) -> UnitLevel:
    reference_data()
    return UnitLevel.objects.get(code=code)


def unit(code: str, name: str, level_code: str, parent: Unit | None = None, **kw) -> Unit:
    return services.create_unit(code=code, name=name, level=level(level_code), parent=parent, **kw)


def person(unit: Unit, full_name: str, **kw):
    return services.create_person(unit=unit, full_name=full_name, **kw)


def position(person, unit: Unit, type_code: str, **kw):
    return services.add_position(
        person=person, unit=unit, type=PositionType.objects.get(code=type_code), **kw
    )


def user(username: str | None = None, *, staff: bool = False, superuser: bool = False, **grants):
    """An account; keyword arguments ``role=unit`` grant roles (a list of units allowed)."""
    name = username or f"user{next(_seq)}"
    User = get_user_model()
    if superuser:
        u = User.objects.create_superuser(name, f"{name}@example.org", "pw-for-tests-123")
    else:
        u = User.objects.create_user(name, f"{name}@example.org", "pw-for-tests-123",
                                     is_staff=staff)
    for role, units in grants.items():
        for target in units if isinstance(units, (list, tuple)) else [units]:
            services.grant_role(user=u, unit=target, role=role)
    return u


@dataclass
class OrgTree:
    """TLD ─┬─ HN (province) ─┬─ BD (district) ─┬─ CS1 (grassroots: 3 members)
            │                 │                 └─ CS2 (grassroots: 1 member)
            │                 └─ CSHN (grassroots directly under HN: 1 member)
            └─ HP (province) ─── LC (district) ─── CS3 (grassroots: 2 members)
    """

    top: Unit
    hn: Unit
    bd: Unit
    cs1: Unit
    cs2: Unit
    cshn: Unit
    hp: Unit
    lc: Unit
    cs3: Unit
    people: dict[str, object] = field(default_factory=dict)

    @classmethod
    def build(cls) -> OrgTree:
        top = unit("TLD", "Tổng Liên đoàn Lao động Việt Nam", "confederation")
        hn = unit("LDLD-01", "Liên đoàn Lao động Thành phố Hà Nội", "province", top,
                  province_code="01", province_name="Hà Nội")
        bd = unit("HN-BD", "Liên đoàn Lao động quận Ba Đình", "district", hn)
        cs1 = unit("HN-BD-CS1", "Công đoàn cơ sở Trường THPT Phan Đình Phùng", "grassroots", bd,
                   member_count=2500)
        cs2 = unit("HN-BD-CS2", "Công đoàn Bệnh viện Xanh Pôn", "grassroots", bd,
                   member_count=800)
        cshn = unit("HN-CS", "Công đoàn cơ sở Cơ quan LĐLĐ Hà Nội", "grassroots", hn)
        hp = unit("LDLD-31", "Liên đoàn Lao động Thành phố Hải Phòng", "province", top,
                  province_code="31", province_name="Hải Phòng")
        lc = unit("HP-LC", "Liên đoàn Lao động quận Lê Chân", "district", hp)
        cs3 = unit("HP-LC-CS3", "Công đoàn Công ty TNHH May Thủy Hòa", "grassroots", lc)
        t = cls(top, hn, bd, cs1, cs2, cshn, hp, lc, cs3)
        t.people = {
            "an": person(cs1, "Trần Thị An", gender="F", birth_date=dt.date(1985, 3, 2),
                         national_id="001185012345"),
            "binh": person(cs1, "Nguyễn Văn Bình", gender="M"),
            "hoa": person(cs1, "Lê Thị Hoà", gender="F"),
            "thuy": person(cs2, "Phạm Thị Thuỷ", gender="F"),
            "chu": person(cshn, "Đỗ Văn Chung", gender="M"),
            "hai": person(cs3, "Vũ Văn Hải", gender="M"),
            "hoa2": person(cs3, "Ngô Thị Hòa", gender="F"),
        }
        position(t.people["binh"], cs1, "chu_tich")
        position(t.people["chu"], hn, "uv_bch", full_time=True)
        return t
