"""Everyone who opened the bot: first seen, and the locale chosen with /language."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import aiosqlite

from storage.db import Database, fetch_all, marks

Conn = aiosqlite.Connection | Database


async def locale(db: Database, user_id: int) -> str | None:
    row = await db.fetchone("SELECT locale FROM users WHERE user_id = ?", (user_id,))
    return row["locale"] if row else None


async def locales(conn: Conn, user_ids: Collection[int]) -> dict[int, str]:
    """The locales these users chose (those who never chose are left out)."""
    if not user_ids:
        return {}
    rows = await fetch_all(
        conn,
        f"""SELECT user_id, locale FROM users
            WHERE locale IS NOT NULL AND user_id IN ({marks(len(user_ids))})""",
        tuple(user_ids),
    )
    return {r["user_id"]: r["locale"] for r in rows}


async def remember(db: Database, user_id: int, now: datetime) -> None:
    await db.write_one(
        "INSERT INTO users (user_id, first_seen) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (user_id, now.isoformat()),
    )


async def set_locale(conn: aiosqlite.Connection, user_id: int, locale: str, now: datetime) -> None:
    """The user's choice, carried into the records that push them messages (their reports,
    their people's monitoring, their tips): reminders and results follow the choice."""
    await conn.execute(
        """INSERT INTO users (user_id, locale, first_seen) VALUES (?, ?, ?)
           ON CONFLICT(user_id) DO UPDATE SET locale = excluded.locale""",
        (user_id, locale, now.isoformat()),
    )
    await conn.execute(
        "UPDATE reports SET locale = ? WHERE reporter_user_id = ?", (locale, user_id)
    )
    await conn.execute(
        """UPDATE monitoring SET locale = ?
           WHERE report_id IN (SELECT id FROM reports WHERE reporter_user_id = ?)""",
        (locale, user_id),
    )
    await conn.execute(
        "UPDATE tips SET tipster_locale = ? WHERE tipster_user_id = ?", (locale, user_id)
    )
