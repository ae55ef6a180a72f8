"""Discovered cases, their lockdown checklist and acknowledgements: SQL only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from bot.domain.cases import CHECKLIST
from storage.db import Reader, cipher_of, fetch_all, fetch_one, next_in_sequence
from storage.outbox import iso


@dataclass(frozen=True)
class NewCase:
    draft_token: str
    kind: str
    report_id: int | None
    person_name: str
    person_phone: str | None
    person_id_number: str | None
    village_id: str
    grid_id: str
    address: str
    latitude: float | None
    longitude: float | None
    status: str
    reported_by: int  # 0: the bot, for a case opened by a resident's positive result
    discovered_at: datetime  # the 2-hour direct report runs from here
    source: str | None = None  # None: /case; 'arrival' | 'monitoring': a positive result
    source_key: str | None = None  # one case per positive result (a replay makes none)

    @property
    def pending(self) -> bool:
        """Opened by a positive result: a human has to confirm it is a case."""
        return self.source is not None


@dataclass(frozen=True)
class Tick:
    item: str
    by: int | None
    name: str | None
    at: datetime | None


async def next_ref(conn: aiosqlite.Connection, code: str, day: date) -> str:
    """``XF-BL-20201026-01``: the town's code, BL (病例), the local date, a per-day sequence."""
    stamp = day.strftime("%Y%m%d")
    value = await next_in_sequence(conn, f"case:{stamp}")
    return f"{code}-BL-{stamp}-{value:02d}"


async def create(
    conn: aiosqlite.Connection, case: NewCase, *, ref: str, now: datetime, deadline_at: datetime
) -> int:
    seal = cipher_of(conn).seal
    cur = await conn.execute(
        """INSERT INTO cases (ref, draft_token, kind, report_id, person_name, person_phone,
               person_id_number, village_id, grid_id, address, latitude, longitude, status,
               reported_by, created_at, deadline_at, discovered_at, source, source_key,
               confirmation)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (ref, case.draft_token, case.kind, case.report_id, case.person_name,
         seal(case.person_phone), seal(case.person_id_number), case.village_id, case.grid_id,
         case.address, case.latitude, case.longitude, case.status, case.reported_by, iso(now),
         iso(deadline_at), iso(case.discovered_at), case.source, case.source_key,
         "pending" if case.pending else None),
    )  # fmt: skip
    case_id = cur.lastrowid
    await conn.executemany(
        "INSERT INTO case_checklist (case_id, item, position) VALUES (?, ?, ?)",
        [(case_id, item, i) for i, item in enumerate(CHECKLIST)],
    )
    return case_id


async def get(conn: Reader, case_id: int) -> aiosqlite.Row | None:
    return await fetch_one(
        conn,
        """SELECT c.*, r.ref AS report_ref FROM cases c LEFT JOIN reports r ON r.id = c.report_id
           WHERE c.id = ?""",
        (case_id,),
    )


async def by_ref(conn: Reader, ref: str) -> aiosqlite.Row | None:
    """The case with this reference number (as stored: upper case)."""
    return await fetch_one(conn, "SELECT * FROM cases WHERE ref = ?", (ref.upper(),))


async def report_person(conn: Reader, report_id: int, idx: int) -> aiosqlite.Row | None:
    """Who and where, for a case opened from an arrival report's person (idx 0: the main)."""
    return await fetch_one(
        conn,
        """SELECT r.village_id, r.grid_id, r.address, p.name, p.phone, p.id_number
           FROM reports r JOIN persons p ON p.report_id = r.id AND p.idx = ?
           WHERE r.id = ?""",
        (idx, report_id),
    )


async def standing(conn: Reader, report_id: int) -> aiosqlite.Row | None:
    """A case of the report's people not ruled out: pending a human's confirmation,
    confirmed, or entered as a case by a worker (no confirmation asked)."""
    return await fetch_one(
        conn,
        """SELECT id, ref FROM cases WHERE report_id = ?
             AND coalesce(confirmation, 'confirmed') != 'ruled_out' ORDER BY id LIMIT 1""",
        (report_id,),
    )


async def by_source(conn: Reader, key: str) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM cases WHERE source_key = ?", (key,))


async def confirm(conn: aiosqlite.Connection, case_id: int, user_id: int, now: datetime,
                  details: NewCase | None = None) -> bool:  # fmt: skip
    """A human confirmed a pending case (with the case flow's 定位定状态 when ``details``);
    False when it was not pending (confirmed or ruled out already)."""
    cur = await conn.execute(
        """UPDATE cases SET confirmation = 'confirmed', confirmed_by = ?, confirmed_at = ?
           WHERE id = ? AND confirmation = 'pending'""",
        (user_id, iso(now), case_id),
    )
    if cur.rowcount and details is not None:
        await conn.execute(
            """UPDATE cases SET kind = ?, village_id = ?, grid_id = ?, address = ?,
                   latitude = ?, longitude = ?, status = ? WHERE id = ?""",
            (details.kind, details.village_id, details.grid_id, details.address,
             details.latitude, details.longitude, details.status, case_id),
        )  # fmt: skip
    return cur.rowcount > 0


async def rule_out(conn: aiosqlite.Connection, case_id: int, user_id: int, now: datetime) -> bool:
    """A human ruled a pending case out: it is closed; False when it was not pending."""
    cur = await conn.execute(
        """UPDATE cases SET confirmation = 'ruled_out', confirmed_by = ?, confirmed_at = ?,
               state = 'closed'
           WHERE id = ? AND confirmation = 'pending' AND state = 'open'""",
        (user_id, iso(now), case_id),
    )
    return cur.rowcount > 0


async def by_draft(conn: Reader, token: str) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM cases WHERE draft_token = ?", (token,))


async def checklist(conn: Reader, case_id: int) -> list[Tick]:
    rows = await fetch_all(
        conn,
        """SELECT item, ticked_by, ticked_name, ticked_at FROM case_checklist
           WHERE case_id = ? ORDER BY position""",
        (case_id,),
    )
    return [
        Tick(r["item"], r["ticked_by"], r["ticked_name"],
             datetime.fromisoformat(r["ticked_at"]) if r["ticked_at"] else None)
        for r in rows
    ]  # fmt: skip


async def tick(conn: aiosqlite.Connection, case_id: int, item: str, user_id: int, name: str,
               now: datetime) -> bool:  # fmt: skip
    """Tick an item once; False when it was already ticked (the first tick is kept)."""
    cur = await conn.execute(
        """UPDATE case_checklist SET ticked_by = ?, ticked_name = ?, ticked_at = ?
           WHERE case_id = ? AND item = ? AND ticked_at IS NULL""",
        (user_id, name, iso(now), case_id, item),
    )
    return cur.rowcount > 0


async def mark_reported(conn: aiosqlite.Connection, case_id: int, number: str, user_id: int,
                        name: str, now: datetime) -> bool:  # fmt: skip
    """Record the online direct report; False when the case is no longer open."""
    cur = await conn.execute(
        """UPDATE cases SET state = 'reported', direct_report_no = ?, reported_at = ?,
               reported_by_user = ?, reported_by_name = ?
           WHERE id = ? AND state = 'open'""",
        (number, iso(now), user_id, name, case_id),
    )
    return cur.rowcount > 0


async def overdue_open(conn: Reader, now: datetime, limit: int = 200) -> list[aiosqlite.Row]:
    """Open cases past their deadline, oldest deadline first."""
    return await fetch_all(
        conn,
        "SELECT * FROM cases WHERE state = 'open' AND deadline_at <= ? ORDER BY deadline_at, id"
        " LIMIT ?",
        (iso(now), limit),
    )


async def acks(conn: Reader, subject: str) -> list[aiosqlite.Row]:
    return await fetch_all(conn, "SELECT * FROM acks WHERE subject = ? ORDER BY at, id", (subject,))


async def local_staff(conn: aiosqlite.Connection, grid_id: str, village_id: str) -> list[int]:
    """Active workers of the grid and admins of its village: told of a case in their area."""
    rows = await fetch_all(
        conn,
        """SELECT DISTINCT user_id FROM staff WHERE active = 1
             AND ((role = 'worker' AND scope = ?) OR (role = 'village_admin' AND scope = ?))
           ORDER BY user_id""",
        (grid_id, village_id),
    )
    return [r["user_id"] for r in rows]
