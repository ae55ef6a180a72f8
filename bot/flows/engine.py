"""The one conversation runtime: every conversation of the bot is a ``Flow`` run here, over
the drafts table (one open draft per user, storage/drafts.py).

The runtime alone owns the rules every conversation shares:

- the draft token in callback data (``v1:<prefix>:<token>:<step>:<value>``); a button of an
  ended or another draft, or of an earlier step, is refused (a submitted draft's buttons say
  which record it made: a double tap makes one record);
- save-before-ask: the answers are written before the next question is sent, so a restart
  resumes at the same question (the flow's command or deep link re-asks it); the saved draft
  owes its question until the send returns (``asked_at``, stored each tick), and a start
  after a crash between the two asks every owed question again (``resume_owed``);
- re-ask with the reason: a refused answer gets its specific reason, then the same question;
- summary / edit / cancel, and a flow's ``may_start(actor)`` (refused and audited);
- re-delivered updates (an update id not newer than the draft's) are ignored;
- the timeout: a sweep over drafts untouched for the configured time (durable: it runs on
  every tick, so drafts that went stale while the bot was down end on the first tick);
- every question, re-ask and note goes out through ``services.replies`` (retried, else queued
  in the outbox): a failing Bot API never leaves the person without the open question.

A flow says what is particular to it: its step table (or hooks), its questions' text, and a
``finish`` that calls one action (the action owns the transaction).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from markupsafe import Markup
from telegram import (
    MaybeInaccessibleMessage,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)
from telegram.error import BadRequest

from bot.domain.callbacks import callback, parse_callback
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor
from bot.domain.steps import Data
from bot.runtime import api
from bot.runtime.render import LOCALES, locale_for
from bot.runtime.replies import Reply
from bot.runtime.services import Services
from storage import drafts, outbox, users
from storage.drafts import Draft

log = logging.getLogger(__name__)

SUMMARY, EDIT = "summary", "edit"  # the steps of the summary card, handled here


def not_stored(error: BaseException | None) -> bool:
    """The database refused the write (locked past every wait, full, broken): it was rolled
    back, so what the failed update brought is not stored."""
    return isinstance(error, sqlite3.Error)


@dataclass(frozen=True)
class Next:
    """Go on to ``step`` with ``data``; ``step`` None: all answered, the flow finishes.
    ``reason``: ask ``step`` with this reason first (a submit that lacked an answer)."""

    step: str | None
    data: Data
    reason: Invalid | None = None


@dataclass(frozen=True)
class Cancel:
    """The user cancelled from the summary card."""


Result = Next | Cancel | Invalid


class Gate(Protocol):
    """Who is acting and the one way to refuse (handlers/access.py's Access)."""

    async def actor(self, user: User) -> Actor: ...

    def village_of(self, grid_id: str) -> str | None: ...

    async def refuse(
        self, update: Update, actor: Actor, what: str, subject: str | None = None,
        reason: str = "refused",
    ) -> None: ...  # fmt: skip


async def user_locale(services: Services, user: User | None) -> str:
    """The locale the user chose with /language, else their Telegram language."""
    if user is None:
        return services.config.bot.default_locale
    chosen = await users.locale(services.db, user.id)
    if chosen in LOCALES:
        return chosen
    code = (user.language_code or "").lower()
    if code.startswith("zh"):
        return "zh_CN"
    return locale_for(code) if code else services.config.bot.default_locale


class Flow:
    """A conversation: hooks the runtime calls. ``TableFlow`` (bot/flows/table.py) implements
    them from a step table; a flow with few steps may implement them directly."""

    name = ""  # the draft's flow name (stored in drafts and named in messages)
    prefix = ""  # callback data: v1:<prefix>:<token>:<step>:<value>
    module = "conversation"  # the template module of its texts and reasons
    permission: str | None = None  # audited as denied:<permission> when may_start refuses

    def __init__(self, services: Services, engine: Engine) -> None:
        self.s = services
        self.engine = engine
        engine.add(self)

    def may_start(self, actor: Actor) -> bool:
        return True

    def commit_check(self, draft: Draft) -> tuple[str, str | None] | None:
        """What submitting ``draft`` needs checked again, as (permission audited when refused,
        subject); None: nobody's role matters (a resident's own report)."""
        return (self.permission, None) if self.permission is not None else None

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        """Whether ``actor`` may still submit ``draft``: asked as it commits, because a role
        or a scope can be lost while a conversation is open."""
        return self.may_start(actor)

    async def start(self, update: Update, step: str, data: Data) -> bool:
        """Open the conversation at ``step``, unless it is refused or another one is under
        way (then that one resumes)."""
        return await self.engine.start(update, self, data, step) is not None

    def intro(self, draft: Draft) -> str | None:
        """Sent once before the first question."""
        return None

    def question(self, draft: Draft) -> tuple[str, Any]:
        """The open question's text and reply markup."""
        raise NotImplementedError

    def answered(self, draft: Draft, value: str) -> str | None:
        """The pressed question's new text (question and answer); None: the runtime shows the
        message as it was with ``choice`` under it."""
        return None

    def choice(self, draft: Draft, value: str) -> str | None:
        """A pressed button's label, as its chat shows the choice made (None: nothing to
        show; the question only loses its buttons)."""
        return None

    async def on_message(self, update: Update, draft: Draft) -> Result:
        return Invalid("expect_choice")

    async def on_button(self, update: Update, draft: Draft, value: str) -> Result:
        return Invalid("choice_stale")

    async def finish(self, update: Update, draft: Draft) -> None:
        """All answered: call the flow's action (which drops the draft in its transaction)."""
        raise NotImplementedError

    def after_answer(self, draft: Draft) -> str | None:
        """A note sent (taking a reply keyboard away) after an accepted answer to ``draft``'s
        step, before the next question."""
        return None

    async def made_from(self, token: str) -> str | None:
        """The reference of the record a submitted draft made (a double tap says it)."""
        return None

    # -- shared by every flow --------------------------------------------------------------

    def say(self, locale: str, name: str, /, **params: Any) -> str:
        """The flow's own text ``name`` if its module has one, else the shared conversation
        text (which is told the flow's name)."""
        if name in self.s.renderer.messages(locale, self.module):
            return self.s.text(locale, self.module, name, **params)
        return self.s.text(locale, "conversation", name, flow=self.name, **params)

    def reason(self, locale: str, invalid: Invalid) -> str:
        """``module.code`` names a template module; a bare code is the flow's own if its module
        has it, else one of the shared ``errors``."""
        if "." in invalid.code:
            module, code = invalid.code.split(".", 1)
        elif invalid.code in self.s.renderer.messages(locale, self.module):
            module, code = self.module, invalid.code
        else:
            module, code = "errors", invalid.code
        return self.s.text(locale, module, code, **invalid.params)

    def button(self, draft: Draft, value: str) -> str:
        """Callback data of a button answering ``draft``'s open step with ``value``."""
        return callback(self.prefix, draft.token, draft.step, value)

    async def drop(self, draft: Draft) -> bool:
        """Delete the draft if it is still this one (False: it ended already)."""
        return await drafts.drop(self.s.db, draft.user_id, draft.token)


def plain(rendered: str) -> str:
    """A rendered text as plain text: a button's label is not parsed as HTML, so the
    escaping a template applied (``Didn&#39;t``) would show."""
    return Markup(rendered).unescape()


def reply_keyboard(rows: list[list[dict[str, Any] | str]]) -> ReplyKeyboardMarkup:
    """A one-time reply keyboard (a contact or location request and text buttons)."""
    return ReplyKeyboardMarkup.de_json(
        {"keyboard": [[b if isinstance(b, dict) else {"text": b} for b in row] for row in rows],
         "resize_keyboard": True, "one_time_keyboard": True},
        None,
    )  # fmt: skip


class Engine:
    def __init__(self, services: Services, gate: Gate) -> None:
        self.s = services
        self.gate = gate
        self.flows: dict[str, Flow] = {}
        self.prefixes: dict[str, Flow] = {}
        self._asked: dict[int, Draft] = {}  # user -> draft whose question went out (unstored)

    def add(self, flow: Flow) -> None:
        self.flows[flow.name] = flow
        if flow.prefix:  # a flow without buttons of its own (a typed answer) has none
            self.prefixes[flow.prefix] = flow

    async def open_draft(self, user_id: int) -> Draft | None:
        return await drafts.get(self.s.db, user_id)

    # -- starting --------------------------------------------------------------------------

    async def start(
        self, update: Update, flow: Flow, data: Data, step: str, chat_id: int | None = None,
        locale: str | None = None,
    ) -> Draft | None:  # fmt: skip
        """Open ``flow`` at ``step`` (in ``chat_id``, by default the user's private chat, never
        a group; in ``locale``, by default the user's), unless it is refused or another
        conversation is under way (then that one resumes)."""
        user = update.effective_user
        if flow.permission is not None:
            actor = await self.gate.actor(user)
            if not flow.may_start(actor):
                await self.gate.refuse(update, actor, flow.permission)
                return None
        # a conversation asks for phones and ID numbers: never in a group (ids < 0)
        chat_id = user.id if chat_id is None or chat_id < 0 else chat_id
        if await self.resume(chat_id, user.id):
            return None
        locale = locale or await user_locale(self.s, user)
        new = drafts.new(user.id, chat_id, locale, step, data, update.update_id, flow=flow.name)
        draft = await drafts.put(self.s.db, new, self.s.now())
        intro = flow.intro(draft)
        if intro:
            await self.s.replies.send(chat_id, intro)
        await self.ask(draft)
        return draft

    async def resume(self, chat_id: int, user_id: int) -> bool:
        """If the user has a conversation open, say so and ask its question again: starting
        another one must not throw away half-filled answers."""
        draft = await drafts.get(self.s.db, user_id)
        if draft is None or not self.knows(draft):
            return False
        await self.s.replies.send(chat_id, self._resume_note(draft), html=False)
        await self.ask(draft, chat_id)
        return True

    def _resume_note(self, draft: Draft) -> str:
        return self.s.text(draft.locale, "conversation", "resume", flow=draft.flow)

    def knows(self, draft: Draft) -> bool:
        return draft.flow in self.flows

    async def ask(self, draft: Draft | None, chat_id: int | None = None) -> None:
        """Send the draft's open question; nothing when it ended meanwhile (None)."""
        if draft is None:
            return
        chat_id = draft.chat_id if chat_id is None else chat_id
        text, markup = self.flows[draft.flow].question(draft)
        await self.s.replies.send(chat_id, text, reply_markup=markup)
        self._asked[draft.user_id] = draft

    async def record_asked(self) -> None:
        """Store that the questions sent since the last call went out, in one write (every
        tick and at shutdown, not one write per answer): a crash loses only the last few
        seconds' marks, and those few are asked once more at start."""
        sent, self._asked = self._asked, {}
        if not sent:
            return
        try:
            await drafts.asked(self.s.db, list(sent.values()), self.s.now())
        except BaseException:
            self._asked = {**sent, **self._asked}  # the next call tries them again
            raise

    async def resume_owed(self) -> int:
        """At start: every conversation whose answer was saved but whose next question never
        went out (the bot was killed between the two) is resumed: the person is asked again
        without having to write first. The questions are queued in the outbox, all in one
        transaction, not sent here: a start during an outage (or after the upgrade that owes
        every draft's question) must not hold up the outbox and the updates behind it."""
        minutes = self.s.config.bot.conversation_timeout_minutes
        since = self.s.now() - timedelta(minutes=minutes)
        owed = [d for d in await drafts.owed(self.s.db, since) if self.knows(d)]
        await self.s.replies.queue([reply for d in owed for reply in self._resumption(d)])
        self._asked.update((d.user_id, d) for d in owed)  # durable in the outbox now
        return len(owed)

    def _resumption(self, draft: Draft) -> tuple[Reply, Reply]:
        """The resume note and the open question, to the draft's chat."""
        text, markup = self.flows[draft.flow].question(draft)
        note = Reply(draft.chat_id, self._resume_note(draft), html=False)
        return note, Reply(draft.chat_id, text, markup)

    # -- answers ---------------------------------------------------------------------------

    async def on_message(self, update: Update, draft: Draft) -> None:
        """A message answering the open question of ``draft`` (the user's open draft)."""
        if update.update_id <= draft.last_update_id:
            return  # a re-delivered update: already answered
        flow = self.flows[draft.flow]
        await self.apply(update, flow, draft, await flow.on_message(update, draft))

    async def on_button(self, update: Update) -> None:
        """A pressed button of a flow: checked against the open draft, then answered."""
        query = update.callback_query
        prefix = (query.data or "").split(":")[1:2]
        flow = self.prefixes.get(prefix[0]) if prefix else None
        parts = parse_callback(query.data, flow.prefix) if flow else None
        if flow is None or parts is None or len(parts) != 3:
            await query.answer()
            return
        token, step, value = parts
        draft = await drafts.get(self.s.db, update.effective_user.id)
        if draft is None or draft.token != token or draft.flow != flow.name:
            await self._stale(update, flow, token)
            return
        if step != draft.step or update.update_id <= draft.last_update_id:
            await query.answer(self.s.text(draft.locale, "arrivals", "already_answered"))
            return
        await query.answer()
        card = step in (SUMMARY, EDIT)
        shown = None if card else self.answered(flow, draft, value, query.message)
        if shown is None and query.message is not None:
            await _tidy(query.message.edit_reply_markup(None))  # the question is answered now
        result = await flow.on_button(update, draft, value)
        moved_on = isinstance(result, Next) and result.step != draft.step
        if shown is not None and moved_on and query.message is not None:
            await _tidy(api.edit_text(self.s.bot, query.message.chat_id,
                                      query.message.message_id, shown))  # fmt: skip
        await self.apply(update, flow, draft, result)

    def answered(
        self, flow: Flow, draft: Draft, value: str, message: MaybeInaccessibleMessage | None
    ) -> str | None:
        """The pressed question as it stays in the chat: the flow's own text, else the message
        as sent with the choice under it, so every chat shows what was chosen."""
        shown = flow.answered(draft, value)
        if shown is not None:
            return shown
        chosen = flow.choice(draft, value)
        if chosen is None or not isinstance(message, Message) or message.text is None:
            return None
        return self.s.text(draft.locale, "conversation", "answered",
                           question=Markup(message.text_html), answer=chosen)  # fmt: skip

    async def _stale(self, update: Update, flow: Flow, token: str) -> None:
        """A button of an ended draft: a submitted one says which record it made."""
        locale = await user_locale(self.s, update.effective_user)
        ref = await flow.made_from(token)
        text = (
            flow.say(locale, "already_submitted", ref=ref)
            if ref
            else self.s.text(locale, "conversation", "draft_gone", flow=flow.name)
        )
        await update.callback_query.answer(text)

    async def apply(self, update: Update, flow: Flow, draft: Draft, result: Result) -> None:
        if isinstance(result, Invalid):  # remembered as answered: a re-delivery is ignored
            seen = replace(draft, last_update_id=update.update_id)
            await self.re_ask(flow, await drafts.update(self.s.db, seen, self.s.now()) or draft,
                              result)  # fmt: skip
        elif isinstance(result, Cancel):
            await self.cancel(flow, draft)
        elif result.step is None:
            done = replace(draft, data=result.data)
            if await self.committable(update, flow, done):
                await flow.finish(update, done)
        else:
            note = flow.after_answer(draft)
            if note:
                await self.s.replies.send(draft.chat_id, note, reply_markup=ReplyKeyboardRemove())
            changed = replace(
                draft, step=result.step, data=result.data, last_update_id=update.update_id
            )
            saved = await self.save(changed)
            if saved is not None and result.reason is not None:
                await self.re_ask(flow, saved, result.reason)
            else:
                await self.ask(saved)

    async def committable(self, update: Update, flow: Flow, draft: Draft) -> bool:
        """Role and scope checked again as the draft is submitted (the one check of every
        flow at commit): refused, the draft ends unsaved, the user is told why, audited."""
        check = flow.commit_check(draft)
        if check is None:
            return True
        actor = await self.gate.actor(update.effective_user)
        if await flow.may_commit(actor, draft):
            return True
        await flow.drop(draft)
        await self.gate.refuse(update, actor, check[0], check[1], reason="not_submitted")
        return False

    async def save(self, changed: Draft) -> Draft | None:
        """Store the answers; a draft that ended meanwhile (submitted, cancelled, timed out) is
        not revived: the user is told and None comes back."""
        saved = await drafts.update(self.s.db, changed, self.s.now())
        if saved is None:
            await self.s.replies.send(
                changed.chat_id,
                self.s.text(changed.locale, "conversation", "draft_gone", flow=changed.flow),
                html=False,
            )
        return saved

    async def re_ask(self, flow: Flow, draft: Draft, invalid: Invalid) -> None:
        """Bad input: the specific reason, then the same question again; nothing is saved."""
        await self.s.replies.send(draft.chat_id, flow.reason(draft.locale, invalid))
        await self.ask(draft)

    async def cancel(self, flow: Flow, draft: Draft) -> None:
        if await flow.drop(draft):
            await self.s.replies.send(
                draft.chat_id,
                flow.say(draft.locale, "cancelled"),
                html=False,
                reply_markup=ReplyKeyboardRemove(),
            )

    async def cancel_open(self, user: User) -> Draft | None:
        """/cancel: end whatever conversation is open; nothing of it was stored."""
        draft = await drafts.get(self.s.db, user.id)
        if draft is not None:
            await drafts.drop(self.s.db, user.id, draft.token)
        return draft


async def expire_drafts(services: Services) -> int:
    """End drafts untouched for the configured time, telling their owners (durably)."""
    minutes = services.config.bot.conversation_timeout_minutes
    now = services.now()
    cutoff = now - timedelta(minutes=minutes)
    ended = 0
    for draft in await drafts.stale(services.db, cutoff):
        async with services.db.write() as conn:
            if not await drafts.delete(conn, draft.user_id, draft.token, cutoff):
                continue  # touched meanwhile
            text = services.text(
                draft.locale, "conversation", "timeout", flow=draft.flow, minutes=minutes
            )
            await outbox.enqueue(
                conn, chat_id=draft.chat_id, text=text, now=now,
                dedup_key=f"draft-timeout:{draft.token}",
            )  # fmt: skip
        ended += 1
    if ended:
        services.wake_outbox()
    return ended


async def _tidy(edit: Awaitable[Any]) -> None:
    """Editing the answered question is cosmetic: a message edited already (a press handled
    again after a restart: "not modified"), deleted or too old must not stop the answer."""
    try:
        await edit
    except BadRequest as exc:
        log.info("answered question not edited: %s", exc.message)
