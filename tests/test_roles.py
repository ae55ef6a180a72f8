"""bot.domain.roles: every permission decision, and the invite payload."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain import roles
from bot.domain.roles import Actor

VILLAGES = {"XF01": "xf", "XF02": "xf", "SQ01": "sq"}
village_of = VILLAGES.get
GRIDS = ("XF01", "XF02", "SQ01")


def grids_of(village: str) -> tuple[str, ...]:
    return tuple(g for g, v in VILLAGES.items() if v == village)


RESIDENT = Actor(1)
WORKER = Actor(2, worker_grids=frozenset({"XF01"}))
VADMIN = Actor(3, admin_villages=frozenset({"xf"}))
LEADER = Actor(4, is_leader=True)
ADMIN = Actor(5, is_admin=True, is_leader=True)


def test_roles_by_grid() -> None:
    assert [
        roles.can_see_grid(a, "XF01", village_of) for a in (RESIDENT, WORKER, VADMIN, LEADER, ADMIN)
    ] == [False, True, True, True, True]
    assert [
        roles.can_verify(a, "XF01", village_of) for a in (RESIDENT, WORKER, VADMIN, LEADER, ADMIN)
    ] == [False, True, True, False, True]
    assert not roles.can_see_grid(WORKER, "XF02", village_of)
    assert roles.can_verify(VADMIN, "XF02", village_of)
    assert not roles.can_verify(VADMIN, "SQ01", village_of)
    assert not roles.can_visit(ADMIN, "XF01", village_of)
    assert not roles.can_see_grid(WORKER, "NOPE", village_of)


def test_grid_lists() -> None:
    assert roles.inbox_grids(WORKER, grids_of, GRIDS) == ("XF01",)
    assert roles.inbox_grids(VADMIN, grids_of, GRIDS) == ("XF01", "XF02")
    assert roles.inbox_grids(LEADER, grids_of, GRIDS) == ()
    assert roles.visible_grids(LEADER, grids_of, GRIDS) == GRIDS
    assert not roles.has_inbox(LEADER) and roles.has_inbox(ADMIN)


def test_staff_management_and_invites() -> None:
    assert roles.can_manage_staff(ADMIN, "sq") and roles.can_manage_staff(VADMIN, "xf")
    assert not roles.can_manage_staff(VADMIN, "sq") and not roles.can_manage_staff(WORKER)
    assert roles.can_invite(ADMIN, "village_admin", "sq")
    assert roles.can_invite(VADMIN, "worker", "xf")
    assert not roles.can_invite(VADMIN, "worker", "sq")
    assert not roles.can_invite(VADMIN, "village_admin", "xf")
    assert not roles.can_invite(LEADER, "worker", "xf")
    assert not roles.can_invite(ADMIN, "leader", None)


def test_actor_role_names() -> None:
    assert [a.role for a in (RESIDENT, WORKER, VADMIN, LEADER, ADMIN)] == [
        "resident",
        "worker",
        "village_admin",
        "leader",
        "admin",
    ]


def test_new_tokens_fit_a_deep_link() -> None:
    for _ in range(50):
        token = roles.new_invite_token()
        payload = roles.INVITE_PREFIX + token
        assert len(payload) <= 64 and roles.parse_invite_payload(payload) == token


@given(st.text(alphabet="ABCxyz0189_-", min_size=16, max_size=60))
def test_payload_round_trip(token: str) -> None:
    assert roles.parse_invite_payload("inv-" + token) == token


@given(st.text(max_size=80))
def test_payload_is_a_token_or_none(payload: str) -> None:
    token = roles.parse_invite_payload(payload)
    assert token is None or (payload == "inv-" + token and roles.INVITE_TOKEN.fullmatch(token))
