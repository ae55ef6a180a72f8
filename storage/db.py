"""The one SQLite connection: WAL, foreign keys, numbered migrations, serialised writes.

Reads may run at any time; every write goes through ``Database.write()``, a ``BEGIN IMMEDIATE``
transaction behind one asyncio lock, so one user action is stored whole or not at all.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str]]:
    """(version, sql) for each numbered file in storage/migrations, in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        conn.row_factory = aiosqlite.Row
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=5000",
        ):
            await conn.execute(pragma)
        db = cls(conn)
        await db.migrate()
        return db

    async def migrate(self) -> None:
        async with self.conn.execute("PRAGMA user_version") as cur:
            (current,) = await cur.fetchone()
        for version, sql in migrations():
            if version <= current:
                continue
            async with self.write() as conn:
                for statement in _statements(sql):
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version={version}")

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:  # SQLite may have rolled it back already
                    await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> aiosqlite.Row | None:
        rows = await self.conn.execute_fetchall(sql, params)  # one trip to the SQLite thread
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[aiosqlite.Row]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def write_one(self, sql: str, params: tuple | dict = ()) -> int:
        """A single-statement write, atomic on its own (autocommit): one trip to the SQLite
        thread instead of three. Returns the number of rows changed."""
        async with self._lock:
            cur = await self.conn.execute(sql, params)
            return cur.rowcount

    async def close(self) -> None:
        await self.conn.close()


# --- shared by the repositories ------------------------------------------------------------

# A read may run on the Database (outside a transaction) or on the connection of a write
# transaction under way (to see its own writes): the repositories accept either.
Reader = aiosqlite.Connection | Database


async def fetch_one(conn: Reader, sql: str, params: tuple = ()) -> aiosqlite.Row | None:
    """The first row of a query, on the Database or inside a write transaction."""
    return next(iter(await fetch_all(conn, sql, params)), None)


async def fetch_all(conn: Reader, sql: str, params: tuple = ()) -> list[aiosqlite.Row]:
    """All rows of a query, on the Database or inside a write transaction: one trip to the
    SQLite thread (a cursor's execute, fetch and close would be three)."""
    if isinstance(conn, Database):
        return await conn.fetchall(sql, params)
    return list(await conn.execute_fetchall(sql, params))


def marks(count: int) -> str:
    """``?, ?, ?``: the placeholders of an ``IN (...)`` list of ``count`` values."""
    return ", ".join("?" * count)


def value_rows(count: int, width: int) -> str:
    """``(?, ?), (?, ?)``: the placeholders of a multi-row ``VALUES``, ``count`` rows of
    ``width``. One statement for many rows: one trip to the SQLite thread, and unlike
    ``executemany`` it can return rows (``RETURNING``). At most 32,766 values in all."""
    return ", ".join([f"({marks(width)})"] * count)


async def next_in_sequence(conn: aiosqlite.Connection, scope: str) -> int:
    """1, 2, 3, ... per ``scope`` (a row of ``counters``): the sequence part of the reference
    numbers of reports, tips and cases. Inside the write transaction that uses the number, so
    a rolled-back action does not use one up."""
    row = await fetch_one(
        conn,
        """INSERT INTO counters (scope, value) VALUES (?, 1)
           ON CONFLICT(scope) DO UPDATE SET value = value + 1 RETURNING value""",
        (scope,),
    )
    return row[0]


@asynccontextmanager
async def savepoint(conn: aiosqlite.Connection, name: str) -> AsyncIterator[None]:
    """A nested transaction inside the caller's: when the block raises, its writes alone are
    rolled back (the exception goes on) and the outer transaction carries on."""
    await conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except Exception:
        if conn.in_transaction:
            await conn.execute(f"ROLLBACK TO {name}")
            await conn.execute(f"RELEASE {name}")
        raise
    await conn.execute(f"RELEASE {name}")


async def counter(conn: aiosqlite.Connection, scope: str) -> int | None:
    """A ``counters`` row's value; None when it was never set."""
    row = await fetch_one(conn, "SELECT value FROM counters WHERE scope = ?", (scope,))
    return row[0] if row else None


async def set_counter(conn: aiosqlite.Connection, scope: str, value: int) -> None:
    await conn.execute(
        """INSERT INTO counters (scope, value) VALUES (?, ?)
           ON CONFLICT(scope) DO UPDATE SET value = excluded.value""",
        (scope, value),
    )


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (``executescript`` would commit on its own)."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if buffer.strip() and sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
