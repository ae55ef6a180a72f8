"""Small pieces every flow shares: the user's locale, callback data, keyboards."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, User

from bot.render import LOCALES, locale_for
from bot.services import Services

CALLBACK_VERSION = "v1"
CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data


def callback(*parts: str) -> str:
    """``v1:ar:token:step:value``: short, versioned, parseable, and within Telegram's limit."""
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
