"""Durable timers (SQL only). Scheduling happens inside the caller's write transaction, so a
report and its deadlines are stored together; firing marks the row done in the same
transaction as the messages it produces, so nothing fires twice."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiosqlite

from bot.domain import timers as kinds
from storage.db import Database, marks, value_rows
from storage.outbox import iso


@dataclass(frozen=True)
class Timer:
    id: int
    kind: str
    subject: str
    due_at: datetime
    payload: dict[str, Any]
    dedup_key: str | None
    attempts: int


def _timer(row: aiosqlite.Row) -> Timer:
    return Timer(
        id=row["id"],
        kind=row["kind"],
        subject=row["subject"],
        due_at=datetime.fromisoformat(row["due_at"]),
        payload=json.loads(row["payload"]),
        dedup_key=row["dedup_key"],
        attempts=row["attempts"],
    )


_MAX_ROWS = 5000  # timers per INSERT: 6 values each, within SQLite's 32,766 per statement


@dataclass(frozen=True)
class NewTimer:
    """A timer to schedule (``schedule_many``): only of a kind declared in bot.domain.timers
    (ValueError otherwise), so every stored timer has a handler."""

    kind: str
    subject: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    dedup_key: str | None = None  # the same key scheduled twice makes one row

    def __post_init__(self) -> None:
        kinds.check(self.kind)


async def schedule(
    conn: aiosqlite.Connection,
    *,
    kind: str,
    subject: str,
    due_at: datetime,
    now: datetime,
    payload: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> int | None:
    """Add a timer; returns its id, or None when ``dedup_key`` was already scheduled."""
    ids = await schedule_many(
        conn, [NewTimer(kind, subject, due_at, payload or {}, dedup_key)], now
    )
    return ids[0] if ids else None


async def schedule_many(
    conn: aiosqlite.Connection, new: Sequence[NewTimer], now: datetime
) -> list[int]:
    """Add timers in one statement (one trip to the SQLite thread; a statement per 5,000 for
    more); returns the ids of those added (a ``dedup_key`` already scheduled adds nothing)."""
    stamp = iso(now)
    ids: list[int] = []
    for first in range(0, len(new), _MAX_ROWS):
        chunk = new[first : first + _MAX_ROWS]
        rows = await conn.execute_fetchall(
            f"""INSERT INTO timers (kind, subject, due_at, payload, dedup_key, created_at)
                VALUES {value_rows(len(chunk), 6)}
                ON CONFLICT(dedup_key) DO NOTHING RETURNING id""",
            [value for t in chunk for value in (t.kind, t.subject, iso(t.due_at),
                                                json.dumps(t.payload, ensure_ascii=False),
                                                t.dedup_key, stamp)],
        )  # fmt: skip
        ids += [row["id"] for row in rows]
    return ids


async def scheduled(db: Database, dedup_key: str) -> bool:
    """Whether a timer with this key exists, in whatever state (one indexed read)."""
    return await db.fetchone("SELECT 1 FROM timers WHERE dedup_key = ?", (dedup_key,)) is not None


async def cancel(
    conn: aiosqlite.Connection, subject: str, kinds: Iterable[str] | None = None
) -> int:
    """Cancel the subject's pending timers (of the given kinds): the item was handled."""
    sql = "UPDATE timers SET state = 'cancelled' WHERE subject = ? AND state = 'pending'"
    params: list[Any] = [subject]
    kinds = list(kinds or [])
    if kinds:
        sql += f" AND kind IN ({marks(len(kinds))})"
        params += kinds
    cur = await conn.execute(sql, params)
    return cur.rowcount


async def due(db: Database, now: datetime, limit: int) -> list[Timer]:
    rows = await db.fetchall(
        """SELECT * FROM timers WHERE state = 'pending' AND due_at <= ?
           ORDER BY due_at, id LIMIT ?""",
        (iso(now), limit),
    )
    return [_timer(r) for r in rows]


async def finish(conn: aiosqlite.Connection, timer_id: int, now: datetime, late: bool) -> bool:
    """Mark fired; False when it was no longer pending (cancelled or fired meanwhile)."""
    return bool(await finish_many(conn, [timer_id], now, {timer_id} if late else set()))


async def finish_many(
    conn: aiosqlite.Connection, timer_ids: Sequence[int], now: datetime, late: set[int]
) -> set[int]:
    """Mark fired (``late``: those fired well after due) in one statement; returns the ids
    that were still pending (the others were cancelled or fired meanwhile)."""
    # "+state": look the rows up by id, not through the index of every pending timer
    rows = await conn.execute_fetchall(
        f"""UPDATE timers SET state = 'done', fired_at = ?, late = id IN ({marks(len(late))})
            WHERE id IN ({marks(len(timer_ids))}) AND +state = 'pending' RETURNING id""",
        (iso(now), *late, *timer_ids),
    )
    return {row["id"] for row in rows}


async def pending(db: Database, subject: str) -> list[Timer]:
    rows = await db.fetchall(
        "SELECT * FROM timers WHERE subject = ? AND state = 'pending' ORDER BY due_at, id",
        (subject,),
    )
    return [_timer(r) for r in rows]


async def pending_count(db: Database) -> int:
    row = await db.fetchone("SELECT COUNT(*) FROM timers WHERE state = 'pending'")
    return row[0]


async def failed_attempt(db: Database, timer_id: int, retry_at: datetime, give_up: bool) -> None:
    """A handler raised: try again later, or stop retrying a timer that keeps failing."""
    await failed_attempts(db, [(timer_id, retry_at, give_up)])


async def failed_attempts(db: Database, attempts: Sequence[tuple[int, datetime, bool]]) -> None:
    """``failed_attempt`` for several timers (id, retry_at, give_up) in one transaction."""
    if not attempts:
        return
    async with db.write() as conn:
        await conn.executemany(
            """UPDATE timers SET attempts = attempts + 1, due_at = ?,
                   state = CASE WHEN ? THEN 'failed' ELSE state END
               WHERE id = ? AND state = 'pending'""",
            [(iso(retry_at), int(give_up), timer_id) for timer_id, retry_at, give_up in attempts],
        )
