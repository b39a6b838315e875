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

import sys
from array import array
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, Count, F, Max, Q, When
from django.utils import timezone
from django.utils.translation import gettext as _

from quantriet.campaigns.models import Campaign
from quantriet.core.audit import record
from quantriet.org.managers import can
from quantriet.progress import counters
from quantriet.reports.models import Report, Version
from quantriet.similarity import fingerprint as fp
from quantriet.similarity.models import BandKey, Cluster, Flag, PhraseSet, Source
from quantriet.text import nfc

MAX_CANDIDATES = 10
"""Candidates verified per submission, those sharing the most band keys first."""

_reference_cache: dict[int, tuple[tuple[int, int], frozenset[int]]] = {}


def threshold(campaign: Campaign) -> float:
    from quantriet.reports.services import policy_for

    value = policy_for(campaign).copy_threshold
    return fp.DEFAULT_THRESHOLD if value is None else value


def reference_shingles(campaign: Campaign) -> frozenset[int]:
    """The shingles of the campaign's reference texts (cached per process until a source
    is added or removed)."""
    refs = Source.objects.filter(campaign=campaign, kind=Source.Kind.REFERENCE)
    found = refs.aggregate(n=Count("pk"), last=Max("pk"))
    stamp = (found["n"], found["last"] or 0)
    cached = _reference_cache.get(campaign.pk)
    if cached and cached[0] == stamp:
        return cached[1]
    shingles: set[int] = set()
    for text in refs.values_list("text", flat=True):
        shingles |= fp.fingerprint(text).shingles
    result = frozenset(shingles)
    _reference_cache[campaign.pk] = (stamp, result)
    return result


def _latest_texts(report_ids: list[int]) -> dict[int, Version]:
    latest: dict[int, Version] = {}
    for v in Version.objects.filter(report_id__in=report_ids).order_by("report_id", "number"):
        latest[v.report_id] = v
    return latest


REFRESH_AT = (10, 50, 200, 2_000, 10_000)
"""Numbers of submitted reports at which a campaign's phrase set is taken again (by the
first submission that reaches them); after the last, only ``quantriet similarity-refresh``
takes it again."""

SAMPLE = 10_000
"""Reports sampled for a phrase set: the first submitted, each by its latest version."""

REBUILD_BATCH = 500
"""Reports fingerprinted again per transaction when a phrase set is replaced."""


def _pack(values: frozenset[int]) -> bytes:
    data = array("q", sorted(values))
    if sys.byteorder == "big":
        data.byteswap()
    return data.tobytes()


def _unpack(blob: bytes | memoryview) -> frozenset[int]:
    data = array("q")
    data.frombytes(bytes(blob))
    if sys.byteorder == "big":
        data.byteswap()
    return frozenset(data)


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


def phrases(campaign: Campaign, reference: frozenset[int] | None = None) -> Phrases:
    """The campaign's phrase sets: one small query for the generations (the stored sets are
    cached per process, by row: a generation's sets never change). Generation 0, before the
    first set was taken, leaves out the reference texts only (``reference``, when the caller
    has them) and has no common phrases."""
    rows = list(PhraseSet.objects.filter(campaign=campaign).order_by("-generation")
                .values_list("pk", "created_at", "generation", "reports", "rebuilt_at"))
    live = []
    for row in rows:
        live.append(row)
        if row[4] is not None:
            break
    for row in rows[len(live):]:
        _set_cache.pop(row[:2], None)  # older than the last rebuilt generation
    missing = [row[0] for row in live if row[:2] not in _set_cache]
    if missing:
        for pk, created, ignore, common in PhraseSet.objects.filter(pk__in=missing).values_list(
                "pk", "created_at", "ignore", "common"):
            _set_cache[pk, created] = (_unpack(ignore), _unpack(common))
    sets = [(row[2], _set_cache[row[:2]][0]) for row in live]
    if not live or live[-1][4] is None:
        sets.append((0, reference_shingles(campaign) if reference is None else reference))
    return Phrases(generation=rows[0][2] if rows else 0, live=tuple(sets),
                   common=_set_cache[rows[0][:2]][1] if rows else frozenset(),
                   reports=rows[0][3] if rows else 0)


def common_phrases(campaign: Campaign) -> frozenset[int]:
    """Shingles used by at least 1 % of the campaign's writers (stock phrases), discounted
    when deciding: those of the latest phrase set."""
    return phrases(campaign).common


def _submitted(campaign: Campaign, up_to: int) -> int:
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
    common = (_unpack(latest) if latest is not None
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
    ignore = reference_shingles(campaign) | _above(counts, total, fp.FREQUENT_FRACTION)
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
            sample=total, ignore=_pack(ignore), common=_pack(common))
        transaction.on_commit(lambda: _queue_rebuild(campaign.pk, made.generation))
    return made


def _queue_rebuild(campaign_id: int, generation: int) -> None:
    from quantriet.similarity.tasks import rebuild_keys

    rebuild_keys.enqueue(campaign_id, generation)


_refresh_queued: set[tuple[int, int]] = set()


def _refresh_if_due(campaign: Campaign, state: Phrases) -> None:
    """Queue a refresh when the campaign's submitted reports reach the next REFRESH_AT."""
    due = next((n for n in REFRESH_AT if n > state.reports), None)
    if due is None or (campaign.pk, due) in _refresh_queued:
        return
    if _submitted(campaign, due) >= due:
        from quantriet.similarity.tasks import refresh_phrases

        _refresh_queued.add((campaign.pk, due))
        transaction.on_commit(lambda: refresh_phrases.enqueue(campaign.pk, due))


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
                    for k in set(fp.fingerprint(text, ignore=state.ignore).bands))
            cursor = ids[-1]
            PhraseSet.objects.filter(pk=target.pk, rebuilt_upto__lt=cursor).update(
                rebuilt_upto=cursor)
        done += 1
    return False


def check_version(version_id: int) -> Flag | None:
    """Fingerprint, look up, verify, index; flag the version if it copies."""
    version = (Version.objects.select_related("report__campaign__report_policy")
               .filter(pk=version_id).first())
    if version is None:
        return None
    report, campaign = version.report, version.report.campaign
    if report.version_count > version.number:
        return None  # superseded before the task ran; the newer version is checked
    reference = reference_shingles(campaign)
    state = phrases(campaign, reference)
    # shingled once for every generation probed and for the comparisons below
    count, shingles = fp.text_shingles(version.text)
    prints = [(generation, fp.fingerprint_shingles(count, shingles, ignore=ignore))
              for generation, ignore in state.live]
    limit = threshold(campaign)
    best: tuple[float, Any, Any, fp.Comparison] | None = None
    candidates = _candidates(campaign, report, prints)
    others = _latest_texts([r for r, _s in candidates if r])
    sources = {s.pk: s for s in Source.objects.filter(
        pk__in=[s for _r, s in candidates if s], kind=Source.Kind.TEMPLATE)}
    for report_id, source_id in candidates:
        other_text = (others[report_id].text if report_id in others
                      else sources[source_id].text if source_id in sources else None)
        if other_text is None:
            continue
        comparison = fp.compare(version.text, other_text, reference=reference,
                                common=state.common, passages=False)
        if not fp.is_copy(comparison, limit):
            continue
        if best is None or comparison.score > best[0]:
            best = (comparison.score, others.get(report_id), sources.get(source_id),
                    comparison)
    with transaction.atomic():
        latest = _lock(report.pk, campaign.pk)
        stored = prints[0][1]
        if latest != state.generation:
            # a new phrase set was stored meanwhile: keys of the latest one, so that its
            # rebuild (which may have passed this report) leaves nothing stale
            state = phrases(campaign)
            stored = fp.fingerprint_shingles(count, shingles, ignore=state.ignore)
        _store_keys(campaign.pk, report.pk, state.generation, stored.bands)
        if version.number == 1:
            _refresh_if_due(campaign, state)
        if best is None:
            return None
        score, other_version, source, comparison = best
        return _flag(version, other_version, source, comparison, score)


def _lock(report_id: int, campaign_id: int) -> int:
    """Take the report's row lock (other checks of the report wait for this one), then read
    the campaign's latest phrase set generation (0 before the first).

    Two statements: in one (the lock and the generation as a subquery, as this was once
    written) the generation is read with the snapshot taken before the lock, so a phrase
    set stored while the check waited for the lock went unseen and the check stored keys
    of the older set (``test_new_phrase_set_stored_while_the_check_waits_for_the_lock``).

    On PostgreSQL the lock's statement also sets ``synchronous_commit`` off for the check's
    transaction: its commit does not wait for the WAL flush (about 1.5 ms of a check). With
    the database task backend nothing is lost that a retry would not redo: the task's
    result is written afterwards with a flushed commit, which flushes this one's WAL too,
    so after a crash either both are kept or the task is not recorded as done. (With the
    immediate backend of tests and tiny deployments, a crash within a fraction of a second
    of the check may lose its keys and flag.)
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('synchronous_commit', 'off', true) FROM reports_report "
                "WHERE id = %s FOR UPDATE", [report_id])
    else:
        list(Report.objects.select_for_update().filter(pk=report_id).values_list("pk"))
    return (PhraseSet.objects.filter(campaign_id=campaign_id).order_by("-generation")
            .values_list("generation", flat=True).first()) or 0


def _store_keys(campaign_id: int, report_id: int, generation: int,
                keys: tuple[int, ...]) -> None:
    """Replace the report's band keys. On PostgreSQL one statement (the delete and the insert
    see the same snapshot, so the new rows are not deleted): one round trip, and no model
    instances for the 64 rows."""
    distinct = sorted(set(keys))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH gone AS (DELETE FROM similarity_bandkey WHERE report_id = %s) "
                "INSERT INTO similarity_bandkey (campaign_id, report_id, key, generation) "
                "SELECT %s, %s, k, %s FROM unnest(%s::bigint[]) AS k",
                [report_id, campaign_id, report_id, generation, distinct])
        return
    BandKey.objects.filter(report_id=report_id).delete()
    BandKey.objects.bulk_create(
        BandKey(campaign_id=campaign_id, report_id=report_id, generation=generation, key=k)
        for k in distinct)


def _candidates(campaign: Campaign, report: Report,
                prints: list[tuple[int, fp.Fingerprint]]) -> list[tuple[int | None, int | None]]:
    """(report id, template id) of the indexed texts with at least MIN_SHARED_BANDS of
    their keys among the probes, those sharing the most first (ties: the earliest report),
    at most MAX_CANDIDATES: one query, counted in the database. Each generation's keys are
    matched with the probes of that generation; all of a report's keys are of one
    generation, so a report's count is what a single generation would give."""
    if connection.vendor == "postgresql":
        return _candidates_pg(campaign.pk, report.pk, prints)
    found = BandKey.objects.filter(campaign=campaign)
    if len(prints) == 1:
        generation, print_ = prints[0]
        found = found.filter(generation=generation, key__in=sorted(print_.probes))
        shared = Count("*")
    else:
        # One pass over the index for the probes of all generations; each entry counted
        # only if its key is among its own generation's probes. (With that condition in
        # the WHERE clause, as an OR of one term per generation, PostgreSQL misjudged the
        # rows and scanned the whole table.)
        everything = set().union(*(print_.probes for _g, print_ in prints))
        found = found.filter(generation__in=[g for g, _p in prints],
                             key__in=sorted(everything))
        own = Q()
        for generation, print_ in prints:
            own |= Q(generation=generation, key__in=sorted(print_.probes))
        shared = Count("key", filter=own)
    rows = (found.exclude(report=report).values("report_id", "source_id")
            .annotate(shared=shared).filter(shared__gte=fp.MIN_SHARED_BANDS)
            .order_by("-shared", "report_id", "source_id")[:MAX_CANDIDATES])
    return [(row["report_id"], row["source_id"]) for row in rows]


def _candidates_pg(campaign_id: int, report_id: int,
                   prints: list[tuple[int, fp.Fingerprint]]) -> list[tuple[int | None, int | None]]:
    """The query of _candidates written out: each set of probes is one array parameter
    (`= ANY`) instead of ~300 (`IN`), which the ORM prepares one value at a time and the
    server parses one literal at a time (about 4 ms of a check)."""
    if len(prints) == 1:
        generation, print_ = prints[0]
        count, count_params = "count(*)", []
        where = "generation = %s AND key = ANY(%s::bigint[])"
        where_params: list[Any] = [generation, sorted(print_.probes)]
    else:
        # as in _candidates: all probes in the WHERE clause, each generation's in the count
        terms = " OR ".join("(generation = %s AND key = ANY(%s::bigint[]))" for _p in prints)
        count = f"count(*) FILTER (WHERE {terms})"
        count_params = [v for generation, print_ in prints
                        for v in (generation, sorted(print_.probes))]
        where = "generation = ANY(%s::integer[]) AND key = ANY(%s::bigint[])"
        where_params = [[g for g, _p in prints],
                        sorted(set().union(*(print_.probes for _g, print_ in prints)))]
    with connection.cursor() as cursor:
        # the fragments put together are constants of this function; values are parameters
        cursor.execute(
            f"SELECT report_id, source_id, {count} AS shared FROM similarity_bandkey "  # noqa: S608
            f"WHERE campaign_id = %s AND {where} AND (report_id <> %s OR report_id IS NULL) "
            f"GROUP BY report_id, source_id HAVING {count} >= %s "
            "ORDER BY shared DESC, report_id, source_id LIMIT %s",
            [*count_params, campaign_id, *where_params, report_id, *count_params,
             fp.MIN_SHARED_BANDS, MAX_CANDIDATES])
        return [(row[0], row[1]) for row in cursor.fetchall()]


def _flag(version: Version, other_version: Version | None, source: Source | None,
          comparison: fp.Comparison, score: float) -> Flag:
    """Record the flag of ``version`` (one per version: a check run again updates it) in
    the cluster of the text it copies. Runs under the report's row lock (check_version), so
    no other check of this report runs meanwhile."""
    report, campaign = version.report, version.report.campaign
    other_id = other_version.report_id if other_version else None
    cluster, new_cluster = None, False
    if source is not None:
        cluster, new_cluster = Cluster.objects.get_or_create(  # created counting this report
            campaign=campaign, template=source, defaults={"size": 1})
    elif other_id is not None:
        # the cluster the other report was flagged into, else the one it is the earliest of
        flagged_into = Flag.objects.filter(report_id=other_id).values("cluster_id")
        cluster = (Cluster.objects.filter(Q(pk__in=flagged_into) | Q(earliest_id=other_id))
                   .annotate(rank=Case(When(pk__in=flagged_into, then=0), default=1))
                   .order_by("rank", "pk").first())
        if cluster is None:
            # its earliest report and this one: created with both counted
            cluster = Cluster.objects.create(campaign=campaign, earliest_id=other_id, size=2)
            new_cluster = True
    assert cluster is not None
    # this report's flags, read once: was it flagged, is this version, is it in the cluster
    mine = list(Flag.objects.filter(report_id=report.pk).values_list(
        "pk", "version_id", "cluster_id", "status"))
    was_flagged = any(status != Flag.Status.DISMISSED for *_x, status in mine)
    existing = next((pk for pk, version_id, *_x in mine if version_id == version.pk), None)
    values = {"campaign": campaign, "cluster": cluster, "report": report,
              "other_id": other_id, "other_version": other_version, "source": source,
              "jaccard": comparison.jaccard,
              "containment": max(comparison.containment_a, comparison.containment_b),
              "score": score}
    if existing is not None:  # the version checked again: the flag keeps its status
        Flag.objects.filter(pk=existing).update(**values)
        return Flag.objects.get(pk=existing)
    flag = Flag.objects.create(version=version, **values)
    if not new_cluster and not any(c == cluster.pk for _p, _v, c, _s in mine):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE similarity_cluster SET size = size + 1 WHERE id = %s "
                           "RETURNING size", [cluster.pk])
            cluster.size = cursor.fetchone()[0]
    if not was_flagged:
        counters.bump_participant(report.participant_id, flagged=1)
    return flag


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
            for k in set(fp.fingerprint(source.text, ignore=state.ignore).bands))


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
    from django.db.models import Q

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
