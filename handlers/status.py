"""``/status`` for admins (the health figures), and the heartbeat every update passes."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, TypeHandler

from bot.actions import status
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import user_locale


class StatusDesk:
    def __init__(self, services: Services, access: Access) -> None:
        self.s = services
        self.access = access
        self.heartbeat = status.Heartbeat(services)

    def handlers(self) -> list[BaseHandler]:
        return [CommandHandler("status", self.cmd_status)]

    def heartbeat_handlers(self) -> list[BaseHandler]:
        """Before every other handler, in a group of its own: it never takes the update."""
        return [TypeHandler(Update, self.on_update)]

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.heartbeat.beat()

    async def cmd_status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        actor = await self.access.actor(user)
        if not actor.is_admin:
            await self.access.refuse(update, actor, "status")
            return
        locale = await user_locale(self.s, user)
        await self.s.replies.send(chat.id, await status.view(self.s, user.id, locale))
