"""The quarantine-release certificate (解除隔离证明) of an arrival report: SQL only."""

from __future__ import annotations

import json
from datetime import datetime

import aiosqlite

from storage.db import Reader, cipher_of, fetch_one
from storage.outbox import iso


async def request(conn: aiosqlite.Connection, report_id: int, photo: str | None) -> None:
    """The report waits for a worker to check the certificate (again, on a new version)."""
    await conn.execute(
        """UPDATE reports SET certificate = 'pending', certificate_photo = ?,
               certificate_by = NULL, certificate_at = NULL WHERE id = ?""",
        (photo, report_id),
    )


async def get(conn: Reader, report_id: int) -> aiosqlite.Row | None:
    return await fetch_one(
        conn,
        """SELECT r.*, p.name AS name, p.phone AS phone FROM reports r
           LEFT JOIN persons p ON p.report_id = r.id AND p.idx = 0 WHERE r.id = ?""",
        (report_id,),
    )


async def decide(conn: aiosqlite.Connection, report_id: int, checked: bool, user_id: int,
                 now: datetime) -> bool:  # fmt: skip
    """A worker checked the certificate (or found it wanting); False when it was not pending."""
    cur = await conn.execute(
        """UPDATE reports SET certificate = ?, certificate_by = ?, certificate_at = ?
           WHERE id = ? AND certificate = 'pending' AND state = 'open'""",
        ("checked" if checked else "rejected", user_id, iso(now), report_id),
    )
    return cur.rowcount > 0


async def set_measure(conn: aiosqlite.Connection, report_id: int, risk: str, alert: bool,
                      kind: str, start: str, end: str, data: str) -> None:  # fmt: skip
    """The report's risk and measure after the certificate was checked, and its data that
    says so (a later re-assessment reads it)."""
    await conn.execute(
        """UPDATE reports SET risk = ?, alert = ?, measure_kind = ?, measure_start = ?,
               measure_end = ?, data = ? WHERE id = ?""",
        (risk, int(alert), kind, start, end, cipher_of(conn).dumps(json.loads(data)), report_id),
    )
