"""Isolation sites (集中隔离点) and their activation checklists. SQL only; the rules (which
state may follow which, when the checklist is complete) are bot.domain.sites'."""

from __future__ import annotations

import json
from datetime import datetime

import aiosqlite

from bot.domain.sites import CHECKLIST, SiteSpec, seeded_state
from storage.db import Database, Reader, fetch_all, fetch_one

_COLUMNS = "id, name, address, village_id, latitude, longitude, rooms, capacity"
_STAYING = "state IN ('assigned', 'in')"


def _values(spec: SiteSpec) -> tuple[object, ...]:
    return (
        spec.id,
        spec.name,
        spec.address,
        spec.village_id,
        spec.latitude,
        spec.longitude,
        json.dumps(spec.rooms, ensure_ascii=False),
        spec.capacity,
    )


def rooms(row: aiosqlite.Row) -> tuple[str, ...]:
    return tuple(json.loads(row["rooms"]))


async def seed_from_config(db: Database, specs: list[SiteSpec], now: datetime) -> None:
    """The config's sites (source 'config'): added, or their details updated from the file;
    a state reached at runtime (activating, active, closed) is kept (``seeded_state``)."""
    async with db.write() as conn:
        for spec in specs:
            row = await get(conn, spec.id)
            state = seeded_state(row["state"], spec.state) if row else spec.state
            await conn.execute(
                f"""INSERT INTO sites ({_COLUMNS}, state, source, activated_at, created_at,
                                       updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'config', ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                        address = excluded.address, village_id = excluded.village_id,
                        latitude = excluded.latitude, longitude = excluded.longitude,
                        rooms = excluded.rooms, capacity = excluded.capacity,
                        state = excluded.state, source = 'config',
                        activated_at = COALESCE(sites.activated_at, excluded.activated_at),
                        updated_at = excluded.updated_at""",
                (
                    *_values(spec),
                    state,
                    now.isoformat() if state == "active" else None,
                    now.isoformat(),
                    now.isoformat(),
                ),
            )


async def get(src: Reader, site_id: str) -> aiosqlite.Row | None:
    return await fetch_one(src, "SELECT * FROM sites WHERE id = ?", (site_id,))


async def listed(src: Reader) -> list[aiosqlite.Row]:
    """Every site: active first, then activating, reserved, closed; by id within each."""
    return await fetch_all(
        src,
        """SELECT * FROM sites ORDER BY CASE state WHEN 'active' THEN 0
           WHEN 'activating' THEN 1 WHEN 'reserved' THEN 2 ELSE 3 END, id""",
    )


async def ids(src: Reader) -> set[str]:
    return {r["id"] for r in await fetch_all(src, "SELECT id FROM sites")}


async def checklist(src: Reader, site_id: str) -> list[aiosqlite.Row]:
    sql = "SELECT * FROM site_checklist WHERE site_id = ? ORDER BY position"
    return await fetch_all(src, sql, (site_id,))


async def managers(src: Reader, site_id: str) -> list[int]:
    rows = await fetch_all(
        src,
        """SELECT DISTINCT user_id FROM staff
           WHERE role = 'site_manager' AND scope = ? AND active = 1 ORDER BY user_id""",
        (site_id,),
    )
    return [r["user_id"] for r in rows]


async def activating(conn: aiosqlite.Connection, site_id: str) -> bool:
    """Is the site's activation still under way? (the ladder's safety net)"""
    row = await get(conn, site_id)
    return row is not None and row["state"] == "activating"


# -- changes (each inside the caller's write transaction) -----------------------------------


async def add(conn: aiosqlite.Connection, spec: SiteSpec, now: datetime) -> None:
    await conn.execute(
        f"""INSERT INTO sites ({_COLUMNS}, state, source, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'reserved', 'chat', ?, ?)""",
        (*_values(spec), now.isoformat(), now.isoformat()),
    )


async def update(conn: aiosqlite.Connection, spec: SiteSpec, now: datetime) -> bool:
    """Change the name, address, rooms and capacity of a site (its state is left alone)."""
    cur = await conn.execute(
        """UPDATE sites SET name = ?, address = ?, rooms = ?, capacity = ?, updated_at = ?
           WHERE id = ?""",
        (
            spec.name,
            spec.address,
            json.dumps(spec.rooms, ensure_ascii=False),
            spec.capacity,
            now.isoformat(),
            spec.id,
        ),
    )
    return cur.rowcount > 0


async def order(
    conn: aiosqlite.Connection, site_id: str, by: int, now: datetime, deadline: datetime
) -> bool:
    """Reserved -> activating, with a fresh checklist; False when the site was not reserved."""
    cur = await conn.execute(
        """UPDATE sites SET state = 'activating', activation_by = ?, activation_at = ?,
               activation_deadline = ?, activated_at = NULL, updated_at = ?
           WHERE id = ? AND state = 'reserved'""",
        (by, now.isoformat(), deadline.isoformat(), now.isoformat(), site_id),
    )
    if cur.rowcount == 0:
        return False
    await conn.execute("DELETE FROM site_checklist WHERE site_id = ?", (site_id,))
    await conn.executemany(
        "INSERT INTO site_checklist (site_id, item, position) VALUES (?, ?, ?)",
        [(site_id, item, i) for i, item in enumerate(CHECKLIST)],
    )
    return True


async def tick(
    conn: aiosqlite.Connection, site_id: str, item: str, by: int, name: str, now: datetime
) -> bool:
    """Tick one item of an activation under way; False when ticked already or not activating."""
    cur = await conn.execute(
        """UPDATE site_checklist SET ticked_by = ?, ticked_name = ?, ticked_at = ?
           WHERE site_id = ? AND item = ? AND ticked_at IS NULL
             AND EXISTS (SELECT 1 FROM sites WHERE id = ? AND state = 'activating')""",
        (by, name, now.isoformat(), site_id, item, site_id),
    )
    return cur.rowcount > 0


async def ticked(src: Reader, site_id: str) -> frozenset[str]:
    rows = await fetch_all(
        src,
        "SELECT item FROM site_checklist WHERE site_id = ? AND ticked_at IS NOT NULL",
        (site_id,),
    )
    return frozenset(r["item"] for r in rows)


async def activate(conn: aiosqlite.Connection, site_id: str, now: datetime) -> bool:
    cur = await conn.execute(
        """UPDATE sites SET state = 'active', activated_at = ?, updated_at = ?
           WHERE id = ? AND state = 'activating'""",
        (now.isoformat(), now.isoformat(), site_id),
    )
    return cur.rowcount > 0


async def close(conn: aiosqlite.Connection, site_id: str, now: datetime) -> bool:
    """Close a site nobody stays at (assigned or arrived); False when someone does, or it is
    closed already. One statement: an assignment racing the close cannot slip between."""
    cur = await conn.execute(
        f"""UPDATE sites SET state = 'closed', closed_at = ?, updated_at = ?
            WHERE id = ? AND state != 'closed'
              AND NOT EXISTS (SELECT 1 FROM stays WHERE site_id = ? AND {_STAYING})""",
        (now.isoformat(), now.isoformat(), site_id, site_id),
    )
    return cur.rowcount > 0


async def reopen(conn: aiosqlite.Connection, site_id: str, now: datetime) -> bool:
    cur = await conn.execute(
        """UPDATE sites SET state = 'reserved', closed_at = NULL, updated_at = ?
           WHERE id = ? AND state = 'closed'""",
        (now.isoformat(), site_id),
    )
    return cur.rowcount > 0
