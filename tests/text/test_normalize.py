"""Tests for nfc, unify_tones, fold and search_terms."""

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantriet.text import fold, nfc, search_terms, unify_tones

VIET_LETTERS = (
    "aàảãáạăằẳẵắặâầẩẫấậeèẻẽéẹêềểễếệiìỉĩíịoòỏõóọôồổỗốộơờởỡớợuùủũúụưừửữứựyỳỷỹýỵbcdđghklmnpqrstvx"
)
SYLLABLES = (
    "hoà hòa thuỷ thủy khoẻ khỏe hoàn thuyền quả giữa người tiếng chuyện Nguyễn Văn Thị "
    "xoá uỷ ủy ngoài khuỷu của mùa quý Quỳnh huỳnh gì già thuở hươu Đào Đỗ Lê ĐẶNG Trần "
    "Phạm HOÀNG Hoa lòa xoà an ánh Ân ấn Ăn Bình dũng Yến yêu khuya ngoẹo toán oẳn Huế"
).split()

FAST = settings(max_examples=150, deadline=None, database=None)

viet_text = st.text(
    alphabet=st.sampled_from(
        list(VIET_LETTERS + VIET_LETTERS.upper() + "  \t\n,.-'0123")
        + ["\u0300", "\u0301", "\u0302", "\u0303", "\u0309", "\u0323", "\u031b", "\u0306"]
    ),
    max_size=30,
)
syllable_text = st.lists(
    st.tuples(st.sampled_from(SYLLABLES), st.sampled_from(["lower", "upper", "title", "same"])),
    max_size=6,
).map(lambda items: " ".join(w if case == "same" else getattr(w, case)() for w, case in items))
any_text = st.one_of(st.text(max_size=30), viet_text, syllable_text)


def is_mark(char: str) -> bool:
    """Tell whether `char` is a combining mark."""
    return unicodedata.combining(char) != 0 or unicodedata.category(char).startswith("M")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Nguyễn   Văn\tAn \n", "Nguyễn Văn An"),
        (unicodedata.normalize("NFD", "Nguyễn Văn An"), "Nguyễn Văn An"),
        ("Trần\u00a0Thị", "Trần Thị"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_nfc(raw: str, expected: str) -> None:
    assert nfc(raw) == expected
    assert unicodedata.is_normalized("NFC", nfc(raw))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hoà", "hòa"),
        ("thuỷ", "thủy"),
        ("khoẻ", "khỏe"),
        ("Hoà", "Hòa"),
        ("HOÀ BÌNH", "HÒA BÌNH"),
        ("Thuỷ Tiên", "Thủy Tiên"),
        ("uỷ ban", "ủy ban"),
        ("xoá, loà xoà.", "xóa, lòa xòa."),
        ("gìa", "già"),
        (unicodedata.normalize("NFD", "hoà"), "hòa"),
    ],
)
def test_unify_tones_moves_marks(raw: str, expected: str) -> None:
    assert unify_tones(raw) == expected


@pytest.mark.parametrize(
    "word",
    [
        "hoàn",
        "thuyền",
        "quả",
        "giữa",
        "người",
        "tiếng",
        "chuyện",
        "Nguyễn",
        "hòa",
        "thủy",
        "khỏe",
        "ngoài",
        "khuỷu",
        "của",
        "mía",
        "quý",
        "Quỳnh",
        "huỳnh",
        "gì",
        "thuở",
        "hươu",
        "toán",
        "Huế",
        "yến",
        "muốn",
        "gửi",
        "xoáy",
        "hoạch",
        "HOÀNG",
        "café",
        "naïve",
        "hoà2",
        "x\u0301",
    ],
)
def test_unify_tones_keeps_correct_words(word: str) -> None:
    assert unify_tones(word) == unicodedata.normalize("NFC", word)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Nguyễn Văn A", "nguyen van a"),
        ("hoà", "hoa"),
        ("hòa", "hoa"),
        ("THUỶ", "thuy"),
        ("  Đỗ   Thị\tĐÀO ", "do thi dao"),
        ("Crème Brûlée", "creme brulee"),
        ("Müller", "muller"),
        ("ΑΒΓ", "αβγ"),
        ("北京", "北京"),
        ("", ""),
    ],
)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


def test_fold_equates_tone_styles() -> None:
    assert fold("hoà") == fold("hòa") == "hoa"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Nguyễn Văn", ["nguyen", "van"]),
        ("  nguyễn,  VĂN an; ", ["nguyen", "van", "an"]),
        ("an An ÂN", ["an"]),
        ("a.b@x.vn 0912-345-678", ["a.b@x.vn", "0912-345-678"]),
        (" , ; ", []),
        ("", []),
    ],
)
def test_search_terms(query: str, expected: list[str]) -> None:
    assert search_terms(query) == expected


@FAST
@given(any_text)
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@FAST
@given(any_text)
def test_fold_ignores_normal_form_and_tone_style(text: str) -> None:
    folded = fold(text)
    assert fold(unicodedata.normalize("NFD", text)) == folded
    assert fold(unify_tones(text)) == folded


@FAST
@given(any_text)
def test_fold_output_has_no_marks(text: str) -> None:
    folded = fold(text)
    assert not any(is_mark(char) for char in folded)
    assert "đ" not in folded and "Đ" not in folded
    assert folded == folded.strip() and "  " not in folded


@FAST
@given(any_text)
def test_unify_tones_is_idempotent_and_nfc(text: str) -> None:
    once = unify_tones(text)
    assert unify_tones(once) == once
    assert unicodedata.is_normalized("NFC", once)
    assert unify_tones(unicodedata.normalize("NFD", text)) == once


@FAST
@given(syllable_text)
def test_unify_tones_keeps_case_and_letters(text: str) -> None:
    once = unify_tones(text)
    assert len(once) == len(unicodedata.normalize("NFC", text))
    assert [c.isupper() for c in once] == [c.isupper() for c in unicodedata.normalize("NFC", text)]
    assert fold(once) == fold(text)


@FAST
@given(any_text)
def test_search_terms_are_folded_words(text: str) -> None:
    terms = search_terms(text)
    assert len(terms) == len(set(terms))
    for term in terms:
        assert term and fold(term) == term and " " not in term


def test_the_quick_fold_equals_the_general_folding():
    import random
    import unicodedata

    from quantriet.text.normalize import _SPLIT, _fold_slow

    letters = [*_SPLIT, *"ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    others = [" ", "  ", "\t", "-", "'", "0", "9", "\u00a0", "\u200b", "İ", "\u212a", "ß",
              "ǅ", "Ω", "ñ", "Ñ", "ø", "æ", "ẞ", "中", "a\u0301", "\u0300", "\u0323", "ﬁ",
              "\u2126", "Å", "\u0130", "\u1e9e", "\x1f"]
    rnd = random.Random(7)
    samples = ["", " ", "Nguyễn Văn A", "  ĐỖ   thị  HOÀ ", "Tôn Nữ", "Mã đoàn viên",
               *letters, *others]
    for _ in range(20_000):
        pool = letters if rnd.random() < 0.7 else letters + others
        samples.append("".join(rnd.choice(pool) for _ in range(rnd.randint(1, 12))))
    samples += [unicodedata.normalize("NFD", s) for s in samples[:2000]]
    for s in samples:
        assert fold(s) == _fold_slow(s), s
