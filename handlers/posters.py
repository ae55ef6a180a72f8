"""/posters (二维码张贴) in a private chat: admins and leaders choose any village, a village
admin theirs; then the village's posters as one PDF (``v1:po:a:<village>``: a page for the
village, each grid and each venue) or one grid's as a PNG (``v1:po:g:<grid>``). Who may:
bot.domain.posters; anyone else is refused and audited (``denied:posters``). The files are
made by the outbox worker from the posters' words (bot.actions.posters.send)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import posters as service
from bot.domain import posters as rules
from bot.domain.invalid import Invalid
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback, callback_pattern, chunk, keyboard, parse_callback, user_locale

FLOW = "po"
VILLAGE, ALL, GRID = "v", "a", "g"  # v1:po:<what>:<village or grid id>
MODULE = service.MODULE


class PosterDesk:
    def __init__(self, services: Services, access: Access) -> None:
        self.s = services
        self.access = access

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("posters", self.cmd_posters, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_button, pattern=callback_pattern(FLOW)),
        ]

    async def cmd_posters(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.access.actor(update.effective_user)
        if not rules.may_open(actor):
            await self.access.refuse(update, actor, service.ACTION)
            return
        locale = await user_locale(self.s, update.effective_user)
        villages = [v for v in self.s.config.villages if rules.may_print(actor, v.id)]
        if len(villages) == 1:
            await self._choose_poster(update, locale, villages[0].id)
            return
        buttons = [(self.s.text(locale, MODULE, "btn_village", name=v.name),
                    callback(FLOW, VILLAGE, v.id)) for v in villages]  # fmt: skip
        await update.effective_chat.send_message(
            self.s.text(locale, MODULE, "choose_village"), parse_mode=ParseMode.HTML,
            reply_markup=keyboard(chunk(buttons, 2)),
        )  # fmt: skip

    async def _choose_poster(self, update: Update, locale: str, village_id: str) -> None:
        village = self.s.config.village(village_id)
        rows = [[(self.s.text(locale, MODULE, "btn_all"), callback(FLOW, ALL, village_id))]]
        rows += chunk([(self.s.text(locale, MODULE, "btn_grid", name=g.name),
                        callback(FLOW, GRID, g.id)) for g in village.grids], 2)  # fmt: skip
        await update.effective_chat.send_message(
            self.s.text(locale, MODULE, "choose_poster", village=village.name),
            parse_mode=ParseMode.HTML, reply_markup=keyboard(rows),
        )  # fmt: skip

    def _village(self, parts: list[str]) -> str | None:
        """The village a button names (itself, or its grid's); None: a made-up button or a
        place the town no longer has."""
        if len(parts) != 2 or parts[0] not in (VILLAGE, ALL, GRID):
            return None
        what, place = parts
        village = self.access.village_of(place) if what == GRID else place
        return village if self.s.config.village(village or "") else None

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        parts = parse_callback(update.callback_query.data, FLOW) or []
        what, place = [*parts, "", ""][:2]
        actor = await self.access.actor(update.effective_user)
        village = self._village(parts)
        if village is None or not rules.may_print(actor, village):
            await self.access.refuse(update, actor, service.ACTION, f"village:{village or place}")
            return
        await update.callback_query.answer()
        locale = await user_locale(self.s, update.effective_user)
        if what == VILLAGE:
            await self._choose_poster(update, locale, village)
            return
        grid = place if what == GRID else None
        made = await service.send(self.s, actor, update.effective_chat.id, context.bot.username,
                                  locale, village=village, grid=grid)  # fmt: skip
        answer = "sending" if not isinstance(made, Invalid) else made.code  # no_hotline
        await update.effective_chat.send_message(self.s.text(locale, MODULE, answer))
