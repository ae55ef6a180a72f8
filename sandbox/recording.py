"""An in-process Bot API double: a ``BaseRequest`` that answers like Telegram without a network.

Used by the flow tests and the benchmarks, so the bot runs through python-telegram-bot's real
pipeline (real JSON, real filters) while every call is recorded for assertions.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

from sandbox.state import member_to_api

BOT_USER = {
    "id": 700000001,
    "is_bot": True,
    "first_name": "paicha",
    "username": "paicha_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class RecordingRequest(BaseRequest):
    """Records every call; ``fail`` can script an error answer for the next matching call."""

    calls: list[Call] = field(default_factory=list)
    record: bool = True
    failures: list[tuple[Callable[[Call], bool], int, str, dict | None]] = field(
        default_factory=list
    )
    keyboards: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # newest per chat
    remember_keyboards: bool = True  # off where 100k chats would only cost memory
    members: dict[int, str] = field(default_factory=dict)  # getChatMember status; default "left"
    files: dict[str, bytes] = field(default_factory=dict)  # file_id -> content: getFile, download
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    now: Callable[[], int] = field(default=lambda: 1_600_000_000)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return None

    def fail(
        self,
        match: Callable[[Call], bool],
        code: int,
        description: str,
        parameters: dict | None = None,
    ) -> None:
        """The next call for which ``match`` is true gets this error answer (once)."""
        self.failures.append((match, code, description, parameters))

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        if method == "GET":  # a file download (getFile's file_path): its bytes, not JSON
            return (200, self.files[name]) if name in self.files else (404, b"Not Found")
        params = dict(request_data.json_parameters) if request_data else {}
        call = Call(name, {k: _decode(v) for k, v in params.items()})
        if self.record:
            self.calls.append(call)
        if self.remember_keyboards:
            self._remember_keyboard(call)
        for index, (match, code, description, parameters) in enumerate(self.failures):
            if match(call):
                del self.failures[index]
                body = {"ok": False, "error_code": code, "description": description}
                if parameters:
                    body["parameters"] = parameters
                return code, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": self._result(call)}).encode()

    def _remember_keyboard(self, call: Call) -> None:
        markup = call.params.get("reply_markup")
        if (
            call.method == "sendMessage"
            and isinstance(markup, dict)
            and "inline_keyboard" in markup
        ):
            self.keyboards[int(call.params["chat_id"])] = [
                (b["text"], b.get("callback_data", ""))
                for row in markup["inline_keyboard"]
                for b in row
            ]

    def _result(self, call: Call) -> Any:
        p = call.params
        if call.method == "getMe":
            return BOT_USER
        if call.method in (
            "sendMessage",
            "sendPhoto",
            "sendDocument",
            "editMessageText",
            "editMessageReplyMarkup",
            "editMessageCaption",
        ):
            return self._message(call)
        if call.method == "getUpdates":
            return []
        if call.method == "getFile":
            return self._file(str(p["file_id"]))
        if call.method == "getChatMember":
            return self._member(int(p["user_id"]))
        if call.method == "getChat":
            return {
                "id": int(p["chat_id"]),
                "type": "private",
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                },
            }
        return True

    def _member(self, user_id: int) -> dict[str, Any]:
        """A ChatMember as Telegram sends it, with the status set in ``members``: the sandbox's
        builder, so both doubles answer getChatMember with the same required fields."""
        status = self.members.get(user_id, "left")
        return member_to_api(status, {"id": user_id, "is_bot": False, "first_name": "u"})

    def _file(self, file_id: str) -> dict[str, Any]:
        """A File as Telegram sends it; its file_path is what the download's URL ends with."""
        content = self.files.get(file_id, b"")
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": len(content),
                "file_path": f"documents/{file_id}"}  # fmt: skip

    def _message(self, call: Call) -> dict[str, Any]:
        p = call.params
        chat_id = int(p.get("chat_id", 0))
        message: dict[str, Any] = {
            "message_id": int(p.get("message_id") or next(self._ids)),
            "date": self.now(),
            "chat": {
                "id": chat_id,
                "type": "private" if chat_id > 0 else "supergroup",
                **({"first_name": "u"} if chat_id > 0 else {"title": "g"}),
            },
            "from": BOT_USER,
        }
        if "text" in p:
            message["text"] = p["text"]
        if call.method == "sendPhoto":
            message["photo"] = [{"file_id": "p1", "file_unique_id": "u1", "width": 1, "height": 1}]
        if isinstance(p.get("reply_markup"), dict) and "inline_keyboard" in p["reply_markup"]:
            message["reply_markup"] = p["reply_markup"]
        return message

    def sent_to(self, chat_id: int) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method in ("sendMessage", "sendPhoto") and int(c.params["chat_id"]) == chat_id
        ]

    def texts_to(self, chat_id: int) -> list[str]:
        return [
            c.params.get("text") or c.params.get("caption") or "" for c in self.sent_to(chat_id)
        ]


def _decode(value: Any) -> Any:
    """PTB sends nested objects (reply_markup) JSON-encoded inside the parameters."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class UpdateFactory:
    """Builds Update JSON the way Telegram sends it."""

    def __init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100000)

    def user(self, user_id: int, language_code: str = "zh-hans", name: str = "用户") -> dict:
        return {"id": user_id, "is_bot": False, "first_name": name, "language_code": language_code}

    def message(self, user: dict, date: int, **content: Any) -> dict:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        message = {
            "message_id": next(self._message_ids),
            "date": date,
            "chat": chat,
            "from": user,
            **content,
        }
        text = content.get("text", "")
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._update_ids), "message": message}

    def callback(self, user: dict, date: int, data: str, message_id: int = 1) -> dict:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        message = {
            "message_id": message_id,
            "date": date,
            "chat": chat,
            "from": BOT_USER,
            "text": "…",
        }
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(next(self._update_ids)),
                "from": user,
                "chat_instance": str(user["id"]),
                "data": data,
                "message": message,
            },
        }
