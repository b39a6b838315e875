"""Tests for format_date, formal_date and parse_date."""

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantriet.text import formal_date, format_date, parse_date


def test_format_date() -> None:
    assert format_date(date(2026, 2, 1)) == "01/02/2026"
    assert format_date(date(2026, 12, 31)) == "31/12/2026"
    assert format_date(datetime(2026, 2, 1, 13, 45)) == "01/02/2026"
    assert format_date(None) == ""


def test_formal_date() -> None:
    assert formal_date(date(2026, 2, 1)) == "ngày 01 tháng 02 năm 2026"
    assert formal_date(date(2026, 2, 1), "Hà Nội") == "Hà Nội, ngày 01 tháng 02 năm 2026"
    assert formal_date(date(2026, 11, 20), "  TP. Hồ Chí Minh ") == (
        "TP. Hồ Chí Minh, ngày 20 tháng 11 năm 2026"
    )


@pytest.mark.parametrize(
    "text",
    ["01/02/2026", "1/2/2026", "01-02-2026", "1-2-2026", "2026-02-01", " 01/02/2026 "],
)
def test_parse_date_formats(text: str) -> None:
    assert parse_date(text) == date(2026, 2, 1)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026",
        "01.02.2026",
        "01/02-2026",
        "01/02/26",
        "2026/02/01",
        "46054",
        "1/2/2026 10:00",
        "ngày 01 tháng 02 năm 2026",
        "٠١/٠٢/٢٠٢٦",
    ],
)
def test_parse_date_rejects_other_formats(text: str) -> None:
    with pytest.raises(ValueError, match="expected dd/mm/yyyy"):
        parse_date(text)


@pytest.mark.parametrize("text", ["31/02/2026", "00/01/2026", "2026-13-01", "29/02/2025"])
def test_parse_date_rejects_impossible_dates(text: str) -> None:
    with pytest.raises(ValueError, match="Invalid date"):
        parse_date(text)


def test_parse_date_leap_day() -> None:
    assert parse_date("29/02/2024") == date(2024, 2, 29)


@settings(max_examples=100, deadline=None, database=None)
@given(st.dates(min_value=date(1000, 1, 1)))
def test_round_trip(d: date) -> None:
    assert parse_date(format_date(d)) == d
    assert parse_date(d.isoformat()) == d
