"""Sort keys must order the same in the database as in Python, whatever its collation."""

import pytest
from django.db import connection

from quantriet.text import person_sort_key

NAMES = [
    "Trần Thị An", "Phạm Anh", "Lê Văn Ánh", "Nguyễn Văn Bình", "Vũ Văn Dũng", "Đỗ Thị Đào",
    "Ngô Thị Hòa", "Lê Thị Hoà", "Hoàng Văn Hoàn", "Phan Thị Thủy", "Bùi Thuỷ", "Hồ Văn Ửng",
    "Dương Thị Ánh Tuyết", "Lý Văn A", "Nguyễn Văn Ơn", "Trần Văn Ô", "Lê Thị Ả", "Mai Thị Ạ",
]


def _collations():
    if connection.vendor == "sqlite":
        return [None]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT collname FROM pg_collation WHERE collname IN "
            "('en-US-x-icu', 'en_US.utf8', 'en_US', 'C', 'vi-VN-x-icu', 'und-x-icu')"
        )
        return [r[0] for r in cur.fetchall()] + [None]


@pytest.mark.django_db
def test_database_order_equals_python_order():
    keys = [person_sort_key(n) for n in NAMES]
    expected = sorted(keys)
    collations = _collations()
    if connection.vendor == "postgresql":
        assert "en-US-x-icu" in collations, "PostgreSQL without ICU: check another collation"
    with connection.cursor() as cur:
        values = " UNION ALL ".join(["SELECT %s AS k"] * len(keys))
        for coll in collations:
            order = f'k COLLATE "{coll}"' if coll else "k"
            cur.execute(f"SELECT k FROM ({values}) t ORDER BY {order}", keys)  # noqa: S608
            assert [r[0] for r in cur.fetchall()] == expected, coll
