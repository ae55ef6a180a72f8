"""When a case was discovered (issue 10): the case flow asks it, the 2-hour direct report runs
from it. Known answers for the parser and the buttons, and properties over any typed text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import cases
from bot.domain.invalid import Invalid

CST = timezone(timedelta(hours=8))
NOW = datetime(2020, 12, 5, 15, 0, tzinfo=CST)
CTX = cases.Context(villages={"xf": ("XF01",)}, now=NOW)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2020, month, day, hour, minute, tzinfo=CST)


KNOWN = [
    ("14:30", at(12, 5, 14, 30)),
    ("14：30", at(12, 5, 14, 30)),  # full-width colon
    (" 9:05 ", at(12, 5, 9, 5)),
    ("15:00", at(12, 5, 15, 0)),  # now itself
    ("15:01", at(12, 4, 15, 1)),  # a time still ahead today: yesterday's
    ("23:50", at(12, 4, 23, 50)),
    ("0:00", at(12, 5, 0, 0)),
    ("14点", at(12, 5, 14, 0)),
    ("14点30分", at(12, 5, 14, 30)),
    ("14点30", at(12, 5, 14, 30)),
    ("14点半", at(12, 5, 14, 30)),
    ("12-05 14:30", at(12, 5, 14, 30)),
    ("12-5 9:00", at(12, 5, 9, 0)),
    ("12/04 23:10", at(12, 4, 23, 10)),
    ("12月4日 8点", at(12, 4, 8, 0)),
    ("昨天 14:30", at(12, 4, 14, 30)),
    ("前天14:30", at(12, 3, 14, 30)),
    ("2020-11-28 15:00", at(11, 28, 15, 0)),  # exactly 7 days
    ("今天 15:00", at(12, 5, 15, 0)),
    # refused, each with its reason
    ("今天 15:01", Invalid("case_discovered_future")),
    ("12-05 16:00", Invalid("case_discovered_future")),
    ("12-06 9:00", Invalid("case_discovered_future")),
    ("2020-11-28 14:59", Invalid("case_discovered_old", {"days": 7})),
    ("11-20 10:00", Invalid("case_discovered_old", {"days": 7})),
    ("2020-12-06 9:00", Invalid("case_discovered_future", {})),
    ("24:00", Invalid("case_discovered_format")),
    ("14:60", Invalid("case_discovered_format")),
    ("14点60分", Invalid("case_discovered_format")),
    ("14:3", Invalid("case_discovered_format")),
    ("下午两点", Invalid("case_discovered_format")),
    ("刚才", Invalid("case_discovered_format")),
    ("", Invalid("case_discovered_format")),
    ("13-40 10:00", Invalid("case_discovered_format")),
    ("x" * 200, Invalid("case_discovered_format")),
]


@pytest.mark.parametrize(("text", "expected"), KNOWN)
def test_typed_discovery_times(text: str, expected: object) -> None:
    got = cases.parse_discovered(text, NOW)
    assert got == expected


def test_check_discovered_edges() -> None:
    assert cases.check_discovered(NOW, NOW) == NOW
    week = NOW - timedelta(days=7)
    assert cases.check_discovered(week, NOW) == week
    assert cases.check_discovered(week - timedelta(seconds=1), NOW) == Invalid(
        "case_discovered_old", {"days": 7}
    )
    assert cases.check_discovered(NOW + timedelta(seconds=1), NOW) == Invalid(
        "case_discovered_future"
    )


@pytest.mark.parametrize(("value", "ago"), [("now", 0), ("1h", 60)])
def test_the_buttons_are_relative_to_now(value: str, ago: int) -> None:
    step = cases.STEPS["discovered"]
    got = cases.apply_choice(step, value, {}, CTX)
    expected = (NOW - timedelta(minutes=ago)).astimezone(UTC).isoformat()
    assert got == {"discovered_at": expected}
    assert cases.apply_choice(step, "2h", {}, CTX) == Invalid("choice_stale")


def test_a_typed_time_is_stored_in_utc() -> None:
    got = cases.STEPS["discovered"].text("14:30", {}, CTX)
    assert got == {"discovered_at": "2020-12-05T06:30:00+00:00"}
    assert cases.STEPS["discovered"].text("明天", {}, CTX) == Invalid("case_discovered_format")


def test_the_deadline_runs_from_the_discovery() -> None:
    found = at(12, 5, 13, 10)
    assert cases.deadline(found) == at(12, 5, 15, 10)


# --- properties ----------------------------------------------------------------------

nows = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 31),
                    timezones=st.just(CST))  # fmt: skip


@given(st.text(max_size=60), nows)
def test_any_text_gives_a_time_in_the_window_or_a_reason(text: str, now: datetime) -> None:
    got = cases.parse_discovered(text, now)
    if isinstance(got, Invalid):
        assert got.code.startswith("case_discovered_")
    else:
        assert now - timedelta(days=cases.DISCOVERED_MAX_DAYS) <= got <= now
        assert got.second == got.microsecond == 0


@given(st.integers(0, 23), st.integers(0, 59), nows)
def test_a_bare_time_is_the_latest_such_time(hour: int, minute: int, now: datetime) -> None:
    got = cases.parse_discovered(f"{hour}:{minute:02d}", now)
    assert isinstance(got, datetime)
    assert (got.hour, got.minute) == (hour, minute)
    assert timedelta(0) <= now - got < timedelta(days=1)


@given(st.integers(0, 7 * 24 * 60 - 1), nows)
def test_a_day_and_time_round_trips(minutes_ago: int, now: datetime) -> None:
    when = (now - timedelta(minutes=minutes_ago)).replace(second=0, microsecond=0)
    text = f"{when.year}-{when.month:02d}-{when.day:02d} {when.hour:02d}:{when.minute:02d}"
    assert cases.parse_discovered(text, now) == when
