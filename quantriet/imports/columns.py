"""Canonical columns of the three roster tables, their template headers and header aliases.

The roster import reads three tables -- ``units``, ``members`` and ``positions`` -- from the
spreadsheets unit administrators keep. Each table has a fixed set of canonical column keys.
A spreadsheet column is attributed to a key by its header text, compared after
:func:`header_key` (accent-folded, lower-cased, every character that is not a letter or a
digit removed), so "Họ và tên", "HỌ VÀ TÊN", "Ho va ten", "Họ  và tên (*)" and "ho_va_ten" are
the same header.

Aliases are per table: "Mã đơn vị" is the unit's own ``code`` in ``units`` but the member's
``unit_code`` in ``members``; "Mã ĐV" is ``code`` in ``units`` (mã đơn vị) and
``member_code`` in ``members`` and ``positions`` (mã đoàn viên, the usual abbreviation in
union rosters).
"""

import re
from dataclasses import dataclass

from quantriet.text import fold

__all__ = [
    "COLUMNS",
    "IGNORED_HEADERS",
    "KINDS",
    "REQUIRED",
    "TABLES",
    "TABLE_TITLES",
    "Column",
    "column",
    "header_key",
    "is_ignored_header",
    "match_header",
    "match_table",
]

TABLES: tuple[str, ...] = ("units", "members", "positions")
"""The table names, in import order (units before the members and positions that cite them)."""

KINDS = ("code", "text", "number", "date", "bool")
"""Value kinds. ``code`` and ``text`` columns always read as str (a number cell 1.0 gives
"1"); ``number`` columns read integer-valued numbers and digit-only text as int; ``date``
columns keep dates, and keep plain numbers (Excel serial dates) for the validator; ``bool``
columns keep booleans."""


@dataclass(frozen=True, slots=True)
class Column:
    """One canonical column of a table."""

    key: str
    header: str
    """The Vietnamese header of the import template."""
    header_en: str
    """The English label (UI in English, English templates)."""
    kind: str
    aliases: tuple[str, ...] = ()
    """Extra header texts accepted for this column (the key, `header` and `header_en` are
    always accepted)."""


def _c(key: str, header: str, header_en: str, kind: str, *aliases: str) -> Column:
    return Column(key, header, header_en, kind, aliases)


_UNIT_CODE_ALIASES = (
    "Mã đơn vị",
    "Mã công đoàn cơ sở",
    "Mã CĐCS",
    "CĐCS",
    "Công đoàn cơ sở",
    "Đơn vị",
    "Mã công đoàn",
    "Mã CĐ",
    "Công đoàn",
    "Mã đơn vị sinh hoạt",
    "Đơn vị sinh hoạt",
    "Mã đơn vị công tác",
    "Đơn vị công tác",
    "Mã tổ chức",
    "Thuộc đơn vị",
    "Thuộc công đoàn",
    "Unit",
    "Unit ID",
    "Union",
)

_MEMBER_CODE_ALIASES = (
    "Mã đoàn viên",
    "Mã ĐV",
    "Mã số đoàn viên",
    "Mã số ĐV",
    "MSĐV",
    "Mã ĐVCĐ",
    "Mã đoàn viên công đoàn",
    "Member",
    "Member ID",
    "Member no",
    "Member number",
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "units": (
        _c(
            "code",
            "Mã đơn vị",
            "Unit code",
            "code",
            "Mã",
            "Mã ĐV",
            "Mã số đơn vị",
            "Mã số",
            "Mã công đoàn",
            "Mã CĐ",
            "Mã CĐCS",
            "Mã công đoàn cơ sở",
            "Mã tổ chức",
            "Mã tổ chức công đoàn",
            "Unit code",
            "Unit ID",
            "ID",
        ),
        _c(
            "name",
            "Tên đơn vị",
            "Unit name",
            "text",
            "Tên",
            "Đơn vị",
            "Tên công đoàn",
            "Tên CĐCS",
            "Tên công đoàn cơ sở",
            "Tên tổ chức",
            "Tên tổ chức công đoàn",
            "Tên ĐV",
            "Unit",
            "Name",
        ),
        _c(
            "parent_code",
            "Mã đơn vị cấp trên",
            "Parent unit code",
            "code",
            "Mã cấp trên",
            "Cấp trên",
            "Đơn vị cấp trên",
            "Mã ĐV cấp trên",
            "Mã CĐ cấp trên",
            "Mã công đoàn cấp trên",
            "Công đoàn cấp trên",
            "Mã đơn vị cha",
            "Trực thuộc",
            "Mã đơn vị trực thuộc",
            "Đơn vị trực thuộc",
            "Thuộc",
            "Parent",
            "Parent code",
            "Parent unit",
        ),
        _c(
            "level",
            "Cấp",
            "Level",
            "code",
            "Cấp đơn vị",
            "Cấp công đoàn",
            "Cấp tổ chức",
            "Cấp CĐ",
            "Mã cấp",
            "Tier",
        ),
        _c(
            "province",
            "Tỉnh/thành phố",
            "Province",
            "code",
            "Tỉnh",
            "Tỉnh/TP",
            "Tỉnh thành",
            "Tỉnh, thành phố",
            "Thành phố",
            "Mã tỉnh",
            "Địa bàn",
            "Province code",
            "City",
        ),
        _c(
            "member_count",
            "Số đoàn viên",
            "Member count",
            "number",
            "Số lượng đoàn viên",
            "SL đoàn viên",
            "Tổng số đoàn viên",
            "Số ĐV",
            "SL ĐV",
            "Số lượng",
            "Đoàn viên",
            "Members",
            "Number of members",
        ),
        _c(
            "valid_from",
            "Ngày hiệu lực",
            "Valid from",
            "date",
            "Hiệu lực từ",
            "Có hiệu lực từ",
            "Hiệu lực từ ngày",
            "Có hiệu lực từ ngày",
            "Ngày có hiệu lực",
            "Ngày thành lập",
            "Ngày áp dụng",
            "Effective date",
            "Effective from",
        ),
        _c(
            "merged_into",
            "Sáp nhập vào",
            "Merged into",
            "code",
            "Sáp nhập",
            "Sáp nhập vào đơn vị",
            "Mã đơn vị sáp nhập vào",
            "Hợp nhất vào",
            "Hợp nhất",
            "Merged to",
        ),
        _c(
            "moved_to",
            "Chuyển về",
            "Moved to",
            "code",
            "Chuyển về đơn vị",
            "Mã đơn vị chuyển về",
            "Chuyển đến",
            "Chuyển sang",
            "Transferred to",
        ),
        _c(
            "dissolved_on",
            "Ngày giải thể",
            "Dissolved on",
            "date",
            "Giải thể",
            "Giải thể ngày",
            "Ngày giải thể đơn vị",
            "Dissolution date",
            "Dissolved",
        ),
    ),
    "members": (
        _c(
            "member_code",
            "Mã đoàn viên",
            "Member code",
            "code",
            *_MEMBER_CODE_ALIASES,
            "Mã",
            "Mã số",
            "Code",
            "ID",
        ),
        _c(
            "full_name",
            "Họ và tên",
            "Full name",
            "text",
            "Họ tên",
            "Họ và tên đoàn viên",
            "Họ tên đoàn viên",
            "Tên đoàn viên",
            "Họ và tên ĐV",
            "Họ tên ĐV",
            "Tên",
            "Name",
        ),
        _c(
            "gender",
            "Giới tính",
            "Gender",
            "text",
            "Giới",
            "Nam/Nữ",
            "Nam, nữ",
            "Phái",
            "Sex",
        ),
        _c(
            "birth_date",
            "Ngày sinh",
            "Birth date",
            "date",
            "Ngày/tháng/năm sinh",
            "Ngày tháng năm sinh",
            "Ngày, tháng, năm sinh",
            "Sinh ngày",
            "Năm sinh",
            "NTNS",
            "Date of birth",
            "Birthdate",
            "Birthday",
            "DOB",
        ),
        _c(
            "national_id",
            "Số CCCD",
            "National ID",
            "code",
            "CCCD",
            "CCCD/CMND",
            "CMND/CCCD",
            "Số CCCD/CMND",
            "Số CMND/CCCD",
            "CMND",
            "Số CMND",
            "Căn cước",
            "Căn cước công dân",
            "Số căn cước",
            "Số căn cước công dân",
            "Số thẻ căn cước",
            "Số định danh",
            "Số định danh cá nhân",
            "Mã định danh",
            "Mã định danh cá nhân",
            "Citizen ID",
            "ID number",
            "National ID number",
        ),
        _c(
            "union_card",
            "Số thẻ đoàn viên",
            "Union card number",
            "code",
            "Số thẻ",
            "Số thẻ ĐV",
            "Số thẻ ĐVCĐ",
            "Thẻ đoàn viên",
            "Mã thẻ",
            "Mã thẻ đoàn viên",
            "Số thẻ đoàn viên công đoàn",
            "Union card",
            "Card number",
        ),
        _c(
            "email",
            "Email",
            "Email",
            "text",
            "E-mail",
            "Mail",
            "Thư điện tử",
            "Địa chỉ email",
            "Địa chỉ thư điện tử",
            "Email address",
        ),
        _c(
            "phone",
            "Số điện thoại",
            "Phone",
            "code",
            "SĐT",
            "Số ĐT",
            "ĐT",
            "Điện thoại",
            "Điện thoại di động",
            "ĐTDĐ",
            "Di động",
            "Số di động",
            "Phone number",
            "Mobile",
            "Mobile phone",
            "Tel",
            "Telephone",
        ),
        _c("unit_code", "Mã công đoàn cơ sở", "Unit code", "code", *_UNIT_CODE_ALIASES),
    ),
    "positions": (
        _c(
            "member_code",
            "Mã đoàn viên",
            "Member code",
            "code",
            *_MEMBER_CODE_ALIASES,
        ),
        _c(
            "unit_code",
            "Mã công đoàn cơ sở",
            "Unit code",
            "code",
            *_UNIT_CODE_ALIASES,
            "Mã đơn vị giữ chức vụ",
            "Đơn vị giữ chức vụ",
        ),
        _c(
            "position",
            "Chức vụ",
            "Position",
            "text",
            "Chức danh",
            "Chức vụ công đoàn",
            "Chức vụ CĐ",
            "Chức danh công đoàn",
            "Chức vụ đảm nhiệm",
            "Title",
            "Role",
        ),
        _c(
            "full_time",
            "Chuyên trách",
            "Full-time",
            "bool",
            "Cán bộ chuyên trách",
            "Chuyên trách/Kiêm nhiệm",
            "Chuyên trách/bán chuyên trách",
            "CT/KN",
            "Full time",
        ),
        _c(
            "start_date",
            "Từ ngày",
            "Start date",
            "date",
            "Ngày bắt đầu",
            "Bắt đầu",
            "Từ",
            "Ngày bổ nhiệm",
            "Ngày nhận chức",
            "Ngày giữ chức vụ",
            "Ngày bầu",
            "Start",
            "From",
        ),
        _c(
            "end_date",
            "Đến ngày",
            "End date",
            "date",
            "Ngày kết thúc",
            "Kết thúc",
            "Đến",
            "Ngày thôi giữ chức vụ",
            "Ngày thôi chức vụ",
            "Ngày miễn nhiệm",
            "End",
            "To",
            "Until",
        ),
        _c(
            "managing_unit_code",
            "Mã đơn vị quản lý cán bộ",
            "Managing unit code",
            "code",
            "Đơn vị quản lý cán bộ",
            "Mã đơn vị quản lý",
            "Đơn vị quản lý",
            "Mã ĐV quản lý cán bộ",
            "Mã ĐV quản lý",
            "Cấp quản lý cán bộ",
            "Managing unit",
        ),
    ),
}
"""The canonical columns of each table, in template order."""

TABLE_TITLES: dict[str, tuple[str, str]] = {
    "units": ("Đơn vị", "Units"),
    "members": ("Đoàn viên", "Members"),
    "positions": ("Chức vụ", "Positions"),
}
"""(Vietnamese, English) sheet title of each table in the import template."""

REQUIRED: dict[str, tuple[str, ...]] = {
    "units": ("code", "name", "level", "parent_code"),
    "members": ("member_code", "full_name", "unit_code"),
    "positions": ("member_code", "unit_code", "position"),
}
"""Columns a table must have. For ``units`` the ``parent_code`` column is required but its
value may be empty on the top unit (checked by the validator, not here)."""

IGNORED_HEADERS: frozenset[str] = frozenset(
    {
        "stt",
        "tt",
        "sott",
        "sothutu",
        "thutu",
        "no",
        "nr",
        "ghichu",
        "note",
        "notes",
        "remark",
        "remarks",
    }
)
"""Header keys of columns that are expected in real rosters but carry nothing to import
(row numbers, notes); such columns are reported in ``Table.ignored``, not as unmapped."""

_TABLE_ALIASES: dict[str, tuple[str, ...]] = {
    "units": (
        "units",
        "unit",
        "don_vi",
        "Đơn vị",
        "Danh sách đơn vị",
        "DS đơn vị",
        "Đơn vị công đoàn",
        "Tổ chức",
        "Cơ cấu tổ chức",
        "Tổ chức công đoàn",
        "Công đoàn cơ sở",
        "Organisation",
        "Organization",
    ),
    "members": (
        "members",
        "member",
        "doan_vien",
        "Đoàn viên",
        "Danh sách đoàn viên",
        "DS đoàn viên",
        "Đoàn viên công đoàn",
        "ĐVCĐ",
        "ĐV",
        "Hội viên",
    ),
    "positions": (
        "positions",
        "position",
        "chuc_vu",
        "Chức vụ",
        "Danh sách chức vụ",
        "DS chức vụ",
        "Chức danh",
        "Cán bộ",
        "Cán bộ công đoàn",
        "Danh sách cán bộ",
        "Roles",
        "Officers",
    ),
}

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}")
_FILE_EXTENSIONS = re.compile(r"\.(csv|tsv|txt|xlsx|xlsm|xlsb|xls|ods|zip)$", re.IGNORECASE)
_TABLE_NAME_PREFIXES = ("danhsach", "ds", "bang", "mau", "sheet", "list", "table", "template")


def header_key(text: str) -> str:
    """The comparison key of a header text: folded, only ASCII letters and digits kept.

    "Họ và tên (*)" -> "hovaten"; "Ngày/tháng/năm sinh" -> "ngaythangnamsinh".
    """
    return _NOT_ALNUM.sub("", fold(text))


def _build_aliases() -> tuple[dict[str, dict[str, str]], dict[str, str | None]]:
    per_table: dict[str, dict[str, str]] = {}
    anywhere: dict[str, str | None] = {}
    for table, columns in COLUMNS.items():
        aliases: dict[str, str] = {}
        for col in columns:
            for text in (col.key, col.header, col.header_en, *col.aliases):
                key = header_key(text)
                if not key:
                    raise ValueError(f"empty alias {text!r} for {table}.{col.key}")
                if aliases.get(key, col.key) != col.key:
                    raise ValueError(
                        f"alias {text!r} of {table}.{col.key} already means {aliases[key]}"
                    )
                aliases[key] = col.key
        per_table[table] = aliases
        for key, canonical in aliases.items():
            if anywhere.get(key, canonical) != canonical:
                anywhere[key] = None  # the same header means different keys in two tables
            else:
                anywhere[key] = canonical
    return per_table, anywhere


_ALIASES, _ALIASES_ANYWHERE = _build_aliases()
_COLUMN_BY_KEY: dict[str, dict[str, Column]] = {
    table: {col.key: col for col in columns} for table, columns in COLUMNS.items()
}


def _candidates(text: str) -> list[str]:
    """Keys of `text` to try, most literal first: as is, without bracketed notes
    ("Ngày sinh (dd/mm/yyyy)"), and without what follows a colon ("Giới tính: Nam/Nữ")."""
    folded = fold(text)
    keys = [_NOT_ALNUM.sub("", folded)]
    unbracketed = _BRACKETED.sub(" ", folded)
    if unbracketed != folded:
        keys.append(_NOT_ALNUM.sub("", unbracketed))
    if ":" in unbracketed:
        keys.append(_NOT_ALNUM.sub("", unbracketed.split(":", 1)[0]))
    return [key for key in keys if key]


def match_header(text: str, table: str | None = None) -> str | None:
    """The canonical key of the header `text` in `table`, or None.

    With `table` None, the key is returned only when the header means the same key in every
    table that knows it ("Họ và tên" -> "full_name", but "Mã đơn vị" -> None since it is
    ``code`` in units and ``unit_code`` elsewhere).
    """
    if not isinstance(text, str):
        return None
    aliases = _ALIASES[table] if table is not None else _ALIASES_ANYWHERE
    for key in _candidates(text):
        if key in aliases:
            return aliases[key]
    return None


def is_ignored_header(text: str) -> bool:
    """Tell whether `text` is a row-number or notes header ("STT", "Ghi chú")."""
    return any(key in IGNORED_HEADERS for key in _candidates(text))


def column(table: str, key: str) -> Column:
    """The :class:`Column` of `key` in `table` (KeyError if unknown)."""
    return _COLUMN_BY_KEY[table][key]


def _table_name_keys(name: str) -> list[str]:
    text = _FILE_EXTENSIONS.sub("", name.strip())
    words = _NOT_ALNUM.sub(" ", fold(text)).split()
    keys = ["".join(words)]
    # Drop version/sequence numbers around the name: "01_don_vi", "doan_vien_2026", "(1)".
    while words and words[0].isdigit():
        words = words[1:]
    while words and words[-1].isdigit():
        words = words[:-1]
    keys.append("".join(words))
    joined = "".join(words)
    for prefix in _TABLE_NAME_PREFIXES:
        if joined.startswith(prefix) and len(joined) > len(prefix):
            keys.append(joined[len(prefix) :])
    return [key for key in keys if key]


_TABLE_KEYS: dict[str, str] = {
    header_key(alias): table for table, aliases in _TABLE_ALIASES.items() for alias in aliases
}


def match_table(name: str) -> str | None:
    """The table a sheet or file name designates, or None.

    Accepts the English names, snake-case ASCII ("don_vi", "doan_vien", "chuc_vu") and the
    Vietnamese titles in any case or accenting, with a file extension, numbering or a
    "Danh sách"/"DS" prefix: "units.csv", "02_doan_vien.csv", "DANH SÁCH ĐOÀN VIÊN",
    "Chức vụ (1)" all match.
    """
    if not isinstance(name, str):
        return None
    for key in _table_name_keys(name):
        if key in _TABLE_KEYS:
            return _TABLE_KEYS[key]
    return None
