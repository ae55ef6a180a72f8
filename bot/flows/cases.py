"""/case: a worker, village admin or leader reports a discovered case (定人定位定状态), as a
flow: the steps of bot.domain.cases, the questions of templates/*/cases.j2, the case stored
by bot.actions.cases (which starts its 2-hour direct-report clock). And the direct-report
number a leader types after pressing "已网络直报" (draft flow "case_report"), which stops it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from telegram import InlineKeyboardMarkup, Update
from telegram.error import Forbidden

from bot.actions import cases as service
from bot.actions.arrivals import person_for
from bot.domain import cases as domain
from bot.domain.invalid import Invalid
from bot.domain.masking import Audience
from bot.domain.roles import Actor, can_report_case, can_see_grid
from bot.domain.steps import Data, Lookup, Step, Updates, store_answer
from bot.flows.answer import AnswerFlow
from bot.flows.engine import Engine
from bot.flows.table import TableFlow
from bot.runtime.services import Services
from storage import arrivals
from storage import cases as store
from storage.cases import NewCase
from storage.drafts import Draft


class CaseFlow(TableFlow):
    name = "case"
    prefix = "case"  # v1:case:<token>:<step>:<value>
    module = "cases"
    permission = "case.report"
    rules = domain

    def __init__(self, services: Services, engine: Engine) -> None:
        super().__init__(services, engine)
        self._villages = services.config.grid_ids()

    def may_start(self, actor: Actor) -> bool:
        return actor.is_staff

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return "case.report", f"grid:{draft.data.get('grid')}"

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        """Only in a grid the reporter answers for (a leader: anywhere)."""
        grid = draft.data.get("grid")
        return bool(grid) and can_report_case(actor, grid, self.engine.gate.village_of)

    def context(self) -> domain.Context:
        return domain.Context(villages=self._villages,
                              now=self.s.now().astimezone(self.s.config.tz))  # fmt: skip

    def missing(self, data: Data) -> tuple[str, Data] | None:
        step = domain.missing_for_submit(data, self.context())
        return (step, data) if step else None

    async def resolve(self, update: Update, draft: Draft, lookup: Lookup) -> Updates | Invalid:
        """The person of an arrival report, if the reporter may see it. A report out of their
        scope gets the same answer as a missing one: its existence is not revealed."""
        gate = self.engine.gate
        actor = await gate.actor(update.effective_user)
        row = await arrivals.by_ref(self.s.db, lookup.value)
        if row is None or not can_see_grid(actor, row["grid_id"], gate.village_of):
            return Invalid("case_ref_not_found", {"ref": lookup.value})
        person = await person_for(self.s, row["id"], actor.user_id, "case")
        return {"report_id": row["id"], "report_ref": row["ref"], "name": person.name,
                "phone": person.phone, "id_number": person.id_number,
                "village": row["village_id"], "grid": row["grid_id"],
                "address": row["address"]}  # fmt: skip

    async def confirm_from(self, update: Update, case: Any) -> None:
        """定人定位定状态 of a positive result's case, in the presser's private chat: the
        person and discovery time prefilled; submitting confirms the case."""
        data = await service.prefill(self.s, case, update.effective_user.id)
        await self.engine.start(update, self, data, self.first_step,
                                chat_id=update.effective_user.id)  # fmt: skip

    async def made_from(self, token: str) -> str | None:
        row = await store.by_draft(self.s.db, token)
        return row["ref"] if row else None

    def intro(self, draft: Draft) -> str:
        return self.s.text(draft.locale, "cases", "intro")

    def label(self, draft: Draft, step: str, value: str) -> str:
        if step == "location":
            return self.s.text(draft.locale, "cases", "skip_location")
        return super().label(draft, step, value)

    def summary_text(self, draft: Draft) -> str:
        data = draft.data
        village = self.s.config.village(data.get("village") or "")
        found = self.s.config.grid(data.get("grid") or "")
        found_at = datetime.fromisoformat(data["discovered_at"]).astimezone(self.s.config.tz)
        return self.s.text(draft.locale, "cases", "summary", Audience.ENTITLED, data=data,
                           village=village.name if village else "",
                           grid=found[1].name if found else "", discovered=found_at)  # fmt: skip

    async def finish(self, update: Update, draft: Draft) -> None:
        data = draft.data
        details = NewCase(
            draft_token=draft.token, kind=data["kind"], report_id=data.get("report_id"),
            person_name=data["name"], person_phone=data.get("phone"),
            person_id_number=data.get("id_number"), village_id=data["village"],
            grid_id=data["grid"], address=data["address"], latitude=data.get("latitude"),
            longitude=data.get("longitude"), status=data["status"], reported_by=draft.user_id,
            discovered_at=datetime.fromisoformat(data["discovered_at"]),
        )  # fmt: skip
        if data.get("case_id"):  # 定人定位定状态 of a positive result's case: confirms it
            case_id = data["case_id"]
            if not await service.confirm(self.s, case_id, draft.user_id, display_name(update),
                                         details, draft.token):  # fmt: skip
                await self.s.replies.send(
                    draft.chat_id, self.s.text(draft.locale, "cases", "confirm_again")
                )
                return
        else:
            stored = await service.store(self.s, details, draft.user_id)
            if stored is None:
                return  # a double tap: the first one answered
            case_id = stored.id
        case, ticks = await service.load(self.s.db, case_id)
        params = service.card_params(self.s, case, ticks, self.s.now())
        markup = service.staff_markup(self.s, draft.locale, case, ticks)
        await self.s.replies.send(
            draft.chat_id, self.s.text(draft.locale, "cases", "receipt", c=params),
            reply_markup=InlineKeyboardMarkup.de_json(markup, None),
        )  # fmt: skip


def display_name(update: Update) -> str:
    """Who ticked, acknowledged or reported, as the case's messages name them."""
    user = update.effective_user
    return user.full_name or str(user.id)


class DirectReportFlow(AnswerFlow):
    """The direct-report number, asked in the leader's private chat after "已网络直报" was
    pressed (in the group, or on an escalation)."""

    name = "case_report"
    module = "cases"
    answer = Step("number", text=store_answer("number", domain.parse_direct_report_no))

    async def ask_number(self, update: Update, case: Any) -> Literal["asked", "busy", "blocked"]:
        """Ask in the presser's private chat; "blocked" when the bot may not write there (the
        leader never opened a private chat with it): then no draft is left open."""
        user = update.effective_user
        try:
            return await self.open(update, {"case_id": case["id"], "ref": case["ref"]}, user.id)
        except Forbidden:
            draft = await self.engine.open_draft(user.id)
            if draft is not None and draft.flow == self.name:
                await self.drop(draft)
            return "blocked"

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return "case.r", service.subject(draft.data["case_id"])

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        """Still a leader (they may have left the leadership group since pressing)."""
        return actor.is_leader

    def question_text(self, draft: Draft) -> str:
        # a draft opened before the reference was stored with it asks without it
        return self.s.text(draft.locale, "cases", "ask_number", ref=draft.data.get("ref", ""))

    async def finish(self, update: Update, draft: Draft) -> None:
        """Record the number (the presser is still a leader: ``may_commit``)."""
        case_id = draft.data["case_id"]
        actor = await self.engine.gate.actor(update.effective_user)
        done = await service.record_direct_report(
            self.s, case_id, draft.data["number"], actor.user_id, display_name(update),
            draft.user_id, draft.token,
        )  # fmt: skip
        case = await store.get(self.s.db, case_id)
        text = self.s.text(draft.locale, "cases", "number_recorded" if done else "already_reported",
                           ref=case["ref"], number=case["direct_report_no"] or "",
                           name=case["reported_by_name"] or "")  # fmt: skip
        await self.s.replies.send(draft.chat_id, text)
