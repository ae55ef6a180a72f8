"""Health-monitoring check-ins (健康打卡) from the person's side, and the worker's monitoring
commands (/monitor <ref>, /monitoring): Telegram I/O only. The conversations (a check-in
answer, a worker's typed reason) are in bot.flows.monitoring, the rules in
bot.actions.monitoring.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import monitoring as mon
from bot.actions.access import deny
from bot.domain import monitoring as dm
from bot.domain import roles
from bot.domain.masking import Audience
from bot.flows.monitoring import CheckinFlow, MonitorFlow
from handlers.access import Access
from handlers.common import callback_pattern, keyboard, parse_callback


class CheckinButtons:
    """The check-in prompt's buttons, answered by the check-in flow."""

    def __init__(self, flow: CheckinFlow) -> None:
        self.flow = flow

    def handlers(self) -> list[BaseHandler]:
        return [CallbackQueryHandler(self.on_callback, pattern=callback_pattern(dm.CHECKIN_FLOW))]

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.flow.on_prompt(update)


# --- the worker's side -------------------------------------------------------------------


class MonitorDesk:
    """/monitor <ref>: the card with extend / shorten / stop / sample / result; /monitoring:
    the overview of the worker's grids. A typed reason is the monitor flow's."""

    def __init__(self, flow: MonitorFlow, access: Access) -> None:
        self.s = flow.s
        self.flow = flow
        self.access = access

    def handlers(self) -> list[BaseHandler]:
        private = filters.ChatType.PRIVATE
        return [
            CommandHandler("monitor", self.cmd_monitor, filters=private),
            CommandHandler("monitoring", self.cmd_monitoring, filters=private),
            CallbackQueryHandler(self.on_callback, pattern=callback_pattern(dm.STAFF_FLOW)),
        ]

    async def refuse(
        self, update: Update, actor: roles.Actor, what: str, subject: str | None
    ) -> None:
        await deny(self.s, actor, what, subject)
        if update.callback_query is not None:
            await update.callback_query.answer(self.flow.t("not_allowed"), show_alert=True)
        await update.effective_chat.send_message(self.flow.t("not_allowed"))

    # -- commands --------------------------------------------------------------------------

    async def cmd_monitor(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if not context.args:
            await chat.send_message(self.flow.t("usage"))
            return
        ref = context.args[0].strip().upper()[:40]
        found = await mon.by_ref(self.s, ref)
        grid = found[0].grid_id if found else None
        actor = await self.flow.actor(update.effective_user, grid)
        if grid is None or not self.flow.allowed(actor, grid):
            # one answer whether the reference exists or is someone else's: not revealed
            subject = f"report:{found[0].report_id}" if found else f"ref:{ref}"
            await deny(self.s, actor, "monitor.view", subject)
            await chat.send_message(self.flow.t("not_found", ref=ref))
            return
        for card in await mon.view(self.s, actor, found):
            await self.send_card(chat.id, card, self.flow.may_change(actor, grid))

    async def send_card(self, chat_id: int, card: mon.Card, buttons: bool = True) -> None:
        text, markup = self.render_card(card, buttons)
        await self.s.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                      reply_markup=markup)  # fmt: skip

    def render_card(
        self, card: mon.Card, buttons: bool = True
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """The card; its buttons only for those who may change the monitoring."""
        m, today, tz = card.monitoring, self.s.local_today(), self.s.config.tz
        checkins = [
            dict(slot=c.slot_at.astimezone(tz), state=c.state, temperature=c.temperature,
                 symptoms=c.symptoms or [])
            for c in card.checkins
        ]  # fmt: skip
        tests = [
            dict(date=t.date, sampled=t.sampled, result=t.result, overdue=t.overdue)
            for t in card.tests
        ]
        text = self.flow.t(
            "card", audience=Audience.ENTITLED,
            ref=m.ref, name=m.name, phone=m.phone, kind=m.kind, state=m.state,
            day=dm.day_number(today, m.start_date), total=dm.total_days(m.start_date, m.end_date),
            start=m.start_date, end=m.end_date, missed_in_row=m.missed_in_row, checkins=checkins,
            tests=tests, note=m.note, **mon.place_names(self.s, m),
        )  # fmt: skip
        if m.state != "active" or not buttons:
            return text, None
        rows = [[(self.flow.t("btn_extend", days=n), dm.staff_callback(m.id, "ext", str(n)))
                 for n in dm.EXTEND_CHOICES]]  # fmt: skip
        shorten = [(self.flow.t("btn_shorten", days=n), dm.staff_callback(m.id, "sh", str(n)))
                   for n in dm.SHORTEN_CHOICES
                   if m.end_date - timedelta(days=n) >= max(today, m.start_date)]  # fmt: skip
        if shorten:
            rows.append(shorten)
        rows.append([(self.flow.t("btn_stop"), dm.staff_callback(m.id, "stop", "0"))])
        for t in card.tests:
            if t.date <= today and not t.sampled:
                rows.append([(self.flow.t("btn_sample", test_date=t.date),
                              dm.sample_callback(m.id, t.date))])  # fmt: skip
            elif t.sampled and t.result in (None, "pending"):
                stamp = t.date.strftime("%Y%m%d")
                rows.append([(self.flow.t("btn_result", test_date=t.date, result=r),
                              dm.staff_callback(m.id, f"r{r[:3]}", stamp))
                             for r in dm.TEST_RESULTS])  # fmt: skip
        return text, keyboard(rows)

    async def cmd_monitoring(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.flow.actor(update.effective_user)
        visible = roles.visible_grids(actor, self.access.grids_of, self.access.all_grids)
        if not visible:
            await self.refuse(update, actor, "monitoring.list", None)
            return
        found = await mon.overview(self.s, visible)
        names = {g.id: g.name for v in self.s.config.villages for g in v.grids}
        rows = [dict(name=names.get(g, g), **found.counts[g]) for g in visible
                if found.counts[g]["active"] or len(visible) <= 10]  # fmt: skip
        today = self.s.local_today()
        people = [dict(ref=m.ref, name=m.name, missed_in_row=m.missed_in_row,
                       day=dm.day_number(today, m.start_date),
                       total=dm.total_days(m.start_date, m.end_date))
                  for m in found.people]  # fmt: skip
        await update.effective_chat.send_message(self.flow.t("overview", grids=rows, people=people),
                                                 parse_mode=ParseMode.HTML)  # fmt: skip

    # -- buttons ---------------------------------------------------------------------------

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, dm.STAFF_FLOW)
        if not parts or len(parts) != 3 or not parts[0].isdigit():
            await query.answer()
            return
        action, arg = parts[1], parts[2]
        m = await mon.get(self.s, int(parts[0]))
        actor = await self.flow.actor(update.effective_user, m.grid_id if m else None)
        if m is None or not self.flow.may_change(actor, m.grid_id):
            # the same refusal whether or not the monitoring exists
            await self.refuse(update, actor, f"monitor.{action}", f"monitoring:{parts[0]}")
            return
        if action == "ext" and arg.isdigit():
            changed = await mon.change(self.s, actor, m.id, int(arg))
            await query.answer()
            await self.flow.tell_changed(update.effective_chat.id, m, int(arg), changed)
        elif action in ("sh", "stop") and arg.isdigit():
            await self.ask_reason(update, m, action, int(arg))
        elif action == "sample" or action.startswith("r"):
            await self.record_test(update, actor, m, action, arg)
        else:
            await query.answer()

    async def ask_reason(self, update: Update, m: mon.Monitoring, action: str, days: int) -> None:
        query = update.callback_query
        if not await self.flow.ask_reason(update, m, action, days):
            await query.answer(self.flow.t("finish_other_first"), show_alert=True)
            return
        await query.answer()

    async def record_test(
        self, update: Update, actor: roles.Actor, m: mon.Monitoring, action: str, arg: str
    ) -> None:
        query = update.callback_query
        try:
            test_date = datetime.strptime(arg, "%Y%m%d").date()
        except ValueError:
            await query.answer()
            return
        result = next((r for r in dm.TEST_RESULTS if action == f"r{r[:3]}"), None)
        if test_date not in m.test_dates or (action != "sample" and result is None):
            await query.answer()
            return
        fresh = await mon.record_test(self.s, actor, m.id, test_date, result)
        if fresh is None:
            await query.answer(self.flow.t("nothing_to_record"))
            return
        await query.answer()
        name = "sample_recorded" if result is None else "result_recorded"
        params = {"result": result} if result else {}
        await update.effective_chat.send_message(
            self.flow.t(name, ref=m.ref, name=m.name, test_date=test_date, **params)
        )
        await self.send_card(update.effective_chat.id, fresh)
