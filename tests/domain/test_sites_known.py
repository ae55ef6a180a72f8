"""Isolation sites' rules (bot.domain.sites) against tables written by hand: the states a site
moves through, the rooms an admin types, the capacity, the checklist, the ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import sites
from bot.domain.invalid import Invalid

# (state, event) -> the state it leads to; None: refused there
MOVES = [
    ("reserved", "order", "activating"),
    ("reserved", "complete", None),
    ("reserved", "close", "closed"),
    ("reserved", "reopen", None),
    ("activating", "order", None),
    ("activating", "complete", "active"),
    ("activating", "close", "closed"),
    ("activating", "reopen", None),
    ("active", "order", None),
    ("active", "complete", None),
    ("active", "close", "closed"),
    ("active", "reopen", None),
    ("closed", "order", None),
    ("closed", "complete", None),
    ("closed", "close", None),
    ("closed", "reopen", "reserved"),
    ("reserved", "activate", None),  # not an event at all
]


@pytest.mark.parametrize(("state", "event", "expected"), MOVES)
def test_state_machine(state: str, event: str, expected: str | None) -> None:
    assert sites.next_state(state, event) == expected


def test_the_table_covers_every_state_and_event() -> None:
    assert {(s, e) for s, e, _ in MOVES} >= {(s, e) for s in sites.STATES for e in sites.EVENTS}


# (stored state, the config's state) -> the state after a start
SEEDED = [
    ("reserved", "reserved", "reserved"),
    ("reserved", "active", "active"),
    ("activating", "reserved", "activating"),
    ("activating", "active", "activating"),
    ("active", "reserved", "active"),
    ("closed", "active", "closed"),
    ("closed", "reserved", "closed"),
]


@pytest.mark.parametrize(("stored", "configured", "expected"), SEEDED)
def test_the_config_never_undoes_runtime_state(stored: str, configured: str, expected: str) -> None:
    assert sites.seeded_state(stored, configured) == expected


ROOMS = [
    ("3", ("1", "2", "3")),
    (" 2 ", ("1", "2")),
    ("101 102 103", ("101", "102", "103")),
    ("101、102，103", ("101", "102", "103")),
    ("101-103", ("101", "102", "103")),
    ("101 - 103；201~202", ("101", "102", "103", "201", "202")),
    ("101到102", ("101", "102")),
    ("008-010", ("008", "009", "010")),
    ("a-203 b1", ("A-203", "B1")),
    ("5-5", ("5",)),
    ("0", Invalid("site_rooms_count", {"limit": 2000})),
    ("2001", Invalid("site_rooms_count", {"limit": 2000})),
    ("", Invalid("site_rooms_empty")),
    ("，、", Invalid("site_rooms_empty")),
    ("101 101", Invalid("site_room_twice", {"room": "101"})),
    ("101-103 102", Invalid("site_room_twice", {"room": "102"})),
    ("110-101", Invalid("site_room_range", {"text": "110-101"})),
    ("1-3000", Invalid("site_room_range", {"text": "1-3000"})),
    ("一零一", Invalid("site_room_bad", {"text": "一零一"})),
    ("A/1", Invalid("site_room_bad", {"text": "A/1"})),
    ("123456789", Invalid("site_rooms_count", {"limit": 2000})),
    ("123456789 1", Invalid("site_room_bad", {"text": "123456789"})),
    ("~", Invalid("site_room_bad", {"text": "~"})),
]


@pytest.mark.parametrize(("text", "expected"), ROOMS)
def test_parse_rooms(text: str, expected: object) -> None:
    assert sites.parse_rooms(text) == expected


def test_too_many_rooms_by_ranges() -> None:
    assert sites.parse_rooms("1-1500 2001-2600") == Invalid("site_rooms_count", {"limit": 2000})
    assert len(sites.parse_rooms("1-1000 2001-3000")) == 2000


@given(st.lists(st.integers(1, 9999), min_size=1, max_size=30, unique=True),
       st.sampled_from([" ", "，", "、", ", "]))  # fmt: skip
def test_typed_room_numbers_come_back_in_order(numbers: list[int], sep: str) -> None:
    typed = sep.join(str(n) for n in numbers)
    expected = tuple(str(n) for n in numbers) if len(numbers) > 1 else None
    parsed = sites.parse_rooms(typed)
    if expected is None:  # one number alone is a count
        assert parsed == sites.numbered_rooms(numbers[0]) or isinstance(parsed, Invalid)
    else:
        assert parsed == expected


@given(st.text(max_size=40))
def test_parse_rooms_never_raises(text: str) -> None:
    parsed = sites.parse_rooms(text)
    assert isinstance(parsed, Invalid) or (
        0 < len(parsed) <= sites.MAX_ROOMS and len(set(parsed)) == len(parsed)
    )


@given(st.integers(1, 500), st.integers(0, 600))
def test_range_expands_to_every_room(low: int, span: int) -> None:
    assert sites.parse_rooms(f"{low}-{low + span}") == tuple(
        str(n) for n in range(low, low + span + 1)
    )


CAPACITY = [
    ("10", 10, 10),
    ("0", 10, 0),
    (" 7 ", 10, 7),
    ("11", 10, Invalid("site_capacity_rooms", {"rooms": 10})),
    ("十", 10, Invalid("site_capacity_number")),
    ("-1", 10, Invalid("site_capacity_number")),
    ("", 10, Invalid("site_capacity_number")),
]


@pytest.mark.parametrize(("text", "rooms", "expected"), CAPACITY)
def test_parse_capacity(text: str, rooms: int, expected: object) -> None:
    assert sites.parse_capacity(text, rooms) == expected


NAMES = [
    ("  先锋宾馆  隔离点 ", "先锋宾馆 隔离点"),
    ("", Invalid("site_name_empty")),
    ("  ", Invalid("site_name_empty")),
    ("隔" * 40, "隔" * 40),
    ("隔" * 41, Invalid("site_text_long", {"limit": 40})),
]


@pytest.mark.parametrize(("text", "expected"), NAMES)
def test_parse_name(text: str, expected: object) -> None:
    assert sites.parse_name(text) == expected


ADDRESSES = [
    ("先锋街88号", "先锋街88号"),
    ("先锋街", Invalid("site_address_short")),
    ("路" * 80, "路" * 80),
    ("路" * 81, Invalid("site_text_long", {"limit": 80})),
]


@pytest.mark.parametrize(("text", "expected"), ADDRESSES)
def test_parse_address(text: str, expected: object) -> None:
    assert sites.parse_address(text) == expected


def test_checklist_complete_only_with_all_four() -> None:
    assert sites.complete({"staff", "supplies", "rooms", "medical"})
    assert sites.complete(frozenset({"staff", "supplies", "rooms", "medical", "x"}))
    assert not sites.complete({"staff", "supplies", "rooms"})
    assert not sites.complete(set())
    assert sites.CHECKLIST == ("staff", "supplies", "rooms", "medical")


def test_ids_and_subjects() -> None:
    assert sites.new_site_id(set()) == "GLC01"
    assert sites.new_site_id({"GLC01", "GLC03"}) == "GLC02"
    assert sites.new_site_id({f"GLC{n:02d}" for n in range(1, 100)}) == "GLC100"
    assert sites.subject("GL01") == "site:GL01"
    assert sites.site_of("site:GL01") == "GL01"
    assert sites.site_of("case:1") is None
    assert sites.site_of("site:gl01") is None
    assert sites.site_of("site:") is None


def test_deadline_and_occupancy() -> None:
    ordered = datetime(2020, 11, 20, 2, 0, tzinfo=UTC)
    assert sites.activation_deadline(ordered, 24) == datetime(2020, 11, 21, 2, 0, tzinfo=UTC)
    assert sites.activation_deadline(ordered, 1.5) == datetime(2020, 11, 20, 3, 30, tzinfo=UTC)
    assert sites.Occupancy(10, 3).free == 7
    assert sites.Occupancy(10, 12).free == 0
    assert sites.numbered_rooms(3) == ("1", "2", "3")
    assert sites.numbered_rooms(0) == ()


def test_default_ladder_reminds_the_managers_then_tells_village_and_group_at_the_deadline() -> None:
    assert [(r.to, r.after_minutes) for r in sites.ACTIVATION_LADDER] == [
        ("assignee", -120),
        ("village_admin", 0),
        ("leadership", 0),
    ]
