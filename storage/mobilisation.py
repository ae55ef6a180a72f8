"""Mobilisation calls (紧急动员) and their roll-call, one row per person called (SQL only).
Who did what is in the audit log; each answer's time is kept on its row."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiosqlite

from storage.db import Reader, fetch_all, fetch_one, marks, next_in_sequence
from storage.outbox import iso


@dataclass(frozen=True)
class NewCall:
    drill: bool
    target: dict[str, Any]
    place: str
    meet_at: str
    task: str
    village_id: str | None
    caller_user_id: int
    caller_chat_id: int


async def next_ref(conn: aiosqlite.Connection, code: str, day: date) -> str:
    """``XF-DY-20201026-01``: the town's code, DY (动员), the local date, a per-day sequence."""
    stamp = day.strftime("%Y%m%d")
    value = await next_in_sequence(conn, f"mobilisation:{stamp}")
    return f"{code}-DY-{stamp}-{value:02d}"


async def create(conn: aiosqlite.Connection, new: NewCall, ref: str, now: datetime,
                 called: Sequence[tuple[int, bool]]) -> int:  # fmt: skip
    """The call and its roll-call: ``called`` is (roster id, reachable in the bot) each."""
    cur = await conn.execute(
        """INSERT INTO mobilisations (ref, drill, target, place, meet_at, task, village_id,
                                      caller_user_id, caller_chat_id, rollcall_key, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (ref, int(new.drill), json.dumps(new.target, ensure_ascii=False), new.place,
         new.meet_at, new.task, new.village_id, new.caller_user_id, new.caller_chat_id,
         f"mobilisation:{ref}:rollcall", iso(now)),
    )  # fmt: skip
    mobilisation_id = cur.lastrowid
    await conn.executemany(
        "INSERT INTO mobilisation_calls (mobilisation_id, roster_id, state) VALUES (?, ?, ?)",
        [(mobilisation_id, roster_id, "sent" if reachable else "unreachable")
         for roster_id, reachable in called],
    )  # fmt: skip
    return mobilisation_id


async def get(conn: Reader, mobilisation_id: int) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM mobilisations WHERE id = ?", (mobilisation_id,))


# A call's state as it stands: someone silent whose file no longer reaches them in the bot
# (they left it, the row was retired or deactivated) is to be phoned like one never in it.
_STATE = """CASE WHEN c.state = 'sent' AND (r.user_id IS NULL OR r.active = 0)
                 THEN 'unreachable' ELSE c.state END"""
_COLUMNS = """c.mobilisation_id, c.roster_id, c.reason, c.answered_at, c.arrived_at,
              c.reminded_at, r.name, r.phone, r.user_id, r.village_id, r.category"""
_FROM = """FROM mobilisation_calls c JOIN roster r ON r.id = c.roster_id
           WHERE c.mobilisation_id = ?"""
_CALLS = f"SELECT {_COLUMNS}, {_STATE} AS state {_FROM}"


async def calls(conn: Reader, mobilisation_id: int) -> list[aiosqlite.Row]:
    """Everyone called, with their name, phone (opened), user id and village: by name."""
    return await fetch_all(conn, f"{_CALLS} ORDER BY r.name, r.id", (mobilisation_id,))


async def call_of(conn: Reader, mobilisation_id: int, user_id: int) -> aiosqlite.Row | None:
    """The call of the person bound to ``user_id`` (None: not called), as stored: a file
    deactivated since may still answer."""
    return await fetch_one(conn, f"SELECT {_COLUMNS}, c.state {_FROM} AND r.user_id = ?",
                           (mobilisation_id, user_id))  # fmt: skip


async def silent(conn: Reader, mobilisation_id: int) -> list[aiosqlite.Row]:
    """The people the call reaches in the bot who have not answered."""
    return await fetch_all(conn, f"{_CALLS} AND {_STATE} = 'sent' ORDER BY r.name, r.id",
                           (mobilisation_id,))  # fmt: skip


async def answer(conn: aiosqlite.Connection, mobilisation_id: int, roster_id: int,
                 from_states: Sequence[str], to: str, reason: str | None,
                 now: datetime) -> bool:  # fmt: skip
    """The person's answer, from one of ``from_states`` (False: they answered otherwise
    meanwhile). 到岗 keeps its time; a reason only comes with 无法到岗."""
    cur = await conn.execute(
        f"""UPDATE mobilisation_calls
            SET state = ?, reason = ?, answered_at = ?,
                arrived_at = CASE WHEN ? = 'arrived' THEN ? ELSE arrived_at END
            WHERE mobilisation_id = ? AND roster_id = ? AND state IN ({marks(len(from_states))})""",
        (to, reason, iso(now), to, iso(now), mobilisation_id, roster_id, *from_states),
    )
    return cur.rowcount > 0


async def reminded(conn: aiosqlite.Connection, mobilisation_id: int, roster_ids: Sequence[int],
                   now: datetime) -> None:  # fmt: skip
    await conn.execute(
        f"""UPDATE mobilisation_calls SET reminded_at = ?
            WHERE mobilisation_id = ? AND roster_id IN ({marks(len(roster_ids))})""",
        (iso(now), mobilisation_id, *roster_ids),
    )


async def close(conn: aiosqlite.Connection, mobilisation_id: int, user_id: int,
                now: datetime) -> bool:  # fmt: skip
    """False when it was closed already."""
    cur = await conn.execute(
        """UPDATE mobilisations SET state = 'closed', closed_at = ?, closed_by = ?
           WHERE id = ? AND state = 'open'""",
        (iso(now), user_id, mobilisation_id),
    )
    return cur.rowcount > 0


async def waiting(conn: Reader, mobilisation_id: int) -> bool:
    """Open, with someone still silent (the ladder's safety net)."""
    row = await fetch_one(
        conn,
        f"""SELECT 1 FROM mobilisations m JOIN mobilisation_calls c ON c.mobilisation_id = m.id
            JOIN roster r ON r.id = c.roster_id
            WHERE m.id = ? AND m.state = 'open' AND {_STATE} = 'sent' LIMIT 1""",
        (mobilisation_id,),
    )
    return row is not None


async def opened_on(conn: Reader, since: datetime, until: datetime) -> list[aiosqlite.Row]:
    """The calls made in [since, until), with their tally as the roll-call counts it (the
    daily report's line: the states add up to ``called``)."""
    return await fetch_all(
        conn,
        f"""SELECT m.id, m.ref, m.drill, m.state,
                  COUNT(c.roster_id) AS called,
                  SUM({_STATE} = 'arrived') AS arrived,
                  SUM({_STATE} = 'received') AS received,
                  SUM({_STATE} = 'declined') AS declined,
                  SUM({_STATE} = 'sent') AS silent,
                  SUM({_STATE} = 'unreachable') AS unreachable
           FROM mobilisations m LEFT JOIN mobilisation_calls c ON c.mobilisation_id = m.id
           LEFT JOIN roster r ON r.id = c.roster_id
           WHERE m.created_at >= ? AND m.created_at < ?
           GROUP BY m.id ORDER BY m.created_at, m.id""",
        (iso(since), iso(until)),
    )
