"""Small pieces every flow shares: the user's locale, callback data, keyboards."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, User

# Callback data is built and parsed in bot.domain.callbacks (bot/ needs it too for the buttons
# of outbox messages); re-exported here so every flow keeps one import line.
from bot.domain.callbacks import callback, callback_pattern, parse_callback
from bot.runtime.render import LOCALES, locale_for
from bot.runtime.services import Services

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
    """Inline keyboard from rows of (label, callback data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def chunk(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def user_locale(services: Services, user: User | None) -> str:
    """The locale the user chose with /language, else their Telegram language."""
    if user is None:
        return services.config.bot.default_locale
    row = await services.db.fetchone("SELECT locale FROM users WHERE user_id = ?", (user.id,))
    if row and row["locale"] in LOCALES:
        return row["locale"]
    code = (user.language_code or "").lower()
    if code.startswith("zh"):
        return "zh_CN"
    return locale_for(code) if code else services.config.bot.default_locale


def update_id(update: Update) -> int:
    return update.update_id
