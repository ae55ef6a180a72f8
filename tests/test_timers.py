"""Durable timers: fire once, catch up after downtime (marked late), cancel, retry a failing
handler with backoff and set it aside after repeated failures."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot import app
from bot.domain import timers as kinds
from bot.runtime import timers as firing
from storage import outbox, timers
from tests.harness import Harness

CHAT = 555


async def _say(services, conn, timer, now, late) -> None:
    await outbox.enqueue(conn, chat_id=CHAT, text=f"{timer.payload['text']} late={late}", now=now)


async def _broken(services, conn, timer, now, late) -> None:
    await outbox.enqueue(conn, chat_id=CHAT, text="never", now=now)
    raise RuntimeError("boom")


RUNS: list[list[str]] = []  # the texts of each call of the batch handler below


async def _many(services, conn, fired, now) -> None:
    RUNS.append([timer.payload["text"] for timer, _ in fired])
    for timer, late in fired:
        if timer.payload["text"] == "broken":
            raise RuntimeError("boom")
        text = f"{timer.payload['text']} late={late}"
        await outbox.enqueue(conn, chat_id=CHAT, text=text, now=now)


@pytest.fixture(autouse=True)
def test_kinds(monkeypatch) -> None:
    """This module's kinds declared and registered as the app's own are (before the harness
    builds the app, and again on a restart)."""
    monkeypatch.setattr(kinds, "KINDS", kinds.KINDS | {"test.say", "test.broken", "test.many"})
    single = {**app.TIMERS.single, "test.say": _say, "test.broken": _broken}
    batch = {**app.TIMERS.batch, "test.many": _many}
    monkeypatch.setattr(app, "TIMERS", replace(app.TIMERS, single=single, batch=batch))


async def _schedule(
    h: Harness, kind: str, minutes: float, subject: str = "test:1", **extra
) -> int | None:
    now = h.clock.now()
    async with h.db.write() as conn:
        return await timers.schedule(
            conn,
            kind=kind,
            subject=subject,
            now=now,
            due_at=now + timedelta(minutes=minutes),
            **extra,
        )


async def test_fires_once_when_due(harness: Harness) -> None:
    h = harness
    await _schedule(h, "test.say", 5, payload={"text": "hello"})
    assert await firing.fire_due(h.services) == 0
    h.clock.advance(minutes=5)
    assert await firing.fire_due(h.services) == 1
    assert await firing.fire_due(h.services) == 0
    await h.drain_outbox()
    assert h.texts(CHAT) == ["hello late=False"]


async def test_dedup_key_schedules_once(harness: Harness) -> None:
    assert await _schedule(harness, "test.say", 1, payload={"text": "x"}, dedup_key="k") is not None
    assert await _schedule(harness, "test.say", 1, payload={"text": "x"}, dedup_key="k") is None
    assert len(await timers.pending(harness.db, "test:1")) == 1


async def test_schedule_many_in_chunks_skips_known_keys(harness: Harness, monkeypatch) -> None:
    monkeypatch.setattr(timers, "_MAX_ROWS", 3)
    h, now = harness, harness.clock.now()
    new = [timers.NewTimer("test.say", f"test:{i}", now, {"text": str(i)}, f"k{i % 6}")
           for i in range(8)]  # fmt: skip
    async with h.db.write() as conn:
        ids = await timers.schedule_many(conn, new, now)
    assert len(ids) == len(set(ids)) == 6  # k0 and k1 come twice
    assert await firing.fire_due(h.services) == 6


async def test_catch_up_after_restart_fires_once_marked_late(harness: Harness, tmp_path) -> None:
    h = harness
    await _schedule(h, "test.say", 10, payload={"text": "wake"})
    await h.stop()
    h.clock.advance(hours=3)  # the bot was down
    await h.restart(tmp_path / "paicha.sqlite3")  # the fixture stops this one
    assert await firing.fire_due(h.services) == 1
    assert await firing.fire_due(h.services) == 0
    row = await h.db.fetchone("SELECT late, state FROM timers WHERE subject = 'test:1'")
    assert (row["late"], row["state"]) == (1, "done")
    await h.drain_outbox()
    assert h.texts(CHAT) == ["wake late=True"]


async def test_cancelled_timer_does_not_fire(harness: Harness) -> None:
    h = harness
    await _schedule(h, "test.say", 1, payload={"text": "x"})
    async with h.db.write() as conn:
        assert await timers.cancel(conn, "test:1") == 1
    h.clock.advance(minutes=2)
    assert await firing.fire_due(h.services) == 0


async def test_failing_handler_rolls_back_retries_then_gives_up(harness: Harness) -> None:
    h = harness
    await _schedule(h, "test.broken", 0)
    for _ in range(firing.MAX_ATTEMPTS):
        assert await firing.fire_due(h.services) == 0
        h.clock.advance(hours=2)
    row = await h.db.fetchone("SELECT state, attempts FROM timers WHERE subject = 'test:1'")
    assert (row["state"], row["attempts"]) == ("failed", firing.MAX_ATTEMPTS)
    assert await outbox.pending_count(h.db) == 0  # the failed attempts left nothing behind


async def test_batch_with_a_failing_timer_commits_the_others(harness: Harness) -> None:
    """One transaction per batch, a savepoint per timer: the broken one is rolled back alone
    (none of its effects, still pending, one attempt counted); the others fire once."""
    h = harness
    for i in range(3):
        await _schedule(h, "test.say", 0, payload={"text": f"before {i}"})
    broken = await _schedule(h, "test.broken", 0)
    for i in range(3):
        await _schedule(h, "test.say", 0, payload={"text": f"after {i}"})
    assert await firing.fire_due(h.services) == 6
    assert await firing.fire_due(h.services) == 0  # the broken one is not due again yet
    rows = await h.db.fetchall("SELECT text FROM outbox ORDER BY id")
    assert [r["text"] for r in rows] == [f"{w} {i} late=False" for w in ("before", "after")
                                         for i in range(3)]  # fmt: skip
    row = await h.db.fetchone("SELECT state, attempts, due_at FROM timers WHERE id = ?", (broken,))
    assert (row["state"], row["attempts"]) == ("pending", 1)
    h.clock.advance(minutes=1)  # the first retry: a minute later
    assert await firing.fire_due(h.services) == 0
    row = await h.db.fetchone("SELECT state, attempts FROM timers WHERE id = ?", (broken,))
    assert (row["state"], row["attempts"]) == ("pending", 2)
    done = await h.db.fetchone("SELECT COUNT(*) FROM timers WHERE state = 'done'")
    assert done[0] == 6


async def test_a_wave_fires_in_one_transaction_per_batch(harness: Harness, monkeypatch) -> None:
    h = harness
    count = 2 * firing.BATCH + 1
    now = h.clock.now()
    async with h.db.write() as conn:
        for i in range(count):
            await timers.schedule(conn, kind="test.say", subject=f"test:{i}", now=now,
                                  due_at=now, payload={"text": str(i)})  # fmt: skip
    transactions = 0
    write = h.db.write

    def counting_write():
        nonlocal transactions
        transactions += 1
        return write()

    monkeypatch.setattr(h.db, "write", counting_write)
    assert await firing.fire_due(h.services) == count
    assert transactions == 3
    assert await outbox.pending_count(h.db) == count
    left = await h.db.fetchone(
        "SELECT COUNT(*) FROM timers WHERE kind = 'test.say' AND state = 'pending'"
    )
    assert left[0] == 0


async def test_batch_handler_fires_runs_of_its_kind_at_once(harness: Harness) -> None:
    """Consecutive timers of a batch-handled kind go to their handler together, each with its
    own late flag; a subject seen already in the run, or another kind, starts a new one."""
    h = harness
    RUNS.clear()
    await _schedule(h, "test.many", -180, "test:1", payload={"text": "a"})  # the bot was down
    await _schedule(h, "test.many", -1, "test:2", payload={"text": "b"})
    await _schedule(h, "test.many", -1, "test:1", payload={"text": "c"})  # test:1 again
    await _schedule(h, "test.say", -1, "test:3", payload={"text": "say"})
    await _schedule(h, "test.many", -1, "test:4", payload={"text": "d"})
    assert await firing.fire_due(h.services) == 5
    assert RUNS == [["a", "b"], ["c"], ["d"]]
    rows = await h.db.fetchall("SELECT text FROM outbox ORDER BY id")
    assert [r["text"] for r in rows] == ["a late=True", "b late=False", "c late=False",
                                         "say late=False", "d late=False"]  # fmt: skip
    late = await h.db.fetchall("SELECT late FROM timers WHERE state = 'done' ORDER BY id")
    assert [r["late"] for r in late] == [1, 0, 0, 0, 0]
    assert await firing.fire_due(h.services) == 0


async def test_a_failing_timer_in_a_run_fails_alone(harness: Harness) -> None:
    """A run that fails is rolled back and fired again one timer at a time: the broken one
    is rolled back alone (still pending, one attempt counted), the others fire once."""
    h = harness
    RUNS.clear()
    for i, text in enumerate(("a", "broken", "c")):
        await _schedule(h, "test.many", 0, f"test:{i}", payload={"text": text})
    assert await firing.fire_due(h.services) == 2
    assert RUNS == [["a", "broken", "c"], ["a"], ["broken"], ["c"]]
    rows = await h.db.fetchall("SELECT text FROM outbox ORDER BY id")
    assert [r["text"] for r in rows] == ["a late=False", "c late=False"]
    rows = await h.db.fetchall(
        "SELECT subject, state, attempts FROM timers WHERE kind = 'test.many' ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [("test:0", "done", 0), ("test:1", "pending", 1),
                                        ("test:2", "done", 0)]  # fmt: skip


async def test_an_unknown_kind_is_not_marked_done_but_fails_loudly(harness: Harness,
                                                                    caplog) -> None:  # fmt: skip
    """A due timer no handler knows (a kind from a newer or older version) is never dropped
    silently: an error is logged, it stays pending for retries, then is set aside."""
    h = harness
    await _schedule(h, "test.say", 0, payload={"text": "x"})
    async with h.db.write() as conn:
        await conn.execute("UPDATE timers SET kind = 'gone.kind' WHERE subject = 'test:1'")
    for _ in range(firing.MAX_ATTEMPTS):
        assert await firing.fire_due(h.services) == 0
        h.clock.advance(hours=2)
    assert "no handler for its kind" in caplog.text
    row = await h.db.fetchone(
        "SELECT state, attempts, fired_at FROM timers WHERE subject = 'test:1'"
    )
    assert (row["state"], row["attempts"], row["fired_at"]) == ("failed", firing.MAX_ATTEMPTS, None)


async def test_an_undeclared_kind_cannot_be_scheduled(harness: Harness) -> None:
    with pytest.raises(ValueError, match="not declared"):
        timers.NewTimer("case.remind", "case:1", harness.clock.now())
    with pytest.raises(ValueError, match="not declared"):
        await _schedule(harness, "nobody.handles", 1)
