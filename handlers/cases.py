"""/case: a worker, village admin or leader reports a discovered case (定人定位定状态), and the
buttons on the case's messages: "已网络直报" (then the number, asked in private), the lockdown
checklist (疫点封控前期工作) and "收到". Telegram I/O only; the rules are in bot.domain.cases,
the transactions and timers in bot.actions.cases."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import cases as service
from bot.domain import cases as flow
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor, holds_grid
from bot.flows.cases import CaseFlow
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale
from handlers.router import Router
from storage import cases, drafts
from storage.drafts import Draft

log = logging.getLogger(__name__)

FLOW = "case"  # callback data of the report conversation: v1:case:<token>:<step>:<value>


def _reason(services: Services, locale: str, invalid: Invalid) -> str:
    module = "cases" if invalid.code.startswith("case_") else "errors"
    return services.text(locale, module, invalid.code, **invalid.params)


def _display_name(update: Update) -> str:
    user = update.effective_user
    return user.full_name or str(user.id)


class CaseCommands:
    """/case opens the report flow (bot/flows/cases.py); the case messages' buttons."""

    def __init__(self, services: Services, router: Router, access: Access) -> None:
        self.flow = CaseFlow(services, router.engine)
        self.number = DirectReportFlow(services, router, access)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("case", self.cmd_case, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.number.on_action, pattern=callback_pattern(service.FLOW)),
        ]

    async def cmd_case(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.flow.start(update, self.flow.first_step, {})


class DirectReportFlow:
    """The buttons on case messages, and the direct-report number asked in private (draft flow
    "case_report"): pressing "已网络直报" in the group opens it in the presser's private chat."""

    name = "case_report"

    def __init__(self, services: Services, router: Router, access: Access) -> None:
        self.s = services
        self.access = access
        router.register(self)

    async def on_action(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, service.FLOW)
        if not parts or len(parts) < 2 or not parts[0].isdigit():
            await query.answer()
            return
        case_id, action = int(parts[0]), parts[1]
        loaded = await service.load(self.s.db, case_id)
        actor = await self.access.actor(update.effective_user)
        subject = service.subject(case_id)
        if loaded is None:
            await self.access.refuse(update, actor, "case.action", subject)
            return
        case, _ = loaded
        if action == "t" and len(parts) == 3 and parts[2] in flow.CHECKLIST:
            await self._tick(update, actor, case, parts[2])
        elif action == "a" and actor.is_leader:
            await self._ack(update, actor, case)
        elif action == "r" and actor.is_leader:
            await self._ask_number(update, actor, case)
        else:
            await self.access.refuse(update, actor, f"case.{action}", subject)

    async def _tick(self, update: Update, actor: Actor, case: Any, item: str) -> None:
        query = update.callback_query
        allowed = (actor.is_leader or actor.user_id == case["reported_by"]
                   or holds_grid(actor, case["grid_id"], self.access.village_of))  # fmt: skip
        if not allowed:
            await self.access.refuse(update, actor, "case.tick", service.subject(case["id"]))
            return
        locale = await user_locale(self.s, update.effective_user)
        done = await service.tick(self.s, case["id"], item, actor.user_id, _display_name(update))
        await query.answer(self.s.text(locale, "cases", "tick_done" if done else "tick_again",
                                       item=item))  # fmt: skip
        message = query.message
        if done and message is not None and message.chat.id != self.s.config.leadership.chat_id:
            ticks = await cases.checklist(self.s.db, case["id"])
            markup = service.staff_markup(self.s, locale, case["id"], ticks)
            try:
                await message.edit_reply_markup(InlineKeyboardMarkup.de_json(markup, None))
            except TelegramError as exc:  # too old to edit: the tick is stored all the same
                log.info("case %s: keyboard not updated: %s", case["id"], exc)

    async def _ack(self, update: Update, actor: Actor, case: Any) -> None:
        locale = await user_locale(self.s, update.effective_user)
        outcome = await service.acknowledge(self.s, case["id"], actor.user_id,
                                            _display_name(update))  # fmt: skip
        await update.callback_query.answer(self.s.text(locale, "cases", f"ack_{outcome}"),
                                           show_alert=outcome == "done")  # fmt: skip

    async def _ask_number(self, update: Update, actor: Actor, case: Any) -> None:
        query = update.callback_query
        user = update.effective_user
        locale = await user_locale(self.s, user)
        if case["state"] != "open":
            await query.answer(self.s.text(locale, "cases", "already_reported", ref=case["ref"],
                                           number=case["direct_report_no"] or "",
                                           name=case["reported_by_name"] or ""),
                               show_alert=True)  # fmt: skip
            return
        existing = await drafts.get(self.s.db, user.id)
        if existing is not None and existing.flow != self.name:
            await query.answer(self.s.text(locale, "cases", "finish_other_first"), show_alert=True)
            return
        new = drafts.new(user.id, user.id, locale, "number", {"case_id": case["id"]},
                         update.update_id, flow=self.name)  # fmt: skip
        draft = await drafts.put(self.s.db, new, self.s.now())
        try:
            await self.ask(user.id, draft)
        except Forbidden:  # the leader never opened a private chat with the bot
            async with self.s.db.write() as conn:
                await drafts.delete(conn, user.id, draft.token)
            bot_name = self.s.bot.username if self.s.bot else ""
            await query.answer(self.s.text(locale, "cases", "start_bot_first", bot=bot_name),
                               show_alert=True)  # fmt: skip
            return
        await query.answer(self.s.text(locale, "cases", "number_asked"))

    async def ask(self, chat_id: int, draft: Draft | None) -> None:
        if draft is None:
            return
        case = await cases.get(self.s.db, draft.data["case_id"])
        await self.s.bot.send_message(
            chat_id, self.s.text(draft.locale, "cases", "ask_number", ref=case["ref"]),
            parse_mode=ParseMode.HTML, reply_markup=ReplyKeyboardRemove(),
        )  # fmt: skip

    async def on_answer(self, update: Update, draft: Draft) -> None:
        if update.edited_message is not None:
            return
        message = update.effective_message
        number = (flow.parse_direct_report_no(message.text) if message.text is not None
                  else Invalid("expect_text"))  # fmt: skip
        if isinstance(number, Invalid):
            reason = _reason(self.s, draft.locale, number)
            await self.s.bot.send_message(draft.chat_id, reason, parse_mode=ParseMode.HTML)
            await self.ask(draft.chat_id, draft)
            return
        case_id = draft.data["case_id"]
        actor = await self.access.actor(update.effective_user)
        if not actor.is_leader:  # left the leadership group since pressing
            async with self.s.db.write() as conn:
                await drafts.delete(conn, draft.user_id, draft.token)
            await self.access.refuse(update, actor, "case.r", service.subject(case_id))
            return
        done = await service.record_direct_report(self.s, case_id, number, actor.user_id,
                                                  _display_name(update), draft.user_id,
                                                  draft.token)  # fmt: skip
        case = await cases.get(self.s.db, case_id)
        name = "number_recorded" if done else "already_reported"
        await message.reply_text(self.s.text(draft.locale, "cases", name, ref=case["ref"],
                                             number=case["direct_report_no"] or "",
                                             name=case["reported_by_name"] or ""),
                                 parse_mode=ParseMode.HTML)  # fmt: skip
