"""Firing durable timers: each kind has one handler, registered by the flow that schedules it.

A handler runs inside the write transaction that marks the timer done, and writes its effects
(outbox rows, follow-up timers, state changes) on the same connection: the timer and what it
caused are committed together, so a crash never fires a timer twice nor loses its message."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import aiosqlite

from bot.services import Services
from storage import timers
from storage.timers import Timer

log = logging.getLogger(__name__)

Handler = Callable[[Services, aiosqlite.Connection, Timer, datetime, bool], Awaitable[None]]

# How far past due a timer may fire before it counts as late (the bot was down, not just
# waiting for the next tick).
LATE_AFTER = timedelta(minutes=2)
BATCH = 500
MAX_ATTEMPTS = 5

_HANDLERS: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    """Register the handler of a timer kind: ``@handles("checkin.prompt")``."""

    def register(handler: Handler) -> Handler:
        if kind in _HANDLERS and _HANDLERS[kind] is not handler:
            raise ValueError(f"timer kind {kind!r} registered twice")
        _HANDLERS[kind] = handler
        return handler

    return register


async def fire_due(services: Services, max_batches: int = 20) -> int:
    """Fire every timer due now, oldest first; returns how many fired."""
    fired = 0
    for _ in range(max_batches):
        now = services.now()
        batch = await timers.due(services.db, now, BATCH)
        for timer in batch:
            fired += await _fire(services, timer, now)
        if len(batch) < BATCH:
            break
    if fired:
        services.wake_outbox()
    return fired


async def _fire(services: Services, timer: Timer, now: datetime) -> int:
    handler = _HANDLERS.get(timer.kind)
    late = now - timer.due_at > LATE_AFTER
    try:
        async with services.db.write() as conn:
            if not await timers.finish(conn, timer.id, now, late):
                return 0
            if handler is None:
                log.error("timer %d: no handler for kind %r; marked done", timer.id, timer.kind)
                return 1
            await handler(services, conn, timer, now, late)
    except Exception:
        # The transaction rolled back: nothing of it happened. Retry with backoff; a timer that
        # keeps failing is set aside (state 'failed') instead of failing every tick forever.
        give_up = timer.attempts + 1 >= MAX_ATTEMPTS
        log.exception(
            "timer %d (%s %s) failed%s",
            timer.id,
            timer.kind,
            timer.subject,
            "; giving up" if give_up else "",
        )
        retry_at = now + timedelta(minutes=2 ** min(timer.attempts, 6))
        await timers.failed_attempt(services.db, timer.id, retry_at, give_up)
        return 0
    return 1
