"""Who is due for the purge of personal data (known answers, Chongqing time, 30 days)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.retention import (
    Held,
    closed_due,
    due,
    measure_cutoff,
    released_at,
    tipster_forgotten,
)
from tests.conftest import SHANGHAI

END = date(2020, 10, 31)  # the measure's last day; it ends at 1 Nov 00:00 Shanghai
MIDNIGHT = datetime(2020, 10, 31, 16, 0, tzinfo=UTC)  # = 1 Nov 00:00 Shanghai
LATE = datetime(2020, 11, 3, 2, 0, tzinfo=UTC)  # a monitoring released late
WITHDRAWN = datetime(2020, 10, 27, 2, 0, tzinfo=UTC)


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2020, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        (Held(None, END), MIDNIGHT),  # not monitored: the measure's end
        (Held(None, END, (MIDNIGHT, MIDNIGHT)), MIDNIGHT),
        (Held(None, END, (utc(10, 28), MIDNIGHT)), MIDNIGHT),  # one stopped early
        (Held(None, END, (LATE, MIDNIGHT)), LATE),  # the latest end counts
        (Held(None, END, (utc(10, 28),)), MIDNIGHT),  # stopped early: the measure still ran
        (Held(None, END, (MIDNIGHT, None)), None),  # a companion still monitored
        (Held(None, END, (None,)), None),
        (Held(None, END, open_case=True), None),
        (Held(None, END, pending_certificate=True), None),
        (Held(WITHDRAWN, END), WITHDRAWN),  # withdrawn: from then, before the measure's end
        (Held(WITHDRAWN, END, (WITHDRAWN,)), WITHDRAWN),
        (Held(WITHDRAWN, END, open_case=True), None),
        (Held(WITHDRAWN, END, pending_certificate=True), None),
        (Held(WITHDRAWN, END, (None,)), None),
    ],
)  # fmt: skip
def test_released_at(held: Held, expected: datetime | None) -> None:
    assert released_at(held, SHANGHAI) == expected


@pytest.mark.parametrize(
    ("held", "now", "days", "expected"),
    [
        (Held(None, END), utc(11, 30, 15, 59), 30, False),  # 29 days 23:59 after
        (Held(None, END), utc(11, 30, 16, 0), 30, True),  # exactly 30 days
        (Held(None, END), utc(11, 29), 30, False),  # 29 days
        (Held(None, END), utc(12, 2), 30, True),  # 31 days
        (Held(None, END), utc(11, 1, 16), 1, True),
        (Held(None, END), utc(11, 1, 15, 59), 1, False),
        (Held(None, END, (LATE,)), utc(12, 2), 30, False),  # released late on 3 Nov
        (Held(None, END, (LATE,)), utc(12, 3, 2), 30, True),
        (Held(None, END, (None,)), utc(12, 31), 30, False),
        (Held(None, END, open_case=True), utc(12, 31), 30, False),
        (Held(None, END, pending_certificate=True), utc(12, 31), 30, False),
        (Held(WITHDRAWN, END), utc(11, 26, 1, 59), 30, False),
        (Held(WITHDRAWN, END), utc(11, 26, 2, 0), 30, True),
    ],
)  # fmt: skip
def test_due(held: Held, now: datetime, days: int, expected: bool) -> None:
    assert due(held, now, days, SHANGHAI) is expected


@pytest.mark.parametrize(
    ("now", "days", "expected"),
    [
        (utc(11, 30, 16, 0), 30, date(2020, 10, 31)),  # 1 Dec 00:00 Shanghai
        (utc(11, 30, 15, 59), 30, date(2020, 10, 30)),  # 30 Nov 23:59 Shanghai
        (utc(12, 2), 30, date(2020, 11, 1)),
        (utc(11, 2), 1, date(2020, 10, 31)),
    ],
)  # fmt: skip
def test_measure_cutoff(now: datetime, days: int, expected: date) -> None:
    assert measure_cutoff(now, days, SHANGHAI) == expected


def test_no_due_report_is_beyond_the_cutoff() -> None:
    """The cutoff never hides a due report: one whose measure ends a day later is not due."""
    now = utc(11, 30, 16, 0)
    cutoff = measure_cutoff(now, 30, SHANGHAI)
    assert due(Held(None, cutoff), now, 30, SHANGHAI)
    assert not due(Held(None, date.fromordinal(cutoff.toordinal() + 1)), now, 30, SHANGHAI)


@pytest.mark.parametrize(
    ("tip_state", "told", "expected"),
    [
        ("closed", "sent", True),
        ("closed", "failed", True),
        ("closed", "unreachable", True),
        ("closed", None, True),  # nobody to tell
        ("closed", "pending", False),
        ("closed", "sending", False),
        ("open", "sent", False),
        ("checking", None, False),
    ],
)
def test_tipster_forgotten(tip_state: str, told: str | None, expected: bool) -> None:
    assert tipster_forgotten(tip_state, told) is expected


CLOSED = datetime(2020, 10, 26, 4, 30, tzinfo=UTC)  # a tip or case closed then


@pytest.mark.parametrize(
    ("state", "closed_at", "now", "days", "expected"),
    [
        ("closed", CLOSED, utc(11, 25, 4, 30), 30, True),  # exactly 30 days
        ("closed", CLOSED, utc(11, 25, 4, 29), 30, False),  # a minute short
        ("closed", CLOSED, utc(11, 26), 30, True),  # 31 days
        ("closed", CLOSED, utc(11, 24), 30, False),  # 29 days
        ("closed", CLOSED, utc(10, 27, 4, 30), 1, True),
        ("closed", CLOSED, utc(10, 27, 4, 29), 1, False),
        ("closed", None, utc(12, 31), 30, False),  # closed, but when is unknown: kept
        ("open", CLOSED, utc(12, 31), 30, False),  # never while open
        ("checking", CLOSED, utc(12, 31), 30, False),
        ("reported", CLOSED, utc(12, 31), 30, False),  # a case reported, not closed
    ],
)  # fmt: skip
def test_closed_due(
    state: str, closed_at: datetime | None, now: datetime, days: int, expected: bool
) -> None:
    assert closed_due(state, closed_at, now, days) is expected
