"""getUpdates long polling: it answers the moment an update exists, confirms by offset,
and answers [] when the timeout passes (the only real wait in these tests: 0.2 s)."""

from __future__ import annotations

import asyncio

from telegram.error import Conflict

from tests.sandbox.conftest import RESIDENT, Sandbox


async def test_returns_as_soon_as_an_update_arrives(sandbox: Sandbox) -> None:
    poll = asyncio.create_task(sandbox.bot.get_updates(timeout=30))
    while sandbox.state._poll_generation == 0:  # the request reached the server
        await asyncio.sleep(0)
    sandbox.state.user_sends_text(RESIDENT, None, "/start")
    updates = await asyncio.wait_for(poll, 60)
    assert [u.message.text for u in updates] == ["/start"]
    command = updates[0].message.entities[0]
    assert (command.type, command.offset, command.length) == ("bot_command", 0, 6)


async def test_empty_answer_at_timeout(sandbox: Sandbox) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await sandbox.bot.get_updates(timeout=0.2) == ()
    assert 0.15 <= loop.time() - started < 3


async def test_offset_limit_and_allowed_updates(sandbox: Sandbox) -> None:
    bot, state = sandbox.bot, sandbox.state
    for text in ("1", "2", "3"):
        state.user_sends_text(RESIDENT, None, text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["1", "2"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["3"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    assert await bot.get_updates(allowed_updates=["callback_query"]) == ()
    state.user_sends_text(RESIDENT, None, "ignored")  # not asked for: never queued
    assert state.pending_update_count == 0
    await bot.get_updates(allowed_updates=[])  # back to the default set
    state.user_sends_text(RESIDENT, None, "4")
    assert [u.message.text for u in await bot.get_updates()] == ["4"]
    state.user_sends_text(RESIDENT, None, "5")
    assert [u.message.text for u in await bot.get_updates(offset=-1)] == ["5"]


async def test_second_poller_terminates_the_first(sandbox: Sandbox) -> None:
    first = asyncio.create_task(sandbox.bot.get_updates(timeout=30))
    while sandbox.state._poll_generation == 0:
        await asyncio.sleep(0)
    # PTB keeps one connection for getUpdates, so the rival poller is a plain client
    assert await sandbox.raw("getUpdates", timeout=0) == (200, {"ok": True, "result": []})
    try:
        await asyncio.wait_for(first, 60)
    except Conflict as exc:
        assert "terminated by other getUpdates request" in exc.message
    else:
        raise AssertionError("the first long poll should have been terminated")


async def test_shutdown_releases_a_pending_long_poll(sandbox: Sandbox) -> None:
    poll = asyncio.create_task(sandbox.state.get_updates(timeout=30))
    await asyncio.sleep(0)
    sandbox.state.close()
    assert await asyncio.wait_for(poll, 60) == []
