"""Adding or changing an isolation site in chat (admins, from /sites): a new site asks its
name, address, village, rooms and capacity; a change asks which field, then that one (rooms
that no longer hold the capacity ask the capacity too). The finish saves it in one
transaction (bot.actions.sites.save). Texts: templates/*/sites.j2."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.actions import sites as service
from bot.domain import sites as rules
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor, can_edit_sites
from bot.domain.sites import SiteSpec
from bot.domain.steps import Data, Step, Updates, fixed_choices, store_answer
from bot.flows.table import TableFlow
from storage.drafts import Draft

FIELDS = ("name", "address", "rooms", "capacity")
ALL_ROOMS = "all"  # the capacity's button: one person a room


def _rooms(text: str, data: Data, ctx: Any) -> Updates | Invalid:
    rooms = rules.parse_rooms(text)
    return rooms if isinstance(rooms, Invalid) else {"rooms": list(rooms)}


def _capacity(text: str, data: Data, ctx: Any) -> Updates | Invalid:
    capacity = rules.parse_capacity(text, len(data["rooms"]))
    return capacity if isinstance(capacity, Invalid) else {"capacity": capacity}


STEPS = {
    step.key: step
    for step in (
        Step("field", choices=fixed_choices(FIELDS), per_row=2),
        Step("name", text=store_answer("name", rules.parse_name)),
        Step("address", text=store_answer("address", rules.parse_address)),
        Step("village", choices=lambda data, villages: villages, per_row=2),
        Step("rooms", text=_rooms),
        Step("capacity", choices=fixed_choices((ALL_ROOMS,)), text=_capacity),
    )
}
NEW = {"name": "address", "address": "village", "village": "rooms", "rooms": "capacity"}


def next_step(step: str, data: Data) -> str | None:
    """A new site asks every field in turn; a change, the one field chosen (and the capacity
    again when the new rooms cannot hold it)."""
    if step == "field":
        return data["field"]
    if not data.get("site"):
        return NEW.get(step)
    if step == "rooms" and data["capacity"] > len(data["rooms"]):
        return "capacity"
    return None


class SiteFlow(TableFlow):
    name = "sites"
    prefix = "sf"  # v1:sf:<token>:<step>:<value>
    module = "sites"
    permission = "sites.edit"
    steps = STEPS
    first_step = "name"

    def may_start(self, actor: Actor) -> bool:
        return can_edit_sites(actor)

    def context(self) -> tuple[str, ...]:
        return tuple(v.id for v in self.s.config.villages)

    def choose(self, step: Step, value: str, data: Data) -> Updates | Invalid:
        if value not in step.values(data, self.context()):
            return Invalid("choice_stale")
        if step.key == "field":
            return {"field": value}
        if step.key == "village":
            return {"village": value}
        return {"capacity": len(data["rooms"])}  # ALL_ROOMS

    def advance(self, step: str, updates: Updates, data: Data) -> tuple[str | None, Data]:
        merged = {**data, **updates}
        return next_step(step, merged), merged

    def question_text(self, draft: Draft) -> str:
        return self.s.text(draft.locale, self.module, f"ask_{draft.step}", data=draft.data)

    async def edit(self, update: Update, site: dict[str, Any], rooms: list[str]) -> None:
        """Open a change of ``site`` at the choice of the field."""
        data = {
            "site": site["id"],
            "site_name": site["name"],
            "name": site["name"],
            "address": site["address"],
            "rooms": rooms,
            "capacity": site["capacity"],
        }
        await self.start(update, "field", data)

    async def finish(self, update: Update, draft: Draft) -> None:
        data = draft.data
        spec = SiteSpec(
            id=data.get("site", ""),
            name=data["name"],
            address=data["address"],
            village_id=data.get("village"),
            rooms=tuple(data["rooms"]),
            capacity=data["capacity"],
        )
        outcome = await service.save(
            self.s, draft.user_id, draft.token, spec, new=not data.get("site")
        )
        if outcome is None:
            return  # a double tap: saved already
        text = self.s.text(
            draft.locale,
            self.module,
            "saved",
            result=outcome.result,
            s=outcome.site,
            new=not data.get("site"),
        )
        await self.s.replies.send(draft.chat_id, text)
