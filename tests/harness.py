"""Drive the real PTB pipeline (Application.process_update) with the recording Bot API double."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.config import Config
from bot.runtime.clock import ManualClock
from bot.runtime.services import Services
from sandbox.errors import ApiError
from sandbox.formatting import parse_html
from sandbox.recording import Call, RecordingRequest, UpdateFactory
from storage.db import Database

TOKEN = "123456:TEST-token"

# What a person must never see: markup shown as text (sent without parse_mode, or escaped
# twice) — a tag Telegram formats, or an HTML character reference.
_LITERAL_MARKUP = re.compile(
    r"</?(?:b|strong|i|em|u|ins|s|strike|del|a|code|pre|blockquote|span|tg-[a-z]+)(?:\s[^>]*)?>"
    r"|&(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);",
    re.IGNORECASE,
)
_TEXT_METHODS = {"sendMessage": "text", "editMessageText": "text", "sendPhoto": "caption",
                 "sendDocument": "caption", "editMessageCaption": "caption"}  # fmt: skip
# Every recording double a test's bots used, checked when the test ends (tests/conftest.py).
STARTED: list[Harness] = []


@dataclass
class Harness:
    app: Application
    request: RecordingRequest
    db: Database
    clock: ManualClock
    config: Config
    updates: UpdateFactory
    requests: list[RecordingRequest] = field(default_factory=list)  # a restart adds one
    typed: list[str] = field(default_factory=list)  # what people typed: shown as typed

    def __post_init__(self) -> None:
        self.requests.append(self.request)
        STARTED.append(self)

    @classmethod
    async def start(cls, config: Config, db_path: Path, clock: ManualClock) -> Harness:
        db = await Database.open(db_path)
        request = RecordingRequest(now=lambda: int(clock.now().timestamp()))
        app = build_application(config, TOKEN, db, clock, request=request, start_outbox=False)
        await app.initialize()
        await app.post_init(app)
        return cls(app, request, db, clock, config, UpdateFactory())

    async def stop(self) -> None:
        await self.app.post_shutdown(self.app)
        await self.app.shutdown()
        await self.db.close()

    async def restart(self, db_path: Path) -> None:
        """Start the bot again on the same database after ``stop()`` (a restart), in place: the
        test keeps its handle, and a fixture that stops this handle stops the new bot."""
        again = await Harness.start(self.config, db_path, self.clock)
        STARTED.remove(again)
        self.app, self.db, self.request = again.app, again.db, again.request
        self.requests.append(again.request)

    @property
    def services(self) -> Services:
        return self.app.bot_data["services"]

    async def feed(self, payload: dict) -> list[Call]:
        before = len(self.request.calls)
        await self.app.process_update(Update.de_json(payload, self.app.bot))
        return self.request.calls[before:]

    def _user(self, user_id: int, lang: str) -> dict:
        return self.updates.user(user_id, lang)

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    async def text(self, user_id: int, text: str, lang: str = "zh-hans") -> list[Call]:
        self.typed.append(text)
        return await self.feed(
            self.updates.message(self._user(user_id, lang), self._now(), text=text)
        )

    async def send(self, user_id: int, lang: str = "zh-hans", **content: Any) -> list[Call]:
        self.typed.append(content.get("text") or content.get("caption") or "")
        return await self.feed(
            self.updates.message(self._user(user_id, lang), self._now(), **content)
        )

    async def press(self, user_id: int, data: str, lang: str = "zh-hans") -> list[Call]:
        return await self.feed(self.updates.callback(self._user(user_id, lang), self._now(), data))

    def last_question(self, chat_id: int) -> Call:
        return self.request.sent_to(chat_id)[-1]

    def buttons(self, chat_id: int) -> list[tuple[str, str]]:
        """(label, callback data) of the newest message to the chat that has inline buttons."""
        for call in reversed(self.request.sent_to(chat_id)):
            markup = call.params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                return [
                    (b["text"], b.get("callback_data", ""))
                    for row in markup["inline_keyboard"]
                    for b in row
                ]
        return []

    async def choose(self, user_id: int, label: str, lang: str = "zh-hans") -> list[Call]:
        """Press the button whose label contains ``label`` on the newest keyboard."""
        for text, data in self.buttons(user_id):
            if label in text:
                return await self.press(user_id, data, lang)
        raise AssertionError(f"no button {label!r} in {self.buttons(user_id)}")

    def texts(self, chat_id: int) -> list[str]:
        return self.request.texts_to(chat_id)

    async def drain_outbox(self) -> int:
        return await self.services.outbox.drain()

    def literal_markup(self) -> list[str]:
        """Every text, caption, button label and notification shown in this test whose
        visible form holds markup as text (see ``visible``)."""
        return [
            problem
            for request in self.requests
            for call in request.calls
            for problem in visible_problems(call, self.typed)
        ]


def visible_problems(call: Call, typed: list[str]) -> list[str]:
    """What is wrong with what ``call`` shows a person: HTML Telegram would refuse, or markup
    left visible as text. What people typed may hold ``<`` or ``&``: shown as typed, it is
    fine (it had to be escaped exactly once)."""
    shown: list[str] = []
    key = _TEXT_METHODS.get(call.method)
    text = call.params.get(key) if key else None
    if isinstance(text, str):
        if call.params.get("parse_mode") == "HTML":
            try:
                text = parse_html(text)[0]
            except ApiError as exc:
                return [f"{call.method}: {exc.description}: {text!r}"]
        shown.append(text)
    if call.method == "answerCallbackQuery" and call.params.get("text"):
        shown.append(call.params["text"])
    markup = call.params.get("reply_markup")
    if isinstance(markup, dict):
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        shown += [b.get("text", "") if isinstance(b, dict) else b for row in rows for b in row]
    problems = []
    for seen in shown:
        for own in sorted((t for t in typed if "<" in t or "&" in t), key=len, reverse=True):
            seen = seen.replace(own, "")
        found = _LITERAL_MARKUP.search(seen)
        if found:
            problems.append(f"{call.method} shows {found.group()!r}: {seen!r}")
    return problems
