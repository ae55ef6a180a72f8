"""Callback data of inline buttons: ``v1:<flow>:<part>:...``, short, versioned, parseable.

The one builder and parser of callback data, used both by handlers (PTB keyboards) and by
bot/ (reply_markup dicts of outbox rows), so every button in the bot is checked against
Telegram's 64-byte limit the same way. Pure strings and dicts: no telegram import, so bot/
can use it without importing handlers (the import direction is handlers -> bot).

The format is what buttons already sent to people's chats carry: keep it stable.
"""

from __future__ import annotations

import re

CALLBACK_VERSION = "v1"
CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data


def callback(*parts: str) -> str:
    """``v1:ar:token:step:value``: short, versioned, parseable, and within Telegram's limit.

    Raises ValueError over 64 bytes (Telegram would reject the whole message)."""
    data = ":".join((CALLBACK_VERSION, *parts))
    if len(data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {data!r}")
    return data


def parse_callback(data: str | None, flow: str) -> list[str] | None:
    """The parts after ``v1:<flow>:``, or None when the data is not ours or of an old version."""
    if not data:
        return None
    parts = data.split(":")
    if len(parts) < 2 or parts[0] != CALLBACK_VERSION or parts[1] != flow:
        return None
    return parts[2:]


def callback_pattern(*flows: str) -> str:
    """The CallbackQueryHandler pattern for the buttons of one or more flows: ``^v1:tip:``."""
    names = "|".join(re.escape(flow) for flow in flows)
    return (
        rf"^{CALLBACK_VERSION}:{names}:"
        if len(flows) == 1
        else rf"^{CALLBACK_VERSION}:(?:{names}):"
    )


def button(label: str, data: str) -> dict[str, str]:
    """One inline button as a Bot API dict, for the reply_markup of outbox rows; ``data`` comes
    from :func:`callback` (or a flow's own encoder built on it)."""
    return {"text": label, "callback_data": data}


def inline_markup(rows: list[list[dict[str, str]]]) -> dict[str, list[list[dict[str, str]]]]:
    """A Bot API InlineKeyboardMarkup dict from rows of :func:`button` dicts."""
    return {"inline_keyboard": rows}
