"""The acknowledge button of escalations (``v1:ack:<subject>``, bot.runtime.escalation): who may
press it, and the answer. Telegram I/O only; the transaction: ``escalation.acknowledge``.
A case (its ladder's kind) is acknowledged by bot.actions.cases: the same climb stopped, plus
the case's note to the group and its own answers."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes

from bot.actions import cases
from bot.domain.escalation import CASE
from bot.domain.roles import can_acknowledge
from bot.runtime import escalation
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale


def display_name(update: Update) -> str:
    user = update.effective_user
    return (user.full_name or user.username or str(user.id)) if user else ""


class AckDesk:
    def __init__(self, services: Services, access: Access) -> None:
        self.s = services
        self.access = access

    def handlers(self) -> list[BaseHandler]:
        return [CallbackQueryHandler(self.on_ack, pattern=callback_pattern(escalation.FLOW))]

    async def on_ack(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        subject = ":".join(parse_callback(query.data, escalation.FLOW) or [])
        actor = await self.access.actor(update.effective_user)
        locale = await user_locale(self.s, update.effective_user)
        item = await escalation.item(self.s, subject) if subject else None
        if item is not None and item.kind == CASE and actor.is_leader:
            outcome = await cases.acknowledge(self.s, int(subject.split(":")[1]), actor.user_id,
                                              display_name(update))  # fmt: skip
            await query.answer(self.s.text(locale, "cases", f"ack_{outcome}"),
                               show_alert=outcome == "done")  # fmt: skip
            return
        if item is None or item.kind == CASE or not can_acknowledge(
                actor, item.reached, item.grid_id, item.village_id,
                self.access.village_of, escalation.assignee(item)):  # fmt: skip
            await self.access.refuse(update, actor, "escalation.ack", subject or None)
            return
        outcome, _ = await escalation.acknowledge(self.s, subject, actor.user_id,
                                                       display_name(update))  # fmt: skip
        params = {}
        if outcome == "again":
            first = await escalation.first_ack(self.s, subject)
            params = {"name": first[0] if first else "",
                      "at": escalation.local(self.s, first[1]) if first else None}  # fmt: skip
        await query.answer(self.s.text(locale, "escalation", f"ack_{outcome}", **params),
                           show_alert=outcome == "done")  # fmt: skip
