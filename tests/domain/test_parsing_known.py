"""Dates typed as month and day, and trip kinds, at their edges (known answers): the window in
which "12月25日" is a future date rather than last year's, and 2月29日 looking back to the
latest leap year."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.invalid import Invalid
from bot.domain.parsing import (
    FUTURE_WINDOW_DAYS,
    parse_address,
    parse_date,
    parse_phone,
    parse_trip_number,
)

TODAY = date(2020, 10, 26)
YEARS = 3 * 366  # accept old dates: these tests are about which year is meant


def test_the_future_window_is_sixty_days() -> None:
    assert FUTURE_WINDOW_DAYS == 60


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10月27日", Invalid("date_future")),  # tomorrow
        ("12月25日", Invalid("date_future")),  # 60 days ahead: still this year's, in the future
        ("12月26日", date(2019, 12, 26)),  # 61 days ahead: last year's
        ("10月26日", TODAY),
        ("10月25日", date(2020, 10, 25)),
    ],
)
def test_month_and_day_near_the_future_window(text: str, expected: date | Invalid) -> None:
    assert parse_date(text, TODAY, max_back_days=YEARS) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2021, 3, 1), date(2020, 2, 29)),  # this year has none: the year before
        (date(2024, 3, 1), date(2024, 2, 29)),
        (date(2024, 2, 28), Invalid("date_future")),  # tomorrow, not four years ago
        (date(2023, 12, 1), date(2020, 2, 29)),  # three years back
        # 2100 is no leap year: 2096 is five years before 2101, beyond the look-back
        (date(2101, 3, 1), Invalid("date_invalid")),
        (date(2100, 3, 1), date(2096, 2, 29)),
    ],
)
def test_leap_day_looks_back_to_the_latest_leap_year(today: date, expected: date | Invalid) -> None:
    assert parse_date("2月29日", today, max_back_days=10 * 366) == expected


def test_unknown_trip_kind_is_a_programming_error_named_in_the_message() -> None:
    with pytest.raises(ValueError, match=r"^unknown trip kind 'bus'$"):
        parse_trip_number("bus", "G1234")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", Invalid("phone_format")),  # fewer than five digits
        ("12 34", Invalid("phone_format")),  # spaces are not digits
        ("1-2-3-4", Invalid("phone_format")),
        ("12345", Invalid("phone_not_mobile")),  # five digits: a number, but no mobile
        ("+0 12345", Invalid("phone_format")),  # no such country code: not a number at all
        ("+999 12345678", Invalid("phone_format")),
        ("+86 (138) 1234-5678", "13812345678"),
    ],
)
def test_phone_numbers_known_answers(text: str, expected: str | Invalid) -> None:
    assert parse_phone(text) == expected


def test_an_address_of_two_characters_is_enough() -> None:
    assert parse_address("5号") == "5号"
    assert parse_address("5") == Invalid("address_short")
