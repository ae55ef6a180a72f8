"""Drill scenarios: validation with key paths, and playing them against a state with a tiny
fake bot that answers in the private chat."""

from __future__ import annotations

import asyncio
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from sandbox.clock import DrillClock
from sandbox.scenario import ScenarioError, load_scenario, parse_scenario
from sandbox.state import SandboxState
from sandbox.world import build_world, seed

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2020, 11, 20, 1, 0, tzinfo=UTC)


def problems(text: str) -> list[str]:
    world = build_world(load_config(ROOT / "config.example.toml"))
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(tomllib.loads(text), people=set(world.people), chats=set(world.chat_keys()))
    return exc.value.problems


def test_unknown_action_and_keys_are_reported_with_paths() -> None:
    found = problems(
        """
        colour = "red"
        [[step]]
        who = "resident1"
        action = "start"
        [[step]]
        at = 5
        who = "resident1"
        action = "fly"
        [[step]]
        at = 2
        who = "bob"
        action = "text"
        [[step]]
        at = 3
        action = "press"
        who = "resident1"
        lable = "本人"
        [[step]]
        action = "wait_for"
        text = "x"
        chat = "nowhere"
        [[step]]
        action = "speed"
        speed = -1
        """
    )
    assert found == [
        'colour: unknown key "colour"',
        'step[1].action: unknown action "fly" (one of: start, text, press, contact, '
        "location, photo, wait_for, speed, jump)",
        'step[2]: missing key "text" for action "text"',
        'step[2].who: unknown person "bob" (known: '
        + ", ".join(sorted(build_world(load_config(ROOT / "config.example.toml")).people))
        + ")",
        'step[3]: missing key "label" for action "press"',
        'step[3].lable: unknown key "lable" for action "press"',
        'step[4].chat: unknown chat "nowhere"',
        "step[5].speed: must be above 0",
    ]


def test_time_must_not_go_backwards_and_start_needs_an_offset() -> None:
    found = problems(
        """
        start = 2020-11-20T09:00:00
        [[step]]
        at = 10
        action = "jump"
        minutes = 5
        [[step]]
        at = 3
        action = "jump"
        minutes = "five"
        """
    )
    assert found[0].startswith("start: must be a date and time with an offset")
    assert "step[1].at: 3 is earlier than the step before (10)" in found
    assert "step[1].minutes: must be a number" in found


def test_the_shipped_drill_is_valid() -> None:
    world = build_world(load_config(ROOT / "config.example.toml"))
    drill = load_scenario(ROOT / "scenarios" / "drill.toml", world=world)
    assert drill.start is not None and drill.steps[0].action == "start"
    assert any(s.action == "wait_for" and s.args.get("chat") == "leaders" for s in drill.steps)


class FakeBot:
    """Answers each private message with a question and a button, like a form."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.seen: list[str] = []

    async def run(self) -> None:
        offset = 0
        while True:
            for update in await self.state.get_updates(offset=offset, timeout=5):
                offset = update["update_id"] + 1
                if "message" in update:
                    message = update["message"]
                    chat = message["chat"]["id"]
                    text = message.get("text") or (
                        "contact" if "contact" in message else "location"
                    )
                    self.seen.append(text)
                    markup = {"inline_keyboard": [[{"text": "✅ 好的", "callback_data": "v1:ok"}]]}
                    self.state.bot_send_message(chat, f"收到：{text}", reply_markup=markup)
                elif "callback_query" in update:
                    query = update["callback_query"]
                    self.seen.append(query["data"])
                    self.state.answer_callback_query(query["id"], text="ok")
                    msg = query["message"]
                    self.state.bot_edit_reply_markup(msg["chat"]["id"], msg["message_id"], None)
                    self.state.bot_send_message(msg["chat"]["id"], "谢谢，已登记")
                    self.state.bot_send_message(-1001234567890, "预警：有人到达")


WALL = [1_000_000.0]


async def fast_sleep(seconds: float) -> None:
    """The player's wait for virtual time: a real-time minute passes at once."""
    WALL[0] += 60
    await asyncio.sleep(0)


@pytest.fixture
def world_state(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = DrillClock(tmp_path / "clock.json", wall=lambda: WALL[0])
    clock.reset(START)
    state = SandboxState.for_token("123456:SANDBOX", clock=clock)
    world = seed(state, load_config(ROOT / "config.example.toml"))
    return state, world, clock


async def test_player_applies_steps_in_order(world_state, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from sandbox.scenario import Player

    state, world, clock = world_state
    scenario = parse_scenario(
        tomllib.loads(
            """
            [[step]]
            who = "resident1"
            action = "start"
            payload = "a-XF01"
            [[step]]
            who = "resident1"
            action = "text"
            text = "张伟"
            [[step]]
            who = "resident1"
            action = "contact"
            [[step]]
            who = "resident1"
            action = "press"
            label = "好的"
            [[step]]
            action = "wait_for"
            chat = "leaders"
            text = "预警"
            [[step]]
            at = 30
            action = "jump"
            minutes = 30
            """
        )
    )
    fake = FakeBot(state)
    task = asyncio.create_task(fake.run())
    lines: list[str] = []
    player = Player(state, world, clock, log=lines.append, timeout=5, sleep=fast_sleep)
    try:
        assert await asyncio.wait_for(player.play(scenario), 10)
    finally:
        task.cancel()
    assert fake.seen == ["/start a-XF01", "张伟", "contact", "v1:ok"]
    resident = world.person("resident1").user_id
    contact = next(m.contact for m in state.messages(resident) if m.contact)
    assert contact == {"phone_number": "13800000001", "first_name": "张伟", "user_id": resident}
    assert lines[-1] == "■ drill finished"
    assert any("leaders: 预警：有人到达" in line for line in lines)
    # the jump step moved the virtual clock 30 minutes past its own start at minute 30
    assert (clock.now() - START).total_seconds() >= 60 * 60


async def test_a_wait_in_vain_is_one_failure_line(world_state) -> None:  # type: ignore[no-untyped-def]
    from sandbox.scenario import Player

    state, world, clock = world_state
    scenario = parse_scenario(
        tomllib.loads(
            """
            [[step]]
            who = "resident1"
            action = "start"
            [[step]]
            who = "resident1"
            action = "text"
            text = "/checkin"
            timeout = 0.05
            [[step]]
            who = "resident2"
            action = "start"
            """
        )
    )
    lines: list[str] = []
    player = Player(state, world, clock, log=lines.append, sleep=fast_sleep)
    assert await player.play(scenario) is False  # no bot: nobody answers /start
    assert lines[-2] == (
        "✗ step[1] @0min resident1 text text='/checkin': "
        "the bot did not answer the previous message within 0.05 s"
    )
    assert lines[-1] == "■ drill stopped"
    assert state.messages(world.person("resident2").user_id) == []  # later steps never ran


async def test_wait_for_reports_what_it_waited_for(world_state) -> None:  # type: ignore[no-untyped-def]
    from sandbox.scenario import Player

    state, world, clock = world_state
    scenario = parse_scenario(
        tomllib.loads('[[step]]\naction = "wait_for"\nchat = "leaders"\ntext = "病例"\ntimeout = 0')
    )
    lines: list[str] = []
    assert not await Player(state, world, clock, log=lines.append).play(scenario)
    assert "no message containing '病例' in leaders within 0 s" in lines[-2]


def test_a_jump_needs_minutes_or_an_instant_with_an_offset() -> None:
    found = problems(
        """
        [[step]]
        action = "jump"
        [[step]]
        action = "jump"
        minutes = 5
        to = 2020-11-20T20:00:00+08:00
        [[step]]
        action = "jump"
        to = 2020-11-20T20:00:00
        """
    )
    assert found == [
        'step[0]: jump needs "minutes" or "to" (one of them)',
        'step[1]: jump needs "minutes" or "to" (one of them)',
        "step[2].to: must be a date and time with an offset, e.g. 2020-11-20T20:00:30+08:00",
    ]


async def test_a_jump_to_an_instant_moves_forward_only(world_state) -> None:  # type: ignore[no-untyped-def]
    from sandbox.scenario import Player

    state, world, clock = world_state
    scenario = parse_scenario(
        tomllib.loads(
            """
            [[step]]
            action = "jump"
            to = 2020-11-20T20:00:30+08:00
            [[step]]
            action = "jump"
            to = 2020-11-20T09:00:00+08:00
            """
        )
    )
    lines: list[str] = []
    assert await Player(state, world, clock, log=lines.append).play(scenario)
    assert abs((clock.now() - datetime(2020, 11, 20, 12, 0, 30, tzinfo=UTC)).total_seconds()) < 5
    assert lines[1] == "✓ step[0] @0min jump to=2020-11-20T20:00:30+08:00"
    assert lines[2].endswith("— the clock is already past 11-20 09:00")


async def test_wait_for_sees_an_earlier_message_edited_meanwhile(world_state) -> None:  # type: ignore[no-untyped-def]
    """A card brought up to date (the case's direct-report number) is text that appears, though
    the message is older than the one the drill last waited for."""
    from sandbox.scenario import Player

    state, world, clock = world_state
    leaders = world.chat_keys()["leaders"]
    card = state.bot_send_message(leaders, "发现疑似病例：尚未网络直报")
    state.bot_send_message(leaders, "提醒：尚未网络直报")
    scenario = parse_scenario(
        tomllib.loads(
            """
            [[step]]
            action = "wait_for"
            chat = "leaders"
            text = "提醒"
            [[step]]
            action = "wait_for"
            chat = "leaders"
            text = "已网络直报"
            """
        )
    )
    player = Player(state, world, clock, log=lambda line: None, timeout=5, sleep=fast_sleep)
    playing = asyncio.create_task(player.play(scenario))
    async with asyncio.timeout(60):  # until the first step has matched the reminder
        while not player._matched.get(leaders):
            await asyncio.sleep(0)
    state.bot_edit_text(leaders, card.message_id, "发现疑似病例：已网络直报")
    assert await asyncio.wait_for(playing, 60)


def test_the_shipped_isolation_drill_is_valid() -> None:
    """scenarios/isolation.toml (issue 12) names the chain's staff the sandbox seeds."""
    world = build_world(load_config(ROOT / "config.example.toml"))
    drill = load_scenario(ROOT / "scenarios" / "isolation.toml", world=world)
    who = {s.who for s in drill.steps} | {s.args.get("chat") for s in drill.steps}
    assert {"manager_GL01", "dispatcher", "crew_V01", "crew_V02", "leaders"} <= who


async def test_press_on_an_earlier_card(world_state) -> None:  # type: ignore[no-untyped-def]
    """``on``: a button of an earlier message, as a person scrolls up to a case card, while a
    newer message has buttons of its own."""
    from sandbox.scenario import Player

    state, world, clock = world_state
    worker = world.person("worker_XF01").user_id
    button = {"inline_keyboard": [[{"text": "➕ 添加密接", "callback_data": "v1:mj:1:add"}]]}
    card = state.bot_send_message(worker, "病例卡片 XF-BL-01", reply_markup=button)
    newer = {"inline_keyboard": [[{"text": "➕ 新登记人员", "callback_data": "v1:mjf:t:person"}]]}
    state.bot_send_message(worker, "这个人登记过吗？", reply_markup=newer)
    scenario = parse_scenario(tomllib.loads(
        'step = [{who = "worker_XF01", action = "press", on = "XF-BL-01", label = "添加密接"}]'
    ))  # fmt: skip
    lines: list[str] = []
    player = Player(state, world, clock, log=lines.append, timeout=1, sleep=fast_sleep)
    assert await asyncio.wait_for(player.play(scenario), 5), lines
    (update,) = await state.get_updates(offset=0, timeout=0)
    query = update["callback_query"]
    assert query["data"] == "v1:mj:1:add"
    assert query["message"]["message_id"] == card.message_id


async def test_a_person_opens_the_link_an_admin_was_given(world_state) -> None:  # type: ignore[no-untyped-def]
    """``link_in``: a person opens the bot link of the newest message in another chat (the
    join link an admin forwards to someone on file, issue 13): its payload, exactly."""
    from sandbox.scenario import Player

    state, world, clock = world_state
    admin = world.person("admin_sq").user_id
    state.bot_send_message(admin, "旧链接 https://t.me/paicha_sandbox_bot?start=r-OLD")
    button = {"inline_keyboard": [[{"text": "打开", "url": "https://t.me/x?start=r-Btn_9"}]]}
    state.bot_send_message(admin, "已建档：王五", reply_markup=button)
    state.bot_send_message(admin, "已建档：赵六\nhttps://t.me/paicha_sandbox_bot?start=r-Ab_c-1")
    state.bot_send_message(admin, "请把链接发给本人")  # newer, but no link in it
    scenario = parse_scenario(tomllib.loads(
        'step = [{who = "resident1", action = "start", link_in = "admin_sq"},\n'
        '        {who = "resident2", action = "start", link_in = "admin_sq", on = "王五"},\n'
        '        {who = "resident2", action = "wait_for", text = "收到"}]'
    ), people=set(world.people), chats=set(world.chat_keys()))  # fmt: skip
    fake = FakeBot(state)
    task = asyncio.create_task(fake.run())
    player = Player(state, world, clock, log=lambda line: None, timeout=5, sleep=fast_sleep)
    try:
        assert await asyncio.wait_for(player.play(scenario), 10)
    finally:
        task.cancel()
    assert fake.seen == ["/start r-Ab_c-1", "/start r-Btn_9"]


def test_a_link_is_opened_from_a_known_chat_and_not_with_a_payload() -> None:
    found = problems(
        """
        [[step]]
        who = "resident1"
        action = "start"
        link_in = "nobody"
        [[step]]
        who = "resident1"
        action = "start"
        payload = "a-XF01"
        link_in = "admin_sq"
        """
    )
    assert found == [
        'step[0].link_in: unknown chat "nobody"',
        'step[1]: start takes "payload" or "link_in", not both',
    ]


async def test_no_link_in_the_chat_is_one_failure_line(world_state) -> None:  # type: ignore[no-untyped-def]
    from sandbox.scenario import Player

    state, world, clock = world_state
    scenario = parse_scenario(tomllib.loads(
        'step = [{who = "resident1", action = "start", link_in = "admin_sq", timeout = 0.05}]'
    ))  # fmt: skip
    lines: list[str] = []
    player = Player(state, world, clock, log=lines.append, sleep=fast_sleep)
    assert await player.play(scenario) is False
    assert lines[-2] == "✗ step[0] @0min resident1 start: no bot link in admin_sq within 0.05 s"


def test_the_shipped_units_and_mobilisation_drills_are_valid() -> None:
    """scenarios/units.toml and mobilisation.toml (issue 13) name the people the sandbox seeds:
    a hotel's liaison, the town store's keeper and the five cadres, who join by a link."""
    world = build_world(load_config(ROOT / "config.example.toml"))
    units = load_scenario(ROOT / "scenarios" / "units.toml", world=world)
    assert "liaison_xfhotel" in {s.who for s in units.steps}
    drill = load_scenario(ROOT / "scenarios" / "mobilisation.toml", world=world)
    joined = {s.who for s in drill.steps if s.action == "start" and "link_in" in s.args}
    assert joined == {f"cadre{n}" for n in range(1, 6)}
    assert {"leader", "keeper", "admin_sq"} <= {s.who for s in drill.steps}
