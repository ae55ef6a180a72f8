"""Small pieces every flow shares: the user's locale, callback data, keyboards."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

# Callback data is built and parsed in bot.domain.callbacks (bot/ needs it too for the buttons
# of outbox messages); re-exported here so every flow keeps one import line.
from bot.domain.callbacks import callback, callback_pattern, parse_callback
from bot.flows.engine import plain, user_locale

__all__ = [
    "callback",
    "callback_pattern",
    "chunk",
    "keyboard",
    "parse_callback",
    "update_id",
    "user_locale",
]


def keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Inline keyboard from rows of (rendered label, callback data)."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(plain(label), callback_data=data) for label, data in row]
            for row in rows
        ]
    )


def chunk(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def update_id(update: Update) -> int:
    return update.update_id
