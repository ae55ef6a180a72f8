"""The last line of defence: an unexpected exception is logged with the update id, the user
gets a short apology, and the conversation stays usable (the draft is untouched)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import user_locale

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    services = context.bot_data["services"]
    try:
        locale = await user_locale(services, update.effective_user)
        await context.bot.send_message(update.effective_chat.id,
                                       services.text(locale, "start", "error"))  # fmt: skip
    except Exception:
        log.exception("could not tell the user about the failure of update %s", update_id)
