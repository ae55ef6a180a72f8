"""The last line of defence: an unexpected exception is logged with the update id, and the
user gets a short apology that says only what is true — their answer was saved (the draft
holds this update), it was not (the database refused the write: send it again), or it may not
have been — then the open question again, so the conversation stays usable."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update, User
from telegram.ext import ContextTypes

from bot.flows.engine import Draft, Engine, not_stored
from bot.runtime.services import Services
from handlers.common import user_locale

log = logging.getLogger(__name__)


class Errors:
    def __init__(self, services: Services, engine: Engine) -> None:
        self.s = services
        self.engine = engine

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("update %s failed", update_id, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        if update.effective_chat.type != "private" or update.effective_user is None:
            return
        try:
            await self.apologise(update, context.error)
        except Exception:
            log.exception("could not tell the user about the failure of update %s", update_id)

    async def apologise(self, update: Update, error: BaseException | None) -> None:
        """The apology (a direct reply: retried, else queued), then the open question."""
        chat_id = update.effective_chat.id
        locale, draft = await self._state(update.effective_user)
        if draft is not None and not self.engine.knows(draft):
            draft = None
        name, params = apology(update, error, draft)
        await self.s.replies.send(chat_id, self.s.text(locale, "start", name, **params))
        await self.engine.ask(draft, chat_id)

    async def _state(self, user: User) -> tuple[str, Draft | None]:
        """The user's locale and open draft; when the database cannot even be read, the
        default locale and no draft: the apology still goes out."""
        try:
            return await user_locale(self.s, user), await self.engine.open_draft(user.id)
        except Exception:
            log.exception("no locale or draft for user %s", user.id)
            return self.s.config.bot.default_locale, None


def apology(
    update: Update, error: BaseException | None, draft: Draft | None
) -> tuple[str, dict[str, Any]]:
    """The apology's template and params. "Saved" only when the open draft holds this update;
    "not saved" when the database refused the write; otherwise it may not have been done."""
    kept = draft is not None  # the answers given before are stored in it
    if draft is not None and draft.last_update_id >= update.update_id:
        return "error_saved", {}
    if not_stored(error):
        return "error_not_saved", {"command": _command(update), "kept": kept}
    return "error", {"kept": kept}


def _command(update: Update) -> str | None:
    """The command the failed update sent (``/arrive``), to be sent again; None for an
    answer or a button."""
    text = update.message.text if update.message is not None else None
    if not text or not text.startswith("/"):
        return None
    return text.split()[0].split("@")[0]
