"""storage/cipher.py and the database's key: sealing, blind indexes, the key check, the
one-time sealing of an older database, rotation, and the files' modes."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.records import PersonRecord
from storage import arrivals, drafts, intake
from storage import db as db_module
from storage.cipher import (
    Cipher,
    DamagedValue,
    KeyProblem,
    load_key,
    new_key,
    normal_id,
    normal_phone,
)
from storage.db import Database
from tests.conftest import TEST_DATA_KEY

KEY = bytes.fromhex(TEST_DATA_KEY)
OTHER = bytes(range(32))
PHONE, ID = "13812345678", "11010519491231002X"


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+86-138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("(138) 1234 5678", "13812345678"),
        ("861381234567", "861381234567"),  # 12 digits: no country code to strip
        ("86", "86"),
    ],
)
def test_phone_normalisation(typed: str, normal: str) -> None:
    assert normal_phone(typed) == normal


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("11010519491231002x", "11010519491231002X"),
        (" 110105 19491231 002X ", "11010519491231002X"),
        ("e1234567\t8", "E12345678"),
    ],
)
def test_id_normalisation(typed: str, normal: str) -> None:
    assert normal_id(typed) == normal


def test_blind_index_is_keyed_and_follows_the_normal_form() -> None:
    cipher = Cipher(KEY)
    assert cipher.blind("phone", "+86 138 1234 5678") == cipher.blind("phone", PHONE)
    assert cipher.blind("id", ID.lower()) == cipher.blind("id", ID)
    assert cipher.blind("phone", PHONE) != Cipher(OTHER).blind("phone", PHONE)
    assert cipher.blind("phone", PHONE) != cipher.blind("id", PHONE)  # kinds kept apart
    assert cipher.blind("phone", "13812345679") != cipher.blind("phone", PHONE)
    assert cipher.blind("phone", None) is None and cipher.blind("id", "") is None
    assert len(cipher.blind("id", ID)) == 32 and PHONE not in cipher.blind("phone", PHONE)


@given(st.text(max_size=200))
def test_seal_then_open_gives_the_value_back(value: str) -> None:
    cipher = Cipher(KEY)
    sealed = cipher.seal(value)
    assert cipher.open(sealed) == value
    if value:
        assert sealed.startswith(f"enc1:{cipher.kid}:") and sealed != cipher.seal(value)
        assert cipher.seal(sealed) == sealed  # sealing twice changes nothing


def test_another_key_does_not_open_and_an_altered_value_is_refused() -> None:
    cipher = Cipher(KEY)
    sealed = cipher.seal(PHONE)
    assert Cipher(OTHER).open(sealed) == sealed  # not its key: left as it is
    assert cipher.open("v1:lang:en") == "v1:lang:en" and cipher.open(None) is None
    body = sealed[-10:]
    altered = sealed[:-10] + ("A" if body[0] != "A" else "B") + body[1:]
    with pytest.raises(DamagedValue):
        cipher.open(altered)


def test_json_personal_keys_are_sealed_at_any_depth() -> None:
    cipher = Cipher(KEY)
    data = {"name": "张三", "phone": PHONE, "id_number": ID, "temperature": 36.5,
            "people": [{"name": "李四", "phone": "13900001111", "id_number": None}]}  # fmt: skip
    stored = cipher.dumps(data)
    assert PHONE not in stored and ID not in stored and "13900001111" not in stored
    assert "张三" in stored and "36.5" in stored
    assert json.loads(cipher.open_cell(stored)) == data


def test_a_previous_key_opens_during_rotation_only() -> None:
    old = Cipher(OTHER)
    sealed = old.seal(PHONE)
    assert Cipher(KEY, previous=old).open(sealed) == PHONE
    assert Cipher(KEY).open(sealed) == sealed


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no data key: set PAICHA_DATA_KEY"),
        ("abc", "PAICHA_DATA_KEY: the data key must be 64 hex characters"),
        ("g" * 64, "PAICHA_DATA_KEY: the data key must be 64 hex characters"),
    ],
)
def test_a_missing_or_malformed_key_says_so(
    monkeypatch: pytest.MonkeyPatch, text: str, reason: str
) -> None:
    monkeypatch.setenv("PAICHA_DATA_KEY", text)
    with pytest.raises(KeyProblem, match=reason):
        load_key(None)


def test_a_key_file_wins_over_the_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "data.key"
    key_file.write_text(new_key() + "\n")
    assert load_key(key_file) == bytes.fromhex(key_file.read_text().strip()) != KEY
    with pytest.raises(KeyProblem, match="cannot read the data key file"):
        load_key(tmp_path / "missing.key")


async def test_a_wrong_key_is_refused_and_the_right_one_opens(tmp_path: Path) -> None:
    path = tmp_path / "paicha.sqlite3"
    first = await Database.open(path, Cipher(KEY))
    await first.close()
    with pytest.raises(KeyProblem, match="not this database's"):
        await Database.open(path, Cipher(OTHER))
    again = await Database.open(path, Cipher(KEY))
    await again.close()


async def test_a_missing_key_stops_the_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAICHA_DATA_KEY")
    with pytest.raises(KeyProblem, match="no data key"):
        await Database.open(tmp_path / "paicha.sqlite3")


async def add_report(conn: aiosqlite.Connection, data: str) -> None:
    """Report 1 (XF-1) with ``data`` as stored, as an older version or a repository wrote it."""
    await conn.execute(
        """INSERT INTO reports (id, ref, draft_token, reporter_user_id, reporter_chat_id,
               locale, relation, village_id, grid_id, address, arrival_date, category, risk,
               alert, measure_kind, measure_start, measure_end, data, created_at, updated_at)
           VALUES (1, 'XF-1', 't1', 7, 7, 'zh_CN', 'self', 'xf', 'XF01', '先锋街',
                   '2020-10-25', 'sanfan', 'low', 0, 'none', '2020-10-25', '2020-10-25',
                   ?, '2020-10-26T02:00:00+00:00', '2020-10-26T02:00:00+00:00')""",
        (data,),
    )


def _raw(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


async def test_an_older_database_is_sealed_once_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database of the version before sealing, with plaintext rows: opened now, every
    phone and ID is sealed in one step, the blind indexes filled, and the report is still
    found by the same person's next report."""
    path = tmp_path / "paicha.sqlite3"
    every = db_module.migrations()
    monkeypatch.setattr(db_module, "migrations", lambda: [m for m in every if m[0] < 19])
    old = await Database.open(path)
    async with old.write() as conn:
        await add_report(conn, json.dumps({"name": "张三", "phone": PHONE, "id_number": ID}))
        await conn.execute(
            """INSERT INTO persons (report_id, idx, name, phone, id_kind, id_number)
               VALUES (1, 0, '张三', ?, 'id', ?)""",
            (PHONE, ID),
        )
        await conn.execute(
            """INSERT INTO drafts (user_id, chat_id, flow, token, locale, step, data,
                   created_at, updated_at) VALUES (8, 8, 'arrival', 'tk', 'zh_CN', 'origin', ?,
                   '2020-10-26T02:00:00+00:00', '2020-10-26T02:00:00+00:00')""",
            (json.dumps({"phone": "13900001111"}),),
        )
    await old.close()
    assert PHONE.encode() in _raw(path)  # the test's premise: plaintext before
    monkeypatch.setattr(db_module, "migrations", lambda: every)
    db = await Database.open(path)
    raw = _raw(path)
    assert PHONE.encode() not in raw and ID.encode() not in raw and b"13900001111" not in raw
    assert await arrivals.people(db, 1) == [PersonRecord("张三", PHONE, "id", ID)]
    assert (await drafts.get(db, 8)).data == {"phone": "13900001111"}
    async with db.write() as conn:
        found = await arrivals.find_same_person(
            conn, PersonRecord("张三", PHONE, None, None), _since()
        )
    assert found.own is not None and found.own.ref == "XF-1"
    await db.close()
    again = await Database.open(path)  # once: a second open changes nothing
    assert await arrivals.people(again, 1) == [PersonRecord("张三", PHONE, "id", ID)]
    await again.close()


def _since() -> datetime:
    return datetime(2020, 10, 1, tzinfo=UTC)


async def test_rotation_reseals_everything_and_the_old_key_opens_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "paicha.sqlite3"
    db = await Database.open(path, Cipher(KEY))
    async with db.write() as conn:
        await add_report(conn, db.cipher.dumps({"phone": PHONE, "id_number": ID}))
        await arrivals._insert_people(conn, 1, (PersonRecord("张三", PHONE, "id", ID),))
        await intake.store(conn, [(7, f'{{"text": "{PHONE}"}}')], ())  # not handled yet
    old_kid = db.cipher.kid
    assert await db.rotate(OTHER) > 0
    new_kid = db.cipher.kid
    await db.close()
    raw = _raw(path).decode("latin-1")
    assert f"enc1:{old_kid}:" not in raw and f"enc1:{new_kid}:" in raw
    with pytest.raises(KeyProblem):
        await Database.open(path, Cipher(KEY))
    db = await Database.open(path, Cipher(OTHER))
    assert await arrivals.people(db, 1) == [PersonRecord("张三", PHONE, "id", ID)]
    row = await db.fetchone("SELECT data FROM reports WHERE id = 1")
    assert json.loads(row[0]) == {"phone": PHONE, "id_number": ID}
    async with db.write() as conn:
        found = await arrivals.find_same_person(conn, PersonRecord("张三", None, None, ID),
                                                _since())  # fmt: skip
    assert found.own is not None  # the blind index recomputed under the new key
    assert await intake.stored(db) == [(7, f'{{"text": "{PHONE}"}}')]  # replayable still
    await db.close()


async def test_database_wal_and_shm_are_private(tmp_path: Path) -> None:
    path = tmp_path / "paicha.sqlite3"
    previous = os.umask(0o022)
    try:
        db = await Database.open(path)
        async with db.write() as conn:
            await conn.execute("INSERT INTO counters (scope, value) VALUES ('x', 1)")
        modes = {p.name: stat.S_IMODE(p.stat().st_mode)
                 for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))}  # fmt: skip
        await db.close()
    finally:
        os.umask(previous)
    assert modes == {"paicha.sqlite3": 0o600, "paicha.sqlite3-wal": 0o600,
                     "paicha.sqlite3-shm": 0o600}  # fmt: skip


async def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "paicha.sqlite3"
    await (await Database.open(path)).close()
    path.chmod(0o644)
    await (await Database.open(path)).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
