"""/case: a worker, village admin or leader reports a discovered case (定人定位定状态), and the
buttons on the case's messages: "已网络直报" (then the number, asked in private), the lockdown
checklist (疫点封控前期工作) and "收到". Telegram I/O only; the rules are in bot.domain.cases,
the transactions and timers in bot.actions.cases."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import cases as service
from bot.domain import cases as flow
from bot.domain.roles import Actor, holds_grid
from bot.flows.cases import CaseFlow, DirectReportFlow, display_name
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale
from handlers.router import Router

log = logging.getLogger(__name__)


class CaseCommands:
    """/case opens the report flow (bot/flows/cases.py); the case messages' buttons."""

    def __init__(self, services: Services, router: Router, access: Access) -> None:
        self.flow = CaseFlow(services, router.engine)
        self.buttons = CaseButtons(services, access, DirectReportFlow(services, router.engine),
                                   self.flow)  # fmt: skip

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("case", self.cmd_case, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.buttons.on_action, pattern=callback_pattern(service.FLOW)),
        ]

    async def cmd_case(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.flow.start(update, self.flow.first_step, {})


class CaseButtons:
    """The buttons on case messages: a checklist tick, "收到", and "已网络直报", which asks
    the presser for the number in private (the direct-report flow)."""

    def __init__(self, services: Services, access: Access, number: DirectReportFlow,
                 flow: CaseFlow) -> None:  # fmt: skip
        self.s = services
        self.access = access
        self.number = number
        self.flow = flow

    async def on_action(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, service.FLOW)
        if not parts or len(parts) < 2 or not parts[0].isdigit():
            await query.answer()
            return
        case_id, action = int(parts[0]), parts[1]
        loaded = await service.find(self.s, case_id)
        actor = await self.access.actor(update.effective_user)
        subject = service.subject(case_id)
        if loaded is None:
            await self.access.refuse(update, actor, "case.action", subject)
            return
        case, _ = loaded
        if action == "t" and len(parts) == 3 and parts[2] in flow.CHECKLIST:
            await self._tick(update, actor, case, parts[2])
        elif action in ("c", "x", "f") and self._may_act(actor, case):
            await self._confirmation(update, actor, case, action)
        elif action == "a" and actor.is_leader:
            await self._ack(update, actor, case)
        elif action == "r" and actor.is_leader:
            await self._ask_number(update, actor, case)
        else:
            await self.access.refuse(update, actor, f"case.{action}", subject)

    def _may_act(self, actor: Actor, case: Any) -> bool:
        """Leaders (the group card's buttons) and the staff of the case's grid act on a case;
        its reporter only while still one of them (a revoked worker rules nothing out)."""
        return actor.is_leader or holds_grid(actor, case["grid_id"], self.access.village_of)

    async def _confirmation(self, update: Update, actor: Actor, case: Any, action: str) -> None:
        """A positive result's case: "确认是病例" (c), "排除" (x), or the case flow (f)."""
        query = update.callback_query
        locale = await user_locale(self.s, update.effective_user)
        if case["confirmation"] != "pending" or case["state"] != "open":
            await query.answer(self.s.text(locale, "cases", "confirm_again"), show_alert=True)
            return
        if action == "f":
            await query.answer()
            await self.flow.confirm_from(update, case)
            return
        act = service.confirm if action == "c" else service.rule_out
        done = await act(self.s, case["id"], actor.user_id, display_name(update))
        name = ("confirm_done" if action == "c" else "rule_out_done") if done else "confirm_again"
        await query.answer(self.s.text(locale, "cases", name, ref=case["ref"]), show_alert=True)

    async def _tick(self, update: Update, actor: Actor, case: Any, item: str) -> None:
        query = update.callback_query
        if not self._may_act(actor, case):
            await self.access.refuse(update, actor, "case.tick", service.subject(case["id"]))
            return
        locale = await user_locale(self.s, update.effective_user)
        done = await service.tick(self.s, case["id"], item, actor.user_id, display_name(update))
        await query.answer(self.s.text(locale, "cases", "tick_done" if done else "tick_again",
                                       item=item))  # fmt: skip
        message = query.message
        if done and message is not None and message.chat.id != self.s.config.leadership.chat_id:
            fresh, ticks = await service.find(self.s, case["id"])
            markup = service.staff_markup(self.s, locale, fresh, ticks)
            try:
                await message.edit_reply_markup(InlineKeyboardMarkup.de_json(markup, None))
            except TelegramError as exc:  # too old to edit: the tick is stored all the same
                log.info("case %s: keyboard not updated: %s", case["id"], exc)

    async def _ack(self, update: Update, actor: Actor, case: Any) -> None:
        locale = await user_locale(self.s, update.effective_user)
        outcome = await service.acknowledge(self.s, case["id"], actor.user_id,
                                            display_name(update))  # fmt: skip
        await update.callback_query.answer(self.s.text(locale, "cases", f"ack_{outcome}"),
                                           show_alert=outcome == "done")  # fmt: skip

    async def _ask_number(self, update: Update, actor: Actor, case: Any) -> None:
        query = update.callback_query
        locale = await user_locale(self.s, update.effective_user)
        if case["state"] != "open":
            await query.answer(self.s.text(locale, "cases", "already_reported", ref=case["ref"],
                                           number=case["direct_report_no"] or "",
                                           name=case["reported_by_name"] or ""),
                               show_alert=True)  # fmt: skip
            return
        asked = await self.number.ask_number(update, case)
        if asked == "asked":
            await query.answer(self.s.text(locale, "cases", "number_asked"))
            return
        params = {"bot": self.s.bot.username} if asked == "blocked" else {}
        name = "start_bot_first" if asked == "blocked" else "finish_other_first"
        await query.answer(self.s.text(locale, "cases", name, **params), show_alert=True)
