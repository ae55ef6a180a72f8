"""Once an item is handled, every message that offered buttons for it loses them (through
outbox edits): the report's card and the /tasks list, shown to any worker; the ladder's
"收到" messages to workers and the group; a card left without buttons shows the outcome."""

from __future__ import annotations

from typing import Any

from tests.harness import Harness
from tests.staff_helpers import RESIDENT, VADMIN_XF, WORKER_XF01, seed_report
from tests.test_arrival_flow import LEADERS
from tests.test_checkins import answer, at, monitored


def edits(h: Harness, chat: int) -> list[dict[str, Any]]:
    return [
        c.params
        for c in h.request.calls
        if c.method == "editMessageText" and int(c.params["chat_id"]) == chat
    ]


def datas(params: dict[str, Any]) -> list[str]:
    markup = params.get("reply_markup") or {"inline_keyboard": []}
    return [b["callback_data"] for row in markup["inline_keyboard"] for b in row]


async def verify(h: Harness, user: int) -> None:
    await h.choose(user, "核实无误")
    await h.choose(user, "都已查验")
    await h.choose(user, "按建议")
    await h.choose(user, "今天")
    await h.choose(user, "跳过")
    await h.drain_outbox()


async def test_verifying_takes_the_buttons_off_every_card_and_list(harness: Harness) -> None:
    h = harness
    first = await seed_report(h, name="李四")
    second = await seed_report(h, name="王五", phone="13911112222", id_number="X2")
    await h.text(VADMIN_XF, "/tasks")  # another in-scope reader's list, and card
    await h.press(VADMIN_XF, f"v1:tk:o:{first}")
    await h.text(WORKER_XF01, "/tasks")
    await h.press(WORKER_XF01, f"v1:tk:o:{first}")
    await verify(h, WORKER_XF01)
    for chat in (WORKER_XF01, VADMIN_XF):
        by_buttons = {tuple(datas(p)): p["text"] for p in edits(h, chat)}
        assert set(by_buttons) == {(), (f"v1:tk:o:{second}",)}, by_buttons
        assert "核实完毕，这张卡片处理好了" in by_buttons[()]  # the card: the outcome
        assert "待核实的到达登记" in by_buttons[(f"v1:tk:o:{second}",)]  # the list: the rest


async def test_escalating_takes_off_only_the_escalate_button(harness: Harness) -> None:
    h = harness
    report = await seed_report(h)
    await h.text(WORKER_XF01, "/tasks")
    await h.press(WORKER_XF01, f"v1:tk:o:{report}")
    await h.choose(WORKER_XF01, "上报领导小组")
    await h.drain_outbox()
    [card] = edits(h, WORKER_XF01)
    assert datas(card) == [f"v1:tk:ok:{report}", f"v1:tk:bad:{report}"]
    assert "核实完毕" not in card["text"]


async def test_acknowledging_takes_the_ack_button_off_and_says_who(harness: Harness) -> None:
    h = harness
    await monitored(h)
    for day, hour in ((26, 20), (26, 21), (26, 22), (27, 9), (27, 10), (27, 11)):
        await at(h, day, hour)
    await at(h, 27, 11, 1)  # the second miss: the worker alone, the group in its batch
    item = await h.db.fetchone(  # the second miss: still the worker's to acknowledge
        "SELECT subject FROM escalations WHERE kind = 'checkin' ORDER BY subject DESC"
    )
    group_before = len(edits(h, LEADERS))
    await h.press(WORKER_XF01, f"v1:ack:{item['subject']}")
    await h.drain_outbox()
    mine = [p for p in edits(h, WORKER_XF01) if "确认收到" in p["text"]]
    assert mine and f"v1:ack:{item['subject']}" not in datas(mine[-1])
    group = edits(h, LEADERS)[group_before:]
    assert group and all(f"v1:ack:{item['subject']}" not in datas(p) for p in group)


async def test_checking_in_takes_the_ack_button_off_the_missed_alert(harness: Harness) -> None:
    h = harness
    await monitored(h)
    for hour, minute in ((20, 0), (21, 0), (22, 0), (22, 1)):
        await at(h, 26, hour, minute)
    item = await h.db.fetchone("SELECT subject FROM escalations WHERE kind = 'checkin'")
    assert any(f"v1:ack:{item['subject']}" == d for _, d in h.buttons(WORKER_XF01))
    before = len(edits(h, WORKER_XF01))
    await at(h, 27, 9)
    await answer(h)
    [edit] = edits(h, WORKER_XF01)[before:]
    assert f"v1:ack:{item['subject']}" not in datas(edit)
    assert "v1:ack:report:1" in datas(edit)  # the list's other item keeps its button


async def test_a_withdrawn_report_leaves_no_buttons_on_its_card(harness: Harness) -> None:
    h = harness
    report = await seed_report(h)
    await h.text(WORKER_XF01, "/tasks")
    await h.press(WORKER_XF01, f"v1:tk:o:{report}")
    await h.press(RESIDENT, f"v1:my:withdraw:{report}")
    await h.press(RESIDENT, f"v1:my:withdraw_yes:{report}")
    await h.drain_outbox()
    assert edits(h, WORKER_XF01) == []  # home monitoring: the worker confirms it first
    await h.press(WORKER_XF01, f"v1:wd:y:{report}")
    await h.drain_outbox()
    # the list, the card, and the withdrawal's own card
    assert [datas(p) for p in edits(h, WORKER_XF01)] == [[], [], []]
