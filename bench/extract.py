"""Text extraction from uploaded reports: time and memory of ``inspect_upload``.

Builds three files in a temporary folder, deterministically, then measures each in a
fresh child process (so one file's peak memory does not hide another's) and prints one
JSON line:

    .venv/bin/python bench/extract.py            # add --runs N (default 5)

- ``docx_pictures``: a 10 MB .docx as a participant would send it: 40 pages of
  Vietnamese text (about 16,000 words, Word-style runs with properties) and three
  photos (incompressible bytes, 3 MB each) in ``word/media``.
- ``docx_longest``: the longest text accepted, 950,000 characters (about 195,000 words,
  some 400 pages) of the same markup, 0.5 MB.
- ``docx_text``: a 10 MB .docx of nothing but text in the same markup (21 million
  characters, 4.4 million words): refused once ``MAX_TEXT_CHARS`` (1,000,000) characters
  have been read; the figures are the time and memory to refuse it.
- ``pdf_50``: a 50-page PDF, A4, 12 pt DejaVu Sans embedded (reportlab), 46 lines a
  page (about 25,000 words).

For each: the file size, the median of ``--runs`` calls in milliseconds (the upload
passed as an open file, as Django hands it over, limit 20 MB), the words found, the peak
of Python allocations during one call (tracemalloc) and the growth of the child's peak
resident memory over its state before the first call (which includes PDFium's own
allocations, invisible to tracemalloc). For the PDF the same page texts are also taken
with pypdf (``PdfReader.extract_text``), when it is installed, for comparison.
"""

from __future__ import annotations

import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantriet.settings")

LIMIT = 20 * 1024 * 1024
TARGET = 10 * 1024 * 1024
FONTS = [
    ROOT / "quantriet/conference/fonts/DejaVuSans.ttf",
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
]
VOCABULARY = (
    "công đoàn đoàn viên nghị quyết học tập quán triệt người lao động tổ chức cơ sở phát "
    "triển nâng cao chất lượng hoạt động đại hội nhiệm kỳ thực hiện tuyên truyền giáo dục "
    "chính trị tư tưởng đạo đức lối sống việc làm thu nhập đời sống bảo vệ quyền lợi hợp "
    "pháp chính đáng đồng chí cán bộ chuyên trách đơn vị quản lý phong trào thi đua "
    "doanh nghiệp khu công nghiệp xã phường tỉnh thành phố Trung ương Đảng Nhà nước"
).split()


def sentences(rng: random.Random) -> Any:
    while True:
        words = [rng.choice(VOCABULARY) for _ in range(rng.randint(8, 24))]
        yield " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, gen: Any) -> str:
    return " ".join(next(gen) for _ in range(rng.randint(2, 6)))


# --- files -----------------------------------------------------------------------------

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
RPR = (
    '<w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" '
    'w:cs="Times New Roman"/><w:sz w:val="28"/><w:szCs w:val="28"/><w:lang w:val="vi-VN"/>'
    "</w:rPr>"
)
PPR = '<w:pPr><w:spacing w:before="120" w:after="120" w:line="312" w:lineRule="auto"/><w:ind w:firstLine="567"/><w:jc w:val="both"/></w:pPr>'


def word_paragraph(text: str) -> str:
    """A paragraph the way Word writes it: runs of a few words, each with properties."""
    words = text.split(" ")
    runs = []
    for i in range(0, len(words), 7):
        chunk = " ".join(words[i : i + 7]) + (" " if i + 7 < len(words) else "")
        runs.append(f'<w:r>{RPR}<w:t xml:space="preserve">{chunk}</w:t></w:r>')
    return f"<w:p>{PPR}{''.join(runs)}</w:p>"


def docx(paragraphs: Any, media: list[bytes], target: int | None) -> bytes:
    """A .docx; with ``target``, paragraphs are added until the file reaches that size."""
    types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="jpeg" ContentType="image/jpeg"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="word/document.xml"/></Relationships>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels)
        for i, data in enumerate(media, 1):
            z.writestr(f"word/media/image{i}.jpeg", data, zipfile.ZIP_STORED)
        with z.open("word/document.xml", "w") as f:
            f.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<w:document xmlns:w="{W}"><w:body>'.encode()
            )
            for text in paragraphs:
                f.write(word_paragraph(text).encode())
                if target is not None and buf.tell() >= target:
                    break
            f.write(b"<w:sectPr/></w:body></w:document>")
    return buf.getvalue()


def docx_pictures(rng: random.Random) -> bytes:
    gen = sentences(rng)
    text = [paragraph(rng, gen) for _ in range(240)]  # ~40 pages of 14 pt text
    photos = [rng.randbytes(3_300_000) for _ in range(3)]
    return docx(iter(text), photos, None)


def docx_longest(rng: random.Random) -> bytes:
    gen = sentences(rng)
    text, total = [], 0
    while total < 950_000:
        text.append(paragraph(rng, gen))
        total += len(text[-1]) + 2
    return docx(iter(text), [], None)


def docx_text(rng: random.Random) -> bytes:
    gen = sentences(rng)
    return docx(iter(lambda: paragraph(rng, gen), None), [], TARGET)


def pdf_50(rng: random.Random) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    font = next(f for f in FONTS if f.exists())
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(font)))
    gen = sentences(rng)
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4)
    width, height = A4
    lines: list[str] = []
    for _page in range(50):
        canvas.setFont("DejaVuSans", 12)
        y = height - 60
        for _ in range(46):
            if not lines:
                lines = simpleSplit(paragraph(rng, gen), "DejaVuSans", 12, width - 120)
            canvas.drawString(60, y, lines.pop(0))
            y -= 16
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


# --- measuring (child process) -----------------------------------------------------------


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure(path: str, runs: int) -> dict[str, Any]:
    import django

    django.setup()
    from quantriet.reports.extract import Extracted, RejectedFile, inspect_upload

    def call() -> Extracted | str:
        with open(path, "rb") as f:
            try:
                return inspect_upload(f, Path(path).name, LIMIT)
            except RejectedFile as exc:
                return str(exc)

    before = rss_kib()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - t) * 1000)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    call()
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out: dict[str, Any] = {
        "bytes": Path(path).stat().st_size,
        "ms": round(statistics.median(times), 1),
        "python_peak_mb": round(traced / 2**20, 1),
        "rss_growth_mb": round((peak_rss - before) / 1024, 1),
    }
    if isinstance(result, str):
        return out | {"refused": result}
    out |= {
        "kind": result.kind,
        "words": result.words,
        "chars": len(result.text),
        "pages": result.pages,
    }
    if result.kind == "pdf":
        try:
            import pypdf
        except ImportError:
            return out
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            reader = pypdf.PdfReader(path)
            words = sum(len(page.extract_text().split()) for page in reader.pages)
            times.append((time.perf_counter() - t) * 1000)
        out["pypdf_ms"] = round(statistics.median(times), 1)
        out["pypdf_words"] = words
        out["pypdf_version"] = pypdf.__version__
    return out


def main() -> int:
    args = sys.argv[1:]
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else 5
    if "--measure" in args:
        print(json.dumps(measure(args[args.index("--measure") + 1], runs)))
        return 0
    out: dict[str, Any] = {"runs": runs, "limit_bytes": LIMIT}
    with tempfile.TemporaryDirectory() as tmp:
        builders = {
            "docx_pictures": docx_pictures,
            "docx_longest": docx_longest,
            "docx_text": docx_text,
            "pdf_50": pdf_50,
        }
        for name, build in builders.items():
            t = time.perf_counter()
            data = build(random.Random(1))
            path = Path(tmp) / f"{name}.{'pdf' if name.startswith('pdf') else 'docx'}"
            path.write_bytes(data)
            del data
            built_s = round(time.perf_counter() - t, 1)
            child = subprocess.run(
                [sys.executable, __file__, "--measure", str(path), "--runs", str(runs)],
                capture_output=True,
                text=True,
                check=True,
            )
            out[name] = json.loads(child.stdout) | {"built_s": built_s}
            print(name, out[name], file=sys.stderr)
    out["pypdfium2_version"] = metadata.version("pypdfium2")
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
