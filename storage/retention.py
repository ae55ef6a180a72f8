"""Retention: what the daily purge reads and writes (bot/actions/retention.py).

Personal fields are purged by NULLing columns, blanking the NOT NULL ones and removing JSON
keys — never by reading them (they may be sealed: the purge does not need the key). Rows
stay, with what the statistics count: dates, village and grid, places, category, risk,
measure, how many people (storage/stats.py reads none of the purged fields)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

import aiosqlite

from bot.domain.retention import COMPANION_KEYS, REPORT_KEYS, TYPED_AUDIT_DETAIL, WAITING, Held
from storage.db import Reader, fetch_all, fetch_one, marks, set_counter

LAST_RUN = "retention:day"  # counters: the local day (ordinal) of the last complete run


async def last_run(conn: Reader) -> date | None:
    row = await fetch_one(conn, "SELECT value FROM counters WHERE scope = ?", (LAST_RUN,))
    return None if row is None else date.fromordinal(row[0])


async def set_last_run(conn: aiosqlite.Connection, day: date) -> None:
    await set_counter(conn, LAST_RUN, day.toordinal())


async def candidates(
    conn: aiosqlite.Connection,
    *,
    withdrawn_before: datetime,
    measure_end_by: date,
    after_id: int,
    limit: int,
) -> list[tuple[int, Held]]:
    """Reports not purged yet that may be due (withdrawn long enough ago, or whose measure
    ended by ``measure_end_by``), in id order after ``after_id``, with what holds them. A
    companion's monitoring stopped because his own report watches him (``covered_by``)
    still holds while that one is active: it resumes if his own is shortened."""
    rows = await fetch_all(
        conn,
        """SELECT r.id, r.updated_at, r.measure_end,
                  CASE WHEN r.state = 'withdrawn' THEN r.updated_at END AS withdrawn_at,
                  (SELECT json_group_array(
                              CASE WHEN m.state = 'active' OR EXISTS (
                                       SELECT 1 FROM monitoring c
                                       WHERE c.report_id = m.covered_by AND c.state = 'active')
                                   THEN NULL ELSE m.updated_at END)
                   FROM monitoring m WHERE m.report_id = r.id) AS monitoring,
                  EXISTS (SELECT 1 FROM cases c
                          WHERE c.report_id = r.id AND c.state != 'closed') AS open_case,
                  coalesce(r.certificate = 'pending', 0) AS pending_certificate
           FROM reports r
           WHERE r.purged_at IS NULL AND r.id > ?
             AND ((r.state = 'withdrawn' AND r.updated_at <= ?) OR r.measure_end <= ?)
           ORDER BY r.id LIMIT ?""",
        (after_id, withdrawn_before.isoformat(), measure_end_by.isoformat(), limit),
    )
    return [(row["id"], _held(row)) for row in rows]


def _held(row: aiosqlite.Row) -> Held:
    ended = [datetime.fromisoformat(v) if v else None for v in json.loads(row["monitoring"])]
    withdrawn = row["withdrawn_at"]
    return Held(
        withdrawn_at=datetime.fromisoformat(withdrawn) if withdrawn else None,
        measure_end=date.fromisoformat(row["measure_end"]),
        monitoring=tuple(ended),
        open_case=bool(row["open_case"]),
        pending_certificate=bool(row["pending_certificate"]),
    )


def _removed(column: str, keys: Sequence[str]) -> str:
    """SQL: the JSON of ``column`` without ``keys``, and each of its ``people`` without
    theirs."""
    paths = ", ".join(f"'$.{k}'" for k in keys)
    people = ", ".join(f"'$.{k}'" for k in COMPANION_KEYS)
    return f"""CASE WHEN json_type({column}, '$.people') = 'array'
                    THEN json_set(json_remove({column}, {paths}), '$.people',
                                  (SELECT json_group_array(json(json_remove(p.value, {people})))
                                   FROM json_each({column}, '$.people') p))
                    ELSE json_remove({column}, {paths}) END"""


def _without_people(column: str) -> str:
    """SQL: a JSON list of persons without their personal fields."""
    people = ", ".join(f"'$.{k}'" for k in COMPANION_KEYS)
    return f"""(SELECT json_group_array(json(json_remove(p.value, {people})))
                FROM json_each({column}) p)"""


# The personal fields of a case (the NOT NULL ones blanked); kind, place, dates stay.
_CASE_PURGE = """UPDATE cases SET person_name = '', person_phone = NULL,
                     person_id_number = NULL, address = '', latitude = NULL, longitude = NULL"""


async def purge_reports(conn: aiosqlite.Connection, ids: Sequence[int], now: datetime) -> int:
    """Purge the personal data of reports ``ids`` (inside the caller's transaction) and of
    what hangs on them: their people, earlier versions, messages sent about them, their
    escalations' names, closed cases of their people, typed notes. Returns the number of
    people purged. ``updated_at`` is left alone: the statistics date versions by it."""
    if not ids:
        return 0
    ids = list(ids)
    among = marks(len(ids))
    await _subjects(
        conn,
        f"""SELECT 'report:' || id FROM reports WHERE id IN ({among})
            UNION SELECT 'withdraw:' || id FROM reports WHERE id IN ({among})
            UNION SELECT 'certificate:' || id FROM reports WHERE id IN ({among})
            UNION SELECT 'monitoring:' || id FROM monitoring WHERE report_id IN ({among})
            UNION SELECT 'case:' || id FROM cases
                  WHERE report_id IN ({among}) AND state = 'closed'""",
        ids * 5,
    )
    people = await conn.execute(
        f"""UPDATE persons SET name = '', phone = NULL, id_number = NULL, phone_key = NULL,
                id_number_key = NULL
            WHERE report_id IN ({among})""",
        ids,
    )
    await conn.execute(
        f"""UPDATE reports SET address = '', certificate_photo = NULL,
                data = {_removed("data", REPORT_KEYS)}, purged_at = ?
            WHERE id IN ({among})""",
        [now.isoformat(), *ids],
    )
    await conn.execute(
        f"""UPDATE report_history SET data = {_removed("data", REPORT_KEYS)},
                persons = {_without_people("persons")}
            WHERE report_id IN ({among})""",
        ids,
    )
    await conn.execute(f"UPDATE monitoring SET note = NULL WHERE report_id IN ({among})", ids)
    await conn.execute(f"UPDATE verifications SET note = NULL WHERE report_id IN ({among})", ids)
    await conn.execute(f"{_CASE_PURGE} WHERE report_id IN ({among}) AND state = 'closed'", ids)
    await _purge_about(conn)
    return people.rowcount


async def _subjects(conn: aiosqlite.Connection, select: str, params: Sequence[object]) -> None:
    """The subjects (``report:1``, ``monitoring:3``, ``tip:7``, ...) being purged — those
    ``select`` gives and the escalations under them — in a temporary table the statements
    about messages, escalations and the audit join."""
    await conn.execute("CREATE TEMP TABLE IF NOT EXISTS purged_subjects (subject TEXT PRIMARY KEY)")
    await conn.execute("DELETE FROM temp.purged_subjects")
    await conn.execute(f"INSERT OR IGNORE INTO temp.purged_subjects (subject) {select}", params)
    await conn.execute(
        """INSERT OR IGNORE INTO temp.purged_subjects (subject)
           SELECT e.subject FROM escalations e
           WHERE e.parent IN (SELECT subject FROM temp.purged_subjects)"""
    )


async def _purge_about(conn: aiosqlite.Connection) -> None:
    """Messages sent about the purged subjects lose their text (a queued one still goes);
    escalations their names; typed audit details go."""
    about = "IN (SELECT subject FROM temp.purged_subjects)"
    await conn.execute(
        f"""UPDATE outbox SET text = '', reply_markup = NULL, fallback = NULL, photo = NULL
            WHERE subject {about} AND state NOT IN ({marks(len(WAITING))})""",
        WAITING,
    )
    await conn.execute(
        f"""UPDATE escalations SET detail = json_remove(detail, '$.name', '$.phone')
            WHERE subject {about}"""
    )
    await conn.execute(
        f"UPDATE escalation_queue SET text = NULL WHERE subject {about} AND sent_at IS NOT NULL"
    )
    await conn.execute(
        f"""UPDATE audit SET detail = NULL
            WHERE subject {about} AND action IN ({marks(len(TYPED_AUDIT_DETAIL))})""",
        TYPED_AUDIT_DETAIL,
    )


async def closed_tips(conn: aiosqlite.Connection) -> list[tuple[int, str, str | None]]:
    """Closed tips that still know their tipster: (id, state, the closing message's outbox
    state or None)."""
    rows = await fetch_all(
        conn,
        """SELECT t.id, t.state,
                  (SELECT o.state FROM outbox o WHERE o.dedup_key = 'tip:' || t.id || ':closed')
           FROM tips t WHERE t.state = 'closed' AND t.tipster_user_id != 0""",
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def forget_tipsters(conn: aiosqlite.Connection, ids: Sequence[int]) -> int:
    """The tips ``ids`` lose their tipster (0: nobody; the columns are NOT NULL), and the
    closing message sent to them its chat and text."""
    if not ids:
        return 0
    among = marks(len(ids))
    cur = await conn.execute(
        f"UPDATE tips SET tipster_user_id = 0, tipster_chat_id = 0 WHERE id IN ({among})",
        list(ids),
    )
    await conn.execute(
        f"""UPDATE outbox SET chat_id = 0, text = ''
            WHERE dedup_key IN ({among}) AND state NOT IN ({marks(len(WAITING))})""",
        [*(f"tip:{i}:closed" for i in ids), *WAITING],
    )
    return cur.rowcount


async def closed(
    conn: aiosqlite.Connection, table: str, closed_before: datetime
) -> list[tuple[int, str, datetime | None]]:
    """Tips (``table`` "tips") or cases with no report ("cases") closed by ``closed_before``
    and not purged yet: (id, state, when closed)."""
    when, scope = _CLOSED[table]
    rows = await fetch_all(
        conn,
        f"""SELECT id, state, {when} FROM {table}
            WHERE purged_at IS NULL AND state = 'closed' AND {when} <= ?{scope}""",
        (closed_before.isoformat(),),
    )
    return [(row[0], row[1], datetime.fromisoformat(row[2]) if row[2] else None) for row in rows]


# Per table: the column saying when it was closed, and which rows this purge owns (a case of
# a report goes with its report, purge_reports).
_CLOSED = {"tips": ("handled_at", ""), "cases": ("confirmed_at", " AND report_id IS NULL")}


async def purge_tips(conn: aiosqlite.Connection, ids: Sequence[int], now: datetime) -> int:
    """Closed tips ``ids`` lose whom and where they named — the person tipped about, their
    phone, the address, description, photo and pin — and the notes typed while checking
    them, the messages sent about them, their escalations' names. Kind, village, grid, dates
    and outcome stay (storage/stats.py counts them)."""
    if not ids:
        return 0
    ids, among = list(ids), marks(len(ids))
    await _subjects(conn, f"SELECT 'tip:' || id FROM tips WHERE id IN ({among})", ids)
    cur = await conn.execute(
        f"""UPDATE tips SET person_name = NULL, person_phone = NULL, description = NULL,
                address = NULL, latitude = NULL, longitude = NULL, photo_file_id = NULL,
                purged_at = ?
            WHERE id IN ({among})""",
        [now.isoformat(), *ids],
    )
    await conn.execute(f"UPDATE tip_actions SET note = NULL WHERE tip_id IN ({among})", ids)
    await _purge_about(conn)
    return cur.rowcount


async def purge_cases(conn: aiosqlite.Connection, ids: Sequence[int], now: datetime) -> int:
    """Closed cases ``ids`` with no report lose their person's name, phone, ID number,
    address and pin, and the messages sent about them."""
    if not ids:
        return 0
    ids, among = list(ids), marks(len(ids))
    await _subjects(conn, f"SELECT 'case:' || id FROM cases WHERE id IN ({among})", ids)
    cur = await conn.execute(
        f"{_CASE_PURGE}, purged_at = ? WHERE id IN ({among})", [now.isoformat(), *ids]
    )
    await _purge_about(conn)
    return cur.rowcount
