"""The worker's inbox (待办, ``/tasks``): pending arrivals in the worker's grids, a card per
report with its full details (audited), and the verification conversation: checked and
confirmed (measure, start date, note), information wrong (the reporter is asked to correct),
or escalated to the leadership group."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import inbox, verification
from bot.actions.inbox import Report
from bot.actions.verification import CHECKS
from bot.domain import roles
from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_date, parse_text
from bot.domain.roles import Actor
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback, callback_pattern, keyboard, parse_callback, user_locale
from handlers.router import Router
from handlers.steps import Next, Result, StepConversation
from storage.drafts import Draft

MEASURES = ("keep", "home_monitoring", "home_observation", "centralized_isolation")
NOTE_LIMIT = 300


async def already_reviewed(services: Services, update: Update, locale: str, ref: str) -> None:
    """Someone was quicker, or the reporter withdrew or updated the report: nothing was done."""
    await update.effective_chat.send_message(
        services.text(locale, "inbox", "already_reviewed", ref=ref)
    )


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
        report = await inbox.report(self.s, data["report_id"])
        if report is None or not roles.can_verify(actor, report.grid_id, self.access.village_of):
            await self.drop(draft)
            await self.access.refuse(update, actor, "verify", f"report:{data['report_id']}")
            return
        outcome = data["outcome"]
        act = verification.verify if outcome == "verified" else verification.mark_wrong
        review = await act(self.s, actor, report, draft.token, data)
        if review is None:
            return  # a double tap
        if not review.done:
            await already_reviewed(self.s, update, draft.locale, report.ref)
            return
        plan = review.plan
        await update.effective_chat.send_message(
            self.s.text(
                draft.locale,
                "inbox",
                f"done_{outcome}",
                ref=report.ref,
                measure=plan.kind if plan else None,
                start=plan.start if plan else None,
                end=plan.end if plan else None,
            ),
            parse_mode=ParseMode.HTML,
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
        tasks = await inbox.tasks(self.s, actor, grids)
        buttons = [
            [
                (
                    self.s.text(locale, "inbox", "btn_open", **task.params),
                    callback("tk", "o", str(task.report_id)),
                )
            ]
            for task in tasks.items
        ]
        await update.effective_chat.send_message(
            self.s.text(
                locale,
                "inbox",
                "tasks",
                total=tasks.total,
                grids=tasks.grids,
                items=[task.params for task in tasks.items],
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
        report = None
        if len(parts) == 2 and parts[1].isascii() and parts[1].isdigit():
            report = await inbox.report(self.s, int(parts[1]))
        action = parts[0] if parts else ""
        subject = f"report:{parts[1]}" if len(parts) == 2 else None
        village_of = self.access.village_of
        allowed = report is not None and (
            roles.can_see_grid(actor, report.grid_id, village_of)
            if action == "o"
            else action in ("ok", "bad", "esc")
            and roles.can_verify(actor, report.grid_id, village_of)
        )
        if not allowed:
            await self.access.refuse(update, actor, f"report.{action or '?'}", subject)
            return
        await query.answer()
        locale = await user_locale(self.s, update.effective_user)
        if action == "o":
            await self._card(update, actor, locale, report)
            return
        if not report.awaiting_review or (action == "esc" and report.review == "escalated"):
            await already_reviewed(self.s, update, locale, report.ref)
            return
        if action == "esc":
            if await verification.escalate(self.s, actor, report):
                await update.effective_chat.send_message(
                    self.s.text(locale, "inbox", "done_escalated", ref=report.ref)
                )
            else:
                await already_reviewed(self.s, update, locale, report.ref)
            return
        step, outcome = ("checks", "verified") if action == "ok" else ("correction", "wrong")
        await self.verify.start(
            update,
            step,
            {
                "report_id": report.id,
                "version": report.version,
                "ref": report.ref,
                "outcome": outcome,
                "suggested": report.measure_kind,
            },
        )

    async def _card(self, update: Update, actor: Actor, locale: str, report: Report) -> None:
        text = self.s.text(locale, "inbox", "card", **await inbox.view_card(self.s, actor, report))
        markup = None
        if report.awaiting_review and roles.can_verify(
            actor, report.grid_id, self.access.village_of
        ):
            report_id = str(report.id)
            markup = keyboard(
                [
                    [(self.s.text(locale, "inbox", f"btn_{name}"), callback("tk", code, report_id))]
                    for name, code in (("verify", "ok"), ("wrong", "bad"), ("escalate", "esc"))
                ]
            )
        await update.effective_chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
