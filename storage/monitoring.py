"""Health monitoring rows, their check-ins and nucleic-acid samples (SQL only).

Every function takes the caller's connection: monitoring changes are written in the same
transaction as the timers and the outbox rows they cause."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from storage.db import Database, fetch_all, fetch_one, marks, value_rows
from storage.outbox import iso

Conn = aiosqlite.Connection | Database


@dataclass(frozen=True)
class Monitoring:
    id: int
    report_id: int
    person_idx: int
    chat_id: int
    locale: str
    grid_id: str
    kind: str
    start_date: date
    end_date: date
    test_dates: tuple[date, ...]
    state: str
    missed_in_row: int
    gen: int
    note: str | None
    ref: str  # the report's reference number
    village_id: str
    name: str  # the person's name (full: mask it before it leaves a private chat)
    phone: str | None
    covered_by: int | None = None  # stopped: his own report (this id) watches him as closely

    @property
    def subject(self) -> str:
        return f"monitoring:{self.id}"


@dataclass(frozen=True)
class Checkin:
    id: int
    monitoring_id: int
    slot_at: datetime
    answered_at: datetime | None
    temperature: float | None
    symptoms: list[str] | None
    state: str


_SELECT = """SELECT m.*, r.ref AS ref, r.village_id AS village_id, p.name AS name,
                    p.phone AS phone
             FROM monitoring m JOIN reports r ON r.id = m.report_id
             LEFT JOIN persons p ON p.report_id = m.report_id AND p.idx = m.person_idx"""


def _monitoring(row: aiosqlite.Row) -> Monitoring:
    return Monitoring(
        id=row["id"],
        report_id=row["report_id"],
        person_idx=row["person_idx"],
        chat_id=row["chat_id"],
        locale=row["locale"],
        grid_id=row["grid_id"],
        kind=row["kind"],
        start_date=date.fromisoformat(row["start_date"]),
        end_date=date.fromisoformat(row["end_date"]),
        test_dates=tuple(date.fromisoformat(d) for d in json.loads(row["test_dates"])),
        state=row["state"],
        missed_in_row=row["missed_in_row"],
        gen=row["gen"],
        note=row["note"],
        ref=row["ref"],
        village_id=row["village_id"],
        name=row["name"] or "",
        phone=row["phone"],
        covered_by=row["covered_by"],
    )


def _checkin(row: aiosqlite.Row) -> Checkin:
    return Checkin(
        id=row["id"],
        monitoring_id=row["monitoring_id"],
        slot_at=datetime.fromisoformat(row["slot_at"]),
        answered_at=datetime.fromisoformat(row["answered_at"]) if row["answered_at"] else None,
        temperature=row["temperature"],
        symptoms=json.loads(row["symptoms"]) if row["symptoms"] is not None else None,
        state=row["state"],
    )


@dataclass(frozen=True)
class OwnPlan:
    """A companion's own report (persons.self_report_id, migration 015) and its active
    monitoring of him: kind and last day."""

    report_id: int
    kind: str
    end: date


@dataclass(frozen=True)
class ReportOutline:
    """What a report's monitorings are made from: who reported it, where, for whom."""

    chat_id: int  # the reporter's: the check-ins go there
    locale: str
    grid_id: str
    people: tuple[int, ...]  # the persons' idx
    own: dict[int, OwnPlan]  # by idx: companions monitored under their own report


# --- monitoring -------------------------------------------------------------------------


async def report_outline(conn: Conn, report_id: int) -> ReportOutline | None:
    row = await fetch_one(
        conn, "SELECT reporter_chat_id, locale, grid_id FROM reports WHERE id = ?", (report_id,)
    )
    if row is None:
        return None
    people = await fetch_all(
        conn,
        """SELECT p.idx, own.report_id AS own_report, own.kind, own.end_date FROM persons p
           LEFT JOIN monitoring own ON own.report_id = p.self_report_id
                AND own.person_idx = 0 AND own.state = 'active'
           WHERE p.report_id = ? ORDER BY p.idx""",
        (report_id,),
    )
    own = {p["idx"]: OwnPlan(p["own_report"], p["kind"], date.fromisoformat(p["end_date"]))
           for p in people if p["own_report"] is not None}  # fmt: skip
    return ReportOutline(row["reporter_chat_id"], row["locale"], row["grid_id"],
                         tuple(p["idx"] for p in people), own)  # fmt: skip


async def companion_entries(conn: Conn, report_id: int) -> list[Monitoring]:
    """The monitorings of companion entries, in other open reports, whose person is the main
    person of ``report_id``: active, or stopped while that report watched him."""
    rows = await fetch_all(
        conn,
        f"""{_SELECT} WHERE p.self_report_id = ? AND r.state = 'open'
            AND (m.state = 'active' OR (m.state = 'stopped' AND m.covered_by = ?))
            ORDER BY m.id""",
        (report_id, report_id),
    )
    return [_monitoring(r) for r in rows]


async def cover(
    conn: aiosqlite.Connection, monitoring_id: int, report_id: int, now: datetime
) -> bool:
    """active -> stopped, his own report ``report_id`` watching him instead. False when it
    was no longer active."""
    cur = await conn.execute(
        """UPDATE monitoring SET state = 'stopped', covered_by = ?, updated_at = ?
           WHERE id = ? AND state = 'active'""",
        (report_id, iso(now), monitoring_id),
    )
    return cur.rowcount > 0


async def get(conn: Conn, monitoring_id: int) -> Monitoring | None:
    row = await fetch_one(conn, f"{_SELECT} WHERE m.id = ?", (monitoring_id,))
    return _monitoring(row) if row else None


async def get_many(conn: Conn, monitoring_ids: Sequence[int]) -> dict[int, Monitoring]:
    """The monitorings of ``monitoring_ids`` (those that exist), by id: one query."""
    rows = await fetch_all(
        conn, f"{_SELECT} WHERE m.id IN ({marks(len(monitoring_ids))})", tuple(monitoring_ids)
    )
    return {row["id"]: _monitoring(row) for row in rows}


async def of_report(conn: Conn, report_id: int) -> list[Monitoring]:
    rows = await fetch_all(conn, f"{_SELECT} WHERE m.report_id = ? ORDER BY m.person_idx",
                              (report_id,))  # fmt: skip
    return [_monitoring(r) for r in rows]


async def by_ref(conn: Conn, ref: str) -> list[Monitoring]:
    rows = await fetch_all(conn, f"{_SELECT} WHERE r.ref = ? ORDER BY m.person_idx", (ref,))
    return [_monitoring(r) for r in rows]


async def active_for_chat(conn: Conn, chat_id: int) -> list[Monitoring]:
    rows = await fetch_all(
        conn, f"{_SELECT} WHERE m.chat_id = ? AND m.state = 'active' ORDER BY m.id", (chat_id,)
    )
    return [_monitoring(r) for r in rows]


async def active_in_grids(conn: Conn, grids: tuple[str, ...], limit: int = 50) -> list[Monitoring]:
    if not grids:
        return []
    rows = await fetch_all(
        conn,
        f"""{_SELECT} WHERE m.grid_id IN ({marks(len(grids))}) AND m.state = 'active'
            ORDER BY m.missed_in_row DESC, m.end_date, m.id LIMIT ?""",
        (*grids, limit),
    )
    return [_monitoring(r) for r in rows]


async def insert(
    conn: aiosqlite.Connection, *, report_id: int, person_idx: int, chat_id: int, locale: str,
    grid_id: str, kind: str, start: date, end: date, test_dates: tuple[date, ...], now: datetime,
) -> int:  # fmt: skip
    cur = await conn.execute(
        """INSERT INTO monitoring (report_id, person_idx, chat_id, locale, grid_id, kind,
               start_date, end_date, test_dates, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (report_id, person_idx, chat_id, locale, grid_id, kind, start.isoformat(),
         end.isoformat(), _dates(test_dates), iso(now), iso(now)),
    )  # fmt: skip
    return cur.lastrowid


def _dates(values: tuple[date, ...]) -> str:
    return json.dumps([d.isoformat() for d in values])


async def update_plan(
    conn: aiosqlite.Connection, monitoring_id: int, *, chat_id: int, locale: str, grid_id: str,
    kind: str, start: date, end: date, test_dates: tuple[date, ...], now: datetime,
) -> None:  # fmt: skip
    """A new plan for the same person (a new report version, a worker's correction, his own
    report no longer covering him): active again, new dates, a new generation of timers."""
    await conn.execute(
        """UPDATE monitoring SET chat_id = ?, locale = ?, grid_id = ?, kind = ?, start_date = ?,
               end_date = ?, test_dates = ?, state = 'active', covered_by = NULL,
               gen = gen + 1, updated_at = ?
           WHERE id = ?""",
        (chat_id, locale, grid_id, kind, start.isoformat(), end.isoformat(), _dates(test_dates),
         iso(now), monitoring_id),
    )  # fmt: skip


async def set_end(
    conn: aiosqlite.Connection, monitoring_id: int, end: date, note: str | None, now: datetime
) -> None:
    await conn.execute(
        """UPDATE monitoring SET end_date = ?, note = COALESCE(?, note), gen = gen + 1,
               updated_at = ? WHERE id = ? AND state = 'active'""",
        (end.isoformat(), note, iso(now), monitoring_id),
    )


async def set_state(
    conn: aiosqlite.Connection, monitoring_id: int, state: str, note: str | None, now: datetime
) -> bool:
    """active -> released | stopped. False when it was no longer active."""
    cur = await conn.execute(
        """UPDATE monitoring SET state = ?, note = COALESCE(?, note), updated_at = ?
           WHERE id = ? AND state = 'active'""",
        (state, note, iso(now), monitoring_id),
    )
    return cur.rowcount > 0


async def refresh_missed_in_row(conn: aiosqlite.Connection, monitoring_id: int) -> int:
    """Consecutive missed check-ins at the newest end (slots still open do not break it)."""
    rows = await fetch_all(
        conn,
        """SELECT state FROM checkins WHERE monitoring_id = ? AND state != 'prompted'
           ORDER BY slot_at DESC LIMIT 100""",
        (monitoring_id,),
    )
    count = 0
    for row in rows:
        if row["state"] != "missed":
            break
        count += 1
    await conn.execute("UPDATE monitoring SET missed_in_row = ? WHERE id = ?",
                       (count, monitoring_id))  # fmt: skip
    return count


async def cancel_timers(
    conn: aiosqlite.Connection, monitoring_id: int, kinds: tuple[str, ...] = ()
) -> None:
    """Cancel the monitoring's pending timers (of ``kinds``; none given: every one, including
    the per-slot reminders, whose subjects are ``checkin:<id>:<slot>``)."""
    if kinds:
        await conn.execute(
            f"""UPDATE timers SET state = 'cancelled' WHERE subject = ? AND state = 'pending'
                AND kind IN ({marks(len(kinds))})""",
            (f"monitoring:{monitoring_id}", *kinds),
        )
        return
    await conn.execute(
        """UPDATE timers SET state = 'cancelled' WHERE state = 'pending'
           AND (subject = ? OR (subject >= ? AND subject < ?))""",
        (f"monitoring:{monitoring_id}", f"checkin:{monitoring_id}:", f"checkin:{monitoring_id};"),
    )


# --- check-ins --------------------------------------------------------------------------


async def open_slots(
    conn: aiosqlite.Connection, slots: Sequence[tuple[int, datetime]], now: datetime
) -> set[int]:
    """Record that the prompts of (monitoring id, slot) go out, one slot per monitoring, in
    one statement; returns the monitoring ids whose slot was not prompted already."""
    if not slots:
        return set()
    rows = await fetch_all(
        conn,
        f"""INSERT INTO checkins (monitoring_id, slot_at, prompted_at)
            VALUES {value_rows(len(slots), 3)}
            ON CONFLICT(monitoring_id, slot_at) DO NOTHING RETURNING monitoring_id""",
        tuple(value for mid, slot in slots for value in (mid, iso(slot), iso(now))),
    )
    return {row["monitoring_id"] for row in rows}


async def first_slots(conn: Conn, monitoring_ids: Sequence[int]) -> dict[int, datetime]:
    """The earliest prompted slot of each monitoring (those with one), by id."""
    rows = await fetch_all(
        conn,
        f"""SELECT monitoring_id, MIN(slot_at) AS first FROM checkins
            WHERE monitoring_id IN ({marks(len(monitoring_ids))}) GROUP BY monitoring_id""",
        tuple(monitoring_ids),
    )
    return {row["monitoring_id"]: datetime.fromisoformat(row["first"]) for row in rows}


async def checkin(conn: Conn, monitoring_id: int, slot_at: datetime) -> Checkin | None:
    row = await fetch_one(conn, "SELECT * FROM checkins WHERE monitoring_id = ? AND slot_at = ?",
                             (monitoring_id, iso(slot_at)))  # fmt: skip
    return _checkin(row) if row else None


async def record_temperature(
    conn: aiosqlite.Connection, monitoring_id: int, slot_at: datetime, value: float, now: datetime
) -> bool:
    """The slot's temperature (a late answer to a missed slot counts too). False when the
    slot had one already or was never prompted."""
    cur = await conn.execute(
        """UPDATE checkins SET temperature = ?, answered_at = ?, state = 'answered'
           WHERE monitoring_id = ? AND slot_at = ? AND temperature IS NULL""",
        (value, iso(now), monitoring_id, iso(slot_at)),
    )
    return cur.rowcount > 0


async def record_symptoms(
    conn: aiosqlite.Connection, monitoring_id: int, slot_at: datetime, codes: list[str]
) -> bool:
    cur = await conn.execute(
        """UPDATE checkins SET symptoms = ? WHERE monitoring_id = ? AND slot_at = ?
           AND temperature IS NOT NULL AND symptoms IS NULL""",
        (json.dumps(codes), monitoring_id, iso(slot_at)),
    )
    return cur.rowcount > 0


async def mark_missed(conn: aiosqlite.Connection, monitoring_id: int, slot_at: datetime) -> bool:
    cur = await conn.execute(
        """UPDATE checkins SET state = 'missed'
           WHERE monitoring_id = ? AND slot_at = ? AND state = 'prompted'""",
        (monitoring_id, iso(slot_at)),
    )
    return cur.rowcount > 0


async def checkins_of(conn: Conn, monitoring_id: int, limit: int = 6) -> list[Checkin]:
    rows = await fetch_all(
        conn,
        "SELECT * FROM checkins WHERE monitoring_id = ? ORDER BY slot_at DESC LIMIT ?",
        (monitoring_id, limit),
    )
    return [_checkin(r) for r in rows]


async def grid_counts(
    conn: Conn, grids: tuple[str, ...], since: datetime, until: datetime
) -> dict[str, dict[str, int]]:
    """Per grid: active monitorings, and check-ins answered / missed / open in the window."""
    counts = {g: {"active": 0, "answered": 0, "missed": 0, "prompted": 0} for g in grids}
    if not grids:
        return counts
    grid_marks = marks(len(grids))
    for row in await fetch_all(conn, f"""SELECT grid_id, COUNT(*) AS n FROM monitoring
                                    WHERE state = 'active' AND grid_id IN ({grid_marks})
                                    GROUP BY grid_id""", grids):  # fmt: skip
        counts[row["grid_id"]]["active"] = row["n"]
    for row in await fetch_all(
        conn,
        f"""SELECT m.grid_id, c.state, COUNT(*) AS n FROM checkins c
            JOIN monitoring m ON m.id = c.monitoring_id
            WHERE m.grid_id IN ({grid_marks}) AND c.slot_at >= ? AND c.slot_at < ?
            GROUP BY m.grid_id, c.state""",
        (*grids, iso(since), iso(until)),
    ):
        counts[row["grid_id"]][row["state"]] = row["n"]
    return counts


# --- samples ----------------------------------------------------------------------------


async def samples(conn: Conn, monitoring_id: int) -> dict[date, aiosqlite.Row]:
    rows = await fetch_all(conn, "SELECT * FROM test_samples WHERE monitoring_id = ?",
                              (monitoring_id,))  # fmt: skip
    return {date.fromisoformat(r["test_date"]): r for r in rows}


async def record_sample(
    conn: aiosqlite.Connection, monitoring_id: int, test_date: date, by: int, now: datetime
) -> bool:
    row = await fetch_one(
        conn,
        """INSERT INTO test_samples (monitoring_id, test_date, sampled_at, sampled_by)
           VALUES (?, ?, ?, ?)
           ON CONFLICT(monitoring_id, test_date) DO UPDATE SET
               sampled_at = excluded.sampled_at, sampled_by = excluded.sampled_by
           WHERE test_samples.sampled_at IS NULL
           RETURNING id""",
        (monitoring_id, test_date.isoformat(), iso(now), by),
    )
    return row is not None


async def record_result(
    conn: aiosqlite.Connection, monitoring_id: int, test_date: date, result: str, by: int,
    now: datetime,
) -> bool:  # fmt: skip
    """The result of a taken sample ('pending' may later become negative or positive)."""
    cur = await conn.execute(
        """UPDATE test_samples SET result = ?, result_at = ?, result_by = ?
           WHERE monitoring_id = ? AND test_date = ? AND sampled_at IS NOT NULL
             AND (result IS NULL OR result = 'pending')""",
        (result, iso(now), by, monitoring_id, test_date.isoformat()),
    )
    return cur.rowcount > 0
