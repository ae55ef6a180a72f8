"""The contact buttons on a staff member's private case card: "添加密接" (the contact flow,
bot/flows/contacts.py), "密接名单" (the list, in private, in full) and "密接排查完毕" (the
list complete: the case's trace deadline stops). Telegram I/O only; the rules are in
bot.domain.contacts, the transactions in bot.actions.contacts."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes

from bot.actions import cases as case_service
from bot.actions import contact_import
from bot.actions import contacts as service
from bot.domain.callbacks import inline_markup
from bot.domain.contacts import CALLBACK
from bot.domain.roles import Actor, can_trace
from bot.flows.cases import display_name
from bot.flows.contacts import ContactFlow
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale
from handlers.router import Router

log = logging.getLogger(__name__)
ACTIONS = ("add", "list", "done")


class ContactCommands:
    def __init__(self, services: Services, router: Router, access: Access) -> None:
        self.s = services
        self.access = access
        self.flow = ContactFlow(services, router.engine)

    def handlers(self) -> list[BaseHandler]:
        return [CallbackQueryHandler(self.on_button, pattern=callback_pattern(CALLBACK))]

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """v1:mj:<case id>:<add | list | done>: only for those who answer for the case; anyone
        else is refused the same way whether or not the case exists, and audited."""
        query = update.callback_query
        parts = parse_callback(query.data, CALLBACK)
        if not parts or len(parts) != 2 or not parts[0].isdigit():
            await query.answer()
            return
        case_id, action = int(parts[0]), parts[1]
        loaded = await case_service.find(self.s, case_id)
        actor = await self.access.actor(update.effective_user)
        if loaded is None or action not in ACTIONS or not self._may(actor, loaded[0]):
            await self.access.refuse(update, actor, f"contact.{action}",
                                     case_service.subject(case_id))  # fmt: skip
            return
        case = loaded[0]
        if action == "add":
            await self._add(update, case)
        elif action == "list":
            await self._list(update, actor, case)
        else:
            await self._done(update, actor, case)

    def _may(self, actor: Actor, case: Any) -> bool:
        return can_trace(actor, case["grid_id"], self.access.village_of)

    async def _add(self, update: Update, case: Any) -> None:
        query = update.callback_query
        if case["state"] == "closed":  # ruled out: nobody is traced for it
            locale = await user_locale(self.s, update.effective_user)
            await query.answer(self.s.text(locale, "contacts", "case_closed", ref=case["ref"]),
                               show_alert=True)  # fmt: skip
            return
        await query.answer()
        await self.flow.start_for(update, case)

    async def _list(self, update: Update, actor: Actor, case: Any) -> None:
        """In the presser's private chat (the list holds phones and ID numbers); leaders get
        the CDC list's import under it."""
        await update.callback_query.answer()
        user = update.effective_user
        locale = await user_locale(self.s, user)
        parts = await service.listing(self.s, locale, case["id"], actor.user_id)
        markup = None
        if actor.is_leader or actor.is_admin:
            button = contact_import.import_button(self.s, locale, case["id"])
            markup = InlineKeyboardMarkup.de_json(inline_markup([[button]]), None)
        last = len(parts) - 1
        for i, text in enumerate(parts):
            await self.s.replies.send(user.id, text, reply_markup=markup if i == last else None)

    async def _done(self, update: Update, actor: Actor, case: Any) -> None:
        query = update.callback_query
        locale = await user_locale(self.s, update.effective_user)
        done = await service.complete(self.s, case["id"], actor.user_id, display_name(update))
        name = "done_ok" if done else "done_again"
        await query.answer(self.s.text(locale, "contacts", name, ref=case["ref"]),
                           show_alert=True)  # fmt: skip
        message = query.message
        if done and message is not None and message.chat.id != self.s.config.leadership.chat_id:
            fresh, ticks = await case_service.find(self.s, case["id"])
            markup = case_service.staff_markup(self.s, locale, fresh, ticks)
            try:  # the card loses its "密接排查完毕" button
                await message.edit_reply_markup(InlineKeyboardMarkup.de_json(markup, None))
            except TelegramError as exc:  # too old to edit: the mark is stored all the same
                log.info("case %s: keyboard not updated: %s", case["id"], exc)
