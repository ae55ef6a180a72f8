"""The receipt's buttons: correct the report (the same report, its earlier version kept) and
withdraw it (asked once more, the grid's staff told). Only its reporter, only while open."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.domain.callbacks import CALLBACK_LIMIT
from bot.domain.parsing import id_check_char
from sandbox.recording import Call
from storage import timers
from tests.harness import Harness
from tests.staff_helpers import VADMIN_XF
from tests.test_arrival_flow import (
    ID_NUMBER,
    LEADERS,
    RESIDENT,
    WORKER_XF01,
    answer_to_summary,
    count,
    press_value,
    submit,
)
from tests.test_checkins import OTHER_WORKER
from tests.test_digest import advance_to

STRANGER = 515151
REF = "XF-20201026-0001"


async def submitted(h: Harness, **answers: object) -> int:
    await answer_to_summary(h, **answers)  # type: ignore[arg-type]
    await submit(h)
    return (await h.db.fetchone("SELECT id FROM reports"))["id"]


def edits(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method == "editMessageText"]


def datas(markup: dict) -> list[str]:
    return [b["callback_data"] for row in markup["inline_keyboard"] for b in row]


async def press_on(h: Harness, user: int, data: str, markup: dict) -> list[Call]:
    """Press ``data`` on a message that carries ``markup`` (as Telegram sends it back)."""
    payload = h.updates.callback(h.updates.user(user, "zh-hans"), int(h.clock.now().timestamp()),
                                 data)  # fmt: skip
    payload["callback_query"]["message"]["reply_markup"] = markup
    return await h.feed(payload)


async def test_the_receipt_carries_correct_and_withdraw(harness: Harness) -> None:
    h = harness
    report_id = await submitted(h)
    receipt = h.last_question(RESIDENT)
    assert "登记成功" in receipt.params["text"] and "修改登记" in receipt.params["text"]
    assert h.buttons(RESIDENT) == [
        ("✏️ 修改登记", f"v1:my:correct:{report_id}"),
        ("↩️ 撤回登记", f"v1:my:withdraw:{report_id}"),
    ]
    assert all(len(data.encode()) <= CALLBACK_LIMIT for _, data in h.buttons(RESIDENT))


async def test_the_english_receipt_buttons(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, lang="en")
    await submit(h, lang="en")
    assert [label for label, _ in h.buttons(RESIDENT)] == ["✏️ Correct", "↩️ Withdraw"]
    await h.choose(RESIDENT, "Withdraw", "en")
    assert "Withdraw <code>XF-20201026-0001</code>?" in h.texts(RESIDENT)[-1]
    assert [label for label, _ in h.buttons(RESIDENT)] == ["Yes, withdraw", "Don't withdraw"]


async def test_withdraw_asks_then_withdraws_and_tells_the_worker(harness: Harness) -> None:
    h = harness
    report_id = await submitted(h)
    await h.drain_outbox()
    receipt_buttons = h.last_question(RESIDENT).params["reply_markup"]
    calls = await press_on(h, RESIDENT, f"v1:my:withdraw:{report_id}", receipt_buttons)
    # the receipt loses its buttons; the question carries the choice on
    taken = [c for c in calls if c.method == "editMessageReplyMarkup"]
    assert len(taken) == 1 and "reply_markup" not in taken[0].params
    question = h.texts(RESIDENT)[-1]
    assert "确定撤回 <code>XF-20201026-0001</code>？撤回后社区将不再跟进这份登记" in question
    assert [label for label, _ in h.buttons(RESIDENT)] == ["确定撤回", "不撤回"]
    assert (await h.db.fetchone("SELECT state FROM reports"))["state"] == "open"

    calls = await h.choose(RESIDENT, "确定撤回")
    outcome = edits(calls)[-1]
    assert "登记 <code>XF-20201026-0001</code> 已撤回" in outcome.params["text"]
    assert "reply_markup" not in outcome.params  # nothing left to press
    assert (await h.db.fetchone("SELECT state FROM reports"))["state"] == "withdrawn"
    audit = await h.db.fetchall("SELECT actor, subject FROM audit WHERE action = 'report.withdraw'")
    assert [tuple(a) for a in audit] == [(RESIDENT, f"report:{report_id}")]
    # the grid worker does not lose the person silently
    assert await h.drain_outbox() == 1
    notice = h.texts(WORKER_XF01)[-1]
    assert "已由申报人撤回" in notice and REF in notice and "张*" in notice
    assert "张三" not in notice and "13812345678" not in notice
    assert h.texts(LEADERS) == []


async def key_control_withdrawal(h: Harness) -> int:
    """A red-code report (centralized isolation, alerted), its withdrawal asked for."""
    report_id = await submitted(h, code="red")
    await h.drain_outbox()
    await h.press(RESIDENT, f"v1:my:withdraw:{report_id}")
    await h.choose(RESIDENT, "确定撤回")
    return report_id


def last_edit(h: Harness, chat: int) -> str:
    """The newest message text edited in ``chat`` (a question become its outcome)."""
    found = [c for c in edits(h.request.calls) if int(c.params["chat_id"]) == chat]
    return found[-1].params["text"]


async def states(h: Harness) -> tuple[str, str]:
    """(the report's state, its monitoring's)."""
    row = await h.db.fetchone("SELECT r.state, m.state AS watched FROM reports r "
                              "JOIN monitoring m ON m.report_id = r.id")  # fmt: skip
    return row["state"], row["watched"]


async def test_a_key_control_withdrawal_waits_for_the_grid_worker(harness: Harness) -> None:
    """Key control does not end on the resident's word: he is told it waits for the grid
    worker; the monitoring, timers and the verification deadline go on; the worker gets a
    card to confirm or keep it, on the escalation ladder."""
    h = harness
    report_id = await key_control_withdrawal(h)
    told = last_edit(h, RESIDENT)
    assert "撤回申请已提交" in told and "网格员核实确认" in told and REF in told
    assert "已撤回" not in told
    assert await states(h) == ("open", "active")
    assert await timers.pending(h.db, "monitoring:1") != []
    assert await h.db.fetchone(
        "SELECT * FROM escalations WHERE subject = ? AND state = 'open'", (f"report:{report_id}",)
    )
    request = await h.db.fetchone("SELECT kind, state FROM escalations WHERE subject = ?",
                                  (f"withdraw:{report_id}",))  # fmt: skip
    assert (request["kind"], request["state"]) == ("withdrawal", "open")
    audit = await h.db.fetchall("SELECT actor, action FROM audit WHERE subject = ?",
                                (f"report:{report_id}",))  # fmt: skip
    assert "report.withdraw_request" in [a["action"] for a in audit]
    assert "report.withdraw" not in [a["action"] for a in audit]
    await h.drain_outbox()
    card = h.texts(WORKER_XF01)[-1]
    assert "居民申请撤回登记" in card and REF in card and "请核实后确认" in card
    assert [label for label, _ in h.buttons(WORKER_XF01)] == ["确认撤回", "不同意，继续管控"]
    assert h.texts(LEADERS)[-1].count("撤回") == 0  # the group hears of it once it is done
    # pressing again says it is waiting; nothing new for the worker
    await h.press(RESIDENT, f"v1:my:withdraw:{report_id}")
    assert "等待网格员核实确认" in h.texts(RESIDENT)[-1]
    assert await h.drain_outbox() == 0


async def test_the_grid_worker_confirms_the_withdrawal(harness: Harness) -> None:
    h = harness
    report_id = await key_control_withdrawal(h)
    await h.drain_outbox()
    await h.choose(WORKER_XF01, "确认撤回")
    assert await states(h) == ("withdrawn", "stopped")
    assert await timers.pending(h.db, "monitoring:1") == []
    assert await timers.pending(h.db, f"report:{report_id}") == []
    open_items = await h.db.fetchall("SELECT subject FROM escalations WHERE state = 'open'")
    assert open_items == []
    audit = await h.db.fetchall("SELECT actor FROM audit WHERE action = 'report.withdraw'")
    assert [a["actor"] for a in audit] == [WORKER_XF01]
    await h.drain_outbox()
    assert "已核实，登记 <code>XF-20201026-0001</code> 已撤回" in h.texts(RESIDENT)[-1]
    for chat in (WORKER_XF01, LEADERS):
        assert any("已由申报人撤回" in t and "此人是重点人员" in t for t in h.texts(chat))
    edited = [c.params for c in h.request.calls if c.method == "editMessageText"
              and int(c.params["chat_id"]) == WORKER_XF01]  # fmt: skip
    assert edited and "reply_markup" not in edited[-1] and "已确认撤回" in edited[-1]["text"]
    await h.press(WORKER_XF01, f"v1:wd:y:{report_id}")  # a second press: nothing again
    assert [a["actor"] for a in await h.db.fetchall(
        "SELECT actor FROM audit WHERE action = 'report.withdraw'")] == [WORKER_XF01]  # fmt: skip


async def test_the_grid_worker_keeps_key_control(harness: Harness) -> None:
    h = harness
    report_id = await key_control_withdrawal(h)
    await h.drain_outbox()
    await h.choose(WORKER_XF01, "不同意")
    assert await states(h) == ("open", "active")
    request = await h.db.fetchone("SELECT state FROM escalations WHERE subject = ?",
                                  (f"withdraw:{report_id}",))  # fmt: skip
    assert request["state"] == "handled"
    actions = [a["action"] for a in await h.db.fetchall("SELECT action FROM audit")]
    assert "report.withdraw_refused" in actions and "report.withdraw" not in actions
    await h.drain_outbox()
    told = h.texts(RESIDENT)[-1]
    assert "网格员没有同意撤回" in told and "请继续配合管控" in told
    # he may ask again later: a new card for the worker
    await h.press(RESIDENT, f"v1:my:withdraw:{report_id}")
    await h.choose(RESIDENT, "确定撤回")
    assert "撤回申请已提交" in last_edit(h, RESIDENT)


async def test_only_the_grids_staff_decide_a_withdrawal(harness: Harness) -> None:
    h = harness
    report_id = await key_control_withdrawal(h)
    for user in (OTHER_WORKER, RESIDENT):
        await h.press(user, f"v1:wd:y:{report_id}")
    assert await states(h) == ("open", "active")
    denied = await h.db.fetchall("SELECT actor FROM audit WHERE action LIKE 'denied:%'")
    assert {d["actor"] for d in denied} == {OTHER_WORKER, RESIDENT}


async def test_a_withdrawal_nobody_decides_climbs_the_ladder(harness: Harness) -> None:
    h = harness
    await key_control_withdrawal(h)
    await h.drain_outbox()
    start = h.clock.now()
    for minutes in (0, 1, 60, 61):  # the assignee's step, its flush; the village's, its flush
        await advance_to(h, start + timedelta(hours=12, minutes=minutes))
    # with the unverified arrival's own step, in the minute's one message
    assert any("撤回申请未确认" in t and REF in t for t in h.texts(VADMIN_XF))


async def test_not_withdrawing_keeps_the_report(harness: Harness) -> None:
    h = harness
    report_id = await submitted(h)
    await h.drain_outbox()
    await h.choose(RESIDENT, "撤回登记")
    calls = await h.choose(RESIDENT, "不撤回")
    kept = edits(calls)[-1]
    assert "没有撤回" in kept.params["text"] and REF in kept.params["text"]
    # the report's buttons come back under the answer
    buttons = datas(kept.params["reply_markup"])
    assert buttons == [f"v1:my:correct:{report_id}", f"v1:my:withdraw:{report_id}"]
    assert (await h.db.fetchone("SELECT state FROM reports"))["state"] == "open"
    assert await h.db.fetchone("SELECT * FROM audit WHERE action = 'report.withdraw'") is None
    assert await h.drain_outbox() == 0


async def test_a_stale_press_is_refused_with_its_reason(harness: Harness) -> None:
    h = harness
    report_id = await submitted(h)
    await h.choose(RESIDENT, "撤回登记")
    await h.choose(RESIDENT, "确定撤回")
    for action in ("withdraw", "withdraw_yes", "withdraw_no", "correct"):
        calls = await h.press(RESIDENT, f"v1:my:{action}:{report_id}")
        assert "已经撤回过了" in h.texts(RESIDENT)[-1], action
        assert edits(calls) == []
    assert await h.db.fetchone("SELECT * FROM drafts") is None  # no correction opened
    assert await count(h, "audit") == 2  # report.create, one report.withdraw


async def test_someone_elses_buttons_are_refused(harness: Harness) -> None:
    h = harness
    report_id = await submitted(h)
    for data in (*(f"v1:my:{action}:{report_id}" for action in ("withdraw", "withdraw_yes",
                                                                 "withdraw_no", "correct")),
                 "v1:my:withdraw:999"):  # fmt: skip
        calls = await h.press(STRANGER, data)
        said = [c.params["text"] for c in calls if c.method == "sendMessage"]
        assert len(said) == 1 and "这份登记不是您提交的" in said[0], data
        assert REF not in said[0] and edits(calls) == []
    assert (await h.db.fetchone("SELECT state FROM reports"))["state"] == "open"
    assert await h.db.fetchone("SELECT * FROM drafts") is None


async def test_my_list_withdraw_asks_and_keeps_the_other_buttons(harness: Harness) -> None:
    h = harness
    await submitted(h)
    other_id = "50038119850312001" + id_check_char("50038119850312001")
    await answer_to_summary(h, name="李四", phone="13911112222", id_number=other_id)
    await submit(h)
    await h.text(RESIDENT, "/my")
    listed = h.last_question(RESIDENT).params["reply_markup"]
    first, second = datas(listed)
    calls = await press_on(h, RESIDENT, first, listed)
    taken = [c for c in calls if c.method == "editMessageReplyMarkup"][-1]
    assert datas(taken.params["reply_markup"]) == [second]
    assert "确定撤回" in h.texts(RESIDENT)[-1]
    await h.choose(RESIDENT, "确定撤回")
    states = [r["state"] for r in await h.db.fetchall("SELECT state FROM reports ORDER BY id")]
    assert states == ["open", "withdrawn"]  # /my lists the newest first


async def correct_temperature(h: Harness, report_id: int, temperature: str) -> str:
    """Press "修改登记", change the temperature on the summary card, submit: the receipt."""
    calls = await h.press(RESIDENT, f"v1:my:correct:{report_id}")
    texts = [c.params["text"] for c in calls if c.method == "sendMessage"]
    assert "正在修改登记 <code>XF-20201026-0001</code>" in texts[0]
    assert "请核对登记信息" in texts[-1] and "张三" in texts[-1] and "36.5℃" in texts[-1]
    await press_value(h, RESIDENT, "edit")
    await press_value(h, RESIDENT, "temperature")
    await h.text(RESIDENT, temperature)
    assert f"体温：{temperature}℃" in h.texts(RESIDENT)[-1]
    return await submit(h)


async def test_correct_updates_the_same_report_and_keeps_the_earlier_one(
    harness: Harness,
) -> None:
    h = harness
    report_id = await submitted(h)
    await h.drain_outbox()
    receipt = await correct_temperature(h, report_id, "36.8")
    assert "登记已修改" in receipt and REF in receipt
    assert await count(h, "reports") == 1
    row = await h.db.fetchone("SELECT * FROM reports")
    assert (row["id"], row["ref"], row["version"]) == (report_id, REF, 2)
    assert json.loads(row["data"])["temperature"] == 36.8
    history = await h.db.fetchall("SELECT * FROM report_history")
    assert len(history) == 1 and history[0]["version"] == 1
    assert json.loads(history[0]["data"])["temperature"] == 36.5
    actions = [r["action"] for r in await h.db.fetchall("SELECT action FROM audit ORDER BY id")]
    assert actions == ["report.create", "report.correct"]
    assert h.buttons(RESIDENT)[-1] == ("↩️ 撤回登记", f"v1:my:withdraw:{report_id}")
    assert await h.drain_outbox() == 1  # the worker hears of the new version
    assert REF in h.texts(WORKER_XF01)[-1]


async def test_correcting_the_id_number_updates_that_report_not_a_lookalike(
    harness: Harness,
) -> None:
    """A corrected ID number makes the person look like another one (same name and phone):
    the correction still updates the report it was opened on, and names no conflict."""
    h = harness
    report_id = await submitted(h)
    await h.press(RESIDENT, f"v1:my:correct:{report_id}")
    await press_value(h, RESIDENT, "edit")
    await press_value(h, RESIDENT, "id_number")
    fixed = "50038119850312001" + id_check_char("50038119850312001")
    await h.text(RESIDENT, fixed)
    await submit(h)
    assert await count(h, "reports") == 1
    person = await h.db.fetchone("SELECT id_number FROM persons WHERE report_id = ?", (report_id,))
    assert person["id_number"] == fixed
    assert (
        await h.db.fetchone("SELECT * FROM audit WHERE action = 'report.identity_conflict'") is None
    )
    assert ID_NUMBER in (await h.db.fetchone("SELECT persons FROM report_history"))["persons"]


async def test_a_report_withdrawn_while_being_corrected_is_not_changed(harness: Harness) -> None:
    h = harness
    report_id = await submitted(h)
    await h.press(RESIDENT, f"v1:my:correct:{report_id}")
    submit_data = next(data for _, data in h.buttons(RESIDENT) if data.endswith(":submit"))
    await h.press(RESIDENT, f"v1:my:withdraw:{report_id}")  # from the receipt meanwhile
    await h.choose(RESIDENT, "确定撤回")
    await h.press(RESIDENT, submit_data)  # the summary card's submit
    assert "已经撤回过了" in h.texts(RESIDENT)[-1]
    row = await h.db.fetchone("SELECT state, version FROM reports")
    assert (row["state"], row["version"]) == ("withdrawn", 1)
    assert await count(h, "reports") == 1 and await count(h, "report_history") == 0
    assert await h.db.fetchone("SELECT * FROM drafts") is None
