"""Staff filed by category: an admin's 人员档案 form (/staff → 人员档案 → 新建档案: name, phone,
category, village and grid, skills toggled, availability, then the summary card; ``finish``
calls bot.actions.roster.file and gives the join link), and the phone asked in /me (typed or
the contact card, re-asked with its reason). Texts: templates/*/roster.j2."""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update

from bot.actions import roster as service
from bot.domain import roster as domain
from bot.domain.masking import Audience
from bot.domain.parsing import parse_phone
from bot.domain.roles import Actor
from bot.domain.steps import Data, Step, store_answer
from bot.flows.answer import AnswerFlow
from bot.flows.engine import Draft
from bot.flows.table import TableFlow


class RosterFlow(TableFlow):
    name = "roster"
    prefix = "rsf"  # v1:rsf:<token>:<step>:<value>
    module = "roster"
    permission = "roster.add"
    rules = domain

    def may_start(self, actor: Actor) -> bool:
        return domain.may_view(actor)

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        """Still entitled to file for the chosen village (a role may be lost meanwhile)."""
        return domain.may_file(actor, draft.data.get("village_id"))

    def context(self) -> domain.Context:
        config = self.s.config
        return domain.Context(config.staff.category_ids(), config.staff.skill_ids(),
                              config.grid_ids())  # fmt: skip

    def missing(self, data: Data) -> tuple[str, Data] | None:
        step = domain.missing_step(data)
        return (step, data) if step else None

    def label(self, draft: Draft, step: str, value: str) -> str:
        """A category's or skill's name (a held skill ticked), else the shared labels."""
        if step == "category":
            return service.names(self.s, draft.locale, "category").get(value, value)
        if step == "skills" and value != domain.DONE:
            name = service.names(self.s, draft.locale, "skill").get(value, value)
            held = value in draft.data.get("skills", ())
            return self.s.text(draft.locale, self.module, "skill_toggle", name=name, held=held)
        if step == "village_id":
            village = self.s.config.village(value)
            return village.name if village else value
        if step == "grid_id" and (found := self.s.config.grid(value)):
            return found[1].name
        return super().label(draft, step, value)

    def summary_text(self, draft: Draft) -> str:
        person = service.shown(self.s, draft.locale, draft.data)
        return self.s.text(draft.locale, self.module, "summary", Audience.ENTITLED,
                           data=draft.data, person=person)  # fmt: skip

    async def finish(self, update: Update, draft: Draft) -> None:
        filed = await service.file(self.s, draft.user_id, draft.token, draft.data)
        if filed is None:
            return  # a double tap: filed before
        link = domain.join_link(self.s.bot.username or "", filed.token)
        text = self.s.text(draft.locale, self.module, "filed", name=draft.data["name"], link=link)
        await self.s.replies.send(draft.chat_id, text, reply_markup=ReplyKeyboardRemove())


class PhoneFlow(AnswerFlow):
    """/me's 修改手机号: the new number typed or the person's own contact card."""

    name = "roster_phone"
    prefix = "rsp"
    module = "roster"
    answer = Step("new_phone", text=store_answer("phone", parse_phone), contact=True)

    async def finish(self, update: Update, draft: Draft) -> None:
        row = await service.change(self.s, draft.user_id, draft.data["roster_id"],
                                   {"phone": draft.data["phone"]}, draft.token)  # fmt: skip
        if row is None:
            return
        text = self.s.text(draft.locale, self.module, "phone_changed", phone=row["phone"])
        await self.s.replies.send(draft.chat_id, text, reply_markup=ReplyKeyboardRemove())
