"""Arrival reports: the report, its people, its earlier versions."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime

import aiosqlite

from bot.domain.records import PersonRecord, ReportRecord, StoredReport
from storage.db import Database, fetch_all, fetch_one, next_in_sequence


async def next_ref(conn: aiosqlite.Connection, code: str, day: date) -> str:
    """``XF-20201026-0042``: the town's code, the local date, a per-day sequence."""
    stamp = day.strftime("%Y%m%d")
    value = await next_in_sequence(conn, f"ref:{stamp}")
    return f"{code}-{stamp}-{value:04d}"


async def by_draft(conn: aiosqlite.Connection | Database, token: str) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM reports WHERE draft_token = ?", (token,))


async def find_same_person(
    conn: aiosqlite.Connection, person: PersonRecord, since: datetime
) -> aiosqlite.Row | None:
    """The newest open report of the same person (ID number, or name and phone) since then."""
    async with conn.execute(
        """SELECT r.* FROM reports r JOIN persons p ON p.report_id = r.id AND p.idx = 0
           WHERE r.state = 'open' AND r.updated_at >= ?
             AND ((? IS NOT NULL AND p.id_number = ?) OR (p.name = ? AND p.phone = ?))
           ORDER BY r.id DESC LIMIT 1""",
        (since.isoformat(), person.id_number, person.id_number, person.name, person.phone),
    ) as cur:
        return await cur.fetchone()


async def store(
    conn: aiosqlite.Connection,
    report: ReportRecord,
    *,
    town_code: str,
    local_today: date,
    lookback_since: datetime,
    now: datetime,
) -> StoredReport:
    """Insert the report, or update the same person's open one keeping its history."""
    previous = await find_same_person(conn, report.main, lookback_since)
    if previous is not None:
        return await _update(conn, previous, report, now)
    ref = await next_ref(conn, town_code, local_today)
    cur = await conn.execute(
        """INSERT INTO reports (ref, draft_token, reporter_user_id, reporter_chat_id, locale,
               relation, village_id, grid_id, address, arrival_date, category, risk, alert,
               measure_kind, measure_start, measure_end, data, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (ref, *_columns(report), now.isoformat(), now.isoformat()),
    )
    report_id = cur.lastrowid
    await _insert_people(conn, report_id, report.people)
    return StoredReport(id=report_id, ref=ref, updated=False, version=1)


def _columns(report: ReportRecord) -> tuple:
    return (
        report.draft_token,
        report.reporter_user_id,
        report.reporter_chat_id,
        report.locale,
        report.relation,
        report.village_id,
        report.grid_id,
        report.address,
        report.arrival_date.isoformat(),
        report.category,
        report.risk,
        int(report.alert),
        report.measure_kind,
        report.measure_start.isoformat(),
        report.measure_end.isoformat(),
        json.dumps(report.data, ensure_ascii=False),
    )


async def _insert_people(
    conn: aiosqlite.Connection, report_id: int, people: tuple[PersonRecord, ...]
) -> None:
    await conn.executemany(
        """INSERT INTO persons (report_id, idx, name, phone, id_kind, id_number)
           VALUES (?, ?, ?, ?, ?, ?)""",
        [(report_id, i, p.name, p.phone, p.id_kind, p.id_number) for i, p in enumerate(people)],
    )


async def people(conn: aiosqlite.Connection | Database, report_id: int) -> list[PersonRecord]:
    sql = "SELECT name, phone, id_kind, id_number FROM persons WHERE report_id = ? ORDER BY idx"
    rows = await fetch_all(conn, sql, (report_id,))
    return [PersonRecord(*row) for row in rows]


async def _update(
    conn: aiosqlite.Connection, previous: aiosqlite.Row, report: ReportRecord, now: datetime
) -> StoredReport:
    old_people = await people(conn, previous["id"])
    await conn.execute(
        """INSERT INTO report_history (report_id, version, data, persons, saved_at)
           VALUES (?, ?, ?, ?, ?)""",
        (
            previous["id"],
            previous["version"],
            previous["data"],
            json.dumps([asdict(p) for p in old_people], ensure_ascii=False),
            now.isoformat(),
        ),
    )
    version = previous["version"] + 1
    await conn.execute(
        """UPDATE reports SET draft_token = ?, reporter_user_id = ?, reporter_chat_id = ?,
               locale = ?, relation = ?, village_id = ?, grid_id = ?, address = ?,
               arrival_date = ?, category = ?, risk = ?, alert = ?, measure_kind = ?,
               measure_start = ?, measure_end = ?, data = ?, version = ?, updated_at = ?,
               review = 'pending'
           WHERE id = ?""",
        (*_columns(report), version, now.isoformat(), previous["id"]),
    )
    await conn.execute("DELETE FROM persons WHERE report_id = ?", (previous["id"],))
    await _insert_people(conn, previous["id"], report.people)
    return StoredReport(id=previous["id"], ref=previous["ref"], updated=True, version=version)


async def of_reporter(db: Database, user_id: int, limit: int = 10) -> list[aiosqlite.Row]:
    return await db.fetchall(
        """SELECT r.*, p.name AS person_name FROM reports r
           JOIN persons p ON p.report_id = r.id AND p.idx = 0
           WHERE r.reporter_user_id = ? ORDER BY r.id DESC LIMIT ?""",
        (user_id, limit),
    )


async def withdraw(conn: aiosqlite.Connection, report_id: int, user_id: int, now: datetime) -> bool:
    cur = await conn.execute(
        """UPDATE reports SET state = 'withdrawn', updated_at = ?
           WHERE id = ? AND reporter_user_id = ? AND state = 'open'""",
        (now.isoformat(), report_id, user_id),
    )
    return cur.rowcount > 0


async def by_ref(db: Database, ref: str) -> aiosqlite.Row | None:
    return await db.fetchone("SELECT * FROM reports WHERE ref = ?", (ref,))


async def by_id(db: Database, report_id: int) -> aiosqlite.Row | None:
    return await db.fetchone("SELECT * FROM reports WHERE id = ?", (report_id,))
