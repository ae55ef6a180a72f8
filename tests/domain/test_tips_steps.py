"""The neighbour tip's step table, driven directly (known answers, no bot): the buttons, what
each answer stores, the next question and what a draft still lacks."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.domain import tips as flow
from bot.domain.invalid import Invalid

VILLAGES = {"xf": ("XF01", "XF02"), "sq": ("SQ01",)}
CTX = flow.Context(today=date(2020, 10, 26), villages=VILLAGES)


def choose(step: str, value: str, data: dict[str, Any] | None = None) -> Any:
    return flow.apply_choice(flow.STEPS[step], value, data or {}, CTX)


def text(step: str, answer: str, data: dict[str, Any] | None = None) -> Any:
    parse = flow.STEPS[step].text
    assert parse is not None
    return parse(answer, data or {}, CTX)


CHOICES = [
    ("kind", {}, ("unregistered", "symptoms", "gathering", "venue", "other")),
    ("venue", {}, ("hotel", "guesthouse", "bnb", "daily_rental", "farmstay")),
    ("village", {}, ("xf", "sq")),
    ("grid", {"village": "xf"}, ("XF01", "XF02", "none")),
    ("grid", {}, ("none",)),
    ("grid", {"village": "zz"}, ("none",)),
    ("name", {}, ("skip",)),
    ("venue_name", {}, ("skip",)),
    ("phone", {}, ("skip",)),
    ("relation", {}, ("resident", "family", "tenant", "guest", "employee", "unknown")),
    ("description", {"kind": "gathering"}, ()),
    ("description", {"kind": "other"}, ()),
    ("description", {"kind": "symptoms"}, ("skip",)),
    ("description", {}, ("skip",)),
    ("since", {}, ("today", "yesterday", "unknown")),
    ("photo", {}, ("skip",)),
    ("summary", {}, ("submit", "cancel")),
]


@pytest.mark.parametrize(("step", "data", "expected"), CHOICES)
def test_the_buttons(step, data, expected) -> None:
    assert flow.STEPS[step].values(data, CTX) == expected


PRESSES = [
    ("kind", "venue", {}, {"kind": "venue"}),
    ("kind", "party", {}, Invalid("choice_stale")),
    ("venue", "bnb", {}, {"venue_kind": "bnb"}),
    ("village", "sq", {"grid": "XF01"}, {"village": "sq", "grid": None}),
    ("village", "zz", {}, Invalid("choice_stale")),
    ("grid", "XF02", {"village": "xf"}, {"grid": "XF02"}),
    ("grid", "none", {"village": "xf"}, {"grid": None}),
    ("grid", "SQ01", {"village": "xf"}, Invalid("choice_stale")),
    ("address", "skip", {}, Invalid("choice_stale")),
    ("name", "skip", {"name": "张三"}, {"name": None}),
    ("venue_name", "skip", {"name": "如家"}, {"name": None}),
    ("phone", "skip", {}, {"phone": None}),
    ("relation", "tenant", {}, {"relation": "tenant"}),
    ("description", "skip", {"kind": "symptoms"}, {"description": None}),
    ("description", "skip", {"kind": "gathering"}, Invalid("choice_stale")),
    ("since", "today", {}, {"since": "2020-10-26"}),
    ("since", "yesterday", {}, {"since": "2020-10-25"}),
    ("since", "unknown", {"since": "2020-10-25"}, {"since": None}),
    ("photo", "skip", {}, {"photo_file_id": None}),
    ("summary", "submit", {}, {"summary": "submit"}),
    ("summary", "skip", {}, Invalid("choice_stale")),
]


@pytest.mark.parametrize(("step", "value", "data", "expected"), PRESSES)
def test_pressed_buttons(step, value, data, expected) -> None:
    assert choose(step, value, data) == expected


TEXTS = [
    ("address", " 先锋街12号 ", {"address": "先锋街12号"}),
    ("address", "a", Invalid("address_short")),
    ("name", "张三", {"name": "张三"}),
    ("name", "", Invalid("name_empty")),
    ("venue_name", "如家酒店", {"name": "如家酒店"}),
    ("venue_name", "x" * 301, Invalid("too_long", {"limit": 300})),
    ("phone", "13800138000", {"phone": "13800138000"}),
    ("phone", "12", Invalid("phone_format")),
    ("description", "x" * 300, {"description": "x" * 300}),
    ("description", "x" * 301, Invalid("too_long", {"limit": 300})),
    ("description", " ", Invalid("text_empty")),
    ("since", "2020-10-20", {"since": "2020-10-20"}),
    ("since", "昨天", {"since": "2020-10-25"}),
    ("since", "2020-08-27", {"since": "2020-08-27"}),  # 60 days back
    ("since", "2020-08-26", Invalid("date_too_old", {"days": 60})),
    ("since", "2020-10-27", Invalid("date_future")),
    ("since", "hmm", Invalid("date_format")),
]


@pytest.mark.parametrize(("step", "answer", "expected"), TEXTS)
def test_typed_answers(step, answer, expected) -> None:
    assert text(step, answer) == expected


def test_a_location_pin_answers_the_address() -> None:
    assert flow.STEPS["address"].location is not None
    assert flow.STEPS["address"].location(45.75, 126.65) == {"latitude": 45.75, "longitude": 126.65}
    assert flow.STEPS["photo"].photo == "photo_file_id"


NEXT = [
    ("kind", {"kind": "venue"}, "venue"),
    ("kind", {"kind": "symptoms"}, "village"),
    ("kind", {"kind": "symptoms", "prefilled_village": "xf"}, "grid"),
    ("kind", {"kind": "symptoms", "prefilled_village": "xf", "prefilled_grid": "XF01"},
     "address"),
    ("address", {"kind": "unregistered"}, "name"),
    ("address", {"kind": "symptoms"}, "name"),
    ("address", {"kind": "other"}, "name"),
    ("address", {"kind": "venue"}, "venue_name"),
    ("address", {"kind": "gathering"}, "description"),
    ("name", {"kind": "other"}, "phone"),
    ("venue_name", {"kind": "venue"}, "description"),
    ("phone", {"kind": "unregistered"}, "relation"),
    ("phone", {"kind": "symptoms"}, "relation"),
    ("phone", {"kind": "other"}, "description"),
    ("relation", {"kind": "symptoms"}, "description"),
    ("description", {}, "since"),
    ("since", {}, "photo"),
    ("photo", {}, "summary"),
    ("summary", {}, "summary"),
]  # fmt: skip


@pytest.mark.parametrize(("current", "data", "expected"), NEXT)
def test_the_next_question(current, data, expected) -> None:
    assert flow.next_step(current, data) == expected


def test_changing_the_kind_forgets_the_answers_about_the_person_or_venue() -> None:
    data = {"kind": "venue", "venue_kind": "bnb", "name": "如家", "phone": "13800138000",
            "relation": "guest", "village": "xf", "description": "d"}  # fmt: skip
    assert flow.advance("kind", {"kind": "symptoms"}, data) == (
        "village", {"kind": "symptoms", "village": "xf", "description": "d"}
    )  # fmt: skip
    assert flow.advance("kind", {"kind": "venue"}, {}) == ("venue", {"kind": "venue"})
    # any other answer keeps them
    assert flow.advance("venue", {"venue_kind": "hotel"}, data) == (
        "village", {**data, "venue_kind": "hotel"}
    )  # fmt: skip
    assert flow.advance("name", {"name": "李四"}, {"kind": "unregistered", "phone": "1"}) == (
        "phone", {"kind": "unregistered", "phone": "1", "name": "李四"}
    )  # fmt: skip


def test_a_whole_tip() -> None:
    rows = [
        ("kind", choose, "unregistered", "village"),
        ("village", choose, "xf", "grid"),
        ("grid", choose, "none", "address"),
        ("address", text, "先锋街12号", "name"),
        ("name", choose, "skip", "phone"),
        ("phone", text, "13800138000", "relation"),
        ("relation", choose, "tenant", "description"),
        ("description", choose, "skip", "since"),
        ("since", choose, "yesterday", "photo"),
        ("photo", choose, "skip", "summary"),
    ]
    data: dict[str, Any] = {}
    for step, answer, value, expected in rows:
        updates = answer(step, value, data)
        step, data = flow.advance(step, updates, data)
        assert step == expected
    assert data == {
        "kind": "unregistered", "village": "xf", "grid": None, "address": "先锋街12号",
        "name": None, "phone": "13800138000", "relation": "tenant", "description": None,
        "since": "2020-10-25", "photo_file_id": None,
    }  # fmt: skip
    assert flow.missing_for_submit(data, CTX) is None


MISSING = [
    ({}, "kind"),
    ({"kind": "party"}, "kind"),
    ({"kind": "venue", "village": "xf", "address": "a"}, "venue"),
    ({"kind": "venue", "venue_kind": "castle", "village": "xf", "address": "a"}, "venue"),
    ({"kind": "venue", "venue_kind": "bnb", "village": "xf", "address": "a"}, None),
    ({"kind": "symptoms", "address": "a"}, "village"),
    ({"kind": "symptoms", "village": "zz", "address": "a"}, "village"),
    ({"kind": "symptoms", "village": "xf", "grid": "SQ01", "address": "a"}, "grid"),
    ({"kind": "symptoms", "village": "xf", "grid": "XF02", "address": "a"}, None),
    ({"kind": "symptoms", "village": "xf", "grid": None, "address": "a"}, None),
    ({"kind": "symptoms", "village": "xf"}, "address"),
    ({"kind": "symptoms", "village": "xf", "address": ""}, "address"),
    ({"kind": "symptoms", "village": "xf", "latitude": 0.0, "longitude": 0.0}, None),
    ({"kind": "symptoms", "village": "xf", "latitude": None}, "address"),
    ({"kind": "gathering", "village": "xf", "address": "a"}, "description"),
    ({"kind": "other", "village": "xf", "address": "a", "description": ""}, "description"),
    ({"kind": "other", "village": "xf", "address": "a", "description": "d"}, None),
]


@pytest.mark.parametrize(("data", "expected"), MISSING)
def test_what_a_draft_lacks(data, expected) -> None:
    assert flow.missing_for_submit(data, CTX) == expected


@pytest.mark.parametrize(
    ("kind", "required"),
    [("gathering", True), ("other", True), ("venue", False), ("symptoms", False), (None, False)],
)
def test_description_required(kind, required) -> None:
    assert flow.description_required({"kind": kind}) is required


@pytest.mark.parametrize(
    ("payload", "expected"),
    [("t-XF01", "XF01"), ("t-xf", "xf"), ("XF01", None), ("t-", None), (None, None),
     ("t-" + "a" * 17, None), ("xt-XF01", None)],
)  # fmt: skip
def test_tip_payload(payload, expected) -> None:
    assert flow.parse_tip_payload(payload) == expected


def test_the_staff_view_columns() -> None:
    assert flow.TipView.columns() == (
        "kind", "venue_kind", "person_name", "person_phone", "relation", "description",
        "village_id", "grid_id", "address", "latitude", "longitude", "since", "photo_file_id",
        "id", "ref", "state", "outcome", "report_id", "escalated_at", "created_at",
        "deadline_at", "handled_at",
    )  # fmt: skip
