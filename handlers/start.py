"""/start (with QR-poster deep links), the menu, /help (per role), /language and /my (own
reports, withdraw); in a group, /help and a pointer to the private chat for the residents'
commands."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import arrivals, users
from bot.domain.roles import Actor, parse_invite_payload
from bot.flows.arrivals import venue_unit
from bot.flows.engine import Gate
from bot.flows.monitoring import CheckinFlow
from bot.flows.staff import InviteFlow
from bot.runtime.render import LOCALES
from bot.runtime.services import Services
from handlers.arrivals import WITHDRAW, ArrivalFlow, report_button
from handlers.common import callback, callback_pattern, keyboard, parse_callback, user_locale
from handlers.tips import TipFlow

# The start menu's buttons: v1:menu:<item>, v1:lang:<locale>. /my's buttons are a stored
# report's (v1:my:withdraw:<report id>), answered with its receipt's in handlers/arrivals.py.
MENU_FLOWS = ("menu", "lang")
# Residents' commands, answered in a group with a pointer to the private chat.
PRIVATE_ONLY = ("start", "arrive", "tip", "my", "language", "cancel")


class StartFlow:
    def __init__(
        self,
        services: Services,
        arrival: ArrivalFlow,
        invite: InviteFlow,
        tip: TipFlow | None = None,
        *,
        gate: Gate | None = None,
        checkin: CheckinFlow | None = None,
    ) -> None:
        self.s = services
        self.arrival = arrival
        self.invite = invite
        self.tip = tip
        self.gate = gate  # who is asking /help (None: everyone is a resident)
        self.checkin = checkin

    def handlers(self) -> list[BaseHandler]:
        private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
        return [
            CommandHandler("start", self.cmd_start, filters=private),
            CommandHandler("help", self.cmd_help, filters=private),
            CommandHandler("help", self.cmd_group_help, filters=groups),
            CommandHandler(PRIVATE_ONLY, self.cmd_in_group, filters=groups),
            CommandHandler("language", self.cmd_language, filters=private),
            CommandHandler("my", self.cmd_my, filters=private),
            CallbackQueryHandler(self.on_menu, pattern=callback_pattern(*MENU_FLOWS)),
        ]

    async def cmd_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._remember(update)
        payload = context.args[0] if context.args else None
        if payload and payload.startswith("inv-"):
            await self.invite.begin(update, parse_invite_payload(payload) or payload[4:])
            return
        if payload and self.tip is not None and (tip := self.tip.prefill(payload)) is not None:
            await self.tip.begin(update, tip)  # a tip poster (线索举报): /start t-XF01
            return
        if (unit_id := venue_unit(payload)) is not None:  # a venue's QR code: /start u-<unit>
            await self.arrival.begin_venue(update, unit_id)
            return
        if payload:
            prefill = self.arrival.prefill(payload)
            if prefill is not None:
                await self.arrival.begin(update, prefill)
                return
        locale = await user_locale(self.s, update.effective_user)
        text = self.s.text(locale, "start", "welcome", town=self.s.config.town.name)
        if payload:
            text = self.s.text(locale, "start", "bad_link") + "\n\n" + text
        await update.effective_chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=self.menu(locale)
        )

    async def _remember(self, update: Update) -> None:
        await users.remember(self.s, update.effective_user.id)

    def menu(self, locale: str) -> InlineKeyboardMarkup:
        items = ("arrive", "my", "tip", *(("checkin",) if self.checkin else ()), "help",
                 "language")  # fmt: skip
        return keyboard(
            [[(self.s.text(locale, "start", f"btn_{item}"), callback("menu", item))]
             for item in items]
        )  # fmt: skip

    async def on_free_text(self, update: Update) -> bool:
        """A message outside any conversation (nothing else took it): the menu's buttons."""
        locale = await user_locale(self.s, update.effective_user)
        await update.effective_chat.send_message(
            self.s.text(locale, "start", "not_in_flow"), reply_markup=self.menu(locale)
        )
        return True

    # -- /help -----------------------------------------------------------------------------

    async def cmd_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._help(update)

    async def _help(self, update: Update) -> None:
        """The commands this person may use, by role, and the menu's buttons."""
        user = update.effective_user
        locale = await user_locale(self.s, user)
        actor = await self.gate.actor(user) if self.gate else Actor(user.id)
        # a leader's menu here, not at /start: that would ask Telegram about every resident
        await self.invite.leader_menu(actor, update.effective_chat.id, locale)
        text = self.s.text(
            locale, "start", "help", **help_roles(actor), liaison=bool(actor.unit_ids)
        )
        await update.effective_chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=self.menu(locale)
        )

    async def cmd_group_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In a group: the group's commands (/report only in the leadership group)."""
        locale = self.s.config.bot.default_locale
        leadership = update.effective_chat.id == self.s.config.leadership.chat_id
        await update.effective_message.reply_text(
            self.s.text(locale, "start", "group_help", leadership=leadership),
            parse_mode=ParseMode.HTML, reply_markup=self._private_link(locale, context),
        )  # fmt: skip

    async def cmd_in_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A resident's command sent in a group: it works in the private chat with the bot."""
        locale = self.s.config.bot.default_locale
        command = (update.effective_message.text or "/").split()[0].split("@")[0]
        await update.effective_message.reply_text(
            self.s.text(locale, "start", "private_only", command=command),
            parse_mode=ParseMode.HTML, reply_markup=self._private_link(locale, context),
        )  # fmt: skip

    def _private_link(
        self, locale: str, context: ContextTypes.DEFAULT_TYPE
    ) -> InlineKeyboardMarkup | None:
        """A button opening the private chat with the bot (t.me link by its username)."""
        username = context.bot.username
        if not username:
            return None
        label = self.s.text(locale, "start", "btn_private")
        return InlineKeyboardMarkup([[InlineKeyboardButton(label, url=f"https://t.me/{username}")]])

    async def cmd_language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._ask_language(update)

    async def _ask_language(self, update: Update) -> None:
        locale = await user_locale(self.s, update.effective_user)
        await update.effective_chat.send_message(
            self.s.text(locale, "start", "choose_language"),
            reply_markup=keyboard(
                [[("中文", callback("lang", "zh_CN")), ("English", callback("lang", "en"))]]
            ),
        )

    async def on_menu(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer()
        data = query.data or ""
        for flow in MENU_FLOWS:
            parts = parse_callback(data, flow)
            if parts:
                await getattr(self, f"_on_{flow}")(update, parts)
                return

    async def _on_menu(self, update: Update, parts: list[str]) -> None:
        if parts == ["arrive"]:
            await self.arrival.begin(update, None)
        elif parts == ["my"]:
            await self._show_my(update)
        elif parts == ["tip"] and self.tip is not None:
            await self.tip.begin(update, None)
        elif parts == ["language"]:
            await self._ask_language(update)
        elif parts == ["help"]:
            await self._help(update)
        elif parts == ["checkin"] and self.checkin is not None:
            await self.checkin.show_open(update, await user_locale(self.s, update.effective_user))

    async def _on_lang(self, update: Update, parts: list[str]) -> None:
        if len(parts) != 1 or parts[0] not in LOCALES:
            return
        await users.choose_locale(self.s, update.effective_user.id, parts[0])
        await update.effective_chat.send_message(
            self.s.text(parts[0], "start", "language_set"), reply_markup=self.menu(parts[0])
        )

    async def cmd_my(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._show_my(update)

    async def _show_my(self, update: Update) -> None:
        user = update.effective_user
        locale = await user_locale(self.s, user)
        rows = await arrivals.of_reporter(self.s, user.id)
        if not rows:
            await update.effective_chat.send_message(self.s.text(locale, "start", "my_none"))
            return
        items = [
            dict(
                ref=r["ref"],
                name=r["person_name"],
                state=r["state"],
                arrival=date.fromisoformat(r["arrival_date"]),
            )
            for r in rows
        ]
        buttons = [
            [
                (
                    self.s.text(locale, "start", "btn_withdraw", ref=r["ref"]),
                    report_button(WITHDRAW, r["id"]),
                )
            ]
            for r in rows
            if r["state"] == "open"
        ]
        await update.effective_chat.send_message(
            self.s.text(locale, "start", "my_list", reports=items),
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(buttons) if buttons else None,
        )


def help_roles(actor: Actor) -> dict[str, bool]:
    """Which parts of /help apply: a role's commands, and those of every role it includes
    (an admin may do what a village admin and a leader may)."""
    return dict(
        worker=actor.is_admin or bool(actor.worker_grids or actor.admin_villages),
        manager=actor.is_admin or bool(actor.admin_villages),
        leader=actor.is_leader or actor.is_admin,
        admin=actor.is_admin,
    )
