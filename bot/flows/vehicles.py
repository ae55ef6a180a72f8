"""An admin adds a transfer vehicle in chat (/vehicles → 添加车辆): its plate, kind and crew,
then the summary card; ``finish`` calls bot.actions.vehicles.add."""

from __future__ import annotations

from telegram import Update

from bot.actions import vehicles as service
from bot.domain import vehicles as domain
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor
from bot.domain.steps import Data, Lookup, Updates
from bot.flows.table import TableFlow
from storage.drafts import Draft


class VehicleFlow(TableFlow):
    name = "vehicle"
    prefix = "vha"  # v1:vha:<token>:<step>:<value>
    module = "vehicles"
    permission = "vehicle.add"
    rules = domain

    def may_start(self, actor: Actor) -> bool:
        return actor.is_admin

    def missing(self, data: Data) -> tuple[str, Data] | None:
        step = domain.missing_step(data)
        return (step, {}) if step else None

    async def resolve(self, update: Update, draft: Draft, lookup: Lookup) -> Updates | Invalid:
        """The plate is not another vehicle's."""
        if await service.plate_taken(self.s, lookup.value):
            return Invalid("plate_taken", {"plate": lookup.value})
        return {"plate": lookup.value}

    async def finish(self, update: Update, draft: Draft) -> None:
        """Add it; a plate taken since it was checked: told, and the draft ends."""
        added = await service.add(self.s, draft.data, draft.user_id, draft.token)
        name = "added" if added else "plate_taken"
        if added is None:
            await self.drop(draft)
        await self.s.replies.send(
            draft.chat_id, self.s.text(draft.locale, self.module, name, plate=draft.data["plate"])
        )
