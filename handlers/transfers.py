"""/transfers and the buttons of transfer cards: a dispatcher's vehicle (派车), the crew's
收到 / 已接到 / 已送达, 取消转运 (then the reason, asked in private). Telegram I/O only: the
transactions are bot.actions.transfers, who may press what bot.domain.roles."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import transfers as service
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.roles import Actor, can_crew, can_dispatch
from bot.flows.engine import Engine
from bot.flows.transfers import CancelFlow, display_name, may_cancel
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale

OPEN = "o"  # a /transfers entry's button: the dispatcher's card again


class TransferDesk:
    def __init__(self, services: Services, engine: Engine, access: Access) -> None:
        self.s = services
        self.access = access
        self.cancel = CancelFlow(services, engine)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("transfers", self.cmd_transfers, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_action, pattern=callback_pattern(service.FLOW)),
        ]

    def t(self, locale: str, name: str, /, **params: Any) -> str:
        return self.s.text(locale, "transfers", name, **params)

    async def cmd_transfers(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The open transfers, for dispatchers, leaders and admins; each opens its card."""
        actor = await self.access.actor(update.effective_user)
        if not (can_dispatch(actor) or actor.is_leader):
            await self.access.refuse(update, actor, "transfer.list")
            return
        locale = await user_locale(self.s, update.effective_user)
        items, more = await service.open_list(self.s, actor.user_id)
        rows = [[button(self.t(locale, "btn_open", ref=t["ref"]), callback(service.FLOW,
                                                                           str(t["id"]), OPEN))]
                for t in items] if can_dispatch(actor) else []  # fmt: skip
        await self.s.replies.send(update.effective_chat.id,
                                  self.t(locale, "open_list", items=items, more=more),
                                  reply_markup=inline_markup(rows) if rows else None)  # fmt: skip

    async def on_action(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, service.FLOW) or []
        actor = await self.access.actor(update.effective_user)
        transfer = await service.find(self.s, int(parts[0])) if parts[:1] and \
            parts[0].isdigit() else None  # fmt: skip
        action = parts[1] if len(parts) > 1 else ""
        what = f"transfer.{action}"
        subject = service.subject(transfer["id"]) if transfer else None
        if transfer is None:
            await self.access.refuse(update, actor, what, subject)
        elif action == service.DISPATCH and len(parts) == 3 and can_dispatch(actor):
            await self._dispatch(update, actor, transfer, parts[2])
        elif action == OPEN and can_dispatch(actor):
            await self._open(update, transfer)
        elif action in service.CREW_EVENTS and can_crew(actor, transfer["vehicle_id"] or ""):
            await self._crew(update, actor, transfer, action)
        elif action == service.CANCEL and may_cancel(actor, transfer):
            await self._cancel(update, transfer)
        else:  # a crew of another vehicle, a resident, a stale or forged button: audited
            await self.access.refuse(update, actor, what, subject)

    async def _dispatch(self, update: Update, actor: Actor, transfer: Any, vehicle: str) -> None:
        locale = await user_locale(self.s, update.effective_user)
        outcome = await service.dispatch(self.s, transfer["id"], vehicle, actor.user_id,
                                         display_name(update))  # fmt: skip
        fresh = await service.find(self.s, transfer["id"])
        text = (self.t(locale, f"dispatch_{outcome}", plate=fresh["plate"])
                if outcome in ("done", "no_crew")
                else self.t(locale, f"dispatch_{outcome}"))  # fmt: skip
        await update.callback_query.answer(text, show_alert=outcome != "done")

    async def _crew(self, update: Update, actor: Actor, transfer: Any, code: str) -> None:
        locale = await user_locale(self.s, update.effective_user)
        outcome = await service.crew_step(self.s, transfer["id"], code, actor.user_id,
                                          display_name(update))  # fmt: skip
        await update.callback_query.answer(self.t(locale, f"step_{outcome}"),
                                           show_alert=outcome != "done")  # fmt: skip

    async def _cancel(self, update: Update, transfer: Any) -> None:
        locale = await user_locale(self.s, update.effective_user)
        if await self.cancel.ask_reason(update, transfer) == "asked":
            await update.callback_query.answer()
            return
        await update.callback_query.answer(self.t(locale, "finish_other_first"),
                                           show_alert=True)  # fmt: skip

    async def _open(self, update: Update, transfer: Any) -> None:
        """The dispatcher's card again, as it reads now (viewed in full: audited)."""
        await update.callback_query.answer()
        locale = await user_locale(self.s, update.effective_user)
        text, markup = await service.dispatcher_view(self.s, transfer["id"], locale,
                                                     update.effective_user.id)  # fmt: skip
        await self.s.replies.send(update.effective_chat.id, text, reply_markup=markup)
