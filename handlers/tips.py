"""Neighbour tips (邻里监督提供线索): ``/tip`` for anyone, and the checking of a tip by the
grid's staff (the card's buttons, a note or a registration number asked in private, the
tips section of ``/tasks``). Telegram I/O only: the steps are in ``bot.domain.tips``, the
transactions in ``bot.actions.tips``. Staff messages are rendered from ``TipView`` (no tipster)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
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
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import tips as service
from bot.domain import tips as flow
from bot.domain.cases import parse_report_ref
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor, can_see_grid, inbox_grids
from bot.domain.tips import TipView
from bot.runtime.services import Services
from handlers.access import Access
from handlers.arrivals import ArrivalFlow
from handlers.common import callback, callback_pattern, keyboard, parse_callback, user_locale
from handlers.router import Router
from handlers.steps import Next, Result, StepConversation
from storage import audit, drafts, tips
from storage.drafts import Draft
from storage.tips import NewTip

log = logging.getLogger(__name__)


def _markup(data: dict[str, Any] | None) -> InlineKeyboardMarkup | None:
    return InlineKeyboardMarkup.de_json(data, None) if data else None


class TipFlow(StepConversation):
    """The tip conversation (draft flow "tip"): what, where, who, since when, a photo."""

    name = "tip"
    prefix = "tip"  # v1:tip:<token>:<step>:<value>

    def __init__(self, services: Services, router: Router) -> None:
        super().__init__(services, router)
        self._villages = {v.id: tuple(g.id for g in v.grids) for v in services.config.villages}

    def handlers(self) -> list[BaseHandler]:
        return [*super().handlers(),
                CommandHandler("tip", self.cmd_tip, filters=filters.ChatType.PRIVATE)]  # fmt: skip

    def context(self) -> flow.Context:
        return flow.Context(today=self.s.local_today(), villages=self._villages)

    def prefill(self, payload: str | None) -> dict[str, Any] | None:
        """A tip poster's deep link: ``t-XF01`` a grid, ``t-xf`` a village."""
        code = flow.parse_tip_payload(payload)
        if code is None:
            return None
        found = self.s.config.grid(code.upper())
        if found:
            return {"village": found[0].id, "grid": found[1].id, "prefilled_village": True,
                    "prefilled_grid": True}  # fmt: skip
        village = self.s.config.village(code.lower())
        return {"village": village.id, "prefilled_village": True} if village else None

    async def cmd_tip(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.begin(update, None)

    async def begin(self, update: Update, prefill: dict[str, Any] | None) -> None:
        user = update.effective_user
        limit = self.s.config.tips.max_per_day
        if await tips.count_today(self.s.db, user.id, service.day_start(self.s)) >= limit:
            locale = await user_locale(self.s, user)
            await update.effective_chat.send_message(
                self.s.text(locale, "tips", "limit_reached", limit=limit)
            )
            return
        await self.start(update, flow.FIRST_STEP, dict(prefill or {}))

    # -- questions -------------------------------------------------------------------------

    def _place(self, data: dict[str, Any]) -> str:
        if not data.get("village"):
            return ""
        village, grid = service.place_names(self.s, data["village"], data.get("grid"))
        return f"{village} {grid}".strip()

    def question(self, draft: Draft) -> tuple[str, Any]:
        locale, step, data = draft.locale, draft.step, draft.data
        if step == "summary":
            since = date.fromisoformat(data["since"]) if data.get("since") else None
            text = self.s.text(locale, "tips", "summary", d=data, place=self._place(data),
                               since=since)  # fmt: skip
        else:
            text = self.s.text(locale, "tips", f"ask_{step}", d=data, place=self._place(data),
                               town=self.s.config.town.name)  # fmt: skip
        if flow.STEPS[step].location:
            pin = KeyboardButton(self.s.text(locale, "tips", "send_location"),
                                 request_location=True)  # fmt: skip
            return text, ReplyKeyboardMarkup([[pin]], resize_keyboard=True, one_time_keyboard=True)
        values = flow.STEPS[step].choices(data, self.context())
        choices = [(self.label(locale, step, v), v) for v in values]
        per_row = 2 if step in ("since", "summary", "relation") else 1
        return text, self.buttons(draft, choices, per_row=per_row)

    def label(self, locale: str, step: str, value: str) -> str:
        if step == "village":
            village = self.s.config.village(value)
            return village.name if village else value
        if step == "grid" and value != flow.UNKNOWN_GRID:
            found = self.s.config.grid(value)
            return found[1].name if found else value
        return self.s.text(locale, "tips", "choice", step=step, value=value)

    # -- answers ---------------------------------------------------------------------------

    async def on_answer(self, update: Update, draft: Draft) -> None:
        if update.edited_message is not None:
            return  # an edited earlier message is not the answer to this question
        message = update.effective_message
        step = flow.STEPS[draft.step]
        if step.location and message.location is not None:
            result: Result = self._next(draft, flow.location_answer(
                message.location.latitude, message.location.longitude))  # fmt: skip
        elif step.photo and message.photo:
            result = self._next(draft, {"photo_file_id": message.photo[-1].file_id})
        elif message.text is None:
            code = "expect_location" if step.location else "expect_photo" if step.photo else ""
            result = Invalid(f"tip.{code}") if code else Invalid(
                "expect_text" if step.text else "expect_choice")  # fmt: skip
        else:
            result = self.on_text(draft, message)
        if step.location and isinstance(result, Next):  # take the location keyboard away
            noted = self.s.text(draft.locale, "tips", "place_noted")
            await self.s.bot.send_message(draft.chat_id, noted, reply_markup=ReplyKeyboardRemove())
        await self._apply(update, draft, result)

    def _next(self, draft: Draft, updates: dict[str, Any]) -> Next:
        following, data = flow.advance(draft.step, updates, draft.data)
        return Next(following, data)

    def on_text(self, draft: Draft, message: Message) -> Result:
        step = flow.STEPS[draft.step]
        if step.text is None:
            return Invalid("tip.expect_photo" if step.photo else "expect_choice")
        updates = step.text(message.text or "", draft.data, self.context())
        return updates if isinstance(updates, Invalid) else self._next(draft, updates)

    def on_choice(self, draft: Draft, value: str) -> Result:
        if draft.step == "summary":
            if value not in ("submit", "cancel"):
                return Invalid("choice_stale")
            return Next(None, {**draft.data, "submit": value == "submit"})
        updates = flow.apply_choice(flow.STEPS[draft.step], value, draft.data, self.context())
        return updates if isinstance(updates, Invalid) else self._next(draft, updates)

    # -- submit ----------------------------------------------------------------------------

    async def finish(self, update: Update, draft: Draft) -> None:
        data, chat = draft.data, draft.chat_id
        if not data.get("submit"):
            if await self.drop(draft):
                await self.s.bot.send_message(chat, self.s.text(draft.locale, "tips", "cancelled"),
                                              reply_markup=ReplyKeyboardRemove())  # fmt: skip
            return
        missing = flow.missing_for_submit(data, self.context())
        if missing:
            data = {k: v for k, v in data.items() if k != "submit"}
            saved = await drafts.update(self.s.db, replace(draft, step=missing, data=data),
                                        self.s.now())  # fmt: skip
            await self._apply(update, saved or draft, Invalid("incomplete"))
            return
        stored = await service.submit(self.s, NewTip(
            draft_token=draft.token, tipster_user_id=draft.user_id, tipster_chat_id=chat,
            tipster_locale=draft.locale, kind=data["kind"], venue_kind=data.get("venue_kind"),
            person_name=data.get("name"), person_phone=data.get("phone"),
            relation=data.get("relation"), description=data.get("description"),
            village_id=data["village"], grid_id=data.get("grid"), address=data.get("address"),
            latitude=data.get("latitude"), longitude=data.get("longitude"),
            since=data.get("since"), photo_file_id=data.get("photo_file_id"),
        ))  # fmt: skip
        if stored is None:
            return  # a double tap: the first one answered
        if stored == "limit":
            await self.drop(draft)
            limit = self.s.config.tips.max_per_day
            await self.s.bot.send_message(
                chat, self.s.text(draft.locale, "tips", "limit_reached", limit=limit)
            )
            return
        hours = round((stored.deadline_at - self.s.now()).total_seconds() / 3600, 1)
        await self.s.bot.send_message(
            chat, self.s.text(draft.locale, "tips", "receipt", ref=stored.ref,
                              hours=int(hours) if hours.is_integer() else hours,
                              symptoms=data["kind"] == "symptoms"),
            parse_mode=ParseMode.HTML, reply_markup=ReplyKeyboardRemove(),
        )  # fmt: skip


class TipCheckFlow(StepConversation):
    """What a worker types while checking a tip (draft flow "tip_check"): a note for the
    outcome, or the registration number to link."""

    name = "tip_check"
    prefix = "tc"

    def __init__(self, services: Services, router: Router, access: Access) -> None:
        super().__init__(services, router)
        self.access = access

    def question(self, draft: Draft) -> tuple[str, Any]:
        data = draft.data
        text = self.s.text(draft.locale, "tips", f"ask_{draft.step}", ref=data["ref"],
                           outcome=data["outcome"])  # fmt: skip
        if draft.step == "note":
            skip = self.s.text(draft.locale, "tips", "choice", step="note", value="skip")
            return text, self.buttons(draft, [(skip, "skip")])
        return text, self.buttons(draft, [])

    def on_choice(self, draft: Draft, value: str) -> Result:
        if draft.step == "note" and value == "skip":
            return Next(None, {**draft.data, "note": None})
        return Invalid("choice_stale")

    def on_text(self, draft: Draft, message: Message) -> Result:
        if draft.step != "note" or message.text is None:
            return Invalid("expect_text")
        note = flow.parse_note(message.text)
        return note if isinstance(note, Invalid) else Next(None, {**draft.data, "note": note})

    async def on_answer(self, update: Update, draft: Draft) -> None:
        message = update.effective_message
        if draft.step != "ref" or message.text is None:
            await super().on_answer(update, draft)
            return
        await self._apply(update, draft, await self._lookup(update, message.text, draft))

    async def _lookup(self, update: Update, text: str, draft: Draft) -> Result:
        """A registration the worker may see; one out of scope is answered as a missing one."""
        ref = parse_report_ref(text)
        if isinstance(ref, Invalid):
            return Invalid("tips.ref_format")
        actor = await self.access.actor(update.effective_user)
        row = await tips.report_by_ref(self.s.db, ref)
        if row is None or not can_see_grid(actor, row["grid_id"], self.access.village_of):
            return Invalid("tips.ref_not_found", {"ref": ref})
        return Next(None, {**draft.data, "report_id": row["id"], "report_ref": row["ref"]})

    async def finish(self, update: Update, draft: Draft) -> None:
        data = draft.data
        actor = await self.access.actor(update.effective_user)
        tip = await tips.view(self.s.db, data["tip_id"])
        if tip is None or not allowed(self.access, actor, tip):
            await self.drop(draft)
            await self.access.refuse(update, actor, "tip.check", service.subject(data["tip_id"]))
            return
        if not await self.drop(draft):
            return  # a double tap
        outcome, note = data["outcome"], data.get("note")
        if outcome == "escalated":
            done = await service.escalate(self.s, tip.id, actor.user_id, note)
        elif outcome in ("linked", "handled"):
            done = await service.close(self.s, tip.id, "confirmed", actor.user_id, note=note,
                                       report_id=data.get("report_id"), how=outcome)  # fmt: skip
        else:
            done = await service.close(self.s, tip.id, outcome, actor.user_id, note=note)
        await done_message(self.s, update, draft.locale, tip, outcome if done else None,
                           data.get("report_ref"))  # fmt: skip


def allowed(access: Access, actor: Actor, tip: TipView) -> bool:
    return flow.can_check(actor, tip.village_id, tip.grid_id, access.village_of)


async def done_message(services: Services, update: Update, locale: str, tip: TipView,
                       outcome: str | None, report_ref: str | None = None) -> None:  # fmt: skip
    """What the worker is told after acting; ``outcome`` None: someone closed it already."""
    name = "done" if outcome else "already_closed"
    await update.effective_chat.send_message(
        services.text(locale, "tips", name, ref=tip.ref, outcome=outcome or "",
                      report_ref=report_ref or ""),
        parse_mode=ParseMode.HTML,
    )  # fmt: skip


class TipDesk:
    """The buttons of a tip card (``v1:tp:<action>:<tip id>``) and the tips in ``/tasks``."""

    ACTIONS = ("o", "c", "y", "u", "n", "e", "h", "lr", "l", "r")

    def __init__(self, services: Services, router: Router, access: Access,
                 arrival: ArrivalFlow) -> None:  # fmt: skip
        self.s = services
        self.access = access
        self.arrival = arrival
        self.check = TipCheckFlow(services, router, access)

    def handlers(self) -> list[BaseHandler]:
        return [
            *self.check.handlers(),
            CallbackQueryHandler(self.on_action, pattern=callback_pattern(service.FLOW)),
        ]

    async def tasks_section(self, update: Update, actor: Actor, locale: str) -> None:
        """Appended to /tasks: the open tips in the actor's scope, most urgent first (nothing
        when there are none)."""
        grids = inbox_grids(actor, self.access.grids_of, self.access.all_grids)
        villages = ([v.id for v in self.s.config.villages] if actor.is_admin
                    else sorted(actor.admin_villages))  # fmt: skip
        found = await tips.open_in(self.s.db, grids, villages)
        if not found:
            return
        now = self.s.now()
        items = [service.card_params(self.s, t, None) for t in found]
        buttons = [[(self.s.text(locale, "tips", "btn_open", now=now, **item),
                     callback(service.FLOW, "o", str(t.id)))]
                   for t, item in zip(found, items, strict=True)]  # fmt: skip
        await update.effective_chat.send_message(
            self.s.text(locale, "tips", "tasks", items=items, now=now),
            parse_mode=ParseMode.HTML, reply_markup=keyboard(buttons),
        )  # fmt: skip

    async def on_action(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, service.FLOW) or []
        actor = await self.access.actor(update.effective_user)
        tip = None
        if len(parts) in (2, 3) and parts[0] in self.ACTIONS and parts[1].isdigit():
            tip = await tips.view(self.s.db, int(parts[1]))
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
        matches = await service.matches_for(self.s.db, self.s, tip)
        async with self.s.db.write() as conn:
            await audit.record(conn, self.s.now(), actor.user_id, "view:tip",
                               service.subject(tip.id))  # fmt: skip
        chat = update.effective_chat
        if tip.photo_file_id:
            await chat.send_photo(tip.photo_file_id)
        params = service.card_params(self.s, tip, matches)
        markup = _markup(service.card_markup(self.s, locale, tip))
        await chat.send_message(self.s.text(locale, "tips", "card", head="card", **params),
                                parse_mode=ParseMode.HTML, reply_markup=markup)  # fmt: skip

    async def _take(self, update: Update, actor: Actor, locale: str, tip: TipView) -> None:
        done = await service.start_checking(self.s, tip.id, actor.user_id)
        message = update.callback_query.message
        taken = await tips.view(self.s.db, tip.id) if done else None
        if taken is not None and message is not None:  # the card loses its "start" button
            try:
                await message.edit_reply_markup(_markup(service.card_markup(self.s, locale, taken)))
            except TelegramError as exc:  # too old to edit: the state is stored all the same
                log.info("tip %s: card not updated: %s", tip.id, exc)
        name = "taken" if done else "already_taken"
        await update.effective_chat.send_message(self.s.text(locale, "tips", name, ref=tip.ref))

    async def _confirm_options(self, update: Update, locale: str, tip: TipView) -> None:
        matches = await service.matches_for(self.s.db, self.s, tip)
        await update.effective_chat.send_message(
            self.s.text(locale, "tips", "confirm_how", ref=tip.ref, matches=matches),
            parse_mode=ParseMode.HTML,
            reply_markup=_markup(service.confirm_markup(self.s, locale, tip, matches)),
        )  # fmt: skip

    async def _link(self, update: Update, actor: Actor, locale: str, tip: TipView,
                    report_id: int) -> None:  # fmt: skip
        row = await self.s.db.fetchone("SELECT id, ref, grid_id FROM reports WHERE id = ?",
                                       (report_id,))  # fmt: skip
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
