"""Bot API calls whose answer paicha does not need as python-telegram-bot objects.

PTB's typed methods turn every answer into a full ``Message`` (and a keyboard stored as JSON
into PTB objects and back); for the messages the outbox pushes and for the questions of a
conversation that is most of the cost of a send (bench/scale.py, bench/arrival.py). These go
through ``Bot.do_api_request`` instead: the same request, the same errors, and on the
application's bot the same rate limiter — answered as plain JSON.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import Bot, TelegramObject
from telegram.constants import ParseMode
from telegram.warnings import PTBUserWarning


def allow_raw_calls() -> None:
    """PTB advises its typed method whenever ``do_api_request`` names one; here that is the
    point. Process-wide and idempotent: called when the application is built, so it also
    holds under test runners that reset warning filters per test."""
    warnings.filterwarnings(
        "ignore",
        message=r"Please use 'Bot\.\w+' instead of 'Bot\.do_api_request",
        category=PTBUserWarning,
    )


async def call(bot: Bot, method: str, **params: Any) -> Any:
    """``method`` with ``params`` (PTB objects are sent as their dicts, None is left out);
    the answer's JSON ``result``."""
    api = {
        name: value.to_dict() if isinstance(value, TelegramObject) else value
        for name, value in params.items()
        if value is not None
    }
    return await bot.do_api_request(method, api_kwargs=api)


async def send_text(bot: Bot, chat_id: int, text: str, *, html: bool = True,
                    **params: Any) -> int | None:  # fmt: skip
    """sendMessage; the new message's id."""
    result = await call(bot, "sendMessage", chat_id=chat_id, text=text,
                        parse_mode=ParseMode.HTML if html else None, **params)  # fmt: skip
    return result.get("message_id") if isinstance(result, dict) else None


async def edit_text(bot: Bot, chat_id: int, message_id: int, text: str, *, html: bool = True,
                    reply_markup: str | None = None) -> None:  # fmt: skip
    """editMessageText; its keyboard removed unless ``reply_markup`` (the stored JSON)."""
    await call(bot, "editMessageText", chat_id=chat_id, message_id=message_id, text=text,
               parse_mode=ParseMode.HTML if html else None,
               reply_markup=reply_markup)  # fmt: skip
