"""The daily unit report (单位日报, issue 13 part D): asked once a day (twice under key
monitoring) with one row per unit, day and slot whatever the restarts; the liaison's card;
零报告 in one tap; 填报's checked answers; the ladder when it is missing; the alerts a report
raises; a liaison of another unit refused and audited; the group's daily report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.actions import digest
from bot.actions import unit_reports as service
from bot.actions import units as units_actions
from bot.app import TICK_JOBS
from bot.config import Config
from bot.runtime.clock import ManualClock
from bot.runtime.timers import fire_due
from tests.conftest import SHANGHAI
from tests.harness import Harness
from tests.staff_helpers import LEADERS_CHAT, VADMIN_XF, WORKER_XF01, WORKER_XF02

LIAISON = 40411  # 先锋宾馆's
OTHER_LIAISON = 40412  # 江南职业学校's
OCT_26 = "2020-10-26"
REFUSED = "您没有权限进行这项操作"

# (id, name, kind, village, grid, headcount, monitored): 先锋宾馆 has a liaison, the school
# (under key monitoring) too; 凤凰农家乐 has none: its grid's worker is asked to phone it.
UNITS = (
    ("hotel1", "先锋宾馆", "hotel", "xf", "XF01", 12, 0),
    ("school1", "江南职业学校", "school", "xf", "XF01", 1200, 1),
    ("farm1", "凤凰农家乐", "farmstay", "xf", "XF02", 6, 0),
)


@pytest.fixture
async def h(config: Config, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Harness]:
    """The example town with this file's units (not the config's) and their liaisons."""
    bare = config.model_copy(update={"key_units": ()})
    harness = await Harness.start(bare, tmp_path / "paicha.sqlite3", clock)
    now = clock.now().isoformat()
    async with harness.db.write() as conn:
        for unit in UNITS:
            await conn.execute(
                """INSERT INTO units (id, name, kind, village_id, grid_id, headcount, monitored,
                       address, source, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, '先锋街1号', 'chat', ?, ?)""",
                (*unit, now, now),
            )
        for user, unit_id in ((LIAISON, "hotel1"), (OTHER_LIAISON, "school1")):
            await conn.execute(
                "INSERT INTO staff (user_id, role, scope, created_at) VALUES (?, 'unit', ?, ?)",
                (user, unit_id, now),
            )
    yield harness
    await harness.stop()


def _at(hour: int, minute: int = 0, day: int = 26) -> datetime:
    return datetime(2020, 10, day, hour, minute, tzinfo=SHANGHAI)


def at(h: Harness, hour: int, minute: int = 0, day: int = 26) -> None:
    h.clock.set(datetime(2020, 10, day, hour, minute, tzinfo=SHANGHAI))


async def rows(h: Harness) -> list[tuple[str, str, int, str]]:
    found = await h.db.fetchall(
        "SELECT unit_id, day, slot, state FROM unit_reports ORDER BY 1, 2, 3"
    )
    return [tuple(r) for r in found]


async def report_id(h: Harness, unit: str, slot: int = 1) -> int:
    row = await h.db.fetchone(
        "SELECT id FROM unit_reports WHERE unit_id = ? AND day = ? AND slot = ?",
        (unit, OCT_26, slot),
    )
    return row["id"]


async def ask_at_four(h: Harness) -> None:
    at(h, 16)
    await service.ask_due(h.services)
    await h.drain_outbox()


async def climb(h: Harness, minutes: int) -> None:
    """``minutes`` later: the ladder's step falls due, then its minute's flush sends it."""
    h.clock.advance(minutes=minutes)
    await fire_due(h.services)
    h.clock.advance(seconds=60)
    await fire_due(h.services)
    await h.drain_outbox()


# --- asking ---------------------------------------------------------------------------------


async def test_each_unit_is_asked_once_a_day_and_a_monitored_one_twice(h: Harness) -> None:
    at(h, 8, 59)
    assert await service.ask_due(h.services) == 0  # nobody's time yet
    at(h, 10)  # the monitored school's 09:00 slot, asked late (the bot was down at 9)
    assert await service.ask_due(h.services) == 1
    assert await service.ask_due(h.services) == 0  # the next tick: nothing more
    at(h, 16)
    assert await service.ask_due(h.services) == 3  # the others' one, the school's second
    assert await rows(h) == [
        ("farm1", OCT_26, 1, "due"), ("hotel1", OCT_26, 1, "due"),
        ("school1", OCT_26, 1, "due"), ("school1", OCT_26, 2, "due"),
    ]  # fmt: skip
    times = await h.db.fetchall(
        "SELECT due_at, deadline_at FROM unit_reports WHERE unit_id = 'school1' ORDER BY slot"
    )
    # counted from the configured time, also for the slot asked late
    assert [(datetime.fromisoformat(t["due_at"]), datetime.fromisoformat(t["deadline_at"]))
            for t in times] == [(_at(9), _at(11)), (_at(16), _at(18))]  # fmt: skip


async def test_a_restart_does_not_ask_again(h: Harness, tmp_path: Path) -> None:
    await ask_at_four(h)
    before = await rows(h)
    await h.stop()
    await h.restart(tmp_path / "paicha.sqlite3")
    assert await service.ask_due(h.services) == 0
    assert await rows(h) == before
    at(h, 16, day=27)  # the next day: asked again
    assert await service.ask_due(h.services) == 4


async def test_the_ask_is_a_tick_job() -> None:
    assert service.ask_due in TICK_JOBS


async def test_the_liaison_gets_the_card_with_fill_and_zero(h: Harness) -> None:
    await ask_at_four(h)
    text = h.texts(LIAISON)[-1]
    assert "单位日报" in text and "先锋宾馆" in text and "10月26日" in text and "18:00" in text
    labels = [label for label, _ in h.buttons(LIAISON)]
    assert labels == ["📝 填报", "✅ 零报告"]
    assert h.texts(OTHER_LIAISON)  # the school's cards go to its own liaison
    assert not any("先锋宾馆" in t for t in h.texts(OTHER_LIAISON))


async def test_a_unit_with_no_liaison_its_worker_is_asked_to_phone(h: Harness) -> None:
    await ask_at_four(h)
    text = h.texts(WORKER_XF02)[-1]
    assert "凤凰农家乐" in text and "电话联系" in text
    assert [label for label, _ in h.buttons(WORKER_XF02)] == ["📝 填报", "✅ 零报告"]


# --- filing ---------------------------------------------------------------------------------


async def test_zero_report_in_one_tap(h: Harness) -> None:
    await ask_at_four(h)
    at(h, 16, 30)
    await h.choose(LIAISON, "零报告")
    row = await h.db.fetchone("SELECT * FROM unit_reports WHERE unit_id = 'hotel1'")
    assert (row["state"], row["zero"], row["present"], row["new_arrivals"], row["key_region"],
            row["symptomatic"], row["filed_by"]) == ("filed", 1, None, None, None, None,
                                                     LIAISON)  # fmt: skip
    assert "已上报先锋宾馆 10月26日的零报告" in h.texts(LIAISON)[-1]
    item = await h.db.fetchone("SELECT state FROM escalations WHERE subject = ?",
                               (f"unitrep:{row['id']}",))  # fmt: skip
    assert item["state"] == "handled"
    audit = await h.db.fetchone("SELECT action, subject FROM audit WHERE actor = ?", (LIAISON,))
    assert tuple(audit) == ("unit_report.zero", "unit:hotel1")
    await h.choose(LIAISON, "零报告")  # a double tap: nothing more stored
    assert "已经上报过了" in h.texts(LIAISON)[-1]


async def test_fill_in_checks_each_number_and_stores_the_figures(h: Harness) -> None:
    await ask_at_four(h)
    await h.choose(LIAISON, "填报")
    assert "今天在岗" in h.texts(LIAISON)[-1]
    await h.text(LIAISON, "很多")
    assert "请输入人数" in h.texts(LIAISON)[-2] and "今天在岗" in h.texts(LIAISON)[-1]
    await h.text(LIAISON, "100000")  # a hotel: its guests count, not its headcount (12)
    assert "不能超过 99999" in h.texts(LIAISON)[-2]
    await h.text(LIAISON, "１０人")  # full-width digits
    assert "今天新到" in h.texts(LIAISON)[-1]
    await h.text(LIAISON, "3")
    await h.text(LIAISON, "4")  # of the 3 new arrivals
    assert "不能多于今天新到的 3 人" in h.texts(LIAISON)[-2]
    await h.text(LIAISON, "1")
    await h.text(LIAISON, "11")  # of the 10 present
    assert "不能多于在岗的 10 人" in h.texts(LIAISON)[-2]
    await h.choose(LIAISON, "无")
    await h.choose(LIAISON, "没有了")
    summary = h.texts(LIAISON)[-1]
    assert "在岗（在校、在住）：10 人" in summary and "其中重点地区 1 人" in summary
    await h.choose(LIAISON, "确认上报")
    row = await h.db.fetchone("SELECT * FROM unit_reports WHERE unit_id = 'hotel1'")
    assert (row["state"], row["zero"], row["present"], row["new_arrivals"], row["key_region"],
            row["symptomatic"], row["note"]) == ("filed", 0, 10, 3, 1, 0, "")  # fmt: skip
    assert "已上报先锋宾馆 10月26日的日报" in h.texts(LIAISON)[-1]


async def test_a_liaison_of_another_unit_is_refused_and_audited(h: Harness) -> None:
    await ask_at_four(h)
    hotel = await report_id(h, "hotel1")
    for what in ("z", "f"):
        await h.press(OTHER_LIAISON, f"v1:ur:{what}:{hotel}")
        assert REFUSED in h.texts(OTHER_LIAISON)[-1]
    denied = await h.db.fetchall(
        "SELECT action, subject FROM audit WHERE actor = ? ORDER BY id", (OTHER_LIAISON,)
    )
    assert [tuple(r) for r in denied] == [("denied:unit.report", "unit:hotel1")] * 2
    assert (await rows(h))[1] == ("hotel1", OCT_26, 1, "due")


async def test_the_worker_who_phoned_may_file_for_a_unit_with_no_liaison(h: Harness) -> None:
    await ask_at_four(h)
    await h.choose(WORKER_XF02, "零报告")
    assert ("farm1", OCT_26, 1, "filed") in await rows(h)


# --- the ladder -------------------------------------------------------------------------------


async def test_a_missing_report_climbs_worker_admin_group(h: Harness) -> None:
    await ask_at_four(h)
    at(h, 18)
    await climb(h, 0)  # the deadline: the unit's grid worker
    assert any("单位日报未报" in t and "先锋宾馆" in t for t in h.texts(WORKER_XF01))
    assert not any("先锋宾馆" in t for t in h.texts(VADMIN_XF))
    await climb(h, 59)  # an hour after the deadline: the village admin
    assert any("单位日报未报" in t and "先锋宾馆" in t for t in h.texts(VADMIN_XF))
    assert not any("先锋宾馆" in t for t in h.texts(LEADERS_CHAT))
    await climb(h, 59)  # two hours after: the leadership group
    assert any("先锋宾馆" in t for t in h.texts(LEADERS_CHAT) if "升级至领导小组" in t)


async def test_asked_past_its_deadline_the_ladder_starts_at_once(h: Harness) -> None:
    at(h, 19)  # the bot was down from before 16:00 until 19:00
    await service.ask_due(h.services)
    await climb(h, 0)
    assert "先锋宾馆" in h.texts(LIAISON)[-1]  # the card, all the same
    assert any("单位日报未报" in t and "先锋宾馆" in t for t in h.texts(WORKER_XF01))
    assert any("先锋宾馆" in t for t in h.texts(VADMIN_XF))  # 18:00 + 1 hour: passed too


async def test_filing_stops_the_ladder_and_a_late_one_is_marked(h: Harness) -> None:
    await ask_at_four(h)
    at(h, 18)
    await climb(h, 0)  # the worker was told
    await h.choose(LIAISON, "零报告")  # at 18:01: late
    assert "记为迟报" in h.texts(LIAISON)[-1]
    await climb(h, 59)
    assert not any("先锋宾馆" in t for t in h.texts(VADMIN_XF))
    audit = await h.db.fetchone("SELECT detail FROM audit WHERE actor = ?", (LIAISON,))
    assert audit["detail"] == "2020-10-26#1 late"


# --- alerts ---------------------------------------------------------------------------------


async def fill(h: Harness, user: int, *answers: str) -> None:
    await h.choose(user, "填报")
    for answer in answers:
        await h.text(user, answer)
    await h.choose(user, "没有了")
    await h.choose(user, "确认上报")
    await h.drain_outbox()


async def test_fever_alerts_the_worker_and_the_group_counts_only(h: Harness) -> None:
    await ask_at_four(h)
    await fill(h, LIAISON, "10", "2", "1", "2")
    sick = [t for t in h.texts(WORKER_XF01) if "发热或有症状" in t and "先锋宾馆" in t]
    assert sick and "发热或有症状 <b>2</b> 人，在岗 10 人" in sick[-1]
    assert any("发现发热或有症状人员" in t for t in h.texts(LEADERS_CHAT))
    key = [t for t in h.texts(WORKER_XF01) if "重点地区来人" in t]
    assert key and "其中来自重点地区 <b>1</b> 人" in key[-1]
    assert not any("重点地区来人" in t for t in h.texts(LEADERS_CHAT))


async def test_a_quiet_report_alerts_nobody(h: Harness) -> None:
    await ask_at_four(h)
    before = len(h.texts(LEADERS_CHAT))
    await fill(h, LIAISON, "10", "0", "0", "0")
    assert len(h.texts(LEADERS_CHAT)) == before


# --- the group's daily report -----------------------------------------------------------------


async def test_the_daily_report_shows_the_tally_and_the_monitored_units(h: Harness) -> None:
    at(h, 10)
    await service.ask_due(h.services)  # the school's 09:00
    await h.drain_outbox()
    await fill(h, OTHER_LIAISON, "1100", "20", "2", "0")
    await ask_at_four(h)
    await h.choose(LIAISON, "零报告")  # the hotel in time; 农家乐 not at all
    at(h, 20)
    async with h.db.write() as conn:
        built = await digest.build(h.services, conn, since=h.clock.now() - timedelta(hours=12),
                                   until=h.clock.now(), now=h.clock.now())  # fmt: skip
    text = built.text
    assert "重点单位日报</b>（10月26日）" in text
    assert "应报 4 份：已报 2，待报 0，逾期未报 <b>2</b>" in text
    assert ("🔍 江南职业学校（重点监测）：在岗 1100，新到 20，重点地区 2，发热/症状 0；"
            "第二次 <b>未报</b>") in text  # fmt: skip
    assert "先锋宾馆（重点监测）" not in text


async def test_the_morning_report_shows_yesterdays_reports(h: Harness) -> None:
    await ask_at_four(h)
    at(h, 8, day=27)
    async with h.db.write() as conn:
        section = await service.day_section(h.services, conn, h.clock.now())
    assert section.day.isoformat() == OCT_26
    assert (section.tally.total, section.tally.missing) == (4, 4)


async def test_unitreport_sends_the_cards_still_due_again(h: Harness) -> None:
    await h.text(LIAISON, "/unitreport")
    assert "没有待填报的日报" in h.texts(LIAISON)[-1]
    await ask_at_four(h)
    await h.text(LIAISON, "/unitreport")
    assert "先锋宾馆" in h.texts(LIAISON)[-1] and "18:00" in h.texts(LIAISON)[-1]
    await h.choose(LIAISON, "零报告")
    await h.text(LIAISON, "/unitreport")
    assert "没有待填报的日报" in h.texts(LIAISON)[-1]
    await h.text(WORKER_XF01, "/unitreport")  # not a liaison: refused
    assert REFUSED in h.texts(WORKER_XF01)[-1]


# --- review fixes -----------------------------------------------------------------------------


async def mark(h: Harness, unit: str, hour: int) -> None:
    """A leader marks the unit 重点监测 at ``hour`` today."""
    at(h, hour)
    await units_actions.set_monitored(h.services, unit, True, VADMIN_XF)


async def test_marked_at_noon_its_morning_slot_is_not_asked(h: Harness) -> None:
    await mark(h, "hotel1", 12)
    await service.ask_due(h.services)  # the school's 09:00, late; the hotel's: not today
    assert [r for r in await rows(h) if r[0] == "hotel1"] == []
    await h.drain_outbox()
    assert not any("先锋宾馆" in t for t in h.texts(LIAISON))
    at(h, 12, 2)
    await climb(h, 0)
    assert not any("先锋宾馆" in t for t in h.texts(WORKER_XF01))
    await ask_at_four(h)  # its 16:00 is asked, as slot 2
    assert ("hotel1", OCT_26, 2, "due") in await rows(h)
    assert ("hotel1", OCT_26, 1, "due") not in await rows(h)
    assert sum("先锋宾馆" in t and "单位日报" in t for t in h.texts(LIAISON)) == 1


async def test_marked_after_its_report_was_filed_no_second_card_for_that_time(
    h: Harness,
) -> None:
    await ask_at_four(h)
    await h.choose(LIAISON, "零报告")
    await mark(h, "hotel1", 17)
    cards = sum("单位日报" in t for t in h.texts(LIAISON))
    assert await service.ask_due(h.services) == 0
    await h.drain_outbox()
    assert [r for r in await rows(h) if r[0] == "hotel1"] == [("hotel1", OCT_26, 1, "filed")]
    assert sum("单位日报" in t for t in h.texts(LIAISON)) == cards
    at(h, 16, day=27)  # the next day: both of its slots too
    assert await service.ask_due(h.services) == 5


async def test_a_zero_report_tapped_by_mistake_is_corrected_by_fill_in(h: Harness) -> None:
    await ask_at_four(h)
    await h.choose(LIAISON, "零报告")
    assert "当天可以再点“填报”更正" in h.texts(LIAISON)[-1]
    at(h, 17)  # a fever found afterwards
    await fill(h, LIAISON, "10", "0", "0", "1")
    assert "已更正先锋宾馆 10月26日的日报" in h.texts(LIAISON)[-1]
    row = await h.db.fetchone("SELECT * FROM unit_reports WHERE unit_id = 'hotel1'")
    assert (row["state"], row["zero"], row["present"], row["new_arrivals"], row["key_region"],
            row["symptomatic"]) == ("filed", 0, 10, 0, 0, 1)  # fmt: skip
    assert datetime.fromisoformat(row["filed_at"]) == _at(16)  # filed in time all the same
    assert any("发热或有症状 <b>1</b> 人" in t for t in h.texts(WORKER_XF01))
    assert any("发现发热或有症状人员" in t and "先锋宾馆" in t for t in h.texts(LEADERS_CHAT))
    actions = await h.db.fetchall("SELECT action FROM audit WHERE actor = ? ORDER BY id",
                                  (LIAISON,))  # fmt: skip
    assert [a["action"] for a in actions] == ["unit_report.zero", "unit_report.correct"]
    hotel = await report_id(h, "hotel1")
    await h.press(LIAISON, f"v1:ur:z:{hotel}")  # 零报告 on a report with figures: they stay
    assert "已经上报过了" in h.texts(LIAISON)[-1]
    assert (await h.db.fetchone("SELECT zero FROM unit_reports WHERE id = ?", (hotel,)))[0] == 0
    at(h, 9, day=27)  # the next day: yesterday's report stays as it is
    await h.press(LIAISON, f"v1:ur:f:{hotel}")
    assert "已经上报过了" in h.texts(LIAISON)[-1]


async def test_a_key_region_count_with_nobody_following_the_unit_goes_to_the_group(
    h: Harness,
) -> None:
    inn_liaison = 40413
    now = h.clock.now().isoformat()
    async with h.db.write() as conn:  # 保坪村 has no admin in the bot, the inn no grid
        await conn.execute(
            """INSERT INTO units (id, name, kind, village_id, headcount, source, created_at,
                   updated_at) VALUES ('inn1', '保坪客栈', 'homestay', 'bsp', 4, 'chat', ?, ?)""",
            (now, now),
        )
        await conn.execute(
            "INSERT INTO staff (user_id, role, scope, created_at) VALUES (?, 'unit', 'inn1', ?)",
            (inn_liaison, now),
        )
    await ask_at_four(h)
    await fill(h, inn_liaison, "5", "2", "2", "0")
    key = [t for t in h.texts(LEADERS_CHAT) if "重点地区来人" in t and "保坪客栈" in t]
    assert key and "其中来自重点地区 <b>2</b> 人" in key[-1]


async def test_a_retired_unit_stops_climbing(h: Harness) -> None:
    async with h.db.write() as conn:
        await conn.execute("UPDATE units SET source = 'config' WHERE id = 'hotel1'")
    await ask_at_four(h)
    hotel = await report_id(h, "hotel1")
    await units_actions.seed(h.services)  # the config lists it no more: retired
    row = await h.db.fetchone("SELECT state, closed_at FROM unit_reports WHERE id = ?", (hotel,))
    assert row["state"] == "due" and row["closed_at"] is not None
    item = await h.db.fetchone("SELECT state FROM escalations WHERE subject = ?",
                               (f"unitrep:{hotel}",))  # fmt: skip
    assert item["state"] == "handled"
    at(h, 18)
    await climb(h, 0)
    await climb(h, 120)
    assert not any("先锋宾馆" in t for t in h.texts(WORKER_XF01) if "未报" in t)
    assert not any("先锋宾馆" in t for t in h.texts(LEADERS_CHAT))
    await h.text(LIAISON, "/unitreport")
    assert "没有待填报的日报" in h.texts(LIAISON)[-1]
    async with h.db.write() as conn:
        section = await service.day_section(h.services, conn, h.clock.now())
    assert section.tally.total == 3  # its closed report not counted


async def test_a_day_the_bot_was_down_shows_its_units_never_asked(h: Harness) -> None:
    at(h, 8, day=27)  # the bot down from before 09:00 on the 26th until now
    async with h.db.write() as conn:
        built = await digest.build(h.services, conn, since=_at(20, day=26),
                                   until=h.clock.now(), now=h.clock.now())  # fmt: skip
    assert "重点单位日报</b>（10月26日）" in built.text
    assert "另有 <b>3</b> 家单位系统停机未询问" in built.text


async def test_the_morning_report_shows_the_previous_full_day_after_a_morning_slot(
    h: Harness,
) -> None:
    await ask_at_four(h)
    at(h, 10, day=27)
    await service.ask_due(h.services)  # the school's 09:00 of the 27th
    async with h.db.write() as conn:
        section = await service.day_section(h.services, conn, h.clock.now())
    assert section.day.isoformat() == OCT_26
    assert (section.tally.total, section.tally.missing, section.unasked) == (4, 4, 0)
