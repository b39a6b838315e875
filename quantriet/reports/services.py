"""State changes of personal learning reports: drafts, submission with its deadline
policy, routing to the managing unit and assignment of a reviewer, review rounds,
extensions, and the audit of reads.

Every function checks who may do what and raises ``ValidationError`` with a message for
the user; nothing is half-written (each is one transaction).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from quantriet.campaigns.models import Campaign, Participant
from quantriet.core.audit import record
from quantriet.core.audit import user_or_none as _user
from quantriet.notifications import services as notify
from quantriet.org import tree
from quantriet.org.managers import can
from quantriet.org.models import Grant, Unit
from quantriet.progress import counters
from quantriet.reports import extract, rounds
from quantriet.reports.managers import admin_unit_ids
from quantriet.reports.models import (
    Criterion,
    GradeLevel,
    Prompt,
    Report,
    ReportPolicy,
    Review,
    Version,
)
from quantriet.text import nfc

DEFAULT_SCALE = (("Xuất sắc", True), ("Tốt", True), ("Đạt", True), ("Chưa đạt", False))
"""The usual scale of the Confederation's learning reports; stored as data in Vietnamese,
whatever the language of the organiser who first opens the report pages."""
MAX_TEXT_CHARS = 200_000
"""A typed report longer than this (about 40,000 words) is refused."""
OPEN_STATUSES = (Campaign.Status.PUBLISHED, Campaign.Status.CONFERENCE,
                 Campaign.Status.REPORTING)


def _require_organiser(actor: Any, campaign: Campaign) -> None:
    if not can(actor, "change", campaign.owner_unit):
        raise ValidationError(_("Only the campaign's organisers can do this."))


# ---------------------------------------------------------------- campaign settings


def policy_for(campaign: Campaign) -> ReportPolicy:
    """The campaign's report policy (created with defaults on first use), with the
    default grading scale when the campaign has none."""
    try:
        return campaign.report_policy
    except ReportPolicy.DoesNotExist:
        pass
    with transaction.atomic():
        policy, _created = ReportPolicy.objects.get_or_create(
            campaign=campaign, defaults={"closes_on": campaign.report_deadline})
        if not GradeLevel.objects.filter(campaign=campaign).exists():
            GradeLevel.objects.bulk_create(
                GradeLevel(campaign=campaign, order=i, label=str(label), passing=passing)
                for i, (label, passing) in enumerate(DEFAULT_SCALE))
    campaign.report_policy = policy
    return policy


POLICY_FIELDS = ("opens_on", "closes_on", "late", "attendance_required", "allow_upload",
                 "max_upload_mb", "min_words", "blind_review", "assignment", "copy_threshold")


@transaction.atomic
def save_policy(*, campaign: Campaign, actor: Any, **changes: Any) -> ReportPolicy:
    _require_organiser(actor, campaign)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"not a policy field: {sorted(unknown)}")
    policy = policy_for(campaign)
    opens, closes = (changes.get("opens_on", policy.opens_on),
                     changes.get("closes_on", policy.closes_on))
    if opens and closes and closes < opens:
        raise ValidationError(_("The deadline is before the opening date."))
    for name, value in changes.items():
        setattr(policy, name, value)
    policy.full_clean(exclude=["campaign"])
    policy.save()
    record("reports.policy", campaign, actor=actor, unit_path=campaign.owner_unit.path,
           **{k: str(v) for k, v in changes.items()})
    return policy


@transaction.atomic
def set_scale(*, campaign: Campaign, grades: list[tuple[str, bool]], actor: Any) -> None:
    """Replace the grading scale (best first). Refused once a report has been graded."""
    _require_organiser(actor, campaign)
    grades = [(nfc(label).strip(), passing) for label, passing in grades if label.strip()]
    if len(grades) < 2:
        raise ValidationError(_("A scale needs at least two grades."))
    if len({label.casefold() for label, _p in grades}) != len(grades):
        raise ValidationError(_("Two grades have the same name."))
    if Review.objects.filter(report__campaign=campaign, grade__isnull=False).exists():
        raise ValidationError(_("Reports have already been graded on this scale; it can no "
                                "longer change."))
    GradeLevel.objects.filter(campaign=campaign).delete()
    GradeLevel.objects.bulk_create(
        GradeLevel(campaign=campaign, order=i, label=label, passing=passing)
        for i, (label, passing) in enumerate(grades))
    record("reports.scale", campaign, actor=actor, unit_path=campaign.owner_unit.path,
           grades=[label for label, _p in grades])


@transaction.atomic
def add_criterion(*, campaign: Campaign, title: str, max_points: int, actor: Any) -> Criterion:
    _require_organiser(actor, campaign)
    if not title.strip() or not 1 <= max_points <= 100:
        raise ValidationError(_("Give the criterion a title and between 1 and 100 points."))
    order = campaign.criteria.count()
    return Criterion.objects.create(campaign=campaign, title=nfc(title).strip(),
                                    max_points=max_points, order=order)


@transaction.atomic
def delete_criterion(*, criterion: Criterion, actor: Any) -> None:
    _require_organiser(actor, criterion.campaign)
    if Review.objects.filter(report__campaign=criterion.campaign).exclude(points={}).exists():
        raise ValidationError(_("Reviews already use the rubric; it can no longer change."))
    criterion.delete()


@transaction.atomic
def add_prompt(*, campaign: Campaign, text: str, actor: Any, topic: Any = None) -> Prompt:
    _require_organiser(actor, campaign)
    if not text.strip():
        raise ValidationError(_("The prompt is empty."))
    if topic is not None and topic.campaign_id != campaign.pk:
        raise ValidationError(_("That topic belongs to another campaign."))
    return Prompt.objects.create(campaign=campaign, topic=topic, text=nfc(text).strip(),
                                 order=campaign.report_prompts.count())


@transaction.atomic
def delete_prompt(*, prompt: Prompt, actor: Any) -> None:
    _require_organiser(actor, prompt.campaign)
    prompt.delete()


# ---------------------------------------------------------------- who must submit, when


def must_submit(participant: Participant, policy: ReportPolicy | None = None) -> bool:
    """Whether the participant owes a report: on the roster and -- when the campaign says
    so -- present at the conference or absent with leave."""
    if not participant.active:
        return False
    policy = policy or policy_for(participant.campaign)
    if not policy.attendance_required:
        return True
    from quantriet.conference.models import Attendance

    status = (Attendance.objects.filter(participant=participant)
              .values_list("status", flat=True).first())
    return status in (Attendance.Status.PRESENT, Attendance.Status.EXCUSED)


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59, 999999)))


@dataclass
class Window:
    open: bool
    late: bool
    deadline: dt.date | None
    message: str


def window(report: Report | None, campaign: Campaign, now: dt.datetime | None = None) -> Window:
    """Whether a submission made now is accepted, and whether it is late."""
    policy = policy_for(campaign)
    now = now or timezone.now()
    deadline = policy.closes_on
    if report is not None and report.extended_until and (
            deadline is None or report.extended_until > deadline):
        deadline = report.extended_until
    if campaign.status not in OPEN_STATUSES:
        return Window(False, False, deadline, _("This campaign is not collecting reports."))
    if policy.opens_on and now < timezone.make_aware(
            dt.datetime.combine(policy.opens_on, dt.time())):
        return Window(False, False, deadline,
                      _("Submissions open on %(date)s.") % {"date": policy.opens_on
                                                            .strftime("%d/%m/%Y")})
    late = bool(deadline and now > _end_of(deadline))
    if late and policy.late == ReportPolicy.Late.REFUSE:
        return Window(False, True, deadline,
                      _("The deadline (%(date)s) has passed; late reports are not accepted. "
                        "Ask your managing unit for an extension.")
                      % {"date": deadline.strftime("%d/%m/%Y")})
    return Window(True, late, deadline, _("Late: the deadline was %(date)s.")
                  % {"date": deadline.strftime("%d/%m/%Y")} if late and deadline else "")


# ---------------------------------------------------------------- writing and submitting


def report_of(participant: Participant) -> Report:
    """The participant's report, created as an empty draft on first use."""
    try:
        return participant.report
    except Report.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            report = Report.objects.create(campaign_id=participant.campaign_id,
                                           participant=participant,
                                           managing_unit_id=participant.managing_unit_id
                                           or participant.unit_id)
    except IntegrityError:  # created by a concurrent request
        report = Report.objects.get(participant=participant)
    participant.report = report
    return report


_BLANK_LINES = re.compile(r"\n{3,}")


def tidy_text(text: str) -> str:
    """Typed text as it is stored: NFC, line breaks kept (CRLF and CR become LF), the white
    space inside each line collapsed to one space, at most one empty line in a row,
    stripped. (``quantriet.text.nfc`` would run all the paragraphs into one.)"""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return _BLANK_LINES.sub("\n\n", "\n".join(" ".join(line.split())
                                             for line in text.split("\n"))).strip()


def _require_author(actor: Any, participant: Participant) -> None:
    if getattr(actor, "pk", None) is None or participant.person.user_id != actor.pk:
        raise ValidationError(_("Only the author can write this report."))
    if not participant.active:
        raise ValidationError(_("You are no longer on this campaign's roster."))


def save_draft(*, participant: Participant, text: str, actor: Any) -> Report:
    """Autosave of the editor. Allowed while the report is a draft or returned."""
    _require_author(actor, participant)
    text = tidy_text(text)
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationError(_("The report is too long (more than %(n)s characters).")
                              % {"n": MAX_TEXT_CHARS})
    existing = report_of(participant)
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=existing.pk)
        if report.status not in (Report.Status.DRAFT, Report.Status.RETURNED):
            raise ValidationError(_("The report is submitted; it can only change if the "
                                    "reviewer returns it for revision."))
        report.draft, report.draft_saved_at = text, timezone.now()
        report.save(update_fields=["draft", "draft_saved_at", "updated_at"])
    return report


@dataclass
class Upload:
    stream: BinaryIO
    name: str


def submit(*, participant: Participant, actor: Any, text: str | None = None,
           upload: Upload | None = None, client_ref: str = "",
           now: dt.datetime | None = None) -> Version:
    """Submit a new version -- typed text or an uploaded file -- and route the report to a
    reviewer. A repeated request with the same ``client_ref`` returns the version it
    already stored."""
    _require_author(actor, participant)
    policy = policy_for(participant.campaign)
    if (text is None) == (upload is None):
        raise ValueError("give text or upload")
    try:
        existing: Report | None = participant.report
    except Report.DoesNotExist:  # the first submission creates it (see _store)
        existing = None
    if client_ref and existing is not None and existing.version_count:
        done = rounds.repeated(existing.versions, client_ref)
        if done is not None:  # a retry of a stored submission
            return done
    kind, filename, data = Version.Kind.TEXT, "", b""
    if upload is not None:
        if not policy.allow_upload:
            raise ValidationError(_("This campaign accepts reports written online only."))
        try:
            found = extract.inspect_upload(upload.stream, upload.name,
                                           policy.max_upload_mb * 1024 * 1024)
        except extract.RejectedFile as exc:
            raise ValidationError(str(exc)) from None
        upload.stream.seek(0)
        data = upload.stream.read(policy.max_upload_mb * 1024 * 1024 + 1)
        kind, text, words = found.kind, found.text, found.words
        filename = get_valid_filename(upload.name)[-200:] or f"report.{found.kind}"
        if not text.strip():
            raise ValidationError(_("No text could be read from this file (is it a scan?). "
                                    "Upload a file with text, or write the report online."))
    else:
        text = tidy_text(text or "")
        if len(text) > MAX_TEXT_CHARS:
            raise ValidationError(_("The report is too long (more than %(n)s characters).")
                                  % {"n": MAX_TEXT_CHARS})
        words = extract.count_words(text)
        if not words:
            raise ValidationError(_("The report is empty."))
    if words < policy.min_words:
        raise ValidationError(_("The report has %(words)s words; at least %(min)s are "
                                "required.") % {"words": words, "min": policy.min_words})
    stored = _Stored(kind=kind, text=text, words=words, filename=filename, data=data,
                     digest=hashlib.sha256(data or text.encode()).hexdigest(),
                     client_ref=client_ref[:64])
    try:
        return _store(participant, existing, stored, policy, now)
    except IntegrityError:
        if existing is not None:
            raise
    # a concurrent request created the report first: store under its lock
    return _store(participant, Report.objects.get(participant=participant), stored, policy,
                  now)


@dataclass
class _Stored:
    kind: str
    text: str
    words: int
    filename: str
    data: bytes
    digest: str
    client_ref: str


def _store(participant: Participant, existing: Report | None, new: _Stored,
           policy: ReportPolicy, now: dt.datetime | None) -> Version:
    """The transaction of ``submit``. A participant's first submission creates the report
    in it, complete, with one INSERT (a concurrent creation fails with IntegrityError);
    otherwise the report is locked and a retry looked for again (the row read before may
    be stale; there is no version while ``version_count`` is 0, both change together)."""
    kind, text, data, client_ref = new.kind, new.text, new.data, new.client_ref
    with transaction.atomic():
        if existing is None:
            # by id: the participant keeps no reference to a row that may be rolled back
            report = Report(campaign_id=participant.campaign_id, participant_id=participant.pk,
                            managing_unit_id=participant.managing_unit_id
                            or participant.unit_id)
        else:
            report = Report.objects.select_for_update().get(pk=existing.pk)
        if client_ref and report.version_count:
            done = report.versions.filter(client_ref=client_ref).first()
            if done is not None:
                return done
        if report.status not in (Report.Status.DRAFT, Report.Status.RETURNED):
            raise ValidationError(_("The report is already submitted and awaiting review."))
        win = window(report, participant.campaign, now)
        if not win.open:
            raise ValidationError(win.message)
        at = now or timezone.now()
        before = counters.vector(report=report.status, late=report.late)
        version = Version(report=report, number=report.version_count + 1, kind=kind,
                          text=text, words=new.words, filename=new.filename, size=len(data),
                          sha256=new.digest, client_ref=client_ref, submitted_at=at,
                          late=win.late)
        report.version_count = version.number
        report.status = Report.Status.SUBMITTED
        report.first_submitted_at = report.first_submitted_at or at
        report.submitted_at = at
        report.late = win.late
        if kind == Version.Kind.TEXT:
            report.draft, report.draft_saved_at = text, at
        escalated = _route(report, participant, policy)
        report.save(force_insert=existing is None)
        if escalated:
            _record_escalation(report)
        if data:
            version.file.save(f"{report.pk}-v{version.number}.{kind}", ContentFile(data),
                              save=False)
        version.save()
        counters.bump(participant.campaign_id, participant.unit_id,
                      path=counters.cached_path(participant), **counters.difference(
            before, counters.vector(report=report.status, late=report.late)))
        transaction.on_commit(lambda: _check_for_copies(version.pk))
    participant.report = report
    return version


def _check_for_copies(version_id: int) -> None:
    """Queue the copy check of a new version (run by the task worker, not the request)."""
    from quantriet.similarity.tasks import check_version

    check_version.enqueue(version_id)


# ---------------------------------------------------------------- routing and assignment


def reviewers_of(unit: Unit) -> list[Any]:
    """The reviewer pool of a unit: active accounts with the reviewer role at that unit."""
    return [g.user for g in Grant.objects.filter(unit=unit, role="reviewer",
                                                 user__is_active=True)
            .select_related("user").order_by("user_id")]


def _review_pool(managing: Unit, campaign_id: int,
                 policy: ReportPolicy) -> tuple[Unit, bool, dict[int, int]]:
    """The managing unit if it has reviewers, else its nearest ancestor that has some
    (escalated); the managing unit when nobody up the tree has reviewers. With that unit's
    pool (the accounts of ``reviewers_of``), each with the number of the campaign's reports
    they hold as ``_pick`` counts them -- all from one query, in SQL because it runs on
    every submission (the ORM took 1.2 ms of CPU to build it, the database 0.5 ms)."""
    paths = [managing.path, *reversed(tree.ancestor_paths(managing.path))]
    user = get_user_model()
    balanced = policy.assignment == ReportPolicy.Assignment.BALANCED
    sql = (f"SELECT u.path, g.unit_id, g.user_id, (SELECT COUNT(*) FROM "  # noqa: S608 - names
           f"{Report._meta.db_table} r WHERE r.campaign_id = %s AND r.reviewer_id = g.user_id"
           f"{' AND r.status = %s' if balanced else ''}) "
           f"FROM {Grant._meta.db_table} g JOIN {Unit._meta.db_table} u ON u.id = g.unit_id "
           f"JOIN {user._meta.db_table} a ON a.{user._meta.pk.column} = g.user_id "
           f"WHERE g.role = %s AND a.{user._meta.get_field('is_active').column} = %s "
           f"AND u.path IN ({', '.join(['%s'] * len(paths))}) ORDER BY g.user_id")
    params = [campaign_id, *([Report.Status.SUBMITTED] if balanced else []), "reviewer", True,
              *paths]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    for path in paths:
        pool = {user_id: n for at, _unit, user_id, n in rows if at == path}
        if pool:
            if path == managing.path:
                return managing, False, pool
            return Unit.objects.get(pk=next(u for at, u, _, _ in rows if at == path)), True, pool
    return managing, False, {}


def _pick(pool: dict[int, int]) -> int | None:
    """The reviewer holding the fewest reports (balanced: waiting ones; round-robin: all of
    the campaign's), the lowest id among equals."""
    return min(pool, key=lambda pk: (pool[pk], pk)) if pool else None


def _route(report: Report, participant: Participant, policy: ReportPolicy) -> bool:
    """Route (or re-route) a report that is being submitted. A returned report goes back
    to the reviewer who returned it, while they still review for that unit. True when it
    was escalated: the caller records that (``_record_escalation``) once the report has
    been saved."""
    managing = participant.managing_unit or participant.unit
    report.managing_unit = managing
    review_unit, escalated, pool = _review_pool(managing, report.campaign_id, policy)
    if report.reviewer_id and report.review_unit_id == review_unit.pk and (
            report.reviewer_id in pool):
        return False
    report.review_unit, report.escalated = review_unit, escalated
    report.reviewer_id = _pick(pool)
    report.assigned_at = timezone.now() if report.reviewer_id else None
    return escalated


def _record_escalation(report: Report) -> None:
    managing = report.managing_unit
    record("reports.escalated", report, unit_path=managing.path,
           managing_unit=managing.pk, review_unit=report.review_unit_id)


@transaction.atomic
def reassign(*, report: Report, reviewer: Any, actor: Any) -> Report:
    """Give the report to another reviewer of its review unit (its unit admins do this)."""
    report = Report.objects.select_for_update(of=("self",)).select_related("review_unit").get(pk=report.pk)
    if not (getattr(actor, "is_superuser", False)
            or report.review_unit_id in admin_unit_ids(actor)
            or report.managing_unit_id in admin_unit_ids(actor)):
        raise ValidationError(_("Only the administrators of the reviewing unit can reassign."))
    if report.status == Report.Status.GRADED:
        raise ValidationError(_("The report is graded."))
    if reviewer.pk not in {u.pk for u in reviewers_of(report.review_unit)}:
        raise ValidationError(_("%(user)s is not a reviewer of %(unit)s.")
                              % {"user": reviewer.get_username(),
                                 "unit": report.review_unit.name})
    old = report.reviewer_id
    report.reviewer, report.assigned_at = reviewer, timezone.now()
    report.save(update_fields=["reviewer", "assigned_at", "updated_at"])
    record("reports.reassign", report, actor=actor, unit_path=report.review_unit.path,
           old=old, new=reviewer.pk)
    notify.reviewer_assigned(report)
    return report


def assign_waiting(*, campaign: Campaign, unit: Unit, actor: Any) -> int:
    """Assign the unit's submitted reports that have no reviewer (reviewers were added
    after they came in). Returns how many were assigned."""
    if not (getattr(actor, "is_superuser", False) or unit.pk in admin_unit_ids(actor)):
        raise ValidationError(_("Only the unit's administrators can do this."))
    policy = policy_for(campaign)
    n = 0
    waiting = Report.objects.filter(campaign=campaign, status=Report.Status.SUBMITTED,
                                    reviewer__isnull=True).filter(
        Q(managing_unit=unit) | Q(review_unit=unit)).select_related("participant__unit",
                                                                    "participant__managing_unit")
    for report in waiting:
        with transaction.atomic():
            report = Report.objects.select_for_update().get(pk=report.pk)
            if report.reviewer_id is None:
                if _route(report, report.participant, policy):
                    _record_escalation(report)
                if report.reviewer_id:
                    report.save()
                    n += 1
    return n


# ---------------------------------------------------------------- review


def may_review(actor: Any, report: Report) -> bool:
    return getattr(actor, "pk", None) is not None and report.reviewer_id == actor.pk


@transaction.atomic
def review(*, report: Report, actor: Any, outcome: str, comments: str = "",
           grade: GradeLevel | None = None, points: dict[int, int] | None = None) -> Review:
    """Grade the submitted version, or return it for revision with comments."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if not may_review(actor, report):
        raise ValidationError(_("This report is not assigned to you."))
    if report.status != Report.Status.SUBMITTED:
        raise ValidationError(_("There is no submitted version waiting for review."))
    comments = tidy_text(comments)
    criteria = {c.pk: c for c in report.campaign.criteria.all()}
    points = {int(k): v for k, v in (points or {}).items()}
    total = None
    if outcome == Review.Outcome.GRADED:
        if grade is None or grade.campaign_id != report.campaign_id:
            raise ValidationError(_("Choose a grade."))
        if criteria:
            if set(points) != set(criteria):
                raise ValidationError(_("Give points for every criterion."))
            for pk, value in points.items():
                if value is None or not 0 <= value <= criteria[pk].max_points:
                    raise ValidationError(_("Points for “%(c)s” must be between 0 and %(max)s.")
                                          % {"c": criteria[pk].title,
                                             "max": criteria[pk].max_points})
            total = sum(points.values())
    elif outcome == Review.Outcome.RETURNED:
        if not comments:
            raise ValidationError(_("Say what should be revised."))
        grade, points = None, {}
    else:
        raise ValidationError(_("Unknown decision."))
    version = report.versions.order_by("-number").first()
    assert version is not None
    result = Review.objects.create(report=report, version=version, reviewer=_user(actor),
                                   outcome=outcome, grade=grade,
                                   points={str(k): v for k, v in points.items()},
                                   total=total, comments=comments)
    before = counters.vector(report=report.status)
    if outcome == Review.Outcome.GRADED:
        report.status, report.grade, report.points = Report.Status.GRADED, grade, total
        report.graded_at = timezone.now()
    else:
        report.status = Report.Status.RETURNED
        report.draft = version.text
    report.save()
    counters.bump_participant(report.participant_id, **counters.difference(
        before, counters.vector(report=report.status,
                                grade_order=grade.order if grade else None)))
    record(f"reports.review.{outcome}", report, actor=actor,
           unit_path=report.review_unit.path if report.review_unit else "",
           grade=grade.label if grade else None, version=version.number)
    # the author's notice is written with the review (the e-mail goes out on commit)
    notify.report_reviewed(result)
    return result


# ---------------------------------------------------------------- extensions and reads


@transaction.atomic
def extend(*, report: Report, until: dt.date, actor: Any) -> Report:
    """An individual extension granted by the managing unit."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if not (getattr(actor, "is_superuser", False)
            or report.managing_unit_id in admin_unit_ids(actor)):
        raise ValidationError(_("Only the managing unit's administrators grant extensions."))
    if until < timezone.localdate():
        raise ValidationError(_("The extension ends in the past."))
    report.extended_until = until
    report.save(update_fields=["extended_until", "updated_at"])
    record("reports.extend", report, actor=actor,
           unit_path=report.managing_unit.path if report.managing_unit else "",
           until=until.isoformat())
    return report


def record_read(report: Report, user: Any, what: str = "report") -> None:
    """Write the audit row of a read by anyone but the author."""
    if report.participant.person.user_id == getattr(user, "pk", None):
        return
    record("reports.read", report, actor=user,
           unit_path=report.managing_unit.path if report.managing_unit else "",
           what=what, campaign=report.campaign_id)
