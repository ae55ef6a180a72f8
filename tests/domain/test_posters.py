"""The posters' rules (bot.domain.posters): which posters a choice gives, in which order, the
deep links of their two codes, who may print them, and the hotline's parser — known-answer
tables, written out by hand (the code is not its own oracle)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import posters
from bot.domain.invalid import Invalid
from bot.domain.posters import GridPlace, Venue, VillagePlace
from bot.domain.roles import Actor
from bot.domain.tips import parse_tip_payload
from bot.flows.arrivals import DEEP_LINK, venue_unit

TOWN = (
    VillagePlace("xf", "先锋社区", (GridPlace("XF01", "第1网格"), GridPlace("XF02", "第2网格"))),
    VillagePlace("sq", "石桥村", (GridPlace("SQ01", "石桥1"),)),
)
VENUES = (
    Venue("inn", "先锋宾馆", "xf", "XF02"),
    Venue("farm", "农家乐", "sq", None),  # no grid follows it: tips go to the village
    Venue("gone", "旧民宿", "sq", "XF01"),  # a grid of another village: the village's
)


def shown(chosen: list[posters.Poster] | Invalid) -> list[tuple[str, ...]]:
    assert not isinstance(chosen, Invalid), chosen
    return [(p.kind, p.id, p.arrival_payload, p.tip_payload, p.staff_of, p.village)
            for p in chosen]  # fmt: skip


def test_the_whole_town_village_by_village() -> None:
    assert shown(posters.select(TOWN, VENUES)) == [
        ("village", "xf", "a-xf", "t-xf", "xf", ""),
        ("grid", "XF01", "a-XF01", "t-XF01", "XF01", "先锋社区"),
        ("grid", "XF02", "a-XF02", "t-XF02", "XF02", "先锋社区"),
        ("venue", "inn", "u-inn", "t-XF02", "XF02", "先锋社区"),
        ("village", "sq", "a-sq", "t-sq", "sq", ""),
        ("grid", "SQ01", "a-SQ01", "t-SQ01", "SQ01", "石桥村"),
        ("venue", "farm", "u-farm", "t-sq", "sq", "石桥村"),
        ("venue", "gone", "u-gone", "t-sq", "sq", "石桥村"),
    ]


@pytest.mark.parametrize(
    ("choice", "ids"),
    [
        ({"village": "xf"}, ["xf", "XF01", "XF02", "inn"]),
        ({"village": "sq"}, ["sq", "SQ01", "farm", "gone"]),
        ({"grid": "XF02"}, ["XF02"]),
        ({"unit": "farm"}, ["farm"]),
        ({"village": "sq", "grid": "SQ01"}, ["SQ01"]),
    ],
)
def test_a_choice_narrows_the_posters(choice: dict[str, str], ids: list[str]) -> None:
    assert [row[1] for row in shown(posters.select(TOWN, VENUES, **choice))] == ids


@pytest.mark.parametrize(
    ("choice", "reason"),
    [
        ({"village": "zz"}, "no_village"),
        ({"grid": "ZZ01"}, "no_grid"),
        ({"grid": "xf"}, "no_grid"),  # a village is not a grid
        ({"unit": "XF01"}, "no_venue"),  # nor a grid a venue
        ({"unit": "nope"}, "no_venue"),
        ({"village": "xf", "grid": "SQ01"}, "no_grid"),  # another village's grid
    ],
)
def test_a_place_the_town_has_not_is_refused(choice: dict[str, str], reason: str) -> None:
    assert posters.select(TOWN, VENUES, **choice) == Invalid(reason)


def test_every_payload_opens_the_right_form() -> None:
    """Each code's payload is what the forms read: the arrival form's prefill
    (bot.flows.arrivals), a venue's guest form, the tip form's place."""
    for poster in posters.select(TOWN, VENUES):
        assert posters.PAYLOAD.fullmatch(poster.arrival_payload)
        if poster.kind == posters.VENUE:
            assert venue_unit(poster.arrival_payload) == poster.id
        else:
            assert DEEP_LINK.match(poster.arrival_payload).group(1) == poster.id
        assert parse_tip_payload(poster.tip_payload) == poster.tip_place


def test_the_deep_link() -> None:
    assert posters.deep_link("paicha_bot", "a-XF01") == "https://t.me/paicha_bot?start=a-XF01"
    for payload in ("", "a b", "a" * 65, "t-先锋"):
        with pytest.raises(ValueError):
            posters.deep_link("paicha_bot", payload)
    assert posters.deep_link("b", "a" * 64).endswith("=" + "a" * 64)


@pytest.mark.parametrize(
    ("actor", "village", "may", "opens"),
    [
        (Actor(1, is_admin=True), "xf", True, True),
        (Actor(1, is_leader=True), "sq", True, True),
        (Actor(1, admin_villages=frozenset({"xf"})), "xf", True, True),
        (Actor(1, admin_villages=frozenset({"xf"})), "sq", False, True),
        (Actor(1, worker_grids=frozenset({"XF01"})), "xf", False, False),
        (Actor(1, unit_ids=frozenset({"inn"})), "xf", False, False),
        (Actor(1, site_ids=frozenset({"GL01"}), is_dispatcher=True), "xf", False, False),
        (Actor(1), "xf", False, False),
    ],
)
def test_who_may_print(actor: Actor, village: str, may: bool, opens: bool) -> None:
    assert posters.may_print(actor, village) is may
    assert posters.may_open(actor) is opens


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("023-47521234", "023-47521234"),  # Jiangjin's landline, as the town writes it
        (" 02347521234 ", "02347521234"),
        ("(023) 4752 1234", "(023) 4752 1234"),
        ("+86 23 4752 1234", "+86 23 4752 1234"),
        ("12345", "12345"),  # the government service hotline
        ("12320", "12320"),  # the health hotline
        ("120", "120"),
        ("13800138000", "13800138000"),
        ("400-820-8820", "400-820-8820"),
        ("800-820-8820", "800-820-8820"),
        ("023-4752", None),  # too short for a landline
        ("1234", None),
        ("0000000", None),
        ("+1 212 555 0100", None),  # not a mainland number
        ("023-47521234 转 8", None),
        ("热线", None),
        ("", None),
        ("   ", None),
        ("1" * 21, None),
        ("--12345", None),
    ],
)
def test_the_hotline(text: str, printed: str | None) -> None:
    assert posters.parse_hotline(text) == (printed or Invalid("hotline_format"))


@given(st.text(alphabet="0123456789 -()+转a", max_size=24))
def test_a_hotline_is_what_was_typed_or_refused(text: str) -> None:
    parsed = posters.parse_hotline(text)
    if not isinstance(parsed, Invalid):
        assert parsed == text.strip()
        assert len(re.sub(r"\D", "", parsed)) >= 3
        assert posters.parse_hotline(parsed) == parsed
