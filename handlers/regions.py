"""/regions (the key-region list, in a private chat: bot/flows/regions.py) and the buttons of a
proposed downgrade (confirm / keep), for the staff of the person's grid."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import regions as service
from bot.domain.roles import can_verify
from bot.flows.engine import Engine
from bot.flows.regions import RegionsFlow
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale


class RegionCommands:
    def __init__(self, services: Services, engine: Engine, access: Access) -> None:
        self.s = services
        self.access = access
        self.flow = RegionsFlow(services, engine)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("regions", self.cmd_regions, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_proposal, pattern=callback_pattern(service.PROPOSAL)),
        ]

    async def cmd_regions(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.flow.start(update, self.flow.first_step, {})

    async def on_proposal(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, service.PROPOSAL)
        if not parts or len(parts) != 2 or not parts[0].isdigit() or parts[1] not in ("c", "k"):
            await query.answer()
            return
        found = await service.proposal(self.s, int(parts[0]))
        actor = await self.access.actor(update.effective_user)
        if found is None or not can_verify(actor, found["grid_id"], self.access.village_of):
            await self.access.refuse(update, actor, "regions.downgrade", f"proposal:{parts[0]}")
            return
        outcome = await service.decide(self.s, found["id"], actor.user_id, parts[1] == "c")
        locale = await user_locale(self.s, update.effective_user)
        # The card's buttons come off every worker's copy through the outbox (cards.retire).
        await query.answer(self.s.text(locale, "regions", "decided", outcome=outcome),
                           show_alert=True)  # fmt: skip
