"""Reading a CSV file in parts: where the cuts fall, the parts' records, the children that
read them, and the COPY text they write."""

import io
import os
import zipfile

import pytest
from django.db import connection

from quantriet.imports import bulk, parallel, readers
from quantriet.imports.readers import Misaligned, ReadError, Span, open_workbook
from tests.imports.test_engine import cp1258_bytes

# parallel.run forks whenever it is called; the importer only calls it from a process
# without threads (parallel.workers). In the whole suite, servers of browser tests may
# still have threads here: the children of these tests only run the pure functions below.
FORK_WITH_THREADS = "ignore:This process .* is multi-threaded:DeprecationWarning"

HEADER = "Mã đoàn viên,Họ và tên,Ngày sinh,Mã công đoàn cơ sở\r\n"


def _rows(n, start=1):
    return "".join(f"DV{i:05d},Nguyễn Văn An {i},12/05/1990,CS{i % 3}\r\n"
                   for i in range(start, start + n))


def _members(tmp_path, text, encoding="utf-8-sig", name="doan_vien.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return open_workbook(path).tables["members"]


ODD_FILES = {
    "plain": HEADER + _rows(300),
    # a quoted cell holding line breaks and doubled quotes, on both sides of the cuts
    "quoted line breaks": HEADER + _rows(40) + 'DV90001,"Lê Thị\nHoa ""Út""",01/01/1990,CS1\r\n'
    + _rows(100, 41) + 'DV90002,"Trần\r\n\r\nBình",02/02/1990,CS2\r\n' + _rows(150, 141)
    + '"DV90003","Ngô ""Văn"", Hải",03/03/1990,"CS0"\r\n' + _rows(10, 291),
    "excel sep line": "sep=,\r\n" + HEADER + _rows(250),
    "header repeated as on printed pages": HEADER + _rows(100) + HEADER + _rows(100, 101)
    + "\r\n\r\n" + HEADER + _rows(100, 201),
    "line feeds only": (HEADER + _rows(300)).replace("\r\n", "\n"),
    "no line break at the end": HEADER + _rows(300).rstrip("\r\n"),
}


@pytest.mark.parametrize("kind", list(ODD_FILES))
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1258"])
@pytest.mark.parametrize("chunk", [1 << 20, 7])
def test_the_parts_hold_every_row_once_with_its_number(tmp_path, kind, encoding, chunk,
                                                       monkeypatch):
    """``chunk``: how much of the file the cut reads at a time (7 bytes: quotes and line
    breaks fall across the reads)."""
    monkeypatch.setattr(readers, "_CHUNK", chunk)
    text = ODD_FILES[kind]
    if encoding == "cp1258":  # Windows-1258 writes tones as combining marks
        (tmp_path / "doan_vien.csv").write_bytes(cp1258_bytes(text))
        table = open_workbook(tmp_path / "doan_vien.csv").tables["members"]
        assert table.encoding == "cp1258"
    else:
        table = _members(tmp_path, text, encoding)
    whole = list(table.rows())
    assert len(whole) >= 250
    for parts in (2, 3, 5, 16):
        spans = table.spans(parts)
        assert spans is not None and 2 <= len(spans) <= parts
        assert spans[0].start == 0 and spans[-1].last is None
        for a, b in zip(spans, spans[1:], strict=False):
            assert a.end == b.start and a.last == b.first - 1
        assert [row for span in spans for row in table.rows(span)] == whole, parts


def test_files_that_cannot_be_cut(tmp_path):
    text = HEADER + _rows(200)
    assert _members(tmp_path, text, "utf-16").spans(2) is None  # line feeds are two bytes
    assert _members(tmp_path, text.replace("\r\n", "\r")).spans(2) is None  # old Mac ends
    assert _members(tmp_path, text).spans(1) is None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("doan_vien.csv", text.encode())
    (tmp_path / "roster.zip").write_bytes(buf.getvalue())
    assert open_workbook(tmp_path / "roster.zip").tables["members"].spans(2) is None


def test_a_quote_inside_an_unquoted_cell_is_caught(tmp_path):
    """csv reads the quote of `5" màn hình` as a character; counting quotes takes it for
    an opening one. The part that ends wrongly raises Misaligned instead of losing rows."""
    text = (HEADER + _rows(20) + 'DV90001,Lê Văn 5" An,01/01/1990,CS1\r\n' + _rows(40, 21)
            + 'DV90002,Lê Văn 7" Bình,01/01/1990,CS1\r\n' + _rows(400, 61))
    table = _members(tmp_path, text)
    spans = table.spans(2)
    assert spans is not None
    with pytest.raises(Misaligned):
        for span in spans:
            list(table.rows(span))


# ------------------------------------------------------------------------ parallel.run

def _work(span, write, tick):
    if span.first == 666:
        raise ReadError("hỏng", "broken")
    if span.first == 667:
        raise parallel.Stop
    if span.first == 668:
        raise ValueError("a bug")
    if span.first == 669:
        os._exit(3)
    write("".join(f"{i}\n" for i in range(span.first, span.last + 1)))
    tick(span.last - span.first + 1)
    return (os.getpid(), span.first)


def _spans(*firsts):
    return [Span(0, 0, f, f + 9) for f in firsts]


@pytest.mark.filterwarnings(FORK_WITH_THREADS)
def test_run_keeps_the_parts_in_order():
    out, seen = [], []
    results = parallel.run(_spans(1, 11, 21, 31), _work,
                           lambda t: out.append(t if isinstance(t, str) else t.decode()),
                           seen.append)
    assert "".join(out) == "".join(f"{i}\n" for i in range(1, 41))
    assert [first for _pid, first in results] == [1, 11, 21, 31]
    pids = {pid for pid, _first in results}
    assert len(pids) == 4 and os.getpid() in pids  # the first part here, the rest apart
    assert seen[-1] == 40 or max(seen) <= 40


@pytest.mark.filterwarnings(FORK_WITH_THREADS)
@pytest.mark.parametrize("first,error", [(666, ReadError), (667, parallel.Stop),
                                         (668, parallel.ChildFailed),
                                         (669, parallel.ChildFailed)])
def test_a_failing_part_fails_the_run(first, error):
    out = []
    with pytest.raises(error):
        parallel.run(_spans(1, 11, first, 31), _work, out.append, lambda n: None)
    assert "".join(t if isinstance(t, str) else t.decode() for t in out).startswith("1\n")


def test_workers_is_one_with_threads():
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert parallel.workers() == 1
    finally:
        stop.set()
        thread.join()


# ------------------------------------------------------------------------ COPY text

def test_copy_line_escapes_only_what_needs_it():
    import datetime as dt

    assert bulk.copy_line(("DV1", None, 3, dt.date(1990, 5, 12), True)) == \
        "DV1\t\\N\t3\t1990-05-12\tTrue\n"
    assert bulk.copy_line(("a\\b", "c\td", "e\nf", "g\rh", None, "\\N")) == \
        "a\\\\b\tc\\td\te\\nf\tg\\rh\t\\N\t\\\\N\n"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="COPY's text format exists only in PostgreSQL (SQLite has no COPY; the importer "
    "writes COPY lines only there); this test runs in the PostgreSQL pass of make test",
)
@pytest.mark.django_db
def test_copy_lines_read_back_as_written():
    import datetime as dt

    rows = [("Nguyễn Văn An", None, dt.date(1990, 5, 12), True, 7),
            ("a\\b\tc", "\\N", None, False, -1), ("x\ny\rz", "", dt.date(2000, 1, 1), None, 0)]
    with connection.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE t (a text, b text, c date, d boolean, e int)")
        with cur.cursor.copy("COPY t FROM STDIN") as cp:
            cp.write("".join(bulk.copy_line(r) for r in rows))
        cur.execute("SELECT a, b, c, d, e FROM t")
        assert cur.fetchall() == rows
