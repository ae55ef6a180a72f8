"""Drill scenarios: a TOML list of ``[[step]]`` played against the sandbox's people.

```toml
title = "返镇人员申报 → 领导小组预警"
start = 2020-11-20T09:00:00+08:00     # optional: the drill's virtual start
speed = 1                              # optional: the clock's pace at the start

[[step]]
at = 0                # minutes from the start, virtual time (non-decreasing)
who = "resident1"     # a person key (see sandbox/world.py)
action = "start"      # start | text | press | contact | location | photo | wait_for | speed | jump
payload = "a-XF01"    # or link_in = "admin_sq" (on = "王五"): open the bot link given there

[[step]]
action = "jump"       # move the virtual clock forward: by ``minutes``, or ``to`` an instant
to = 2020-11-20T20:00:30+08:00
```

A people step first waits until the bot has answered the person's previous message in that
chat (the newest message there is not theirs); ``press`` waits until a button with the label
appears (with ``on``: on the newest message containing that text, an earlier card too, as a
person scrolls up to it). A wait that runs out is reported as one failure line and the drill
stops: the player never raises for what the bot did or did not do.
"""

from __future__ import annotations

import asyncio
import base64
import re
import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sandbox.markup import is_inline
from sandbox.state import CallbackQuery, Message, SandboxState
from sandbox.world import TOWN_LOCATION, World

# per action: (required keys, optional keys)
_COMMON = {"at", "who", "action", "chat", "timeout", "note"}
ACTIONS: dict[str, tuple[set[str], set[str]]] = {
    "start": (set(), {"payload", "link_in", "on"}),  # link_in: a chat holding a bot link
    "text": ({"text"}, set()),
    "press": ({"label"}, {"on"}),  # on: the newest message containing this text
    "contact": (set(), {"phone"}),
    "location": (set(), {"latitude", "longitude"}),
    "photo": (set(), {"file", "caption"}),
    "wait_for": ({"text"}, {"within"}),
    "speed": ({"speed"}, set()),
    "jump": (set(), {"minutes", "to"}),  # exactly one of them
}
_NO_PERSON = {"speed", "jump"}
_TOP_KEYS = {"title", "description", "start", "speed", "step"}
DEFAULT_TIMEOUT = 30.0  # real seconds a step waits for the bot
FOLLOW_UP_GRACE = 3.0  # real seconds to wait for the question after a button's answer
# a bot link's payload (Telegram's deep-link charset), in a text or a button's URL
LINK_PAYLOAD = re.compile(r"t\.me/\w+\?start=([A-Za-z0-9_-]{1,64})")
# the smallest valid PNG (1x1, grey): the photo a step sends when it names no file
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)


class ScenarioError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Step:
    index: int
    at: float
    action: str
    who: str | None
    args: dict[str, Any]

    def describe(self) -> str:
        detail = next(
            (f"{k}={_show(self.args[k])}"
             for k in ("text", "label", "payload", "speed", "minutes", "to") if k in self.args),
            "")  # fmt: skip
        who = f"{self.who} " if self.who else ""
        return f"step[{self.index}] @{self.at:g}min {who}{self.action} {detail}".rstrip()


@dataclass(frozen=True)
class Scenario:
    title: str
    steps: tuple[Step, ...]
    start: datetime | None = None
    speed: float | None = None
    description: str = ""
    base_dir: Path = field(default_factory=Path)


def _show(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else repr(value)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_scenario(
    data: dict[str, Any], *, people: set[str] | None = None, chats: set[str] | None = None,
    base_dir: Path | None = None,
) -> Scenario:  # fmt: skip
    """Validate parsed TOML; every problem is reported with its key path."""
    problems: list[str] = []
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(f'{key}: unknown key "{key}"')
    start = data.get("start")
    if start is not None and not (isinstance(start, datetime) and start.tzinfo is not None):
        problems.append("start: must be a date and time with an offset, e.g. "
                        "2020-11-20T09:00:00+08:00")  # fmt: skip
    speed = data.get("speed")
    if speed is not None and not (_number(speed) and speed > 0):
        problems.append("speed: must be a number above 0")
    for key in ("title", "description"):
        if key in data and not isinstance(data[key], str):
            problems.append(f"{key}: must be a string")
    raw_steps = data.get("step", [])
    if not isinstance(raw_steps, list) or not all(isinstance(s, dict) for s in raw_steps):
        problems.append("step: must be an array of tables ([[step]])")
        raw_steps = []
    if not raw_steps:
        problems.append("step: a scenario needs at least one [[step]]")
    steps: list[Step] = []
    last_at = 0.0
    for index, raw in enumerate(raw_steps):
        path = f"step[{index}]"
        action = raw.get("action")
        if action is None:
            problems.append(f'{path}: missing key "action"')
            continue
        if action not in ACTIONS:
            problems.append(f'{path}.action: unknown action "{action}" '
                            f"(one of: {', '.join(ACTIONS)})")  # fmt: skip
            continue
        required, optional = ACTIONS[action]
        for key in sorted(required - set(raw)):
            problems.append(f'{path}: missing key "{key}" for action "{action}"')
        for key in sorted(set(raw) - required - optional - _COMMON):
            problems.append(f'{path}.{key}: unknown key "{key}" for action "{action}"')
        at = raw.get("at", last_at)
        if not _number(at) or at < 0:
            problems.append(f"{path}.at: must be a number of minutes >= 0")
            at = last_at
        elif at < last_at:
            problems.append(f"{path}.at: {at:g} is earlier than the step before ({last_at:g})")
        last_at = max(last_at, float(at))
        who = raw.get("who")
        if action in _NO_PERSON:
            if who is not None:
                problems.append(f'{path}.who: action "{action}" is not done by a person')
        elif action == "wait_for":
            if who is not None and people is not None and who not in people:
                problems.append(f'{path}.who: unknown person "{who}"')
            if who is None and "chat" not in raw:
                problems.append(f'{path}: wait_for needs "chat" (or "who")')
        elif who is None:
            problems.append(f'{path}: missing key "who"')
        elif not isinstance(who, str) or (people is not None and who not in people):
            problems.append(f'{path}.who: unknown person "{who}"' + (
                f" (known: {', '.join(sorted(people))})" if people else ""))  # fmt: skip
        for key in ("chat", "link_in"):
            chat = raw.get(key)
            if chat is not None and (
                not isinstance(chat, str) or (chats is not None and chat not in chats)
            ):
                problems.append(f'{path}.{key}: unknown chat "{chat}"')  # fmt: skip
        problems += _check_args(path, action, raw)
        args = {k: v for k, v in raw.items() if k not in ("at", "who", "action")}
        steps.append(Step(index, float(at), action, who, args))
    if problems:
        raise ScenarioError(problems)
    return Scenario(
        title=data.get("title", ""),
        steps=tuple(steps),
        start=start,
        speed=float(speed) if speed is not None else None,
        description=data.get("description", ""),
        base_dir=base_dir or Path("."),
    )


def _check_args(path: str, action: str, raw: dict[str, Any]) -> list[str]:
    problems = []
    strings = ("text", "label", "payload", "phone", "file", "caption", "note", "chat", "on",
               "link_in")  # fmt: skip
    for key in strings:
        if key in raw and not (isinstance(raw[key], str) and raw[key].strip()):
            problems.append(f"{path}.{key}: must be a non-empty string")
    for key in ("latitude", "longitude", "minutes", "timeout", "within", "speed"):
        if key in raw and not _number(raw[key]):
            problems.append(f"{path}.{key}: must be a number")
    if action == "start" and "payload" in raw and "link_in" in raw:
        problems.append(f'{path}: start takes "payload" or "link_in", not both')
    if action == "speed" and _number(raw.get("speed")) and raw["speed"] <= 0:
        problems.append(f"{path}.speed: must be above 0")
    if action == "jump":
        if ("minutes" in raw) == ("to" in raw):
            problems.append(f'{path}: jump needs "minutes" or "to" (one of them)')
        to = raw.get("to")
        if to is not None and not (isinstance(to, datetime) and to.tzinfo is not None):
            problems.append(f"{path}.to: must be a date and time with an offset, e.g. "
                            "2020-11-20T20:00:30+08:00")  # fmt: skip
    for key in ("minutes", "timeout", "within"):
        if _number(raw.get(key)) and raw[key] < 0:
            problems.append(f"{path}.{key}: must not be negative")
    return problems


def load_scenario(path: Path, *, world: World | None = None) -> Scenario:
    """Read and validate a scenario file; ScenarioError lists every problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError([f"{path}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"{path}: cannot read: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{path}: TOML syntax error: {exc}"]) from None
    people = set(world.people) if world else None
    chats = set(world.chat_keys()) if world else None
    try:
        return parse_scenario(data, people=people, chats=chats, base_dir=path.parent)
    except ScenarioError as exc:
        raise ScenarioError([f"{path.name}: {p}" for p in exc.problems]) from None


# ---------------------------------------------------------------- playing


class StepFailed(Exception):
    pass


ClockControl = Any  # DrillClock: speed(x), jump(minutes), reset(start), now()


@dataclass
class Player:
    """Plays a scenario against the state. ``log`` receives one line per step."""

    state: SandboxState
    world: World
    clock: ClockControl
    log: Callable[[str], None] = print
    timeout: float = DEFAULT_TIMEOUT
    tick: float = 0.2  # real seconds between looks at the virtual clock
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _matched: dict[int, int] = field(default_factory=dict)  # chat -> last message matched
    # (chat, message, edit date) of the edited messages a step matched
    _edits_matched: set[tuple[int, int, int]] = field(default_factory=set)
    # chat -> (the message whose button was pressed, its text and keyboard then, the query)
    _pressed: dict[int, tuple[int, Any, CallbackQuery]] = field(default_factory=dict)

    async def play(self, scenario: Scenario) -> bool:
        """True when every step ran; False after the first failure (already logged)."""
        if scenario.start is not None:
            self.clock.reset(scenario.start)
        if scenario.speed is not None:
            self.clock.speed(scenario.speed)
        origin = self.clock.now()
        self.log(f"▶ {scenario.title or 'drill'}: {len(scenario.steps)} steps")
        for step in scenario.steps:
            await self._until(origin + timedelta(minutes=step.at))
            try:
                note = await self._run(step, scenario)
            except StepFailed as exc:
                self.log(f"✗ {step.describe()}: {exc}")
                self.log("■ drill stopped")
                return False
            except ValueError as exc:  # the state refused what the person did
                self.log(f"✗ {step.describe()}: {exc}")
                self.log("■ drill stopped")
                return False
            self.log(f"✓ {step.describe()}" + (f" — {note}" if note else ""))
        self.log("■ drill finished")
        return True

    async def act(self, who: str | None, action: str, **args: Any) -> str:
        """One step outside a scenario file (end-to-end tests): it waits for the bot exactly
        as a played step does, and raises StepFailed when the bot does not answer in time."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        step = Step(0, 0.0, action, who, args)
        return await self._run(step, Scenario(title="", steps=()))

    async def _until(self, instant: datetime) -> None:
        while self.clock.now() < instant:
            await self.sleep(self.tick)

    def _chat_id(self, step: Step) -> int:
        chat = step.args.get("chat")
        if chat is not None:
            return self.world.chat_keys()[chat]
        return self.world.person(step.who or "").user_id

    async def _run(self, step: Step, scenario: Scenario) -> str:
        args, state = step.args, self.state
        if step.action == "speed":
            self.clock.speed(float(args["speed"]))
            return ""
        if step.action == "jump":
            if "to" in args:  # never backwards: an instant already past is no jump
                ahead = (args["to"] - self.clock.now()).total_seconds() / 60
                if ahead <= 0:
                    return f"the clock is already past {args['to']:%m-%d %H:%M}"
                self.clock.jump(ahead)
                return ""
            self.clock.jump(float(args["minutes"]))
            return ""
        chat_id = self._chat_id(step)
        timeout = float(args.get("timeout", self.timeout))
        if step.action == "wait_for":
            return await self._wait_for(chat_id, args["text"], timeout, args.get("within"))
        person = self.world.person(step.who or "")
        user = person.user_id
        await self._settled(user, chat_id, timeout)
        if step.action == "start":
            payload = args.get("payload")
            if "link_in" in args:
                payload = await self._link(args["link_in"], args.get("on"), timeout)
            state.user_sends_text(user, chat_id, f"/start {payload}" if payload else "/start")
        elif step.action == "text":
            state.user_sends_text(user, chat_id, args["text"])
        elif step.action == "press":
            if "on" in args:
                return await self._press_on(user, chat_id, args["on"], args["label"], timeout)
            return await self._press(user, chat_id, args["label"], timeout)
        elif step.action == "contact":
            state.user_sends_contact(user, args.get("phone", person.phone), chat_id=chat_id)
        elif step.action == "location":
            lat = args.get("latitude", TOWN_LOCATION[0])
            lon = args.get("longitude", TOWN_LOCATION[1])
            state.user_sends_location(user, lat, lon, chat_id=chat_id)
        elif step.action == "photo":
            data = TINY_PNG
            if "file" in args:
                try:
                    data = (scenario.base_dir / args["file"]).read_bytes()
                except OSError as exc:
                    raise StepFailed(f"cannot read {args['file']}: {exc.strerror}") from None
            state.user_sends_photo(user, chat_id, data, args.get("caption"))
        return ""

    async def _wait(self, chat_id: int, ready: Callable[[], Any], timeout: float,
                    within: float | None = None) -> Any:  # fmt: skip
        """Wait until ``ready()`` is truthy: ``timeout`` real seconds, or ``within`` virtual
        minutes when given."""
        loop = asyncio.get_running_loop()
        real_deadline = loop.time() + timeout
        virtual_deadline = (
            self.clock.now() + timedelta(minutes=within) if within is not None else None
        )
        while True:
            chat = self.state.chats[chat_id]
            version = chat.version
            found = ready()
            if found:
                return found
            if virtual_deadline is not None:
                if self.clock.now() >= virtual_deadline:
                    return None
                wait = self.tick
            else:
                wait = real_deadline - loop.time()
                if wait <= 0:
                    return None
            await self.state.wait_chat_change(chat_id, version, min(wait, 1.0))
            if self.state.closed:
                return None

    async def _settled(self, user: int, chat_id: int, timeout: float) -> None:
        """The bot has answered this person's newest message in the chat."""

        private = self.state.chats[chat_id].type == "private"
        pressed = self._pressed.get(chat_id)

        def ready() -> bool:
            if pressed is not None and not pressed[2].answered:
                return False
            messages = self.state.messages(chat_id)
            return not private or not messages or messages[-1].from_id != user

        if not await self._wait(chat_id, ready, timeout):
            what = "button press" if pressed and not pressed[2].answered else "message"
            raise StepFailed(f"the bot did not answer the previous {what} within {timeout:g} s")
        if private and pressed is not None:
            # A bot answers the query first, then edits the message and asks the next
            # question: wait for that question (or a keyboard edited in place), so nobody
            # answers before being asked. A press answered by a toast alone waits a little.
            message_id, before, _query = pressed

            def followed() -> bool:
                messages = self.state.messages(chat_id)
                if any(m.message_id > message_id and m.from_id != user for m in messages):
                    return True
                message = self.state.chats[chat_id].messages.get(message_id)
                return bool(
                    message is not None and not message.deleted
                    and is_inline(message.reply_markup) and _snapshot(message) != before
                )  # fmt: skip

            await self._wait(chat_id, followed, min(timeout, FOLLOW_UP_GRACE))

    async def _press(self, user: int, chat_id: int, label: str, timeout: float) -> str:
        def find() -> tuple[str, Any] | None:
            messages = self.state.messages(chat_id)
            newest = next((m for m in reversed(messages) if is_inline(m.reply_markup)), None)
            pressed = self._pressed.get(chat_id)
            if newest is not None and pressed is not None:
                # the keyboard pressed last counts again once the bot has changed it, or has
                # answered the press and written since (a card whose buttons stay as they are)
                answered_since = pressed[2].answered and any(
                    m.message_id > pressed[0] and m.from_id == self.state.bot.id for m in messages
                )
                stale = newest.message_id < pressed[0] or (
                    newest.message_id == pressed[0]
                    and _snapshot(newest) == pressed[1]
                    and not answered_since
                )
                newest = None if stale else newest
            if newest is not None:
                for row in (newest.reply_markup or {})["inline_keyboard"]:
                    for button in row:
                        if label in button.get("text", "") and "callback_data" in button:
                            return ("inline", (newest, button))
            keyboard = self.state.chats[chat_id].reply_keyboard
            for row in (keyboard or {}).get("keyboard", []):
                for button in row:
                    text = button if isinstance(button, str) else button.get("text", "")
                    if label in text:
                        return ("reply", button)
            return None

        found = await self._wait(chat_id, find, timeout)
        if not found:
            raise StepFailed(f"no button containing {label!r} within {timeout:g} s"
                             f" (buttons: {self._labels(chat_id)})")  # fmt: skip
        kind, what = found
        if kind == "inline":
            message, button = what
            query = self.state.user_presses_button(user, chat_id, message.message_id,
                                                   button["callback_data"])  # fmt: skip
            self._pressed[chat_id] = (message.message_id, _snapshot(message), query)
            return button["text"]
        button = what
        if isinstance(button, dict) and button.get("request_contact"):
            person = self.world.by_id(user)
            self.state.user_sends_contact(user, person.phone if person else "13800000000",
                                          chat_id=chat_id)  # fmt: skip
        elif isinstance(button, dict) and button.get("request_location"):
            self.state.user_sends_location(user, *TOWN_LOCATION, chat_id=chat_id)
        else:
            text = button if isinstance(button, str) else button["text"]
            self.state.user_sends_text(user, chat_id, text)
        return button if isinstance(button, str) else button["text"]

    async def _press_on(self, user: int, chat_id: int, text: str, label: str,
                        timeout: float) -> str:  # fmt: skip
        """A button of an earlier message, as a person scrolls up to a card: the newest
        message containing ``text`` with a button containing ``label``."""

        def find() -> tuple[Message, dict[str, Any]] | None:
            for message in reversed(self.state.messages(chat_id)):
                if message.deleted or text not in (message.text or message.caption or ""):
                    continue
                for row in (message.reply_markup or {}).get("inline_keyboard", []):
                    for button in row:
                        if label in button.get("text", "") and "callback_data" in button:
                            return message, button
            return None

        found = await self._wait(chat_id, find, timeout)
        if not found:
            raise StepFailed(f"no message containing {text!r} with a button containing "
                             f"{label!r} within {timeout:g} s")  # fmt: skip
        message, button = found
        query = self.state.user_presses_button(user, chat_id, message.message_id,
                                               button["callback_data"])  # fmt: skip
        self._pressed[chat_id] = (message.message_id, _snapshot(message), query)
        return button["text"]

    async def _link(self, chat_key: str, text: str | None, timeout: float) -> str:
        """The payload of the bot link in the newest message of ``chat_key`` that has one
        (and contains ``text``): a join link an admin forwards to the person, as in life."""
        chat_id = self.world.chat_keys()[chat_key]

        def find() -> str | None:
            for message in reversed(self.state.messages(chat_id)):
                body = message.text or message.caption or ""
                if message.deleted or (text is not None and text not in body):
                    continue
                urls = [e.get("url", "") for e in message.entities + message.caption_entities]
                urls += [b.get("url", "") for row in (message.reply_markup or {}).get(
                    "inline_keyboard", []) for b in row]  # fmt: skip
                found = LINK_PAYLOAD.search("\n".join([body, *urls]))
                if found:
                    return found.group(1)
            return None

        payload = await self._wait(chat_id, find, timeout)
        if not payload:
            raise StepFailed(f"no bot link in {chat_key} within {timeout:g} s")
        return payload

    def _labels(self, chat_id: int) -> str:
        messages = self.state.messages(chat_id)
        newest = next((m for m in reversed(messages) if is_inline(m.reply_markup)), None)
        labels = [b.get("text", "") for row in (newest.reply_markup or {})["inline_keyboard"]
                  for b in row] if newest else []  # fmt: skip
        keyboard = self.state.chats[chat_id].reply_keyboard
        labels += [b if isinstance(b, str) else b.get("text", "")
                   for row in (keyboard or {}).get("keyboard", []) for b in row]  # fmt: skip
        return ", ".join(repr(label) for label in labels) or "none"

    async def _wait_for(self, chat_id: int, text: str, timeout: float,
                        within: float | None) -> str:  # fmt: skip
        after = self._matched.get(chat_id, 0)

        def find() -> Message | None:
            # a message after the last one waited for, or an earlier one whose edit no step
            # has waited for yet (a card brought up to date)
            for message in self.state.messages(chat_id):
                body = message.text or message.caption or ""
                edit = (chat_id, message.message_id, message.edit_date)
                fresh = message.message_id > after or (
                    message.edit_date is not None and edit not in self._edits_matched
                )
                if fresh and text in body:
                    return message
            return None

        found = await self._wait(chat_id, find, timeout, within)
        where = self.world.chat_key(chat_id) or str(chat_id)
        if not found:
            limit = f"{within:g} virtual min" if within is not None else f"{timeout:g} s"
            raise StepFailed(f"no message containing {text!r} in {where} within {limit}")
        self._matched[chat_id] = max(after, found.message_id)
        if found.edit_date is not None:
            self._edits_matched.add((chat_id, found.message_id, found.edit_date))
        first_line = (found.text or found.caption or "").splitlines()[0][:60]
        return f"{where}: {first_line}"


def _snapshot(message: Message) -> Any:
    return (message.text, message.caption, repr(message.reply_markup), message.edit_date)
