"""/isolate (assign a person to an isolation site and room, bot/flows/isolation.py), /isolation
(occupancy per site, people per day of isolation, tests due today) and the buttons of a stay:
"入住" on the site manager's card, "申请转运" on the assigner's receipt. Telegram I/O only;
the rules are bot.domain.isolation's, the transactions bot.actions.isolation's."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import isolation as service
from bot.domain import isolation as domain
from bot.domain.roles import Actor, can_isolate, can_manage_site, can_view_sites
from bot.flows.cases import display_name
from bot.flows.isolation import AssignFlow
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale
from handlers.router import Router


class IsolationDesk:
    def __init__(self, services: Services, router: Router, access: Access) -> None:
        self.s = services
        self.access = access
        self.flow = AssignFlow(services, router.engine)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("isolate", self.cmd_isolate, filters=filters.ChatType.PRIVATE),
            CommandHandler("isolation", self.cmd_isolation),
            CallbackQueryHandler(self.on_button, pattern=callback_pattern(domain.FLOW)),
        ]

    async def cmd_isolate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.flow.start(update, self.flow.first_step, {})

    async def cmd_isolation(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Leaders and admins see every site; a site manager their own. Figures only, no
        person: the same in the leadership group and in private."""
        actor = await self.access.actor(update.effective_user)
        if not can_view_sites(actor):
            await self.access.refuse(update, actor, "isolation.view")
            return
        town_wide = actor.is_admin or actor.is_leader
        seen = await service.overview(self.s, None if town_wide else actor.site_ids)
        locale = await user_locale(self.s, update.effective_user)
        await self.s.replies.send(
            update.effective_chat.id,
            self.s.text(locale, "isolation", "overview", o=seen, today=self.s.local_today()),
        )

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, domain.FLOW) or []
        if len(parts) == 2 and parts[0] == service.ASSIGN:  # 安排隔离 on a person's card
            await self._assign(update, parts[1])
            return
        if len(parts) != 2 or not parts[0].isdigit() or parts[1] not in ("in", "tr"):
            await query.answer()
            return
        stay_id, action = int(parts[0]), parts[1]
        actor = await self.access.actor(update.effective_user)
        stay = await service.stay(self.s, stay_id)
        if action == "in":
            await self._arrive(update, actor, stay, stay_id)
        else:
            await self._transfer(update, actor, stay, stay_id)

    async def _assign(self, update: Update, ref: str) -> None:
        """The assignment conversation, the person already named by the card's button."""
        refused = await self.flow.start_for(update, ref)
        locale = await user_locale(self.s, update.effective_user)
        text = self.flow.reason(locale, refused) if refused else None
        await update.callback_query.answer(text, show_alert=bool(text))

    async def _arrive(self, update: Update, actor: Actor, stay: Any, stay_id: int) -> None:
        """入住: a manager of the stay's site only; anyone else is refused and audited (the
        same refusal whether or not the stay exists)."""
        if stay is None or not can_manage_site(actor, stay["site_id"]):
            await self.access.refuse(update, actor, "stay.arrive", domain.subject(stay_id))
            return
        done = await service.arrive(self.s, stay_id, actor.user_id, display_name(update))
        locale = await user_locale(self.s, update.effective_user)
        name = "arrived" if done else "arrived_again"
        await update.callback_query.answer(
            self.s.text(locale, "isolation", name, room=stay["room"]), show_alert=done
        )

    async def _transfer(self, update: Update, actor: Actor, stay: Any, stay_id: int) -> None:
        """申请转运: the person's grid staff, leaders and admins ask for a vehicle."""
        if stay is None or not can_isolate(actor, stay["grid_id"], self.access.village_of):
            await self.access.refuse(update, actor, "stay.transfer", domain.subject(stay_id))
            return
        ref = await service.request_transfer(self.s, stay_id, actor.user_id)
        locale = await user_locale(self.s, update.effective_user)
        name = "transfer_asked" if ref else "transfer_again"
        await update.callback_query.answer(
            self.s.text(locale, "isolation", name, ref=ref or ""), show_alert=True
        )
