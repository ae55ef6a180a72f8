"""The registers' range on a local-date field (an arrival date, a monitoring period): a day
is in ``[start, end)`` when any instant of it, in the town's time, is — checked against that
definition for any range and day (storage/registers.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from storage.registers import _Scope, _where
from tests.conftest import SHANGHAI

MOMENTS = st.datetimes(
    min_value=datetime(2020, 10, 1), max_value=datetime(2020, 12, 1), timezones=st.just(UTC)
)
DAYS = st.dates(min_value=date(2020, 9, 28), max_value=date(2020, 12, 3))


def touches(day: date, start: datetime | None, end: datetime | None) -> bool:
    first = datetime.combine(day, time(), SHANGHAI)
    after = first + timedelta(days=1)
    return (start is None or after > start) and (end is None or first < end)


def selected(day: date, start: datetime | None, end: datetime | None) -> bool:
    where, params = _where(_Scope(start, end, None, SHANGHAI, {}).days("d"))
    sql = f"SELECT count(*) FROM (SELECT ? AS d){where}"
    return sqlite3.connect(":memory:").execute(sql, [day.isoformat(), *params]).fetchone()[0] == 1


@given(DAYS, st.none() | MOMENTS, st.none() | MOMENTS)
def test_a_day_is_in_the_range_when_the_range_touches_it(
    day: date, start: datetime | None, end: datetime | None
) -> None:
    if start is not None and end is not None and end <= start:
        return  # an empty range: the callers never ask for one
    assert selected(day, start, end) == touches(day, start, end)


def test_known_edges() -> None:
    midnight = datetime(2020, 10, 26, tzinfo=SHANGHAI)  # 25 Oct 16:00 UTC
    assert selected(date(2020, 10, 26), midnight, None)
    assert not selected(date(2020, 10, 25), midnight, None)
    assert selected(date(2020, 10, 25), None, midnight)
    assert not selected(date(2020, 10, 26), None, midnight)  # the end is not in the range
    assert selected(date(2020, 10, 26), None, midnight + timedelta(microseconds=1))
