"""Roster import speed: our importer against a raw COPY and against django-import-export.

Generates a synthetic roster (one provincial federation with grassroots unions, N members,
one position per 50 members), then, each in a fresh child process on an emptied database
so that each step reports its own peak memory (ru_maxrss):

  copy        raw COPY of the members CSV's bytes into a table of text columns
  csv         ``import-roster`` of the CSV folder (units, members, positions)
  copy_person the rows that import wrote, dumped and COPYed back into org_person (same
              table, same indexes): the least any import of these rows must do
  xlsx        ``import-roster`` of the same rows as one .xlsx workbook
  iex         django-import-export (ModelResource, bulk mode) on the first K members

and prints one JSON line with seconds, member rows per second, peak RSS and the ratios;
each import step also lists its SQL statements of 0.2 s or more (``slow_statements``:
seconds, seconds from the start, the statement's beginning).

    .venv/bin/pip install -r requirements/bench.txt     # django-import-export
    .venv/bin/python bench/import.py [--members 1000000] [--iex-rows 100000] [--skip-xlsx]
    .venv/bin/python bench/import.py --national-units    # 130,000 units alone

The database (default postgres://postgres@127.0.0.1:5432/qt_bench_import) is dropped and
created anew.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAMILY = ["Nguyễn"] * 38 + ["Trần"] * 11 + ["Lê"] * 9 + ["Phạm"] * 7 + ["Hoàng", "Huỳnh",
          "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"] * 2
MIDDLE_M = ["Văn", "Đức", "Minh", "Hữu", "Quang", "Thanh", "Công", "Xuân", "Ngọc"]
MIDDLE_F = ["Thị", "Thị Thu", "Thị Thanh", "Ngọc", "Thị Mai", "Thị Kim", "Thu", "Thanh"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đức", "Hải", "Hùng", "Khánh", "Long", "Minh",
           "Nam", "Phong", "Quân", "Sơn", "Thắng", "Toàn", "Trung", "Tuấn", "Việt", "Vinh"]
GIVEN_F = ["Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hoà", "Hương", "Lan", "Linh",
           "Mai", "Nga", "Ngọc", "Nhung", "Phương", "Thảo", "Thuỷ", "Trang", "Vân", "Yến"]
MEMBER_HEADER = ["Mã đoàn viên", "Họ và tên", "Giới tính", "Ngày sinh", "Số CCCD",
                 "Số thẻ đoàn viên", "Email", "Số điện thoại", "Mã công đoàn cơ sở"]


UNITS_TOP = [  # the units sheet's header and the confederation
    ["Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Cấp", "Tỉnh/thành phố", "Số đoàn viên"],
    ["TLD", "Tổng Liên đoàn Lao động Việt Nam", "", "Tổng Liên đoàn Lao động Việt Nam", "", ""],
]


def generate(folder: Path, members: int, seed: int = 1) -> dict[str, int]:
    rnd = random.Random(seed)
    grassroots = max(1, members // 100)
    with open(folder / "don_vi.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerows(UNITS_TOP)
        w.writerow(["LDLD-01", "Liên đoàn Lao động Thành phố Hà Nội", "TLD",
                    "Liên đoàn Lao động tỉnh, thành phố", "Hà Nội", ""])
        for g in range(grassroots):
            w.writerow([f"CS{g:06d}", f"Công đoàn cơ sở Công ty số {g}", "LDLD-01",
                        "Công đoàn cơ sở", "", rnd.randint(20, 300)])
    with open(folder / "doan_vien.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(MEMBER_HEADER)
        for i in range(members):
            female = rnd.random() < 0.5
            year = rnd.randint(1965, 2004)
            name = " ".join([rnd.choice(FAMILY), rnd.choice(MIDDLE_F if female else MIDDLE_M),
                             rnd.choice(GIVEN_F if female else GIVEN_M)])
            century = (1 if female else 0) if year < 2000 else (3 if female else 2)
            nid = f"001{century}{year % 100:02d}{i:06d}"
            w.writerow([f"DV{i:08d}", name, "Nữ" if female else "Nam",
                        f"{rnd.randint(1, 28):02d}/{rnd.randint(1, 12):02d}/{year}", nid,
                        f"TDV{i:08d}", "", f"09{rnd.randint(10_000_000, 99_999_999)}",
                        f"CS{i % grassroots:06d}"])
    positions = 0
    with open(folder / "chuc_vu.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Mã đoàn viên", "Mã đơn vị", "Chức vụ", "Chuyên trách", "Từ ngày"])
        for i in range(0, members, 50):
            w.writerow([f"DV{i:08d}", f"CS{i % grassroots:06d}", "Ủy viên Ban Chấp hành", "",
                        "01/10/2023"])
            positions += 1
    return {"units": grassroots + 2, "members": members, "positions": positions}


def national_units(db: str) -> None:
    """130,000 units: the confederation, 63 provincial federations, 2,060 unions each."""
    work = Path(tempfile.mkdtemp(prefix="qt-bench-units-"))
    rnd = random.Random(3)
    with open(work / "don_vi.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerows(UNITS_TOP)
        for p in range(1, 64):
            w.writerow([f"LDLD-{p:02d}", f"Liên đoàn Lao động tỉnh số {p}", "TLD",
                        "Liên đoàn Lao động tỉnh, thành phố", f"Tỉnh {p}", ""])
            for g in range(2060):
                w.writerow([f"CS{p:02d}{g:05d}", f"Công đoàn cơ sở Công ty số {g} tỉnh {p}",
                            f"LDLD-{p:02d}", "Công đoàn cơ sở", "", rnd.randint(20, 300)])
    reset_database(db)
    out = child("import", str(work), db)
    print(json.dumps({"units": out["tables"]["units"]["rows"], "seconds": out["seconds"],
                      "peak_rss_mb": out["peak_rss_mb"],
                      "slow_statements": out["slow_statements"]}, ensure_ascii=False))


def to_xlsx(folder: Path, out: Path) -> None:
    from quantriet.imports.spreadsheets import write_xlsx

    handles = {}
    sheets = {}
    for title, name in (("Đơn vị", "don_vi.csv"), ("Đoàn viên", "doan_vien.csv"),
                        ("Chức vụ", "chuc_vu.csv")):
        fh = open(folder / name, newline="", encoding="utf-8")  # noqa: SIM115
        handles[name] = fh
        r = csv.reader(fh)
        sheets[title] = (next(r), r)
    try:
        write_xlsx(out, sheets)
    finally:
        for fh in handles.values():
            fh.close()


def child(step: str, path: str, db: str, extra: str = "") -> dict:
    """Run one step in a fresh process; return its timing and the child's peak RSS."""
    env = {**os.environ, "DATABASE_URL": db, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, __file__, "--child", step, path, "--database", db, "--extra", extra],
        env=env, capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def reset_database(db: str) -> None:
    import psycopg

    name = db.rsplit("/", 1)[1]
    admin = db.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": db}
    subprocess.run([sys.executable, "-m", "quantriet", "migrate", "-v0"], env=env, check=True,
                   cwd=ROOT)


def empty_org(db: str) -> None:
    import psycopg

    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("TRUNCATE org_position, org_person, org_unitevent, org_grant, org_unit, "
                     "core_auditevent RESTART IDENTITY CASCADE")
        conn.execute("DROP TABLE IF EXISTS bench_raw_members")
        conn.execute("VACUUM ANALYZE")


# ---------------------------------------------------------------- child steps


def step_copy(path: str) -> dict:
    import psycopg

    db = os.environ["DATABASE_URL"]
    with psycopg.connect(db) as conn:
        conn.execute("CREATE TABLE bench_raw_members (member_code text, full_name text, "
                     "gender text, birth_date text, national_id text, union_card text, "
                     "email text, phone text, unit_code text)")
        t = time.perf_counter()
        with conn.cursor() as cur, open(Path(path) / "doan_vien.csv", "rb") as fh, cur.copy(
            "COPY bench_raw_members FROM STDIN (FORMAT csv, HEADER true)"
        ) as cp:
            while chunk := fh.read(1 << 20):
                cp.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - t
        rows = conn.execute("SELECT count(*) FROM bench_raw_members").fetchone()[0]
    return {"seconds": round(seconds, 2), "rows": rows}


def step_copy_person(path: str) -> dict:
    """COPY the rows the importer produced back into org_person (same table, same indexes):
    the least any import of these rows must do."""
    import psycopg

    db = os.environ["DATABASE_URL"]
    dump = Path(path) / "person.copy"
    with psycopg.connect(db) as conn:
        with conn.cursor() as cur, open(dump, "wb") as fh, cur.copy(
            "COPY org_person TO STDOUT"
        ) as cp:
            for chunk in cp:
                fh.write(chunk)
        conn.execute("TRUNCATE org_person CASCADE")
        conn.commit()
        t = time.perf_counter()
        with conn.cursor() as cur, open(dump, "rb") as fh, cur.copy(
            "COPY org_person FROM STDIN"
        ) as cp:
            while chunk := fh.read(1 << 20):
                cp.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - t
        rows = conn.execute("SELECT count(*) FROM org_person").fetchone()[0]
    dump.unlink()
    return {"seconds": round(seconds, 2), "rows": rows}


def step_import(path: str) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantriet.settings")
    django.setup()
    from django.db import connection

    from quantriet.imports.engine import RosterImport
    from quantriet.imports.readers import open_workbook

    slow: list[list] = []  # statements of 0.2 s or more: [seconds, start, first 70 chars]
    t = time.perf_counter()

    def timed(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - start
            if took >= 0.2:
                slow.append([round(took, 2), round(start - t, 1), " ".join(sql.split())[:70]])

    with connection.execute_wrapper(timed):
        result = RosterImport(open_workbook(path)).run(apply=True)
    seconds = time.perf_counter() - t
    if not result.ok:
        raise SystemExit([i.text("en") for i in result.issues[:10]])
    return {"seconds": round(seconds, 2), "rows": result.tables["members"].rows,
            "tables": result.summary(), "slow_statements": slow}


def step_iex(path: str, limit: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantriet.settings")
    django.setup()
    import tablib
    from import_export import fields, resources, widgets

    from quantriet.org.models import Person, Unit
    from quantriet.org.services import person_name_fields

    class PersonResource(resources.ModelResource):
        member_code = fields.Field(attribute="member_code", column_name="member_code")
        unit = fields.Field(attribute="unit", column_name="unit_code",
                            widget=widgets.ForeignKeyWidget(Unit, field="code"))

        class Meta:
            model = Person
            import_id_fields = ("member_code",)
            fields = ("member_code", "gender", "birth_date", "national_id", "union_card",
                      "phone", "unit")
            use_bulk = True
            batch_size = 1000
            skip_diff = True

        def before_import_row(self, row, **kwargs):
            row["gender"] = {"Nam": "M", "Nữ": "F"}.get(row["gender"], "")
            d, m, y = row["birth_date"].split("/")
            row["birth_date"] = f"{y}-{m}-{d}"

        def import_instance(self, instance, row, **kwargs):
            super().import_instance(instance, row, **kwargs)
            for k, v in person_name_fields(full_name=row["full_name"]).items():
                setattr(instance, k, v)

    headers = ["member_code", "full_name", "gender", "birth_date", "national_id",
               "union_card", "email", "phone", "unit_code"]
    data = tablib.Dataset(headers=headers)
    with open(Path(path) / "doan_vien.csv", newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for i, row in enumerate(reader):
            if i >= limit:
                break
            data.append(row)
    t = time.perf_counter()
    result = PersonResource().import_data(data, dry_run=False, use_transactions=True,
                                          raise_errors=True)
    seconds = time.perf_counter() - t
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit("django-import-export reported errors")
    return {"seconds": round(seconds, 2), "rows": Person.objects.count()}


def run_child(step: str, path: str, extra: str) -> None:
    if step == "copy":
        out = step_copy(path)
    elif step == "copy_person":
        out = step_copy_person(path)
    elif step == "import":
        out = step_import(path)
    elif step == "iex":
        out = step_iex(path, int(extra))
    else:
        raise SystemExit(f"unknown step {step}")
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--iex-rows", type=int, default=100_000)
    ap.add_argument("--skip-xlsx", action="store_true")
    ap.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/qt_bench_import")
    ap.add_argument("--child", nargs=2, metavar=("STEP", "PATH"))
    ap.add_argument("--extra", default="")
    ap.add_argument("--national-units", action="store_true",
                    help="only import a units file of national size (63 provinces x 2,060 "
                         "grassroots unions) into the emptied database")
    args = ap.parse_args()
    if args.child:
        run_child(args.child[0], args.child[1], args.extra)
        return
    if args.national_units:
        national_units(args.database)
        return

    work = Path(tempfile.mkdtemp(prefix="qt-bench-import-"))
    t = time.perf_counter()
    sizes = generate(work, args.members)
    gen_seconds = time.perf_counter() - t
    reset_database(args.database)
    out: dict = {"members": args.members, "units": sizes["units"],
                 "positions": sizes["positions"], "generate_s": round(gen_seconds, 1),
                 "machine": f"{os.cpu_count()} cores"}

    out["copy"] = child("copy", str(work), args.database)
    empty_org(args.database)
    out["csv"] = child("import", str(work), args.database)
    out["copy_person"] = child("copy_person", str(work), args.database)
    if not args.skip_xlsx:
        xlsx = work / "roster.xlsx"
        t = time.perf_counter()
        to_xlsx(work, xlsx)
        out["xlsx_write_s"] = round(time.perf_counter() - t, 1)
        empty_org(args.database)
        out["xlsx"] = child("import", str(xlsx), args.database)
    if args.iex_rows:
        empty_org(args.database)
        # django-import-export needs the units first: import them with our importer
        units_only = work / "units_only"
        units_only.mkdir()
        (units_only / "don_vi.csv").write_bytes((work / "don_vi.csv").read_bytes())
        child("import", str(units_only), args.database)
        out["iex"] = child("iex", str(work), args.database, str(args.iex_rows))

    for key in ("copy", "copy_person", "csv", "xlsx", "iex"):
        if key in out:
            out[key]["rows_per_s"] = int(out[key]["rows"] / max(out[key]["seconds"], 1e-6))
    out["csv_vs_copy"] = round(out["csv"]["rows_per_s"] / out["copy"]["rows_per_s"], 3)
    out["csv_vs_copy_person"] = round(
        out["csv"]["rows_per_s"] / out["copy_person"]["rows_per_s"], 3)
    if "iex" in out:
        out["csv_vs_iex"] = round(out["csv"]["rows_per_s"] / out["iex"]["rows_per_s"], 1)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
