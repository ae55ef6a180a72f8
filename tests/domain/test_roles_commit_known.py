"""Who may act, checked again when an action commits (issue 11, holes): known answers for
reporting a case, acting on a grid's record (leaders read, staff of the grid act) and managing
one staff member (config staff are not revocable from chat, village admins do not manage a
peer)."""

from __future__ import annotations

import pytest

from bot.domain.roles import (
    ROLE_VILLAGE_ADMIN,
    ROLE_WORKER,
    SOURCE_CONFIG,
    Actor,
    can_manage_member,
    can_report_case,
    can_verify,
)

GRIDS = {"xf": ("XF01", "XF02"), "sq": ("SQ01",)}


def village_of(grid: str) -> str | None:
    return next((v for v, grids in GRIDS.items() if grid in grids), None)


ADMIN = Actor(1, is_admin=True)
LEADER = Actor(2, is_leader=True)
WORKER = Actor(3, worker_grids=frozenset({"XF02"}))
VADMIN_SQ = Actor(4, admin_villages=frozenset({"sq"}))
RESIDENT = Actor(5)
REVOKED = Actor(6)  # a worker whose grid was revoked: no scope left


@pytest.mark.parametrize(
    ("actor", "grid", "report", "act"),
    [
        (ADMIN, "XF01", True, True),
        (LEADER, "XF01", True, False),  # leaders read
        (WORKER, "XF02", True, True),
        (WORKER, "XF01", False, False),  # another grid of the same village
        (WORKER, "SQ01", False, False),
        (VADMIN_SQ, "SQ01", True, True),
        (VADMIN_SQ, "XF02", False, False),
        (VADMIN_SQ, "ZZ99", False, False),  # an unknown grid
        (RESIDENT, "XF02", False, False),
        (REVOKED, "XF02", False, False),
    ],
)
def test_report_a_case_and_act_on_a_record(
    actor: Actor, grid: str, report: bool, act: bool
) -> None:
    assert can_report_case(actor, grid, village_of) is report
    assert can_verify(actor, grid, village_of) is act


@pytest.mark.parametrize(
    ("actor", "role", "village", "source", "expected"),
    [
        (ADMIN, ROLE_WORKER, "xf", "invite", True),
        (ADMIN, ROLE_VILLAGE_ADMIN, "xf", "invite", True),
        (ADMIN, ROLE_VILLAGE_ADMIN, "xf", SOURCE_CONFIG, False),  # the config is the source
        (ADMIN, ROLE_WORKER, "xf", SOURCE_CONFIG, False),
        (VADMIN_SQ, ROLE_WORKER, "sq", "invite", True),
        (VADMIN_SQ, ROLE_WORKER, "sq", SOURCE_CONFIG, False),
        (VADMIN_SQ, ROLE_VILLAGE_ADMIN, "sq", "invite", False),  # a peer
        (VADMIN_SQ, ROLE_VILLAGE_ADMIN, "sq", SOURCE_CONFIG, False),
        (VADMIN_SQ, ROLE_WORKER, "xf", "invite", False),  # another village
        (VADMIN_SQ, ROLE_WORKER, None, "invite", False),  # a grid no longer configured
        (LEADER, ROLE_WORKER, "xf", "invite", False),
        (WORKER, ROLE_WORKER, "xf", "invite", False),
        (RESIDENT, ROLE_WORKER, "xf", "invite", False),
    ],
)
def test_manage_one_member(
    actor: Actor, role: str, village: str | None, source: str, expected: bool
) -> None:
    assert can_manage_member(actor, role, village, source) is expected
