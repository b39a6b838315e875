"""Action plans in the demo campaign: every unit from the provincial level (the level of the
bridge points) down to the grassroots unions must produce one; many have, at every stage
(drafts, plans waiting for the level above, returned, approved with their measures
followed up). The grassroots union of the demo's ``coso`` account has not started, so the
whole flow can be tried: its chair gets the account ``chutich`` (drafts and submits) and
its parent unit's administrator the account ``captren`` (approves or returns).

Rows are written in bulk, as the rest of the demo's activity is.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from quantriet.campaigns.models import Campaign
from quantriet.org import services as org_services
from quantriet.org.models import Grant, Person, Position, UnitLevel
from quantriet.plans import services
from quantriet.plans.models import Measure, Plan, PlanReview, PlanVersion

HEAD_LOGIN = "chutich"
PARENT_LOGIN = "captren"

MEASURES = (
    ("Tổ chức hội nghị quán triệt Nghị quyết tới toàn thể đoàn viên", "Ban Thường vụ",
     "100 % đoàn viên được quán triệt"),
    ("Đối thoại định kỳ với người sử dụng lao động", "Chủ tịch công đoàn",
     "2 cuộc đối thoại mỗi năm"),
    ("Thương lượng, ký kết thỏa ước lao động tập thể có lợi hơn luật", "Ban Chấp hành",
     "Thỏa ước được ký trước 31/12"),
    ("Phát triển đoàn viên mới", "Tổ công đoàn các phân xưởng", "Tăng 10 % số đoàn viên"),
    ("Thăm hỏi, hỗ trợ đoàn viên có hoàn cảnh khó khăn", "Ban Nữ công",
     "100 % trường hợp được thăm hỏi"),
    ("Tuyên truyền pháp luật lao động trên mạng xã hội", "Tổ tuyên giáo",
     "1 bài viết mỗi tuần"),
    ("Kiểm tra, công khai thu chi tài chính công đoàn", "Ủy ban Kiểm tra",
     "2 lần kiểm tra mỗi năm"),
)
STAGES = (("not_started", 30), ("draft", 12), ("submitted", 15), ("returned", 5),
          ("approved", 38))


def simulate(campaign: Campaign, *, seed: int = 2018, log: Any = None) -> None:
    rnd = random.Random(seed)
    admin = campaign.created_by
    levels = {lv.code: lv for lv in UnitLevel.objects.filter(
        code__in=("province", "grassroots"))}
    today = timezone.localdate()
    services.save_settings(campaign=campaign, actor=admin, required="levels",
                           highest_level=levels.get("province"),
                           lowest_level=levels.get("grassroots"),
                           due_on=today + dt.timedelta(days=21))
    coso = (Grant.objects.filter(user__username="coso", role="unit_admin")
            .select_related("unit").first())
    keep = coso.unit_id if coso else None
    stages, weights = zip(*STAGES, strict=True)
    now = timezone.now()
    topics = list(campaign.topics.order_by("order", "pk"))
    with transaction.atomic():
        plans = list(Plan.objects.filter(campaign=campaign).exclude(unit_id=keep)
                     .order_by("unit_path"))
        measures, versions, touched = [], [], []
        for plan in plans:
            stage = rnd.choices(stages, weights)[0]
            if stage == "not_started":
                continue
            plan.status = stage
            chosen = rnd.sample(MEASURES, rnd.randint(3, 5))
            for order, (title, owner, target) in enumerate(chosen, 1):
                due = today + dt.timedelta(days=rnd.randint(-40, 200))
                status = Measure.Status.PLANNED
                if stage == "approved":
                    r = rnd.random()
                    status = (Measure.Status.DONE if r < 0.35 or (due < today and r < 0.6)
                              else Measure.Status.IN_PROGRESS if r < 0.8
                              else Measure.Status.PLANNED)
                measures.append(Measure(plan=plan, order=order, title=title, owner=owner,
                                        target=target, due_on=due, status=status,
                                        topic=rnd.choice(topics) if topics else None))
            if stage != "draft":
                plan.version_count = 1
                plan.submitted_at = now - dt.timedelta(days=rnd.randint(1, 5))
                if stage == "approved":
                    plan.approved_at = now
                versions.append(PlanVersion(
                    plan=plan, number=1, submitted_at=plan.submitted_at,
                    measures=[{"title": t, "topic": "", "owner": o, "target": g,
                               "due_on": ""} for t, o, g in chosen]))
            touched.append(plan)
        Plan.objects.bulk_update(touched, ["status", "version_count", "submitted_at",
                                           "approved_at"], batch_size=2000)
        Measure.objects.bulk_create(measures, batch_size=2000)
        PlanVersion.objects.bulk_create(versions, batch_size=2000)
        saved = PlanVersion.objects.filter(plan__campaign=campaign).select_related("plan")
        PlanReview.objects.bulk_create(
            [PlanReview(plan=v.plan, version=v, outcome=v.plan.status,
                        comments="Đề nghị bổ sung chỉ tiêu cụ thể, đo được."
                        if v.plan.status == "returned" else "")
             for v in saved if v.plan.status in ("approved", "returned")], batch_size=2000)
    if coso is not None:
        _accounts(coso.unit)
    if log:
        log(f"action plans: {len(plans) + (1 if keep else 0):,} required, "
            f"{sum(1 for p in touched if p.version_count):,} submitted, "
            f"{sum(1 for p in touched if p.status == 'approved'):,} approved, "
            f"{len(measures):,} measures")


def _accounts(unit: Any) -> None:
    from quantriet.org.demo import DEMO_PASSWORD

    User = get_user_model()
    chair = (Position.objects.filter(unit=unit, type__code="chu_tich",
                                     person__user__isnull=True)
             .select_related("person").order_by("pk").first())
    if chair is None:
        return
    head = User.objects.create_user(HEAD_LOGIN, password=DEMO_PASSWORD,
                                    first_name=chair.person.full_name)
    Person.objects.filter(pk=chair.person_id).update(user=head)
    if unit.parent_id:
        parent = User.objects.create_user(PARENT_LOGIN, password=DEMO_PASSWORD,
                                          first_name="Cán bộ công đoàn cấp trên")
        org_services.grant_role(user=parent, unit=unit.parent, role="unit_admin")


def account_rows() -> list[tuple[str, str, str]]:
    """(login, role, where) of the plan's head and the parent's administrator."""
    rows = []
    person = Person.objects.filter(user__username=HEAD_LOGIN).select_related("unit").first()
    if person is not None:
        rows.append((HEAD_LOGIN, "chair: drafts and submits the action plan",
                     f"{person.full_name}, {person.unit.name}"))
    grant = Grant.objects.filter(user__username=PARENT_LOGIN).select_related("unit").first()
    if grant is not None:
        rows.append((PARENT_LOGIN, "unit_admin: approves or returns the plans below",
                     grant.unit.name))
    return rows
