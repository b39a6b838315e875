"""Synthetic Vietnamese-like learning reports on one resolution, with planted copies.

For tests and ``bench/similarity.py``; no Django. Everything is seeded: the same seed gives
the same texts in any process.

A report is built from a grammar of real Vietnamese words and phrases on the topic of a
trade-union resolution, drawn with Zipf-like weights, so that unrelated reports share the
collocations everybody uses ("đoàn viên và người lao động", "nâng cao chất lượng"), the
genre's stock sentences (openings, section headings, closings: every writer uses some of
them) and quotes of the resolution itself (the popular passages quoted by many). Planted
copies of a report are exact, edited at a given share of syllables (substitution,
insertion, deletion at random places), paragraph-reordered, embedded in a longer text, or
-- the negative case -- a report made of the resolution's own text, which must not be
flagged.

A report is a list of paragraphs, a paragraph a list of tokens (one syllable each, some
with punctuation attached); ``render`` joins them into text, and ``normalised`` gives the
syllables the fingerprint sees without building the text (the fast path for filler
reports; ``fingerprint(render(r)) == fingerprint_syllables(normalised(r))``).
"""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass, field
from itertools import accumulate

from quantriet.similarity.fingerprint import syllables

__all__ = [
    "Corpus",
    "Report",
    "edit",
    "embed",
    "normalised",
    "render",
    "reorder",
]

# --- vocabulary ----------------------------------------------------------------------------
# Each list is ordered from the most to the least frequent; weights fall as 1/rank**0.9.

_SUBJECTS = """bản thân tôi | chúng ta | mỗi cán bộ công đoàn | mỗi đoàn viên | tổ chức công đoàn |
ban chấp hành công đoàn cơ sở | công đoàn cơ sở | đơn vị chúng tôi | cán bộ công đoàn chuyên trách |
đội ngũ cán bộ | tập thể ban chấp hành | công đoàn cấp trên | chi bộ | người đứng đầu |
mỗi đảng viên | các tổ công đoàn | ban nữ công | ủy ban kiểm tra | công đoàn ngành | liên đoàn lao động tỉnh |
người sử dụng lao động | ban giám đốc | công nhân lao động | nữ đoàn viên | đoàn viên trẻ |
các cấp công đoàn | ban thường vụ | tổ trưởng sản xuất | người lao động | cơ quan chuyên môn"""

_NOUNS = """người lao động | đoàn viên | công nhân | tổ chức công đoàn | công đoàn | doanh nghiệp |
cán bộ công đoàn | nghị quyết | việc làm | đời sống | quyền lợi | lợi ích hợp pháp | tiền lương |
thu nhập | điều kiện làm việc | phong trào thi đua | nhiệm vụ | giải pháp | chất lượng hoạt động |
an toàn vệ sinh lao động | thỏa ước lao động tập thể | hợp đồng lao động | đối thoại tại nơi làm việc |
chính sách pháp luật | bảo hiểm xã hội | bảo hiểm y tế | nhà ở | thiết chế văn hóa | phúc lợi |
quan hệ lao động | tranh chấp lao động | năng suất lao động | sáng kiến | kỷ luật lao động |
tác phong công nghiệp | đạo đức | lối sống | tư tưởng chính trị | nhận thức | bản lĩnh chính trị |
năng lực | trình độ chuyên môn | kỹ năng nghề | chuyển đổi số | hội nhập quốc tế | khu công nghiệp |
khu vực ngoài nhà nước | doanh nghiệp có vốn đầu tư nước ngoài | nữ công nhân | con công nhân |
gia đình công nhân | bữa ăn ca | nhà trọ | thời giờ làm việc | thời giờ nghỉ ngơi | tai nạn lao động |
bệnh nghề nghiệp | quy chế dân chủ | cơ sở | địa phương | ngành | cơ quan | đơn vị | tổ sản xuất |
phân xưởng | nhà máy | hợp tác xã | trường học | bệnh viện | giai cấp công nhân | đội ngũ trí thức |
hệ thống chính trị | khối đại đoàn kết | Đảng | Nhà nước | Mặt trận Tổ quốc | nhân dân | đất nước |
dân tộc | thế hệ trẻ | truyền thống | vai trò | vị trí | sức mạnh | niềm tin | tinh thần | ý chí |
khát vọng | thành tựu | kết quả | hạn chế | nguyên nhân | bài học kinh nghiệm | thách thức | cơ hội |
khó khăn | nguy cơ | mục tiêu | quan điểm | chủ trương | đường lối | kế hoạch | chương trình |
phương châm | nội dung | phương thức | hình thức | mô hình | tiêu chí | chỉ tiêu | nguồn lực |
tài chính công đoàn | kinh phí | đoàn phí | quỹ xã hội | mái ấm công đoàn | tết sum vầy |
chuyến xe công đoàn | tháng công nhân | hội thi | diễn đàn | lớp tập huấn | tài liệu | mạng xã hội |
thông tin | dư luận | tâm tư nguyện vọng | ý kiến | kiến nghị | đề xuất | tiếng nói | lòng tin"""

_VERBS = """nâng cao | tăng cường | đẩy mạnh | phát huy | xây dựng | phát triển | bảo vệ | chăm lo |
đại diện | tuyên truyền | vận động | tập hợp | đoàn kết | tổ chức | thực hiện | triển khai |
quán triệt | học tập | nghiên cứu | nắm vững | vận dụng | đổi mới | cải tiến | hoàn thiện |
củng cố | kiện toàn | giám sát | kiểm tra | phối hợp với | tham gia | đóng góp vào | khắc phục |
ngăn chặn | phòng ngừa | đấu tranh với | giải quyết | hỗ trợ | giúp đỡ | động viên | khen thưởng |
bồi dưỡng | đào tạo | rèn luyện | tu dưỡng | chấp hành | tuân thủ | đề xuất | kiến nghị về |
lắng nghe | tiếp thu | đáp ứng | thúc đẩy | góp phần | hướng tới | bảo đảm | tạo điều kiện cho |
chú trọng | quan tâm đến | ưu tiên | khuyến khích | mở rộng | đa dạng hóa | số hóa | cụ thể hóa |
thể chế hóa | lan tỏa | nhân rộng | tôn vinh | nắm bắt | theo dõi | đánh giá | sơ kết | tổng kết |
rút kinh nghiệm về | đối thoại với | thương lượng với | ký kết | phát hiện | xử lý | định hướng"""

_ADJECTIVES = """vững mạnh | toàn diện | sâu sắc | thiết thực | hiệu quả | chặt chẽ | kịp thời | đồng bộ |
bền vững | hài hòa | ổn định | tiến bộ | văn minh | dân chủ | công bằng | trong sạch | minh bạch |
sáng tạo | năng động | tích cực | chủ động | nghiêm túc | đầy đủ | cụ thể | rõ ràng | mới |
quan trọng | cơ bản | lâu dài | cấp bách | to lớn | đúng đắn | phù hợp | thiết yếu | chính đáng |
hợp pháp | lành mạnh | an toàn | thân thiện | gắn bó | chuyên nghiệp | thực chất | sâu rộng"""

_ADVERBS = """ngày càng | không ngừng | thường xuyên | liên tục | tích cực | chủ động | kiên quyết |
từng bước | nhanh chóng | một cách thực chất | một cách sâu sắc | hơn nữa | có hiệu quả |
kịp thời | đồng bộ | quyết liệt | thực sự | nghiêm túc"""

_MODALS = """cần | phải | sẽ | đã | đang | cần phải | cần tiếp tục | phải luôn | sẽ tiếp tục |
đã và đang | luôn | tiếp tục | quyết tâm | có trách nhiệm | không ngừng | cam kết"""

_CONNECTORS = """đồng thời | bên cạnh đó | ngoài ra | trước hết | đặc biệt | nhất là | tuy nhiên |
mặt khác | vì vậy | do đó | thực tế cho thấy | có thể nói | qua đó | từ đó | trong thời gian tới |
trong những năm qua | hiện nay | thời gian qua | năm nay | trong nhiệm kỳ này"""

_PLACES = """tại đơn vị | ở cơ sở | trong doanh nghiệp | tại nơi làm việc | trong khu công nghiệp |
ở địa phương | trong tổ sản xuất | tại phân xưởng | trong cơ quan | trong nhà trường |
trong bệnh viện | tại khu nhà trọ | trên địa bàn | trong toàn ngành | trên không gian mạng"""

_PURPOSES = """để | nhằm | góp phần | với mục tiêu | hướng tới | để từng bước | nhằm từng bước"""

_FAMILY = "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý".split()
_MIDDLE = "Văn Thị Hữu Đức Minh Thanh Ngọc Quang Thu Hoài Xuân Kim Bảo Gia".split()
_GIVEN = """An Anh Bình Chi Cường Dũng Dung Giang Hà Hải Hằng Hạnh Hiền Hiếu Hòa Hoa Hùng Hương
Huy Khánh Lan Linh Loan Long Mai Minh My Nam Nga Ngọc Nhung Phong Phúc Phương Quân Quang
Sơn Tâm Thảo Thắng Thành Thủy Tiến Trang Trung Tuấn Tùng Vân Việt Yến""".split()
_COMPANIES = """May Việt Tiến | Giày Thái Bình | Điện tử Samsung | Dệt Nam Định | Xi măng Hoàng Thạch |
Than Hà Lầm | Cao su Đồng Nai | Thủy sản Minh Phú | Cơ khí Hà Nội | Bia Sài Gòn | Sữa Việt Nam |
Điện lực miền Bắc | Đường sắt | Cảng Hải Phòng | Phân bón Cà Mau | Giấy Bãi Bằng""".split("|")
_PROVINCES = """Hà Nội | Thành phố Hồ Chí Minh | Hải Phòng | Đà Nẵng | Cần Thơ | Bắc Ninh | Bình Dương |
Đồng Nai | Nghệ An | Thanh Hóa | Quảng Ninh | Thái Nguyên | Khánh Hòa | Lâm Đồng | Huế""".split("|")

# --- the genre's stock sentences (every writer uses a few) -------------------------------
_OPENINGS = [
    "Thực hiện kế hoạch của cấp ủy và công đoàn cấp trên, tôi đã tham gia đầy đủ hội nghị học "
    "tập, quán triệt nghị quyết.",
    "Qua học tập, quán triệt nghị quyết, bản thân tôi nhận thức sâu sắc hơn về vị trí, vai trò "
    "của tổ chức công đoàn trong tình hình mới.",
    "Được sự quan tâm của ban chấp hành, tôi đã được tham dự hội nghị học tập, quán triệt nghị "
    "quyết tại điểm cầu của đơn vị.",
    "Sau khi nghiên cứu các chuyên đề và nghe báo cáo viên truyền đạt, tôi xin trình bày bài "
    "thu hoạch như sau.",
    "Nghị quyết có ý nghĩa hết sức quan trọng đối với đội ngũ cán bộ, đoàn viên và người lao động.",
    "Nghị quyết là kim chỉ nam cho hoạt động của các cấp công đoàn trong nhiệm kỳ tới.",
]
_HEADINGS = [
    [
        "I. Nhận thức về những nội dung cơ bản của nghị quyết",
        "I. Những nội dung cơ bản, cốt lõi của nghị quyết",
        "Phần thứ nhất: nhận thức của bản thân về nghị quyết",
    ],
    [
        "II. Liên hệ thực tiễn tại đơn vị và bản thân",
        "II. Liên hệ với thực tiễn công tác công đoàn tại cơ sở",
        "Phần thứ hai: liên hệ bản thân",
    ],
    [
        "III. Kế hoạch hành động của bản thân",
        "III. Phương hướng, giải pháp thực hiện nghị quyết",
        "Phần thứ ba: đề xuất, kiến nghị",
    ],
]
_SECTION_LEADS = [
    "Nghị quyết đã đánh giá khách quan, toàn diện kết quả thực hiện nghị quyết nhiệm kỳ trước.",
    "Tôi đặc biệt tâm đắc với những quan điểm chỉ đạo được nêu trong nghị quyết.",
    "Qua liên hệ thực tiễn, tôi nhận thấy đơn vị đã đạt được nhiều kết quả quan trọng, song vẫn "
    "còn một số hạn chế.",
    "Để đưa nghị quyết vào cuộc sống, bản thân tôi xác định cần thực hiện tốt một số nội dung sau.",
    "Bên cạnh những kết quả đạt được, vẫn còn những tồn tại, hạn chế cần khắc phục.",
    "Nguyên nhân của những hạn chế trên có cả nguyên nhân khách quan và chủ quan.",
    "Từ những nhận thức trên, tôi đề ra kế hoạch hành động cụ thể như sau.",
    "Trong thời gian tới, tôi sẽ tập trung thực hiện tốt các nhiệm vụ trọng tâm sau đây.",
]
_CLOSINGS = [
    "Trên đây là bài thu hoạch của tôi sau khi học tập, quán triệt nghị quyết.",
    "Tôi xin hứa sẽ thực hiện nghiêm túc nghị quyết, góp phần xây dựng tổ chức công đoàn vững "
    "mạnh.",
    "Rất mong nhận được sự góp ý của ban chấp hành để bản thân tôi tiến bộ hơn.",
    "Tôi xin chân thành cảm ơn.",
]

_HEADER = "BÀI THU HOẠCH | Học tập, quán triệt Nghị quyết Đại hội Công đoàn Việt Nam lần thứ XIII"


def _split(block: str) -> list[str]:
    return [w.strip() for w in block.replace("\n", " ").split("|") if w.strip()]


@dataclass(frozen=True)
class _Pool:
    """Phrases of one category with cumulative Zipf-like weights."""

    items: tuple[tuple[str, ...], ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, phrases: list[str], exponent: float = 0.9) -> _Pool:
        weights = [1 / (rank + 1) ** exponent for rank in range(len(phrases))]
        return cls(tuple(tuple(p.split()) for p in phrases), tuple(accumulate(weights)))

    def pick(self, rng: random.Random) -> tuple[str, ...]:
        return self.items[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


_P = {
    name: _Pool.of(_split(block))
    for name, block in {
        "subject": _SUBJECTS,
        "noun": _NOUNS,
        "verb": _VERBS,
        "adj": _ADJECTIVES,
        "adv": _ADVERBS,
        "modal": _MODALS,
        "conn": _CONNECTORS,
        "place": _PLACES,
        "purpose": _PURPOSES,
    }.items()
}
_ALL_SYLLABLES: tuple[str, ...] = tuple(
    sorted({s for pool in _P.values() for item in pool.items for s in item})
)


def _np(rng: random.Random) -> list[str]:
    """A noun phrase: noun [adjective] [của noun] [và noun]."""
    words = list(_P["noun"].pick(rng))
    r = rng.random()
    if r < 0.3:
        words += _P["adj"].pick(rng)
    elif r < 0.55:
        words += ["của", *_P["noun"].pick(rng)]
    elif r < 0.7:
        words += ["và", *_P["noun"].pick(rng)]
    elif r < 0.78:
        words = ["các", *words]
    elif r < 0.85:
        words = ["những", *words]
    return words


def _vp(rng: random.Random) -> list[str]:
    words = list(_P["verb"].pick(rng)) + _np(rng)
    if rng.random() < 0.25:
        words += _P["place"].pick(rng)
    return words


def _sentence(rng: random.Random, own: bool = True) -> list[str]:
    """One sentence of the writer's own text (own=False: the resolution's register)."""
    form = rng.random()
    words: list[str] = []
    if rng.random() < 0.25:
        words += [*_P["conn"].pick(rng), ","]
    subject = list(_P["subject"].pick(rng)) if own else ["các", "cấp", "công", "đoàn"]
    if form < 0.4:
        words += subject + list(_P["modal"].pick(rng))
        if rng.random() < 0.3:
            words += _P["adv"].pick(rng)
        words += _vp(rng)
        if rng.random() < 0.5:
            words += [",", *_vp(rng)]
        if rng.random() < 0.4:
            words += [*_P["purpose"].pick(rng), *_vp(rng)]
    elif form < 0.6:
        words += _np(rng) + ["là", *_P["noun"].pick(rng), *_P["adj"].pick(rng)]
        if rng.random() < 0.5:
            words += ["của", *_np(rng)]
    elif form < 0.8:
        words += [*_P["purpose"].pick(rng), *_vp(rng), ",", *subject, *_P["modal"].pick(rng)]
        words += _vp(rng) + ["và", *_vp(rng)]
    else:
        words += _vp(rng) + [","] + _vp(rng)
        if rng.random() < 0.5:
            words += [",", *_vp(rng)]
        words += ["là", "nhiệm", "vụ", *_P["adj"].pick(rng)]
        if own and rng.random() < 0.5:
            words += ["của", *subject]
    return words


def _tokens(words: list[str], capital: bool = True) -> list[str]:
    """Attach punctuation to the previous syllable, capitalise, end with a full stop."""
    tokens: list[str] = []
    for w in words:
        if w == "," and tokens:
            if not tokens[-1].endswith(","):
                tokens[-1] += ","
        elif w != ",":
            tokens.append(w)
    if tokens:
        if capital:
            tokens[0] = tokens[0][:1].upper() + tokens[0][1:]
        tokens[-1] = tokens[-1].rstrip(",") + "."
    return tokens


def _stock(sentence: str) -> list[str]:
    return sentence.split()


@dataclass
class Report:
    """A generated report: paragraphs of tokens, with what it was made from."""

    paragraphs: list[list[str]]
    kind: str = "original"
    source: int | None = None
    """Index of the report (or template) it copies, if any."""
    edit_rate: float = 0.0


def render(report: Report) -> str:
    return "\n\n".join(" ".join(p) for p in report.paragraphs)


class _TokenSyllables(dict[str, tuple[str, ...]]):
    def __missing__(self, token: str) -> tuple[str, ...]:
        value = tuple(s for s, _a, _b in syllables(token))
        if len(self) > 200_000:
            self.clear()
        self[token] = value
        return value


_token_syllables = _TokenSyllables()


def normalised(report: Report) -> list[str]:
    """The normalised syllables of render(report), computed token by token."""
    lookup = _token_syllables.__getitem__
    return [s for paragraph in report.paragraphs for t in map(lookup, paragraph) for s in t]


def _syllable_count(paragraphs: list[list[str]]) -> int:
    return sum(len(p) for p in paragraphs)


@dataclass
class Corpus:
    """Reports on one resolution. ``corpus.report(i)`` is the same for the same seed."""

    seed: int = 1
    resolution_paragraphs: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = random.Random(f"resolution-{self.seed}")
        paragraphs = [
            _tokens(
                "Nghị quyết Đại hội Công đoàn Việt Nam lần thứ XIII nhiệm kỳ 2023 - 2028".split(),
                capital=True,
            )
        ]
        for _ in range(24):
            paragraph: list[str] = []
            for _ in range(rng.randint(3, 6)):
                paragraph += _tokens(_sentence(rng, own=False))
            paragraphs.append(paragraph)
        self.resolution_paragraphs = paragraphs
        # Passages (1-3 sentences) that writers quote; the first ones are quoted the most.
        self._quotes: list[list[str]] = []
        for paragraph in paragraphs[1:]:
            sentences = _sentences_of(paragraph)
            for i in range(0, len(sentences), 2):
                self._quotes.append([t for s in sentences[i : i + 2] for t in s])
        rng.shuffle(self._quotes)
        self._quote_pool = tuple(accumulate(1 / (r + 1) ** 0.8 for r in range(len(self._quotes))))

    @property
    def resolution(self) -> str:
        return "\n\n".join(" ".join(p) for p in self.resolution_paragraphs)

    def _quote(self, rng: random.Random) -> list[str]:
        i = bisect(self._quote_pool, rng.random() * self._quote_pool[-1])
        lead = rng.choice(
            [
                ["Nghị", "quyết", "nêu", "rõ:"],
                ["Nghị", "quyết", "khẳng", "định:"],
                ["Như", "nghị", "quyết", "đã", "chỉ", "ra:"],
                ["Nghị", "quyết", "xác", "định:"],
            ]
        )
        quote = list(self._quotes[i])
        quote[0] = "“" + quote[0]
        quote[-1] = quote[-1] + "”"
        return lead + quote

    def _own_paragraph(self, rng: random.Random, quotes: float) -> list[str]:
        paragraph: list[str] = []
        for _ in range(rng.randint(3, 6)):
            if rng.random() < quotes:
                paragraph += self._quote(rng)
            else:
                paragraph += _tokens(_sentence(rng))
        return paragraph

    def _header(self, rng: random.Random) -> list[list[str]]:
        name = f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
        company = rng.choice(_COMPANIES).strip()
        province = rng.choice(_PROVINCES).strip()
        title, subtitle = _HEADER.split(" | ")
        unit = f"Đơn vị: Công đoàn cơ sở Công ty {company}, {province}."
        return [title.split(), subtitle.split(), f"Họ và tên: {name}.".split(), unit.split()]

    def generate(self, rng: random.Random, syllables: int | None = None) -> Report:
        """A new original report of about `syllables` syllables (random size if None)."""
        target = syllables or int(min(3000, max(300, rng.lognormvariate(6.85, 0.45))))
        quotes = rng.choice([0.0, 0.05, 0.1, 0.2])
        paragraphs = self._header(rng)
        paragraphs.append(_stock(rng.choice(_OPENINGS)))
        body: list[list[str]] = []
        sections = [[] for _ in range(3)]  # type: list[list[list[str]]]
        size = 0
        section = 0
        while size < target:
            paragraph = self._own_paragraph(rng, quotes)
            if rng.random() < 0.3:
                paragraph = _stock(rng.choice(_SECTION_LEADS)) + paragraph
            sections[section % 3].append(paragraph)
            section += 1
            size += len(paragraph)
        for number, paragraphs_of_section in enumerate(sections):
            body.append(_stock(rng.choice(_HEADINGS[number])))
            body += paragraphs_of_section
        paragraphs += body
        closing = rng.sample(_CLOSINGS, rng.randint(1, 3))
        paragraphs.append([t for s in closing for t in s.split()])
        return Report(paragraphs)

    def quote_only(self, rng: random.Random) -> Report:
        """A report made of the resolution's own text (and stock sentences): not a copy."""
        paragraphs = self._header(rng)
        paragraphs.append(_stock(rng.choice(_OPENINGS)))
        start = rng.randint(1, len(self.resolution_paragraphs) - 6)
        for p in self.resolution_paragraphs[start : start + rng.randint(3, 6)]:
            paragraphs.append(["Nghị", "quyết", "nêu", "rõ:", *p])
        paragraphs.append(_CLOSINGS[0].split())
        return Report(paragraphs, kind="quote_only")

    def report(self, index: int) -> Report:
        """Report number `index` of this corpus (deterministic)."""
        return self.generate(random.Random(self.seed * 1_000_003 + index))


def _sentences_of(paragraph: list[str]) -> list[list[str]]:
    sentences: list[list[str]] = [[]]
    for token in paragraph:
        sentences[-1].append(token)
        if token.endswith((".", "”")):
            sentences.append([])
    return [s for s in sentences if s]


# --- planted copies ------------------------------------------------------------------------


def edit(report: Report, rate: float, rng: random.Random) -> list[list[str]]:
    """Paragraphs with round(rate * syllables) random syllables edited: each edit is a
    substitution (half), an insertion or a deletion (a quarter each)."""
    positions = [
        (p, i) for p, paragraph in enumerate(report.paragraphs) for i in range(len(paragraph))
    ]
    chosen = rng.sample(positions, round(rate * len(positions)))
    ops: dict[tuple[int, int], str] = {}
    for pos in chosen:
        r = rng.random()
        ops[pos] = "sub" if r < 0.5 else "ins" if r < 0.75 else "del"
    out: list[list[str]] = []
    for p, paragraph in enumerate(report.paragraphs):
        new: list[str] = []
        for i, token in enumerate(paragraph):
            op = ops.get((p, i))
            if op is None:
                new.append(token)
            elif op == "sub":
                new.append(_replacement(token, rng))
            elif op == "ins":
                new += [rng.choice(_ALL_SYLLABLES), token]
        out.append(new)
    return [p for p in out if p]


def _replacement(token: str, rng: random.Random) -> str:
    """Another syllable in place of `token`, keeping its punctuation."""
    core = token.strip(".,:“”")
    word = rng.choice(_ALL_SYLLABLES)
    while word == core.lower():
        word = rng.choice(_ALL_SYLLABLES)
    return token.replace(core, word, 1) if core else word


def copy_of(
    corpus: Corpus, source: Report, index: int, rng: random.Random, rate: float = 0.0
) -> Report:
    """A copy under another writer's name, with `rate` of its syllables edited."""
    body = Report(source.paragraphs[4:])
    paragraphs = corpus._header(rng) + (edit(body, rate, rng) if rate else body.paragraphs)
    return Report(paragraphs, kind="edit" if rate else "exact", source=index, edit_rate=rate)


def reorder(
    corpus: Corpus, source: Report, index: int, rng: random.Random, rate: float = 0.0
) -> Report:
    """A copy with its paragraphs shuffled (and `rate` of the syllables edited)."""
    copy = copy_of(corpus, source, index, rng, rate)
    head, body = copy.paragraphs[:4], copy.paragraphs[4:]
    order = list(range(len(body)))
    while len(order) > 1 and order == sorted(order):
        rng.shuffle(order)
    return Report(head + [body[i] for i in order], "reordered", index, rate)


def embed(
    corpus: Corpus,
    source: Report,
    index: int,
    rng: random.Random,
    rate: float = 0.0,
    extra: float = 1.0,
) -> Report:
    """A copy (with `rate` edited) inside a text `extra` times as long again of own
    paragraphs, half before and half after it."""
    copy = copy_of(corpus, source, index, rng, rate)
    head, body = copy.paragraphs[:4], copy.paragraphs[4:]
    own = corpus.generate(rng, syllables=max(100, int(extra * _syllable_count(body))))
    own_body = own.paragraphs[4:]
    half = len(own_body) // 2
    return Report(head + own_body[:half] + body + own_body[half:], "inside", index, rate)
