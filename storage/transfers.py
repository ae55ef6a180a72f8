"""Transfer requests and the people they carry (SQL only). Each step's time is kept on the
row; who did what is in the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from storage.db import Reader, fetch_all, fetch_one, marks, next_in_sequence
from storage.outbox import iso

# The column each step's time (and who) is kept in.
STAMPS = {
    "dispatched": ("dispatched_at", "dispatched_by"),
    "acknowledged": ("acknowledged_at", "acknowledged_by"),
    "picked_up": ("picked_up_at", None),
    "delivered": ("delivered_at", None),
    "cancelled": ("cancelled_at", None),
}


@dataclass(frozen=True)
class NewTransfer:
    stay_ids: tuple[int, ...]
    from_address: str
    village_id: str
    grid_id: str | None
    site_id: str
    urgency: str
    requested_by: int


async def next_ref(conn: aiosqlite.Connection, code: str, day: date) -> str:
    """``XF-ZY-20201120-01``: the town's code, ZY (转运), the local date, a per-day sequence."""
    stamp = day.strftime("%Y%m%d")
    value = await next_in_sequence(conn, f"transfer:{stamp}")
    return f"{code}-ZY-{stamp}-{value:02d}"


async def create(conn: aiosqlite.Connection, new: NewTransfer, ref: str, now: datetime) -> int:
    cur = await conn.execute(
        """INSERT INTO transfers (ref, site_id, from_address, village_id, grid_id, urgency,
                                  requested_by, requested_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        (ref, new.site_id, new.from_address, new.village_id, new.grid_id, new.urgency,
         new.requested_by, iso(now)),
    )  # fmt: skip
    transfer_id = cur.lastrowid
    await conn.executemany(
        "INSERT INTO transfer_people (transfer_id, stay_id) VALUES (?, ?)",
        [(transfer_id, stay) for stay in new.stay_ids],
    )
    return transfer_id


_SELECT = """SELECT t.*, v.plate, v.kind AS vehicle_kind, v.crew_name, v.crew_phone,
                    s.name AS site_name, s.address AS site_address,
                    (SELECT COUNT(*) FROM transfer_people p WHERE p.transfer_id = t.id) AS people
             FROM transfers t JOIN sites s ON s.id = t.site_id
             LEFT JOIN vehicles v ON v.id = t.vehicle_id"""


async def get(conn: Reader, transfer_id: int) -> aiosqlite.Row | None:
    return await fetch_one(conn, f"{_SELECT} WHERE t.id = ?", (transfer_id,))


_OPEN = "t.state IN ('requested', 'dispatched', 'acknowledged', 'picked_up')"


async def open_ones(conn: Reader, limit: int) -> list[aiosqlite.Row]:
    """The first ``limit`` transfers not delivered or cancelled: urgent first, then the
    oldest (``open_count`` says how many there are in all)."""
    return await fetch_all(
        conn,
        f"""{_SELECT} WHERE {_OPEN}
            ORDER BY t.state != 'requested', t.urgency != 'urgent', t.requested_at LIMIT ?""",
        (limit,),
    )


async def open_count(conn: Reader) -> int:
    row = await fetch_one(conn, f"SELECT COUNT(*) AS n FROM transfers t WHERE {_OPEN}")
    return row["n"]


async def waiting_ids(conn: Reader) -> list[int]:
    """Every transfer waiting for a vehicle (requested), all of them: oldest first."""
    rows = await fetch_all(
        conn, "SELECT id FROM transfers WHERE state = 'requested' ORDER BY requested_at, id"
    )
    return [r["id"] for r in rows]


async def people(conn: Reader, transfer_id: int) -> list[aiosqlite.Row]:
    """Who is fetched: each stay's person (a contact, an arrival's person, a case's) with
    their phone and room, in full (for the dispatchers and crew only)."""
    return await fetch_all(
        conn,
        """SELECT s.id AS stay_id, s.room, s.state AS stay_state, s.contact_id,
                  coalesce(c.name, p.name, k.person_name) AS name,
                  coalesce(c.phone, p.phone, k.person_phone) AS phone
           FROM transfer_people tp JOIN stays s ON s.id = tp.stay_id
           LEFT JOIN contacts c ON c.id = s.contact_id
           LEFT JOIN persons p ON p.report_id = s.report_id AND p.idx = s.person_idx
           LEFT JOIN cases k ON k.id = s.case_id
           WHERE tp.transfer_id = ? ORDER BY s.id""",
        (transfer_id,),
    )


async def move(conn: aiosqlite.Connection, transfer_id: int, from_states: Sequence[str],
               to: str, now: datetime, by: int | None = None,
               note: str | None = None) -> bool:  # fmt: skip
    """The transfer moves to ``to`` from one of ``from_states`` (its time, and who, kept);
    False when it was in none of them (someone else moved it first)."""
    at, who = STAMPS[to]
    sets = f"state = ?, {at} = ?" + (f", {who} = ?" if who else "") + ", note = coalesce(?, note)"
    params = [to, iso(now), *([by] if who else []), note]
    cur = await conn.execute(
        f"UPDATE transfers SET {sets} WHERE id = ? AND state IN ({marks(len(from_states))})",
        (*params, transfer_id, *from_states),
    )
    return cur.rowcount > 0


async def assign(conn: aiosqlite.Connection, transfer_id: int, vehicle_id: str, by: int,
                 now: datetime) -> bool:  # fmt: skip
    """A requested transfer gets its vehicle; False when it was dispatched (or cancelled)
    meanwhile."""
    cur = await conn.execute(
        """UPDATE transfers SET state = 'dispatched', vehicle_id = ?, dispatched_by = ?,
                                dispatched_at = ?
           WHERE id = ? AND state = 'requested'""",
        (vehicle_id, by, iso(now), transfer_id),
    )
    return cur.rowcount > 0


async def in_state(conn: Reader, transfer_id: int, state: str) -> bool:
    """Still in ``state`` (the ladder's safety net)."""
    row = await fetch_one(conn, "SELECT state FROM transfers WHERE id = ?", (transfer_id,))
    return row is not None and row["state"] == state


async def dispatchers(conn: Reader) -> list[int]:
    rows = await fetch_all(
        conn,
        """SELECT DISTINCT user_id FROM staff WHERE role = 'dispatcher' AND active = 1
           ORDER BY user_id""",
    )
    return [r["user_id"] for r in rows]


async def cases_of(conn: Reader, transfer_id: int) -> list[int]:
    """The cases whose contacts the transfer carries (their cards show the chain)."""
    rows = await fetch_all(
        conn,
        """SELECT DISTINCT cc.case_id FROM transfer_people tp
           JOIN stays s ON s.id = tp.stay_id JOIN case_contacts cc ON cc.contact_id = s.contact_id
           WHERE tp.transfer_id = ? ORDER BY cc.case_id""",
        (transfer_id,),
    )
    return [r["case_id"] for r in rows]


async def stays_of(conn: Reader, stay_ids: Sequence[int]) -> list[aiosqlite.Row]:
    """The stays a request names, with their site and state (a request checks them)."""
    return await fetch_all(
        conn,
        f"SELECT id, site_id, state FROM stays WHERE id IN ({marks(len(stay_ids))})",
        tuple(stay_ids),
    )
