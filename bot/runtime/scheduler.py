"""Periodic work: one tick, driven by PTB's JobQueue (APScheduler), that does what fell due.

Everything it acts on is a row in SQLite, so a tick after a restart catches up on whatever
fell due while the bot was down."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.runtime.services import Services

log = logging.getLogger(__name__)

# Short, so a drill with a fast clock sees reminders on time; a tick with nothing due is
# two indexed queries.
TICK_SECONDS = 3


Job = Callable[[Services], Awaitable[object]]


async def tick(services: Services, jobs: Sequence[Job]) -> None:
    """Run each job (bot/app.py lists them); one failing does not keep the others waiting."""
    for job in jobs:
        try:
            await job(services)
        except Exception:
            log.exception("scheduler: %s failed; the next tick retries", job.__name__)
