"""Buttons pressed in a group (issue 11, holes): only the buttons designed for a group act
there; any other button — a record's "open", a menu, a conversation's answer — is answered in
the presser's own private chat, whatever a modified client sends, and a conversation's chat is
always the presser's private chat."""

from __future__ import annotations

import pytest

from handlers.access import acts_in_group
from sandbox.recording import Call
from tests.harness import Harness
from tests.staff_helpers import ADMIN, LEADERS_CHAT, RESIDENT, WORKER_XF01, seed_report, seed_visit
from tests.test_tips import send_tip

OTHER_GROUP = -1009876543210
GROUPS = {"leadership": LEADERS_CHAT, "other": OTHER_GROUP}
PHONE, ID_NUMBER = "13912345678", "11010519491231002X"

# Every kind of button that must not act in a group ({report}, {tip}, {visit}: seeded ids).
PRIVATE_BUTTONS = (
    "v1:tk:o:{report}", "v1:tk:ok:{report}", "v1:tk:bad:{report}", "v1:tk:esc:{report}",
    "v1:tp:o:{tip}", "v1:tp:c:{tip}", "v1:tp:y:{tip}", "v1:tp:u:{tip}", "v1:tp:r:{tip}",
    "v1:tp:lr:{tip}", "v1:menu:arrive", "v1:menu:my", "v1:menu:tip", "v1:menu:help",
    "v1:menu:checkin", "v1:menu:language", "v1:lang:en", "v1:my:w:{report}",
    "v1:qc:{report}:p", "v1:cs:1:f", "v1:mo:1:ext:3", "v1:mo:1:stop:0", "v1:ci:1:x:y",
    "v1:inv:g:XF01", "v1:st:m:1", "v1:vr:{visit}", "v1:ar:tok:step:v", "v1:case:t:s:v",
)  # fmt: skip


def group_press(h: Harness, user: int, chat: int, data: str) -> dict:
    """A button of a message in group ``chat`` (as a modified client may send any data)."""
    payload = h.updates.callback(h.updates.user(user), int(h.clock.now().timestamp()), data)
    query = payload["callback_query"]
    query["message"]["chat"] = {"id": chat, "type": "supergroup", "title": "群"}
    query["chat_instance"] = str(chat)
    return payload


def to_chat(calls: list[Call], chat: int) -> list[Call]:
    """Every call that shows something in ``chat`` (a message, a photo, an edit)."""
    return [c for c in calls if c.method.startswith(("send", "edit"))
            and str(c.params.get("chat_id")) == str(chat)]  # fmt: skip


async def seed(h: Harness) -> dict[str, int]:
    await send_tip(h)
    tip = await h.db.fetchone("SELECT id FROM tips")
    return {"report": await seed_report(h), "tip": tip["id"], "visit": await seed_visit(h)}


@pytest.mark.parametrize("group", list(GROUPS))
@pytest.mark.parametrize("user", [ADMIN, WORKER_XF01, RESIDENT])
async def test_no_button_opens_anything_in_a_group(harness: Harness, user: int, group: str) -> None:
    h = harness
    ids = await seed(h)
    chat = GROUPS[group]
    before = len(h.request.calls)
    for data in PRIVATE_BUTTONS:
        await h.feed(group_press(h, user, chat, data.format(**ids)))
    calls = h.request.calls[before:]
    assert to_chat(calls, chat) == []
    assert not any(PHONE in str(c.params) or ID_NUMBER in str(c.params) for c in calls
                   if str(c.params.get("chat_id")) != str(user))  # fmt: skip
    drafts = await h.db.fetchall("SELECT user_id, chat_id FROM drafts")
    assert all(d["chat_id"] == d["user_id"] for d in drafts)


async def test_an_open_card_pressed_in_the_leadership_group_goes_to_the_private_chat(
    harness: Harness,
) -> None:
    h = harness
    report = await seed_report(h)
    calls = await h.feed(group_press(h, ADMIN, LEADERS_CHAT, f"v1:tk:o:{report}"))
    assert to_chat(calls, LEADERS_CHAT) == []
    private = h.texts(ADMIN)
    assert "刚才在群里按了一个按钮" in private[-2]
    assert PHONE in private[-1] and ID_NUMBER in private[-1]  # the full card, in private
    answered = [c for c in calls if c.method == "answerCallbackQuery"]
    assert len(answered) == 1


async def test_a_menu_button_in_another_group_opens_the_form_in_private(harness: Harness) -> None:
    h = harness
    calls = await h.feed(group_press(h, RESIDENT, OTHER_GROUP, "v1:menu:arrive"))
    assert to_chat(calls, OTHER_GROUP) == []
    draft = await h.db.fetchone("SELECT chat_id FROM drafts WHERE user_id = ?", (RESIDENT,))
    assert draft["chat_id"] == RESIDENT
    await h.text(RESIDENT, "张三")  # the next answers go on in private, as any form's
    assert to_chat(h.request.calls, OTHER_GROUP) == []


async def test_a_presser_the_bot_cannot_write_to_is_told_on_the_button(harness: Harness) -> None:
    h = harness
    report = await seed_report(h)
    h.request.fail(lambda c: c.method == "sendMessage" and str(c.params["chat_id"]) == str(ADMIN),
                   403, "Forbidden: bot can't initiate conversation with a user")  # fmt: skip
    calls = await h.feed(group_press(h, ADMIN, LEADERS_CHAT, f"v1:tk:o:{report}"))
    assert to_chat(calls, LEADERS_CHAT) == []
    answered = [c for c in calls if c.method == "answerCallbackQuery"]
    assert len(answered) == 1 and "请先私聊本机器人" in answered[0].params["text"]
    assert [c.method for c in calls if c.method.startswith(("send", "edit"))] == ["sendMessage"]


async def test_a_refused_group_button_is_answered_on_the_button_only(harness: Harness) -> None:
    h = harness
    calls = await h.feed(group_press(h, RESIDENT, LEADERS_CHAT, "v1:ack:report:99999"))
    assert to_chat(calls, LEADERS_CHAT) == [] and to_chat(calls, RESIDENT) == []
    assert [c.method for c in calls] == ["getChatMember", "answerCallbackQuery"]


# Known answers: what acts in a group (the group cards' buttons, a grid's fallback cards).
ACTS_IN_GROUP = {
    "v1:ack:report:1": True,
    "v1:ack:tip:3:x": True,
    "v1:cs:1:r": True,
    "v1:cs:1:a": True,
    "v1:cs:1:c": True,
    "v1:cs:1:x": True,
    "v1:cs:1:t:封控": True,
    "v1:cs:1:f": False,
    "v1:cs:1": False,
    "v1:qc:5:ok": True,
    "v1:qc:5:no": True,
    "v1:qc:5:p": False,
    "v1:wd:y:5": True,
    "v1:rgp:7:c": True,
    "v1:tk:o:5": False,
    "v1:tp:o:5": False,
    "v1:menu:arrive": False,
    "v1:mo:1:ext:3": False,
    "v2:ack:report:1": False,
    "ack:report:1": False,
    "v1": False,
    "": False,
}


@pytest.mark.parametrize("data", list(ACTS_IN_GROUP))
def test_acts_in_group_known_answers(data: str) -> None:
    assert acts_in_group(data) is ACTS_IN_GROUP[data]


def test_no_callback_data_acts_in_a_group() -> None:
    assert acts_in_group(None) is False
