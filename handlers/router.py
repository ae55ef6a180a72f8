"""One open conversation per user: a private message goes to the flow whose draft is open."""

from __future__ import annotations

from typing import Protocol

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.runtime.services import Services
from handlers.common import user_locale
from storage import drafts
from storage.drafts import Draft


class Conversation(Protocol):
    name: str

    async def on_answer(self, update: Update, draft: Draft) -> None:
        """A message (text, contact, photo, location, ...) answering the draft's open question."""

    async def ask(self, chat_id: int, draft: Draft | None) -> None:
        """(Re)send the draft's open question."""


class Router:
    def __init__(self, services: Services) -> None:
        self.s = services
        self.flows: dict[str, Conversation] = {}

    def register(self, flow: Conversation) -> None:
        self.flows[flow.name] = flow

    def handlers(self) -> list[BaseHandler]:
        """/cancel, and the catch-all for answers; registered after every flow's own handlers."""
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        return [
            CommandHandler("cancel", self.cmd_cancel, filters=filters.ChatType.PRIVATE),
            self.handler(),
            # last: a command no flow knows (a typo, or one not allowed here)
            MessageHandler(private & filters.COMMAND, self.on_unknown_command),
        ]

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Say the command is not known, and re-ask the open question if there is one."""
        user = update.effective_user
        draft = await drafts.get(self.s.db, user.id)
        locale = draft.locale if draft else await user_locale(self.s, user)
        await update.effective_message.reply_text(self.s.text(locale, "conversation", "unknown"))
        if draft is not None and draft.flow in self.flows:
            await self.flows[draft.flow].ask(update.effective_chat.id, draft)

    async def cmd_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Cancel whatever conversation is open; nothing of it was stored."""
        user = update.effective_user
        draft = await drafts.get(self.s.db, user.id)
        if draft is not None:
            async with self.s.db.write() as conn:
                await drafts.delete(conn, user.id, draft.token)
        locale = draft.locale if draft else await user_locale(self.s, user)
        text = (
            self.s.text(locale, "conversation", "cancelled", flow=draft.flow)
            if draft
            else self.s.text(locale, "conversation", "nothing_to_cancel")
        )
        await update.effective_chat.send_message(text, reply_markup=ReplyKeyboardRemove())

    def handler(self) -> MessageHandler:
        # Only new messages: an edit of an old message is not an answer to the open question.
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        return MessageHandler(private & ~filters.COMMAND, self.on_message)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        draft = await drafts.get(self.s.db, user.id)
        if draft is None or draft.flow not in self.flows:
            locale = await user_locale(self.s, user)
            await update.effective_message.reply_text(self.s.text(locale, "start", "not_in_flow"))
            return
        if update.update_id <= draft.last_update_id:
            return  # a re-delivered update: already answered
        await self.flows[draft.flow].on_answer(update, draft)

    async def resume_open(self, chat_id: int, user_id: int) -> bool:
        """If the user has a conversation open, say so and ask its question again: starting
        another one must not throw away half-filled answers."""
        draft = await drafts.get(self.s.db, user_id)
        if draft is None or draft.flow not in self.flows:
            return False
        await self.s.bot.send_message(
            chat_id, self.s.text(draft.locale, "conversation", "resume", flow=draft.flow)
        )
        await self.flows[draft.flow].ask(chat_id, draft)
        return True
