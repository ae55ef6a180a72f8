"""The daily unit report's rules (bot.domain.unit_reports), by known answers, and its number
parser by properties; the ``[units]`` settings and the report's own ladder in the config."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import parse_config
from bot.domain import unit_reports as d
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor, can_file_unit_report
from tests.conftest import SHANGHAI
from tests.test_config import ROOT, changed, example, problems_of

NINE, FOUR = time(9), time(16)
NOT_A_NUMBER = Invalid("unit_reports.count_number")


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2020, 10, 26, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "most", "expected"),
    [
        ("12", 100, 12),
        ("１２", 100, 12),  # full width
        ("12人", 100, 12),
        (" 3 名 ", 100, 3),
        ("7个", 100, 7),
        ("1,200", 2000, 1200),
        ("1，200", 2000, 1200),
        ("0", 100, 0),
        ("无", 100, 0),
        ("没有", 100, 0),
        ("零", 100, 0),
        ("None", 100, 0),
        ("100", 100, 100),
        ("101", 100, Invalid("unit_reports.count_over", {"limit": 100})),
        ("-1", 100, NOT_A_NUMBER),
        ("12.5", 100, NOT_A_NUMBER),
        ("十二", 100, NOT_A_NUMBER),
        ("", 100, NOT_A_NUMBER),
        ("人", 100, NOT_A_NUMBER),
        ("1" * 20, 100, Invalid("unit_reports.count_over", {"limit": 100})),
        ("1" * 21, 100, NOT_A_NUMBER),  # too long to be a count
        ("2位", 100, 2),
        ("沒有", 100, 0),
        ("no", 100, 0),
    ],
)
def test_parse_count(text: str, most: int, expected: int | Invalid) -> None:
    assert d.parse_count(text, most) == expected


@given(st.text(max_size=60), st.integers(min_value=0, max_value=d.MAX_COUNT))
def test_parse_count_never_raises_and_stays_in_bounds(text: str, most: int) -> None:
    parsed = d.parse_count(text, most)
    assert isinstance(parsed, Invalid) or 0 <= parsed <= most


@given(st.integers(min_value=0, max_value=d.MAX_COUNT), st.booleans())
def test_parse_count_reads_any_number_within_the_limit(n: int, wide: bool) -> None:
    typed = (
        str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９")) if wide else str(n)
    )
    assert d.parse_count(typed, d.MAX_COUNT) == n
    if n:
        assert d.parse_count(typed, n - 1) == Invalid("unit_reports.count_over", {"limit": n - 1})


@pytest.mark.parametrize(
    ("monitored", "now", "slots"),
    [
        (False, time(15, 59), ()),
        (False, time(16), (1,)),
        (False, time(23, 59), (1,)),
        (True, time(8, 59), ()),
        (True, time(9), (1,)),
        (True, time(15, 59), (1,)),
        (True, time(16), (1, 2)),
    ],
)
def test_due_slots(monitored: bool, now: time, slots: tuple[int, ...]) -> None:
    times = d.slot_times(FOUR, (NINE, FOUR), monitored)
    assert times == ((NINE, FOUR) if monitored else (FOUR,))
    assert d.due_slots(times, now) == slots


@pytest.mark.parametrize(
    ("due", "minutes", "deadline"), [(_at(16), 120, _at(18)), (_at(9), 10, _at(9, 10))]
)
def test_deadline(due: datetime, minutes: int, deadline: datetime) -> None:
    assert d.deadline(due, minutes) == deadline


@pytest.mark.parametrize(
    ("headcount", "kind", "most"),
    [
        (0, "enterprise", d.MAX_COUNT),
        (1, "enterprise", 2),
        (12, "enterprise", 24),
        (1200, "school", 2400),
        (12, "other", 24),
        (12, "", 24),
        # a venue: its guests count as present, whatever its staff on file
        (12, "hotel", d.MAX_COUNT),
        (3, "homestay", d.MAX_COUNT),
        (5, "rental", d.MAX_COUNT),
        (6, "farmstay", d.MAX_COUNT),
    ],
)
def test_limit(headcount: int, kind: str, most: int) -> None:
    assert d.limit(headcount, kind) == most


def test_a_hotel_with_12_staff_reports_30_guests_present() -> None:
    assert _answer("present", "42", headcount=12, kind="hotel") == {"present": 42}
    assert _answer("new_arrivals", "30", headcount=12, kind="hotel") == {"new_arrivals": 30}
    assert _answer("present", "25", headcount=12, kind="enterprise") == Invalid(
        "unit_reports.count_over", {"limit": 24}
    )


@pytest.mark.parametrize(
    ("due", "changed_at", "covered", "asked"),
    [
        (_at(9), None, [], True),  # never changed, nothing of the day
        (_at(9), _at(8), [], True),  # marked before its time
        (_at(9), _at(9), [], True),  # marked at its very time
        (_at(9), _at(12), [], False),  # marked at noon: 09:00 has passed
        (_at(16), _at(12), [], True),  # ... its 16:00 still asked
        (_at(16), _at(17), [_at(16)], False),  # marked at 17:00 after the 16:00 one
        (_at(16), None, [_at(16)], False),  # a report of the day due at that time
        (_at(16), None, [_at(9), _at(16, 30)], False),  # one filed after that time
        (_at(16), None, [_at(9), _at(10)], True),  # the morning's, filed in the morning
        (_at(16), None, [_at(9), _at(15, 59)], True),
    ],
)
def test_askable(
    due: datetime, changed_at: datetime | None, covered: list[datetime], asked: bool
) -> None:
    assert d.askable(due, changed_at, covered) is asked


@pytest.mark.parametrize(
    ("now", "day"),
    [
        (_at(0, 1), date(2020, 10, 25)),
        (_at(8), date(2020, 10, 25)),  # the morning report: the previous full day
        (_at(9, 30), date(2020, 10, 25)),  # a monitored unit's 09:00 asked: still yesterday
        (_at(15, 59), date(2020, 10, 25)),
        (_at(16), date(2020, 10, 26)),  # every time of today come
        (_at(20), date(2020, 10, 26)),
        (_at(23, 59), date(2020, 10, 26)),
    ],
)
def test_digest_day(now: datetime, day: date) -> None:
    assert d.digest_day(now, (FOUR, NINE, FOUR)) == day


@pytest.mark.parametrize(
    ("state", "filed_at", "now", "expected"),
    [
        ("filed", _at(17), _at(20), d.FILED),
        ("filed", _at(18), _at(20), d.FILED),  # at the deadline: in time
        ("filed", _at(18, 1), _at(20), d.LATE),
        ("due", None, _at(17), d.WAITING),
        ("due", None, _at(18), d.WAITING),
        ("due", None, _at(18, 1), d.MISSING),
    ],
)
def test_status(state: str, filed_at: datetime | None, now: datetime, expected: str) -> None:
    assert d.status(state, filed_at, _at(18), now) == expected


def test_tally() -> None:
    counted = d.tally([d.FILED, d.MISSING, d.FILED, d.LATE, d.WAITING, d.MISSING])
    assert counted == d.Tally(filed=2, late=1, waiting=1, missing=2)
    assert counted.total == 6
    assert d.tally([]).total == 0


# --- the questions ------------------------------------------------------------------------------


def _answer(step: str, text: str, **data: object) -> object:
    parse = d.STEPS[step].text
    assert parse is not None
    return parse(text, dict(data), None)


@pytest.mark.parametrize(
    ("step", "text", "data", "expected"),
    [
        ("present", "24", {"headcount": 12}, {"present": 24}),
        ("present", "25", {"headcount": 12}, Invalid("unit_reports.count_over", {"limit": 24})),
        ("present", "5000", {"headcount": 0}, {"present": 5000}),
        (
            "new_arrivals",
            "30",
            {"headcount": 12},
            Invalid("unit_reports.count_over", {"limit": 24}),
        ),
        ("key_region", "3", {"new_arrivals": 3}, {"key_region": 3}),
        (
            "key_region",
            "4",
            {"new_arrivals": 3},
            Invalid("unit_reports.key_over_new", {"new": 3}),
        ),
        ("symptomatic", "10", {"present": 10}, {"symptomatic": 10}),
        (
            "symptomatic",
            "11",
            {"present": 10},
            Invalid("unit_reports.sick_over_present", {"present": 10}),
        ),
        ("symptomatic", "x", {"present": 10}, NOT_A_NUMBER),
        ("note", " 有两名员工请假 ", {}, {"note": "有两名员工请假"}),
        ("note", "  ", {}, Invalid("text_empty")),
    ],
)
def test_each_answer_is_checked(step: str, text: str, data: dict, expected: object) -> None:
    assert _answer(step, text, **data) == expected


def test_buttons_none_and_no_note_and_the_order() -> None:
    assert d.apply_choice(d.STEPS["key_region"], d.NONE, {}, None) == {"key_region": 0}
    assert d.apply_choice(d.STEPS["note"], d.SKIP, {}, None) == {"note": ""}
    assert d.apply_choice(d.STEPS["note"], "other", {}, None) == Invalid("choice_stale")
    merged = {"x": 1, "present": 3}
    assert d.advance("present", {"present": 3}, {"x": 1}) == ("new_arrivals", merged)
    assert d.advance("note", {"note": ""}, {})[0] == "summary"
    assert d.advance("summary", {}, {})[0] == "summary"
    assert d.missing_step({"present": 1, "new_arrivals": 0}) == "key_region"
    full = {"present": 1, "new_arrivals": 0, "key_region": 0, "symptomatic": 0, "note": ""}
    assert d.missing_step(full) is None
    assert d.Figures.from_answers(full) == d.Figures(1, 0, 0, 0, "")
    assert d.Figures(zero=True) == d.ZERO
    assert (d.ZERO.present, d.ZERO.symptomatic) == (0, 0)


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (Actor(1, unit_ids=frozenset({"hotel1"})), True),
        (Actor(1, unit_ids=frozenset({"school1"})), False),  # another unit's liaison
        (Actor(1, is_admin=True), True),
        (Actor(1, is_leader=True), False),  # leaders read
        (Actor(1, worker_grids=frozenset({"XF01"})), True),  # the unit's grid worker
        (Actor(1, worker_grids=frozenset({"XF02"})), False),
        (Actor(1, admin_villages=frozenset({"xf"})), True),
        (Actor(1, admin_villages=frozenset({"sq"})), False),
    ],
)
def test_who_may_file(actor: Actor, allowed: bool) -> None:
    assert can_file_unit_report(actor, "hotel1", "xf", "XF01") is allowed


def test_a_unit_with_no_grid_its_village_admins_file() -> None:
    assert can_file_unit_report(Actor(1, admin_villages=frozenset({"xf"})), "u", "xf", None)
    assert not can_file_unit_report(Actor(1, worker_grids=frozenset({"XF01"})), "u", "xf", None)


# --- the config -------------------------------------------------------------------------------


def test_units_settings_default_and_read() -> None:
    assert parse_config(example(), ROOT).units.deadline_minutes > 0
    units = {"report_at": "17:30", "deadline_minutes": 90,
             "monitored_report_at": ["15:00", "08:30"]}  # fmt: skip
    read = parse_config(changed("units", units), ROOT)
    assert read.units.report_at == time(17, 30)
    assert read.units.monitored_report_at == (time(8, 30), time(15))  # in order
    assert read.units.deadline_minutes == 90


@pytest.mark.parametrize(
    ("units", "problem"),
    [
        ({"monitored_report_at": ["09:00"]}, "units.monitored_report_at"),
        ({"monitored_report_at": ["09:00", "12:00", "16:00"]}, "units.monitored_report_at"),
        ({"deadline_minutes": 5}, "units.deadline_minutes"),
        ({"report_at": "25:00"}, "units.report_at"),
    ],
)
def test_units_settings_refused(units: dict, problem: str) -> None:
    problems = problems_of(changed("units", units))
    assert any(p.startswith(problem) for p in problems), problems


def test_the_report_has_its_own_ladder_if_configured() -> None:
    common = parse_config(example(), ROOT).escalation
    assert common.ladder(d.KIND) == common.steps
    own = [{"to": "assignee", "after_minutes": 0}, {"to": "leadership", "after_minutes": 30}]
    escalation = parse_config(changed("escalation.unit_report", own), ROOT).escalation
    assert [(s.to, s.after_minutes) for s in escalation.ladder(d.KIND)] == [
        ("assignee", 0), ("leadership", 30)]  # fmt: skip
