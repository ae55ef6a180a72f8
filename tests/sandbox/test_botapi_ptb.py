"""Every method paicha uses, through python-telegram-bot's own client: a shape PTB cannot
parse or an error it maps differently fails here."""

from __future__ import annotations

import pytest
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonCommands,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter

from tests.sandbox.conftest import GROUP, LEADER, RESIDENT, STRANGER, TOKEN, Sandbox

NOT_MODIFIED = (
    "Message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x80\x00\x00\x01\xe0\x08\x02\x00\x00\x00"


def _keyboard(data: str = "v1:tip:42:ok") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("核实", callback_data=data)]])


async def test_get_me_and_bot_settings(sandbox: Sandbox) -> None:
    me = await sandbox.bot.get_me()
    assert (me.id, me.is_bot, me.username) == (7000000001, True, "paicha_sandbox_bot")
    commands = [BotCommand("start", "开始"), BotCommand("tip", "提供线索")]
    assert await sandbox.bot.set_my_commands(commands)
    scope = BotCommandScopeChat(GROUP)
    assert await sandbox.bot.set_my_commands([BotCommand("report", "日报")], scope=scope)
    assert await sandbox.bot.get_my_commands() == tuple(commands)
    assert [c.command for c in await sandbox.bot.get_my_commands(scope=scope)] == ["report"]
    assert sandbox.state.commands_for(GROUP, LEADER)[0]["command"] == "report"
    assert await sandbox.bot.delete_my_commands(scope=scope)
    assert await sandbox.bot.get_my_commands(scope=scope) == ()
    assert await sandbox.bot.set_chat_menu_button(RESIDENT, MenuButtonCommands())
    assert isinstance(await sandbox.bot.get_chat_menu_button(RESIDENT), MenuButtonCommands)
    assert await sandbox.bot.set_my_description("先锋镇排查", language_code="zh")
    assert await sandbox.bot.set_my_short_description("排查")
    assert (await sandbox.bot.get_my_description("zh")).description == "先锋镇排查"
    assert (await sandbox.bot.get_my_short_description()).short_description == "排查"
    assert await sandbox.bot.delete_webhook(drop_pending_updates=True)
    assert (await sandbox.bot.get_webhook_info()).url == ""
    assert await sandbox.bot.log_out()
    assert await sandbox.bot.close()


async def test_bad_command_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await sandbox.bot.set_my_commands([BotCommand("Not-valid", "x")])


async def test_send_message_html_with_inline_keyboard(sandbox: Sandbox) -> None:
    sent = await sandbox.bot.send_message(
        RESIDENT,
        "<b>申报</b>已收到 &lt;编号 42&gt; <a href='https://example.cn/a'>详情</a>",
        parse_mode=ParseMode.HTML,
        reply_markup=_keyboard(),
    )
    assert sent.text == "申报已收到 <编号 42> 详情"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 2),
        ("text_link", 14, 2),
    ]
    assert sent.entities[1].url == "https://example.cn/a"
    assert sent.reply_markup == _keyboard()
    assert sent.chat.type == ChatType.PRIVATE and sent.from_user.is_bot
    stored = sandbox.state.messages(RESIDENT)[-1]
    assert stored.source.startswith("<b>申报</b>")


async def test_send_message_errors(sandbox: Sandbox) -> None:
    bot = sandbox.bot
    with pytest.raises(BadRequest) as bad_html:
        await bot.send_message(RESIDENT, "<foo>x</foo>", parse_mode=ParseMode.HTML)
    assert bad_html.value.message == (
        'Can\'t parse entities: unsupported start tag "foo" at byte offset 0'
    )
    with pytest.raises(BadRequest, match='can\'t find end tag corresponding to start tag "b"'):
        await bot.send_message(RESIDENT, "<b>x", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(RESIDENT, "排" * 4097)
    assert await bot.send_message(RESIDENT, "<b>" + "排" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
        await bot.send_message(RESIDENT, "x", reply_markup=_keyboard("a" * 65))
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(424242, "x")
    with pytest.raises(
        Forbidden, match=r"^Forbidden: bot can't initiate conversation with a user$"
    ):
        await bot.send_message(STRANGER, "x")
    sandbox.state.user_blocks_bot(RESIDENT)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
        await bot.send_message(RESIDENT, "x")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_flood_control_answers_retry_after(sandbox: Sandbox) -> None:
    sandbox.state.flood(7)
    with pytest.raises(RetryAfter) as flood:
        await sandbox.bot.send_message(RESIDENT, "x")
    retry_after = flood.value.retry_after  # int now, a timedelta in PTB 23
    assert (getattr(retry_after, "total_seconds", lambda: retry_after)()) == 7
    assert await sandbox.bot.send_message(RESIDENT, "x")  # only the next send was flooded
    status, body = await sandbox.raw("sendMessage", chat_id=RESIDENT, text="y")
    assert status == 200 and body["ok"]
    sandbox.state.flood(3)
    status, body = await sandbox.raw("sendMessage", chat_id=RESIDENT, text="y")
    assert (status, body) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        },
    )


async def test_reply_keyboards_and_force_reply(sandbox: Sandbox) -> None:
    bot, state = sandbox.bot, sandbox.state
    contact = ReplyKeyboardMarkup(
        [
            [KeyboardButton("共享手机号", request_contact=True)],
            [KeyboardButton("位置", request_location=True)],
        ],
        one_time_keyboard=True,
    )
    sent = await bot.send_message(RESIDENT, "请共享手机号", reply_markup=contact)
    assert sent.reply_markup is None  # a Message only ever echoes inline keyboards
    assert state.chats[RESIDENT].reply_keyboard["keyboard"][0][0]["request_contact"] is True
    state.user_sends_contact(RESIDENT, "+8613800000000")
    assert state.chats[RESIDENT].reply_keyboard is None  # one-time keyboard folded
    await bot.send_message(RESIDENT, "x", reply_markup=ReplyKeyboardMarkup([["是", "否"]]))
    await bot.send_message(RESIDENT, "x", reply_markup=ReplyKeyboardRemove())
    assert state.chats[RESIDENT].reply_keyboard is None
    assert await bot.send_message(RESIDENT, "姓名？", reply_markup=ForceReply())
    with pytest.raises(BadRequest, match="only in private chats"):
        await bot.send_message(GROUP, "x", reply_markup=contact)


async def test_edit_message_text_and_markup(sandbox: Sandbox) -> None:
    bot = sandbox.bot
    sent = await bot.send_message(RESIDENT, "待核实", reply_markup=_keyboard())
    with pytest.raises(BadRequest) as same:
        await bot.edit_message_text("待核实", RESIDENT, sent.message_id, reply_markup=_keyboard())
    assert same.value.message == NOT_MODIFIED
    edited = await bot.edit_message_text(
        "<i>已核实</i>", RESIDENT, sent.message_id, parse_mode=ParseMode.HTML
    )
    assert edited.text == "已核实" and edited.reply_markup is None and edited.edit_date
    marked = await bot.edit_message_reply_markup(
        RESIDENT, sent.message_id, reply_markup=_keyboard("v1:x")
    )
    assert marked.reply_markup == _keyboard("v1:x")
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("x", RESIDENT, 9999)
    own = sandbox.state.user_sends_text(RESIDENT, RESIDENT, "hi")
    with pytest.raises(BadRequest, match=r"^Message can't be edited$"):
        await bot.edit_message_text("x", RESIDENT, own.message_id)


async def test_callback_query_answer_once(sandbox: Sandbox) -> None:
    sent = await sandbox.bot.send_message(RESIDENT, "核实？", reply_markup=_keyboard())
    query = sandbox.state.user_presses_button(RESIDENT, RESIDENT, sent.message_id, "v1:tip:42:ok")
    updates = await sandbox.bot.get_updates(timeout=0)
    callback = updates[-1].callback_query
    assert (callback.data, callback.message.message_id) == ("v1:tip:42:ok", sent.message_id)
    assert callback.from_user.id == RESIDENT and callback.chat_instance
    assert await callback.answer("好的", show_alert=True)
    assert sandbox.state.callback_queries[query.id].answer == {"text": "好的", "show_alert": True}
    with pytest.raises(BadRequest, match="Query is too old"):
        await callback.answer()


async def test_photo_and_document_upload_and_download(sandbox: Sandbox) -> None:
    bot = sandbox.bot
    photo = await bot.send_photo(RESIDENT, PNG, caption="<b>现场</b>", parse_mode="HTML")
    assert (photo.photo[-1].width, photo.photo[-1].height) == (640, 480)
    assert photo.caption == "现场" and photo.caption_entities[0].type == "bold"
    file = await bot.get_file(photo.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == PNG
    doc = await bot.send_document(GROUP, b"a,b\n1,2\n", filename="日报.csv")
    assert doc.document.file_name == "日报.csv" and doc.document.mime_type == "text/csv"
    again = await bot.send_document(RESIDENT, doc.document.file_id)  # resend by file_id
    assert again.document.file_id == doc.document.file_id
    data = await (await bot.get_file(doc.document.file_id)).download_as_bytearray()
    assert bytes(data) == b"a,b\n1,2\n"
    with pytest.raises(BadRequest, match=r"^Invalid file_id$"):
        await bot.get_file("nope")
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(RESIDENT, "nope")


async def test_user_photo_is_downloadable(sandbox: Sandbox) -> None:
    sandbox.state.user_sends_photo(RESIDENT, None, PNG, caption="体温")
    update = (await sandbox.bot.get_updates())[-1]
    largest = update.message.photo[-1]
    assert update.message.caption == "体温"
    assert bytes(await (await largest.get_file()).download_as_bytearray()) == PNG


async def test_chat_and_members(sandbox: Sandbox) -> None:
    bot = sandbox.bot
    group = await bot.get_chat(GROUP)
    assert (group.type, group.title) == (ChatType.SUPERGROUP, "先锋镇疫情防控领导小组")
    private = await bot.get_chat(RESIDENT)
    assert (private.first_name, private.last_name, private.username) == ("芳", "王", "wangfang")
    assert isinstance(await bot.get_chat_member(GROUP, LEADER), ChatMemberOwner)
    assert isinstance(await bot.get_chat_member(GROUP, RESIDENT), ChatMemberMember)
    assert isinstance(await bot.get_chat_member(GROUP, STRANGER), ChatMemberLeft)
    assert isinstance(await bot.get_chat_member(GROUP, bot.id), ChatMemberAdministrator)
    with pytest.raises(BadRequest, match=r"^User not found$"):
        await bot.get_chat_member(GROUP, 31337)
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.get_chat(-100999)


async def test_delete_message_and_chat_action(sandbox: Sandbox) -> None:
    sent = await sandbox.bot.send_message(GROUP, "告警")
    assert await sandbox.bot.send_chat_action(GROUP, "typing")
    assert await sandbox.bot.delete_message(GROUP, sent.message_id)
    assert sandbox.state.messages(GROUP) == []
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await sandbox.bot.delete_message(GROUP, sent.message_id)
    with pytest.raises(BadRequest, match=r"^Wrong parameter action in request$"):
        await sandbox.bot.send_chat_action(GROUP, "dancing")


async def test_replies_and_group_migration(sandbox: Sandbox) -> None:
    asked = sandbox.state.user_sends_text(RESIDENT, None, "/tip")
    reply = await sandbox.bot.send_message(
        RESIDENT, "请描述", reply_parameters=ReplyParameters(asked.message_id)
    )
    assert reply.reply_to_message.text == "/tip"
    with pytest.raises(BadRequest, match=r"^Message to be replied not found$"):
        await sandbox.bot.send_message(RESIDENT, "x", reply_parameters=ReplyParameters(999))
    sandbox.state.add_group(-4001, "旧群", supergroup=False)
    sandbox.state.upgrade_group(-4001, -1004001)
    with pytest.raises(ChatMigrated) as migrated:
        await sandbox.bot.send_message(-4001, "x")
    assert migrated.value.new_chat_id == -1004001


async def test_token_and_unknown_method(sandbox: Sandbox) -> None:
    status, body = await sandbox.raw("getMe", token="7000000001:wrong")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = await sandbox.raw("sendTelepathy")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    from telegram import Bot

    wrong = Bot("7000000001:wrong", base_url=f"http://127.0.0.1:{sandbox.port}/bot")
    with pytest.raises(InvalidToken):
        await wrong.get_me()
    await wrong.shutdown()


async def test_parameter_encodings(sandbox: Sandbox) -> None:
    """Query string, urlencoded form (JSON-valued params as strings) and JSON body."""
    base = f"http://127.0.0.1:{sandbox.port}/bot{TOKEN}"
    markup = '{"inline_keyboard":[[{"text":"a","callback_data":"b"}]]}'
    async with sandbox.http.get(
        f"{base}/sendMessage", params={"chat_id": RESIDENT, "text": "q"}
    ) as r:
        assert (await r.json())["result"]["text"] == "q"
    form = {"chat_id": str(RESIDENT), "text": "f", "reply_markup": markup}
    async with sandbox.http.post(f"{base}/sendMessage", data=form) as r:
        assert (await r.json())["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "a"
    async with sandbox.http.post(
        f"{base}/SENDMESSAGE", json={"chat_id": RESIDENT, "text": "j"}
    ) as r:
        assert (await r.json())["result"]["text"] == "j"  # method names are case-insensitive
    async with sandbox.http.post(f"{base}/sendMessage", data={**form, "reply_markup": "{"}) as r:
        body = await r.json()
    assert body["description"] == "Bad Request: can't parse reply keyboard markup JSON object"
