"""Who may do what (known answers per role): invite deep links, the inbox and coverage views,
staff management, visits, and who may press 收到 at each level of the ladder."""

from __future__ import annotations

import pytest

from bot.domain.roles import (
    Actor,
    can_acknowledge,
    can_invite,
    can_manage_staff,
    can_visit,
    has_inbox,
    inbox_grids,
    new_invite_token,
    parse_invite_payload,
    visible_grids,
)

GRIDS = {"xf": ("XF01", "XF02"), "sq": ("SQ01",)}
ALL = ("XF01", "XF02", "SQ01")


def village_of(grid: str) -> str | None:
    return next((v for v, grids in GRIDS.items() if grid in grids), None)


def grids_of(village: str) -> tuple[str, ...]:
    return GRIDS.get(village, ())


ADMIN = Actor(1, is_admin=True)
LEADER = Actor(2, is_leader=True)
WORKER = Actor(3, worker_grids=frozenset({"XF02"}))
VILLAGE_ADMIN = Actor(4, admin_villages=frozenset({"sq"}))
RESIDENT = Actor(5)


@pytest.mark.parametrize(
    ("payload", "token"),
    [
        (None, None),
        ("", None),
        ("a-XF01", None),
        ("inv-" + "A" * 15, None),  # too short
        ("inv-" + "Ab_-" * 4, "Ab_-" * 4),
        ("inv-" + "x" * 60, "x" * 60),
        ("inv-" + "x" * 61, None),
        ("inv-abc def ghi jkl mno", None),
    ],
)
def test_invite_payloads(payload: str | None, token: str | None) -> None:
    assert parse_invite_payload(payload) == token


def test_new_invite_tokens_are_22_characters_and_parse_back() -> None:
    token = new_invite_token()
    assert len(token) == 22 and parse_invite_payload("inv-" + token) == token


@pytest.mark.parametrize(
    ("actor", "inbox", "visible"),
    [
        (ADMIN, ALL, ALL),
        (LEADER, (), ALL),  # sees the whole town's coverage, has no inbox of its own
        (WORKER, ("XF02",), ("XF02",)),
        (VILLAGE_ADMIN, ("SQ01",), ("SQ01",)),
        (RESIDENT, (), ()),
    ],
)
def test_inbox_and_visible_grids(actor: Actor, inbox: tuple, visible: tuple) -> None:
    assert inbox_grids(actor, grids_of, ALL) == inbox
    assert visible_grids(actor, grids_of, ALL) == visible
    assert has_inbox(actor) is (actor is not LEADER and actor is not RESIDENT)


def test_visits_by_the_grids_staff_only() -> None:
    assert can_visit(WORKER, "XF02", village_of) and not can_visit(WORKER, "XF01", village_of)
    assert can_visit(VILLAGE_ADMIN, "SQ01", village_of)
    assert not can_visit(VILLAGE_ADMIN, "XF01", village_of)
    assert not can_visit(LEADER, "XF01", village_of)


@pytest.mark.parametrize(
    ("actor", "anywhere", "in_sq", "in_xf"),
    [(ADMIN, True, True, True), (VILLAGE_ADMIN, True, True, False),
     (WORKER, False, False, False), (LEADER, False, False, False)],
)  # fmt: skip
def test_staff_management_and_invites(actor: Actor, anywhere: bool, in_sq: bool, in_xf: bool):
    assert can_manage_staff(actor) is anywhere
    assert (can_manage_staff(actor, "sq"), can_manage_staff(actor, "xf")) == (in_sq, in_xf)
    assert can_invite(actor, "worker", None) is anywhere
    assert (can_invite(actor, "worker", "sq"), can_invite(actor, "worker", "xf")) == (in_sq, in_xf)
    assert can_invite(actor, "village_admin", "sq") is (actor is ADMIN)
    assert can_invite(actor, "leader", None) is False


@pytest.mark.parametrize(
    ("reached", "worker", "village_admin"),
    [(None, True, True), ("assignee", True, True), ("village_admin", False, True),
     ("leadership", False, False), ("unknown", True, True)],
)  # fmt: skip
def test_who_may_acknowledge_at_each_level(reached, worker: bool, village_admin: bool) -> None:
    assert can_acknowledge(WORKER, reached, "XF02", "xf", village_of) is worker
    assert can_acknowledge(WORKER, reached, "XF01", "xf", village_of) is False
    sq_admin = can_acknowledge(VILLAGE_ADMIN, reached, "SQ01", "sq", village_of)
    assert sq_admin is village_admin
    assert can_acknowledge(VILLAGE_ADMIN, reached, None, "sq", village_of) is village_admin
    assert can_acknowledge(LEADER, reached, "XF02", "xf", village_of) is True
    assert can_acknowledge(ADMIN, reached, None, "xf", village_of) is True


def test_a_village_admin_acknowledges_by_the_grids_village_too() -> None:
    """An item filed under another village (moved) but in a grid of the admin's village."""
    assert can_acknowledge(VILLAGE_ADMIN, "village_admin", "SQ01", "xf", village_of) is True
    assert can_acknowledge(VILLAGE_ADMIN, "village_admin", "XF01", "sq", village_of) is True
    assert can_acknowledge(VILLAGE_ADMIN, "village_admin", "XF01", "xf", village_of) is False
