"""A unit's arrivals in bulk (批量导入): ``/import_arrivals [unit id]`` and the buttons
``v1:bi:o:<unit>`` (open the import for the unit) and ``v1:bi:t:<unit>`` (download the
template), in a private chat, for the unit's liaison and the staff who follow the unit (its
grid's workers, its village's admins, leaders). A liaison of another unit — anyone out of
scope — is refused and audited (``denied:unit.import``, subject ``unit:<id>``). The
conversation itself (send the file) is bot/flows/arrival_import.py."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import arrival_import as service
from bot.actions import units
from bot.domain import units as unit_rules
from bot.domain.callbacks import inline_markup
from bot.flows.arrival_import import FILE, ArrivalImportFlow
from bot.flows.engine import Engine
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, chunk, parse_callback, user_locale

COMMAND = "import_arrivals"


class ArrivalImportDesk:
    def __init__(self, services: Services, engine: Engine, access: Access) -> None:
        self.s = services
        self.access = access
        self.flow = ArrivalImportFlow(services, engine)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler(COMMAND, self.cmd_import, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_button, pattern=callback_pattern(service.FLOW)),
        ]

    async def cmd_import(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """With a unit id: that unit's import. Without: the one unit the sender may import
        for, or the list of them to choose from."""
        actor = await self.access.actor(update.effective_user)
        if context.args:
            await self._for_unit(update, context.args[0])
            return
        rows = await service.importable(self.s, actor)
        if not rows:
            await self.access.refuse(update, actor, service.PERMISSION)
            return
        if len(rows) == 1:
            await self._open(update, rows[0])
            return
        locale = await user_locale(self.s, update.effective_user)
        buttons = [service.open_button(self.s, locale, row) for row in rows]
        await self.s.replies.send(update.effective_chat.id,
                                  self.s.text(locale, service.MODULE, "choose_unit"),
                                  reply_markup=inline_markup(chunk(buttons, 2)))  # fmt: skip

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, service.FLOW)
        if not parts or len(parts) != 2 or parts[0] not in (service.OPEN, service.TEMPLATE):
            await query.answer()
            return
        action, unit_id = parts
        row = await self._allowed(update, unit_id)
        if row is None:
            return
        await query.answer()
        if action == service.OPEN:
            await self._open(update, row)
            return
        locale = await user_locale(self.s, update.effective_user)
        await service.send_template(self.s, update.effective_user.id,
                                    update.effective_user.id, locale, unit_id)  # fmt: skip

    async def _for_unit(self, update: Update, unit_id: str) -> None:
        row = await self._allowed(update, unit_id)
        if row is not None:
            await self._open(update, row)

    async def _allowed(self, update: Update, unit_id: str) -> Any:
        """The unit's row when the sender may import for it; else refused and audited (the
        same whether or not the unit exists)."""
        actor = await self.access.actor(update.effective_user)
        row = await units.unit(self.s, unit_id)
        if service.may_import(self.s, actor, row):
            return row
        await self.access.refuse(update, actor, service.PERMISSION, unit_rules.subject(unit_id))
        return None

    async def _open(self, update: Update, row: Any) -> None:
        await self.flow.start(update, FILE, {"unit_id": row["id"], "unit_name": row["name"]})
