"""storage/outbox.py's offers on their own, against a real SQLite file: which messages offer
buttons for an item, as they read now (their latest edit), and a message sent as a reply
recorded as delivered so that it can be edited."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from storage import outbox
from storage.db import Database
from storage.outbox import Offer

T0 = datetime(2020, 10, 26, 2, 0, tzinfo=UTC)
CARD = {"inline_keyboard": [[{"text": "ok", "callback_data": "v1:tk:ok:1"}]]}


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "offers.sqlite3")
    yield database
    await database.close()


async def test_a_reply_is_recorded_as_delivered_and_offered(db: Database) -> None:
    async with db.write() as conn:
        await outbox.record_sent(conn, key="shown:7:70", chat_id=7, message_id=70, text="卡片",
                                 reply_markup=CARD, now=T0, subject="report:1")  # fmt: skip
        await outbox.record_sent(conn, key="shown:7:70", chat_id=7, message_id=71, text="again",
                                 reply_markup=None, now=T0)  # fmt: skip
        await outbox.offer(conn, "shown:7:70", "report:1", ["v1:tk:ok:1"])
        await outbox.offer(conn, "shown:7:70", "report:1", ["v1:tk:ok:1"])  # a replay
    assert await outbox.edit_target(db, "shown:7:70") == ("sent", 7, 70)
    row = await db.fetchone("SELECT * FROM outbox WHERE dedup_key = 'shown:7:70'")
    assert (row["text"], json.loads(row["reply_markup"]), row["priority"]) == ("卡片", CARD, 5)
    assert row["sent_at"] == row["created_at"] == row["not_before"] == T0.isoformat()
    async with db.write() as conn:
        taken = await outbox.take_offers(conn, "report:1")
        assert await outbox.take_offers(conn, "report:1") == []  # taken once
    assert taken == [Offer("shown:7:70", 7, "卡片", json.dumps(CARD), "report:1", ["v1:tk:ok:1"])]


async def test_an_offer_reads_as_its_latest_edit_and_only_its_subject(db: Database) -> None:
    async with db.write() as conn:
        await outbox.enqueue(conn, chat_id=-5, text="v1", now=T0, dedup_key="list",
                             reply_markup=CARD)  # fmt: skip
        await outbox.record_sent(conn, key="no-buttons", chat_id=8, message_id=1, text="x",
                                 reply_markup=None, now=T0)  # fmt: skip
        await outbox.offer(conn, "list", "report:1", ["a"])
        await outbox.offer(conn, "list", "report:2", ["b"])
        await outbox.enqueue_edit(conn, edits="list", chat_id=-5, text="v2", now=T0)
        await outbox.enqueue_edit(conn, edits="other", chat_id=-5, text="v9", now=T0)
        taken = await outbox.take_offers(conn, "report:1")
        rest = await outbox.take_offers(conn, "report:2")
    assert [(o.key, o.chat_id, o.text, o.reply_markup, o.data) for o in taken] == [
        ("list", -5, "v2", None, ["a"])
    ]
    assert [o.data for o in rest] == [["b"]]


async def test_an_offer_of_a_message_never_stored_is_dropped(db: Database) -> None:
    async with db.write() as conn:
        await outbox.offer(conn, "gone", "report:3", ["c"])
        assert await outbox.take_offers(conn, "report:3") == []
    assert await db.fetchall("SELECT * FROM offers") == []
