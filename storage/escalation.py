"""The escalation ladder's rows (SQL only): one ``escalations`` row per item with a deadline,
and the queue of leadership-step items waiting for the minute's batched group message. Every
function runs on the caller's connection, inside its write transaction (or a read)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import Database, cipher_of, fetch_one, marks
from storage.outbox import iso

# The group queue's step of an item's own alert (bot.runtime.escalation.start(alert_group=True)),
# before any step of its ladder (0, 1, ...).
ALERT_STEP = -1


@dataclass(frozen=True)
class Item:
    subject: str
    kind: str
    parent: str | None
    ref: str
    grid_id: str | None
    village_id: str
    deadline_at: datetime
    detail: dict[str, Any]
    gen: int
    step: int
    reached: str | None
    state: str
    closed_at: datetime | None
    closed_by: int | None


def _item(row: aiosqlite.Row) -> Item:
    return Item(
        subject=row["subject"],
        kind=row["kind"],
        parent=row["parent"],
        ref=row["ref"],
        grid_id=row["grid_id"],
        village_id=row["village_id"],
        deadline_at=datetime.fromisoformat(row["deadline_at"]),
        detail=json.loads(row["detail"]),
        gen=row["gen"],
        step=row["step"],
        reached=row["reached"],
        state=row["state"],
        closed_at=datetime.fromisoformat(row["closed_at"]) if row["closed_at"] else None,
        closed_by=row["closed_by"],
    )


async def get(conn: aiosqlite.Connection | Database, subject: str) -> Item | None:
    """``conn``: the caller's write transaction, or the Database for a read."""
    sql, params = "SELECT * FROM escalations WHERE subject = ?", (subject,)
    row = await fetch_one(conn, sql, params)
    return _item(row) if row else None


async def open_item(
    conn: aiosqlite.Connection, *, subject: str, kind: str, parent: str | None, ref: str,
    grid_id: str | None, village_id: str, deadline_at: datetime, detail: dict[str, Any],
    now: datetime,
) -> int | None:  # fmt: skip
    """Start (or restart, after it was handled or acknowledged) the item's climb; returns its
    generation, or None when it is already climbing (a replay, or a new version of a report
    still waiting: its clock is not reset)."""
    rows = await conn.execute_fetchall(
        """INSERT INTO escalations (subject, kind, parent, ref, grid_id, village_id, deadline_at,
                                    detail, started_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(subject) DO UPDATE SET
               kind = excluded.kind, parent = excluded.parent, ref = excluded.ref,
               grid_id = excluded.grid_id, village_id = excluded.village_id,
               deadline_at = excluded.deadline_at, detail = excluded.detail,
               gen = gen + 1, step = 0, reached = NULL, state = 'open',
               started_at = excluded.started_at, closed_at = NULL, closed_by = NULL
           WHERE state != 'open'
           RETURNING gen""",
        (subject, kind, parent, ref, grid_id, village_id, iso(deadline_at),
         cipher_of(conn).dumps(detail), iso(now)),  # a missed check-in's phone sealed
    )  # fmt: skip
    row = next(iter(rows), None)
    return row["gen"] if row else None


async def past_step(conn: aiosqlite.Connection, kind: str, step: int, limit: int) -> list[Item]:
    """The items of a kind, open or acknowledged, that have passed ``step`` of their ladder
    (those a repeating step tells again), oldest deadline first."""
    rows = await conn.execute_fetchall(
        """SELECT * FROM escalations WHERE kind = ? AND step > ? AND state IN ('open', 'acked')
           ORDER BY deadline_at, started_at LIMIT ?""",
        (kind, step, limit),
    )
    return [_item(r) for r in rows]


async def advance(
    conn: aiosqlite.Connection, subject: str, gen: int, step: int, reached: str | None
) -> bool:
    """Step ``step`` was sent (or skipped): the next one is ``step + 1``; ``reached`` the
    highest level told (None: unchanged). False when the item is no longer open at that
    generation, or is past that step (handled, restarted, or a replay)."""
    cur = await conn.execute(
        """UPDATE escalations SET step = ?, reached = coalesce(?, reached)
           WHERE subject = ? AND gen = ? AND step <= ? AND state != 'handled'""",
        (step + 1, reached, subject, gen, step),
    )
    return cur.rowcount > 0


async def close(
    conn: aiosqlite.Connection, subject: str, state: str, now: datetime, by: int | None = None
) -> bool:
    """Acknowledged or handled: the climb stops, and unsent group-batch entries are dropped —
    but an acknowledged item's own alert (``ALERT_STEP``) still reaches the group: someone
    is on it, and the leadership is still told. False when it was not open (an acknowledged
    item handled now becomes 'handled', keeping who acknowledged it)."""
    cur = await conn.execute(
        """UPDATE escalations SET state = ?, closed_at = ?, closed_by = ?
           WHERE subject = ? AND state = 'open'""",
        (state, iso(now), by, subject),
    )
    if cur.rowcount == 0:
        if state == "handled":  # acknowledged before (its queue cleared then): now done too
            await conn.execute(
                """UPDATE escalations SET state = 'handled', closed_at = ?
                   WHERE subject = ? AND state = 'acked'""",
                (iso(now), subject),
            )
        return False
    keep = f" AND step != {ALERT_STEP}" if state == "acked" else ""
    await conn.execute(
        f"DELETE FROM escalation_queue WHERE subject = ? AND sent_at IS NULL{keep}", (subject,)
    )
    return True


async def open_subjects(
    conn: aiosqlite.Connection, parent: str, kinds: tuple[str, ...] | None = None
) -> list[str]:
    """The open items of a parent (a monitoring's missed check-ins and health alerts)."""
    sql = "SELECT subject FROM escalations WHERE parent = ? AND state = 'open'"
    params: list[Any] = [parent]
    if kinds:
        sql += f" AND kind IN ({marks(len(kinds))})"
        params += kinds
    rows = await conn.execute_fetchall(sql + " ORDER BY subject", params)
    return [r["subject"] for r in rows]


GROUP = 0  # the queue's chat_id of the leadership group (whatever its id in the config)


@dataclass(frozen=True)
class Queued:
    """An entry waiting for the minute's flush: an item's step (or own alert) for one chat."""

    id: int
    step: int
    chat_id: int  # GROUP: the leadership group
    text: str | None  # a staff chat's message, should it be the chat's only one
    item: Item


async def enqueue(
    conn: aiosqlite.Connection, subject: str, gen: int, step: int, now: datetime,
    chat_id: int = GROUP, text: str | None = None,
) -> None:  # fmt: skip
    await conn.execute(
        """INSERT INTO escalation_queue (subject, gen, step, chat_id, text, queued_at)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(subject, gen, step, chat_id) DO NOTHING""",
        (subject, gen, step, chat_id, text, iso(now)),
    )


async def waiting(conn: aiosqlite.Connection, limit: int) -> list[Queued]:
    """Queued entries not yet sent, oldest first, with their items."""
    rows = await conn.execute_fetchall(
        """SELECT q.id AS queue_id, q.step AS queue_step, q.chat_id AS queue_chat,
                  q.text AS queue_text, e.*
           FROM escalation_queue q JOIN escalations e ON e.subject = q.subject
           WHERE q.sent_at IS NULL ORDER BY q.id LIMIT ?""",
        (limit,),
    )
    return [Queued(r["queue_id"], r["queue_step"], r["queue_chat"], r["queue_text"], _item(r))
            for r in rows]  # fmt: skip


async def mark_sent(conn: aiosqlite.Connection, queue_ids: list[int], now: datetime) -> None:
    if queue_ids:
        await conn.execute(
            f"UPDATE escalation_queue SET sent_at = ? WHERE id IN ({marks(len(queue_ids))})",
            (iso(now), *queue_ids),
        )


async def waiting_count(conn: aiosqlite.Connection) -> int:
    rows = await conn.execute_fetchall(
        "SELECT COUNT(*) AS n FROM escalation_queue WHERE sent_at IS NULL"
    )
    return next(iter(rows))["n"]


async def ack(conn: aiosqlite.Connection, subject: str, user_id: int, name: str,
              now: datetime) -> bool:  # fmt: skip
    """The ``acks`` table (migration 007): who pressed "收到" and when; once per person."""
    cur = await conn.execute(
        """INSERT INTO acks (subject, user_id, name, at) VALUES (?, ?, ?, ?)
           ON CONFLICT(subject, user_id) DO NOTHING""",
        (subject, user_id, name, iso(now)),
    )
    return cur.rowcount > 0


async def village_admins(conn: aiosqlite.Connection, village_id: str) -> list[int]:
    rows = await conn.execute_fetchall(
        """SELECT DISTINCT user_id FROM staff
           WHERE role = 'village_admin' AND scope = ? AND active = 1 ORDER BY user_id""",
        (village_id,),
    )
    return [r["user_id"] for r in rows]


# --- is the item still waiting? (a safety net behind the explicit stops) ------------------


async def report_waiting(conn: aiosqlite.Connection, report_id: int) -> bool:
    rows = await conn.execute_fetchall(
        "SELECT 1 FROM reports WHERE id = ? AND state = 'open' AND review = 'pending'",
        (report_id,),
    )
    return bool(rows)


async def tip_waiting(conn: aiosqlite.Connection, tip_id: int) -> bool:
    rows = await conn.execute_fetchall(
        "SELECT 1 FROM tips WHERE id = ? AND state != 'closed'", (tip_id,)
    )
    return bool(rows)


async def checkin_waiting(
    conn: aiosqlite.Connection, monitoring_id: int, slot_at: datetime
) -> bool:
    """The monitoring is active, the slot still unanswered, and no later check-in answered."""
    rows = await conn.execute_fetchall(
        """SELECT 1 FROM monitoring m WHERE m.id = ? AND m.state = 'active'
             AND EXISTS (SELECT 1 FROM checkins c WHERE c.monitoring_id = m.id
                         AND c.slot_at = ? AND c.temperature IS NULL)
             AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.monitoring_id = m.id
                             AND c.slot_at > ? AND c.temperature IS NOT NULL)""",
        (monitoring_id, iso(slot_at), iso(slot_at)),
    )
    return bool(rows)


async def case_waiting(conn: aiosqlite.Connection, case_id: int) -> bool:
    """The case's direct report (网络直报) is not recorded yet."""
    rows = await conn.execute_fetchall(
        "SELECT 1 FROM cases WHERE id = ? AND state = 'open'", (case_id,)
    )
    return bool(rows)


async def monitoring_active(conn: aiosqlite.Connection, monitoring_id: int) -> bool:
    rows = await conn.execute_fetchall(
        "SELECT 1 FROM monitoring WHERE id = ? AND state = 'active'", (monitoring_id,)
    )
    return bool(rows)


async def first_ack(db: Database, subject: str) -> tuple[str, datetime] | None:
    """Who acknowledged the item first, and when."""
    row = await db.fetchone(
        "SELECT name, at FROM acks WHERE subject = ? ORDER BY at, id LIMIT 1", (subject,)
    )
    return (row["name"] or "", datetime.fromisoformat(row["at"])) if row else None
