"""storage/timers.py on its own, against a real SQLite file: a timer reads back as stored,
cancelling by kind, counting, and the failed-attempt bookkeeping (known answers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.timers import Kind
from storage import timers
from storage.db import Database
from storage.outbox import iso

T0 = datetime(2020, 10, 26, 2, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "timers.sqlite3")
    yield database
    await database.close()


async def schedule(db: Database, kind: str, subject: str, due: datetime = T0, **kw) -> int:
    async with db.write() as conn:
        timer_id = await timers.schedule(conn, kind=kind, subject=subject, due_at=due, now=T0,
                                         **kw)  # fmt: skip
    assert timer_id is not None
    return timer_id


async def test_a_timer_reads_back_as_it_was_scheduled(db: Database) -> None:
    due = T0 + timedelta(hours=2)
    timer_id = await schedule(db, Kind.DIGEST, "digest", due, payload={"村": "先锋", "n": 2},
                              dedup_key="digest:2020-10-26T20:00")  # fmt: skip
    expected = timers.Timer(timer_id, Kind.DIGEST, "digest", due, {"村": "先锋", "n": 2},
                            "digest:2020-10-26T20:00", 0)  # fmt: skip
    assert await timers.pending(db, "digest") == [expected]
    assert await timers.due(db, due, 10) == [expected]
    assert await timers.due(db, due - timedelta(seconds=1), 10) == []
    stored = await db.fetchone("SELECT payload FROM timers WHERE id = ?", (timer_id,))
    assert stored["payload"] == '{"村": "先锋", "n": 2}'  # readable in the database
    assert await timers.scheduled(db, "digest:2020-10-26T20:00")
    assert not await timers.scheduled(db, "digest:2020-10-27T08:00")


async def test_cancel_by_kind_leaves_the_other_kinds(db: Database) -> None:
    step = await schedule(db, Kind.LADDER_STEP, "report:1")
    repeat = await schedule(db, Kind.LADDER_REPEAT, "report:1")
    other = await schedule(db, Kind.LADDER_STEP, "report:2")
    async with db.write() as conn:
        assert await timers.cancel(conn, "report:1", [Kind.LADDER_STEP]) == 1
    assert [t.id for t in await timers.pending(db, "report:1")] == [repeat]
    async with db.write() as conn:
        assert await timers.cancel(conn, "report:1") == 1  # every kind
        assert await timers.cancel(conn, "report:1") == 0
    assert await timers.pending(db, "report:1") == []
    assert [t.id for t in await timers.pending(db, "report:2")] == [other]
    assert step != repeat


async def test_pending_count_counts_pending_only(db: Database) -> None:
    assert await timers.pending_count(db) == 0
    await schedule(db, Kind.DIGEST, "digest")
    await schedule(db, Kind.TIP_DEADLINE, "tip:1")
    async with db.write() as conn:
        await timers.cancel(conn, "tip:1")
    assert await timers.pending_count(db) == 1


async def test_a_failed_attempt_is_retried_then_set_aside(db: Database) -> None:
    retry = await schedule(db, Kind.TIP_DEADLINE, "tip:1")
    give_up = await schedule(db, Kind.TIP_DEADLINE, "tip:2")
    later = T0 + timedelta(minutes=2)
    await timers.failed_attempt(db, retry, later, give_up=False)
    await timers.failed_attempt(db, give_up, later, give_up=True)
    await timers.failed_attempts(db, [])  # nothing to record
    rows = await db.fetchall("SELECT id, state, attempts, due_at FROM timers ORDER BY id")
    assert [tuple(r) for r in rows] == [(retry, "pending", 1, iso(later)),
                                        (give_up, "failed", 1, iso(later))]  # fmt: skip
