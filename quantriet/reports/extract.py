"""Uploaded report files: type checked by content, unsafe files refused, text extracted.

``inspect_upload(data, filename, max_bytes)`` reads at most ``max_bytes + 1`` bytes
(nothing at all from a seekable file that is larger),
decides what the file *is* from its first bytes and its structure (never from its name),
refuses what may not be stored, and returns the plain text of a ``.docx``, ``.odt`` or
``.pdf`` with its word count. Every refusal is a :class:`RejectedFile` whose message
tells the participant why, in their language (``gettext`` at call time). No traceback
ever reaches the caller for a bad file: damaged files are refused like the others.

What is recognised
- **docx**: a ZIP with ``[Content_Types].xml`` and ``word/document.xml``. Refused when it
  has macros (``vbaProject.bin``/``vbaData.xml`` or a ``macroEnabled`` content type, i.e.
  a ``.docm``/``.dotm`` renamed), ActiveX controls, or an attached template on another
  computer (the "remote template" trick that fetches macros when opened).
- **odt**: a ZIP whose ``mimetype`` member says ``application/vnd.oasis.opendocument.text``
  (or ``-template``). Refused when it has scripts (members or manifest entries under
  ``Basic/`` or ``Scripts/`` other than the empty library indexes) or is encrypted
  (``manifest:encryption-data`` or ``manifest:keyinfo`` in the manifest).
- **pdf**: ``%PDF-`` in the first 1,024 bytes (where readers look for it). Read with
  PDFium (``pypdfium2``; see docs/decisions.md). Refused when encrypted (a security
  handler, even with an empty user password), when it has document-level JavaScript or
  attached files, or more than :data:`MAX_PAGES` pages. Scripts: the document-level ones
  PDFium counts, and any ``/JavaScript``, ``/JS`` or ``/Launch`` in the file's
  uncompressed objects (an open action, a link); ones hidden in compressed object
  streams of annotations are not seen.
- Anything else is refused, naming what it is when that is known: an encrypted Office
  file (an OLE compound file holding ``EncryptionInfo``: "protected by a password"), an
  old ``.doc``/``.xls``/``.ppt``, an ``.xlsx``/``.pptx``/``.ods``, an image, a program,
  an archive, RTF, HTML, plain text.

Limits against hostile ZIPs: at most :data:`MAX_MEMBERS` members; the sizes the archive
declares may add up to at most :data:`MAX_UNCOMPRESSED` bytes, and the bytes actually
inflated while reading are counted against the same budget (a member that lies about its
size fails its CRC check and is refused as damaged). XML is parsed by expat, streaming,
with no DOCTYPE allowed (so no entity expansion, internal or external).

A file holding more than :data:`MAX_TEXT_CHARS` characters of text is refused as soon
as the count is passed, which bounds the time and memory one upload can take.

Text: paragraphs in document order, each NFC-normalised with its whitespace collapsed
(``quantriet.text.nfc``), control and invisible format characters removed, empty ones
dropped, joined by ``"\\n\\n"``. A table row is one paragraph with its cells joined by
``" | "``. docx: body, then footnotes and endnotes; headers, footers, comments, deleted
and moved-from text (tracked changes), field codes and the fallback copies of text boxes
are left out. odt: body text; annotations, note citations and tracked deletions are left
out. PDF: PDFium's text, each line in left-to-right order (lines drawn in several passes
are rebuilt from the characters' positions), lines joined into paragraphs by their
spacing, indentation and length (see ``_pdf_paragraphs``). A scanned PDF has no text: it
is accepted with ``words == 0`` and the caller decides what to do with it.

Words (:func:`count_words`): whitespace-separated tokens that contain at least one letter
or digit, so a Vietnamese syllable counts as a word ("Nguyễn Văn A" = 3), and "-", "|",
"…" alone do not. The browser editor counts the same way:
``text.split(/\\s+/).filter(t => /[\\p{L}\\p{N}]/u.test(t)).length``.
"""

from __future__ import annotations

import io
import re
import struct
import threading
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, NoReturn
from xml.parsers import expat

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from quantriet.text import nfc

__all__ = [
    "MAX_MEMBERS",
    "MAX_PAGES",
    "MAX_TEXT_CHARS",
    "MAX_UNCOMPRESSED",
    "Extracted",
    "RejectedFile",
    "count_words",
    "inspect_upload",
]

#: Most members a docx/odt may have (a long report with many pictures has a few hundred).
MAX_MEMBERS = 5_000
#: Most bytes the members of a docx/odt may unpack to, declared and actually read.
MAX_UNCOMPRESSED = 256 * 1024 * 1024
#: Most pages a PDF may have.
MAX_PAGES = 2_000
#: Most characters of text a file may hold (a long report has 50,000; this is ~400 pages).
MAX_TEXT_CHARS = 1_000_000

_CHUNK = 1 << 20
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODT_TYPES = {
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.text-template",
}
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main "
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006 "
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0 "
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "
_SVG = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0 "
_MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0 "
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships "

# Control characters, invisible format characters (soft hyphen, zero-width spaces,
# direction marks, BOM), private-use code points (symbol-font bullets in PDFs) and
# non-characters. Whitespace (tab, newlines, U+2028/9) is kept for the splitting.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\uffff\ue000-\uf8ff\ud800-\udfff]"
)
_SENTENCE_END = re.compile(r"[.!?:;…][\"'”’»)\]]*$")
# Scripts and program launches in the PDF's uncompressed objects (document-level scripts
# are also counted by PDFium, wherever they are stored).
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch)(?![A-Za-z0-9#_.-])")
# A whitespace-separated token without any letter or digit (\w is letters, digits and
# "_"; \s is what str.split splits on).
_NO_WORD = re.compile(r"(?<!\S)(?:[^\w\s]|_)+(?!\S)")
_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029]")

# PDFium keeps global state and is not thread-safe: one call at a time per process.
_PDFIUM_LOCK = threading.Lock()


class RejectedFile(ValueError):
    """An upload that is refused; ``str(error)`` is the reason, for the participant."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Extracted:
    """What an accepted upload is and the text in it."""

    kind: str  # "docx" | "odt" | "pdf"
    text: str  # NFC, paragraphs separated by "\n\n", whitespace collapsed inside them
    pages: int | None  # number of pages of a PDF; None for docx/odt
    words: int  # count_words(text)


def count_words(text: str) -> int:
    """Whitespace-separated tokens with at least one letter or digit (see module doc)."""
    return len(text.split()) - len(_NO_WORD.findall(text))


def inspect_upload(data: bytes | BinaryIO, filename: str, max_bytes: int) -> Extracted:
    """Check an uploaded report file and extract its text, or raise :class:`RejectedFile`.

    ``data`` is the content or a binary file object (a Django ``UploadedFile`` will do);
    a seekable file is read from its start, and at most ``max_bytes + 1`` bytes of it are
    read. ``filename`` is only used in messages: the type comes from the content.
    """
    raw = _read_limited(data, max_bytes)
    name = _display_name(filename)
    try:
        if raw.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            return _inspect_zip(raw, name)
        if raw.startswith(_OLE_MAGIC):
            raise _ole_refusal(raw, name)
        if b"%PDF-" in raw[:1024]:
            return _inspect_pdf(raw, name)
        raise _not_a_document(name, _what_is(raw))
    except RejectedFile:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        expat.ExpatError,
        struct.error,
        EOFError,
        OSError,
        NotImplementedError,
        RuntimeError,
        ValueError,
        IndexError,
        KeyError,
        UnicodeError,
    ) as exc:
        raise _damaged(name) from exc


# --- reading -------------------------------------------------------------------------


def _read_limited(data: bytes | BinaryIO, max_bytes: int) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
    else:
        try:
            if data.seekable():
                size = data.seek(0, io.SEEK_END)
                data.seek(0)
                if size > max_bytes:  # refused without reading anything
                    raise _too_large(max_bytes)
        except (AttributeError, OSError):
            pass
        # In chunks: read(max_bytes + 1) would allocate the whole limit at once.
        parts: list[bytes] = []
        total = 0
        while total <= max_bytes:
            chunk = data.read(min(_CHUNK, max_bytes + 1 - total))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
        raw = parts[0] if len(parts) == 1 else b"".join(parts)
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    if not raw:
        raise RejectedFile(_("The file is empty."))
    return raw


def _too_large(max_bytes: int) -> RejectedFile:
    return RejectedFile(
        _(
            "The file is larger than %(limit)s. Make it smaller (for example, compress "
            "its pictures) and upload it again."
        )
        % {"limit": filesizeformat(max_bytes)}
    )


def _display_name(filename: str) -> str:
    base = re.split(r"[\\/]", filename or "")[-1]
    base = _INVISIBLE.sub("", base).strip() or _("the file")
    return base if len(base) <= 80 else base[:77] + "…"


# --- messages ------------------------------------------------------------------------


def _damaged(name: str) -> RejectedFile:
    return RejectedFile(
        _(
            "“%(name)s” is damaged or incomplete and cannot be read. Open it in your word "
            "processor, save it again and upload the new file."
        )
        % {"name": name}
    )


def _password(name: str) -> RejectedFile:
    return RejectedFile(
        _(
            "“%(name)s” is protected by a password. Remove the password (or the "
            "encryption), save it and upload it again."
        )
        % {"name": name}
    )


def _macros(name: str) -> RejectedFile:
    return RejectedFile(
        _(
            "“%(name)s” contains macros, which are not accepted for safety. Save it as a "
            "document without macros (.docx or .odt) and upload it again."
        )
        % {"name": name}
    )


def _not_a_document(name: str, what: str | None) -> RejectedFile:
    if what:
        msg = _(
            "“%(name)s” is %(what)s, not a .docx, .odt or .pdf document. The type of "
            "a file is checked from its content, not from its name."
        )
        return RejectedFile(msg % {"name": name, "what": what})
    msg = _(
        "“%(name)s” is not a .docx, .odt or .pdf document. The type of a file is "
        "checked from its content, not from its name."
    )
    return RejectedFile(msg % {"name": name})


def _what_is(raw: bytes) -> str | None:
    """A phrase naming what the file is, from its first bytes; None when unknown."""
    head = raw[:64]
    images = (
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"\xff\xd8\xff", "JPEG"),
        (b"GIF87a", "GIF"),
        (b"GIF89a", "GIF"),
        (b"II*\x00", "TIFF"),
        (b"MM\x00*", "TIFF"),
        (b"BM", "BMP"),
    )
    for magic, fmt in images:
        if head.startswith(magic):
            return _("an image (%(format)s)") % {"format": fmt}
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _("an image (%(format)s)") % {"format": "WebP"}
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"avif"):
            return _("an image (%(format)s)") % {"format": "HEIC/AVIF"}
        return _("a video or audio file")
    if head.startswith(b"MZ"):
        return _("a Windows program")
    if head.startswith(b"\x7fELF"):
        return _("a program")
    archives = (
        (b"Rar!\x1a\x07", "RAR"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"\x1f\x8b", "gzip"),
        (b"BZh", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"),
    )
    for magic, fmt in archives:
        if head.startswith(magic):
            return _("a compressed archive (%(format)s)") % {"format": fmt}
    text = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    low = text[:200].lower()
    if low.startswith(b"{\\rtf"):
        return _("an RTF document")
    if low.startswith((b"<!doctype html", b"<html")) or b"<html" in low:
        return _("a web page (HTML)")
    if low.startswith(b"mime-version:"):
        return _("a web archive (MHTML)")
    if low.startswith(b"<?xml"):
        return _("an XML file")
    if b"\x00" not in text:
        try:
            text.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(text) - 3:  # not just a character cut at 4,096 bytes
                return None
        return _("a plain text file")
    return None


# --- OLE compound files (old Office formats, encrypted new ones) -----------------------


def _ole_refusal(raw: bytes, name: str) -> RejectedFile:
    names = {n.lower() for n in _ole_stream_names(raw)}
    if "encryptioninfo" in names or "encryptedpackage" in names:
        return _password(name)
    if "worddocument" in names:
        return RejectedFile(
            _(
                "“%(name)s” is an old-format Word document (.doc). Open it in Word or "
                "LibreOffice, save it as .docx and upload the new file."
            )
            % {"name": name}
        )
    if "workbook" in names or "book" in names:
        what = _("an Excel workbook (.xls)")
    elif "powerpoint document" in names:
        what = _("a PowerPoint presentation (.ppt)")
    elif any(n.startswith("__substg1.0_") for n in names):
        what = _("an Outlook message (.msg)")
    else:
        what = _("an old-format Office file")
    return _not_a_document(name, what)


def _ole_stream_names(raw: bytes) -> set[str]:
    """Names of the storages and streams of an OLE compound file (empty if unreadable).

    A minimal reader of [MS-CFB]: the header's DIFAT (and its chain), the FAT, then the
    directory chain. Loops are bounded by the sizes involved.
    """
    names: set[str] = set()
    last = 0xFFFFFFFA  # sector numbers at or above this are markers, not sectors
    try:
        shift = struct.unpack_from("<H", raw, 30)[0]
        if shift not in (9, 12):
            return names
        size = 1 << shift
        per = size // 4
        n_fat, first_dir = struct.unpack_from("<II", raw, 44)
        first_difat, n_difat = struct.unpack_from("<II", raw, 68)
        difat = list(struct.unpack_from("<109I", raw, 76))
        sector, hops = first_difat, 0
        while sector < last and hops < min(n_difat, 10_000):
            entries = struct.unpack_from(f"<{per}I", raw, (sector + 1) * size)
            difat.extend(entries[:-1])
            sector, hops = entries[-1], hops + 1
        fat: list[int] = []
        for s in difat[: min(n_fat, 100_000)]:
            if s >= last:
                break
            fat.extend(struct.unpack_from(f"<{per}I", raw, (s + 1) * size))
        sector, hops = first_dir, 0
        while sector < last and hops <= len(fat):
            base = (sector + 1) * size
            for i in range(size // 128):
                entry = raw[base + 128 * i : base + 128 * (i + 1)]
                if len(entry) < 128:
                    break
                length = struct.unpack_from("<H", entry, 64)[0]
                if 2 <= length <= 64 and entry[66] in (1, 2, 5):  # storage, stream, root
                    names.add(entry[: length - 2].decode("utf-16-le", "replace"))
            sector = fat[sector] if sector < len(fat) else last
            hops += 1
    except (struct.error, IndexError):
        pass
    return names


# --- ZIP containers: docx and odt ------------------------------------------------------


class _Budget:
    """Bytes that may still be inflated from the archive."""

    def __init__(self, name: str) -> None:
        self.left = MAX_UNCOMPRESSED
        self.name = name

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise _bomb(self.name)


def _bomb(name: str) -> RejectedFile:
    return RejectedFile(
        _(
            "“%(name)s” unpacks to more than %(limit)s, far more than any report; it was "
            "refused for safety."
        )
        % {"name": name, "limit": filesizeformat(MAX_UNCOMPRESSED)}
    )


def _zip_entry_count(raw: bytes) -> int | None:
    """The member count in the end-of-central-directory record, before parsing it all."""
    at = raw.rfind(b"PK\x05\x06", max(0, len(raw) - 65_557))
    if at < 0 or at + 22 > len(raw):
        return None
    count: int = struct.unpack_from("<H", raw, at + 10)[0]
    return None if count == 0xFFFF else count  # 0xFFFF: ZIP64, counted after parsing


def _too_many_parts(name: str) -> RejectedFile:
    return RejectedFile(
        _(
            "“%(name)s” has more than %(count)s parts, far more than any report; it was "
            "refused for safety."
        )
        % {"name": name, "count": MAX_MEMBERS}
    )


def _inspect_zip(raw: bytes, name: str) -> Extracted:
    count = _zip_entry_count(raw)
    if count is not None and count > MAX_MEMBERS:
        raise _too_many_parts(name)
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return _inspect_zip_members(zf, name)


def _inspect_zip_members(zf: zipfile.ZipFile, name: str) -> Extracted:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _too_many_parts(name)
    if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
        raise _bomb(name)
    members = {i.filename: i for i in infos}
    budget = _Budget(name)

    def read(member: str, limit: int | None = None) -> Iterator[bytes]:
        info = members[member]
        if info.flag_bits & 0x1:
            raise _password(name)
        with zf.open(info) as f:
            got = 0
            while chunk := f.read(_CHUNK):
                budget.spend(len(chunk))
                got += len(chunk)
                if limit is not None and got > limit:
                    raise _damaged(name)
                yield chunk

    if "mimetype" in members:
        mimetype = b"".join(read("mimetype", 200)).decode("ascii", "replace").strip()
        if mimetype in _ODT_TYPES and "content.xml" in members:
            return _inspect_odt(members, read, name)
        raise _not_a_document(name, _odf_kind(mimetype))
    if "[Content_Types].xml" in members:
        types = b"".join(read("[Content_Types].xml", 4 << 20)).lower()
        if "word/document.xml" in members:
            return _inspect_docx(members, types, read, name)
        if b"spreadsheetml" in types or b"ms-excel" in types:
            what = _("an Excel workbook (.xlsx)")
        elif b"presentationml" in types or b"ms-powerpoint" in types:
            what = _("a PowerPoint presentation (.pptx)")
        else:
            what = _("an Office file of another kind")
        raise _not_a_document(name, what)
    raise _not_a_document(name, _("a ZIP archive"))


def _odf_kind(mimetype: str) -> str:
    kinds = {
        "spreadsheet": _("a spreadsheet (.ods)"),
        "presentation": _("a presentation (.odp)"),
        "graphics": _("a drawing (.odg)"),
    }
    for key, what in kinds.items():
        if mimetype.startswith("application/vnd.oasis.opendocument." + key):
            return what
    if mimetype == "application/epub+zip":
        return _("an e-book (EPUB)")
    return _("a ZIP archive")


_Reader = Callable[..., Iterator[bytes]]


def _inspect_docx(
    members: dict[str, zipfile.ZipInfo], types: bytes, read: _Reader, name: str
) -> Extracted:
    lower = [m.lower() for m in members]
    if (
        b"macroenabled" in types
        or b"vbaproject" in types
        or any(m.endswith(("vbaproject.bin", "vbadata.xml")) for m in lower)
    ):
        raise _macros(name)
    if any(m.startswith("word/activex/") for m in lower):
        raise RejectedFile(
            _(
                "“%(name)s” contains ActiveX controls, which are not accepted for safety. "
                "Remove them, save the document and upload it again."
            )
            % {"name": name}
        )
    if "word/_rels/settings.xml.rels" in members:
        remote: list[str] = []

        def rel(tag: str, attrs: dict[str, str]) -> None:
            target = attrs.get("Target", "").strip().lower()
            if (
                tag == _RELS + "Relationship"
                and attrs.get("Type", "").endswith("/attachedTemplate")
                and target.startswith(("http:", "https:", "ftp:", "//", "\\\\", "file:////"))
            ):
                remote.append(target)

        _parse_xml(read("word/_rels/settings.xml.rels", 4 << 20), rel, None, None)
        if remote:
            raise RejectedFile(
                _(
                    "“%(name)s” is linked to a template on another computer, a way to run "
                    "macros when it is opened; it was refused for safety. Save a copy "
                    "without the template link and upload it again."
                )
                % {"name": name}
            )
    collector = _Collector(
        paragraphs={_W + "p"},
        text={_W + "t"},
        spaces={_W + "tab", _W + "br", _W + "cr"},
        rows={_W + "tr"},
        cells={_W + "tc"},
        skip={_MC + "Fallback", _W + "del", _W + "moveFrom"},
        name=name,
    )
    for part in ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml"):
        if part in members:
            collector.parse(read(part))
    return _result("docx", collector.paragraphs, None)


def _inspect_odt(members: dict[str, zipfile.ZipInfo], read: _Reader, name: str) -> Extracted:
    def scripted(path: str) -> bool:
        path = path.lstrip("/")
        return path.startswith(("Basic/", "Scripts/")) and not path.endswith(
            ("/", "-lc.xml", "-lb.xml")
        )

    if any(scripted(m) for m in members):
        raise _macros(name)
    if "META-INF/manifest.xml" in members:
        found = {"encrypted": False, "scripts": False}

        def entry(tag: str, attrs: dict[str, str]) -> None:
            if tag in (_MANIFEST + "encryption-data", _MANIFEST + "keyinfo"):
                found["encrypted"] = True
            elif tag == _MANIFEST + "file-entry":
                path = attrs.get(_MANIFEST + "full-path", "")
                media = attrs.get(_MANIFEST + "media-type", "").lower()
                if scripted(path) or "basic" in media or "script" in media:
                    found["scripts"] = True

        _parse_xml(read("META-INF/manifest.xml", 16 << 20), entry, None, None)
        if found["encrypted"]:
            raise _password(name)
        if found["scripts"]:
            raise _macros(name)
    collector = _Collector(
        paragraphs={_TEXT + "p", _TEXT + "h"},
        text=None,
        spaces={_TEXT + "s", _TEXT + "tab", _TEXT + "line-break"},
        rows={_TABLE + "table-row"},
        cells={_TABLE + "table-cell", _TABLE + "covered-table-cell"},
        skip={
            _OFFICE + "annotation",
            _TEXT + "note-citation",
            _TEXT + "tracked-changes",
            _SVG + "title",
            _SVG + "desc",
        },
        name=name,
    )
    collector.parse(read("content.xml"))
    return _result("odt", collector.paragraphs, None)


# --- XML ---------------------------------------------------------------------------


def _refuse_doctype(*_args: object) -> NoReturn:
    raise RejectedFile(
        _(
            "The file contains an XML DOCTYPE declaration, which documents never have; it "
            "was refused for safety."
        )
    )


def _parse_xml(
    chunks: Iterator[bytes],
    start: Callable[[str, dict[str, str]], None] | None,
    end: Callable[[str], None] | None,
    data: Callable[[str], None] | None,
) -> None:
    """Stream ``chunks`` through expat (names as ``"namespace local"``), no DOCTYPE."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.ExternalEntityRefHandler = _refuse_doctype
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    if start:
        parser.StartElementHandler = start
    if end:
        parser.EndElementHandler = end
    if data:
        parser.CharacterDataHandler = data
    for chunk in chunks:
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


class _Collector:
    """Paragraph texts from a word-processing XML stream (see the module doc)."""

    def __init__(
        self,
        *,
        paragraphs: set[str],
        text: set[str] | None,
        spaces: set[str],
        rows: set[str],
        cells: set[str],
        skip: set[str],
        name: str,
    ) -> None:
        self.paragraphs: list[str] = []
        self._name = name
        self._left = MAX_TEXT_CHARS
        self._p, self._text, self._spaces = paragraphs, text, spaces
        self._rows, self._cells, self._skip = rows, cells, skip
        self._open: list[list[str]] = []  # fragments of the open (possibly nested) paragraphs
        self._frames: list[tuple[bool, list[str]]] = []  # (is_row, cells or cell paragraphs)
        self._skipping = 0
        self._in_text = 0

    def parse(self, chunks: Iterator[bytes]) -> None:
        _parse_xml(chunks, self._start, self._end, self._data)

    def _start(self, tag: str, _attrs: dict[str, str]) -> None:
        if self._skipping:
            self._skipping += 1
        elif tag in self._skip:
            self._skipping = 1
        elif tag in self._p:
            self._open.append([])
        elif self._text is not None and tag in self._text:
            self._in_text += 1
        elif tag in self._spaces:
            if self._open:
                self._open[-1].append(" ")
        elif tag in self._rows:
            self._frames.append((True, []))
        elif tag in self._cells:
            self._frames.append((False, []))

    def _end(self, tag: str) -> None:
        if self._skipping:
            self._skipping -= 1
        elif tag in self._p:
            if self._open:
                self._emit(_tidy("".join(self._open.pop())))
        elif self._text is not None and tag in self._text:
            self._in_text = max(0, self._in_text - 1)
        elif tag in self._rows:
            if self._frames and self._frames[-1][0]:
                self._emit(" | ".join(c for c in self._frames.pop()[1] if c))
        elif tag in self._cells and self._frames and not self._frames[-1][0]:
            cell = " ".join(self._frames.pop()[1])
            if self._frames and self._frames[-1][0]:
                self._frames[-1][1].append(cell)
            else:
                self._emit(cell)

    def _data(self, s: str) -> None:
        if self._open and not self._skipping and (self._text is None or self._in_text):
            self._open[-1].append(s)
            self._left -= len(s)
            if self._left < 0:
                raise _too_much_text(self._name)

    def _emit(self, text: str) -> None:
        if not text:
            return
        if self._frames and not self._frames[-1][0]:
            self._frames[-1][1].append(text)
        else:
            self.paragraphs.append(text)


def _too_much_text(name: str) -> RejectedFile:
    return RejectedFile(
        _(
            "“%(name)s” holds more than %(count)s characters of text, far more than a "
            "report; it was refused."
        )
        % {"name": name, "count": f"{MAX_TEXT_CHARS:,}"}
    )


def _tidy(s: str) -> str:
    return nfc(_INVISIBLE.sub("", s))


def _result(kind: str, paragraphs: list[str], pages: int | None) -> Extracted:
    text = "\n\n".join(p for p in paragraphs if p)
    return Extracted(kind=kind, text=text, pages=pages, words=count_words(text))


# --- PDF ---------------------------------------------------------------------------


def _inspect_pdf(raw: bytes, name: str) -> Extracted:
    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(raw)
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) in (
                pdfium_c.FPDF_ERR_PASSWORD,
                pdfium_c.FPDF_ERR_SECURITY,
            ):
                raise _password(name) from exc
            raise _damaged(name) from exc
        try:
            if pdfium_c.FPDF_GetSecurityHandlerRevision(pdf.raw) != -1:
                raise _password(name)
            if pdfium_c.FPDFDoc_GetJavaScriptActionCount(pdf.raw) > 0 or _PDF_ACTIVE.search(raw):
                raise RejectedFile(
                    _(
                        "“%(name)s” contains scripts (JavaScript), which are not accepted "
                        "for safety. Print it to a new PDF and upload that."
                    )
                    % {"name": name}
                )
            if pdfium_c.FPDFDoc_GetAttachmentCount(pdf.raw) > 0:
                raise RejectedFile(
                    _(
                        "“%(name)s” has files attached inside it, which are not accepted for "
                        "safety. Export the PDF again without attachments."
                    )
                    % {"name": name}
                )
            pages = len(pdf)
            if pages > MAX_PAGES:
                raise RejectedFile(
                    _("“%(name)s” has %(pages)s pages; at most %(limit)s are accepted.")
                    % {"name": name, "pages": pages, "limit": MAX_PAGES}
                )
            paragraphs: list[str] = []
            left = MAX_TEXT_CHARS
            for i in range(pages):
                page = pdf[i]
                try:
                    textpage = page.get_textpage()
                    try:
                        found = _pdf_paragraphs(textpage)
                        left -= sum(len(p) for p in found)
                        if left < 0:
                            raise _too_much_text(name)
                        paragraphs.extend(found)
                    finally:
                        textpage.close()
                finally:
                    page.close()
        except pdfium.PdfiumError as exc:
            raise _damaged(name) from exc
        finally:
            pdf.close()
    return _result("pdf", paragraphs, pages)


@dataclass
class _Line:
    text: str
    left: float = 0.0
    bottom: float = 0.0


def _pdf_lines(textpage: pdfium.PdfTextPage) -> tuple[list[_Line], bool]:
    """The lines of a page (blank ones with empty text) and whether they have a position
    (the left of the line and the bottom of its first character's loose box)."""
    text = textpage.get_text_range()
    # PDFium's text has one character per character index (its line breaks included)
    # unless there are characters outside the BMP; then positions are left out.
    placed = len(text) == textpage.count_chars()
    lines: list[_Line] = []
    at = 0
    for segment in _LINE_BREAK.split(text):
        if not segment.strip():
            lines.append(_Line(""))
        elif placed:
            ordered, left = _in_reading_order(textpage, at, segment)
            first = at + len(segment) - len(segment.lstrip())
            box_left, bottom, _right, _top = textpage.get_charbox(first, loose=True)
            lines.append(_Line(_tidy(ordered), min(left, box_left), bottom))
        else:
            lines.append(_Line(_tidy(segment)))
        at += len(segment) + (2 if text.startswith("\r\n", at + len(segment)) else 1)
    return [line if line.text else _Line("") for line in lines], placed


def _in_reading_order(textpage: pdfium.PdfTextPage, start: int, segment: str) -> tuple[str, float]:
    """A line's text with its characters from left to right, and the line's left edge.

    PDFium gives characters in the order the file draws them. Some writers draw a line
    in several passes (LibreOffice draws the glyphs its main font lacks, such as "ọ" or
    "ậ", after the rest of the line), which would leave "H c t p … ọ ậ". PDFium's text
    rectangles show it cheaply: a rectangle that starts left of where an earlier one of
    the same line ended. Only such lines are rebuilt from their characters' boxes, with
    a space wherever the gap between two characters exceeds a tenth of the line height.
    """
    rects = [textpage.get_rect(i) for i in range(textpage.count_rects(start, len(segment)))]
    if not rects:
        return segment, 0.0
    left = min(r[0] for r in rects)
    right = rects[0][2]
    for r in rects[1:]:
        if r[0] < right - 1.0:
            break
        right = max(right, r[2])
    else:
        return segment, left
    boxes = []
    for offset, ch in enumerate(segment):
        if not ch.isspace():
            box_left, bottom, box_right, top = textpage.get_charbox(start + offset, loose=True)
            boxes.append((box_left, box_right, top - bottom, ch))
    boxes.sort(key=lambda box: box[0])
    out: list[str] = []
    end = None
    for box_left, box_right, height, ch in boxes:
        if end is not None and box_left - end > 0.1 * height:
            out.append(" ")
        out.append(ch)
        end = box_right if end is None else max(end, box_right)
    return "".join(out), left


def _pdf_paragraphs(textpage: pdfium.PdfTextPage) -> list[str]:
    """Join the lines of a page into paragraphs (see the module doc).

    A paragraph ends at a blank line; after a line much shorter than the page's usual
    line (under 60 %), or shorter than usual and ending a sentence; and before a line
    that is further from the previous one than usual (1.4 × the usual line spacing, or
    above it: a new column), or indented after a line that ended a sentence.
    """
    lines, placed = _pdf_lines(textpage)
    filled = [line for line in lines if line.text]
    if not filled:
        return []
    lengths = sorted(len(line.text) for line in filled)
    usual = lengths[(3 * (len(lengths) - 1)) // 4]
    step = left_margin = 0.0
    if placed:
        steps = sorted(
            a.bottom - b.bottom
            for a, b in zip(filled, filled[1:], strict=False)
            if a.bottom - b.bottom > 0.5
        )
        step = steps[len(steps) // 4] if steps else 0.0  # lines, not paragraph gaps
        lefts = Counter(round(line.left) for line in filled)
        left_margin = float(lefts.most_common(1)[0][0])
    paragraphs: list[str] = []
    current: list[str] = []
    previous: _Line | None = None
    for line in lines:
        if not line.text:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        if current and previous is not None and placed and step:
            drop = previous.bottom - line.bottom
            indented = line.left - left_margin > 8 and _SENTENCE_END.search(previous.text)
            if drop > 1.4 * step or drop < -0.5 * step or indented:
                paragraphs.append(" ".join(current))
                current = []
        current.append(line.text)
        previous = line
        if len(line.text) < 0.6 * usual or (
            len(line.text) < 0.9 * usual and _SENTENCE_END.search(line.text)
        ):
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs
