"""A case's close and secondary contacts (密切接触者、次密接): one row per person, one exposure
per case, and the counts of the chain behind them (isolated, tested, waiting for transfer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from bot.domain.contacts import CONTACT, PERSON, Chain, Held, Known
from bot.domain.records import PersonRecord
from storage.db import Reader, cipher_of, fetch_all, fetch_one, next_in_sequence
from storage.outbox import iso


async def next_ref(conn: aiosqlite.Connection, code: str, day: date) -> str:
    """``XF-MJ-20201120-0001``: the town's code, MJ (密接), the local date, a per-day sequence."""
    stamp = day.strftime("%Y%m%d")
    value = await next_in_sequence(conn, f"contact:{stamp}")
    return f"{code}-MJ-{stamp}-{value:04d}"


@dataclass(frozen=True)
class NewRow:
    """A contact's row as first stored."""

    ref: str
    person: PersonRecord
    address: str
    village_id: str
    grid_id: str
    kind: str
    last_exposure: date
    measure: Held
    report_id: int | None = None
    person_idx: int | None = None
    chat_id: int | None = None
    locale: str | None = None


async def create(conn: aiosqlite.Connection, row: NewRow, now: datetime) -> int:
    cipher = cipher_of(conn)
    person = row.person
    cur = await conn.execute(
        """INSERT INTO contacts (ref, name, phone, phone_key, id_kind, id_number, id_number_key,
               address, village_id, grid_id, kind, last_exposure, report_id, person_idx,
               chat_id, locale, measure_kind, measure_start, measure_end, created_at,
               updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (row.ref, person.name, cipher.seal(person.phone), cipher.blind("phone", person.phone),
         person.id_kind, cipher.seal(person.id_number), cipher.blind("id", person.id_number),
         row.address, row.village_id, row.grid_id, row.kind, row.last_exposure.isoformat(),
         row.report_id, row.person_idx, row.chat_id, row.locale, row.measure.kind,
         row.measure.start.isoformat(), row.measure.end.isoformat(), iso(now), iso(now)),
    )  # fmt: skip
    return cur.lastrowid


async def update_exposure(
    conn: aiosqlite.Connection, contact_id: int, kind: str, last: date, measure: Held,
    now: datetime, state: str | None = None,
) -> None:  # fmt: skip
    """A contact exposed again: kind, exposure, measure; ``state`` too when given (a released
    contact traced anew)."""
    await conn.execute(
        """UPDATE contacts SET kind = ?, last_exposure = ?, measure_kind = ?, measure_start = ?,
               measure_end = ?, state = coalesce(?, state), updated_at = ? WHERE id = ?""",
        (kind, last.isoformat(), measure.kind, measure.start.isoformat(),
         measure.end.isoformat(), state, iso(now), contact_id),
    )  # fmt: skip


def held(row: aiosqlite.Row) -> Held:
    """The measure a contact's (or an arrival report's) row holds."""
    return Held(row["measure_kind"], date.fromisoformat(row["measure_start"]),
                date.fromisoformat(row["measure_end"]))  # fmt: skip


async def get(conn: Reader, contact_id: int) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM contacts WHERE id = ?", (contact_id,))


async def by_ref(conn: Reader, ref: str) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM contacts WHERE ref = ?", (ref,))


async def by_person(conn: Reader, report_id: int, idx: int) -> aiosqlite.Row | None:
    """The contact an arrival report's person already is, if any."""
    return await fetch_one(
        conn, "SELECT * FROM contacts WHERE report_id = ? AND person_idx = ?", (report_id, idx)
    )


async def report_person(conn: Reader, report_id: int, idx: int) -> aiosqlite.Row | None:
    """An arrival report's person with the report's place, measure and chat."""
    return await fetch_one(
        conn,
        """SELECT r.id AS report_id, r.ref, r.village_id, r.grid_id, r.address, r.measure_kind,
               r.measure_start, r.measure_end, r.reporter_chat_id, r.locale, p.idx, p.name,
               p.phone, p.id_kind, p.id_number
           FROM reports r JOIN persons p ON p.report_id = r.id AND p.idx = ?
           WHERE r.id = ? AND r.state = 'open'""",
        (idx, report_id),
    )


async def report_people(conn: Reader, ref: str) -> list[aiosqlite.Row]:
    """The people of the open arrival report ``ref``, the reporter first."""
    return await fetch_all(
        conn,
        """SELECT r.id AS report_id, r.grid_id, p.idx, p.name FROM reports r
           JOIN persons p ON p.report_id = r.id WHERE r.ref = ? AND r.state = 'open'
           ORDER BY p.idx""",
        (ref,),
    )


async def known(conn: Reader, person: PersonRecord) -> list[Known]:
    """Everyone on record who may be ``person``: contacts and people of open arrival reports
    sharing the ID number, or the name and phone (by their blind indexes)."""
    cipher = cipher_of(conn)
    id_key, phone_key = cipher.blind("id", person.id_number), cipher.blind("phone", person.phone)
    where = "(? IS NOT NULL AND {t}.id_number_key = ?) OR ({t}.name = ? AND {t}.phone_key = ?)"
    params = (id_key, id_key, person.name, phone_key)
    contacts = await fetch_all(
        conn,
        f"SELECT id, name, phone, id_kind, id_number FROM contacts c "
        f"WHERE {where.format(t='c')} ORDER BY id",
        params,
    )
    persons = await fetch_all(
        conn,
        f"""SELECT r.id, p.idx, p.name, p.phone, p.id_kind, p.id_number
            FROM persons p JOIN reports r ON r.id = p.report_id
            WHERE r.state = 'open' AND ({where.format(t="p")}) ORDER BY r.id DESC, p.idx""",
        params,
    )
    return [
        *(Known(CONTACT, r["id"], PersonRecord(*tuple(r)[1:])) for r in contacts),
        *(Known(PERSON, r["id"], PersonRecord(*tuple(r)[2:]), r["idx"]) for r in persons),
    ]


async def exposure(conn: Reader, case_id: int, contact_id: int) -> aiosqlite.Row | None:
    return await fetch_one(
        conn, "SELECT * FROM case_contacts WHERE case_id = ? AND contact_id = ?",
        (case_id, contact_id),
    )  # fmt: skip


@dataclass(frozen=True)
class Exposure:
    case_id: int
    contact_id: int
    kind: str
    last_exposure: date
    exposure: str | None
    note: str | None
    source: str
    added_by: int


async def expose(conn: aiosqlite.Connection, e: Exposure, now: datetime) -> None:
    """Record (or, listed again for the same case, bring up to date) one exposure."""
    await conn.execute(
        """INSERT INTO case_contacts (case_id, contact_id, kind, last_exposure, exposure, note,
               source, added_by, added_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (case_id, contact_id) DO UPDATE SET kind = excluded.kind,
               last_exposure = excluded.last_exposure,
               exposure = coalesce(excluded.exposure, exposure),
               note = coalesce(excluded.note, note)""",
        (e.case_id, e.contact_id, e.kind, e.last_exposure.isoformat(), e.exposure, e.note,
         e.source, e.added_by, iso(now)),
    )  # fmt: skip


async def of_case(conn: Reader, case_id: int) -> list[aiosqlite.Row]:
    """A case's contacts in the order they were added."""
    return await fetch_all(
        conn,
        """SELECT c.*, cc.kind AS exposure_kind, cc.last_exposure AS exposed_on, cc.exposure,
               cc.note, cc.source, cc.added_at
           FROM case_contacts cc JOIN contacts c ON c.id = cc.contact_id
           WHERE cc.case_id = ? ORDER BY cc.added_at, c.id""",
        (case_id,),
    )


# A contact's stays: as a contact, or as the arrival's person the contact was linked to.
_CHAIN = """
WITH mine AS (SELECT c.id, c.report_id, c.person_idx, c.state, c.measure_kind
              FROM case_contacts cc JOIN contacts c ON c.id = cc.contact_id
              WHERE cc.case_id = ?),
     st AS (SELECT m.id AS contact, s.id AS stay, s.arrived_at, s.state FROM mine m
            JOIN stays s ON s.contact_id = m.id
               OR (m.report_id IS NOT NULL AND s.report_id = m.report_id
                   AND s.person_idx = m.person_idx))
SELECT (SELECT count(*) FROM mine) AS traced,
       (SELECT count(*) FROM mine m WHERE m.state = 'traced'
          AND m.measure_kind = 'centralized_isolation'
          AND NOT EXISTS (SELECT 1 FROM st WHERE st.contact = m.id
                          AND st.state IN ('assigned', 'in'))) AS unplaced,
       (SELECT count(DISTINCT contact) FROM st WHERE arrived_at IS NOT NULL) AS isolated,
       (SELECT count(DISTINCT contact) FROM st JOIN stay_tests t ON t.stay_id = st.stay
         WHERE t.sampled_at IS NOT NULL OR t.result IS NOT NULL) AS tested,
       (SELECT count(DISTINCT contact) FROM st JOIN transfer_people tp ON tp.stay_id = st.stay
          JOIN transfers tr ON tr.id = tp.transfer_id
         WHERE tr.state IN ('requested', 'dispatched', 'acknowledged', 'picked_up'))
         AS transfer
"""


async def chain(conn: Reader, case_id: int) -> Chain:
    """How far the case's contacts are along the chain: traced, isolated (arrived at a site),
    tested (sampled at least once), waiting for a transfer still under way, and traced for
    centralised isolation with no room yet (nobody has acted on them)."""
    row = await fetch_one(conn, _CHAIN, (case_id,))
    return Chain(row["traced"], row["isolated"], row["tested"], row["transfer"],
                 row["unplaced"])  # fmt: skip


async def mark_traced(conn: aiosqlite.Connection, case_id: int, user_id: int, name: str,
                      now: datetime) -> bool:  # fmt: skip
    """Staff answered for the case's contact list being complete; False when it was already
    marked."""
    cur = await conn.execute(
        """UPDATE cases SET traced_at = ?, traced_by = ?, traced_name = ?
           WHERE id = ? AND traced_at IS NULL""",
        (iso(now), user_id, name, case_id),
    )
    return cur.rowcount > 0


async def trace_waiting(conn: Reader, case_id: int) -> bool:
    """Is the case's contact tracing still owed? Not once marked complete, nor for a case
    ruled out (closed)."""
    row = await fetch_one(
        conn, "SELECT 1 FROM cases WHERE id = ? AND traced_at IS NULL AND state != 'closed'",
        (case_id,),
    )  # fmt: skip
    return row is not None
