"""A leader removed from the leadership group loses access at once (issue 11, holes): the
cached membership is dropped on the chat's member update, not kept for its 5 minutes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from handlers.access import Access
from tests.harness import Harness
from tests.staff_helpers import ADMIN, LEADER, LEADERS_CHAT, REFUSED


def member_update(h: Harness, status: str, chat: int = LEADERS_CHAT) -> dict:
    """The chat_member update Telegram sends an administrator bot when LEADER's status
    changes (removed by an admin: "left" or "kicked")."""
    leader, now = h.updates.user(LEADER), int(h.clock.now().timestamp())
    member = {"user": leader, "status": status}
    if status == "kicked":
        member["until_date"] = 0
    return {
        "update_id": 900000 + len(h.request.calls),
        "chat_member": {
            "chat": {"id": chat, "type": "supergroup", "title": "领导小组"},
            "from": h.updates.user(ADMIN),
            "date": now,
            "old_chat_member": {"user": leader, "status": "member"},
            "new_chat_member": member,
        },
    }


def left_message(h: Harness) -> dict:
    """The service message "X left the group", which any bot in the group receives."""
    leader, now = h.updates.user(LEADER), int(h.clock.now().timestamp())
    return {
        "update_id": 900000 + len(h.request.calls),
        "message": {
            "message_id": 77,
            "date": now,
            "chat": {"id": LEADERS_CHAT, "type": "supergroup", "title": "领导小组"},
            "from": leader,
            "left_chat_member": leader,
        },
    }


async def a_leader_reads(h: Harness) -> None:
    h.request.members[LEADER] = "member"
    await h.text(LEADER, "/visits")
    assert REFUSED not in h.texts(LEADER)[-1]


@pytest.mark.parametrize("status", ["left", "kicked"])
async def test_a_removed_leader_loses_access_at_once(harness: Harness, status: str) -> None:
    h = harness
    await a_leader_reads(h)
    h.request.members[LEADER] = status  # removed: Telegram says so from now on
    await h.feed(member_update(h, status))
    await h.text(LEADER, "/visits")  # no clock advance: the cache would still say "leader"
    assert REFUSED in h.texts(LEADER)[-1]


async def test_a_leader_who_leaves_loses_access_at_once(harness: Harness) -> None:
    h = harness
    await a_leader_reads(h)
    h.request.members[LEADER] = "left"
    await h.feed(left_message(h))
    await h.text(LEADER, "/visits")
    assert REFUSED in h.texts(LEADER)[-1]


async def test_a_change_in_another_group_keeps_the_cache(harness: Harness) -> None:
    h = harness
    await a_leader_reads(h)
    asks = len([c for c in h.request.calls if c.method == "getChatMember"])
    await h.feed(member_update(h, "left", chat=-1009876543210))
    await h.text(LEADER, "/visits")
    assert len([c for c in h.request.calls if c.method == "getChatMember"]) == asks


async def test_a_removal_during_the_membership_question_is_not_cached_over(config) -> None:
    """The member update runs beside the update asking Telegram (different keys): the answer
    "member" that was under way when the removal came must not be cached for 5 minutes."""
    asked, answer = asyncio.Event(), asyncio.Event()
    statuses = ["member", "left"]

    async def get_chat_member(chat_id: int, user_id: int) -> SimpleNamespace:
        status = statuses.pop(0)
        if status == "member":
            asked.set()
            await answer.wait()
        return SimpleNamespace(status=status, is_member=status == "member")

    now = datetime(2020, 11, 20, tzinfo=UTC)
    bot = SimpleNamespace(get_chat_member=get_chat_member)
    access = Access(SimpleNamespace(now=lambda: now, bot=bot, config=config))
    first = asyncio.create_task(access._is_leader(LEADER))
    await asked.wait()
    access.forget(LEADER)  # the chat_member update of the removal
    answer.set()
    assert await first is True  # asked before the removal
    assert await access._is_leader(LEADER) is False  # asked again, not the stale "member"
