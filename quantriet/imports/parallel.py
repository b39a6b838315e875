"""Reading the parts of a large CSV file in parallel, for one import's COPY.

Checking a member row costs Python about 4 µs on the usual row and 10 µs on the general
path (``bench/member_rows.py``), and one process checks one row at a time; a million rows
are then much of an import. :func:`run` reads the parts of a file
(:meth:`~quantriet.imports.readers.Table.spans`) at the same time: this process reads the
first part itself and writes its rows into the COPY as it goes, a forked child reads each
other part into a temporary file of COPY text, and those files are written into the COPY
after the first part, in order. Rows thus reach the table in the file's order, and the
database ingests the first part while the children work.

A child never touches the database: the open connection (and its transaction) stays
with this process alone; a child ends with ``os._exit`` so that nothing of the parent's
state (the connection's socket included) is closed or flushed on its way out. Forking is
only done from a single-threaded process (a fork copies only the calling thread, and
locks held by others would stay held in the child): elsewhere :func:`workers` says 1.
"""

from __future__ import annotations

import mmap
import os
import pickle
import signal
import struct
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from typing import IO, Any

from quantriet.imports.readers import Misaligned, ReadError, Span

Write = Callable[[str | bytes], None]
Tick = Callable[[int], None]
Work = Callable[[Span, Write, Tick], Any]

_COUNTER = struct.Struct("q")


def workers() -> int:
    """Processes worth running: the cores this process may use (1 when it has threads,
    or on a system without ``fork``)."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class Stop(Exception):
    """Raised by a part's work to abandon the whole run; raised again here, as ``Stop``."""


class ChildFailed(RuntimeError):
    """A child died or raised something that is not a reading error."""


def run(spans: list[Span], work: Work, write: Write, progress: Tick) -> list[Any]:
    """Run ``work(span, write, tick)`` for each span, the first here and the others in
    forked children, and return their results in span order.

    ``write`` receives the text each part writes (a child's as UTF-8 bytes), all of the
    first part's before any of the second's, and so on. ``progress`` is called now and
    then with the rows done in all parts together (each ``work`` reports its own with
    ``tick``). An exception in a part is
    raised here once the parts before it are written: a ReadError or Misaligned as such,
    :class:`Stop` as ``Stop``, anything else as :class:`ChildFailed`; the remaining
    children are stopped.
    """
    counters = mmap.mmap(-1, _COUNTER.size * len(spans))  # shared with the children
    children: list[tuple[int, IO[bytes], IO[bytes]]] = []
    reaped: set[int] = set()  # a reaped child's pid may already be another process's

    def done() -> int:
        return sum(_COUNTER.unpack_from(counters, i * _COUNTER.size)[0]
                   for i in range(len(spans)))

    try:
        for index, span in enumerate(spans[1:], 1):
            out, result = tempfile.TemporaryFile(), tempfile.TemporaryFile()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child; its effects are tested
                _child(index, span, work, out, result, counters)
            children.append((pid, out, result))

        def tick(rows: int) -> None:
            _COUNTER.pack_into(counters, 0, rows)
            progress(done())

        results = [work(spans[0], write, tick)]
        for pid, out, result in children:
            status = _wait(pid, lambda: progress(done()))
            reaped.add(pid)
            result.seek(0)
            # written by our own child into our own temporary file
            outcome = pickle.load(result) if status == 0 else ("died", status)  # noqa: S301
            kind = outcome[0]
            if kind == "read":
                raise ReadError(outcome[1], outcome[2])
            if kind == "misaligned":
                raise Misaligned(outcome[1])
            if kind == "stop":
                raise Stop
            if kind != "ok":
                raise ChildFailed(str(outcome[1]))
            out.seek(0)
            while block := out.read(1 << 20):
                write(block)
            results.append(outcome[1])
        return results
    finally:
        for pid, out, result in children:
            if pid not in reaped:
                try:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
            out.close()
            result.close()
        counters.close()


def _wait(pid: int, report: Callable[[], None]) -> int:
    """Wait for a child, reporting progress meanwhile; its exit code (or -signal)."""
    while True:
        done_pid, status = os.waitpid(pid, os.WNOHANG)
        if done_pid:
            return os.waitstatus_to_exitcode(status)
        report()
        time.sleep(0.05)


def _child(index: int, span: Span, work: Work, out: IO[bytes], result: IO[bytes],
           counters: Any) -> None:  # pragma: no cover - runs in a forked child
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

        def write(text: str | bytes) -> None:
            out.write(text.encode() if isinstance(text, str) else text)

        def tick(rows: int) -> None:
            _COUNTER.pack_into(counters, index * _COUNTER.size, rows)

        outcome: tuple = ("ok", work(span, write, tick))
    except ReadError as exc:
        outcome = ("read", exc.message_vi, exc.message_en)
    except Misaligned as exc:
        outcome = ("misaligned", str(exc))
    except Stop:
        outcome = ("stop",)
    except BaseException:  # noqa: BLE001 - everything goes back to the parent
        outcome = ("error", traceback.format_exc())
    try:
        out.flush()
        pickle.dump(outcome, result)
        result.flush()
    except BaseException:  # noqa: BLE001
        code = 1
    os._exit(code)
