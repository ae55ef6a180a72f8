"""storage/roster.py against a real SQLite file: the filters mobilisation and /staff rely on
(a known-answer table: the people and who each filter must find are written out by hand),
the join token's one use and expiry, the phone sealed at rest."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from storage import roster
from storage.db import Database

T0 = datetime(2020, 10, 26, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

# name: (category, village, skills, availability, active)
PEOPLE = {
    "甲": ("cadre", "xf", ("driver",), "available", True),
    "乙": ("cadre", "xf", ("english", "driver"), "busy", True),
    "丙": ("cadre", "sq", (), "away", True),
    "丁": ("grid_worker", "xf", ("medical",), "available", True),
    "戊": ("volunteer", "sq", ("driver",), "available", True),
    "己": ("cadre", "xf", ("driver",), "available", False),  # deactivated: never found
    "庚": (None, None, (), "available", True),  # not filed yet
}

SELECTS = [
    ({}, "戊丙甲乙丁庚"),
    ({"category": "cadre"}, "丙甲乙"),
    ({"village_id": "xf"}, "甲乙丁"),
    ({"category": "cadre", "village_id": "xf"}, "甲乙"),
    ({"skill": "driver"}, "戊甲乙"),
    ({"skill": "english"}, "乙"),
    ({"skill": "drive"}, ""),  # a skill is matched whole, never as a substring
    ({"available_only": True}, "戊甲丁庚"),
    ({"category": "cadre", "available_only": True}, "甲"),
    ({"skill": "driver", "village_id": "sq"}, "戊"),
    ({"ids": ["甲", "丁", "己"]}, "甲丁"),
    ({"ids": []}, ""),
    ({"ids": ["乙"], "available_only": True}, ""),
    ({"category": "medical"}, ""),
]


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "roster.sqlite3")
    yield database
    await database.close()


async def file_people(db: Database) -> dict[str, int]:
    ids = {}
    async with db.write() as conn:
        for name, (category, village, skills, availability, active) in PEOPLE.items():
            person = roster.NewPerson(name, "13800000000", category, village, None, skills,
                                      availability)  # fmt: skip
            ids[name] = await roster.add(conn, person, 1, T0)
            if not active:
                await roster.update(conn, ids[name], {"active": 0}, 1, T0)
    return ids


@pytest.mark.parametrize(("filters", "expected"), SELECTS)
async def test_select_finds_exactly_the_people_written_out(
    db: Database, filters: dict, expected: str
) -> None:
    ids = await file_people(db)
    if "ids" in filters:
        filters = {**filters, "ids": [ids[n] for n in filters["ids"]]}
    found = await roster.select(db, **filters)
    assert sorted(r["name"] for r in found) == sorted(expected)


async def test_select_orders_by_village_category_then_name_the_unfiled_last(
    db: Database,
) -> None:
    await file_people(db)
    names = "".join(r["name"] for r in await roster.select(db))
    assert names == "丙戊乙甲丁庚"  # sq cadre, sq volunteer, xf cadre 乙 < 甲 (code point)...


async def test_get_and_by_user_find_deactivated_rows_too_with_the_phone_opened(
    db: Database,
) -> None:
    async with db.write() as conn:
        row_id = await roster.add(conn, roster.NewPerson("王五", "13700001111", "cadre", "xf",
                                                         user_id=77), 1, T0)  # fmt: skip
        await roster.update(conn, row_id, {"active": 0}, 1, T0)
    row = await roster.get(db, row_id)
    assert (row["name"], row["phone"], row["user_id"], row["active"]) == ("王五", "13700001111",
                                                                           77, 0)  # fmt: skip
    assert (await roster.by_user(db, 77))["id"] == row_id
    assert await roster.by_user(db, 78) is None and await roster.get(db, row_id + 1) is None
    raw = sqlite3.connect(db.path).execute("SELECT phone FROM roster").fetchall()
    assert raw and "13700001111" not in str(raw)  # sealed at rest


async def test_one_row_a_user(db: Database) -> None:
    async with db.write() as conn:
        first = await roster.add(conn, roster.NewPerson("甲", None, None, None, user_id=5), 1, T0)
        again = await roster.add(conn, roster.NewPerson("乙", None, None, None, user_id=5), 1, T0)
    assert first is not None and again is None


async def test_update_changes_only_editable_columns(db: Database) -> None:
    async with db.write() as conn:
        row_id = await roster.add(conn, roster.NewPerson("甲", None, "cadre", "xf"), 1, T0)
        assert await roster.update(conn, row_id, {"skills": ("driver",), "phone": "13900000000",
                                                  "availability": "busy"}, 9, T0)  # fmt: skip
        with pytest.raises(ValueError):
            await roster.update(conn, row_id, {"user_id": 3}, 9, T0)
        assert not await roster.update(conn, row_id + 1, {"note": "x"}, 9, T0)
    row = await roster.get(db, row_id)
    assert (row["skills"], row["phone"], row["availability"], row["updated_by"]) == (
        '["driver"]', "13900000000", "busy", 9)  # fmt: skip


async def test_counts_by_village_and_category(db: Database) -> None:
    await file_people(db)
    rows = await roster.counts(db, ["xf"])
    assert [tuple(r) for r in rows] == [("xf", "cadre", 2), ("xf", "grid_worker", 1)]
    assert await roster.counts(db, []) == []
    every = {(r["village_id"], r["category"]): r["people"] for r in await roster.counts(db)}
    assert every == {(None, None): 1, ("sq", "cadre"): 1, ("sq", "volunteer"): 1,
                     ("xf", "cadre"): 2, ("xf", "grid_worker"): 1}  # fmt: skip


async def join(db: Database, token: str, user: int, at: datetime):
    async with db.write() as conn:
        return await roster.bind(conn, token, user, at)


async def test_a_join_token_binds_once_and_not_after_it_expires(db: Database) -> None:
    async with db.write() as conn:
        first = await roster.add(
            conn,
            roster.NewPerson("甲", None, "cadre", "xf"),
            1,
            T0,
            token="tok-a",
            token_expires_at=T0 + timedelta(hours=72),
        )
        late = await roster.add(
            conn,
            roster.NewPerson("乙", None, "cadre", "xf"),
            1,
            T0,
            token="tok-b",
            token_expires_at=T0 + timedelta(hours=72),
        )
    bound = await join(db, "tok-a", 501, T0 + timedelta(hours=1))
    assert (bound["id"], bound["user_id"], bound["token"]) == (first, 501, None)
    assert await join(db, "tok-a", 502, T0 + timedelta(hours=2)) is None  # used
    assert await join(db, "tok-b", 503, T0 + timedelta(hours=72)) is None  # expired
    assert await join(db, "nope", 504, T0) is None
    assert (await roster.get(db, late))["user_id"] is None


async def test_binding_retires_the_row_made_automatically_for_the_same_user(
    db: Database,
) -> None:
    async with db.write() as conn:
        auto = await roster.add(conn, roster.NewPerson("甲", None, "grid_worker", "xf",
                                                       user_id=501), None, T0)  # fmt: skip
        filed = await roster.add(
            conn,
            roster.NewPerson("甲", "13800000000", "cadre", "xf"),
            1,
            T0,
            token="tok-a",
            token_expires_at=T0 + timedelta(hours=1),
        )
    await join(db, "tok-a", 501, T0)
    assert (await roster.by_user(db, 501))["id"] == filed
    old = await roster.get(db, auto)
    assert (old["user_id"], old["active"]) == (None, 0)


async def test_a_new_token_only_for_someone_not_bound(db: Database) -> None:
    async with db.write() as conn:
        free = await roster.add(
            conn,
            roster.NewPerson("甲", None, None, None),
            1,
            T0,
            token="old",
            token_expires_at=T0 + timedelta(hours=1),
        )
        bound = await roster.add(conn, roster.NewPerson("乙", None, None, None, user_id=5), 1, T0)
        assert await roster.new_token(conn, free, "new", T0 + timedelta(hours=9), 1, T0)
        assert not await roster.new_token(conn, bound, "other", T0 + timedelta(hours=9), 1, T0)
    assert await join(db, "old", 7, T0) is None
    assert (await join(db, "new", 7, T0 + timedelta(hours=2)))["id"] == free


async def called(db: Database, calls: dict[tuple[str, int], str], closed: set[str]) -> None:
    """Mobilisations by ref (``closed``: ended), each person's call state on them."""
    async with db.write() as conn:
        for ref in sorted({ref for ref, _ in calls}):
            await conn.execute(
                """INSERT INTO mobilisations (ref, place, meet_at, task, caller_user_id,
                                              caller_chat_id, state, created_at)
                   VALUES (?, '村委会', '立即', '采样', 1, 1, ?, ?)""",
                (ref, "closed" if ref in closed else "open", T0.isoformat()),
            )
        for (ref, roster_id), state in calls.items():
            await conn.execute(
                """INSERT INTO mobilisation_calls (mobilisation_id, roster_id, state)
                   SELECT id, ?, ? FROM mobilisations WHERE ref = ?""",
                (roster_id, state, ref),
            )


async def test_binding_moves_the_retired_rows_open_calls_keeping_the_better_answer(
    db: Database,
) -> None:
    async with db.write() as conn:
        auto = await roster.add(conn, roster.NewPerson("甲", None, "grid_worker", "xf",
                                                       user_id=501), None, T0)  # fmt: skip
        filed = await roster.add(conn, roster.NewPerson("甲", None, "cadre", "xf"), 1, T0,
                                 token="tok-a", token_expires_at=T0 + HOUR)  # fmt: skip
    await called(
        db,
        {
            ("only-auto", auto): "sent",  # open: moved
            ("both", auto): "received",  # both called: the auto row's answer is better
            ("both", filed): "unreachable",
            ("filed-better", auto): "sent",
            ("filed-better", filed): "arrived",
            ("ended", auto): "arrived",  # closed: its history stays
        },
        closed={"ended"},
    )
    await join(db, "tok-a", 501, T0)
    rows = await db.fetchall(
        """SELECT m.ref, c.roster_id, c.state FROM mobilisation_calls c
           JOIN mobilisations m ON m.id = c.mobilisation_id ORDER BY m.ref"""
    )
    assert [tuple(r) for r in rows] == [
        ("both", filed, "received"),
        ("ended", auto, "arrived"),
        ("filed-better", filed, "arrived"),
        ("only-auto", filed, "sent"),
    ]


async def test_binding_leaves_a_file_an_admin_made_for_the_user_alone(db: Database) -> None:
    async with db.write() as conn:
        own = await roster.add(conn, roster.NewPerson("甲", None, "cadre", "xf", user_id=501),
                               1, T0)  # fmt: skip
        other = await roster.add(conn, roster.NewPerson("乙", None, "cadre", "xf"), 1, T0,
                                 token="tok-a", token_expires_at=T0 + HOUR)  # fmt: skip
    assert await join(db, "tok-a", 501, T0) is None
    assert (await roster.by_user(db, 501))["id"] == own
    assert (await roster.get(db, own))["active"] == 1
    assert (await roster.get(db, other))["token"] == "tok-a"  # still usable by its person
    assert (await join(db, "tok-a", 502, T0))["id"] == other
