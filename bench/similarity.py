"""Copy detection on synthetic reports: recall, precision, candidates, time, index size.

Prints one JSON line. Two modes:

    .venv/bin/python bench/similarity.py                 # in memory, 20,000 reports indexed
    .venv/bin/python bench/similarity.py --reports 50000 --seed 7
    .venv/bin/python bench/similarity.py --pg 1000000    # band keys of 1 M reports in PostgreSQL
    .venv/bin/python bench/similarity.py --pg 1000000 --keep   # reuse the loaded table
    .venv/bin/python bench/similarity.py --app 20000      # the application's tables and check
    .venv/bin/python bench/similarity.py --app 1000000 --per-bucket 40 --reuse

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

``--app N`` measures the application's own path instead, in the scratch database
``--db`` (default ``qt_bench_simapp``, migrated; ``--reuse`` keeps a finished load of the
same N and seed, and applies new migrations to it). It loads the demo organisation (small),
a campaign with the resolution as reference text, and N members each with a submitted
report of one version; the first 10,000 versions, then the campaign's phrase set taken from
them by ``services.refresh`` (and ``services.rebuild``), then the other versions and the
band keys of all N -- each report's ``set(fingerprint(text, ignore=<the set>).bands)`` with
the set's generation, what ``check_version`` stores -- written with COPY from ``--workers``
processes (the indexes of the key table dropped before and built again after). The 5
templates are registered with ``services.add_source`` and their 200 copies submitted and
checked one by one. When N is at least ``services.CROWDED_FROM`` (100,000), the load then
takes the refresh the application takes at that size (``services.refresh`` with the
crowded keys counted on the index) and rebuilds the keys of the fillers by the same
parallel COPY path, the rest by ``services.rebuild`` (``app_crowded``). Then two rounds of held-out submissions, each stored by
``reports.services.submit`` and checked by ``services.check_version`` (the function the
task runs; only that call is timed): the first with the one rebuilt generation, the
second after ``services.refresh`` took a new set and ``--rebuild-batches`` batches of its
rebuild ran (one task's worth), so lookups probe two generations. The submissions of both
rounds are removed afterwards (the load stays reusable). Printed: time of the check
(median, p95), recall and precision through flags, flags on negatives, index size per
report, load time, load average before and after each round.

Filler reports come from the same generator as the planted ones, but their band keys are
computed from their syllables without rendering and re-reading the text
(``fingerprint_syllables(normalised(r))``, tested equal to ``fingerprint(render(r))``).
A candidate's text for verification is regenerated from its number (about the cost of
reading it from the database), timed as part of the verification.
"""

from __future__ import annotations

import argparse
import datetime as dt
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

    def __init__(self, seed: int, n: int, phrases: bool = True) -> None:
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
        size = min(COMMON_SAMPLE, n) if phrases else 0
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


# --- the application's own path (--app N) ----------------------------------------------------

APP_SLUG = "bench-similarity"
APP_SECRET = "bench-similarity-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"
_app: dict[str, Any] = {}
"""What the loading processes need, set before they are forked."""


def _app_chunk(args: tuple[int, int]) -> int:
    """Versions (from ``versions_from`` on) and band keys (if ``ignore`` is set) of the
    filler reports lo..hi-1, as the application stores them, written with COPY."""
    import hashlib

    import psycopg

    from quantriet.reports import extract
    from quantriet.reports.services import tidy_text
    from quantriet.similarity import services

    lo, hi = args
    a = _app
    corpus: Corpus = a["corpus"]
    ignore: frozenset[int] | None = a["ignore"]
    rows = 0
    with psycopg.connect(a["url"]) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # rows consistent by construction
        for start in range(lo, hi, 2000):
            versions, keys = [], io.StringIO()
            for i in range(start, min(hi, start + 2000)):
                text = tidy_text(syn.render(corpus.report(i)))
                report_id = a["report0"] + i
                if i >= a["versions_from"]:
                    versions.append((
                        a["version0"] + i, 1, "", a["at"][i], report_id, "text", text,
                        extract.count_words(text), "", "", 0,
                        hashlib.sha256(text.encode()).hexdigest(), False))
                if ignore is not None:
                    for key in services.stored_keys(a["campaign"], a["generation"],
                                                    fp.fingerprint(text, ignore=ignore).bands):
                        keys.write(f"{a['campaign']}\t{report_id}\t\\N\t{key}\t{a['generation']}\n")
                        rows += 1
            if versions:
                with cur.copy("COPY reports_version (id, number, client_ref, submitted_at, "
                              "report_id, kind, text, words, file, filename, size, sha256, "
                              "late) FROM STDIN") as copy:
                    for row in versions:
                        copy.write_row(row)
            if keys.tell():
                with cur.copy("COPY similarity_bandkey (campaign_id, report_id, source_id, "
                              "key, generation) FROM STDIN") as copy:
                    copy.write(keys.getvalue())
            conn.commit()
    return rows


def _app_parallel(lo: int, hi: int, workers: int) -> int:
    from django.db import connections

    connections.close_all()  # the children must not share the parent's connection
    step = 10_000
    chunks = [(s, min(hi, s + step)) for s in range(lo, hi, step)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return sum(pool.imap_unordered(_app_chunk, chunks))


def _sql(query: str, params: Any = ()) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else []


def app_load(corpus: Corpus, holdout: int, workers: int) -> dict[str, Any]:
    """The organisation, the campaign with the resolution as reference text, N filler
    reports (each with one version and the band keys the copy check stores), the phrase set
    taken from the first 10,000 (``services.refresh``, as ``similarity-refresh`` does) and
    rebuilt, the circulating templates (``services.add_source``) and their copies submitted
    and checked one by one, and `holdout` more members with accounts for the held-out
    submissions."""
    from _http import migrate_and_demo
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from quantriet.campaigns import services as campaigns
    from quantriet.campaigns.models import Campaign
    from quantriet.org.models import Unit
    from quantriet.reports.services import policy_for
    from quantriet.similarity import services
    from quantriet.similarity.models import Source

    info: dict[str, Any] = dict(migrate_and_demo("small"))
    t0 = time.perf_counter()
    admin = get_user_model().objects.get(username="admin")
    top = Unit.objects.get(parent__isnull=True)
    campaign = campaigns.create_campaign(slug=APP_SLUG, title="Benchmark kiểm tra sao chép",
                                         owner_unit=top, actor=admin)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PUBLISHED)
    policy_for(campaign)
    services.add_source(campaign=campaign, kind=Source.Kind.REFERENCE, title="Nghị quyết",
                        text=corpus.gen.resolution, actor=admin)
    n, copies = corpus.n, len(corpus.extra) - TEMPLATES
    members = n + copies + holdout
    leaves = _sql("SELECT id, COALESCE(parent_id, id) FROM org_unit u WHERE valid_to IS NULL "
                  "AND NOT EXISTS (SELECT 1 FROM org_unit c WHERE c.parent_id = u.id) "
                  "ORDER BY id")
    now = timezone.now()
    person0 = _sql("SELECT COALESCE(max(id), 0) + 1 FROM org_person")[0][0]
    part0 = _sql("SELECT COALESCE(max(id), 0) + 1 FROM campaigns_participant")[0][0]
    report0 = _sql("SELECT COALESCE(max(id), 0) + 1 FROM reports_report")[0][0]
    version0 = _sql("SELECT COALESCE(max(id), 0) + 1 FROM reports_version")[0][0]
    _app["meta"] = {"person0": person0, "n": n, "report0": report0}
    units = [u for u, _p in leaves]
    parents = [p for _u, p in leaves]
    _sql("INSERT INTO org_person (id, family_name, middle_name, given_name, full_name, "
         "search_name, sort_key, gender, email, phone, unit_id, created_at, updated_at) "
         "SELECT %s + g, 'Nguyễn', 'Văn', 'Số ' || g, 'Nguyễn Văn Số ' || g, "
         "'nguyen van so ' || g, 'so ' || lpad(g::text, 8, '0'), '', '', '', "
         "(%s::bigint[])[1 + g %% %s], %s, %s FROM generate_series(0, %s - 1) g",
         [person0, units, len(units), now, now, members])
    _sql("INSERT INTO campaigns_participant (id, campaign_id, person_id, unit_id, sort_key, "
         "managing_unit_id, source, active, reason, pinned, created_at, updated_at) "
         "SELECT %s + g, %s, %s + g, (%s::bigint[])[1 + g %% %s], 'so ' || lpad(g::text, 8, "
         "'0'), (%s::bigint[])[1 + g %% %s], 'rule', true, '', false, %s, %s "
         "FROM generate_series(0, %s - 1) g",
         [part0, campaign.pk, person0, units, len(units), parents, len(units), now, now,
          members])
    # accounts for the members who submit through the application (after the fillers)
    _sql("INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, "
         "email, is_staff, is_active, date_joined) SELECT '!bench', false, 'sim' || g, '', '', "
         "'', false, true, %s FROM generate_series(%s, %s - 1) g", [now, n, members])
    _sql("UPDATE org_person p SET user_id = a.id FROM auth_user a WHERE a.username = "
         "'sim' || (p.id - %s) AND p.id >= %s", [person0, person0 + n])
    for table in ("org_person", "campaigns_participant"):
        _sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
             f"(SELECT max(id) FROM {table}))")
    first = min(n, services.SAMPLE)
    at = [now - dt.timedelta(seconds=n - i) for i in range(n)]

    def reports(lo: int, hi: int) -> None:
        _sql("INSERT INTO reports_report (id, campaign_id, participant_id, status, draft, "
             "managing_unit_id, review_unit_id, escalated, version_count, first_submitted_at, "
             "submitted_at, late, updated_at) SELECT %s + g, %s, %s + g, 'submitted', '', "
             "pa.managing_unit_id, pa.managing_unit_id, false, 1, %s - (%s - g) * "
             "interval '1 second', %s - (%s - g) * interval '1 second', false, %s "
             "FROM generate_series(%s, %s - 1) g JOIN campaigns_participant pa "
             "ON pa.id = %s + g",
             [report0, campaign.pk, part0, now, n, now, n, now, lo, hi, part0])
        _sql("SELECT setval(pg_get_serial_sequence('reports_report', 'id'), "
             "(SELECT max(id) FROM reports_report))")

    _app.update(corpus=corpus, url=os.environ["DATABASE_URL"].replace("postgres://",
                                                                       "postgresql://"),
                campaign=campaign.pk, report0=report0, version0=version0, at=at,
                versions_from=0, ignore=None, generation=0)
    # the first 10,000 reports, then the phrase set taken from them (and its rebuild)
    reports(0, first)
    _app_parallel(0, first, workers)
    made = services.refresh(campaign)
    assert made is not None and services.rebuild(campaign, made.generation)
    state = services.phrases(campaign)
    info.update(generation=state.generation, phrase_sample=made.sample,
                frequent_left_out=len(state.ignore), common_phrases=len(state.common))
    # the other reports, and the band keys of all, with the latest set: indexes built after
    indexes = _sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
                   "'similarity_bandkey' AND indexname NOT LIKE '%%_pkey'")
    for name, _definition in indexes:
        _sql(f'DROP INDEX "{name}"')
    reports(first, n)
    _app.update(versions_from=first, ignore=state.ignore, generation=state.generation)
    t = time.perf_counter()
    info["band_keys"] = _app_parallel(0, n, workers)
    _sql("SELECT setval(pg_get_serial_sequence('reports_version', 'id'), "
         "(SELECT max(id) FROM reports_version))")
    info["copy_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    _sql("SET maintenance_work_mem = '1GB'")
    for _name, definition in indexes:
        _sql(definition)
    _sql("VACUUM ANALYZE similarity_bandkey, reports_version, reports_report, "
         "campaigns_participant, org_person")
    info["index_s"] = round(time.perf_counter() - t, 1)
    # templates registered by the organiser; their copies submitted and checked one by one
    for t_index, template in enumerate(corpus.templates):
        services.add_source(campaign=campaign, kind=Source.Kind.TEMPLATE,
                            title=f"Mẫu {t_index + 1}", text=syn.render(template), actor=admin)
    member = n
    for i in sorted(corpus.extra):
        report, family = corpus.extra[i]
        if i == n + (-1 - family) * (TEMPLATE_COPIES + 1):
            continue  # the template itself
        _submit_and_check(campaign, member, syn.render(report))
        member += 1
    _sql("CREATE TABLE bench_meta (n int, seed int, members int, person0 bigint, "
         "report0 bigint)")
    _sql("INSERT INTO bench_meta VALUES (%s, %s, %s, %s, %s)",
         [n, corpus.seed, members, person0, report0])
    info["load_s"] = round(time.perf_counter() - t0, 1)
    return info


def _submit_and_check(campaign: Any, member: int, text: str,
                      timed: list[float] | None = None) -> tuple[Any, Any]:
    """Submit `text` as member number `member` (reports.services.submit, as the page does)
    and run the copy check the submission queues (timed into `timed`)."""
    from quantriet.campaigns.models import Participant
    from quantriet.reports import services as reports
    from quantriet.similarity import services

    meta = _app["meta"]
    participant = Participant.objects.select_related("person__user", "campaign").get(
        campaign=campaign, person_id=meta["person0"] + member)
    version = reports.submit(participant=participant, text=text,
                             actor=participant.person.user)
    t = time.perf_counter()
    flag = services.check_version(version.pk)
    if timed is not None:
        timed.append(time.perf_counter() - t)
    return version, flag


def _base_generation() -> int:
    """The phrase set generation the loaded keys are of (the load's, or its crowded refresh's)."""
    if _sql("SELECT to_regclass('bench_base') IS NULL")[0][0]:
        _sql("CREATE TABLE bench_base (generation int)")
        _sql("INSERT INTO bench_base SELECT min(generation) FROM similarity_phraseset")
    return _sql("SELECT generation FROM bench_base")[0][0]


def _app_reset(campaign: Any) -> None:
    """Back to the loaded state: no held-out submissions, one rebuilt generation (the base);
    the keys rebuilt with a later generation fingerprinted again with the base's set."""
    from django_tasks_db.models import DBTaskResult

    from quantriet.reports.models import Report, Version
    from quantriet.similarity import services
    from quantriet.similarity.models import PhraseSet, Source

    meta = _app["meta"]
    first_holdout = meta["person0"] + meta["n"] + len(_app["corpus"].extra) - TEMPLATES
    Report.objects.filter(campaign=campaign,
                          participant__person_id__gte=first_holdout).delete()
    base = _base_generation()
    if PhraseSet.objects.filter(campaign=campaign, generation__gt=base).exists():
        PhraseSet.objects.filter(campaign=campaign, generation__gt=base).delete()
        state = services.phrases(campaign)
        assert state.generation == base and len(state.live) == 1
        stale = [r for (r,) in _sql(
            "SELECT DISTINCT report_id FROM similarity_bandkey WHERE campaign_id = %s "
            "AND generation > %s AND report_id IS NOT NULL", [campaign.pk, base])]
        texts = dict(Version.objects.filter(report_id__in=stale, number=1)
                     .values_list("report_id", "text"))
        for report_id, text in texts.items():
            services._store_keys(campaign.pk, report_id, base,
                                 fp.fingerprint(text, ignore=state.ignore).bands)
        for source in Source.objects.filter(campaign=campaign, kind=Source.Kind.TEMPLATE):
            services.index_source(source)
    _app["held_out_family"] = {}
    DBTaskResult.objects.all().delete()
    _sql("VACUUM ANALYZE similarity_bandkey, reports_report, reports_version")


def app_crowded(campaign: Any, workers: int) -> dict[str, Any]:
    """The refresh the application takes when the campaign reaches a REFRESH_AT of at least
    CROWDED_FROM reports (here at N): a new phrase set that also leaves out the crowded keys
    counted on the index, and its rebuild -- done here by the load's parallel COPY path for
    the filler reports (``services.rebuild`` would take about an hour and a half per million
    on one worker) and by ``services.rebuild`` for the rest (templates, their copies)."""
    from quantriet.similarity import services
    from quantriet.similarity.models import PhraseSet

    meta = _app["meta"]
    n, report0 = meta["n"], meta["report0"]
    info: dict[str, Any] = {}
    t = time.perf_counter()
    made = services.refresh(campaign)
    assert made is not None
    info["crowded_refresh_s"] = round(time.perf_counter() - t, 1)
    state = services.phrases(campaign)
    info["crowded_runs"] = len(services.unpack(made.crowded))
    info["crowded_frequent_left_out"] = len(state.ignore)
    t = time.perf_counter()
    indexes = _sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
                   "'similarity_bandkey' AND indexname NOT LIKE '%%_pkey'")
    _sql("CREATE TABLE bench_keep AS SELECT campaign_id, report_id, source_id, key, "
         "generation FROM similarity_bandkey WHERE report_id IS NULL OR report_id >= %s",
         [report0 + n])
    _sql("TRUNCATE similarity_bandkey")
    for name, _definition in indexes:
        _sql(f'DROP INDEX "{name}"')
    _sql("INSERT INTO similarity_bandkey (campaign_id, report_id, source_id, key, generation) "
         "SELECT * FROM bench_keep")
    _sql("DROP TABLE bench_keep")
    _app.update(url=os.environ["DATABASE_URL"].replace("postgres://", "postgresql://"),
                campaign=campaign.pk, report0=report0, version0=0, at=None,
                versions_from=n, ignore=state.ignore, generation=made.generation)
    info["crowded_band_keys"] = _app_parallel(0, n, workers)
    _sql("SET maintenance_work_mem = '1GB'")
    for _name, definition in indexes:
        _sql(definition)
    _sql("VACUUM ANALYZE similarity_bandkey")
    PhraseSet.objects.filter(pk=made.pk).update(rebuilt_upto=report0 + n - 1)
    assert services.rebuild(campaign, made.generation)  # templates and their copies
    _sql("UPDATE bench_base SET generation = %s", [made.generation])
    info["crowded_rekey_s"] = round(time.perf_counter() - t, 1)
    return info


def app_check(corpus: Corpus, campaign: Any, per_bucket: int, seed: int,
              first_member: int) -> dict[str, Any]:
    """The held-out submissions, each submitted and checked by ``services.check_version``
    (the function the task runs): recall, precision, flags on negatives, time of the check."""
    from quantriet.similarity.models import Source

    meta = _app["meta"]
    templates = {pk: -int(title.split()[-1]) for pk, title in Source.objects.filter(
        campaign=campaign, kind=Source.Kind.TEMPLATE).values_list("pk", "title")}
    # report id -> family of the held-out submissions of every round so far: a copy may be
    # flagged against an earlier round's copy of the same text
    family: dict[int, int] = _app.setdefault("held_out_family", {})
    times: list[float] = []
    by_bucket: dict[str, list[float]] = defaultdict(list)
    found: dict[str, list[bool]] = defaultdict(list)
    flags_true = flags_false = 0
    member = first_member
    for bucket, report, fam in submissions(corpus, per_bucket, seed):
        timed: list[float] = []
        version, flag = _submit_and_check(campaign, member, syn.render(report), timed)
        member += 1
        times.extend(timed)
        by_bucket[bucket].extend(timed)
        family[version.report_id] = fam
        hit = False
        if flag is not None:
            if flag.source_id:
                other = templates[flag.source_id]
            elif flag.other_id in family:
                other = family[flag.other_id]
            else:
                index = flag.other_id - meta["report0"]
                other = index if index < meta["n"] else _app["copy_family"].get(
                    flag.other_id, NEGATIVE + 1)
            hit = other == fam
            if hit:
                flags_true += 1
            else:
                flags_false += 1
        if fam != NEGATIVE:
            found[bucket].append(hit)
        else:
            found[bucket].append(flag is None)

    def ms(values: list[float], q: float) -> float:
        values = sorted(values)
        return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 2)

    positives = [b for b in found if b not in ("unrelated", "quote_only")]
    upto20 = [v for b in positives for v in found[b]
              if not (b.startswith("edit_") and int(b[5:]) > 20)]
    return {
        "submissions": len(times),
        "check_ms": {"median": ms(times, 0.5), "p95": ms(times, 0.95),
                     "mean": round(1000 * statistics.mean(times), 2)},
        "recall_upto_20pct": round(sum(upto20) / len(upto20), 4),
        "precision": round(flags_true / max(1, flags_true + flags_false), 4),
        "flags_true": flags_true,
        "flags_false": flags_false,
        "negatives_flagged": {b: len(found[b]) - sum(found[b]) for b in ("unrelated",
                                                                          "quote_only")},
        "recall_by_bucket": {b: round(sum(found[b]) / len(found[b]), 4) for b in positives},
        "check_ms_median_by_bucket": {b: ms(v, 0.5) for b, v in by_bucket.items()},
    }


def app_main(args: argparse.Namespace) -> dict[str, Any]:
    from _http import ensure_database

    n = args.app
    per_round = 18 * args.per_bucket
    holdout = 2 * per_round
    database_url = f"{PG_URL.rstrip('/')}/{args.db}".replace("postgresql://", "postgres://")
    os.environ.update({"DATABASE_URL": database_url, "DEBUG": "0", "SECRET_KEY": APP_SECRET,
                       "DJANGO_SETTINGS_MODULE": "quantriet.settings"})
    reused = ensure_database(PG_URL.rstrip("/"), args.db, args.reuse)
    import django

    django.setup()
    from django.db import connection

    from quantriet.campaigns.models import Campaign
    from quantriet.similarity import services
    from quantriet.similarity.models import PhraseSet

    corpus = Corpus(args.seed, n, phrases=False)
    out: dict[str, Any] = {"mode": "application", "reports": n, "seed": args.seed,
                           "database": args.db}
    loaded = reused and _sql("SELECT to_regclass('bench_meta') IS NOT NULL")[0][0]
    if loaded:
        row = _sql("SELECT n, seed, members, person0, report0 FROM bench_meta")[0]
        if row[:2] != (n, args.seed) or row[2] < n + len(corpus.extra) - TEMPLATES + holdout:
            raise SystemExit(f"--reuse: {args.db} holds another load (N, seed, members: "
                             f"{row[:3]}); drop --reuse, or lower --per-bucket")
        out["reused"] = True
        from django.core.management import call_command

        t = time.perf_counter()
        call_command("migrate", verbosity=0, stdout=io.StringIO())  # e.g. a new index
        out["migrate_s"] = round(time.perf_counter() - t, 1)
    else:
        if reused:
            raise SystemExit(f"--reuse: {args.db} is not a finished load; drop --reuse")
        out.update(app_load(corpus, holdout, args.workers))
        row = _sql("SELECT n, seed, members, person0, report0 FROM bench_meta")[0]
    _app["meta"] = dict(zip(("n", "seed", "members", "person0", "report0"), row, strict=True))
    _app["corpus"] = corpus
    campaign = Campaign.objects.get(slug=APP_SLUG)
    _app["copy_family"] = {}
    _app_reset(campaign)
    if n >= services.CROWDED_FROM and not PhraseSet.objects.filter(
            campaign=campaign).exclude(crowded=b"").exists():
        out.update(app_crowded(campaign, args.workers))
    with connection.cursor() as cur:
        cur.execute("SELECT pg_relation_size('similarity_bandkey'), "
                    "pg_indexes_size('similarity_bandkey'), count(*) FROM similarity_bandkey")
        table, indexes, keys = cur.fetchone()
        cur.execute("SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM "
                    "pg_index WHERE indrelid = 'similarity_bandkey'::regclass ORDER BY 1")
        each = {name: round(size / n) for name, size in cur.fetchall()}
    out.update(band_keys=keys, table_bytes_per_report=round(table / n),
               index_bytes_per_report=round(indexes / n), index_bytes_per_report_each=each)
    first_holdout = n + len(corpus.extra) - TEMPLATES
    _app["copy_family"] = _copy_families(campaign, corpus)
    load = os.getloadavg()
    out["steady"] = app_check(corpus, campaign, args.per_bucket,
                              args.seed if args.query_seed is None else args.query_seed,
                              first_holdout)
    out["steady"]["loadavg_before"] = [round(x, 2) for x in load]
    out["steady"]["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    # a new phrase set: lookups probe two generations until its rebuild is done
    t = time.perf_counter()
    made = services.refresh(campaign)
    assert made is not None
    refresh_s = time.perf_counter() - t
    t = time.perf_counter()
    done = services.rebuild(campaign, made.generation, batches=args.rebuild_batches)
    rebuild_s = time.perf_counter() - t
    live = [g for g, _i in services.phrases(campaign).live]
    load = os.getloadavg()
    out["rebuilding"] = app_check(corpus, campaign, args.per_bucket,
                                  (args.seed if args.query_seed is None else args.query_seed)
                                  + 1000, first_holdout + per_round)
    out["rebuilding"].update(
        generations_probed=live, refresh_s=round(refresh_s, 1),
        rebuild_batches=args.rebuild_batches, rebuild_s=round(rebuild_s, 1),
        rebuild_done=done, loadavg_before=[round(x, 2) for x in load],
        loadavg_after=[round(x, 2) for x in os.getloadavg()])
    _app_reset(campaign)
    return out


def _copy_families(campaign: Any, corpus: Corpus) -> dict[int, int]:
    """Report id -> template family of the loaded template copies."""
    meta = _app["meta"]
    first = meta["person0"] + meta["n"]
    families = []
    for i in sorted(corpus.extra):
        report, family = corpus.extra[i]
        if i != corpus.n + (-1 - family) * (TEMPLATE_COPIES + 1):
            families.append(family)
    rows = _sql("SELECT r.id, pa.person_id FROM reports_report r JOIN campaigns_participant pa "
                "ON pa.id = r.participant_id WHERE r.campaign_id = %s AND pa.person_id >= %s "
                "AND pa.person_id < %s", [campaign.pk, first, first + len(families)])
    return {report: families[person - first] for report, person in rows}



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
    parser.add_argument("--app", type=int, metavar="N",
                        help="the application's own tables and check, N reports in PostgreSQL")
    parser.add_argument("--db", default="qt_bench_simapp", help="database of --app")
    parser.add_argument("--reuse", action="store_true",
                        help="--app: use the loaded database if it holds the same load")
    parser.add_argument("--rebuild-batches", type=int, default=20,
                        help="--app: rebuild batches run before the second round")
    args = parser.parse_args()
    if args.app:
        t = time.perf_counter()
        out = app_main(args)
        out["total_s"] = round(time.perf_counter() - t, 1)
        print(json.dumps(out, ensure_ascii=False))
        return
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
