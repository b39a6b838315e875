"""The seed campaign of the demo: the 2018 conference of the founding article."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.utils import timezone

from quantriet.campaigns import services
from quantriet.campaigns.models import Campaign, Material
from quantriet.org import services as org_services
from quantriet.org import tree
from quantriet.org.models import Person, Unit

SLUG = "nghi-quyet-dai-hoi-xii"
TITLE = "Học tập, quán triệt Nghị quyết Đại hội XII Công đoàn Việt Nam"
RESOLUTION = "Nghị quyết Đại hội XII Công đoàn Việt Nam (nhiệm kỳ 2018–2023)"
DESCRIPTION = (
    "Hội nghị trực tuyến dành cho cán bộ công đoàn chủ chốt, nhằm quán triệt những quan điểm "
    "cơ bản, những điểm mới trong Nghị quyết, nâng cao nhận thức, triển khai thống nhất, sáng "
    "tạo trong thực tiễn; thảo luận, xây dựng giải pháp cụ thể, thiết thực phù hợp với địa "
    "phương, đơn vị. Yêu cầu thiết thực, hiệu quả, không phô trương, tránh hình thức. Sau hội "
    "nghị, mỗi người viết bài thu hoạch cá nhân gửi cơ quan, đơn vị theo phân cấp quản lý cán "
    "bộ của Tổng Liên đoàn."
)
TOPICS = [
    "Tư duy mới và những vấn đề lớn của Nghị quyết Đại hội XII Công đoàn Việt Nam",
    "Đổi mới phương thức đại diện, chăm lo, bảo vệ quyền, lợi ích hợp pháp, chính đáng của "
    "đoàn viên, người lao động; tổ chức các phong trào thi đua yêu nước trong tình hình mới",
    "Đổi mới tổ chức và hoạt động công đoàn; củng cố, nâng cao chất lượng hoạt động của Ban "
    "Nữ công quần chúng; tăng cường công tác kiểm tra, giám sát của công đoàn trong tình hình "
    "mới",
    "Xây dựng nguồn lực tài chính công đoàn đủ mạnh; đổi mới phương thức, lề lối làm việc",
    "Thông tin, tuyên truyền, vận động công nhân, viên chức, lao động; nâng cao hiệu quả công "
    "tác đối ngoại của công đoàn",
]


PARTICIPANT_LOGIN = "daibieu"
REVIEWER_LOGIN = "chambai"


def create_demo_campaign(log: Callable[[str], None] | None = None) -> Campaign | None:
    """Create the campaign with its five topics and the three preset rules, and freeze its
    roster on the demo organisation. Needs the demo's ``admin`` account and top unit.

    One participant of the Hà Nội federation gets the account ``daibieu`` (password of the
    demo) to show the participant's side."""
    admin = get_user_model().objects.filter(username="admin", is_superuser=True).first()
    top = Unit.objects.filter(parent__isnull=True).first()
    if admin is None or top is None or Campaign.objects.filter(slug=SLUG).exists():
        return None
    today = timezone.localdate()
    campaign = services.create_campaign(
        slug=SLUG, title=TITLE, owner_unit=top, actor=admin, resolution=RESOLUTION,
        description=DESCRIPTION, conference_date=today - dt.timedelta(days=6),
        report_deadline=today + dt.timedelta(days=14),
    )
    for title in TOPICS:
        topic = services.add_topic(campaign=campaign, title=title, actor=admin,
                                   presenter="Đoàn Chủ tịch Tổng Liên đoàn")
        Material.objects.create(topic=topic, kind=Material.Kind.LINK,
                                title="Văn kiện Đại hội XII Công đoàn Việt Nam",
                                url="https://www.congdoan.vn")
    services.add_preset_rules(campaign=campaign, actor=admin)
    diff = services.apply_roster(campaign=campaign, actor=admin)
    services.set_status(campaign=campaign, status=Campaign.Status.PUBLISHED, actor=admin)
    _participant_account(campaign)
    if log:
        log(f"campaign “{TITLE}”: {diff.eligible:,} participants")
    from quantriet.progress.demo import simulate

    own = set(campaign.participants.filter(person__user__username=PARTICIPANT_LOGIN)
              .values_list("pk", flat=True))
    simulate(campaign, skip_participants=own, log=log)
    from quantriet.plans.demo import simulate as simulate_plans

    simulate_plans(campaign, log=log)
    return campaign


def _participant_account(campaign: Campaign) -> None:
    from quantriet.org.demo import DEMO_PASSWORD

    hanoi = Unit.objects.filter(code="LDLD-01").first() or campaign.owner_unit
    participant = (
        campaign.participants.filter(tree.subtree_q(hanoi.path, "unit__path"), active=True,
                                     person__user__isnull=True)
        .select_related("person", "unit").order_by("person__sort_key", "pk").first()
    )
    if participant is None:
        return
    User = get_user_model()
    account = User.objects.create_user(PARTICIPANT_LOGIN, password=DEMO_PASSWORD,
                                       first_name=participant.person.full_name)
    Person.objects.filter(pk=participant.person_id).update(user=account)
    # a reviewer at the unit that receives this participant's report
    reviewer = User.objects.create_user(REVIEWER_LOGIN, password=DEMO_PASSWORD,
                                        first_name="Người chấm bài")
    org_services.grant_role(user=reviewer, role="reviewer",
                            unit=participant.managing_unit or participant.unit)


def participant_account_rows() -> list[tuple[str, str, str]]:
    """(login, role, where) of the participant and the reviewer, for the table of demo
    accounts."""
    from quantriet.org.models import Grant

    person = Person.objects.filter(user__username=PARTICIPANT_LOGIN).select_related(
        "unit").first()
    if person is None:
        return []
    rows = [(PARTICIPANT_LOGIN, "participant (on the roster)",
             f"{person.full_name}, {person.unit.name}")]
    grant = Grant.objects.filter(user__username=REVIEWER_LOGIN).select_related("unit").first()
    if grant is not None:
        rows.append((REVIEWER_LOGIN, "reviewer of the participant's report", grant.unit.name))
    from quantriet.plans.demo import account_rows

    return rows + account_rows()
