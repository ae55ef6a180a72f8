"""The audit log: who did what to which record, and when."""

from __future__ import annotations

from datetime import datetime

import aiosqlite


async def record(
    conn: aiosqlite.Connection,
    now: datetime,
    actor: int | None,
    action: str,
    subject: str | None = None,
    detail: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        (now.isoformat(), actor, action, subject, detail),
    )
