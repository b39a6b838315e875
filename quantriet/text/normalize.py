"""Normalisation of Vietnamese text: NFC, tone-mark placement, accent folding."""

import unicodedata

__all__ = [
    "TONE_MARKS",
    "TONE_OF_MARK",
    "fold",
    "nfc",
    "search_terms",
    "unify_tones",
]

TONE_MARKS: tuple[str, ...] = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
"""Combining tone marks by tone number: ngang, huyền, hỏi, ngã, sắc, nặng."""

TONE_OF_MARK: dict[str, int] = {mark: tone for tone, mark in enumerate(TONE_MARKS) if mark}
"""Tone number (1-5) of each combining tone mark."""

_VOWELS = "aăâeêioôơuưy"
_CONSONANTS = "bcdđfghjklmnpqrstvwxz"
_MARKED_VOWELS = frozenset("ăâêôơư")

_ONSETS = frozenset(
    {
        "",
        "b",
        "c",
        "ch",
        "d",
        "đ",
        "g",
        "gh",
        "gi",
        "h",
        "k",
        "kh",
        "l",
        "m",
        "n",
        "ng",
        "ngh",
        "nh",
        "p",
        "ph",
        "qu",
        "r",
        "s",
        "t",
        "th",
        "tr",
        "v",
        "x",
    }
)
_CODAS = frozenset({"", "c", "ch", "m", "n", "ng", "nh", "p", "t"})


def _build_tables() -> tuple[dict[str, tuple[str, int]], dict[tuple[str, int], str]]:
    """Map every Vietnamese letter to (toneless letter, tone) and back."""
    split: dict[str, tuple[str, int]] = {}
    join: dict[tuple[str, int], str] = {}
    for base in _VOWELS + _VOWELS.upper():
        for tone, mark in enumerate(TONE_MARKS):
            char = unicodedata.normalize("NFC", base + mark)
            split[char] = (base, tone)
            join[(base, tone)] = char
    for char in _CONSONANTS + _CONSONANTS.upper():
        split[char] = (char, 0)
        join[(char, 0)] = char
    return split, join


_SPLIT, _JOIN = _build_tables()


def nfc(s: str) -> str:
    """Return `s` in NFC, stripped, with internal whitespace runs collapsed to one space."""
    return " ".join(unicodedata.normalize("NFC", s).split())


def _is_mark(char: str) -> bool:
    """Tell whether `char` is a combining mark."""
    return unicodedata.category(char).startswith("M") or unicodedata.combining(char) != 0


def _tone_index(word: str) -> int | None:
    """Index of the letter that should carry the tone in a lower-case toneless syllable.

    Returns None when `word` does not look like a single Vietnamese syllable.
    """
    k = 0
    while k < len(word) and word[k] not in _VOWELS:
        k += 1
    if k == len(word):
        return None
    onset = word[:k]
    # "gi" and "qu" are onsets when another vowel follows ("giữa", "quả"; but "gì").
    glide = {"g": "i", "q": "u"}.get(onset)
    if glide and word[k] == glide and k + 1 < len(word) and word[k + 1] in _VOWELS:
        onset += glide
        k += 1
    if onset not in _ONSETS:
        return None
    end = k
    while end < len(word) and word[end] in _VOWELS:
        end += 1
    nucleus, coda = word[k:end], word[end:]
    if coda not in _CODAS or len(nucleus) > 3:
        return None
    marked = [i for i, char in enumerate(nucleus) if char in _MARKED_VOWELS]
    if marked:
        pos = marked[-1]  # ươ -> ơ, iê/yê/uyê -> ê, uô -> ô, ưa -> ư
    elif len(nucleus) == 1:
        pos = 0
    elif coda:
        pos = len(nucleus) - 1  # hoàn, huỳnh
    elif len(nucleus) == 3:
        pos = 1  # ngoài, khuỷu
    else:
        pos = 0  # hòa, khỏe, thủy, của, mía
    return k + pos


def _retone_word(word: str) -> str:
    """Move the single tone mark of `word` to its standard letter, keeping case."""
    letters = [_SPLIT[char] for char in word]
    toned = [i for i, (_, tone) in enumerate(letters) if tone]
    if len(toned) != 1:
        return word
    current = toned[0]
    target = _tone_index("".join(base.lower() for base, _ in letters))
    if target is None or target == current:
        return word
    tone = letters[current][1]
    chars = [base for base, _ in letters]
    if (chars[target], tone) not in _JOIN:
        return word
    chars[target] = _JOIN[(chars[target], tone)]
    return "".join(chars)


def unify_tones(s: str) -> str:
    """Return NFC `s` with tone marks on the standard letter of each syllable.

    Uses the placement of the examples in the project brief and of common administrative
    usage: "hoà" -> "hòa", "thuỷ" -> "thủy", "khoẻ" -> "khỏe"; syllables with a final
    consonant or a marked vowel keep the tone on the main vowel ("hoàn", "thuyền",
    "người"), and the "qu"/"gi" onsets are recognised ("quả", "giữa"). Case and all other
    text are preserved; words touching non-Vietnamese letters, digits or stray combining
    marks are left alone. Idempotent.
    """
    s = unicodedata.normalize("NFC", s)
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        if s[i] not in _SPLIT:
            out.append(s[i])
            i += 1
            continue
        j = i
        while j < n and s[j] in _SPLIT:
            j += 1
        word = s[i:j]
        before = s[i - 1] if i else " "
        after = s[j] if j < n else " "
        if before.isalnum() or after.isalnum() or _is_mark(before) or _is_mark(after):
            out.append(word)
        else:
            out.append(_retone_word(word))
        i = j
    return unicodedata.normalize("NFC", "".join(out))


def _fold_once(s: str) -> str:
    """One folding pass: NFC, lower-case, drop marks, đ -> d, collapse whitespace."""
    lowered = unicodedata.normalize("NFC", s).lower()
    stripped = "".join(
        char
        for char in unicodedata.normalize("NFD", lowered)
        if not unicodedata.category(char).startswith("M") and unicodedata.combining(char) == 0
    )
    return " ".join(unicodedata.normalize("NFC", stripped.replace("đ", "d")).split())


def _fold_slow(s: str) -> str:
    """fold() for any text: folding passes until nothing changes."""
    result = _fold_once(s)
    for _ in range(3):  # one pass is normally enough; guard exotic case mappings
        again = _fold_once(result)
        if again == result:
            break
        result = again
    return result


def _strip_punctuation(term: str) -> str:
    """Remove leading and trailing non-alphanumeric characters from `term`."""
    start, end = 0, len(term)
    while start < end and not term[start].isalnum():
        start += 1
    while end > start and not term[end - 1].isalnum():
        end -= 1
    return term[start:end]


def fold(s: str) -> str:
    """Return the accent-insensitive search key of `s`.

    NFC, lower-case, every combining mark removed (Vietnamese tones and vowel marks as well
    as foreign diacritics), "đ"/"Đ" -> "d", whitespace collapsed and stripped. Other
    letters pass through lower-cased. "Nguyễn Văn A" -> "nguyen van a". Idempotent.
    """
    n = unicodedata.normalize("NFC", s)
    if n.isascii():
        return " ".join(n.lower().split())
    # Vietnamese and other Latin letters decompose (NFD) into an ASCII letter and marks;
    # dropping what is not ASCII then leaves one letter for each character of n. If any
    # character left nothing (another script, a symbol, a space that is not ASCII), the
    # lengths differ and the general passes decide.
    ascii_ = unicodedata.normalize("NFD", n.replace("đ", "d").replace("Đ", "D")).encode(
        "ascii", "ignore"
    )
    if len(ascii_) == len(n):
        return " ".join(ascii_.decode().lower().split())
    return _fold_slow(s)


def search_terms(query: str) -> list[str]:
    """Fold `query` and split it into distinct words, to be AND-ed over a folded column.

    Punctuation around words is dropped ("Nguyễn, Văn" -> ["nguyen", "van"]); inner
    punctuation is kept so e-mails and phone numbers stay whole.
    """
    terms: list[str] = []
    for raw in fold(query).split():
        term = _strip_punctuation(raw)
        if term and term not in terms:
            terms.append(term)
    return terms
