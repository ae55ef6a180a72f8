"""Neighbour tips (邻里监督提供线索): ``/tip`` for anyone, and the checking of a tip by the
grid's staff (the card's buttons, a note or a registration number asked in private, the
tips section of ``/tasks``). Telegram I/O only: the steps are in ``bot.domain.tips``, the
transactions in ``bot.actions.tips``. Staff messages are rendered from ``TipView`` (no tipster)."""

from __future__ import annotations

from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import arrivals, inbox
from bot.actions import tips as service
from bot.domain.masking import Audience
from bot.domain.roles import Actor, can_see_grid, inbox_grids
from bot.domain.tips import TipView
from bot.flows.tips import TipCheckFlow, TipFlow, allowed, done_message
from bot.runtime.services import Services
from handlers.access import Access
from handlers.arrivals import ArrivalFlow
from handlers.common import callback, callback_pattern, keyboard, parse_callback, user_locale
from handlers.router import Router


def _markup(data: dict[str, Any] | None) -> InlineKeyboardMarkup | None:
    return InlineKeyboardMarkup.de_json(data, None) if data else None


async def _show(services: Services, update: Update, text: str, markup: dict[str, Any] | None,
                offers: dict[str, list[str]]) -> None:  # fmt: skip
    """Send a tip card, list or choice; one with buttons is recorded, so that taking,
    escalating or closing its tips takes their buttons off it (bot.runtime.cards)."""
    sent = await update.effective_chat.send_message(text, parse_mode=ParseMode.HTML,
                                                    reply_markup=_markup(markup))  # fmt: skip
    if markup and offers:
        await inbox.shown(services, sent.chat_id, sent.message_id, text, markup, offers)


class TipCommands:
    """/tip opens the tip flow (bot/flows/tips.py)."""

    def __init__(self, flow: TipFlow) -> None:
        self.flow = flow

    def handlers(self) -> list[BaseHandler]:
        return [CommandHandler("tip", self.cmd_tip, filters=filters.ChatType.PRIVATE)]

    async def cmd_tip(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.flow.begin(update, None)


class TipDesk:
    """The buttons of a tip card (``v1:tp:<action>:<tip id>``) and the tips in ``/tasks``."""

    ACTIONS = ("o", "c", "y", "u", "n", "e", "h", "lr", "l", "r")

    def __init__(self, services: Services, router: Router, access: Access,
                 arrival: ArrivalFlow) -> None:  # fmt: skip
        self.s = services
        self.access = access
        self.arrival = arrival
        self.check = TipCheckFlow(services, router.engine)

    def handlers(self) -> list[BaseHandler]:
        return [
            CallbackQueryHandler(self.on_action, pattern=callback_pattern(service.FLOW)),
        ]

    async def tasks_section(self, update: Update, actor: Actor, locale: str) -> None:
        """Appended to /tasks: the open tips in the actor's scope, most urgent first (nothing
        when there are none)."""
        grids = inbox_grids(actor, self.access.grids_of, self.access.all_grids)
        villages = ([v.id for v in self.s.config.villages] if actor.is_admin
                    else sorted(actor.admin_villages))  # fmt: skip
        found = await service.open_in(self.s, grids, villages)
        if not found:
            return
        now = self.s.now()
        items = [service.card_params(self.s, t, None) for t in found]
        opens = {t.id: callback(service.FLOW, "o", str(t.id)) for t in found}
        buttons = [[(self.s.text(locale, "tips", "btn_open", now=now, **item), opens[t.id])]
                   for t, item in zip(found, items, strict=True)]  # fmt: skip
        offers = {service.subject(tip_id): [data] for tip_id, data in opens.items()}
        await _show(self.s, update, self.s.text(locale, "tips", "tasks", items=items, now=now),
                    keyboard(buttons).to_dict(), offers)  # fmt: skip

    async def on_action(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, service.FLOW) or []
        actor = await self.access.actor(update.effective_user)
        tip = None
        if len(parts) in (2, 3) and parts[0] in self.ACTIONS and parts[1].isdigit():
            tip = await service.view(self.s, int(parts[1]))
        what = f"tip.{parts[0] if parts else '?'}"
        subject = service.subject(int(parts[1])) if len(parts) > 1 and parts[1].isdigit() else None
        if tip is None or not allowed(self.access, actor, tip):
            await self.access.refuse(update, actor, what, subject)
            return
        await query.answer()
        locale = await user_locale(self.s, update.effective_user)
        action = parts[0]
        if action == "o":
            await self.card(update, actor, locale, tip)
            return
        if tip.state == "closed":
            await done_message(self.s, update, locale, tip, None)
            return
        if action == "c":
            await self._take(update, actor, locale, tip)
        elif action == "y":
            await self._confirm_options(update, locale, tip)
        elif action in ("u", "n", "e", "h"):
            outcome = {"u": "unfounded", "n": "not_found", "e": "escalated", "h": "handled"}[action]
            if outcome == "escalated" and tip.escalated_at is not None:
                await update.effective_chat.send_message(
                    self.s.text(locale, "tips", "already_escalated", ref=tip.ref)
                )
                return
            await self.check.start(update, "note", {"tip_id": tip.id, "ref": tip.ref,
                                                    "outcome": outcome})  # fmt: skip
        elif action == "lr":
            await self.check.start(update, "ref", {"tip_id": tip.id, "ref": tip.ref,
                                                   "outcome": "linked"})  # fmt: skip
        elif action == "l" and len(parts) == 3 and parts[2].isdigit():
            await self._link(update, actor, locale, tip, int(parts[2]))
        elif action == "r":
            await self._register(update, tip)

    async def card(self, update: Update, actor: Actor, locale: str, tip: TipView) -> None:
        """The full card (a private chat of staff in scope), with the registrations it may
        match now; the viewing is audited."""
        matches = await service.open_card(self.s, actor.user_id, tip)
        chat = update.effective_chat
        if tip.photo_file_id:
            await chat.send_photo(tip.photo_file_id)
        params = service.card_params(self.s, tip, matches)
        markup = service.card_markup(self.s, locale, tip)
        text = self.s.text(locale, "tips", "card", Audience.ENTITLED, head="card", **params)
        await _show(self.s, update, text, markup, service.offers(tip.id, markup))

    async def _take(self, update: Update, actor: Actor, locale: str, tip: TipView) -> None:
        """Taken: every card of the tip loses its "start" button (bot.actions.tips)."""
        done = await service.start_checking(self.s, tip.id, actor.user_id)
        name = "taken" if done else "already_taken"
        await update.effective_chat.send_message(self.s.text(locale, "tips", name, ref=tip.ref))

    async def _confirm_options(self, update: Update, locale: str, tip: TipView) -> None:
        matches = await service.matches(self.s, tip)
        markup = service.confirm_markup(self.s, locale, tip, matches)
        await _show(self.s, update,
                    self.s.text(locale, "tips", "confirm_how", ref=tip.ref, matches=matches,
                                in_grid=bool(tip.grid_id)),
                    markup, service.offers(tip.id, markup))  # fmt: skip

    async def _link(self, update: Update, actor: Actor, locale: str, tip: TipView,
                    report_id: int) -> None:  # fmt: skip
        row = await arrivals.report(self.s, report_id)
        if row is None or not can_see_grid(actor, row["grid_id"], self.access.village_of):
            await self.access.refuse(update, actor, "tip.link", f"report:{report_id}")
            return
        done = await service.close(self.s, tip.id, "confirmed", actor.user_id,
                                   report_id=row["id"], how="linked")  # fmt: skip
        await done_message(self.s, update, locale, tip, "linked" if done else None, row["ref"])

    async def _register(self, update: Update, tip: TipView) -> None:
        """Register the person on the spot: the arrival report, prefilled with the place; its
        submission closes the tip as confirmed (bot.actions.arrivals)."""
        prefill: dict[str, Any] = {"village": tip.village_id, "prefilled_village": True,
                                   "tip_id": tip.id}  # fmt: skip
        if tip.grid_id:
            prefill.update(grid=tip.grid_id, prefilled_grid=True)
        if tip.address:
            prefill["address"] = tip.address
        await self.arrival.begin(update, prefill)
