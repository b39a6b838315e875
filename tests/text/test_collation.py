"""Tests for sort_key and person_sort_key."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantriet.text import MAX_SORT_KEY_LENGTH, person_sort_key, sort_key

FAST = settings(max_examples=150, deadline=None, database=None)
KEY_RE = re.compile(r"[0-9a-z]*")

# Independent reference: letter rank in the Vietnamese alphabet, and tone number
# (0 ngang, 1 huyền, 2 hỏi, 3 ngã, 4 sắc, 5 nặng) given by position in each row.
REF_ORDER = "0123456789aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
REF_TONED = {
    "a": "aàảãáạ",
    "ă": "ăằẳẵắặ",
    "â": "âầẩẫấậ",
    "e": "eèẻẽéẹ",
    "ê": "êềểễếệ",
    "i": "iìỉĩíị",
    "o": "oòỏõóọ",
    "ô": "ôồổỗốộ",
    "ơ": "ơờởỡớợ",
    "u": "uùủũúụ",
    "ư": "ưừửữứự",
    "y": "yỳỷỹýỵ",
}
REF_CHARS: dict[str, tuple[int, int]] = {c: (REF_ORDER.index(c), 0) for c in REF_ORDER}
for base, row in REF_TONED.items():
    for tone, char in enumerate(row):
        REF_CHARS[char] = (REF_ORDER.index(base), tone)

Part = tuple[tuple[tuple[int, ...], ...], tuple[int, ...]]


def ref_part(text: str) -> Part:
    """(letters of each word, tone of each word) of one name part."""
    words = [[REF_CHARS[c] for c in word] for word in text.lower().split()]
    letters = tuple(tuple(rank for rank, _ in word) for word in words)
    tones = tuple(max(tone for _, tone in word) for word in words)
    return (letters, tones)


def ref_key(given: str, family: str, middle: str) -> tuple[Part, Part, Part]:
    """Reference Vietnamese ordering: given, family, middle; letters before tones."""
    return (ref_part(given), ref_part(family), ref_part(middle))


SYLLABLES = (
    "An Anh Ánh Ăn Ân Ấn Ảnh Bình Binh Bính Dũng Dung Dụng Đào Đạo Đao Hoa Hòa Hoà Họa "
    "Hoan Hoàn Thủy Thuỷ Thụy Khỏe Nguyễn Nguyên Văn Vân Thị Thi Lê Trần Phạm Vũ Võ Đỗ Do "
    "Ngọc Ngoc Minh Mính Hương Hường Hưng Yến Yên Út Ư U Ưu Giang Già Gia Quang Quảng Tư Tú"
).split()
CASES = ["lower", "upper", "title", "same"]


def recase(word: str, case: str) -> str:
    """Apply a case variant to `word`."""
    return word if case == "same" else str(getattr(word, case)())


syllable = st.builds(recase, st.sampled_from(SYLLABLES), st.sampled_from(CASES))


def part(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """A name part of a few syllables."""
    return st.lists(syllable, min_size=min_size, max_size=max_size).map(" ".join)


person = st.tuples(part(0, 2), part(0, 2), part(0, 3))


def sign[T: (str, tuple[Part, Part, Part])](a: T, b: T) -> int:
    """-1, 0 or 1 as a is smaller, equal or bigger than b."""
    return int(a > b) - int(a < b)


def test_example_list_order() -> None:
    names = [
        "Nguyễn Văn Bình",
        "Trần Thị An",
        "Lê Văn Ánh",
        "Phạm Anh",
        "Đỗ Thị Đào",
        "Vũ Văn Dũng",
    ]
    ordered = sorted(names, key=person_sort_key)
    assert [name.split()[-1] for name in ordered] == ["An", "Anh", "Ánh", "Bình", "Dũng", "Đào"]


@pytest.mark.parametrize(
    "ordered",
    [
        ["An", "Anh", "Ánh", "Ăn", "Ân", "Ấn", "Bình"],
        ["Dung", "Dũng", "Dụng", "Đao", "Đào", "Đạo", "Em"],
        ["Hoa", "Hòa", "Hỏa", "Hóa", "Họa", "Hoan", "Hoàn"],
        ["O", "Ô", "Ơ", "U", "Ư", "V", "X", "Y"],
        ["9", "A", "F", "J", "W", "Z", "Ω"],
        ["Uyên", "Uyển", "Uyến"],
    ],
)
def test_given_name_order(ordered: list[str]) -> None:
    keys = [sort_key(name) for name in ordered]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_parts_are_compared_in_order() -> None:
    assert sort_key("An", "Trần") < sort_key("Anh", "Lê")  # given name first
    assert sort_key("An", "Lê") < sort_key("An", "Trần")  # then family name
    assert sort_key("An", "Lê", "Thị") < sort_key("An", "Lê", "Văn")  # then middle name
    assert sort_key("An", "Lê") < sort_key("An", "Lê", "Thị")  # no middle name first
    assert sort_key("An") < sort_key("An", "A")
    assert sort_key("Anh", "Phạm") < sort_key("Ánh", "Lê")  # tones of the given name first
    assert sort_key("An", "Lê", "Văn An") < sort_key("An", "Lê", "Văn Anh")


def test_case_and_tone_style_insensitive() -> None:
    assert sort_key("HÒA", "NGUYỄN") == sort_key("hoà", "nguyễn") == sort_key("Hòa", "Nguyễn")
    assert person_sort_key("  Nguyễn   Văn Hoà ") == sort_key("Hòa", "Nguyễn", "Văn")
    assert person_sort_key("Tôn Thất Thuyết") == sort_key("Thuyết", "Tôn Thất")


def test_key_is_bounded() -> None:
    key = sort_key("Nguyễn " * 100, "Trần " * 100, "Văn " * 100)
    assert len(key) == MAX_SORT_KEY_LENGTH
    assert KEY_RE.fullmatch(key)


@FAST
@given(st.text(max_size=40), st.text(max_size=20), st.text(max_size=20))
def test_key_alphabet(given_name: str, family: str, middle: str) -> None:
    key = sort_key(given_name, family, middle)
    assert KEY_RE.fullmatch(key)
    assert len(key) <= MAX_SORT_KEY_LENGTH
    assert KEY_RE.fullmatch(person_sort_key(f"{family} {middle} {given_name}"))


@settings(max_examples=300, deadline=None, database=None)
@given(person, person)
def test_order_matches_reference(a: tuple[str, str, str], b: tuple[str, str, str]) -> None:
    assert sign(sort_key(*a), sort_key(*b)) == sign(ref_key(*a), ref_key(*b))


@FAST
@given(st.lists(person, max_size=12))
def test_sorted_lists_match_reference(people: list[tuple[str, str, str]]) -> None:
    by_key = sorted(people, key=lambda p: sort_key(*p))
    assert [ref_key(*p) for p in by_key] == sorted(ref_key(*p) for p in people)
