"""Supplies (物资): stock per place and item, every movement, a village's requests (SQL only).
Quantities change in one statement each, checked there (never under 0), so two keepers
issuing at once cannot both take the last of an item."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from storage.db import Reader, fetch_all, fetch_one, next_in_sequence
from storage.outbox import iso


@dataclass(frozen=True)
class Level:
    """An item's stock at a place after a change: ``before`` and ``after`` it, and whether it
    was marked below its minimum (the alert latch) before the change."""

    before: int
    after: int
    was_below: bool


@dataclass(frozen=True)
class Move:
    kind: str  # receive | issue | count
    place: str
    item: str
    delta: int
    quantity_after: int
    user_id: int
    to_place: str | None = None
    to_person: str | None = None
    request_id: int | None = None
    note: str = ""


async def stock(conn: Reader, place: str | None = None) -> list[aiosqlite.Row]:
    """The stock rows of a place (None: every place), by place and item."""
    where, params = ("WHERE place = ?", (place,)) if place is not None else ("", ())
    return await fetch_all(conn, f"SELECT * FROM supply_stock {where} ORDER BY place, item",
                           params)  # fmt: skip


async def quantities(conn: Reader, place: str) -> dict[str, int]:
    return {row["item"]: row["quantity"] for row in await stock(conn, place)}


async def add(conn: aiosqlite.Connection, place: str, item: str, delta: int, minimum: int,
              now: datetime) -> Level:  # fmt: skip
    """``delta`` (> 0) more of the item at the place (its row made at the first receipt)."""
    [row] = await conn.execute_fetchall(
        """INSERT INTO supply_stock (place, item, quantity, minimum, updated_at)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(place, item) DO UPDATE SET quantity = quantity + excluded.quantity,
               minimum = excluded.minimum, updated_at = excluded.updated_at
           RETURNING quantity, below""",
        (place, item, delta, minimum, iso(now)),
    )
    return Level(row["quantity"] - delta, row["quantity"], bool(row["below"]))


async def take(conn: aiosqlite.Connection, place: str, item: str, quantity: int, minimum: int,
               now: datetime) -> Level | None:  # fmt: skip
    """``quantity`` of the item taken from the place; None (nothing changed) when fewer are
    in stock — checked in the statement itself."""
    rows = await conn.execute_fetchall(
        """UPDATE supply_stock SET quantity = quantity - ?, minimum = ?, updated_at = ?
           WHERE place = ? AND item = ? AND quantity >= ? RETURNING quantity, below""",
        (quantity, minimum, iso(now), place, item, quantity),
    )
    if not rows:
        return None
    return Level(rows[0]["quantity"] + quantity, rows[0]["quantity"], bool(rows[0]["below"]))


async def count(conn: aiosqlite.Connection, place: str, item: str, counted: int, minimum: int,
                now: datetime) -> Level:  # fmt: skip
    """A count (盘点) found ``counted`` of the item at the place: its quantity from now on."""
    before = await fetch_one(
        conn, "SELECT quantity, below FROM supply_stock WHERE place = ? AND item = ?",
        (place, item),
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO supply_stock (place, item, quantity, minimum, counted_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(place, item) DO UPDATE SET quantity = excluded.quantity,
               minimum = excluded.minimum, counted_at = excluded.counted_at,
               updated_at = excluded.updated_at""",
        (place, item, counted, minimum, iso(now), iso(now)),
    )
    if before is None:
        return Level(0, counted, False)
    return Level(before["quantity"], counted, bool(before["below"]))


async def set_below(conn: aiosqlite.Connection, place: str, item: str, below: bool) -> None:
    await conn.execute(
        "UPDATE supply_stock SET below = ? WHERE place = ? AND item = ?",
        (int(below), place, item),
    )


async def record(conn: aiosqlite.Connection, move: Move, now: datetime) -> int:
    """The movement's row (the stock's own audit)."""
    cur = await conn.execute(
        """INSERT INTO supply_moves (kind, place, item, delta, quantity_after, to_place,
                                     to_person, request_id, note, user_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (move.kind, move.place, move.item, move.delta, move.quantity_after, move.to_place,
         move.to_person, move.request_id, move.note, move.user_id, iso(now)),
    )  # fmt: skip
    return cur.lastrowid or 0


async def moves(conn: Reader, place: str | None = None) -> list[aiosqlite.Row]:
    where, params = ("WHERE place = ?", (place,)) if place is not None else ("", ())
    return await fetch_all(conn, f"SELECT * FROM supply_moves {where} ORDER BY id", params)


async def keepers(conn: Reader, role: str, scope: str) -> list[int]:
    """The active staff holding ``role`` over ``scope`` (a village's admins, a site's
    managers): the keepers of its stock."""
    rows = await fetch_all(
        conn,
        """SELECT DISTINCT user_id FROM staff WHERE role = ? AND scope = ? AND active = 1
           ORDER BY user_id""",
        (role, scope),
    )
    return [r["user_id"] for r in rows]


# --- a village's requests to the town store ------------------------------------------------


async def next_ref(conn: aiosqlite.Connection, code: str, day: date) -> str:
    """``XF-WZ-20201026-01``: the town's code, WZ (物资), the local date, a per-day sequence."""
    stamp = day.strftime("%Y%m%d")
    value = await next_in_sequence(conn, f"supply_request:{stamp}")
    return f"{code}-WZ-{stamp}-{value:02d}"


async def create_request(conn: aiosqlite.Connection, ref: str, place: str,
                         lines: Sequence[dict], note: str, user_id: int,
                         now: datetime) -> int:  # fmt: skip
    cur = await conn.execute(
        """INSERT INTO supply_requests (ref, place, items, note, requested_by, requested_at)
           VALUES (?, ?, ?, ?, ?, ?)""",
        (ref, place, json.dumps(list(lines)), note, user_id, iso(now)),
    )
    return cur.lastrowid or 0


async def get_request(conn: Reader, request_id: int) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM supply_requests WHERE id = ?", (request_id,))


def lines(request: aiosqlite.Row) -> list[dict]:
    """A request's lines: [{"item": id, "quantity": n}]."""
    return list(json.loads(request["items"]))


async def open_requests(conn: Reader) -> list[aiosqlite.Row]:
    return await fetch_all(
        conn, "SELECT * FROM supply_requests WHERE state = 'open' ORDER BY requested_at, id"
    )


async def decide(conn: aiosqlite.Connection, request_id: int, state: str, reason: str | None,
                 user_id: int, now: datetime) -> bool:  # fmt: skip
    """Close an open request (issued or refused); False when it is no longer open."""
    cur = await conn.execute(
        """UPDATE supply_requests SET state = ?, reason = ?, decided_by = ?, decided_at = ?
           WHERE id = ? AND state = 'open'""",
        (state, reason, user_id, iso(now), request_id),
    )
    return cur.rowcount > 0
