"""One open conversation per user: a private message goes to the flow whose draft is open,
a flow's button to the conversation runtime (bot/flows/engine.py), which checks both. A
message outside any conversation goes to the first of ``idle`` that takes it (an open
check-in takes a typed temperature; the menu takes the rest)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.domain.callbacks import callback_pattern
from bot.flows.engine import Engine, Gate, user_locale
from bot.runtime.services import Services

Idle = Callable[[Update], Awaitable[bool]]  # takes a message outside a conversation, or False


class Router:
    def __init__(self, services: Services, gate: Gate) -> None:
        self.s = services
        self.engine = Engine(services, gate)
        self.idle: list[Idle] = []  # in order; wired in bot/app.py

    def handlers(self) -> list[BaseHandler]:
        """Every flow's buttons, /cancel, and the catch-all for answers; registered after
        every flow's own handlers."""
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        # Only new messages: an edit of an old message is not an answer to the open question.
        return [
            CallbackQueryHandler(self.on_button, pattern=callback_pattern(*self.engine.prefixes)),
            CommandHandler("cancel", self.cmd_cancel, filters=filters.ChatType.PRIVATE),
            MessageHandler(private & ~filters.COMMAND, self.on_message),
            # last: a command no flow knows (a typo, or one not allowed here)
            MessageHandler(private & filters.COMMAND, self.on_unknown_command),
        ]

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.engine.on_button(update)

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Say the command is not known, and re-ask the open question if there is one."""
        user = update.effective_user
        draft = await self.engine.open_draft(user.id)
        locale = draft.locale if draft else await user_locale(self.s, user)
        await update.effective_message.reply_text(self.s.text(locale, "conversation", "unknown"))
        if draft is not None and self.engine.knows(draft):
            await self.engine.ask(draft, update.effective_chat.id)

    async def cmd_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Cancel whatever conversation is open; nothing of it was stored."""
        user = update.effective_user
        draft = await self.engine.cancel_open(user)
        locale = draft.locale if draft else await user_locale(self.s, user)
        text = (
            self.s.text(locale, "conversation", "cancelled", flow=draft.flow)
            if draft
            else self.s.text(locale, "conversation", "nothing_to_cancel")
        )
        await update.effective_chat.send_message(text, reply_markup=ReplyKeyboardRemove())

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        draft = await self.engine.open_draft(user.id)
        if draft is not None and self.engine.knows(draft):
            await self.engine.on_message(update, draft)
            return
        for take in self.idle:
            if await take(update):
                return
