"""/my: a resident's own reports, and withdrawing one (once, only by its reporter)."""

from __future__ import annotations

from tests.harness import Harness
from tests.test_arrival_flow import RESIDENT, answer_to_summary, count, submit

STRANGER = 515151


async def submitted(h: Harness) -> int:
    await answer_to_summary(h)
    await submit(h)
    row = await h.db.fetchone("SELECT id FROM reports")
    return row["id"]


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
    assert "登记 XF-20201026-0001 已撤回" in h.texts(RESIDENT)[-1]
    row = await h.db.fetchone("SELECT state FROM reports")
    assert row["state"] == "withdrawn"
    audit = await h.db.fetchall("SELECT actor, action, subject FROM audit WHERE action = ?",
                                ("report.withdraw",))  # fmt: skip
    assert [tuple(a) for a in audit] == [(RESIDENT, "report.withdraw", f"report:{report_id}")]

    await h.press(RESIDENT, data)  # the same button again
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
    assert "已撤回" not in h.texts(STRANGER)[-1]
    row = await h.db.fetchone("SELECT state FROM reports")
    assert row["state"] == "open"
    assert await h.db.fetchone("SELECT * FROM audit WHERE action = 'report.withdraw'") is None


async def test_withdrawn_report_is_not_updated_by_a_new_one(harness: Harness) -> None:
    h = harness
    report_id = await submitted(h)
    await h.press(RESIDENT, f"v1:my:withdraw:{report_id}")
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
    watched = await h.db.fetchone("SELECT state FROM monitoring WHERE report_id = ?", (report_id,))
    assert watched["state"] == "stopped"
    pending = await h.db.fetchone(
        """SELECT COUNT(*) FROM timers WHERE state = 'pending'
           AND (subject = ? OR subject IN (SELECT 'monitoring:' || id FROM monitoring))""",
        (f"report:{report_id}",),
    )
    assert pending[0] == 0
