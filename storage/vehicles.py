"""Transfer vehicles and their crews (SQL only). The crew's phone is sealed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import Database, Reader, cipher_of, fetch_all, fetch_one, marks
from storage.outbox import iso


@dataclass(frozen=True)
class NewVehicle:
    id: str
    plate: str  # as written: 渝A·12345
    kind: str
    crew_name: str
    crew_phone: str


async def seed_from_config(
    db: Database, listed: Sequence[NewVehicle], now: datetime
) -> list[aiosqlite.Row]:
    """The config's vehicles: added, or their plate, kind and crew brought up to date; the
    state each is in (dispatched, disinfecting, out of service) is the bot's and kept. A
    vehicle added in chat is never taken over: when a listed one has a chat vehicle's id or
    plate, nothing is written and those chat rows are returned (the caller refuses to
    start)."""
    async with db.write() as conn:
        clashes = await _chat_clashes(conn, listed)
        if clashes:
            return clashes
        for vehicle in listed:
            await conn.execute(
                """INSERT INTO vehicles (id, plate, kind, crew_name, crew_phone, source,
                                         created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, 'config', ?, ?)
                   ON CONFLICT(id) DO UPDATE SET plate = excluded.plate, kind = excluded.kind,
                       crew_name = excluded.crew_name, crew_phone = excluded.crew_phone,
                       updated_at = excluded.updated_at
                   WHERE vehicles.source = 'config'""",
                _values(conn, vehicle, now),
            )
    return []


async def _chat_clashes(
    conn: aiosqlite.Connection, listed: Sequence[NewVehicle]
) -> list[aiosqlite.Row]:
    """The vehicles added in chat with the id or the plate of one of ``listed``."""
    if not listed:
        return []
    ids, plates = [v.id for v in listed], [v.plate for v in listed]
    return await fetch_all(
        conn,
        f"""SELECT id, plate FROM vehicles WHERE source = 'chat'
            AND (id IN ({marks(len(ids))}) OR plate IN ({marks(len(plates))})) ORDER BY id""",
        (*ids, *plates),
    )


def _values(conn: aiosqlite.Connection, vehicle: NewVehicle, now: datetime) -> tuple:
    seal = cipher_of(conn).seal
    return (vehicle.id, vehicle.plate, vehicle.kind, vehicle.crew_name or None,
            seal(vehicle.crew_phone or None), iso(now), iso(now))  # fmt: skip


async def add(conn: aiosqlite.Connection, vehicle: NewVehicle, now: datetime) -> bool:
    """A vehicle added in chat; False when its id or plate is taken."""
    rows = await conn.execute_fetchall(
        """INSERT INTO vehicles (id, plate, kind, crew_name, crew_phone, source, created_at,
                                 updated_at)
           VALUES (?, ?, ?, ?, ?, 'chat', ?, ?) ON CONFLICT DO NOTHING RETURNING id""",
        _values(conn, vehicle, now),
    )
    return bool(rows)


async def get(conn: Reader, vehicle_id: str) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM vehicles WHERE id = ?", (vehicle_id,))


async def by_plate(conn: Reader, plate: str) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM vehicles WHERE plate = ?", (plate,))


async def all_(conn: Reader) -> list[aiosqlite.Row]:
    return await fetch_all(conn, "SELECT * FROM vehicles ORDER BY id")


async def take(conn: aiosqlite.Connection, vehicle_id: str, now: datetime) -> bool:
    """Dispatch the vehicle: only when on standby or its disinfection is over (checked in the
    statement, so two dispatchers cannot both take it). False: it is not free."""
    cur = await conn.execute(
        """UPDATE vehicles SET state = 'dispatched', available_at = NULL, updated_at = ?
           WHERE id = ? AND (state = 'available'
                             OR (state = 'disinfecting' AND available_at <= ?))""",
        (iso(now), vehicle_id, iso(now)),
    )
    return cur.rowcount > 0


async def set_state(
    conn: aiosqlite.Connection, vehicle_id: str, state: str, now: datetime, *,
    expected: Sequence[str], available_at: datetime | None = None,
) -> bool:  # fmt: skip
    """Move the vehicle to ``state`` from one of ``expected``; False when it was in none."""
    cur = await conn.execute(
        f"""UPDATE vehicles SET state = ?, available_at = ?, updated_at = ?
            WHERE id = ? AND state IN ({marks(len(expected))})""",
        (state, available_at and iso(available_at), iso(now), vehicle_id, *expected),
    )
    return cur.rowcount > 0


async def crew(conn: Reader, vehicle_id: str) -> list[int]:
    """The vehicle's crew in the bot: config-listed and invited (role crew, its id)."""
    rows = await fetch_all(
        conn,
        """SELECT DISTINCT user_id FROM staff WHERE role = 'crew' AND scope = ? AND active = 1
           ORDER BY user_id""",
        (vehicle_id,),
    )
    return [r["user_id"] for r in rows]
