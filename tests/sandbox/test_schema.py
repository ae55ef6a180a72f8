"""The sandbox against the published Bot API: every result has the documented shape of
its method's return type, and every parameter the server reads is a documented one."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from sandbox.schema import default_validator, validate, validate_result
from sandbox.server import METHODS
from tests.sandbox.conftest import GROUP, LEADER, RESIDENT, STRANGER, Sandbox

# Which documented types each declared parameter kind may stand for.
_PRIMITIVE_KINDS = {
    "int": {"Integer"},
    "number": {"Integer", "Float"},
    "str": {"String"},
    "bool": {"Boolean"},
    "chat": {"Integer", "String"},
    "file": {"InputFile", "String"},
}
_PRIMITIVES = {"Integer", "Float", "String", "Boolean", "True"}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_declared_parameters_exist_in_the_spec(method: str) -> None:
    validator = default_validator()
    assert method in validator.methods, f"{method} is not a Bot API method"
    documented = validator.method_params(method)
    for name, kind in METHODS[method].params.items():
        assert name in documented, f"{method} has no parameter {name}"
        types = set(documented[name]["types"])
        if kind == "json":
            assert not types & _PRIMITIVES, f"{method}.{name} is not JSON-valued: {types}"
        else:
            assert types <= _PRIMITIVE_KINDS[kind], f"{method}.{name}: {kind} vs {types}"


def test_validator_catches_wrong_shapes() -> None:
    user = {"id": 1, "is_bot": False, "first_name": "芳"}
    assert validate("User", user) == []
    assert validate("User", {"id": "1", "is_bot": False, "first_name": "芳"})
    assert validate("User", {"id": 1, "first_name": "芳"})  # is_bot required
    assert validate("User", user | {"nickname": "x"})  # undocumented field
    assert validate("ChatMember", {"status": "left", "user": user}) == []
    assert validate("ChatMember", {"status": "owner", "user": user})
    assert validate("Location", {"latitude": 1, "longitude": 2.5}) == []  # ints are Floats
    assert validate("Array of Array of KeyboardButton", [[{"text": "a"}]]) == []
    assert validate("Array of BotCommand", [{"command": "a"}])


class _Recorder:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.covered: set[str] = set()

    async def __call__(self, method: str, **params: Any) -> Any:
        status, body = await self.sandbox.raw(method, **params)
        assert status == 200 and body["ok"] is True, body
        assert validate_result(method, body["result"]) == [], (method, body["result"])
        self.covered.add(method)
        return body["result"]


async def test_every_method_result_matches_its_documented_type(sandbox: Sandbox) -> None:
    call, state = _Recorder(sandbox), sandbox.state
    state.user_sends_text(RESIDENT, None, "/start grid_07")
    state.user_sends_contact(RESIDENT, "+8613800000000")
    state.user_sends_location(RESIDENT, 29.2, 106.2)
    state.user_sends_text(LEADER, GROUP, "/report@paicha_sandbox_bot 今天")
    await call("getMe")
    await call("deleteWebhook")
    await call("getWebhookInfo")
    await call("setMyCommands", commands=[{"command": "start", "description": "开始"}])
    await call("getMyCommands")
    await call("deleteMyCommands", scope={"type": "chat", "chat_id": GROUP})
    await call("setChatMenuButton", chat_id=RESIDENT, menu_button={"type": "commands"})
    await call("getChatMenuButton", chat_id=RESIDENT)
    await call("setMyDescription", description="排查")
    await call("getMyDescription")
    await call("setMyShortDescription", short_description="排查")
    await call("getMyShortDescription")
    await call("setMyName", name="排查助手")
    await call("getMyName")
    keyboard = {"inline_keyboard": [[{"text": "核实", "callback_data": "v1:ok"}]]}
    sent = await call(
        "sendMessage",
        chat_id=RESIDENT,
        text="<b>收到</b>",
        parse_mode="HTML",
        reply_markup=keyboard,
    )
    await call("sendMessage", chat_id=GROUP, text="告警", reply_parameters={"message_id": 1})
    await call("editMessageText", chat_id=RESIDENT, message_id=sent["message_id"], text="已核实")
    await call(
        "editMessageReplyMarkup",
        chat_id=RESIDENT,
        message_id=sent["message_id"],
        reply_markup=keyboard,
    )
    query = state.user_presses_button(RESIDENT, RESIDENT, sent["message_id"], "v1:ok")
    state.user_blocks_bot(RESIDENT)
    state.user_unblocks_bot(RESIDENT)
    await call("getUpdates", timeout=0)
    await call("answerCallbackQuery", callback_query_id=query.id, text="好")
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(16)).decode()
    state.user_sends_photo(RESIDENT, None, base64.b64decode(png), caption="现场")
    photo_id = state.messages(RESIDENT)[-1].photo[-1]["file_id"]
    await call("sendPhoto", chat_id=GROUP, photo=photo_id, caption="转发")
    doc = state.store_file(b"x", kind="documents", mime_type="text/plain", file_name="a.txt")
    await call("sendDocument", chat_id=RESIDENT, document=doc.file_id)
    await call("getFile", file_id=photo_id)
    await call("sendChatAction", chat_id=RESIDENT, action="typing")
    await call("getChat", chat_id=RESIDENT)
    await call("getChat", chat_id=GROUP)
    for user in (RESIDENT, LEADER, STRANGER, state.bot.id):
        await call("getChatMember", chat_id=GROUP, user_id=user)
    await call("getChatMember", chat_id=RESIDENT, user_id=RESIDENT)
    await call("deleteMessage", chat_id=RESIDENT, message_id=sent["message_id"])
    await call("logOut")
    await call("close")
    assert call.covered == set(METHODS)


async def test_error_bodies_have_the_api_shape(sandbox: Sandbox) -> None:
    status, body = await sandbox.raw(
        "sendMessage", chat_id=RESIDENT, text="<b>x", parse_mode="HTML"
    )
    assert status == 400 and set(body) == {"ok", "error_code", "description"}
    assert body["description"] == (
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )
