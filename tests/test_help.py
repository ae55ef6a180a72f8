"""/help per role, the command menus per chat type, the group's own commands, and the menu
as buttons for a message outside any conversation."""

from __future__ import annotations

import pytest

from bot.domain.roles import Actor
from handlers.start import help_roles
from tests.harness import Harness
from tests.test_arrival_flow import LEADERS, RESIDENT, WORKER_XF01

ADMIN = 10001
VILLAGE_ADMIN = 20001
LEADER = 50001

RESIDENT_COMMANDS = ("/arrive", "/tip", "/my", "/cancel", "/language")
STAFF_COMMANDS = ("/tasks", "/visit", "/visits", "/monitoring", "/monitor", "/case")
MANAGER_COMMANDS = ("/invite", "/staff")

# Known answers: who asks -> which parts of /help they get (worker, manager, leader, admin).
ROLES = [
    (Actor(1), (False, False, False, False)),
    (Actor(1, worker_grids=frozenset({"XF01"})), (True, False, False, False)),
    (Actor(1, admin_villages=frozenset({"xf"})), (True, True, False, False)),
    (Actor(1, is_leader=True), (False, False, True, False)),
    (Actor(1, is_admin=True), (True, True, True, True)),
    (Actor(1, is_leader=True, worker_grids=frozenset({"XF01"})), (True, False, True, False)),
]


@pytest.mark.parametrize(("actor", "parts"), ROLES)
def test_help_parts_by_role(actor: Actor, parts: tuple[bool, ...]) -> None:
    assert tuple(help_roles(actor).values()) == parts
    assert tuple(help_roles(actor)) == ("worker", "manager", "leader", "admin")


def group_message(h: Harness, user_id: int, text: str, chat_id: int = LEADERS) -> dict:
    payload = h.updates.message(h.updates.user(user_id), 0, text=text)
    payload["message"]["chat"] = {"id": chat_id, "type": "supergroup", "title": "领导小组"}
    return payload


async def help_text(h: Harness, user: int) -> str:
    calls = await h.text(user, "/help")
    (sent,) = [c for c in calls if c.method == "sendMessage"]
    assert int(sent.params["chat_id"]) == user and sent.params["parse_mode"] == "HTML"
    return sent.params["text"]


async def test_a_resident_gets_the_residents_commands_and_the_menu(harness: Harness) -> None:
    text = await help_text(harness, RESIDENT)
    assert all(c in text for c in RESIDENT_COMMANDS)
    assert not any(c in text for c in (*STAFF_COMMANDS, *MANAGER_COMMANDS, "/report"))
    assert "没有这个命令" not in text
    labels = [label for label, _ in harness.buttons(RESIDENT)]
    assert labels[:3] == ["📝 到达登记", "📄 我的登记", "🔎 举报线索（匿名）"]
    assert "🌡 健康打卡" in labels and "❓ 帮助" in labels


async def test_a_worker_gets_the_staff_commands(harness: Harness) -> None:
    text = await help_text(harness, WORKER_XF01)
    assert all(c in text for c in (*RESIDENT_COMMANDS, *STAFF_COMMANDS))
    assert not any(c in text for c in (*MANAGER_COMMANDS, "/regions"))


async def test_a_village_admin_gets_the_management_commands(harness: Harness) -> None:
    text = await help_text(harness, VILLAGE_ADMIN)
    assert all(c in text for c in (*STAFF_COMMANDS, *MANAGER_COMMANDS))
    assert "/report" not in text


async def test_a_leader_gets_the_leadership_part(harness: Harness) -> None:
    harness.request.members[LEADER] = "member"
    text = await help_text(harness, LEADER)
    assert "/report" in text and "/case" in text and "领导小组" in text and "/regions" in text
    assert "/tasks" not in text and "/staff" not in text
    assert "/invite 邀请单位联络员" in text  # a leader invites units' liaisons, not workers


async def test_an_admin_gets_everything(harness: Harness) -> None:
    text = await help_text(harness, ADMIN)
    assert all(c in text for c in (*STAFF_COMMANDS, *MANAGER_COMMANDS, "/report", "/regions"))


async def test_help_in_english(harness: Harness) -> None:
    calls = await harness.text(RESIDENT, "/help", "en")
    assert "How to use this bot" in calls[-1].params["text"]
    assert "❓ Help" in [label for label, _ in harness.buttons(RESIDENT)]


async def test_the_menu_button_shows_help(harness: Harness) -> None:
    await harness.text(RESIDENT, "/start")
    await harness.choose(RESIDENT, "帮助")
    assert "/arrive" in harness.texts(RESIDENT)[-1] and "怎么使用" in harness.texts(RESIDENT)[-1]


async def test_free_text_outside_a_conversation_gets_the_menu_buttons(harness: Harness) -> None:
    calls = await harness.text(RESIDENT, "你好")
    assert calls[-1].params["text"] == "您想办什么事？请点下面的按钮："
    labels = [label for label, _ in harness.buttons(RESIDENT)]
    assert {"📝 到达登记", "🔎 举报线索（匿名）", "🌡 健康打卡", "❓ 帮助"} <= set(labels)


async def test_help_in_the_leadership_group_answers_there(harness: Harness) -> None:
    calls = await harness.feed(group_message(harness, LEADER, "/help"))
    (sent,) = [c for c in calls if c.method == "sendMessage"]
    assert int(sent.params["chat_id"]) == LEADERS
    assert "/report" in sent.params["text"] and "/help" in sent.params["text"]
    assert "/arrive" not in sent.params["text"]


async def test_help_in_another_group_has_no_report(harness: Harness) -> None:
    calls = await harness.feed(group_message(harness, LEADER, "/help", chat_id=-100777))
    (sent,) = [c for c in calls if c.method == "sendMessage"]
    assert int(sent.params["chat_id"]) == -100777 and "/report" not in sent.params["text"]


@pytest.mark.parametrize("command", ["/arrive", "/tip", "/my", "/start", "/arrive@paicha_bot"])
async def test_a_residents_command_in_the_group_points_to_the_private_chat(
    harness: Harness, command: str
) -> None:
    calls = await harness.feed(group_message(harness, RESIDENT, command))
    (sent,) = [c for c in calls if c.method == "sendMessage"]
    assert int(sent.params["chat_id"]) == LEADERS
    assert sent.params["text"].startswith(command.split("@")[0]) and "私聊" in sent.params["text"]
    (button,) = sent.params["reply_markup"]["inline_keyboard"][0]
    assert button["url"] == "https://t.me/paicha_bot"
    assert await harness.db.fetchone("SELECT * FROM drafts") is None


async def test_command_menus_by_chat_type(harness: Harness) -> None:
    calls = [c.params for c in harness.request.calls if c.method == "setMyCommands"]
    menus = {
        (p["scope"]["type"], p["scope"].get("chat_id"), p.get("language_code")):
        [command["command"] for command in p["commands"]]
        for p in calls
    }  # fmt: skip
    residents = ["arrive", "tip", "my", "cancel", "language", "start", "help"]
    for language in (None, "zh", "en"):
        assert menus[("all_private_chats", None, language)] == residents
        assert menus[("all_group_chats", None, language)] == ["help"]
        assert menus[("chat", LEADERS, language)] == ["report", "isolation", "help"]
    assert not any(scope == "default" for scope, _, _ in menus)


LEADER_MENU = ("stats", "export", "posters", "mobilise", "supplies", "units", "staff")


async def test_a_leader_gets_the_leaders_menu_in_their_chat_once(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "member"  # of the leadership group, no admin in the config
    before = len(h.request.calls)
    await h.text(LEADER, "/start")
    assert not [c for c in h.request.calls[before:] if c.method == "setMyCommands"]
    await h.text(LEADER, "/help")
    await h.text(LEADER, "/help")
    await h.press(LEADER, "v1:menu:help")  # the menu's help button
    await h.text(RESIDENT, "/start")
    await h.text(RESIDENT, "/help")
    menus = [c.params for c in h.request.calls[before:] if c.method == "setMyCommands"]
    assert [(p["scope"]["type"], p["scope"]["chat_id"]) for p in menus] == [("chat", LEADER)]
    commands = [c["command"] for c in menus[0]["commands"]]
    assert set(LEADER_MENU) <= set(commands) and {"arrive", "tip", "help"} <= set(commands)
    assert len(commands) == len(set(commands))
    words = {c["command"]: c["description"] for c in menus[0]["commands"]}
    assert all(words.values()) and "cmd_" not in "".join(words.values())
