"""Known answers of the release rule (bot.domain.release): a 14-day stay from 1 to 14 November
2020 (end date inclusive), tests on days 1, 4, 7 and 14. Written from the rule's wording, not
from the code: the period has passed only on the 15th; every test taken and negative releases;
anything else holds the person (a human is told), except a final test never taken, which
extends the stay to a make-up test on the day of the decision."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.release import (
    Decision,
    Outcome,
    Reason,
    certificate_number,
    decide,
    home_monitoring,
    make_up_days,
    release_day,
)
from bot.domain.risk import MeasurePlan
from bot.domain.samples import Test as Stored
from bot.domain.samples import schedule

END = date(2020, 11, 14)
DAYS = (date(2020, 11, 1), date(2020, 11, 4), date(2020, 11, 7), date(2020, 11, 14))
N, P, Q, S, M = "neg", "pos", "pending", "sampled", "missed"  # how each test stands


def made(*states: str) -> list[Stored]:
    stored = {N: (True, "negative"), P: (True, "positive"), Q: (True, "pending"),
              S: (True, None), M: (False, None)}  # fmt: skip
    return [Stored(day, *stored[state]) for day, state in zip(DAYS, states, strict=True)]


HOLD = Outcome.HOLD
CASES = [
    # today, arrived, tests, decision
    (date(2020, 11, 15), True, made(N, N, N, N), Decision(Outcome.RELEASE)),
    (date(2020, 11, 20), True, made(N, N, N, N), Decision(Outcome.RELEASE)),  # a late timer
    (date(2020, 11, 14), True, made(N, N, N, N), Decision(Outcome.NOT_DUE)),  # day 14 itself
    (date(2020, 11, 1), True, made(M, M, M, M), Decision(Outcome.NOT_DUE)),
    (date(2020, 11, 15), False, made(N, N, N, N), Decision(HOLD, (Reason.NOT_ARRIVED,))),
    (date(2020, 11, 15), True, [], Decision(HOLD, (Reason.NO_TESTS,))),
    (date(2020, 11, 15), True, made(N, N, N, P), Decision(HOLD, (Reason.POSITIVE,))),
    (date(2020, 11, 15), True, made(N, P, N, N), Decision(HOLD, (Reason.POSITIVE,))),
    (date(2020, 11, 15), True, made(N, N, N, Q), Decision(HOLD, (Reason.PENDING,))),
    (date(2020, 11, 15), True, made(N, N, N, S), Decision(HOLD, (Reason.PENDING,))),
    (date(2020, 11, 15), True, made(N, S, N, N), Decision(HOLD, (Reason.PENDING,))),
    (date(2020, 11, 15), True, made(N, M, N, N), Decision(HOLD, (Reason.MISSED,))),
    (date(2020, 11, 15), True, made(N, M, N, M), Decision(HOLD, (Reason.MISSED,))),
    (date(2020, 11, 15), True, made(N, N, N, M),
     Decision(Outcome.EXTEND, retest=date(2020, 11, 15))),
    (date(2020, 11, 17), True, made(N, N, N, M),
     Decision(Outcome.EXTEND, retest=date(2020, 11, 17))),
    (date(2020, 11, 15), True, made(P, Q, M, N),
     Decision(HOLD, (Reason.POSITIVE, Reason.PENDING, Reason.MISSED))),
    (date(2020, 11, 15), True, made(N, Q, N, M), Decision(HOLD, (Reason.PENDING,))),
    (date(2020, 11, 15), False, [], Decision(HOLD, (Reason.NOT_ARRIVED,))),
]  # fmt: skip


def test_a_cases_stay_is_never_released_by_the_rule() -> None:
    held = Decision(HOLD, (Reason.CASE,))
    assert decide(date(2020, 11, 15), END, True, made(N, N, N, N), case=True) == held
    assert decide(date(2020, 11, 14), END, True, made(N, N, N, N), case=True).outcome is (
        Outcome.NOT_DUE
    )


@pytest.mark.parametrize(("today", "arrived", "stay_tests", "expected"), CASES)
def test_the_rule(today: date, arrived: bool, stay_tests: list[Stored], expected: Decision) -> None:
    assert decide(today, END, arrived, stay_tests) == expected


def test_the_order_of_the_tests_as_stored_does_not_matter() -> None:
    shuffled = list(reversed(made(N, N, N, M)))
    assert decide(date(2020, 11, 15), END, True, shuffled).outcome is Outcome.EXTEND
    one = [Stored(date(2020, 11, 14), True, "negative"), Stored(date(2020, 11, 1), False, None)]
    assert decide(date(2020, 11, 15), END, True, one) == Decision(HOLD, (Reason.MISSED,))


def test_a_pending_result_without_a_sample_time_is_still_pending() -> None:
    """A result entered as 待出 with no sample time stored is not a missed test either."""
    tests = [Stored(date(2020, 11, 1), True, "negative"), Stored(END, False, "pending")]
    assert decide(date(2020, 11, 15), END, True, tests) == Decision(HOLD, (Reason.PENDING,))


def test_release_day_and_certificate_number() -> None:
    assert release_day(END) == date(2020, 11, 15)
    assert release_day(date(2020, 12, 31)) == date(2021, 1, 1)
    assert certificate_number("XF", date(2020, 11, 15), 7) == "XF-JC-20201115-0007"
    assert certificate_number("AB", date(2021, 1, 2), 12345) == "AB-JC-20210102-12345"


def test_home_monitoring_after_release() -> None:
    assert home_monitoring(date(2020, 11, 15), 7) == MeasurePlan(
        "home_monitoring", date(2020, 11, 15), date(2020, 11, 21), ()
    )
    assert home_monitoring(date(2020, 11, 15), 1) == MeasurePlan(
        "home_monitoring", date(2020, 11, 15), date(2020, 11, 15), ()
    )
    assert home_monitoring(date(2020, 11, 15), 0) is None


def nov(day: int) -> date:
    return date(2020, 11, day)


@pytest.mark.parametrize(
    ("assigned", "tests", "retest", "days"),
    [
        # tests on days 1, 4, 7, 14; the last never taken: made up on the 15th
        (nov(1), DAYS, nov(15), [1, 4, 7, 15]),
        # made up late (the check ran on the 17th): day 17
        (nov(1), DAYS, nov(17), [1, 4, 7, 17]),
        # assigned on the 5th: one test that day stood for days 1 and 4, then 7 and 14
        (nov(5), (nov(5), nov(7), END), nov(15), [5, 7, 15]),
        # assigned on the 10th with tests on days 1 and 4 only: the stand-in itself made up
        (nov(10), (nov(10),), nov(15), [15]),
    ],
)
def test_a_make_up_moves_only_the_final_test(
    assigned: date, tests: tuple[date, ...], retest: date, days: list[int]
) -> None:
    """The stay's test days after a make-up, read back by the samples' schedule for the
    period that now ends on the make-up day: the same tests, the final one moved — no test
    day coming back, no stand-in for days before the assignment added."""
    start = date(2020, 11, 1)
    assert make_up_days(start, tests, max(tests), retest) == days
    assert schedule(start, retest, days, assigned) == [*sorted(tests)[:-1], retest]
