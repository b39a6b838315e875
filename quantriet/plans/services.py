"""State changes of unit action plans: which units must produce one, drafting the measures,
submission by the unit's head, approval or return by the level above, and the follow-up of
each measure.

Who may do what:
- *edit* (draft, measures, attachments, follow-up): the unit administrators of the unit
  itself (``unit_admin`` held at it) and its head;
- *submit*: the unit's head -- the account of the person holding a current chair
  position there (``managers.HEAD_POSITIONS``);
- *review* (approve or return): the organisers and unit administrators of the reviewing
  unit or above (``org.managers.can(…, "change", …)``) and the reviewing unit's head. The
  reviewing unit is the plan's parent unit, or the organising unit for the organising unit
  itself.

Every function is one transaction, checks the right, raises ``ValidationError`` with a
message for the user, and writes an audit row; notices are sent when the transaction
commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from quantriet.campaigns.models import Campaign, Participant, Topic
from quantriet.core.audit import record
from quantriet.core.audit import user_or_none as _user
from quantriet.org import tree
from quantriet.org.managers import can
from quantriet.org.models import Unit, UnitLevel
from quantriet.plans.managers import head_unit_ids
from quantriet.plans.models import (
    Measure,
    Plan,
    PlanAttachment,
    PlanReview,
    PlanSettings,
    PlanVersion,
)
from quantriet.reports import rounds
from quantriet.reports.managers import admin_unit_ids
from quantriet.text import nfc

MAX_MEASURES = 100
MAX_ATTACHMENT_MB = 10
ATTACHMENT_TYPES = (".pdf", ".docx", ".odt", ".xlsx", ".ods")


def _clean(text: str | None) -> str:
    return nfc(text or "").strip()


# ---------------------------------------------------------------- rights


def is_head(user: Any, unit: Unit) -> bool:
    return bool(getattr(user, "is_superuser", False)) or unit.pk in head_unit_ids(user)


def may_edit(user: Any, unit: Unit) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return (user.is_superuser or unit.pk in admin_unit_ids(user)
            or unit.pk in head_unit_ids(user))


def may_review(user: Any, plan: Plan) -> bool:
    unit = plan.review_unit
    if unit is None or not getattr(user, "is_authenticated", False):
        return False
    return can(user, "change", unit) or unit.pk in head_unit_ids(user)


def _require(ok: bool) -> None:
    if not ok:
        raise ValidationError(_("You may not do this for this plan."))


# ---------------------------------------------------------------- campaign settings


def settings_for(campaign: Campaign) -> PlanSettings:
    try:
        return campaign.plan_settings
    except PlanSettings.DoesNotExist:
        pass
    found, _created = PlanSettings.objects.get_or_create(campaign=campaign)
    campaign.plan_settings = found
    return found


def required_unit_ids(campaign: Campaign, conf: PlanSettings) -> set[int]:
    """The units of the campaign's tree that must produce a plan under ``conf``."""
    owner = campaign.owner_unit
    if conf.required == PlanSettings.Required.LEVELS:
        if conf.highest_level is None or conf.lowest_level is None:
            return set()
        high, low = sorted((conf.highest_level.rank, conf.lowest_level.rank))
        return set(Unit.objects.subtree(owner.path).current()
                   .filter(level__rank__gte=high, level__rank__lte=low)
                   .values_list("pk", flat=True))
    if conf.required == PlanSettings.Required.PARTICIPANTS:
        return set(Participant.objects.filter(campaign=campaign, active=True)
                   .values_list("unit_id", flat=True).distinct())
    return set()


def review_unit_of(campaign: Campaign, unit: Unit) -> Unit:
    """The parent unit inside the campaign's tree; the organising unit for itself."""
    owner = campaign.owner_unit
    if unit.pk == owner.pk or unit.parent_id is None or not unit.path.startswith(owner.path):
        return owner
    return unit.parent  # type: ignore[return-value]


@transaction.atomic
def save_settings(*, campaign: Campaign, actor: Any, required: str,
                  highest_level: UnitLevel | None = None, lowest_level: UnitLevel | None = None,
                  due_on: dt.date | None = None) -> PlanSettings:
    """Which units must produce a plan; the list of required plans is brought up to date
    at once (:func:`sync_required`)."""
    if not can(actor, "change", campaign.owner_unit):
        raise ValidationError(_("Only the campaign's organisers can do this."))
    if required not in PlanSettings.Required.values:
        raise ValidationError(_("Choose which units must produce a plan."))
    if required == PlanSettings.Required.LEVELS and (highest_level is None
                                                      or lowest_level is None):
        raise ValidationError(_("Choose both levels."))
    conf = settings_for(campaign)
    conf.required, conf.due_on = required, due_on
    conf.highest_level, conf.lowest_level = highest_level, lowest_level
    conf.save()
    changed = sync_required(campaign=campaign)
    record("plans.settings", conf, actor=actor, unit_path=campaign.owner_unit.path,
           required=required, highest=highest_level, lowest=lowest_level, changed=changed)
    return conf


@transaction.atomic
def sync_required(*, campaign: Campaign) -> int:
    """Create the plan of every required unit that has none (not started), mark the
    others not required, and drop the untouched plans no longer required. Returns how
    many plans were created, changed or dropped."""
    want = required_unit_ids(campaign, settings_for(campaign))
    have = dict(Plan.objects.filter(campaign=campaign).values_list("unit_id", "required"))
    changed = Plan.objects.filter(campaign=campaign, required=True).exclude(
        unit_id__in=want).update(required=False)
    changed += Plan.objects.filter(campaign=campaign, required=False,
                                   unit_id__in=want).update(required=True)
    dropped, _d = (Plan.objects.filter(campaign=campaign, required=False,
                                       status=Plan.Status.NOT_STARTED, measures__isnull=True)
                   .delete())
    missing = sorted(want - set(have))
    owner = campaign.owner_unit
    rows = []
    for start in range(0, len(missing), 2000):
        for unit in Unit.objects.filter(pk__in=missing[start:start + 2000]).only(
                "pk", "path", "parent_id"):
            inside = unit.pk != owner.pk and unit.path[:-tree.SEGMENT].startswith(owner.path)
            parent = unit.parent_id if inside else owner.pk
            rows.append(Plan(campaign=campaign, unit_id=unit.pk, unit_path=unit.path,
                             review_unit_id=parent, required=True))
    Plan.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return changed + dropped + len(rows)


# ---------------------------------------------------------------- drafting


@transaction.atomic
def plan_for(*, campaign: Campaign, unit: Unit, actor: Any) -> Plan:
    """The unit's plan, created (as a draft) by one who may edit it."""
    plan = Plan.objects.filter(campaign=campaign, unit=unit).first()
    if plan is not None:
        return plan
    _require(may_edit(actor, unit))
    if not unit.path.startswith(campaign.owner_unit.path):
        raise ValidationError(_("This unit is outside the campaign."))
    plan = Plan.objects.create(campaign=campaign, unit=unit, unit_path=unit.path,
                               review_unit=review_unit_of(campaign, unit),
                               status=Plan.Status.DRAFT)
    record("plans.create", plan, actor=actor, unit_path=unit.path)
    return plan


def _locked(plan: Plan) -> Plan:
    locked = Plan.objects.select_for_update(of=("self",)).select_related(
        "campaign__owner_unit", "unit", "review_unit").get(pk=plan.pk)
    return locked


def _editable(plan: Plan, actor: Any) -> Plan:
    plan = _locked(plan)
    _require(may_edit(actor, plan.unit))
    if not plan.editable:
        raise ValidationError(_("The plan has been submitted; it can change again only if "
                                "it is returned for revision."))
    return plan


def _start(plan: Plan) -> None:
    if plan.status == Plan.Status.NOT_STARTED:
        plan.status = Plan.Status.DRAFT
        plan.save(update_fields=["status", "updated_at"])


def _measure_values(plan: Plan, *, title: str, owner: str, due_on: dt.date | None,
                    target: str, topic: Topic | None) -> dict[str, Any]:
    values = {"title": _clean(title), "owner": _clean(owner), "target": _clean(target),
              "due_on": due_on, "topic": topic}
    if not values["title"] or not values["owner"] or not values["target"] or not due_on:
        raise ValidationError(_("A measure needs its content, who is responsible, a due "
                              "date and a measurable target."))
    if topic is not None and topic.campaign_id != plan.campaign_id:
        raise ValidationError(_("That topic belongs to another campaign."))
    return values


@transaction.atomic
def add_measure(*, plan: Plan, actor: Any, title: str, owner: str, due_on: dt.date | None,
                target: str, topic: Topic | None = None) -> Measure:
    plan = _editable(plan, actor)
    values = _measure_values(plan, title=title, owner=owner, due_on=due_on, target=target,
                             topic=topic)
    count = plan.measures.count()
    if count >= MAX_MEASURES:
        raise ValidationError(_("A plan has at most %(n)s measures.") % {"n": MAX_MEASURES})
    top = plan.measures.aggregate(m=Max("order"))["m"]
    measure = Measure.objects.create(plan=plan, order=(top or 0) + 1, **values)
    _start(plan)
    record("plans.measure.add", plan, actor=actor, unit_path=plan.unit_path,
           measure=measure.pk)
    return measure


@transaction.atomic
def edit_measure(*, measure: Measure, actor: Any, title: str, owner: str,
                 due_on: dt.date | None, target: str, topic: Topic | None = None) -> Measure:
    plan = _editable(measure.plan, actor)
    values = _measure_values(plan, title=title, owner=owner, due_on=due_on, target=target,
                             topic=topic)
    for name, value in values.items():
        setattr(measure, name, value)
    measure.save()
    record("plans.measure.edit", plan, actor=actor, unit_path=plan.unit_path,
           measure=measure.pk)
    return measure


@transaction.atomic
def delete_measure(*, measure: Measure, actor: Any) -> None:
    plan = _editable(measure.plan, actor)
    record("plans.measure.delete", plan, actor=actor, unit_path=plan.unit_path,
           measure=measure.pk, title=measure.title)
    measure.delete()


@transaction.atomic
def save_summary(*, plan: Plan, actor: Any, summary: str) -> Plan:
    plan = _editable(plan, actor)
    plan.summary = _clean(summary)[:20_000]
    plan.save(update_fields=["summary", "updated_at"])
    _start(plan)
    return plan


@transaction.atomic
def attach(*, plan: Plan, actor: Any, stream: BinaryIO, name: str) -> PlanAttachment:
    """Attach a document (PDF, Word, OpenDocument, spreadsheet) to a plan being drafted."""
    plan = _editable(plan, actor)
    filename = get_valid_filename(name or "")[-200:]
    if not filename.lower().endswith(ATTACHMENT_TYPES):
        raise ValidationError(_("Attach a PDF, Word, OpenDocument or spreadsheet file."))
    limit = MAX_ATTACHMENT_MB * 1024 * 1024
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(_("The file is larger than %(n)s MB.") % {"n": MAX_ATTACHMENT_MB})
    if not data:
        raise ValidationError(_("The file is empty."))
    item = PlanAttachment(plan=plan, filename=filename, size=len(data),
                          uploaded_by=_user(actor))
    item.file.save(filename, ContentFile(data), save=False)
    item.save()
    _start(plan)
    record("plans.attach", plan, actor=actor, unit_path=plan.unit_path, file=filename)
    return item


@transaction.atomic
def detach(*, attachment: PlanAttachment, actor: Any) -> None:
    plan = _editable(attachment.plan, actor)
    record("plans.detach", plan, actor=actor, unit_path=plan.unit_path,
           file=attachment.filename)
    attachment.file.delete(save=False)
    attachment.delete()


# ---------------------------------------------------------------- submission and review


def _snapshot(plan: Plan) -> list[dict[str, Any]]:
    return [{"title": m.title, "topic": m.topic.title if m.topic_id else "",
             "owner": m.owner, "due_on": m.due_on.isoformat(), "target": m.target}
            for m in plan.measures.select_related("topic")]


@transaction.atomic
def submit(*, plan: Plan, actor: Any, client_ref: str = "") -> PlanVersion:
    """The head sends the plan to the level above: a new version with the measures as
    they are. A repeated request with the same ``client_ref`` stores nothing more."""
    plan = _locked(plan)
    _require(is_head(actor, plan.unit))
    done = rounds.repeated(plan.versions, client_ref)
    if done is not None:
        return done
    if not plan.editable:
        raise ValidationError(_("The plan has already been submitted."))
    measures = _snapshot(plan)
    if not measures:
        raise ValidationError(_("Add at least one measure before submitting the plan."))
    now = timezone.now()
    plan.version_count += 1
    version = PlanVersion.objects.create(plan=plan, number=plan.version_count,
                                         client_ref=client_ref[:64], submitted_at=now,
                                         summary=plan.summary, measures=measures,
                                         submitted_by=_user(actor))
    plan.status, plan.submitted_at = Plan.Status.SUBMITTED, now
    plan.review_unit = review_unit_of(plan.campaign, plan.unit)
    plan.save()
    record("plans.submit", plan, actor=actor, unit_path=plan.unit_path,
           version=version.number, measures=len(measures))
    return version


@transaction.atomic
def review(*, plan: Plan, actor: Any, outcome: str, comments: str = "") -> PlanReview:
    """Approve the submitted version, or return it for revision (comments required)."""
    plan = _locked(plan)
    _require(may_review(actor, plan))
    if plan.status != Plan.Status.SUBMITTED:
        raise ValidationError(_("This plan is not waiting for review."))
    if outcome not in PlanReview.Outcome.values:
        raise ValidationError(_("Approve the plan or return it."))
    comments = _clean(comments)
    if outcome == PlanReview.Outcome.RETURNED and not comments:
        raise ValidationError(_("Say what should be revised."))
    version = plan.versions.order_by("-number").first()
    assert version is not None
    result = PlanReview.objects.create(plan=plan, version=version, reviewer=_user(actor),
                                       outcome=outcome, comments=comments)
    if outcome == PlanReview.Outcome.APPROVED:
        plan.status, plan.approved_at = Plan.Status.APPROVED, timezone.now()
    else:
        plan.status = Plan.Status.RETURNED
    plan.save(update_fields=["status", "approved_at", "updated_at"])
    record(f"plans.review.{outcome}", plan, actor=actor, unit_path=plan.unit_path,
           version=version.number)
    transaction.on_commit(lambda: _notify(result.pk))
    return result


def _notify(review_id: int) -> None:
    from quantriet.plans import notices

    notices.plan_reviewed(PlanReview.objects.select_related(
        "plan__campaign", "plan__unit").get(pk=review_id))


# ---------------------------------------------------------------- follow-up


@transaction.atomic
def follow_up(*, measure: Measure, actor: Any, status: str, note: str = "") -> Measure:
    """Mark an approved plan's measure not started, in progress, done or overdue, with a
    short note."""
    plan = _locked(measure.plan)
    _require(may_edit(actor, plan.unit))
    if plan.status != Plan.Status.APPROVED:
        raise ValidationError(_("Measures are followed up once the plan is approved."))
    if status not in Measure.Status.values:
        raise ValidationError(_("Unknown follow-up status."))
    measure.status, measure.note = status, _clean(note)[:500]
    measure.status_changed_at = timezone.now()
    measure.save(update_fields=["status", "note", "status_changed_at"])
    record("plans.follow_up", plan, actor=actor, unit_path=plan.unit_path,
           measure=measure.pk, status=status)
    return measure
