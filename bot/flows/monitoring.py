"""Health monitoring's conversations: the person's answer to a check-in prompt (draft flow
"checkin") and a worker's typed reason for shortening or stopping a monitoring (draft flow
"monitor"). Texts: templates/*/monitoring.j2; actions: bot.actions.monitoring.

A check-in answer needs no draft while it is pressed: the prompt's buttons carry the
monitoring, the slot and (for the symptoms) the selection so far, so a prompt answers even
days later and after any restart. Only "其他（直接输入）" opens a draft, for the typed
temperature; its finish records the temperature as a pressed one would.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from markupsafe import Markup
from telegram import InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.actions import monitoring as mon
from bot.actions import staff
from bot.domain import monitoring as dm
from bot.domain import roles
from bot.domain.callbacks import button, inline_markup
from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_temperature, parse_text
from bot.domain.risk import SYMPTOMS
from bot.domain.steps import Step, store_answer
from bot.flows.answer import AnswerFlow
from bot.flows.engine import Draft

log = logging.getLogger(__name__)

REASON_LIMIT = 200


def _reason(text: str) -> str | Invalid:
    return parse_text(text, REASON_LIMIT)


async def _edit(message: Message | None, text: str, markup: dict | None = None) -> None:
    """Replace a prompt's text and buttons; an old message that cannot be edited is left."""
    if message is None:
        return
    keyboard = InlineKeyboardMarkup.de_json(markup, None) if markup else None
    try:
        await message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    except TelegramError as exc:
        log.info("could not edit check-in message: %s", exc)


class CheckinFlow(AnswerFlow):
    """The person's answers to check-in prompts: the prompt's buttons (``v1:ci:...``), and
    the temperature typed after "其他（直接输入）"."""

    name = "checkin"
    module = "monitoring"
    answer = Step("temperature", text=store_answer("temperature", parse_temperature))

    def t(self, locale: str, name: str, /, **params: Any) -> str:
        return self.s.text(locale, "monitoring", name, **params)

    # -- the prompt's buttons --------------------------------------------------------------

    async def on_prompt(self, update: Update) -> None:
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

    async def open_typed(
        self, update: Update, m: mon.Monitoring, slot: datetime, answered: bool
    ) -> None:
        query = update.callback_query
        if answered:
            await query.answer(self.t(m.locale, "already_answered"))
            return
        data = {"monitoring": m.id, "slot": dm.epoch(slot), "name": m.name}
        if await self.open(update, data, m.chat_id, m.locale) == "busy":
            await query.answer(self.t(m.locale, "finish_other_first"), show_alert=True)
            return
        await query.answer()

    # -- typed outside a conversation -------------------------------------------------------

    async def on_free_text(self, update: Update) -> bool:
        """Text sent while no conversation is open but a check-in is: a typed temperature
        answers it ("by button or typed"); anything else is told what the check-in waits
        for, with its buttons again. False: no check-in is open."""
        waiting = await mon.open_checkins(self.s, update.effective_user.id)
        if not waiting:
            return False
        temperature = [w for w in waiting if w.checkin.temperature is None]
        value = parse_temperature(update.effective_message.text or "")
        if len(temperature) == 1 and not isinstance(value, Invalid):
            found = temperature[0]
            await self.record(update, found.monitoring, found.checkin.slot_at, value)
            return True
        await self.show_waiting(update.effective_chat.id, waiting, value)
        return True

    async def show_open(self, update: Update, locale: str) -> None:
        """The menu's "健康打卡": the open check-ins again, or that none is open."""
        waiting = await mon.open_checkins(self.s, update.effective_user.id)
        if not waiting:
            await self.s.replies.send(update.effective_chat.id, self.t(locale, "none_open"))
            return
        await self.show_waiting(update.effective_chat.id, waiting, None)

    async def show_waiting(
        self, chat_id: int, waiting: list[mon.Slot], refused: float | Invalid | None
    ) -> None:
        """Each open check-in's question with its buttons; ``refused``: why the typed text
        answered none (a bad temperature's reason; several people: which one it is for)."""
        temperature = [w for w in waiting if w.checkin.temperature is None]
        for index, w in enumerate(temperature or waiting):
            m, slot = w.monitoring, w.checkin.slot_at
            why = Markup(self._why(m.locale, refused, len(temperature)) if index == 0 else "")
            if w.checkin.temperature is None:
                day = dm.day_number(dm.local_day(slot, self.s.config.tz), m.start_date)
                text = self.t(m.locale, "waiting_temperature", name=m.name, why=why, day=day,
                              total=dm.total_days(m.start_date, m.end_date))  # fmt: skip
                markup = mon.prompt_markup(m, slot, partial(self.s.renderer.label, m.locale,
                                                            "monitoring"))  # fmt: skip
            else:
                text = self.t(m.locale, "waiting_symptoms", name=m.name, why=why)
                markup = self.symptom_markup(m, slot, 0)
            await self.s.replies.send(chat_id, text, reply_markup=markup)

    def _why(self, locale: str, typed: float | Invalid | None, people: int) -> str:
        """Why a typed text answered no check-in: an impossible temperature's reason, or a
        temperature that could be anyone's of several. Other text needs no reason: the
        question says what it waits for."""
        if isinstance(typed, Invalid) and typed.code == "temp_range":
            return self.reason(locale, typed)
        if isinstance(typed, float) and people > 1:
            return self.t(locale, "waiting_which", people=people)
        return ""

    # -- temperature -----------------------------------------------------------------------

    def question_text(self, draft: Draft) -> str:
        # a draft opened before the name was stored with it asks without the name
        return self.t(draft.locale, "ask_typed", name=draft.data.get("name", ""))

    async def finish(self, update: Update, draft: Draft) -> None:
        m = await mon.get(self.s, draft.data["monitoring"])
        if m is None or m.state != "active":
            await self.drop(draft)
            await self.s.replies.send(draft.chat_id, self.t(draft.locale, "stale"))
            return
        slot = dm.from_epoch(draft.data["slot"])
        await self.record(update, m, slot, draft.data["temperature"], draft)

    async def record(
        self, update: Update, m: mon.Monitoring, slot: datetime, value: float,
        draft: Draft | None = None,
    ) -> None:  # fmt: skip
        """Store the slot's temperature (a fever alerts at once) and ask for symptoms;
        ``draft``: the typed answer's, ended with it."""
        done = await mon.record_temperature(self.s, m.id, slot, value, draft)
        query = update.callback_query
        if not done:
            if query is not None:
                await query.answer(self.t(m.locale, "already_answered"))
            else:
                await self.s.replies.send(m.chat_id, self.t(m.locale, "already_answered"))
            return
        if query is not None:
            await query.answer()
            await _edit(query.message, self.t(m.locale, "answered_temperature", name=m.name,
                                              temperature=value))  # fmt: skip
        await self.s.replies.send(
            m.chat_id,
            self.t(m.locale, "ask_symptoms", name=m.name, temperature=value, chosen=[]),
            reply_markup=self.symptom_markup(m, slot, 0),
        )  # fmt: skip

    # -- symptoms --------------------------------------------------------------------------

    def symptom_markup(self, m: mon.Monitoring, slot: datetime, mask: int) -> dict:
        """The symptom toggles, "none" and (once one is chosen) "done"; the selection so far
        travels in the buttons' data."""
        stamp = dm.epoch(slot)

        def choice(value: str, label: str) -> dict[str, str]:
            return button(label, dm.CheckinAction(m.id, stamp, "symptom", mask=mask,
                                                  choice=value).encode())  # fmt: skip

        toggles = [
            choice(str(i), self.t(m.locale, "symptom_label", code=code, chosen=bool(mask >> i & 1)))
            for i, code in enumerate(SYMPTOMS)
        ]
        last = [choice("n", self.t(m.locale, "none_label"))]
        if mask:
            last.append(choice("d", self.t(m.locale, "done_label")))
        return inline_markup([toggles[0:2], toggles[2:4], toggles[4:6], last])

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
            await _edit(query.message, text, self.symptom_markup(m, slot, mask))
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


class MonitorFlow(AnswerFlow):
    """A worker's typed reason for shortening ("sh") or stopping ("stop") a monitoring, asked
    after the /monitor card's button; who may see and change a monitoring is decided here for
    the card's commands too."""

    name = "monitor"
    module = "monitoring"
    answer = Step("reason", text=store_answer("reason", _reason))

    def t(self, name: str, /, **params: Any) -> str:
        """Staff texts are in the bot's default locale."""
        return self.s.text(self.s.config.bot.default_locale, "monitoring", name, **params)

    # -- authorisation ---------------------------------------------------------------------

    async def actor(self, user: User, grid_id: str | None = None) -> roles.Actor:
        """Staff scopes (read on every call) and the config's admins; leadership membership
        is asked of Telegram only when these do not already grant ``grid_id`` (None: any
        grid), so a worker's every command costs no call."""
        held = await staff.scopes(self.s, user.id)
        actor = roles.Actor(user.id, is_admin=user.id in self.s.config.leadership.admins,
                            worker_grids=held.grids, admin_villages=held.villages)  # fmt: skip
        granted = held.grid_staff if grid_id is None else self.allowed(actor, grid_id)
        return actor if actor.is_admin or granted else await self.engine.gate.actor(user)

    def allowed(self, actor: roles.Actor, grid_id: str) -> bool:
        """See the grid's monitorings (leaders too)."""
        return roles.can_see_grid(actor, grid_id, self.engine.gate.village_of)

    def may_change(self, actor: roles.Actor, grid_id: str) -> bool:
        """Change a monitoring of the grid or record its tests: the grid's staff (and admins);
        leaders read."""
        return roles.can_verify(actor, grid_id, self.engine.gate.village_of)

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return f"monitor.{draft.data['action']}", f"monitoring:{draft.data['monitoring']}"

    async def may_commit(self, actor: roles.Actor, draft: Draft) -> bool:
        """The worker may still change the monitoring (a scope can be revoked meanwhile)."""
        m = await mon.get(self.s, draft.data["monitoring"])
        return m is not None and self.may_change(actor, m.grid_id)

    # -- the reason ------------------------------------------------------------------------

    async def ask_reason(self, update: Update, m: mon.Monitoring, action: str, days: int) -> bool:
        """False when another conversation is open (that one is finished first)."""
        data = {"monitoring": m.id, "action": action, "days": days}
        locale = self.s.config.bot.default_locale
        return await self.open(update, data, update.effective_chat.id, locale) == "asked"

    def question_text(self, draft: Draft) -> str:
        return self.t("ask_reason", action=draft.data["action"], days=draft.data["days"])

    async def finish(self, update: Update, draft: Draft) -> None:
        """Shorten or stop (the worker may still: ``may_commit``)."""
        data, chat_id = draft.data, draft.chat_id
        m = await mon.get(self.s, data["monitoring"])
        if m is None:
            return  # gone since the check
        actor = await self.actor(update.effective_user, m.grid_id)
        if data["action"] == "sh":
            days = -int(data["days"])
            changed = await mon.change(self.s, actor, m.id, days, data["reason"], draft)
            await self.tell_changed(chat_id, m, days, changed)
        elif await mon.stop(self.s, actor, m.id, data["reason"], draft):
            await self.s.replies.send(chat_id, self.t("stopped_done", ref=m.ref, name=m.name))
        else:
            await self.s.replies.send(chat_id, self.t("cannot_change"))

    async def tell_changed(
        self, chat_id: int, m: mon.Monitoring, days: int, changed: mon.Monitoring | None
    ) -> None:
        """The worker's answer to an extension (a button) or a shortening (a reason)."""
        if changed is None:
            await self.s.replies.send(chat_id, self.t("cannot_change"))
            return
        action = "extend" if days > 0 else "shorten"
        text = self.t("changed_done", ref=m.ref, name=m.name, action=action, end=changed.end_date)
        await self.s.replies.send(chat_id, text)
