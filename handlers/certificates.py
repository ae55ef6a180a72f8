"""The buttons of a quarantine-release certificate's check task (解除隔离证明): see the photo,
"核验通过", "不符". Telegram I/O only; the transaction is in bot.actions.certificates."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes

from bot.actions import certificates as service
from bot.domain.roles import can_verify
from bot.flows.cases import display_name
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale


class CertificateButtons:
    """Whoever verifies the report's arrival checks its certificate (``can_verify``)."""

    def __init__(self, services: Services, access: Access) -> None:
        self.s = services
        self.access = access

    def handlers(self) -> list[BaseHandler]:
        return [CallbackQueryHandler(self.on_action, pattern=callback_pattern(service.FLOW))]

    async def on_action(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, service.FLOW)
        if (
            not parts
            or len(parts) != 2
            or not parts[0].isdigit()
            or parts[1] not in ("ok", "no", "p")
        ):
            await query.answer()
            return
        report_id, action = int(parts[0]), parts[1]
        actor = await self.access.actor(update.effective_user)
        row = await service.report(self.s, report_id)
        if row is None or not can_verify(actor, row["grid_id"], self.access.village_of):
            await self.access.refuse(update, actor, f"certificate.{action}",
                                     service.subject(report_id))  # fmt: skip
            return
        locale = await user_locale(self.s, update.effective_user)
        if action == "p":
            file_id = await service.photo(self.s, report_id, actor.user_id)
            await query.answer(None if file_id else self.s.text(locale, service.MODULE, "no_photo"))
            if file_id:
                await self.s.bot.send_photo(update.effective_user.id, file_id)  # in private
            return
        outcome = await service.decide(self.s, report_id, action == "ok", actor.user_id,
                                       display_name(update))  # fmt: skip
        await query.answer(self.s.text(locale, service.MODULE, f"decided_{outcome}"),
                           show_alert=True)  # fmt: skip
