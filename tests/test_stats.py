"""/stats (统计查询) through PTB's real pipeline and on a small seeded database whose tables
are computed by hand: a leader's table by village, a drill-down to the grids, another range,
the trend chart as a photo; a village admin's own villages only (another village's button
forged: refused, audited); everyone else refused; a typed range re-asked with its reason."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bot.domain.records import PersonRecord, ReportRecord
from bot.runtime import chart
from storage import arrivals
from tests.harness import Harness
from tests.staff_helpers import ADMIN, LEADER, REFUSED, RESIDENT, VADMIN_SQ, VADMIN_XF, WORKER_XF01

WUHAN = {"province": "湖北省", "city": "武汉市", "district": None}
YICHANG = {"province": "湖北省", "city": "宜昌市", "district": None}
CHENGDU = {"province": "四川省", "city": "成都市", "district": None}
N = [0]


async def seed(
    h: Harness, grid: str, village: str, people: int, *, category: str = "sanfan",
    risk: str = "low", origin: dict | None = None, days_ago: int = 0,
) -> int:  # fmt: skip
    """A report of ``people`` people (the first the reporter, the rest companions), made
    ``days_ago`` days before the clock's now."""
    N[0] += 1
    n = N[0]
    record = ReportRecord(
        draft_token=f"stats-{n}", reporter_user_id=RESIDENT + n, reporter_chat_id=RESIDENT + n,
        locale="zh_CN", relation="self", village_id=village, grid_id=grid,
        address="先锋街1号", arrival_date=date(2020, 10, 20), category=category, risk=risk,
        alert=False, measure_kind="home_monitoring", measure_start=date(2020, 10, 20),
        measure_end=date(2020, 11, 2), data={"origin": origin} if origin else {},
        people=tuple(PersonRecord(f"人{n}-{i}", None, "id", f"5002{n:06d}{i:08d}")
                     for i in range(people)),
    )  # fmt: skip
    now = h.clock.now() - timedelta(days=days_ago)
    async with h.db.write() as conn:
        stored = await arrivals.store(conn, record, town_code="XF", local_today=now.date(),
                                      lookback_since=now, now=now)  # fmt: skip
    return stored.id


async def seed_town(h: Harness) -> None:
    """By hand, people counted once, open reports of the last 14 days only:
    先锋社区 XF01: 3 (a report of 3) + 1 = 4; XF02: 2 (of 3, one linked to his own report)
    石桥村 SQ01: 2; 杉坪村 SP01: 1 (9 days ago); withdrawn and 20-days-old reports: not counted.
    Town: 先锋社区 6, 石桥村 2, 杉坪村 1 = 9."""
    h.request.members[LEADER] = "member"
    await seed(h, "XF01", "xf", 3, origin=WUHAN)
    await seed(h, "XF01", "xf", 1, category="siwai", origin=YICHANG)
    linked = await seed(h, "XF02", "xf", 3, risk="medium_risk", origin=CHENGDU)
    await seed(h, "SQ01", "sq", 2, category="siwai", origin=WUHAN)
    await seed(h, "SP01", "sp", 1, days_ago=9)
    await seed(h, "SQ02", "sq", 5, days_ago=20)  # before the 14 days
    gone = await seed(h, "FH01", "fh", 4)
    own = await seed(h, "SQ01", "sq", 0 + 1, origin=CHENGDU)  # the linked companion's own
    async with h.db.write() as conn:
        await conn.execute("UPDATE reports SET state = 'withdrawn' WHERE id = ?", (gone,))
        await conn.execute("UPDATE persons SET self_report_id = ? WHERE report_id = ? AND idx = 2",
                           (own, linked))  # fmt: skip


def table(text: str) -> list[tuple[str, int]]:
    """The rows of the <pre> table (header left out) as (label, count)."""
    body = text.split("<pre>")[1].split("</pre>")[0]
    rows = [line.rsplit(None, 1) for line in body.splitlines()[1:]]
    return [(label.strip(), int(count)) for label, count in rows]


async def last_table(h: Harness, chat: int) -> list[tuple[str, int]]:
    return table(h.texts(chat)[-1])


async def audit_rows(h: Harness, user: int, action: str) -> list[dict]:
    rows = await h.db.fetchall("SELECT * FROM audit WHERE actor = ? AND action = ? ORDER BY id",
                               (user, action))  # fmt: skip
    return [dict(r) for r in rows]


async def test_a_leader_sees_arrivals_by_village_and_drills_down_to_grids(harness: Harness) -> None:
    h = harness
    await seed_town(h)
    await h.text(LEADER, "/stats")
    text = h.texts(LEADER)[-1]
    assert "来返人员·按村（社区）" in text and "2020年10月13日—10月26日" in text
    # SQ01 holds the linked companion's own report (1 person): 石桥村 2 + 1 = 3
    assert await last_table(h, LEADER) == [("先锋社区", 6), ("石桥村", 3), ("杉坪村", 1)]
    assert "合计：<b>10</b>" in text
    await h.choose(LEADER, "🔍 先锋社区")
    assert "来返人员·按网格" in h.texts(LEADER)[-1]
    assert await last_table(h, LEADER) == [("先锋社区第1网格", 4), ("先锋社区第2网格", 2)]
    views = await audit_rows(h, LEADER, "stats.view")
    assert [json.loads(v["detail"])["view"] for v in views] == ["village", "grid"]
    assert json.loads(views[1]["detail"])["village"] == "xf"


async def test_other_dimensions_and_ranges(harness: Harness) -> None:
    h = harness
    await seed_town(h)
    await h.text(LEADER, "/stats")
    await h.choose(LEADER, "按类别")
    assert await last_table(h, LEADER) == [("三返", 7), ("四外", 3)]
    await h.choose(LEADER, "按来源地")
    assert await last_table(h, LEADER) == [("湖北省", 6), ("未填写", 1), ("四川省", 3)] or (
        await last_table(h, LEADER) == [("湖北省", 6), ("四川省", 3), ("未填写", 1)]
    )
    await h.choose(LEADER, "🔍 湖北省")
    assert await last_table(h, LEADER) == [("武汉市", 5), ("宜昌市", 1)]
    assert "来源：湖北省" in h.texts(LEADER)[-1]
    await h.choose(LEADER, "今天")
    # 杉坪村's report of 9 days ago is not today's
    assert ("杉坪村", 1) not in await last_table(h, LEADER)


async def test_the_trend_chart_arrives_as_a_photo(harness: Harness) -> None:
    h = harness
    await seed_town(h)
    await h.text(LEADER, "/stats")
    await h.choose(LEADER, "按日趋势")
    await h.drain_outbox()
    photos = [c for c in h.request.sent_to(LEADER) if c.method == "sendPhoto"]
    assert len(photos) == 1
    caption = photos[0].params["caption"]
    assert "来返人员按日趋势" in caption and "共 10 人" in caption
    row = await h.db.fetchone("SELECT kind FROM outbox WHERE chat_id = ? AND kind = 'photo'",
                              (LEADER,))  # fmt: skip
    assert row is not None
    views = await audit_rows(h, LEADER, "stats.view")
    assert json.loads(views[-1]["detail"])["chart"] is True


async def test_a_village_admin_sees_only_his_village(harness: Harness) -> None:
    h = harness
    await seed_town(h)
    await h.text(VADMIN_XF, "/stats")
    text = h.texts(VADMIN_XF)[-1]
    assert "范围：先锋社区" in text
    assert await last_table(h, VADMIN_XF) == [("先锋社区第1网格", 4), ("先锋社区第2网格", 2)]
    await h.choose(VADMIN_XF, "按村")
    assert await last_table(h, VADMIN_XF) == [("先锋社区", 6)]
    # a button forged for 石桥村
    forged = next(d for _, d in h.buttons(VADMIN_XF) if d.startswith("v1:tj:s:v:"))
    parts = forged.split(":")
    parts[2 + 1 + 2] = "sq"
    await h.press(VADMIN_XF, ":".join(parts))
    assert REFUSED in h.texts(VADMIN_XF)[-1]
    denied = await audit_rows(h, VADMIN_XF, "denied:stats")
    assert [d["subject"] for d in denied] == ["village:sq"]


async def test_others_are_refused_and_audited(harness: Harness) -> None:
    h = harness
    for user in (WORKER_XF01, RESIDENT):
        await h.text(user, "/stats")
        assert REFUSED in h.texts(user)[-1]
        assert len(await audit_rows(h, user, "denied:stats")) == 1
    await h.text(ADMIN, "/stats")
    assert "来返人员·按村（社区）" in h.texts(ADMIN)[-1]
    await h.text(ADMIN, "/stats", lang="en")
    assert "Arrivals by village" in h.texts(ADMIN)[-1] and "Scope: all of" in h.texts(ADMIN)[-1]
    await h.text(VADMIN_SQ, "/stats")
    assert "范围：石桥村" in h.texts(VADMIN_SQ)[-1]


async def test_a_typed_range_is_asked_again_with_the_reason(harness: Harness) -> None:
    h = harness
    await seed_town(h)
    await h.text(LEADER, "/stats")
    await h.choose(LEADER, "自选日期")
    assert "11月1日-11月20日" in h.texts(LEADER)[-1]
    await h.text(LEADER, "10月20日-10月1日")
    assert "开始日期在结束日期之后了，请把早的日期写在前面。" in h.texts(LEADER)[-2]
    assert "11月1日-11月20日" in h.texts(LEADER)[-1]
    await h.text(LEADER, "0001-01-01")  # once an OverflowError
    assert "日期太早了：只能统计2000年以后的" in h.texts(LEADER)[-2]
    await h.text(LEADER, "1999-12-01 至 1999-12-05")  # once read as 2099
    assert "日期太早了" in h.texts(LEADER)[-2]
    await h.text(LEADER, "10月20日-10月27日")  # today is 10月26日
    assert "结束日期还没到" in h.texts(LEADER)[-2]
    await h.text(LEADER, "１０月１７日－１０月２６日")
    text = h.texts(LEADER)[-1]
    assert "2020年10月17日—10月26日" in text
    assert await last_table(h, LEADER) == [("先锋社区", 6), ("石桥村", 3), ("杉坪村", 1)]
    await h.text(LEADER, "/stats")
    await h.choose(LEADER, "自选日期")
    await h.text(LEADER, "2020-10-01 至 2020-10-10")
    assert await last_table(h, LEADER) == [("石桥村", 5)]  # the report of 20 days ago
    await h.choose(LEADER, "自选日期")
    await h.text(LEADER, "2020/9/1 - 2020/9/30")
    assert "（没有记录）" in h.texts(LEADER)[-1]


def test_the_trend_chart_is_a_png_with_every_glyph() -> None:
    days = [date(2020, 11, 1) + timedelta(days=i) for i in range(40)]
    title = "先锋镇来返人员按日趋势（11月1日—12月10日）"
    png = chart.trend(days, list(range(40)), title, "新增来返人员", "人数")
    assert png.startswith(chart.PNG_SIGNATURE)
    assert chart.missing_glyphs(title + "新增来返人员人数") == []


async def test_the_chain_views_by_their_names(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "member"
    at = h.clock.now().isoformat()
    async with h.db.write() as conn:
        await conn.executemany(
            """INSERT INTO contacts (id, ref, name, address, village_id, grid_id, kind,
                   last_exposure, measure_kind, measure_start, measure_end, state, created_at,
                   updated_at)
               VALUES (?, ?, '某', '街', 'xf', 'XF01', 'close', '2020-10-24',
                       'centralized_isolation', '2020-10-24', '2020-11-07', ?, ?, ?)""",
            [(1, "M1", "isolating", at, at), (2, "M2", "isolating", at, at),
             (3, "M3", "traced", at, at)],
        )  # fmt: skip
        await conn.executemany(
            """INSERT INTO stays (site_id, room, contact_id, measure_kind, start_date, end_date,
                   state, assigned_by, assigned_at)
               VALUES ('GL01', ?, ?, 'centralized_isolation', '2020-10-25', '2020-11-07', 'in',
                       1, ?)""",
            [("101", 1, at), ("102", 2, at)],
        )  # fmt: skip
    await h.text(LEADER, "/stats")
    await h.choose(LEADER, "管控措施")
    assert "当前在管（截至现在）" in h.texts(LEADER)[-1]
    await h.choose(LEADER, "密接")
    assert await last_table(h, LEADER) == [("隔离中", 2), ("已排查待隔离", 1)]
    await h.choose(LEADER, "隔离点")
    assert await last_table(h, LEADER) == [("先锋镇集中隔离点（原粮站招待所）", 2)]
    await h.choose(LEADER, "按村")  # back to the arrivals
    assert "来返人员·按村（社区）" in h.texts(LEADER)[-1]
