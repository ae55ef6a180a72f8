"""Importing the CDC's contact list of a case: the case card's "导入密接名单" button and
``/import_contacts <case ref>``, for leaders (and admins) in a private chat — a press in the
group opens it in the presser's private chat (handlers/access.py's gate); anyone else is
refused and audited. The conversation itself (send the file) is bot/flows/contact_import.py."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import contact_import as service
from bot.flows.contact_import import FILE, PERMISSION, ContactImportFlow
from bot.flows.engine import Engine
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale

COMMAND = "import_contacts"


class ContactImportDesk:
    def __init__(self, services: Services, engine: Engine, access: Access) -> None:
        self.s = services
        self.access = access
        self.flow = ContactImportFlow(services, engine)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler(COMMAND, self.cmd_import, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_button, pattern=callback_pattern(service.FLOW)),
        ]

    async def cmd_import(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.access.actor(update.effective_user)
        if not actor.is_leader:
            await self.access.refuse(update, actor, PERMISSION)
            return
        locale = await user_locale(self.s, update.effective_user)
        chat = update.effective_chat.id
        if not context.args:
            await self.s.replies.send(chat, self.s.text(locale, service.MODULE, "usage"))
            return
        case = await service.case_of(self.s, ref=context.args[0])
        if case is None:
            text = self.s.text(locale, service.MODULE, "case_unknown", ref=context.args[0])
            await self.s.replies.send(chat, text)
            return
        await self._open(update, case)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, service.FLOW)
        if not parts or len(parts) != 1 or not parts[0].isdigit():
            await query.answer()
            return
        actor = await self.access.actor(update.effective_user)
        case = await service.case_of(self.s, int(parts[0]))
        if case is None or not actor.is_leader:
            await self.access.refuse(update, actor, PERMISSION,
                                     service.subject(int(parts[0])))  # fmt: skip
            return
        await query.answer()
        await self._open(update, case)

    async def _open(self, update: Update, case: Any) -> None:
        await self.flow.start(update, FILE, {"case_id": case["id"], "ref": case["ref"]})
