"""/stats' 自选日期: the range of days typed (``11月1日-11月20日``, ``2020-11-01 至
2020-11-20``), re-asked with the reason until it parses; then the same view over it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from telegram import Update

from bot.actions import stats as service
from bot.domain import stats as rules
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor
from bot.domain.steps import Data, Step, Updates
from bot.flows.answer import AnswerFlow, Opened
from storage.drafts import Draft


def _typed(text: str, data: Data, today: date) -> Updates | Invalid:
    parsed = rules.parse_range(text, today)
    if isinstance(parsed, Invalid):
        return parsed
    return {"start": parsed[0].isoformat(), "end": parsed[1].isoformat()}


class RangeFlow(AnswerFlow):
    name = "stats_range"
    prefix = rules.RANGE_FLOW  # v1:tjr:<token>:<step>:<value>
    module = "stats"
    permission = "stats"
    answer = Step("range", text=_typed)

    def context(self) -> date:
        return self.s.local_today()

    def may_start(self, actor: Actor) -> bool:
        return rules.may_view(actor)

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        return service.permits(self.s, actor, self._query(draft.data))

    async def ask(self, update: Update, query: rules.Query) -> Opened:
        return await self.open(update, {"query": rules.encode(query)}, update.effective_user.id)

    def _query(self, data: Data) -> rules.Query:
        query = rules.decode(data["query"], self.s.local_today())
        assert query is not None  # encoded by ask()
        if "start" in data:
            start, end = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
            return replace(query, start=start, end=end)
        return query

    async def finish(self, update: Update, draft: Draft) -> None:
        await self.drop(draft)
        actor = await self.engine.gate.actor(update.effective_user)
        answer = await service.show(self.s, actor, self._query(draft.data), draft.locale)
        await self.s.replies.send(draft.chat_id, answer.text, reply_markup=answer.markup)
