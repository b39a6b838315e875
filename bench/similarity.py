"""Copy detection on synthetic reports: recall, precision, candidates, time, index size.

Prints one JSON line. Two modes:

    .venv/bin/python bench/similarity.py                 # in memory, 20,000 reports indexed
    .venv/bin/python bench/similarity.py --reports 50000 --seed 7
    .venv/bin/python bench/similarity.py --pg 1000000    # band keys of 1 M reports in PostgreSQL
    .venv/bin/python bench/similarity.py --pg 1000000 --keep   # reuse the loaded table

The corpus (``quantriet/similarity/synthetic.py``, seeded) is one resolution, N original
reports on it, and 5 "circulating templates" each copied by 40 writers (edited 0-20 %),
indexed together with the templates themselves. From the first 10,000 reports (env
COMMON_SAMPLE) come the common phrases -- shingles in >= 1 % of them (COMMON_FRACTION),
discounted by ``compare`` -- and the frequent shingles -- in >= 0.1 % (FREQUENT_FRACTION),
left out of the band keys with the resolution's (``ignore``) -- frozen before anything is
indexed, as the application does per campaign (``fingerprint.common_shingles``).

The held-out submissions (generated with another seed stream, never indexed) are then
checked one by one as the application does: fingerprint (from the text) -> look up the
indexed reports with >= ``MIN_SHARED_BANDS`` band keys among the submission's probes, most
first (at most ``--max-candidates``) -> ``compare`` each with the submission (reference and
common shingles discounted, no passages) -> flag those ``is_copy`` says. Submissions per
bucket (``--per-bucket``): copies of random indexed reports -- exact (another writer's
header), edited at 5/10/15/20/25/30 % of syllables, paragraphs reordered (plain and with
10 % edits), the copy inside a longer text (1x or 2x as much own text around it, edited
0/10/20 %), a new copy of a circulating template (0-20 %) -- and negatives: new unrelated
reports and reports made of the resolution's own text. Recall = share of copies flagged
against a report of their family (the source, or the template and its copies); precision
= share of flagged pairs within one family; negatives must have no flag.

``--pg N`` loads N reports' band keys into table ``sim_band (key bigint, report int,
band smallint)`` of the scratch database ``qt_bench_similarity`` (dropped and rebuilt)
with COPY from ``--workers`` processes, then builds one B-tree on (key, report) -- the
key alone names its band (see fingerprint.py), and with the report in the index the
lookup is an index-only scan -- and times the lookup as one query per submission:

    SELECT report, count(*) FROM sim_band WHERE key = ANY(%s)
    GROUP BY report HAVING count(*) >= 5 ORDER BY count(*) DESC, report LIMIT 10

(``--cap K``: at most K reports per key, the earliest, via a LATERAL subquery.)

Filler reports come from the same generator as the planted ones, but their band keys are
computed from their syllables without rendering and re-reading the text
(``fingerprint_syllables(normalised(r))``, tested equal to ``fingerprint(render(r))``).
A candidate's text for verification is regenerated from its number (about the cost of
reading it from the database), timed as part of the verification.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quantriet.similarity import fingerprint as fp  # noqa: E402
from quantriet.similarity import synthetic as syn  # noqa: E402

TEMPLATES = 5
TEMPLATE_COPIES = 40
COMMON_SAMPLE = int(os.environ.get("COMMON_SAMPLE", 10_000))
FREQUENT_FRACTION = float(os.environ.get("FREQUENT_FRACTION", fp.FREQUENT_FRACTION))
COMMON_FRACTION = float(os.environ.get("COMMON_FRACTION", fp.COMMON_FRACTION))
PG_DB = "qt_bench_similarity"
PG_URL = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/")


class Corpus:
    """Indexed reports: originals 0..N-1, then templates and their copies."""

    def __init__(self, seed: int, n: int) -> None:
        self.seed, self.n = seed, n
        self.gen = syn.Corpus(seed)
        rng = random.Random(f"templates-{seed}")
        self.templates = [self.gen.generate(rng) for _ in range(TEMPLATES)]
        # ids: N + t*(copies+1) is template t itself, the next ones its copies
        self.extra: dict[int, tuple[syn.Report, int]] = {}
        for t, template in enumerate(self.templates):
            base = n + t * (TEMPLATE_COPIES + 1)
            self.extra[base] = (template, -1 - t)
            for c in range(TEMPLATE_COPIES):
                copy = syn.copy_of(self.gen, template, base, rng, rng.choice([0, 0.05, 0.1, 0.2]))
                self.extra[base + 1 + c] = (copy, -1 - t)
        self.reference = fp.fingerprint(self.gen.resolution).shingles
        counts: Counter[int] = Counter()
        size = min(COMMON_SAMPLE, n)
        for i in range(size):
            counts.update(
                fp.fingerprint_syllables(syn.normalised(self.gen.report(i))).shingles
                - self.reference
            )
        # the same rule as fp.common_shingles, two thresholds from one count
        self.common = frozenset(h for h, c in counts.items() if c >= max(5, COMMON_FRACTION * size))
        self.frequent = frozenset(
            h for h, c in counts.items() if c >= max(5, FREQUENT_FRACTION * size)
        )
        del counts
        self.ignore = self.reference | self.frequent

    @property
    def size(self) -> int:
        return self.n + len(self.extra)

    def report(self, i: int) -> syn.Report:
        return self.extra[i][0] if i in self.extra else self.gen.report(i)

    def family(self, i: int) -> int:
        return self.extra[i][1] if i in self.extra else i

    def keys(self, i: int) -> tuple[int, ...]:
        return fp.fingerprint_syllables(syn.normalised(self.report(i)), ignore=self.ignore).bands


def submissions(
    corpus: Corpus, per_bucket: int, seed: int
) -> Iterator[tuple[str, syn.Report, int]]:
    """(bucket, report, family) of the held-out submissions; NEGATIVE for negatives."""
    rng = random.Random(f"queries-{seed}")
    gen = corpus.gen

    def source() -> tuple[syn.Report, int]:
        i = rng.randrange(corpus.n)
        return gen.report(i), i

    for _ in range(per_bucket):
        r, i = source()
        yield "exact", syn.copy_of(gen, r, i, rng), i
        for rate in (0.05, 0.10, 0.15, 0.20, 0.25, 0.30):
            r, i = source()
            yield f"edit_{int(rate * 100):02d}", syn.copy_of(gen, r, i, rng, rate), i
        r, i = source()
        yield "reordered", syn.reorder(gen, r, i, rng), i
        r, i = source()
        yield "reordered_10", syn.reorder(gen, r, i, rng, 0.10), i
        for extra in (1.0, 2.0):
            for rate in (0.0, 0.10, 0.20):
                r, i = source()
                label = f"inside_x{int(extra)}_{int(rate * 100):02d}"
                yield label, syn.embed(gen, r, i, rng, rate, extra), i
        t = rng.randrange(TEMPLATES)
        rate = rng.choice([0, 0.05, 0.1, 0.2])
        yield "template", syn.copy_of(gen, corpus.templates[t], 0, rng, rate), -1 - t
        yield "unrelated", gen.generate(rng), NEGATIVE
        yield "quote_only", gen.quote_only(rng), NEGATIVE


NEGATIVE = -(2**31)


class MemoryIndex:
    def __init__(self, corpus: Corpus, cap: int = 0) -> None:
        self.corpus, self.cap = corpus, cap
        self.postings: dict[int, list[int]] = defaultdict(list)
        self.texts: dict[int, str] = {}
        for i in range(corpus.size):
            report = corpus.report(i)
            for key in set(corpus.keys(i)):
                self.postings[key].append(i)
            self.texts[i] = syn.render(report)

    def lookup(self, keys: set[int], limit: int) -> tuple[list[tuple[int, int]], int, int]:
        hits: Counter[int] = Counter()
        rows = 0
        for key in keys:
            ids = self.postings.get(key, [])
            rows += len(ids)
            if self.cap:
                ids = ids[: self.cap]
            hits.update(ids)
        best = [(i, n) for i, n in hits.most_common(limit) if n >= fp.MIN_SHARED_BANDS]
        return best, len(hits), rows

    def text(self, i: int) -> str:
        return self.texts[i]


class PgIndex:
    QUERY = (
        "SELECT report, count(*) FROM sim_band WHERE key = ANY(%s) GROUP BY report "
        "HAVING count(*) >= %s ORDER BY count(*) DESC, report LIMIT %s"
    )
    CAPPED = (
        "SELECT p.report, count(*) FROM unnest(%s::bigint[]) AS q(key) CROSS JOIN LATERAL "
        "(SELECT report FROM sim_band b WHERE b.key = q.key ORDER BY b.report LIMIT %s) p "
        "GROUP BY p.report HAVING count(*) >= %s ORDER BY count(*) DESC, p.report LIMIT %s"
    )
    STATS = "SELECT count(*), count(DISTINCT report) FROM sim_band WHERE key = ANY(%s)"

    def __init__(self, corpus: Corpus, conn: Any, cap: int = 0) -> None:
        self.corpus, self.conn, self.cap = corpus, conn, cap

    def lookup(self, keys: set[int], limit: int) -> tuple[list[tuple[int, int]], int, int]:
        with self.conn.cursor() as cur:
            if self.cap:
                cur.execute(self.CAPPED, (list(keys), self.cap, fp.MIN_SHARED_BANDS, limit))
            else:
                cur.execute(self.QUERY, (list(keys), fp.MIN_SHARED_BANDS, limit))
            best = [(int(r), int(n)) for r, n in cur.fetchall()]
        return best, -1, -1

    def stats(self, keys: set[int]) -> tuple[int, int]:
        with self.conn.cursor() as cur:
            cur.execute(self.STATS, (list(keys),))
            rows, distinct = cur.fetchone()
        return int(distinct), int(rows)

    def text(self, i: int) -> str:
        return syn.render(self.corpus.report(i))


def check(corpus: Corpus, index: Any, per_bucket: int, seed: int, limit: int, threshold: float,
          no_stats: bool = False) -> dict[str, Any]:
    found: dict[str, list[bool]] = defaultdict(list)
    flags_true = flags_false = 0
    cand_raw: list[int] = []
    cand_verified: list[int] = []
    cand_unrelated: list[int] = []
    rows_read: list[int] = []
    times: dict[str, list[float]] = defaultdict(list)
    false_examples: list[dict[str, Any]] = []
    other_scores: list[float] = [0.0]
    copy_scores: list[float] = []
    unrelated_top: list[tuple[Any, ...]] = []
    missed: dict[str, int] = Counter()
    for bucket, report, family in submissions(corpus, per_bucket, seed):
        text = syn.render(report)
        t0 = time.perf_counter()
        print_ = fp.fingerprint(text, ignore=corpus.ignore)
        t1 = time.perf_counter()
        best, raw, rows = index.lookup(set(print_.probes), limit)
        t2 = time.perf_counter()
        flagged = []
        best_score = 0.0
        for i, _n in best:
            c = fp.compare(text, index.text(i), reference=corpus.reference,
                           common=corpus.common, passages=False)
            if corpus.family(i) == family:
                best_score = max(best_score, c.copy_score)
            else:
                other_scores.append(c.copy_score)
                unrelated_top.append((round(c.copy_score, 3), bucket, i, c.counted, c.shared,
                                      c.own_a, c.own_b))
            if fp.is_copy(c, threshold):
                flagged.append((i, c))
        t3 = time.perf_counter()
        times["fingerprint"].append(t1 - t0)
        times["lookup"].append(t2 - t1)
        times["verify"].append(t3 - t2)
        times["total"].append(t3 - t0)
        if raw < 0 and isinstance(index, PgIndex) and not no_stats:
            raw, rows = index.stats(set(print_.probes))
        cand_raw.append(raw)
        rows_read.append(rows)
        cand_verified.append(len(best))
        cand_unrelated.append(sum(1 for i, _n in best if corpus.family(i) != family))
        hit = False
        for i, c in flagged:
            if corpus.family(i) == family:
                flags_true += 1
                hit = True
            else:
                flags_false += 1
                if len(false_examples) < 5:
                    false_examples.append({"bucket": bucket, "other": i, "score": round(c.score, 3),
                                           "shared": c.shared})
        if family != NEGATIVE:
            found[bucket].append(hit)
            if not (bucket.startswith("edit_") and int(bucket[5:]) > 20):
                copy_scores.append(best_score)
            if not hit:
                missed[bucket] += 1
        else:
            found[bucket].append(not flagged)

    def ms(values: list[float], q: float) -> float:
        values = sorted(values)
        return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 2)

    positives = [b for b in found if b not in ("unrelated", "quote_only")]
    upto20 = [v for b in positives
              for v in found[b]
              if not (b.startswith("edit_") and int(b[5:]) > 20)]
    return {
        "recall_upto_20pct": round(sum(upto20) / len(upto20), 4),
        "precision": round(flags_true / max(1, flags_true + flags_false), 4),
        "flags_true": flags_true,
        "flags_false": flags_false,
        "recall_by_bucket": {b: round(sum(found[b]) / len(found[b]), 4) for b in positives},
        "negatives_not_flagged": {b: round(sum(found[b]) / len(found[b]), 4)
                                  for b in ("unrelated", "quote_only")},
        "submissions": sum(len(v) for v in found.values()),
        "copy_score_copies_upto_20pct": {
            "min": round(min(copy_scores), 3),
            "p01": round(sorted(copy_scores)[len(copy_scores) // 100], 3),
            "p05": round(sorted(copy_scores)[len(copy_scores) // 20], 3),
        },
        "copy_score_unrelated_candidates": {
            "max": round(max(other_scores), 3),
            "p99": round(sorted(other_scores)[int(0.99 * len(other_scores))], 3),
            "count": len(other_scores) - 1,
            "top": sorted(unrelated_top, reverse=True)[:3],
        },
        "candidates_verified_mean": round(statistics.mean(cand_verified), 2),
        "candidates_verified_max": max(cand_verified),
        "unrelated_candidates_mean": round(statistics.mean(cand_unrelated), 3),
        "lookups_with_an_unrelated_candidate": round(
            sum(1 for n in cand_unrelated if n) / len(cand_unrelated), 4
        ),
        "reports_sharing_a_key_median": statistics.median(cand_raw),
        "reports_sharing_a_key_p95": sorted(cand_raw)[int(0.95 * len(cand_raw))],
        "postings_read_median": statistics.median(rows_read),
        "postings_read_p95": sorted(rows_read)[int(0.95 * len(rows_read))],
        "ms": {k: {"median": ms(v, 0.5), "p95": ms(v, 0.95)} for k, v in times.items()},
        "false_examples": false_examples,
    }


# --- PostgreSQL loading ---------------------------------------------------------------------

_worker_corpus: Corpus | None = None


def _load_chunk(args: tuple[int, int, str]) -> int:
    start, stop, url = args
    import psycopg

    corpus = _worker_corpus
    assert corpus is not None
    rows = 0
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for lo in range(start, stop, 5000):
            buf = io.StringIO()
            for i in range(lo, min(stop, lo + 5000)):
                for band, key in enumerate(corpus.keys(i)):
                    buf.write(f"{key}\t{i}\t{band}\n")
                    rows += 1
            with cur.copy("COPY sim_band (key, report, band) FROM STDIN") as copy:
                copy.write(buf.getvalue())
            conn.commit()
    return rows


def load_pg(corpus: Corpus, workers: int, keep: bool) -> dict[str, Any]:
    import psycopg

    global _worker_corpus
    with psycopg.connect(PG_URL + "postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DB,)).fetchone()
        if exists and not keep:
            conn.execute(f"DROP DATABASE {PG_DB}")
            exists = None
        if not exists:
            conn.execute(f"CREATE DATABASE {PG_DB}")
    url = PG_URL + PG_DB
    info: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        loaded = conn.execute(
            "SELECT to_regclass('sim_band') IS NOT NULL").fetchone()[0]  # type: ignore[index]
        if keep and loaded:
            count = conn.execute("SELECT max(report) + 1 FROM sim_band").fetchone()[0]  # type: ignore[index]
            if count != corpus.size:
                raise SystemExit(f"--keep: the table holds {count} reports, not {corpus.size}")
            info["reused"] = True
        else:
            conn.execute("DROP TABLE IF EXISTS sim_band")
            conn.execute("CREATE UNLOGGED TABLE sim_band (key bigint NOT NULL, report int NOT NULL, "
                         "band smallint NOT NULL)")
            _worker_corpus = corpus
            t = time.perf_counter()
            step = 20_000
            chunks = [(lo, min(corpus.size, lo + step), url) for lo in range(0, corpus.size, step)]
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                rows = sum(pool.imap_unordered(_load_chunk, chunks))
            info["load_s"] = round(time.perf_counter() - t, 1)
            t = time.perf_counter()
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("CREATE INDEX sim_band_key ON sim_band (key, report)")
            conn.execute("ALTER TABLE sim_band SET LOGGED")
            conn.execute("VACUUM ANALYZE sim_band")
            info["index_s"] = round(time.perf_counter() - t, 1)
            info["rows"] = rows
        sizes = conn.execute(
            "SELECT pg_relation_size('sim_band'), pg_relation_size('sim_band_key')").fetchone()
        assert sizes is not None
        info["table_bytes_per_report"] = round(sizes[0] / corpus.size)
        info["index_bytes_per_report"] = round(sizes[1] / corpus.size)
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--per-bucket", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--query-seed", type=int,
                        help="seed of the held-out submissions (default: --seed)")
    parser.add_argument("--max-candidates", type=int, default=10)
    parser.add_argument("--threshold", type=float, default=fp.DEFAULT_THRESHOLD)
    parser.add_argument("--pg", type=int, metavar="N", help="index N reports in PostgreSQL")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="reuse the loaded table")
    parser.add_argument("--cap", type=int, default=0,
                        help="read at most CAP reports per key (earliest first); 0: all")
    parser.add_argument("--no-stats", action="store_true",
                        help="skip the untimed query counting all reports sharing a key")
    args = parser.parse_args()
    n = args.pg or args.reports
    query_seed = args.seed if args.query_seed is None else args.query_seed
    t = time.perf_counter()
    corpus = Corpus(args.seed, n)
    out: dict[str, Any] = {
        "mode": "postgresql" if args.pg else "memory",
        "reports": corpus.size,
        "seed": args.seed,
        "query_seed": query_seed,
        "shingle": fp.SHINGLE,
        "bands": fp.BANDS,
        "rows": fp.ROWS,
        "threshold": args.threshold,
        "min_shared": fp.MIN_SHARED,
        "min_shared_bands": fp.MIN_SHARED_BANDS,
        "reference_shingles": len(corpus.reference),
        "common_shingles": len(corpus.common),
        "frequent_shingles": len(corpus.frequent),
        "band_key_bytes_per_report": 8 * fp.BANDS,
    }
    if args.pg:
        import psycopg

        out.update(load_pg(corpus, args.workers, args.keep))
        with psycopg.connect(PG_URL + PG_DB, autocommit=True) as conn:
            index: Any = PgIndex(corpus, conn, args.cap)
            out["cap"] = args.cap
            out.update(check(corpus, index, args.per_bucket, query_seed, args.max_candidates,
                             args.threshold, args.no_stats))
    else:
        index = MemoryIndex(corpus, args.cap)
        out["cap"] = args.cap
        out["index_build_s"] = round(time.perf_counter() - t, 1)
        out.update(check(corpus, index, args.per_bucket, query_seed, args.max_candidates,
                         args.threshold))
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
