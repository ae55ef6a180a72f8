"""/arrive: the arrival self-report (来镇/返镇人员自主申报), a flow of bot/flows/arrivals.py run
by the conversation runtime; its buttons and answers reach the flow through the router.

A stored report's buttons (under its receipt, and /my's): correct it (the flow again, on its
answers), withdraw it (asked once more first). Only its reporter may press them, and only
while it is open. A key-control report's withdrawal waits for the grid's staff: the buttons
of its card (confirm / keep key control) are theirs (``roles.can_verify``)."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import arrivals, units
from bot.domain.roles import Actor, can_liaise, can_verify
from bot.domain.units import is_venue, subject, venue_link
from bot.flows.arrivals import (
    CORRECT,
    QR,
    REGISTER,
    REPORT,
    UNIT_BUTTONS,
    WITHDRAW,
    WITHDRAW_NO,
    WITHDRAW_YES,
    ArrivalFlow,
    refusal,
    report_button,
    unit_button,
)
from bot.runtime import qr
from handlers.access import Access
from handlers.common import callback_pattern, keyboard, parse_callback, user_locale

__all__ = ["WITHDRAW", "ArrivalCommands", "ArrivalFlow", "report_button"]


class ArrivalCommands:
    def __init__(self, flow: ArrivalFlow, access: Access) -> None:
        self.flow = flow
        self.s = flow.s
        self.access = access

    def handlers(self) -> list[BaseHandler]:
        private = filters.ChatType.PRIVATE
        return [
            CommandHandler("arrive", self.cmd_arrive, filters=private),
            CommandHandler("register", self.cmd_register, filters=private),
            CommandHandler("qrcode", self.cmd_qrcode, filters=private),
            CallbackQueryHandler(self.on_unit_button, pattern=callback_pattern(UNIT_BUTTONS)),
            CallbackQueryHandler(self.on_report_button, pattern=callback_pattern(REPORT)),
            CallbackQueryHandler(
                self.on_withdrawal, pattern=callback_pattern(arrivals.WITHDRAW_FLOW)
            ),
        ]

    async def cmd_arrive(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.flow.begin(update, None)

    # -- a unit's liaison: register the unit's people, its QR code (v1:ua:<action>:<unit id>) --

    async def cmd_register(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._for_own_unit(update, REGISTER)

    async def cmd_qrcode(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._for_own_unit(update, QR)

    async def _for_own_unit(self, update: Update, action: str) -> None:
        """The liaison's own unit; of several, he picks which (buttons)."""
        actor = await self.access.actor(update.effective_user)
        owned = sorted(actor.unit_ids)
        if len(owned) == 1:
            await self._unit_action(update, actor, action, owned[0])
            return
        if not owned:
            await self.access.refuse(update, actor, f"unit.{action}")
            return
        locale = await user_locale(self.s, update.effective_user)
        names = {unit_id: row["name"] if (row := await units.unit(self.s, unit_id)) else unit_id
                 for unit_id in owned}  # fmt: skip
        await update.effective_chat.send_message(
            self.s.text(locale, "arrivals", "unit_pick", action=action),
            reply_markup=keyboard([[(name, unit_button(action, unit_id))]
                                   for unit_id, name in names.items()]),
        )  # fmt: skip

    async def on_unit_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, UNIT_BUTTONS) or []
        if len(parts) != 2 or parts[0] not in (REGISTER, QR):
            await query.answer()
            return
        actor = await self.access.actor(update.effective_user)
        await self._unit_action(update, actor, parts[0], parts[1])

    async def _unit_action(self, update: Update, actor: Actor, action: str, unit_id: str) -> None:
        """Registering is the liaison's (and an admin's); the QR code also for whoever may see
        the unit (leaders, its village's admin, its grid's worker). Refused and audited the
        same whether the unit exists or not."""
        row = await units.unit(self.s, unit_id)
        allowed = row is not None and row["active"] and (
            can_liaise(actor, unit_id)
            or (action == QR and units.may_view(self.s, actor, row))
        )  # fmt: skip
        if not allowed:
            await self.access.refuse(update, actor, f"unit.{action}", subject(unit_id))
            return
        if update.callback_query is not None:
            await update.callback_query.answer()
        if action == REGISTER:
            await self.flow.begin_for_unit(update, row)
        else:
            await self._send_qr(update, row)

    async def _send_qr(self, update: Update, row: Any) -> None:
        """The unit's QR code as a photo, to print for a venue's reception desk or another
        unit's gate: scanning it opens the arrival form with the unit prefilled."""
        locale = await user_locale(self.s, update.effective_user)
        link = venue_link(self.s.bot.username, row["id"])
        caption = self.s.text(locale, "arrivals", "venue_qr", unit=row["name"], link=link,
                              venue=is_venue(row["kind"]))  # fmt: skip
        await self.s.bot.send_photo(
            update.effective_user.id, photo=qr.png(link), parse_mode=ParseMode.HTML,
            caption=caption,
        )  # fmt: skip

    # -- a stored report's buttons: v1:my:<action>:<report id> ----------------------------------

    async def on_report_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer()
        parts = parse_callback(query.data, REPORT) or []
        actions = (CORRECT, WITHDRAW, WITHDRAW_YES, WITHDRAW_NO)
        if len(parts) != 2 or parts[0] not in actions or not parts[1].isdigit():
            return
        user = update.effective_user
        locale = await user_locale(self.s, user)
        report = await arrivals.report(self.s, int(parts[1]))
        reason = refusal(report, user.id, parts[0])
        if reason is not None:  # a stale or repeated press, or not his: said, nothing done
            await self._say(update, locale, reason, ref=report["ref"] if report else "")
        elif parts[0] == CORRECT:
            await self.flow.correct(update, report)
        elif parts[0] == WITHDRAW:
            await self._ask_withdraw(update, locale, report)
        elif parts[0] == WITHDRAW_YES:
            await self._withdraw(update, locale, report)
        else:
            await self._edit(update, locale, "withdraw_kept", report,
                             self.flow.report_markup(locale, report["id"]))  # fmt: skip

    async def _ask_withdraw(self, update: Update, locale: str, report: Any) -> None:
        """Withdrawing asks once more; the pressed message loses this report's buttons (the
        question carries them on: "不撤回" brings correct and withdraw back)."""
        message = update.callback_query.message
        markup = getattr(message, "reply_markup", None)
        if isinstance(markup, InlineKeyboardMarkup) and markup.inline_keyboard:
            await message.edit_reply_markup(_without(markup, report["id"]))
        yes, no = (
            (self.s.text(locale, "arrivals", f"btn_{action}"), report_button(action, report["id"]))
            for action in (WITHDRAW_YES, WITHDRAW_NO)
        )
        await update.effective_chat.send_message(
            self.s.text(locale, "arrivals", "withdraw_ask", ref=report["ref"]),
            parse_mode=ParseMode.HTML, reply_markup=keyboard([[yes, no]]),
        )  # fmt: skip

    async def _withdraw(self, update: Update, locale: str, report: Any) -> None:
        done = await arrivals.withdraw(self.s, report["id"], update.effective_user.id)
        if done is None:  # withdrawn meanwhile (a double tap): why, from the report as it is now
            fresh = await arrivals.report(self.s, report["id"])
            reason = refusal(fresh, update.effective_user.id) or "report_is_withdrawn"
            await self._say(update, locale, reason, ref=report["ref"])
            return
        await self._edit(update, locale, "withdraw_pending" if done.pending else "withdrawn",
                         report, None)  # fmt: skip

    # -- a withdrawal request's card: v1:wd:<y|n>:<report id>, for the grid's staff ----------

    async def on_withdrawal(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, arrivals.WITHDRAW_FLOW) or []
        if len(parts) != 2 or parts[0] not in (arrivals.CONFIRM, arrivals.KEEP) \
                or not parts[1].isdigit():  # fmt: skip
            await query.answer()
            return
        report = await arrivals.report(self.s, int(parts[1]))
        actor = await self.access.actor(update.effective_user)
        if report is None or not can_verify(actor, report["grid_id"], self.access.village_of):
            await self.access.refuse(update, actor, "report.withdraw_decide", f"report:{parts[1]}")
            return
        outcome = await arrivals.decide_withdrawal(self.s, report["id"], actor.user_id,
                                                   parts[0] == arrivals.CONFIRM)  # fmt: skip
        locale = await user_locale(self.s, update.effective_user)
        await query.answer(self.s.text(locale, "arrivals", "withdraw_decided", ref=report["ref"],
                                       outcome=outcome), show_alert=True)  # fmt: skip

    async def _edit(
        self, update: Update, locale: str, name: str, report: Any, markup: dict[str, Any] | None
    ) -> None:
        """The confirmation question becomes its outcome (``markup``: the buttons left)."""
        await update.callback_query.edit_message_text(
            self.s.text(locale, "arrivals", name, ref=report["ref"]), parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup.de_json(markup, None) if markup else None,
        )  # fmt: skip

    async def _say(self, update: Update, locale: str, name: str, **params: Any) -> None:
        await update.effective_chat.send_message(
            self.s.text(locale, "arrivals", name, **params), parse_mode=ParseMode.HTML
        )


def _without(markup: InlineKeyboardMarkup, report_id: int) -> InlineKeyboardMarkup | None:
    """``markup`` without the buttons of report ``report_id`` (a /my list keeps the others)."""
    rows = [
        kept
        for row in markup.inline_keyboard
        if (kept := [b for b in row if not _of_report(b.callback_data, report_id)])
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def _of_report(data: Any, report_id: int) -> bool:
    parts = parse_callback(data if isinstance(data, str) else None, REPORT)
    return parts is not None and parts[1:] == [str(report_id)]
