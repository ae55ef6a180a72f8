"""Drive the real PTB pipeline (Application.process_update) with the recording Bot API double."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.config import Config
from bot.runtime.clock import ManualClock
from bot.runtime.services import Services
from sandbox.recording import Call, RecordingRequest, UpdateFactory
from storage.db import Database

TOKEN = "123456:TEST-token"


@dataclass
class Harness:
    app: Application
    request: RecordingRequest
    db: Database
    clock: ManualClock
    config: Config
    updates: UpdateFactory

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
        self.app, self.db, self.request = again.app, again.db, again.request

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
        return await self.feed(
            self.updates.message(self._user(user_id, lang), self._now(), text=text)
        )

    async def send(self, user_id: int, lang: str = "zh-hans", **content: Any) -> list[Call]:
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
