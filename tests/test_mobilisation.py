"""Mobilisation (紧急动员) through the bot's pipeline: a leader calls the 下沉干部 of 石桥村
(a drill); each person in the bot gets the call with 收到 / 到岗 / 无法到岗, the one only on
file is listed with their phone for the caller; the roll-call is edited in place as answers
come, also when many come at once; 无法到岗 asks the reason; silence is reminded, then told
to the village admin, then to the group; closing ends it and the group gets the summary;
【演练】 on every message of a drill; a resident calling, or someone not called pressing,
is refused and audited."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.actions import digest
from bot.actions import mobilisation as actions
from bot.runtime.timers import fire_due
from sandbox.formatting import parse_html
from storage import roster
from storage.roster import NewPerson
from tests.harness import Harness
from tests.staff_helpers import LEADER, LEADERS_CHAT, REFUSED, RESIDENT, VADMIN_SQ, denied

# The 下沉干部 of 石桥村: four in the bot, one only on file, one busy; a cadre of 先锋社区 and
# a volunteer of 石桥村 who are not called.
CADRES = {61001: "张一", 61002: "李二", 61003: "王三", 61004: "赵四"}
OFFLINE = "钱五"
BUSY = 61005
OTHERS = {61011: ("cadre", "xf"), 61021: ("volunteer", "sq")}
PHONE = "13912345678"


async def file(h: Harness) -> dict[str, int]:
    """The roster fixture; the roster id of each name."""
    people = [NewPerson(name, PHONE, "cadre", "sq", user_id=user) for user, name in CADRES.items()]
    people += [
        NewPerson(OFFLINE, PHONE, "cadre", "sq"),
        NewPerson("孙六", PHONE, "cadre", "sq", availability="busy", user_id=BUSY),
    ]
    people += [NewPerson(f"外{user}", PHONE, category, village, user_id=user)
               for user, (category, village) in OTHERS.items()]  # fmt: skip
    ids = {}
    async with h.db.write() as conn:
        for person in people:
            ids[person.name] = await roster.add(conn, person, None, h.clock.now())
    return ids


async def later(h: Harness, **delta: float) -> None:
    h.clock.advance(**delta)
    await fire_due(h.services)
    await h.drain_outbox()


async def mobilise(h: Harness, *, drill: bool = True) -> int:
    """The leader's form, as the drill plays it: 下沉干部 of 石桥村."""
    h.request.members[LEADER] = "member"
    await h.text(LEADER, "/mobilise")
    await h.choose(LEADER, "按类别")
    await h.choose(LEADER, "下沉干部")
    await h.choose(LEADER, "石桥村")
    await h.text(LEADER, "石桥村村委会")
    await h.choose(LEADER, "立即")
    await h.text(LEADER, "协助核酸采样")
    await h.choose(LEADER, "是，演练" if drill else "否，真实动员")
    await h.choose(LEADER, "确认发送")
    await h.drain_outbox()
    row = await h.db.fetchone("SELECT id FROM mobilisations ORDER BY id DESC LIMIT 1")
    return row["id"]


def data(mobilisation_id: int, code: str) -> str:
    return f"v1:dy:{mobilisation_id}:{code}"


async def calls(h: Harness, mobilisation_id: int) -> dict[str, dict[str, Any]]:
    rows = await h.db.fetchall(
        """SELECT r.name, c.state, c.reason, c.answered_at, c.arrived_at, c.reminded_at
           FROM mobilisation_calls c JOIN roster r ON r.id = c.roster_id
           WHERE c.mobilisation_id = ?""",
        (mobilisation_id,),
    )
    return {r["name"]: dict(r) for r in rows}


def texts(h: Harness, chat: int) -> list[str]:
    """What the chat was sent, as it reads."""
    return [parse_html(t)[0] for t in h.texts(chat)]


def rollcalls(h: Harness) -> list[str]:
    """The caller's roll-call as sent, then as each edit left it."""
    return [parse_html(c.params["text"])[0] for c in h.request.calls
            if c.method in ("sendMessage", "editMessageText")
            and int(c.params["chat_id"]) == LEADER and "动员点名" in c.params["text"]]  # fmt: skip


def card_buttons(h: Harness, chat: int) -> list[str]:
    """The labels of the newest message to the chat as sent or edited (none: no buttons)."""
    for call in reversed(h.request.calls):
        if call.method in ("sendMessage", "editMessageText") and \
                int(call.params["chat_id"]) == chat:  # fmt: skip
            markup = call.params.get("reply_markup")
            rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
            return [b["text"] for row in rows for b in row]
    return []


def answers(h: Harness) -> list[str]:
    return [c.params.get("text", "") for c in h.request.calls if c.method == "answerCallbackQuery"]


async def audit(h: Harness, action: str) -> list[dict[str, Any]]:
    rows = await h.db.fetchall("SELECT * FROM audit WHERE action = ?", (action,))
    return [dict(r) for r in rows]


async def test_the_confirmation_card_counts_who_is_reached_and_lists_who_to_phone(
    harness: Harness,
) -> None:
    h = harness
    await file(h)
    h.request.members[LEADER] = "member"
    await h.text(LEADER, "/mobilise")
    assert [label for label, _ in h.buttons(LEADER)] == ["👥 按类别", "🏘 按村（社区）",
                                                         "🛠 按技能", "🙋 指定人员"]  # fmt: skip
    await h.choose(LEADER, "按类别")
    await h.choose(LEADER, "下沉干部")
    assert "全镇" in [label for label, _ in h.buttons(LEADER)]  # narrowing is optional
    await h.choose(LEADER, "石桥村")
    await h.text(LEADER, "   ")
    assert "石桥村 下沉干部" in texts(h, LEADER)[-1]  # the same question again, after the reason
    await h.text(LEADER, "石桥村村委会")
    await h.text(LEADER, "今天 15:00")  # typed, not a button
    await h.text(LEADER, "协助核酸采样")
    await h.choose(LEADER, "是，演练")
    card = texts(h, LEADER)[-1]
    assert "【演练】" in card and "今天 15:00" in card and "协助核酸采样" in card
    assert "将通过机器人通知 4 人" in card
    assert "钱五" in card and "+86 139 1234 5678" in card  # only on file: in full, to phone
    assert "另有 1 人登记为忙碌或外出" in card
    assert not await h.db.fetchall("SELECT * FROM mobilisations")  # nothing sent yet


async def test_the_call_reaches_each_person_the_caller_and_the_group_in_one_go(
    harness: Harness,
) -> None:
    h = harness
    await file(h)
    mobilisation_id = await mobilise(h)
    stored = dict(await h.db.fetchone("SELECT * FROM mobilisations WHERE id = ?",
                                      (mobilisation_id,)))  # fmt: skip
    expected = {"ref": "XF-DY-20201026-01", "drill": 1, "place": "石桥村村委会", "meet_at": "now",
                "task": "协助核酸采样", "village_id": "sq", "caller_user_id": LEADER,
                "state": "open"}  # fmt: skip
    assert {key: stored[key] for key in expected} == expected
    assert json.loads(stored["target"]) == {"kind": "category", "category": "cadre",
                                            "village": "sq"}  # fmt: skip
    states = {n: c["state"] for n, c in (await calls(h, mobilisation_id)).items()}
    assert states == {"张一": "sent", "李二": "sent", "王三": "sent", "赵四": "sent",
                      "钱五": "unreachable"}  # fmt: skip
    for user, name in CADRES.items():
        [card] = texts(h, user)
        assert card.startswith("【演练】") and name in card and "石桥村村委会" in card
        assert "立即" in card and "协助核酸采样" in card
        assert [label for label, _ in h.buttons(user)] == ["👌 收到", "✅ 到岗", "✖️ 无法到岗"]
    assert not texts(h, BUSY) and not any(texts(h, user) for user in OTHERS)
    [rollcall] = rollcalls(h)
    assert rollcall.startswith("【演练】") and "共 5 人" in rollcall and "未回复 4" in rollcall
    assert "未加入机器人 1：钱五 +86 139 1234 5678" in rollcall
    assert [label for label, _ in h.buttons(LEADER)] == ["🏁 结束动员", "🔄 刷新"]
    [notice] = texts(h, LEADERS_CHAT)
    assert notice.startswith("【演练】") and "机器人通知 4 人，电话通知 1 人" in notice
    assert "13912345678" not in notice and "139 1234" not in notice
    [entry] = await audit(h, "mobilisation.call")
    assert (entry["actor"], entry["subject"], entry["detail"]) == (
        LEADER, f"mobilisation:{mobilisation_id}", "drill:4:1")  # fmt: skip


async def test_answers_change_the_roll_call_in_place(harness: Harness) -> None:
    h = harness
    await file(h)
    mobilisation_id = await mobilise(h)
    await h.press(61001, data(mobilisation_id, "r"))
    await h.press(61002, data(mobilisation_id, "a"))  # 到岗 directly
    await h.press(61001, data(mobilisation_id, "r"))  # twice: nothing changes
    await h.drain_outbox()
    assert answers(h)[-3:] == ["已记录：已收到。", "已记录：已到岗。", "您已回复过，无需重复。"]
    edited = rollcalls(h)[-1]
    assert "已收到 1：张一" in edited and "已到岗 1：李二" in edited and "未回复 2" in edited
    assert sum(c.method == "sendMessage" and "动员点名" in c.params["text"]
               for c in h.request.calls)  == 1  # fmt: skip
    # the person's card shows their answer and the answers still open to them
    assert card_buttons(h, 61001) == ["✅ 到岗", "✖️ 无法到岗"]
    stored = await calls(h, mobilisation_id)
    assert stored["张一"]["state"] == "received" and stored["张一"]["arrived_at"] is None
    assert stored["李二"]["state"] == "arrived" and stored["李二"]["arrived_at"] is not None
    [entry] = await audit(h, "mobilisation.arrived")
    assert (entry["actor"], entry["detail"]) == (61002, "drill")


async def test_cannot_come_asks_the_reason_again_until_given(harness: Harness) -> None:
    h = harness
    await file(h)
    mobilisation_id = await mobilise(h)
    await h.press(61003, data(mobilisation_id, "d"))
    assert "无法到岗的原因" in texts(h, 61003)[-1] and "【演练】" in texts(h, 61003)[-1]
    assert (await calls(h, mobilisation_id))["王三"]["state"] == "sent"  # not before the reason
    await h.text(61003, "  ")
    assert "无法到岗的原因" in texts(h, 61003)[-1]  # asked again, after the reason why
    await h.text(61003, "正在隔离点值班")
    await h.drain_outbox()
    assert texts(h, 61003)[-1] == "已记录：无法到岗。"
    stored = (await calls(h, mobilisation_id))["王三"]
    assert (stored["state"], stored["reason"]) == ("declined", "正在隔离点值班")
    assert "无法到岗 1：王三（正在隔离点值班）" in rollcalls(h)[-1]
    [entry] = await audit(h, "mobilisation.declined")
    assert entry["detail"] == "drill:正在隔离点值班"


async def test_many_answers_at_once_are_all_in_the_last_edit(harness: Harness) -> None:
    """Sixteen people pressing at once (the outbox paces a frozen test clock: at most about
    25 sends a second, so the crowd stays under it)."""
    h = harness
    people = [NewPerson(f"队员{i:02d}", PHONE, "cadre", "sq", user_id=62000 + i)
              for i in range(16)]  # fmt: skip
    async with h.db.write() as conn:
        for person in people:
            await roster.add(conn, person, None, h.clock.now())
    mobilisation_id = await mobilise(h)
    h.clock.advance(seconds=2)
    codes = ["r", "a"] * 8
    await asyncio.gather(*(h.press(62000 + i, data(mobilisation_id, code))
                           for i, code in enumerate(codes)))  # fmt: skip
    await h.drain_outbox()
    states = [c["state"] for c in (await calls(h, mobilisation_id)).values()]
    assert sorted(states) == ["arrived"] * 8 + ["received"] * 8
    last = rollcalls(h)[-1]
    assert "已收到 8" in last and "已到岗 8" in last and "未回复 0" in last
    for i in range(16):
        assert f"队员{i:02d}" in last


async def test_silence_is_reminded_then_told_to_the_village_admin_then_the_group(
    harness: Harness,
) -> None:
    h = harness
    await file(h)
    mobilisation_id = await mobilise(h)
    for user in (61001, 61002, 61003):
        await h.press(user, data(mobilisation_id, "a"))
    await h.drain_outbox()
    await later(h, minutes=10)  # [mobilisation] remind_minutes
    reminder = texts(h, 61004)[-1]
    assert reminder.startswith("【演练】") and "动员提醒" in reminder
    assert [label for label, _ in h.buttons(61004)] == ["👌 收到", "✅ 到岗", "✖️ 无法到岗"]
    assert len(texts(h, 61001)) == 1  # who answered is not reminded
    assert (await calls(h, mobilisation_id))["赵四"]["reminded_at"] is not None
    assert not texts(h, VADMIN_SQ)
    await later(h, minutes=10)  # escalate_minutes
    [told] = texts(h, VADMIN_SQ)
    assert told.startswith("【演练】") and "石桥村" in told and "赵四" in told
    assert "+86 139 1234 5678" in told and "张一" not in told
    assert len(texts(h, LEADERS_CHAT)) == 1  # the notice only
    await later(h, minutes=20)  # group_minutes
    group = texts(h, LEADERS_CHAT)[-1]
    assert group.startswith("【演练】") and "升级至领导小组" in group and "赵*" in group
    assert "139 1234" not in group


async def test_an_answer_of_the_last_silent_stops_the_climb(harness: Harness) -> None:
    h = harness
    await file(h)
    mobilisation_id = await mobilise(h)
    for user in CADRES:
        await h.press(user, data(mobilisation_id, "r"))
    await later(h, minutes=60)
    assert not texts(h, VADMIN_SQ) and len(texts(h, LEADERS_CHAT)) == 1
    assert all(len(texts(h, user)) == 1 for user in CADRES)  # nobody reminded
    item = await h.db.fetchone("SELECT state FROM escalations WHERE subject = ?",
                               (f"mobilisation:{mobilisation_id}",))  # fmt: skip
    assert item["state"] == "handled"


async def test_closing_sends_the_summary_and_ends_the_buttons(harness: Harness) -> None:
    h = harness
    await file(h)
    mobilisation_id = await mobilise(h)
    await h.press(61001, data(mobilisation_id, "a"))
    await h.press(61002, data(mobilisation_id, "d"))
    await h.text(61002, "发烧在家")
    await h.press(61003, data(mobilisation_id, "r"))
    await h.press(LEADER, data(mobilisation_id, "c"))
    await h.drain_outbox()
    assert answers(h)[-1] == "动员已结束，已在领导小组群通报结果。"
    summary = texts(h, LEADERS_CHAT)[-1]
    assert summary.startswith("【演练】") and "动员结束" in summary
    assert "已到岗 1" in summary and "无法到岗 1" in summary and "未回复 1" in summary
    assert "发烧在家" in summary and "139 1234" not in summary
    last = rollcalls(h)[-1]
    assert "（已结束）" in last
    assert (await h.db.fetchone("SELECT state FROM mobilisations"))["state"] == "closed"
    await later(h, minutes=60)
    assert len(texts(h, 61004)) == 1 and not texts(h, VADMIN_SQ)  # the climb stopped
    await h.press(61004, data(mobilisation_id, "a"))  # a late button
    assert answers(h)[-1] == "本次动员已结束，无需回复。"
    assert (await calls(h, mobilisation_id))["赵四"]["state"] == "sent"
    await h.press(LEADER, data(mobilisation_id, "c"))
    assert answers(h)[-1] == "这次动员已经结束。"


async def test_a_real_call_is_not_marked_as_a_drill(harness: Harness) -> None:
    h = harness
    await file(h)
    mobilisation_id = await mobilise(h, drill=False)
    assert not any("演练" in t for t in [*texts(h, 61001), *texts(h, LEADERS_CHAT),
                                         *rollcalls(h)])  # fmt: skip
    [entry] = await audit(h, "mobilisation.call")
    assert entry["detail"] == "real:4:1"
    assert mobilisation_id


async def test_a_resident_may_not_mobilise(harness: Harness) -> None:
    h = harness
    await file(h)
    await h.text(RESIDENT, "/mobilise")
    assert REFUSED in texts(h, RESIDENT)[-1]
    assert await denied(h, RESIDENT) == ["denied:" + "mobilisation.call"]
    assert not await h.db.fetchall("SELECT * FROM drafts WHERE user_id = ?", (RESIDENT,))


async def test_someone_not_called_pressing_is_refused(harness: Harness) -> None:
    h = harness
    await file(h)
    mobilisation_id = await mobilise(h)
    await h.press(61011, data(mobilisation_id, "a"))  # a cadre of another village
    assert REFUSED in answers(h)[-1]
    assert await denied(h, 61011) == ["denied:" + "mobilisation.answer"]
    await h.press(61001, data(mobilisation_id, "c"))  # a recipient closing the caller's call
    assert REFUSED in answers(h)[-1]
    assert await denied(h, 61001) == ["denied:" + "mobilisation.c"]
    assert (await h.db.fetchone("SELECT state FROM mobilisations"))["state"] == "open"


async def test_named_people_are_chosen_from_the_roster(harness: Harness) -> None:
    h = harness
    ids = await file(h)
    h.request.members[LEADER] = "member"
    await h.text(LEADER, "/mobilise")
    await h.choose(LEADER, "指定人员")
    await h.choose(LEADER, "选好了")
    assert "至少点选一人" in texts(h, LEADER)[-2]
    await h.choose(LEADER, "张一")
    await h.choose(LEADER, "孙六")  # busy, but named: called
    assert "✅ 张一" in [label for label, _ in h.buttons(LEADER)]
    await h.choose(LEADER, "选好了")
    await h.text(LEADER, "镇政府")
    await h.choose(LEADER, "30分钟内")
    await h.text(LEADER, "转运保障")
    await h.choose(LEADER, "否，真实动员")
    assert (
        "指定人员 2 名" in texts(h, LEADER)[-1] and "将通过机器人通知 2 人" in texts(h, LEADER)[-1]
    )
    await h.choose(LEADER, "确认发送")
    await h.drain_outbox()
    mobilisation = await h.db.fetchone("SELECT target FROM mobilisations")
    assert json.loads(mobilisation["target"]) == {"kind": "people",
                                                  "people": [ids["张一"], ids["孙六"]]}  # fmt: skip
    assert "30分钟内" in texts(h, 61001)[-1] and texts(h, BUSY)
    assert not texts(h, 61002)


@pytest.mark.parametrize("locale", ["en"])
async def test_english_readers_get_english(harness: Harness, locale: str) -> None:
    h = harness
    await file(h)
    await h.text(61001, "/language")
    await h.choose(61001, "English")
    await mobilise(h)
    card = texts(h, 61001)[-1]
    assert card.startswith("[DRILL] ") and "Where: 石桥村村委会" in card and "When: now" in card
    assert [label for label, _ in h.buttons(61001)] == ["👌 Received", "✅ Arrived",
                                                        "✖️ Can't come"]  # fmt: skip
    assert actions.subject(3) == "mobilisation:3"


async def test_the_daily_report_lists_the_calls_and_marks_a_drill(harness: Harness) -> None:
    h = harness
    await file(h)
    since = h.clock.now()
    mobilisation_id = await mobilise(h)
    await h.press(61001, data(mobilisation_id, "a"))
    h.clock.advance(minutes=1)
    async with h.db.write() as conn:
        built = await digest.build(h.services, conn, since=since, until=h.clock.now(),
                                   now=h.clock.now())  # fmt: skip
    text = parse_html(built.text)[0]
    assert "紧急动员" in text
    assert (
        "【演练】XF-DY-20201026-01：召集 5 人，到岗 1，已收到 0，无法到岗 0，未回复 3，"
        "电话通知 1（进行中）"
    ) in text
