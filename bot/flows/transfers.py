"""A transfer's cancellation reason, typed in the canceller's private chat after 取消转运
(draft flow "transfer_cancel"); the cancellation itself is bot.actions.transfers.cancel."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.actions import transfers as service
from bot.domain import transfers as domain
from bot.domain.roles import Actor, can_dispatch
from bot.domain.steps import Step, store_answer
from bot.flows.answer import AnswerFlow, Opened
from storage.drafts import Draft


def display_name(update: Update) -> str:
    """Who dispatched or cancelled, as the transfer's notes name them."""
    user = update.effective_user
    return user.full_name or str(user.id)


def may_cancel(actor: Actor, transfer: Any) -> bool:
    """The requester (while still staff) and the dispatchers (and admins)."""
    return can_dispatch(actor) or (actor.is_staff and transfer["requested_by"] == actor.user_id)


class CancelFlow(AnswerFlow):
    name = "transfer_cancel"
    module = "transfers"
    answer = Step("reason", text=store_answer("reason", domain.parse_reason))

    async def ask_reason(self, update: Update, transfer: Any) -> Opened:
        data = {"transfer": transfer["id"], "ref": transfer["ref"]}
        return await self.open(update, data, update.effective_user.id)

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return "transfer.cancel", service.subject(draft.data["transfer"])

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        """Still allowed to cancel it (a role can be lost while the reason is typed)."""
        transfer = await service.find(self.s, draft.data["transfer"])
        return transfer is not None and may_cancel(actor, transfer)

    async def finish(self, update: Update, draft: Draft) -> None:
        outcome = await service.cancel(self.s, draft.data["transfer"], draft.data["reason"],
                                       update.effective_user.id, display_name(update),
                                       draft.user_id, draft.token)  # fmt: skip
        text = (
            self.s.text(draft.locale, "transfers", "cancel_done", ref=draft.data["ref"])
            if outcome == "done"
            else self.s.text(draft.locale, "transfers", "cancel_again")
        )
        await self.s.replies.send(draft.chat_id, text)
