"""Key units and venues (重点单位与场所) and their liaisons. SQL only; what a unit's state
becomes when the config is read again is bot.domain.units'."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import aiosqlite

from bot.domain.units import SOURCE_CONFIG, UnitSpec, seeded_monitored
from storage.db import Database, Reader, fetch_all, fetch_one

Retired = Callable[[aiosqlite.Connection, datetime], Awaitable[object]]
_COLUMNS = "id, name, kind, village_id, grid_id, address, headcount, note"


async def seed_from_config(db: Database, specs: list[UnitSpec], now: datetime,
                           retired: Retired | None = None) -> None:  # fmt: skip
    """The config's units (source 'config'): added, or their details updated from the file
    (the file wins); 重点监测 reached in chat is kept (``seeded_monitored``). A config unit
    no longer listed is retired (inactive: no more daily reports asked of it); its records
    stay, and ``retired`` closes in the same transaction what was still waiting on it."""
    stamp = now.isoformat()
    async with db.write() as conn:
        for spec in specs:
            row = await get(conn, spec.id)
            stored = bool(row["monitored"]) if row else None
            await conn.execute(
                f"""INSERT INTO units ({_COLUMNS}, monitored, source, active, created_at,
                                       updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'config', 1, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                        kind = excluded.kind, village_id = excluded.village_id,
                        grid_id = excluded.grid_id, address = excluded.address,
                        headcount = excluded.headcount, note = excluded.note,
                        monitored = excluded.monitored, source = 'config', active = 1,
                        updated_at = excluded.updated_at""",
                (
                    spec.id,
                    spec.name,
                    spec.kind,
                    spec.village_id,
                    spec.grid_id,
                    spec.address,
                    spec.headcount,
                    spec.note,
                    int(seeded_monitored(stored, spec.monitored)),
                    stamp,
                    stamp,
                ),
            )
        listed = [spec.id for spec in specs]
        await conn.execute(
            f"""UPDATE units SET active = 0, updated_at = ?
                WHERE source = ? AND active = 1
                  AND id NOT IN ({", ".join("?" * len(listed))})""",
            (stamp, SOURCE_CONFIG, *listed),
        )
        if retired is not None:
            await retired(conn, now)


async def get(src: Reader, unit_id: str) -> aiosqlite.Row | None:
    """The unit whether active or not."""
    return await fetch_one(src, "SELECT * FROM units WHERE id = ?", (unit_id,))


async def active(src: Reader, village_id: str | None = None) -> list[aiosqlite.Row]:
    """The active units (of one village, or all), by village then name."""
    sql = "SELECT * FROM units WHERE active = 1 AND (? IS NULL OR village_id = ?)"
    return await fetch_all(src, sql + " ORDER BY village_id, name, id", (village_id, village_id))


async def monitored(src: Reader) -> list[aiosqlite.Row]:
    """The active units under key monitoring (重点监测), by village then name."""
    sql = "SELECT * FROM units WHERE active = 1 AND monitored = 1 ORDER BY village_id, name, id"
    return await fetch_all(src, sql)


async def liaisons(src: Reader, unit_id: str) -> list[int]:
    """The user ids of the unit's active liaisons (staff role 'unit')."""
    rows = await fetch_all(
        src,
        """SELECT DISTINCT user_id FROM staff
           WHERE role = 'unit' AND scope = ? AND active = 1 ORDER BY user_id""",
        (unit_id,),
    )
    return [r["user_id"] for r in rows]


async def liaison_counts(src: Reader) -> dict[str, int]:
    """Unit id -> its active liaisons (for the list: joined or not)."""
    rows = await fetch_all(
        src,
        """SELECT scope, COUNT(DISTINCT user_id) AS n FROM staff
           WHERE role = 'unit' AND active = 1 GROUP BY scope""",
    )
    return {r["scope"]: r["n"] for r in rows}


# -- changes (each inside the caller's write transaction) -----------------------------------


async def set_monitored(
    conn: aiosqlite.Connection, unit_id: str, on: bool, user_id: int, now: datetime
) -> bool:
    """Mark or unmark 重点监测; False when the unit is unknown, retired, or already so."""
    cur = await conn.execute(
        """UPDATE units SET monitored = ?, monitored_by = ?, monitored_at = ?, updated_at = ?
           WHERE id = ? AND active = 1 AND monitored != ?""",
        (int(on), user_id, now.isoformat(), now.isoformat(), unit_id, int(on)),
    )
    return cur.rowcount > 0
