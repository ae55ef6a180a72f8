"""A flow of one typed answer, opened by a button on a message rather than by a command: the
temperature typed instead of pressed on a check-in prompt, a worker's reason on a /monitor
card, a leader's direct-report number after "已网络直报". Its one Step parses the answer;
then the flow finishes (no summary card) and its ``finish`` calls one action."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Literal

from telegram import Update

from bot.domain.steps import Data, Step, Updates
from bot.flows.table import TableFlow

Opened = Literal["asked", "busy"]


class AnswerFlow(TableFlow):
    answer: Step  # the one question: its step table is this one row

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.steps = MappingProxyType({cls.answer.key: cls.answer})
        cls.first_step = cls.answer.key

    def advance(self, step: str, updates: Updates, data: Data) -> tuple[str | None, Data]:
        return None, {**data, **updates}  # the one answer: done

    async def open(
        self, update: Update, data: Data, chat_id: int, locale: str | None = None
    ) -> Opened:
        """Ask the question about ``data`` in ``chat_id``. The same question open already is
        asked again (the runtime's resume); another of this flow's, for another subject, is
        replaced (its button was pressed later); another flow's conversation is not taken
        over ("busy": the button says to finish that one first)."""
        open_draft = await self.engine.open_draft(update.effective_user.id)
        if open_draft is not None and open_draft.flow != self.name:
            return "busy"
        if open_draft is not None and open_draft.data != data:
            await self.drop(open_draft)
        await self.engine.start(update, self, data, self.first_step, chat_id, locale)
        return "asked"
