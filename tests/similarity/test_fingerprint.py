"""The copy-detection algorithm: normalisation, shingles, band keys, comparison, passages."""

import functools
import operator
import os
import random
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantriet.similarity import fingerprint as fp
from quantriet.similarity import synthetic as syn

ROOT = Path(__file__).resolve().parents[2]
BIGINT = range(-(2**63), 2**63)

PARAGRAPH_1 = (
    "Qua học tập nghị quyết, bản thân tôi nhận thức sâu sắc hơn về vai trò của công đoàn cơ sở "
    "trong doanh nghiệp ngoài nhà nước. Tại đơn vị, ban chấp hành đã tổ chức đối thoại định kỳ "
    "với người sử dụng lao động, thương lượng thỏa ước lao động tập thể có nhiều điều khoản có "
    "lợi hơn luật."
)
PARAGRAPH_2 = (
    "Tôi sẽ chủ động nắm bắt tâm tư của công nhân ca đêm, đề xuất xây dựng nhà trẻ cho con "
    "công nhân, phối hợp với chuyên môn cải thiện bữa ăn giữa ca và vận động thêm hai mươi "
    "đoàn viên mới trong năm nay."
)
OTHER = (
    "Là giáo viên trường trung học phổ thông, tôi tâm đắc nhất phần nói về đổi mới phương thức "
    "hoạt động. Công đoàn trường sẽ số hóa hồ sơ đoàn viên, tổ chức hội thi giáo viên dạy giỏi "
    "gắn với phong trào thi đua, thăm hỏi kịp thời thầy cô có hoàn cảnh khó khăn, và kiến nghị "
    "nhà trường công khai các khoản thu chi theo quy chế dân chủ ở cơ sở."
)
RESOLUTION = (
    "Nghị quyết xác định mục tiêu tổng quát là xây dựng tổ chức công đoàn vững mạnh toàn diện, "
    "đổi mới nội dung và phương thức hoạt động, hướng mạnh về cơ sở, lấy đoàn viên và người lao "
    "động làm trung tâm, chăm lo đời sống vật chất và tinh thần cho người lao động."
)


@pytest.fixture(scope="module")
def corpus():
    return syn.Corpus(seed=3)


def _norm(text):
    return [s for s, _a, _b in fp.syllables(text)]


# --- normalisation ---------------------------------------------------------------------


def test_tones_are_kept_and_their_placement_unified():
    assert _norm("học") != _norm("hóc")
    assert _norm("Hoà bình, THUỶ lợi; khoẻ") == _norm("hòa bình thủy lợi khỏe")
    assert _norm("Hoà bình, THUỶ lợi; khoẻ") == ["hòa", "bình", "thủy", "lợi", "khỏe"]
    assert fp.fingerprint("học sinh giỏi toán lý hóa").shingles != (
        fp.fingerprint("hóc sinh giỏi toán lý hóa").shingles
    )


def test_nfd_input_gives_the_same_syllables_and_offsets_into_the_nfd_text():
    nfc = "Nguyễn Đức Hoà, người lao động."
    nfd = unicodedata.normalize("NFD", nfc)
    assert len(nfd) > len(nfc)
    assert [s for s, *_ in fp.syllables(nfd)] == [s for s, *_ in fp.syllables(nfc)]
    for syllable, start, end in fp.syllables(nfd):
        piece = unicodedata.normalize("NFC", nfd[start:end]).lower()
        assert fp.normalize_syllable(piece) == syllable
    assert fp.fingerprint(nfd) == fp.fingerprint(nfc)


def test_case_punctuation_and_whitespace_do_not_matter():
    a = fp.fingerprint("CÔNG ĐOÀN cơ sở — “vững mạnh”,\n\n  toàn diện!")
    b = fp.fingerprint("công đoàn cơ sở vững mạnh toàn diện")
    assert a == b and a.syllables == 8


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(
    list("aăâđeêoôơuưy AĐ_-,.:;“”\n\t0123456789") + ["\u0300", "\u0301", "\u0303",
                                                    "\u0309", "\u0323", "ạ", "ữ", "·"]),
    max_size=60))
def test_the_fast_token_pattern_finds_the_same_tokens(text):
    expected = [(m.start(), m.end()) for m in fp._TOKEN.finditer(text)]
    assert [(m.start(), m.end()) for m in fp._tokens(text).finditer(text)] == expected
    if "_" not in text:
        assert [(m.start(), m.end()) for m in fp._TOKEN_FAST.finditer(text)] == expected


def test_an_underscore_separates_syllables():
    assert _norm("công_đoàn cơ_sở") == ["công", "đoàn", "cơ", "sở"]


def test_empty_and_short_texts():
    empty = fp.fingerprint("")
    assert empty.syllables == 0 and not empty.shingles and len(empty.bands) == fp.BANDS
    short = fp.fingerprint("công đoàn")
    assert short.syllables == 2 and len(short.shingles) == 1 and len(short.bands) == fp.BANDS
    assert not fp.is_copy(fp.compare("công đoàn", "công đoàn"))  # too little to judge


# --- keys -------------------------------------------------------------------------------


def test_keys_fit_a_postgresql_bigint(corpus):
    print_ = fp.fingerprint(syn.render(corpus.report(0)))
    assert len(print_.bands) == fp.BANDS
    assert all(k in BIGINT and k >= 0 for k in print_.bands)
    assert all(h in BIGINT for h in print_.shingles)
    assert set(print_.bands) <= print_.probes
    assert fp.BANDS < len(print_.probes) <= fp.BANDS * (fp.PROBES + 1)


def test_fingerprints_are_the_same_in_another_process():
    text = PARAGRAPH_1 + " " + PARAGRAPH_2
    code = (
        "import sys; from quantriet.similarity import fingerprint as fp;"
        "f = fp.fingerprint(sys.stdin.read());"
        "print(sorted(f.shingles)[:5], f.bands)"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", code], input=text, env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True)
        outputs.add(run.stdout)
    f = fp.fingerprint(text)
    assert outputs == {f"{sorted(f.shingles)[:5]} {f.bands}\n"}


def test_shingle_hashes_are_the_tabulation_of_their_syllables(corpus):
    """A run's hash is the XOR of the j-th value of its j-th syllable, for every run."""
    for size in (0, 1, 3, 4, 5, 6, 40):
        words = [s for s, *_ in fp.syllables(syn.render(corpus.report(size)))][:size]
        expected = [0]
        if len(words) >= fp.SHINGLE:
            expected = [
                functools.reduce(operator.xor, (fp._values[words[i + j]][j]
                                                for j in range(fp.SHINGLE)))
                for i in range(len(words) - fp.SHINGLE + 1)]
        elif words:
            expected = [functools.reduce(operator.xor, (fp._values[w][j]
                                                        for j, w in enumerate(words)))]
        else:
            expected = []
        assert fp.shingle_hashes(words) == expected


def test_fast_path_matches_the_text(corpus):
    for i in range(5):
        report = corpus.report(i)
        ignore = fp.fingerprint(corpus.resolution).shingles
        assert fp.fingerprint(syn.render(report), ignore=ignore) == fp.fingerprint_syllables(
            syn.normalised(report), ignore=ignore
        )


def test_ignored_shingles_leave_the_band_keys():
    text = RESOLUTION + " " + PARAGRAPH_1
    reference = fp.fingerprint(RESOLUTION).shingles
    own = fp.fingerprint(text, ignore=reference)
    assert not set(own.bands) & reference
    assert own.shingles == fp.fingerprint(text).shingles  # all shingles are still listed


def test_band_collisions_estimate_jaccard(corpus):
    """P(a band key is shared) is the Jaccard index of the (non-ignored) shingle sets."""
    rng = random.Random(4)
    shared = jaccard = 0.0
    for i in range(20):
        source = corpus.report(i)
        copy = syn.Report(syn.edit(source, 0.1, rng))
        a = fp.fingerprint(syn.render(source))
        b = fp.fingerprint(syn.render(copy))
        shared += sum(x == y for x, y in zip(a.bands, b.bands, strict=True)) / fp.BANDS
        jaccard += len(a.shingles & b.shingles) / len(a.shingles | b.shingles)
    assert abs(shared - jaccard) / 20 < 0.03


def _candidate(indexed: fp.Fingerprint, submitted: fp.Fingerprint) -> bool:
    return len(set(indexed.bands) & submitted.probes) >= fp.MIN_SHARED_BANDS


# --- decisions --------------------------------------------------------------------------


def test_exact_copy():
    text = PARAGRAPH_1 + "\n\n" + PARAGRAPH_2
    c = fp.compare(text, text)
    assert c.jaccard == c.containment_a == c.containment_b == 1.0
    assert fp.is_copy(c) and c.passages_a == [(0, len(text) - 1)]  # the final "." is not a syllable
    assert _candidate(fp.fingerprint(text), fp.fingerprint(text))


@pytest.mark.parametrize("rate", [0.05, 0.10, 0.20])
def test_edited_copies_are_found(corpus, rate):
    rng = random.Random(int(rate * 100))
    reference = fp.fingerprint(corpus.resolution).shingles
    for i in range(10):
        source = corpus.report(i)
        copy = syn.copy_of(corpus, source, i, rng, rate)
        a, b = syn.render(source), syn.render(copy)
        c = fp.compare(b, a, reference=reference)
        assert fp.is_copy(c), (i, c.score)
        assert c.containment_b > 0.2
        assert _candidate(fp.fingerprint(a, ignore=reference), fp.fingerprint(b, ignore=reference))


def test_short_copies_edited_a_fifth_are_found(corpus):
    """A report of 100 syllables keeps about a third of its 5-syllable runs when a fifth of
    its syllables are edited: some 30, at the edge of what MIN_SHARED once asked for."""
    rng = random.Random(100)
    for i in range(30):
        words = [t for p in corpus.report(i).paragraphs[5:] for t in p][:100]
        source = syn.Report([words])
        copy = syn.Report(syn.edit(source, 0.2, rng))
        a, b = syn.render(source), syn.render(copy)
        c = fp.compare(b, a)
        assert fp.is_copy(c), (i, c.shared, c.score)
        assert _candidate(fp.fingerprint(a), fp.fingerprint(b))
    # while two short reports of other writers are not copies
    for i in range(30):
        a = " ".join([t for p in corpus.report(i).paragraphs[5:] for t in p][:100])
        b = " ".join([t for p in corpus.report(i + 30).paragraphs[5:] for t in p][:100])
        assert not fp.is_copy(fp.compare(b, a)), i


def test_reordered_paragraphs(corpus):
    rng = random.Random(7)
    for i in range(5):
        source = corpus.report(i)
        copy = syn.reorder(corpus, source, i, rng)
        a, b = syn.render(source), syn.render(copy)
        assert a != b and sorted(a.split("\n\n")[4:]) == sorted(b.split("\n\n")[4:])
        c = fp.compare(b, a)
        assert fp.is_copy(c) and c.containment_b > 0.9  # the header is another writer's
        assert _candidate(fp.fingerprint(a), fp.fingerprint(b))


def test_copy_inside_a_longer_text_is_found_by_containment(corpus):
    rng = random.Random(8)
    for i in range(5):
        source = corpus.report(i)
        long = syn.embed(corpus, source, i, rng, rate=0.1, extra=2.0)
        a, b = syn.render(source), syn.render(long)
        assert len(b) > 2.5 * len(a)
        c = fp.compare(b, a)
        assert c.jaccard < 0.3 < c.containment_b
        assert fp.is_copy(c)
        assert _candidate(fp.fingerprint(a), fp.fingerprint(b))


def test_unrelated_reports_on_the_same_resolution_are_not_copies(corpus):
    reference = fp.fingerprint(corpus.resolution).shingles
    sample = (fp.fingerprint(syn.render(corpus.report(i))).shingles for i in range(300))
    common = fp.common_shingles(sample) - reference
    texts = [syn.render(corpus.report(i)) for i in range(1000, 1030)]
    prints = [fp.fingerprint(t, ignore=reference | common) for t in texts]
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            assert not _candidate(prints[i], prints[j])
            c = fp.compare(texts[i], texts[j], reference=reference, common=common, passages=False)
            assert not fp.is_copy(c) and c.score < fp.DEFAULT_THRESHOLD / 2
    c = fp.compare(PARAGRAPH_1 + " " + PARAGRAPH_2, OTHER)
    assert not fp.is_copy(c) and c.shared < 5


def test_quoting_the_resolution_is_not_copying(corpus):
    reference = fp.fingerprint(RESOLUTION).shingles
    a = f"{PARAGRAPH_1} Nghị quyết nêu rõ: “{RESOLUTION}”"
    b = f"Tôi tâm đắc với đoạn sau. {RESOLUTION} {OTHER}"
    c = fp.compare(a, b, reference=reference)
    assert not fp.is_copy(c) and c.shared == 0 and c.quoted > 40
    assert [a[s:e] for s, e in c.quoted_a] == [RESOLUTION[:-1]]
    assert [b[s:e] for s, e in c.quoted_b] == [RESOLUTION[:-1]]
    # without the reference the same pair would be a copy
    assert fp.is_copy(fp.compare(a, b))
    # reports made of the resolution's own text are not copies of each other either
    big = fp.fingerprint(corpus.resolution).shingles
    rng = random.Random(9)
    x, y = (syn.render(corpus.quote_only(rng)) for _ in range(2))
    assert not fp.is_copy(fp.compare(x, y, reference=big))


def test_quotes_inside_a_copy_are_labelled_not_counted():
    reference = fp.fingerprint(RESOLUTION).shingles
    a = f"{PARAGRAPH_1} {RESOLUTION} {PARAGRAPH_2}"
    b = f"{OTHER}\n\n{PARAGRAPH_1} {RESOLUTION} {PARAGRAPH_2}"
    c = fp.compare(a, b, reference=reference)
    assert fp.is_copy(c) and c.quoted > 30
    plain = fp.compare(a, b)
    assert plain.shared == c.shared + c.quoted
    for text, passages, quoted in ((a, c.passages_a, c.quoted_a), (b, c.passages_b, c.quoted_b)):
        shown = [text[s:e] for s, e in passages]
        assert any(p.startswith("Qua học tập nghị quyết") for p in shown)
        assert any(p.endswith("trong năm nay") for p in shown)
        assert all(RESOLUTION[20:80] not in p for p in shown)
        # the quote is labelled, except its first and last few syllables which belong to
        # shingles reaching into the copied text
        assert len(quoted) == 1 and RESOLUTION[40:120] in text[quoted[0][0] : quoted[0][1]]


def test_passages_point_into_the_original_strings():
    copied = "ban chấp hành đã tổ chức đối thoại định kỳ với người sử dụng lao động"
    a = f"Mở đầu riêng của tôi: học tập, rèn luyện. «{copied.upper()}»! Kết thúc khác hẳn."
    b = unicodedata.normalize("NFD", f"Một bài khác — {copied}; và những ý khác nữa.")
    c = fp.compare(a, b)
    assert c.shared == len(copied.split()) - fp.SHINGLE + 1
    [(sa, ea)] = c.passages_a
    [(sb, eb)] = c.passages_b
    assert a[sa:ea] == copied.upper()
    assert unicodedata.normalize("NFC", b[sb:eb]) == copied
    assert c.quoted_a == c.quoted_b == []


def test_common_phrases_are_neither_counted_nor_shown_alone():
    stock = "xây dựng tổ chức công đoàn vững mạnh toàn diện"
    common = fp.fingerprint(stock).shingles
    a = f"{stock}. {PARAGRAPH_1}"
    b = f"{OTHER} {stock}."
    c = fp.compare(a, b, common=common)
    assert c.counted == 0 and c.shared == len(common) and c.passages_a == [] and c.quoted == 0
    assert c.score == 0.0 and not fp.is_copy(c)
    # inside a copied passage they are highlighted with it
    d = fp.compare(f"{PARAGRAPH_1} {stock} {PARAGRAPH_2}", f"{PARAGRAPH_1} {stock} {PARAGRAPH_2}",
                   common=common)
    assert len(d.passages_a) == 1


def test_common_shingles():
    sets = [frozenset({1, 2, 3}), frozenset({1, 2}), frozenset({1, 4})] * 4
    assert fp.common_shingles(sets, min_fraction=0.5, min_count=1) == {1, 2}
    assert fp.common_shingles(sets, min_fraction=0.5, min_count=9) == {1}


def test_a_few_own_words_among_quotes_are_not_judged_by_their_ratio():
    reference = fp.fingerprint(RESOLUTION + " " + OTHER).shingles
    common = fp.fingerprint(PARAGRAPH_2).shingles  # stock sentences
    mine = "tôi là công nhân ca đêm"
    a = f"{RESOLUTION} {PARAGRAPH_2} {mine}."
    b = f"{OTHER} {RESOLUTION} {PARAGRAPH_2} {mine}, và tôi sẽ học tập thật tốt."
    c = fp.compare(a, b, reference=reference, common=common)
    assert c.shared >= fp.MIN_SHARED and c.own_a < fp.MIN_OWN
    assert c.containment_a > 0.5 and not fp.is_copy(c)


def test_threshold_and_minimum_shared():
    text = PARAGRAPH_1 + " " + PARAGRAPH_2
    c = fp.compare(text, text)
    assert fp.is_copy(c, 0.99) and not fp.is_copy(c, 1.01)
    tiny = fp.compare("đoàn viên công đoàn cơ sở vững mạnh", "đoàn viên công đoàn cơ sở vững mạnh")
    assert tiny.score == 1.0 and not fp.is_copy(tiny)
