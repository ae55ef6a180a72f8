"""The one SQLite connection: WAL, foreign keys, numbered migrations, serialised writes.

Reads may run at any time; every write goes through ``Database.write()``, a ``BEGIN IMMEDIATE``
transaction behind one asyncio lock, so one user action is stored whole or not at all.
Another process holding the write lock (a backup, the sqlite3 shell) past the busy timeout is
waited for a few times more before a write gives up (``LOCK_WAITS``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

from storage.cipher import Cipher, DamagedValue, KeyProblem, load_key

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# Seconds between further attempts to take the write lock once the busy timeout ran out: a
# resident's /arrive waits out a lock held for a while rather than being dropped.
LOCK_WAITS = (0.5, 1.0, 2.0)
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def migrations() -> list[tuple[int, str]]:
    """(version, sql) for each numbered file in storage/migrations, in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


# Where personal data lies: (table, columns sealed whole, JSON columns whose personal keys are
# sealed). The repositories seal on write; ``reseal`` seals them all at once (the one-time step
# of a database from before sealing, and a key rotation).
SEALED = (
    ("persons", ("phone", "id_number"), ()),
    ("reports", (), ("data",)),
    ("report_history", (), ("data", "persons")),
    ("drafts", (), ("data",)),
    ("cases", ("person_phone", "person_id_number"), ()),
    ("tips", ("person_phone",), ()),
    ("staff", ("phone",), ()),
    ("outbox", ("text", "fallback", "recipe"), ()),
    ("escalations", (), ("detail",)),
    ("intake", ("data",), ()),  # updates not handled yet: what people typed
    ("contacts", ("phone", "id_number"), ()),
    ("vehicles", ("crew_phone",), ()),
    ("roster", ("phone",), ()),
)
# Tables whose people are found by blind indexes of their phone and ID number (dedup).
BLIND = ("persons", "contacts")
# The sealed token in ``data_key`` that tells whether a key is this database's.
_CHECK = "paicha data key check"
_TABLE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
_OPEN: weakref.WeakKeyDictionary[aiosqlite.Connection, Database] = weakref.WeakKeyDictionary()


class Database:
    def __init__(self, conn: aiosqlite.Connection, cipher: Cipher) -> None:
        self.conn = conn
        self.cipher = cipher
        self.path: Path | None = None  # the file, when not in memory
        self._lock = asyncio.Lock()
        self.lock_waits = LOCK_WAITS
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep  # injected by tests
        _OPEN[conn] = self

    @classmethod
    async def open(cls, path: str | Path, cipher: Cipher | None = None) -> Database:
        """Open (create, migrate) the database; ``cipher`` seals its personal data (default:
        the key in ``PAICHA_DATA_KEY``). KeyProblem when the key is not this database's."""
        cipher = cipher or Cipher(load_key(None))
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _private(Path(path))
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        db = cls(conn, cipher)
        db.path = None if str(path) == ":memory:" else Path(path)
        conn.row_factory = db._row
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=5000",
            "PRAGMA secure_delete=ON",  # a value re-sealed or purged leaves no plaintext behind
        ):
            await conn.execute(pragma)
        try:
            await db.migrate()
            await db._unlock()
        except BaseException:
            await conn.close()
            raise
        return db

    def _row(self, cursor: sqlite3.Cursor, row: tuple) -> sqlite3.Row:
        return self.cipher.row_factory(cursor, row)

    async def _unlock(self) -> None:
        """Check the key against the database's sealed token; a database without one (new,
        or from before sealing) has its personal data sealed now, once, in one transaction."""
        async with self.write() as conn:
            if not await fetch_one(conn, _TABLE, ("data_key",)):
                return  # opened at a version before sealing (a test of an old database)
            try:
                row = await fetch_one(conn, "SELECT check_value FROM data_key")
            except DamagedValue as exc:
                raise KeyProblem("the data key does not open this database's key check") from exc
            if row is not None:
                if row[0] != _CHECK:
                    raise KeyProblem(
                        "the data key is not this database's: give the key it was "
                        "sealed with (PAICHA_DATA_KEY or bot.data_key_file)"
                    )
                return
            await reseal(conn, self.cipher)
            await _set_check(conn, self.cipher)
        await self.checkpoint()

    async def rotate(self, key: bytes) -> int:
        """Re-seal every personal value and blind index under ``key``, in one transaction;
        then the old key opens nothing here. Returns how many rows were re-sealed."""
        old, new = self.cipher, Cipher(key)
        self.cipher = Cipher(key, previous=old)  # reads open with either key meanwhile
        try:
            async with self.write() as conn:
                count = await reseal(conn, self.cipher)
                await _set_check(conn, self.cipher)
        except BaseException:
            self.cipher = old
            raise
        self.cipher = new
        await self.checkpoint()
        return count

    async def checkpoint(self) -> None:
        """Copy the WAL into the database and empty it: the earlier form of rows re-sealed
        leaves the WAL file."""
        async with self._lock:
            await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

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
            await self._when_free("BEGIN IMMEDIATE")
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
            cur = await self._when_free(sql, params)
            return cur.rowcount

    async def _when_free(self, sql: str, params: tuple | dict = ()) -> aiosqlite.Cursor:
        """The first statement of a write, tried again after each of ``lock_waits`` while
        another connection holds the write lock (a busy statement did nothing: safe to
        repeat)."""
        for wait in self.lock_waits:
            try:
                return await self.conn.execute(sql, params)
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF not in _BUSY:
                    raise
            await self.sleep(wait)
        return await self.conn.execute(sql, params)

    async def close(self) -> None:
        await self.conn.close()


# --- shared by the repositories ------------------------------------------------------------


def _private(path: Path) -> None:
    """The database file and its WAL and SHM readable by the bot's user only: SQLite creates
    the WAL and SHM with the database file's mode."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists():
            file.chmod(0o600)


def key_fits(path: Path, cipher: Cipher) -> bool:
    """Whether ``cipher`` opens the database at ``path``, read without changing it (True for
    a database not sealed yet: the bot seals it at open)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if not conn.execute(_TABLE, ("data_key",)).fetchone():
            return True
        row = conn.execute("SELECT check_value FROM data_key").fetchone()
    finally:
        conn.close()
    try:
        return row is None or cipher.open(row[0]) == _CHECK
    except DamagedValue:
        return False


def open_read(path: Path, cipher: Cipher) -> sqlite3.Connection:
    """A read-only connection of its own, for a long read in a worker thread (an export): in
    WAL mode a read transaction sees one snapshot and never holds up the bot's writes. Its
    rows come with their sealed values opened, as the bot's own connection's do."""
    # as_uri() percent-encodes the path: a "?", "#" or "%" in it never names another file
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=5000")
    conn.row_factory = cipher.row_factory
    return conn


def cipher_of(conn: Reader) -> Cipher:
    """The cipher of the database this connection (or Database) belongs to."""
    return conn.cipher if isinstance(conn, Database) else _OPEN[conn].cipher


async def reseal(conn: aiosqlite.Connection, cipher: Cipher) -> int:
    """Seal every personal value under ``cipher`` and recompute the blind indexes (rows are
    read opened, by whichever key sealed them). Returns how many rows were written."""
    count = 0
    for table, whole, blobs in SEALED:
        columns = (*whole, *blobs)
        rows = await fetch_all(conn, f"SELECT rowid, {', '.join(columns)} FROM {table}")
        values = [
            (*(cipher.seal(row[c]) for c in whole),
             *(row[c] and cipher.dumps(json.loads(row[c])) for c in blobs), row[0])
            for row in rows
        ]  # fmt: skip
        sets = ", ".join(f"{c} = ?" for c in columns)
        await conn.executemany(f"UPDATE {table} SET {sets} WHERE rowid = ?", values)
        count += len(values)
    for table in BLIND:
        rows = await fetch_all(conn, f"SELECT id, phone, id_number FROM {table}")
        await conn.executemany(
            f"UPDATE {table} SET phone_key = ?, id_number_key = ? WHERE id = ?",
            [(cipher.blind("phone", r[1]), cipher.blind("id", r[2]), r[0]) for r in rows],
        )
    return count


async def _set_check(conn: aiosqlite.Connection, cipher: Cipher) -> None:
    await conn.execute(
        """INSERT INTO data_key (id, kid, check_value) VALUES (1, ?, ?)
           ON CONFLICT(id) DO UPDATE SET kid = excluded.kid, check_value = excluded.check_value""",
        (cipher.kid, cipher.seal(_CHECK)),
    )


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
