"""The data key from the operator's side: ``paicha run`` and ``check-config`` with a missing or
wrong key stop with one line, ``paicha new-key`` makes one, ``paicha rotate-key`` moves the
database to a new one."""

from __future__ import annotations

import asyncio
import re
import shutil
import stat
from pathlib import Path

import pytest

from bot import cli
from bot.domain.records import PersonRecord
from sandbox.run import sandbox_key
from storage import arrivals
from storage.cipher import Cipher, KeyProblem
from storage.db import Database
from tests.conftest import ROOT, TEST_DATA_KEY
from tests.test_cipher import add_report

OTHER_KEY = "ab" * 32
PHONE = "13812345678"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The example config in a folder of its own: its database is ``var/paicha.sqlite3``."""
    shutil.copy(ROOT / "config.example.toml", tmp_path / "config.toml")
    (tmp_path / "data").mkdir()
    shutil.copy(ROOT / "data" / "regions.toml", tmp_path / "data" / "regions.toml")
    return tmp_path / "config.toml"


def database(config_file: Path) -> Path:
    return config_file.parent / "var" / "paicha.sqlite3"


def with_key_file(config_file: Path, key: str) -> Path:
    (config_file.parent / "data.key").write_text(key + "\n")
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text.replace('data_key_file = ""', 'data_key_file = "data.key"'))
    return config_file.parent / "data.key"


def make_database(config_file: Path, key: str = TEST_DATA_KEY) -> None:
    async def fill() -> None:
        db = await Database.open(database(config_file), Cipher(bytes.fromhex(key)))
        async with db.write() as conn:
            await add_report(conn, "{}")
            await arrivals._insert_people(conn, 1, (PersonRecord("张三", PHONE, None, None),))
        await db.close()

    asyncio.run(fill())


def test_run_without_a_key_stops_with_one_line(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PAICHA_DATA_KEY")
    monkeypatch.setenv("PAICHA_BOT_TOKEN", "123456:TEST-token")
    assert cli.main(["run", "--config", str(config_file)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("paicha: no data key: set PAICHA_DATA_KEY") and err.count("\n") == 1
    assert not database(config_file).exists() or "Traceback" not in err


def test_run_with_a_wrong_key_stops_with_one_line(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_database(config_file)
    monkeypatch.setenv("PAICHA_DATA_KEY", OTHER_KEY)
    monkeypatch.setenv("PAICHA_BOT_TOKEN", "123456:TEST-token")
    assert cli.main(["run", "--config", str(config_file)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("paicha: the data key is not this database's") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("key", "says"),
    [
        (None, "no data key: set PAICHA_DATA_KEY"),
        ("12345", "PAICHA_DATA_KEY: the data key must be 64 hex characters"),
        (OTHER_KEY, "the data key is not the one"),
    ],
)
def test_check_config_says_what_is_wrong_with_the_key(
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    key: str | None,
    says: str,
) -> None:
    make_database(config_file)
    if key is None:
        monkeypatch.delenv("PAICHA_DATA_KEY")
    else:
        monkeypatch.setenv("PAICHA_DATA_KEY", key)
    assert cli.main(["check-config", str(config_file)]) == 1
    assert says in capsys.readouterr().out


def test_check_config_reads_the_key_file_named_in_the_config(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_database(config_file)
    monkeypatch.delenv("PAICHA_DATA_KEY")
    with_key_file(config_file, TEST_DATA_KEY)
    assert cli.main(["check-config", str(config_file)]) == 0
    assert "OK" in capsys.readouterr().out


def test_new_key_prints_a_fresh_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["new-key"]) == 0
    first = capsys.readouterr().out.strip()
    cli.main(["new-key"])
    assert re.fullmatch(r"[0-9a-f]{64}", first) and capsys.readouterr().out.strip() != first


def test_rotate_key_moves_the_database_to_the_new_key(
    config_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_database(config_file)
    new_file = tmp_path / "new.key"
    new_file.write_text(OTHER_KEY)
    argv = ["rotate-key", "--config", str(config_file), "--new-key-file", str(new_file)]
    assert cli.main(argv) == 0
    assert "rows re-sealed under the new key" in capsys.readouterr().out

    async def reopen() -> None:
        with pytest.raises(KeyProblem):
            await Database.open(database(config_file), Cipher(bytes.fromhex(TEST_DATA_KEY)))
        db = await Database.open(database(config_file), Cipher(bytes.fromhex(OTHER_KEY)))
        assert (await arrivals.people(db, 1))[0].phone == PHONE
        await db.close()

    asyncio.run(reopen())
    assert cli.main(argv) == 1  # the old key in the environment opens nothing any more
    assert "not this database's" in capsys.readouterr().err
    monkeypatch.setenv("PAICHA_DATA_KEY", OTHER_KEY)
    assert cli.main(argv) == 1  # the new key is the current one: nothing to do
    assert "the one in use" in capsys.readouterr().err


def test_rotate_key_without_a_new_key_says_so(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_database(config_file)
    monkeypatch.delenv("PAICHA_NEW_DATA_KEY", raising=False)
    assert cli.main(["rotate-key", "--config", str(config_file)]) == 1
    assert "no data key: set PAICHA_NEW_DATA_KEY" in capsys.readouterr().err


def test_the_sandbox_writes_its_own_private_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAICHA_DATA_KEY")
    key_file = sandbox_key(tmp_path / "sandbox")
    key = key_file.read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key) and key != TEST_DATA_KEY
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sandbox_key(tmp_path / "sandbox").read_text().strip() == key  # kept
    monkeypatch.setenv("PAICHA_DATA_KEY", OTHER_KEY)  # the tests' way: the environment's key
    assert sandbox_key(tmp_path / "sandbox").read_text().strip() == OTHER_KEY
