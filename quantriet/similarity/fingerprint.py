"""Near-duplicate fingerprints of Vietnamese reports: syllable shingles, MinHash band keys
for an indexed candidate lookup, and the exact comparison (with passages) that decides.

Pure Python (standard library only), importable without Django. docs/similarity.md has
the user's view and the measured figures; this docstring has the maths.

Normalisation
    Each token is a run of letters, digits and combining marks in the ORIGINAL text (so
    NFD input works and offsets point into the string as given); it is NFC-normalised,
    case-folded and its tone mark moved to the standard letter (``unify_tones``: "hoà" =
    "hòa", "thuỷ" = "thủy"). Tones and vowel marks are KEPT ("học" != "hóc"):
    they carry the meaning. Punctuation and whitespace only separate tokens. Vietnamese
    writes one syllable per token, so a token is a syllable.

Shingles
    Every run of ``SHINGLE`` = 5 consecutive syllables (about three Vietnamese words) is a
    shingle, hashed by simple tabulation: each distinct syllable gets ``SHINGLE`` random
    63-bit values from BLAKE2b (keyed by a fixed personalisation, so hashes are the same in
    every process and on every machine -- never Python's ``hash()``), and a shingle's hash
    is the XOR of the value of its i-th syllable for position i. Hashes are in [0, 2**63),
    so every shingle hash and band key fits a signed 64-bit integer (PostgreSQL bigint).
    A text shorter than 5 syllables has one shingle (all its syllables).

    Why 5: a random edit of a fraction e of the syllables leaves a shingle intact with
    probability (1-e)**k. At e = 0.2 that is 0.41 for k = 4, 0.33 for k = 5, 0.26 for
    k = 6. Shorter shingles survive edits better but are shared by unrelated writers on the
    same topic ("của đoàn viên và người lao động"); k = 5 keeps the chance overlap of
    unrelated reports to a few per cent while a 20 %-edited copy still keeps a third of its
    shingles, far above the decision threshold (see the figures in docs/similarity.md).

Band keys (what is stored) and probes (what a lookup asks for)
    The shingles that are not ignored -- ``ignore`` = the reference texts' shingles and
    the campaign's frequent shingles (``common_shingles`` at ``FREQUENT_FRACTION``, 0.1 %
    of its reports) -- go through one-permutation
    MinHash: the 63-bit hash space is cut into ``BANDS * ROWS`` = 64 equal bins (by the top
    6 bits) and each bin keeps its smallest hash. With ``ROWS`` = 1 a band is one bin and
    its key is that minimum itself: a shingle hash whose top bits already name the band,
    so the key alone is indexed. An empty bin (short texts) borrows the minimum of the next
    non-empty bin, mixed with its own band number ("rotation" densification), so every
    band has a key. For two texts with counted shingle sets X and Q, band i of X and band i
    of Q are equal with probability J = |X∩Q| / |X∪Q| (the Jaccard index).

    Jaccard is the wrong measure for a report pasted inside a longer one (J = 0.33 for an
    exact copy inside a text three times as long, 0.08 if the copy was also 20 % edited)
    and it is pulled down by the new shingles an edit creates. So a submission Q does not
    look up only its own 64 keys but its ``PROBES`` = m = 5 smallest hashes in every bin
    (about 300 probes). Band i of an indexed report X is found when X's minimum x_i is in
    Q and fewer than m of Q's other shingles in that bin are below it. With
    C = |X∩Q| / |X| (the share of X found in Q) and rho = |Q - X| / |X|, the count of Q's
    foreign shingles below x_i is about geometric, so per band

        p = C * (1 - (rho / (1 + rho))**m)            (m = 1 gives p = J)

    and X is a candidate when at least t = ``MIN_SHARED_BANDS`` = 5 of its 64 keys are
    among the probes; the number found is about Binomial(64, p):

        P[candidate] = P[Binomial(64, p) >= 5]

        p        0.01    0.02    0.03    0.05   0.08   0.10   0.15   0.20   0.24   0.31
        P        5e-4    0.009   0.043   0.22   0.59   0.78   0.972  0.998  0.9998 ~1

    This is the S-curve of the scheme: it rises between p = 0.03 and p = 0.15. A copy
    edited at 20 % (C = 0.8**5 = 0.33, rho ~ 1.3) has p ~ 0.31 and is missed with
    probability ~1e-6; the same copy inside a text three times as long (rho ~ 3.3)
    has p ~ 0.24 (miss 2e-4); an exact copy inside it p ~ 0.87; a copy edited at 30 %
    p ~ 0.15 (miss 3 %). Unrelated reports on the same resolution, once reference and
    common shingles are left out, have C ~ 0.002-0.02, p < 0.02, P < 0.01, and those rare
    collisions are spread over many reports, so few pass t = 5 (measured: well under one
    per lookup at 1 M reports, docs/similarity.md). With t = 1 and no probes (plain
    LSH) the same unrelated pairs would be candidates with P = 1-(1-J)**64 ~ 0.3-0.5;
    with AND-bands of r = 2 rows a 20 %-edited copy inside a longer text (J ~ 0.08) would
    be found with P ~ 0.3. The cost of the probes is in the lookup (300 index probes
    instead of 64), not in the index (64 keys a report).

    A report contained in a LONGER earlier report (a submission that copies one section of
    a long text) has small C seen from the long report and is found only if that section
    is a large part of it; such copies are found from the other side when the longer text
    is the later submission.

Verification and decision
    ``compare`` counts exact shingle overlap after leaving out the shingles of the
    reference texts and those overlapping a quoted passage (the junction "Nghị quyết nêu
    rõ: <quote>") -- counted as ``quoted`` -- and the common phrases (``common``: shingles
    in >= 1 % of the campaign's reports). ``is_copy`` flags a pair when

        shared >= MIN_SHARED (20 non-quoted shingles, a long sentence, in common)
        and max(jaccard, containment_a, containment_b) >= threshold   (0.15 by default)

    where each containment is taken over at least MIN_OWN = 60 own shingles (a report made
    of quotes and stock sentences with ten words of its own is not "50 % copied" because
    five of them match). That figure is ``Comparison.copy_score``.

    Containment |A∩B|/|A| catches a report pasted inside a longer one; Jaccard never
    exceeds either containment, so the maximum is the larger containment. Measured on the
    synthetic reports (bench/similarity.py): copies edited up to 20 % score >= 0.19
    (1st percentile 0.26, median ~0.4); the unrelated candidates that reach verification
    score <= 0.12 (a report of quotes whose only own words, the name and unit lines, match
    a report of the same company), and unrelated pairs in general stay below ~0.08 once
    the common phrases are discounted -- but reach 0.15-0.25 without that (a short report
    sharing stock sentences with a long one): the common phrases are part of the method.
"""

from __future__ import annotations

import hashlib
import operator
import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from quantriet.text.normalize import unify_tones

__all__ = [
    "BANDS",
    "COMMON_FRACTION",
    "DEFAULT_THRESHOLD",
    "FREQUENT_FRACTION",
    "MIN_OWN",
    "MIN_SHARED",
    "MIN_SHARED_BANDS",
    "PROBES",
    "ROWS",
    "SHINGLE",
    "Comparison",
    "Fingerprint",
    "common_shingles",
    "compare",
    "fingerprint",
    "fingerprint_shingles",
    "fingerprint_syllables",
    "is_copy",
    "normalize_syllable",
    "shingle_hashes",
    "syllables",
    "text_shingles",
]

SHINGLE = 5
"""Syllables per shingle."""

BANDS, ROWS = 64, 1
"""LSH banding of the one-permutation MinHash signature: 64 bands of one bin each."""

DEFAULT_THRESHOLD = 0.15
"""Default decision threshold on max(jaccard, containment_a, containment_b)."""

MIN_SHARED = 20
"""Fewest non-quoted shingles two texts must share to be copies (common phrases included):
a long sentence of the writers' own words. (At 30, a report of 100 syllables copied with
a fifth of its syllables edited kept 30 runs or fewer one time in five and was missed;
unrelated reports are kept apart by the threshold, not by this minimum.)"""

MIN_OWN = 60
"""is_copy divides by at least this many own shingles: a text made of quotes and stock
phrases with a few words of its own is not judged by the ratio of those few words."""

COMMON_FRACTION = 0.01
"""Common phrases, discounted by compare: shingles in >= 1 % of a campaign's reports."""

FREQUENT_FRACTION = 0.001
"""Frequent shingles, left out of the band keys (with the reference texts' shingles):
in >= 0.1 % of a campaign's reports. Keys then fall on rarer shingles, so a lookup reads
short posting lists; the decision is not affected."""

PROBES = 5
"""A submission looks up the PROBES smallest shingle hashes of each of its bins."""

MIN_SHARED_BANDS = 5
"""Fewest of an indexed report's band keys found among a submission's probes for the report
to be a candidate."""

_MASK63 = (1 << 63) - 1
_MASK64 = (1 << 64) - 1
_BINS = BANDS * ROWS
_BOUNDS = [(i << 63) // _BINS for i in range(_BINS + 1)]
_PERSON = b"quantriet-sim-1"
_TOKEN = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
_TOKEN_FAST = re.compile(r"[\w\u0300-\u036f]+")
"""The same tokens as _TOKEN in a text without "_" (one character class is about twice as
fast as the alternation)."""
_CACHE_LIMIT = 300_000
_ITEM = [operator.itemgetter(j) for j in range(SHINGLE)]
_FIRST = _ITEM[0]


def _mix63(x: int) -> int:
    """SplitMix64 finaliser, reduced to 63 bits (a bijection-quality scrambler)."""
    x &= _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (x ^ (x >> 31)) & _MASK63


def _stable(data: bytes, size: int = 8) -> bytes:
    return hashlib.blake2b(data, digest_size=size, person=_PERSON).digest()


_BAND_SALT = [int.from_bytes(_stable(b"band%d" % i), "little") & _MASK63 for i in range(BANDS)]
_EMPTY = int.from_bytes(_stable(b"empty"), "little") & _MASK63


class _Normal(dict[str, str]):
    """Raw token -> comparison form, computed on first use."""

    def __missing__(self, token: str) -> str:
        norm = unify_tones(unicodedata.normalize("NFC", token).casefold())
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[token] = norm
        return norm


class _Values(dict[str, tuple[int, ...]]):
    """Normalised syllable -> its SHINGLE tabulation values (63 bits each), from BLAKE2b."""

    def __missing__(self, syllable: str) -> tuple[int, ...]:
        digest = _stable(syllable.encode(), 8 * SHINGLE)
        values = tuple(
            int.from_bytes(digest[8 * j : 8 * j + 8], "little") & _MASK63 for j in range(SHINGLE)
        )
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[syllable] = values
        return values


_normal = _Normal()
_values = _Values()


def _tokens(text: str) -> re.Pattern[str]:
    return _TOKEN if "_" in text else _TOKEN_FAST


def normalize_syllable(token: str) -> str:
    """The comparison form of one token: NFC, case-folded, tone on the standard letter."""
    return _normal[token]


def syllables(text: str) -> list[tuple[str, int, int]]:
    """The normalised syllables of `text` with their (start, end) offsets in `text` itself."""
    norm = _normal
    return [(norm[m.group()], m.start(), m.end()) for m in _tokens(text).finditer(text)]


def shingle_hashes(normalised: Sequence[str]) -> list[int]:
    """Hash of the shingle starting at each syllable (one for a text shorter than SHINGLE)."""
    values = list(map(_values.__getitem__, normalised))
    n = len(values)
    if n == 0:
        return []
    if n < SHINGLE:
        h = 0
        for j, v in enumerate(values):
            h ^= v[j]
        return [h]
    if SHINGLE == 5:  # one pass over the five shifted views (twice as fast as five passes)
        return [
            a[0] ^ b[1] ^ c[2] ^ d[3] ^ e[4]
            # the views end together at the last run: values[4:] is the shortest
            for a, b, c, d, e in zip(
                values, values[1:], values[2:], values[3:], values[4:], strict=False
            )
        ]
    count = n - SHINGLE + 1
    hashes = list(map(_FIRST, values[:count]))
    for j in range(1, SHINGLE):
        hashes = list(map(operator.xor, hashes, map(_ITEM[j], values[j : j + count])))
    return hashes


@dataclass(frozen=True)
class Fingerprint:
    """What is stored of a text: its size, its shingles and its LSH band keys."""

    syllables: int
    """Number of syllables after normalisation."""
    shingles: frozenset[int]
    """All shingle hashes of the text (ignored ones included), each in [0, 2**63)."""
    bands: tuple[int, ...]
    """One key per band (len == BANDS), each in [0, 2**63): what is stored in the index."""
    probes: frozenset[int] = frozenset()
    """What a lookup asks the index for: the band keys and the PROBES smallest hashes of
    each bin (about 300 keys), so that a report contained in this text is found (see the
    module docstring)."""


def _bands(
    counted: frozenset[int], shingles: frozenset[int]
) -> tuple[tuple[int, ...], frozenset[int]]:
    """One-permutation MinHash of `counted`, densified by rotation, cut into bands; and the
    probes (band keys plus the PROBES smallest hashes of each bin)."""
    if not counted:
        # Nothing of its own (empty, or only quotes): keys that only an identical text shares.
        seed = _EMPTY
        for h in shingles:
            seed ^= _mix63(h)
        keys = tuple(_mix63(seed ^ salt) for salt in _BAND_SALT)
        return keys, frozenset(keys)
    ordered = sorted(counted)
    size = len(ordered)
    mins: list[int | None] = []
    probes: set[int] = set()
    for b in range(_BINS):
        i = bisect_left(ordered, _BOUNDS[b])
        upper = _BOUNDS[b + 1]
        mins.append(ordered[i] if i < size and ordered[i] < upper else None)
        probes.update(h for h in ordered[i : i + PROBES] if h < upper)
    if None in mins:
        filled = list(mins)
        for b in range(_BINS):
            if mins[b] is None:
                j = (b + 1) % _BINS
                while mins[j] is None:
                    j = (j + 1) % _BINS
                value = mins[j]
                assert value is not None
                filled[b] = _mix63(value ^ _BAND_SALT[b % BANDS])
        mins = filled
    if ROWS == 1:
        keys = tuple(int(m) for m in mins if m is not None)
        return keys, frozenset(probes.union(keys))
    banded = []
    for band in range(BANDS):
        h = _BAND_SALT[band]
        for row in mins[band * ROWS : (band + 1) * ROWS]:
            h = _mix63(h ^ int(row or 0))
        banded.append(h)
    return tuple(banded), frozenset(banded)


def fingerprint_syllables(
    normalised: Sequence[str], *, ignore: frozenset[int] = frozenset()
) -> Fingerprint:
    """The fingerprint of already normalised syllables (see fingerprint)."""
    return fingerprint_shingles(
        len(normalised), frozenset(shingle_hashes(normalised)), ignore=ignore)


def fingerprint_shingles(
    syllables: int, shingles: frozenset[int], *, ignore: frozenset[int] = frozenset()
) -> Fingerprint:
    """The fingerprint of a text of `syllables` syllables whose shingle hashes are
    `shingles`: one text fingerprinted with several `ignore` sets is shingled once."""
    counted = shingles - ignore if ignore else shingles
    bands, probes = _bands(counted, shingles)
    return Fingerprint(syllables, shingles, bands, probes)


def fingerprint(text: str, *, ignore: frozenset[int] = frozenset()) -> Fingerprint:
    """The fingerprint of `text`.

    `ignore` holds shingles left out of the band keys: those of the reference texts (the
    resolution, topic materials) and of very common phrases (see common_shingles). The
    same `ignore` must be used for every text of one index.
    """
    return fingerprint_syllables([s for s, _start, _end in syllables(text)], ignore=ignore)


def common_shingles(
    shingle_sets: Iterable[frozenset[int]],
    *,
    min_fraction: float = COMMON_FRACTION,
    min_count: int = 5,
) -> frozenset[int]:
    """Shingles found in at least `min_fraction` (and `min_count`) of the given texts.

    Meant for a sample of a campaign's submissions -- the first 10,000, all of them while
    there are fewer -- kept with the campaign. At COMMON_FRACTION (1 %) they are the
    common phrases passed as ``common`` to compare: stock phrases every writer uses (the
    title block, "bản thân tôi nhận thức sâu sắc", the closing) would otherwise inflate the
    containment of short reports. At FREQUENT_FRACTION (0.1 %), with the reference
    shingles, they are the ``ignore`` of fingerprint: keys on frequent shingles would make
    unrelated reports candidates of each other and lookups read long posting lists.
    Leave texts already flagged as copies out of the sample, or a widely copied text
    becomes "common". When the set is replaced, band keys of reports indexed before that
    hold shingles that are no longer probed: re-fingerprint them (a background task).
    """
    counts: Counter[int] = Counter()
    total = 0
    for shingles in shingle_sets:
        counts.update(shingles)
        total += 1
    floor = max(min_count, min_fraction * total)
    return frozenset(h for h, n in counts.items() if n >= floor)


class _Shingled:
    """A text cut into syllables and shingled. The syllables' character offsets, needed only
    to show passages, are found when first asked for: a check compares without them."""

    def __init__(self, text: str) -> None:
        self.text = text
        forms = list(map(_normal.__getitem__, _tokens(text).findall(text)))
        self.count = len(forms)
        self.hashes = shingle_hashes(forms)
        self.shingles = frozenset(self.hashes)

    @cached_property
    def starts(self) -> list[int]:
        return [m.start() for m in _tokens(self.text).finditer(self.text)]

    @cached_property
    def ends(self) -> list[int]:
        return [m.end() for m in _tokens(self.text).finditer(self.text)]


@lru_cache(maxsize=8)
def _shingled(text: str) -> _Shingled:
    return _Shingled(text)


def text_shingles(text: str) -> tuple[int, frozenset[int]]:
    """The number of syllables of `text` and its shingle hashes, from the cache compare()
    uses: a text fingerprinted and then compared is cut into syllables once."""
    doc = _shingled(text)
    return doc.count, doc.shingles


@dataclass
class Comparison:
    """The exact overlap of two texts; shares and passages leave quoted shingles out."""

    jaccard: float
    containment_a: float
    """|A∩B| / |A| over the shingles of text_a that are neither quoted nor common."""
    containment_b: float
    shared: int
    """Shingles in both texts that are not quoted (common phrases included: the amount of
    the writers' own text in common; the three ratios above leave common phrases out)."""
    quoted: int
    """Shingles in both texts that are in the reference texts or overlap a quote there."""
    passages_a: list[tuple[int, int]]
    """Merged (start, end) character ranges of text_a covered by shared shingles."""
    passages_b: list[tuple[int, int]]
    quoted_a: list[tuple[int, int]]
    """Ranges of text_a in both texts but quoted from a reference (outside passages_a)."""
    quoted_b: list[tuple[int, int]]
    counted: int = 0
    """Shared shingles that are neither quoted nor common: the numerator of the ratios."""
    own_a: int = 0
    """Shingles of text_a that are neither quoted nor common: the denominator of
    containment_a."""
    own_b: int = 0

    @property
    def score(self) -> float:
        """max(jaccard, containment_a, containment_b): the larger containment."""
        return max(self.jaccard, self.containment_a, self.containment_b)

    @property
    def copy_score(self) -> float:
        """The figure is_copy compares with the threshold: 0 when fewer than MIN_SHARED
        non-quoted shingles are shared, else max(jaccard, containment_a, containment_b)
        with each containment taken over at least MIN_OWN own shingles. (Jaccard never
        exceeds the containments, so the larger containment decides.)"""
        if self.shared < MIN_SHARED:
            return 0.0
        return self.counted / max(min(self.own_a, self.own_b), MIN_OWN)


def _coverage(doc: _Shingled, selected: frozenset[int] | set[int]) -> bytearray:
    """1 for each syllable covered by a shingle in `selected`."""
    n = doc.count
    cover = bytearray(n)
    if not selected:
        return cover
    span = min(SHINGLE, n)
    ones = b"\x01" * span
    for i in [i for i, h in enumerate(doc.hashes) if h in selected]:
        cover[i : i + span] = ones
    return cover


_RUN = re.compile(b"\x01+")


def _runs(cover: bytearray) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _RUN.finditer(cover)]


def _passages(
    doc: _Shingled,
    counted: frozenset[int],
    common: frozenset[int],
    quoted: frozenset[int],
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Character ranges of shared passages and of shared quotes in one text."""
    mine = _coverage(doc, counted)
    # Common phrases inside a copied passage are highlighted with it, never on their own.
    wide = _coverage(doc, counted | common) if common else mine
    passages = []
    for a, b in _runs(wide):
        if mine.find(1, a, b) != -1:
            passages.append((a, b))
    quote = _coverage(doc, quoted)
    for a, b in passages:
        quote[a:b] = bytes(b - a)
    to_chars = [(doc.starts[a], doc.ends[b - 1]) for a, b in passages]
    return to_chars, [(doc.starts[a], doc.ends[b - 1]) for a, b in _runs(quote)]


def _quoted(doc: _Shingled, reference: frozenset[int]) -> frozenset[int]:
    """The shingles of `doc` in the reference texts, and those that overlap a quoted run
    (the junction between a quote and the writer's own words, "Nghị quyết nêu rõ: ...")."""
    if not reference or doc.shingles.isdisjoint(reference):
        return frozenset()
    cover = _coverage(doc, reference)
    span = min(SHINGLE, len(cover))
    hashes = doc.hashes
    quoted: set[int] = set()
    for a, b in _runs(cover):  # the shingles starting from span - 1 before a run to its end
        quoted.update(hashes[max(0, a - span + 1) : b])
    return frozenset(quoted)


def compare(
    text_a: str,
    text_b: str,
    *,
    reference: frozenset[int] = frozenset(),
    common: frozenset[int] = frozenset(),
    passages: bool = True,
) -> Comparison:
    """Exact shingle overlap of two texts, with the passages to show side by side.

    Shingles of `reference` (the resolution and other reference texts) shared by both texts
    are counted as `quoted`, not as shared, and so are the shingles that overlap a quoted
    passage (they join the quote to the writer's words); shingles in `common` (stock phrases,
    see common_shingles) count as neither. Offsets are character offsets into the texts exactly as given. With
    passages=False only the figures are computed (the four lists are empty): enough to
    decide, about twice as fast.
    """
    a, b = _shingled(text_a), _shingled(text_b)
    both = a.shingles & b.shingles
    quoted_in_a = _quoted(a, reference)
    quoted_in_b = _quoted(b, reference)
    quoted = both & (quoted_in_a | quoted_in_b)
    common_shared = (both & common) - quoted if common else frozenset()
    shared = both - quoted - common_shared
    own_a = len(a.shingles - quoted_in_a - common)
    own_b = len(b.shingles - quoted_in_b - common)
    union = own_a + own_b - len(shared)
    passages_a: list[tuple[int, int]] = []
    passages_b: list[tuple[int, int]] = []
    quoted_a: list[tuple[int, int]] = []
    quoted_b: list[tuple[int, int]] = []
    if passages:
        passages_a, quoted_a = _passages(a, shared, common_shared, quoted)
        passages_b, quoted_b = _passages(b, shared, common_shared, quoted)
    return Comparison(
        jaccard=len(shared) / union if union else 0.0,
        containment_a=len(shared) / own_a if own_a else 0.0,
        containment_b=len(shared) / own_b if own_b else 0.0,
        shared=len(shared) + len(common_shared),
        quoted=len(quoted),
        passages_a=passages_a,
        passages_b=passages_b,
        quoted_a=quoted_a,
        quoted_b=quoted_b,
        counted=len(shared),
        own_a=own_a,
        own_b=own_b,
    )


def is_copy(c: Comparison, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """The decision: c.copy_score >= threshold (see Comparison.copy_score)."""
    return c.copy_score >= threshold
