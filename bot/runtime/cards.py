"""Buttons that outlive their item: a card sent to several workers, the group's alert, a
/tasks list. Each message that offers buttons for an item says so (``storage.outbox.offer``);
handling the item (verified, acknowledged, answered, stopped) takes those buttons off every
such message through outbox edits (``retire``), in the handling transaction. A message left
without buttons shows the outcome under its text; a list keeps its other items' buttons."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import aiosqlite

from bot.domain.messages import MESSAGE_LIMIT
from bot.runtime.render import reader_locales
from storage import outbox
from storage.outbox import PRIORITY_NOTIFY

ACK = "v1:ack:"  # the escalation ladder's acknowledge buttons (bot.runtime.escalation)
Note = Callable[[str], str]  # the outcome line, in a reader's locale


def ack_subject(subject: str) -> str:
    """The offers of an item's acknowledge buttons (apart from its card's own buttons)."""
    return f"ack:{subject}"


def _data(markup: dict[str, Any] | None) -> Iterable[str]:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            if "callback_data" in button:
                yield button["callback_data"]


async def offer_acks(conn: aiosqlite.Connection, key: str, markup: dict[str, Any] | None) -> None:
    """Every acknowledge button on the message ``key`` is offered for its item."""
    for data in _data(markup):
        if data.startswith(ACK):
            await outbox.offer(conn, key, ack_subject(data[len(ACK) :]), [data])


async def retire(
    conn: aiosqlite.Connection, subject: str, now: datetime, *, note: Note | None = None,
    default_locale: str = "zh_CN",
) -> None:  # fmt: skip
    """Take the buttons for ``subject`` off every message offering them; one left with none
    gets ``note`` in its reader's locale (``default_locale``: the group's, the unknown's)."""
    offers = await outbox.take_offers(conn, subject)
    if not offers:
        return
    locales = await reader_locales(conn, [o.chat_id for o in offers], default_locale)
    for found in offers:
        markup = json.loads(found.reply_markup) if found.reply_markup else {}
        gone = set(found.data)
        rows = [
            kept
            for row in markup.get("inline_keyboard", [])
            if (kept := [b for b in row if b.get("callback_data") not in gone])
        ]
        text = found.text
        if not rows and note is not None:
            noted = f"{text}\n\n{note(locales[found.chat_id])}"
            text = noted if len(noted) <= MESSAGE_LIMIT else text
        markup = {"inline_keyboard": rows} if rows else None
        await outbox.enqueue_edit(conn, edits=found.key, chat_id=found.chat_id, text=text,
                                  now=now, priority=PRIORITY_NOTIFY, subject=found.subject,
                                  reply_markup=markup)  # fmt: skip
