"""The case ladder and its repeat slots (known answers): a case reported at 10:00 is reminded
at 11:00, 11:30 and 11:50, escalated in red at 12:00 and again every repeat period until the
direct report (网络直报) is recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.escalation import Rung, case_ladder, next_repeat


def test_case_ladder_of_the_two_hour_direct_report() -> None:
    assert case_ladder(15) == (
        Rung("leadership", -60),
        Rung("leadership", -30),
        Rung("leadership", -10),
        Rung("leadership", 0, repeat_minutes=15, after_ack=True),
    )


@pytest.mark.parametrize(
    ("now", "repeat", "expected"),
    [
        (datetime(2020, 10, 26, 4, 0, tzinfo=UTC), 15, datetime(2020, 10, 26, 4, 15, tzinfo=UTC)),
        (datetime(2020, 10, 26, 4, 14, 59, tzinfo=UTC), 15,
         datetime(2020, 10, 26, 4, 15, tzinfo=UTC)),
        (datetime(2020, 10, 26, 4, 15, tzinfo=UTC), 15, datetime(2020, 10, 26, 4, 30, tzinfo=UTC)),
        (datetime(2020, 10, 26, 4, 7, tzinfo=UTC), 60, datetime(2020, 10, 26, 5, 0, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_next_repeat_is_the_start_of_the_next_slot(
    now: datetime, repeat: int, expected: datetime
) -> None:
    assert next_repeat(now, repeat) == expected
