"""Tests for split_full_name."""

import unicodedata

import pytest

from quantriet.text import split_full_name


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("Nguyễn Văn An", ("Nguyễn", "Văn", "An")),
        ("Trần Thị Minh Khai", ("Trần", "Thị Minh", "Khai")),
        ("Phạm Anh", ("Phạm", "", "Anh")),
        ("An", ("", "", "An")),
        ("", ("", "", "")),
        ("   ", ("", "", "")),
        ("  Lê   Văn\tÁnh ", ("Lê", "Văn", "Ánh")),
        (unicodedata.normalize("NFD", "Đỗ Thị Đào"), ("Đỗ", "Thị", "Đào")),
        ("Tôn Thất Thuyết", ("Tôn Thất", "", "Thuyết")),
        ("Tôn Nữ Thị Hoa", ("Tôn Nữ", "Thị", "Hoa")),
        ("TÔN NỮ THỊ HOA", ("TÔN NỮ", "THỊ", "HOA")),
        ("Ton Nu Thi Hoa", ("Ton Nu", "Thi", "Hoa")),
        ("Âu Dương Phong", ("Âu Dương", "", "Phong")),
        ("Công Tôn Sách", ("Công Tôn", "", "Sách")),
        ("Hoàng Phủ Ngọc Tường", ("Hoàng Phủ", "Ngọc", "Tường")),
        ("Tư Mã Ý", ("Tư Mã", "", "Ý")),
        ("Công Tằng Tôn Nữ Thị Xuân", ("Công Tằng Tôn Nữ", "Thị", "Xuân")),
        ("Tôn Nữ", ("Tôn", "", "Nữ")),
        ("Tôn Văn Nữ", ("Tôn", "Văn", "Nữ")),
        ("Hoàng Văn Phủ", ("Hoàng", "Văn", "Phủ")),
        ("Tú Mã Lực", ("Tú", "Mã", "Lực")),
    ],
)
def test_split_full_name(full: str, expected: tuple[str, str, str]) -> None:
    assert split_full_name(full) == expected
