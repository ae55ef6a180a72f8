"""A leader's mobilisation call (/mobilise, 🚨 紧急动员): whom (a category, a village, a skill,
named people; narrowed: a category in a village), where, when, what, whether it is a drill,
then the confirmation card with how many the bot reaches and who is only on file (phones
to call); ``finish`` calls bot.actions.mobilisation.call. A recipient's 无法到岗 asks the
reason (``DeclineFlow``), then bot.actions.mobilisation.answer."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.actions import mobilisation as service
from bot.domain import mobilisation as domain
from bot.domain.masking import Audience
from bot.domain.roles import Actor
from bot.domain.steps import Data, Step, store_answer
from bot.flows.answer import AnswerFlow, Opened
from bot.flows.engine import SUMMARY, Next, Result
from bot.flows.table import TableFlow
from storage.drafts import Draft


class MobiliseFlow(TableFlow):
    name = "mobilise"
    prefix = "dyf"  # v1:dyf:<token>:<step>:<value>
    module = "mobilisation"
    permission = "mobilisation.call"
    rules = domain

    def may_start(self, actor: Actor) -> bool:
        return actor.is_leader or actor.is_admin

    def context(self) -> domain.Context:
        config = self.s.config
        return domain.Context(categories=config.staff.category_ids(),
                              villages=tuple(v.id for v in config.villages),
                              skills=config.staff.skill_ids())  # fmt: skip

    def label(self, draft: Draft, step: str, value: str) -> str:
        """A category's, skill's or named person's button (a chosen person ticked)."""
        if step in (domain.CATEGORY, domain.SKILL) and value != domain.ANY:
            return service.kind_name(self.s, draft.locale, step, value)
        if step == domain.PEOPLE and value.isdigit():
            names = {str(i): name for i, name in draft.data.get("roster", ())}
            chosen = int(value) in draft.data.get("people", ())
            return self.s.text(draft.locale, self.module, "person_choice", name=names[value],
                               chosen=chosen)  # fmt: skip
        return super().label(draft, step, value)

    def question_text(self, draft: Draft) -> str:
        return self.s.text(draft.locale, self.module, f"ask_{draft.step}", Audience.ENTITLED,
                           data=draft.data, page=domain.page_of(draft.data)[0],
                           who=service.target_label(self.s, draft.locale,
                                                    domain.target(draft.data))
                           if draft.data.get("target") else "")  # fmt: skip

    def summary_text(self, draft: Draft) -> str:
        return self.s.text(draft.locale, self.module, "summary", Audience.ENTITLED,
                           data=draft.data,
                           who=service.target_label(self.s, draft.locale,
                                                    domain.target(draft.data)))  # fmt: skip

    async def on_button(self, update: Update, draft: Draft, value: str) -> Result:
        """Named people: the roster to choose from is read as the target is chosen; the
        confirmation card: who the call reaches, read as it is shown."""
        result = await super().on_button(update, draft, value)
        if draft.step == "target" and value == domain.PEOPLE and isinstance(result, Next):
            listed = [[p["id"], p["name"]] for p in await service.everyone(self.s)]
            result = Next(result.step, {**result.data, "roster": listed})
        return await self._reach(result)

    async def on_message(self, update: Update, draft: Draft) -> Result:
        return await self._reach(await super().on_message(update, draft))

    async def _reach(self, result: Result) -> Result:
        if not isinstance(result, Next) or result.step != SUMMARY:
            return result
        return Next(SUMMARY, {**result.data, "reach": await service.reach(self.s, result.data)})

    async def finish(self, update: Update, draft: Draft) -> None:
        called = await service.call(self.s, draft.data, draft.user_id, draft.chat_id, draft.token)
        if called is None:  # the people left the roster meanwhile: change the target
            await self.drop(draft)
        name = "sent" if called else "nobody"
        await self.s.replies.send(draft.chat_id, self.s.text(draft.locale, self.module, name))


class DeclineFlow(AnswerFlow):
    """无法到岗: the reason, typed in the recipient's private chat."""

    name = "mobilise_decline"
    module = "mobilisation"
    answer = Step("reason", text=store_answer("reason", domain.parse_reason))

    async def ask_reason(self, update: Update, row: Any) -> Opened:
        data: Data = {"mobilisation": row["id"], "ref": row["ref"], "drill": bool(row["drill"])}
        return await self.open(update, data, update.effective_user.id)

    async def finish(self, update: Update, draft: Draft) -> None:
        outcome = await service.answer(self.s, draft.data["mobilisation"], draft.user_id,
                                       domain.DECLINED, draft.data["reason"],
                                       draft.token)  # fmt: skip
        if outcome != "done":
            await self.drop(draft)
        await self.s.replies.send(draft.chat_id, self.s.text(draft.locale, self.module,
                                                             f"answer_{outcome}",
                                                             state=domain.DECLINED))  # fmt: skip
