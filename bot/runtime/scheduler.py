"""Periodic work: one tick, driven by PTB's JobQueue (APScheduler), that does what fell due.

Everything it acts on is a row in SQLite, so a tick after a restart catches up on whatever
fell due while the bot was down."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.actions import digest
from bot.runtime.services import Services
from bot.runtime.timers import fire_due
from storage import drafts, outbox

log = logging.getLogger(__name__)

# Short, so a drill with a fast clock sees reminders on time; a tick with nothing due is
# two indexed queries.
TICK_SECONDS = 3


async def expire_drafts(services: Services) -> int:
    """End drafts untouched for the configured time, telling their owners (durably)."""
    minutes = services.config.bot.conversation_timeout_minutes
    now = services.now()
    cutoff = now - timedelta(minutes=minutes)
    stale = await drafts.stale(services.db, cutoff)
    ended = 0
    for draft in stale:
        async with services.db.write() as conn:
            if not await drafts.delete(conn, draft.user_id, draft.token, cutoff):
                continue
            text = services.text(
                draft.locale, "conversation", "timeout", flow=draft.flow, minutes=minutes
            )
            await outbox.enqueue(
                conn,
                chat_id=draft.chat_id,
                text=text,
                now=now,
                dedup_key=f"draft-timeout:{draft.token}",
            )
        ended += 1
    if ended:
        services.wake_outbox()
    return ended


async def tick(services: Services) -> None:
    for job in (expire_drafts, fire_due, digest.ensure_next):
        try:
            await job(services)
        except Exception:
            log.exception("scheduler: %s failed; the next tick retries", job.__name__)
