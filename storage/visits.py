"""Door-to-door screening (入户排查): visits and the arrivals registered on the spot."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from storage.db import Database, marks


async def store(
    conn: aiosqlite.Connection,
    *,
    draft_token: str,
    grid_id: str,
    address: str,
    worker: int,
    now: datetime,
    refused: bool,
    people: int | None,
    temperatures: Sequence[float],
    fever: bool,
    arrivals: bool,
    note: str | None,
) -> int | None:
    """The new visit's id, or None when this draft was stored already (a double tap)."""
    cur = await conn.execute(
        """INSERT INTO visits (draft_token, grid_id, address, worker, at, refused,
               people_present, temperatures, fever, arrivals, note)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (draft_token) DO NOTHING""",
        (
            draft_token,
            grid_id,
            address,
            worker,
            now.isoformat(),
            int(refused),
            people,
            json.dumps(list(temperatures)),
            int(fever),
            int(arrivals),
            note,
        ),
    )
    return cur.lastrowid if cur.rowcount else None


async def get(db: Database, visit_id: int) -> aiosqlite.Row | None:
    return await db.fetchone("SELECT * FROM visits WHERE id = ?", (visit_id,))


async def link_report(
    conn: aiosqlite.Connection, visit_id: int, report_id: int, worker: int
) -> None:
    """Link an arrival registered on the spot to the visit, if that worker made the visit."""
    await conn.execute(
        """INSERT INTO visit_reports (visit_id, report_id)
           SELECT id, ? FROM visits WHERE id = ? AND worker = ? ON CONFLICT DO NOTHING""",
        (report_id, visit_id, worker),
    )


async def coverage(db: Database, grids: Sequence[str], since: datetime) -> list[aiosqlite.Row]:
    """Per grid since then: households (distinct addresses) visited, visits, refusals,
    fevers, arrivals registered on the spot."""
    if not grids:
        return []
    return await db.fetchall(
        f"""SELECT v.grid_id, COUNT(DISTINCT v.address) AS households, COUNT(*) AS visits,
                   SUM(v.refused) AS refused, SUM(v.fever) AS fever,
                   (SELECT COUNT(*) FROM visit_reports vr JOIN visits w ON w.id = vr.visit_id
                    WHERE w.grid_id = v.grid_id AND w.at >= ?) AS registered
            FROM visits v WHERE v.grid_id IN ({marks(len(grids))}) AND v.at >= ?
            GROUP BY v.grid_id""",
        (since.isoformat(), *grids, since.isoformat()),
    )
