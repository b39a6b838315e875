"""Checking each submitted version for copying, reference and template texts, and the
reviewers' decisions on flags.

:func:`check_version` runs as a task after every submission (never in the request): it
fingerprints the text (leaving out the shingles of the campaign's reference texts), looks
up candidates by their LSH band keys (one indexed query), verifies each candidate with the
exact shingle overlap, stores the version's band keys for later submissions, and records
at most one flag per version -- against the best match -- in the cluster of that match, so
a text copied by many writers is one cluster with its earliest submission.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from quantriet.campaigns.models import Campaign
from quantriet.core import fastpath
from quantriet.core.audit import record
from quantriet.org.managers import can
from quantriet.progress import counters
from quantriet.reports.models import Report, Version
from quantriet.similarity import fingerprint as fp
from quantriet.similarity.models import BandKey, Flag, PhraseSet, Source
from quantriet.text import nfc

MAX_CANDIDATES = 10
"""Candidates verified per submission, those sharing the most band keys first."""

_reference_cache: dict[int, tuple[tuple[int, int], frozenset[int]]] = {}


def threshold(campaign: Campaign) -> float:
    from quantriet.reports.services import policy_for

    value = policy_for(campaign).copy_threshold
    return fp.DEFAULT_THRESHOLD if value is None else value


def reference_shingles(campaign: Campaign | int) -> frozenset[int]:
    """The shingles of the reference texts of a campaign (or of the campaign of that id),
    cached per process until a source is added or removed."""
    campaign_id = campaign if isinstance(campaign, int) else campaign.pk
    found = Source.objects.filter(campaign_id=campaign_id, kind=Source.Kind.REFERENCE
                                  ).aggregate(n=Count("pk"), last=Max("pk"))
    return _reference(campaign_id, (found["n"], found["last"] or 0))


def _reference(campaign_id: int, stamp: tuple[int, int]) -> frozenset[int]:
    """reference_shingles, given the stamp (count, highest id) of the reference texts."""
    cached = _reference_cache.get(campaign_id)
    if cached and cached[0] == stamp:
        return cached[1]
    shingles: set[int] = set()
    for text in Source.objects.filter(campaign_id=campaign_id, kind=Source.Kind.REFERENCE
                                      ).values_list("text", flat=True):
        shingles |= fp.fingerprint(text).shingles
    result = frozenset(shingles)
    _reference_cache[campaign_id] = (stamp, result)
    return result


REFRESH_AT = (10, 50, 200, 2_000, 10_000, 100_000, 1_000_000)
"""Numbers of submitted reports at which a campaign's phrase set is taken again (by the
first submission that reaches them); after the last, only ``quantriet similarity-refresh``
takes it again. From 100,000 on the set also leaves out the crowded keys (``crowded``)."""

REFRESH_LOOK_EVERY = 1_000
"""Past SAMPLE, a first submission looks whether the next REFRESH_AT is reached only when
its report id is a multiple of this (a count of up to a million rows is not for every
check)."""

CROWDED_FROM = 100_000
"""Submitted reports from which a refresh also looks for crowded keys."""

CROWDED_FRACTION = 0.0002
"""A band key held by more than this share of the campaign's indexed reports (200 of a
million) is crowded: its run is left out of the keys of the next generation."""

CROWDED_MIN = 20
"""A key is crowded only when held by more than this many reports."""

SAMPLE = 10_000
"""Reports sampled for a phrase set: the first submitted, each by its latest version."""

REBUILD_BATCH = 500
"""Reports fingerprinted again per transaction when a phrase set is replaced."""


def _pack(values: frozenset[int]) -> bytes:
    data = array("q", sorted(values))
    if sys.byteorder == "big":
        data.byteswap()
    return data.tobytes()


def unpack(blob: bytes | memoryview) -> frozenset[int]:
    data = array("q")
    data.frombytes(bytes(blob))
    if sys.byteorder == "big":
        data.byteswap()
    return frozenset(data)


@lru_cache(maxsize=4096)
def _salt(campaign_id: int, generation: int) -> int:
    """A signed 64-bit value of the campaign and generation (BLAKE2b: the same everywhere)."""
    digest = hashlib.blake2b(f"{campaign_id}/{generation}".encode(), digest_size=8,
                             person=b"quantriet-key-1").digest()
    return int.from_bytes(digest, "little", signed=True)


def stored_keys(campaign_id: int, generation: int, keys: Iterable[int]) -> list[int]:
    """Band keys (or probes) as stored in :class:`BandKey`: each XOR-ed with the salt of
    the campaign and the generation, sorted, without repeats. A fingerprint key is in
    [0, 2**63); the stored one is any signed 64-bit value (PostgreSQL's ``key # salt``).
    Keys of another campaign or generation then differ from these but by a chance of
    2**-64 a pair, so the lookup index needs no campaign or generation column."""
    salt = _salt(campaign_id, generation)
    return sorted({k ^ salt for k in keys})


@dataclass(frozen=True)
class Phrases:
    """The shingle sets a campaign's check uses (see :class:`models.PhraseSet`)."""

    generation: int
    """The latest generation: new band keys are stored with it."""
    live: tuple[tuple[int, frozenset[int]], ...]
    """(generation, shingles left out of its keys), newest first: the latest and, while its
    rebuild runs, the older ones back to the last rebuilt generation. Lookups probe each."""
    common: frozenset[int]
    """Common phrases of the latest generation, discounted when deciding."""
    reports: int
    """Submitted reports when the latest set was taken."""

    @property
    def ignore(self) -> frozenset[int]:
        return self.live[0][1]


_set_cache: dict[tuple[int, Any], tuple[frozenset[int], frozenset[int]]] = {}


def phrases(campaign: Campaign | int, reference: frozenset[int] | None = None) -> Phrases:
    """The phrase sets of a campaign (or of the campaign of that id): one small query for
    the generations (the stored sets are cached per process, by row: a generation's sets
    never change). Generation 0, before the first set was taken, leaves out the reference
    texts only (``reference``, when the caller has them) and has no common phrases."""
    campaign_id = campaign if isinstance(campaign, int) else campaign.pk
    with _cursor() as cursor:
        cursor.execute("SELECT id, created_at, generation, reports, rebuilt_at "
                       "FROM similarity_phraseset WHERE campaign_id = %s "
                       "ORDER BY generation DESC", [campaign_id])
        rows = cursor.fetchall()
    live = []
    for row in rows:
        live.append(row)
        if row[4] is not None:
            break
    for row in rows[len(live):]:
        _set_cache.pop(row[:2], None)  # older than the last rebuilt generation
    missing = {row[0]: row[:2] for row in live if row[:2] not in _set_cache}
    if missing:
        for pk, ignore, common in PhraseSet.objects.filter(pk__in=missing).values_list(
                "pk", "ignore", "common"):
            _set_cache[missing[pk]] = (unpack(ignore), unpack(common))
    sets = [(row[2], _set_cache[row[:2]][0]) for row in live]
    if not live or live[-1][4] is None:
        if reference is None:
            reference = reference_shingles(campaign_id)
        sets.append((0, reference))
    return Phrases(generation=rows[0][2] if rows else 0, live=tuple(sets),
                   common=_set_cache[rows[0][:2]][1] if rows else frozenset(),
                   reports=rows[0][3] if rows else 0)


def common_phrases(campaign: Campaign) -> frozenset[int]:
    """Shingles used by at least 1 % of the campaign's writers (stock phrases), discounted
    when deciding: those of the latest phrase set."""
    return phrases(campaign).common


def _submitted(campaign: Campaign | int, up_to: int) -> int:
    """The campaign's submitted reports, counted up to `up_to` (a bounded index scan)."""
    return Report.objects.filter(campaign=campaign, version_count__gt=0).order_by()[
        :up_to].count()


def _shingles(text: str) -> frozenset[int]:
    return frozenset(fp.shingle_hashes([s for s, _a, _b in fp.syllables(text)]))


def _above(counts: Counter[int], total: int, fraction: float) -> frozenset[int]:
    """The rule of ``fingerprint.common_shingles``: in at least `fraction` of the texts and
    in at least 5 (two sets are taken from one count)."""
    floor = max(5, fraction * total)
    return frozenset(h for h, n in counts.items() if n >= floor)


def sample(campaign: Campaign) -> tuple[Counter[int], int]:
    """Count the shingles of the campaign's first SAMPLE submitted reports (each by its
    latest version), leaving out the texts flagged as copies: a text copied by many writers
    must not become "common". A flag counts if it still stands with the common phrases of
    the latest phrase set -- or, before the campaign's first set, with those of the whole
    sample: a flag raised without common phrases may stand on stock phrases alone, and
    leaving those reports out would keep the stock phrases from ever being common.
    Returns the counts and the number of texts counted."""
    flags = {version_id: (other_id, source_id) for version_id, other_id, source_id in
             Flag.objects.filter(campaign=campaign).exclude(status=Flag.Status.DISMISSED)
             .values_list("version_id", "other_version_id", "source_id")}
    counts: Counter[int] = Counter()
    flagged: list[tuple[str, int | None, int | None, frozenset[int]]] = []
    total = 0
    for version_id, text in (
            Version.objects.filter(report__campaign=campaign,
                                   number=F("report__version_count"))
            .order_by("report__first_submitted_at", "report_id")
            .values_list("pk", "text")[:SAMPLE]):
        shingles = _shingles(text)
        counts.update(shingles)
        total += 1
        if version_id in flags:
            flagged.append((text, *flags[version_id], shingles))
    if not flagged:
        return counts, total
    latest = PhraseSet.objects.filter(campaign=campaign).order_by("-generation").values_list(
        "common", flat=True).first()
    common = (unpack(latest) if latest is not None
              else _above(counts, total, fp.COMMON_FRACTION))
    reference, limit = reference_shingles(campaign), threshold(campaign)
    others = dict(Version.objects.filter(pk__in=[f[1] for f in flagged if f[1]])
                  .values_list("pk", "text"))
    others_of_sources = dict(Source.objects.filter(pk__in=[f[2] for f in flagged if f[2]])
                             .values_list("pk", "text"))
    for text, other_id, source_id, shingles in flagged:
        other = others.get(other_id) if other_id else others_of_sources.get(source_id or 0)
        if other is not None and fp.is_copy(fp.compare(
                text, other, reference=reference, common=common, passages=False), limit):
            counts.subtract(shingles)
            total -= 1
    return counts, total


def refresh(campaign: Campaign, *, at_least: int | None = None) -> PhraseSet | None:
    """Take the campaign's phrase sets again from a sample of its submissions and store
    them as a new generation; the reports already indexed are then fingerprinted again in
    the background (:func:`rebuild`). With `at_least` (an automatic refresh at a number of
    submitted reports), nothing is done unless the campaign has that many submitted reports
    and the latest set was taken with fewer: running it twice makes one generation."""
    count = _submitted(campaign, REFRESH_AT[-1])
    latest = PhraseSet.objects.filter(campaign=campaign).order_by("-generation").values_list(
        "generation", "reports").first()
    if at_least is not None and (count < at_least or (latest and latest[1] >= at_least)):
        return None
    counts, total = sample(campaign)
    carried = PhraseSet.objects.filter(campaign=campaign).order_by("-generation").values_list(
        "crowded", flat=True).first()
    crowded_runs = unpack(carried) if carried else frozenset()
    if count >= CROWDED_FROM:
        crowded_runs |= crowded(campaign, count)
    ignore = (reference_shingles(campaign) | _above(counts, total, fp.FREQUENT_FRACTION)
              | crowded_runs)
    common = _above(counts, total, fp.COMMON_FRACTION)
    with transaction.atomic():
        # one refresh at a time per campaign (submissions are not held up: no key update)
        list(Campaign.objects.select_for_update(no_key=True).filter(pk=campaign.pk)
             .values_list("pk"))
        latest = PhraseSet.objects.filter(campaign=campaign).order_by(
            "-generation").values_list("generation", "reports").first()
        if at_least is not None and latest and latest[1] >= at_least:
            return None
        made = PhraseSet.objects.create(
            campaign=campaign, generation=(latest[0] if latest else 0) + 1, reports=count,
            sample=total, ignore=_pack(ignore), common=_pack(common),
            crowded=_pack(crowded_runs))
        transaction.on_commit(lambda: _queue_rebuild(campaign.pk, made.generation))
    return made


def crowded(campaign: Campaign, reports: int) -> frozenset[int]:
    """The runs whose band key more than CROWDED_FRACTION of the campaign's `reports`
    indexed reports hold (and more than CROWDED_MIN), counted on the keys of the last
    rebuilt generation, leaving out reports flagged as copies (a text copied by many writers
    must stay findable).

    Why: the frequent runs are measured on a sample of 10,000 texts, which cannot see a run
    in 0.02 % of the reports. Such runs still become the smallest of their bin in many
    reports, so a few keys of a large campaign hold hundreds of reports each, and every
    lookup that probes them reads those lists: at a million synthetic reports a fifth of all
    key rows were on keys held by more than 200 reports. Left out of the next generation's
    keys, each report takes a rarer run in that bin instead (measured in
    docs/similarity.md)."""
    generation = phrases(campaign).live[-1][0]  # the last generation whose rebuild is done
    limit = max(CROWDED_MIN, int(CROWDED_FRACTION * reports))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT b.key FROM similarity_bandkey b WHERE b.campaign_id = %s "
            "AND b.generation = %s AND b.report_id IS NOT NULL AND NOT EXISTS (SELECT 1 "
            "FROM similarity_flag f WHERE f.report_id = b.report_id AND f.status <> %s) "
            "GROUP BY b.key HAVING count(*) > %s",
            [campaign.pk, generation, Flag.Status.DISMISSED, limit])
        salt = _salt(campaign.pk, generation)
        return frozenset(key ^ salt for (key,) in cursor.fetchall())


def _queue_rebuild(campaign_id: int, generation: int) -> None:
    from quantriet.similarity.tasks import rebuild_keys

    rebuild_keys.enqueue(campaign_id, generation)


_refresh_queued: set[tuple[int, int]] = set()


def _refresh_if_due(campaign_id: int, report_id: int, state: Phrases) -> None:
    """Queue a refresh when the campaign's submitted reports reach the next REFRESH_AT."""
    due = next((n for n in REFRESH_AT if n > state.reports), None)
    if due is None or (campaign_id, due) in _refresh_queued:
        return
    if due > SAMPLE and report_id % REFRESH_LOOK_EVERY:
        return
    if _submitted(campaign_id, due) >= due:
        from quantriet.similarity.tasks import refresh_phrases

        _refresh_queued.add((campaign_id, due))
        transaction.on_commit(lambda: refresh_phrases.enqueue(campaign_id, due))


def rebuild(campaign: Campaign, generation: int, *, batches: int | None = None) -> bool:
    """Fingerprint the campaign's indexed reports and templates again with the phrase set
    `generation`, REBUILD_BATCH reports per transaction in id order, at most `batches`
    batches. True when done (or when `generation` is no longer the latest: the newer
    generation's rebuild does the work).

    Idempotent and safe to retry or to run twice at once: each batch locks its reports,
    replaces the keys only of those whose keys are older than `generation` (all of a
    report's keys at once) and moves the generation's cursor in the same transaction. The
    copy check locks its report too, and stores keys of the generation that is the latest
    once it holds the lock, so no report keeps keys of a generation no longer probed."""
    target = PhraseSet.objects.filter(campaign=campaign).order_by("-generation").only(
        "pk", "generation", "rebuilt_upto", "rebuilt_at").first()
    if target is None or target.generation != generation or target.rebuilt_at is not None:
        return True
    state = phrases(campaign)
    if state.generation != generation:
        return True
    for source in Source.objects.filter(campaign=campaign, kind=Source.Kind.TEMPLATE):
        with transaction.atomic():
            list(Source.objects.select_for_update().filter(pk=source.pk).values_list("pk"))
            if BandKey.objects.filter(source=source, generation__lt=generation).exists():
                _index(source, state)
    cursor, done = target.rebuilt_upto, 0
    while batches is None or done < batches:
        with transaction.atomic():
            ids = list(Report.objects.filter(campaign=campaign, version_count__gt=0,
                                             pk__gt=cursor)
                       .order_by("pk").values_list("pk", flat=True)[:REBUILD_BATCH])
            if not ids:
                PhraseSet.objects.filter(pk=target.pk).update(rebuilt_at=timezone.now())
                return True
            list(Report.objects.select_for_update().filter(pk__in=ids).order_by("pk")
                 .values_list("pk"))
            stale = set(BandKey.objects.filter(report_id__in=ids, generation__lt=generation)
                        .values_list("report_id", flat=True))
            if stale:
                texts = dict(Version.objects.filter(
                    report_id__in=stale, number=F("report__version_count"))
                    .values_list("report_id", "text"))
                BandKey.objects.filter(report_id__in=stale).delete()
                BandKey.objects.bulk_create(
                    BandKey(campaign=campaign, report_id=r, generation=generation, key=k)
                    for r, text in texts.items()
                    for k in stored_keys(campaign.pk, generation,
                                         fp.fingerprint(text, ignore=state.ignore).bands))
            cursor = ids[-1]
            PhraseSet.objects.filter(pk=target.pk, rebuilt_upto__lt=cursor).update(
                rebuilt_upto=cursor)
        done += 1
    return False


_VERSION_SQL = (
    "SELECT v.text, v.number, r.id, r.version_count, r.campaign_id, pa.active, pa.unit_id, "
    "u.path, p.copy_threshold, (SELECT count(*) FROM similarity_source s WHERE "
    "s.campaign_id = r.campaign_id AND s.kind = %s), (SELECT max(s.id) FROM "
    "similarity_source s WHERE s.campaign_id = r.campaign_id AND s.kind = %s) "
    "FROM reports_version v JOIN reports_report r ON r.id = v.report_id "
    "JOIN campaigns_participant pa ON pa.id = r.participant_id "
    "JOIN org_unit u ON u.id = pa.unit_id "
    "LEFT JOIN reports_reportpolicy p ON p.campaign_id = r.campaign_id WHERE v.id = %s")
"""The version to check, its report, the participant's unit (for the progress counter),
the campaign's threshold and the stamp of its reference texts: one query."""


@dataclass(frozen=True)
class _Checked:
    """The version being checked, as read by _VERSION_SQL."""

    version_id: int
    text: str
    number: int
    report_id: int
    campaign_id: int
    on_roster: bool
    """The participant is on the campaign's roster: only then does a flag count in the
    progress counters (as ``counters.bump_participant``)."""
    unit_id: int
    unit_path: str


def check_version(version_id: int) -> Flag | None:
    """Fingerprint, look up, verify, index; flag the version if it copies.

    It runs for every submission, so it reads and writes with a few statements of its own
    rather than through model instances: a flagged check is about a dozen round trips
    (``test_a_flagged_check_is_a_few_queries``)."""
    with _cursor() as cursor:
        cursor.execute(_VERSION_SQL, [Source.Kind.REFERENCE, Source.Kind.REFERENCE, version_id])
        row = cursor.fetchone()
    if row is None:
        return None
    text, number, report_id, count_of_versions, campaign_id = row[:5]
    if count_of_versions > number:
        return None  # superseded before the task ran; the newer version is checked
    checked = _Checked(version_id, text, number, report_id, campaign_id, *row[5:8])
    limit = fp.DEFAULT_THRESHOLD if row[8] is None else row[8]
    reference = _reference(campaign_id, (row[9], row[10] or 0))
    state = phrases(campaign_id, reference)
    # shingled once for every generation probed and for the comparisons below
    count, shingles = fp.text_shingles(text)
    prints = [(generation, fp.fingerprint_shingles(count, shingles, ignore=ignore))
              for generation, ignore in state.live]
    best: tuple[float, Candidate, fp.Comparison] | None = None
    for candidate in _candidates(campaign_id, report_id, prints):
        if candidate.text is None:
            continue
        comparison = fp.compare(text, candidate.text, reference=reference,
                                common=state.common, passages=False)
        if not fp.is_copy(comparison, limit):
            continue
        if best is None or comparison.score > best[0]:
            best = (comparison.score, candidate, comparison)
    with transaction.atomic():
        _lock(report_id)
        stored = prints[0][1]
        latest = _store_keys(campaign_id, report_id, state.generation, stored.bands,
                             if_latest=True)
        if latest != state.generation:
            # a new phrase set was stored meanwhile: keys of the latest one, so that its
            # rebuild (which may have passed this report) leaves nothing stale
            state = phrases(campaign_id)
            stored = fp.fingerprint_shingles(count, shingles, ignore=state.ignore)
            _store_keys(campaign_id, report_id, state.generation, stored.bands)
        if number == 1:
            _refresh_if_due(campaign_id, report_id, state)
        if best is None:
            return None
        score, candidate, comparison = best
        return _flag(checked, candidate, comparison, score)


def _lock(report_id: int) -> None:
    """Take the report's row lock: other checks of the report wait for this one.

    On PostgreSQL the lock's statement also sets ``synchronous_commit`` off for the check's
    transaction: its commit does not wait for the WAL flush (about 1.5 ms of a check). With
    the database task backend nothing is lost that a retry would not redo: the task's
    result is written afterwards with a flushed commit, which flushes this one's WAL too,
    so after a crash either both are kept or the task is not recorded as done. (With the
    immediate backend of tests and tiny deployments, a crash within a fraction of a second
    of the check may lose its keys and flag.)
    """
    if connection.vendor != "postgresql":
        return  # SQLite: the transaction (BEGIN IMMEDIATE) holds the database's write lock
    with _cursor() as cursor:
        cursor.execute(
            "SELECT set_config('synchronous_commit', 'off', true) FROM reports_report "
            "WHERE id = %s FOR UPDATE", [report_id])


def _cursor() -> Any:
    """A cursor for the check's own statements. On PostgreSQL they are prepared once per
    connection (``core.fastpath.prepared_cursor``): planning the joins and the union costs
    more than running them (the version's query: 0.27-0.32 ms prepared, 0.94-1.28 ms
    planned each time).
    ``QUANTRIET_FAST_PATHS=0`` (behind a pooler in transaction mode) turns that off."""
    if connection.vendor == "postgresql" and settings.QUANTRIET_FAST_PATHS:
        return fastpath.prepared_cursor()
    return connection.cursor()


def _bigint_array(values: list[int]) -> str:
    """A PostgreSQL array literal of integers, sent as one text parameter whichever way the
    cursor binds (with client-side binding psycopg would quote a list of 300 values one by
    one: about a millisecond of a check)."""
    return "{" + ",".join(map(str, values)) + "}"


_LATEST_SQL = ("SELECT COALESCE(max(generation), 0) FROM similarity_phraseset "
               "WHERE campaign_id = %s")


def _store_keys(campaign_id: int, report_id: int, generation: int, keys: tuple[int, ...], *,
                if_latest: bool = False) -> int:
    """Replace the report's band keys with `keys` of `generation`. With `if_latest`, only
    if `generation` is the campaign's latest phrase set generation, read by a statement
    after the report's lock was taken (a statement that took the lock would read it with
    its snapshot from before the wait, and miss a set stored meanwhile:
    ``test_new_phrase_set_stored_while_the_check_waits_for_the_lock``). Returns the latest
    generation (`generation` without `if_latest`).

    On PostgreSQL one statement: the delete and the insert see the same snapshot, so the
    new rows are not deleted; one round trip, and no model instances for the 64 rows."""
    stored = stored_keys(campaign_id, generation, keys)
    if connection.vendor == "postgresql":
        latest = f"({_LATEST_SQL})" if if_latest else "%s"
        with _cursor() as cursor:
            cursor.execute(
                f"WITH latest AS (SELECT {latest} AS g), "  # noqa: S608
                "gone AS (DELETE FROM similarity_bandkey WHERE report_id = %s "
                "AND (SELECT g FROM latest) = %s), "
                "added AS (INSERT INTO similarity_bandkey (campaign_id, report_id, key, "
                "generation) SELECT %s, %s, k, %s FROM unnest(%s::bigint[]) AS k "
                "WHERE (SELECT g FROM latest) = %s) SELECT g FROM latest",
                [campaign_id if if_latest else generation, report_id, generation, campaign_id,
                 report_id, generation, _bigint_array(stored), generation])
            return cursor.fetchone()[0]
    if if_latest:
        with connection.cursor() as cursor:
            cursor.execute(_LATEST_SQL, [campaign_id])
            latest_generation = cursor.fetchone()[0]
        if latest_generation != generation:
            return latest_generation
    BandKey.objects.filter(report_id=report_id).delete()
    BandKey.objects.bulk_create(
        BandKey(campaign_id=campaign_id, report_id=report_id, generation=generation, key=k)
        for k in stored)
    return generation


@dataclass(frozen=True)
class Candidate:
    """An indexed text sharing enough band keys with a submission: a report (with its
    latest version) or a circulating template."""

    report_id: int | None
    source_id: int | None
    version_id: int | None
    text: str | None
    """The latest version's text, or the template's (None if gone meanwhile)."""


def _candidates(campaign_id: int, report_id: int,
                prints: list[tuple[int, fp.Fingerprint]]) -> list[Candidate]:
    """The indexed texts with at least MIN_SHARED_BANDS of their keys among the probes,
    those sharing the most first (ties: the earliest report, then templates), at most
    MAX_CANDIDATES, with their texts: one query. The keys are counted in the database from
    the index alone (the partial indexes on (key, report) and (key, template)).

    The probes of each generation probed are salted like the keys of that generation
    (:func:`stored_keys`), so one set of values asks for all of them: a report's keys are
    all of one generation and match only that generation's probes, and its count is what
    a single generation would give."""
    probes = sorted(set().union(*(stored_keys(campaign_id, generation, print_.probes)
                                  for generation, print_ in prints)))
    if connection.vendor == "postgresql":
        # the probes as one array parameter (`= ANY`) instead of ~300 (`IN`), which the
        # server would parse one literal at a time
        where, params = "key = ANY(%s::bigint[])", [_bigint_array(probes)]
    else:
        where, params = f"key IN ({', '.join(['%s'] * len(probes))})", probes
    order = "shared DESC, report_id IS NULL, report_id, source_id"
    with _cursor() as cursor:
        # the fragments put together are constants; the values are parameters
        cursor.execute(
            "SELECT f.report_id, f.source_id, v.id, COALESCE(v.text, s.text) FROM ("  # noqa: S608
            "SELECT * FROM (SELECT report_id, NULL AS source_id, count(*) AS shared "
            f"FROM similarity_bandkey WHERE {where} AND report_id IS NOT NULL "
            "AND report_id <> %s GROUP BY report_id HAVING count(*) >= %s "
            "UNION ALL SELECT NULL, source_id, count(*) FROM similarity_bandkey "
            f"WHERE {where} AND source_id IS NOT NULL GROUP BY source_id "
            f"HAVING count(*) >= %s) AS counted ORDER BY {order} LIMIT %s) AS f "
            "LEFT JOIN reports_report r ON r.id = f.report_id "
            "LEFT JOIN reports_version v ON v.report_id = r.id AND v.number = r.version_count "
            "LEFT JOIN similarity_source s ON s.id = f.source_id AND s.kind = %s "
            f"ORDER BY f.{order.replace(', ', ', f.')}",
            [*params, report_id, fp.MIN_SHARED_BANDS, *params, fp.MIN_SHARED_BANDS,
             MAX_CANDIDATES, Source.Kind.TEMPLATE])
        return [Candidate(*row) for row in cursor.fetchall()]


_OTHER_CLUSTER_SQL = (
    # the cluster the other report was flagged into, else the one it is the earliest of
    "SELECT id FROM (SELECT c.id, CASE WHEN c.id IN (SELECT cluster_id "
    "FROM similarity_flag WHERE report_id = %s) THEN 0 ELSE 1 END AS rank "
    "FROM similarity_cluster c WHERE c.id IN (SELECT cluster_id FROM similarity_flag "
    "WHERE report_id = %s) OR c.earliest_id = %s ORDER BY rank, c.id LIMIT 1) AS other")
_TEMPLATE_CLUSTER_SQL = (
    "SELECT id FROM (SELECT id FROM similarity_cluster WHERE campaign_id = %s "
    "AND template_id = %s ORDER BY id LIMIT 1) AS template")


def _flag(checked: _Checked, other: Candidate, comparison: fp.Comparison,
          score: float) -> Flag:
    """Record the flag of the checked version (one per version: a check run again updates
    it) in the cluster of the text it copies (``other``). Runs under the report's row lock
    (check_version), so no other check of this report runs meanwhile."""
    report_id, campaign_id = checked.report_id, checked.campaign_id
    other_id, source_id = other.report_id, other.source_id
    if source_id is not None:
        find, params = _TEMPLATE_CLUSTER_SQL, [campaign_id, source_id]
    else:
        find, params = _OTHER_CLUSTER_SQL, [other_id, other_id, other_id]
    with _cursor() as cursor:
        # the cluster to join and this report's own flags (was it flagged, is this version,
        # is it in the cluster already), in one round trip
        cursor.execute(
            f"SELECT 'cluster', id, NULL, NULL, NULL FROM ({find}) AS found "  # noqa: S608
            "UNION ALL SELECT 'mine', id, version_id, cluster_id, status FROM similarity_flag "
            "WHERE report_id = %s", [*params, report_id])
        rows = cursor.fetchall()
    found = next((pk for kind, pk, *_x in rows if kind == "cluster"), None)
    mine = [(pk, version_id, cluster_id, status)
            for kind, pk, version_id, cluster_id, status in rows if kind == "mine"]
    now = timezone.now()
    new_cluster = found is None
    # a new cluster counts this report, and the other report unless it is a template's
    cluster_id = found if found is not None else _insert(
        "similarity_cluster", campaign_id=campaign_id,
        earliest_id=other_id if source_id is None else None, template_id=source_id,
        size=1 if source_id is not None else 2, created_at=now)
    was_flagged = any(status != Flag.Status.DISMISSED for *_x, status in mine)
    existing = next((pk for pk, version_id, *_x in mine if version_id == checked.version_id),
                    None)
    values = {"campaign_id": campaign_id, "cluster_id": cluster_id, "report_id": report_id,
              "other_id": other_id, "other_version_id": other.version_id,
              "source_id": source_id, "jaccard": comparison.jaccard,
              "containment": max(comparison.containment_a, comparison.containment_b),
              "score": score}
    if existing is not None:  # the version checked again: the flag keeps its status
        Flag.objects.filter(pk=existing).update(**values)
        return Flag.objects.get(pk=existing)
    row = {**values, "version_id": checked.version_id, "status": Flag.Status.OPEN,
           "created_at": now}
    flag = Flag(**row)
    flag.pk = _insert("similarity_flag", **row)
    flag._state.adding, flag._state.db = False, connection.alias
    if not new_cluster and not any(c == cluster_id for _p, _v, c, _s in mine):
        with _cursor() as cursor:
            cursor.execute("UPDATE similarity_cluster SET size = size + 1 WHERE id = %s",
                           [cluster_id])
    if not was_flagged and checked.on_roster:
        counters.bump(campaign_id, checked.unit_id, path=checked.unit_path, flagged=1)
    return flag


def _insert(table: str, **values: Any) -> int:
    """Insert one row (columns and values given by name) and return its id."""
    adapt = connection.ops.adapt_datetimefield_value
    values = {k: adapt(v) if isinstance(v, dt.datetime) else v for k, v in values.items()}
    columns = ", ".join(values)
    with _cursor() as cursor:
        # table and column names are this module's constants; values are parameters
        cursor.execute(f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                       f"({', '.join(['%s'] * len(values))}) RETURNING id", list(values.values()))
        return cursor.fetchall()[0][0]


def _flagged(report_id: int) -> bool:
    return Flag.objects.filter(report_id=report_id).exclude(
        status=Flag.Status.DISMISSED).exists()


def _count_flag(report: Report, was_flagged: bool) -> None:
    """Keep the progress counter of flagged reports (see ``progress.counters``)."""
    now_flagged = _flagged(report.pk)
    if now_flagged != was_flagged:
        counters.bump_participant(report.participant_id, flagged=1 if now_flagged else -1)


def index_source(source: Source) -> None:
    """Templates are indexed like reports, so a report copying one is found even if
    nobody else submitted it."""
    _index(source, phrases(source.campaign))


def _index(source: Source, state: Phrases) -> None:
    BandKey.objects.filter(source=source).delete()
    if source.kind == Source.Kind.TEMPLATE:
        BandKey.objects.bulk_create(
            BandKey(campaign=source.campaign, source=source, generation=state.generation,
                    key=k)
            for k in stored_keys(source.campaign_id, state.generation,
                                 fp.fingerprint(source.text, ignore=state.ignore).bands))


@transaction.atomic
def add_source(*, campaign: Campaign, kind: str, title: str, text: str, actor: Any) -> Source:
    if not can(actor, "change", campaign.owner_unit):
        raise ValidationError(_("Only the campaign's organisers can do this."))
    text = nfc(text).strip()
    if kind not in Source.Kind.values or not title.strip() or not text:
        raise ValidationError(_("Give a title, a kind and the text."))
    source = Source.objects.create(campaign=campaign, kind=kind, title=nfc(title).strip(),
                                   text=text, created_by=actor)
    index_source(source)
    if kind == Source.Kind.REFERENCE:
        _reference_changed(campaign)
    record("similarity.source.add", source, actor=actor, unit_path=campaign.owner_unit.path,
           kind=kind)
    return source


@transaction.atomic
def delete_source(*, source: Source, actor: Any) -> None:
    if not can(actor, "change", source.campaign.owner_unit):
        raise ValidationError(_("Only the campaign's organisers can do this."))
    record("similarity.source.delete", source, actor=actor,
           unit_path=source.campaign.owner_unit.path)
    source.delete()
    if source.kind == Source.Kind.REFERENCE:
        _reference_changed(source.campaign)


def _reference_changed(campaign: Campaign) -> None:
    """The reference runs are left out of the keys with the frequent runs: once reports are
    indexed, a reference text added or removed takes a new phrase set (and rebuild)."""
    if Report.objects.filter(campaign=campaign, version_count__gt=0).exists():
        from quantriet.similarity.tasks import refresh_phrases

        transaction.on_commit(lambda: refresh_phrases.enqueue(campaign.pk))


def flags_visible_to(user: Any, campaign: Campaign):
    """Flags whose report (or the report it resembles) the user may read."""

    visible = Report.objects.visible_to(user).filter(campaign=campaign).values("pk")
    return Flag.objects.filter(campaign=campaign).filter(
        Q(report__in=visible) | Q(other__in=visible))


@transaction.atomic
def decide(*, flag: Flag, status: str, actor: Any) -> Flag:
    """The reviewer of either report confirms the copy or dismisses the flag."""
    if status not in (Flag.Status.CONFIRMED, Flag.Status.DISMISSED, Flag.Status.OPEN):
        raise ValidationError(_("Unknown decision."))
    reviewers = {r for r in (flag.report.reviewer_id,
                             flag.other.reviewer_id if flag.other else None) if r}
    if getattr(actor, "pk", None) not in reviewers:
        raise ValidationError(_("Only the reviewers of these reports can decide."))
    was_flagged = _flagged(flag.report_id)
    flag.status, flag.decided_by, flag.decided_at = status, actor, timezone.now()
    flag.save(update_fields=["status", "decided_by", "decided_at"])
    _count_flag(flag.report, was_flagged)
    record("similarity.flag.decide", flag, actor=actor,
           unit_path=flag.report.managing_unit.path if flag.report.managing_unit else "",
           status=status)
    return flag
