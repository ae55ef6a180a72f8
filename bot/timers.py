"""Firing durable timers: each kind has one handler, registered by the flow that schedules it.

Due timers fire in batches: one write transaction per batch (up to ``BATCH`` timers), each
timer inside its own SAVEPOINT. A handler writes its effects (outbox rows, follow-up timers,
state changes) on the same connection as the update that marks its timer done, so a timer and
what it caused are committed together: a crash never fires a timer twice nor loses its
message. A handler that raises is rolled back to its savepoint alone — the others in the batch
still commit — and its failed attempt is recorded after the batch (retry with backoff, set
aside after ``MAX_ATTEMPTS``)."""

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
# Timers per write transaction: large enough that a 100k check-in wave is not dominated by
# transaction overhead, small enough that the write lock is released every few hundred ms for
# people's own actions and the outbox's marks.
BATCH = 200
MAX_BATCHES = 50  # per fire_due() call (one tick): 10,000 timers, then the next tick goes on
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


async def fire_due(services: Services, max_batches: int = MAX_BATCHES) -> int:
    """Fire every timer due now, oldest first, ``BATCH`` per transaction; returns how many
    fired."""
    fired = 0
    for _ in range(max_batches):
        now = services.now()
        batch = await timers.due(services.db, now, BATCH)
        if not batch:
            break
        fired += await _fire_batch(services, batch, now)
        if len(batch) < BATCH:
            break
    if fired:
        services.wake_outbox()
    return fired


async def _fire_batch(services: Services, batch: list[Timer], now: datetime) -> int:
    """One transaction for the batch, one savepoint per timer. Returns how many fired."""
    fired = 0
    failed: list[Timer] = []
    current: Timer | None = None
    try:
        async with services.db.write() as conn:
            for timer in batch:
                current = timer
                outcome = await _fire_one(services, conn, timer, now)
                if outcome == _FIRED:
                    fired += 1
                elif outcome == _FAILED:
                    if not conn.in_transaction:
                        # The error ended the whole transaction (SQLite rolled it back, e.g.
                        # disk full): nothing of the batch happened.
                        raise _BatchAborted
                    failed.append(timer)
            current = None
    except Exception as exc:
        # The batch transaction failed (BEGIN, COMMIT, a savepoint statement, or SQLite undid
        # it): nothing of it happened. The timer being fired when it broke counts a failed
        # attempt, so one bad timer cannot block the queue; the rest stay due and go on the
        # next pass.
        if not isinstance(exc, _BatchAborted):
            log.exception("timers: batch of %d rolled back", len(batch))
        fired, failed = 0, [current] if current is not None else []
    if failed:
        await _record_failures(services, failed, now)
    return fired


_FIRED, _SKIPPED, _FAILED = "fired", "skipped", "failed"


class _BatchAborted(Exception):
    """A handler's error rolled back the whole transaction, not just its savepoint."""


async def _fire_one(
    services: Services, conn: aiosqlite.Connection, timer: Timer, now: datetime
) -> str:
    """Fire one timer inside its savepoint: ``_FIRED``; ``_SKIPPED`` when it was no longer
    pending (cancelled, or fired meanwhile); ``_FAILED`` when its handler raised (its
    savepoint rolled back: none of its effects, and the timer still pending)."""
    handler = _HANDLERS.get(timer.kind)
    late = now - timer.due_at > LATE_AFTER
    name = f"t{timer.id}"
    await conn.execute(f"SAVEPOINT {name}")
    try:
        if not await timers.finish(conn, timer.id, now, late):
            outcome = _SKIPPED
        elif handler is None:
            log.error("timer %d: no handler for kind %r; marked done", timer.id, timer.kind)
            outcome = _FIRED
        else:
            await handler(services, conn, timer, now, late)
            outcome = _FIRED
    except Exception:
        log.exception("timer %d (%s %s) failed", timer.id, timer.kind, timer.subject)
        if conn.in_transaction:
            await conn.execute(f"ROLLBACK TO {name}")
            await conn.execute(f"RELEASE {name}")
        return _FAILED
    await conn.execute(f"RELEASE {name}")
    return outcome


async def _record_failures(services: Services, failed: list[Timer], now: datetime) -> None:
    """After the batch: retry each failed timer with backoff; one that keeps failing is set
    aside (state 'failed') instead of failing every tick forever."""
    attempts = []
    for timer in failed:
        give_up = timer.attempts + 1 >= MAX_ATTEMPTS
        if give_up:
            log.error("timer %d (%s %s): giving up", timer.id, timer.kind, timer.subject)
        retry_at = now + timedelta(minutes=2 ** min(timer.attempts, 6))
        attempts.append((timer.id, retry_at, give_up))
    try:
        await timers.failed_attempts(services.db, attempts)
    except Exception:
        log.exception("timers: recording %d failed attempts failed", len(attempts))
