"""The daily unit report's card buttons (``v1:ur:<f|z>:<report id>``: 填报, 零报告) and
/unitreport (a liaison's reports still due, each with its card again), in a private chat.
Whoever may not file for the report's unit (a liaison of another unit) is refused, audited."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import unit_reports as service
from bot.domain import unit_reports as domain
from bot.domain.units import subject as unit_subject
from bot.flows.engine import Engine
from bot.flows.unit_reports import UnitReportFlow
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale

FLOW = service.FLOW


class UnitReportDesk:
    def __init__(self, services: Services, engine: Engine, access: Access) -> None:
        self.s = services
        self.access = access
        self.flow = UnitReportFlow(services, engine)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("unitreport", self.cmd_unitreport, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_button, pattern=callback_pattern(FLOW)),
        ]

    async def cmd_unitreport(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The liaison's reports still due, each card again (a card lost in the chat)."""
        actor = await self.access.actor(update.effective_user)
        if not actor.unit_ids:
            await self.access.refuse(update, actor, "unit.report")
            return
        locale = await user_locale(self.s, update.effective_user)
        due = await service.due_for(self.s, actor)
        chat = update.effective_chat
        if not due:
            await chat.send_message(self.s.text(locale, "unit_reports", "none_due"))
            return
        for row in due:
            text = self.s.text(locale, "unit_reports", "card", u={"name": row["unit_name"]},
                               day=service.shown(row)["day_date"], slot=row["slot"],
                               deadline=service.deadline_of(self.s, row))  # fmt: skip
            markup = service.card_markup(self.s, locale, row["id"])
            await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, FLOW) or []
        actor = await self.access.actor(update.effective_user)
        what, number = [*parts, "", ""][:2]
        report = None
        if len(parts) == 2 and what in (service.FILL, service.ZERO) and number.isdigit():
            report = await service.report(self.s, int(number))
        if report is None or not service.may_file(actor, report):
            unit = report["unit_id"] if report is not None else None
            await self.access.refuse(update, actor, "unit.report", unit and unit_subject(unit))
            return
        await query.answer()
        if what == service.FILL and (report["state"] == "due"
                                     or service.correctable(self.s, report)):  # fmt: skip
            await self.flow.open(update, report)
            return
        if what == service.FILL:  # filed on an earlier day: said so, nothing opened
            outcome: service.Filed | service.Refused = service.Filed(report, already=True)
        else:
            outcome = await service.file(self.s, actor, report["id"], domain.ZERO)
        if isinstance(outcome, service.Refused):  # the role lost a moment ago
            await self.access.refuse(update, actor, "unit.report", unit_subject(report["unit_id"]))
            return
        locale = await user_locale(self.s, update.effective_user)
        text = service.filed_text(self.s, locale, outcome, zero=what == service.ZERO)
        await update.effective_chat.send_message(text, parse_mode=ParseMode.HTML)
