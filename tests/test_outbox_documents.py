"""Documents through the outbox (sendDocument): the file is in the row, so a restart before
the send still sends it; its bytes are forgotten once sent, like a sent text."""

from __future__ import annotations

from typing import Any

import pytest

from bot.runtime.clock import ManualClock
from storage import db as db_module
from storage.db import Database
from tests.test_outbox import T0, FakeBot, FakeMessage, make_worker, put

PDF = b"%PDF-1.3 certificate"


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


class DocumentBot(FakeBot):
    async def send_document(self, chat_id: int, document: bytes, **kw: Any) -> FakeMessage:
        caption = kw.pop("caption", None)
        return await self._call("send_document", chat_id, caption, document=document, **kw)


async def test_a_document_is_sent_with_its_name_and_caption_and_then_forgotten(db, clock) -> None:
    bot = DocumentBot(clock)
    await put(db, clock, 3, "<b>解除</b>", document=("告知书.pdf", PDF), dedup_key="cert:1")
    row = await db.fetchone("SELECT kind, photo, filename FROM outbox")
    assert (row["kind"], row["photo"], row["filename"]) == ("document", PDF, "告知书.pdf")
    assert await make_worker(db, bot, clock).drain() == 1
    (call,) = bot.calls
    assert (call.method, call.chat_id, call.text) == ("send_document", 3, "<b>解除</b>")
    assert call.kwargs["document"] == PDF and call.kwargs["filename"] == "告知书.pdf"
    row = await db.fetchone("SELECT state, text, photo FROM outbox")
    assert (row["state"], row["text"], row["photo"]) == ("sent", "", None)


async def test_a_document_waiting_at_a_restart_is_sent_after_it(db, clock, tmp_path) -> None:
    await put(db, clock, 3, "caption", document=("a.pdf", PDF), dedup_key="cert:1")
    await db.close()  # the process stops
    reopened = await Database.open(tmp_path / "t.sqlite3")
    try:
        bot = DocumentBot(clock)
        assert await make_worker(reopened, bot, clock).drain() == 1
        assert bot.calls[0].kwargs["document"] == PDF
    finally:
        await reopened.close()


async def test_a_long_caption_goes_on_as_text_and_a_photo_stays_a_photo(db, clock) -> None:
    await put(db, clock, 3, "字" * 1500, document=("a.pdf", PDF))
    rows = await db.fetchall("SELECT kind, filename, photo FROM outbox ORDER BY id")
    assert [(r["kind"], r["filename"]) for r in rows] == [("document", "a.pdf"), ("text", None)]
    await put(db, clock, 4, "p", photo=b"\x89PNG")
    photo = await db.fetchone("SELECT kind, filename FROM outbox WHERE chat_id = 4")
    assert (photo["kind"], photo["filename"]) == ("photo", None)


async def test_a_photo_and_a_document_at_once_are_refused(db, clock) -> None:
    with pytest.raises(ValueError, match="not both"):
        await put(db, clock, 3, "x", photo=b"\x89PNG", document=("a.pdf", PDF))


async def test_the_rebuilt_outbox_keeps_every_row_and_index(tmp_path, monkeypatch) -> None:
    """Migration 033 rebuilds the table (a CHECK cannot change): rows queued before it are
    all there after it, column for column, and so are the indexes."""
    every = db_module.migrations()
    monkeypatch.setattr(db_module, "migrations", lambda: [m for m in every if m[0] < 33])
    old = await Database.open(tmp_path / "old.sqlite3")
    async with old.write() as conn:  # as the code before it wrote them
        await conn.executemany(
            """INSERT INTO outbox (dedup_key, chat_id, kind, text, photo, priority, state,
                   not_before, created_at, sent_at, message_id, error, subject, edits, fallback,
                   failed_at, uncertain)
               VALUES (?, ?, ?, ?, ?, ?, ?, 't0', 't0', ?, ?, ?, ?, ?, ?, ?, ?)""",
            [("a", 3, "photo", "告警", b"\x89PNG", 0, "sent", "t1", 7, None, "case:1", None,
              None, None, 1),
             (None, -100, "text", "群", None, 5, "failed", None, None, "BadRequest", None, "a",
              "兜底", "t2", 0)],
        )  # fmt: skip
    before = [tuple(r) for r in await old.fetchall("SELECT * FROM outbox ORDER BY id")]
    indexes = {r["name"] for r in await old.fetchall(_INDEXES)}
    await old.close()
    monkeypatch.setattr(db_module, "migrations", lambda: every)
    new = await Database.open(tmp_path / "old.sqlite3")
    try:
        after = [tuple(r)[:-1] for r in await new.fetchall("SELECT * FROM outbox ORDER BY id")]
        assert after == before
        assert {r["name"] for r in await new.fetchall(_INDEXES)} == indexes
    finally:
        await new.close()


_INDEXES = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'"
