"""The leadership group (领导小组): ``/report`` sends the daily report now, through the outbox."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.actions import digest
from bot.runtime.services import Services
from handlers.common import user_locale


class LeadersFlow:
    def __init__(self, services: Services) -> None:
        self.s = services

    def handlers(self) -> list[BaseHandler]:
        return [CommandHandler("report", self.cmd_report)]

    async def cmd_report(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, message = update.effective_chat, update.effective_message
        if chat is None or message is None:
            return
        if chat.id != self.s.config.leadership.chat_id:
            locale = await user_locale(self.s, update.effective_user)
            await message.reply_text(self.s.text(locale, "digest", "refused"))
            return
        # Keyed by the command message: a re-delivered update queues no second report.
        await digest.send_now(self.s, key=f"digest:cmd:{chat.id}:{message.message_id}")
