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

from collections import Counter
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from quantriet.campaigns.models import Campaign
from quantriet.core.audit import record
from quantriet.org.managers import can
from quantriet.progress import counters
from quantriet.reports.models import Report, Version
from quantriet.similarity import fingerprint as fp
from quantriet.similarity.models import BandKey, Cluster, Flag, Source
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
    stamp = (refs.count(), max(refs.values_list("pk", flat=True), default=0))
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


COMMON_SAMPLE = 2000
"""Latest versions sampled to find a campaign's common phrases (see
:func:`fingerprint.common_shingles`)."""

_common_cache: dict[int, tuple[int, frozenset[int]]] = {}


def common_phrases(campaign: Campaign) -> frozenset[int]:
    """Shingles used by at least 1 % of the campaign's writers (stock phrases), discounted
    when deciding. Taken from a sample of latest versions not flagged as copies; cached per
    process and taken again when the number of submitted reports has doubled."""
    submitted = Report.objects.filter(campaign=campaign, version_count__gt=0).count()
    cached = _common_cache.get(campaign.pk)
    if cached and submitted < 2 * max(cached[0], 50):
        return cached[1]
    flagged = Flag.objects.filter(campaign=campaign).values("version_id")
    texts = (Version.objects.filter(report__campaign=campaign).exclude(pk__in=flagged)
             .order_by("-submitted_at").values_list("text", flat=True)[:COMMON_SAMPLE])
    common = fp.common_shingles(fp.fingerprint(t).shingles for t in texts)
    _common_cache[campaign.pk] = (submitted, common)
    return common


def check_version(version_id: int) -> Flag | None:
    """Fingerprint, look up, verify, index; flag the version if it copies."""
    version = (Version.objects.select_related("report__campaign")
               .filter(pk=version_id).first())
    if version is None:
        return None
    report, campaign = version.report, version.report.campaign
    if report.versions.filter(number__gt=version.number).exists():
        return None  # superseded before the task ran; the newer version is checked
    reference = reference_shingles(campaign)
    common = common_phrases(campaign)
    print_ = fp.fingerprint(version.text, ignore=reference)
    hits = Counter(
        (row[0], row[1]) for row in BandKey.objects.filter(
            campaign=campaign, key__in=list(set(print_.probes)))
        .exclude(report=report).values_list("report_id", "source_id"))
    limit = threshold(campaign)
    best: tuple[float, Any, Any, fp.Comparison] | None = None
    candidates = [k for k, n in hits.most_common(MAX_CANDIDATES) if n >= fp.MIN_SHARED_BANDS]
    others = _latest_texts([r for r, _s in candidates if r])
    sources = {s.pk: s for s in Source.objects.filter(
        pk__in=[s for _r, s in candidates if s], kind=Source.Kind.TEMPLATE)}
    for report_id, source_id in candidates:
        other_text = (others[report_id].text if report_id in others
                      else sources[source_id].text if source_id in sources else None)
        if other_text is None:
            continue
        comparison = fp.compare(version.text, other_text, reference=reference, common=common,
                                passages=False)
        if not fp.is_copy(comparison, limit):
            continue
        if best is None or comparison.score > best[0]:
            best = (comparison.score, others.get(report_id), sources.get(source_id),
                    comparison)
    with transaction.atomic():
        BandKey.objects.filter(report=report).delete()
        BandKey.objects.bulk_create(BandKey(campaign=campaign, report=report, key=k)
                                    for k in set(print_.bands))
        if best is None:
            return None
        score, other_version, source, comparison = best
        return _flag(version, other_version, source, comparison, score)


def _flag(version: Version, other_version: Version | None, source: Source | None,
          comparison: fp.Comparison, score: float) -> Flag:
    report, campaign = version.report, version.report.campaign
    other = other_version.report if other_version else None
    cluster = None
    if source is not None:
        cluster, _created = Cluster.objects.get_or_create(campaign=campaign, template=source)
    elif other is not None:
        cluster = (Cluster.objects.filter(flags__report=other).first()
                   or Cluster.objects.filter(earliest=other).first())
        if cluster is None:
            cluster = Cluster.objects.create(campaign=campaign, earliest=other, size=1)
    assert cluster is not None
    was_flagged = _flagged(report.pk)
    flag, created = Flag.objects.update_or_create(version=version, defaults={
        "campaign": campaign, "cluster": cluster, "report": report, "other": other,
        "other_version": other_version, "source": source,
        "jaccard": comparison.jaccard,
        "containment": max(comparison.containment_a, comparison.containment_b),
        "score": score})
    if created and not Flag.objects.filter(cluster=cluster, report=report).exclude(
            pk=flag.pk).exists():
        Cluster.objects.filter(pk=cluster.pk).update(size=F("size") + 1)
        cluster.refresh_from_db(fields=["size"])
    _count_flag(report, was_flagged)
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
    BandKey.objects.filter(source=source).delete()
    if source.kind == Source.Kind.TEMPLATE:
        BandKey.objects.bulk_create(BandKey(campaign=source.campaign, source=source, key=k)
                                    for k in set(fp.fingerprint(source.text).bands))


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
