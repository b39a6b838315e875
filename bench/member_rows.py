"""Checking member rows in one process: the one-step path against the general path.

Generates the roster of ``bench/import.py``, imports its units into a fresh database, then
times the importer's check of every member row (``RosterImport._member_part``, one process,
the COPY text kept in memory rather than written), once with the usual rows taking the
one-step path (``quantriet/imports/quick.py``) and once with every row on the general
path, and the bare reading of the file's rows for comparison. Prints one JSON line, with
whether both paths wrote the same text.

    .venv/bin/python bench/member_rows.py [--members 1000000]

The database (default postgres://postgres@127.0.0.1:5432/qt_bench_rows) is dropped and
created anew.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _bench_import():  # bench/import.py: its file name is a keyword
    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/qt_bench_rows")
    args = ap.parse_args()
    roster = _bench_import()
    work = Path(tempfile.mkdtemp(prefix="qt-bench-rows-"))
    try:
        roster.generate(work, args.members)
        units = work / "units"
        units.mkdir()
        shutil.move(work / "don_vi.csv", units / "don_vi.csv")
        roster.reset_database(args.database)
        os.environ["DATABASE_URL"] = args.database
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantriet.settings")
        import django

        django.setup()
        from functools import lru_cache

        from quantriet.imports import quick
        from quantriet.imports.engine import RosterImport, TableResult, _name_fields
        from quantriet.imports.readers import open_workbook

        assert RosterImport(open_workbook(units)).run(apply=True).ok
        members = work / "doan_vien.csv"

        def timed(one_step: bool) -> tuple[float, str, int]:
            table = open_workbook(members).tables["members"]
            imp = RosterImport(open_workbook(members))
            for name in ("units", "members", "positions"):
                imp.result.tables[name] = TableResult()
            index = imp._unit_index()
            open_units = {code: pk for code, (pk, _path, accepts, is_open) in index.items()
                          if accepts and is_open}
            names = lru_cache(maxsize=200_000)(_name_fields)
            digest = hashlib.sha256()
            real = quick.member_lines
            if not one_step:
                quick.member_lines = lambda *a: None  # type: ignore[assignment]
            try:
                start = time.perf_counter()
                part = imp._member_part(table, None, index, open_units, names, 0, False,
                                        lambda text: digest.update(text.encode()),
                                        lambda rows: None)
                seconds = time.perf_counter() - start
            finally:
                quick.member_lines = real
            return seconds, digest.hexdigest(), part["rows"]

        table = open_workbook(members).tables["members"]
        start = time.perf_counter()
        read = sum(1 for _ in table.reading().raw)
        raw_s = time.perf_counter() - start
        fast_s, fast_digest, rows = timed(True)
        slow_s, slow_digest, slow_rows = timed(False)
        print(json.dumps({
            "members": rows, "raw_rows_read": read, "raw_read_s": round(raw_s, 2),
            "one_step_s": round(fast_s, 2), "general_s": round(slow_s, 2),
            "us_per_row": {"raw_read": round(raw_s / rows * 1e6, 2),
                           "one_step": round(fast_s / rows * 1e6, 2),
                           "general": round(slow_s / rows * 1e6, 2)},
            "same_text": fast_digest == slow_digest and rows == slow_rows,
        }))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
