"""The daily unit reports (单位日报): one row per unit, day and slot (UNIQUE), created 'due'
when asked, 'filed' by the unit's liaison. SQL only; the rules are bot.domain.unit_reports'."""

from __future__ import annotations

from datetime import date, datetime

import aiosqlite

from bot.domain.unit_reports import COUNTS, Figures
from storage.db import Reader, fetch_all, fetch_one

_WITH_UNIT = """SELECT r.*, u.name AS unit_name, u.kind AS unit_kind, u.village_id,
                       u.grid_id, u.headcount, u.monitored
                FROM unit_reports r JOIN units u ON u.id = r.unit_id"""


async def unasked(src: Reader, day: date, slot: int, monitored_only: bool) -> list[aiosqlite.Row]:
    """Active units not yet asked for ``slot`` of ``day`` (slot 2: monitored units only; a
    monitored unit's slot 1 comes at its own time, ``monitored_only`` True for it, False for
    the others'). ``covered``: the due and filed times of the unit's reports of that day,
    comma-separated (bot.domain.unit_reports.askable)."""
    return await fetch_all(
        src,
        """SELECT u.*, (SELECT group_concat(r.due_at || ',' || COALESCE(r.filed_at, r.due_at))
                        FROM unit_reports r WHERE r.unit_id = u.id AND r.day = ?) AS covered
           FROM units u WHERE active = 1 AND monitored = ?
           AND NOT EXISTS (SELECT 1 FROM unit_reports r
                           WHERE r.unit_id = u.id AND r.day = ? AND r.slot = ?)
           ORDER BY id""",
        (day.isoformat(), int(monitored_only), day.isoformat(), slot),
    )


async def create(conn: aiosqlite.Connection, unit_id: str, day: date, slot: int,
                 due_at: datetime, deadline_at: datetime) -> int | None:  # fmt: skip
    """The unit's report for ``day`` and ``slot``, due; None when it exists already (a
    restart, two ticks at once: never two rows)."""
    rows = await conn.execute_fetchall(
        """INSERT INTO unit_reports (unit_id, day, slot, due_at, deadline_at)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT (unit_id, day, slot) DO NOTHING RETURNING id""",
        (unit_id, day.isoformat(), slot, due_at.isoformat(), deadline_at.isoformat()),
    )
    return next((r["id"] for r in rows), None)


async def get(src: Reader, report_id: int) -> aiosqlite.Row | None:
    """The report with its unit's name, kind, village, grid, headcount and monitoring."""
    return await fetch_one(src, f"{_WITH_UNIT} WHERE r.id = ?", (report_id,))


async def file(conn: aiosqlite.Connection, report_id: int, figures: Figures, by: int,
               now: datetime, correcting: bool = False) -> bool:  # fmt: skip
    """Store the figures (零报告: no counts, NULL); False when it was filed already (a double
    tap: the first stays) or closed. ``correcting``: replace a filed report's figures (its
    filing time stays: it was filed then)."""
    counts = [None if figures.zero else getattr(figures, key) for key in COUNTS]
    cur = await conn.execute(
        """UPDATE unit_reports SET state = 'filed', zero = ?, present = ?, new_arrivals = ?,
               key_region = ?, symptomatic = ?, note = ?, filed_by = ?,
               filed_at = COALESCE(filed_at, ?)
           WHERE id = ? AND state = ? AND closed_at IS NULL""",
        (int(figures.zero), *counts, figures.note, by, now.isoformat(), report_id,
         "filed" if correcting else "due"),
    )  # fmt: skip
    return cur.rowcount == 1


async def close_retired(conn: aiosqlite.Connection, now: datetime) -> list[int]:
    """Close the reports still due of retired (inactive) units; their ids."""
    rows = await conn.execute_fetchall(
        """UPDATE unit_reports SET closed_at = ?
           WHERE state = 'due' AND closed_at IS NULL
             AND unit_id IN (SELECT id FROM units WHERE active = 0) RETURNING id""",
        (now.isoformat(),),
    )
    return [r["id"] for r in rows]


async def never_asked(src: Reader, day: date) -> list[aiosqlite.Row]:
    """The active units with no report of ``day`` at all, with when they were added."""
    return await fetch_all(
        src,
        """SELECT id, created_at FROM units u WHERE active = 1 AND NOT EXISTS
           (SELECT 1 FROM unit_reports r WHERE r.unit_id = u.id AND r.day = ?)""",
        (day.isoformat(),),
    )


async def waiting(conn: Reader, report_id: int) -> bool:
    """Still due (the ladder's safety net)."""
    row = await fetch_one(
        conn, "SELECT state, closed_at FROM unit_reports WHERE id = ?", (report_id,)
    )
    return row is not None and row["state"] == "due" and row["closed_at"] is None


async def due_for(src: Reader, unit_ids: frozenset[str] | set[str]) -> list[aiosqlite.Row]:
    """The reports of these units still due, oldest first (a liaison's /unitreport)."""
    if not unit_ids:
        return []
    marks = ",".join("?" * len(unit_ids))
    return await fetch_all(
        src,
        f"{_WITH_UNIT} WHERE r.state = 'due' AND r.closed_at IS NULL AND r.unit_id IN ({marks}) "
        "ORDER BY r.day, r.slot, r.unit_id",
        tuple(sorted(unit_ids)),
    )


async def of_day(src: Reader, day: date) -> list[aiosqlite.Row]:
    """Every report of ``day`` with its unit (the daily report's tally and figures)."""
    return await fetch_all(
        src,
        f"{_WITH_UNIT} WHERE r.day = ? AND r.closed_at IS NULL "
        "ORDER BY u.village_id, u.name, r.slot",
        (day.isoformat(),),
    )
