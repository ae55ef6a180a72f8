"""The isolation and transfer roles (bot.domain.roles) against a table written by hand: who
views and edits sites, orders an activation, ticks a site's checklist, dispatches, crews a
vehicle, and who may invite these roles."""

from __future__ import annotations

import pytest

from bot.domain import roles
from bot.domain.roles import Actor

RESIDENT = Actor(1)
WORKER = Actor(2, worker_grids=frozenset({"XF01"}))
VADMIN = Actor(3, admin_villages=frozenset({"xf"}))
LEADER = Actor(4, is_leader=True)
ADMIN = Actor(5, is_admin=True, is_leader=True)
MANAGER = Actor(6, site_ids=frozenset({"GL01"}))
DISPATCHER = Actor(7, is_dispatcher=True)
CREW = Actor(8, crew_vehicles=frozenset({"V01"}))
PEOPLE = {"resident": RESIDENT, "worker": WORKER, "vadmin": VADMIN, "leader": LEADER,
          "admin": ADMIN, "manager": MANAGER, "dispatcher": DISPATCHER, "crew": CREW}  # fmt: skip

# who -> (view sites, edit sites, order activation, manage GL01, manage GL02, dispatch,
#         crew V01, crew V02, is staff, role)
TABLE = {
    "resident":   (0, 0, 0, 0, 0, 0, 0, 0, 0, "resident"),
    "worker":     (0, 0, 0, 0, 0, 0, 0, 0, 1, "worker"),
    "vadmin":     (0, 0, 0, 0, 0, 0, 0, 0, 1, "village_admin"),
    "leader":     (1, 0, 1, 0, 0, 0, 0, 0, 1, "leader"),
    "admin":      (1, 1, 1, 1, 1, 1, 1, 1, 1, "admin"),
    "manager":    (1, 0, 0, 1, 0, 0, 0, 0, 1, "site_manager"),
    "dispatcher": (0, 0, 0, 0, 0, 1, 0, 0, 1, "dispatcher"),
    "crew":       (0, 0, 0, 0, 0, 0, 1, 0, 1, "crew"),
}  # fmt: skip


@pytest.mark.parametrize("who", list(TABLE))
def test_site_and_transfer_permissions(who: str) -> None:
    a = PEOPLE[who]
    got = (
        roles.can_view_sites(a), roles.can_edit_sites(a), roles.can_order_activation(a),
        roles.can_manage_site(a, "GL01"), roles.can_manage_site(a, "GL02"),
        roles.can_dispatch(a), roles.can_crew(a, "V01"), roles.can_crew(a, "V02"),
        a.is_staff, a.role,
    )  # fmt: skip
    assert got == tuple(bool(v) if isinstance(v, int) else v for v in TABLE[who])


INVITES = [
    (ADMIN, "site_manager", None, True),
    (ADMIN, "dispatcher", None, True),
    (ADMIN, "crew", None, True),
    (ADMIN, "unit", None, True),  # a key unit's liaison (issue 13)
    (VADMIN, "site_manager", None, False),
    (VADMIN, "dispatcher", "xf", False),
    (VADMIN, "crew", None, False),
    (VADMIN, "worker", "xf", True),
    (MANAGER, "site_manager", None, False),
    (MANAGER, "worker", None, False),
    (LEADER, "site_manager", None, False),
]


@pytest.mark.parametrize(("actor", "role", "village", "expected"), INVITES)
def test_who_invites_the_new_roles(
    actor: Actor, role: str, village: str | None, expected: bool
) -> None:
    assert roles.can_invite(actor, role, village) is expected
