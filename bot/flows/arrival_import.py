"""A unit's arrivals from a spreadsheet, sent in private by its liaison or by staff who follow
the unit (draft flow "arrival_import"): one question ("send the file", with the template to
download under it), answered by a document. The file is fetched (getFile), read and checked
row by row as the arrival form would, then imported whole by bot.actions.arrival_import — or,
with any row rejected, not at all: the sender reads why per row and sends the fixed file again
to the same open question."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.actions import arrival_import as service
from bot.actions import units
from bot.domain import arrival_import as domain
from bot.domain import units as unit_rules
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor
from bot.flows.contact_import import ContactImportFlow
from storage.drafts import Draft

FILE = "file"  # the one step


class ArrivalImportFlow(ContactImportFlow):
    """The CDC list's import (one file question, fetched by getFile) for a unit's people: the
    document's answer and its download are that flow's."""

    name = "arrival_import"
    module = service.MODULE
    permission = service.PERMISSION

    def may_start(self, actor: Actor) -> bool:
        return actor.is_staff  # the unit itself is checked before (handlers) and at commit

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return service.PERMISSION, unit_rules.subject(draft.data["unit_id"])

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        """A liaison who lost the unit, or staff moved off its grid, imports nothing."""
        row = await units.unit(self.s, draft.data["unit_id"])
        return service.may_import(self.s, actor, row)

    def question(self, draft: Draft) -> tuple[str, Any]:
        text = self.s.text(draft.locale, self.module, "ask_file", unit=draft.data["unit_name"],
                           limit=domain.MAX_ROWS)  # fmt: skip
        return text, service.template_markup(self.s, draft.locale, draft.data["unit_id"])

    def reason(self, locale: str, invalid: Invalid) -> str:
        return service.reason(self.s, locale, invalid)

    async def finish(self, update: Update, draft: Draft) -> None:
        row = await units.unit(self.s, draft.data["unit_id"])
        unit = service.unit_of(self.s, row) if row is not None else Invalid("import_unit_gone")
        data = await self._download(draft.data["file_id"])
        if isinstance(unit, Invalid) or isinstance(data, Invalid):
            await self.engine.re_ask(self, draft, unit if isinstance(unit, Invalid) else data)
            return
        parsed = service.check(self.s, data, unit)
        if isinstance(parsed, Invalid):
            await self.engine.re_ask(self, draft, parsed)
            return
        file_name = draft.data["file_name"]
        outcome = await service.commit(self.s, unit.id, parsed, file_digest=service.digest(data),
                                       file_name=file_name, draft=draft)  # fmt: skip
        for part in service.summary(self.s, draft.locale, outcome, parsed, file_name):
            await self.s.replies.send(draft.chat_id, part)
