"""Staff filed by category (分类建档): one row per person on file, in the bot or not yet.
SQL only; who may file whom is decided in ``bot.domain.roles`` / ``bot.domain.roster``.
The phone is sealed on write and opened on read (the connection's row factory)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.domain import mobilisation as calls
from storage.db import Reader, cipher_of, fetch_all, fetch_one, marks
from storage.outbox import iso

# The columns an edit may change (``update``): the rest are the row's identity and history.
EDITABLE = ("name", "phone", "category", "village_id", "grid_id", "skills", "availability",
            "note", "active")  # fmt: skip


async def select(
    conn: Reader,
    *,
    category: str | None = None,
    village_id: str | None = None,
    skill: str | None = None,
    ids: Sequence[int] | None = None,
    available_only: bool = False,
) -> list[aiosqlite.Row]:
    """The active people on file matching every filter given (None: any), by village, category
    and name. ``ids`` empty matches nobody; ``available_only`` keeps availability 'available'."""
    where, params = ["active = 1"], []
    for column, value in (("category", category), ("village_id", village_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if skill is not None:
        where.append("EXISTS (SELECT 1 FROM json_each(roster.skills) WHERE value = ?)")
        params.append(skill)
    if ids is not None:
        where.append(f"id IN ({marks(len(ids))})" if ids else "0")
        params.extend(ids)
    if available_only:
        where.append("availability = 'available'")
    return await fetch_all(
        conn,
        f"""SELECT * FROM roster WHERE {" AND ".join(where)}
            ORDER BY village_id IS NULL, village_id, category IS NULL, category, name, id""",
        tuple(params),
    )


async def get(conn: Reader, roster_id: int) -> aiosqlite.Row | None:
    """The row, active or not."""
    return await fetch_one(conn, "SELECT * FROM roster WHERE id = ?", (roster_id,))


async def by_user(conn: Reader, user_id: int) -> aiosqlite.Row | None:
    """The row bound to this Telegram user, active or not."""
    return await fetch_one(conn, "SELECT * FROM roster WHERE user_id = ?", (user_id,))


async def counts(conn: Reader, village_ids: Sequence[str] | None = None) -> list[aiosqlite.Row]:
    """(village_id, category, people) of the active people on file, in the villages given
    (None: all): 分类建档 at a glance."""
    where, params = "active = 1", tuple(village_ids or ())
    if village_ids is not None:
        where += f" AND village_id IN ({marks(len(village_ids))})" if village_ids else " AND 0"
    return await fetch_all(
        conn,
        f"""SELECT village_id, category, COUNT(*) AS people FROM roster WHERE {where}
            GROUP BY village_id, category ORDER BY village_id, category""",
        params,
    )


@dataclass(frozen=True)
class NewPerson:
    name: str
    phone: str | None
    category: str | None
    village_id: str | None
    grid_id: str | None = None
    skills: tuple[str, ...] = ()
    availability: str = "available"
    user_id: int | None = None


async def add(
    conn: aiosqlite.Connection,
    person: NewPerson,
    by: int | None,
    now: datetime,
    *,
    token: str | None = None,
    token_expires_at: datetime | None = None,
) -> int | None:
    """File a person; their id, or None when the user is on file already (one row a user)."""
    rows = await conn.execute_fetchall(
        """INSERT INTO roster (user_id, name, phone, category, village_id, grid_id, skills,
                               availability, token, token_expires_at, created_by, created_at,
                               updated_by, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT DO NOTHING RETURNING id""",
        (person.user_id, person.name, cipher_of(conn).seal(person.phone), person.category,
         person.village_id, person.grid_id, json.dumps(list(person.skills)),
         person.availability, token, token_expires_at and iso(token_expires_at), by, iso(now),
         by, iso(now)),
    )  # fmt: skip
    return rows[0]["id"] if rows else None


async def update(
    conn: aiosqlite.Connection, roster_id: int, changes: Mapping[str, object], by: int,
    now: datetime,
) -> bool:  # fmt: skip
    """Change the given columns (of ``EDITABLE``); False when there is no such row."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    values = {k: _stored(conn, k, v) for k, v in changes.items()}
    sets = "".join(f"{column} = ?, " for column in values)
    cur = await conn.execute(
        f"UPDATE roster SET {sets}updated_by = ?, updated_at = ? WHERE id = ?",
        (*values.values(), by, iso(now), roster_id),
    )
    return cur.rowcount > 0


def _stored(conn: aiosqlite.Connection, column: str, value: object) -> object:
    if column == "skills":
        return json.dumps(list(value))  # type: ignore[call-overload]
    if column == "phone":
        return cipher_of(conn).seal(value)  # type: ignore[arg-type]
    return value


async def by_token(conn: Reader, token: str) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM roster WHERE token = ?", (token,))


async def joinable(conn: Reader, token: str, now: datetime) -> aiosqlite.Row | None:
    """The row of an unused, unexpired join token (None: it cannot be used)."""
    return await fetch_one(
        conn,
        """SELECT * FROM roster WHERE token = ? AND active = 1 AND user_id IS NULL
           AND token_expires_at > ?""",
        (token, iso(now)),
    )


async def bind(
    conn: aiosqlite.Connection, token: str, user_id: int, now: datetime
) -> aiosqlite.Row | None:
    """Bind the user to the row of an unused, unexpired join token (used up: one use); None
    when it cannot be used, or when the user holds an active file an admin made (it stands:
    an admin corrects it). A row made automatically when they joined as staff, or a
    deactivated one, is retired first, its open calls moved to the bound row. Call inside
    one write transaction."""
    row = await joinable(conn, token, now)
    if row is None:
        return None
    retired = await conn.execute_fetchall(
        """UPDATE roster SET user_id = NULL, active = 0, updated_by = ?, updated_at = ?
           WHERE user_id = ? AND (created_by IS NULL OR active = 0) RETURNING id""",
        (user_id, iso(now), user_id),
    )
    rows = await conn.execute_fetchall(
        """UPDATE roster SET user_id = ?, token = NULL, token_expires_at = NULL, updated_by = ?,
               updated_at = ? WHERE id = ? AND NOT EXISTS (SELECT 1 FROM roster WHERE user_id = ?)
           RETURNING *""",
        (user_id, user_id, iso(now), row["id"], user_id),
    )
    if not rows:
        return None
    for old in retired:
        await _move_calls(conn, old["id"], row["id"])
    return rows[0]


# A call's states, worst to best: of a person's two rows called the same, the better stays.
_CALL_ORDER = (calls.UNREACHABLE, calls.SENT, calls.DECLINED, calls.RECEIVED, calls.ARRIVED)


def _rank(column: str) -> str:
    whens = " ".join(f"WHEN '{state}' THEN {i}" for i, state in enumerate(_CALL_ORDER))
    return f"CASE {column} {whens} END"


async def _move_calls(conn: aiosqlite.Connection, old: int, new: int) -> None:
    """The open calls (紧急动员) of a retired row become the bound row's, so the person's
    answers and reminders still find them. Closed calls keep their history."""
    both = f"""SELECT o.mobilisation_id FROM mobilisation_calls o
               JOIN mobilisation_calls n ON n.mobilisation_id = o.mobilisation_id
                                        AND n.roster_id = :new
               JOIN mobilisations m ON m.id = o.mobilisation_id AND m.state = '{calls.OPEN}'
               WHERE o.roster_id = :old AND {{}}"""
    ids = {"old": old, "new": new}
    worse_new = both.format(f"{_rank('n.state')} <= {_rank('o.state')}")
    await conn.execute(f"""DELETE FROM mobilisation_calls WHERE roster_id = :new
                           AND mobilisation_id IN ({worse_new})""", ids)  # fmt: skip
    await conn.execute(f"""DELETE FROM mobilisation_calls WHERE roster_id = :old
                           AND mobilisation_id IN ({both.format("1")})""", ids)  # fmt: skip
    await conn.execute(
        f"""UPDATE mobilisation_calls SET roster_id = :new WHERE roster_id = :old
            AND mobilisation_id IN (SELECT id FROM mobilisations WHERE state = '{calls.OPEN}')""",
        ids,
    )


async def new_token(
    conn: aiosqlite.Connection, roster_id: int, token: str, expires_at: datetime, by: int,
    now: datetime,
) -> bool:  # fmt: skip
    """A fresh join link for someone not bound yet (the old one stops working)."""
    cur = await conn.execute(
        """UPDATE roster SET token = ?, token_expires_at = ?, updated_by = ?, updated_at = ?
           WHERE id = ? AND user_id IS NULL AND active = 1""",
        (token, iso(expires_at), by, iso(now), roster_id),
    )
    return cur.rowcount > 0


async def staff_person(conn: Reader, user_id: int) -> aiosqlite.Row | None:
    """The name and phone the user gave when they joined as staff (their latest active
    row), for the roster row they get automatically."""
    return await fetch_one(
        conn,
        """SELECT name, phone FROM staff WHERE user_id = ? AND active = 1
           ORDER BY name IS NULL, id DESC LIMIT 1""",
        (user_id,),
    )
