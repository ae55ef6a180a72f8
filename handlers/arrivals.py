"""The arrival self-report conversation (来镇/返镇人员自主申报): Telegram I/O only.

Each answer is parsed by ``bot.domain.arrivals`` and the draft is written to SQLite before the
next question is sent, so a restart resumes at the same question.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any

from telegram import (
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot.actions.arrivals import build_record, store_report
from bot.actions.notify import reason_texts
from bot.domain import arrivals as flow
from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_phone
from bot.runtime import api
from bot.runtime.services import Services
from handlers.common import callback, callback_pattern, chunk, keyboard, parse_callback, user_locale
from handlers.router import Router
from handlers.steps import answered_already, re_ask, reason_text, save_draft, send_question
from storage import arrivals as reports
from storage import drafts
from storage.drafts import Draft

log = logging.getLogger(__name__)

DEEP_LINK = re.compile(r"^a-([A-Za-z0-9]{1,16})$")
FLOW = "ar"


class ArrivalFlow:
    name = "arrival"

    def __init__(self, services: Services, router: Router) -> None:
        self.s = services
        self.router = router
        router.register(self)
        config = services.config
        self._villages = {v.id: tuple(g.id for g in v.grids) for v in config.villages}
        # A button's label depends only on these arguments: render each once.
        self._choice_label = lru_cache(maxsize=1024)(
            lambda locale, step, value, chosen: services.text(
                locale, "arrivals", "choice", step=step, value=value, chosen=chosen
            )
        )

    def handlers(self) -> list[BaseHandler]:
        private = filters.ChatType.PRIVATE
        return [
            CommandHandler("arrive", self.cmd_arrive, filters=private),
            CallbackQueryHandler(self.on_callback, pattern=callback_pattern(FLOW)),
        ]

    # -- context ---------------------------------------------------------------------------

    def context(self) -> flow.Context:
        config = self.s.config
        return flow.Context(
            today=self.s.local_today(),
            id_required=config.arrival.id_number == "required",
            max_days_back=config.arrival.max_days_back,
            max_companions=config.arrival.max_companions,
            villages=self._villages,
        )

    def prefill(self, payload: str | None) -> dict[str, Any] | None:
        """A QR poster's deep-link payload (``a-XF01`` a grid, ``a-xf`` a village) as answers."""
        match = DEEP_LINK.match(payload or "")
        if not match:
            return None
        code = match.group(1)
        found = self.s.config.grid(code.upper())
        if found:
            village, grid = found
            return {
                "village": village.id,
                "grid": grid.id,
                "prefilled_village": True,
                "prefilled_grid": True,
            }
        village = self.s.config.village(code.lower())
        if village:
            return {"village": village.id, "prefilled_village": True}
        return None

    # -- entry points ----------------------------------------------------------------------

    async def cmd_arrive(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.begin(update, None)

    async def begin(self, update: Update, prefill: dict[str, Any] | None) -> None:
        """Start a report, or re-ask the open question of the one already under way."""
        user, chat = update.effective_user, update.effective_chat
        locale = await user_locale(self.s, user)
        if await self.router.resume_open(chat.id, user.id):
            return
        data = dict(prefill or {})
        new = drafts.new(user.id, chat.id, locale, flow.FIRST_STEP, data, update.update_id)
        draft = await drafts.put(self.s.db, new, self.s.now())
        intro = self._intro(locale, data)
        await chat.send_message(intro, parse_mode=ParseMode.HTML)
        await self.ask(chat.id, draft)

    def _intro(self, locale: str, data: dict[str, Any]) -> str:
        place = self._place_label(data)
        return self.s.text(locale, "arrivals", "intro", town=self.s.config.town.name, place=place)

    def _place_label(self, data: dict[str, Any]) -> str:
        village = self.s.config.village(data.get("village") or "")
        found = self.s.config.grid(data.get("grid") or "")
        if found:
            return f"{found[0].name} {found[1].name}"
        return village.name if village else ""

    # -- answers ---------------------------------------------------------------------------

    async def on_answer(self, update: Update, draft: Draft) -> None:
        """A message answering the open question (the router checked flow and freshness)."""
        if update.edited_message is not None:
            return  # an earlier message edited in Telegram is not the answer to this question
        message = update.effective_message
        step = flow.STEPS[draft.step]
        result = self._read_answer(step, message, draft)
        if isinstance(result, Invalid):
            await self.refuse(message.chat_id, draft, result)
            return
        await self.accept(draft, step, result, update.update_id)

    def _read_answer(self, step: flow.Step, message: Message, draft: Draft) -> Any:
        if message.contact and step.contact:
            return self._contact_answer(message)
        if message.photo and step.photo:
            return {"test_photo": message.photo[-1].file_id}
        if message.text is not None and step.accepts_text():
            return step.text(message.text, draft.data, self.context())
        if step.photo:
            return Invalid("expect_photo")
        if step.accepts_text():
            return Invalid("expect_text")
        return Invalid("expect_choice")

    def _contact_answer(self, message: Message) -> Any:
        phone = parse_phone(message.contact.phone_number or "")
        return phone if isinstance(phone, Invalid) else {"phone": phone}

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, FLOW)
        user = update.effective_user
        draft = await drafts.get(self.s.db, user.id)
        if not parts or len(parts) != 3:
            await query.answer()
            return
        token, step_key, value = parts
        if draft is None or draft.token != token:
            await self._stale_callback(update, token, step_key, value)
            return
        if await answered_already(update, self.s, draft, step_key):
            return
        await query.answer()
        if step_key in ("summary", "edit"):
            await self.on_summary(update, draft, step_key, value)
            return
        step = flow.STEPS[step_key]
        result = flow.apply_choice(step, value, draft.data, self.context())
        if isinstance(result, Invalid):
            await self.refuse(draft.chat_id, draft, result)
            return
        await self._show_choice(query.message, draft, step_key, value, result)
        await self.accept(draft, step, result, update.update_id)

    async def _show_choice(
        self, message: Message | None, draft: Draft, step: str, value: str, updates: dict
    ) -> None:
        """Leave the answered question in the chat with the chosen answer instead of buttons."""
        if message is None or updates.get("pending"):
            return
        label = self.label(draft.locale, step, value, draft.data)
        text = self.s.text(
            draft.locale,
            "arrivals",
            "answered",
            question=self.question_text(draft.locale, step, draft.data),
            answer=label,
        )
        await api.edit_text(self.s.bot, message.chat_id, message.message_id, text)

    async def _stale_callback(self, update: Update, token: str, step: str, value: str) -> None:
        """A button of a finished draft: a double-tapped submit says which report it made."""
        query = update.callback_query
        locale = await user_locale(self.s, update.effective_user)
        row = await reports.by_draft(self.s.db, token)
        if row is not None and step == "summary" and value == "submit":
            await query.answer(self.s.text(locale, "arrivals", "already_submitted", ref=row["ref"]))
            return
        await query.answer(self.s.text(locale, "conversation", "draft_gone", flow=self.name))

    async def accept(self, draft: Draft, step: flow.Step, updates: dict, update_id: int) -> None:
        next_key, data = flow.advance(step.key, updates, draft.data)
        await self.ask(draft.chat_id, await self.save(draft, next_key, data, update_id))

    async def save(self, draft: Draft, step: str, data: dict, update_id: int) -> Draft | None:
        """Store the answers; a draft that ended meanwhile is not revived (the user is told)."""
        changed = replace(draft, step=step, data=data, last_update_id=update_id)
        return await save_draft(self.s, changed)

    async def refuse(self, chat_id: int, draft: Draft, invalid: Invalid) -> None:
        """A specific reason, then the same question again (arrival's codes are all ``errors``)."""
        await re_ask(self.s, chat_id, draft, reason_text(self.s, draft.locale, invalid), self.ask)

    # -- the summary card ------------------------------------------------------------------

    async def on_summary(self, update: Update, draft: Draft, step: str, value: str) -> None:
        if step == "edit":
            if value not in flow.EDIT_GROUPS:
                return
            first, data = flow.start_edit(value, draft.data)
            await self.ask(draft.chat_id, await self.save(draft, first, data, update.update_id))
            return
        if value == "edit":
            await update.callback_query.message.edit_reply_markup(None)  # the card is old now
            await self.ask(
                draft.chat_id, await self.save(draft, "edit", draft.data, update.update_id)
            )
        elif value == "cancel":
            async with self.s.db.write() as conn:
                await drafts.delete(conn, draft.user_id, draft.token)
            await update.callback_query.message.edit_reply_markup(None)
            await self.s.bot.send_message(
                draft.chat_id,
                self.s.text(draft.locale, "conversation", "cancelled", flow=draft.flow),
            )
        elif value == "submit":
            await self.submit(update, draft)

    async def submit(self, update: Update, draft: Draft) -> None:
        ctx = self.context()
        missing = flow.missing_for_submit(draft.data, ctx)
        if missing:
            first, data = flow.start_edit(missing[0], draft.data)
            saved = await self.save(draft, first, data, update.update_id)
            if saved is not None:  # else it ended meanwhile, and save() said so
                await self.refuse(draft.chat_id, saved, Invalid("incomplete"))
            return
        record, assessment, plan = build_record(self.s, draft)
        outcome = await store_report(self.s, draft, record, assessment)
        if outcome is None:  # the draft was submitted a moment ago (double tap)
            return
        await update.callback_query.message.edit_reply_markup(None)
        receipt = self.s.text(
            draft.locale,
            "arrivals",
            "receipt",
            ref=outcome.ref,
            updated=outcome.updated,
            category=assessment.category,
            reasons=reason_texts(self.s, draft.locale, assessment),
            measure=plan,
            people=len(record.people),
        )
        await self.s.bot.send_message(
            draft.chat_id, receipt, parse_mode=ParseMode.HTML, reply_markup=ReplyKeyboardRemove()
        )

    # -- asking ----------------------------------------------------------------------------

    async def ask(self, chat_id: int, draft: Draft | None) -> None:
        await send_question(self.s, chat_id, draft, self.question)

    def question(self, draft: Draft) -> tuple[str, Any]:
        step = flow.STEPS[draft.step]
        if draft.step == "summary":
            return self.summary_text(draft), self.buttons(draft, step)
        text = self.question_text(draft.locale, draft.step, draft.data)
        if step.contact:
            share = KeyboardButton(
                self.s.text(draft.locale, "arrivals", "share_contact"), request_contact=True
            )
            return text, ReplyKeyboardMarkup(
                [[share]], resize_keyboard=True, one_time_keyboard=True
            )
        return text, self.buttons(draft, step)

    def question_text(self, locale: str, step: str, data: dict[str, Any]) -> str:
        params = {"data": data, "required": self.context().id_required}
        if step == "origin_confirm":
            params["place"] = flow.place_from_dict(data["origin"]).label()
        if step == "travel_confirm":
            params["places"] = [flow.place_from_dict(p).label() for p in data["travel"]]
        if step in ("companion_name", "companion_id", "companion_phone", "companion_more"):
            params["count"] = len(data.get("people") or [])
        return self.s.text(locale, "arrivals", f"ask_{step}", **params)

    def buttons(self, draft: Draft, step: flow.Step) -> Any:
        if step.choices is None:
            return ReplyKeyboardRemove()
        values = list(step.choices(draft.data, self.context()))
        per_row = 1 if draft.step in ("village", "grid", "edit", "category") else 2
        if draft.step in ("temperature", "health_code"):
            per_row = 4 if draft.step == "temperature" else 3
        rows = [
            [
                (
                    self.label(draft.locale, draft.step, v, draft.data),
                    callback(FLOW, draft.token, draft.step, v),
                )
                for v in row
            ]
            for row in chunk(values, per_row)
        ]
        return keyboard(rows)

    def label(self, locale: str, step: str, value: str, data: dict[str, Any]) -> str:
        if step == "village":
            village = self.s.config.village(value)
            return village.name if village else value
        if step == "grid":
            found = self.s.config.grid(value)
            return found[1].name if found else value
        chosen = value in (data.get("symptoms") or []) if step == "symptoms" else False
        return self._choice_label(locale, step, value, chosen)

    def summary_text(self, draft: Draft) -> str:
        data = draft.data
        return self.s.text(
            draft.locale,
            "arrivals",
            "summary",
            data=data,
            place=self._place_label(data),
            origin=flow.place_from_dict(data["origin"]).label() if data.get("origin") else "",
            travel=[flow.place_from_dict(p).label() for p in data.get("travel") or []],
            arrival=date.fromisoformat(data["arrival_date"]) if data.get("arrival_date") else None,
        )
