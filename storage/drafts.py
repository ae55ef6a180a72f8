"""Report drafts: one unfinished report per user, rewritten on every answer."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import Database


@dataclass(frozen=True)
class Draft:
    user_id: int
    chat_id: int
    flow: str  # which conversation: "arrival", "invite", "tip", ...
    token: str
    locale: str
    step: str
    data: dict[str, Any]
    last_update_id: int
    updated_at: str


def _row(row: aiosqlite.Row) -> Draft:
    return Draft(
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        flow=row["flow"],
        token=row["token"],
        locale=row["locale"],
        step=row["step"],
        data=json.loads(row["data"]),
        last_update_id=row["last_update_id"],
        updated_at=row["updated_at"],
    )


async def get(db: Database, user_id: int) -> Draft | None:
    row = await db.fetchone("SELECT * FROM drafts WHERE user_id = ?", (user_id,))
    return _row(row) if row else None


def new_token() -> str:
    return secrets.token_urlsafe(9)


def new(
    user_id: int,
    chat_id: int,
    locale: str,
    step: str,
    data: dict[str, Any],
    update_id: int,
    flow: str = "arrival",
) -> Draft:
    return Draft(
        user_id=user_id,
        chat_id=chat_id,
        flow=flow,
        token=new_token(),
        locale=locale,
        step=step,
        data=data,
        last_update_id=update_id,
        updated_at="",
    )


async def put(db: Database, draft: Draft, now: datetime) -> Draft:
    """Store the draft as given (one statement, atomic on its own) and return it as stored."""
    stamp = now.isoformat()
    await db.write_one(
        """INSERT INTO drafts (user_id, chat_id, flow, token, locale, step, data, last_update_id,
                               created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(user_id) DO UPDATE SET
               chat_id = excluded.chat_id, flow = excluded.flow, token = excluded.token,
               locale = excluded.locale,
               step = excluded.step, data = excluded.data,
               last_update_id = MAX(drafts.last_update_id, excluded.last_update_id),
               updated_at = excluded.updated_at, asked_at = NULL""",
        (
            draft.user_id,
            draft.chat_id,
            draft.flow,
            draft.token,
            draft.locale,
            draft.step,
            db.cipher.dumps(draft.data),  # the answers: phones and IDs sealed
            draft.last_update_id,
            stamp,
            stamp,
        ),
    )
    return replace(draft, updated_at=stamp)


async def update(db: Database, draft: Draft, now: datetime) -> Draft | None:
    """Save the answers of an open draft; None when it ended meanwhile (submitted, cancelled,
    timed out), so a late answer can never bring a finished draft back."""
    stamp = now.isoformat()
    changed = await db.write_one(
        """UPDATE drafts SET step = ?, data = ?, locale = ?, updated_at = ?, asked_at = NULL,
               last_update_id = MAX(last_update_id, ?)
           WHERE user_id = ? AND token = ?""",
        (
            draft.step,
            db.cipher.dumps(draft.data),  # the answers: phones and IDs sealed
            draft.locale,
            stamp,
            draft.last_update_id,
            draft.user_id,
            draft.token,
        ),
    )
    return replace(draft, updated_at=stamp) if changed else None


async def delete(
    conn: aiosqlite.Connection,
    user_id: int,
    token: str | None = None,
    untouched_since: datetime | None = None,
) -> bool:
    """Delete the user's draft; only if it is still the one with ``token``, and (for a timeout)
    only if nobody touched it after ``untouched_since``."""
    sql, params = "DELETE FROM drafts WHERE user_id = ?", [user_id]
    if token is not None:
        sql, params = sql + " AND token = ?", [*params, token]
    if untouched_since is not None:
        sql, params = sql + " AND updated_at < ?", [*params, untouched_since.isoformat()]
    cur = await conn.execute(sql, params)
    return cur.rowcount > 0


async def stale(db: Database, before: datetime, limit: int = 500) -> list[Draft]:
    rows = await db.fetchall(
        "SELECT * FROM drafts WHERE updated_at < ? ORDER BY updated_at LIMIT ?",
        (before.isoformat(), limit),
    )
    return [_row(row) for row in rows]


async def asked(db: Database, sent: list[Draft], now: datetime) -> None:
    """The open questions of ``sent`` (each as saved: its update id and time) went out: they
    are no longer owed. One write for all of them; a draft answered or ended since is left
    alone."""
    async with db.write() as conn:
        await conn.executemany(
            """UPDATE drafts SET asked_at = ? WHERE user_id = ? AND token = ?
                   AND last_update_id = ? AND updated_at = ?""",
            [(now.isoformat(), d.user_id, d.token, d.last_update_id, d.updated_at) for d in sent],
        )


async def owed(db: Database, touched_since: datetime, limit: int = 500) -> list[Draft]:
    """Open drafts whose question was saved but never went out (a crash between the two),
    touched since ``touched_since`` (older ones are ending by the timeout)."""
    rows = await db.fetchall(
        """SELECT * FROM drafts WHERE asked_at IS NULL AND updated_at >= ?
           ORDER BY updated_at LIMIT ?""",
        (touched_since.isoformat(), limit),
    )
    return [_row(row) for row in rows]


async def drop(db: Database, user_id: int, token: str) -> bool:
    """Delete the user's draft if it is still the one with ``token`` (False: it ended)."""
    return await db.write_one("DELETE FROM drafts WHERE user_id = ? AND token = ?",
                              (user_id, token)) > 0  # fmt: skip


async def set_locale(conn: aiosqlite.Connection, user_id: int, locale: str) -> None:
    """An open draft follows the user's new /language."""
    await conn.execute("UPDATE drafts SET locale = ? WHERE user_id = ?", (locale, user_id))
