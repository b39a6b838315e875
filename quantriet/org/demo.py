"""The demo organisation: a plausible Vietnam General Confederation of Labour.

``build_demo()`` creates the tree (confederation, provincial federations, central
sector and corporation unions, commune/ward or district unions, industrial-zone and
local sector unions, grassroots unions), the members of the grassroots unions, the
positions of each committee and five demo accounts. It is deterministic for a seed.

It follows the rules of ``quantriet.org.services`` (NFC names, ``search_name`` =
fold(...), ``sort_key``, materialised ``path``/``depth``, ``direct_members`` equal to
the number of people in the unit) without one service call per row:

1. *plan*: the whole unit tree is built in memory, with primary keys assigned in
   Python (after the current maximum) in depth-first order, so every path is known
   before anything is written and path order equals id order. Member counts and the
   id range of each unit's members are fixed here too.
2. *load*: units, then people, then positions, are streamed to the database:
   ``bulk_create`` in batches (small, medium; any database) or PostgreSQL
   ``COPY ... FROM STDIN`` (full), with the secondary indexes and unique
   constraints of ``org_person`` and ``org_position`` dropped during the load and
   recreated afterwards from their catalogued definitions.

Memory is bounded by the number of units (about 130,000 at full scale), never by the
number of people: people are generated unit by unit and written in chunks.
"""

from __future__ import annotations

import datetime as dt
import heapq
import io
import math
import random
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from quantriet.core.audit import record
from quantriet.org import tree
from quantriet.org.models import Grant, Person, Position, PositionType, Unit, UnitLevel
from quantriet.org.seed import REFORM_DATE
from quantriet.text import fold, nfc

DEMO_PASSWORD = "demo12345"  # noqa: S105 - printed at the end of every demo run
DEMO_USERNAMES = ("admin", "tinh", "kiemtra", "coso", "doanvien", "daibieu", "chambai",
                  "chutich", "captren")
BIG_UNIT = 2000  # "grassroots unions with at least 2,000 members"

# ============================================================================ scales


@dataclass(frozen=True)
class Scale:
    members: int  # target number of people
    communes: int | None  # 2025: commune/ward unions per province (None: every ward)
    districts: int | None  # 2018: district federations per province (None: every one)
    hanoi_communes: int | None  # Hà Nội (the demo accounts' province) gets more
    hanoi_districts: int | None
    local_sectors: int  # local sector unions per province
    per_commune: float  # mean grassroots unions under a commune/ward union (2025)
    per_district: float  # ... under a district federation (2018)
    per_zone: float  # ... under an industrial-zone union
    per_local_sector: float
    per_central: float  # ... under a central sector union
    per_corporation: float
    office: int  # members of a provincial federation's own grassroots union
    big_share: float  # share of grassroots unions with >= 2,000 members
    min_big: int
    big_cap: int  # the largest grassroots union


SCALES: dict[str, Scale] = {
    # for the tests: the whole structure, a few thousand people
    "tiny": Scale(
        members=5_000, communes=1, districts=1, hanoi_communes=2, hanoi_districts=2,
        local_sectors=1, per_commune=2, per_district=2, per_zone=2, per_local_sector=1,
        per_central=1, per_corporation=1, office=8, big_share=0.0, min_big=1,
        big_cap=2_000,
    ),
    "small": Scale(
        members=20_000, communes=3, districts=2, hanoi_communes=10, hanoi_districts=6,
        local_sectors=2, per_commune=1.6, per_district=2, per_zone=2, per_local_sector=1.2,
        per_central=1.5, per_corporation=1.5, office=20, big_share=0.004, min_big=2,
        big_cap=2_600,
    ),
    "medium": Scale(
        members=500_000, communes=20, districts=6, hanoi_communes=40, hanoi_districts=12,
        local_sectors=3, per_commune=3.5, per_district=6.5, per_zone=30, per_local_sector=15,
        per_central=20, per_corporation=15, office=40, big_share=0.02, min_big=2,
        big_cap=30_000,
    ),
    "full": Scale(
        members=12_000_000, communes=None, districts=None, hanoi_communes=None,
        hanoi_districts=None, local_sectors=4, per_commune=23.6, per_district=112,
        per_zone=470, per_local_sector=140, per_central=250, per_corporation=300,
        office=70, big_share=0.02, min_big=2, big_cap=60_000,
    ),
}

# ============================================================================ names
# Family names weighted like reality (north, south), then middle and given names.

FAMILY_NAMES: list[tuple[str, float, float]] = [
    ("Nguyễn", 38, 38), ("Trần", 11, 11), ("Lê", 9.5, 9.5), ("Phạm", 7, 6),
    ("Hoàng", 5, 1.2), ("Huỳnh", 0.4, 4.5), ("Phan", 4, 4.5), ("Vũ", 4.2, 0.8),
    ("Võ", 0.8, 3.8), ("Đặng", 2.1, 2.1), ("Bùi", 2.1, 1.8), ("Đỗ", 1.6, 1.2),
    ("Hồ", 1.1, 1.6), ("Ngô", 1.3, 1.3), ("Dương", 1, 1), ("Lý", 0.4, 0.9),
    ("Đào", 0.8, 0.5), ("Đoàn", 0.6, 0.6), ("Trịnh", 0.6, 0.3), ("Trương", 0.5, 1),
    ("Lâm", 0.3, 0.8), ("Mai", 0.5, 0.5), ("Tạ", 0.3, 0.2), ("Hà", 0.6, 0.3),
    ("Cao", 0.5, 0.5), ("Lương", 0.4, 0.4), ("Tô", 0.3, 0.3), ("Lưu", 0.4, 0.4),
    ("Chu", 0.3, 0.1), ("Kiều", 0.2, 0.1), ("Thái", 0.2, 0.4), ("Triệu", 0.3, 0.2),
    ("Quách", 0.2, 0.3), ("Vương", 0.2, 0.2), ("Nông", 0.3, 0.02), ("Lò", 0.1, 0.01),
    ("Châu", 0.05, 0.4), ("Tôn Thất", 0.01, 0.06), ("Âu Dương", 0.02, 0.02),
]

MIDDLE_MALE: list[tuple[str, float]] = [
    ("Văn", 30), ("Đức", 7), ("Minh", 7), ("Quốc", 4), ("Hữu", 5), ("Thanh", 5),
    ("Công", 4), ("Xuân", 3), ("Quang", 4), ("Ngọc", 3), ("Anh", 3), ("Hoàng", 2),
    ("Tuấn", 2), ("Đình", 4), ("Trọng", 3), ("Mạnh", 2), ("Thế", 3), ("Duy", 3),
    ("Tiến", 2), ("Việt", 2), ("Bá", 2), ("Hải", 2), ("Gia", 2), ("Trung", 2),
    ("Nhật", 1), ("Khắc", 1), ("Tấn", 2), ("Thành", 2), ("Văn Minh", 0.5), ("", 1),
]
MIDDLE_FEMALE: list[tuple[str, float]] = [
    ("Thị", 32), ("Thị Thu", 4), ("Thị Thanh", 4), ("Thị Ngọc", 3), ("Thị Kim", 3),
    ("Thị Minh", 2), ("Thị Hồng", 2), ("Thu", 4), ("Thanh", 4), ("Ngọc", 5), ("Minh", 3),
    ("Phương", 3), ("Hồng", 3), ("Kim", 2), ("Mai", 2), ("Hải", 2), ("Khánh", 2),
    ("Bảo", 2), ("Diệu", 1), ("Thùy", 2), ("Quỳnh", 1), ("Hoài", 1), ("Bích", 1),
    ("Cẩm", 1), ("", 1),
]
# "Hoà", "Thuỷ", "Thuý": the old-style tone placement, to exercise search.
GIVEN_MALE: list[tuple[str, float]] = [
    ("Anh", 4), ("An", 2), ("Bảo", 1.5), ("Bình", 2.5), ("Cường", 2.5), ("Chiến", 1.5),
    ("Công", 1), ("Dũng", 3.5), ("Duy", 1.5), ("Dương", 1), ("Đạt", 2.5), ("Đức", 2.5),
    ("Giang", 1), ("Hải", 3), ("Hiếu", 2), ("Hiệp", 1.5), ("Hòa", 1.2), ("Hoà", 0.6),
    ("Hoàng", 2), ("Hùng", 3.5), ("Huy", 3), ("Hưng", 2.5), ("Khánh", 1.5), ("Khoa", 1),
    ("Kiên", 1), ("Lâm", 1), ("Long", 2.5), ("Lộc", 1), ("Lợi", 1), ("Mạnh", 1.5),
    ("Minh", 3.5), ("Nam", 3), ("Nghĩa", 2), ("Nhân", 1), ("Phong", 2), ("Phú", 1),
    ("Phúc", 1.5), ("Phương", 1), ("Quân", 2), ("Quang", 2), ("Quý", 1), ("Sơn", 3),
    ("Tài", 1.5), ("Tâm", 1), ("Thái", 1), ("Thắng", 2.5), ("Thành", 3), ("Thịnh", 1.5),
    ("Thuận", 1), ("Toàn", 1.5), ("Trí", 1), ("Trung", 2.5), ("Tuấn", 4), ("Tùng", 2),
    ("Tú", 1), ("Vinh", 2), ("Việt", 1.5), ("Vũ", 1), ("Hậu", 1), ("Thủy", 0.2),
    ("Thuỷ", 0.1), ("Khải", 0.5), ("Lực", 0.5), ("Tuyển", 0.5),
]
GIVEN_FEMALE: list[tuple[str, float]] = [
    ("An", 1), ("Anh", 3), ("Chi", 1.5), ("Dung", 2), ("Duyên", 1.5), ("Giang", 1.5),
    ("Hà", 3), ("Hạnh", 2), ("Hằng", 3), ("Hiền", 2.5), ("Hoa", 2.5), ("Hòa", 1),
    ("Hoà", 0.5), ("Huệ", 1.5), ("Hương", 4), ("Hường", 1.5), ("Huyền", 3), ("Lan", 3),
    ("Liên", 1.5), ("Linh", 3.5), ("Loan", 1.5), ("Mai", 2.5), ("My", 1), ("Nga", 2.5),
    ("Ngân", 1.5), ("Ngọc", 2), ("Nhung", 2), ("Nhi", 1), ("Oanh", 1.5), ("Phương", 3),
    ("Quyên", 1), ("Quỳnh", 2), ("Tâm", 1), ("Thảo", 3), ("Thơ", 1), ("Thu", 2),
    ("Thủy", 2.2), ("Thuỷ", 1), ("Thúy", 1.2), ("Thuý", 0.5), ("Trang", 4), ("Trâm", 1),
    ("Tuyết", 1.5), ("Uyên", 1), ("Vân", 2), ("Vy", 1), ("Xuân", 1), ("Yến", 2.5),
    ("Hồng", 1.5), ("Nhàn", 1), ("Lý", 0.5), ("Hoài", 1), ("Khánh", 1), ("Ánh", 1.5),
    ("Diệp", 0.5), ("Tú", 0.5),
]

EMAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com",
                 "congdoan.vn", "gmail.com", "hotmail.com")
PHONE_PREFIXES = ("090", "091", "098", "097", "096", "086", "088", "089", "032", "033",
                  "034", "035", "036", "037", "038", "039", "070", "076", "077", "078",
                  "079", "081", "082", "083", "084", "085", "056", "058", "059", "094",
                  "093", "092")

# ============================================================================ units

# code, name, kind of its grassroots unions, words for their names
CENTRAL_SECTORS: list[tuple[str, str, str]] = [
    ("GD", "Công đoàn Giáo dục Việt Nam", "university"),
    ("YT", "Công đoàn Y tế Việt Nam", "hospital_central"),
    ("CT", "Công đoàn Công Thương Việt Nam", "company:Thương mại|Cơ khí|Thực phẩm|Hóa chất"),
    ("XD", "Công đoàn Xây dựng Việt Nam", "company:Xây dựng|Xi măng|Tư vấn Xây dựng"),
    ("GTVT", "Công đoàn Giao thông Vận tải Việt Nam",
     "company:Vận tải|Công trình Giao thông|Vận tải Biển"),
    ("NN", "Công đoàn Nông nghiệp và Phát triển Nông thôn Việt Nam",
     "company:Giống cây trồng|Thủy lợi|Lâm nghiệp|Chăn nuôi"),
    ("NH", "Công đoàn Ngân hàng Việt Nam", "bank"),
    ("VC", "Công đoàn Viên chức Việt Nam", "ministry"),
    ("CAND", "Công đoàn Công an Nhân dân", "police"),
    ("QP", "Công đoàn Quốc phòng", "army"),
    ("TTTT", "Công đoàn Thông tin và Truyền thông Việt Nam",
     "company:Viễn thông|Phần mềm|Truyền thông|In"),
    ("DL", "Công đoàn Du lịch Việt Nam", "company:Du lịch|Khách sạn|Lữ hành"),
    ("TC", "Công đoàn Tài chính Việt Nam", "company:Bảo hiểm|Chứng khoán|Kiểm toán"),
    ("TNMT", "Công đoàn Tài nguyên và Môi trường Việt Nam",
     "company:Môi trường|Đo đạc Bản đồ|Địa chất"),
    ("KHCN", "Công đoàn Khoa học và Công nghệ Việt Nam", "institute"),
    ("VHTT", "Công đoàn Văn hóa, Thể thao Việt Nam", "company:Điện ảnh|Xuất bản|Thể thao"),
    ("TP", "Công đoàn Tư pháp Việt Nam", "ministry"),
    ("LDXH", "Công đoàn Lao động – Xã hội Việt Nam", "company:Dịch vụ Việc làm|Xuất khẩu Lao động"),
    ("CQTW", "Công đoàn Khối các cơ quan Trung ương", "ministry"),
    ("DNTW", "Công đoàn Khối Doanh nghiệp Trung ương", "company:Thương mại|Đầu tư|Sản xuất"),
]
CORPORATIONS: list[tuple[str, str, str]] = [
    ("DK", "Công đoàn Dầu khí Việt Nam",
     "factory:Tổng công ty Khí|Công ty Lọc hóa dầu|Xí nghiệp Khai thác Dầu khí|"
     "Công ty Phân bón Dầu khí"),
    ("DL", "Công đoàn Điện lực Việt Nam",
     "factory:Công ty Điện lực|Công ty Nhiệt điện|Công ty Thủy điện|Công ty Truyền tải Điện"),
    ("TKS", "Công đoàn Than – Khoáng sản Việt Nam",
     "factory:Công ty Than|Công ty Tuyển than|Công ty Khoáng sản|Công ty Kho vận"),
    ("HK", "Công đoàn Tổng công ty Hàng không Việt Nam",
     "factory:Công ty Dịch vụ Hàng không|Công ty Kỹ thuật Máy bay|Xí nghiệp Thương mại Mặt đất"),
    ("BD", "Công đoàn Bưu điện Việt Nam", "factory:Bưu điện tỉnh|Bưu điện thành phố"),
    ("CS", "Công đoàn Cao su Việt Nam",
     "factory:Công ty Cao su|Công ty Cổ phần Cao su|Nông trường Cao su"),
    ("DM", "Công đoàn Dệt May Việt Nam",
     "factory:Tổng công ty May|Công ty Cổ phần May|Công ty Cổ phần Dệt|Công ty Sợi"),
    ("HC", "Công đoàn Hóa chất Việt Nam",
     "factory:Công ty Cổ phần Hóa chất|Công ty Cổ phần Phân lân|Công ty Pin Ắc quy"),
    ("DS", "Công đoàn Tổng công ty Đường sắt Việt Nam",
     "factory:Công ty Cổ phần Đường sắt|Xí nghiệp Đầu máy|Công ty Cổ phần Thông tin Tín hiệu Đường sắt"),
    ("HH", "Công đoàn Tổng công ty Hàng hải Việt Nam",
     "factory:Công ty Cảng|Công ty Vận tải Biển|Công ty Hoa tiêu"),
]
# code, the part of the name before the province, the office's agency, grassroots kind
LOCAL_SECTORS: list[tuple[str, str, str, str]] = [
    ("GD", "Công đoàn ngành Giáo dục", "Sở Giáo dục và Đào tạo", "school"),
    ("YT", "Công đoàn ngành Y tế", "Sở Y tế", "hospital"),
    ("VC", "Công đoàn Viên chức", "Văn phòng Ủy ban nhân dân", "agency"),
    ("CT", "Công đoàn ngành Công Thương", "Sở Công Thương", "company"),
    ("XD", "Công đoàn ngành Xây dựng", "Sở Xây dựng", "company"),
    ("NN", "Công đoàn ngành Nông nghiệp và Môi trường", "Sở Nông nghiệp và Môi trường",
     "coop"),
]

INDUSTRIES = ["May", "May mặc", "Dệt may", "Điện tử", "Cơ khí", "Xây dựng", "Thực phẩm",
              "Giày da", "Nhựa", "Bao bì", "Thương mại", "Dịch vụ", "Vận tải", "Gỗ", "Thép",
              "Dược phẩm", "Chế biến Thủy sản", "Logistics", "Vật liệu Xây dựng", "Nội thất",
              "Sữa", "Bánh kẹo", "In", "Cơ điện", "Thiết bị Điện"]
BRANDS = ["Thành Công", "Phú Thịnh", "Hưng Phát", "An Phát", "Minh Long", "Việt Tiến",
          "Hòa Bình", "Hoàng Long", "Đại Dương", "Tân Á", "Sao Mai", "Bình Minh", "Phương Đông",
          "Trường Thành", "Hồng Hà", "Sông Hồng", "Hải Âu", "Kim Long", "Toàn Thắng", "Đông Á",
          "Thái Bình Dương", "Nam Việt", "Bắc Việt", "Vạn Xuân", "Thiên Long", "Hưng Thịnh",
          "Tiến Bộ", "Quang Minh", "Nhật Quang", "Hoàng Gia", "Phú Gia", "Tân Phát", "Lộc Phát",
          "Thịnh Vượng", "Đức Thành", "Hoàng Hà", "Kim Ngân", "Sông Đà", "Trường Sơn", "An Khang"]
FOREIGN_HEADS = ["Han", "Dae", "Sung", "Shin", "Kyo", "Tai", "Ever", "Golden", "Grand", "Sun",
                 "Pacific", "Asia", "Hwa", "Yu", "Jin", "Mei", "Nam", "Hoa", "Kum", "Young"]
FOREIGN_TAILS = ["won", "sung", "il", "yang", "hing", "tech", "shine", "star", "wide", "lim",
                 "feng", "kwang", "hae", "san", "tex"]
FOREIGN_SUFFIXES = ["Vina", "Việt Nam", "Electronics Việt Nam", "Apparel Việt Nam",
                    "Precision Việt Nam", "Footwear Việt Nam", "Tech Vina", "Textile Việt Nam",
                    "Components Việt Nam"]
SCHOOL_LEVELS = [("Mầm non", 30), ("Tiểu học", 30), ("THCS", 25), ("THPT", 15)]
FAMOUS = ["Nguyễn Du", "Lê Quý Đôn", "Trần Phú", "Chu Văn An", "Nguyễn Trãi", "Lê Lợi",
          "Quang Trung", "Lý Thường Kiệt", "Trần Hưng Đạo", "Nguyễn Huệ", "Phan Bội Châu",
          "Võ Thị Sáu", "Nguyễn Thị Minh Khai", "Hùng Vương", "Ngô Quyền", "Lương Thế Vinh"]
UNIVERSITIES = ["Bách khoa Hà Nội", "Kinh tế Quốc dân", "Sư phạm Hà Nội", "Xây dựng Hà Nội",
                "Mỏ – Địa chất", "Thủy lợi", "Giao thông Vận tải", "Thương mại", "Ngoại thương",
                "Luật Hà Nội", "Y Hà Nội", "Dược Hà Nội", "Mở Hà Nội", "Cần Thơ", "Đà Lạt",
                "Vinh", "Quy Nhơn", "Tây Nguyên", "Hải Phòng", "Hàng hải Việt Nam",
                "Công nghiệp Hà Nội", "Điện lực", "Lâm nghiệp", "Văn hóa Hà Nội",
                "Kiến trúc Hà Nội", "Y Dược Thái Bình", "Sư phạm Kỹ thuật Hưng Yên",
                "Sư phạm Thành phố Hồ Chí Minh", "Tôn Đức Thắng", "Công đoàn"]
COLLEGE_FIELDS = ["Sư phạm", "Y tế", "Kỹ thuật Công nghiệp", "Nghề", "Văn hóa Nghệ thuật",
                  "Kinh tế – Kỹ thuật", "Cộng đồng", "Du lịch", "Nông Lâm", "Giao thông Vận tải"]
HOSPITAL_SPECIALTIES = ["Nhi", "Sản – Nhi", "Y học cổ truyền", "Phổi", "Mắt", "Tâm thần",
                        "Lao và Bệnh phổi", "Phục hồi chức năng", "Ung bướu", "Nội tiết"]
CENTRAL_HOSPITALS = ["Bệnh viện Bạch Mai", "Bệnh viện Hữu nghị Việt Đức", "Bệnh viện K",
                     "Bệnh viện Nhi Trung ương", "Bệnh viện Chợ Rẫy", "Bệnh viện Trung ương Huế",
                     "Bệnh viện Phụ sản Trung ương", "Bệnh viện Mắt Trung ương",
                     "Bệnh viện Răng Hàm Mặt Trung ương", "Bệnh viện Thống Nhất",
                     "Bệnh viện E", "Bệnh viện Hữu nghị", "Bệnh viện Nội tiết Trung ương",
                     "Bệnh viện Lão khoa Trung ương", "Bệnh viện Da liễu Trung ương",
                     "Viện Vệ sinh Dịch tễ Trung ương", "Viện Pasteur Thành phố Hồ Chí Minh"]
BANKS = ["Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam",
         "Ngân hàng TMCP Công Thương Việt Nam", "Ngân hàng TMCP Đầu tư và Phát triển Việt Nam",
         "Ngân hàng TMCP Ngoại thương Việt Nam", "Ngân hàng Chính sách xã hội",
         "Ngân hàng Hợp tác xã Việt Nam", "Ngân hàng Nhà nước"]
MINISTRIES = ["Bộ Tài chính", "Bộ Tư pháp", "Bộ Nội vụ", "Bộ Ngoại giao", "Bộ Xây dựng",
              "Bộ Công Thương", "Bộ Khoa học và Công nghệ", "Bộ Y tế", "Bộ Giáo dục và Đào tạo",
              "Bộ Nông nghiệp và Môi trường", "Bộ Văn hóa, Thể thao và Du lịch",
              "Văn phòng Chính phủ", "Thanh tra Chính phủ", "Kiểm toán Nhà nước",
              "Tòa án nhân dân tối cao", "Viện Kiểm sát nhân dân tối cao", "Bảo hiểm xã hội Việt Nam",
              "Thông tấn xã Việt Nam", "Đài Tiếng nói Việt Nam", "Đài Truyền hình Việt Nam"]
MINISTRY_UNITS = ["Văn phòng", "Vụ Tổ chức cán bộ", "Vụ Kế hoạch – Tài chính", "Thanh tra",
                  "Cục Công nghệ thông tin", "Trung tâm Thông tin", "Viện Chiến lược", "Tạp chí",
                  "Vụ Pháp chế", "Cục Quản lý"]
POLICE_UNITS = ["Cục Cảnh sát giao thông", "Cục Hồ sơ nghiệp vụ", "Cục Hậu cần",
                "Cục Y tế", "Cục Quản lý xuất nhập cảnh", "Bệnh viện 19-8", "Bệnh viện 30-4",
                "Học viện Cảnh sát nhân dân", "Học viện An ninh nhân dân", "Báo Công an nhân dân",
                "Nhà xuất bản Công an nhân dân", "Trường Cao đẳng Cảnh sát nhân dân"]
PROVINCE_AGENCIES = ["Sở Tài chính", "Sở Tư pháp", "Sở Nội vụ", "Sở Khoa học và Công nghệ",
                     "Sở Văn hóa, Thể thao và Du lịch", "Thanh tra", "Kho bạc Nhà nước",
                     "Thuế", "Bảo hiểm xã hội", "Ban Quản lý dự án Đầu tư xây dựng",
                     "Trung tâm Phục vụ hành chính công", "Đài Phát thanh và Truyền hình",
                     "Báo", "Thư viện", "Bảo tàng", "Trung tâm Lưu trữ lịch sử"]
INSTITUTES = ["Viện Hàn lâm Khoa học và Công nghệ Việt Nam", "Viện Vật lý", "Viện Toán học",
              "Viện Hóa học", "Viện Công nghệ Sinh học", "Viện Địa chất", "Viện Cơ học",
              "Viện Khoa học Vật liệu", "Viện Năng lượng Nguyên tử Việt Nam",
              "Viện Tiêu chuẩn Chất lượng Việt Nam", "Trung tâm Vệ tinh Quốc gia"]
COOPS = ["Nông nghiệp", "Dịch vụ Nông nghiệp", "Thủy sản", "Chè", "Rau an toàn",
         "Vận tải", "Môi trường", "Dịch vụ tổng hợp"]

# Where the factories are: a rough weight per pre-2025 province (code), from the number
# of workers in industrial zones; a 2025 province adds up the provinces it merged.
INDUSTRY: dict[int, float] = {
    79: 10, 74: 9, 75: 7, 1: 6, 27: 6, 24: 4, 31: 4, 80: 3, 19: 3, 26: 3, 30: 2.5, 33: 2,
    22: 2, 72: 2, 77: 2, 48: 2, 49: 1.5, 38: 1.5, 40: 1.2, 35: 1.2, 36: 1, 34: 1, 82: 1,
    92: 1, 56: 1, 70: 1, 37: 0.8, 25: 0.8, 51: 0.6, 52: 0.6, 60: 0.6, 83: 0.6, 86: 0.5,
    87: 0.5, 89: 0.5,
}
INDUSTRY_DEFAULT = 0.25

# grassroots kinds: median members, spread (sigma of the logarithm), share of women
KINDS: dict[str, tuple[float, float, float]] = {
    "office": (40, 0.3, 0.5),
    "ubnd": (28, 0.35, 0.45),
    "school": (30, 0.5, 0.78),
    "health": (10, 0.35, 0.7),
    "company": (35, 1.05, 0.48),
    "fdi": (140, 1.0, 0.7),
    "hospital": (220, 0.6, 0.66),
    "coop": (12, 0.45, 0.42),
    "agency": (35, 0.5, 0.5),
    "university": (260, 0.6, 0.52),
    "bank": (60, 0.5, 0.62),
    "factory": (260, 0.9, 0.35),
    "ministry": (90, 0.6, 0.52),
    "police": (70, 0.6, 0.35),
    "army": (180, 0.8, 0.3),
    "institute": (60, 0.5, 0.45),
}
# which kinds may be one of the very large unions, and how likely
BIG_WEIGHTS = {"fdi": 8.0, "factory": 3.0, "company": 1.0, "hospital": 1.0}
MIN_MEMBERS = 5  # a grassroots union needs at least five members


# ============================================================================ plan


@dataclass(slots=True, eq=False)
class PlanUnit:
    id: int
    code: str
    name: str
    level: str
    parent: PlanUnit | None
    path: str
    province_code: str = ""
    province_name: str = ""
    kind: str = ""  # grassroots only
    size: int = 0  # members (grassroots only)
    first_person: int = 0
    big: bool = False
    office: PlanUnit | None = None  # the grassroots union holding this unit's staff
    is_office: bool = False
    children: list[PlanUnit] = field(default_factory=list)
    valid_from: dt.date | None = None
    home: tuple[int, ...] = ()  # legacy province codes for national IDs
    south: bool = False
    industry: float = 1.0  # relative weight of the province's industry
    chair: int = 0  # person id of the chair, once positions are made

    @property
    def depth(self) -> int:
        return tree.depth_of(self.path)


@dataclass
class Plan:
    scale: str
    structure: str
    seed: int
    units: list[PlanUnit]
    first_person: int
    people: int
    hanoi: PlanUnit
    coso: PlanUnit

    @property
    def grassroots(self) -> list[PlanUnit]:
        return [u for u in self.units if u.level == "grassroots"]


def _strip_division(name: str) -> str:
    for prefix in ("Thành phố ", "Tỉnh ", "Phường ", "Xã ", "Đặc khu ", "Quận ", "Huyện ",
                   "Thị xã ", "Thị trấn "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


@dataclass(frozen=True)
class ProvinceInfo:
    code: int
    name: str  # official: "Thành phố Hà Nội", "Tỉnh Cao Bằng"
    short: str  # "Hà Nội"
    city: bool  # centrally-run city
    home: tuple[int, ...]  # legacy province codes (national-ID prefixes)

    @property
    def industry(self) -> float:
        return sum(INDUSTRY.get(c, INDUSTRY_DEFAULT) for c in self.home)

    @property
    def federation_name(self) -> str:
        return "Liên đoàn Lao động " + (self.name if self.city else "tỉnh " + self.short)

    @property
    def label(self) -> str:
        """ "tỉnh Cao Bằng" / "thành phố Hà Nội", for names like "Công đoàn ngành Y tế …"."""
        return ("thành phố " if self.city else "tỉnh ") + self.short


def _provinces(structure: str) -> list[ProvinceInfo]:
    from vietnam_provinces import Province, legacy

    out = []
    if structure == "2025":
        for p in Province.iter_all():
            city = p.division_type.name == "THANH_PHO_TRUNG_UONG"
            home = tuple(int(lp.code) for lp in p.get_legacy_sources()) or (int(p.code),)
            out.append(ProvinceInfo(int(p.code), nfc(p.name), nfc(_strip_division(p.name)),
                                    city, home))
    else:
        for p in legacy.Province.iter_all():
            city = p.division_type.name == "THANH_PHO_TRUNG_UONG"
            out.append(ProvinceInfo(int(p.code), nfc(p.name), nfc(_strip_division(p.name)),
                                    city, (int(p.code),)))
    out.sort(key=lambda p: p.code)
    return out


@dataclass(frozen=True)
class Locality:
    """A commune/ward (2025) or a district (2018) with the place names inside it."""

    code: int
    name: str  # "Phường Ba Đình"
    places: tuple[str, ...]  # bare names of the old wards inside it


def _localities(structure: str) -> dict[int, list[Locality]]:
    from vietnam_provinces import Ward, legacy

    out: dict[int, list[Locality]] = defaultdict(list)
    if structure == "2025":
        for w in Ward.iter_all():
            out[int(w.province_code)].append(Locality(int(w.code), nfc(w.name), ()))
    else:
        wards: dict[int, list[str]] = defaultdict(list)
        for w in legacy.Ward.iter_all():
            wards[int(w.district_code)].append(nfc(_strip_division(w.name)))
        for d in legacy.District.iter_all():
            out[int(d.province_code)].append(
                Locality(int(d.code), nfc(d.name), tuple(wards.get(int(d.code), ())))
            )
    for v in out.values():
        v.sort(key=lambda loc: loc.code)
    return out


def _ward_places(loc: Locality) -> tuple[str, ...]:
    """Names of the old wards that formed a 2025 commune (for school names...)."""
    from vietnam_provinces import Ward, WardCode

    try:
        sources = Ward.from_code(WardCode(loc.code)).get_legacy_sources()
    except (ValueError, KeyError, LookupError):
        return ()
    return tuple(nfc(_strip_division(s.name)) for s in sources)


class _Planner:
    def __init__(self, scale_name: str, structure: str, seed: int, start_id: int,
                 first_person: int, members: int | None = None):
        self.scale_name = scale_name
        self.scale = SCALES[scale_name]
        self.structure = structure
        self.seed = seed
        self.rng = random.Random(f"quantriet-demo/{seed}/{scale_name}/{structure}")
        self.next_id = start_id
        self.first_person = first_person
        self.target = members or self.scale.members
        self.units: list[PlanUnit] = []
        self.gs_seq = 0
        self.names_seen: dict[tuple[int, str], int] = {}

    # -- helpers
    def count(self, mean: float, minimum: int = 1) -> int:
        if mean <= 0:
            return 0
        sigma = 0.35
        x = mean * self.rng.lognormvariate(-sigma * sigma / 2, sigma)
        return max(minimum, int(round(x)))

    def add(self, parent: PlanUnit | None, level: str, code: str, name: str,
            **kw: Any) -> PlanUnit:
        pk = self.next_id
        self.next_id += 1
        u = PlanUnit(
            id=pk, code=code, name=nfc(name), level=level, parent=parent,
            path=(parent.path if parent else "") + tree.encode(pk),
            province_code=kw.pop("province_code", parent.province_code if parent else ""),
            province_name=kw.pop("province_name", parent.province_name if parent else ""),
            home=kw.pop("home", parent.home if parent else (1,)),
            south=kw.pop("south", parent.south if parent else False),
            industry=kw.pop("industry", parent.industry if parent else 1.0),
            **kw,
        )
        self.units.append(u)
        if parent is not None:
            parent.children.append(u)
        return u

    def grassroots(self, parent: PlanUnit, kind: str, name: str, office: bool = False) -> PlanUnit:
        self.gs_seq += 1
        key = (parent.id, name)
        seen = self.names_seen.get(key, 0) + 1
        self.names_seen[key] = seen
        if seen > 1:
            name = f"{name} số {seen}"
        u = self.add(parent, "grassroots", f"CS-{self.gs_seq:06d}", name, kind=kind,
                     is_office=office)
        if office:
            parent.office = u
        return u

    # -- names of grassroots unions
    def company(self, industries: list[str] | None = None) -> str:
        r = self.rng
        form = r.choice(["TNHH", "TNHH", "Cổ phần", "Cổ phần", "TNHH MTV"])
        return f"Công đoàn Công ty {form} {r.choice(industries or INDUSTRIES)} {r.choice(BRANDS)}"

    def fdi(self) -> str:
        r = self.rng
        brand = r.choice(FOREIGN_HEADS) + r.choice(FOREIGN_TAILS)
        return f"Công đoàn Công ty TNHH {brand} {r.choice(FOREIGN_SUFFIXES)}"

    def school(self, places: list[str]) -> str:
        r = self.rng
        level = r.choices([lv for lv, _ in SCHOOL_LEVELS], [w for _, w in SCHOOL_LEVELS])[0]
        if level == "THPT" and r.random() < 0.5:
            place = r.choice(FAMOUS)
        else:
            place = r.choice(places)
        return f"Công đoàn cơ sở Trường {level} {place}"

    def hospital(self, places: list[str], prov: ProvinceInfo) -> str:
        r = self.rng
        x = r.random()
        if x < 0.45:
            return f"Công đoàn Bệnh viện Đa khoa {r.choice(places)}"
        if x < 0.75:
            return f"Công đoàn cơ sở Trung tâm Y tế {r.choice(places)}"
        return f"Công đoàn Bệnh viện {r.choice(HOSPITAL_SPECIALTIES)} {prov.label}"

    def local_child(self, kind: str, places: list[str], prov: ProvinceInfo) -> tuple[str, str]:
        """(kind, name) of a grassroots union under a provincial-level unit."""
        r = self.rng
        if kind == "school":
            return kind, self.school(places)
        if kind == "hospital":
            if r.random() < 0.3:
                return "health", f"Công đoàn cơ sở Trạm Y tế {r.choice(places)}"
            return kind, self.hospital(places, prov)
        if kind == "agency":
            return kind, f"Công đoàn cơ sở {r.choice(PROVINCE_AGENCIES)} {prov.label}"
        if kind == "coop":
            if r.random() < 0.5:
                return "company", self.company(["Giống cây trồng", "Thủy lợi", "Lâm nghiệp",
                                                "Chăn nuôi", "Chế biến Nông sản"])
            return kind, f"Công đoàn cơ sở Hợp tác xã {r.choice(COOPS)} {r.choice(places)}"
        return "company", self.company()

    def locality_child(self, loc_label: str, places: list[str],
                       prov: ProvinceInfo) -> tuple[str, str]:
        r = self.rng
        x = r.random()
        if x < 0.40:
            return "school", self.school(places)
        if x < 0.46:
            return "health", f"Công đoàn cơ sở Trạm Y tế {loc_label}"
        if x < 0.50:
            return "hospital", self.hospital(places, prov)
        if x < 0.80:
            return "company", self.company()
        if x < 0.86:
            return "fdi", self.fdi()
        if x < 0.94:
            return "coop", f"Công đoàn cơ sở Hợp tác xã {r.choice(COOPS)} {r.choice(places)}"
        return "agency", r.choice([
            f"Công đoàn cơ sở Trung tâm Phục vụ hành chính công {loc_label}",
            f"Công đoàn cơ sở Khối Đảng, đoàn thể {loc_label}",
            f"Công đoàn cơ sở Công an {loc_label}",
        ])

    def sector_child(self, spec: str, places: list[str]) -> tuple[str, str]:
        r = self.rng
        if spec == "university":
            if r.random() < 0.35:
                return "university", f"Công đoàn Trường Đại học {r.choice(UNIVERSITIES)}"
            return "university", (f"Công đoàn Trường Cao đẳng {r.choice(COLLEGE_FIELDS)} "
                                  f"{r.choice(places)}")
        if spec == "hospital_central":
            if r.random() < 0.5:
                return "hospital", f"Công đoàn {r.choice(CENTRAL_HOSPITALS)}"
            return "hospital", f"Công đoàn Bệnh viện Đa khoa khu vực {r.choice(places)}"
        if spec == "bank":
            return "bank", f"Công đoàn {r.choice(BANKS)} Chi nhánh {r.choice(places)}"
        if spec == "ministry":
            return "ministry", f"Công đoàn cơ sở {r.choice(MINISTRY_UNITS)} {r.choice(MINISTRIES)}"
        if spec == "police":
            if r.random() < 0.5:
                return "police", f"Công đoàn cơ sở {r.choice(POLICE_UNITS)}"
            return "police", f"Công đoàn cơ sở Công an {r.choice(places)}"
        if spec == "army":
            if r.random() < 0.5:
                return "army", f"Công đoàn Nhà máy Z{r.randint(111, 199)}"
            return "army", (f"Công đoàn Tổng công ty {r.choice(['Xây dựng', 'Thái Sơn', 'Đông Bắc', 'Ba Son', 'Sông Thu', 'Trực thăng'])} "
                            f"– Bộ Quốc phòng")
        if spec == "institute":
            return "institute", f"Công đoàn cơ sở {r.choice(INSTITUTES)}"
        if spec.startswith("company:"):
            return "company", self.company(spec.split(":", 1)[1].split("|"))
        if spec.startswith("factory:"):
            prefix = r.choice(spec.split(":", 1)[1].split("|"))
            return "factory", f"Công đoàn {prefix} {r.choice(places)}"
        raise ValueError(spec)

    # -- the tree
    def build(self) -> Plan:
        s = self.scale
        provinces = _provinces(self.structure)
        localities = _localities(self.structure)
        all_places = [p.short for p in provinces]
        # the 2018 structure has 63 provinces: as many units below them in all
        spread = 34 / len(provinces)
        mean_industry = sum(p.industry for p in provinces) / len(provinces)
        top = self.add(None, "confederation", "TLD", "Tổng Liên đoàn Lao động Việt Nam",
                       home=(1,))
        self.grassroots(top, "office", "Công đoàn Cơ quan Tổng Liên đoàn Lao động Việt Nam",
                        office=True)
        hanoi = None
        for prov in provinces:
            unit = self.add(
                top, "province", f"LDLD-{prov.code:02d}", prov.federation_name,
                province_code=f"{prov.code:02d}", province_name=prov.name, home=prov.home,
                south=prov.code >= 48, industry=prov.industry / mean_industry,
            )
            if prov.code == 1:
                hanoi = unit
            self.grassroots(unit, "office",
                            f"Công đoàn cơ sở Cơ quan {prov.federation_name}", office=True)
            locs = localities.get(prov.code, [])
            want = s.communes if self.structure == "2025" else s.districts
            if prov.code == 1:
                want = s.hanoi_communes if self.structure == "2025" else s.hanoi_districts
            if want is not None and want < len(locs):
                chosen = [locs[0], *self.rng.sample(locs[1:], want - 1)] if want else []
                locs = sorted(chosen, key=lambda loc: loc.code)
            weight = 1.6 if prov.code in (1, 79) else 1.0
            for loc in locs:
                self.locality(unit, prov, loc, weight)
            self.zone(unit, prov, unit.industry * spread)
            places = list(dict.fromkeys(
                _strip_division(loc.name) for loc in localities.get(prov.code, [])
            )) or [prov.short]
            n_local = min(s.local_sectors, len(LOCAL_SECTORS))
            for code, name, agency, kind in LOCAL_SECTORS[:n_local]:
                sector = self.add(unit, "local_sector", f"CDN-{prov.code:02d}-{code}",
                                  f"{name} {prov.label}")
                self.grassroots(sector, "agency", f"Công đoàn cơ sở {agency} {prov.label}",
                                office=True)
                for _ in range(self.count(s.per_local_sector * weight * spread)):
                    k, nm = self.local_child(kind, places, prov)
                    self.grassroots(sector, k, nm)
        for code, name, spec in CENTRAL_SECTORS:
            unit = self.add(top, "central_sector", f"CDN-{code}", name, home=(1,))
            self.grassroots(unit, "office", f"Công đoàn cơ sở Cơ quan {name}", office=True)
            for _ in range(self.count(s.per_central)):
                k, nm = self.sector_child(spec, all_places)
                self.grassroots(unit, k, nm)
        for code, name, spec in CORPORATIONS:
            unit = self.add(top, "corporation", f"CDTCT-{code}", name, home=(1,))
            self.grassroots(unit, "office", f"Công đoàn cơ sở Cơ quan {name}", office=True)
            for _ in range(self.count(s.per_corporation)):
                k, nm = self.sector_child(spec, all_places)
                self.grassroots(unit, k, nm)
        assert hanoi is not None
        self.sizes(hanoi)
        # the demo "coso" account's union: an ordinary one under a Hà Nội commune/district
        ordinary = [
            u for u in self.units
            if u.level == "grassroots" and u.path.startswith(hanoi.path) and not u.is_office
            and not u.big and u.parent is not None and u.parent.level in ("commune", "district")
        ]
        coso = next((u for u in ordinary if u.kind == "school" and 15 <= u.size <= 80),
                    next((u for u in ordinary if u.size >= 10), ordinary[0]))
        people = self.assign_people()
        return Plan(self.scale_name, self.structure, self.seed, self.units, self.first_person,
                    people, hanoi, coso)

    def locality(self, parent: PlanUnit, prov: ProvinceInfo, loc: Locality,
                 weight: float) -> PlanUnit:
        s = self.scale
        if self.structure == "2025":
            label = _lower_first(loc.name)  # "phường Ba Đình"
            unit = self.add(parent, "commune", f"CDX-{loc.code:05d}", f"Công đoàn {label}",
                            valid_from=REFORM_DATE)
            places = [_strip_division(loc.name), *_ward_places(loc)]
            mean = s.per_commune
        else:
            label = _lower_first(loc.name)  # "quận Ba Đình"
            unit = self.add(parent, "district", f"LDLD-{prov.code:02d}-{loc.code:03d}",
                            f"Liên đoàn Lao động {label}")
            places = [_strip_division(loc.name), *loc.places]
            mean = s.per_district
        places = list(dict.fromkeys(places))
        self.grassroots(unit, "ubnd", f"Công đoàn cơ sở Ủy ban nhân dân {label}", office=True)
        for _ in range(self.count(mean * weight, minimum=2) - 1):
            kind, name = self.locality_child(label, places, prov)
            self.grassroots(unit, kind, name)
        return unit

    def zone(self, parent: PlanUnit, prov: ProvinceInfo, weight: float) -> PlanUnit:
        unit = self.add(parent, "industrial_zone", f"CDKCN-{prov.code:02d}",
                        f"Công đoàn các Khu công nghiệp {prov.label}")
        self.grassroots(unit, "agency",
                        f"Công đoàn cơ sở Ban Quản lý các Khu công nghiệp {prov.label}",
                        office=True)
        for _ in range(self.count(self.scale.per_zone * weight)):
            if self.rng.random() < 0.6:
                self.grassroots(unit, "fdi", self.fdi())
            else:
                self.grassroots(unit, "company", self.company())
        return unit

    def sizes(self, hanoi: PlanUnit) -> None:
        """Members of every grassroots union: a skewed distribution, a few very large
        ones, the rest calibrated so that the total is close to the target."""
        s, r = self.scale, self.rng
        gs = [u for u in self.units if u.level == "grassroots"]
        fixed = 0
        for u in gs:
            if u.is_office and u.parent is not None and u.parent.depth <= 1:
                # the staff of the confederation, provincial federations, sectors
                base = s.office * (4 if u.parent.depth == 0 else 1)
                if u.parent.level in ("central_sector", "corporation"):
                    base = max(10, int(base * 0.6))
                u.size = max(staff_needed(u.parent.level) + 2, int(base * r.uniform(0.8, 1.25)))
                fixed += u.size
        # the very large unions: one in Hà Nội's industrial zone, the rest weighted
        eligible = [u for u in gs if u.kind in BIG_WEIGHTS and not u.is_office]
        n_big = max(s.min_big, int(round(s.big_share * len(gs))))
        first = next((u for u in eligible if u.path.startswith(hanoi.path)
                      and u.parent is not None and u.parent.level == "industrial_zone"), None)
        chosen: list[PlanUnit] = [first] if first else []
        keyed = [(r.random() ** (1.0 / (BIG_WEIGHTS[u.kind] * math.sqrt(u.industry))), i)
                 for i, u in enumerate(eligible) if u is not first]
        for _, i in heapq.nlargest(max(0, n_big - len(chosen)), keyed):
            chosen.append(eligible[i])
        alpha = 2.6
        sizes = [min(s.big_cap, int(BIG_UNIT / (1.0 - r.random()) ** (1.0 / alpha)))
                 for _ in chosen]
        # the very large unions hold at most 70% of the members
        while len(chosen) > s.min_big and sum(sizes) > 0.7 * (self.target - fixed):
            chosen.pop()
            sizes.pop()
        for u, size in zip(chosen, sizes, strict=True):
            u.big = True
            u.size = size
            fixed += size
        rest = [u for u in gs if u.size == 0]
        raw = []
        for u in rest:
            median, sigma, _ = KINDS[u.kind]
            raw.append(r.lognormvariate(math.log(median), sigma))
        budget = max(self.target - fixed, MIN_MEMBERS * len(rest))
        factor = budget / (sum(raw) or 1.0)
        for u, x in zip(rest, raw, strict=True):
            low = 12 if u.is_office else MIN_MEMBERS
            u.size = min(BIG_UNIT - 1, max(low, int(round(x * factor))))

    def assign_people(self) -> int:
        pid = self.first_person
        for u in self.units:
            if u.level == "grassroots":
                u.first_person = pid
                pid += u.size
        return pid - self.first_person


def make_plan(scale: str = "small", structure: str = "2025", seed: int = 1,
              start_id: int = 1, first_person: int = 1, members: int | None = None) -> Plan:
    """Plan the demo organisation in memory (no database access)."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}")
    if structure not in ("2025", "2018"):
        raise ValueError(f"unknown structure {structure!r}")
    return _Planner(scale, structure, seed, start_id, first_person, members).build()


# ============================================================================ people


def _weighted_table(weights: list[float], bits: int) -> list[int]:
    """A lookup table of 2**bits indexes, each present in proportion to its weight."""
    size = 1 << bits
    total = sum(weights)
    exact = [w / total * size for w in weights]
    counts = [int(x) for x in exact]
    short = size - sum(counts)
    for i in sorted(range(len(weights)), key=lambda i: counts[i] - exact[i])[:short]:
        counts[i] += 1
    table: list[int] = []
    for i, c in enumerate(counts):
        table.extend([i] * c)
    return table


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace(
        "\r", "\\r")


class NameBook:
    """Weighted picks of names and a cache of the stored name fields per triple."""

    def __init__(self, keep_fields: bool = True) -> None:
        from quantriet.org.services import person_name_fields

        self.person_name_fields = person_name_fields
        self.keep_fields = keep_fields  # the ORM path needs the fields as a dict
        self.families = [f for f, _, _ in FAMILY_NAMES]
        self.fam_north = _weighted_table([n for _, n, _ in FAMILY_NAMES], 12)
        self.fam_south = _weighted_table([s for _, _, s in FAMILY_NAMES], 12)
        self.middles = ([m for m, _ in MIDDLE_MALE], [m for m, _ in MIDDLE_FEMALE])
        self.mid_tables = (_weighted_table([w for _, w in MIDDLE_MALE], 12),
                           _weighted_table([w for _, w in MIDDLE_FEMALE], 12))
        self.givens = ([g for g, _ in GIVEN_MALE], [g for g, _ in GIVEN_FEMALE])
        self.giv_tables = (_weighted_table([w for _, w in GIVEN_MALE], 12),
                           _weighted_table([w for _, w in GIVEN_FEMALE], 12))
        nf = len(self.families)
        self.caches: tuple[list[Any], list[Any]] = (
            [None] * (nf * len(self.middles[0]) * len(self.givens[0])),
            [None] * (nf * len(self.middles[1]) * len(self.givens[1])),
        )

    def entry(self, g: int, fi: int, mi: int, gi: int) -> tuple[str, str, dict[str, str] | None]:
        """(COPY fragment, e-mail local part, name fields) of one triple."""
        fields = self.person_name_fields(
            family_name=self.families[fi], middle_name=self.middles[g][mi],
            given_name=self.givens[g][gi],
        )
        frag = "\t".join(_copy_text(fields[k]) for k in
                         ("family_name", "middle_name", "given_name", "full_name",
                          "search_name", "sort_key"))
        local = fold(fields["given_name"]).replace(" ", "") + "." + fold(
            fields["family_name"]).replace(" ", "")
        return frag, local, fields if self.keep_fields else None


class PeopleMaker:
    """Streams the people of the plan, unit by unit, as compact tuples.

    Each row: (pk, name entry, gender "M"/"F", day index, national ID or None,
    union card or None, e-mail, phone, unit id).
    """

    NID_A = 741_373  # coprime with 10**6: n -> (A*n + B) mod 10**6 is a permutation

    def __init__(self, plan: Plan, keep_fields: bool = True):
        from vietnam_provinces import legacy

        self.plan = plan
        self.book = NameBook(keep_fields)
        self.rng = random.Random(f"quantriet-demo-people/{plan.seed}/{plan.scale}/{plan.structure}")
        start, end = dt.date(1965, 1, 1), dt.date(2004, 12, 31)
        n = (end - start).days + 1
        self.days = [start + dt.timedelta(days=i) for i in range(n)]
        self.day_iso = [d.isoformat() for d in self.days]
        self.day_year = [d.year for d in self.days]
        self.ndays = n
        self.prefixes = sorted(int(p.code) for p in legacy.Province.iter_all())
        self.prefix_index = {c: i for i, c in enumerate(self.prefixes)}
        self.counters: dict[int, int] = defaultdict(int)

    def national_id(self, prefix: int, female: int, year: int) -> str:
        century = 0 if year < 2000 else 2
        bucket = (self.prefix_index[prefix] * 2 + female) * 300 + (year - 1900)
        n = self.counters[bucket]
        self.counters[bucket] = n + 1
        if n >= 1_000_000:
            raise OverflowError("national ID space exhausted")
        b = (bucket * 7_919 + 104_729) % 1_000_000
        suffix = (self.NID_A * n + b) % 1_000_000
        return f"{prefix:03d}{century + female}{year % 100:02d}{suffix:06d}"

    def rows(self, unit: PlanUnit) -> list[tuple[Any, ...]]:
        book = self.book
        getrandbits = self.rng.getrandbits
        pf = int(KINDS[unit.kind][2] * 1024)
        fam_tab = book.fam_south if unit.south else book.fam_north
        mids, givs = book.mid_tables, book.giv_tables
        nm = (len(book.middles[0]), len(book.middles[1]))
        ng = (len(book.givens[0]), len(book.givens[1]))
        caches = book.caches
        entry = book.entry
        home = unit.home
        prefixes = self.prefixes
        nprefix = len(prefixes)
        ndays = self.ndays
        day_year = self.day_year
        national_id = self.national_id
        prov = int(unit.province_code or 0)
        uid = unit.id
        out = []
        for pk in range(unit.first_person, unit.first_person + unit.size):
            r = getrandbits(64)
            g = 1 if (r & 1023) < pf else 0
            fi = fam_tab[(r >> 10) & 4095]
            mi = mids[g][(r >> 22) & 4095]
            gi = givs[g][(r >> 34) & 4095]
            key = (fi * nm[g] + mi) * ng[g] + gi
            e = caches[g][key]
            if e is None:
                e = caches[g][key] = entry(g, fi, mi, gi)
            day = (((r >> 46) & 16383) * ndays) >> 14
            r2 = getrandbits(80)
            if (r2 & 31) != 0:  # 31 in 32 have a national ID on record
                if (r2 >> 5) & 127 < 96:
                    prefix = home[((r2 >> 12) & 255) % len(home)]
                else:
                    prefix = prefixes[((r2 >> 12) & 255) % nprefix]
                nid = national_id(prefix, g, day_year[day])
            else:
                nid = None
            card = (f"{prov:02d}{(pk * 7_919) % 1_000_000_000:09d}"
                    if (r2 >> 20) & 15 < 14 else None)
            email = (f"{e[1]}{(r2 >> 28) & 127}@{EMAIL_DOMAINS[(r2 >> 35) & 7]}"
                     if (r2 >> 38) & 15 < 3 else "")
            phone = (f"{PHONE_PREFIXES[(r2 >> 42) & 31]}{((r2 >> 47) & 0xFFFFFF) % 10_000_000:07d}"
                     if (r2 >> 71) & 15 < 7 else "")
            out.append((pk, e, "F" if g else "M", day, nid, card, email, phone, uid))
        return out


# ============================================================================ positions

USED_POSITION_TYPES = ("chu_tich", "pho_chu_tich", "uv_doan_chu_tich", "uv_ban_thuong_vu",
                       "uv_bch", "chu_nhiem_ubkt", "pho_chu_nhiem_ubkt", "uv_ubkt",
                       "can_bo_chuyen_trach")

TERM_STARTS = {
    "confederation": dt.date(2023, 12, 3),
    "province": dt.date(2023, 8, 15),
    "central_sector": dt.date(2023, 7, 20),
    "corporation": dt.date(2023, 7, 10),
}

# level group -> counts: chair, vice-chairs, presidium, standing committee, executive
# committee members from the units below, UBKT chair, vice, members, full-time cadres
UPPER_COUNTS = {
    "confederation": (1, 4, 10, 0, 999, 1, 2, 8, 60),
    "province": (1, 3, 0, 7, 22, 1, 1, 5, 18),
    "central_sector": (1, 3, 0, 5, 18, 1, 1, 4, 10),
    "corporation": (1, 3, 0, 5, 15, 1, 1, 4, 8),
    "district": (1, 2, 0, 3, 9, 1, 0, 2, 2),
    "commune": (1, 1, 0, 0, 7, 1, 0, 2, 1),
    "industrial_zone": (1, 2, 0, 3, 11, 1, 0, 2, 3),
    "local_sector": (1, 1, 0, 3, 9, 1, 0, 2, 1),
    "upper_grassroots": (1, 1, 0, 3, 9, 1, 0, 2, 1),
}


def staff_needed(level: str) -> int:
    """People of an upper unit's own grassroots union who hold its positions."""
    chair, vice, presidium, standing, _, cn, pcn, ubkt, cadres = UPPER_COUNTS[level]
    return chair + vice + presidium + (standing + 1) // 2 + cn + pcn + ubkt + cadres


def iter_positions(plan: Plan) -> Iterator[tuple[int, int, str, bool, dt.date, int | None]]:
    """(person id, unit id, position type code, full time, start date, managing unit id).

    Units are visited children first (reverse path order) so that an upper unit's
    executive committee can include the chairs of the units below it.
    """
    rng = random.Random(f"quantriet-demo-positions/{plan.seed}/{plan.scale}/{plan.structure}")
    for u in reversed(plan.units):
        if u.level == "grassroots":
            yield from _grassroots_positions(rng, u)
        else:
            yield from _upper_positions(rng, u)


def _grassroots_positions(rng: random.Random, u: PlanUnit) -> Iterator[Any]:
    n = u.size
    if n < 30:
        bch, ubkt = 3, 0
    elif n < 100:
        bch, ubkt = 5, 3
    elif n < 500:
        bch, ubkt = 7, 3
    elif n < BIG_UNIT:
        bch, ubkt = 9, 3
    else:
        bch, ubkt = 15, 5
    picks = rng.sample(range(n), min(n, bch + ubkt))
    start = dt.date(2022, 3, 1) + dt.timedelta(days=rng.randrange(540))
    ids = [u.first_person + i for i in picks]
    u.chair = ids[0]
    yield ids[0], u.id, "chu_tich", n >= BIG_UNIT, start, None
    if n >= 500 and len(ids) > 2:
        yield ids[1], u.id, "pho_chu_tich", n >= BIG_UNIT, start, None
        yield ids[2], u.id, "pho_chu_tich", False, start, None
        rest = ids[3:bch]
    else:
        yield ids[1], u.id, "pho_chu_tich", False, start, None
        rest = ids[2:bch]
    for pid in rest:
        yield pid, u.id, "uv_bch", False, start, None
    if ubkt:
        inspectors = ids[bch:bch + ubkt]
        if inspectors:
            yield inspectors[0], u.id, "chu_nhiem_ubkt", False, start, None
        for pid in inspectors[1:]:
            yield pid, u.id, "uv_ubkt", False, start, None
    if n >= 3 * BIG_UNIT:
        for pid in rng.sample(range(u.first_person, u.first_person + n), 2):
            yield pid, u.id, "can_bo_chuyen_trach", True, start, u.id


def _upper_positions(rng: random.Random, u: PlanUnit) -> Iterator[Any]:
    chair, vice, presidium, standing, bch, cn, pcn, ubkt, cadres = UPPER_COUNTS[u.level]
    office = u.office
    if office is None:
        return
    parent_id = u.parent.id if u.parent else u.id
    start = TERM_STARTS.get(u.level) or dt.date(2023, 1, 1) + dt.timedelta(
        days=rng.randrange(300))
    upper = u.level in TERM_STARTS  # confederation, province, sector, corporation
    wanted = staff_needed(u.level)
    staff = [office.first_person + i for i in rng.sample(range(office.size),
                                                          min(office.size, wanted))]
    it = iter(staff)

    def take(k: int) -> list[int]:
        return [pid for _, pid in zip(range(k), it, strict=False)]

    leaders = [c.chair for c in u.children if not c.is_office and c.chair]
    for pid in take(chair):
        u.chair = pid
        yield pid, u.id, "chu_tich", True, start, parent_id
    for pid in take(vice):
        yield pid, u.id, "pho_chu_tich", upper, start, parent_id
    # the presidium and the standing committee: staff and a few leaders from below
    below = rng.sample(leaders, min(len(leaders), bch))
    for pid in take(presidium):
        yield pid, u.id, "uv_doan_chu_tich", True, start, u.id
    n_standing_staff = (standing + 1) // 2
    for pid in take(n_standing_staff):
        yield pid, u.id, "uv_ban_thuong_vu", upper, start, u.id
    for pid in below[: standing - n_standing_staff]:
        yield pid, u.id, "uv_ban_thuong_vu", False, start, None
    for pid in below[standing - n_standing_staff:]:
        yield pid, u.id, "uv_bch", False, start, None
    for pid in take(cn):
        yield pid, u.id, "chu_nhiem_ubkt", upper or u.level == "district", start, parent_id
    for pid in take(pcn):
        yield pid, u.id, "pho_chu_nhiem_ubkt", upper, start, u.id
    for pid in take(ubkt):
        yield pid, u.id, "uv_ubkt", False, start, None
    for pid in take(cadres):
        since = dt.date(2008, 1, 1) + dt.timedelta(days=rng.randrange(6000))
        yield pid, u.id, "can_bo_chuyen_trach", True, since, u.id if rng.random() < 0.8 else None


# ============================================================================ loading


class Progress:
    def __init__(self, out: TextIO | None, label: str, total: int):
        self.out, self.label, self.total = out, label, max(total, 1)
        self.t0 = time.monotonic()
        self.step = max(1, self.total // 20)
        self.next = self.step
        self.done = 0

    def add(self, n: int) -> None:
        self.done += n
        if self.out is not None and self.done >= self.next:
            while self.next <= self.done:
                self.next += self.step
            pct = 100 * self.done / self.total
            self.out.write(f"  {self.label}: {self.done:,}/{self.total:,} ({pct:.0f}%), "
                           f"{time.monotonic() - self.t0:.0f} s\n")
            self.out.flush()


@dataclass
class Result:
    units: int
    people: int
    positions: int
    accounts: list[tuple[str, str, str]]
    seconds: float
    method: str


class DemoBuilder:
    def __init__(self, *, scale: str = "small", structure: str = "2025", seed: int = 1,
                 members: int | None = None, method: str = "auto",
                 log: TextIO | None = None):
        self.scale, self.structure, self.seed = scale, structure, seed
        self.members = members
        self.vendor = connection.vendor
        if method == "auto":
            method = "copy" if scale == "full" else "orm"
        if method == "copy" and self.vendor != "postgresql":
            raise ValueError("COPY needs PostgreSQL")
        self.method = method
        self.log = log
        self.t0 = time.monotonic()

    def say(self, msg: str) -> None:
        if self.log is not None:
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            self.log.write(f"[{time.monotonic() - self.t0:6.1f} s, {rss} MB] {msg}\n")
            self.log.flush()

    # -------------------------------------------------------------- entry point
    def run(self) -> Result:
        levels = dict(UnitLevel.objects.values_list("code", "id"))
        types = dict(PositionType.objects.values_list("code", "id"))
        used_levels = {"confederation", "province", "central_sector", "corporation",
                       "commune" if self.structure == "2025" else "district",
                       "industrial_zone", "local_sector", "grassroots"}
        missing = (used_levels - set(levels)) | (set(USED_POSITION_TYPES) - set(types))
        if missing:
            raise LookupError(f"reference data missing ({', '.join(sorted(missing))}); "
                              "run migrate first")
        start_id = (Unit.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        first_person = (Person.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        first_position = (Position.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        self.say(f"planning {self.scale} ({self.structure}, seed {self.seed})")
        plan = make_plan(self.scale, self.structure, self.seed, start_id, first_person,
                         self.members)
        self.say(f"plan: {len(plan.units):,} units, {len(plan.grassroots):,} grassroots, "
                 f"{plan.people:,} members")
        with transaction.atomic():
            if self.method == "copy":
                n_pos = self.load_copy(plan, levels, types, first_position)
            else:
                n_pos = self.load_orm(plan, levels, types, first_position)
            accounts = self.accounts(plan)
            self.reset_sequences()
            record("org.demo.load", Unit.objects.get(pk=plan.units[0].id),
                   unit_path=plan.units[0].path, scale=self.scale, structure=self.structure,
                   seed=self.seed, units=len(plan.units), people=plan.people)
        if self.vendor == "postgresql":
            self.say("ANALYZE")
            with connection.cursor() as c:
                c.execute("ANALYZE org_unit, org_person, org_position")
        self.say("done")
        return Result(len(plan.units), plan.people, n_pos, accounts,
                      time.monotonic() - self.t0, self.method)

    # -------------------------------------------------------------- units
    @staticmethod
    def unit_values(u: PlanUnit, levels: dict[str, int]) -> dict[str, Any]:
        return {
            "id": u.id, "code": u.code, "name": u.name,
            "search_name": fold(f"{u.name} {u.code}"), "level_id": levels[u.level],
            "parent_id": u.parent.id if u.parent else None, "path": u.path,
            "depth": u.depth, "province_code": u.province_code,
            "province_name": u.province_name,
            "member_count": u.size if u.level == "grassroots" else None,
            "direct_members": u.size, "valid_from": u.valid_from,
        }

    # -------------------------------------------------------------- ORM path
    def load_orm(self, plan: Plan, levels: dict[str, int], types: dict[str, int],
                 first_position: int) -> int:
        # Every INSERT has exactly ``batch`` rows (but the last): one statement shape,
        # so the driver's statement cache does not fill with huge one-off statements.
        batch = 1000
        self.say(f"units: {len(plan.units):,}")
        for i in range(0, len(plan.units), batch):
            Unit.objects.bulk_create(
                [Unit(**self.unit_values(u, levels)) for u in plan.units[i:i + batch]],
                batch_size=batch,
            )
        self.say(f"people: {plan.people:,}")
        maker = PeopleMaker(plan)
        days = maker.days
        progress = Progress(self.log, "people", plan.people)
        buf: list[Person] = []
        for u in plan.units:
            if u.level != "grassroots":
                continue
            for pk, e, g, day, nid, card, email, phone, uid in maker.rows(u):
                buf.append(Person(
                    id=pk, member_code=f"DV{pk:08d}", gender=g, birth_date=days[day],
                    national_id=nid, union_card=card, email=email, phone=phone, unit_id=uid,
                    **e[2],
                ))
            while len(buf) >= batch:
                Person.objects.bulk_create(buf[:batch], batch_size=batch)
                progress.add(batch)
                del buf[:batch]
        if buf:
            Person.objects.bulk_create(buf)
            progress.add(len(buf))
        self.say("positions")
        pid = first_position
        pbuf: list[Position] = []
        for person, unit, code, full_time, start, managing in iter_positions(plan):
            pbuf.append(Position(id=pid, person_id=person, unit_id=unit, type_id=types[code],
                                 full_time=full_time, start_date=start,
                                 managing_unit_id=managing))
            pid += 1
            if len(pbuf) >= batch:
                Position.objects.bulk_create(pbuf, batch_size=batch)
                pbuf = []
        if pbuf:
            Position.objects.bulk_create(pbuf)
        return pid - first_position

    # -------------------------------------------------------------- COPY path
    PERSON_COLUMNS = ("id", "member_code", "family_name", "middle_name", "given_name",
                      "full_name", "search_name", "sort_key", "gender", "birth_date",
                      "national_id", "union_card", "email", "phone", "unit_id", "user_id",
                      "created_at", "updated_at")
    UNIT_COLUMNS = ("id", "code", "name", "search_name", "level_id", "parent_id", "path",
                    "depth", "province_code", "province_name", "member_count",
                    "direct_members", "valid_from", "valid_to", "successor_id", "created_at",
                    "updated_at")
    POSITION_COLUMNS = ("id", "person_id", "unit_id", "type_id", "full_time", "start_date",
                        "end_date", "managing_unit_id")

    @staticmethod
    def _check_columns(model: Any, columns: tuple[str, ...]) -> None:
        actual = {f.column for f in model._meta.concrete_fields}
        if actual != set(columns):
            raise RuntimeError(f"{model._meta.db_table} columns changed: "
                               f"{sorted(actual ^ set(columns))}; update quantriet.org.demo")

    def load_copy(self, plan: Plan, levels: dict[str, int], types: dict[str, int],
                  first_position: int) -> int:
        self._check_columns(Unit, self.UNIT_COLUMNS)
        self._check_columns(Person, self.PERSON_COLUMNS)
        self._check_columns(Position, self.POSITION_COLUMNS)
        now = timezone.now().isoformat()
        with connection.cursor() as wrapper:
            cur = wrapper.cursor  # the psycopg cursor
            cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
            cur.execute("SET LOCAL synchronous_commit = off")
            replica = self._try(cur, "SET LOCAL session_replication_role = replica")
            if replica:
                self.say("session_replication_role = replica (no FK trigger checks)")
            else:
                # check foreign keys as each COPY ends, so that no deferred trigger event
                # is pending when the indexes and constraints are recreated
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
                self.say("cannot skip FK triggers (not superuser); loading with checks")
            self.say(f"units: {len(plan.units):,} (COPY)")
            with cur.copy(f"COPY org_unit ({', '.join(self.UNIT_COLUMNS)}) FROM STDIN") as cp:
                buf = io.StringIO()
                for u in plan.units:
                    v = self.unit_values(u, levels)
                    buf.write("\t".join((
                        str(u.id), _copy_text(u.code), _copy_text(u.name),
                        _copy_text(v["search_name"]), str(v["level_id"]),
                        str(v["parent_id"]) if v["parent_id"] else "\\N", u.path,
                        str(v["depth"]), u.province_code, _copy_text(u.province_name),
                        str(u.size) if v["member_count"] is not None else "\\N",
                        str(u.size), u.valid_from.isoformat() if u.valid_from else "\\N",
                        "\\N", "\\N", now, now,
                    )) + "\n")
                cp.write(buf.getvalue())
            # COPY ... FREEZE writes the rows already frozen and all-visible (no hint-bit
            # rewrite on first read, index-only scans at once); PostgreSQL allows it only
            # into a table truncated in the same transaction: both tables are empty here.
            cur.execute("SELECT EXISTS (SELECT 1 FROM org_person) OR "
                        "EXISTS (SELECT 1 FROM org_position)")
            freeze = not cur.fetchone()[0] and self._try(
                cur, "TRUNCATE org_position, org_person")
            dropped = self.drop_indexes(cur, ["org_person", "org_position"])
            self.say(f"dropped {len(dropped)} indexes/constraints of org_person, org_position")
            self.copy_people(cur, plan, now, freeze)
            n_pos = self.copy_positions(cur, plan, types, first_position, freeze)
            self.restore_indexes(cur, dropped)
            if replica:
                cur.execute("SET LOCAL session_replication_role = origin")
        return n_pos

    @staticmethod
    def _try(cur: Any, sql: str) -> bool:
        cur.execute("SAVEPOINT demo_try")
        try:
            cur.execute(sql)
        except Exception:  # noqa: BLE001 - permission errors vary
            cur.execute("ROLLBACK TO SAVEPOINT demo_try")
            return False
        cur.execute("RELEASE SAVEPOINT demo_try")
        return True

    def drop_indexes(self, cur: Any, tables: list[str]) -> list[tuple[str, str, str, str]]:
        """Drop the unique constraints and the non-primary-key indexes of ``tables``;
        return what is needed to recreate them: (kind, table, name, definition)."""
        dropped: list[tuple[str, str, str, str]] = []
        for table in tables:
            cur.execute(
                "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "WHERE c.conrelid = %s::regclass AND c.contype IN ('u', 'x') ORDER BY 1",
                [table],
            )
            for name, definition in cur.fetchall():
                if self._try(cur, f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'):
                    dropped.append(("constraint", table, name, definition))
            cur.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "JOIN pg_class ic ON ic.relname = i.indexname "
                "JOIN pg_index x ON x.indexrelid = ic.oid "
                "JOIN pg_namespace n ON n.oid = ic.relnamespace AND n.nspname = i.schemaname "
                "WHERE i.tablename = %s AND i.schemaname = current_schema() "
                "AND NOT x.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ic.oid) "
                "ORDER BY 1",
                [table],
            )
            for name, definition in cur.fetchall():
                if self._try(cur, f'DROP INDEX "{name}"'):
                    dropped.append(("index", table, name, definition))
        return dropped

    def restore_indexes(self, cur: Any, dropped: list[tuple[str, str, str, str]]) -> None:
        for kind, table, name, definition in dropped:
            t = time.monotonic()
            if kind == "index":
                cur.execute(definition)
            else:
                cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            self.say(f"  rebuilt {name} ({time.monotonic() - t:.1f} s)")

    def copy_people(self, cur: Any, plan: Plan, now: str, freeze: bool) -> None:
        self.say(f"people: {plan.people:,} (COPY{' FREEZE' if freeze else ''})")
        maker = PeopleMaker(plan, keep_fields=False)
        iso = maker.day_iso
        progress = Progress(self.log, "people", plan.people)
        tail = f"\t\\N\t{now}\t{now}\n"
        sql = f"COPY org_person ({', '.join(self.PERSON_COLUMNS)}) FROM STDIN"
        if freeze:
            sql += " WITH (FREEZE)"
        with cur.copy(sql) as cp:
            parts: list[str] = []
            pending = 0
            for u in plan.units:
                if u.level != "grassroots":
                    continue
                uid = f"\t{u.id}"
                for pk, e, g, day, nid, card, email, phone, _ in maker.rows(u):
                    parts.append(
                        f"{pk}\tDV{pk:08d}\t{e[0]}\t{g}\t{iso[day]}\t{nid or '\\N'}\t"
                        f"{card or '\\N'}\t{email}\t{phone}{uid}{tail}"
                    )
                pending += u.size
                if pending >= 50_000:
                    cp.write("".join(parts))
                    parts = []
                    progress.add(pending)
                    pending = 0
            if parts:
                cp.write("".join(parts))
            progress.add(pending)

    def copy_positions(self, cur: Any, plan: Plan, types: dict[str, int],
                       first_position: int, freeze: bool) -> int:
        self.say("positions (COPY)")
        pid = first_position
        sql = f"COPY org_position ({', '.join(self.POSITION_COLUMNS)}) FROM STDIN"
        if freeze:
            sql += " WITH (FREEZE)"
        with cur.copy(sql) as cp:
            parts: list[str] = []
            for person, unit, code, full_time, start, managing in iter_positions(plan):
                parts.append(f"{pid}\t{person}\t{unit}\t{types[code]}\t{'t' if full_time else 'f'}"
                             f"\t{start.isoformat()}\t\\N\t{managing or '\\N'}\n")
                pid += 1
                if len(parts) >= 50_000:
                    cp.write("".join(parts))
                    parts = []
            if parts:
                cp.write("".join(parts))
        self.say(f"positions: {pid - first_position:,}")
        return pid - first_position

    # -------------------------------------------------------------- accounts
    def accounts(self, plan: Plan) -> list[tuple[str, str, str]]:
        from quantriet.org import services

        User = get_user_model()
        hashed = make_password(DEMO_PASSWORD)
        hanoi = Unit.objects.get(pk=plan.hanoi.id)
        coso = Unit.objects.get(pk=plan.coso.id)
        specs = [
            ("admin", "Quản trị", "Hệ thống", True, True),
            ("tinh", "Cán bộ", "Liên đoàn Lao động Hà Nội", True, False),
            ("kiemtra", "Ủy ban Kiểm tra", "Hà Nội", False, False),
            ("coso", "Công đoàn cơ sở", "", False, False),
            ("doanvien", "Đoàn viên", "", False, False),
        ]
        users = {}
        for username, first, last, staff, su in specs:
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={"password": hashed, "first_name": first, "last_name": last,
                          "email": f"{username}@demo.quantriet.vn", "is_staff": staff,
                          "is_superuser": su, "is_active": True},
            )
            users[username] = user
        grants = [
            ("tinh", hanoi, "unit_admin"), ("tinh", hanoi, "organiser"),
            ("kiemtra", hanoi, "inspector"), ("coso", coso, "unit_admin"),
        ]
        for username, unit, role in grants:
            services.grant_role(user=users[username], unit=unit, role=role)
        chair_ids = set(Position.objects.filter(unit=coso).values_list("person_id", flat=True))
        member = (Person.objects.filter(unit=coso).exclude(pk__in=chair_ids).order_by("pk")
                  .first() or Person.objects.filter(unit=coso).order_by("pk").first())
        assert member is not None
        Person.objects.filter(user=users["doanvien"]).update(user=None)
        Person.objects.filter(pk=member.pk).update(user=users["doanvien"])
        return [
            ("admin", "superuser", "—"),
            ("tinh", "unit_admin, organiser (staff)", f"{hanoi.code} {hanoi.name}"),
            ("kiemtra", "inspector", f"{hanoi.code} {hanoi.name}"),
            ("coso", "unit_admin", f"{coso.code} {coso.name}"),
            ("doanvien", "member (own record)", f"{member.full_name}, {coso.name}"),
        ]

    @staticmethod
    def reset_sequences() -> None:
        sql = connection.ops.sequence_reset_sql(no_style(), [Unit, Person, Position])
        if sql:
            with connection.cursor() as c:
                for stmt in sql:
                    c.execute(stmt)


# ============================================================================ flush


def org_is_empty() -> bool:
    return not Unit.objects.exists()


def campaign_tables() -> list[str]:
    """Every table of the apps that hang off units and people (campaigns and what
    follows from them), so a flush never leaves rows pointing at deleted units."""
    labels = ("campaigns", "conference", "reports", "similarity", "progress", "plans")
    return [m._meta.db_table for label in labels
            for m in apps.get_app_config(label).get_models(include_auto_created=True)]


def flush(log: Callable[[str], None] | None = None) -> None:
    """Delete campaigns, people, positions, units, grants, unit events and the demo
    accounts."""
    # PostgreSQL: TRUNCATE (instant, no dead rows) where no other table refers to the
    # tables; otherwise, and on SQLite, DELETE (foreign keys then report other data).
    groups = [
        campaign_tables(),
        ["org_position", "org_grant", "org_unitevent", "org_person"],
        ["org_unit"],
    ]
    with transaction.atomic():
        with connection.cursor() as c:
            for tables in groups:
                if connection.vendor == "postgresql":
                    c.execute("SAVEPOINT demo_flush")
                    try:
                        c.execute(f"TRUNCATE {', '.join(tables)}")
                        c.execute("RELEASE SAVEPOINT demo_flush")
                        continue
                    except DatabaseError:
                        c.execute("ROLLBACK TO SAVEPOINT demo_flush")
                for table in tables:
                    c.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
        get_user_model().objects.filter(username__in=DEMO_USERNAMES).delete()
    if log:
        log("flushed the organisation data and the demo accounts")


def print_accounts(out: TextIO, accounts: list[tuple[str, str, str]]) -> None:
    w1 = max(len(a[0]) for a in accounts)
    w2 = max(len(a[1]) for a in accounts)
    out.write(f"\nDemo accounts (password: {DEMO_PASSWORD})\n")
    out.write(f"{'login'.ljust(w1)}  {'role'.ljust(w2)}  unit\n")
    out.write(f"{'-' * w1}  {'-' * w2}  {'-' * 40}\n")
    for login, role, where in accounts:
        out.write(f"{login.ljust(w1)}  {role.ljust(w2)}  {where}\n")


def grants_of(username: str) -> list[tuple[str, str]]:
    return list(Grant.objects.filter(user__username=username)
                .values_list("unit__code", "role").order_by("unit__code", "role"))


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python -m quantriet demo")
