"""Arrival reports: the report, its people, its earlier versions."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import date, datetime

import aiosqlite

from bot.domain.records import (
    Identified,
    PersonRecord,
    Registered,
    ReportRecord,
    StoredReport,
    identify,
    merged,
)
from storage.cipher import Cipher
from storage.db import Database, cipher_of, fetch_all, fetch_one, next_in_sequence


async def next_ref(conn: aiosqlite.Connection, code: str, day: date) -> str:
    """``XF-20201026-0042``: the town's code, the local date, a per-day sequence."""
    stamp = day.strftime("%Y%m%d")
    value = await next_in_sequence(conn, f"ref:{stamp}")
    return f"{code}-{stamp}-{value:04d}"


async def by_draft(conn: aiosqlite.Connection | Database, token: str) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM reports WHERE draft_token = ?", (token,))


async def find_same_person(
    conn: aiosqlite.Connection, person: PersonRecord, since: datetime
) -> Identified:
    """Where this person already is among the open reports updated since then (as the main
    person or a companion): the candidates share his ID number, or his name and phone (by
    their blind indexes); ``bot.domain.records.identify`` decides."""
    cipher = cipher_of(conn)
    id_key, phone_key = cipher.blind("id", person.id_number), cipher.blind("phone", person.phone)
    rows = await fetch_all(
        conn,
        """SELECT r.id, r.ref, p.idx, p.name, p.phone, p.id_kind, p.id_number
           FROM persons p JOIN reports r ON r.id = p.report_id
           WHERE r.state = 'open' AND r.updated_at >= ?
             AND ((? IS NOT NULL AND p.id_number_key = ?) OR (p.name = ? AND p.phone_key = ?))
           ORDER BY r.id DESC, p.idx""",
        (since.isoformat(), id_key, id_key, person.name, phone_key),
    )
    registered = [Registered(row["id"], row["ref"], row["idx"], PersonRecord(*tuple(row)[3:]))
                  for row in rows]  # fmt: skip
    return identify(person, registered)


async def store(
    conn: aiosqlite.Connection,
    report: ReportRecord,
    *,
    town_code: str,
    local_today: date,
    lookback_since: datetime,
    now: datetime,
    corrects: str | None = None,
) -> StoredReport:
    """Insert the report, or update the same person's open one keeping its history. A person
    listed as a companion elsewhere gets his own report, and that companion entry points to it;
    look-alikes are never merged, only named (``StoredReport.conflicts``). ``corrects``: the
    reference of the reporter's own open report this one corrects, updated whoever it names
    now (raises LookupError when it is not theirs or no longer open)."""
    found = await find_same_person(conn, report.main, lookback_since)
    if corrects is not None:
        return await _correct(conn, corrects, report, found, now)
    if found.own is not None:
        stored = await _update(conn, found.own, report, now)
        return replace(stored, conflicts=found.conflicts)
    ref = await next_ref(conn, town_code, local_today)
    cur = await conn.execute(
        """INSERT INTO reports (ref, draft_token, reporter_user_id, reporter_chat_id, locale,
               relation, village_id, grid_id, address, arrival_date, category, risk, alert,
               measure_kind, measure_start, measure_end, data, unit_id, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (ref, *_columns(cipher_of(conn), report), now.isoformat(), now.isoformat()),
    )
    report_id = cur.lastrowid
    await _insert_people(conn, report_id, report.people)
    await replace_places(conn, report_id, report.data)
    companion = found.companion
    if companion is not None:  # one person, one record: his companion entry points here
        await conn.execute(
            "UPDATE persons SET self_report_id = ? WHERE report_id = ? AND idx = ?",
            (report_id, companion.report_id, companion.idx),
        )
    return StoredReport(id=report_id, ref=ref, updated=False, version=1,
                        companion_of=companion.ref if companion else None,
                        conflicts=found.conflicts)  # fmt: skip


async def _correct(
    conn: aiosqlite.Connection, ref: str, report: ReportRecord, found: Identified, now: datetime
) -> StoredReport:
    """The reporter's correction of his report ``ref``: that report is updated by its
    reference, never by a guess; another open report of the person he names now is only
    named for the worker (never merged)."""
    row = await fetch_one(
        conn,
        """SELECT r.id, r.ref, p.idx, p.name, p.phone, p.id_kind, p.id_number
           FROM reports r JOIN persons p ON p.report_id = r.id AND p.idx = 0
           WHERE r.ref = ? AND r.reporter_user_id = ? AND r.state = 'open'""",
        (ref, report.reporter_user_id),
    )
    if row is None:
        raise LookupError(f"report {ref} is not an open report of its reporter")
    own = Registered(row["id"], row["ref"], row["idx"], PersonRecord(*tuple(row)[3:]))
    elsewhere = [found.own.ref] if found.own else []
    conflicts = tuple(dict.fromkeys(c for c in (*found.conflicts, *elsewhere) if c != ref))
    return replace(await _update(conn, own, report, now), conflicts=conflicts)


def _columns(cipher: Cipher, report: ReportRecord) -> tuple:
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
        cipher.dumps(report.data),
        report.unit_id,
    )


async def _insert_people(
    conn: aiosqlite.Connection,
    report_id: int,
    people: tuple[PersonRecord, ...],
    links: dict[str, int] | None = None,
) -> None:
    """``links``: ID number -> the person's own report, kept across a new version."""
    links, cipher = links or {}, cipher_of(conn)
    await conn.executemany(
        """INSERT INTO persons (report_id, idx, name, phone, id_kind, id_number, self_report_id,
                               phone_key, id_number_key)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [(report_id, i, p.name, cipher.seal(p.phone), p.id_kind, cipher.seal(p.id_number),
          links.get(p.id_number or ""), cipher.blind("phone", p.phone),
          cipher.blind("id", p.id_number)) for i, p in enumerate(people)],
    )  # fmt: skip


async def replace_places(conn: aiosqlite.Connection, report_id: int, data: dict) -> None:
    """The report's origin and travel places (``data`` as answered), where a key-region
    re-screen finds its candidates by province (storage/regions.py)."""
    places = [data.get("origin"), *(data.get("travel") or [])]
    await conn.execute("DELETE FROM report_places WHERE report_id = ?", (report_id,))
    await conn.executemany(
        "INSERT INTO report_places (report_id, province, city, district) VALUES (?, ?, ?, ?)",
        [(report_id, p["province"], p.get("city"), p.get("district"))
         for p in places if p and p.get("province")],
    )  # fmt: skip


async def set_assessments(conn: aiosqlite.Connection, rows: list[dict], now: datetime) -> None:
    """A re-assessed measure for each report of ``rows`` (id, risk, alert, measure_kind,
    measure_start, measure_end, data): a key region listed or changed after it was stored."""
    cipher = cipher_of(conn)
    await conn.executemany(
        """UPDATE reports SET risk = :risk, alert = :alert, measure_kind = :measure_kind,
               measure_start = :measure_start, measure_end = :measure_end, data = :data,
               updated_at = :now
           WHERE id = :id""",
        [
            {**row, "data": cipher.dumps(json.loads(row["data"])), "now": now.isoformat()}
            for row in rows
        ],
    )


async def people(conn: aiosqlite.Connection | Database, report_id: int) -> list[PersonRecord]:
    sql = "SELECT name, phone, id_kind, id_number FROM persons WHERE report_id = ? ORDER BY idx"
    rows = await fetch_all(conn, sql, (report_id,))
    return [PersonRecord(*row) for row in rows]


async def _update(
    conn: aiosqlite.Connection, own: Registered, report: ReportRecord, now: datetime
) -> StoredReport:
    previous = await fetch_one(conn, "SELECT version, data FROM reports WHERE id = ?",
                               (own.report_id,))  # fmt: skip
    old_people = await people(conn, own.report_id)
    cipher = cipher_of(conn)
    await conn.execute(
        """INSERT INTO report_history (report_id, version, data, persons, saved_at)
           VALUES (?, ?, ?, ?, ?)""",
        (
            own.report_id,
            previous["version"],
            cipher.dumps(json.loads(previous["data"])),
            cipher.dumps([asdict(p) for p in old_people]),
            now.isoformat(),
        ),
    )
    version = previous["version"] + 1
    await conn.execute(
        """UPDATE reports SET draft_token = ?, reporter_user_id = ?, reporter_chat_id = ?,
               locale = ?, relation = ?, village_id = ?, grid_id = ?, address = ?,
               arrival_date = ?, category = ?, risk = ?, alert = ?, measure_kind = ?,
               measure_start = ?, measure_end = ?, data = ?, unit_id = ?, version = ?,
               updated_at = ?,
               review = 'pending'
           WHERE id = ?""",
        (*_columns(cipher, report), version, now.isoformat(), own.report_id),
    )
    links = await fetch_all(
        conn,
        """SELECT id_number, self_report_id FROM persons
           WHERE report_id = ? AND self_report_id IS NOT NULL AND id_number IS NOT NULL""",
        (own.report_id,),
    )
    await conn.execute("DELETE FROM persons WHERE report_id = ?", (own.report_id,))
    main = merged(report.main, own.person)
    await _insert_people(conn, own.report_id, (main, *report.people[1:]),
                         {row[0]: row[1] for row in links})  # fmt: skip
    await replace_places(conn, own.report_id, report.data)
    return StoredReport(id=own.report_id, ref=own.ref, updated=True, version=version)


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


async def request_withdraw(
    conn: aiosqlite.Connection, report_id: int, user_id: int, now: datetime
) -> bool:
    """The reporter asks to withdraw his open key-control report (migration 017). False when
    it was not his, not open, or asked already."""
    cur = await conn.execute(
        """UPDATE reports SET withdraw_requested_at = ?
           WHERE id = ? AND reporter_user_id = ? AND state = 'open'
           AND withdraw_requested_at IS NULL""",
        (now.isoformat(), report_id, user_id),
    )
    return cur.rowcount > 0


async def confirm_withdraw(conn: aiosqlite.Connection, report_id: int, now: datetime) -> bool:
    """A worker confirms the withdrawal asked for. False when none was waiting."""
    cur = await conn.execute(
        """UPDATE reports SET state = 'withdrawn', updated_at = ?
           WHERE id = ? AND state = 'open' AND withdraw_requested_at IS NOT NULL""",
        (now.isoformat(), report_id),
    )
    return cur.rowcount > 0


async def refuse_withdraw(conn: aiosqlite.Connection, report_id: int) -> bool:
    """A worker keeps key control: the request is dropped (he may ask again). False when none
    was waiting."""
    cur = await conn.execute(
        """UPDATE reports SET withdraw_requested_at = NULL
           WHERE id = ? AND state = 'open' AND withdraw_requested_at IS NOT NULL""",
        (report_id,),
    )
    return cur.rowcount > 0


async def by_ref(db: Database, ref: str) -> aiosqlite.Row | None:
    return await db.fetchone("SELECT * FROM reports WHERE ref = ?", (ref,))


async def by_id(conn: aiosqlite.Connection | Database, report_id: int) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM reports WHERE id = ?", (report_id,))
