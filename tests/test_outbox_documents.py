"""Documents through the outbox (sendDocument): the file, or the recipe the worker makes it
from right before sending (outside any transaction), is in the row, so a restart before the
send still sends it; both are forgotten once sent, like a sent text. A recipe that cannot be
made is a failed send: logged, retried, failed at last, and the worker goes on."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from bot.runtime import outbox as worker_module
from bot.runtime import pdf
from bot.runtime.clock import ManualClock
from storage import db as db_module
from storage.db import Database
from tests.test_outbox import T0, FakeBot, FakeMessage, make_worker, put

PDF = b"%PDF-1.3 certificate"
RECIPE = pdf.recipe("certificate", ["告知书", "编号：1", "李四", "先锋镇"], T0)


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


async def test_a_recipe_is_made_when_sent_once_for_its_copies_and_then_forgotten(
    db, clock, monkeypatch
) -> None:
    built: list[str] = []
    original = pdf.make

    def make(recipe: str) -> bytes:
        built.append(recipe)
        return original(recipe)

    monkeypatch.setattr(worker_module.pdf, "make", make)
    for chat in (3, 4):  # two managers, one paper to print
        await put(db, clock, chat, "请打印", document=("告知书.pdf", RECIPE), dedup_key=f"c:{chat}")
    row = await db.fetchone("SELECT kind, photo, filename, recipe FROM outbox WHERE chat_id = 3")
    assert tuple(row) == ("document", None, "告知书.pdf", RECIPE)  # no file built yet
    bot = DocumentBot(clock)
    assert await make_worker(db, bot, clock).drain() == 2
    assert built == [RECIPE]
    assert [c.kwargs["document"] for c in bot.calls] == [original(RECIPE)] * 2
    assert bot.calls[0].kwargs["document"].startswith(pdf.PDF_SIGNATURE)
    rows = await db.fetchall("SELECT state, photo, recipe FROM outbox")
    assert [tuple(r) for r in rows] == [("sent", None, None)] * 2


async def test_a_recipe_waiting_at_a_restart_is_made_and_sent_after_it(db, clock, tmp_path):
    await put(db, clock, 3, "caption", document=("a.pdf", RECIPE), dedup_key="cert:1")
    await db.close()  # the process stops
    reopened = await Database.open(tmp_path / "t.sqlite3")
    try:
        bot = DocumentBot(clock)
        assert await make_worker(reopened, bot, clock).drain() == 1
        assert bot.calls[0].kwargs["document"] == pdf.make(RECIPE)  # the same bytes again
    finally:
        await reopened.close()


async def test_a_recipe_that_cannot_be_made_is_retried_then_failed_never_a_crash(
    db, clock, monkeypatch, caplog
) -> None:
    def broken(recipe: str) -> bytes:
        raise OSError("font missing")

    monkeypatch.setattr(worker_module.pdf, "make", broken)
    await put(db, clock, 3, "caption", document=("a.pdf", RECIPE), dedup_key="cert:1")
    await put(db, clock, 4, "另一条消息")
    bot = DocumentBot(clock)
    worker = make_worker(db, bot, clock, max_age=timedelta(minutes=10))
    with caplog.at_level(logging.ERROR):
        assert await worker.drain() == 1  # the other message goes out
    assert [c.chat_id for c in bot.calls] == [4]  # nothing sent without its file
    row = await db.fetchone("SELECT state, attempts, error, recipe FROM outbox WHERE chat_id = 3")
    assert (row["state"], row["recipe"]) == ("pending", RECIPE) and row["attempts"] >= 1
    assert row["error"] == "OSError: font missing"
    assert "unexpected error" in caplog.text
    clock.advance(minutes=11)  # outlived max_age: given up, loudly
    await worker.drain()
    row = await db.fetchone("SELECT state FROM outbox WHERE chat_id = 3")
    assert row["state"] == "failed"
    assert "FAILED for good" in caplog.text
    monkeypatch.undo()  # the worker still works
    await put(db, clock, 5, "caption", document=("b.pdf", RECIPE), dedup_key="cert:2")
    assert await worker.drain() == 1


async def test_the_rebuilt_outbox_keeps_every_row_and_index(tmp_path, monkeypatch) -> None:
    """Migration 033 rebuilds the table (a CHECK cannot change): rows queued before it are
    all there after it, column for column, and so are the indexes."""
    every = db_module.migrations()
    monkeypatch.setattr(db_module, "migrations", lambda: [m for m in every if m[0] < 33])
    sealed = db_module.SEALED  # as the code before it sealed them: no recipe column, no roster
    monkeypatch.setattr(db_module, "SEALED", tuple(
        (table, tuple(c for c in whole if c != "recipe"), blobs)
        for table, whole, blobs in sealed if table != "roster"))  # fmt: skip
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
    monkeypatch.setattr(db_module, "SEALED", sealed)
    new = await Database.open(tmp_path / "old.sqlite3")
    try:
        after = [tuple(r)[: len(before[0])]
                 for r in await new.fetchall("SELECT * FROM outbox ORDER BY id")]  # fmt: skip
        assert after == before
        assert {r["name"] for r in await new.fetchall(_INDEXES)} == indexes
    finally:
        await new.close()


_INDEXES = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'"
