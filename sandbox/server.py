"""The sandbox's Bot API over HTTP, under Telegram's own URL shape.

``/bot<token>/<method>`` and ``/file/bot<token>/<file_path>``, so the unmodified bot runs
against it with ``base_url="http://127.0.0.1:8080/bot"``. Parameters arrive the ways the
real API takes them (query string, urlencoded or multipart form, JSON body); each method
declares the parameters it reads, with their kind, and those names are checked against
the published Bot API in the tests. Answers are ``{"ok": true, "result": ...}`` or the
error object with Telegram's status code and wording.

The fault knob (``Faults``): a seeded share of the sending calls answer as a bad network
would (429, 500, 502, or no answer before the client gives up), and an outage switch fails
every one; set it in process (``faults.set(rate=0.1, seed=7)``) or over HTTP
(``POST /sandbox/faults`` with ``{"rate": 0.1, "seed": 7, "outage": false}``).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiohttp import web

from sandbox.errors import ApiError, bad_request
from sandbox.state import SandboxState, StoredFile

STATE_KEY = web.AppKey("sandbox_state", SandboxState)
FAULTS_PATH = "/sandbox/faults"
UPLOAD_LIMIT = 50 * 1024 * 1024  # Telegram's upload limit for bots
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
# JSON-valued parameters Telegram names in its "can't parse" errors.
_JSON_NAMES = {"reply_markup": "reply keyboard markup", "entities": "entities"}

Handler = Callable[[SandboxState, "Params"], Any]


@dataclass(frozen=True)
class Fault:
    """One failed call: an error answer, or (no ``error``) the answer held back until the
    client has given up — the call still takes effect, as a slow Telegram's does."""

    kind: str
    error: ApiError | None = None


class Faults:
    """The fault knob: each sending call fails with probability ``rate`` (drawn from a
    generator seeded with ``seed``, so a run repeats), as one of 429 (retry after
    ``retry_after`` s), 500, 502 or ``late`` (answered after ``late_seconds``); during an
    ``outage`` every sending call answers 502. ``counts`` tallies what was injected."""

    KINDS = ("429", "500", "502", "late")

    def __init__(self, rate: float = 0.0, seed: int = 0, *, retry_after: int = 3,
                 late_seconds: float = 30.0) -> None:  # fmt: skip
        self.retry_after, self.late_seconds = retry_after, late_seconds
        self.outage = False
        self.counts: Counter[str] = Counter()
        self.rate, self._random = 0.0, random.Random(seed)
        self.set(rate=rate, seed=seed)

    def set(self, *, rate: float | None = None, seed: int | None = None,
            outage: bool | None = None) -> None:  # fmt: skip
        if rate is not None:
            if not 0.0 <= rate <= 1.0:
                raise ValueError("the fault rate is a share between 0 and 1")
            self.rate = float(rate)
        if seed is not None:
            self._random = random.Random(seed)
        if outage is not None:
            self.outage = bool(outage)

    def draw(self) -> Fault | None:
        """The fault for the next sending call, or None when it goes through."""
        if self.outage:
            self.counts["outage"] += 1
            return Fault("outage", error=ApiError(502, "Bad Gateway"))
        if self.rate == 0.0 or self._random.random() >= self.rate:
            return None
        kind = self._random.choice(self.KINDS)
        self.counts[kind] += 1
        if kind == "late":
            return Fault(kind)
        if kind == "429":
            seconds = self.retry_after
            error = ApiError(429, f"Too Many Requests: retry after {seconds}",
                             {"retry_after": seconds})  # fmt: skip
            return Fault(kind, error=error)
        wording = "Internal Server Error" if kind == "500" else "Bad Gateway"
        return Fault(kind, error=ApiError(int(kind), wording))

    def to_api(self) -> dict[str, Any]:
        return {"rate": self.rate, "outage": self.outage, "counts": dict(self.counts)}


@dataclass(frozen=True)
class Method:
    """One Bot API method: its handler, the parameters it reads (name -> kind) and
    whether it counts as a send for simulated flood control."""

    handler: Handler
    params: Mapping[str, str]
    sends: bool = False


class Params:
    """The parameters of one call, coerced to the kind the method declared."""

    def __init__(self, method: Method, raw: Mapping[str, Any], files: Mapping[str, Any]):
        self._method, self._raw, self._files = method, raw, files

    def get(self, name: str, default: Any = None) -> Any:
        kind = self._method.params[name]  # KeyError: the handler reads an undeclared name
        value = self._raw.get(name)
        if kind == "file":
            return self._files.get(name, value)
        if value is None or value == "":
            return default
        return _coerce(kind, name, value)

    def require(self, name: str, reason: str | None = None) -> Any:
        value = self.get(name)
        if value is None:
            raise bad_request(reason or f"{name} is empty")
        return value

    def upload(self, name: str) -> Any:
        """A multipart file part named in ``attach://<name>`` style or directly."""
        return self._files.get(name)


def _coerce(kind: str, name: str, value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        value = value.decode("utf-8")
    try:
        return _COERCE[kind](value)
    except (TypeError, ValueError):
        if kind == "chat":
            raise bad_request("chat not found") from None
        if kind == "json":
            what = _JSON_NAMES.get(name, name)
            raise bad_request(f"can't parse {what} JSON object") from None
        raise bad_request(f"invalid {name} specified") from None


def _as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError
    return int(value)


def _as_number(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError
    return float(value)


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1"):
        return True
    if str(value).lower() in ("false", "0"):
        return False
    raise ValueError


def _as_chat(value: Any) -> int | str:
    if isinstance(value, str) and value.startswith("@"):
        return value
    return _as_int(value)


def _as_json(value: Any) -> Any:
    # Form posts carry JSON-valued parameters JSON-encoded; JSON bodies carry them as is.
    return json.loads(value) if isinstance(value, str) else value


def _as_str(value: Any) -> str:
    if isinstance(value, dict | list):
        raise TypeError
    return str(value)


_COERCE: dict[str, Callable[[Any], Any]] = {
    "int": _as_int,
    "number": _as_number,
    "bool": _as_bool,
    "str": _as_str,
    "chat": _as_chat,
    "json": _as_json,
}


# ---------------------------------------------------------------- handlers
def _get_me(state: SandboxState, p: Params) -> dict[str, Any]:
    return state.bot.to_api() | {
        "can_join_groups": True,
        "can_read_all_group_messages": not state.privacy_mode,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def _get_updates(state: SandboxState, p: Params) -> list[dict[str, Any]]:
    allowed = p.get("allowed_updates")
    if allowed is not None and not (
        isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)
    ):
        raise bad_request("can't parse allowed_updates JSON object")
    return await state.get_updates(
        offset=p.get("offset"),
        limit=p.get("limit"),
        timeout=p.get("timeout", 0),
        allowed_updates=allowed,
    )


def _true(state: SandboxState, p: Params) -> bool:
    return True


def _delete_webhook(state: SandboxState, p: Params) -> bool:
    state.webhook_url = ""
    if p.get("drop_pending_updates", False):
        state.drop_pending_updates()
    return True


def _webhook_info(state: SandboxState, p: Params) -> dict[str, Any]:
    return {
        "url": state.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": state.pending_update_count,
    }


def _send_message(state: SandboxState, p: Params) -> dict[str, Any]:
    chat_id = p.require("chat_id")
    message = state.bot_send_message(
        chat_id,
        p.require("text", "message text is empty"),
        parse_mode=p.get("parse_mode"),
        entities=_entity_list(p.get("entities")),
        reply_markup=p.get("reply_markup"),
        reply_parameters=_reply_parameters(p),
    )
    return state.message_to_api(message)


def _entity_list(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    ok = isinstance(value, list) and all(
        isinstance(e, dict)
        and isinstance(e.get("type"), str)
        and isinstance(e.get("offset"), int)
        and isinstance(e.get("length"), int)
        for e in value
    )
    if not ok:
        raise bad_request("can't parse entities JSON object")
    return value


def _reply_parameters(p: Params) -> dict[str, Any] | None:
    value = p.get("reply_parameters")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("can't parse reply parameters JSON object")
    return value


def _send_media(kind: str, state: SandboxState, p: Params) -> dict[str, Any]:
    chat_id = p.require("chat_id")
    stored = _input_file(state, p, kind)
    message = state.bot_send_media(
        chat_id,
        kind,
        stored,
        caption=p.get("caption"),
        parse_mode=p.get("parse_mode"),
        caption_entities=_entity_list(p.get("caption_entities")),
        reply_markup=p.get("reply_markup"),
        reply_parameters=_reply_parameters(p),
    )
    return state.message_to_api(message)


def _input_file(state: SandboxState, p: Params, kind: str) -> StoredFile:
    """An InputFile: a multipart upload (directly or via attach://), or a known file_id."""
    value = p.get(kind)
    if isinstance(value, str) and value.startswith("attach://"):
        value = p.upload(value[len("attach://") :])
    if isinstance(value, web.FileField):
        data = value.file.read()
        mime = value.content_type if value.content_type != "application/octet-stream" else None
        folder = "photos" if kind == "photo" else "documents"
        return state.store_file(data, kind=folder, mime_type=mime, file_name=value.filename)
    if not value:
        raise bad_request(f"there is no {kind} in the request")
    value = str(value)
    if value.startswith(("http://", "https://")):
        raise bad_request("failed to get HTTP URL content")  # the sandbox is offline
    if value not in state.files:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return state.files[value]


def _edit_text(state: SandboxState, p: Params) -> dict[str, Any]:
    message = state.bot_edit_text(
        p.get("chat_id"),
        p.get("message_id"),
        p.require("text", "message text is empty"),
        parse_mode=p.get("parse_mode"),
        entities=_entity_list(p.get("entities")),
        reply_markup=p.get("reply_markup"),
    )
    return state.message_to_api(message)


def _edit_reply_markup(state: SandboxState, p: Params) -> dict[str, Any]:
    message = state.bot_edit_reply_markup(
        p.get("chat_id"), p.get("message_id"), p.get("reply_markup")
    )
    return state.message_to_api(message)


def _delete_message(state: SandboxState, p: Params) -> bool:
    state.bot_delete_message(
        p.require("chat_id"), p.require("message_id", "message identifier is not specified")
    )
    return True


def _answer_callback(state: SandboxState, p: Params) -> bool:
    state.answer_callback_query(
        p.require(
            "callback_query_id",
            "query is too old and response timeout expired or query ID is invalid",
        ),
        text=p.get("text"),
        show_alert=p.get("show_alert", False),
    )
    return True


def _chat_action(state: SandboxState, p: Params) -> bool:
    state.bot_send_chat_action(
        p.require("chat_id"), p.require("action", "wrong parameter action in request")
    )
    return True


def _get_file(state: SandboxState, p: Params) -> dict[str, Any]:
    stored = state.file_by_id(p.require("file_id", "invalid file_id"))
    if len(stored.data) > DOWNLOAD_LIMIT:
        raise bad_request("file is too big")
    return stored.to_api()


def _get_chat(state: SandboxState, p: Params) -> dict[str, Any]:
    return state.chat_full_info(p.require("chat_id"))


def _get_chat_member(state: SandboxState, p: Params) -> dict[str, Any]:
    return state.chat_member(p.require("chat_id"), p.require("user_id", "user not found"))


def _scope(state: SandboxState, p: Params) -> dict[str, Any] | None:
    scope = p.get("scope")
    if scope is None:
        return None
    if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    if "chat_id" in scope:
        scope = scope | {"chat_id": state.resolve_chat(scope["chat_id"]).id}
    return scope


def _set_commands(state: SandboxState, p: Params) -> bool:
    commands = p.require("commands", "can't parse commands JSON object")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand JSON object")
        if not _COMMAND_NAME.match(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        description = command.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    state.set_commands(commands, _scope(state, p), p.get("language_code", ""))
    return True


def _get_commands(state: SandboxState, p: Params) -> list[dict[str, str]]:
    return state.get_commands(_scope(state, p), p.get("language_code", ""))


def _delete_commands(state: SandboxState, p: Params) -> bool:
    state.delete_commands(_scope(state, p), p.get("language_code", ""))
    return True


def _set_menu_button(state: SandboxState, p: Params) -> bool:
    button = p.get("menu_button")
    if button is not None and (
        not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default")
    ):
        raise bad_request("can't parse menu button JSON object")
    chat_id = p.get("chat_id")
    if chat_id is None:
        state.default_menu_button = button
    else:
        state.resolve_chat(chat_id).menu_button = button
    return True


def _get_menu_button(state: SandboxState, p: Params) -> dict[str, Any]:
    chat_id = p.get("chat_id")
    button = (
        state.default_menu_button
        if chat_id is None
        else (state.resolve_chat(chat_id).menu_button or state.default_menu_button)
    )
    return button or {"type": "default"}


def _set_text_setting(kind: str, limit: int, state: SandboxState, p: Params) -> bool:
    value = p.get(kind, "")
    if len(value) > limit:
        raise bad_request(f"{kind.upper()}_INVALID")
    state.descriptions[(kind, p.get("language_code", ""))] = value
    return True


def _get_text_setting(kind: str, state: SandboxState, p: Params) -> dict[str, str]:
    language = p.get("language_code", "")
    value = state.descriptions.get((kind, language), state.descriptions.get((kind, ""), ""))
    if kind == "name" and not value:
        value = state.bot.first_name
    return {kind: value}


def _lang(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"language_code": "str"} | (extra or {})


_SEND_PARAMS = {
    "chat_id": "chat",
    "parse_mode": "str",
    "reply_markup": "json",
    "reply_parameters": "json",
    "disable_notification": "bool",
    "protect_content": "bool",
}
_SCOPE_PARAMS = _lang({"scope": "json"})

METHODS: dict[str, Method] = {
    "getMe": Method(_get_me, {}),
    "getUpdates": Method(
        _get_updates,
        {"offset": "int", "limit": "int", "timeout": "number", "allowed_updates": "json"},
    ),
    "deleteWebhook": Method(_delete_webhook, {"drop_pending_updates": "bool"}),
    "getWebhookInfo": Method(_webhook_info, {}),
    "logOut": Method(_true, {}),
    "close": Method(_true, {}),
    "sendMessage": Method(
        _send_message,
        _SEND_PARAMS | {"text": "str", "entities": "json", "link_preview_options": "json"},
        sends=True,
    ),
    "sendPhoto": Method(
        partial(_send_media, "photo"),
        _SEND_PARAMS | {"photo": "file", "caption": "str", "caption_entities": "json"},
        sends=True,
    ),
    "sendDocument": Method(
        partial(_send_media, "document"),
        _SEND_PARAMS | {"document": "file", "caption": "str", "caption_entities": "json"},
        sends=True,
    ),
    "editMessageText": Method(
        _edit_text,
        {
            "chat_id": "chat",
            "message_id": "int",
            "text": "str",
            "parse_mode": "str",
            "entities": "json",
            "link_preview_options": "json",
            "reply_markup": "json",
        },
        sends=True,
    ),
    "editMessageReplyMarkup": Method(
        _edit_reply_markup,
        {"chat_id": "chat", "message_id": "int", "reply_markup": "json"},
        sends=True,
    ),
    "deleteMessage": Method(_delete_message, {"chat_id": "chat", "message_id": "int"}, sends=True),
    "answerCallbackQuery": Method(
        _answer_callback,
        {
            "callback_query_id": "str",
            "text": "str",
            "show_alert": "bool",
            "url": "str",
            "cache_time": "int",
        },
    ),
    "sendChatAction": Method(_chat_action, {"chat_id": "chat", "action": "str"}),
    "getFile": Method(_get_file, {"file_id": "str"}),
    "getChat": Method(_get_chat, {"chat_id": "chat"}),
    "getChatMember": Method(_get_chat_member, {"chat_id": "chat", "user_id": "int"}),
    "setMyCommands": Method(_set_commands, _SCOPE_PARAMS | {"commands": "json"}),
    "getMyCommands": Method(_get_commands, _SCOPE_PARAMS),
    "deleteMyCommands": Method(_delete_commands, _SCOPE_PARAMS),
    "setChatMenuButton": Method(_set_menu_button, {"chat_id": "int", "menu_button": "json"}),
    "getChatMenuButton": Method(_get_menu_button, {"chat_id": "int"}),
    "setMyDescription": Method(
        partial(_set_text_setting, "description", 512), _lang({"description": "str"})
    ),
    "getMyDescription": Method(partial(_get_text_setting, "description"), _lang()),
    "setMyShortDescription": Method(
        partial(_set_text_setting, "short_description", 120), _lang({"short_description": "str"})
    ),
    "getMyShortDescription": Method(partial(_get_text_setting, "short_description"), _lang()),
    "setMyName": Method(partial(_set_text_setting, "name", 64), _lang({"name": "str"})),
    "getMyName": Method(partial(_get_text_setting, "name"), _lang()),
}
_BY_LOWER_NAME = {name.lower(): method for name, method in METHODS.items()}


# ---------------------------------------------------------------- HTTP plumbing
def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=partial(json.dumps, ensure_ascii=False))


def _error(exc: ApiError) -> web.Response:
    return _json(exc.to_api(), status=exc.error_code)


def _check_token(expected: str, given: str) -> None:
    if given == expected:
        return
    # Telegram answers 404 to a malformed token and 401 to a well-formed wrong one.
    if not _TOKEN_SHAPE.match(given):
        raise ApiError(404, "Not Found")
    raise ApiError(401, "Unauthorized")


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """Query string first, then the body in whichever encoding the client chose."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, Any] = {}
    if request.method != "POST" or not request.body_exists:
        return params, files
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in (await request.post()).items():
            (files if isinstance(value, web.FileField) else params)[name] = value
    return params, files


def add_botapi_routes(app: web.Application, state: SandboxState, token: str,
                      faults: Faults | None = None) -> None:  # fmt: skip
    """Mount the Bot API (``/bot<token>/<method>``) and file downloads on ``app``."""
    faults = faults or Faults()

    async def call(request: web.Request) -> web.Response:
        try:
            _check_token(token, request.match_info["token"])
            method = _BY_LOWER_NAME.get(request.match_info["method"].lower())
            if method is None:
                raise ApiError(404, "Not Found")
            raw, files = await _read_params(request)
            if method.sends:
                fault = faults.draw()
                if fault is not None and fault.error is not None:
                    raise fault.error
                if fault is not None:
                    await asyncio.sleep(faults.late_seconds)
                state.check_flood()
            result = method.handler(state, Params(method, raw, files))
            if inspect.isawaitable(result):
                result = await result
        except ApiError as exc:
            return _error(exc)
        return _json({"ok": True, "result": result})

    async def download(request: web.Request) -> web.StreamResponse:
        try:
            _check_token(token, request.match_info["token"])
        except ApiError as exc:
            return _error(exc)
        stored = state.file_by_path(request.match_info["path"])
        if stored is None:
            return _error(ApiError(404, "Not Found"))
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    app.router.add_route("*", "/bot{token}/{method}", call)
    app.router.add_get("/file/bot{token}/{path:.+}", download)


def add_fault_routes(app: web.Application, faults: Faults) -> None:
    """``GET /sandbox/faults`` reads the knob; ``POST`` sets any of ``rate``, ``seed`` and
    ``outage`` (a JSON object)."""

    async def read(request: web.Request) -> web.Response:
        return _json(faults.to_api())

    async def write(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("a JSON object is expected")
            faults.set(rate=body.get("rate"), seed=body.get("seed"), outage=body.get("outage"))
        except (ValueError, TypeError) as exc:
            return _json({"ok": False, "description": str(exc)}, status=400)
        return _json(faults.to_api())

    app.router.add_get(FAULTS_PATH, read)
    app.router.add_post(FAULTS_PATH, write)


def make_app(state: SandboxState, token: str, faults: Faults | None = None) -> web.Application:
    """The sandbox's aiohttp application; the web chat page adds its routes to it."""
    app = web.Application(client_max_size=UPLOAD_LIMIT)
    app[STATE_KEY] = state
    faults = faults or Faults()

    async def release_waiters(_app: web.Application) -> None:
        state.close()  # pending long polls answer now instead of holding shutdown

    app.on_shutdown.append(release_waiters)
    add_botapi_routes(app, state, token, faults)
    add_fault_routes(app, faults)
    return app


async def start_server(
    state: SandboxState,
    token: str,
    host: str = "127.0.0.1",
    port: int = 8080,
    app: web.Application | None = None,
) -> web.AppRunner:
    """Serve ``app`` (default: ``make_app(state, token)``); port 0 picks a free port, read
    it back with ``bound_port(runner)``. Stop with ``await runner.cleanup()``."""
    runner = web.AppRunner(app or make_app(state, token), shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def bound_port(runner: web.AppRunner) -> int:
    return int(runner.addresses[0][1])
