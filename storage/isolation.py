"""Stays at isolation sites: assigning a room, the arrival (入住), occupancy per site, days of
isolation and the tests due: SQL only."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from bot.domain.isolation import ACTIVE, ARRIVAL, CASE, CONTACT, Period, SiteLoad
from storage.db import Reader, fetch_all, fetch_one, marks
from storage.outbox import iso

_ACTIVE = f"state IN {ACTIVE!r}"  # ('assigned', 'in'): a stay holding its room
# the stay's person, whichever of the three it is for
_STAY = """SELECT s.*, si.name AS site_name,
                  COALESCE(c.ref, r.ref, k.ref) AS ref,
                  COALESCE(c.name, p.name, k.person_name) AS name,
                  COALESCE(c.phone, p.phone, k.person_phone) AS phone,
                  COALESCE(c.id_number, p.id_number, k.person_id_number) AS id_number,
                  COALESCE(c.village_id, r.village_id, k.village_id) AS village_id,
                  COALESCE(c.grid_id, r.grid_id, k.grid_id) AS grid_id,
                  COALESCE(c.address, r.address, k.address) AS address
           FROM stays s JOIN sites si ON si.id = s.site_id
           LEFT JOIN contacts c ON c.id = s.contact_id
           LEFT JOIN reports r ON r.id = s.report_id
           LEFT JOIN persons p ON p.report_id = s.report_id AND p.idx = s.person_idx
           LEFT JOIN cases k ON k.id = s.case_id"""


@dataclass(frozen=True)
class Person:
    """Whom a stay is for: exactly one of a contact, an arrival report's person, a case."""

    kind: str  # CONTACT | ARRIVAL | CASE
    id: int  # contacts.id, reports.id or cases.id
    idx: int | None = None  # the report's person (0 main, then companions)

    def columns(self) -> tuple[int | None, int | None, int | None, int | None]:
        """(contact_id, report_id, person_idx, case_id)"""
        return (
            self.id if self.kind == CONTACT else None,
            self.id if self.kind == ARRIVAL else None,
            self.idx if self.kind == ARRIVAL else None,
            self.id if self.kind == CASE else None,
        )


def _whose(person: Person) -> tuple[str, tuple]:
    """SQL: the stay ``s`` is the person's — under either of their keys: a contact linked to
    an arrival report (``contacts.report_id``/``person_idx``) is one person with the report's
    person, whichever of the two a stay was made for."""
    if person.kind == ARRIVAL:
        return (
            """((s.report_id = ? AND s.person_idx = ?)
                OR s.contact_id IN (SELECT id FROM contacts
                                    WHERE report_id = ? AND person_idx = ?))""",
            (person.id, person.idx, person.id, person.idx),
        )
    if person.kind == CONTACT:
        return (
            """(s.contact_id = ?
                OR EXISTS (SELECT 1 FROM contacts c2 WHERE c2.id = ?
                           AND c2.report_id = s.report_id AND c2.person_idx = s.person_idx))""",
            (person.id, person.id),
        )
    return "s.case_id = ?", (person.id,)


# --- who -----------------------------------------------------------------------------------


async def active_of(conn: Reader, person: Person) -> aiosqlite.Row | None:
    """The person's stay holding a room, if any, under either of their keys (``_whose``)."""
    where, params = _whose(person)
    return await fetch_one(conn, f"{_STAY} WHERE s.{_ACTIVE} AND {where}", params)


async def set_period(conn: aiosqlite.Connection, stay_id: int, start: date, end: date,
                     test_days: tuple[int, ...]) -> None:  # fmt: skip
    """A stay's period changed (its person exposed again): new dates and test days, the
    generation bumped so the old period's timers come to nothing."""
    await conn.execute(
        "UPDATE stays SET start_date = ?, end_date = ?, test_days = ?, gen = gen + 1 WHERE id = ?",
        (start.isoformat(), end.isoformat(), json.dumps(list(test_days)), stay_id),
    )


# --- sites and rooms -------------------------------------------------------------------------


async def occupancy(conn: Reader) -> tuple[SiteLoad, ...]:
    """Every site not closed with the people holding its rooms, in the config's order (sites
    added in chat after): one grouped read over the ``stays_site`` index."""
    rows = await fetch_all(
        conn,
        f"""SELECT s.rowid AS position, s.id, s.name, s.state, s.capacity, s.village_id,
                   s.latitude, s.longitude,
                   TOTAL(st.state = 'in') AS arrived, TOTAL(st.state = 'assigned') AS expected
            FROM sites s
            LEFT JOIN stays st ON st.site_id = s.id AND st.{_ACTIVE}
            WHERE s.state != 'closed'
            GROUP BY s.id ORDER BY s.rowid""",
    )
    return tuple(
        SiteLoad(r["id"], r["name"], r["state"], r["capacity"], int(r["arrived"]),
                 int(r["expected"]), r["village_id"], r["latitude"], r["longitude"],
                 r["position"])
        for r in rows
    )  # fmt: skip


# --- stays -----------------------------------------------------------------------------------


async def assign(
    conn: aiosqlite.Connection, person: Person, site_id: str, room: str, period: Period,
    measure_kind: str, by: int, now: datetime,
) -> int | None:  # fmt: skip
    """A new stay holding ``room``; None when the room is held already (the partial unique
    index ``stays_room_taken`` decides a race the caller's check did not see)."""
    try:
        cur = await conn.execute(
            """INSERT INTO stays (site_id, room, contact_id, report_id, person_idx, case_id,
                   measure_kind, start_date, end_date, test_days, assigned_by, assigned_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (site_id, room, *person.columns(), measure_kind, period.start.isoformat(),
             period.end.isoformat(), json.dumps(list(period.test_days)), by, iso(now)),
        )  # fmt: skip
    except sqlite3.IntegrityError as exc:
        if "stays.site_id, stays.room" in str(exc):
            return None
        raise
    return cur.lastrowid


async def get(conn: Reader, stay_id: int) -> aiosqlite.Row | None:
    """A stay with its site and its person (name, phone, ID, home grid, reference)."""
    return await fetch_one(conn, f"{_STAY} WHERE s.id = ?", (stay_id,))


async def arrive(conn: aiosqlite.Connection, stay_id: int, by: int, now: datetime) -> bool:
    """入住: an assigned stay's person is at the site (False: not assigned any more)."""
    cur = await conn.execute(
        """UPDATE stays SET state = 'in', arrived_by = ?, arrived_at = ?
           WHERE id = ? AND state = 'assigned'""",
        (by, iso(now), stay_id),
    )
    return cur.rowcount == 1


async def mark_isolating(conn: aiosqlite.Connection, person: Person, now: datetime) -> None:
    """The person, as a traced contact (or the arrival's person a contact was linked to), is
    in isolation now; not again after a release or a case."""
    if person.kind == CASE:
        return
    where = "id = ?" if person.kind == CONTACT else "report_id = ? AND person_idx = ?"
    params = (person.id,) if person.kind == CONTACT else (person.id, person.idx)
    await conn.execute(
        f"""UPDATE contacts SET state = 'isolating', updated_at = ?
            WHERE {where} AND state = 'traced'""",
        (iso(now), *params),
    )


async def cases_of(conn: Reader, stay_id: int) -> list[int]:
    """The cases whose chain the stay's person is in: their own case, or the cases they are
    a contact of (as a contact, or as the arrival's person a contact was linked to)."""
    rows = await fetch_all(
        conn,
        """SELECT case_id FROM stays WHERE id = :stay AND case_id IS NOT NULL
           UNION
           SELECT cc.case_id FROM stays s
             JOIN contacts c ON c.id = s.contact_id
                 OR (s.report_id IS NOT NULL AND c.report_id = s.report_id
                     AND c.person_idx = s.person_idx)
             JOIN case_contacts cc ON cc.contact_id = c.id
           WHERE s.id = :stay ORDER BY 1""",
        {"stay": stay_id},
    )
    return [r["case_id"] for r in rows]


async def open_transfer(conn: Reader, stay_id: int) -> str | None:
    """The reference of a transfer of the stay not delivered or cancelled, if any."""
    row = await fetch_one(
        conn,
        """SELECT t.ref FROM transfer_people tp JOIN transfers t ON t.id = tp.transfer_id
           WHERE tp.stay_id = ? AND t.state NOT IN ('delivered', 'cancelled')""",
        (stay_id,),
    )
    return row["ref"] if row else None


# --- /isolation --------------------------------------------------------------------------


async def starts(conn: Reader, site_ids: Sequence[str] | None = None) -> list[tuple[date, int]]:
    """People holding a room per first day of their period (the day histogram's input), at
    every site or at ``site_ids``."""
    only = f"AND site_id IN ({marks(len(site_ids))})" if site_ids is not None else ""
    rows = await fetch_all(
        conn,
        f"""SELECT start_date, COUNT(*) AS n FROM stays WHERE {_ACTIVE} {only}
            GROUP BY start_date""",
        tuple(site_ids or ()),
    )
    return [(date.fromisoformat(r["start_date"]), r["n"]) for r in rows]


async def tests_due(conn: Reader, day: date) -> dict[str, tuple[int, int]]:
    """Per site: the tests scheduled on ``day`` for people holding a room, and how many of
    them were sampled already."""
    rows = await fetch_all(
        conn,
        f"""SELECT s.site_id, COUNT(*) AS due, COUNT(t.sampled_at) AS sampled
            FROM stay_tests t JOIN stays s ON s.id = t.stay_id
            WHERE t.test_date = ? AND s.{_ACTIVE} GROUP BY s.site_id""",
        (day.isoformat(),),
    )
    return {r["site_id"]: (r["due"], r["sampled"]) for r in rows}
