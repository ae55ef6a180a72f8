"""Firing durable timers: each kind has one handler, all given in bot/app.py (``Handlers``,
held by ``Services.timers``). A due timer of a kind without one is not marked done: it fails
loudly, is retried and finally set aside (state 'failed'), never silently dropped.

Due timers fire in batches: one write transaction per batch (up to ``BATCH`` timers), each
timer inside its own SAVEPOINT. A handler writes its effects (outbox rows, follow-up timers,
state changes) on the same connection as the update that marks its timer done, so a timer and
what it caused are committed together: a crash never fires a timer twice nor loses its
message. A handler that raises is rolled back to its savepoint alone — the others in the batch
still commit — and its failed attempt is recorded after the batch (retry with backoff, set
aside after ``MAX_ATTEMPTS``).

A kind with a batch handler (``Handlers.batch``: the check-in prompts of a wave) fires a run of
consecutive timers of that kind at once: one statement marks them all, and the handler writes
their effects in a few statements instead of a dozen per timer. Should anything in a run fail,
the whole batch is rolled back and fired again one timer at a time, as above, so a failure
still costs only its own timer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import aiosqlite

from storage import timers
from storage.db import savepoint
from storage.timers import Timer

if TYPE_CHECKING:  # Services holds the Handlers
    from bot.runtime.services import Services

log = logging.getLogger(__name__)

Handler = Callable[["Services", aiosqlite.Connection, Timer, datetime, bool], Awaitable[None]]
# Fires several timers of one kind, each of its own subject: (timer, late) pairs.
BatchHandler = Callable[
    ["Services", aiosqlite.Connection, list[tuple[Timer, bool]], datetime], Awaitable[None]
]

# How far past due a timer may fire before it counts as late (the bot was down, not just
# waiting for the next tick): real time, so on a drill's fast clock it is that many times as
# long (at ×144 a tick every 3 s is 7 clock minutes apart).
LATE_AFTER = timedelta(minutes=2)
# Timers per write transaction: large enough that a 100k check-in wave is not dominated by
# transaction overhead, small enough that the write lock is released every few hundred ms for
# people's own actions and the outbox's marks.
BATCH = 200
MAX_BATCHES = 50  # per fire_due() call (one tick): 10,000 timers, then the next tick goes on
MAX_ATTEMPTS = 5


class MissingHandlers(Exception):
    """A timer kind that can be scheduled has no handler: the bot must not start."""


@dataclass(frozen=True)
class Handlers:
    """The handler of every timer kind, given in bot/app.py: ``single`` fire one timer, a
    ``batch`` handler fires a run of timers of its kind at once (a lone one as a run of one)."""

    single: Mapping[str, Handler] = field(default_factory=dict)
    batch: Mapping[str, BatchHandler] = field(default_factory=dict)

    def __post_init__(self) -> None:
        both = sorted(set(self.single) & set(self.batch))
        if both:
            raise ValueError(f"timer kinds with two handlers: {', '.join(both)}")

    def check(self, kinds: Iterable[str]) -> None:
        """Raise ``MissingHandlers`` naming every kind of ``kinds`` without a handler."""
        missing = sorted(k for k in kinds if k not in self.single and k not in self.batch)
        if missing:
            raise MissingHandlers(f"timer kinds with no handler: {', '.join(missing)} "
                                  "(register them in bot/app.py)")  # fmt: skip


async def fire_due(services: Services, max_batches: int = MAX_BATCHES) -> int:
    """Fire every timer due now, oldest first, ``BATCH`` per transaction, including those the
    fired ones scheduled for now (a ladder's steps overdue after downtime, each scheduling
    the next); returns how many fired."""
    fired = 0
    for _ in range(max_batches):
        now = services.now()
        batch = await timers.due(services.db, now, BATCH)
        if not batch:
            break
        fired += await _fire_batch(services, batch, now)
    if fired:
        services.wake_outbox()
    return fired


async def _fire_batch(services: Services, batch: list[Timer], now: datetime) -> int:
    """One transaction for the batch, the runs of batch-handled timers at once. Should a run
    fail, the transaction is rolled back and the batch fired again one timer at a time, each
    failure then isolated in its timer's savepoint. Returns how many fired."""
    try:
        return await _fire_runs(services, _runs(batch, services.timers.batch), now)
    except _RunFailed:
        pass  # rolled back: nothing of the batch happened
    return await _fire_runs(services, [[timer] for timer in batch], now)


async def _fire_runs(services: Services, runs: list[list[Timer]], now: datetime) -> int:
    """One transaction for the batch's runs (a run of one: in its own savepoint). Returns how
    many fired."""
    fired = 0
    failed: list[Timer] = []
    current: Timer | None = None
    try:
        async with services.db.write() as conn:
            for run in runs:
                if len(run) > 1:
                    fired += await _fire_run(services, conn, run, now)
                    continue
                current = run[0]
                outcome = await _fire_one(services, conn, current, now)
                if outcome == _FIRED:
                    fired += 1
                elif outcome == _FAILED:
                    if not conn.in_transaction:
                        # The error ended the whole transaction (SQLite rolled it back, e.g.
                        # disk full): nothing of the batch happened.
                        raise _BatchAborted
                    failed.append(current)
            current = None
    except _RunFailed:
        raise
    except Exception as exc:
        # The batch transaction failed (BEGIN, COMMIT, a savepoint statement, or SQLite undid
        # it): nothing of it happened. The timer being fired when it broke counts a failed
        # attempt, so one bad timer cannot block the queue; the rest stay due and go on the
        # next pass.
        if not isinstance(exc, _BatchAborted):
            log.exception("timers: batch of %d rolled back", sum(map(len, runs)))
        fired, failed = 0, [current] if current is not None else []
    if failed:
        await _record_failures(services, failed, now)
    return fired


_FIRED, _SKIPPED, _FAILED = "fired", "skipped", "failed"


class _BatchAborted(Exception):
    """A handler's error rolled back the whole transaction, not just its savepoint."""


class _RunFailed(Exception):
    """Something in a run failed: the batch is to be fired again one timer at a time."""


def _late(services: Services, timer: Timer, now: datetime) -> bool:
    return now - timer.due_at > LATE_AFTER * services.clock.current_speed


def _runs(batch: list[Timer], batched: Mapping[str, BatchHandler]) -> list[list[Timer]]:
    """The batch in order, cut into runs: consecutive timers of one batch-handled kind, each
    of a different subject (so none of them sees another's effects); every other timer on
    its own."""
    runs: list[list[Timer]] = []
    subjects: set[str] = set()
    for timer in batch:
        run = runs[-1] if runs else None
        if (run and timer.kind in batched and timer.kind == run[0].kind
                and timer.subject not in subjects):  # fmt: skip
            run.append(timer)
        else:
            runs.append([timer])
            subjects.clear()
        subjects.add(timer.subject)
    return runs


async def _fire_run(
    services: Services, conn: aiosqlite.Connection, run: list[Timer], now: datetime
) -> int:
    """Mark a run fired and hand the still pending ones to their batch handler; returns how
    many fired. Raises ``_RunFailed`` on any error (the caller rolls back the transaction)."""
    late = {timer.id for timer in run if _late(services, timer, now)}
    try:
        done = await timers.finish_many(conn, [timer.id for timer in run], now, late)
        fired = [(timer, timer.id in late) for timer in run if timer.id in done]
        if fired:
            await services.timers.batch[run[0].kind](services, conn, fired, now)
        if late & done:
            log.info("timers: %d %s fired late", len(late & done), run[0].kind)
    except Exception as exc:
        log.warning("timers: a run of %d %s failed (%r); firing them one at a time",
                    len(run), run[0].kind, exc)  # fmt: skip
        raise _RunFailed from exc
    return len(fired)


async def _fire_one(
    services: Services, conn: aiosqlite.Connection, timer: Timer, now: datetime
) -> str:
    """Fire one timer inside its savepoint: ``_FIRED``; ``_SKIPPED`` when it was no longer
    pending (cancelled, or fired meanwhile); ``_FAILED`` when its handler raised (its
    savepoint rolled back: none of its effects, and the timer still pending)."""
    if timer.kind not in services.timers.single and timer.kind not in services.timers.batch:
        # Kept pending (retried, then set aside as 'failed'): an upgrade may bring its handler.
        log.error("timer %d (%s %s): no handler for its kind", timer.id, timer.kind, timer.subject)
        return _FAILED
    late = _late(services, timer, now)
    try:
        async with savepoint(conn, f"t{timer.id}"):
            if not await timers.finish(conn, timer.id, now, late):
                return _SKIPPED
            await _handle(services, conn, timer, now, late)
            if late:
                log.info("timer %d (%s %s) fired late, due %s", timer.id, timer.kind,
                         timer.subject, timer.due_at.isoformat())  # fmt: skip
    except Exception:
        log.exception("timer %d (%s %s) failed", timer.id, timer.kind, timer.subject)
        return _FAILED
    return _FIRED


async def _handle(
    services: Services, conn: aiosqlite.Connection, timer: Timer, now: datetime, late: bool
) -> None:
    batch = services.timers.batch.get(timer.kind)
    if batch is not None:
        await batch(services, conn, [(timer, late)], now)
    else:
        await services.timers.single[timer.kind](services, conn, timer, now, late)


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
