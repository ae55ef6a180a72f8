"""The worker's inbox (待办, ``/tasks``): pending arrivals in the worker's grids, a card per
report with its full details (audited), and its buttons: checked and confirmed, information
wrong (both open the verification flow, bot/flows/verification.py), or escalated to the
leadership group."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import inbox, verification
from bot.actions.inbox import Report
from bot.domain import roles
from bot.domain.masking import Audience
from bot.domain.roles import Actor
from bot.flows.verification import VerifyFlow, already_reviewed
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback, callback_pattern, keyboard, parse_callback, user_locale


class Inbox:
    """/tasks and the report cards (callback data ``v1:tk:<action>:<report id>``)."""

    def __init__(self, services: Services, access: Access, verify: VerifyFlow) -> None:
        self.s = services
        self.access = access
        self.verify = verify
        # More to-dos after the reports (tips: handlers/tips.py): (update, actor, locale).
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
        opens = {task.report_id: callback("tk", "o", str(task.report_id)) for task in tasks.items}
        buttons = [
            [(self.s.text(locale, "inbox", "btn_open", **task.params), opens[task.report_id])]
            for task in tasks.items
        ]
        text = self.s.text(
            locale,
            "inbox",
            "tasks",
            total=tasks.total,
            grids=tasks.grids,
            items=[task.params for task in tasks.items],
        )
        offers = {f"report:{report_id}": [data] for report_id, data in opens.items()}
        await self._show(update, text, keyboard(buttons) if buttons else None, offers)
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
            await already_reviewed(self.s, update.effective_chat.id, locale, report.ref)
            return
        if action == "esc":
            if await verification.escalate(self.s, actor, report):
                await update.effective_chat.send_message(
                    self.s.text(locale, "inbox", "done_escalated", ref=report.ref)
                )
            else:
                await already_reviewed(self.s, update.effective_chat.id, locale, report.ref)
            return
        await self.verify.begin(update, report, "verified" if action == "ok" else "wrong")

    async def _card(self, update: Update, actor: Actor, locale: str, report: Report) -> None:
        text = self.s.text(
            locale,
            "inbox",
            "card",
            Audience.ENTITLED,
            **await inbox.view_card(self.s, actor, report),
        )
        markup, offers = None, {}
        if report.awaiting_review and roles.can_verify(
            actor, report.grid_id, self.access.village_of
        ):
            report_id = str(report.id)
            data = {code: callback("tk", code, report_id) for code in ("ok", "bad", "esc")}
            markup = keyboard(
                [
                    [(self.s.text(locale, "inbox", f"btn_{name}"), data[code])]
                    for name, code in (("verify", "ok"), ("wrong", "bad"), ("escalate", "esc"))
                ]
            )
            offers = {report.subject: [data["ok"], data["bad"]]}
            if report.review != "escalated":
                offers[inbox.escalate_offer(report.subject)] = [data["esc"]]
            else:
                offers[report.subject].append(data["esc"])
        await self._show(update, text, markup, offers)

    async def _show(
        self,
        update: Update,
        text: str,
        markup: InlineKeyboardMarkup | None,
        offers: dict[str, list[str]],
    ) -> None:
        """Send a card or list; one with buttons is recorded, so that handling its reports
        takes their buttons off it."""
        sent = await update.effective_chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
        if markup is not None and offers:
            await inbox.shown(self.s, sent.chat_id, sent.message_id, text, markup.to_dict(), offers)
