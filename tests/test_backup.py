"""``paicha backup`` / ``paicha restore`` (issue 11): a consistent copy while the bot writes,
created 0600; a restore checks the file (whole, a known schema, the data key) and refuses to
replace a database in use or an existing one without --force. Also the systemd credentials
(token and data key from $CREDENTIALS_DIRECTORY) and --log-level."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli
from storage.db import Database
from tests.conftest import ROOT

OTHER_KEY = "ff" * 32


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The example config in a folder of its own: its database is ``var/paicha.sqlite3``."""
    shutil.copy(ROOT / "config.example.toml", tmp_path / "config.toml")
    (tmp_path / "data").mkdir()
    shutil.copy(ROOT / "data" / "regions.toml", tmp_path / "data" / "regions.toml")
    return tmp_path / "config.toml"


def database(config_file: Path) -> Path:
    return config_file.parent / "var" / "paicha.sqlite3"


def rows(path: Path) -> list[tuple]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT scope, value FROM counters ORDER BY scope").fetchall()


async def filled(config_file: Path) -> Database:
    db = await Database.open(database(config_file))
    async with db.write() as conn:
        await conn.execute("INSERT INTO counters (scope, value) VALUES ('kept', 1)")
    return db


def filled_closed(config_file: Path) -> None:
    """The database made by the bot with one row, closed (the CLI runs its own event loop:
    these tests are not async)."""

    async def fill() -> None:
        await (await filled(config_file)).close()

    asyncio.run(fill())


async def opened_and_closed(path: Path) -> None:
    await (await Database.open(path)).close()


def paicha(*argv: str) -> int:
    return cli.main([*argv])


async def test_backup_while_a_writer_holds_a_transaction(config_file: Path, tmp_path: Path) -> None:
    db = await filled(config_file)
    out = tmp_path / "backups" / "paicha-1.sqlite3"
    try:
        async with db.write() as conn:
            await conn.execute("INSERT INTO counters (scope, value) VALUES ('mid', 2)")
            assert paicha("backup", "--config", str(config_file), "--out", str(out)) == 0
            await conn.execute("INSERT INTO counters (scope, value) VALUES ('late', 3)")
    finally:
        await db.close()
    assert rows(out) == [("kept", 1)]  # the snapshot: committed rows only
    assert out.stat().st_mode & 0o777 == 0o600
    assert not Path(f"{out}-wal").exists()  # one self-contained file
    assert rows(database(config_file)) == [("kept", 1), ("late", 3), ("mid", 2)]


def test_restore_and_compare(config_file: Path, tmp_path: Path, capsys) -> None:
    filled_closed(config_file)
    out = tmp_path / "paicha.bak"
    assert paicha("backup", "--config", str(config_file), "--out", str(out)) == 0
    with sqlite3.connect(database(config_file)) as conn:
        conn.execute("UPDATE counters SET value = 99 WHERE scope = 'kept'")

    assert paicha("restore", "--config", str(config_file), str(out)) == 1
    assert "exists: pass --force" in capsys.readouterr().err
    assert rows(database(config_file)) == [("kept", 99)]
    assert paicha("restore", "--config", str(config_file), str(out), "--force") == 0
    assert rows(database(config_file)) == [("kept", 1)]
    assert database(config_file).stat().st_mode & 0o777 == 0o600
    asyncio.run(opened_and_closed(database(config_file)))  # the bot opens it again

    database(config_file).unlink()
    assert paicha("restore", "--config", str(config_file), str(out)) == 0  # none there yet
    assert rows(database(config_file)) == [("kept", 1)]


def damaged(path: Path, at: int) -> Path:
    data = bytearray(path.read_bytes())
    data[at : at + 2000] = b"\xa5" * 2000
    path.write_bytes(bytes(data))
    return path


def test_a_corrupt_or_foreign_file_is_refused_in_one_line(
    config_file: Path, tmp_path: Path, capsys
) -> None:
    filled_closed(config_file)
    good = tmp_path / "good.bak"
    assert paicha("backup", "--config", str(config_file), "--out", str(good)) == 0
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    newer = tmp_path / "newer.bak"
    shutil.copy(good, newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 999")
    cases = {
        damaged(shutil.copy(good, tmp_path / "broken.bak"), 4096 * 3): "damaged",
        text: "not an SQLite database",
        newer: "made by a newer paicha (schema 999",
        tmp_path / "missing.bak": "no such file",
    }
    for path, reason in cases.items():
        assert paicha("restore", "--config", str(config_file), str(path), "--force") == 1
        err = capsys.readouterr().err
        assert reason in err and err.count("\n") == 1, err
    assert rows(database(config_file)) == [("kept", 1)]  # untouched
    assert not [p for p in database(config_file).parent.iterdir() if ".restore" in p.name]


def test_a_backup_opens_only_with_its_data_key(
    config_file: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    filled_closed(config_file)
    out = tmp_path / "paicha.bak"
    assert paicha("backup", "--config", str(config_file), "--out", str(out)) == 0
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "paicha-data-key").write_text(OTHER_KEY + "\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    assert paicha("restore", "--config", str(config_file), str(out), "--force") == 1
    err = capsys.readouterr().err
    assert "data key" in err and err.count("\n") == 1, err
    assert rows(database(config_file)) == [("kept", 1)]
    assert not list(database(config_file).parent.glob("*.restore*"))


def test_restore_is_refused_while_the_bot_runs(config_file: Path, tmp_path: Path, capsys) -> None:
    filled_closed(config_file)
    out = tmp_path / "paicha.bak"
    assert paicha("backup", "--config", str(config_file), "--out", str(out)) == 0
    holder = subprocess.Popen(  # another process with the database open, as the bot has
        [sys.executable, "-c",
         "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
         "c.execute('SELECT count(*) FROM counters').fetchall(); print('open', flush=True);"
         "sys.stdin.read()", str(database(config_file))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        assert paicha("restore", "--config", str(config_file), str(out), "--force") == 1
        assert "is in use: stop the bot first" in capsys.readouterr().err
    finally:
        holder.communicate("")
    assert paicha("restore", "--config", str(config_file), str(out), "--force") == 0


def test_token_from_a_systemd_credential(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(cli.TOKEN_VARIABLE, "123:from-the-environment")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    assert cli.bot_token() == "123:from-the-environment"
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert cli.bot_token() == "123:from-the-environment"  # no such credential: the variable
    (tmp_path / "paicha-token").write_text("456:from-the-credential\n")
    assert cli.bot_token() == "456:from-the-credential"
    (tmp_path / "paicha-token").write_text("\n")
    with pytest.raises(cli.Fatal, match="paicha-token is empty"):
        cli.bot_token()
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    monkeypatch.delenv(cli.TOKEN_VARIABLE)
    with pytest.raises(cli.Fatal, match="PAICHA_BOT_TOKEN is not set"):
        cli.bot_token()


def test_data_key_file_from_a_systemd_credential(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    assert cli.data_key_file() is None
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert cli.data_key_file() is None
    (tmp_path / "paicha-data-key").write_text(OTHER_KEY)
    assert cli.data_key_file() == tmp_path / "paicha-data-key"


@pytest.mark.parametrize(
    ("argv", "level"),
    [
        (["run"], "INFO"),
        (["run", "--log-level", "debug"], "DEBUG"),
        (["--log-level", "WARNING", "run"], "WARNING"),
        (["backup", "--out", "x", "--log-level", "ERROR"], "ERROR"),
        (["check-config", "c.toml", "--log-level", "warning"], "WARNING"),
    ],
)
def test_log_level_on_every_subcommand(argv: list[str], level: str) -> None:
    assert cli.parser().parse_args(argv).log_level == level


def test_an_unknown_log_level_is_refused(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["run", "--log-level", "LOUD"])
    assert "invalid choice: 'LOUD'" in capsys.readouterr().err
