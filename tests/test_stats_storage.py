"""storage/stats.py's on-demand counts against a real SQLite file, on rows written by hand and
counted by hand: each view's table, the asker's villages, the window's edges, the local day;
and migration 046's triggers keeping a report's people and origin right through companions
linked, a new version's people and a deletion."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage import db as db_module
from storage import stats
from storage.db import Database

TZ = ZoneInfo("Asia/Shanghai")
SINCE = datetime(2020, 10, 20, tzinfo=TZ)  # local days 10-20 .. 10-26
UNTIL = datetime(2020, 10, 27, tzinfo=TZ)
IN = "2020-10-25T02:00:00+00:00"
BEFORE = "2020-10-19T15:59:59+00:00"  # 10-19 23:59:59 local: outside
FIRST = "2020-10-19T16:00:00+00:00"  # 10-20 00:00 local: inside (the first local day)
AFTER = "2020-10-26T16:00:00+00:00"  # 10-27 00:00 local: outside
TOWN = stats.Filter(SINCE, UNTIL, tz=TZ)
XF = stats.Filter(SINCE, UNTIL, frozenset({"xf"}), frozenset({"XF01", "XF02"}), tz=TZ)


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "stats.sqlite3")
    yield database
    await database.close()


async def report(db: Database, rid: int, village: str, grid: str, people: int, created: str, *,
                 origin: dict | None = None, state: str = "open") -> None:  # fmt: skip
    async with db.write() as conn:
        await conn.execute(
            """INSERT INTO reports (id, ref, draft_token, reporter_user_id, reporter_chat_id,
                   locale, relation, village_id, grid_id, address, arrival_date, category,
                   risk, alert, measure_kind, measure_start, measure_end, data, state,
                   created_at, updated_at)
               VALUES (?, ?, ?, 1, 1, 'zh_CN', 'self', ?, ?, '街1号', '2020-10-20', 'sanfan',
                       'low', 0, 'home_monitoring', '2020-10-20', '2020-11-02', ?, ?, ?, ?)""",
            (rid, f"R{rid}", f"t{rid}", village, grid,
             json.dumps({"origin": origin} if origin else {}), state, created, created),
        )  # fmt: skip
        await conn.executemany(
            "INSERT INTO persons (report_id, idx, name) VALUES (?, ?, ?)",
            [(rid, i, f"人{rid}-{i}") for i in range(people)],
        )


async def test_people_and_origin_kept_by_the_triggers(db: Database) -> None:
    wuhan = {"province": "湖北省", "city": "武汉市"}
    await report(db, 1, "xf", "XF01", 3, IN, origin=wuhan)
    await report(db, 2, "xf", "XF01", 1, IN)
    people = "SELECT id, people, origin_province, origin_city FROM reports ORDER BY id"
    assert [tuple(r) for r in await db.fetchall(people)] == [
        (1, 3, "湖北省", "武汉市"), (2, 1, None, None)]  # fmt: skip
    async with db.write() as conn:  # a companion linked to his own report, then unlinked
        await conn.execute("UPDATE persons SET self_report_id = 2 WHERE report_id = 1 AND idx = 1")
        assert [r[1] for r in await conn.execute_fetchall(people)] == [2, 1]
        await conn.execute("UPDATE persons SET self_report_id = NULL WHERE report_id = 1")
        assert [r[1] for r in await conn.execute_fetchall(people)] == [3, 1]
        # a new version: its people replaced, its origin answered anew
        await conn.execute("DELETE FROM persons WHERE report_id = 1")
        await conn.execute("INSERT INTO persons (report_id, idx, name) VALUES (1, 0, '甲')")
        await conn.execute(
            "UPDATE reports SET data = ? WHERE id = 1",
            (json.dumps({"origin": {"province": "四川省", "city": None}}),),
        )
        # a person inserted already linked elsewhere is not counted here
        await conn.execute(
            "INSERT INTO persons (report_id, idx, name, self_report_id) VALUES (1, 1, '乙', 2)"
        )
    assert [tuple(r) for r in await db.fetchall(people)] == [
        (1, 1, "四川省", None), (2, 1, None, None)]  # fmt: skip


async def test_arrival_views_count_people_once_in_the_window(db: Database) -> None:
    await report(db, 1, "xf", "XF01", 3, IN, origin={"province": "湖北省", "city": "武汉市"})
    await report(db, 2, "xf", "XF02", 2, FIRST, origin={"province": "湖北省", "city": "宜昌市"})
    await report(db, 3, "sq", "SQ01", 4, IN)
    await report(db, 4, "sq", "SQ01", 5, BEFORE)
    await report(db, 5, "sq", "SQ01", 6, AFTER)
    await report(db, 6, "xf", "XF01", 7, IN, state="withdrawn")
    async with db.write() as conn:
        await conn.execute("UPDATE persons SET self_report_id = 3 WHERE report_id = 1 AND idx = 2")
    conn = db.conn
    assert await stats.counts(conn, "village", TOWN) == {"xf": 4, "sq": 4}
    assert await stats.counts(conn, "grid", TOWN) == {"XF01": 2, "XF02": 2, "SQ01": 4}
    assert await stats.counts(conn, "grid", XF) == {"XF01": 2, "XF02": 2}
    assert await stats.counts(conn, "province", TOWN) == {"湖北省": 4, "": 4}
    narrowed = stats.Filter(SINCE, UNTIL, province="湖北省", tz=TZ)
    assert await stats.counts(conn, "city", narrowed) == {"武汉市": 2, "宜昌市": 2}
    assert await stats.counts(conn, "day", TOWN) == {"2020-10-20": 2, "2020-10-25": 6}
    assert await stats.counts(conn, "category", TOWN) == {"sanfan": 8}
    by_grid = stats.Filter(SINCE, UNTIL, grid="XF02", tz=TZ)
    assert await stats.counts(conn, "village", by_grid) == {"xf": 2}
    siwai = stats.Filter(SINCE, UNTIL, category="siwai", tz=TZ)
    assert await stats.counts(conn, "village", siwai) == {}


async def test_the_other_views(db: Database) -> None:
    await report(db, 1, "xf", "XF01", 2, IN)
    await report(db, 2, "sq", "SQ01", 1, IN)
    now = IN
    async with db.write() as conn:
        await conn.executemany(
            """INSERT INTO monitoring (id, report_id, person_idx, chat_id, locale, grid_id, kind,
                   start_date, end_date, state, created_at, updated_at)
               VALUES (?, ?, ?, 1, 'zh_CN', ?, ?, '2020-10-20', '2020-11-02', ?, ?, ?)""",
            [(1, 1, 0, "XF01", "home_monitoring", "active", now, now),
             (2, 1, 1, "XF01", "home_observation", "active", now, now),
             (3, 2, 0, "SQ01", "home_monitoring", "active", now, now),
             (4, 2, 1, "SQ01", "home_monitoring", "released", now, now)],
        )  # fmt: skip
        await conn.executemany(
            """INSERT INTO checkins (monitoring_id, slot_at, prompted_at, state)
               VALUES (?, ?, ?, ?)""",
            [(1, IN, IN, "answered"), (1, FIRST, FIRST, "missed"), (1, BEFORE, BEFORE, "missed"),
             (2, IN, IN, "answered"), (3, IN, IN, "missed")],
        )  # fmt: skip
        await conn.executemany(
            """INSERT INTO tips (ref, draft_token, tipster_user_id, tipster_chat_id,
                   tipster_locale, kind, village_id, state, created_at, deadline_at)
               VALUES (?, ?, 1, 1, 'zh_CN', ?, ?, ?, ?, ?)""",
            [("T1", "t1", "unregistered", "xf", "open", IN, IN),
             ("T2", "t2", "unregistered", "sq", "closed", IN, IN),
             ("T3", "t3", "gathering", "xf", "checking", IN, IN),
             ("T4", "t4", "gathering", "xf", "open", AFTER, AFTER)],
        )  # fmt: skip
        await conn.executemany(
            """INSERT INTO cases (ref, draft_token, kind, person_name, village_id, grid_id,
                   address, status, reported_by, created_at, deadline_at)
               VALUES (?, ?, ?, '某', ?, ?, '街', '已隔离', 1, ?, ?)""",
            [("C1", "c1", "suspected", "xf", "XF01", IN, IN),
             ("C2", "c2", "confirmed", "sq", "SQ01", IN, IN)],
        )  # fmt: skip
        await conn.executemany(
            """INSERT INTO contacts (id, ref, name, address, village_id, grid_id, kind,
                   last_exposure, measure_kind, measure_start, measure_end, state, created_at,
                   updated_at)
               VALUES (?, ?, '某', '街', ?, ?, 'close', '2020-10-24', 'centralized_isolation',
                       '2020-10-24', '2020-11-07', ?, ?, ?)""",
            [(1, "M1", "xf", "XF01", "isolating", IN, IN),
             (2, "M2", "xf", "XF02", "traced", IN, IN),
             (3, "M3", "sq", "SQ01", "isolating", IN, IN)],
        )  # fmt: skip
        await conn.execute(
            """INSERT INTO sites (id, name, address, capacity, created_at, updated_at)
               VALUES ('GL01', '隔离点', '路1号', 10, ?, ?)""", (IN, IN))  # fmt: skip
        await conn.executemany(
            """INSERT INTO stays (site_id, room, contact_id, measure_kind, start_date, end_date,
                   state, assigned_by, assigned_at)
               VALUES ('GL01', ?, ?, 'centralized_isolation', '2020-10-25', '2020-11-07', ?, 1,
                       ?)""",
            [("101", 1, "in", IN), ("102", 3, "assigned", IN), ("103", 2, "released", BEFORE)],
        )  # fmt: skip
    conn = db.conn
    assert await stats.counts(conn, "measure", TOWN) == {"home_monitoring": 2,
                                                         "home_observation": 1}  # fmt: skip
    assert await stats.counts(conn, "measure", XF) == {"home_monitoring": 1,
                                                       "home_observation": 1}  # fmt: skip
    assert await stats.counts(conn, "checkin", TOWN) == {"answered": 2, "missed": 2}
    assert await stats.counts(conn, "checkin", XF) == {"answered": 2, "missed": 1}
    assert await stats.counts(conn, "tip_kind", TOWN) == {"unregistered": 2, "gathering": 1}
    assert await stats.counts(conn, "tip_state", XF) == {"open": 1, "checking": 1}
    assert await stats.counts(conn, "case", TOWN) == {"suspected": 1, "confirmed": 1}
    assert await stats.counts(conn, "case", XF) == {"suspected": 1}
    assert await stats.counts(conn, "contact", XF) == {"isolating": 1, "traced": 1}
    assert await stats.counts(conn, "stay", TOWN) == {"in": 1, "assigned": 1}
    assert await stats.counts(conn, "site", TOWN) == {"GL01": 2}
    assert await stats.counts(conn, "site", XF) == {"GL01": 1}
    assert await stats.counts(conn, "stay", stats.Filter(SINCE - timedelta(days=1), UNTIL,
                                                         tz=UTC)) == {"in": 1, "assigned": 1,
                                                                      "released": 1}  # fmt: skip


async def test_migration_046_fills_what_the_reports_had(tmp_path, monkeypatch) -> None:
    """A database of the version before: each report's people and origin filled by the
    migration, as the triggers would have kept them."""
    every = db_module.migrations()
    monkeypatch.setattr(db_module, "migrations", lambda: [m for m in every if m[0] < 46])
    old = await Database.open(tmp_path / "old.sqlite3")
    await report(old, 1, "xf", "XF01", 3, IN, origin={"province": "湖北省", "city": "武汉市"})
    await report(old, 2, "sq", "SQ01", 1, IN)
    await report(old, 3, "sq", "SQ01", 1, IN, state="withdrawn")
    async with old.write() as conn:
        await conn.execute("UPDATE persons SET self_report_id = 2 WHERE report_id = 1 AND idx = 2")
        # linked to his own report, since withdrawn: still counted in the one listing him
        await conn.execute("UPDATE persons SET self_report_id = 3 WHERE report_id = 1 AND idx = 1")
    await old.close()
    monkeypatch.undo()
    db = await Database.open(tmp_path / "old.sqlite3")
    try:
        rows = await db.fetchall(
            "SELECT id, people, origin_province, origin_city FROM reports ORDER BY id"
        )
        assert [tuple(r) for r in rows] == [(1, 2, "湖北省", "武汉市"), (2, 1, None, None),
                                            (3, 1, None, None)]  # fmt: skip
        assert await stats.counts(db.conn, "village", TOWN) == {"xf": 2, "sq": 1}
    finally:
        await db.close()


async def test_a_companion_counts_again_once_his_own_report_is_withdrawn(db: Database) -> None:
    """He is counted in his own report while it is open, else in the report that listed him
    (the arrivals register writes the same rule): never vanishing from both."""
    await report(db, 1, "xf", "XF01", 3, IN)
    await report(db, 2, "sq", "SQ01", 1, IN)
    people = "SELECT people FROM reports ORDER BY id"
    since, until = datetime.fromisoformat(FIRST), datetime.fromisoformat(AFTER)
    async with db.write() as conn:
        await conn.execute("UPDATE persons SET self_report_id = 2 WHERE report_id = 1 AND idx = 2")
    assert [r[0] for r in await db.fetchall(people)] == [2, 1]
    assert await stats.counts(db.conn, "village", TOWN) == {"xf": 2, "sq": 1}
    async with db.write() as conn:
        await conn.execute("UPDATE reports SET state = 'withdrawn' WHERE id = 2")
    assert [r[0] for r in await db.fetchall(people)] == [3, 1]
    assert await stats.counts(db.conn, "village", TOWN) == {"xf": 3}
    digest = await stats.collect(db.conn, since, until, until, {})
    assert (digest["xf"].arrivals, digest["sq"].arrivals) == (3, 0)
    daily = await stats.daily(db.conn, [since, until])
    assert daily.arrivals == [3]
    async with db.write() as conn:  # open again (a withdrawal undone): counted there again
        await conn.execute("UPDATE reports SET state = 'open' WHERE id = 2")
    assert [r[0] for r in await db.fetchall(people)] == [2, 1]
    digest = await stats.collect(db.conn, since, until, until, {})
    assert (digest["xf"].arrivals, digest["sq"].arrivals) == (2, 1)


async def test_the_checkin_view_reads_the_tally_kept_by_triggers(db: Database) -> None:
    """2.1 million check-ins at a million arrivals: the view sums migration 046's tally per
    hour, grid and state (a few thousand rows) and always agrees with the check-ins."""
    await report(db, 1, "xf", "XF01", 2, IN)
    await report(db, 2, "sq", "SQ01", 1, IN)
    async with db.write() as conn:
        await conn.executemany(
            """INSERT INTO monitoring (id, report_id, person_idx, chat_id, locale, grid_id, kind,
                   start_date, end_date, state, created_at, updated_at)
               VALUES (?, ?, ?, 1, 'zh_CN', ?, 'home_monitoring', '2020-10-20', '2020-11-02',
                       'active', ?, ?)""",
            [(1, 1, 0, "XF01", IN, IN), (2, 1, 1, "XF02", IN, IN), (3, 2, 0, "SQ01", IN, IN)],
        )  # fmt: skip
        await conn.executemany(
            "INSERT INTO checkins (monitoring_id, slot_at, prompted_at) VALUES (?, ?, ?)",
            [(m, at, at) for m in (1, 2, 3) for at in (BEFORE, FIRST, IN, AFTER)],
        )
    for view in ("checkin",):
        for f in (TOWN, XF):
            plan = await db.fetchall("EXPLAIN QUERY PLAN " + stats.view_sql(view, f),
                                     stats._params(f))  # fmt: skip
            assert not any("checkins" in r[3] for r in plan), plan
    assert await stats.counts(db.conn, "checkin", TOWN) == {"prompted": 6}
    async with db.write() as conn:  # answered, missed, a grid moved, a row gone
        await conn.execute("UPDATE checkins SET state = 'answered' WHERE slot_at = ?", (IN,))
        await conn.execute("UPDATE checkins SET state = 'missed' WHERE slot_at = ? AND "
                           "monitoring_id = 1", (FIRST,))  # fmt: skip
        await conn.execute("UPDATE monitoring SET grid_id = 'SQ02' WHERE id = 2")
        await conn.execute("DELETE FROM checkins WHERE monitoring_id = 3 AND slot_at = ?", (FIRST,))
    assert await stats.counts(db.conn, "checkin", TOWN) == {"answered": 3, "missed": 1,
                                                            "prompted": 1}  # fmt: skip
    assert await stats.counts(db.conn, "checkin", XF) == {"answered": 1, "missed": 1}
    async with db.write() as conn:  # a report deleted: its monitoring and check-ins with it
        await conn.execute("DELETE FROM reports WHERE id = 2")
    assert await stats.counts(db.conn, "checkin", TOWN) == {"answered": 2, "missed": 1,
                                                            "prompted": 1}  # fmt: skip
