"""Health-monitoring check-ins (健康打卡) from the person's side, and the worker's monitoring
commands (/monitor <ref>, /monitoring): Telegram I/O only; the rules are in bot.actions.monitoring.

A check-in needs no draft: the prompt's buttons carry the monitoring, the slot and (for the
symptoms step) the selection so far. Only "其他（直接输入）" opens a draft (flow "checkin")
so that the typed temperature reaches this flow; a worker's typed reason uses flow "monitor".
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update, User
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import monitoring as mon
from bot.domain import monitoring as dm
from bot.domain import roles
from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_temperature, parse_text
from bot.domain.risk import SYMPTOMS
from bot.runtime import escalation
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, keyboard, parse_callback
from handlers.router import Router
from storage import audit, drafts, staff, timers
from storage import monitoring as store
from storage.drafts import Draft
from storage.monitoring import Monitoring

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
        user = update.effective_user
        m = await store.get(self.s.db, action.monitoring_id) if action else None
        if action is None or m is None or m.chat_id != user.id:
            await query.answer()
            return
        slot = dm.from_epoch(action.slot_epoch)
        c = await store.checkin(self.s.db, m.id, slot)
        if c is None or m.state != "active":
            await query.answer(self.t(m.locale, "stale"))
            return
        if action.kind == "temperature":
            await self.record(update, m, slot, action.temperature)
        elif action.kind == "other":
            await self.open_typed(update, m, slot, c.temperature is not None)
        else:
            await self.on_symptom(update, m, slot, action)

    # -- temperature -----------------------------------------------------------------------

    async def record(self, update: Update, m: Monitoring, slot: datetime, value: float) -> bool:
        """Store the slot's temperature (a fever alerts at once) and ask for symptoms."""
        now = self.s.now()
        async with self.s.db.write() as conn:
            done = await store.record_temperature(conn, m.id, slot, value, now)
            if done:
                await store.refresh_missed_in_row(conn, m.id)
                await timers_cancel_slot(conn, m.id, slot)
                # checked in again: the missed check-ins' escalations are over
                await escalation.stop_parent(conn, m.subject, now, kinds=("checkin",))
                if dm.is_fever(value):
                    await mon.checkin_alert(self.s, conn, m, slot, value, None, now, "fever")
        query = update.callback_query
        if not done:
            if query is not None:
                await query.answer(self.t(m.locale, "already_answered"))
            else:
                await self.s.bot.send_message(m.chat_id, self.t(m.locale, "already_answered"))
            return False
        self.s.wake_outbox()
        if query is not None:
            await query.answer()
            await _edit(query.message, self.t(m.locale, "answered_temperature", name=m.name,
                                              temperature=value))  # fmt: skip
        await self.s.bot.send_message(
            m.chat_id, self.t(m.locale, "ask_symptoms", name=m.name, temperature=value, chosen=[]),
            parse_mode=ParseMode.HTML, reply_markup=self.symptom_keyboard(m, slot, 0),
        )  # fmt: skip
        return True

    def symptom_keyboard(self, m: Monitoring, slot: datetime, mask: int) -> InlineKeyboardMarkup:
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
        self, update: Update, m: Monitoring, slot: datetime, answered: bool
    ) -> None:
        query = update.callback_query
        if answered:
            await query.answer(self.t(m.locale, "already_answered"))
            return
        user = update.effective_user
        open_draft = await drafts.get(self.s.db, user.id)
        if open_draft is not None and open_draft.flow != self.name:
            await query.answer(self.t(m.locale, "finish_other_first"), show_alert=True)
            return
        await query.answer()
        data = {"monitoring": m.id, "slot": dm.epoch(slot)}
        draft = drafts.new(user.id, m.chat_id, m.locale, "temperature", data, update.update_id,
                           flow=self.name)  # fmt: skip
        await self.ask(m.chat_id, await drafts.put(self.s.db, draft, self.s.now()))

    async def ask(self, chat_id: int, draft: Draft | None) -> None:
        if draft is None:
            return
        m = await store.get(self.s.db, draft.data["monitoring"])
        name = m.name if m else ""
        await self.s.bot.send_message(chat_id, self.t(draft.locale, "ask_typed", name=name))

    async def on_answer(self, update: Update, draft: Draft) -> None:
        message = update.effective_message
        m = await store.get(self.s.db, draft.data["monitoring"])
        if m is None or m.state != "active":
            await self._drop(draft)
            await message.reply_text(self.t(draft.locale, "stale"))
            return
        value = parse_temperature(message.text or "")
        if isinstance(value, Invalid):
            reason = self.s.text(draft.locale, "errors", value.code, **value.params)
            await drafts.put(self.s.db, replace(draft, last_update_id=update.update_id),
                             self.s.now())  # fmt: skip
            await message.reply_text(reason, parse_mode=ParseMode.HTML)
            await self.ask(message.chat_id, draft)
            return
        await self._drop(draft)
        await self.record(update, m, dm.from_epoch(draft.data["slot"]), value)

    async def _drop(self, draft: Draft) -> None:
        async with self.s.db.write() as conn:
            await drafts.delete(conn, draft.user_id, draft.token)

    # -- symptoms --------------------------------------------------------------------------

    async def on_symptom(self, update: Update, m: Monitoring, slot: datetime,
                         action: dm.CheckinAction) -> None:  # fmt: skip
        query = update.callback_query
        c = await store.checkin(self.s.db, m.id, slot)
        if c is None or c.temperature is None:
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
        now = self.s.now()
        async with self.s.db.write() as conn:
            done = await store.record_symptoms(conn, m.id, slot, codes)
            if done and codes:
                await mon.checkin_alert(self.s, conn, m, slot, c.temperature, codes, now,
                                        "symptoms")  # fmt: skip
        if not done:
            await query.answer(self.t(m.locale, "already_answered"))
            return
        self.s.wake_outbox()
        await query.answer()
        late = now - slot > timedelta(minutes=self.s.config.schedule.checkin_reminder_minutes)
        await _edit(
            query.message,
            self.t(
                m.locale,
                "recorded",
                name=m.name,
                temperature=c.temperature,
                symptoms=codes,
                late=late,
            ),
        )


async def timers_cancel_slot(conn: Any, monitoring_id: int, slot: datetime) -> None:
    """The slot is answered: its reminder and escalation are not needed."""
    await timers.cancel(conn, f"checkin:{monitoring_id}:{dm.epoch(slot)}")


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

    async def scope(self, user: User) -> tuple[bool, frozenset[str], frozenset[str]]:
        """(town-wide, grids held, villages held). Staff scopes come from the staff table;
        leadership membership is asked of Telegram only when nothing else grants access."""
        grids, villages = await staff.scopes_of(self.s.db, user.id)
        if user.id in self.s.config.leadership.admins:
            return True, grids, villages
        return False, grids, villages

    async def allowed(self, user: User, grid_id: str) -> bool:
        town, grids, villages = await self.scope(user)
        actor = roles.Actor(user.id, is_admin=town, worker_grids=grids, admin_villages=villages)
        if roles.can_see_grid(actor, grid_id, self.access.village_of):
            return True
        return await self._is_leader(user)

    async def _is_leader(self, user: User) -> bool:
        try:
            return (await self.access.actor(user)).is_leader
        except Exception:  # membership unknown: not a leader now
            log.warning("leadership membership of %s unknown", user.id, exc_info=True)
            return False

    async def refuse(self, update: Update, what: str, subject: str | None) -> None:
        async with self.s.db.write() as conn:
            await audit.record(conn, self.s.now(), update.effective_user.id, f"denied:{what}",
                               subject)  # fmt: skip
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
        found = await store.by_ref(self.s.db, ref)
        if not found or not await self.allowed(update.effective_user, found[0].grid_id):
            if found:
                await self.refuse(update, "monitor.view", f"report:{found[0].report_id}")
            else:
                await chat.send_message(self.t("not_found", ref=ref))
            return
        async with self.s.db.write() as conn:
            await audit.record(conn, self.s.now(), update.effective_user.id, "monitoring.view",
                               f"report:{found[0].report_id}")  # fmt: skip
        for m in found:
            await self.send_card(chat.id, m)

    async def send_card(self, chat_id: int, m: Monitoring) -> None:
        text, markup = await self.card(m)
        await self.s.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                      reply_markup=markup)  # fmt: skip

    async def card(self, m: Monitoring) -> tuple[str, InlineKeyboardMarkup | None]:
        today = self.s.local_today()
        tz = self.s.config.tz
        checkins = [
            dict(slot=c.slot_at.astimezone(tz), state=c.state, temperature=c.temperature,
                 symptoms=c.symptoms or [])
            for c in await store.checkins_of(self.s.db, m.id)
        ]  # fmt: skip
        done = await store.samples(self.s.db, m.id)
        tests = [
            dict(date=d, sampled=bool(done.get(d) and done[d]["sampled_at"]),
                 result=done[d]["result"] if d in done else None)
            for d in m.test_dates
        ]  # fmt: skip
        text = self.t(
            "card", ref=m.ref, name=m.name, phone=m.phone, kind=m.kind, state=m.state,
            day=dm.day_number(today, m.start_date), total=dm.total_days(m.start_date, m.end_date),
            start=m.start_date, end=m.end_date, missed_in_row=m.missed_in_row, checkins=checkins,
            tests=tests, note=m.note, **_place(self.s, m),
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
        for d in m.test_dates:
            stamp = d.strftime("%Y%m%d")
            row = done.get(d)
            if d <= today and (row is None or not row["sampled_at"]):
                rows.append([(self.t("btn_sample", test_date=d),
                              dm.sample_callback(m.id, d))])  # fmt: skip
            elif row is not None and row["sampled_at"] and row["result"] in (None, "pending"):
                rows.append([(self.t("btn_result", test_date=d, result=r),
                              dm.staff_callback(m.id, f"r{r[:3]}", stamp))
                             for r in dm.TEST_RESULTS])  # fmt: skip
        return text, keyboard(rows)

    async def cmd_monitoring(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        town, grids, villages = await self.scope(user)
        all_grids = self.access.all_grids
        if not town and not (grids or villages) and await self._is_leader(user):
            town = True
        if town:
            visible = all_grids
        else:
            visible = tuple(g for g in all_grids if g in grids
                            or self.access.village_of(g) in villages)  # fmt: skip
        if not visible:
            await self.refuse(update, "monitoring.list", None)
            return
        start = datetime.combine(self.s.local_today(), datetime.min.time(), tzinfo=self.s.config.tz)
        counts = await store.grid_counts(self.s.db, visible, start, start + timedelta(days=1))
        names = {g.id: g.name for v in self.s.config.villages for g in v.grids}
        rows = [dict(name=names.get(g, g), **counts[g]) for g in visible if counts[g]["active"]
                or len(visible) <= 10]  # fmt: skip
        today = self.s.local_today()
        people = [dict(ref=m.ref, name=m.name, missed_in_row=m.missed_in_row,
                       day=dm.day_number(today, m.start_date),
                       total=dm.total_days(m.start_date, m.end_date))
                  for m in await store.active_in_grids(self.s.db, visible, limit=30)]  # fmt: skip
        await update.effective_chat.send_message(self.t("overview", grids=rows, people=people),
                                                 parse_mode=ParseMode.HTML)  # fmt: skip

    # -- buttons ---------------------------------------------------------------------------

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, dm.STAFF_FLOW)
        if not parts or len(parts) != 3 or not parts[0].isdigit():
            await query.answer()
            return
        mid, action, arg = int(parts[0]), parts[1], parts[2]
        m = await store.get(self.s.db, mid)
        if m is None:
            await query.answer()
            return
        user = update.effective_user
        if not await self.allowed(user, m.grid_id):
            await self.refuse(update, f"monitor.{action}", m.subject)
            return
        if action == "ext" and arg.isdigit():
            await self.change(update, m, int(arg), None)
        elif action in ("sh", "stop") and arg.isdigit():
            existing = await drafts.get(self.s.db, user.id)
            if existing is not None and existing.flow != self.name:
                await query.answer(self.t("finish_other_first"), show_alert=True)
                return
            await query.answer()
            data = {"monitoring": m.id, "action": action, "days": int(arg)}
            draft = drafts.new(user.id, update.effective_chat.id, self.s.config.bot.default_locale,
                               "reason", data, update.update_id, flow=self.name)  # fmt: skip
            await self.ask(update.effective_chat.id, await drafts.put(self.s.db, draft,
                                                                      self.s.now()))  # fmt: skip
        elif action == "sample" or action.startswith("r"):
            await self.record_test(update, m, action, arg)
        else:
            await query.answer()

    async def record_test(self, update: Update, m: Monitoring, action: str, arg: str) -> None:
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
        now, user = self.s.now(), update.effective_user
        async with self.s.db.write() as conn:
            if result is None:
                done = await store.record_sample(conn, m.id, test_date, user.id, now)
            else:
                done = await store.record_result(conn, m.id, test_date, result, user.id, now)
            if done and result is None:  # sampled: the health alerts' escalations are over
                await escalation.stop_parent(conn, m.subject, now, kinds=("fever",))
            if done:
                detail = test_date.isoformat() + (f":{result}" if result else "")
                await audit.record(conn, now, user.id, f"monitoring.{action}", m.subject, detail)
        if not done:
            await query.answer(self.t("nothing_to_record"))
            return
        await query.answer()
        name = "sample_recorded" if result is None else "result_recorded"
        params = {"result": result} if result else {}
        await update.effective_chat.send_message(
            self.t(name, ref=m.ref, name=m.name, test_date=test_date, **params)
        )
        fresh = await store.get(self.s.db, m.id)
        if fresh is not None:
            await self.send_card(update.effective_chat.id, fresh)

    async def change(self, update: Update, m: Monitoring, days: int, reason: str | None) -> None:
        now, user = self.s.now(), update.effective_user
        async with self.s.db.write() as conn:
            changed = await mon.change_end(conn, self.s, m, days, now, reason=reason, actor=user.id)
        if update.callback_query is not None:
            await update.callback_query.answer()
        chat = update.effective_chat
        if changed is None:
            await chat.send_message(self.t("cannot_change"))
            return
        self.s.wake_outbox()
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
            await drafts.put(self.s.db, replace(draft, last_update_id=update.update_id),
                             self.s.now())  # fmt: skip
            await message.reply_text(self.s.text(draft.locale, "errors", reason.code,
                                                 **reason.params))  # fmt: skip
            await self.ask(message.chat_id, draft)
            return
        async with self.s.db.write() as conn:
            await drafts.delete(conn, draft.user_id, draft.token)
        m = await store.get(self.s.db, draft.data["monitoring"])
        if m is None or not await self.allowed(update.effective_user, m.grid_id):
            await message.reply_text(self.t("not_allowed"))
            return
        if draft.data["action"] == "sh":
            await self.change(update, m, -int(draft.data["days"]), reason)
            return
        now = self.s.now()
        async with self.s.db.write() as conn:
            stopped = await mon.stop_one(conn, self.s, m, now, reason, update.effective_user.id)
        if not stopped:
            await message.reply_text(self.t("cannot_change"))
            return
        self.s.wake_outbox()
        await message.reply_text(self.t("stopped_done", ref=m.ref, name=m.name))


def _place(services: Services, m: Monitoring) -> dict[str, str]:
    found = services.config.grid(m.grid_id)
    if found is None:
        return {"village": m.village_id, "grid": m.grid_id}
    return {"village": found[0].name, "grid": found[1].name}
