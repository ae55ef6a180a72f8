"""Who is acting: the ``Actor`` for a Telegram user, the one way to refuse, and where a button
may act.

Staff scopes are read from SQLite on every call, so a revoked worker loses access at once;
leadership-chat membership is asked of Telegram and cached for a few minutes per user, and
the cached answer is dropped when the chat tells the bot that the member changed.

Buttons (``gate``): only the buttons designed for a group act where they were pressed (the
group cards' "收到", a case's buttons, and a grid's cards that fell back to the leadership
group because the grid has nobody). Any other button pressed in a group, whatever a modified
client sends, is answered in the presser's private chat: a full card or a conversation never
opens in a group."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import Chat, Update, User
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.actions import access, arrivals, cases, certificates, regions, staff
from bot.domain.callbacks import CALLBACK_VERSION
from bot.domain.roles import Actor
from bot.runtime import escalation
from bot.runtime.services import Services
from handlers.common import user_locale

log = logging.getLogger(__name__)

LEADER_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
LEADER_CACHE = timedelta(minutes=5)
CACHE_SIZE = 1024  # cached answers kept before the expired ones are dropped

# The buttons that act in a group, by their flow, given the parts after it: what the group
# cards offer (bot.actions.cases.group_markup, the ladder's "收到") and the grid cards that go
# to the leadership group when a grid has nobody (escalation.grid_recipients): a withdrawal to
# decide, a certificate to check, a key-region downgrade to decide. Everything else — a
# record's "open", a menu, a conversation's answer, a case's form ("f") — opens in private.
GROUP_BUTTONS: dict[str, Callable[[list[str]], bool]] = {
    escalation.FLOW: lambda parts: True,
    cases.FLOW: lambda parts: parts[1:2] in (["r"], ["a"], ["c"], ["x"], ["t"]),
    certificates.FLOW: lambda parts: parts[1:2] in (["ok"], ["no"]),
    arrivals.WITHDRAW_FLOW: lambda parts: True,
    regions.PROPOSAL: lambda parts: True,
}


def acts_in_group(data: str | None) -> bool:
    """Whether a button's callback data may act in the group it was pressed in."""
    parts = (data or "").split(":")
    if len(parts) < 2 or parts[0] != CALLBACK_VERSION or parts[1] not in GROUP_BUTTONS:
        return False
    return GROUP_BUTTONS[parts[1]](parts[2:])


def in_private(update: Update) -> bool:
    """Pressed in the presser's own private chat with the bot."""
    query, user = update.callback_query, update.effective_user
    message = query.message if query else None
    return (
        message is not None
        and user is not None
        and message.chat.type == Chat.PRIVATE
        and message.chat.id == user.id
    )


class Access:
    def __init__(self, services: Services) -> None:
        self.s = services
        config = services.config
        self._village_of = {g.id: v.id for v in config.villages for g in v.grids}
        self._grids_of = config.grid_ids()
        self.all_grids = tuple(self._village_of)
        self._leaders: dict[int, tuple[datetime, bool]] = {}
        self._changes: dict[int, int] = {}  # membership changes seen, per user (forget)

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
            site_ids=held.sites,
            is_dispatcher=held.dispatcher,
            crew_vehicles=held.vehicles,
            unit_ids=held.units,
        )

    async def _is_leader(self, user_id: int) -> bool:
        now = self.s.now()
        cached = self._leaders.get(user_id)
        if cached and cached[0] > now:
            return cached[1]
        changes = self._changes.get(user_id, 0)
        try:
            member = await self.s.bot.get_chat_member(self.s.config.leadership.chat_id, user_id)
        except TelegramError as exc:  # not in the chat, chat unknown, network: not a leader now
            log.warning("leadership membership of %s unknown: %s", user_id, exc)
            return False
        found = member.status in LEADER_STATUSES and getattr(member, "is_member", True)
        if self._changes.get(user_id, 0) == changes:  # else removed meanwhile: not cached
            self._remember(user_id, (now + LEADER_CACHE, found))
        return found

    def _remember(self, user_id: int, entry: tuple[datetime, bool]) -> None:
        if len(self._leaders) >= CACHE_SIZE:  # expired entries go before the cache grows
            now = self.s.now()
            self._leaders = {u: e for u, e in self._leaders.items() if e[0] > now}
        self._leaders[user_id] = entry

    def forget(self, user_id: int) -> None:
        """The leadership chat's membership of ``user_id`` changed: ask Telegram again, and
        drop the answer of a question asked before the change that is still under way."""
        self._leaders.pop(user_id, None)
        self._changes[user_id] = self._changes.get(user_id, 0) + 1

    async def refuse(
        self, update: Update, actor: Actor, what: str, subject: str | None = None,
        reason: str = "refused",
    ) -> None:  # fmt: skip
        """The same refusal whether or not the record exists (``reason``: the access
        template saying why), and an audit row. A button pressed in a group is answered on
        the button only: the group is not told."""
        await access.deny(self.s, actor, what, subject)
        locale = await user_locale(self.s, update.effective_user)
        text = self.s.text(locale, "access", reason)
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
            if not in_private(update):
                return
        await update.effective_chat.send_message(text)

    # -- wiring ----------------------------------------------------------------------------

    def handlers(self) -> list[BaseHandler]:
        """Registered in a group before every other handler (bot/app.py)."""
        leadership = self.s.config.leadership.chat_id
        joined_or_left = (
            filters.StatusUpdate.NEW_CHAT_MEMBERS | filters.StatusUpdate.LEFT_CHAT_MEMBER
        )
        return [
            CallbackQueryHandler(self.gate),
            # chat_member updates come only to a bot that is an administrator of the chat (and
            # asks for them in allowed_updates: bot/cli.py); the service message of a member
            # leaving comes to any bot in the chat
            ChatMemberHandler(
                self.on_member, ChatMemberHandler.ANY_CHAT_MEMBER, chat_id=leadership
            ),
            MessageHandler(filters.Chat(leadership) & joined_or_left, self.on_member),
        ]

    async def on_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Someone joined or left the leadership chat: their cached answer goes, so a removed
        leader loses access at once (and a new one gains it)."""
        changed = update.chat_member or update.my_chat_member
        if changed is not None:
            users = [changed.new_chat_member.user]
        else:  # a service message: joined, or left
            message = update.effective_message
            users = [*message.new_chat_members, *filter(None, [message.left_chat_member])]
        for user in users:
            self.forget(user.id)

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button pressed outside the presser's private chat that is not meant to act there:
        it is handled as if pressed in the private chat, under a note saying so (which is
        also how the bot learns it may write there); nothing reaches the group. A presser the
        bot may not write to is told, on the button, to open the private chat first."""
        if in_private(update) or acts_in_group(update.callback_query.data):
            return  # the handlers of group 0 take it
        user = update.effective_user
        locale = await user_locale(self.s, user)
        try:
            note = await self.s.bot.send_message(user.id, self.s.text(locale, "access", "moved"))
        except Forbidden:
            await update.callback_query.answer(
                self.s.text(locale, "access", "open_private", bot=context.bot.username or ""),
                show_alert=True,
            )
            raise ApplicationHandlerStop from None
        moved = update.to_dict()
        moved["callback_query"]["message"] = note.to_dict()
        await context.application.process_update(Update.de_json(moved, context.bot))
        raise ApplicationHandlerStop
