"""Direct replies: what a conversation says to the person in front of it (the engine's
questions, re-asks and summaries, the error handler's apology) — sent at once, not queued
behind the outbox's pushes.

A person must never be left without the open question because the Bot API failed for a
moment: a reply that fails transiently (a 5xx, a network error, flood control) is tried again
a few times after a short pause, and one that still fails becomes an outbox row (high
priority, the same text and keyboard), delivered when the API recovers. A definite refusal
(BadRequest, Forbidden) is raised as before: sending it again cannot help.

A timeout may have delivered the message: it is not tried again here, only handed to the
outbox once and logged — a rare repeat is better than a question lost.

Order: while a reply to a chat waits in the outbox, the chat's next replies are queued behind
it (and the outbox sends a chat's replies one after another, storage/outbox.claim), however
long the outage: a person never reads an answer before the question it follows.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import TelegramObject
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.runtime import api
from bot.runtime.outbox import maybe_delivered, retry_after_seconds
from storage import outbox

if TYPE_CHECKING:
    from bot.runtime.services import Services

log = logging.getLogger(__name__)

PRIORITY = outbox.PRIORITY_REPLY  # after alerts, before every other push: someone is waiting
BACKOFF = (0.5, 1.5)  # seconds before the second and the third attempt
MAX_PAUSE = 5.0  # a longer flood-control wait is the outbox's to honour, not the update's

Sleep = Callable[[float], Awaitable[None]]


class _Undelivered(Exception):
    """Every attempt failed transiently (or timed out): the outbox takes the reply."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply to be queued (``Replies.queue``): as the arguments of ``Replies.send``."""

    chat_id: int
    text: str
    reply_markup: Any = None
    html: bool = True


@dataclass
class Replies:
    services: Services
    backoff: tuple[float, ...] = BACKOFF
    sleep: Sleep = field(default=asyncio.sleep)
    _queued: set[int] = field(default_factory=set)  # chats whose reply may still wait queued

    async def send(self, chat_id: int, text: str, *, html: bool = True,
                   reply_markup: Any = None, **params: Any) -> int | None:  # fmt: skip
        """sendMessage, as ``api.send_text``: the message's id; None when it had to wait in
        the outbox. While a reply to the chat waits there, the next ones are queued behind
        it: they arrive in order, and nobody waits through the retries again."""
        if not await self._queueing(chat_id):
            try:
                return await self._deliver(chat_id, text, html=html, reply_markup=reply_markup,
                                           **params)  # fmt: skip
            except _Undelivered:
                pass
        await self.queue([Reply(chat_id, text, reply_markup, html)])
        return None

    async def queue(self, replies: Sequence[Reply]) -> None:
        """Queue ``replies`` in the outbox in one transaction, in order, without trying to
        send them here (a start must not wait for the Bot API)."""
        if not replies:
            return
        s = self.services
        messages = [
            {"chat_id": r.chat_id, "text": r.text if r.html else _escape(r.text),
             "priority": PRIORITY, "reply_markup": _markup(r.reply_markup)}
            for r in replies
        ]  # fmt: skip
        async with s.db.write() as conn:
            await outbox.enqueue_many(conn, messages, s.now())
        self._queued.update(r.chat_id for r in replies)
        s.wake_outbox()

    async def _deliver(self, chat_id: int, text: str, **params: Any) -> int | None:
        pauses = iter(self.backoff)
        while True:
            try:
                return await api.send_text(self.services.bot, chat_id, text, **params)
            except BadRequest:
                raise
            except (NetworkError, RetryAfter) as exc:
                wait = _pause(chat_id, exc, next(pauses, None))
            await self.sleep(wait)

    async def _queueing(self, chat_id: int) -> bool:
        """Whether a reply to the chat still waits in the outbox. Only chats that had one
        queued pay for the look, until none of theirs waits any more."""
        if chat_id not in self._queued:
            return False
        if await outbox.undelivered_reply(self.services.db, chat_id):
            return True
        self._queued.discard(chat_id)
        return False


def _pause(chat_id: int, exc: NetworkError | RetryAfter, pause: float | None) -> float:
    """How long to wait before the next attempt. _Undelivered: no attempt left, or a timeout
    that may have delivered (not resent here), or flood control asking for longer than a
    person should wait for an answer."""
    if maybe_delivered(exc):
        log.warning("reply to chat %s timed out and may have arrived: queued once more", chat_id)
        raise _Undelivered from exc
    if isinstance(exc, RetryAfter) and pause is not None:
        wait = retry_after_seconds(exc)
        pause = max(pause, wait) if wait <= MAX_PAUSE else None
    if pause is None:
        log.warning("reply to chat %s failed (%s): queued in the outbox", chat_id, exc)
        raise _Undelivered from exc
    log.info("reply to chat %s failed (%s): trying again in %ss", chat_id, exc, pause)
    return pause


def _escape(text: str) -> str:
    """A plain-text reply as the outbox's HTML: shown exactly as it would have been."""
    return html.escape(text, quote=False)


def _markup(markup: Any) -> dict[str, Any] | None:
    """A keyboard (PTB object, dict or stored JSON) as the outbox stores it."""
    if isinstance(markup, TelegramObject):
        return markup.to_dict()
    if isinstance(markup, str):
        return json.loads(markup)
    return markup
