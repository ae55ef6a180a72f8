"""A real python-telegram-bot Application polling the sandbox, as paicha runs against it:
only base_url/base_file_url differ from production."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.sandbox.conftest import RESIDENT, TOKEN, Sandbox


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    button = InlineKeyboardButton("确认", callback_data="v1:start:ok")
    await update.message.reply_html(
        f"<b>欢迎</b> {' '.join(context.args)}", reply_markup=InlineKeyboardMarkup([[button]])
    )


async def _confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer("已确认")
    await update.callback_query.edit_message_text("已确认")


async def _wait_for(sandbox: Sandbox, predicate) -> None:  # type: ignore[no-untyped-def]
    chat = sandbox.state.chats[RESIDENT]
    while not predicate():
        await sandbox.state.wait_chat_change(RESIDENT, chat.version, 5)


async def test_polling_application_round_trip(sandbox: Sandbox) -> None:
    base = f"http://127.0.0.1:{sandbox.port}"
    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(CallbackQueryHandler(_confirm))
    state = sandbox.state
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=10)
        state.user_sends_text(RESIDENT, None, "/start grid_07")
        await _wait_for(sandbox, lambda: state.messages(RESIDENT)[-1].from_id == state.bot.id)
        welcome = state.messages(RESIDENT)[-1]
        assert (welcome.text, welcome.entities[0]["type"]) == ("欢迎 grid_07", "bold")
        query = state.user_presses_button(RESIDENT, RESIDENT, welcome.message_id, "v1:start:ok")
        await _wait_for(sandbox, lambda: welcome.text == "已确认")
        assert state.callback_queries[query.id].answer == {"text": "已确认", "show_alert": False}
        assert welcome.reply_markup is None
        await app.updater.stop()
        await app.stop()
