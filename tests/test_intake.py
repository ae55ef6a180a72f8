"""Nothing lost between Telegram and the handlers: an update fetched is stored before the next
getUpdates confirms it, so a crash before it was handled leaves it to the next start, which
handles it first and polls on from past it; a handled update is forgotten, never handled twice.

The Updater polls a fake Telegram (getUpdates answered from a list of unconfirmed updates, the
long poll an ``asyncio.Event``); a crash is the application stopped without handling what it
had fetched. Nothing sleeps: waits are bounded so a regression fails instead of hanging."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from storage import intake
from storage.db import Database
from tests.harness import Harness

ALICE, BOB = 5201, 5202
WAIT = 10  # seconds: a bound, never a pause


class Telegram:
    """getUpdates as Telegram answers it: the updates from ``offset`` on (those before it are
    confirmed, gone for good); none left: the long poll waits, and ``polled`` tells the test."""

    def __init__(self, harness: Harness, updates: list[dict]) -> None:
        self.updates = list(updates)
        self.offsets: list[int] = []
        self.polled = asyncio.Event()
        self._inner = harness.request.do_request
        harness.request.do_request = self._do_request  # type: ignore[method-assign]

    async def _do_request(self, url: str, method: str, request_data: Any = None, *args: Any,
                          **kwargs: Any) -> tuple[int, bytes]:  # fmt: skip
        if not url.endswith("/getUpdates"):
            return await self._inner(url, method, request_data, *args, **kwargs)
        params = {k: json.loads(v) for k, v in request_data.json_parameters.items()}
        offset = params.get("offset", 0)
        self.offsets.append(offset)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and params.get("timeout"):
            self.polled.set()
            await asyncio.Event().wait()  # the long poll: until the updater stops it
        return 200, json.dumps({"ok": True, "result": self.updates}).encode()


def batch(harness: Harness) -> list[dict]:
    """Two residents' /help, as update ids 701 and 702."""
    updates = [harness.updates.message(harness.updates.user(user), harness._now(), text="/help")
               for user in (ALICE, BOB)]  # fmt: skip
    for update_id, update in enumerate(updates, 701):
        update["update_id"] = update_id
    return updates


async def poll(harness: Harness, telegram: Telegram, *, handle: bool) -> None:
    """Poll until the fake Telegram has nothing more to give; with ``handle``, the application
    runs and handles everything fetched."""
    await harness.app.updater.start_polling(timeout=10)
    await asyncio.wait_for(telegram.polled.wait(), WAIT)
    if handle:
        await harness.app.start()
        await asyncio.wait_for(harness.app.update_queue.join(), WAIT)


async def stop(harness: Harness) -> None:
    await harness.app.updater.stop()
    if harness.app.running:
        await harness.app.stop()


def answered(harness: Harness, chat_id: int) -> int:
    return sum(1 for c in harness.request.calls
               if c.method == "sendMessage" and int(c.params["chat_id"]) == chat_id)  # fmt: skip


async def crash_after_fetch(harness: Harness, updates: list[dict], db_path: Path) -> None:
    """The first run fetches ``updates``, polls again (confirming them to Telegram) and dies
    before handling any of them; the bot starts again on the same database."""
    telegram = Telegram(harness, updates)
    await poll(harness, telegram, handle=False)
    assert telegram.offsets[-1] == updates[-1]["update_id"] + 1
    assert answered(harness, ALICE) == answered(harness, BOB) == 0
    await stop(harness)
    await harness.stop()
    await harness.restart(db_path)


async def test_updates_fetched_before_a_crash_are_handled_at_the_next_start(
    harness: Harness, tmp_path: Path
) -> None:
    await crash_after_fetch(harness, batch(harness), tmp_path / "paicha.sqlite3")
    telegram = Telegram(harness, [])  # Telegram forgot them: confirmed by the second poll
    await poll(harness, telegram, handle=True)
    assert answered(harness, ALICE) == answered(harness, BOB) == 1
    assert telegram.offsets[0] == 703  # polling goes on past what was stored
    await stop(harness)


async def test_a_batch_stored_but_not_confirmed_is_not_handled_twice(
    harness: Harness, tmp_path: Path
) -> None:
    updates = batch(harness)
    await crash_after_fetch(harness, updates, tmp_path / "paicha.sqlite3")
    telegram = Telegram(harness, updates)  # the kill came before the confirming poll
    await poll(harness, telegram, handle=True)
    assert telegram.offsets[0] == 703  # confirmed now, without fetching them again
    assert answered(harness, ALICE) == answered(harness, BOB) == 1
    await stop(harness)


async def test_a_handled_update_is_forgotten_and_not_handled_again(
    harness: Harness, tmp_path: Path
) -> None:
    telegram = Telegram(harness, batch(harness))
    await poll(harness, telegram, handle=True)
    assert answered(harness, ALICE) == 1
    await stop(harness)
    await harness.stop()  # a clean stop: the last deletes written
    db = await Database.open(tmp_path / "paicha.sqlite3")
    try:
        assert await intake.stored(db) == []
        assert await intake.offset(db) == 703
    finally:
        await db.close()
    await harness.restart(tmp_path / "paicha.sqlite3")
    telegram = Telegram(harness, [])
    await poll(harness, telegram, handle=True)
    assert answered(harness, ALICE) == answered(harness, BOB) == 0
    assert telegram.offsets[0] == 703
    await stop(harness)


async def test_a_stored_update_is_sealed(harness: Harness, tmp_path: Path) -> None:
    """A fetched message may carry a phone or an ID number: stored sealed, like the rest."""
    updates = batch(harness)
    updates[0]["message"]["text"] = "13800138000"
    await crash_after_fetch(harness, updates, tmp_path / "paicha.sqlite3")
    with sqlite3.connect(tmp_path / "paicha.sqlite3") as raw:
        cells = [row[0] for row in raw.execute("SELECT data FROM intake")]
    assert len(cells) == 2 and all("13800138000" not in cell for cell in cells)
    assert "13800138000" in (await intake.stored(harness.db))[0][1]


async def test_a_press_handled_after_a_crash_is_applied_though_too_old_to_answer(
    harness: Harness, tmp_path: Path
) -> None:
    """Telegram no longer takes the answer to a press from before the restart: the resident's
    choice is stored and the next question asked all the same."""
    path = tmp_path / "paicha.sqlite3"
    start = batch(harness)[:1]
    start[0]["message"]["text"] = "/arrive"
    start[0]["message"]["entities"][0]["length"] = len("/arrive")
    telegram = Telegram(harness, start)
    await poll(harness, telegram, handle=True)
    data = next(data for label, data in harness.buttons(ALICE) if "本人" in label)
    await stop(harness)
    await harness.stop()
    await harness.restart(path)
    press = harness.updates.callback(harness.updates.user(ALICE), harness._now(), data)
    press["update_id"] = 703
    await crash_after_fetch(harness, [press], path)
    harness.request.fail(lambda c: c.method == "answerCallbackQuery", 400,
                         "Bad Request: query is too old and response timeout expired or query "
                         "ID is invalid")  # fmt: skip
    telegram = Telegram(harness, [])
    await poll(harness, telegram, handle=True)
    assert any("真实姓名" in text for text in harness.texts(ALICE))
    assert not harness.request.failures  # the press was answered (and refused)
    await stop(harness)
