"""Neighbour tips (/tip, 线索举报) through PTB's pipeline: from the tipster's first answer to the
closing message, the checking by the grid's staff, anonymity, the deadline (the escalation
ladder: tests/test_escalation.py)."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

from bot.runtime.timers import fire_due
from tests.harness import Harness
from tests.staff_helpers import (
    LEADERS_CHAT,
    REFUSED,
    VADMIN_XF,
    WORKER_SQ01,
    WORKER_XF01,
    audit_actions,
    seed_report,
)
from tests.test_arrival_flow import answer_to_summary, press_value, submit

TIPSTER = 777123
TIPSTER_NAME = "王秘密"


async def say(h: Harness, text: str | None = None, **content) -> None:
    """A message from the tipster (with a recognisable name, for the anonymity checks)."""
    user = h.updates.user(TIPSTER, "zh-hans", name=TIPSTER_NAME)
    if text is not None:
        content["text"] = text
    await h.feed(h.updates.message(user, int(h.clock.now().timestamp()), **content))


async def tap(h: Harness, value: str) -> None:
    """Press the tipster's newest button whose callback data ends with ``:value``."""
    user = h.updates.user(TIPSTER, "zh-hans", name=TIPSTER_NAME)
    for _, data in h.buttons(TIPSTER):
        if data.endswith(f":{value}"):
            await h.feed(h.updates.callback(user, int(h.clock.now().timestamp()), data))
            return
    raise AssertionError(f"no button for {value!r} in {h.buttons(TIPSTER)}")


async def send_tip(h: Harness, kind: str = "unregistered", *, name: str | None = "李四",
                   phone: str | None = None, address: str = "先锋街12号2单元301",
                   start: str = "/tip", village: bool = True) -> str:  # fmt: skip
    """Answer every question and submit; returns the receipt."""
    await say(h, start)
    await tap(h, kind)
    if kind == "venue":
        await tap(h, "bnb")
    if village:
        await tap(h, "xf")
        await tap(h, "XF01")
    await say(h, address)
    if kind == "venue":
        await say(h, "先锋人家民宿")
    if kind in ("unregistered", "symptoms", "other"):
        await (say(h, name) if name else tap(h, "skip"))
        await (say(h, phone) if phone else tap(h, "skip"))
    if kind in ("unregistered", "symptoms"):
        await tap(h, "tenant")
    if kind in ("gathering", "other"):
        await say(h, "二十多人在院子里打麻将")
    else:
        await tap(h, "skip")
    await tap(h, "today")
    await tap(h, "skip")
    await tap(h, "submit")
    return h.texts(TIPSTER)[-1]


def tip_buttons(h: Harness, chat: int) -> dict[str, str]:
    """Label -> callback data of the newest message to ``chat`` with tip-card buttons."""
    for call in reversed(h.request.sent_to(chat)):
        markup = call.params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            buttons = {b["text"]: b["callback_data"] for row in markup["inline_keyboard"]
                       for b in row}  # fmt: skip
            if any(data.startswith("v1:tp:") for data in buttons.values()):
                return buttons
    raise AssertionError(f"no tip buttons sent to {chat}")


async def press_tip(h: Harness, user: int, label: str, chat: int | None = None) -> None:
    for text, data in tip_buttons(h, chat or user).items():
        if label in text:
            await h.press(user, data)
            return
    raise AssertionError(f"no tip button {label!r} in {tip_buttons(h, chat or user)}")


async def test_a_tip_from_start_to_close(harness: Harness) -> None:
    h = harness
    receipt = await send_tip(h)
    assert "XF-XS-20201026-0001" in receipt and "12小时" in receipt
    tip = await h.db.fetchone("SELECT * FROM tips")
    assert (tip["kind"], tip["grid_id"], tip["person_name"], tip["state"]) == (
        "unregistered", "XF01", "李四", "open")  # fmt: skip
    assert tip["deadline_at"] == (h.clock.now() + timedelta(hours=12)).astimezone(UTC).isoformat()
    timer = await h.db.fetchone("SELECT * FROM timers WHERE subject = ?", (f"tip:{tip['id']}",))
    assert (timer["kind"], timer["state"]) == ("ladder.step", "pending")
    assert timer["due_at"] == tip["deadline_at"]  # the ladder's first step: at the deadline
    assert await h.db.fetchone("SELECT * FROM drafts") is None

    await h.drain_outbox()
    card = h.texts(WORKER_XF01)[-1]
    assert "新线索" in card and "李四" in card and "未找到相关到达登记" in card
    assert not [t for t in h.texts(LEADERS_CHAT) if "XS-" in t]  # not about symptoms

    await press_tip(h, WORKER_XF01, "开始核查")
    assert "正在核查" in h.texts(WORKER_XF01)[-1]
    await press_tip(h, WORKER_XF01, "情况不属实")
    await h.text(WORKER_XF01, "核实为本地常住人员，未外出")
    assert "已办结" in h.texts(WORKER_XF01)[-1]

    tip = await h.db.fetchone("SELECT * FROM tips")
    assert (tip["state"], tip["outcome"], tip["handled_by"]) == ("closed", "unfounded", WORKER_XF01)
    assert tip["handled_at"] is not None
    steps = await h.db.fetchall("SELECT action, actor, at, note FROM tip_actions ORDER BY id")
    assert [(s["action"], s["actor"]) for s in steps] == [("checking", WORKER_XF01),
                                                          ("unfounded", WORKER_XF01)]  # fmt: skip
    assert all(s["at"] for s in steps) and steps[1]["note"] == "核实为本地常住人员,未外出"  # NFKC
    assert {"tip.checking", "tip.unfounded"} <= set(await audit_actions(h, WORKER_XF01))
    assert (await h.db.fetchone("SELECT state FROM timers WHERE kind = 'ladder.step'"))[0] == (
        "cancelled")  # fmt: skip
    assert (await h.db.fetchone("SELECT state FROM escalations"))[0] == "handled"

    await h.drain_outbox()
    closing = h.texts(TIPSTER)[-1]
    assert "XF-XS-20201026-0001" in closing and "情况不属实" in closing
    assert "李四" not in closing and "先锋街" not in closing  # nothing about the person

    await press_tip(h, WORKER_XF01, "情况属实")  # an old card: the tip is closed
    assert "已经办结" in h.texts(WORKER_XF01)[-1]


async def test_the_tipster_stays_anonymous(harness: Harness) -> None:
    """No message to staff or leaders — notices, alerts, escalations, overdue reminders,
    cards, callback data — holds the tipster's id or name; the audit log does not name them."""
    h = harness
    await send_tip(h, "symptoms", phone="13912345678")
    await h.drain_outbox()
    await press_tip(h, WORKER_XF01, "上报领导小组")
    await h.choose(WORKER_XF01, "跳过")
    await press_tip(h, WORKER_XF01, "开始核查")
    h.clock.advance(hours=3)
    await fire_due(h.services)
    await h.drain_outbox()
    tip_id = (await h.db.fetchone("SELECT id FROM tips"))["id"]
    await h.press(WORKER_XF01, f"v1:tp:o:{tip_id}")
    await h.text(VADMIN_XF, "/tasks")

    staff_calls = [c for c in h.request.calls
                   if int(c.params.get("chat_id") or 0) not in (0, TIPSTER)]  # fmt: skip
    assert len(staff_calls) >= 8
    for call in staff_calls:
        dump = json.dumps(call.params, ensure_ascii=False)
        assert str(TIPSTER) not in dump, call
        assert TIPSTER_NAME not in dump, call
    rows = await h.db.fetchall("SELECT text, reply_markup FROM outbox WHERE chat_id != ?",
                               (TIPSTER,))  # fmt: skip
    for row in rows:
        assert str(TIPSTER) not in row["text"] + (row["reply_markup"] or "")
    assert await audit_actions(h, TIPSTER) == []
    chats = {int(c.params["chat_id"]) for c in staff_calls}
    assert {WORKER_XF01, VADMIN_XF, LEADERS_CHAT} <= chats


async def test_symptoms_alert_the_leaders_masked_and_overdue_reaches_the_village(
    harness: Harness,
) -> None:
    h = harness
    receipt = await send_tip(h, "symptoms", name="张三丰", phone="13912345678")
    assert "2小时" in receipt and "领导小组" in receipt
    await h.drain_outbox()
    alert = h.texts(LEADERS_CHAT)[-1]
    assert "发热" in alert and "张**" in alert and "139****5678" in alert
    assert "张三丰" not in alert and "13912345678" not in alert and "先锋街" not in alert
    worker_card = h.texts(WORKER_XF01)[-1]
    assert "张三丰" in worker_card  # the responsible worker sees the details in private
    outbox_row = await h.db.fetchone(
        "SELECT priority FROM outbox WHERE chat_id = ? ORDER BY id DESC", (WORKER_XF01,)
    )
    assert outbox_row["priority"] == 0

    # overdue at 2 hours: the escalation ladder — the grid's worker, an hour later the
    # village admins (the ladder's steps: tests/test_escalation.py)
    overdue = "线索逾期未核查"
    h.clock.advance(minutes=119)
    await fire_due(h.services)
    await h.drain_outbox()
    assert not [t for t in h.texts(WORKER_XF01) if overdue in t]
    for minutes in (1, 1):  # the step at 2 hours, then the minute's one message to the chat
        h.clock.advance(minutes=minutes)
        await fire_due(h.services)
    await h.drain_outbox()
    assert overdue in h.texts(WORKER_XF01)[-1]
    assert not [t for t in h.texts(VADMIN_XF) if overdue in t]
    for minutes in (59, 1):
        h.clock.advance(minutes=minutes)
        await fire_due(h.services)
    await h.drain_outbox()
    assert overdue in h.texts(VADMIN_XF)[-1] and "张三丰" not in h.texts(VADMIN_XF)[-1]
    await fire_due(h.services)  # fires once
    await h.drain_outbox()
    assert len([t for t in h.texts(VADMIN_XF) if overdue in t]) == 1


async def test_a_tip_is_matched_against_registrations_and_linked(harness: Harness) -> None:
    h = harness
    await seed_report(h, name="李四", phone="13912345678")
    await send_tip(h, name="李四")
    await h.drain_outbox()
    assert "可能是此人（请核实）：\n· <code>XF-20201026-0001</code>：同一网格内同名" in (
        h.texts(WORKER_XF01)[-1])  # fmt: skip
    await press_tip(h, WORKER_XF01, "情况属实")
    assert "XF-20201026-0001" in h.texts(WORKER_XF01)[-1]
    await press_tip(h, WORKER_XF01, "就是已登记的 XF-20201026-0001")
    assert "关联登记" in h.texts(WORKER_XF01)[-1]
    tip = await h.db.fetchone("SELECT * FROM tips")
    report = await h.db.fetchone("SELECT id FROM reports")
    assert (tip["state"], tip["outcome"], tip["report_id"]) == ("closed", "confirmed", report["id"])
    action = await h.db.fetchone("SELECT * FROM tip_actions WHERE action = 'confirmed'")
    assert (action["how"], action["actor"]) == ("linked", WORKER_XF01)
    await h.drain_outbox()
    assert "情况属实" in h.texts(TIPSTER)[-1]


async def test_a_confirmed_person_is_registered_on_the_spot(harness: Harness) -> None:
    h = harness
    await send_tip(h)
    await h.drain_outbox()
    await press_tip(h, WORKER_XF01, "情况属实")
    await press_tip(h, WORKER_XF01, "现场登记")
    await answer_to_summary(h, WORKER_XF01, name="李四", village=None, grid=None)
    await submit(h, WORKER_XF01)
    report = await h.db.fetchone("SELECT * FROM reports")
    assert report["grid_id"] == "XF01" and report["reporter_user_id"] == WORKER_XF01
    tip = await h.db.fetchone("SELECT * FROM tips")
    assert (tip["state"], tip["outcome"], tip["report_id"]) == ("closed", "confirmed", report["id"])
    action = await h.db.fetchone("SELECT how FROM tip_actions WHERE action = 'confirmed'")
    assert action["how"] == "registered"
    await h.drain_outbox()
    assert "已核查完毕" in h.texts(TIPSTER)[-1]


async def test_linking_by_typed_number(harness: Harness) -> None:
    h = harness
    await seed_report(h, grid="XF01", name="王五", phone="13700001111")
    await send_tip(h, name=None)
    await h.drain_outbox()
    await press_tip(h, WORKER_XF01, "情况属实")
    await press_tip(h, WORKER_XF01, "输入已有登记的编号")
    await h.text(WORKER_XF01, "xf 20201026 0002")
    assert "格式" in h.texts(WORKER_XF01)[-2] or "没有找到" in h.texts(WORKER_XF01)[-2]
    await h.text(WORKER_XF01, "XF-20201026-0001")
    assert "已办结" in h.texts(WORKER_XF01)[-1]
    assert (await h.db.fetchone("SELECT report_id FROM tips"))[0] is not None


async def test_staff_of_another_grid_cannot_act(harness: Harness) -> None:
    h = harness
    await send_tip(h)
    tip_id = (await h.db.fetchone("SELECT id FROM tips"))["id"]
    for action in ("o", "c", "u", "y"):
        await h.press(WORKER_SQ01, f"v1:tp:{action}:{tip_id}")
        assert REFUSED in h.texts(WORKER_SQ01)[-1]
    await h.press(TIPSTER, f"v1:tp:o:{tip_id}")
    assert REFUSED in h.texts(TIPSTER)[-1]
    assert (await h.db.fetchone("SELECT state FROM tips"))[0] == "open"


async def test_tasks_lists_open_tips(harness: Harness) -> None:
    h = harness
    await send_tip(h)
    await h.text(WORKER_XF01, "/tasks")
    assert "待核查的线索" in h.texts(WORKER_XF01)[-1]
    await h.choose(WORKER_XF01, "XF-XS-20201026-0001")
    assert "线索" in h.texts(WORKER_XF01)[-1] and "李四" in h.texts(WORKER_XF01)[-1]
    assert "view:tip" in await audit_actions(h, WORKER_XF01)
    await h.text(WORKER_SQ01, "/tasks")
    assert not [t for t in h.texts(WORKER_SQ01) if "待核查的线索" in t]


async def test_a_poster_deep_link_prefills_the_place(harness: Harness) -> None:
    h = harness
    await send_tip(h, "gathering", start="/start t-XF02", village=False)
    tip = await h.db.fetchone("SELECT * FROM tips")
    assert (tip["village_id"], tip["grid_id"], tip["description"]) == (
        "xf", "XF02", "二十多人在院子里打麻将")  # fmt: skip


async def test_a_location_pin_and_a_photo(harness: Harness) -> None:
    h = harness
    await say(h, "/tip")
    await tap(h, "venue")
    await tap(h, "farmstay")
    await tap(h, "sq")
    await tap(h, "none")  # grid not known
    markup = h.last_question(TIPSTER).params["reply_markup"]
    assert markup["keyboard"][0][0]["request_location"] is True
    await say(h, location={"latitude": 29.1, "longitude": 106.2})
    await say(h, "石桥农家乐")
    await tap(h, "skip")
    await say(h, "10月24日")
    await say(h, photo=[{"file_id": "ph1", "file_unique_id": "u1", "width": 1, "height": 1}])
    assert "照片：1张" in h.texts(TIPSTER)[-1]
    await tap(h, "submit")
    tip = await h.db.fetchone("SELECT * FROM tips")
    assert (tip["grid_id"], tip["latitude"], tip["photo_file_id"], tip["since"]) == (
        None, 29.1, "ph1", "2020-10-24")  # fmt: skip
    await h.drain_outbox()
    card = h.texts(VADMIN_SQ := 20002)[-1]  # no grid: the village admins
    assert "农家乐" in card and "uri.amap.com" in card and "网格不详" in card
    await press_tip(h, VADMIN_SQ, "情况属实")
    await press_tip(h, VADMIN_SQ, "已处置")
    await h.choose(VADMIN_SQ, "跳过")
    assert (await h.db.fetchone("SELECT outcome FROM tips"))[0] == "confirmed"


async def test_bad_answers_are_asked_again(harness: Harness) -> None:
    h = harness
    await say(h, "/tip")
    await tap(h, "unregistered")
    await tap(h, "xf")
    await tap(h, "XF01")
    await say(h, "x")
    assert (await h.db.fetchone("SELECT step FROM drafts"))[0] == "address"
    await say(h, "先锋街3号")
    await say(h, "李四")
    await say(h, "12345")
    assert (await h.db.fetchone("SELECT step FROM drafts"))[0] == "phone"
    await tap(h, "skip")
    await tap(h, "guest")
    await tap(h, "skip")
    await tap(h, "today")
    await say(h, "没有照片")
    assert "照片" in h.texts(TIPSTER)[-2]
    await tap(h, "skip")
    await tap(h, "cancel")
    assert "已取消" in h.texts(TIPSTER)[-1]
    assert await h.db.fetchone("SELECT * FROM tips") is None


async def test_the_daily_limit(harness: Harness) -> None:
    h = harness
    limit = h.config.tips.max_per_day
    for _ in range(limit):
        assert "XF-XS-" in await send_tip(h)
    await say(h, "/tip")
    assert "每日上限" in h.texts(TIPSTER)[-1]
    assert await h.db.fetchone("SELECT * FROM drafts") is None
    h.clock.advance(days=1)
    assert "XF-XS-20201027-0001" in await send_tip(h)


async def test_a_double_tap_on_submit_stores_one_tip(harness: Harness) -> None:
    h = harness
    await say(h, "/tip")
    await tap(h, "gathering")
    await tap(h, "xf")
    await tap(h, "XF01")
    await say(h, "先锋街3号")
    await say(h, "聚餐三十人")
    await tap(h, "unknown")
    await tap(h, "skip")
    data = next(d for _, d in h.buttons(TIPSTER) if d.endswith(":submit"))
    await h.press(TIPSTER, data)
    await h.press(TIPSTER, data)
    assert (await h.db.fetchone("SELECT COUNT(*) FROM tips"))[0] == 1


async def test_english(harness: Harness) -> None:
    h = harness
    await h.text(TIPSTER, "/tip", "en")
    assert "Your identity is <b>never</b> shown" in h.texts(TIPSTER)[-1]
    assert "A gathering" in [label for label, _ in h.buttons(TIPSTER)]
    await press_value(h, TIPSTER, "other", "en")
    assert "In which village" in h.texts(TIPSTER)[-1]


async def test_the_daily_report_counts_tips(harness: Harness) -> None:
    """bot/digest.py reads the tips table: received, handled, overdue."""
    from storage import stats

    h = harness
    await send_tip(h)
    await send_tip(h, "symptoms")
    await h.drain_outbox()
    await press_tip(h, WORKER_XF01, "未找到此人")  # the newest card: the first tip
    await h.choose(WORKER_XF01, "跳过")

    async def counts_after(hours: float) -> tuple[int, int, int]:
        h.clock.advance(hours=hours)
        now = h.clock.now()
        async with h.db.write() as conn:
            counts = await stats.collect(conn, now - timedelta(days=1), now, now,
                                         h.services.config.grid_villages())  # fmt: skip
        xf = counts["xf"]
        return xf.tips_new, xf.tips_handled, xf.tips_overdue

    assert await counts_after(1) == (2, 1, 0)
    assert await counts_after(1.5) == (2, 1, 1)  # the symptoms tip: 2 hours
