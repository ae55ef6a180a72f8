"""``StepConversation``: a flow of the conversation runtime (bot/flows/engine.py) written as
a few methods instead of a step table, for the staff flows (invite binding, verification,
door-to-door visit). The runtime keeps every rule: the draft is written before the next
question, buttons carry the draft's token and step, a stale button is refused."""

from __future__ import annotations

from typing import Any

from telegram import Message, ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler

from bot.domain.callbacks import button, inline_markup
from bot.domain.invalid import Invalid
from bot.flows.engine import Draft, Flow, Next, Result
from bot.runtime.services import Services
from handlers.router import Router

__all__ = ["Next", "Result", "StepConversation"]


class StepConversation(Flow):
    def __init__(self, services: Services, router: Router) -> None:
        super().__init__(services, router.engine)
        self.router = router

    def handlers(self) -> list[BaseHandler]:
        return []  # its buttons and answers reach it through the router

    # -- to implement ----------------------------------------------------------------------

    def on_text(self, draft: Draft, message: Message) -> Result:
        return Invalid("expect_choice")

    def on_choice(self, draft: Draft, value: str) -> Result:
        return Invalid("choice_stale")

    # -- the runtime's hooks ---------------------------------------------------------------

    async def on_message(self, update: Update, draft: Draft) -> Result:
        message = update.effective_message
        if message.text is None and message.contact is None:
            return Invalid("expect_text")
        return self.on_text(draft, message)

    async def on_button(self, update: Update, draft: Draft, value: str) -> Result:
        return self.on_choice(draft, value)

    def buttons(self, draft: Draft, choices: list[tuple[str, str]], per_row: int = 2) -> Any:
        """Inline buttons for (label, value) pairs of the open step; none: remove a keyboard."""
        if not choices:
            return ReplyKeyboardRemove()
        buttons = [button(label, self.button(draft, value)) for label, value in choices]
        return inline_markup([buttons[i : i + per_row] for i in range(0, len(buttons), per_row)])
