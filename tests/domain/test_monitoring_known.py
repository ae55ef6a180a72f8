"""Monitoring rules at their edges (known answers): the check-in slots are UTC instants and
local days are the town's whatever the machine's own time zone, the newest missed slot, the
fever threshold, the test-day reminders, and the check-in buttons' limits."""

from __future__ import annotations

import time as clock
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.monitoring import (
    CheckinAction,
    covers,
    epoch,
    from_epoch,
    is_fever,
    is_monitored,
    latest_slot,
    local_day,
    next_slot,
    overdue_test,
    parse_checkin_callback,
    reminder_notice,
    reminder_times,
    slots_on,
    withdrawal_needs_worker,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIMES = (time(8), time(20))


@pytest.fixture(params=["UTC", "America/New_York", "Pacific/Kiritimati"])
def machine_zone(request, monkeypatch) -> Iterator[str]:
    """Run under a machine time zone other than the town's (behind it and ahead of it)."""
    monkeypatch.setenv("TZ", request.param)
    clock.tzset()
    yield request.param
    monkeypatch.undo()
    clock.tzset()


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2020, 10, day, hour, minute, tzinfo=UTC)


def test_slots_are_utc_instants(machine_zone: str) -> None:
    slots = slots_on(date(2020, 10, 26), TIMES, SHANGHAI)
    assert [s.isoformat() for s in slots] == ["2020-10-26T00:00:00+00:00",
                                              "2020-10-26T12:00:00+00:00"]  # fmt: skip


def test_local_day_is_the_towns(machine_zone: str) -> None:
    assert local_day(utc(25, 16, 30), SHANGHAI) == date(2020, 10, 26)  # 00:30 in Shanghai
    assert local_day(utc(26, 15, 59), SHANGHAI) == date(2020, 10, 26)


def test_latest_slot_is_the_towns_newest_not_after_now(machine_zone: str) -> None:
    earliest = utc(25, 12)  # 25 October 20:00 in Shanghai
    end = date(2020, 11, 5)
    assert latest_slot(utc(26, 0, 30), earliest, end, TIMES, SHANGHAI) == utc(26, 0)
    assert latest_slot(utc(26, 0), earliest, end, TIMES, SHANGHAI) == utc(26, 0)  # on the slot
    assert latest_slot(utc(25, 23, 59), earliest, end, TIMES, SHANGHAI) == earliest
    late = (time(8), time(20), time(22))
    assert latest_slot(utc(25, 15), earliest, end, late, SHANGHAI) == utc(25, 14)  # 22:00


def test_next_slot_in_the_towns_day_whatever_the_machines(monkeypatch) -> None:
    """The widest gap there is: the town at UTC-11, the machine at UTC+14 (two dates ahead
    late in the town's evening)."""
    town = ZoneInfo("Pacific/Pago_Pago")
    late = (time(8), time(23, 45))
    after = datetime(2020, 10, 26, 23, 30, tzinfo=town)
    expected = datetime(2020, 10, 26, 23, 45, tzinfo=town)
    for zone in ("Pacific/Kiritimati", "UTC"):
        monkeypatch.setenv("TZ", zone)
        clock.tzset()
        try:
            found = next_slot(after, date(2020, 10, 20), date(2020, 11, 5), late, town)
        finally:
            monkeypatch.undo()
            clock.tzset()
        assert found == expected


def test_latest_slot_stops_at_the_last_day() -> None:
    earliest = utc(26, 0)
    assert latest_slot(utc(28, 13), earliest, date(2020, 10, 27), TIMES, SHANGHAI) == utc(27, 12)
    after_end = utc(29, 0)  # an earliest slot past the end: nothing newer
    assert latest_slot(utc(30, 0), after_end, date(2020, 10, 27), TIMES, SHANGHAI) == after_end


def test_reminders_ride_with_the_last_prompt_before_and_the_first_of_the_test_day() -> None:
    three = (time(8), time(14), time(20))
    assert reminder_times(date(2020, 10, 27), three, SHANGHAI) == (utc(26, 12), utc(27, 0))


D1, D7, D14 = date(2020, 10, 25), date(2020, 10, 31), date(2020, 11, 7)
PLAN = (D1, D7, D14)


@pytest.mark.parametrize(
    ("today", "end", "sampled", "expected"),
    [
        (date(2020, 10, 24), D14, (), None),  # before the first test day
        (D1, D14, (), None),  # the test day is today: its own reminder
        (date(2020, 10, 26), D14, (), D1),
        (date(2020, 10, 26), D14, (D1,), None),
        (D7, D14, (), None),  # a test today does for the missed day 1
        (date(2020, 11, 1), D14, (), D7),  # only the newest missed day
        (date(2020, 11, 1), D14, (D1,), D7),
        (date(2020, 11, 1), D14, (D7,), None),  # a later sample supersedes day 1
        (date(2020, 11, 8), D14, (), D14),
        (date(2020, 11, 1), date(2020, 10, 30), (), D1),  # shortened: day 7 is gone
        (date(2020, 11, 1), date(2020, 10, 31), (), D7),  # the last day is a test day
        (date(2020, 11, 8), date(2020, 11, 7), (D14,), None),
    ],
)
def test_the_overdue_test_is_the_newest_past_day_without_a_sample(
    today: date, end: date, sampled: tuple[date, ...], expected: date | None
) -> None:
    assert overdue_test(PLAN, today, end, set(sampled)) == expected


def test_no_test_days_nothing_overdue() -> None:
    assert overdue_test((), date(2020, 11, 1), D14, set()) is None
    assert overdue_test(iter([D7, D1]), date(2020, 11, 1), D14, set()) == D7  # any order


@pytest.mark.parametrize(
    ("which", "today", "expected"),
    [
        ("before", date(2020, 10, 30), "before"),
        ("before", D7, None),  # late, on the day: the day's own reminder follows
        ("before", date(2020, 11, 1), None),  # late, after it: the day's says overdue
        ("day", D7, "day"),
        ("day", date(2020, 11, 1), "overdue"),  # late: never "today is the test day"
        ("overdue", date(2020, 11, 1), "overdue"),
        ("overdue", date(2020, 11, 3), "overdue"),
    ],
)
def test_a_reminder_names_the_day_as_it_is_when_sent(
    which: str, today: date, expected: str | None
) -> None:
    assert reminder_notice(which, D7, today) == expected


def test_monitored_kinds_and_days() -> None:
    assert is_monitored("home_monitoring", 1)
    assert not is_monitored("home_monitoring", 0)
    assert not is_monitored("self_monitoring", 14)


@pytest.mark.parametrize(("temperature", "fever"), [(None, False), (37.2, False), (37.3, True),
                                                    (38.5, True)])  # fmt: skip
def test_fever_from_37_3(temperature: float | None, fever: bool) -> None:
    assert is_fever(temperature) is fever


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, None),
        ("", None),
        ("v1:ci:7:1603670400:t:350", CheckinAction(7, 1603670400, "temperature", tenths=350)),
        ("v1:ci:7:1603670400:t:420", CheckinAction(7, 1603670400, "temperature", tenths=420)),
        ("v1:ci:7:1603670400:t:349", None),
        ("v1:ci:7:1603670400:t:421", None),
    ],
)
def test_checkin_button_limits(data: str | None, expected: CheckinAction | None) -> None:
    assert parse_checkin_callback(data) == expected


def test_from_epoch_is_utc(machine_zone: str) -> None:
    assert epoch(utc(26, 0)) == 1603670400
    assert from_epoch(1603670400) == utc(26, 0)
    assert from_epoch(1603670400).isoformat() == "2020-10-26T00:00:00+00:00"


# --- one person, two plans: which monitoring watches him (issue 10, review A2) ------------

NOV1, NOV7, NOV14 = date(2020, 11, 1), date(2020, 11, 7), date(2020, 11, 14)

COVERS = [
    # his own plan (kind, end), the companion entry's plan (kind, end), own plan covers it?
    (("home_monitoring", NOV7), ("home_monitoring", NOV7), True),
    (("home_monitoring", NOV14), ("home_monitoring", NOV7), True),  # ends later: covers
    (("home_monitoring", NOV1), ("home_monitoring", NOV7), False),  # ends earlier
    (("home_observation", NOV14), ("home_monitoring", NOV7), True),
    (("home_monitoring", NOV14), ("home_observation", NOV14), False),  # laxer
    (("home_monitoring", NOV14), ("home_observation", NOV7), False),  # laxer, however long
    (("centralized_isolation", NOV14), ("home_observation", NOV14), True),
    (("centralized_isolation", NOV14), ("home_monitoring", NOV7), True),
    (("home_observation", NOV14), ("centralized_isolation", NOV14), False),
    (("centralized_isolation", NOV7), ("centralized_isolation", NOV14), False),
    (("medical_care", NOV14), ("home_observation", NOV14), True),
    (("medical_care", NOV14), ("home_monitoring", NOV7), True),
    # isolation and medical care do different things: neither stands in for the other
    (("medical_care", NOV14), ("centralized_isolation", NOV14), False),
    (("centralized_isolation", NOV14), ("medical_care", NOV14), False),
    (("medical_care", NOV14), ("medical_care", NOV7), True),
    # not monitored, or unknown: never covers, never covered (fail safe: both watched)
    (("self_monitoring", NOV14), ("home_monitoring", NOV7), False),
    (("lockdown", NOV14), ("home_monitoring", NOV7), False),
    (("home_observation", NOV14), ("lockdown", NOV7), False),
]


@pytest.mark.parametrize(("own", "other", "expected"), COVERS)
def test_covers_known_answers(own: tuple, other: tuple, expected: bool) -> None:
    assert covers(*own, *other) is expected


KEY_CONTROL = [
    # risk category, alert, measure kind -> a worker confirms a withdrawal?
    ("low", False, "self_monitoring", False),
    ("low", True, "self_monitoring", True),
    ("yellow_code", False, "self_monitoring", True),
    ("low", False, "home_monitoring", True),
    ("quarantine_done", False, "home_monitoring", True),
    ("overseas", True, "centralized_isolation", True),
    ("low", False, "medical_care", True),
    ("low", False, "something_new", True),  # unknown: a human decides
]


@pytest.mark.parametrize(("risk", "alert", "kind", "expected"), KEY_CONTROL)
def test_withdrawal_needs_a_worker_known_answers(
    risk: str, alert: bool, kind: str, expected: bool
) -> None:
    assert withdrawal_needs_worker(risk, alert, kind) is expected
