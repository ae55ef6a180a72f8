"""Outbox rows: SQL only. Enqueue inside the caller's transaction; claim and mark for the worker.

States: ``pending`` -> ``sending`` (claimed) -> ``sent`` | ``failed`` | ``unreachable``, or back
to ``pending`` (retry, deferral, release). ``failed`` is final: a definite refusal, or a row
that could not be delivered within the worker's maximum age (``failed_at`` says when).
``uncertain`` counts sends whose answer was lost: a row delivered with ``uncertain > 0`` may
have reached its chat twice (a "possible repeat"). A row is marked as soon as its send
completes, so a crash between sending and marking repeats at most the messages in flight then —
at most the worker's ``concurrency``, each at most once (``requeue_stale_sending`` at start).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from bot.domain.messages import message_parts
from storage.db import Database, Reader, cipher_of, fetch_one, marks, value_rows

PRIORITY_ALERT = 0
PRIORITY_REPLY = 1  # a conversation's queued reply (bot/runtime/replies.py): kept in order
PRIORITY_NOTIFY = 5
PRIORITY_BULK = 9


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    chat_id: int
    kind: str
    text: str
    reply_markup: str | None  # as stored: the JSON the Bot API takes, sent without re-encoding
    photo: bytes | None  # a photo's bytes, or a document's (kind 'document')
    priority: int
    state: str
    attempts: int
    not_before: datetime
    created_at: datetime
    dedup_key: str | None
    subject: str | None
    edits: str | None  # the dedup key of the message this row brings up to date
    fallback: str | None  # sent instead when that message cannot be edited
    uncertain: int = 0  # sends whose answer was lost (maybe delivered)
    filename: str | None = None  # a document's file name
    recipe: str | None = None  # a document made when sent: what it is made from (see enqueue)


def iso(instant: datetime) -> str:
    """The stored form of a time: ISO-8601 in UTC, so stored times compare as strings."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: outbox times must be timezone-aware")
    return instant.astimezone(UTC).isoformat()


def _row(r: aiosqlite.Row) -> OutboxRow:
    return OutboxRow(
        id=r["id"],
        chat_id=r["chat_id"],
        kind=r["kind"],
        text=r["text"],
        reply_markup=r["reply_markup"],
        photo=r["photo"],
        priority=r["priority"],
        state=r["state"],
        attempts=r["attempts"],
        not_before=datetime.fromisoformat(r["not_before"]),
        created_at=datetime.fromisoformat(r["created_at"]),
        dedup_key=r["dedup_key"],
        subject=r["subject"],
        edits=r["edits"],
        fallback=r["fallback"],
        uncertain=r["uncertain"],
        filename=r["filename"],
        recipe=r["recipe"],
    )


_COLUMNS = """dedup_key, chat_id, kind, text, reply_markup, photo, priority, state, not_before,
               created_at, subject, edits, fallback, filename, recipe"""
_WIDTH = 15  # values per row, in _COLUMNS' order
_MAX_ROWS = 32766 // _WIDTH  # SQLite's limit on the values of one statement


def _rows(
    seal: Callable[[str | None], str | None],
    *,
    chat_id: int,
    text: str,
    now: datetime,
    priority: int = PRIORITY_NOTIFY,
    reply_markup: dict[str, Any] | None = None,
    dedup_key: str | None = None,
    subject: str | None = None,
    photo: bytes | None = None,
    document: tuple[str, bytes | str] | None = None,
    edits: str | None = None,
    fallback: str | None = None,
) -> list[tuple[Any, ...]]:
    """One message's outbox rows (see ``enqueue``), in ``_COLUMNS``' order; their texts and a
    document's recipe sealed (a card for a worker carries a phone in full, a certificate
    its person's name)."""
    if not 0 <= priority <= 9:
        raise ValueError(f"priority must be 0..9, got {priority}")
    if photo is not None and document is not None:
        raise ValueError("a message carries a photo or a document, not both")
    filename, file = document or (None, photo)
    attached = "photo" if document is None else "document"
    parts = message_parts(text, file)
    if edits is not None and (file is not None or len(parts) > 1):
        raise ValueError("an edit replaces one text message: no file, at most one part")
    markup = json.dumps(reply_markup, ensure_ascii=False) if reply_markup else None
    stamp = iso(now)
    return [
        (
            dedup_key if dedup_key is None or len(parts) == 1 else f"{dedup_key}#{index}",
            chat_id,
            attached if part_file is not None else "text",
            seal(part),
            markup if index == len(parts) else None,
            part_file if isinstance(part_file, bytes) else None,
            priority,
            "pending",
            stamp,
            stamp,
            subject,
            edits,
            seal(fallback),
            filename if part_file is not None else None,
            seal(part_file) if isinstance(part_file, str) else None,
        )
        for index, (part, part_file) in enumerate(parts, start=1)
    ]


def _insert(rows: int) -> str:
    return f"""INSERT INTO outbox ({_COLUMNS}) VALUES {value_rows(rows, _WIDTH)}
               ON CONFLICT(dedup_key) DO NOTHING"""


async def enqueue(conn: aiosqlite.Connection, **message: Any) -> int | None:
    """Add a message to the outbox inside the caller's ``db.write()`` transaction: ``chat_id``,
    ``text``, ``now``; optionally ``priority``, ``reply_markup`` (a dict), ``dedup_key``,
    ``subject``, ``photo`` (bytes; the text is its caption), ``document`` ((file name,
    bytes); the text is its caption), or (file name, recipe): a document made by the worker
    right before it is sent, outside any transaction, from the recipe (a str:
    ``bot.runtime.pdf.make``) — what it says is stored now, its file built then. A recipe is
    stored as it is, like a document's bytes: a document says only what it may show.

    Text over Telegram's limit becomes several rows (dedup keys ``key#1``, ``key#2``...); only
    the last carries the keyboard, so the buttons sit under the whole message. Returns the id
    of the first row, or None if ``dedup_key`` was already enqueued (idempotent replay).
    After the transaction commits, call ``OutboxWorker.wake()``.
    """
    rows = _rows(cipher_of(conn).seal, **message)
    inserted = await conn.execute_fetchall(  # one trip to the SQLite thread
        _insert(len(rows)) + " RETURNING id", [value for row in rows for value in row]
    )
    return min((r["id"] for r in inserted), default=None)


async def enqueue_edit(conn: aiosqlite.Connection, *, edits: str, **message: Any) -> int | None:
    """Bring the message enqueued as ``edits`` (its dedup key) up to date with ``text`` and
    ``reply_markup``, inside the caller's transaction; where it cannot be edited, ``fallback``
    (if given) goes out as a new message. An edit still waiting is superseded: only the latest
    state matters."""
    await conn.execute("DELETE FROM outbox WHERE edits = ? AND state = 'pending'", (edits,))
    return await enqueue(conn, edits=edits, **message)


async def edit_target(db: Database, dedup_key: str) -> tuple[str, int, int | None] | None:
    """(state, chat id, message id) of the message an edit row brings up to date; None when
    no such message was enqueued (or it was split: a split message cannot be edited)."""
    row = await db.fetchone(
        "SELECT state, chat_id, message_id FROM outbox WHERE dedup_key = ?", (dedup_key,)
    )
    return (row["state"], row["chat_id"], row["message_id"]) if row else None


@dataclass(frozen=True, slots=True)
class Offer:
    """A message offering buttons for an item, as it reads now (its latest edit)."""

    key: str  # its dedup key: what an edit of it names
    chat_id: int
    text: str
    reply_markup: str | None
    subject: str | None
    data: list[str]  # the callback data of the item's buttons on it


async def offer(conn: aiosqlite.Connection, key: str, subject: str, data: Sequence[str]) -> None:
    """The message enqueued as ``key`` offers buttons (``data``) for ``subject``: handling
    the item takes them off (``take_offers``), in the caller's transaction."""
    await conn.execute(
        "INSERT INTO offers (subject, dedup_key, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (subject, key, json.dumps(list(data))),
    )


async def take_offers(conn: aiosqlite.Connection, subject: str) -> list[Offer]:
    """The messages offering buttons for ``subject``, as they read now; forgotten here."""
    rows = await conn.execute_fetchall(
        """SELECT o.dedup_key, o.data, m.chat_id, m.subject, now.text, now.reply_markup
           FROM offers o JOIN outbox m ON m.dedup_key = o.dedup_key
           JOIN outbox now ON now.id = (SELECT max(id) FROM outbox
                                        WHERE dedup_key = o.dedup_key OR edits = o.dedup_key)
           WHERE o.subject = ?""",
        (subject,),
    )
    await conn.execute("DELETE FROM offers WHERE subject = ?", (subject,))
    keys = [r["dedup_key"] for r in rows]
    if keys:  # what no offer needs any more is forgotten (see _FORGET_SENT)
        await conn.execute(
            f"""UPDATE outbox SET {_FORGET_SENT}
                WHERE state = 'sent' AND (dedup_key IN ({marks(len(keys))})
                                          OR edits IN ({marks(len(keys))}))""",
            keys + keys,
        )
    return [
        Offer(r["dedup_key"], r["chat_id"], r[4], r[5], r["subject"], json.loads(r["data"]))
        for r in rows
    ]


async def record_sent(
    conn: aiosqlite.Connection, *, key: str, chat_id: int, message_id: int, text: str,
    reply_markup: dict[str, Any] | None, now: datetime, subject: str | None = None,
) -> None:  # fmt: skip
    """A message the bot sent itself as a reply (a handler's card), stored as delivered so
    that an edit row can bring it up to date later."""
    await conn.execute(
        """INSERT INTO outbox (dedup_key, chat_id, text, reply_markup, priority, state,
                               not_before, created_at, sent_at, message_id, subject)
           VALUES (?, ?, ?, ?, ?, 'sent', ?, ?, ?, ?, ?) ON CONFLICT(dedup_key) DO NOTHING""",
        (key, chat_id, cipher_of(conn).seal(text),
         json.dumps(reply_markup, ensure_ascii=False) if reply_markup
         else None, PRIORITY_NOTIFY, iso(now), iso(now), iso(now), message_id, subject),
    )  # fmt: skip


async def enqueue_many(
    conn: aiosqlite.Connection, messages: Sequence[Mapping[str, Any]], now: datetime
) -> None:
    """``enqueue`` of many messages (each the keyword arguments of ``enqueue`` but ``now``) in
    a few statements: a wave of check-in prompts is a handful of trips to SQLite's thread,
    not one per message."""
    seal = cipher_of(conn).seal
    rows = [row for message in messages for row in _rows(seal, now=now, **message)]
    for first in range(0, len(rows), _MAX_ROWS):
        chunk = rows[first : first + _MAX_ROWS]
        await conn.execute_fetchall(_insert(len(chunk)), [v for row in chunk for v in row])


async def claim(db: Database, now: datetime, limit: int) -> list[OutboxRow]:
    """Mark up to ``limit`` due pending rows 'sending' and return them, most urgent first.

    Ordered by (priority, not_before, id) — the claim index's order, so no sort over the
    backlog is needed; parts of one split message share not_before and keep their id order.
    A chat's reply waits while an earlier reply of that chat is undelivered (``_NO_EARLIER_REPLY``):
    a person reads a conversation's replies in the order they were written, even when one
    is retried later or fails while the next goes through.
    """
    async with db.write() as conn:
        found = await conn.execute_fetchall(
            f"""UPDATE outbox SET state = 'sending'
                WHERE id IN (SELECT id FROM outbox AS o
                             WHERE state = 'pending' AND not_before <= ?
                                   AND (priority != {PRIORITY_REPLY} OR {_NO_EARLIER_REPLY})
                             ORDER BY priority, not_before, id LIMIT ?)
                RETURNING *""",
            (iso(now), limit),
        )
    rows = [_row(r) for r in found]
    # RETURNING gives no order guarantee.
    return sorted(rows, key=lambda r: (r.priority, r.not_before, r.id))


# No reply of o's chat before it is undelivered. Only reply rows pay for it; they are few,
# found through the claim index's (state, priority) prefix.
_UNDELIVERED_REPLY = f"""SELECT 1 FROM outbox AS e
    WHERE e.state IN ('pending', 'sending') AND e.priority = {PRIORITY_REPLY}"""
_NO_EARLIER_REPLY = f"NOT EXISTS ({_UNDELIVERED_REPLY} AND e.chat_id = o.chat_id AND e.id < o.id)"


async def undelivered_reply(db: Database, chat_id: int) -> bool:
    """Whether a reply to ``chat_id`` still waits in the outbox (pending or being sent)."""
    row = await db.fetchone(f"{_UNDELIVERED_REPLY} AND e.chat_id = ? LIMIT 1", (chat_id,))
    return row is not None


# A sent message's text is forgotten (issue 11: no full phone or ID survives in a sent
# message), unless it still offers buttons: taking the offer redraws it from that text. So is
# a sent document's file or recipe (a certificate names its person): its record can make it
# again.
_FORGET_SENT = """text = CASE WHEN dedup_key IN (SELECT dedup_key FROM offers)
                             OR edits IN (SELECT dedup_key FROM offers) THEN text ELSE '' END,
                  fallback = CASE WHEN dedup_key IN (SELECT dedup_key FROM offers)
                                  OR edits IN (SELECT dedup_key FROM offers)
                                  THEN fallback END,
                  photo = CASE WHEN kind = 'document' THEN NULL ELSE photo END,
                  recipe = NULL"""


async def mark_sent(db: Database, id: int, message_id: int | None, now: datetime) -> None:
    """Delivered. A delivery also proves the chat reachable again (the user unblocked us)."""
    await mark_sent_many(db, [(id, message_id, now)])


async def mark_sent_many(
    db: Database,
    delivered: Sequence[tuple[int, int | None, datetime]],
    *,
    clear_unreachable: bool = True,
) -> None:
    """``mark_sent`` for several rows (id, message_id, sent_at) at once: the worker's group
    commit of the sends that completed meanwhile. ``clear_unreachable=False`` when none of
    their chats is in ``unreachable`` (the worker knows): then it is one statement, one trip
    to the SQLite thread."""
    if not delivered:
        return
    ids = [id for id, _, _ in delivered]
    if not clear_unreachable:
        whens = " ".join("WHEN ? THEN ?" for _ in delivered)
        await db.write_one(
            f"""UPDATE outbox SET state = 'sent', attempts = attempts + 1, error = NULL,
                    message_id = CASE id {whens} END, sent_at = CASE id {whens} END,
                    {_FORGET_SENT}
                WHERE id IN ({marks(len(ids))})""",
            [v for id, message_id, _ in delivered for v in (id, message_id)]
            + [v for id, _, at in delivered for v in (id, iso(at))]
            + ids,
        )
        return
    async with db.write() as conn:
        await conn.executemany(
            f"""UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?,
                                  message_id = ?, error = NULL, {_FORGET_SENT}
                WHERE id = ?""",
            [(iso(at), message_id, id) for id, message_id, at in delivered],
        )
        await conn.execute(
            f"""DELETE FROM unreachable WHERE chat_id IN
                (SELECT chat_id FROM outbox WHERE id IN ({marks(len(ids))}))""",
            ids,
        )


async def mark_retry(
    db: Database,
    id: int,
    not_before: datetime,
    error: str | None,
    *,
    count_attempt: bool = True,
    uncertain: bool = False,
) -> None:
    """Back to pending, due at ``not_before``. ``count_attempt=False`` for waits that are not
    the row's fault (flood control, a saturated group): the backoff grows with attempts only.
    ``uncertain`` when the failed send may have been delivered (its answer was lost)."""
    async with db.write() as conn:
        await conn.execute(
            """UPDATE outbox SET state = 'pending', not_before = ?, error = ?,
                                 attempts = attempts + ?, uncertain = uncertain + ?
               WHERE id = ?""",
            (iso(not_before), error, 1 if count_attempt else 0, 1 if uncertain else 0, id),
        )


async def hasten_retries(db: Database, now: datetime) -> int:
    """Rows backed off after transient failures are due ``now`` (the API answers again);
    flood-control waits and group deferrals keep their time. How many."""
    async with db.write() as conn:
        cursor = await conn.execute(
            """UPDATE outbox SET not_before = ?
               WHERE state = 'pending' AND not_before > ?
                     AND error IS NOT NULL AND error != 'RetryAfter'""",
            (iso(now), iso(now)),
        )
        return cursor.rowcount


async def defer(db: Database, id: int, not_before: datetime) -> None:
    """Postpone without an attempt (a group chat at its per-minute limit)."""
    await mark_retry(db, id, not_before, None, count_attempt=False)


async def release(db: Database, ids: Sequence[int]) -> None:
    """Return claimed but unsent rows to pending as they were (worker stopping or paused)."""
    if not ids:
        return
    await db.write_one(
        f"""UPDATE outbox SET state = 'pending'
            WHERE state = 'sending' AND id IN ({marks(len(ids))})""",
        tuple(ids),
    )


async def retarget(db: Database, id: int, new_chat_id: int) -> None:
    """A group became a supergroup (ChatMigrated): same row, new chat id, due again now."""
    async with db.write() as conn:
        await conn.execute(
            "UPDATE outbox SET state = 'pending', chat_id = ? WHERE id = ?", (new_chat_id, id)
        )


async def mark_failed(db: Database, id: int, error: str, now: datetime) -> None:
    """Given up: a definite refusal, or the row outlived the maximum age."""
    await db.write_one(
        """UPDATE outbox SET state = 'failed', attempts = attempts + 1, error = ?, failed_at = ?
           WHERE id = ?""",
        (error, iso(now), id),
    )


async def mark_unreachable(db: Database, id: int, chat_id: int, now: datetime, reason: str) -> bool:
    """The chat blocked the bot. Returns True if the chat was not already known unreachable
    (so the caller escalates once per blocking, not once per message)."""
    async with db.write() as conn:
        await conn.execute(
            """UPDATE outbox SET state = 'unreachable', attempts = attempts + 1, error = ?
               WHERE id = ?""",
            (reason, id),
        )
        async with conn.execute(
            """INSERT INTO unreachable (chat_id, since, reason) VALUES (?, ?, ?)
               ON CONFLICT(chat_id) DO NOTHING RETURNING chat_id""",
            (chat_id, iso(now), reason),
        ) as cur:
            return await cur.fetchone() is not None


async def clear_unreachable(db: Database, chat_id: int) -> None:
    """The user wrote to us again (e.g. /start after unblocking)."""
    async with db.write() as conn:
        await conn.execute("DELETE FROM unreachable WHERE chat_id = ?", (chat_id,))


async def requeue_stale_sending(db: Database) -> int:
    """At start: rows left 'sending' by a crash go back to pending. Returns how many."""
    async with (
        db.write() as conn,
        conn.execute("UPDATE outbox SET state = 'pending' WHERE state = 'sending'") as cur,
    ):
        return cur.rowcount


async def pending_count(db: Database) -> int:
    """Messages not yet delivered nor given up (pending, including future retries, and sending)."""
    row = await db.fetchone("SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')")
    return int(row[0]) if row else 0


@dataclass(frozen=True, slots=True)
class Backlog:
    """What is waiting to go out: every undelivered row, and the oldest of each kind."""

    pending: int  # pending (retries included) and sending
    oldest: datetime | None  # when the oldest of them was enqueued
    oldest_alert: datetime | None  # ... the oldest priority-0 (alert) row


async def backlog(conn: Reader) -> Backlog:
    row = await fetch_one(
        conn,
        f"""SELECT count(*), min(created_at),
                   min(CASE WHEN priority = {PRIORITY_ALERT} THEN created_at END)
            FROM outbox WHERE state IN ('pending', 'sending')""",
    )
    return Backlog(row[0], _time(row[1]), _time(row[2]))


@dataclass(frozen=True, slots=True)
class Trouble:
    """Delivery problems in a period: rows given up, rows that may have arrived twice."""

    failed: int
    repeats: int


async def trouble(conn: Reader, since: datetime, until: datetime) -> Trouble:
    """Rows failed, and rows delivered after a lost answer (possible repeats), in
    ``[since, until)``."""
    window = (iso(since), iso(until))
    row = await fetch_one(
        conn,
        """SELECT (SELECT count(*) FROM outbox WHERE state = 'failed'
                   AND failed_at >= ? AND failed_at < ?),
                  (SELECT count(*) FROM outbox WHERE uncertain > 0 AND state = 'sent'
                   AND sent_at >= ? AND sent_at < ?)""",
        window + window,
    )
    return Trouble(row[0], row[1])


async def trouble_total(conn: Reader) -> Trouble:
    """``trouble`` over all time (rows failed before failed_at existed included)."""
    row = await fetch_one(
        conn,
        """SELECT (SELECT count(*) FROM outbox WHERE state = 'failed'),
                  (SELECT count(*) FROM outbox WHERE uncertain > 0 AND state = 'sent')""",
    )
    return Trouble(row[0], row[1])


def _time(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp) if stamp else None


async def next_due(db: Database) -> datetime | None:
    """When the earliest pending row falls due (the worker sleeps until then)."""
    row = await db.fetchone("SELECT min(not_before) FROM outbox WHERE state = 'pending'")
    return datetime.fromisoformat(row[0]) if row and row[0] else None


async def unreachable_among(db: Database, chat_ids: Sequence[int]) -> set[int]:
    """Which of these chats are marked unreachable (one query for a claimed batch)."""
    chats = sorted(set(chat_ids))
    if not chats:
        return set()
    rows = await db.fetchall(
        f"SELECT chat_id FROM unreachable WHERE chat_id IN ({marks(len(chats))})",
        tuple(chats),
    )
    return {r[0] for r in rows}


async def is_unreachable(db: Database, chat_id: int) -> bool:
    row = await db.fetchone("SELECT 1 FROM unreachable WHERE chat_id = ?", (chat_id,))
    return row is not None


async def last_unreachable_key(db: Database, chat_id: int) -> str | None:
    """The dedup key of the newest message that found ``chat_id`` blocked (None: unkeyed)."""
    row = await db.fetchone(
        """SELECT dedup_key FROM outbox WHERE chat_id = ? AND state = 'unreachable'
           ORDER BY id DESC LIMIT 1""",
        (chat_id,),
    )
    return row["dedup_key"] if row else None


async def get(db: Database, id: int) -> OutboxRow | None:
    row = await db.fetchone("SELECT * FROM outbox WHERE id = ?", (id,))
    return _row(row) if row else None
