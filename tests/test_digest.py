"""The daily report (日报, 零报告) to the leadership group: fires at the configured Shanghai
times across days, counts per village and for the town, zero report, catch-up after downtime
once, never twice, ``/report`` on demand; the counts of tables that land later."""

from __future__ import annotations

import itertools
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite

from bot.actions import digest
from bot.config import Config, parse_config
from bot.runtime.timers import fire_due
from storage import stats
from storage.db import Database
from storage.outbox import iso
from tests.conftest import ROOT, SHANGHAI
from tests.harness import Harness
from tests.test_arrival_flow import answer_to_summary, submit

LEADERS = -1001234567890
_ids = itertools.count(1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2020, 10, day, hour, minute, tzinfo=SHANGHAI)


def sent(h: Harness, method: str) -> list[dict]:
    return [c.params for c in h.request.sent_to(LEADERS) if c.method == method]


def reports_sent(h: Harness) -> list[str]:
    return [p["text"] for p in sent(h, "sendMessage") if "疫情防控" in p["text"]]


async def advance_to(h: Harness, instant: datetime) -> int:
    """Move the clock and run the tick's timer work, as the scheduler would."""
    h.clock.set(instant)
    fired = await fire_due(h.services)
    await digest.ensure_next(h.services)
    await h.drain_outbox()
    return fired


async def add_report(
    db: Database | aiosqlite.Connection,
    village: str,
    grid: str,
    created: datetime,
    *,
    category: str = "sanfan",
    risk: str = "low",
    alert: bool = False,
    people: int = 1,
    state: str = "open",
) -> int:
    n = next(_ids)
    conn = db.conn if isinstance(db, Database) else db
    cur = await conn.execute(
        """INSERT INTO reports (ref, draft_token, reporter_user_id, reporter_chat_id, locale,
               relation, village_id, grid_id, address, arrival_date, category, risk, alert,
               measure_kind, measure_start, measure_end, data, state, created_at, updated_at)
           VALUES (?, ?, ?, ?, 'zh_CN', 'self', ?, ?, '先锋街1号', '2020-10-25', ?, ?, ?,
                   'self_monitoring', '2020-10-25', '2020-11-07', '{}', ?, ?, ?)""",
        (f"XF-{n}", f"draft-{n}", 1000 + n, 1000 + n, village, grid, category, risk, int(alert),
         state, iso(created), iso(created)),
    )  # fmt: skip
    for idx in range(people):
        await conn.execute(
            "INSERT INTO persons (report_id, idx, name) VALUES (?, ?, ?)",
            (cur.lastrowid, idx, f"人{idx}"),
        )
    return cur.lastrowid


def group_command(h: Harness, text: str, chat_id: int, message_id: int, user_id: int = 10001):
    user = h.updates.user(user_id)
    chat = {"id": chat_id, "type": "supergroup", "title": "领导小组"}
    return {
        "update_id": 900000 + message_id,
        "message": {"message_id": message_id, "date": int(h.clock.now().timestamp()),
                    "chat": chat, "from": user, "text": text,
                    "entities": [{"type": "bot_command", "offset": 0,
                                  "length": len(text.split()[0])}]},
    }  # fmt: skip


# --- scheduling -----------------------------------------------------------------------------


async def test_fires_at_08_and_20_shanghai_across_days(harness: Harness) -> None:
    h = harness  # 26 October, 10:00 in Shanghai; post_init scheduled the next report
    row = await h.db.fetchone("SELECT due_at, dedup_key FROM timers WHERE kind = 'digest.send'")
    assert row["dedup_key"] == "digest:2020-10-26T20:00"
    assert datetime.fromisoformat(row["due_at"]) == at(26, 20).astimezone(UTC)

    await advance_to(h, at(26, 19, 59))
    assert reports_sent(h) == []
    await advance_to(h, at(26, 20))
    await advance_to(h, at(26, 23))
    await advance_to(h, at(27, 8))
    await advance_to(h, at(27, 12))
    await advance_to(h, at(27, 20))
    texts = reports_sent(h)
    assert len(texts) == 3
    assert "统计时段：10月26日 08:00 至 10月26日 20:00" in texts[0]
    assert "统计时段：10月26日 20:00 至 10月27日 08:00" in texts[1]
    assert "统计时段：10月27日 08:00 至 10月27日 20:00" in texts[2]
    photos = sent(h, "sendPhoto")
    assert len(photos) == 3 and all("近14日" in p["caption"] for p in photos)
    keys = [r["dedup_key"] for r in await h.db.fetchall(
        "SELECT dedup_key FROM outbox WHERE subject = 'digest' ORDER BY id")]  # fmt: skip
    assert keys == ["digest:2020-10-26T20:00", "digest:2020-10-26T20:00:chart",
                    "digest:2020-10-27T08:00", "digest:2020-10-27T08:00:chart",
                    "digest:2020-10-27T20:00", "digest:2020-10-27T20:00:chart"]  # fmt: skip
    pending = await h.db.fetchall(
        "SELECT dedup_key FROM timers WHERE kind = 'digest.send' AND state = 'pending'"
    )
    assert [r["dedup_key"] for r in pending] == ["digest:2020-10-28T08:00"]


async def test_zero_report_when_nothing_happened(harness: Harness) -> None:
    h = harness
    await advance_to(h, at(26, 20))
    (text,) = reports_sent(h)
    assert "日报" in text and "零报告" in text
    assert "新增来返人员：<b>0</b> 人" in text
    for village in h.config.villages:
        assert f"<b>{village.name}</b>：零报告" in text
    assert len(sent(h, "sendPhoto")) == 1


async def test_counts_per_village_and_total(harness: Harness) -> None:
    h = harness
    async with h.db.write() as conn:
        await add_report(conn, "xf", "XF01", at(26, 11), people=2)
        await add_report(conn, "xf", "XF02", at(26, 12), category="siwai", risk="high_risk",
                         alert=True)  # fmt: skip
        await add_report(conn, "sq", "SQ01", at(26, 13), category="overseas", risk="overseas",
                         alert=True)  # fmt: skip
        await add_report(conn, "sq", "SQ01", at(26, 14), state="withdrawn")  # not counted
        await add_report(conn, "fh", "FH01", at(26, 7))  # before the window: not new
    await advance_to(h, at(26, 20))
    (text,) = reports_sent(h)
    assert "零报告：" not in text and "✅" not in text
    assert "新增来返人员：<b>4</b> 人（登记 3 份）" in text
    assert "按类别：三返 2、四外 1、境外入境 1" in text
    assert "按风险：境外 1、高风险地区 1、低风险 2" in text
    assert "到达预警：<b>2</b>" in text
    assert "<b>先锋社区</b>：新增 3 人，<b>预警 1</b>" in text
    assert "<b>石桥村</b>：新增 1 人，<b>预警 1</b>" in text
    assert "<b>凤凰村</b>：零报告" in text
    # The next report starts where this one ended: the same reports are not new again.
    async with h.db.write() as conn:
        await add_report(conn, "fh", "FH01", at(26, 21))
    await advance_to(h, at(27, 8))
    second = reports_sent(h)[1]
    assert "新增来返人员：<b>1</b> 人" in second
    assert "<b>凤凰村</b>：新增 1 人" in second


async def test_a_report_submitted_in_the_flow_is_counted(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, temperature="38.2")
    await submit(h)
    await advance_to(h, at(26, 20))
    text = reports_sent(h)[-1]
    assert "<b>先锋社区</b>：新增 1 人，<b>预警 1</b>" in text
    assert "发热/症状 1" in text  # the risk of the arrival


async def test_catch_up_after_downtime_sends_once_late(harness: Harness, tmp_path: Path) -> None:
    h = harness
    await h.stop()
    h.clock.set(at(28, 9, 30))  # down through four report times
    await h.restart(tmp_path / "paicha.sqlite3")
    assert await fire_due(h.services) >= 1
    assert await fire_due(h.services) == 0
    await digest.ensure_next(h.services)
    await h.drain_outbox()
    (text,) = reports_sent(h)
    assert "（系统恢复后补发）" in text
    assert "统计时段：10月26日 08:00 至 10月28日 09:30" in text
    row = await h.db.fetchone("SELECT late FROM timers WHERE dedup_key = 'digest:2020-10-26T20:00'")
    assert row["late"] == 1
    await advance_to(h, at(28, 20))
    texts = reports_sent(h)
    assert len(texts) == 2
    assert "统计时段：10月28日 09:30 至 10月28日 20:00" in texts[1]
    assert "补发" not in texts[1]


async def test_on_a_fast_drill_clock_the_tick_after_the_due_time_is_on_time(
    harness: Harness,
) -> None:
    """A drill at ×144: the tick every 3 real seconds is 7.2 clock minutes apart, so the
    report fires a few clock minutes after 20:00 — on time, not 补发, its window ending at
    20:00; only a real downtime (minutes of wall time: hours of drill time) makes it late."""
    h = harness
    h.clock.current_speed = 144
    await advance_to(h, at(26, 20, 7))
    (text,) = reports_sent(h)
    assert "补发" not in text
    assert "统计时段：10月26日 08:00 至 10月26日 20:00" in text
    await advance_to(h, at(27, 14))  # six clock hours past 08:00: 2.5 real minutes down
    late = reports_sent(h)[1]
    assert "（系统恢复后补发）" in late
    assert "统计时段：10月26日 20:00 至 10月27日 14:00" in late


async def test_at_real_speed_a_report_minutes_past_due_is_late(harness: Harness) -> None:
    h = harness
    await advance_to(h, at(26, 20, 7))
    (text,) = reports_sent(h)
    assert "（系统恢复后补发）" in text


async def test_never_sent_twice(harness: Harness, tmp_path: Path) -> None:
    h = harness
    for _ in range(3):
        assert await digest.ensure_next(h.services) is False
    await advance_to(h, at(26, 20))
    await advance_to(h, at(26, 20, 1))
    # A restart right after the report: the next one is already scheduled, once.
    await h.stop()
    await h.restart(tmp_path / "paicha.sqlite3")
    await advance_to(h, at(26, 20, 2))
    rows = await h.db.fetchall(
        "SELECT dedup_key FROM timers WHERE kind = 'digest.send' ORDER BY due_at"
    )
    assert [r["dedup_key"] for r in rows] == ["digest:2020-10-26T20:00", "digest:2020-10-27T08:00"]
    count = await h.db.fetchone(
        "SELECT COUNT(*) FROM outbox WHERE subject = 'digest' AND kind = 'text'"
    )
    assert count[0] == 1


# --- /report --------------------------------------------------------------------------------


async def test_report_command_in_the_leadership_group(harness: Harness) -> None:
    h = harness
    async with h.db.write() as conn:
        await add_report(conn, "sp", "SP01", at(26, 9), category="visitor")
    h.clock.set(at(26, 15, 30))
    update = group_command(h, "/report", LEADERS, 77)
    await h.feed(update)
    await h.feed(update)  # re-delivered: still one report
    row = await h.db.fetchone(
        "SELECT priority, COUNT(*) AS n FROM outbox WHERE subject = 'digest' AND kind = 'text'"
    )
    assert (row["priority"], row["n"]) == (0, 1)
    await h.drain_outbox()
    (text,) = reports_sent(h)
    assert "即时报告" in text
    assert "统计时段：10月26日 08:00 至 10月26日 15:30" in text
    assert "<b>杉坪村</b>：新增 1 人" in text
    assert len(sent(h, "sendPhoto")) == 1
    # On demand does not move the window of the scheduled report.
    await advance_to(h, at(26, 20))
    assert "统计时段：10月26日 08:00 至 10月26日 20:00" in reports_sent(h)[-1]


async def test_report_command_elsewhere_is_refused(harness: Harness) -> None:
    h = harness
    calls = await h.text(424242, "/report")
    assert [c.params["text"] for c in calls if c.method == "sendMessage"] == [
        "/report 只能在领导小组群里使用。"
    ]
    calls = await h.feed(group_command(h, "/report", -100999, 5))
    assert "只能在领导小组群" in calls[-1].params["text"]
    assert await h.db.fetchone("SELECT 1 FROM outbox WHERE subject = 'digest'") is None


# --- size -----------------------------------------------------------------------------------


def ten_villages() -> Config:
    data = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    data["villages"] = [
        {"id": f"v{i}", "name": f"第{i}村民委员会", "admins": [],
         "grids": [{"id": f"G{i}A", "name": "1网格"}, {"id": f"G{i}B", "name": "2网格"}]}
        for i in range(10)
    ]  # fmt: skip
    data["key_units"] = []
    for site in data.get("sites", []):  # the chain's section shows them too
        site["village"] = "v0"
    return parse_config(data, ROOT)


async def test_a_busy_day_for_ten_villages_fits_one_message(clock, tmp_path: Path) -> None:
    config = ten_villages()
    h = await Harness.start(config, tmp_path / "ten.sqlite3", clock)
    try:
        risks = list(config.measures)
        categories = ["sanfan", "siwai", "overseas", "quarantine_done", "visitor", "other"]
        async with h.db.write() as conn:
            created = await create_contract_tables(conn)
            for v in range(10):
                for i, risk in enumerate(risks):
                    category = categories[i % len(categories)]
                    await add_report(conn, f"v{v}", f"G{v}A", at(26, 11), risk=risk, people=3,
                                     category=category, alert=i < 4)  # fmt: skip
                await fill_contract_tables(conn, created, f"v{v}", f"G{v}A", at(26, 11))
        await advance_to(h, at(26, 20))
        (text,) = reports_sent(h)
        assert len(text) < 4096, len(text)
        assert text.count("，<b>预警 4</b>") == 10
        assert "全镇合计" in text
    finally:
        await h.stop()


# --- tables of flows that land separately ------------------------------------------------------

CONTRACT = {
    "monitoring": """CREATE TABLE monitoring (id INTEGER PRIMARY KEY, report_id INTEGER,
        grid_id TEXT, state TEXT, started_at TEXT, ended_at TEXT)""",
    "checkins": """CREATE TABLE checkins (id INTEGER PRIMARY KEY, monitoring_id INTEGER,
        state TEXT, due_at TEXT, temperature REAL, symptoms TEXT)""",
    "tips": """CREATE TABLE tips (id INTEGER PRIMARY KEY, village_id TEXT, state TEXT,
        created_at TEXT, handled_at TEXT, deadline_at TEXT)""",
    "cases": """CREATE TABLE cases (id INTEGER PRIMARY KEY, report_id INTEGER, state TEXT,
        created_at TEXT, reported_at TEXT, deadline_at TEXT)""",
    "escalations": """CREATE TABLE escalations (subject TEXT PRIMARY KEY, kind TEXT,
        village_id TEXT, started_at TEXT)""",
    "escalation_queue": """CREATE TABLE escalation_queue (id INTEGER PRIMARY KEY, subject TEXT,
        step INTEGER, chat_id INTEGER, queued_at TEXT)""",
}


async def create_contract_tables(conn: aiosqlite.Connection) -> set[str]:
    """Create the tables of the documented contract that do not exist yet."""
    created = set()
    for table, sql in CONTRACT.items():
        if not await stats.columns(conn, table):
            await conn.execute(sql)
            created.add(table)
    return created


async def fill_contract_tables(
    conn: aiosqlite.Connection, tables: set[str], village: str, grid: str, when: datetime
) -> None:
    t = iso(when)
    if "monitoring" in tables:
        for state, ended in (("active", None), ("active", None), ("released", t)):
            await conn.execute(
                "INSERT INTO monitoring (grid_id, state, started_at, ended_at) VALUES (?, ?, ?, ?)",
                (grid, state, iso(when - timedelta(days=3)), ended),
            )
        (mid,) = (await conn.execute_fetchall("SELECT max(id) FROM monitoring"))[0]
    if "checkins" in tables and "monitoring" in tables:
        for state, temperature, symptoms in (("answered", 36.5, "[]"), ("answered", 37.8, "[]"),
                                             ("answered", 36.6, '["cough"]'),
                                             ("missed", None, None)):  # fmt: skip
            await conn.execute(
                "INSERT INTO checkins (monitoring_id, state, due_at, temperature, symptoms)"
                " VALUES (?, ?, ?, ?, ?)",
                (mid, state, t, temperature, symptoms),
            )
    if "escalations" in tables:  # the missed check-in's escalation, up one rung
        subject = f"checkin:{village}:{t}"
        await conn.execute(
            "INSERT INTO escalations (subject, kind, village_id, started_at) VALUES (?, ?, ?, ?)",
            (subject, "checkin", village, t),
        )
        await conn.execute(
            "INSERT INTO escalation_queue (subject, step, chat_id, queued_at) VALUES (?, 0, 5, ?)",
            (subject, t),
        )
    if "tips" in tables:
        for handled, deadline in ((None, when + timedelta(hours=12)), (t, t),
                                  (None, when - timedelta(hours=1))):  # fmt: skip
            await conn.execute(
                "INSERT INTO tips (village_id, state, created_at, handled_at, deadline_at)"
                " VALUES (?, 'open', ?, ?, ?)",
                (village, t, handled, iso(deadline) if isinstance(deadline, datetime)
                 else deadline),
            )  # fmt: skip
    if "cases" in tables:
        (rid,) = (await conn.execute_fetchall(
            "SELECT max(id) FROM reports WHERE village_id = ?", (village,)))[0]  # fmt: skip
        for reported, state in ((t, "suspected"), (None, "suspected"), (None, "closed")):
            await conn.execute(
                "INSERT INTO cases (report_id, state, created_at, reported_at, deadline_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (rid, state, t, reported, iso(when + timedelta(hours=2))),
            )


async def test_counts_from_the_tables_of_other_flows(tmp_path: Path) -> None:
    """On a database holding the documented columns (not the migrations: those tables may
    not exist yet, or be richer), every figure is counted per village."""
    async with aiosqlite.connect(tmp_path / "contract.sqlite3") as conn:
        conn.row_factory = aiosqlite.Row
        await conn.execute("""CREATE TABLE reports (id INTEGER PRIMARY KEY, ref, draft_token,
            reporter_user_id, reporter_chat_id, locale, relation, village_id, grid_id, address,
            arrival_date, category, risk, alert, measure_kind, measure_start, measure_end, data,
            state, created_at, updated_at)""")  # fmt: skip
        await conn.execute("CREATE TABLE persons (id INTEGER PRIMARY KEY, report_id, idx, name)")
        grid_village = {"XF01": "xf", "SQ01": "sq"}
        since, until, now = at(26, 8), at(26, 20), at(26, 20)
        # Before the contract tables exist: zero, no error.
        empty = await stats.collect(conn, since, until, now, grid_village)
        assert empty == {}
        assert (await stats.daily(conn, [since, until])).monitoring == [0]

        await add_report(conn, "xf", "XF01", at(26, 10))
        assert await create_contract_tables(conn) == set(CONTRACT)
        await fill_contract_tables(conn, set(CONTRACT), "xf", "XF01", at(26, 11))
        counts = await stats.collect(conn, since, until, at(26, 14), grid_village)
        c = counts["xf"]
        assert (c.arrivals, c.monitoring, c.released) == (1, 2, 1)
        assert (c.checkins_done, c.checkins_missed, c.fever, c.escalations) == (3, 1, 2, 1)
        assert (c.tips_new, c.tips_handled, c.tips_overdue) == (3, 1, 1)
        assert (c.cases_open, c.cases_reported, c.cases_unreported, c.cases_overdue) == (2, 1, 1, 1)
        assert c.cases_new == 3
        assert set(counts) == {"xf"}

        days = [at(24, 0), at(25, 0), at(26, 0), at(26, 14)]
        series = await stats.daily(conn, days)
        assert series.arrivals == [0, 0, 1]
        assert series.monitoring == [3, 3, 2]  # one released on the 26th
        assert series.alerts == [0, 0, 2]  # 37.8 and a cough (the report did not alert)


async def test_counts_monitoring_checkins_and_cases_of_the_migrations(harness: Harness) -> None:
    """The same figures from the real tables (migrations 006 and 007), written as their flows
    write them: this breaks, on purpose, if their columns change under the report."""
    h = harness
    if not {"monitoring", "checkins", "cases"} <= {
        r[0] for r in await h.db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")
    }:
        return
    t, earlier = iso(at(26, 11)), iso(at(23, 9))
    async with h.db.write() as conn:
        rid = await add_report(conn, "xf", "XF01", at(23, 9), people=3)
        for idx, state, updated in ((0, "active", earlier), (1, "active", earlier),
                                    (2, "released", t)):  # fmt: skip
            await conn.execute(
                """INSERT INTO monitoring (report_id, person_idx, chat_id, locale, grid_id, kind,
                       start_date, end_date, state, created_at, updated_at)
                   VALUES (?, ?, 1, 'zh_CN', 'XF01', 'home_monitoring', '2020-10-23',
                           '2020-10-29', ?, ?, ?)""",
                (rid, idx, state, earlier, updated),
            )
        (mid,) = (await conn.execute_fetchall("SELECT min(id) FROM monitoring"))[0]
        for slot, state, temperature, symptoms in (
            (at(26, 9), "answered", 37.9, "[]"), (at(26, 9, 1), "answered", 36.4, "[]"),
            (at(26, 9, 2), "missed", None, None), (at(25, 20), "answered", 36.5, "[]"),
        ):  # fmt: skip
            answered = iso(slot + timedelta(minutes=5)) if state == "answered" else None
            await conn.execute(
                """INSERT INTO checkins (monitoring_id, slot_at, prompted_at, answered_at, state,
                       temperature, symptoms) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (mid, iso(slot), iso(slot), answered, state, temperature, symptoms),
            )
        await conn.execute(  # the missed slot's escalation, started when it was marked missed
            """INSERT INTO escalations (subject, kind, ref, grid_id, village_id, deadline_at,
                   started_at) VALUES ('checkin:1:1', 'checkin', 'XF-1', 'XF01', 'xf', ?, ?)""",
            (iso(at(26, 11, 2)), iso(at(26, 11, 2))),
        )
        for n, state, reported in ((1, "open", None), (2, "reported", t), (3, "closed", t)):
            await conn.execute(
                """INSERT INTO cases (ref, draft_token, kind, person_name, village_id, grid_id,
                       address, status, reported_by, created_at, deadline_at, state, reported_at)
                   VALUES (?, ?, 'suspected', '李四', 'sq', 'SQ01', '石桥村5号', '已居家隔离', 1,
                           ?, ?, ?, ?)""",
                (f"C{n}", f"case-{n}", iso(at(26, 9)), iso(at(26, 11)), state, reported),
            )
    await advance_to(h, at(26, 20))
    (text,) = reports_sent(h)
    assert "健康监测：在管 <b>2</b> 人，本时段解除 1 人" in text
    assert "健康打卡：已打卡 2，未打卡 1，发热/症状 <b>1</b>" in text
    assert "病例：本时段新增 3，未结 2（已网络直报 1，未直报 1，<b>超时未直报 1</b>）" in text
    assert "<b>先锋社区</b>：新增 0 人" in text
    assert "在管 2｜解除 1｜打卡 2/未打卡 1｜发热 1" in text
    assert "<b>石桥村</b>：新增 0 人" in text and "病例 2" in text
