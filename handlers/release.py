"""The site manager's "解除" on a stay's card, confirmed by a second tap (it tells the person,
the grid and the site, and cannot be undone). Telegram I/O only; the rule and the
transaction are in bot.actions.release."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes

from bot.actions import isolation
from bot.actions import release as service
from bot.domain.callbacks import callback
from bot.domain.isolation import ACTIVE, subject
from bot.domain.roles import can_manage_site
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, keyboard, parse_callback, user_locale

SURE = "y"  # v1:rl:<stay id>:y — the second tap


class ReleaseButtons:
    """Only a manager of the stay's site (or an admin) releases: anyone else is refused and
    audited, at the first tap and again inside the action's transaction."""

    def __init__(self, services: Services, access: Access) -> None:
        self.s = services
        self.access = access

    def handlers(self) -> list[BaseHandler]:
        return [CallbackQueryHandler(self.on_release, pattern=callback_pattern(service.FLOW))]

    async def on_release(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, service.FLOW)
        if not parts or not parts[0].isdigit() or parts[1:] not in ([], [SURE]):
            await query.answer()
            return
        stay_id = int(parts[0])
        actor = await self.access.actor(update.effective_user)
        stay = await isolation.stay(self.s, stay_id)
        if stay is None or not can_manage_site(actor, stay["site_id"]):
            await self.access.refuse(update, actor, "release.confirm", subject(stay_id))
            return
        locale = await user_locale(self.s, update.effective_user)
        await query.answer()
        if not parts[1:] and stay["state"] in ACTIVE:
            sure = (self.s.text(locale, service.MODULE, "btn_sure"),
                    callback(service.FLOW, str(stay_id), SURE))  # fmt: skip
            await update.effective_chat.send_message(
                self.s.text(locale, service.MODULE, "sure", ref=stay["ref"], room=stay["room"]),
                parse_mode=ParseMode.HTML, reply_markup=keyboard([[sure]]),
            )  # fmt: skip
            return
        done = await service.confirm(self.s, actor, stay_id)
        if done.outcome == "refused":  # the scope changed between the taps
            await self.access.refuse(update, actor, "release.confirm", subject(stay_id))
            return
        text = self.s.text(locale, service.MODULE, "confirm", outcome=done.outcome, **done.params)
        await update.effective_chat.send_message(text, parse_mode=ParseMode.HTML)
