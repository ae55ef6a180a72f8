"""Periodic work: one tick, driven by PTB's JobQueue (APScheduler), that does what fell due.

Everything it acts on is a row in SQLite, so a tick after a restart catches up on whatever
fell due while the bot was down."""

from __future__ import annotations

import logging

from bot.actions import digest
from bot.flows.engine import expire_drafts
from bot.runtime.services import Services
from bot.runtime.timers import fire_due

log = logging.getLogger(__name__)

# Short, so a drill with a fast clock sees reminders on time; a tick with nothing due is
# two indexed queries.
TICK_SECONDS = 3


async def tick(services: Services) -> None:
    for job in (expire_drafts, fire_due, digest.ensure_next):
        try:
            await job(services)
        except Exception:
            log.exception("scheduler: %s failed; the next tick retries", job.__name__)
