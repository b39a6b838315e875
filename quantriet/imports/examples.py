"""Example import files built from real data."""

from __future__ import annotations

from collections.abc import Iterator

from quantriet.imports.columns import COLUMNS

REFORM_DATE = "01/07/2025"
KEYS = ["code", "name", "parent_code", "level", "province", "merged_into", "dissolved_on"]


def _federation(name: str, city: bool, short: str) -> str:
    return "Liên đoàn Lao động " + (name if city else "tỉnh " + short)


def _short(name: str) -> str:
    for prefix in ("Thành phố ", "Tỉnh "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def reform_2025_rows() -> Iterator[list[str]]:
    """The 2025 merger of provincial federations (63 → 34) as a units sheet.

    Codes are those of the demo organisation (``LDLD-<two-digit province code>``). Each new
    province keeps the federation of the old province whose code it took; the others are
    merged into it on 01/07/2025 (``merged_into`` with ``dissolved_on`` as the effective
    date). Mapping: the ``vietnam-provinces`` package's 2025 conversion table.
    """
    from vietnam_provinces import Province, legacy
    from vietnam_provinces._province_conversion_2025 import OLD_TO_NEW

    old = {int(p.code): p for p in legacy.Province.iter_all()}
    new = {int(p.code): p for p in Province.iter_all()}
    groups: dict[int, list[int]] = {}
    for old_code, entry in sorted(OLD_TO_NEW.items()):
        groups.setdefault(entry.new_provinces[0].code, []).append(old_code)
    for new_code in sorted(groups):
        olds = groups[new_code]
        keeper = new_code if new_code in olds else olds[0]
        p = new[new_code]
        city = "thành phố" in str(p.division_type.value)
        yield [f"LDLD-{keeper:02d}", _federation(p.name, city, _short(p.name)), "TLD",
               "province", _short(p.name), "", ""]
        for code in olds:
            if code == keeper:
                continue
            o = old[code]
            ocity = "thành phố" in str(o.division_type.value)
            yield [f"LDLD-{code:02d}", _federation(o.name, ocity, _short(o.name)), "TLD",
                   "province", _short(o.name), f"LDLD-{keeper:02d}", REFORM_DATE]


def reform_2025_header() -> list[str]:
    by_key = {c.key: c.header for c in COLUMNS["units"]}
    return [by_key[k] for k in KEYS]
