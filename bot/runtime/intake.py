"""Durable intake: an update fetched from Telegram is stored before Telegram forgets it.

Telegram forgets an update once a getUpdates is sent with an offset past it, and
python-telegram-bot's Updater sends that getUpdates right after it has put the batch on
``Application.update_queue``, before anyone handled it: a kill -9 then lost every update
fetched and not yet handled. Here the Updater polls through ``IntakeBot``, whose getUpdates
stores each batch (its JSON, sealed) in one transaction before returning it, so before the
next getUpdates can confirm it; the update processor reports each handled update and its row
is deleted, the deletes of a moment grouped in one write. At the next start the first
getUpdates returns the stored updates (handled first, in update_id order, through the same
update processor), and polling goes on from the stored offset, so the batch a crash left
unconfirmed is not fetched again. A button press among them is usually too old for Telegram to
take its answer (the spinner); the press is handled all the same. Everything else (backoff,
Conflict, InvalidToken, a clean stop) stays the Updater's own.

At least once, not exactly once: an update handled whose delete was not written yet when the
process died is handled again at the next start. That window is one write (the delete is
started the moment the update is handled); a flow's re-delivery guard (drafts.last_update_id)
makes the repeat a no-op there, and a command or button outside a flow may answer twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from telegram import Bot, Update
from telegram.error import BadRequest
from telegram.ext import Application, Updater

from bot.runtime.updates import InOrderPerSender
from storage import intake as store
from storage.db import Database

log = logging.getLogger(__name__)


class Intake:
    """The stored updates of one running bot: what was fetched and is not handled yet."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.offset = 0  # the next getUpdates' offset: one past the newest update stored
        self._resumed = False
        self._unhandled: set[int] = set()  # stored, not handled yet
        self._handled: set[int] = set()  # handled, its row not deleted yet
        self._flushing: asyncio.Task[None] | None = None

    async def resume(self, bot: Bot | IntakeBot) -> tuple[Update, ...]:
        """The updates a crash left stored (once, at the first getUpdates; then none), each
        answering through ``bot``."""
        if self._resumed:
            return ()
        self._resumed = True
        self.offset = await store.offset(self.db)
        rows = await store.stored(self.db)
        self._unhandled.update(update_id for update_id, _ in rows)
        if rows:
            log.info("handling %d update(s) fetched before the last stop first", len(rows))
        return tuple(Update.de_json(json.loads(data), bot) for _, data in rows)

    async def fetched(self, updates: tuple[Update, ...]) -> None:
        """Store a fetched batch, with the deletes of the updates handled meanwhile."""
        if not updates:
            return
        handled, self._handled = self._handled, set()
        rows = [(u.update_id, u.to_json()) for u in updates]
        try:
            async with self.db.write() as conn:
                await store.store(conn, rows, handled)
        except BaseException:
            self._handled |= handled
            raise  # the batch is not handed on: the next getUpdates fetches it again
        self._unhandled.update(update_id for update_id, _ in rows)
        self._unhandled -= handled
        self.offset = max(self.offset, updates[-1].update_id + 1)

    def handled(self, update: object) -> None:
        """The update processor's report: ``update`` has been handled (not cancelled)."""
        if not isinstance(update, Update) or update.update_id not in self._unhandled:
            return  # not fetched through the intake (a test or bench feeding the queue)
        self._handled.add(update.update_id)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        # the deletes that arrive while one is written go together in the next
        while self._handled:
            handled, self._handled = self._handled, set()
            try:
                async with self.db.write() as conn:
                    await store.forget(conn, handled)
            except Exception:
                self._handled |= handled  # tried again with the next; at worst handled twice
                log.exception("could not forget %d handled update(s)", len(handled))
                return
            self._unhandled -= handled

    async def close(self) -> None:
        """Write the last deletes (after the application stopped: every update handled)."""
        if self._flushing is not None:
            await self._flushing
        await self._flush()


class IntakeBot:
    """The Updater's bot: the application's own, its getUpdates going through the intake."""

    def __init__(self, bot: Bot, intake: Intake) -> None:
        self._bot = bot
        self._intake = intake

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)

    async def get_updates(self, offset: int | None = None, **kwargs: Any) -> tuple[Update, ...]:
        stored = await self._intake.resume(self)
        if stored:
            return stored
        offset = max(offset or 0, self._intake.offset)
        updates = await self._bot.get_updates(offset=offset, **kwargs)
        await self._intake.fetched(updates)
        return updates

    async def answer_callback_query(self, *args: Any, **kwargs: Any) -> bool:
        """A button press handled again after a restart is usually too old to answer (its
        spinner long gone): the press itself must still be handled, not fail on that."""
        try:
            return await self._bot.answer_callback_query(*args, **kwargs)
        except BadRequest as exc:
            if "query is too old" not in exc.message.lower():
                raise
            log.info("a button press from before the restart: too old to answer")
            return False


def install(application: Application, db: Database) -> Intake:
    """Make ``application`` poll through a durable intake (its update processor must be an
    ``InOrderPerSender``, which reports the updates it handled)."""
    processor = application.update_processor
    if not isinstance(processor, InOrderPerSender):
        raise TypeError("the durable intake needs the InOrderPerSender update processor")
    intake = Intake(db)
    processor.on_handled = intake.handled
    application.updater = Updater(IntakeBot(application.bot, intake), application.update_queue)
    return intake
