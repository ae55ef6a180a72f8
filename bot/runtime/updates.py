"""Updates processed side by side, each person's and each group's in the order they came.

python-telegram-bot handles one update at a time by default: a hundred residents pressing
/arrive together wait for each other's Bot API round trips. Here different people's updates
run concurrently, at most ``limit`` at once, while the updates of one user (in any chat) and of
one group chat still run one after another, in the order Telegram sent them: an answer never
overtakes the question it answers, and a group's cards change in order.

Each update takes its turn on its keys (the user's id, the chat's id) the moment it arrives:
it waits for the last update that arrived before it on any of its keys, then for a free slot.
Taking every turn at arrival, before any wait, keeps each key first-come first-served and
cannot deadlock (an update only ever waits for earlier ones).
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# python-telegram-bot takes its concurrency slot before ``do_process_update``, so an update
# waiting behind the same person's would hold a slot: one resident tapping fast could stall
# everyone. Its own bound is therefore lifted, and ``limit`` is taken once the turn has come.
_PTB_SLOTS = sys.maxsize


def keys_of(update: object) -> tuple[int, ...]:
    """Whose turn an update waits for: its user's and its chat's (one key in a private chat,
    where they are the same id; Telegram's group ids are negative, users' positive)."""
    if not isinstance(update, Update):
        return ()
    ids = {
        found.id for found in (update.effective_user, update.effective_chat) if found is not None
    }
    return tuple(ids)


class InOrderPerSender(BaseUpdateProcessor):
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be a positive integer")
        super().__init__(_PTB_SLOTS)
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)
        # per key, the update that arrived last on it: done when it and all before it are
        self._last: dict[int, asyncio.Future[None]] = {}
        # told of each update handled to its end (not cancelled): the durable intake forgets it
        self.on_handled: Callable[[object], None] | None = None

    @property
    def waiting(self) -> int:
        """Keys with an update in progress or waiting (0 when idle: no entry outlives them)."""
        return len(self._last)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        keys = keys_of(update)
        before = {self._last[key] for key in keys if key in self._last}
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for key in keys:
            self._last[key] = done
        try:
            if before:
                await asyncio.wait(before)
            async with self._slots:
                await coroutine
            if self.on_handled is not None:
                self.on_handled(update)
        finally:
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # cancelled before its turn: it will never run (a no-op else)
            self._release(keys, done, before)

    def _release(
        self, keys: tuple[int, ...], done: asyncio.Future[None], before: set[asyncio.Future[None]]
    ) -> None:
        """Let the next update on these keys go, but never ahead of an earlier one still
        running (this one may end early: cancelled while it waited)."""
        unfinished = next((f for f in before if not f.done()), None)
        if unfinished is not None:
            unfinished.add_done_callback(lambda _: self._release(keys, done, before))
            return
        done.set_result(None)
        for key in keys:
            if self._last.get(key) is done:  # nobody arrived after it: forget the key
                del self._last[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
