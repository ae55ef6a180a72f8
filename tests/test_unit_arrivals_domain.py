"""A unit's arrival form and a venue's guest register (入住登记), driven directly on the step
table: known answers written by hand from what the questions mean (issue 13), and a property
test of the check-out parser."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import arrivals as flow
from bot.domain.invalid import Invalid

TODAY = date(2020, 12, 28)
CTX = flow.Context(
    today=TODAY, id_required=False, max_days_back=20, max_companions=2,
    villages={"xf": ("XF01", "XF02")},
)  # fmt: skip
HOTEL = {"unit": "hotel1", "unit_kind": "hotel"}


def text(step: str, answer: str, data: dict[str, Any] | None = None) -> Any:
    parse = flow.STEPS[step].text
    assert parse is not None, step
    return parse(answer, data or {}, CTX)


def choose(step: str, value: str, data: dict[str, Any] | None = None) -> Any:
    return flow.apply_choice(flow.STEPS[step], value, data or {}, CTX)


# --- whom a unit registers -------------------------------------------------------------------

RELATIONS = [
    ({}, ("self", "family", "tenant", "guest")),
    ({"unit_kind": "enterprise"}, ("staff",)),
    ({"unit_kind": "school"}, ("student", "staff")),
    ({"unit_kind": "other"}, ("staff",)),
    ({"unit_kind": "hotel"}, ("venue_guest", "staff")),
    ({"unit_kind": "homestay"}, ("venue_guest", "staff")),
    ({"unit_kind": "rental"}, ("venue_guest", "staff")),
    ({"unit_kind": "farmstay"}, ("venue_guest", "staff")),
]


@pytest.mark.parametrize(("data", "expected"), RELATIONS)
def test_relations_offered_by_the_units_kind(data: dict[str, Any], expected: tuple) -> None:
    assert flow.STEPS["relation"].values(data, CTX) == expected


def test_a_resident_cannot_press_a_units_relation() -> None:
    assert choose("relation", "staff") == Invalid("choice_stale")
    assert choose("relation", "venue_guest", {"unit_kind": "school"}) == Invalid("choice_stale")
    assert choose("relation", "student", {"unit_kind": "school"}) == {"relation": "student"}


GUEST = [
    ({}, False),
    ({"relation": "guest"}, False),  # a resident's visiting friend: no guest register
    ({"unit_kind": "school", "relation": "student"}, False),
    ({"unit_kind": "enterprise", "relation": "staff"}, False),
    ({"unit_kind": "hotel", "relation": "staff"}, False),  # the hotel's own staff
    ({"unit_kind": "hotel", "relation": "venue_guest"}, True),
    ({"unit_kind": "farmstay", "relation": "self"}, True),  # a guest by the venue's QR code
    ({"unit_kind": "rental", "relation": "venue_guest"}, True),
]


@pytest.mark.parametrize(("data", "expected"), GUEST)
def test_who_gets_the_guest_register(data: dict[str, Any], expected: bool) -> None:
    assert flow.is_guest(data) is expected


# --- the order of questions ------------------------------------------------------------------


def test_a_venue_guest_is_asked_the_register_after_the_address() -> None:
    data = {**HOTEL, "relation": "venue_guest", "prefilled_village": True,
            "prefilled_grid": True, "prefilled_address": True}  # fmt: skip
    assert flow.next_step("trip", data) == "checkin_date"
    assert flow.next_step("checkin_date", data) == "checkout_date"
    assert flow.next_step("checkout_date", data) == "room"
    assert flow.next_step("room", data) == "category"


def test_staff_and_residents_skip_the_register() -> None:
    assert flow.next_step("address", {**HOTEL, "relation": "staff"}) == "category"
    assert flow.next_step("address", {"relation": "self"}) == "category"


def test_a_relation_set_by_the_qr_code_is_not_asked() -> None:
    data = {**HOTEL, "relation": "self", "prefilled_relation": True}
    assert flow.first_question(data) == "name"
    assert flow.first_question({**HOTEL, "liaison": True}) == "relation"
    assert flow.first_question({}) == "relation"


def test_edit_offers_the_register_only_to_a_guest_and_not_a_qr_relation() -> None:
    edit = flow.STEPS["edit"]
    resident = edit.values({"relation": "self"}, CTX)
    assert "stay" not in resident and "relation" in resident
    guest = edit.values({**HOTEL, "relation": "self", "prefilled_relation": True}, CTX)
    assert "stay" in guest and "relation" not in guest
    assert flow.start_edit("stay", {**HOTEL, "relation": "venue_guest"})[0] == "checkin_date"


# --- check-in --------------------------------------------------------------------------------

CHECKIN = [
    ("今天", {}, {"checkin_date": "2020-12-28"}),
    ("12月27日", {}, {"checkin_date": "2020-12-27"}),
    ("12月27日", {"arrival_date": "2020-12-27"}, {"checkin_date": "2020-12-27"}),
    ("12月26日", {"arrival_date": "2020-12-27"},
     Invalid("checkin_before_arrival", {"arrival": date(2020, 12, 27)})),
    ("明年", {}, Invalid("date_format")),
    ("12月29日", {}, Invalid("date_future")),
    ("2020-11-01", {}, Invalid("date_too_old", {"days": 20})),
]  # fmt: skip


@pytest.mark.parametrize(("typed", "data", "expected"), CHECKIN)
def test_checkin_typed(typed: str, data: dict[str, Any], expected: Any) -> None:
    assert text("checkin_date", typed, data) == expected


def test_checkin_buttons() -> None:
    assert flow.STEPS["checkin_date"].values({}, CTX) == ("today", "yesterday")
    assert choose("checkin_date", "yesterday") == {"checkin_date": "2020-12-27"}
    arrived_today = {"arrival_date": "2020-12-28"}
    assert choose("checkin_date", "today", arrived_today) == {"checkin_date": "2020-12-28"}
    assert choose("checkin_date", "yesterday", arrived_today) == Invalid(
        "checkin_before_arrival", {"arrival": date(2020, 12, 28)}
    )


# --- expected check-out ----------------------------------------------------------------------

IN = date(2020, 12, 27)
CHECKOUT = [
    ("明天", IN, date(2020, 12, 29)),
    ("后天", IN, date(2020, 12, 30)),
    ("today", IN, date(2020, 12, 28)),
    ("住3晚", IN, date(2020, 12, 30)),
    ("3 nights", IN, date(2020, 12, 30)),
    ("60天", IN, date(2021, 2, 25)),
    ("61天", IN, Invalid("checkout_too_far", {"days": 60})),
    ("12月31日", IN, date(2020, 12, 31)),
    ("1月3日", IN, date(2021, 1, 3)),  # next year's, seen from late December
    ("1-3", IN, date(2021, 1, 3)),
    ("2021-01-03", IN, date(2021, 1, 3)),
    ("2021年1月3号", IN, date(2021, 1, 3)),
    ("12月27日", IN, date(2020, 12, 27)),  # leaving the day of arrival
    ("12月26日", IN, Invalid("checkout_before_checkin", {"checkin": IN})),
    ("2020-12-20", IN, Invalid("checkout_before_checkin", {"checkin": IN})),
    ("2021-03-01", IN, Invalid("checkout_too_far", {"days": 60})),
    ("3月1日", IN, Invalid("checkout_too_far", {"days": 60})),
    ("2月30日", IN, Invalid("date_invalid")),
    ("下周", IN, Invalid("checkout_format")),
    ("", IN, Invalid("checkout_format")),
]


@pytest.mark.parametrize(("typed", "checkin", "expected"), CHECKOUT)
def test_parse_checkout(typed: str, checkin: date, expected: Any) -> None:
    assert flow.parse_checkout(typed, checkin, TODAY) == expected


def test_checkout_step_uses_the_checkin_answered() -> None:
    data = {"checkin_date": "2020-12-20"}
    assert text("checkout_date", "12月22日", data) == {"checkout_date": "2020-12-22"}
    assert text("checkout_date", "12月19日", data) == Invalid(
        "checkout_before_checkin", {"checkin": date(2020, 12, 20)}
    )
    assert flow.STEPS["checkout_date"].values(data, CTX) == ("tomorrow", "day_after")
    assert choose("checkout_date", "tomorrow", data) == {"checkout_date": "2020-12-29"}
    assert choose("checkout_date", "day_after", data) == {"checkout_date": "2020-12-30"}
    long_ago = {"checkin_date": "2020-10-29"}  # 61 days before tomorrow: too long a stay
    assert choose("checkout_date", "tomorrow", long_ago) == Invalid(
        "checkout_too_far", {"days": 60}
    )


def test_room() -> None:
    assert text("room", " 305 ") == {"room": "305"}
    assert text("room", "A栋1203") == {"room": "A栋1203"}
    assert isinstance(text("room", "  "), Invalid)
    assert isinstance(text("room", "1" * 21), Invalid)


# --- submit ----------------------------------------------------------------------------------

BASE = {
    "relation": "venue_guest", "name": "张三", "phone": "13800000000", "region_kind": "china",
    "origin": {"province": "北京市", "city": None, "district": None}, "arrival_date": "2020-12-27",
    "transport": "train", "village": "xf", "grid": "XF01", "address": "先锋街1号",
    "category": "visitor", "health_code": "green", "test": "no", "temperature": 36.5,
    **HOTEL,
}  # fmt: skip
STAY = {"checkin_date": "2020-12-27", "checkout_date": "2020-12-29", "room": "305"}
SUBMIT = [
    ({**BASE, **STAY}, []),
    (BASE, ["stay"]),
    ({**BASE, **STAY, "room": ""}, ["stay"]),
    ({**BASE, **STAY, "relation": "staff", "room": None}, []),  # staff: no register needed
    # the arrival date changed after the check-in was answered
    ({**BASE, **STAY, "arrival_date": "2020-12-28"}, ["stay"]),
    ({**BASE, **STAY, "checkout_date": "2020-12-26"}, ["stay"]),
]  # fmt: skip


@pytest.mark.parametrize(("data", "expected"), SUBMIT)
def test_missing_for_submit(data: dict[str, Any], expected: list[str]) -> None:
    assert flow.missing_for_submit(data, CTX) == expected


def test_stay_problem() -> None:
    assert flow.stay_problem({**BASE, **STAY}) is None
    assert flow.stay_problem({}) is None
    assert flow.stay_problem({**BASE, "checkin_date": "2020-12-20"}) is None  # still asked
    assert flow.stay_problem({**BASE, **STAY, "arrival_date": "2020-12-28"}) == Invalid(
        "checkin_before_arrival", {"arrival": date(2020, 12, 28)}
    )
    assert flow.stay_problem({**STAY, "checkout_date": "2021-03-01"}) == Invalid(
        "checkout_too_far", {"days": 60}
    )


# --- property: the check-out parser never raises and never leaves its window ----------------


@given(st.text(max_size=40), st.dates(date(2000, 1, 1), date(2090, 1, 1)))
def test_parse_checkout_total(typed: str, checkin: date) -> None:
    value = flow.parse_checkout(typed, checkin, checkin + timedelta(days=1))
    if not isinstance(value, Invalid):
        assert checkin <= value <= checkin + timedelta(days=flow.MAX_STAY_DAYS)


@given(st.dates(date(2000, 1, 1), date(2090, 1, 1)), st.integers(0, 60))
def test_parse_checkout_month_day_round_trip(checkin: date, days: int) -> None:
    expected = checkin + timedelta(days=days)
    typed = f"{expected.month}月{expected.day}日"
    assert flow.parse_checkout(typed, checkin, checkin) == expected


# --- the form prefilled from the unit --------------------------------------------------------

VILLAGES = {"xf": ("XF01", "XF02"), "sq": ()}
UNIT = {"id": "hotel1", "kind": "hotel", "name": "先锋宾馆", "village_id": "xf",
        "grid_id": "XF02", "address": "先锋街8号"}  # fmt: skip
UNIT_BASE = {"unit": "hotel1", "unit_kind": "hotel", "unit_name": "先锋宾馆"}
PLACE = {"village": "xf", "prefilled_village": True, "grid": "XF02", "prefilled_grid": True,
         "address": "先锋街8号", "prefilled_address": True}  # fmt: skip
UNIT_ANSWERS = [
    (UNIT, True, {**UNIT_BASE, **PLACE, "relation": "self", "prefilled_relation": True}),
    (UNIT, False, {**UNIT_BASE, **PLACE, "liaison": True}),
    # a grid not of its village, no address: asked
    ({**UNIT, "grid_id": "SQ01", "address": ""}, False,
     {**UNIT_BASE, "village": "xf", "prefilled_village": True, "liaison": True}),
    ({**UNIT, "grid_id": None}, False,
     {**UNIT_BASE, "village": "xf", "prefilled_village": True, "address": "先锋街8号",
      "prefilled_address": True, "liaison": True}),
    # a village the town no longer has: everything of the place asked
    ({**UNIT, "village_id": "zz", "address": ""}, False, {**UNIT_BASE, "liaison": True}),
    ({**UNIT, "village_id": "sq", "grid_id": None, "address": ""}, True,
     {**UNIT_BASE, "village": "sq", "prefilled_village": True, "relation": "self",
      "prefilled_relation": True}),
]  # fmt: skip


@pytest.mark.parametrize(("unit", "guest", "expected"), UNIT_ANSWERS)
def test_unit_answers(unit: dict[str, Any], guest: bool, expected: dict[str, Any]) -> None:
    assert flow.unit_answers(unit, VILLAGES, guest=guest) == expected
