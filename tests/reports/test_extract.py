"""Uploaded report files (quantriet/reports/extract.py): real files built here, byte by byte."""

from __future__ import annotations

import io
import struct
import threading
import unicodedata
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantriet.reports import extract
from quantriet.reports.extract import Extracted, RejectedFile, count_words, inspect_upload

MB = 1024 * 1024
LIMIT = 20 * MB
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NFD_NAME = unicodedata.normalize("NFD", "Nguyễn Văn Đức")
NFC_NAME = "Nguyễn Văn Đức"

# --- builders ------------------------------------------------------------------------

DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="{main}"/>'
    "</Types>"
)
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def p(*runs: str) -> str:
    """A Word paragraph with one run per argument (text split across runs on purpose)."""
    return (
        "<w:p>"
        + "".join(
            f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{r}</w:t></w:r>' for r in runs
        )
        + "</w:p>"
    )


def docx(
    body: str, *, main: str = DOCX_MAIN, extra: dict[str, bytes] | None = None, prolog: str = ""
) -> bytes:
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
        f'<w:document xmlns:w="{W_NS}" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        f"<w:body>{body}<w:sectPr/></w:body></w:document>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", DOCX_TYPES.replace("{main}", main))
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("word/document.xml", document)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)
MANIFEST_NS = 'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'


def odt(
    body: str,
    *,
    mimetype: str = "application/vnd.oasis.opendocument.text",
    manifest_extra: str = "",
    extra: dict[str, bytes] | None = None,
) -> bytes:
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODF_NS} '
        f'office:version="1.3"><office:body><office:text>{body}</office:text></office:body>'
        "</office:document-content>"
    )
    manifest = (
        f'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest {MANIFEST_NS} '
        'manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        f"{manifest_extra}</manifest:manifest>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # first, stored, as ODF requires
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


Line = str | list[tuple[int, str]]


def pdf(pages: list[list[Line]]) -> bytes:
    """A PDF written by hand: Helvetica with a ToUnicode map, so any text comes back out.

    Each distinct character gets a one-byte code; the ToUnicode CMap maps the code to the
    character's UTF-16 (which may be several code points: NFD input stays NFD in the PDF).
    Every character is 5.5 pt wide; a line given as ``[(column, text), …]`` is drawn
    piece by piece, in that order, each piece starting at its column.
    """

    def pieces(line: Line) -> list[tuple[int, str]]:
        return [(0, line)] if isinstance(line, str) else line

    units: list[str] = []  # what each code stands for
    for page in pages:
        for line in page:
            for _, text in pieces(line):
                for ch in _clusters(text):
                    if ch not in units:
                        units.append(ch)
    # Codes of printable ASCII, so that every code has a glyph in Helvetica (PDFium leaves
    # out a lone character without one); ASCII characters keep their own code.
    code = {u: ord(u) for u in units if len(u) == 1 and 32 <= ord(u) < 127}
    spare = iter(c for c in range(33, 127) if c not in code.values())
    code |= {u: next(spare) for u in units if u not in code}
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_obj = add(b"")
    bfchars = b"".join(
        b"<%02X> <%s>\n" % (code[u], u.encode("utf-16-be").hex().upper().encode()) for u in units
    )
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        b"1 begincodespacerange <00> <FF> endcodespacerange\n"
        + b"%d beginbfchar\n" % len(units)
        + bfchars
        + b"endbfchar\n"
        b"endcmap CMapName currentdict /CMap defineresource pop end end\n"
    )
    tounicode = add(b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream")
    widths = b" ".join(b"500" for _ in range(32, 127))
    font = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 32 /LastChar 126 "
        b"/Widths [%s] /ToUnicode %d 0 R >>" % (widths, tounicode)
    )
    kids = []
    for page in pages:
        ops = [b"BT /F1 11 Tf"]
        for row, line in enumerate(page):
            for column, text in pieces(line):
                hexed = bytes(code[c] for c in _clusters(text)).hex().encode()
                x, y = 40 + 5.5 * column, 800 - 14 * row
                ops.append(b"1 0 0 1 %.1f %d Tm <%s> Tj" % (x, y, hexed))
        ops.append(b"ET")
        stream = b"\n".join(ops)
        contents = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_obj, font, contents)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        xref,
    )
    return bytes(out)


def _clusters(line: str) -> list[str]:
    """A base character with the combining marks after it, as one unit."""
    out: list[str] = []
    for ch in line:
        if out and unicodedata.combining(ch):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def ole(*streams: str) -> bytes:
    """A minimal OLE compound file (version 3) whose directory names ``streams`` (empty)."""
    free, end, fatsect, nostream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into(
        "<IIIII", header, 40, 0, 1, 1, 0, 4096
    )  # dir sectors, FAT sectors, dir, txn, cutoff
    struct.pack_into("<IIII", header, 60, end, 0, end, 0)  # mini FAT, DIFAT
    struct.pack_into("<109I", header, 76, 0, *([free] * 108))
    fat = struct.pack("<128I", fatsect, end, *([free] * 126))

    def entry(name: str, kind: int, child: int = nostream, right: int = nostream) -> bytes:
        raw = (name + "\x00").encode("utf-16-le")
        e = bytearray(128)
        e[: len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), kind, 1)
        struct.pack_into("<III", e, 68, nostream, right, child)
        struct.pack_into("<II", e, 116, end, 0)
        return bytes(e)

    entries = [entry("Root Entry", 5, child=1 if streams else nostream)]
    for i, name in enumerate(streams):
        entries.append(entry(name, 2, right=i + 2 if i + 1 < len(streams) else nostream))
    directory = b"".join(entries).ljust(512, b"\x00")
    return bytes(header) + fat + directory


def rejected(data: bytes, name: str = "bai-thu-hoach.docx", limit: int = LIMIT) -> str:
    with pytest.raises(RejectedFile) as info:
        inspect_upload(data, name, limit)
    message = str(info.value)
    assert message and "Traceback" not in message
    return message


# --- accepted files ------------------------------------------------------------------


def test_docx_text_nfc_paragraphs_and_tables():
    body = (
        p("Bài thu hoạch của đồng chí ", NFD_NAME[:4], NFD_NAME[4:])
        + p("")
        + p("Học tập   và\tlàm theo")
        + "<w:tbl><w:tr>"
        + "<w:tc>"
        + p("Nhiệm vụ")
        + "</w:tc><w:tc>"
        + p("Giải pháp")
        + p("thứ hai")
        + "</w:tc>"
        + "</w:tr><w:tr><w:tc>"
        + p("1")
        + "</w:tc><w:tc>"
        + p("")
        + "</w:tc></w:tr></w:tbl>"
        + '<w:p><w:r><w:t>Xoá</w:t></w:r><w:del w:id="1"><w:r><w:delText>bỏ đi</w:delText></w:r></w:del>'
        + "<w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:tab/><w:t>hết</w:t></w:r></w:p>"
    )
    result = inspect_upload(docx(body), "bai.docx", LIMIT)
    assert isinstance(result, Extracted)
    assert result.kind == "docx" and result.pages is None
    assert result.text == (
        f"Bài thu hoạch của đồng chí {NFC_NAME}\n\n"
        "Học tập và làm theo\n\n"
        "Nhiệm vụ | Giải pháp thứ hai\n\n"
        "1\n\n"
        "Xoá hết"
    )
    assert unicodedata.is_normalized("NFC", result.text)
    assert result.words == count_words(result.text) == 23


def test_docx_text_box_counted_once_and_footnotes_included():
    box = (
        "<w:p><w:r><w:t>Trước </w:t></w:r><w:r><mc:AlternateContent>"
        '<mc:Choice Requires="wps"><w:drawing><w:txbxContent>'
        + p("Ô chữ")
        + "</w:txbxContent></w:drawing></mc:Choice>"
        "<mc:Fallback><w:pict><w:txbxContent>"
        + p("Ô chữ")
        + "</w:txbxContent></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r><w:r><w:t>sau</w:t></w:r></w:p>"
    )
    footnotes = (
        f'<?xml version="1.0"?><w:footnotes xmlns:w="{W_NS}"><w:footnote w:id="1">'
        + p("Chú thích: Nghị quyết số 02")
        + "</w:footnote></w:footnotes>"
    )
    result = inspect_upload(
        docx(box, extra={"word/footnotes.xml": footnotes.encode()}), "a.docx", LIMIT
    )
    assert result.text.split("\n\n") == ["Ô chữ", "Trước sau", "Chú thích: Nghị quyết số 02"]


def test_docx_named_pdf_is_still_a_docx():
    assert inspect_upload(docx(p("Nội dung")), "report.pdf", LIMIT).kind == "docx"


def test_file_objects_are_read_from_the_start_and_not_beyond_the_limit():
    class Counting(io.BytesIO):
        total = 0

        def read(self, n=-1):
            chunk = super().read(n)
            self.total += len(chunk)
            return chunk

    f = Counting(docx(p("Tệp tải lên")))
    f.seek(10)
    assert inspect_upload(f, "x.docx", LIMIT).text == "Tệp tải lên"

    big = Counting(b"\x00" * (3 * MB))
    assert "larger than" in rejected(big, limit=MB)
    assert big.total == 0  # seekable: its size is known without reading it

    class Stream(io.RawIOBase):  # not seekable, short reads
        def __init__(self, data):
            self.data, self.total = data, 0

        def readable(self):
            return True

        def read(self, n=-1):
            chunk, self.data = self.data[: min(n, 1000)], self.data[min(n, 1000) :]
            self.total += len(chunk)
            return chunk

    stream = Stream(b"\x00" * (3 * MB))
    assert "larger than" in rejected(stream, limit=MB)
    assert stream.total == MB + 1
    assert inspect_upload(Stream(docx(p("Từng phần"))), "a.docx", LIMIT).text == "Từng phần"


def test_odt_text():
    body = (
        "<text:h>Phần I. <text:span>Nhận th</text:span>ức</text:h>"
        f'<text:p>{NFD_NAME}<text:s text:c="3"/>đã<text:tab/>học'
        "<office:annotation><dc:creator>GV</dc:creator><text:p>nhận xét</text:p></office:annotation>"
        "<text:note><text:note-citation>1</text:note-citation><text:note-body>"
        "<text:p>Ghi chú cuối trang</text:p></text:note-body></text:note>"
        "</text:p>"
        "<table:table><table:table-row><table:table-cell><text:p>A</text:p></table:table-cell>"
        "<table:covered-table-cell/><table:table-cell><text:p>B</text:p></table:table-cell>"
        "</table:table-row></table:table>"
    )
    result = inspect_upload(odt(body), "bai.odt", LIMIT)
    assert result.kind == "odt"
    assert result.text.split("\n\n") == [
        "Phần I. Nhận thức",
        "Ghi chú cuối trang",
        f"{NFC_NAME} đã học",
        "A | B",
    ]


def test_pdf_text_nfc_and_pages():
    pages = [
        [f"Họ và tên: {NFD_NAME}", "Đơn vị: Công đoàn cơ sở", ""],
        ["Nghị quyết được quán triệt đầy đủ, nghiêm túc và sâu sắc đến", "mọi đoàn viên."],
    ]
    result = inspect_upload(pdf(pages), "bai.pdf", LIMIT)
    assert result.kind == "pdf" and result.pages == 2
    assert NFC_NAME in result.text
    assert unicodedata.is_normalized("NFC", result.text)
    assert (
        "Nghị quyết được quán triệt đầy đủ, nghiêm túc và sâu sắc đến mọi đoàn viên." in result.text
    )
    assert result.words == count_words(result.text)


def test_pdf_line_drawn_in_two_passes_is_put_in_reading_order():
    # LibreOffice draws the glyphs its main font lacks after the rest of the line.
    first_pass = [(0, "H"), (2, "c t"), (6, "p, quán tri"), (18, "t")]
    second_pass = [(1, "ọ"), (5, "ậ"), (17, "ệ")]
    result = inspect_upload(pdf([[first_pass + second_pass]]), "a.pdf", LIMIT)
    assert result.text == "Học tập, quán triệt"


def test_pdf_made_by_reportlab_keeps_paragraphs():
    from quantriet.conference.documents import FONT_DIR

    font = FONT_DIR / "DejaVuSans.ttf"  # vendored with the project
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    pdfmetrics.registerFont(TTFont("DejaVuSans", str(font)))
    style = ParagraphStyle("vi", fontName="DejaVuSans", fontSize=12, leading=16)
    first = "Công đoàn cơ sở tổ chức học tập nghị quyết cho toàn thể đoàn viên. " * 4
    second = "Mỗi đồng chí viết bài thu hoạch và gửi về đơn vị quản lý cán bộ. " * 3
    buf = io.BytesIO()
    SimpleDocTemplate(buf).build(
        [
            Paragraph("I. MỞ ĐẦU", style),
            Spacer(1, 12),
            Paragraph(first.strip(), style),
            Spacer(1, 12),
            Paragraph(second.strip(), style),
        ]
    )
    result = inspect_upload(buf.getvalue(), "bai.pdf", LIMIT)
    assert result.text.split("\n\n") == ["I. MỞ ĐẦU", first.strip(), second.strip()]


def test_pdf_extraction_from_several_threads():
    data = pdf([["Một hai ba bốn năm"]] * 3)
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(inspect_upload(data, "a.pdf", LIMIT).words)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == [15] * 20


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_count_words_is_tokens_with_a_letter_or_digit(text):
    expected = sum(1 for token in text.split() if any(ch.isalnum() for ch in token))
    assert count_words(text) == expected


def test_too_much_text_refused(monkeypatch):
    monkeypatch.setattr(extract, "MAX_TEXT_CHARS", 1000)
    assert "characters of text" in rejected(docx(p("chữ " * 300)))
    assert "characters of text" in rejected(odt("<text:p>" + "chữ " * 300 + "</text:p>"))
    lines = ["Một dòng chữ khá dài của bài thu hoạch số " + str(i) for i in range(30)]
    assert "characters of text" in rejected(pdf([lines]), "a.pdf")
    assert inspect_upload(docx(p("chữ " * 200)), "a.docx", LIMIT).words == 200


def test_count_words():
    assert count_words("Nguyễn Văn A - | … 2025 “ ”") == 4
    assert count_words("  ") == 0
    assert count_words("Đ/c Lê-Thị Hoà, (2) x") == 5


# --- refused files -----------------------------------------------------------------


def test_macro_docx_refused():
    assert "macros" in rejected(docx(p("x"), extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"}))
    assert "macros" in rejected(docx(p("x"), main=DOCM_MAIN))  # a .docm renamed
    assert "ActiveX" in rejected(docx(p("x"), extra={"word/activeX/activeX1.xml": b"<x/>"}))


def test_remote_template_refused_but_local_template_accepted():
    def rels(target: str) -> dict[str, bytes]:
        return {
            "word/_rels/settings.xml.rels": (
                '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                'openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" '
                f'Target="{target}" TargetMode="External"/></Relationships>'
            ).encode()
        }

    assert "template" in rejected(docx(p("x"), extra=rels("http://203.0.113.9/t.dotm")))
    local = rels("file:///C:\\Users\\a\\AppData\\Roaming\\Microsoft\\Templates\\Bao%20cao.dotx")
    assert inspect_upload(docx(p("x"), extra=local), "a.docx", LIMIT).text == "x"


def test_odt_with_macros_or_encryption_refused():
    basic = {"Basic/Standard/Module1.xml": b"<script:module/>", "Basic/script-lc.xml": b"<x/>"}
    assert "macros" in rejected(odt("<text:p>x</text:p>", extra=basic), "a.odt")
    entry = (
        '<manifest:file-entry manifest:full-path="Scripts/python/m.py" '
        'manifest:media-type="application/binary"/>'
    )
    assert "macros" in rejected(odt("<text:p>x</text:p>", manifest_extra=entry), "a.odt")
    encrypted = (
        '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml">'
        '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="AA==">'
        '<manifest:algorithm manifest:algorithm-name="Blowfish CFB" '
        'manifest:initialisation-vector="AA=="/></manifest:encryption-data></manifest:file-entry>'
    )
    assert "password" in rejected(odt("<text:p>x</text:p>", manifest_extra=encrypted), "a.odt")
    # an empty Basic library index alone is not a macro
    assert (
        inspect_upload(
            odt("<text:p>x</text:p>", extra={"Basic/script-lc.xml": b"<x/>"}), "a.odt", LIMIT
        ).text
        == "x"
    )


def test_encrypted_office_file_refused():
    message = rejected(ole("EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"))
    assert "protected by a password" in message


def test_old_office_formats_named():
    assert ".doc)" in rejected(ole("WordDocument", "1Table", "\x05SummaryInformation"))
    assert ".xls" in rejected(ole("Workbook"))
    assert "old-format Office" in rejected(ole("Something"))
    assert "not a .docx" in rejected(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 10)


def test_other_files_renamed_docx_named():
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 200
    assert "an image (PNG)" in rejected(png)
    assert "a Windows program" in rejected(b"MZ\x90\x00" + b"\x00" * 100)
    assert "plain text" in rejected("Bài thu hoạch\n".encode())
    assert "RTF" in rejected(b"{\\rtf1\\ansi hello}")
    xlsx = io.BytesIO()
    with zipfile.ZipFile(xlsx, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types><Override ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        )
        z.writestr("xl/workbook.xml", "<workbook/>")
    assert ".xlsx" in rejected(xlsx.getvalue())
    assert ".ods" in rejected(odt("", mimetype="application/vnd.oasis.opendocument.spreadsheet"))
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("a.txt", "x")
    assert "ZIP archive" in rejected(plain.getvalue())
    assert "not a .docx, .odt or .pdf" in rejected(b"\x01\x02\x03\xff\xfe" * 100)


def test_message_names_the_file_without_its_folder():
    assert "“anh.docx”" in rejected(b"\xff\xd8\xff\xe0" + b"\x00" * 100, "C:\\Users\\a\\anh.docx")


def test_empty_and_oversize_files_refused():
    assert "empty" in rejected(b"")
    data = docx(p("Nội dung"))
    assert "larger than" in rejected(data, limit=len(data) - 1)
    assert inspect_upload(data, "a.docx", len(data)).text == "Nội dung"


def test_truncated_and_damaged_files_refused():
    data = docx(p("Nội dung " * 500))
    for cut in (len(data) // 2, len(data) - 10, 40):
        assert "damaged" in rejected(data[:cut])
    broken_xml = docx("<w:p><w:r><w:t>không đóng thẻ</w:r></w:p>")
    assert "damaged" in rejected(broken_xml)
    assert "damaged" in rejected(b"%PDF-1.7\n" + b"\x00garbage" * 100, "a.pdf")


def test_doctype_refused():
    laughs = (
        '<!DOCTYPE w:document [<!ENTITY a "hahahahaha">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    )
    assert "DOCTYPE" in rejected(docx(p("&b;"), prolog=laughs))


def test_zip_bomb_refused(monkeypatch):
    monkeypatch.setattr(extract, "MAX_UNCOMPRESSED", MB)
    bomb = docx(p("x"), extra={"word/media/image1.png": b"\x00" * (2 * MB)})
    assert len(bomb) < 20_000
    assert "unpacks to more than" in rejected(bomb)
    big_text = docx(p("a" * (2 * MB)))
    assert "unpacks to more than" in rejected(big_text)


def test_zip_member_lying_about_its_size_refused(monkeypatch):
    data = bytearray(docx(p("Nội dung " * 20_000)))
    # shrink the declared size of word/document.xml in its local and central headers
    for sig, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = 0
        while (at := data.find(sig, at)) >= 0:
            name_at = at + (30 if sig == b"PK\x03\x04" else 46)
            if data[name_at : name_at + 17] == b"word/document.xml":
                struct.pack_into("<I", data, at + size_at, 100)
            at += 4
    assert "damaged" in rejected(bytes(data))


def test_too_many_members_refused(monkeypatch):
    monkeypatch.setattr(extract, "MAX_MEMBERS", 10)
    extra = {f"word/media/{i}.bin": b"" for i in range(20)}
    assert "parts" in rejected(docx(p("x"), extra=extra))


def test_encrypted_pdf_refused():
    import pypdf
    for user_password in ("mat-khau", ""):  # a password to open, or only restrictions
        writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf([["Bí mật"]])))
        writer.encrypt(user_password=user_password, owner_password="chu-so-huu")
        out = io.BytesIO()
        writer.write(out)
        assert "protected by a password" in rejected(out.getvalue(), "a.pdf")


def test_pdf_with_javascript_or_attachments_refused():
    import pypdf
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf([["Xin chào"]])))
    writer.add_open_action(pypdf.actions.JavaScript("app.alert('x');"))
    out = io.BytesIO()
    writer.write(out)
    assert "JavaScript" in rejected(out.getvalue(), "a.pdf")
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf([["Xin chào"]])))
    writer.add_attachment("virus.exe", b"MZ")
    out = io.BytesIO()
    writer.write(out)
    assert "attached" in rejected(out.getvalue(), "a.pdf")


def test_too_many_pdf_pages_refused(monkeypatch):
    monkeypatch.setattr(extract, "MAX_PAGES", 2)
    assert "pages" in rejected(pdf([["a"], ["b"], ["c"]]), "a.pdf")
