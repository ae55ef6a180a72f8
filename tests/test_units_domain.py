"""Key units: the pure rules (kinds, subjects, the venue's deep link, 重点监测 when the config
is read again) and who may do what with a unit — known answers, written out by hand."""

from __future__ import annotations

import re

import pytest

from bot.domain import roles
from bot.domain import units as rules
from bot.domain.roles import ROLE_UNIT, ROLE_WORKER, Actor

VILLAGE_OF = {"XF01": "xf", "XF02": "xf", "SQ01": "sq"}.get
PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")  # Telegram's deep-link payload

LIAISON = Actor(7, unit_ids=frozenset({"xfhotel"}))
OTHER_LIAISON = Actor(8, unit_ids=frozenset({"jnvs"}))
WORKER = Actor(3, worker_grids=frozenset({"XF01"}))
WORKER_SQ = Actor(4, worker_grids=frozenset({"SQ01"}))
VADMIN = Actor(2, admin_villages=frozenset({"xf"}))
VADMIN_SQ = Actor(5, admin_villages=frozenset({"sq"}))
LEADER = Actor(6, is_leader=True)
ADMIN = Actor(1, is_admin=True, is_leader=True)
RESIDENT = Actor(9)


@pytest.mark.parametrize(
    ("kind", "canonical", "venue"),
    [
        ("enterprise_park", "enterprise", False),  # an older config's name
        ("enterprise", "enterprise", False),
        ("school", "school", False),
        ("hotel", "hotel", True),
        ("homestay", "homestay", True),
        ("rental", "rental", True),
        ("farmstay", "farmstay", True),
        ("other", "other", False),
        ("mall", "mall", False),  # unknown: left for the config's check to name
    ],
)
def test_kinds(kind: str, canonical: str, venue: bool) -> None:
    assert rules.canonical_kind(kind) == canonical
    assert rules.is_venue(rules.canonical_kind(kind)) is venue


@pytest.mark.parametrize(
    ("subject", "unit"),
    [
        ("unit:jnvs", "jnvs"),
        ("unit:park_2", "park_2"),
        ("unit:DW01", "DW01"),  # the shape of a unit added in chat
        ("unit:DW1", None),
        ("unit:", None),
        ("unit:Jnvs", None),
        ("unit:a b", None),
        ("unit:abcdefghijklmnopq", None),  # 17 characters: no config id is so long
        ("site:GL01", None),
        ("jnvs", None),
    ],
)
def test_unit_of_a_subject(subject: str, unit: str | None) -> None:
    assert rules.unit_of(subject) == unit


def test_subject_round_trip() -> None:
    assert rules.subject("xfhotel") == "unit:xfhotel"
    assert rules.unit_of(rules.subject("xfhotel")) == "xfhotel"


def test_venue_link() -> None:
    assert rules.venue_payload("xfhotel") == "u-xfhotel"
    assert rules.venue_link("paicha_bot", "xfhotel") == "https://t.me/paicha_bot?start=u-xfhotel"
    assert PAYLOAD.fullmatch(rules.venue_payload("a" * 16))  # the longest config id fits


@pytest.mark.parametrize(
    ("stored", "initial", "monitored"),
    [(None, False, False), (None, True, True), (True, False, True), (False, True, False)],
)
def test_monitoring_set_in_chat_is_kept(
    stored: bool | None, initial: bool, monitored: bool
) -> None:
    assert rules.seeded_monitored(stored, initial) is monitored


@pytest.mark.parametrize(
    ("actor", "unit", "allowed"),
    [
        (LIAISON, "xfhotel", True),
        (LIAISON, "jnvs", False),  # another unit's: refused (and audited by the caller)
        (OTHER_LIAISON, "xfhotel", False),
        (ADMIN, "xfhotel", True),
        (LEADER, "xfhotel", False),  # leaders read; they do not file for a unit
        (VADMIN, "xfhotel", False),
        (WORKER, "xfhotel", False),
        (RESIDENT, "xfhotel", False),
    ],
)
def test_can_liaise(actor: Actor, unit: str, allowed: bool) -> None:
    assert roles.can_liaise(actor, unit) is allowed


# The hotel is in 先锋社区 (xf), followed by grid XF01; the school in 石桥村 (sq), no grid.
@pytest.mark.parametrize(
    ("actor", "hotel", "school"),
    [
        (LEADER, True, True),
        (ADMIN, True, True),
        (VADMIN, True, False),
        (VADMIN_SQ, False, True),
        (WORKER, True, False),
        (WORKER_SQ, False, False),  # the school has no grid: its village's admins follow it
        (LIAISON, True, False),
        (OTHER_LIAISON, False, True),
        (RESIDENT, False, False),
    ],
)
def test_can_view_unit(actor: Actor, hotel: bool, school: bool) -> None:
    assert roles.can_view_unit(actor, "xfhotel", "xf", "XF01", VILLAGE_OF) is hotel
    assert roles.can_view_unit(actor, "jnvs", "sq", None, VILLAGE_OF) is school


@pytest.mark.parametrize(
    ("actor", "lists", "marks"),
    [
        (LEADER, True, True),
        (ADMIN, True, True),
        (VADMIN, True, False),
        (WORKER, True, False),
        (LIAISON, True, False),
        (Actor(10, site_ids=frozenset({"GL01"})), False, False),
        (RESIDENT, False, False),
    ],
)
def test_list_and_mark(actor: Actor, lists: bool, marks: bool) -> None:
    assert roles.can_list_units(actor) is lists
    assert roles.can_mark_monitored(actor) is marks


@pytest.mark.parametrize(
    ("actor", "role", "village", "allowed"),
    [
        (LEADER, ROLE_UNIT, "xf", True),
        (LEADER, ROLE_UNIT, None, True),
        (LEADER, ROLE_WORKER, "xf", False),  # a leader invites liaisons only
        (ADMIN, ROLE_UNIT, "sq", True),
        (VADMIN, ROLE_UNIT, "xf", True),
        (VADMIN, ROLE_UNIT, None, True),
        (VADMIN, ROLE_UNIT, "sq", False),  # another village's unit
        (WORKER, ROLE_UNIT, "xf", False),
        (LIAISON, ROLE_UNIT, "xf", False),
    ],
)
def test_who_invites_a_liaison(actor: Actor, role: str, village: str | None, allowed: bool) -> None:
    assert roles.can_invite(actor, role, village) is allowed


def test_a_liaison_is_staff_with_their_own_role() -> None:
    assert LIAISON.is_staff and LIAISON.role == "unit"
    assert Actor(1, worker_grids=frozenset({"XF01"}), unit_ids=frozenset({"x"})).role == "worker"
    assert not RESIDENT.is_staff and RESIDENT.role == "resident"


@pytest.mark.parametrize(
    ("count", "requested", "shown", "pages"),
    [
        (0, 0, 0, 1),  # nothing listed: still one (empty) page
        (1, 0, 0, 1),
        (20, 0, 0, 1),  # exactly one page full
        (20, 1, 0, 1),  # a stale number: the nearest page there is
        (21, 1, 1, 2),  # one more: a second page
        (40, 1, 1, 2),
        (41, 2, 2, 3),
        (100, 4, 4, 5),
        (100, 5, 4, 5),
        (100, 99, 4, 5),
        (100, -1, 0, 5),  # made up: the first
        (105, 5, 5, 6),
    ],
)
def test_the_page_of_units_shown(count: int, requested: int, shown: int, pages: int) -> None:
    assert rules.page_of(count, requested) == (shown, pages)


def test_a_page_lists_twenty_units() -> None:
    assert rules.PAGE_SIZE == 20
