"""Staff (grid workers, village admins), their scopes and the single-use invites that bind
them. SQL only; who may do what is decided in ``bot.domain.roles``."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.db import Database, cipher_of


async def seed_from_config(db: Database, wanted: set[tuple[int, str, str]], now: datetime) -> None:
    """Config-listed staff, as (user id, role, scope), are staff (source 'config'): add the
    ones not seen before, retire the ones no longer listed. A row revoked by an admin stays
    revoked."""
    async with db.write() as conn:
        async with conn.execute(
            "SELECT id, user_id, role, scope, active FROM staff WHERE source = 'config'"
        ) as cur:
            known = {(r["user_id"], r["role"], r["scope"]): r for r in await cur.fetchall()}
        for key in wanted - set(known):
            await conn.execute(
                """INSERT INTO staff (user_id, role, scope, source, created_at)
                   VALUES (?, ?, ?, 'config', ?) ON CONFLICT DO NOTHING""",
                (*key, now.isoformat()),
            )
        for key, row in known.items():
            if key not in wanted and row["active"]:
                await conn.execute(
                    "UPDATE staff SET active = 0, revoked_at = ? WHERE id = ?",
                    (now.isoformat(), row["id"]),
                )


async def held(db: Database, user_id: int) -> dict[str, frozenset[str]]:
    """Each role the user holds (active rows only) -> its scopes."""
    rows = await db.fetchall(
        "SELECT role, scope FROM staff WHERE user_id = ? AND active = 1", (user_id,)
    )
    found: dict[str, set[str]] = {}
    for r in rows:
        found.setdefault(r["role"], set()).add(r["scope"])
    return {role: frozenset(scopes) for role, scopes in found.items()}


async def recipients(conn: aiosqlite.Connection, grid_id: str, village_id: str) -> list[int]:
    """Active workers of the grid; where it has none, the active admins of its village."""
    for role, scope in (("worker", grid_id), ("village_admin", village_id)):
        async with conn.execute(
            """SELECT DISTINCT user_id FROM staff WHERE role = ? AND scope = ? AND active = 1
               ORDER BY user_id""",
            (role, scope),
        ) as cur:
            found = [r["user_id"] for r in await cur.fetchall()]
        if found:
            return found
    return []


async def get(db: Database, staff_id: int) -> aiosqlite.Row | None:
    return await db.fetchone("SELECT * FROM staff WHERE id = ?", (staff_id,))


async def active(db: Database, limit: int = 200) -> list[aiosqlite.Row]:
    return await db.fetchall(
        "SELECT * FROM staff WHERE active = 1 ORDER BY role DESC, scope, user_id LIMIT ?",
        (limit,),
    )


async def revoke(conn: aiosqlite.Connection, staff_id: int, by: int, now: datetime) -> bool:
    cur = await conn.execute(
        """UPDATE staff SET active = 0, revoked_at = ?, revoked_by = ?
           WHERE id = ? AND active = 1""",
        (now.isoformat(), by, staff_id),
    )
    return cur.rowcount > 0


async def move(conn: aiosqlite.Connection, staff_id: int, grid_id: str) -> bool:
    """Move an active worker to another grid; False when they already hold it."""
    try:
        cur = await conn.execute(
            "UPDATE staff SET scope = ? WHERE id = ? AND active = 1 AND role = 'worker'",
            (grid_id, staff_id),
        )
    except aiosqlite.IntegrityError:
        return False
    return cur.rowcount > 0


# -- invites -----------------------------------------------------------------------------


async def create_invite(
    conn: aiosqlite.Connection,
    token: str,
    role: str,
    scope: str,
    created_by: int | None,
    now: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO invites (token, role, scope, created_by, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?)""",
        (token, role, scope, created_by, now.isoformat(), expires_at.isoformat()),
    )


_USABLE = "token = ? AND used_by IS NULL AND revoked_at IS NULL AND expires_at > ?"


async def usable_invite(db: Database, token: str, now: datetime) -> aiosqlite.Row | None:
    """The invite, if it exists, is unused, unrevoked and unexpired."""
    return await db.fetchone(f"SELECT * FROM invites WHERE {_USABLE}", (token, now.isoformat()))


async def use_invite(
    conn: aiosqlite.Connection, token: str, user_id: int, name: str, phone: str, now: datetime
) -> aiosqlite.Row | None:
    """Mark the invite used and make the staff row, or None when it can no longer be used.
    Call inside one write transaction."""
    cur = await conn.execute(
        f"UPDATE invites SET used_by = ?, used_at = ? WHERE {_USABLE} RETURNING *",
        (user_id, now.isoformat(), token, now.isoformat()),
    )
    invite = await cur.fetchone()
    if invite is None:
        return None
    phone = cipher_of(conn).seal(phone)
    await conn.execute(
        """INSERT INTO staff (user_id, role, scope, name, phone, invited_by, invite, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (user_id, role, scope) WHERE active = 1
           DO UPDATE SET name = excluded.name, phone = excluded.phone""",
        (
            user_id,
            invite["role"],
            invite["scope"],
            name,
            phone,
            invite["created_by"],
            token,
            now.isoformat(),
        ),
    )
    await conn.execute(
        "UPDATE staff SET name = ?, phone = ? WHERE user_id = ? AND active = 1",
        (name, phone, user_id),
    )
    return invite


async def open_invites(db: Database, now: datetime, limit: int = 50) -> list[aiosqlite.Row]:
    """Invites that can still be used (not used, revoked nor expired), oldest first."""
    return await db.fetchall(
        """SELECT * FROM invites
           WHERE used_by IS NULL AND revoked_at IS NULL AND expires_at > ?
           ORDER BY created_at LIMIT ?""",
        (now.isoformat(), limit),
    )


async def revoke_invite(conn: aiosqlite.Connection, token: str, now: datetime) -> bool:
    cur = await conn.execute(
        """UPDATE invites SET revoked_at = ?
           WHERE token = ? AND used_by IS NULL AND revoked_at IS NULL""",
        (now.isoformat(), token),
    )
    return cur.rowcount > 0


async def get_invite(db: Database, token: str) -> aiosqlite.Row | None:
    return await db.fetchone("SELECT * FROM invites WHERE token = ?", (token,))
