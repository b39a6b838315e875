"""Vietnamese sort keys for person names, safe under binary and glibc collations."""

import unicodedata
from functools import lru_cache

from quantriet.text.names import split_full_name
from quantriet.text.normalize import TONE_OF_MARK

__all__ = [
    "ALPHABET",
    "MAX_SORT_KEY_LENGTH",
    "person_sort_key",
    "sort_key",
]

ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
"""Vietnamese alphabet order, with f, j, w and z at their Latin positions."""

MAX_SORT_KEY_LENGTH = 200
"""Keys are truncated to this many characters."""

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_PART_SEPARATOR = "00"  # before the tones of a part and between parts
_WORD_SEPARATOR = "01"  # between words of one part
_ESCAPE = "zz"  # followed by 4 base-36 digits: any other letter, ordered by code point


def _code(index: int, width: int = 2) -> str:
    """Fixed-width base-36 code of `index` using only [0-9a-z]."""
    digits = []
    for _ in range(width):
        index, rest = divmod(index, 36)
        digits.append(_B36[rest])
    return "".join(reversed(digits))


# Separators take codes 0 and 1; digits come before letters.
_CODES: dict[str, str] = {char: _code(i + 2) for i, char in enumerate("0123456789" + ALPHABET)}
_MARKED: dict[tuple[str, str], str] = {
    ("a", "\u0306"): "ă",
    ("a", "\u0302"): "â",
    ("e", "\u0302"): "ê",
    ("o", "\u0302"): "ô",
    ("o", "\u031b"): "ơ",
    ("u", "\u031b"): "ư",
}


def _letter_code(char: str) -> str:
    """Code of one lower-case letter or digit."""
    return _CODES.get(char) or _ESCAPE + _code(ord(char), 4)


def _words(text: str) -> list[tuple[str, int]]:
    """Split `text` into words as (letter codes, tone), tone 0-5 from its first tone mark.

    Letters are lower-cased; a, ă, â ... are distinct letters, tones are set aside;
    any character that is neither a letter, a digit nor a mark separates words.
    """
    words: list[tuple[str, int]] = []
    letters: list[str] = []
    tone = 0
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text).lower())
    for char in decomposed:
        if unicodedata.category(char).startswith("M") or unicodedata.combining(char):
            if not letters:
                continue
            if char in TONE_OF_MARK:
                tone = tone or TONE_OF_MARK[char]
            else:
                letters[-1] = _MARKED.get((letters[-1], char), letters[-1])
            continue
        if char.isalnum():
            letters.append(char)
            continue
        if letters:
            words.append(("".join(_letter_code(c) for c in letters), tone))
        letters, tone = [], 0
    if letters:
        words.append(("".join(_letter_code(c) for c in letters), tone))
    return words


def sort_key(given: str, family: str = "", middle: str = "") -> str:
    """Return a sort key ordering people the Vietnamese way.

    Order is by given name, then family name, then middle name. Each part compares its
    letters in Vietnamese alphabet order (a ă â b c d đ e ê ...; digits first, other
    scripts last), case-insensitively, and only when all its letters are equal its tones
    (ngang, huyền, hỏi, ngã, sắc, nặng), so "Phạm Anh" < "Lê Văn Ánh" < "Lê Bình".
    The key uses only [0-9a-z] (two characters per letter, "01" between words, "00" before
    each part's tone digits and between parts), so byte order and glibc en_US order agree.
    """
    key = _PART_SEPARATOR.join((_part_key(given), _part_key(family), _part_key(middle)))
    return key[:MAX_SORT_KEY_LENGTH]


@lru_cache(maxsize=100_000)
def _part_key(part: str) -> str:
    """Letters and tones of one part of a name. Cached: a million members share a few
    thousand family, middle and given names."""
    words = _words(part)
    letters = _WORD_SEPARATOR.join(codes for codes, _ in words)
    tones = "".join(str(tone) for _, tone in words)
    return letters + _PART_SEPARATOR + tones


def person_sort_key(full_name: str) -> str:
    """Sort key of a full name in document order ("Nguyễn Văn An"), see sort_key."""
    family, middle, given = split_full_name(full_name)
    return sort_key(given, family, middle)
