"""填报 on a daily unit report's card: people present, new arrivals today, of whom from key
regions, with fever or symptoms, a note (optional), then the summary card; ``finish`` files
it (bot.actions.unit_reports.file). Each count is checked as it is typed (a clear reason and
the same question again). Texts: templates/*/unit_reports.j2."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.actions import unit_reports as service
from bot.domain import unit_reports as domain
from bot.domain.masking import Audience
from bot.domain.roles import Actor, can_file_unit_report
from bot.domain.steps import Data
from bot.domain.units import subject as unit_subject
from bot.flows.table import TableFlow
from storage.drafts import Draft


class UnitReportFlow(TableFlow):
    name = "unit_report"
    prefix = "urf"  # v1:urf:<token>:<step>:<value>
    module = "unit_reports"
    permission = "unit.report"
    rules = domain

    def may_start(self, actor: Actor) -> bool:
        return actor.is_staff  # the unit itself: checked on the card's button and at commit

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return self.permission or "", unit_subject(draft.data["unit"])

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        data = draft.data
        return can_file_unit_report(actor, data["unit"], data["village"], data.get("grid"))

    def missing(self, data: Data) -> tuple[str, Data] | None:
        step = domain.missing_step(data)
        return (step, {}) if step else None

    def question_text(self, draft: Draft) -> str:
        return self.s.text(draft.locale, self.module, f"ask_{draft.step}", Audience.ENTITLED,
                           data=service.shown(draft.data))  # fmt: skip

    def summary_text(self, draft: Draft) -> str:
        return self.s.text(draft.locale, self.module, "summary", Audience.ENTITLED,
                           data=service.shown(draft.data))  # fmt: skip

    async def open(self, update: Update, report: Any) -> bool:
        """Start 填报 of ``report`` (a row of storage.unit_reports.get)."""
        data = {"report": report["id"], "unit": report["unit_id"], "unit_name": report["unit_name"],
                "village": report["village_id"], "grid": report["grid_id"],
                "headcount": report["headcount"], "kind": report["unit_kind"], "day": report["day"],
                "slot": report["slot"]}  # fmt: skip
        return await self.start(update, self.first_step, data)

    async def finish(self, update: Update, draft: Draft) -> None:
        actor = await self.engine.gate.actor(update.effective_user)
        figures = domain.Figures.from_answers(draft.data)
        outcome = await service.file(self.s, actor, draft.data["report"], figures, draft)
        if isinstance(outcome, service.Refused):  # a role lost since the commit check
            await self.drop(draft)
            await self.engine.gate.refuse(
                update,
                actor,
                self.permission or "",
                unit_subject(draft.data["unit"]),
                "not_submitted",
            )
            return
        text = service.filed_text(self.s, draft.locale, outcome, zero=False)
        await self.s.replies.send(draft.chat_id, text)
