"""/my: a resident's own reports, and withdrawing one (asked once more; once, only by its
reporter)."""

from __future__ import annotations

from sandbox.recording import Call
from tests.harness import Harness
from tests.test_arrival_flow import RESIDENT, WORKER_XF01, answer_to_summary, count, submit

STRANGER = 515151


async def submitted(h: Harness) -> int:
    await answer_to_summary(h)
    await submit(h)
    row = await h.db.fetchone("SELECT id FROM reports")
    return row["id"]


async def withdraw(h: Harness, report_id: int, user: int = RESIDENT) -> list[Call]:
    """Press a report's withdraw button, then "确定撤回" on the question it asks."""
    await h.press(user, f"v1:my:withdraw:{report_id}")
    return await h.choose(user, "确定撤回")


async def test_my_lists_own_reports(harness: Harness) -> None:
    h = harness
    await submitted(h)
    calls = await h.text(RESIDENT, "/my")
    text = calls[-1].params["text"]
    assert "我的登记" in text and "XF-20201026-0001" in text and "张三" in text
    assert "10月25日到达" in text and "有效" in text
    assert h.buttons(RESIDENT)[-1][0] == "撤回 XF-20201026-0001"


async def test_my_with_nothing_and_for_someone_else(harness: Harness) -> None:
    h = harness
    calls = await h.text(RESIDENT, "/my")
    assert "您还没有提交过登记" in calls[-1].params["text"]
    await submitted(h)
    calls = await h.text(STRANGER, "/my")
    assert "您还没有提交过登记" in calls[-1].params["text"]
    assert "XF-20201026-0001" not in calls[-1].params["text"]


async def test_menu_button_shows_my_reports(harness: Harness) -> None:
    h = harness
    await submitted(h)
    await h.text(RESIDENT, "/start")
    await h.choose(RESIDENT, "我的登记")
    assert "XF-20201026-0001" in h.texts(RESIDENT)[-1]


async def test_withdraw_once(harness: Harness) -> None:
    h = harness
    report_id = await submitted(h)
    await h.text(RESIDENT, "/my")
    data = h.buttons(RESIDENT)[-1][1]
    assert data == f"v1:my:withdraw:{report_id}"
    await h.press(RESIDENT, data)
    assert "确定撤回 <code>XF-20201026-0001</code>？" in h.texts(RESIDENT)[-1]
    row = await h.db.fetchone("SELECT state FROM reports")
    assert row["state"] == "open"  # only asked so far
    calls = await h.choose(RESIDENT, "确定撤回")
    edited = [c for c in calls if c.method == "editMessageText"]
    assert "登记 <code>XF-20201026-0001</code> 已撤回" in edited[-1].params["text"]
    assert "reply_markup" not in edited[-1].params  # the question's buttons are gone
    row = await h.db.fetchone("SELECT state FROM reports")
    assert row["state"] == "withdrawn"
    audit = await h.db.fetchall("SELECT actor, action, subject FROM audit WHERE action = ?",
                                ("report.withdraw",))  # fmt: skip
    assert [tuple(a) for a in audit] == [(RESIDENT, "report.withdraw", f"report:{report_id}")]

    await h.press(RESIDENT, data)  # the same button again
    assert "已经撤回过" in h.texts(RESIDENT)[-1]
    await h.press(RESIDENT, f"v1:my:withdraw_yes:{report_id}")  # and its confirmation
    assert "已经撤回过" in h.texts(RESIDENT)[-1]
    assert await count(h, "audit") == 2  # report.create and one report.withdraw

    calls = await h.text(RESIDENT, "/my")
    assert "已撤回" in calls[-1].params["text"]
    assert calls[-1].params.get("reply_markup") is None  # nothing left to withdraw


async def test_someone_else_cannot_withdraw(harness: Harness) -> None:
    h = harness
    report_id = await submitted(h)
    await h.press(STRANGER, f"v1:my:withdraw:{report_id}")
    assert "不是您提交的" in h.texts(STRANGER)[-1]
    await h.press(STRANGER, f"v1:my:withdraw_yes:{report_id}")
    assert "不是您提交的" in h.texts(STRANGER)[-1]
    assert "已撤回" not in h.texts(STRANGER)[-1]
    row = await h.db.fetchone("SELECT state FROM reports")
    assert row["state"] == "open"
    assert await h.db.fetchone("SELECT * FROM audit WHERE action = 'report.withdraw'") is None


async def test_withdrawn_report_is_not_updated_by_a_new_one(harness: Harness) -> None:
    h = harness
    report_id = await submitted(h)
    await withdraw(h, report_id)
    await answer_to_summary(h)
    receipt = await submit(h)
    assert "XF-20201026-0002" in receipt and "您14天内已经登记过" not in receipt


async def test_withdrawing_stops_health_monitoring_and_deadlines(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, code="yellow")  # 黄码: seven days of home health monitoring
    await submit(h)
    report_id = (await h.db.fetchone("SELECT id FROM reports"))["id"]
    watched = await h.db.fetchone("SELECT state FROM monitoring WHERE report_id = ?", (report_id,))
    assert watched["state"] == "active"
    await h.text(RESIDENT, "/my")
    await h.press(RESIDENT, h.buttons(RESIDENT)[-1][1])
    await h.choose(RESIDENT, "确定撤回")
    # key control: it goes on until the grid worker confirms the withdrawal
    watched = await h.db.fetchone("SELECT state FROM monitoring WHERE report_id = ?", (report_id,))
    assert watched["state"] == "active"
    await h.drain_outbox()
    await h.choose(WORKER_XF01, "确认撤回")
    watched = await h.db.fetchone("SELECT state FROM monitoring WHERE report_id = ?", (report_id,))
    assert watched["state"] == "stopped"
    pending = await h.db.fetchone(
        """SELECT COUNT(*) FROM timers WHERE state = 'pending'
           AND (subject = ? OR subject IN (SELECT 'monitoring:' || id FROM monitoring))""",
        (f"report:{report_id}",),
    )
    assert pending[0] == 0
