"""Key regions (SQL only): the list last applied, its changes and their re-screens, the
candidates of a re-screen, and the downgrades proposed to workers.

The regions file is the source of truth (bot/runtime/regions.py); ``region_snapshot`` is
only what the bot last acted on, so a newly read file is diffed against it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

import aiosqlite

from bot.domain.regions import Region, regions_from_json, regions_to_json
from storage.db import Reader, fetch_all, fetch_one, marks


async def snapshot(conn: Reader) -> tuple[Region, ...] | None:
    """The list last applied; None before the first one."""
    row = await fetch_one(conn, "SELECT regions FROM region_snapshot WHERE id = 1")
    return regions_from_json(row["regions"]) if row else None


async def set_snapshot(
    conn: aiosqlite.Connection, regions: Sequence[Region], now: datetime
) -> None:
    await conn.execute(
        """INSERT INTO region_snapshot (id, regions, applied_at) VALUES (1, ?, ?)
           ON CONFLICT(id) DO UPDATE SET regions = excluded.regions,
                                         applied_at = excluded.applied_at""",
        (regions_to_json(regions), now.isoformat()),
    )


async def record_change(
    conn: aiosqlite.Connection, *, now: datetime, actor: int | None, source: str,
    added: Sequence[Region], removed: Sequence[Region], regions: Sequence[Region],
    draft: str | None = None,
) -> int:  # fmt: skip
    """A change of the list, pending its re-screen; the snapshot becomes ``regions``."""
    cur = await conn.execute(
        """INSERT INTO region_changes (at, actor, source, draft, added, removed, regions)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (now.isoformat(), actor, source, draft, regions_to_json(added),
         regions_to_json(removed), regions_to_json(regions)),
    )  # fmt: skip
    await set_snapshot(conn, regions, now)
    return cur.lastrowid


async def pending_changes(conn: Reader) -> list[aiosqlite.Row]:
    return await fetch_all(conn, "SELECT * FROM region_changes WHERE state = 'pending' ORDER BY id")


async def by_draft(conn: Reader, token: str) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT id FROM region_changes WHERE draft = ?", (token,))


async def change(conn: Reader, change_id: int) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM region_changes WHERE id = ?", (change_id,))


async def finish_change(
    conn: aiosqlite.Connection, change_id: int, now: datetime, upgraded: int, proposed: int
) -> bool:
    """Mark the re-screen done; False when it was done already (by a concurrent run)."""
    cur = await conn.execute(
        """UPDATE region_changes SET state = 'done', done_at = ?, upgraded = ?, proposed = ?
           WHERE id = ? AND state = 'pending'""",
        (now.isoformat(), upgraded, proposed, change_id),
    )
    return cur.rowcount > 0


_CANDIDATE = """SELECT r.id, r.ref, r.data, r.risk, r.state, r.locale, r.reporter_chat_id,
                       r.village_id, r.grid_id, r.arrival_date, p.name AS name
                FROM reports r LEFT JOIN persons p ON p.report_id = r.id AND p.idx = 0"""


# A place related to a region: inside it (the rule may match it), or containing it (a vaguer
# answer: "possibly from a key region"). NULL-safe (IS): a municipality's districts have no city.
_RELATED = """(province = ? AND (((? IS NULL OR city IS ?) AND (? IS NULL OR district IS ?))
               OR ((city IS NULL OR city IS ?) AND (district IS NULL OR district IS ?))))"""


def _related(province: str, city: str | None, district: str | None) -> tuple[str | None, ...]:
    return (province, city, city, district, district, city, district)


async def candidates(conn: Reader, regions: Iterable[Region], since: date) -> list[aiosqlite.Row]:
    """Open reports of people who arrived on or after ``since`` and came from or passed
    through a place inside one of ``regions`` or containing one: only their assessment can
    differ between the lists before and after the change (the rule itself decides), with the
    main person's name."""
    places = list(dict.fromkeys((r.province, r.city, r.district) for r in regions))
    if not places:
        return []
    return await fetch_all(
        conn,
        f"""{_CANDIDATE}
            WHERE r.state = 'open' AND r.arrival_date >= ?
              AND r.id IN (SELECT report_id FROM report_places
                           WHERE {" OR ".join([_RELATED] * len(places))})
            ORDER BY r.id""",
        (since.isoformat(), *(v for place in places for v in _related(*place))),
    )


async def candidate(conn: Reader, report_id: int) -> aiosqlite.Row | None:
    """One report as ``candidates`` reads it."""
    return await fetch_one(conn, f"{_CANDIDATE} WHERE r.id = ?", (report_id,))


# --- downgrades proposed to workers ---------------------------------------------------------


async def propose(
    conn: aiosqlite.Connection, change_id: int, report_id: int, old_risk: str, new_risk: str,
    now: datetime,
) -> int | None:  # fmt: skip
    """A proposal to lower a report's measure (the caller supersedes earlier pending ones of
    the report first). None when this change proposed it already (a re-run)."""
    row = await fetch_one(
        conn,
        """INSERT INTO region_proposals (change_id, report_id, old_risk, new_risk, created_at)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT (change_id, report_id) DO NOTHING RETURNING id""",
        (change_id, report_id, old_risk, new_risk, now.isoformat()),
    )
    return row["id"] if row else None


_CHUNK = 500  # report ids per statement (well under SQLite's bound-parameter limit)


async def supersede(conn: aiosqlite.Connection, report_ids: Sequence[int]) -> list[int]:
    """The reports' pending proposals no longer stand: their ids (a few statements for a
    re-screen's thousands of reports)."""
    ids: list[int] = []
    for first in range(0, len(report_ids), _CHUNK):
        chunk = report_ids[first : first + _CHUNK]
        rows = await conn.execute_fetchall(
            f"""UPDATE region_proposals SET state = 'superseded'
                WHERE report_id IN ({marks(len(chunk))}) AND state = 'pending' RETURNING id""",
            tuple(chunk),
        )
        ids.extend(row[0] for row in rows)
    return ids


async def proposal(conn: Reader, proposal_id: int) -> aiosqlite.Row | None:
    return await fetch_one(
        conn,
        """SELECT q.*, r.ref, r.grid_id, r.village_id, r.state AS report_state
           FROM region_proposals q JOIN reports r ON r.id = q.report_id WHERE q.id = ?""",
        (proposal_id,),
    )


async def decide(
    conn: aiosqlite.Connection, proposal_id: int, state: str, actor: int, now: datetime
) -> bool:
    """Confirm or keep (``state``) a pending proposal; False when it was decided already."""
    cur = await conn.execute(
        """UPDATE region_proposals SET state = ?, decided_by = ?, decided_at = ?
           WHERE id = ? AND state = 'pending'""",
        (state, actor, now.isoformat(), proposal_id),
    )
    return cur.rowcount > 0
