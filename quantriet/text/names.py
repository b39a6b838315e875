"""Splitting Vietnamese full names into family, middle and given names."""

from functools import cache, lru_cache

from quantriet.text.normalize import fold, nfc, unify_tones

__all__ = ["COMPOUND_FAMILY_NAMES", "split_full_name"]

COMPOUND_FAMILY_NAMES: tuple[str, ...] = (
    "Công Tằng Tôn Nữ",
    "Tôn Thất",
    "Tôn Nữ",
    "Âu Dương",
    "Công Tôn",
    "Hoàng Phủ",
    "Tư Mã",
    "Gia Cát",
    "Thượng Quan",
)
"""Multi-word family names recognised by split_full_name (longest match wins)."""


@cache
def _compound_keys(plain: bool) -> dict[str, list[list[str]]]:
    """The compound family names as lists of word keys, by the key of their first word."""
    key = fold if plain else _exact_key
    out: dict[str, list[list[str]]] = {}
    for compound in COMPOUND_FAMILY_NAMES:
        parts = [key(word) for word in compound.split()]
        out.setdefault(parts[0], []).append(parts)
    return out


@lru_cache(maxsize=50_000)
def _exact_key(token: str) -> str:
    """Comparison key keeping diacritics (tone placement and case ignored)."""
    return unify_tones(token).lower()


def split_full_name(full: str) -> tuple[str, str, str]:
    """Split a full name in document order into (family, middle, given).

    "Nguyễn Văn An" -> ("Nguyễn", "Văn", "An"); one word -> ("", "", word); two words ->
    (family, "", given). With three or more words a known compound family name is kept
    whole: "Tôn Thất Thuyết" -> ("Tôn Thất", "", "Thuyết"). The input is normalised with
    nfc(); the returned parts keep its spelling. A name written without any diacritics
    matches compound family names without diacritics too.
    """
    normal = nfc(full)
    tokens = normal.split(" ") if normal else []
    if not tokens:
        return ("", "", "")
    if len(tokens) == 1:
        return ("", "", tokens[0])
    if len(tokens) == 2:
        return (tokens[0], "", tokens[1])
    plain = fold(" ".join(tokens)) == " ".join(tokens).lower()
    key = fold if plain else _exact_key
    family_size = 1
    compounds = _compound_keys(plain)
    first = key(tokens[0])
    if first in compounds:  # most names: one key computed, no compound starts with it
        keys = [first] + [key(token) for token in tokens[1:]]
        for parts in compounds[first]:
            if len(parts) < len(tokens) and keys[: len(parts)] == parts:
                family_size = max(family_size, len(parts))
    family = " ".join(tokens[:family_size])
    middle = " ".join(tokens[family_size:-1])
    return (family, middle, tokens[-1])
