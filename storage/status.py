"""The health figures (``paicha status``, ``/status``): SQL only, a handful of indexed reads.

Every figure is a count or a time, never a person: the health command prints them to an
operator's terminal and a monitoring system.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite

from storage import outbox
from storage.db import Database, Reader, fetch_one

LAST_UPDATE = "status:last_update"  # counters row: unix time of the last update processed
DAY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Health:
    at: datetime  # when the figures were read
    backlog: outbox.Backlog
    failed_24h: int
    failed_total: int
    repeats_24h: int  # delivered after a lost answer: possibly received twice
    repeats_total: int
    timers_due: int  # pending timers whose time has come
    timers_late: int  # ... and that are late: due longer ago than the caller's ``late``
    last_update: datetime | None  # the last update the bot processed (to the minute)
    database_bytes: int


async def health(conn: Reader, now: datetime, late: timedelta) -> Health:
    """The figures as of ``now``; a timer due more than ``late`` ago and not fired is late."""
    day = await outbox.trouble(conn, now - DAY, now + timedelta(microseconds=1))
    total = await outbox.trouble_total(conn)
    timers = await fetch_one(
        conn,
        """SELECT count(*), coalesce(sum(due_at <= ?), 0)
           FROM timers WHERE state = 'pending' AND due_at <= ?""",
        (outbox.iso(now - late), outbox.iso(now)),
    )
    seen = await fetch_one(conn, "SELECT value FROM counters WHERE scope = ?", (LAST_UPDATE,))
    size = await fetch_one(
        conn, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
    )
    return Health(
        at=now,
        backlog=await outbox.backlog(conn),
        failed_24h=day.failed,
        failed_total=total.failed,
        repeats_24h=day.repeats,
        repeats_total=total.repeats,
        timers_due=timers[0],
        timers_late=timers[1],
        last_update=datetime.fromtimestamp(seen[0], UTC) if seen else None,
        database_bytes=size[0],
    )


async def record_update(db: Database, at: datetime) -> None:
    """The bot processed an update at ``at`` (the caller writes this at most once a minute)."""
    await db.write_one(
        """INSERT INTO counters (scope, value) VALUES (?, ?)
           ON CONFLICT(scope) DO UPDATE SET value = excluded.value""",
        (LAST_UPDATE, int(at.timestamp())),
    )


async def open_readonly(path: Path) -> aiosqlite.Connection:
    """The bot's database, read only (``paicha status`` while the bot runs): no migration,
    no write, no lock, no data key (the figures are counts: nothing sealed is read).
    FileNotFoundError when there is no database there."""
    if not path.is_file():
        raise FileNotFoundError(path)
    conn = await aiosqlite.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA busy_timeout=5000")
    return conn
