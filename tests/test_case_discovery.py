"""Issue 10: the 2-hour direct report runs from when the case was discovered, not from when
it was entered into the bot. The case flow asks it; the countdown, reminders and overdue
escalation follow it; the group sees both times."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.harness import Harness
from tests.test_cases import GROUP, ID_NUMBER, PIN, WORKER, advance_to, group_texts


async def report_found_at(h: Harness, typed: str) -> None:
    await h.text(WORKER, "/case")
    await h.choose(WORKER, "疑似病例")
    await h.text(WORKER, typed)
    await h.choose(WORKER, "新登记人员")
    await h.text(WORKER, "张三丰")
    await h.text(WORKER, "138 1234 5678")
    await h.text(WORKER, ID_NUMBER)
    await h.choose(WORKER, "先锋社区")
    await h.choose(WORKER, "先锋社区第1网格")
    await h.text(WORKER, "幸福小区3栋2单元501")
    await h.send(WORKER, location=PIN)
    await h.text(WORKER, "已居家隔离")
    await h.choose(WORKER, "确认上报")
    await h.drain_outbox()


async def test_the_countdown_runs_from_the_discovery(harness: Harness) -> None:
    h = harness  # the clock stands at 10:00 on 26 October
    await report_found_at(h, "9:10")
    row = await h.db.fetchone("SELECT * FROM cases")
    discovered = datetime.fromisoformat(row["discovered_at"])
    assert discovered == h.clock.now() - timedelta(minutes=50)
    assert datetime.fromisoformat(row["deadline_at"]) == discovered + timedelta(hours=2)
    (alert,) = group_texts(h)
    assert "须于 <b>11:10</b> 前完成网络直报，剩余 1小时10分钟" in alert
    assert "发现时间：10月26日 09:10　录入时间：10月26日 10:00" in alert
    await advance_to(h, 10)  # 60 minutes after the discovery: the first reminder
    assert "提醒" in group_texts(h)[-1] and "剩余 1小时" in group_texts(h)[-1]
    await advance_to(h, 70)  # 11:10: the deadline
    assert group_texts(h)[-1].startswith("🔴 <b>超时")


async def test_a_discovery_already_two_hours_old_escalates_at_once(harness: Harness) -> None:
    h = harness
    await report_found_at(h, "10-26 7:30")
    alert = group_texts(h)[0]
    assert "<b>已超时</b>" in alert and "发现时间：10月26日 07:30" in alert
    await advance_to(h, 0)  # the timers that fell due with the entry fire
    texts = group_texts(h)
    assert texts[-1].startswith("🔴 <b>超时") and "期限 09:30 已过" in texts[-1]
    assert not any("提醒" in t and "剩余" in t for t in texts)  # no late reminders


async def test_bad_discovery_times_are_asked_again_with_the_reason(harness: Harness) -> None:
    h = harness
    await h.text(WORKER, "/case")
    await h.choose(WORKER, "疑似病例")
    assert "什么时候发现的" in h.texts(WORKER)[-1]
    for typed, reason in (("25:00", "没看懂这个时间"), ("10-27 9:00", "不能晚于现在"),
                          ("10-01 9:00", "只能填写最近7天内")):  # fmt: skip
        await h.text(WORKER, typed)
        assert reason in h.texts(WORKER)[-2], typed
        assert "什么时候发现的" in h.texts(WORKER)[-1]
    await h.choose(WORKER, "约1小时前")
    assert "这个人登记过吗" in h.texts(WORKER)[-1]
    draft = await h.db.fetchone("SELECT data FROM drafts")
    assert "discovered_at" in draft["data"]
    assert GROUP not in h.request.keyboards or not group_texts(h)


async def test_a_late_entry_gets_only_the_latest_reminder(harness: Harness) -> None:
    """Discovered at 08:25, entered at 10:00: the 60- and 90-minute reminders are both past;
    the group gets one reminder (25 minutes left), not a burst of stale ones."""
    h = harness
    await report_found_at(h, "8:25")
    await advance_to(h, 0)
    reminders = [t for t in group_texts(h) if t.startswith("⏰")]
    assert len(reminders) == 1 and "剩余 25分钟" in reminders[0]
    await advance_to(h, 15)  # 110 minutes after the discovery: the last reminder
    assert "剩余 10分钟" in group_texts(h)[-1]
    await advance_to(h, 25)
    assert group_texts(h)[-1].startswith("🔴 <b>超时")
