"""Edit rows: a pushed message brought up to date through the outbox (a case card ticking its
checklist), never by an action calling Telegram itself."""

from __future__ import annotations

from typing import Any

import pytest
from telegram.error import BadRequest

from storage import outbox
from tests.test_outbox import GROUP, bot, clock, db, drain_until_done, make_worker, put

__all__ = ["bot", "clock", "db"]  # the fixtures, used by name


async def put_edit(db, clock, text: str, **kw: Any) -> None:
    async with db.write() as conn:
        await outbox.enqueue_edit(conn, edits="card", chat_id=GROUP, text=text, now=clock.now(),
                                  **kw)  # fmt: skip


def edits(bot) -> list[str]:
    return [c.text for c in bot.sent if c.method == "editMessageText"]


async def test_an_edit_waits_for_its_message_then_edits_it(db, clock, bot):
    await put(db, clock, GROUP, "card v1", dedup_key="card", priority=9)
    await put_edit(db, clock, "card v2", priority=0)  # more urgent: claimed first
    await drain_until_done(make_worker(db, bot, clock), db, clock)
    assert [c.method for c in bot.sent] == ["sendMessage", "editMessageText"]
    first = bot.sent[0]
    assert edits(bot) == ["card v2"]
    assert bot.sent[1].kwargs["message_id"] == 1 and bot.sent[1].chat_id == first.chat_id


async def test_a_later_edit_supersedes_one_still_waiting(db, clock, bot):
    await put(db, clock, GROUP, "card v1", dedup_key="card")
    await make_worker(db, bot, clock).drain()
    await put_edit(db, clock, "card v2")
    await put_edit(db, clock, "card v3", reply_markup={"inline_keyboard": []})
    await drain_until_done(make_worker(db, bot, clock), db, clock)
    assert edits(bot) == ["card v3"]
    assert bot.sent[-1].kwargs["reply_markup"] == {"inline_keyboard": []}


@pytest.mark.parametrize("fallback", ["☑️ done", None])
async def test_a_message_that_cannot_be_edited_gets_the_fallback(db, clock, bot, fallback):
    await put(db, clock, GROUP, "card v1", dedup_key="card")
    await make_worker(db, bot, clock).drain()
    bot.errors[GROUP].append(BadRequest("Message can't be edited"))
    await put_edit(db, clock, "card v2", fallback=fallback)
    await drain_until_done(make_worker(db, bot, clock), db, clock)
    new = [c.text for c in bot.sent if c.method == "sendMessage"]
    assert new == ["card v1", fallback] if fallback else new == ["card v1"]
    assert set((await outbox_states(db)).values()) == {"sent"}


async def test_an_edit_of_a_message_never_enqueued_sends_only_its_fallback(db, clock, bot):
    await put_edit(db, clock, "card v2", fallback="☑️ done")
    await drain_until_done(make_worker(db, bot, clock), db, clock)
    assert [(c.method, c.text) for c in bot.sent] == [("sendMessage", "☑️ done")]


async def test_not_modified_counts_as_done(db, clock, bot):
    await put(db, clock, GROUP, "card v1", dedup_key="card")
    await make_worker(db, bot, clock).drain()
    bot.errors[GROUP].append(BadRequest("Message is not modified: specified new message content"))
    await put_edit(db, clock, "card v1", fallback="☑️ done")
    await drain_until_done(make_worker(db, bot, clock), db, clock)
    assert [c.method for c in bot.calls] == ["sendMessage", "editMessageText"]


async def test_an_edit_is_one_message(db, clock):
    with pytest.raises(ValueError, match="one text message"):
        await put_edit(db, clock, "x\n" * 3000)


async def outbox_states(db) -> dict[int, str]:
    return {r["id"]: r["state"] for r in await db.fetchall("SELECT id, state FROM outbox")}
