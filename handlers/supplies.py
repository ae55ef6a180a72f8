"""/supplies (物资) and its buttons: a place's stock, 入库 / 出库 / 盘点, a village's 申请, the
town store keeper's 待处理申请 with 批准发放 / 拒绝 (then the reason, asked in private).
Telegram I/O only: the transactions are bot.actions.supplies, who keeps what
bot.domain.supplies; a keeper of another place is refused and audited."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import supplies as service
from bot.domain import supplies as domain
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.roles import Actor
from bot.flows.engine import Engine, plain
from bot.flows.supplies import MoveFlow, RefuseFlow, RequestFlow
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale

PLACE, ASK, REQUESTS = "p", "q", "l"  # v1:wz:<what>:<place code>


class SupplyDesk:
    def __init__(self, services: Services, engine: Engine, access: Access) -> None:
        self.s = services
        self.access = access
        self.moves = MoveFlow(services, engine)
        self.requests = RequestFlow(services, engine)
        self.refusal = RefuseFlow(services, engine)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("supplies", self.cmd_supplies, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_button, pattern=callback_pattern(service.FLOW)),
        ]

    def t(self, locale: str, name: str, /, **params: Any) -> str:
        return self.s.text(locale, "supplies", name, **params)

    async def cmd_supplies(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The stock of the places the person keeps (leaders and admins: every place, those
        with items under their minimum first); one place's buttons, or a button a place."""
        actor = await self.access.actor(update.effective_user)
        kept = domain.kept_places(actor, service.town_keepers(self.s),
                                  await service.places(self.s.db, self.s))  # fmt: skip
        if not kept:
            await self.access.refuse(update, actor, "supply.list")
            return
        await self._show(update, actor, kept)

    async def _show(self, update: Update, actor: Actor, shown: list[str]) -> None:
        locale = await user_locale(self.s, update.effective_user)
        listing = await service.listing(self.s, shown, locale, actor.user_id)
        if len(shown) == 1:
            rows = self._place_buttons(locale, actor, shown[0])
        else:
            # a label is plain text: a place's name rendered for HTML would show its entities
            rows = [[button(plain(self.t(locale, "btn_place", p=p)),
                            callback(service.FLOW, PLACE, p["code"]))]
                    for p in listing]  # fmt: skip
        if service.may_keep(self.s, actor, domain.TOWN):
            rows.append([button(self.t(locale, "btn_requests"),
                                callback(service.FLOW, REQUESTS, domain.TOWN))])  # fmt: skip
        await self.s.replies.send(update.effective_chat.id,
                                  self.t(locale, "listing", places=listing),
                                  reply_markup=inline_markup(rows))  # fmt: skip

    def _place_buttons(self, locale: str, actor: Actor, place: str) -> list[list[dict]]:
        code = domain.code(place)
        ops = [button(self.t(locale, f"btn_{kind}"), callback(service.FLOW, op, code))
               for op, kind in domain.OPS.items()]  # fmt: skip
        rows = [ops]
        if service.may_request(self.s, actor, place):
            rows.append([button(self.t(locale, "btn_request"), callback(service.FLOW, ASK, code))])
        return rows

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        parts = parse_callback(update.callback_query.data, service.FLOW) or []
        actor = await self.access.actor(update.effective_user)
        what, arg = parts if len(parts) == 2 else ("", "")
        if what in (service.ISSUE_REQUEST, service.REFUSE_REQUEST):
            await self._decide(update, actor, what, arg)
            return
        place = domain.from_code(arg)
        allowed = (service.may_request(self.s, actor, place) if what == ASK
                   else place == domain.TOWN and service.may_keep(self.s, actor, place)
                   if what == REQUESTS  # every village's requests: the town store's keepers only
                   else service.may_keep(self.s, actor, place))  # fmt: skip
        known = place in await service.places(self.s.db, self.s)  # a forged or closed place
        if not (allowed and known and what in (PLACE, ASK, REQUESTS, *domain.OPS)):
            await self.access.refuse(update, actor, f"supply.{what or 'button'}",
                                     service.subject(place) if arg else None)  # fmt: skip
            return
        await update.callback_query.answer()
        locale = await user_locale(self.s, update.effective_user)
        if what == PLACE:
            await self._show(update, actor, [place])
        elif what == REQUESTS:
            await self._open_requests(update, locale)
        elif what == ASK:
            await self.requests.begin(update, place, locale)
        else:
            await self.moves.begin(update, place, what, locale)

    async def _open_requests(self, update: Update, locale: str) -> None:
        """Each open request as its card again, with its buttons."""
        cards = await service.open_request_cards(self.s, locale)
        if not cards:
            await self.s.replies.send(update.effective_chat.id, self.t(locale, "no_requests"))
        for text, markup in cards:
            await self.s.replies.send(update.effective_chat.id, text, reply_markup=markup)

    async def _decide(self, update: Update, actor: Actor, what: str, arg: str) -> None:
        """批准发放 or 拒绝: the town store's keepers (and leaders, admins) only."""
        request = await service.find_request(self.s, int(arg)) if arg.isdigit() else None
        subject = service.request_subject(request["id"]) if request else None
        if request is None or not service.may_keep(self.s, actor, domain.TOWN):
            await self.access.refuse(update, actor, f"supply.request_{what}", subject)
            return
        query = update.callback_query
        locale = await user_locale(self.s, update.effective_user)
        if what == service.REFUSE_REQUEST:
            if request["state"] != "open":
                await query.answer(self.t(locale, "request_decided", ref=request["ref"]),
                                   show_alert=True)  # fmt: skip
            elif await self.refusal.ask_reason(update, request) == "asked":
                await query.answer()
            else:
                await query.answer(self.t(locale, "finish_other_first"), show_alert=True)
            return
        decision = await service.issue_request(self.s, request["id"], actor.user_id, locale)
        text = self.t(locale, f"issue_request_{decision.outcome}", ref=request["ref"],
                      short=decision.short)  # fmt: skip
        await query.answer(text, show_alert=decision.outcome != "done")
