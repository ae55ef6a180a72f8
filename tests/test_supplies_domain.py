"""Supplies' pure rules (bot.domain.supplies): the low-stock rule by known answers (crossing
down, up, staying), quantities as typed (a table, and properties over any text), who keeps
which place, shortfalls, the request's lines and the flows' step order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import supplies as s
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor

KEEPERS = frozenset({40301})


# quantity after, minimum, was below -> below now, what to say
@pytest.mark.parametrize(
    ("quantity", "minimum", "was_below", "expected"),
    [
        (999, 1000, False, (True, s.LOW)),  # crosses under: one alert
        (0, 1000, False, (True, s.LOW)),
        (500, 1000, True, (True, None)),  # still under: no second alert
        (999, 1000, True, (True, None)),
        (1000, 1000, True, (False, s.RESTORED)),  # at the minimum again: made up
        (1500, 1000, True, (False, s.RESTORED)),
        (1000, 1000, False, (False, None)),  # at the minimum is not under it
        (2000, 1000, False, (False, None)),
        (0, 0, False, (False, None)),  # no minimum: never under
        (0, 0, True, (False, s.RESTORED)),  # the minimum lowered to 0: the latch clears
        (1, 2, False, (True, s.LOW)),
    ],
)
def test_the_low_stock_rule(quantity: int, minimum: int, was_below: bool, expected: tuple) -> None:
    assert s.level_after(quantity, minimum, was_below) == expected


def test_one_alert_per_crossing_over_a_run_of_movements() -> None:
    """Masks at a minimum of 1000: issues of 300 from 1500, a receipt, more issues."""
    below, said = False, []
    for quantity in (1200, 900, 600, 300, 1300, 1000, 700, 400):
        below, event = s.level_after(quantity, 1000, below)
        said.append(event)
    assert said == [None, s.LOW, None, None, s.RESTORED, None, s.LOW, None]


@pytest.mark.parametrize(
    ("text", "zero", "expected"),
    [
        ("500", False, 500),
        ("５００", False, 500),  # full-width digits
        ("500个", False, 500),
        ("500 个", False, 500),
        ("１０００瓶", False, 1000),
        ("1,000", False, 1000),
        ("1，000 套", False, 1000),
        ("  42  ", False, 42),
        ("1000000", False, 1_000_000),
        ("0", True, 0),  # a count may find none
        ("0", False, Invalid("quantity_zero")),
        ("-5", False, Invalid("quantity_negative")),
        ("－5", False, Invalid("quantity_negative")),
        ("-0", True, 0),
        ("5.5", False, Invalid("quantity_not_whole")),
        ("1000001", False, Invalid("quantity_too_big", {"limit": 1_000_000})),
        ("", False, Invalid("quantity_not_number")),
        ("五百", False, Invalid("quantity_not_number")),
        ("abc", False, Invalid("quantity_not_number")),
        ("500个口罩很多很多", False, Invalid("quantity_not_number")),
        ("5 5", False, Invalid("quantity_not_number")),
        ("1,00", False, Invalid("quantity_not_number")),
        ("x" * 500, False, Invalid("quantity_not_number")),
    ],
)
def test_quantities_as_typed(text: str, zero: bool, expected: object) -> None:
    assert s.parse_quantity(text, zero=zero) == expected


@given(st.text(max_size=60), st.booleans())
def test_a_quantity_is_whole_and_within_bounds_or_refused_with_a_reason(
    text: str, zero: bool
) -> None:
    parsed = s.parse_quantity(text, zero=zero)
    if isinstance(parsed, Invalid):
        assert parsed.code.startswith("quantity_")
    else:
        assert isinstance(parsed, int)
        assert (0 if zero else 1) <= parsed <= s.MAX_QUANTITY


@given(st.integers(min_value=1, max_value=s.MAX_QUANTITY), st.sampled_from(["", "个", " 瓶", "套"]))
def test_any_quantity_reads_back_however_it_is_written(number: int, unit: str) -> None:
    full_width = str(number).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for written in (str(number), full_width, f"{number:,}"):
        assert s.parse_quantity(written + unit) == number


def test_places_and_their_codes() -> None:
    assert s.split("town") == ("town", "")
    assert s.split("v:xf") == ("v", "xf")
    assert s.split("s:GL01") == ("s", "GL01")
    assert s.split("x:xf") == ("", "")
    assert s.split("v:") == ("", "")
    assert s.split("xf") == ("", "")
    assert s.village_place("xf") == "v:xf" and s.site_place("GL01") == "s:GL01"
    assert s.code("v:xf") == "v.xf" and s.from_code("v.xf") == "v:xf"
    assert s.code("town") == "town" and s.from_code("town") == "town"


@pytest.mark.parametrize(
    ("actor", "place", "expected"),
    [
        (Actor(1, is_admin=True), "v:sq", True),
        (Actor(1, is_leader=True), "town", True),
        (Actor(40301), "town", True),  # the town store's keeper
        (Actor(40301), "v:xf", False),
        (Actor(2, admin_villages=frozenset({"xf"})), "v:xf", True),
        (Actor(2, admin_villages=frozenset({"xf"})), "v:sq", False),  # another village
        (Actor(2, admin_villages=frozenset({"xf"})), "town", False),
        (Actor(3, site_ids=frozenset({"GL01"})), "s:GL01", True),
        (Actor(3, site_ids=frozenset({"GL01"})), "s:GL02", False),
        (Actor(3, site_ids=frozenset({"GL01"})), "v:GL01", False),
        (Actor(4, worker_grids=frozenset({"XF01"})), "v:xf", False),  # a worker keeps none
        (Actor(2, admin_villages=frozenset({"xf"})), "bogus", False),
    ],
)
def test_who_keeps_a_place(actor: Actor, place: str, expected: bool) -> None:
    assert s.can_keep(actor, place, KEEPERS) is expected


def test_who_may_request_and_open_supplies() -> None:
    village_admin = Actor(2, admin_villages=frozenset({"xf"}))
    assert s.can_request(village_admin, "v:xf", KEEPERS)
    assert not s.can_request(village_admin, "v:sq", KEEPERS)
    assert not s.can_request(Actor(40301), "town", KEEPERS)  # the store asks nobody
    assert not s.can_request(Actor(3, site_ids=frozenset({"GL01"})), "s:GL01", KEEPERS)
    assert s.keeps_any(Actor(40301), KEEPERS)
    assert s.keeps_any(village_admin, KEEPERS)
    assert s.keeps_any(Actor(3, site_ids=frozenset({"GL01"})), KEEPERS)
    assert s.keeps_any(Actor(1, is_leader=True), KEEPERS)
    assert not s.keeps_any(Actor(4, worker_grids=frozenset({"XF01"})), KEEPERS)
    assert not s.keeps_any(Actor(5), KEEPERS)
    places = ["town", "v:xf", "v:sq", "s:GL01"]
    assert s.kept_places(village_admin, KEEPERS, places) == ["v:xf"]
    assert s.kept_places(Actor(1, is_admin=True), KEEPERS, places) == places


def test_shortfalls_and_items_below_minimum() -> None:
    stock = {"mask": 300, "suit": 10}
    assert s.shortfalls(stock, [("mask", 300), ("suit", 11), ("gloves", 1)]) == [
        ("suit", 11, 10),
        ("gloves", 1, 0),
    ]
    assert s.shortfalls(stock, [("mask", 300)]) == []
    minimums = {"mask": 1000, "suit": 10, "gloves": 0, "alcohol": 5}
    assert s.below_minimum(stock, minimums) == [("mask", 300, 1000), ("alcohol", 0, 5)]


def test_request_lines_add_up_per_item() -> None:
    lines = s.add_line([], "mask", 100)
    lines = s.add_line(lines, "suit", 5)
    lines = s.add_line(lines, "mask", 50)
    assert lines == [{"item": "mask", "quantity": 150}, {"item": "suit", "quantity": 5}]


def test_notes() -> None:
    assert s.parse_note("  急需 ") == "急需"
    assert s.parse_note("   ") == Invalid("text_empty")
    assert s.parse_note("字" * 201) == Invalid("too_long", {"limit": 200})


def test_the_movement_steps_in_order() -> None:
    rules = s.MoveRules
    data = {"place": "town", "op": s.ISSUE, "targets": ["v.xf"]}
    step, data = rules.advance("item", {"item": "mask"}, data)
    assert step == "quantity"
    step, data = rules.advance("quantity", {"quantity": 5}, data)
    assert step == "to"
    assert rules.STEPS["to"].values(data, None) == ("v.xf", s.PERSON)
    assert rules.advance("to", {"to": "v.xf"}, data)[0] == "summary"
    step, data = rules.advance("to", {"to": s.PERSON}, data)
    assert step == "person"
    assert rules.advance("person", {"person": "张三"}, data)[0] == "summary"
    received = {"place": "town", "op": s.RECEIVE}
    assert rules.advance("quantity", {"quantity": 5}, received)[0] == "summary"
    quantity = rules.STEPS["quantity"].text
    assert quantity("0", {"op": s.COUNT}, None) == {"quantity": 0}
    assert quantity("0", {"op": s.RECEIVE}, None) == Invalid("quantity_zero")
    assert rules.STEPS["person"].text("张三", {}, None) == {"person": "张三"}
    assert isinstance(rules.STEPS["person"].text("123", {}, None), Invalid)
    ctx = s.Context(("mask", "suit"))
    item = rules.STEPS["item"]
    assert rules.apply_choice(item, "suit", {}, ctx) == {"item": "suit"}
    assert rules.apply_choice(item, "gone", {}, ctx) == Invalid("choice_stale")


def test_the_request_steps_collect_lines() -> None:
    rules = s.RequestRules
    data: dict = {"place": "v:xf", "lines": []}
    step, data = rules.advance("item", {"item": "mask"}, data)
    step, data = rules.advance("quantity", {"quantity": 100}, data)
    assert step == "more" and data["lines"] == [{"item": "mask", "quantity": 100}]
    assert "item" not in data and "quantity" not in data
    assert rules.STEPS["more"].values(data, None) == (s.MORE, s.DONE)
    step, data = rules.advance("more", {"more": s.MORE}, data)
    assert step == "item" and "more" not in data
    step, data = rules.advance("more", {"more": s.DONE}, data)
    assert step == "note"
    note = rules.STEPS["note"]
    assert rules.apply_choice(note, s.SKIP, data, None) == {"note": ""}
    assert rules.apply_choice(note, "x", data, None) == Invalid("choice_stale")
    assert note.text("急需", data, None) == {"note": "急需"}
    assert rules.advance("note", {"note": ""}, data)[0] == "summary"
    full = {"lines": [{"item": str(i), "quantity": 1} for i in range(s.MAX_LINES)]}
    assert rules.STEPS["more"].values(full, None) == (s.DONE,)
    more = rules.STEPS["more"]
    assert rules.apply_choice(more, s.MORE, data, None) == {"more": s.MORE}
