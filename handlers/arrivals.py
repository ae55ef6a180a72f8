"""/arrive: the arrival self-report (来镇/返镇人员自主申报), a flow of bot/flows/arrivals.py run
by the conversation runtime; its buttons and answers reach the flow through the router."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, filters

from bot.flows.arrivals import ArrivalFlow

__all__ = ["ArrivalCommands", "ArrivalFlow"]


class ArrivalCommands:
    def __init__(self, flow: ArrivalFlow) -> None:
        self.flow = flow

    def handlers(self) -> list[BaseHandler]:
        return [CommandHandler("arrive", self.cmd_arrive, filters=filters.ChatType.PRIVATE)]

    async def cmd_arrive(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.flow.begin(update, None)
