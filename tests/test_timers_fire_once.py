"""Fire once, also when a timer is cancelled between the tick reading it as due and firing it.

The tick reads the due timers outside any write transaction; a person's action (收到, a
verification, a withdrawn report) can cancel one of them before the batch's transaction
starts. Marking the timer done must then find it no longer pending, so its handler never
runs: the guard on ``state = 'pending'`` in ``storage.timers.finish_many``, which the rest
of the suite never reached (a mutation run found it)."""

from __future__ import annotations

from datetime import timedelta

from bot.actions import digest
from bot.domain.timers import Kind
from bot.runtime.timers import fire_due
from storage import timers
from storage.outbox import iso
from tests.harness import Harness


def cancel_after_reading(monkeypatch, harness: Harness, subject: str) -> list[int]:
    """Make the next reads of due timers cancel ``subject``'s timers right after reading
    them (as a person's action between the tick's read and its write would); returns the
    ids read as due."""
    read = timers.due
    seen: list[int] = []

    async def due_then_cancelled(db, now, limit):
        batch = await read(db, now, limit)
        seen.extend(t.id for t in batch if t.subject == subject)
        async with harness.db.write() as conn:
            await timers.cancel(conn, subject)
        return batch

    monkeypatch.setattr(timers, "due", due_then_cancelled)
    return seen


async def test_a_timer_cancelled_after_it_was_read_as_due_does_not_fire(
    harness: Harness, monkeypatch
) -> None:
    h = harness  # post_init scheduled the 20:00 report (a real timer kind with its handler)
    row = await h.db.fetchone("SELECT id FROM timers WHERE kind = ?", (Kind.DIGEST,))
    assert row is not None
    h.clock.advance(hours=10)  # 20:00 Shanghai: the report is due
    seen = cancel_after_reading(monkeypatch, h, digest.SUBJECT)
    assert await fire_due(h.services) == 0
    assert seen == [row["id"]]  # it was read as due, then cancelled, and did not fire
    state = await h.db.fetchone("SELECT state, fired_at FROM timers WHERE id = ?", (row["id"],))
    assert (state["state"], state["fired_at"]) == ("cancelled", None)
    assert await h.db.fetchone("SELECT 1 FROM outbox WHERE subject = ?", (digest.SUBJECT,)) is None


async def test_finish_marks_only_pending_timers(harness: Harness) -> None:
    """The storage contract itself: finishing a cancelled or already fired timer is a no-op
    that reports it was not pending; only pending ones come back, marked done."""
    h = harness
    now = h.clock.now()
    async with h.db.write() as conn:
        ids = await timers.schedule_many(
            conn,
            [timers.NewTimer(Kind.TIP_DEADLINE, f"once:{i}", now, {"i": i}) for i in range(3)],
            now,
        )
        assert await timers.cancel(conn, "once:1") == 1
    first, cancelled, third = ids
    later = now + timedelta(minutes=5)
    async with h.db.write() as conn:
        assert await timers.finish_many(conn, ids, later, {third}) == {first, third}
    async with h.db.write() as conn:
        assert await timers.finish_many(conn, ids, later, set()) == set()  # none fires twice
        assert await timers.finish(conn, cancelled, later, late=False) is False
        assert await timers.finish(conn, first, later, late=False) is False
    rows = await h.db.fetchall(
        "SELECT id, state, fired_at, late FROM timers WHERE subject LIKE 'once:%' ORDER BY id"
    )
    stamp = iso(later)
    assert [tuple(r) for r in rows] == [
        (first, "done", stamp, 0),
        (cancelled, "cancelled", None, 0),
        (third, "done", stamp, 1),
    ]
