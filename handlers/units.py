"""/units and the units' buttons (``v1:un:<what>:<unit id>``), in a private chat: leaders and
admins list every key unit and venue, village admins their villages', grid workers their
grids', twenty a page (``v1:un:p:<page>``); a liaison gets their own unit's card. Leaders
put a unit under key monitoring (重点监测) or take it off. Every decision: bot.domain.roles;
anyone else — a liaison opening another unit's card — is refused and audited."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import arrival_import
from bot.actions import units as service
from bot.domain import roles
from bot.domain import units as rules
from bot.domain.roles import Actor
from bot.flows.arrivals import QR, REGISTER, unit_button
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback, callback_pattern, keyboard, parse_callback, user_locale

FLOW = rules.FLOW
PAGE = "p"  # v1:un:p:<page>: another page of the list
BUTTONS = frozenset({"o", "m", "u", PAGE})  # open the card, mark 重点监测, unmark it, a page


class UnitDesk:
    def __init__(self, services: Services, access: Access) -> None:
        self.s = services
        self.access = access

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("units", self.cmd_units, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_button, pattern=callback_pattern(FLOW)),
        ]

    async def cmd_units(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.access.actor(update.effective_user)
        if not roles.can_list_units(actor):
            await self.access.refuse(update, actor, "units")
            return
        locale = await user_locale(self.s, update.effective_user)
        listed = await service.visible(self.s, actor)
        if not (listed and self._lists(actor)):  # a liaison: their own unit's card at once
            for unit in listed:
                await self._send_card(update, context, actor, locale, unit)
            if not listed:
                await update.effective_chat.send_message(self.s.text(locale, "units", "nothing"))
            return
        text, markup = self._overview(locale, listed, 0)
        await update.effective_chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=markup
        )

    def _overview(
        self, locale: str, listed: list[dict[str, Any]], requested: int
    ) -> tuple[str, InlineKeyboardMarkup]:
        """One page of the list: its units' lines and buttons, and the buttons to turn it."""
        page, pages = rules.page_of(len(listed), requested)
        shown = listed[page * rules.PAGE_SIZE : (page + 1) * rules.PAGE_SIZE]
        rows = [[(self.s.text(locale, "units", "btn_open", u=u), callback(FLOW, "o", u["id"]))]
                for u in shown]  # fmt: skip
        turns = [(self.s.text(locale, "units", name), callback(FLOW, PAGE, str(to)))
                 for name, to in (("btn_prev", page - 1), ("btn_next", page + 1))
                 if 0 <= to < pages]  # fmt: skip
        text = self.s.text(
            locale, "units", "overview", units=shown, total=len(listed),
            monitored=sum(u["monitored"] for u in listed), page=page, pages=pages,
        )  # fmt: skip
        return text, keyboard([*rows, turns] if turns else rows)

    async def _turn_page(self, update: Update, actor: Actor, page: str) -> None:
        """Another page of the list, in place of the one shown; for those who get the list."""
        if not (page.isascii() and page.isdigit() and self._lists(actor)):
            await self.access.refuse(update, actor, "units")
            return
        query = update.callback_query
        await query.answer()
        locale = await user_locale(self.s, update.effective_user)
        listed = await service.visible(self.s, actor)
        text, markup = (self._overview(locale, listed, int(page)) if listed
                        else (self.s.text(locale, "units", "nothing"), None))  # fmt: skip
        try:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        except BadRequest as exc:
            if "not modified" in exc.message:  # the page shown already (a double tap)
                return
            # the list's message is gone or may no longer be edited: the page as a new one
            await update.effective_chat.send_message(
                text, parse_mode=ParseMode.HTML, reply_markup=markup
            )

    @staticmethod
    def _lists(actor: Actor) -> bool:
        """Those who answer for several units get the list; a liaison only their own."""
        return actor.is_admin or actor.is_leader or bool(actor.admin_villages or actor.worker_grids)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        parts = parse_callback(update.callback_query.data, FLOW) or []
        actor = await self.access.actor(update.effective_user)
        what, unit_id = [*parts, "", ""][:2]
        what = what if what in BUTTONS and len(parts) == 2 else "?"  # audited: never made up
        if what == PAGE:
            await self._turn_page(update, actor, unit_id)
            return
        row = await service.unit(self.s, unit_id)
        if row is None or not row["active"] or not self._may(actor, what, row):
            # the same refusal whether or not the unit exists
            await self.access.refuse(update, actor, f"unit.{what}", rules.subject(unit_id))
            return
        await update.callback_query.answer()
        locale = await user_locale(self.s, update.effective_user)
        if what == "o":
            unit = await service.unit_card(self.s, actor, row)
            await self._send_card(update, context, actor, locale, unit)
            return
        done = await service.set_monitored(self.s, unit_id, what == "m", actor.user_id)
        await update.effective_chat.send_message(
            self.s.text(locale, "units", "monitor_outcome", result=done.result, u=done.unit),
            parse_mode=ParseMode.HTML,
        )
        if done.result == "done":
            await self._send_card(update, context, actor, locale, done.unit)

    def _may(self, actor: Actor, what: str, row: Any) -> bool:
        if what == "o":
            return service.may_view(self.s, actor, row)
        return what in ("m", "u") and roles.can_mark_monitored(actor)

    async def _send_card(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        actor: Actor,
        locale: str,
        unit: dict[str, Any],
    ) -> None:
        """The unit's card with what this person may do to it — register its people (its
        liaison), get its QR code (anyone who sees the card: handlers/arrivals.py),
        mark 重点监测 (leaders) —, and the registration deep link for those who put up its
        QR code (leaders, admins, the village's admins)."""
        rows = []
        if roles.can_liaise(actor, unit["id"]):
            label = self.s.text(locale, "arrivals", "btn_unit_register")
            rows.append([(label, unit_button(REGISTER, unit["id"]))])
        # whoever may see the card may import the unit's list (arrival_import.may_import)
        label = self.s.text(locale, arrival_import.MODULE, "btn_menu")
        rows.append([(label, callback(arrival_import.FLOW, arrival_import.OPEN, unit["id"]))])
        # every unit's QR code: a venue's guests, another unit's people scan it to register
        label = self.s.text(locale, "arrivals", "btn_unit_qr", venue=unit["venue"])
        rows.append([(label, unit_button(QR, unit["id"]))])
        if roles.can_mark_monitored(actor):
            what, label = ("u", "btn_unmark") if unit["monitored"] else ("m", "btn_mark")
            rows.append([(self.s.text(locale, "units", label), callback(FLOW, what, unit["id"]))])
        shows_link = actor.is_admin or actor.is_leader or bool(actor.admin_villages)
        link = rules.venue_link(context.bot.username, unit["id"]) if shows_link else ""
        await update.effective_chat.send_message(
            self.s.text(locale, "units", "card", u=unit, link=link),
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(rows) if rows else None,
        )
