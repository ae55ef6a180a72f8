"""The grid worker's inbox: reports awaiting verification, and the verification records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from bot.domain.risk import RISK_CATEGORIES, MeasurePlan
from storage.db import Database, marks

PENDING = ("pending", "escalated")  # escalated: the leaders know, the check is still to do
# The most serious category first; one this code does not know comes before all of them
# (fail safe: a human looks at it first).
_BY_RISK = (
    "CASE r.risk "
    + " ".join(f"WHEN ? THEN {rank}" for rank in range(len(RISK_CATEGORIES)))
    + " ELSE -1 END"
)


async def pending(db: Database, grids: Sequence[str], limit: int = 20) -> list[aiosqlite.Row]:
    """Open reports awaiting verification in these grids: the highest risk first, then the
    oldest first."""
    if not grids:
        return []
    return await db.fetchall(
        f"""SELECT r.*, p.name AS person_name FROM reports r
            JOIN persons p ON p.report_id = r.id AND p.idx = 0
            WHERE r.state = 'open' AND r.review IN ({marks(len(PENDING))})
              AND r.grid_id IN ({marks(len(grids))})
            ORDER BY {_BY_RISK}, r.created_at, r.id LIMIT ?""",
        (*PENDING, *grids, *RISK_CATEGORIES, limit),
    )


async def counts(db: Database, grids: Sequence[str]) -> dict[str, int]:
    """Pending reports per grid (grids with none are left out)."""
    if not grids:
        return {}
    rows = await db.fetchall(
        f"""SELECT grid_id, COUNT(*) AS n FROM reports
            WHERE state = 'open' AND review IN ({marks(len(PENDING))})
              AND grid_id IN ({marks(len(grids))}) GROUP BY grid_id""",
        (*PENDING, *grids),
    )
    return {r["grid_id"]: r["n"] for r in rows}


async def report(db: Database, report_id: int) -> aiosqlite.Row | None:
    return await db.fetchone("SELECT * FROM reports WHERE id = ?", (report_id,))


async def record(
    conn: aiosqlite.Connection,
    report_id: int,
    version: int,
    worker: int,
    outcome: str,
    now: datetime,
    *,
    checks: tuple[bool | None, bool | None] = (None, None),
    measure: MeasurePlan | None = None,
    note: str | None = None,
) -> bool:
    """Store one verification and move the report's review state, if the report is still the
    version that was checked and awaiting review (a double tap or a stale card does nothing)."""
    cur = await conn.execute(
        f"""UPDATE reports SET review = ?, updated_at = ?
            WHERE id = ? AND version = ? AND state = 'open'
              AND review IN ({marks(len(PENDING))})""",
        (outcome, now.isoformat(), report_id, version, *PENDING),
    )
    if cur.rowcount == 0:
        return False
    if measure is not None:
        await conn.execute(
            """UPDATE reports SET measure_kind = ?, measure_start = ?, measure_end = ?
               WHERE id = ?""",
            (measure.kind, measure.start.isoformat(), measure.end.isoformat(), report_id),
        )
    code, test = checks
    await conn.execute(
        """INSERT INTO verifications (report_id, version, worker, outcome, health_code_checked,
               test_checked, measure_kind, measure_start, note, at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            report_id,
            version,
            worker,
            outcome,
            None if code is None else int(code),
            None if test is None else int(test),
            measure.kind if measure else None,
            measure.start.isoformat() if measure else None,
            note,
            now.isoformat(),
        ),
    )
    return True
