"""The authorisation matrix: every privileged command and callback, tried as every role.
Only the allowed combinations act; the others get the same refusal (whether or not the record
exists) and an audit row."""

from __future__ import annotations

import pytest

from tests.harness import Harness
from tests.staff_helpers import (
    ADMIN,
    LEADER,
    REFUSED,
    RESIDENT,
    VADMIN_SQ,
    VADMIN_XF,
    WORKER_SQ01,
    WORKER_XF01,
    denied,
    seed_invited,
    seed_report,
    seed_visit,
)

INVITED_XF01 = 30009  # a worker of XF01 who joined by an invite link

ROLES = {
    "resident": RESIDENT,
    "worker": WORKER_XF01,
    "worker_out": WORKER_SQ01,
    "vadmin": VADMIN_XF,
    "vadmin_out": VADMIN_SQ,
    "leader": LEADER,
    "admin": ADMIN,
}
ALL = set(ROLES)
STAFF = ALL - {"resident"}

# action: (how to do it, roles allowed). The record in question is in XF01 (先锋社区).
# "{report}", "{visit}", "{staff}" are filled in with the ids of the seeded records.
MATRIX: dict[str, tuple[str, set[str]]] = {
    "/tasks": ("/tasks", {"worker", "worker_out", "vadmin", "vadmin_out", "admin"}),
    "/visit": ("/visit", {"worker", "worker_out", "vadmin", "vadmin_out"}),
    "/visits": ("/visits", STAFF),
    "/invite": ("/invite", {"vadmin", "vadmin_out", "leader", "admin"}),  # leader: a liaison
    "/staff": ("/staff", {"vadmin", "vadmin_out", "leader", "admin"}),  # leader: the roster
    "open card": ("v1:tk:o:{report}", {"worker", "vadmin", "leader", "admin"}),
    "verify": ("v1:tk:ok:{report}", {"worker", "vadmin", "admin"}),
    "wrong": ("v1:tk:bad:{report}", {"worker", "vadmin", "admin"}),
    "escalate": ("v1:tk:esc:{report}", {"worker", "vadmin", "admin"}),
    "invite worker": ("v1:inv:g:XF01", {"vadmin", "admin"}),
    "invite village admin": ("v1:inv:v:village_admin:xf", {"admin"}),
    "invite unit liaison": ("v1:inv:u:xfhotel", {"vadmin", "leader", "admin"}),
    "move staff": ("v1:st:m:{staff}", {"vadmin", "admin"}),
    "revoke staff": ("v1:st:R:{staff}", {"vadmin", "admin"}),
    "register at door": ("v1:vr:{visit}", {"worker"}),
}
MISSING = {"report": 99999, "visit": 99999, "staff": 99999}


async def seed(h: Harness) -> dict[str, int]:
    h.request.members[LEADER] = "member"
    invited = await seed_invited(h, INVITED_XF01)  # config-listed staff are not managed in chat
    return {"report": await seed_report(h), "visit": await seed_visit(h), "staff": invited}


async def act(h: Harness, user: int, how: str, ids: dict[str, int]) -> list[str]:
    how = how.format(**ids)
    before = len(h.texts(user))
    if how.startswith("/"):
        await h.text(user, how)
    else:
        await h.press(user, how)
    return h.texts(user)[before:]


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", list(MATRIX))
async def test_matrix(harness: Harness, action: str, role: str) -> None:
    h = harness
    ids = await seed(h)
    how, allowed = MATRIX[action]
    user = ROLES[role]
    texts = await act(h, user, how, ids)
    refused = await denied(h, user)
    if role in allowed:
        assert refused == [] and texts and not any(REFUSED in t for t in texts), texts
    else:
        assert len(refused) == 1 and texts == [h.texts(user)[-1]] and REFUSED in texts[-1]


@pytest.mark.parametrize("action", [a for a, (how, _) in MATRIX.items() if "{" in how])
async def test_refusal_does_not_reveal_whether_a_record_exists(
    harness: Harness, action: str
) -> None:
    h = harness
    ids = await seed(h)
    how, _ = MATRIX[action]
    outsider = WORKER_SQ01
    existing = await act(h, outsider, how, ids)
    missing = await act(h, outsider, how, MISSING)
    assert existing == missing and REFUSED in existing[-1]
    answers = [c.params.get("text") for c in h.request.calls if c.method == "answerCallbackQuery"]
    assert len(answers) == 2 and answers[0] == answers[1]
    assert len(await denied(h, outsider)) == 2


async def test_a_record_out_of_every_scope_is_refused_even_to_a_staff_member(
    harness: Harness,
) -> None:
    """A missing record is refused to the admin too, with the same words."""
    h = harness
    for how in ("v1:tk:o:99999", "v1:st:m:99999", "v1:vr:99999"):
        texts = await act(h, ADMIN, how, {})
        assert REFUSED in texts[-1]
    assert len(await denied(h, ADMIN)) == 3


async def test_leader_membership_is_cached(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "administrator"
    await h.text(LEADER, "/visits")
    await h.text(LEADER, "/visits")
    asks = [c for c in h.request.calls if c.method == "getChatMember"]
    assert len(asks) == 1
    h.request.members[LEADER] = "left"
    h.clock.advance(minutes=6)
    await h.text(LEADER, "/visits")
    assert REFUSED in h.texts(LEADER)[-1]
