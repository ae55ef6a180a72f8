"""Neighbour tips and their checking: SQL only.

Anonymity: every query that feeds a staff view selects ``STAFF_COLUMNS`` (the fields of
``TipView``, which has no tipster field). The tipster columns are read in two places only:
``count_today`` (the daily limit) and ``tipster`` (the closing message)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import aiosqlite

from bot.domain.tips import (
    ADDRESS_MATCH_MIN,
    MATCH_DAYS,
    Match,
    TipContent,
    TipView,
    normalize_address,
    ranked,
)
from storage.db import Database, cipher_of, fetch_all, fetch_one, marks, next_in_sequence
from storage.outbox import iso

STAFF_COLUMNS = ", ".join(f"t.{name}" for name in TipView.columns())


@dataclass(frozen=True, kw_only=True)
class NewTip(TipContent):
    """A tip to store: its content and who sent it (the tipster fields never reach a TipView)."""

    draft_token: str
    tipster_user_id: int
    tipster_chat_id: int
    tipster_locale: str


@dataclass(frozen=True)
class Tipster:
    """Who to tell that their tip was closed. Never passed to a staff-facing message."""

    chat_id: int
    locale: str


async def next_ref(conn: aiosqlite.Connection, code: str, day: date) -> str:
    """``XF-XS-20201026-0001``: the town's code, XS (线索), the local date, a per-day sequence
    (its own counter scope, apart from the arrival reports')."""
    stamp = day.strftime("%Y%m%d")
    value = await next_in_sequence(conn, f"tipref:{stamp}")
    return f"{code}-XS-{stamp}-{value:04d}"


async def count_today(conn: aiosqlite.Connection | Database, user_id: int, since: datetime) -> int:
    """Tips sent by this person since the start of their (local) day: for the daily limit."""
    sql = "SELECT COUNT(*) FROM tips WHERE tipster_user_id = ? AND created_at >= ?"
    row = await fetch_one(conn, sql, (user_id, iso(since)))
    return row[0]


async def insert(conn: aiosqlite.Connection, tip: NewTip, *, ref: str, now: datetime,
                 deadline_at: datetime) -> int | None:  # fmt: skip
    """Store the tip; None when this draft was already stored (a double tap)."""
    async with conn.execute(
        """INSERT INTO tips (ref, draft_token, tipster_user_id, tipster_chat_id, tipster_locale,
               kind, venue_kind, person_name, person_phone, relation, description, village_id,
               grid_id, address, latitude, longitude, since, photo_file_id, created_at,
               deadline_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(draft_token) DO NOTHING RETURNING id""",
        (ref, tip.draft_token, tip.tipster_user_id, tip.tipster_chat_id, tip.tipster_locale,
         tip.kind, tip.venue_kind, tip.person_name, cipher_of(conn).seal(tip.person_phone),
         tip.relation,
         tip.description, tip.village_id, tip.grid_id, tip.address, tip.latitude, tip.longitude,
         tip.since, tip.photo_file_id, iso(now), iso(deadline_at)),
    ) as cur:  # fmt: skip
        row = await cur.fetchone()
    return row["id"] if row else None


async def by_draft(db: Database, token: str) -> TipView | None:
    row = await db.fetchone(f"SELECT {STAFF_COLUMNS} FROM tips t WHERE t.draft_token = ?", (token,))
    return TipView.from_row(row) if row else None


async def view(conn: aiosqlite.Connection | Database, tip_id: int) -> TipView | None:
    """The tip as staff see it (no tipster field)."""
    row = await fetch_one(conn, f"SELECT {STAFF_COLUMNS} FROM tips t WHERE t.id = ?", (tip_id,))
    return TipView.from_row(row) if row else None


async def tipster(conn: aiosqlite.Connection, tip_id: int) -> Tipster | None:
    """Only for the message that tells the tipster their tip was closed."""
    row = await fetch_one(conn, "SELECT tipster_chat_id, tipster_locale FROM tips WHERE id = ?",
                             (tip_id,))  # fmt: skip
    return Tipster(row[0], row[1]) if row else None


async def open_in(db: Database, grids: Sequence[str], villages: Sequence[str],
                  limit: int = 20) -> list[TipView]:  # fmt: skip
    """Tips not closed in these grids, or (grid unknown) in these villages; the most urgent
    deadline first."""
    if not grids and not villages:
        return []
    rows = await db.fetchall(
        f"""SELECT {STAFF_COLUMNS} FROM tips t WHERE t.state != 'closed'
              AND (t.grid_id IN ({marks(len(grids))})
                   OR (t.grid_id IS NULL AND t.village_id IN ({marks(len(villages))})))
            ORDER BY t.deadline_at, t.id LIMIT ?""",
        (*grids, *villages, limit),
    )
    return [TipView.from_row(r) for r in rows]


async def add_action(conn: aiosqlite.Connection, tip_id: int, action: str, actor: int,
                     now: datetime, *, note: str | None = None, report_id: int | None = None,
                     how: str | None = None) -> None:  # fmt: skip
    await conn.execute(
        """INSERT INTO tip_actions (tip_id, action, actor, at, note, report_id, how)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (tip_id, action, actor, iso(now), note, report_id, how),
    )


async def start_checking(conn: aiosqlite.Connection, tip_id: int, actor: int,
                         now: datetime) -> bool:  # fmt: skip
    """open -> checking; False when someone already took it or it is closed."""
    cur = await conn.execute(
        "UPDATE tips SET state = 'checking' WHERE id = ? AND state = 'open'", (tip_id,)
    )
    if cur.rowcount == 0:
        return False
    await add_action(conn, tip_id, "checking", actor, now)
    return True


async def escalate(conn: aiosqlite.Connection, tip_id: int, actor: int, now: datetime,
                   note: str | None) -> bool:  # fmt: skip
    """Mark escalated (once); the tip stays to be checked."""
    cur = await conn.execute(
        """UPDATE tips SET escalated_at = ?, state = 'checking'
           WHERE id = ? AND state != 'closed' AND escalated_at IS NULL""",
        (iso(now), tip_id),
    )
    if cur.rowcount == 0:
        return False
    await add_action(conn, tip_id, "escalated", actor, now, note=note)
    return True


async def close(conn: aiosqlite.Connection, tip_id: int, outcome: str, actor: int,
                now: datetime, *, note: str | None = None, report_id: int | None = None,
                how: str | None = None) -> bool:  # fmt: skip
    """Record the outcome; False when the tip was closed already (a double tap, a colleague)."""
    cur = await conn.execute(
        """UPDATE tips SET state = 'closed', outcome = ?, report_id = ?, handled_at = ?,
               handled_by = ?
           WHERE id = ? AND state != 'closed'""",
        (outcome, report_id, iso(now), actor, tip_id),
    )
    if cur.rowcount == 0:
        return False
    await add_action(conn, tip_id, outcome, actor, now, note=note, report_id=report_id, how=how)
    return True


async def actions(db: Database, tip_id: int) -> list[aiosqlite.Row]:
    return await db.fetchall("SELECT * FROM tip_actions WHERE tip_id = ? ORDER BY id", (tip_id,))


async def report_by_ref(db: Database, ref: str) -> aiosqlite.Row | None:
    return await db.fetchone("SELECT id, ref, grid_id, village_id FROM reports WHERE ref = ?",
                             (ref,))  # fmt: skip


async def match_registrations(
    conn: aiosqlite.Connection | Database,
    *,
    phone: str | None,
    name: str | None,
    village_id: str,
    grid_id: str | None,
    address: str | None,
    now: datetime,
) -> list[Match]:
    """Open arrival registrations that may be the person tipped about: the same phone (any
    person of a report, any place); the same name in the same grid (or village, when the grid
    is unknown) registered within 14 days; an address containing, or contained in, the tip's
    in the same grid. Ranked by ``bot.domain.tips.ranked``: an address alone comes last."""
    since = (now - timedelta(days=MATCH_DAYS)).isoformat()
    place_sql, place = ("r.grid_id = ?", grid_id) if grid_id else ("r.village_id = ?", village_id)
    found: dict[int, tuple[str, set[str]]] = {}

    def add(rows: list, reason: str) -> None:
        for row in rows:
            found.setdefault(row["id"], (row["ref"], set()))[1].add(reason)

    base = "SELECT DISTINCT r.id, r.ref FROM reports r"
    if phone:
        add(
            await fetch_all(
                conn,
                f"""{base} JOIN persons p ON p.report_id = r.id
                                 WHERE r.state = 'open' AND p.phone_key = ?""",
                (cipher_of(conn).blind("phone", phone),),
            ),
            "phone",
        )
    if name:
        add(await fetch_all(conn, f"""{base} JOIN persons p ON p.report_id = r.id
                                 WHERE r.state = 'open' AND p.name = ? AND {place_sql}
                                   AND (r.created_at >= ? OR r.updated_at >= ?)""",
                       (name, place, since, since)), "name")  # fmt: skip
    wanted = normalize_address(address or "")
    if grid_id and len(wanted) >= ADDRESS_MATCH_MIN:
        rows = await fetch_all(conn, """SELECT id, ref, address FROM reports r
                                   WHERE r.state = 'open' AND r.grid_id = ?
                                   ORDER BY r.id DESC LIMIT 2000""", (grid_id,))  # fmt: skip
        add([r for r in rows if _address_match(wanted, normalize_address(r["address"]))],
            "address")  # fmt: skip
    return ranked(found)


def _address_match(wanted: str, stored: str) -> bool:
    if len(stored) < ADDRESS_MATCH_MIN:
        return False
    return wanted in stored or stored in wanted
