"""The seed campaign of the demo: the 2018 conference of the founding article."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.utils import timezone

from quantriet.campaigns import services
from quantriet.campaigns.models import Campaign, Material
from quantriet.org.models import Unit

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


def create_demo_campaign(log: Callable[[str], None] | None = None) -> Campaign | None:
    """Create the campaign with its five topics and the three preset rules, and freeze its
    roster on the demo organisation. Needs the demo's ``admin`` account and top unit."""
    admin = get_user_model().objects.filter(username="admin", is_superuser=True).first()
    top = Unit.objects.filter(parent__isnull=True).first()
    if admin is None or top is None or Campaign.objects.filter(slug=SLUG).exists():
        return None
    today = timezone.localdate()
    campaign = services.create_campaign(
        slug=SLUG, title=TITLE, owner_unit=top, actor=admin, resolution=RESOLUTION,
        description=DESCRIPTION, conference_date=today + dt.timedelta(days=7),
        report_deadline=today + dt.timedelta(days=30),
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
    if log:
        log(f"campaign “{TITLE}”: {diff.eligible:,} participants")
    return campaign
