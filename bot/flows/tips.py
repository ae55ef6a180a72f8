"""Neighbour tips (邻里监督提供线索) as flows: the tip itself (what, where, who, since when, a
photo; bot.domain.tips's steps) and what a worker types while checking one (a note for the
outcome, or the registration number to link). Their actions are in bot.actions.tips."""

from __future__ import annotations

from datetime import date
from typing import Any

from telegram import ReplyKeyboardRemove, Update
from telegram.constants import ParseMode

from bot.actions import tips as service
from bot.domain import tips as domain
from bot.domain.cases import parse_report_ref
from bot.domain.invalid import Invalid
from bot.domain.masking import Audience
from bot.domain.roles import Actor, can_see_grid
from bot.domain.steps import Data
from bot.domain.tips import TipView
from bot.flows.engine import Engine, Flow, Gate, Next, Result, user_locale
from bot.flows.table import TableFlow
from bot.runtime.services import Services
from storage.drafts import Draft
from storage.tips import NewTip


class TipFlow(TableFlow):
    """The tip conversation (draft flow "tip")."""

    name = "tip"
    prefix = "tip"  # v1:tip:<token>:<step>:<value>
    module = "tips"
    rules = domain

    def __init__(self, services: Services, engine: Engine) -> None:
        super().__init__(services, engine)
        self._villages = services.config.grid_ids()

    def context(self) -> domain.Context:
        return domain.Context(today=self.s.local_today(), villages=self._villages)

    def prefill(self, payload: str | None) -> dict[str, Any] | None:
        """A tip poster's deep link: ``t-XF01`` a grid, ``t-xf`` a village."""
        code = domain.parse_tip_payload(payload)
        return None if code is None else self.poster_place(code)

    async def begin(self, update: Update, prefill: dict[str, Any] | None) -> None:
        """Start a tip, unless the user reached today's limit."""
        user = update.effective_user
        limit = self.s.config.tips.max_per_day
        if await service.sent_today(self.s, user.id) >= limit:
            locale = await user_locale(self.s, user)
            await update.effective_chat.send_message(
                self.s.text(locale, "tips", "limit_reached", limit=limit)
            )
            return
        await self.start(update, self.first_step, dict(prefill or {}))

    # -- rules -----------------------------------------------------------------------------

    def missing(self, data: Data) -> tuple[str, Data] | None:
        step = domain.missing_for_submit(data, self.context())
        return (step, data) if step else None

    async def made_from(self, token: str) -> str | None:
        tip = await service.by_draft(self.s, token)
        return tip.ref if tip else None

    # -- texts -----------------------------------------------------------------------------

    def _place(self, data: Data) -> str:
        if not data.get("village"):
            return ""
        village, grid = service.place_names(self.s, data["village"], data.get("grid"))
        return f"{village} {grid}".strip()

    def question_text(self, draft: Draft) -> str:
        return self.s.text(draft.locale, "tips", f"ask_{draft.step}", d=draft.data,
                           place=self._place(draft.data), town=self.s.config.town.name)  # fmt: skip

    def summary_text(self, draft: Draft) -> str:
        data = draft.data
        since = date.fromisoformat(data["since"]) if data.get("since") else None
        return self.s.text(draft.locale, "tips", "summary", Audience.ENTITLED, d=data,
                           place=self._place(data), since=since)  # fmt: skip

    def answered(self, draft: Draft, value: str) -> str | None:
        return None  # a tip's answered question only loses its buttons

    def after_answer(self, draft: Draft) -> str | None:
        if self.steps[draft.step].location is None:
            return None
        return self.s.text(draft.locale, "tips", "place_noted")  # takes the location keyboard away

    # -- submit ----------------------------------------------------------------------------

    async def finish(self, update: Update, draft: Draft) -> None:
        data, chat = draft.data, draft.chat_id
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
            text = self.s.text(draft.locale, "tips", "limit_reached", limit=limit)
            await self.s.replies.send(chat, text)
            return
        hours = round((stored.deadline_at - self.s.now()).total_seconds() / 3600, 1)
        await self.s.replies.send(
            chat, self.s.text(draft.locale, "tips", "receipt", ref=stored.ref,
                                          hours=int(hours) if hours.is_integer() else hours,
                                          symptoms=data["kind"] == "symptoms"),
            reply_markup=ReplyKeyboardRemove(),
        )  # fmt: skip


def allowed(gate: Gate, actor: Actor, tip: TipView) -> bool:
    return domain.can_check(actor, tip.village_id, tip.grid_id, gate.village_of)


async def done_message(services: Services, update: Update, locale: str, tip: TipView,
                       outcome: str | None, report_ref: str | None = None) -> None:  # fmt: skip
    """What the worker is told after acting; ``outcome`` None: someone closed it already."""
    name = "done" if outcome else "already_closed"
    await update.effective_chat.send_message(
        services.text(locale, "tips", name, ref=tip.ref, outcome=outcome or "",
                      report_ref=report_ref or ""),
        parse_mode=ParseMode.HTML,
    )  # fmt: skip


class TipCheckFlow(Flow):
    """What a worker types while checking a tip (draft flow "tip_check"): a note for the
    outcome (step "note"), or the registration number to link (step "ref")."""

    name = "tip_check"
    prefix = "tc"
    module = "tips"

    def question(self, draft: Draft) -> tuple[str, Any]:
        data = draft.data
        text = self.s.text(draft.locale, "tips", f"ask_{draft.step}", ref=data["ref"],
                           outcome=data["outcome"])  # fmt: skip
        if draft.step != "note":
            return text, ReplyKeyboardRemove()
        skip = self.s.text(draft.locale, "tips", "choice", step="note", value="skip")
        return text, {
            "inline_keyboard": [[{"text": skip, "callback_data": self.button(draft, "skip")}]]
        }

    async def on_button(self, update: Update, draft: Draft, value: str) -> Result:
        if draft.step == "note" and value == "skip":
            return Next(None, {**draft.data, "note": None})
        return Invalid("choice_stale")

    async def on_message(self, update: Update, draft: Draft) -> Result:
        text = update.effective_message.text
        if text is None:
            return Invalid("expect_text")
        if draft.step == "ref":
            return await self._lookup(update, text, draft)
        note = domain.parse_note(text)
        return note if isinstance(note, Invalid) else Next(None, {**draft.data, "note": note})

    async def _lookup(self, update: Update, text: str, draft: Draft) -> Result:
        """A registration the worker may see; one out of scope is answered as a missing one."""
        ref = parse_report_ref(text)
        if isinstance(ref, Invalid):
            return Invalid("tips.ref_format")
        actor = await self.engine.gate.actor(update.effective_user)
        row = await service.report_by_ref(self.s, ref)
        if row is None or not can_see_grid(actor, row["grid_id"], self.engine.gate.village_of):
            return Invalid("tips.ref_not_found", {"ref": ref})
        return Next(None, {**draft.data, "report_id": row["id"], "report_ref": row["ref"]})

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return "tip.check", service.subject(draft.data["tip_id"])

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        tip = await service.view(self.s, draft.data["tip_id"])
        return tip is not None and allowed(self.engine.gate, actor, tip)

    async def finish(self, update: Update, draft: Draft) -> None:
        data = draft.data
        actor = await self.engine.gate.actor(update.effective_user)
        tip = await service.view(self.s, data["tip_id"])
        if tip is None or not await self.drop(draft):
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
