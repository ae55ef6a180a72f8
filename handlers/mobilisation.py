"""/mobilise (a leader's 紧急动员) and the buttons of a call: each person's 收到 / 到岗 /
无法到岗 (then the reason, asked in private), the caller's 结束动员 and 🔄. Telegram I/O only:
the transactions are bot.actions.mobilisation, the rules bot.domain.mobilisation."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import mobilisation as service
from bot.domain import mobilisation as domain
from bot.domain.roles import Actor
from bot.flows.engine import Engine
from bot.flows.mobilisation import DeclineFlow, MobiliseFlow
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale


def may_run(actor: Actor, row: Any) -> bool:
    """End or refresh the call: its caller, and admins."""
    return actor.is_admin or row["caller_user_id"] == actor.user_id


class MobilisationDesk:
    def __init__(self, services: Services, engine: Engine, access: Access) -> None:
        self.s = services
        self.access = access
        self.flow = MobiliseFlow(services, engine)
        self.decline = DeclineFlow(services, engine)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("mobilise", self.cmd_mobilise, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_button, pattern=callback_pattern(domain.FLOW)),
        ]

    def t(self, locale: str, name: str, /, **params: Any) -> str:
        return self.s.text(locale, "mobilisation", name, **params)

    async def cmd_mobilise(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The call's form, for leaders and admins (others refused and audited)."""
        await self.flow.start(update, self.flow.first_step, {})

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, domain.FLOW) or []
        actor = await self.access.actor(update.effective_user)
        row = await service.find(self.s, int(parts[0])) if len(parts) == 2 and \
            parts[0].isdigit() else None  # fmt: skip
        code = parts[1] if row is not None else ""
        subject = service.subject(row["id"]) if row is not None else None
        if code in domain.ANSWER_CODES:
            await self._answer(update, actor, row, domain.ANSWER_CODES[code])
        elif code == service.CLOSE and may_run(actor, row):
            await self._close(update, row)
        elif code == service.REFRESH and may_run(actor, row):
            await service.refresh(self.s, row["id"])
            await query.answer(self.t(await user_locale(self.s, update.effective_user),
                                      "refreshed"))  # fmt: skip
        else:  # another's roll-call, a forged or unknown button: audited
            await self.access.refuse(update, actor, f"mobilisation.{code or 'button'}", subject)

    async def _answer(self, update: Update, actor: Actor, row: Any, to: str) -> None:
        """收到 / 到岗 at once; 无法到岗 asks the reason first. Someone not called: refused."""
        query = update.callback_query
        locale = await user_locale(self.s, update.effective_user)
        if to == domain.DECLINED:
            outcome = await service.may_decline(self.s, row["id"], actor.user_id)
            if outcome is None:
                await self._ask_reason(update, row, locale)
                return
        else:
            outcome = await service.answer(self.s, row["id"], actor.user_id, to)
        if outcome == "not_called":
            await self.access.refuse(update, actor, "mobilisation.answer",
                                     service.subject(row["id"]))  # fmt: skip
            return
        await query.answer(self.t(locale, f"answer_{outcome}", state=to),
                           show_alert=outcome != "done")  # fmt: skip

    async def _ask_reason(self, update: Update, row: Any, locale: str) -> None:
        if await self.decline.ask_reason(update, row) == "asked":
            await update.callback_query.answer()
            return
        await update.callback_query.answer(self.t(locale, "finish_other_first"), show_alert=True)

    async def _close(self, update: Update, row: Any) -> None:
        locale = await user_locale(self.s, update.effective_user)
        outcome = await service.close(self.s, row["id"], update.effective_user.id)
        await update.callback_query.answer(self.t(locale, f"close_{outcome}"))
