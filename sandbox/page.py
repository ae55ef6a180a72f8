"""The web chat page: ``GET /`` and a small JSON API under ``/sandbox/api``.

The page (``static/``: plain HTML, CSS and JavaScript, no build step, nothing from the
network) shows one column per person and the leadership group. It learns about changes
through one long poll (``/sandbox/api/changes``), so a browser's few connections per host
are never all held, then fetches the chats that changed.

Messages go to the page as text plus entities, never as HTML: the page builds the
formatting from the entities with DOM calls, so nothing anyone typed becomes markup.
"""

from __future__ import annotations

import asyncio
import io
import json
import mimetypes
import re
from datetime import datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.runtime import chart
from sandbox.control import SandboxControl
from sandbox.markup import is_inline
from sandbox.scenario import ScenarioError
from sandbox.state import Message, SandboxState, wait_event
from sandbox.world import TOWN_LOCATION

STATIC = Path(__file__).resolve().parent / "static"
API = "/sandbox/api"
DEEP_LINK = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_WAIT = 25.0  # seconds a long poll may hold a connection
DEFAULT_DRILL = "drill.toml"  # the full drill the picker offers first


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=partial(json.dumps, ensure_ascii=False))


_HTTP: dict[int, type[web.HTTPException]] = {400: web.HTTPBadRequest, 404: web.HTTPNotFound}


def _fail(message: str, status: int = 400, **extra: Any) -> web.HTTPException:
    """An error the page shows as is: ``{"error": "...", ...}``."""
    body = json.dumps({"error": message, **extra}, ensure_ascii=False)
    return _HTTP[status](text=body, content_type="application/json")


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise _fail("the body is not JSON") from None
    else:
        data = dict(await request.post())
    if not isinstance(data, dict):
        raise _fail("the body must be a JSON object")
    return data


def _number(data: dict[str, Any], name: str, default: Any, convert: type, what: str) -> Any:
    """A numeric field of the page's request: required unless ``default`` is given; a bool
    (JSON true/false) is not a number even though Python would convert it."""
    value = data.get(name)
    if value in (None, ""):
        if default is ...:
            raise _fail(f"{name} is required")
        return default
    try:
        if isinstance(value, bool):
            raise ValueError
        return convert(value)
    except (TypeError, ValueError):
        raise _fail(f"{name} must be {what}") from None


def _int(data: dict[str, Any], name: str, default: Any = ...) -> Any:
    return _number(data, name, default, int, "an integer")


def _float(data: dict[str, Any], name: str, default: Any = ...) -> Any:
    return _number(data, name, default, float, "a number")


@cache
def _web_font() -> bytes:
    """The chart font as one TrueType file (a system font the charts fall back to may be a
    collection, .ttc, which browsers do not load)."""
    from fontTools.ttLib import TTCollection, TTFont

    path, _ = chart.cjk_font()
    buffer = io.BytesIO()
    if path.suffix.lower() == ".ttc":
        TTCollection(str(path)).fonts[0].save(buffer)
    else:
        TTFont(str(path)).save(buffer)
    return buffer.getvalue()


def add_page_routes(app: web.Application, state: SandboxState, control: SandboxControl) -> None:
    """Mount the page, its static files and the ``/sandbox/api`` endpoints on ``app``."""

    def person_id(data: dict[str, Any]) -> int:
        """``who`` (a person key) or ``user_id``."""
        who = data.get("who")
        if who:
            person = control.world.people.get(str(who))
            if person is None:
                raise _fail(f"unknown person {who!r}")
            return person.user_id
        user_id = _int(data, "user_id")
        if user_id not in state.users or user_id == state.bot.id:
            raise _fail(f"no person {user_id}")
        return user_id

    def label(user_id: int | None) -> str:
        if user_id is None:
            return ""
        if user_id == state.bot.id:
            return state.bot.first_name
        person = control.world.by_id(user_id)
        if person is not None:
            return person.label
        user = state.users.get(user_id)
        return user.first_name if user else str(user_id)

    def file_url(file_id: str) -> str:
        return f"{API}/files/{file_id}"

    def message_json(message: Message) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": message.message_id,
            "from": {
                "id": message.from_id,
                "label": label(message.from_id),
                "is_bot": message.from_id == state.bot.id,
            },
            "date": message.date,
            "edit_date": message.edit_date,
            "text": message.text,
            "entities": message.entities,
            "caption": message.caption,
            "caption_entities": message.caption_entities,
            "reply_to": message.reply_to,
            "contact": message.contact,
            "location": message.location,
        }
        if message.photo:
            biggest = message.photo[-1]
            out["photo"] = {
                "url": file_url(biggest["file_id"]),
                "width": biggest.get("width", 0),
                "height": biggest.get("height", 0),
            }
        if message.document:
            doc = message.document
            out["document"] = {
                "url": file_url(doc["file_id"]),
                "name": doc.get("file_name") or "file",
                "size": doc.get("file_size", 0),
                "mime_type": doc.get("mime_type"),
            }
        if is_inline(message.reply_markup):
            out["inline_keyboard"] = [
                [
                    {k: b[k] for k in ("text", "callback_data", "url", "copy_text") if k in b}
                    for b in row
                ]
                for row in (message.reply_markup or {})["inline_keyboard"]
            ]
        return out

    def chat_json(chat_id: int) -> dict[str, Any]:
        chat = state.chats[chat_id]
        return {
            "epoch": control.epoch,
            "chat_id": chat.id,
            "version": chat.version,
            "messages": [message_json(m) for m in state.messages(chat.id)],
            "reply_keyboard": chat.reply_keyboard,
            "last_action": chat.last_action,
        }

    def clock_json() -> dict[str, Any]:
        return control.clock.describe() | {"timezone": control.config.town.timezone}

    def chat_or_404(request: web.Request) -> int:
        try:
            chat_id = int(request.match_info["chat_id"])
        except ValueError:
            raise _fail("a chat id is a number", 404) from None
        if chat_id not in state.chats:
            raise _fail(f"no chat {chat_id}", 404)
        return chat_id

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def world(request: web.Request) -> web.Response:
        w = control.world
        chats = [
            {
                "id": person.user_id,
                "key": key,
                "type": "private",
                "title": person.label,
                "members": [{"id": person.user_id, "label": person.label}],
            }
            for key, person in w.people.items()
        ]
        group = state.chats.get(w.leaders_chat_id)
        if group is not None:
            members = [
                {"id": uid, "label": label(uid)}
                for uid, status in group.members.items()
                if uid != state.bot.id and status not in ("left", "kicked")
            ]
            chats.append({"id": group.id, "key": "leaders", "type": group.type,
                          "title": group.title, "members": members})  # fmt: skip
        return _json(
            {
                "epoch": control.epoch,
                "town": control.config.town.name,
                "bot": {"username": state.bot.username, "name": state.bot.first_name},
                "people": [p.to_api(state) for p in w.people.values()],
                "chats": chats,
                "payloads": [{"payload": p, "label": lbl} for p, lbl in w.payloads],
                "location": list(TOWN_LOCATION),
                "clock": clock_json(),
                "bot_process": control.bot_status(),
                "regions": control.regions_in_force(),
            }
        )

    async def changes(request: web.Request) -> web.Response:
        """Long poll: answers once any chat's version differs from ``versions``
        (``id:version,...``; chats not listed count as version 0), the epoch differs
        (a reset) or the drill log grew."""
        q = request.query
        epoch = _int(dict(q), "epoch", 0)
        log_version = _int(dict(q), "log", -1)
        timeout = min(max(_float(dict(q), "timeout", MAX_WAIT), 0.0), MAX_WAIT)
        known: dict[int, int] = {}
        for part in filter(None, q.get("versions", "").split(",")):
            chat, _, version = part.partition(":")
            try:
                known[int(chat)] = int(version)
            except ValueError:
                raise _fail(f"bad versions item {part!r}") from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout

        def current() -> dict[str, int]:
            return {str(c.id): c.version for c in state.chats.values()}

        def differs() -> bool:
            if epoch != control.epoch or log_version != control.log_version:
                return True
            return any(c.version != known.get(c.id, 0) for c in state.chats.values())

        while True:
            event = state.changed.current
            reset = control.reset_signal.current
            if differs():
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            waiters = [asyncio.ensure_future(e.wait()) for e in (event, reset)]
            done, pending = await asyncio.wait(
                waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
            if not done:
                break
        return _json(
            {
                "epoch": control.epoch,
                "versions": current(),
                "log": control.log_version,
                "drill": {"running": control.drill_running, "name": control.drill_name},
                "bot_process": control.bot_status(),
            }
        )

    async def chat_messages(request: web.Request) -> web.Response:
        """A chat as the page draws it; ``?after=N&timeout=S`` waits for a version above N."""
        chat_id = chat_or_404(request)
        q = dict(request.query)
        after = _int(q, "after", None)
        if after is not None:
            timeout = min(max(_float(q, "timeout", MAX_WAIT), 0.0), MAX_WAIT)
            reset = asyncio.ensure_future(wait_event(control.reset_signal.current, timeout))
            change = asyncio.ensure_future(state.wait_chat_change(chat_id, after, timeout))
            await asyncio.wait((reset, change), return_when=asyncio.FIRST_COMPLETED)
            for task in (reset, change):
                task.cancel()
            if chat_id not in state.chats:  # gone in a reset
                raise _fail(f"no chat {chat_id}", 404)
        return _json(chat_json(chat_id))

    def acted(message: Message) -> web.Response:
        return _json({"ok": True, "message": message_json(message)})

    async def send_text(request: web.Request) -> web.Response:
        data = await _body(request)
        user = person_id(data)
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _fail("text is empty")
        chat_id = _int(data, "chat_id", None)
        try:
            message = state.user_sends_text(
                user, chat_id, text, reply_to_message_id=_int(data, "reply_to", None)
            )
        except ValueError as exc:
            raise _fail(str(exc)) from None
        return acted(message)

    async def start(request: web.Request) -> web.Response:
        """The START button, or a deep link (``payload``: a QR poster's code)."""
        data = await _body(request)
        user = person_id(data)
        payload = str(data.get("payload") or "").strip()
        if payload and not DEEP_LINK.fullmatch(payload):
            raise _fail("a deep-link payload is 1-64 of A-Z, a-z, 0-9, _ and -")
        try:
            message = state.user_sends_text(
                user, None, f"/start {payload}" if payload else "/start"
            )
        except ValueError as exc:
            raise _fail(str(exc)) from None
        return acted(message)

    async def press(request: web.Request) -> web.Response:
        """Press an inline button; waits up to ``wait`` seconds for the bot's answer (a
        toast or an alert) and returns it."""
        data = await _body(request)
        user = person_id(data)
        chat_id = _int(data, "chat_id", user)
        callback_data = data.get("callback_data")
        if not isinstance(callback_data, str):
            raise _fail("callback_data is required")
        try:
            query = state.user_presses_button(
                user, chat_id, _int(data, "message_id"), callback_data
            )
        except ValueError as exc:
            raise _fail(str(exc)) from None
        wait = min(max(_float(data, "wait", 3.0), 0.0), 10.0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while not query.answered and chat_id in state.chats:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            version = state.chats[chat_id].version
            await state.wait_chat_change(chat_id, version, remaining)
        return _json({"ok": True, "query_id": query.id, "answered": query.answered,
                      "answer": query.answer})  # fmt: skip

    async def contact(request: web.Request) -> web.Response:
        data = await _body(request)
        user = person_id(data)
        person = control.world.by_id(user)
        phone = str(data.get("phone") or (person.phone if person else "") or "")
        if not phone:
            raise _fail("phone is required")
        try:
            message = state.user_sends_contact(user, phone, chat_id=_int(data, "chat_id", None))
        except ValueError as exc:
            raise _fail(str(exc)) from None
        return acted(message)

    async def location(request: web.Request) -> web.Response:
        data = await _body(request)
        user = person_id(data)
        lat = _float(data, "latitude", TOWN_LOCATION[0])
        lon = _float(data, "longitude", TOWN_LOCATION[1])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise _fail("latitude/longitude out of range")
        try:
            message = state.user_sends_location(user, lat, lon, chat_id=_int(data, "chat_id", None))
        except ValueError as exc:
            raise _fail(str(exc)) from None
        return acted(message)

    async def upload(request: web.Request) -> web.Response:
        """multipart: user_id or who, chat_id, caption, file. Images go as photos, anything
        else (or ``as_document``) as a document."""
        if request.content_type != "multipart/form-data":
            raise _fail("send multipart/form-data with a file part")
        form = await request.post()
        data = {k: v for k, v in form.items() if not isinstance(v, web.FileField)}
        file = form.get("file")
        if not isinstance(file, web.FileField):
            raise _fail("the file part is missing")
        user = person_id(data)
        chat_id = _int(data, "chat_id", None)
        body = file.file.read()
        if not body:
            raise _fail("the file is empty")
        caption = str(data.get("caption") or "") or None
        is_image = (file.content_type or "").startswith("image/") or (
            mimetypes.guess_type(file.filename or "")[0] or ""
        ).startswith("image/")
        try:
            if is_image and not data.get("as_document"):
                message = state.user_sends_photo(user, chat_id, body, caption)
            else:
                message = state.user_sends_document(
                    user, chat_id, body, file.filename or "file", caption
                )
        except ValueError as exc:
            raise _fail(str(exc)) from None
        return acted(message)

    async def files(request: web.Request) -> web.Response:
        stored = state.files.get(request.match_info["file_id"])
        if stored is None:
            raise _fail("no such file", 404)
        mime = stored.mime_type or mimetypes.guess_type(stored.file_path)[0]
        return web.Response(body=stored.data, content_type=mime or "application/octet-stream")

    async def clock_get(request: web.Request) -> web.Response:
        return _json(clock_json())

    async def clock_post(request: web.Request) -> web.Response:
        """``speed`` (x real time), ``jump_minutes`` (forward), ``start`` (ISO, resets)."""
        data = await _body(request)
        try:
            if data.get("start"):
                start = datetime.fromisoformat(str(data["start"]))
                control.clock.reset(start)
            if data.get("speed") not in (None, ""):
                control.clock.speed(_float(data, "speed"))
            if data.get("jump_minutes") not in (None, ""):
                control.clock.jump(_float(data, "jump_minutes"))
        except ValueError as exc:
            raise _fail(str(exc)) from None
        state.changed.fire()
        return _json(clock_json())

    async def reset(request: web.Request) -> web.Response:
        await control.reset()
        return _json({"ok": True, "epoch": control.epoch})

    async def scenarios(request: web.Request) -> web.Response:
        names = control.scenarios()
        return _json({"scenarios": names, "running": control.drill_running,
                      "name": control.drill_name,
                      "default": DEFAULT_DRILL if DEFAULT_DRILL in names else None})  # fmt: skip

    async def play(request: web.Request) -> web.Response:
        data = await _body(request)
        name = str(data.get("name") or "")
        try:
            await control.play(name, fresh=bool(data.get("fresh", True)))
        except FileNotFoundError as exc:
            raise _fail(str(exc), 404) from None
        except ScenarioError as exc:
            raise _fail("the scenario has problems", problems=exc.problems) from None
        return _json({"ok": True, "epoch": control.epoch})

    async def stop_drill(request: web.Request) -> web.Response:
        await control.stop_drill()
        return _json({"ok": True})

    async def drill_log(request: web.Request) -> web.Response:
        return _json({"lines": control.lines, "version": control.log_version,
                      "running": control.drill_running, "name": control.drill_name})  # fmt: skip

    async def cjk_font(request: web.Request) -> web.StreamResponse:
        """The CJK font the charts use, so Chinese shows on a machine without Chinese fonts."""
        try:
            body = await asyncio.to_thread(_web_font)
        except chart.NoCJKFont:
            raise web.HTTPNotFound() from None
        return web.Response(body=body, content_type="font/ttf",
                            headers={"Cache-Control": "max-age=86400"})  # fmt: skip

    async def emoji_font(request: web.Request) -> web.StreamResponse:
        """The page's emoji (static/emoji.ttf, bin/make-emoji-font), as font/ttf: aiohttp's
        static files know no font types."""
        return web.FileResponse(STATIC / "emoji.ttf", headers={
            "Content-Type": "font/ttf", "Cache-Control": "max-age=86400"})  # fmt: skip

    r = app.router
    r.add_get("/", index)
    r.add_get("/sandbox/static/emoji.ttf", emoji_font)  # before the static files
    r.add_static("/sandbox/static", STATIC, append_version=False)
    r.add_get("/sandbox/font", cjk_font)
    r.add_get(f"{API}/world", world)
    r.add_get(f"{API}/changes", changes)
    r.add_get(f"{API}/chats/{{chat_id}}", chat_messages)
    r.add_post(f"{API}/send", send_text)
    r.add_post(f"{API}/start", start)
    r.add_post(f"{API}/press", press)
    r.add_post(f"{API}/contact", contact)
    r.add_post(f"{API}/location", location)
    r.add_post(f"{API}/upload", upload)
    r.add_get(f"{API}/files/{{file_id}}", files)
    r.add_get(f"{API}/clock", clock_get)
    r.add_post(f"{API}/clock", clock_post)
    r.add_post(f"{API}/reset", reset)
    r.add_get(f"{API}/scenarios", scenarios)
    r.add_post(f"{API}/scenarios/play", play)
    r.add_post(f"{API}/scenarios/stop", stop_drill)
    r.add_get(f"{API}/log", drill_log)
