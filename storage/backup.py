"""``paicha backup`` and ``paicha restore``: SQLite's online backup API, and the checks a file
must pass before it replaces the database.

A backup is a page copy made in one step, inside one read transaction: a consistent snapshot
while the bot goes on writing (WAL lets a writer commit beside a reader). Its personal data
stays sealed as in the database (storage/cipher.py): a backup opens only with the data key.
Every file made here is created 0600."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from contextlib import closing, suppress
from pathlib import Path

from storage.db import migrations

_HEADER = b"SQLite format 3\x00"
# A connection to a WAL database holds a shared lock on this byte of the -shm file for as long
# as it is open (SQLite's unix VFS: the "DMS" slot after the 8 WAL-index locks at 120).
_SHM_DMS = 128
_WAITS_MS = 30_000  # the bot's writer holds its lock for milliseconds: wait for it this long


class BackupError(Exception):
    """Why a backup or a restore was refused, in one line for the operator."""


def backup(source: Path, out: Path, *, force: bool = False) -> int:
    """Copy the database ``source`` to ``out`` (created 0600, in place only once complete).
    Returns the size of the copy in bytes."""
    if not source.is_file():
        raise BackupError(f"{source}: no database there")
    if out.exists() and not force:
        raise BackupError(f"{out} exists: give another name, or --force to replace it")
    part = _private_file(out.with_name(out.name + ".part"))
    try:
        _copy(sqlite3.connect(source, timeout=_WAITS_MS / 1000), part)
        os.replace(part, out)
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: the backup failed: {exc}") from exc
    finally:
        _remove(part)
    return out.stat().st_size


def verify(path: Path) -> int:
    """Check a backup before it is restored: an SQLite file, whole (``integrity_check``),
    of a schema this paicha knows. Returns its schema version."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    with path.open("rb") as file:
        if file.read(len(_HEADER)) != _HEADER:
            raise BackupError(f"{path}: not an SQLite database")
    known = max(version for version, _ in migrations())
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'reports'")
            has_reports = tables.fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: damaged: {exc}") from exc
    if problems != ["ok"]:
        raise BackupError(f"{path}: damaged: {problems[0]}")
    if not has_reports or version < 1:
        raise BackupError(f"{path}: not a paicha database")
    if version > known:
        raise BackupError(
            f"{path}: made by a newer paicha (schema {version}; this one knows up to {known})"
        )
    return version


def in_use(database: Path) -> bool:
    """Whether another process has the database open (the bot running): its connection holds
    a shared lock on the -shm file, which an exclusive lock attempt here would meet."""
    shm = Path(f"{database}-shm")
    try:
        fd = os.open(shm, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _SHM_DMS)
        return False
    finally:
        os.close(fd)


def stage(backup_file: Path, target: Path, *, force: bool) -> Path:
    """Copy a verified backup next to ``target`` (0600), ready for the key check and
    ``install``. Refused while the bot runs on ``target``, or when it exists (unless
    ``force``)."""
    if in_use(target):
        raise BackupError(f"{target} is in use: stop the bot first (systemctl stop paicha)")
    if target.exists() and not force:
        raise BackupError(f"{target} exists: pass --force to replace it")
    staged = _private_file(target.with_name(target.name + ".restore"))
    try:
        _copy(sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True), staged)
    except sqlite3.Error as exc:
        _remove(staged)
        raise BackupError(f"{backup_file}: cannot be read: {exc}") from exc
    return staged


def install(staged: Path, target: Path) -> None:
    """Put the staged copy in place of ``target``: the old database's WAL and shared memory
    go first, or SQLite would replay the old WAL over the restored file."""
    for leftover in (f"{target}-wal", f"{target}-shm", f"{staged}-wal", f"{staged}-shm"):
        _remove(Path(leftover))
    os.replace(staged, target)


def discard(staged: Path) -> None:
    for file in (staged, Path(f"{staged}-wal"), Path(f"{staged}-shm")):
        _remove(file)


def _copy(source: sqlite3.Connection, dest: Path) -> None:
    """Every page of ``source`` into ``dest`` in one step (one read transaction: one
    snapshot), left as one self-contained file (no WAL)."""
    with closing(source), closing(sqlite3.connect(dest)) as dst:
        source.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")


def _private_file(path: Path) -> Path:
    """An empty file only its owner can read, whatever the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove(path)
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    return path


def _remove(path: Path) -> None:
    with suppress(FileNotFoundError):
        path.unlink()
