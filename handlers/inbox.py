"""The worker's inbox (待办, ``/tasks``): pending arrivals in the worker's grids, a card per
report with its full details (audited), and the verification conversation: checked and
confirmed (measure, start date, note), information wrong (the reporter is asked to correct),
or escalated to the leadership group."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import aiosqlite
from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions.monitoring import restart_monitoring
from bot.domain import roles
from bot.domain.invalid import Invalid
from bot.domain.masking import mask_id, mask_name, mask_phone
from bot.domain.parsing import parse_date, parse_text
from bot.domain.risk import MeasurePlan
from bot.domain.roles import Actor
from bot.runtime import escalation
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback, callback_pattern, keyboard, parse_callback, user_locale
from handlers.router import Router
from handlers.steps import Next, Result, StepConversation
from storage import arrivals as reports
from storage import audit, drafts, inbox, outbox
from storage.drafts import Draft
from storage.outbox import PRIORITY_ALERT

CHECKS = {"both": (True, True), "code": (True, False), "none": (False, False)}
MEASURES = ("keep", "home_monitoring", "home_observation", "centralized_isolation")
NOTE_LIMIT = 300


def place_names(services: Services, grid_id: str) -> tuple[str, str]:
    found = services.config.grid(grid_id)
    return (found[0].name, found[1].name) if found else ("", grid_id)


def measure_days(services: Services, kind: str, row: Any) -> int:
    """The configured duration of a measure kind; else the report's own duration."""
    for measure in services.config.measures.values():
        if measure.kind == kind:
            return measure.days
    start, end = date.fromisoformat(row["measure_start"]), date.fromisoformat(row["measure_end"])
    return (end - start).days + 1


class VerifyFlow(StepConversation):
    name = "verify"
    prefix = "vf"

    def __init__(self, services: Services, router: Router, access: Access) -> None:
        super().__init__(services, router)
        self.access = access

    def question(self, draft: Draft) -> tuple[str, Any]:
        locale, step = draft.locale, draft.step
        text = self.s.text(
            locale, "inbox", f"ask_{step}", ref=draft.data["ref"], suggested=draft.data["suggested"]
        )
        values: tuple[str, ...] = {
            "checks": tuple(CHECKS),
            "measure": MEASURES,
            "start": ("today", "yesterday"),
            "note": ("skip",),
        }.get(step, ())
        choices = [
            (
                self.s.text(
                    locale, "inbox", "choice", step=step, value=v, suggested=draft.data["suggested"]
                ),
                v,
            )
            for v in values
        ]
        return text, self.buttons(draft, choices, per_row=1 if step in ("checks", "measure") else 2)

    def on_choice(self, draft: Draft, value: str) -> Result:
        data, step = draft.data, draft.step
        if step == "checks" and value in CHECKS:
            return Next("measure", {**data, "checks": value})
        if step == "measure" and value in MEASURES:
            return Next(
                "start", {**data, "measure": data["suggested"] if value == "keep" else value}
            )
        if step == "start" and value in ("today", "yesterday"):
            day = self.s.local_today() - timedelta(days=0 if value == "today" else 1)
            return Next("note", {**data, "start": day.isoformat()})
        if step == "note" and value == "skip":
            return Next(None, {**data, "note": None})
        return Invalid("choice_stale")

    def on_text(self, draft: Draft, message: Message) -> Result:
        text = message.text
        if text is None:
            return Invalid("expect_text")
        if draft.step == "start":
            day = parse_date(text, self.s.local_today(), 30)
            return (
                day
                if isinstance(day, Invalid)
                else Next("note", {**draft.data, "start": day.isoformat()})
            )
        if draft.step in ("note", "correction"):
            note = parse_text(text, NOTE_LIMIT)
            return note if isinstance(note, Invalid) else Next(None, {**draft.data, "note": note})
        return Invalid("expect_choice")

    async def finish(self, update: Update, draft: Draft) -> None:
        data = draft.data
        actor = await self.access.actor(update.effective_user)
        row = await inbox.report(self.s.db, data["report_id"])
        if row is None or not roles.can_verify(actor, row["grid_id"], self.access.village_of):
            await self.drop(draft)
            await self.access.refuse(update, actor, "verify", f"report:{data['report_id']}")
            return
        now = self.s.now()
        outcome = data["outcome"]
        measure = None
        if outcome == "verified":
            start = date.fromisoformat(data["start"])
            kind = data["measure"]
            # the last day of the measure, inclusive: 14 days from 26 Oct end on 8 Nov
            last = start + timedelta(days=max(measure_days(self.s, kind, row) - 1, 0))
            measure = (kind, start, last)
        async with self.s.db.write() as conn:
            if not await drafts.delete(conn, draft.user_id, draft.token):
                return  # a double tap
            done = row["version"] == data["version"] and await inbox.record(
                conn,
                row,
                actor.user_id,
                outcome,
                now,
                checks=CHECKS.get(data.get("checks"), (None, None)),
                measure=measure,
                note=data.get("note"),
            )
            if done:
                await audit.record(
                    conn,
                    now,
                    actor.user_id,
                    f"report.{outcome}",
                    f"report:{row['id']}",
                    data.get("note"),
                )
                await escalation.stop(conn, f"report:{row['id']}", now)
                await self._tell_reporter(conn, row, outcome, measure, data.get("note"))
                if measure is not None:  # monitoring follows the measure the worker confirmed
                    await restart_monitoring(conn, self.s, row["id"], self._plan(measure), now)
        if not done:
            await update.effective_chat.send_message(
                self.s.text(draft.locale, "inbox", "already_reviewed", ref=row["ref"])
            )
            return
        self.s.wake_outbox()
        await update.effective_chat.send_message(
            self.s.text(
                draft.locale,
                "inbox",
                f"done_{outcome}",
                ref=row["ref"],
                measure=measure[0] if measure else None,
                start=measure[1] if measure else None,
                end=measure[2] if measure else None,
            ),
            parse_mode=ParseMode.HTML,
        )

    def _plan(self, measure: tuple[str, date, date]) -> MeasurePlan:
        """The confirmed measure as a plan; test days as configured for that kind of measure."""
        kind, start, last = measure
        days = (last - start).days + 1
        configured = next((m for m in self.s.config.measures.values() if m.kind == kind), None)
        tests = configured.test_days if configured else ()
        dates = tuple(start + timedelta(days=n - 1) for n in tests if 1 <= n <= days)
        return MeasurePlan(kind, start, last, dates)

    async def _tell_reporter(
        self,
        conn: aiosqlite.Connection,
        row: Any,
        outcome: str,
        measure: tuple[str, date, date] | None,
        note: str | None,
    ) -> None:
        text = self.s.text(
            row["locale"],
            "inbox",
            f"reporter_{outcome}",
            ref=row["ref"],
            note=note,
            measure=measure[0] if measure else None,
            start=measure[1] if measure else None,
            end=measure[2] if measure else None,
        )
        await outbox.enqueue(
            conn,
            chat_id=row["reporter_chat_id"],
            text=text,
            now=self.s.now(),
            subject=f"report:{row['id']}",
            dedup_key=f"report:{row['id']}:v{row['version']}:{outcome}",
        )


class Inbox:
    """/tasks and the report cards (callback data ``v1:tk:<action>:<report id>``)."""

    def __init__(self, services: Services, access: Access, verify: VerifyFlow) -> None:
        self.s = services
        self.access = access
        self.verify = verify
        # More to-dos after the reports (tips: handlers/tip.py): (update, actor, locale).
        self.sections: list[Callable[[Update, Actor, str], Awaitable[None]]] = []

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("tasks", self.cmd_tasks, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_card, pattern=callback_pattern("tk")),
        ]

    async def cmd_tasks(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.access.actor(update.effective_user)
        if not roles.has_inbox(actor):
            await self.access.refuse(update, actor, "tasks")
            return
        locale = await user_locale(self.s, update.effective_user)
        grids = roles.inbox_grids(actor, self.access.grids_of, self.access.all_grids)
        counts = await inbox.counts(self.s.db, grids)
        rows = await inbox.pending(self.s.db, grids)
        items = [
            dict(
                ref=r["ref"],
                name=r["person_name"],
                grid=place_names(self.s, r["grid_id"])[1],
                arrival=date.fromisoformat(r["arrival_date"]),
                alert=bool(r["alert"]),
                review=r["review"],
            )
            for r in rows
        ]
        per_grid = [
            dict(grid=" ".join(place_names(self.s, g)), count=counts[g])
            for g in grids
            if counts.get(g)
        ]
        buttons = [
            [(self.s.text(locale, "inbox", "btn_open", **item), callback("tk", "o", str(r["id"])))]
            for item, r in zip(items, rows, strict=True)
        ]
        async with self.s.db.write() as conn:
            await audit.record(
                conn,
                self.s.now(),
                actor.user_id,
                "view:tasks",
                None,
                ",".join(grids) if not actor.is_admin else "*",
            )
        await update.effective_chat.send_message(
            self.s.text(
                locale, "inbox", "tasks", total=sum(counts.values()), grids=per_grid, items=items
            ),
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(buttons) if buttons else None,
        )
        for section in self.sections:
            await section(update, actor, locale)

    async def on_card(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, "tk") or []
        actor = await self.access.actor(update.effective_user)
        row = None
        if len(parts) == 2 and parts[1].isascii() and parts[1].isdigit():
            row = await inbox.report(self.s.db, int(parts[1]))
        action = parts[0] if parts else ""
        subject = f"report:{parts[1]}" if len(parts) == 2 else None
        village_of = self.access.village_of
        allowed = row is not None and (
            roles.can_see_grid(actor, row["grid_id"], village_of)
            if action == "o"
            else action in ("ok", "bad", "esc")
            and roles.can_verify(actor, row["grid_id"], village_of)
        )
        if not allowed:
            await self.access.refuse(update, actor, f"report.{action or '?'}", subject)
            return
        await query.answer()
        locale = await user_locale(self.s, update.effective_user)
        if action == "o":
            await self._card(update, actor, locale, row)
            return
        if (
            row["state"] != "open"
            or row["review"] not in inbox.PENDING
            or (action == "esc" and row["review"] == "escalated")
        ):
            await update.effective_chat.send_message(
                self.s.text(locale, "inbox", "already_reviewed", ref=row["ref"])
            )
            return
        if action == "esc":
            await self._escalate(update, actor, locale, row)
            return
        step, outcome = ("checks", "verified") if action == "ok" else ("correction", "wrong")
        await self.verify.start(
            update,
            step,
            {
                "report_id": row["id"],
                "version": row["version"],
                "ref": row["ref"],
                "outcome": outcome,
                "suggested": row["measure_kind"],
            },
        )

    async def _card(self, update: Update, actor: Actor, locale: str, row: Any) -> None:
        people = await reports.people(self.s.db, row["id"])
        data = json.loads(row["data"])
        village, grid = place_names(self.s, row["grid_id"])
        async with self.s.db.write() as conn:
            await audit.record(
                conn, self.s.now(), actor.user_id, f"view:report:{row['id']}", f"report:{row['id']}"
            )
        text = self.s.text(
            locale,
            "inbox",
            "card",
            ref=row["ref"],
            village=village,
            grid=grid,
            address=row["address"],
            people=people,
            data=data,
            arrival=date.fromisoformat(row["arrival_date"]),
            risk=row["risk"],
            measure=row["measure_kind"],
            start=date.fromisoformat(row["measure_start"]),
            end=date.fromisoformat(row["measure_end"]),
            review=row["review"],
            state=row["state"],
        )
        markup = None
        if (
            roles.can_verify(actor, row["grid_id"], self.access.village_of)
            and row["state"] == "open"
            and row["review"] in inbox.PENDING
        ):
            markup = keyboard(
                [
                    [
                        (
                            self.s.text(locale, "inbox", "btn_verify"),
                            callback("tk", "ok", str(row["id"])),
                        )
                    ],
                    [
                        (
                            self.s.text(locale, "inbox", "btn_wrong"),
                            callback("tk", "bad", str(row["id"])),
                        )
                    ],
                    [
                        (
                            self.s.text(locale, "inbox", "btn_escalate"),
                            callback("tk", "esc", str(row["id"])),
                        )
                    ],
                ]
            )
        await update.effective_chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=markup
        )

    async def _escalate(self, update: Update, actor: Actor, locale: str, row: Any) -> None:
        now = self.s.now()
        people = await reports.people(self.s.db, row["id"])
        main = people[0]
        village, grid = place_names(self.s, row["grid_id"])
        group_locale = self.s.config.bot.default_locale
        alert = self.s.text(
            group_locale,
            "inbox",
            "escalation",
            ref=row["ref"],
            village=village,
            grid=grid,
            name=mask_name(main.name),
            phone=mask_phone(main.phone or ""),
            id_number=mask_id(main.id_number or ""),
            people=len(people),
            arrival=date.fromisoformat(row["arrival_date"]),
            risk=row["risk"],
            measure=row["measure_kind"],
        )
        leadership = self.s.config.leadership.chat_id
        async with self.s.db.write() as conn:
            done = await inbox.record(conn, row, actor.user_id, "escalated", now)
            if done:
                await audit.record(
                    conn, now, actor.user_id, "report.escalated", f"report:{row['id']}"
                )
                await escalation.stop(conn, f"report:{row['id']}", now)
                await outbox.enqueue(
                    conn,
                    chat_id=leadership,
                    text=alert,
                    now=now,
                    priority=PRIORITY_ALERT,
                    subject=f"report:{row['id']}",
                    dedup_key=f"report:{row['id']}:v{row['version']}:escalated",
                )
        if not done:
            await update.effective_chat.send_message(
                self.s.text(locale, "inbox", "already_reviewed", ref=row["ref"])
            )
            return
        self.s.wake_outbox()
        await update.effective_chat.send_message(
            self.s.text(locale, "inbox", "done_escalated", ref=row["ref"])
        )
