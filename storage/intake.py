"""Updates fetched from Telegram and not yet handled, and the offset that confirms them."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import aiosqlite

from storage.db import Database, cipher_of, marks


async def store(
    conn: aiosqlite.Connection, updates: Sequence[tuple[int, str]], handled: Collection[int]
) -> None:
    """Keep a fetched batch ((update_id, JSON) in update_id order), move the offset past it,
    and forget the updates ``handled`` since the last write."""
    seal = cipher_of(conn).seal
    await conn.executemany(
        "INSERT OR IGNORE INTO intake (update_id, data) VALUES (?, ?)",
        [(update_id, seal(data)) for update_id, data in updates],
    )
    if updates:
        await conn.execute(
            """INSERT INTO intake_offset (id, next_update_id) VALUES (1, ?)
               ON CONFLICT (id) DO UPDATE
               SET next_update_id = MAX(next_update_id, excluded.next_update_id)""",
            (updates[-1][0] + 1,),
        )
    await forget(conn, handled)


async def forget(conn: aiosqlite.Connection, handled: Collection[int]) -> None:
    ids = list(handled)
    if ids:
        await conn.execute(f"DELETE FROM intake WHERE update_id IN ({marks(len(ids))})", ids)


async def stored(db: Database) -> list[tuple[int, str]]:
    """The updates not handled yet, oldest first."""
    rows = await db.fetchall("SELECT update_id, data FROM intake ORDER BY update_id")
    return [(r["update_id"], r["data"]) for r in rows]


async def offset(db: Database) -> int:
    """The offset the next getUpdates sends (0: nothing fetched yet)."""
    row = await db.fetchone("SELECT next_update_id FROM intake_offset WHERE id = 1")
    return row["next_update_id"] if row else 0
