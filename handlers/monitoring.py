"""Health-monitoring check-ins (健康打卡) from the person's side, and the worker's monitoring
commands (/monitor <ref>, /monitoring): Telegram I/O only; the rules are in bot.actions.monitoring.

A check-in needs no draft: the prompt's buttons carry the monitoring, the slot and (for the
symptoms step) the selection so far. Only "其他（直接输入）" opens a draft (flow "checkin")
so that the typed temperature reaches this flow; a worker's typed reason uses flow "monitor".
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update, User
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import monitoring as mon
from bot.actions import staff
from bot.actions.access import deny
from bot.domain import monitoring as dm
from bot.domain import roles
from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_temperature, parse_text
from bot.domain.risk import SYMPTOMS
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, keyboard, parse_callback
from handlers.router import Router
from storage.drafts import Draft

log = logging.getLogger(__name__)

REASON_LIMIT = 200


class CheckinFlow:
    """The person's answers to check-in prompts."""

    name = "checkin"

    def __init__(self, services: Services, router: Router) -> None:
        self.s = services
        router.register(self)

    def handlers(self) -> list[BaseHandler]:
        return [CallbackQueryHandler(self.on_callback, pattern=callback_pattern(dm.CHECKIN_FLOW))]

    def t(self, locale: str, name: str, /, **params: Any) -> str:
        return self.s.text(locale, "monitoring", name, **params)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        action = dm.parse_checkin_callback(query.data)
        if action is None:
            await query.answer()
            return
        slot = dm.from_epoch(action.slot_epoch)
        found = await mon.person_slot(self.s, action.monitoring_id, update.effective_user.id, slot)
        if found is None:  # not their monitoring
            await query.answer()
            return
        m, c = found.monitoring, found.checkin
        if c is None or m.state != "active":
            await query.answer(self.t(m.locale, "stale"))
            return
        if action.kind == "temperature":
            await self.record(update, m, slot, action.temperature)
        elif action.kind == "other":
            await self.open_typed(update, m, slot, c.temperature is not None)
        else:
            await self.on_symptom(update, m, slot, c, action)

    # -- temperature -----------------------------------------------------------------------

    async def record(
        self, update: Update, m: mon.Monitoring, slot: datetime, value: float,
        draft: Draft | None = None,
    ) -> None:  # fmt: skip
        """Store the slot's temperature (a fever alerts at once) and ask for symptoms."""
        done = await mon.record_temperature(self.s, m.id, slot, value, draft)
        query = update.callback_query
        if not done:
            if query is not None:
                await query.answer(self.t(m.locale, "already_answered"))
            else:
                await self.s.bot.send_message(m.chat_id, self.t(m.locale, "already_answered"))
            return
        if query is not None:
            await query.answer()
            await _edit(query.message, self.t(m.locale, "answered_temperature", name=m.name,
                                              temperature=value))  # fmt: skip
        await self.s.bot.send_message(
            m.chat_id, self.t(m.locale, "ask_symptoms", name=m.name, temperature=value, chosen=[]),
            parse_mode=ParseMode.HTML, reply_markup=self.symptom_keyboard(m, slot, 0),
        )  # fmt: skip

    def symptom_keyboard(
        self, m: mon.Monitoring, slot: datetime, mask: int
    ) -> InlineKeyboardMarkup:
        stamp = dm.epoch(slot)

        def button(choice: str, label: str) -> tuple[str, str]:
            return label, dm.CheckinAction(m.id, stamp, "symptom", mask=mask,
                                           choice=choice).encode()  # fmt: skip

        toggles = [
            button(str(i), self.t(m.locale, "symptom_label", code=code, chosen=bool(mask >> i & 1)))
            for i, code in enumerate(SYMPTOMS)
        ]
        last = [button("n", self.t(m.locale, "none_label"))]
        if mask:
            last.append(button("d", self.t(m.locale, "done_label")))
        return keyboard([toggles[0:2], toggles[2:4], toggles[4:6], last])

    async def open_typed(
        self, update: Update, m: mon.Monitoring, slot: datetime, answered: bool
    ) -> None:
        query = update.callback_query
        if answered:
            await query.answer(self.t(m.locale, "already_answered"))
            return
        data = {"monitoring": m.id, "slot": dm.epoch(slot)}
        draft = await mon.open_answer(self.s, self.name, update.effective_user.id, m.chat_id,
                                      m.locale, "temperature", data, update.update_id)  # fmt: skip
        if draft is None:
            await query.answer(self.t(m.locale, "finish_other_first"), show_alert=True)
            return
        await query.answer()
        await self.ask(m.chat_id, draft)

    async def ask(self, chat_id: int, draft: Draft | None) -> None:
        if draft is None:
            return
        m = await mon.get(self.s, draft.data["monitoring"])
        name = m.name if m else ""
        await self.s.bot.send_message(chat_id, self.t(draft.locale, "ask_typed", name=name))

    async def on_answer(self, update: Update, draft: Draft) -> None:
        message = update.effective_message
        m = await mon.get(self.s, draft.data["monitoring"])
        if m is None or m.state != "active":
            await mon.drop_answer(self.s, draft)
            await message.reply_text(self.t(draft.locale, "stale"))
            return
        value = parse_temperature(message.text or "")
        if isinstance(value, Invalid):
            reason = self.s.text(draft.locale, "errors", value.code, **value.params)
            await mon.keep_answer(self.s, draft, update.update_id)
            await message.reply_text(reason, parse_mode=ParseMode.HTML)
            await self.ask(message.chat_id, draft)
            return
        await self.record(update, m, dm.from_epoch(draft.data["slot"]), value, draft)

    # -- symptoms --------------------------------------------------------------------------

    async def on_symptom(
        self, update: Update, m: mon.Monitoring, slot: datetime, c: mon.Checkin,
        action: dm.CheckinAction,
    ) -> None:  # fmt: skip
        query = update.callback_query
        if c.temperature is None:
            await query.answer(self.t(m.locale, "stale"))
            return
        if c.symptoms is not None:
            await query.answer(self.t(m.locale, "already_answered"))
            return
        if action.choice.isdigit():
            mask = dm.toggle(action.mask, int(action.choice))
            await query.answer()
            text = self.t(m.locale, "ask_symptoms", name=m.name, temperature=c.temperature,
                          chosen=dm.symptoms_of(mask))  # fmt: skip
            await _edit(query.message, text, self.symptom_keyboard(m, slot, mask))
            return
        codes = [] if action.choice == "n" else dm.symptoms_of(action.mask)
        if not await mon.record_symptoms(self.s, m.id, slot, codes):
            await query.answer(self.t(m.locale, "already_answered"))
            return
        await query.answer()
        late = self.s.now() - slot > timedelta(
            minutes=self.s.config.schedule.checkin_reminder_minutes
        )
        text = self.t(m.locale, "recorded", name=m.name, temperature=c.temperature,
                      symptoms=codes, late=late)  # fmt: skip
        await _edit(query.message, text)


async def _edit(message: Any, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace a prompt's text and buttons; an old message that cannot be edited is left."""
    if message is None:
        return
    try:
        await message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except TelegramError as exc:
        log.info("could not edit check-in message: %s", exc)


# --- the worker's side -------------------------------------------------------------------


class MonitorFlow:
    """/monitor <ref>: the card with extend / shorten / stop / sample / result; /monitoring:
    the overview of the worker's grids. A typed reason is a draft of flow "monitor"."""

    name = "monitor"

    def __init__(self, services: Services, router: Router, access: Access | None = None) -> None:
        self.s = services
        self.access = access or Access(services)
        router.register(self)

    def handlers(self) -> list[BaseHandler]:
        private = filters.ChatType.PRIVATE
        return [
            CommandHandler("monitor", self.cmd_monitor, filters=private),
            CommandHandler("monitoring", self.cmd_monitoring, filters=private),
            CallbackQueryHandler(self.on_callback, pattern=callback_pattern(dm.STAFF_FLOW)),
        ]

    def t(self, name: str, /, **params: Any) -> str:
        return self.s.text(self.s.config.bot.default_locale, "monitoring", name, **params)

    # -- authorisation ---------------------------------------------------------------------

    async def actor(self, user: User, grid_id: str | None = None) -> roles.Actor:
        """Staff scopes (read on every call) and the config's admins; leadership membership
        is asked of Telegram only when these do not already grant ``grid_id`` (None: any
        grid), so a worker's every command costs no call."""
        held = await staff.scopes(self.s, user.id)
        actor = roles.Actor(user.id, is_admin=user.id in self.s.config.leadership.admins,
                            worker_grids=held.grids, admin_villages=held.villages)  # fmt: skip
        if grid_id is None:
            granted = held.any
        else:
            granted = roles.can_see_grid(actor, grid_id, self.access.village_of)
        return actor if actor.is_admin or granted else await self.access.actor(user)

    def allowed(self, actor: roles.Actor, grid_id: str) -> bool:
        """See and change the grid's monitorings."""
        return roles.can_see_grid(actor, grid_id, self.access.village_of)

    async def refuse(
        self, update: Update, actor: roles.Actor, what: str, subject: str | None
    ) -> None:
        await deny(self.s, actor, what, subject)
        if update.callback_query is not None:
            await update.callback_query.answer(self.t("not_allowed"), show_alert=True)
        await update.effective_chat.send_message(self.t("not_allowed"))

    # -- commands --------------------------------------------------------------------------

    async def cmd_monitor(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if not context.args:
            await chat.send_message(self.t("usage"))
            return
        ref = context.args[0].strip().upper()[:40]
        found = await mon.by_ref(self.s, ref)
        if not found:
            await chat.send_message(self.t("not_found", ref=ref))
            return
        actor = await self.actor(update.effective_user, found[0].grid_id)
        if not self.allowed(actor, found[0].grid_id):
            await self.refuse(update, actor, "monitor.view", f"report:{found[0].report_id}")
            return
        for card in await mon.view(self.s, actor, found):
            await self.send_card(chat.id, card)

    async def send_card(self, chat_id: int, card: mon.Card) -> None:
        text, markup = self.render_card(card)
        await self.s.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                      reply_markup=markup)  # fmt: skip

    def render_card(self, card: mon.Card) -> tuple[str, InlineKeyboardMarkup | None]:
        m, today, tz = card.monitoring, self.s.local_today(), self.s.config.tz
        checkins = [
            dict(slot=c.slot_at.astimezone(tz), state=c.state, temperature=c.temperature,
                 symptoms=c.symptoms or [])
            for c in card.checkins
        ]  # fmt: skip
        tests = [dict(date=t.date, sampled=t.sampled, result=t.result) for t in card.tests]
        text = self.t(
            "card", ref=m.ref, name=m.name, phone=m.phone, kind=m.kind, state=m.state,
            day=dm.day_number(today, m.start_date), total=dm.total_days(m.start_date, m.end_date),
            start=m.start_date, end=m.end_date, missed_in_row=m.missed_in_row, checkins=checkins,
            tests=tests, note=m.note, **mon.place_names(self.s, m),
        )  # fmt: skip
        if m.state != "active":
            return text, None
        rows = [[(self.t("btn_extend", days=n), dm.staff_callback(m.id, "ext", str(n)))
                 for n in dm.EXTEND_CHOICES]]  # fmt: skip
        shorten = [(self.t("btn_shorten", days=n), dm.staff_callback(m.id, "sh", str(n)))
                   for n in dm.SHORTEN_CHOICES
                   if m.end_date - timedelta(days=n) >= max(today, m.start_date)]  # fmt: skip
        if shorten:
            rows.append(shorten)
        rows.append([(self.t("btn_stop"), dm.staff_callback(m.id, "stop", "0"))])
        for t in card.tests:
            if t.date <= today and not t.sampled:
                rows.append([(self.t("btn_sample", test_date=t.date),
                              dm.sample_callback(m.id, t.date))])  # fmt: skip
            elif t.sampled and t.result in (None, "pending"):
                stamp = t.date.strftime("%Y%m%d")
                rows.append([(self.t("btn_result", test_date=t.date, result=r),
                              dm.staff_callback(m.id, f"r{r[:3]}", stamp))
                             for r in dm.TEST_RESULTS])  # fmt: skip
        return text, keyboard(rows)

    async def cmd_monitoring(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.actor(update.effective_user)
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
        await update.effective_chat.send_message(self.t("overview", grids=rows, people=people),
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
        if m is None:
            await query.answer()
            return
        actor = await self.actor(update.effective_user, m.grid_id)
        if not self.allowed(actor, m.grid_id):
            await self.refuse(update, actor, f"monitor.{action}", m.subject)
            return
        if action == "ext" and arg.isdigit():
            await self.change(update, actor, m, int(arg))
        elif action in ("sh", "stop") and arg.isdigit():
            await self.open_reason(update, m, action, int(arg))
        elif action == "sample" or action.startswith("r"):
            await self.record_test(update, actor, m, action, arg)
        else:
            await query.answer()

    async def open_reason(self, update: Update, m: mon.Monitoring, action: str, days: int) -> None:
        query, chat_id = update.callback_query, update.effective_chat.id
        data = {"monitoring": m.id, "action": action, "days": days}
        draft = await mon.open_answer(self.s, self.name, update.effective_user.id, chat_id,
                                      self.s.config.bot.default_locale, "reason", data,
                                      update.update_id)  # fmt: skip
        if draft is None:
            await query.answer(self.t("finish_other_first"), show_alert=True)
            return
        await query.answer()
        await self.ask(chat_id, draft)

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
            await query.answer(self.t("nothing_to_record"))
            return
        await query.answer()
        name = "sample_recorded" if result is None else "result_recorded"
        params = {"result": result} if result else {}
        await update.effective_chat.send_message(
            self.t(name, ref=m.ref, name=m.name, test_date=test_date, **params)
        )
        await self.send_card(update.effective_chat.id, fresh)

    async def change(
        self, update: Update, actor: roles.Actor, m: mon.Monitoring, days: int,
        reason: str | None = None, draft: Draft | None = None,
    ) -> None:  # fmt: skip
        changed = await mon.change(self.s, actor, m.id, days, reason, draft)
        if update.callback_query is not None:
            await update.callback_query.answer()
        chat = update.effective_chat
        if changed is None:
            await chat.send_message(self.t("cannot_change"))
            return
        action = "extend" if days > 0 else "shorten"
        await chat.send_message(self.t("changed_done", ref=m.ref, name=m.name, action=action,
                                       end=changed.end_date))  # fmt: skip

    # -- the typed reason ------------------------------------------------------------------

    async def ask(self, chat_id: int, draft: Draft | None) -> None:
        if draft is None:
            return
        await self.s.bot.send_message(chat_id, self.t("ask_reason", action=draft.data["action"],
                                                      days=draft.data["days"]))  # fmt: skip

    async def on_answer(self, update: Update, draft: Draft) -> None:
        message = update.effective_message
        reason = parse_text(message.text or "", REASON_LIMIT)
        if isinstance(reason, Invalid):
            await mon.keep_answer(self.s, draft, update.update_id)
            await message.reply_text(self.s.text(draft.locale, "errors", reason.code,
                                                 **reason.params))  # fmt: skip
            await self.ask(message.chat_id, draft)
            return
        m = await mon.get(self.s, draft.data["monitoring"])
        actor = await self.actor(update.effective_user, m.grid_id) if m else None
        if m is None or actor is None or not self.allowed(actor, m.grid_id):
            await mon.drop_answer(self.s, draft)
            await message.reply_text(self.t("not_allowed"))
            return
        if draft.data["action"] == "sh":
            await self.change(update, actor, m, -int(draft.data["days"]), reason, draft)
        elif await mon.stop(self.s, actor, m.id, reason, draft):
            await message.reply_text(self.t("stopped_done", ref=m.ref, name=m.name))
        else:
            await message.reply_text(self.t("cannot_change"))
