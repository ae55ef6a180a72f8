"""/stats (统计查询) and its buttons (``v1:tj:<what>:<view>:<range>:<village>:<grid>:<category>:
<province>``), in a private chat: leaders and admins the whole town, a village admin his
villages; anyone else, and a button forged for another village, refused and audited
(``denied:stats``). A button shows another view, range or drill-down as a new table, opens
the typed range (自选日期), or sends the arrivals' trend chart (按日趋势)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import stats as service
from bot.domain import stats as rules
from bot.domain.roles import Actor
from bot.flows.engine import Engine
from bot.flows.stats import RangeFlow
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale

DEFAULT_VIEW, DEFAULT_PRESET = "village", "d14"  # the plan's 14 days


class StatsDesk:
    def __init__(self, services: Services, engine: Engine, access: Access) -> None:
        self.s = services
        self.access = access
        self.ranges = RangeFlow(services, engine)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("stats", self.cmd_stats, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_button, pattern=callback_pattern(service.FLOW)),
        ]

    async def cmd_stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Arrivals of the last 14 days by village (a village admin of one village: by grid)."""
        actor = await self.access.actor(update.effective_user)
        if not rules.may_view(actor):
            await self.access.refuse(update, actor, "stats")
            return
        start, end = rules.preset_range(DEFAULT_PRESET, self.s.local_today())
        villages = rules.villages_of(actor)
        if villages is not None and len(villages) == 1:
            query = rules.Query("grid", start, end, village=next(iter(villages)))
        else:
            query = rules.Query(DEFAULT_VIEW, start, end)
        await self._show(update, actor, query)

    async def _show(self, update: Update, actor: Actor, query: rules.Query) -> None:
        locale = await user_locale(self.s, update.effective_user)
        answer = await service.show(self.s, actor, query, locale)
        await self.s.replies.send(update.effective_chat.id, answer.text,
                                  reply_markup=answer.markup)  # fmt: skip

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        parts = parse_callback(update.callback_query.data, service.FLOW) or []
        actor = await self.access.actor(update.effective_user)
        query = rules.decode(parts[1:7], self.s.local_today()) if parts else None
        what = parts[0] if parts else ""
        page = parts[7:]  # 选村's list: the page turned to
        if (query is None or what not in (service.SHOW, service.TREND, service.TYPED, service.PICK)
                or (page and (what != service.PICK or len(page) > 1 or not page[0].isdigit()))
                or not service.permits(self.s, actor, query)):  # fmt: skip
            await self.access.refuse(update, actor, "stats",
                                     f"village:{query.village}" if query and query.village
                                     else None)  # fmt: skip
            return
        locale = await user_locale(self.s, update.effective_user)
        if what == service.TYPED:
            opened = await self.ranges.ask(update, query)
            note = None if opened == "asked" else self.s.text(locale, "stats", "finish_first")
            await update.callback_query.answer(note, show_alert=note is not None)
            return
        await update.callback_query.answer()
        if what == service.PICK:
            await self._pick(update, actor, query, locale, page)
            return
        if what == service.TREND:
            if not await service.trend(self.s, actor, query, locale):
                await self.s.replies.send(update.effective_chat.id,
                                          self.s.text(locale, "stats", "chart_failed"))  # fmt: skip
            return
        await self._show(update, actor, query)

    async def _pick(self, update: Update, actor: Actor, query: rules.Query, locale: str,
                    page: list[str]) -> None:  # fmt: skip
        """The list of villages: a new message, its pages turned in place."""
        answer = service.villages(self.s, actor, query, locale, int(page[0]) if page else 0)
        if page:
            try:
                await update.callback_query.edit_message_text(
                    answer.text, parse_mode=ParseMode.HTML, reply_markup=answer.markup
                )
                return
            except BadRequest as exc:
                if "not modified" in exc.message:  # the page shown already (a double tap)
                    return
        await self.s.replies.send(update.effective_chat.id, answer.text,
                                  reply_markup=answer.markup)  # fmt: skip
