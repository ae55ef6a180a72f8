"""Release (解除) from centralised isolation: when a stay may end, decided from its dates and
its nucleic-acid tests alone. Pure: the caller reads the stay and its tests and acts on the
``Decision``.

The period: "集中隔离医学观察14天" counts days, day 1 being the stay's start date; its
``end_date`` is the 14th day, inclusive (the stays table says so). The period has passed only
once that whole day has, so release is due on the day after ``end_date`` (``release_day``),
never on the 14th day itself, even when its test is already negative: the day-14 test is
sampled that day and its result comes hours later.

Fail safe, never open: only a stay whose every scheduled test was taken and came back
negative is released. A missing, pending or positive result holds the person and a human is
told why. The one case the rule resolves itself is the final test not taken: the period is
extended (``Outcome.EXTEND``) to a make-up test (补采) on the decision's day, the release then
decided again the day after, like any period's end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.domain.risk import MeasurePlan
from bot.domain.samples import NEGATIVE, POSITIVE, Test

PENDING = "pending"  # a sample taken, its result not out (stay_tests.result 'pending' or none)
MISSED = "missed"  # never sampled
HOME_MONITORING = "home_monitoring"  # bot.domain.risk.MEASURE_KINDS: what follows a release


class Outcome(StrEnum):
    RELEASE = "release"  # released: the period has passed and every test is negative
    NOT_DUE = "not_due"  # the period has not passed yet: nothing to say
    EXTEND = "extend"  # the final test was not taken: a make-up test today, decided tomorrow
    HOLD = "hold"  # not released: a human must look (``Decision.reasons``)


class Reason(StrEnum):
    CASE = "case"  # a case's stay: released by its doctors, never by this rule
    NOT_ARRIVED = "not_arrived"  # the site never confirmed the person's arrival (入住)
    NO_TESTS = "no_tests"  # no test was scheduled: nothing shows the person negative
    POSITIVE = "positive"  # a positive result (a case, not a release)
    PENDING = "pending"  # a sample taken whose result has not come back negative
    MISSED = "missed"  # a test before the final one never taken


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reasons: tuple[Reason, ...] = ()
    retest: date | None = None  # EXTEND: the make-up test's day, the new end of the period


def release_day(end_date: date) -> date:
    """The first day the person may be released: the day after the period's last day."""
    return end_date + timedelta(days=1)


def _status(test: Test) -> str:
    """NEGATIVE | POSITIVE | PENDING (sampled, no final result) | MISSED (never sampled)."""
    if test.result in (NEGATIVE, POSITIVE):
        return test.result
    if test.sampled or test.result == PENDING:
        return PENDING
    return MISSED


def decide(
    today: date, end_date: date, arrived: bool, tests: Sequence[Test], *, case: bool = False
) -> Decision:
    """Whether a stay ending on ``end_date`` (inclusive) is released on ``today``; ``case``:
    the stay is a case's."""
    if today < release_day(end_date):
        return Decision(Outcome.NOT_DUE)
    if case:
        return Decision(Outcome.HOLD, (Reason.CASE,))
    if not arrived:
        return Decision(Outcome.HOLD, (Reason.NOT_ARRIVED,))
    if not tests:
        return Decision(Outcome.HOLD, (Reason.NO_TESTS,))
    ordered = sorted(tests, key=lambda t: t.test_date)
    statuses = [_status(t) for t in ordered]
    reasons = tuple(
        reason
        for reason, found in (
            (Reason.POSITIVE, POSITIVE in statuses),
            (Reason.PENDING, PENDING in statuses),
            (Reason.MISSED, MISSED in statuses[:-1]),
        )
        if found
    )
    if reasons:
        return Decision(Outcome.HOLD, reasons)
    if statuses[-1] == MISSED:
        return Decision(Outcome.EXTEND, retest=today)
    return Decision(Outcome.RELEASE)


def make_up_days(start: date, tests: Iterable[date], missed: date, retest: date) -> list[int]:
    """The stay's test days (day numbers, day 1 its ``start``) once its final test, not taken
    on ``missed``, is moved to the make-up day ``retest``: the days of the tests it has, that
    one moved. bot.domain.samples.schedule gives back exactly those tests for the period that
    now ends on ``retest`` (none of them is before the assignment: nothing to stand in for)."""
    return sorted((day - start).days + 1 for day in {*tests} - {missed} | {retest})


def certificate_number(town_code: str, released: date, stay_id: int) -> str:
    """The certificate's number: the town's code, JC (解除), the release day and the stay:
    XF-JC-20201109-0007. Unique per stay, as a stay is released once."""
    return f"{town_code}-JC-{released:%Y%m%d}-{stay_id:04d}"


def home_monitoring(released: date, days: int) -> MeasurePlan | None:
    """The home health monitoring (居家健康监测) that follows a release on ``released`` for
    ``days`` days, day 1 the release day itself (the person goes home that day); None for 0
    days. No tests: those were the isolation's."""
    if days <= 0:
        return None
    return MeasurePlan(HOME_MONITORING, released, released + timedelta(days=days - 1), ())
