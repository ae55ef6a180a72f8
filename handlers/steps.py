"""A small step conversation over a draft (flow name, step, answers), for the staff flows
(invite binding, verification, door-to-door visit). The arrival report has its own, larger
machinery in handlers/arrival.py; this one keeps the same rules: the draft is written before
the next question, buttons carry the draft's token and step, a stale button is refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from telegram import Message, ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes

from bot.domain.invalid import Invalid
from bot.runtime import api
from bot.runtime.services import Services
from handlers.common import callback, callback_pattern, chunk, keyboard, parse_callback, user_locale
from handlers.router import Router
from storage import drafts
from storage.drafts import Draft


@dataclass(frozen=True)
class Next:
    """Go on to ``step`` (None: the conversation is complete) with ``data``."""

    step: str | None
    data: dict[str, Any]


Result = Next | Invalid
Question = Callable[[Draft], tuple[str, Any]]  # a flow's question(draft): text, reply markup
Ask = Callable[[int, Draft | None], Awaitable[None]]  # a flow's ask(chat_id, draft)


# -- shared by every draft conversation ----------------------------------------------------
#
# StepConversation below, and the flows with their own step machinery (ArrivalFlow, CaseFlow),
# ask, refuse and save the same way: these are the one copy of those rules.


async def send_question(
    services: Services, chat_id: int, draft: Draft | None, question: Question
) -> None:
    """Send the draft's open question; nothing when the draft ended meanwhile (None)."""
    if draft is None:
        return
    text, markup = question(draft)
    await api.send_text(services.bot, chat_id, text, reply_markup=markup)


def reason_text(services: Services, locale: str, invalid: Invalid) -> str:
    """The reason of a refused answer: ``module.code`` names a template module, a bare code is
    one of the shared ``errors``."""
    module, code = invalid.code.split(".", 1) if "." in invalid.code else ("errors", invalid.code)
    return services.text(locale, module, code, **invalid.params)


async def re_ask(services: Services, chat_id: int, draft: Draft, reason: str, ask: Ask) -> None:
    """Bad input: the specific reason, then (the flow's ``ask``) the same question again;
    nothing is saved."""
    await api.send_text(services.bot, chat_id, reason)
    await ask(chat_id, draft)


async def save_draft(services: Services, changed: Draft) -> Draft | None:
    """Store the answers; a draft that ended meanwhile (submitted, cancelled, timed out) is not
    revived: the user is told and None comes back."""
    saved = await drafts.update(services.db, changed, services.now())
    if saved is None:
        await services.bot.send_message(
            changed.chat_id,
            services.text(changed.locale, "conversation", "draft_gone", flow=changed.flow),
        )
    return saved


async def answered_already(update: Update, services: Services, draft: Draft, step: str) -> bool:
    """A button of an earlier question, or a re-delivered press: answered with a note (True)."""
    if step != draft.step or update.update_id <= draft.last_update_id:
        await update.callback_query.answer(
            services.text(draft.locale, "arrivals", "already_answered")
        )
        return True
    return False


class StepConversation:
    name = ""  # the draft's flow
    prefix = ""  # callback data: v1:<prefix>:<token>:<step>:<value>

    def __init__(self, services: Services, router: Router) -> None:
        self.s = services
        self.router = router
        router.register(self)

    def handlers(self) -> list[BaseHandler]:
        return [CallbackQueryHandler(self.on_callback, pattern=callback_pattern(self.prefix))]

    # -- to implement ----------------------------------------------------------------------

    def question(self, draft: Draft) -> tuple[str, Any]:
        """The open question's text and reply markup."""
        raise NotImplementedError

    def on_text(self, draft: Draft, message: Message) -> Result:
        return Invalid("expect_choice")

    def on_choice(self, draft: Draft, value: str) -> Result:
        return Invalid("choice_stale")

    async def finish(self, update: Update, draft: Draft) -> None:
        """All answers given: store, in one transaction, and drop the draft."""
        raise NotImplementedError

    # -- machinery -------------------------------------------------------------------------

    async def start(self, update: Update, step: str, data: dict[str, Any]) -> bool:
        """Open the conversation, unless another one is under way (then that one resumes)."""
        user, chat = update.effective_user, update.effective_chat
        if await self.router.resume_open(chat.id, user.id):
            return False
        locale = await user_locale(self.s, user)
        draft = drafts.new(user.id, chat.id, locale, step, data, update.update_id, flow=self.name)
        await self.ask(chat.id, await drafts.put(self.s.db, draft, self.s.now()))
        return True

    async def on_answer(self, update: Update, draft: Draft) -> None:
        message = update.effective_message
        if message.text is None and message.contact is None:
            result: Result = Invalid("expect_text")
        else:
            result = self.on_text(draft, message)
        await self._apply(update, draft, result)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, self.prefix)
        draft = await drafts.get(self.s.db, update.effective_user.id)
        if not parts or len(parts) != 3:
            await query.answer()
            return
        token, step, value = parts
        locale = draft.locale if draft else await user_locale(self.s, update.effective_user)
        if draft is None or draft.token != token or draft.flow != self.name:
            await query.answer(self.s.text(locale, "access", "flow_gone"))
            return
        if await answered_already(update, self.s, draft, step):
            return
        await query.answer()
        if query.message is not None:
            await query.message.edit_reply_markup(None)
        await self._apply(update, draft, self.on_choice(draft, value))

    async def _apply(self, update: Update, draft: Draft, result: Result) -> None:
        if isinstance(result, Invalid):
            reason = reason_text(self.s, draft.locale, result)
            await re_ask(self.s, draft.chat_id, draft, reason, self.ask)
            return
        changed = replace(
            draft, step=result.step or draft.step, data=result.data, last_update_id=update.update_id
        )
        if result.step is None:
            await self.finish(update, changed)
            return
        saved = await save_draft(self.s, changed)
        await self.ask(draft.chat_id, saved)  # None (ended meanwhile): nothing more to ask

    async def drop(self, draft: Draft) -> bool:
        """Delete the draft, if it is still this one (False: already finished)."""
        async with self.s.db.write() as conn:
            return await drafts.delete(conn, draft.user_id, draft.token)

    async def ask(self, chat_id: int, draft: Draft | None) -> None:
        await send_question(self.s, chat_id, draft, self.question)

    def buttons(self, draft: Draft, choices: list[tuple[str, str]], per_row: int = 2) -> Any:
        """Inline buttons for (label, value) pairs of the open step; none: remove a keyboard."""
        if not choices:
            return ReplyKeyboardRemove()
        return keyboard(
            [
                [
                    (label, callback(self.prefix, draft.token, draft.step, value))
                    for label, value in row
                ]
                for row in chunk(choices, per_row)
            ]
        )
