"""storage/outbox.py on its own, against a real SQLite file: the row lifecycle calls the
worker makes (sent, failed, retargeted, unreachable and back), edits superseding each other,
when the next row falls due, and many messages in chunked statements. A mutation run found
these reached by no test, or only through the worker's happy path."""

from __future__ import annotations

import json
import time as clock
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage import outbox
from storage.db import Database

T0 = datetime(2020, 10, 26, 2, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "outbox.sqlite3")
    yield database
    await database.close()


async def put(db: Database, chat_id: int, text: str, at: datetime = T0, **kw) -> int:
    async with db.write() as conn:
        row_id = await outbox.enqueue(conn, chat_id=chat_id, text=text, now=at, **kw)
    assert row_id is not None
    return row_id


async def state(db: Database, row_id: int) -> tuple:
    row = await db.fetchone(
        "SELECT state, chat_id, attempts, error, message_id FROM outbox WHERE id = ?", (row_id,)
    )
    return tuple(row)


async def test_get_returns_the_row_or_none(db: Database) -> None:
    row_id = await put(db, 7, "你好", dedup_key="k1", subject="report:1", priority=0)
    row = await outbox.get(db, row_id)
    assert row is not None
    assert (row.id, row.chat_id, row.kind, row.text, row.priority, row.state) == (
        row_id, 7, "text", "你好", 0, "pending")  # fmt: skip
    assert (row.dedup_key, row.subject, row.not_before, row.created_at) == ("k1", "report:1", T0,
                                                                            T0)  # fmt: skip
    assert (row.reply_markup, row.photo, row.edits, row.fallback) == (None, None, None, None)
    assert await outbox.get(db, row_id + 1) is None


async def test_enqueue_many_adds_each_message_once_in_chunks(db: Database, monkeypatch) -> None:
    monkeypatch.setattr(outbox, "_MAX_ROWS", 2)
    async with db.write() as conn:
        await outbox.enqueue_many(conn, [{"chat_id": i, "text": f"m{i}"} for i in range(5)], T0)
    rows = await db.fetchall("SELECT chat_id, text FROM outbox ORDER BY id")
    assert [tuple(r) for r in rows] == [(i, f"m{i}") for i in range(5)]


async def test_sent_failed_and_retargeted(db: Database) -> None:
    sent, failed, moved = [await put(db, chat, "x") for chat in (1, 2, 3)]
    assert await outbox.pending_count(db) == 3
    await outbox.mark_sent(db, sent, 555, T0)
    await outbox.mark_failed(db, failed, "bad request", T0)
    await outbox.retarget(db, moved, -1009)
    assert await state(db, sent) == ("sent", 1, 1, None, 555)
    assert await state(db, failed) == ("failed", 2, 1, "bad request", None)
    assert await state(db, moved) == ("pending", -1009, 0, None, None)
    assert await outbox.pending_count(db) == 1


async def test_defer_does_not_count_an_attempt(db: Database) -> None:
    row_id = await put(db, 1, "x")
    later = T0 + timedelta(seconds=30)
    await outbox.defer(db, row_id, later)
    await outbox.mark_retry(db, row_id, later, "timed out")
    row = await outbox.get(db, row_id)
    assert row is not None and (row.state, row.attempts, row.not_before) == ("pending", 1, later)


async def test_unreachable_once_per_blocking_and_cleared(db: Database) -> None:
    first, second, other = await put(db, 1, "a"), await put(db, 1, "b"), await put(db, 2, "c")
    assert await outbox.mark_unreachable(db, first, 1, T0, "blocked") is True
    assert await outbox.mark_unreachable(db, second, 1, T0, "blocked") is False  # known already
    assert await state(db, second) == ("unreachable", 1, 1, "blocked", None)
    assert await outbox.is_unreachable(db, 1) and not await outbox.is_unreachable(db, 2)
    assert await outbox.unreachable_among(db, [2, 1, 1, 3]) == {1}
    await outbox.clear_unreachable(db, 1)
    assert not await outbox.is_unreachable(db, 1)
    assert await outbox.mark_unreachable(db, other, 2, T0, "blocked") is True
    await outbox.mark_sent(db, await put(db, 2, "d"), 9, T0)  # a delivery proves it reachable
    assert not await outbox.is_unreachable(db, 2)


async def test_next_due_is_the_earliest_pending_row(db: Database) -> None:
    assert await outbox.next_due(db) is None
    early = await put(db, 1, "early", at=T0)
    await put(db, 1, "late", at=T0 + timedelta(minutes=5))
    assert await outbox.next_due(db) == T0
    await outbox.mark_sent(db, early, 1, T0)
    assert await outbox.next_due(db) == T0 + timedelta(minutes=5)


async def test_an_edit_supersedes_the_one_still_waiting(db: Database) -> None:
    assert await outbox.edit_target(db, "card:1") is None
    card = await put(db, 5, "card v1", dedup_key="card:1")
    await outbox.mark_sent(db, card, 321, T0)
    assert await outbox.edit_target(db, "card:1") == ("sent", 5, 321)
    async with db.write() as conn:
        await outbox.enqueue_edit(conn, edits="card:1", chat_id=5, text="v2", now=T0)
        await outbox.enqueue_edit(conn, edits="card:1", chat_id=5, text="v3", now=T0,
                                  fallback="card changed")  # fmt: skip
        await outbox.enqueue_edit(conn, edits="card:2", chat_id=5, text="other", now=T0)
    rows = await db.fetchall("SELECT edits, text, fallback FROM outbox WHERE edits IS NOT NULL")
    assert [tuple(r) for r in rows] == [("card:1", "v3", "card changed"), ("card:2", "other", None)]


async def test_an_edit_row_reads_back_with_its_target_and_fallback(db: Database) -> None:
    async with db.write() as conn:
        row_id = await outbox.enqueue_edit(conn, edits="card:1", chat_id=5, text="v2", now=T0,
                                           fallback="卡片已更新")  # fmt: skip
    row = await outbox.get(db, row_id)
    assert row is not None and (row.edits, row.fallback) == ("card:1", "卡片已更新")


async def test_buttons_are_stored_as_readable_json(db: Database) -> None:
    markup = {"inline_keyboard": [[{"text": "收到", "callback_data": "v1:ack:1"}]]}
    row = await outbox.get(db, await put(db, 1, "x", reply_markup=markup))
    assert row is not None and row.reply_markup == json.dumps(markup, ensure_ascii=False)
    assert "收到" in row.reply_markup


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"priority": 10}, r"^priority must be 0\.\.9, got 10$"),
        ({"edits": "card:1", "photo": b"png"}, "^an edit replaces one text message"),
        ({"edits": "card:1", "text": "x" * 4000 + "\n" + "y" * 200}, "at most one part$"),
    ],
)
async def test_refused_messages(db: Database, message: dict, error: str) -> None:
    async with db.write() as conn:
        with pytest.raises(ValueError, match=error):
            await outbox.enqueue(conn, **{"chat_id": 1, "text": "x", "now": T0, **message})


def test_stored_times_are_utc_whatever_the_machines_zone(monkeypatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    clock.tzset()
    try:
        assert outbox.iso(T0.astimezone(ZoneInfo("Asia/Shanghai"))) == "2020-10-26T02:00:00+00:00"
    finally:
        monkeypatch.undo()
        clock.tzset()
    with pytest.raises(ValueError, match=r"^naive datetime: outbox times must be timezone-aware$"):
        outbox.iso(datetime(2020, 10, 26, 2, 0))


async def test_failure_time_and_lost_answers_are_stored(db: Database) -> None:
    row_id = await put(db, 1, "x")
    later = T0 + timedelta(seconds=30)
    await outbox.mark_retry(db, row_id, later, "TimedOut", uncertain=True)
    await outbox.mark_retry(db, row_id, later, "Bad Gateway")
    row = await outbox.get(db, row_id)
    assert row is not None and (row.attempts, row.uncertain) == (2, 1)
    await outbox.mark_failed(db, row_id, "undelivered", later)
    stored = await db.fetchone("SELECT failed_at, uncertain FROM outbox WHERE id = ?", (row_id,))
    assert tuple(stored) == (outbox.iso(later), 1)


async def test_backlog_counts_undelivered_rows_and_finds_the_oldest(db: Database) -> None:
    assert await outbox.backlog(db) == outbox.Backlog(0, None, None)
    minute = timedelta(minutes=1)
    sent = await put(db, 1, "delivered", at=T0)
    await outbox.mark_sent(db, sent, 1, T0)
    failed = await put(db, 1, "given up", at=T0, priority=outbox.PRIORITY_ALERT)
    await outbox.mark_failed(db, failed, "Chat not found", T0)
    await put(db, 2, "bulk", at=T0 + minute, priority=outbox.PRIORITY_BULK)
    await put(db, 3, "alert", at=T0 + 2 * minute, priority=outbox.PRIORITY_ALERT)
    await put(db, 4, "alert", at=T0 + 3 * minute, priority=outbox.PRIORITY_ALERT)
    claimed = await put(db, 5, "in flight", at=T0 + 4 * minute)
    await outbox.claim(db, T0 + 5 * minute, 1)  # the oldest due row: 'sending' counts too
    assert claimed
    assert await outbox.backlog(db) == outbox.Backlog(4, T0 + minute, T0 + 2 * minute)


async def test_trouble_counts_failures_and_possible_repeats_in_the_window(db: Database) -> None:
    hour = timedelta(hours=1)
    rows = [await put(db, chat, "x") for chat in range(1, 7)]
    await outbox.mark_failed(db, rows[0], "a", T0)  # at the window's start: in
    await outbox.mark_failed(db, rows[1], "b", T0 + hour)  # at its end: out
    await outbox.mark_failed(db, rows[2], "c", T0 - hour)  # before: out
    for row_id, at in ((rows[3], T0), (rows[4], T0 + hour)):
        await outbox.mark_retry(db, row_id, at, "TimedOut", uncertain=True)
        await outbox.mark_sent(db, row_id, 9, at)  # delivered after a lost answer
    await outbox.mark_sent(db, rows[5], 9, T0)  # delivered the first time: no repeat
    assert await outbox.trouble(db, T0, T0 + hour) == outbox.Trouble(failed=1, repeats=1)
    assert await outbox.trouble(db, T0 + hour, T0 + 2 * hour) == outbox.Trouble(1, 1)
    assert await outbox.trouble_total(db) == outbox.Trouble(failed=3, repeats=2)
    async with db.write() as conn:  # inside a transaction too (the daily report's)
        assert await outbox.trouble(conn, T0 - hour, T0) == outbox.Trouble(1, 0)


async def test_a_sent_message_forgets_its_text_unless_its_buttons_are_still_offered(
    db: Database,
) -> None:
    """Issue 11: no full phone survives in a sent message; a card still offering buttons keeps
    its (sealed) text until the offer is taken, because taking it redraws the card."""
    card = "王五 +86 138 1234 5678"
    plain = await put(db, 1, card, dedup_key="plain", fallback="王五 13812345678")
    offered = await put(db, 2, card, dedup_key="card")
    async with db.write() as conn:
        await outbox.offer(conn, "card", "report:1", ["v1:x"])
    await outbox.mark_sent_many(db, [(plain, 10, T0)], clear_unreachable=False)
    await outbox.mark_sent_many(db, [(offered, 11, T0)], clear_unreachable=True)
    texts = {r["id"]: (r["text"], r["fallback"])
             for r in await db.fetchall("SELECT id, text, fallback FROM outbox")}  # fmt: skip
    assert texts == {plain: ("", None), offered: (card, None)}
    async with db.write() as conn:
        (taken,) = await outbox.take_offers(conn, "report:1")
    assert taken.text == card  # read once more to redraw it, then forgotten
    row = await db.fetchone("SELECT text FROM outbox WHERE id = ?", (offered,))
    assert row["text"] == ""
