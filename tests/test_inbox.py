"""The worker's inbox (/tasks) and the verification of an arrival, through PTB's pipeline."""

from __future__ import annotations

import json

from tests.harness import Harness
from tests.staff_helpers import (
    LEADERS_CHAT,
    RESIDENT,
    WORKER_XF01,
    audit_actions,
    seed_report,
)
from tests.test_arrival_flow import answer_to_summary, submit


async def open_card(h: Harness, report_id: int, user: int = WORKER_XF01) -> str:
    await h.text(user, "/tasks")
    await h.press(user, f"v1:tk:o:{report_id}")
    return h.texts(user)[-1]


async def test_tasks_lists_pending_arrivals_oldest_first_with_counts(harness: Harness) -> None:
    h = harness
    first = await seed_report(h, name="李四")
    h.clock.advance(minutes=5)
    await seed_report(h, name="王五", phone="13911112222", id_number="110105194912310011")
    await seed_report(
        h,
        grid="SQ01",
        village="sq",
        name="赵六",
        phone="13933334444",
        id_number="110105194912310038",
    )
    await h.text(WORKER_XF01, "/tasks")
    text = h.texts(WORKER_XF01)[-1]
    assert "待核实的到达登记 2 份" in text and "先锋社区第1网格：2 份" in text
    labels = [label for label, _ in h.buttons(WORKER_XF01)]
    assert "李四" in labels[0] and "王五" in labels[1] and not any("赵六" in x for x in labels)
    card = await open_card(h, first)
    assert "13912345678" in card and "11010519491231002X" in card  # full: in scope, private
    assert f"view:report:{first}" in await audit_actions(h, WORKER_XF01)


async def test_verify_with_a_changed_measure(harness: Harness) -> None:
    h = harness
    report_id = await seed_report(h)
    await open_card(h, report_id)
    await h.choose(WORKER_XF01, "核实无误")
    await h.choose(WORKER_XF01, "都已查验")
    await h.choose(WORKER_XF01, "居家医学观察")
    await h.choose(WORKER_XF01, "今天")
    await h.text(WORKER_XF01, "已张贴告知书")
    done = h.texts(WORKER_XF01)[-1]
    assert "已核实" in done and "居家医学观察" in done
    report = await h.db.fetchone("SELECT * FROM reports WHERE id = ?", (report_id,))
    assert report["review"] == "verified" and report["measure_kind"] == "home_observation"
    assert report["measure_start"] == "2020-10-26"
    assert report["measure_end"] == "2020-11-08"  # 14 days, the last one inclusive
    # health monitoring now follows the confirmed measure: check-ins are scheduled
    watched = await h.db.fetchone("SELECT * FROM monitoring WHERE report_id = ?", (report_id,))
    assert (watched["kind"], watched["state"]) == ("home_observation", "active")
    row = await h.db.fetchone("SELECT * FROM verifications")
    assert (
        row["outcome"],
        row["health_code_checked"],
        row["test_checked"],
        row["note"],
        row["worker"],
    ) == ("verified", 1, 1, "已张贴告知书", WORKER_XF01)
    assert "report.verified" in await audit_actions(h, WORKER_XF01)
    await h.drain_outbox()
    assert "已经网格员核实" in h.texts(RESIDENT)[-1]
    await h.text(WORKER_XF01, "/tasks")
    assert "暂时没有待核实的登记" in h.texts(WORKER_XF01)[-1]
    # the old card's button does nothing twice
    await h.press(WORKER_XF01, f"v1:tk:ok:{report_id}")
    assert "已经处理过了" in h.texts(WORKER_XF01)[-1]


async def test_information_wrong_asks_the_reporter_to_correct(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    await submit(h)
    report_id = (await h.db.fetchone("SELECT id FROM reports"))["id"]
    await open_card(h, report_id)
    await h.choose(WORKER_XF01, "信息有误")
    await h.text(WORKER_XF01, "门牌号应为302")
    assert "信息有误" in h.texts(WORKER_XF01)[-1]
    assert (await h.db.fetchone("SELECT review FROM reports"))["review"] == "wrong"
    await h.drain_outbox()
    told = h.texts(RESIDENT)[-1]
    assert "门牌号应为302" in told and "/arrive" in told
    # the resident corrects it: the same report, pending again
    await answer_to_summary(h)
    await submit(h)
    row = await h.db.fetchone("SELECT review, version FROM reports")
    assert (row["review"], row["version"]) == ("pending", 2)


async def test_escalate_alerts_the_leadership_group_with_masked_data(harness: Harness) -> None:
    h = harness
    report_id = await seed_report(h)
    await open_card(h, report_id)
    await h.choose(WORKER_XF01, "上报领导小组")
    assert "已将" in h.texts(WORKER_XF01)[-1]
    row = await h.db.fetchone("SELECT * FROM outbox WHERE chat_id = ?", (LEADERS_CHAT,))
    assert row["priority"] == 0
    await h.drain_outbox()
    alert = h.texts(LEADERS_CHAT)[-1]
    assert "XF-20201026-0001" in alert and "139****5678" in alert and "李*" in alert
    assert "13912345678" not in alert and "11010519491231002X" not in alert
    await h.press(WORKER_XF01, f"v1:tk:esc:{report_id}")  # twice: one alert
    assert len(h.texts(LEADERS_CHAT)) == 1
    review = await h.db.fetchone("SELECT review FROM reports")
    assert review["review"] == "escalated"
    await h.text(WORKER_XF01, "/tasks")
    assert "1 份" in h.texts(WORKER_XF01)[-1]  # still to verify


async def test_invited_worker_receives_new_reports_and_config_worker_after_revoke_not(
    harness: Harness,
) -> None:
    h = harness
    await h.db.write_one("UPDATE staff SET active = 0 WHERE user_id = ?", (WORKER_XF01,))
    await answer_to_summary(h)
    await submit(h)
    await h.drain_outbox()
    assert h.texts(WORKER_XF01) == [t for t in h.texts(WORKER_XF01) if "新的到达登记" not in t]
    assert any("新的到达登记" in t for t in h.texts(20001))  # the village admin instead
    data = json.loads((await h.db.fetchone("SELECT data FROM reports"))["data"])
    assert data["grid"] == "XF01"
