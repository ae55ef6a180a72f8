"""/regions: admins and leaders list the key regions and add one, change its risk or end it,
as a flow over bot.domain.regions' steps; ``finish`` calls bot.actions.regions.change,
which writes the regions file and re-screens everyone registered."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.actions import regions as service
from bot.domain import regions as domain
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor, can_manage_regions
from bot.domain.steps import Data
from bot.flows.table import TableFlow
from storage.drafts import Draft


class RegionsFlow(TableFlow):
    name = "regions"
    prefix = "rg"  # v1:rg:<token>:<step>:<value>
    module = "regions"
    permission = "regions.manage"
    rules = domain

    def may_start(self, actor: Actor) -> bool:
        return can_manage_regions(actor)

    def context(self) -> domain.Context:
        return domain.Context(self.s.local_today(), self.s.regions.current())

    def missing(self, data: Data) -> tuple[str, Data] | None:
        step = domain.missing_step(data)
        return (step, {}) if step else None

    def _listed(self) -> list[dict[str, Any]]:
        return [domain.region_to_dict(r) for r in self.s.regions.current()]

    def question_text(self, draft: Draft) -> str:
        extra = {"regions": self._listed()} if draft.step in ("menu", "pick") else {}
        return self.s.text(draft.locale, self.module, f"ask_{draft.step}", data=draft.data,
                           **extra)  # fmt: skip

    def label(self, draft: Draft, step: str, value: str) -> str:
        if step == "pick":
            listed = self._listed()
            index = int(value) if value.isdigit() else len(listed)
            if index < len(listed):
                return self.s.text(draft.locale, self.module, "region_label", r=listed[index])
        return super().label(draft, step, value)

    async def made_from(self, token: str) -> str | None:
        change = await service.made_by(self.s, token)
        return None if change is None else str(change)

    async def finish(self, update: Update, draft: Draft) -> None:
        edit = domain.edit_of(draft.data)
        if edit is None:  # a restored draft that lost an answer: start over
            await self.engine.re_ask(self, draft, Invalid("incomplete"))
            return
        outcome = await service.change(self.s, draft.user_id, edit, draft.token)
        if isinstance(outcome, Invalid):
            await self.engine.re_ask(self, draft, outcome)
            return
        if not await self.drop(draft):
            return
        text = self.s.text(draft.locale, self.module, "receipt", data=draft.data,
                           upgraded=outcome.upgraded, proposed=outcome.proposed)  # fmt: skip
        await self.s.replies.send(draft.chat_id, text)
