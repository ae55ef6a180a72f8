"""Check-in slots across midnight and time zones, the day counter, and the check-in buttons'
callback data (a parser of user input: property-tested)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.domain import monitoring as dm
from bot.domain.risk import SYMPTOMS

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
TIMES = (time(9, 0), time(20, 0))


def test_slots_are_local_times_in_utc() -> None:
    assert dm.slots_on(date(2020, 10, 26), TIMES, SHANGHAI) == [
        datetime(2020, 10, 26, 1, 0, tzinfo=UTC),
        datetime(2020, 10, 26, 12, 0, tzinfo=UTC),
    ]


def test_next_slot_crosses_midnight_and_stays_within_the_period() -> None:
    start, end = date(2020, 10, 25), date(2020, 10, 27)
    after = datetime(2020, 10, 26, 20, 30, tzinfo=SHANGHAI)
    assert dm.next_slot(after, start, end, TIMES, SHANGHAI) == datetime(
        2020, 10, 27, 9, 0, tzinfo=SHANGHAI
    )
    # 00:30 local is still the previous day in UTC: the local date decides
    early = datetime(2020, 10, 27, 0, 30, tzinfo=SHANGHAI)
    assert dm.next_slot(early, start, end, TIMES, SHANGHAI) == datetime(
        2020, 10, 27, 9, 0, tzinfo=SHANGHAI
    )
    last = datetime(2020, 10, 27, 20, 0, tzinfo=SHANGHAI)
    assert dm.next_slot(last, start, end, TIMES, SHANGHAI) is None
    before_start = datetime(2020, 10, 1, tzinfo=SHANGHAI)
    assert dm.next_slot(before_start, start, end, TIMES, SHANGHAI) == datetime(
        2020, 10, 25, 9, 0, tzinfo=SHANGHAI
    )


def test_slots_follow_daylight_saving_where_the_town_has_it() -> None:
    # Europe/Berlin leaves summer time on 25 Oct 2020: 09:00 is 07:00 UTC before, 08:00 after
    assert dm.slots_on(date(2020, 10, 24), TIMES, BERLIN)[0].hour == 7
    assert dm.slots_on(date(2020, 10, 25), TIMES, BERLIN)[0].hour == 8


def test_latest_slot_after_downtime() -> None:
    earliest = datetime(2020, 10, 26, 20, 0, tzinfo=SHANGHAI).astimezone(UTC)
    at = datetime(2020, 10, 28, 10, 0, tzinfo=SHANGHAI)
    assert dm.latest_slot(at, earliest, date(2020, 10, 31), TIMES, SHANGHAI) == datetime(
        2020, 10, 28, 9, 0, tzinfo=SHANGHAI
    )
    # never past the last day
    assert dm.latest_slot(at, earliest, date(2020, 10, 27), TIMES, SHANGHAI) == datetime(
        2020, 10, 27, 20, 0, tzinfo=SHANGHAI
    )


def test_day_counter_and_reminder_times() -> None:
    start = date(2020, 10, 25)
    assert dm.day_number(date(2020, 10, 27), start) == 3
    assert dm.total_days(start, date(2020, 11, 7)) == 14
    before, on_day = dm.reminder_times(date(2020, 10, 31), TIMES, SHANGHAI)
    assert before == datetime(2020, 10, 30, 20, 0, tzinfo=SHANGHAI)
    assert on_day == datetime(2020, 10, 31, 9, 0, tzinfo=SHANGHAI)


def test_monitored_kinds() -> None:
    assert dm.is_monitored("home_monitoring", 7)
    assert dm.is_monitored("centralized_isolation", 14)
    assert not dm.is_monitored("self_monitoring", 14)
    assert not dm.is_monitored("home_monitoring", 0)


actions = st.one_of(
    st.builds(dm.CheckinAction, st.integers(1, 10**12 - 1), st.integers(0, 10**11 - 1),
              st.just("temperature"), tenths=st.integers(350, 420)),
    st.builds(dm.CheckinAction, st.integers(1, 10**12 - 1), st.integers(0, 10**11 - 1),
              st.just("other")),
    st.builds(dm.CheckinAction, st.integers(1, 10**12 - 1), st.integers(0, 10**11 - 1),
              st.just("symptom"), mask=st.integers(0, 2 ** len(SYMPTOMS) - 1),
              choice=st.sampled_from([*map(str, range(len(SYMPTOMS))), "n", "d"])),
)  # fmt: skip


@given(actions)
def test_callback_round_trips_within_telegrams_limit(action: dm.CheckinAction) -> None:
    data = action.encode()
    assert len(data.encode()) <= 64
    assert dm.parse_checkin_callback(data) == action


@given(st.text(max_size=80))
def test_parser_never_raises(text: str) -> None:
    dm.parse_checkin_callback(text)
    dm.parse_checkin_callback("v1:ci:" + text)


def test_parser_refuses_out_of_range_values() -> None:
    for data in ("v1:ci:1:2:t:500", "v1:ci:1:2:t:349", "v1:ci:0:2:o", "v1:ci:1:2:s:64:1",
                 "v1:ci:1:2:s:1:6", "v1:ci:1:2:x", "v1:ar:1:2:o", "v1:ci:1:2:o:"):  # fmt: skip
        assert dm.parse_checkin_callback(data) is None, data
    assert dm.symptoms_of(dm.toggle(0, 1)) == ["dry_cough"]
