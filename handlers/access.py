"""Who is acting: the ``Actor`` for a Telegram user, and the one way to refuse.

Staff scopes are read from SQLite on every call, so a revoked worker loses access at once;
leadership-chat membership is asked of Telegram and cached for a few minutes per user."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram import Update, User
from telegram.error import TelegramError

from bot.actions import access, staff
from bot.domain.roles import Actor
from bot.runtime.services import Services
from handlers.common import user_locale

log = logging.getLogger(__name__)

LEADER_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
LEADER_CACHE = timedelta(minutes=5)


class Access:
    def __init__(self, services: Services) -> None:
        self.s = services
        config = services.config
        self._village_of = {g.id: v.id for v in config.villages for g in v.grids}
        self._grids_of = config.grid_ids()
        self.all_grids = tuple(self._village_of)
        self._leaders: dict[int, tuple[datetime, bool]] = {}

    def village_of(self, grid_id: str) -> str | None:
        return self._village_of.get(grid_id)

    def grids_of(self, village_id: str) -> tuple[str, ...]:
        return self._grids_of.get(village_id, ())

    async def actor(self, user: User) -> Actor:
        config = self.s.config
        held = await staff.scopes(self.s, user.id)
        is_admin = user.id in config.leadership.admins
        return Actor(
            user_id=user.id,
            is_admin=is_admin,
            is_leader=is_admin or await self._is_leader(user.id),
            worker_grids=held.grids,
            admin_villages=held.villages,
        )

    async def _is_leader(self, user_id: int) -> bool:
        now = self.s.now()
        cached = self._leaders.get(user_id)
        if cached and cached[0] > now:
            return cached[1]
        try:
            member = await self.s.bot.get_chat_member(self.s.config.leadership.chat_id, user_id)
        except TelegramError as exc:  # not in the chat, chat unknown, network: not a leader now
            log.warning("leadership membership of %s unknown: %s", user_id, exc)
            return False
        found = member.status in LEADER_STATUSES and getattr(member, "is_member", True)
        self._leaders[user_id] = (now + LEADER_CACHE, found)
        return found

    async def refuse(
        self, update: Update, actor: Actor, what: str, subject: str | None = None
    ) -> None:
        """The same refusal whether or not the record exists, and an audit row."""
        await access.deny(self.s, actor, what, subject)
        locale = await user_locale(self.s, update.effective_user)
        text = self.s.text(locale, "access", "refused")
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        await update.effective_chat.send_message(text)
