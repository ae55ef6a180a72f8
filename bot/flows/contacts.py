"""Adding a close contact to a case (密接排查), as a flow started from the staff's private case
card ("添加密接"): the steps of bot.domain.contacts, the questions of templates/*/contacts.j2,
the contact stored (found among everyone known, or new) by bot.actions.contacts."""

from __future__ import annotations

from datetime import date
from typing import Any

from telegram import Update

from bot.actions import contacts as service
from bot.domain import contacts as domain
from bot.domain.contacts import NOT_FOUND, is_contact_ref
from bot.domain.invalid import Invalid
from bot.domain.masking import Audience
from bot.domain.roles import Actor, can_see_grid, can_trace
from bot.domain.steps import Data, Lookup, Updates
from bot.flows.cases import display_name
from bot.flows.engine import Engine
from bot.flows.table import TableFlow
from bot.runtime.services import Services
from storage.drafts import Draft


class ContactFlow(TableFlow):
    name = "contact"
    prefix = "mjf"  # v1:mjf:<token>:<step>:<value>
    module = "contacts"
    permission = "contact.add"
    rules = domain

    def __init__(self, services: Services, engine: Engine) -> None:
        super().__init__(services, engine)
        self._villages = services.config.grid_ids()

    def may_start(self, actor: Actor) -> bool:
        return actor.is_staff

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return "contact.add", f"case:{draft.data.get('case_id')}"

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        """Still one of those who answer for the case (a revoked worker adds nobody)."""
        grid = draft.data.get("case_grid")
        return bool(grid) and can_trace(actor, grid, self.engine.gate.village_of)

    def context(self) -> domain.Context:
        return domain.Context(villages=self._villages, today=self.s.local_today())

    def missing(self, data: Data) -> tuple[str, Data] | None:
        step = domain.missing_for_submit(data, self.context())
        return (step, data) if step else None

    async def start_for(self, update: Update, case: Any) -> None:
        """The flow for ``case`` in the presser's private chat."""
        data = {"case_id": case["id"], "case_ref": case["ref"], "case_grid": case["grid_id"]}
        await self.engine.start(update, self, data, self.first_step,
                                chat_id=update.effective_user.id)  # fmt: skip

    async def resolve(self, update: Update, draft: Draft, lookup: Lookup) -> Updates | Invalid:
        """The person a reference number names, if the tracer may see their record; one out
        of their scope gets the same answer as a missing one (its existence is not told)."""
        gate = self.engine.gate
        actor = await gate.actor(update.effective_user)
        ref = lookup.value
        found = await service.lookup(self.s, ref, actor.user_id)
        if found is None or not can_see_grid(actor, found.grid_id, gate.village_of):
            return Invalid("contact_ref_not_found", {"ref": ref})
        several = len(found.names) > 1 and not is_contact_ref(ref)
        return {"ref": ref, "members": list(found.names) if several else None, "member": 0,
                "ref_name": found.names[0]}  # fmt: skip

    def intro(self, draft: Draft) -> str:
        return self.s.text(draft.locale, self.module, "intro", case_ref=draft.data["case_ref"])

    def label(self, draft: Draft, step: str, value: str) -> str:
        if step == "member":  # the tracer may see the report: its people's names in full
            return self.s.text(draft.locale, self.module, "member_choice", Audience.ENTITLED,
                               name=draft.data["members"][int(value)])  # fmt: skip
        return super().label(draft, step, value)

    def summary_text(self, draft: Draft) -> str:
        data = draft.data
        return self.s.text(draft.locale, self.module, "summary", Audience.ENTITLED, data=data,
                           case_ref=data["case_ref"],
                           exposed=date.fromisoformat(data["last_exposure"]))  # fmt: skip

    async def finish(self, update: Update, draft: Draft) -> None:
        data = draft.data
        outcome = await service.add(self.s, data["case_id"], domain.entry(data), draft.user_id,
                                    display_name(update), draft.token)  # fmt: skip
        if outcome is None:
            return  # a double tap: the first one answered
        if outcome.status == service.CASE_CLOSED:  # ruled out while the flow was open
            text = self.s.text(draft.locale, self.module, "case_closed", ref=data["case_ref"])
        elif outcome.status == NOT_FOUND:  # the record went away while the flow was open
            text = self.s.text(draft.locale, self.module, "contact_ref_not_found", ref=data["ref"])
        else:
            gate = self.engine.gate
            actor = await gate.actor(update.effective_user)
            text = await service.receipt(
                self.s,
                draft.locale,
                data["case_id"],
                outcome,
                lambda grid: can_see_grid(actor, grid, gate.village_of),
            )
        await self.s.replies.send(draft.chat_id, text)
