"""Door-to-door screening (入户排查): ``/visit`` opens the visit flow (bot/flows/visits.py),
``/visits [days]`` shows the coverage of the grids in scope, and the saved visit's button
registers an arrival found at the door: the arrival report, prefilled with the household and
linked to the visit."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import visits
from bot.domain import roles
from bot.flows.arrivals import ArrivalFlow
from bot.flows.visits import REGISTER, VisitFlow
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale

DEFAULT_DAYS = 7
MAX_DAYS = 90


class VisitCommands:
    def __init__(
        self, services: Services, access: Access, flow: VisitFlow, arrival: ArrivalFlow
    ) -> None:
        self.s = services
        self.access = access
        self.flow = flow
        self.arrival = arrival

    def handlers(self) -> list[BaseHandler]:
        private = filters.ChatType.PRIVATE
        return [
            CommandHandler("visit", self.cmd_visit, filters=private),
            CommandHandler("visits", self.cmd_visits, filters=private),
            CallbackQueryHandler(self.on_register, pattern=callback_pattern(REGISTER)),
        ]

    async def cmd_visit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.flow.begin(update)

    async def on_register(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Register an arrival found at the door: the arrival report, prefilled, linked."""
        parts = parse_callback(update.callback_query.data, REGISTER) or []
        actor = await self.access.actor(update.effective_user)
        visit = None
        if len(parts) == 1 and parts[0].isascii() and parts[0].isdigit():
            visit = await visits.get(self.s, int(parts[0]))
        if (
            visit is None
            or visit.worker != actor.user_id
            or not roles.can_visit(actor, visit.grid_id, self.access.village_of)
        ):
            await self.access.refuse(
                update, actor, "visit.register", f"visit:{parts[0]}" if parts else None
            )
            return
        await update.callback_query.answer()
        await self.arrival.begin(
            update,
            {
                "village": self.access.village_of(visit.grid_id),
                "grid": visit.grid_id,
                "prefilled_village": True,
                "prefilled_grid": True,
                "address": visit.address,
                "prefilled_address": True,
                "visit_id": visit.id,
            },
        )

    async def cmd_visits(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.access.actor(update.effective_user)
        grids = roles.visible_grids(actor, self.access.grids_of, self.access.all_grids)
        if not grids:
            await self.access.refuse(update, actor, "visits")
            return
        locale = await user_locale(self.s, update.effective_user)
        arg = context.args[0] if context.args else ""
        days = (
            int(arg)
            if arg.isascii() and arg.isdigit() and 1 <= int(arg) <= MAX_DAYS
            else DEFAULT_DAYS
        )
        coverage = await visits.coverage(self.s, actor, grids, days)
        await update.effective_chat.send_message(
            self.s.text(
                locale,
                "visits",
                "coverage",
                days=days,
                rows=coverage.rows,
                total=coverage.total,
                bad_arg=bool(arg) and days != (int(arg) if arg.isascii() and arg.isdigit() else -1),
            ),
            parse_mode=ParseMode.HTML,
        )
