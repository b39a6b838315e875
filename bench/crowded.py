"""Crowded band keys, in memory: how many index entries a lookup reads before and after the
runs of crowded keys are left out of the keys, and whether copies stay candidates.

    .venv/bin/python bench/crowded.py --reports 100000 --limit 20 --rounds 2

N synthetic reports (bench/similarity.py's corpus: the phrase set of its first 10,000) are
indexed in memory by their band keys. A key held by more than ``--limit`` reports is
crowded (the application's limit is 0.02 % of the campaign's reports: 20 at 100,000, 200
at a million); its run joins the ``ignore`` set and every report is keyed again, as a
refresh and its rebuild do (``services.crowded``). After each round: the median of the
index entries the held-out submissions' probes read (15 of each kind, query seed 2), the
share of all entries on crowded keys, and the copies edited up to 20 % whose source is
no longer a candidate (fewer than MIN_SHARED_BANDS of its keys among the probes). Prints
one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import similarity as bench  # noqa: E402

from quantriet.similarity import fingerprint as fp  # noqa: E402
from quantriet.similarity import synthetic as syn  # noqa: E402

UP_TO_20 = ("exact", "edit_05", "edit_10", "edit_15", "edit_20", "reordered", "reordered_10",
            "inside_x1_00", "inside_x1_10", "inside_x1_20", "inside_x2_00", "inside_x2_10",
            "inside_x2_20")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--per-bucket", type=int, default=15)
    args = parser.parse_args()
    t0 = time.perf_counter()
    corpus = bench.Corpus(1, args.reports)
    syllables = [syn.normalised(corpus.gen.report(i)) for i in range(args.reports)]
    queries = [(bucket, syn.render(report), family) for bucket, report, family
               in bench.submissions(corpus, args.per_bucket, 2)]

    def index(ignore: frozenset[int]) -> dict[int, list[int]]:
        postings: dict[int, list[int]] = defaultdict(list)
        for i, words in enumerate(syllables):
            for key in set(fp.fingerprint_syllables(words, ignore=ignore).bands):
                postings[key].append(i)
        return postings

    def measure(postings: dict[int, list[int]], ignore: frozenset[int]) -> dict:
        read, lost, copies = [], 0, 0
        for bucket, text, family in queries:
            probes = fp.fingerprint(text, ignore=ignore).probes
            read.append(sum(len(postings.get(k, ())) for k in probes))
            if bucket in UP_TO_20:
                copies += 1
                hits = Counter(i for k in probes for i in postings.get(k, ()))
                lost += hits.get(family, 0) < fp.MIN_SHARED_BANDS
        entries = sum(len(v) for v in postings.values())
        crowded = sum(len(v) for v in postings.values() if len(v) > args.limit)
        return {"entries_read_median": statistics.median(read),
                "share_on_crowded_keys": round(crowded / entries, 3),
                "copies_up_to_20pct": copies, "copies_no_longer_candidates": lost}

    ignore = corpus.ignore
    postings = index(ignore)
    rounds = [measure(postings, ignore)]
    for _ in range(args.rounds):
        crowded = frozenset(k for k, v in postings.items() if len(v) > args.limit)
        ignore = ignore | crowded  # with ROWS = 1 a key is the run's hash itself
        postings = index(ignore)
        rounds.append({"runs_left_out": len(crowded), **measure(postings, ignore)})
    print(json.dumps({"reports": args.reports, "limit": args.limit, "rounds": rounds,
                      "seconds": round(time.perf_counter() - t0)}))


if __name__ == "__main__":
    main()
