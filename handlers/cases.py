"""/case: a worker, village admin or leader reports a discovered case (定人定位定状态), and the
buttons on the case's messages: "已网络直报" (then the number, asked in private), the lockdown
checklist (疫点封控前期工作) and "收到". Telegram I/O only; the rules are in bot.domain.cases,
the transactions and timers in bot.actions.cases."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import cases as service
from bot.domain import cases as flow
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor, can_see_grid, holds_grid
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback, callback_pattern, chunk, keyboard, parse_callback, user_locale
from handlers.router import Router
from handlers.steps import answered_already, re_ask, send_question
from storage import arrivals, audit, cases, drafts
from storage.cases import NewCase
from storage.drafts import Draft

log = logging.getLogger(__name__)

FLOW = "case"  # callback data of the report conversation: v1:case:<token>:<step>:<value>


def _reason(services: Services, locale: str, invalid: Invalid) -> str:
    module = "cases" if invalid.code.startswith("case_") else "errors"
    return services.text(locale, module, invalid.code, **invalid.params)


def _display_name(update: Update) -> str:
    user = update.effective_user
    return user.full_name or str(user.id)


class CaseFlow:
    """The /case report conversation (draft flow "case")."""

    name = "case"

    def __init__(self, services: Services, router: Router, access: Access) -> None:
        self.s = services
        self.router = router
        self.access = access
        router.register(self)
        self._villages = {v.id: tuple(g.id for g in v.grids) for v in services.config.villages}
        self.number = DirectReportFlow(services, router, access)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("case", self.cmd_case, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_callback, pattern=callback_pattern(FLOW)),
            CallbackQueryHandler(self.number.on_action, pattern=callback_pattern(service.FLOW)),
        ]

    def context(self) -> flow.Context:
        return flow.Context(villages=self._villages)

    # -- start -----------------------------------------------------------------------------

    async def cmd_case(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.access.actor(update.effective_user)
        if not actor.is_staff:
            await self.access.refuse(update, actor, "case.report")
            return
        user, chat = update.effective_user, update.effective_chat
        if await self.router.resume_open(chat.id, user.id):
            return
        locale = await user_locale(self.s, user)
        new = drafts.new(user.id, chat.id, locale, flow.FIRST_STEP, {}, update.update_id,
                         flow=self.name)  # fmt: skip
        draft = await drafts.put(self.s.db, new, self.s.now())
        await chat.send_message(self.s.text(locale, "cases", "intro"), parse_mode=ParseMode.HTML)
        await self.ask(chat.id, draft)

    # -- answers ---------------------------------------------------------------------------

    async def on_answer(self, update: Update, draft: Draft) -> None:
        if update.edited_message is not None:
            return  # an edited earlier message is not the answer to this question
        message = update.effective_message
        step = flow.STEPS[draft.step]
        result = await self._read(update, step, message, draft)
        if isinstance(result, Invalid):
            await self.refuse(draft, result)
            return
        await self.accept(draft, step.key, result, update.update_id)

    async def _read(self, update: Update, step: flow.Step, message: Message,
                    draft: Draft) -> dict | Invalid:  # fmt: skip
        if step.location:
            if message.location is not None:
                return flow.location_answer(message.location.latitude,
                                            message.location.longitude)  # fmt: skip
            if message.text is not None and message.text.strip() == self._skip_label(draft):
                return flow.skip_location()
            return Invalid("case_expect_location")
        if message.text is None or step.text is None:
            return Invalid("expect_text" if step.text else "expect_choice")
        result = step.text(message.text, draft.data, self.context())
        if isinstance(result, dict) and "lookup" in result:
            return await self._lookup(update, result["lookup"])
        return result

    async def _lookup(self, update: Update, ref: str) -> dict | Invalid:
        """The person of an arrival report, if the reporter may see it. A report out of their
        scope gets the same answer as a missing one: its existence is not revealed."""
        actor = await self.access.actor(update.effective_user)
        row = await self.s.db.fetchone("SELECT * FROM reports WHERE ref = ?", (ref,))
        if row is None or not can_see_grid(actor, row["grid_id"], self.access.village_of):
            return Invalid("case_ref_not_found", {"ref": ref})
        person = (await arrivals.people(self.s.db, row["id"]))[0]
        async with self.s.db.write() as conn:
            await audit.record(conn, self.s.now(), actor.user_id, "report.view",
                               f"report:{row['id']}", "case")  # fmt: skip
        return {"report_id": row["id"], "report_ref": row["ref"], "name": person.name,
                "phone": person.phone, "id_number": person.id_number,
                "village": row["village_id"], "grid": row["grid_id"],
                "address": row["address"]}  # fmt: skip

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, FLOW)
        user = update.effective_user
        draft = await drafts.get(self.s.db, user.id)
        if not parts or len(parts) != 3:
            await query.answer()
            return
        token, step_key, value = parts
        locale = draft.locale if draft else await user_locale(self.s, user)
        if draft is None or draft.token != token or draft.flow != self.name:
            done = await cases.by_draft(self.s.db, token)
            if done is not None:
                await query.answer(self.s.text(locale, "cases", "already_submitted",
                                               ref=done["ref"]))  # fmt: skip
            else:
                await query.answer(self.s.text(locale, "access", "flow_gone"))
            return
        if await answered_already(update, self.s, draft, step_key):
            return
        await query.answer()
        if step_key == "summary":
            await self.on_summary(update, draft, value)
            return
        step = flow.STEPS[step_key]
        result = flow.apply_choice(step, value, draft.data, self.context())
        if isinstance(result, Invalid):
            await self.refuse(draft, result)
            return
        if query.message is not None:
            label = self.label(draft.locale, step_key, value)
            await query.message.edit_text(self.s.text(
                draft.locale, "cases", "answered", question=self.question_text(draft),
                answer=label), parse_mode=ParseMode.HTML)  # fmt: skip
        await self.accept(draft, step_key, result, update.update_id)

    async def accept(self, draft: Draft, step_key: str, updates: dict, update_id: int) -> None:
        data = {**draft.data, **updates}
        following = flow.next_step(step_key, data)
        changed = replace(draft, step=following, data=data, last_update_id=update_id)
        await self.ask(draft.chat_id, await drafts.put(self.s.db, changed, self.s.now()))

    async def refuse(self, draft: Draft, invalid: Invalid) -> None:
        await re_ask(self.s, draft.chat_id, draft, _reason(self.s, draft.locale, invalid), self.ask)

    async def on_summary(self, update: Update, draft: Draft, value: str) -> None:
        message = update.callback_query.message
        if value == "cancel":
            async with self.s.db.write() as conn:
                await drafts.delete(conn, draft.user_id, draft.token)
            if message is not None:
                await message.edit_reply_markup(None)
            await self.s.bot.send_message(draft.chat_id, self.s.text(draft.locale, "cases",
                                                                   "cancelled"))  # fmt: skip
            return
        missing = flow.missing_for_submit(draft.data, self.context())
        if missing:
            changed = replace(draft, step=missing, last_update_id=update.update_id)
            await self.refuse(await drafts.put(self.s.db, changed, self.s.now()),
                              Invalid("incomplete"))  # fmt: skip
            return
        data = draft.data
        stored = await service.store(self.s, NewCase(
            draft_token=draft.token, kind=data["kind"], report_id=data.get("report_id"),
            person_name=data["name"], person_phone=data.get("phone"),
            person_id_number=data.get("id_number"), village_id=data["village"],
            grid_id=data["grid"], address=data["address"], latitude=data.get("latitude"),
            longitude=data.get("longitude"), status=data["status"], reported_by=draft.user_id,
        ), draft.user_id)  # fmt: skip
        if stored is None:
            return  # a double tap: the first one answered
        if message is not None:
            await message.edit_reply_markup(None)
        loaded = await service.load(self.s.db, stored.id)
        case, ticks = loaded
        params = service.card_params(self.s, case, ticks, self.s.now())
        markup = service.staff_markup(self.s, draft.locale, stored.id, ticks)
        await self.s.bot.send_message(
            draft.chat_id, self.s.text(draft.locale, "cases", "receipt", c=params),
            parse_mode=ParseMode.HTML, reply_markup=InlineKeyboardMarkup.de_json(markup, None),
        )  # fmt: skip

    # -- asking ----------------------------------------------------------------------------

    async def ask(self, chat_id: int, draft: Draft | None) -> None:
        await send_question(self.s, chat_id, draft, self.question)

    def _skip_label(self, draft: Draft) -> str:
        return self.s.text(draft.locale, "cases", "skip_location")

    def question_text(self, draft: Draft) -> str:
        return self.s.text(draft.locale, "cases", f"ask_{draft.step}", data=draft.data)

    def question(self, draft: Draft) -> tuple[str, Any]:
        step = flow.STEPS[draft.step]
        if draft.step == "summary":
            return self.summary_text(draft), self.buttons(draft, step)
        text = self.question_text(draft)
        if step.location:
            pin = KeyboardButton(self.s.text(draft.locale, "cases", "send_location"),
                                 request_location=True)  # fmt: skip
            rows = [[pin], [self._skip_label(draft)]]
            return text, ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
        return text, self.buttons(draft, step)

    def buttons(self, draft: Draft, step: flow.Step) -> Any:
        if step.choices is None:
            return ReplyKeyboardRemove()
        values = list(step.choices(draft.data, self.context()))
        per_row = 2 if draft.step in ("kind", "summary") else 1
        rows = [[(self.label(draft.locale, draft.step, v), callback(FLOW, draft.token,
                                                                     draft.step, v))
                 for v in row] for row in chunk(values, per_row)]  # fmt: skip
        return keyboard(rows)

    def label(self, locale: str, step: str, value: str) -> str:
        if step == "village":
            village = self.s.config.village(value)
            return village.name if village else value
        if step == "grid":
            found = self.s.config.grid(value)
            return found[1].name if found else value
        return self.s.text(locale, "cases", "choice", step=step, value=value)

    def summary_text(self, draft: Draft) -> str:
        data = draft.data
        village = self.s.config.village(data.get("village") or "")
        found = self.s.config.grid(data.get("grid") or "")
        return self.s.text(draft.locale, "cases", "summary", data=data,
                           village=village.name if village else "",
                           grid=found[1].name if found else "")  # fmt: skip


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
