"""The units drill (scenarios/units.toml, issue 13) played against the live bot: a hotel's
liaison registers two guests, one from a key region (the group's alert names the hotel), the
day's unit report is missed (the ladder: the grid worker, the village admin, the group), the
next morning it is filed late, and the next day's is a 零报告 on time (no ladder)."""

from __future__ import annotations

import sqlite3

from tests.e2e.conftest import Live
from tests.e2e.test_drill_e2e import play, texts_with


def stored(live: Live, sql: str) -> list[tuple]:
    """Rows of the bot's database (columns that are not sealed), after the drill."""
    with sqlite3.connect(live.log_path.parent / "paicha.sqlite3") as db:
        return db.execute(sql).fetchall()


async def test_the_units_drill_passes_against_the_real_bot(live: Live) -> None:
    await play(live, "units.toml")
    leaders = "\n".join(live.texts("leaders"))
    for secret in ("艾力", "杨雪", "13800000021", "13800000022", "653101199006120035",
                   "510107198504200046"):  # fmt: skip
        assert secret not in leaders, f"{secret} unmasked in the leadership group"
    # the guest from Kashgar alerts the group at once, naming the hotel; the one from Chengdu
    # does not
    alerts = texts_with(live, "leaders", "预警：重点人员到达")
    assert len(alerts) == 1 and "XF-20201120-0001" in alerts[0]
    assert "先锋宾馆（单位联络员登记）" in alerts[0] and "房间 305" in alerts[0]
    assert stored(live, "SELECT ref, unit_id FROM reports ORDER BY ref") == [
        ("XF-20201120-0001", "xfhotel"), ("XF-20201120-0002", "xfhotel")]  # fmt: skip
    # the missed report climbs: the worker at the deadline, the admin, then the group
    assert len(texts_with(live, "worker_XF01", "先锋宾馆 11/20")) == 1
    assert texts_with(live, "admin_xf", "先锋宾馆 11/20")
    climbed = texts_with(live, "leaders", "升级至领导小组")
    assert [t for t in climbed if "单位日报未报 先锋宾馆 11/20" in t]
    # filed late the next morning: the key-region arrival reaches the worker
    assert texts_with(live, "liaison_xfhotel", "11月20日的日报。已超过填报时限，记为迟报")
    key = texts_with(live, "worker_XF01", "有重点地区来人")
    assert len(key) == 1 and "先锋宾馆" in key[0] and "重点地区 1 人" in key[0]
    # the next day's 零报告, on time: nobody is chased for it
    assert texts_with(live, "liaison_xfhotel", "先锋宾馆 11月21日的零报告")
    for chat in ("worker_XF01", "admin_xf", "leaders"):
        assert not texts_with(live, chat, "先锋宾馆 11/21"), chat
    assert stored(live, """SELECT day, state, zero, new_arrivals, key_region, symptomatic,
                                  filed_at > deadline_at
                           FROM unit_reports WHERE unit_id = 'xfhotel' ORDER BY day""") == [
        ("2020-11-20", "filed", 0, 2, 1, 0, 1),
        ("2020-11-21", "filed", 1, None, None, None, 0)]  # fmt: skip
