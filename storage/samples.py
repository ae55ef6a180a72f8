"""Nucleic-acid tests of isolation stays (the ``stay_tests`` rows) and what recording them
reads of the stays, their sites and their people: SQL only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo

import aiosqlite

from bot.domain.samples import Test
from storage.db import Reader, fetch_all, fetch_one, marks
from storage.outbox import iso

_ACTIVE = "s.state IN ('assigned', 'in')"


async def stay(conn: Reader, stay_id: int) -> aiosqlite.Row | None:
    """A stay with its site's name and village."""
    return await fetch_one(
        conn,
        """SELECT s.*, t.name AS site_name, t.village_id AS site_village
           FROM stays s JOIN sites t ON t.id = s.site_id WHERE s.id = ?""",
        (stay_id,),
    )


async def set_schedule(conn: aiosqlite.Connection, stay_id: int, dates: Sequence[date]) -> None:
    """The stay's scheduled tests are ``dates``: new ones added, those no longer scheduled
    dropped unless a sample was taken (a recorded test is never lost)."""
    days = [d.isoformat() for d in dates]
    await conn.executemany(
        "INSERT OR IGNORE INTO stay_tests (stay_id, test_date) VALUES (?, ?)",
        [(stay_id, d) for d in days],
    )
    await conn.execute(
        f"""DELETE FROM stay_tests WHERE stay_id = ? AND sampled_at IS NULL
              AND test_date NOT IN ({marks(len(days))})""",
        (stay_id, *days),
    )


async def tests(conn: Reader, stay_id: int, tz: tzinfo) -> list[Test]:
    """The stay's tests; ``tz``: the town's, for the local day each result was recorded."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM stay_tests WHERE stay_id = ? ORDER BY test_date",
        (stay_id,),
    )
    return [
        Test(date.fromisoformat(r["test_date"]), r["sampled_at"] is not None, r["result"],
             r["result_at"] and datetime.fromisoformat(r["result_at"]).astimezone(tz).date())
        for r in rows
    ]  # fmt: skip


async def rooms(conn: Reader, site_id: str) -> dict[str, int]:
    """The site's occupied rooms: room -> its active stay."""
    rows = await fetch_all(
        conn, f"SELECT id, room FROM stays s WHERE site_id = ? AND {_ACTIVE}", (site_id,)
    )
    return {r["room"]: r["id"] for r in rows}


async def due_on(conn: Reader, site_id: str, day: date,
                 stay_id: int | None = None) -> list[aiosqlite.Row]:  # fmt: skip
    """Active stays of the site (or the one stay) with a test on ``day`` not sampled yet and
    no positive result (a case is not chased for samples), by room."""
    only = "AND s.id = ?" if stay_id is not None else ""
    return await fetch_all(
        conn,
        f"""SELECT s.id, s.room, s.site_id, x.name AS site_name FROM stays s
              JOIN sites x ON x.id = s.site_id
              JOIN stay_tests t ON t.stay_id = s.id AND t.test_date = ?
            WHERE s.site_id = ? AND {_ACTIVE} AND t.sampled_at IS NULL {only}
              AND NOT EXISTS (SELECT 1 FROM stay_tests p
                              WHERE p.stay_id = s.id AND p.result = 'positive')
            ORDER BY s.room""",
        (day.isoformat(), site_id, *(() if stay_id is None else (stay_id,))),
    )


async def waiting(conn: Reader, stay_id: int, day: date) -> bool:
    """Is the stay's test of ``day`` still not sampled (the ladder's safety net)?"""
    row = await fetch_one(conn, "SELECT site_id FROM stays WHERE id = ?", (stay_id,))
    return row is not None and bool(await due_on(conn, row["site_id"], day, stay_id))


async def record(conn: aiosqlite.Connection, stay_id: int, day: date, result: str, by: int,
                 now: datetime) -> bool:  # fmt: skip
    """The test of ``day`` sampled (kept if it was) with ``result`` ('negative', 'positive',
    'pending'). False when nothing changed: a positive or negative is never overwritten (a
    replayed message, a double tap)."""
    cur = await conn.execute(
        """UPDATE stay_tests SET sampled_at = coalesce(sampled_at, ?),
               sampled_by = coalesce(sampled_by, ?), result = ?,
               result_at = ?, result_by = ?
           WHERE stay_id = ? AND test_date = ?
             AND (result IS NULL OR (result = 'pending' AND ? != 'pending'))""",
        (iso(now), by, result, iso(now), by, stay_id, day.isoformat(), result),
    )
    return cur.rowcount > 0


async def contact_became_case(conn: aiosqlite.Connection, contact_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE contacts SET state = 'case', updated_at = ? WHERE id = ?", (iso(now), contact_id)
    )
