"""/start (with QR-poster deep links), the menu, /language and /my (own reports, withdraw)."""

from __future__ import annotations

from datetime import date

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import arrivals, users
from bot.domain.roles import parse_invite_payload
from bot.flows.staff import InviteFlow
from bot.runtime.render import LOCALES
from bot.runtime.services import Services
from handlers.arrivals import ArrivalFlow
from handlers.common import callback, callback_pattern, keyboard, parse_callback, user_locale
from handlers.tips import TipFlow

# The start menu's buttons: v1:menu:<item>, v1:lang:<locale>, v1:my:withdraw:<report id>.
MENU_FLOWS = ("menu", "lang", "my")


class StartFlow:
    def __init__(
        self,
        services: Services,
        arrival: ArrivalFlow,
        invite: InviteFlow,
        tip: TipFlow | None = None,
    ) -> None:
        self.s = services
        self.arrival = arrival
        self.invite = invite
        self.tip = tip

    def handlers(self) -> list[BaseHandler]:
        private = filters.ChatType.PRIVATE
        return [
            CommandHandler("start", self.cmd_start, filters=private),
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

    def menu(self, locale: str):
        return keyboard(
            [
                [(self.s.text(locale, "start", "btn_arrive"), callback("menu", "arrive"))],
                [(self.s.text(locale, "start", "btn_my"), callback("menu", "my"))],
                [(self.s.text(locale, "start", "btn_tip"), callback("menu", "tip"))],
                [(self.s.text(locale, "start", "btn_language"), callback("menu", "language"))],
            ]
        )

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
                    callback("my", "withdraw", str(r["id"])),
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

    async def _on_my(self, update: Update, parts: list[str]) -> None:
        if len(parts) != 2 or parts[0] != "withdraw" or not parts[1].isdigit():
            return
        user = update.effective_user
        locale = await user_locale(self.s, user)
        ref = await arrivals.withdraw(self.s, int(parts[1]), user.id)
        if ref is None:
            await update.effective_chat.send_message(
                self.s.text(locale, "start", "withdraw_failed")
            )
            return
        await update.effective_chat.send_message(self.s.text(locale, "start", "withdrawn", ref=ref))
