"""Reference data that ships with the product: VGCL unit levels (2018 and 2025) and
position types. Used by a data migration; an organisation can edit them later."""

import datetime as dt

REFORM_DATE = dt.date(2025, 7, 1)

# code, Vietnamese name, English name, rank, accepts members, valid_from, valid_to
LEVELS = [
    ("confederation", "Tổng Liên đoàn Lao động Việt Nam", "Confederation", 0, False, None, None),
    ("province", "Liên đoàn Lao động tỉnh, thành phố", "Provincial federation", 1, False, None, None),
    ("central_sector", "Công đoàn ngành Trung ương", "Central sector union", 1, False, None, None),
    ("corporation", "Công đoàn tổng công ty trực thuộc Tổng Liên đoàn",
     "Corporation union under the Confederation", 1, False, None, None),
    ("district", "Liên đoàn Lao động quận, huyện, thị xã, thành phố thuộc tỉnh",
     "District federation", 2, False, None, REFORM_DATE - dt.timedelta(days=1)),
    ("commune", "Công đoàn xã, phường, đặc khu", "Commune/ward union", 2, False, REFORM_DATE, None),
    ("local_sector", "Công đoàn ngành địa phương", "Local sector union", 2, False, None, None),
    ("industrial_zone", "Công đoàn các khu công nghiệp, khu chế xuất, khu kinh tế",
     "Industrial-zone union", 2, False, None, None),
    ("upper_grassroots", "Công đoàn cấp trên trực tiếp cơ sở khác",
     "Other upper-grassroots union", 2, False, None, None),
    ("grassroots", "Công đoàn cơ sở", "Grassroots union", 3, True, None, None),
    ("department", "Công đoàn bộ phận", "Union department", 4, True, None, None),
    ("group", "Tổ công đoàn", "Union group", 5, True, None, None),
]

# code, Vietnamese name, English name, BCH member, UBKT member
POSITION_TYPES = [
    ("chu_tich", "Chủ tịch", "Chair", True, False),
    ("pho_chu_tich", "Phó Chủ tịch", "Vice-chair", True, False),
    ("uv_doan_chu_tich", "Ủy viên Đoàn Chủ tịch", "Member of the Presidium", True, False),
    ("uv_ban_thuong_vu", "Ủy viên Ban Thường vụ", "Member of the Standing Committee", True, False),
    ("uv_bch", "Ủy viên Ban Chấp hành", "Member of the Executive Committee", True, False),
    ("chu_nhiem_ubkt", "Chủ nhiệm Ủy ban Kiểm tra", "Chair of the Inspection Committee", False, True),
    ("pho_chu_nhiem_ubkt", "Phó Chủ nhiệm Ủy ban Kiểm tra",
     "Vice-chair of the Inspection Committee", False, True),
    ("uv_ubkt", "Ủy viên Ủy ban Kiểm tra", "Member of the Inspection Committee", False, True),
    ("can_bo_chuyen_trach", "Cán bộ công đoàn chuyên trách", "Full-time union cadre", False, False),
    ("to_truong", "Tổ trưởng công đoàn", "Union group leader", False, False),
]


def seed(apps, schema_editor=None):  # noqa: ARG001 - migration signature
    UnitLevel = apps.get_model("org", "UnitLevel")
    PositionType = apps.get_model("org", "PositionType")
    for order, (code, name, name_en, rank, accepts, vfrom, vto) in enumerate(LEVELS):
        UnitLevel.objects.update_or_create(
            code=code,
            defaults=dict(name=name, name_en=name_en, rank=rank, accepts_members=accepts,
                          valid_from=vfrom, valid_to=vto, order=order),
        )
    for order, (code, name, name_en, bch, ubkt) in enumerate(POSITION_TYPES):
        PositionType.objects.update_or_create(
            code=code,
            defaults=dict(name=name, name_en=name_en, executive_committee=bch,
                          inspection_committee=ubkt, order=order),
        )
