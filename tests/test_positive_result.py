"""Issue 10: a positive nucleic-acid result is never ignored. Self-reported on arrival or
recorded by a worker, it alerts the worker and the leadership group at once and opens a
suspected case with its 2-hour direct-report countdown, pending a human's confirmation
(confirmed in the group or by the case flow prefilled with the person; or ruled out)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.harness import Harness
from tests.test_arrival_flow import LEADERS, RESIDENT, WORKER_XF01, answer_to_summary, submit
from tests.test_cases import PIN, advance_to, answers
from tests.test_checkins import at, monitored

LEADER = 10001
OTHER_WORKER = 30003  # another village's grid


async def positive_arrival(h: Harness) -> dict:
    await answer_to_summary(h, origin="四川省成都市武侯区", test_result="positive")
    receipt = await submit(h)
    await h.drain_outbox()
    return {"receipt": receipt, "case": await h.db.fetchone("SELECT * FROM cases")}


async def test_green_code_and_positive_test_is_not_low_risk(harness: Harness) -> None:
    h = harness
    got = await positive_arrival(h)
    report = await h.db.fetchone("SELECT risk, alert, measure_kind FROM reports")
    assert (report["risk"], report["alert"], report["measure_kind"]) == (
        "symptomatic", 1, "medical_care")  # fmt: skip
    assert "核酸检测结果阳性" in got["receipt"] and "发热门诊" in got["receipt"]
    case = got["case"]
    assert case is not None
    assert (case["kind"], case["state"], case["confirmation"], case["source"]) == (
        "suspected", "open", "pending", "arrival")  # fmt: skip
    assert case["reported_by"] == 0 and case["report_id"] is not None
    assert datetime.fromisoformat(case["discovered_at"]) == h.clock.now()
    assert datetime.fromisoformat(case["deadline_at"]) == h.clock.now() + timedelta(hours=2)
    # the group: the arrival alert and the case's card, with confirm / rule out buttons
    group = h.texts(LEADERS)
    card = next(t for t in group if "发现疑似病例" in t)
    assert "核酸检测阳性" in card and "待人工确认是否为病例" in card
    assert "剩余 2小时" in card and "张*" in card and "张三" not in card
    labels = [label for label, _ in h.request.keyboards[LEADERS]]
    assert labels[:4] == ["📨 已网络直报", "👌 收到", "✔️ 确认是病例", "❎ 排除，不是病例"]
    assert any("预警" in t and "核酸检测结果阳性" in t for t in group)
    # the grid's worker: the notice with the case flow and "rule out"
    notice = next(t for t in h.texts(WORKER_XF01) if "你负责的区域发现疑似病例" in t)
    assert "定人定位定状态" in notice
    worker_labels = [label for label, _ in h.buttons(WORKER_XF01)]
    assert worker_labels[:2] == ["📝 定人定位定状态（确认病例）", "❎ 排除，不是病例"]
    assert all(len(data.encode()) <= 64 for _, data in h.buttons(WORKER_XF01))
    assert h.texts(OTHER_WORKER) == []
    # the case ladder runs: the reminder 60 minutes after the result was reported
    await advance_to(h, 60)
    assert "提醒" in h.texts(LEADERS)[-1] and case["ref"] in h.texts(LEADERS)[-1]


async def test_resubmitting_the_report_opens_no_second_case(harness: Harness) -> None:
    h = harness
    await positive_arrival(h)
    await answer_to_summary(h, origin="四川省成都市武侯区", test_result="positive")
    await submit(h)
    row = await h.db.fetchone("SELECT COUNT(*) AS n FROM cases")
    assert row["n"] == 1


async def test_negative_and_pending_results_open_no_case(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, origin="四川省成都市武侯区", test_result="pending")
    await submit(h)
    assert (await h.db.fetchone("SELECT COUNT(*) AS n FROM cases"))["n"] == 0


async def test_worker_opens_the_prefilled_case_flow_which_confirms(harness: Harness) -> None:
    h = harness
    case = (await positive_arrival(h))["case"]
    await h.press(WORKER_XF01, f"v1:cs:{case['id']}:f")
    # who and when are known: the kind, then straight to the location pin
    assert "发现的是哪一类" in h.texts(WORKER_XF01)[-1]
    await h.choose(WORKER_XF01, "确诊病例")
    assert "发送当前位置" in h.texts(WORKER_XF01)[-1]
    await h.send(WORKER_XF01, location=PIN)
    await h.text(WORKER_XF01, "已送定点医院")
    summary = h.texts(WORKER_XF01)[-1]
    assert "张三" in summary and "先锋街12号2单元301" in summary  # prefilled, in full
    await h.choose(WORKER_XF01, "确认上报")
    await h.drain_outbox()
    row = await h.db.fetchone("SELECT * FROM cases")
    assert (row["confirmation"], row["confirmed_by"], row["kind"], row["status"]) == (
        "confirmed", WORKER_XF01, "confirmed", "已送定点医院")  # fmt: skip
    assert row["latitude"] == PIN["latitude"]
    assert row["deadline_at"] == case["deadline_at"]  # the countdown is not restarted
    assert (await h.db.fetchone("SELECT COUNT(*) AS n FROM cases"))["n"] == 1
    assert any("确认为病例" in t for t in h.texts(LEADERS))
    audit = await h.db.fetchone("SELECT actor, detail FROM audit WHERE action = 'case.confirm'")
    assert (audit["actor"], audit["detail"]) == (WORKER_XF01, "flow")


async def test_a_leader_rules_it_out_and_the_countdown_stops(harness: Harness) -> None:
    h = harness
    case = (await positive_arrival(h))["case"]
    await h.press(OTHER_WORKER, f"v1:cs:{case['id']}:x")  # not their grid: refused
    assert (await h.db.fetchone("SELECT state FROM cases"))["state"] == "open"
    await h.press(LEADER, f"v1:cs:{case['id']}:x")
    assert "已排除" in answers(h)[-1]
    await h.drain_outbox()
    row = await h.db.fetchone("SELECT * FROM cases")
    assert (row["state"], row["confirmation"], row["confirmed_by"]) == (
        "closed", "ruled_out", LEADER)  # fmt: skip
    assert "排除（不是病例）" in h.texts(LEADERS)[-1]
    assert await h.db.fetchone("SELECT 1 FROM audit WHERE action = 'case.rule_out'")
    count = len(h.texts(LEADERS))
    for minutes in (60, 120, 135):
        await advance_to(h, minutes)
    assert len(h.texts(LEADERS)) == count  # no reminder, no escalation
    await h.press(LEADER, f"v1:cs:{case['id']}:c")  # too late to confirm: said so
    assert "已经有人确认或排除" in answers(h)[-1]


async def test_a_leader_confirms_in_the_group(harness: Harness) -> None:
    h = harness
    case = (await positive_arrival(h))["case"]
    await h.press(RESIDENT, f"v1:cs:{case['id']}:c")  # the resident may not
    assert (await h.db.fetchone("SELECT confirmation FROM cases"))["confirmation"] == "pending"
    await h.press(LEADER, f"v1:cs:{case['id']}:c")
    row = await h.db.fetchone("SELECT confirmation, state FROM cases")
    assert (row["confirmation"], row["state"]) == ("confirmed", "open")  # report still due


async def test_a_positive_result_recorded_by_a_worker_alerts_and_opens_a_case(
    harness: Harness,
) -> None:
    """/monitor: the worker records "阳性" for a test day: not only the worker is answered."""
    h = harness
    await monitored(h)
    await at(h, 31, 9)
    notice = [c for c in h.request.sent_to(WORKER_XF01) if "核酸采样今天进行" in c.params["text"]]
    await h.press(WORKER_XF01, notice[0].params["reply_markup"]["inline_keyboard"][0][0]
                  ["callback_data"])  # fmt: skip
    await h.choose(WORKER_XF01, "阳性")
    await h.drain_outbox()
    case = await h.db.fetchone("SELECT * FROM cases")
    assert (case["kind"], case["source"], case["confirmation"], case["reported_by"]) == (
        "suspected", "monitoring", "pending", WORKER_XF01)  # fmt: skip
    assert datetime.fromisoformat(case["discovered_at"]) == h.clock.now()
    card = next(t for t in h.texts(LEADERS) if "发现疑似病例" in t)
    assert "健康监测录入核酸检测阳性" in card and "待人工确认是否为病例" in card
    # the recording worker gets the notice with the case flow button (not only the answer)
    assert any("你负责的区域发现疑似病例" in t for t in h.texts(WORKER_XF01))
    assert ("📝 定人定位定状态（确认病例）", f"v1:cs:{case['id']}:f") in h.buttons(WORKER_XF01)
    escalation = await h.db.fetchone("SELECT kind, state FROM escalations WHERE subject = ?",
                                     (f"case:{case['id']}",))  # fmt: skip
    assert (escalation["kind"], escalation["state"]) == ("case", "open")


async def test_a_new_positive_test_on_a_later_version_opens_a_new_case(harness: Harness) -> None:
    """The first case was ruled out; the report sent again with a later positive test (the
    next day's): a new suspected case, not silence."""
    h = harness
    first = (await positive_arrival(h))["case"]
    await h.press(LEADER, f"v1:cs:{first['id']}:x")
    h.clock.advance(seconds=24 * 3600)  # "today" is now 27 October
    await answer_to_summary(h, origin="四川省成都市武侯区", test_result="positive")
    await submit(h)
    await h.drain_outbox()
    rows = await h.db.fetchall("SELECT report_id, confirmation FROM cases ORDER BY id")
    assert [r["confirmation"] for r in rows] == ["ruled_out", "pending"]
    assert rows[0]["report_id"] == rows[1]["report_id"]  # a version of the same report
    assert sum("发现疑似病例" in t for t in h.texts(LEADERS)) == 2
