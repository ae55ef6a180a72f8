"""Everyone who opened the bot: first seen, and the locale chosen with /language."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.db import Database


async def locale(db: Database, user_id: int) -> str | None:
    row = await db.fetchone("SELECT locale FROM users WHERE user_id = ?", (user_id,))
    return row["locale"] if row else None


async def remember(db: Database, user_id: int, now: datetime) -> None:
    await db.write_one(
        "INSERT INTO users (user_id, first_seen) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (user_id, now.isoformat()),
    )


async def set_locale(conn: aiosqlite.Connection, user_id: int, locale: str, now: datetime) -> None:
    await conn.execute(
        """INSERT INTO users (user_id, locale, first_seen) VALUES (?, ?, ?)
           ON CONFLICT(user_id) DO UPDATE SET locale = excluded.locale""",
        (user_id, locale, now.isoformat()),
    )
