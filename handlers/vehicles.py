"""/vehicles: the transfer vehicles and their states, for dispatchers, leaders and admins; an
admin's buttons take a vehicle out of service (停用) or back on standby. Telegram I/O only."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import vehicles as service
from bot.domain.callbacks import button, callback
from bot.domain.masking import Audience
from bot.domain.roles import Actor, can_dispatch
from bot.flows.engine import Engine
from bot.flows.vehicles import VehicleFlow
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale

ADD = "new"  # v1:vh:new: an admin adds a vehicle (the flow)


def may_view(actor: Actor) -> bool:
    return can_dispatch(actor) or actor.is_leader


class VehicleDesk:
    def __init__(self, services: Services, engine: Engine, access: Access) -> None:
        self.s = services
        self.access = access
        self.flow = VehicleFlow(services, engine)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("vehicles", self.cmd_vehicles, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_state, pattern=callback_pattern(service.FLOW)),
        ]

    async def cmd_vehicles(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.access.actor(update.effective_user)
        if not may_view(actor):
            await self.access.refuse(update, actor, "vehicle.list")
            return
        await self._send(update, actor)

    async def _send(self, update: Update, actor: Actor) -> None:
        locale = await user_locale(self.s, update.effective_user)
        vehicles = await service.listing(self.s, actor.user_id)
        markup = service.admin_markup(self.s, locale, vehicles) if actor.is_admin else None
        if markup is not None:
            markup["inline_keyboard"].append([button(self.s.text(locale, "vehicles", "btn_add"),
                                                     callback(service.FLOW, ADD))])  # fmt: skip
        text = self.s.text(locale, "vehicles", "listing", Audience.ENTITLED, vehicles=vehicles)
        await self.s.replies.send(update.effective_chat.id, text, reply_markup=markup)

    async def _add(self, update: Update, actor: Actor) -> None:
        if not actor.is_admin:
            await self.access.refuse(update, actor, "vehicle.add")
            return
        await update.callback_query.answer()
        await self.flow.start(update, self.flow.first_step, {})

    async def on_state(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An admin's 停用 / 恢复待命; the list again as it now reads."""
        query = update.callback_query
        parts = parse_callback(query.data, service.FLOW) or []
        actor = await self.access.actor(update.effective_user)
        if parts == [ADD]:
            await self._add(update, actor)
            return
        if len(parts) != 2 or not actor.is_admin:
            await self.access.refuse(update, actor, "vehicle.state",
                                     service.subject(parts[0]) if parts else None)  # fmt: skip
            return
        locale = await user_locale(self.s, update.effective_user)
        done = await service.set_state(self.s, parts[0], parts[1], actor.user_id)
        await query.answer(self.s.text(locale, "vehicles", "state_done" if done else "state_again"))
        if done:
            await self._send(update, actor)
