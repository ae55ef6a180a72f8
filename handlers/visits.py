"""Door-to-door screening (入户排查): ``/visit`` records a household visit, ``/visits [days]``
shows the coverage of the grids in scope. Arrivals found at the door are registered on the
spot with the arrival report, prefilled with the household and linked to the visit."""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import visits
from bot.actions.places import grid_label, grid_names
from bot.domain import roles
from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_address, parse_text
from bot.domain.visits import parse_people, parse_temperatures
from bot.runtime.services import Services
from handlers.access import Access
from handlers.arrivals import ArrivalFlow
from handlers.common import callback, callback_pattern, keyboard, parse_callback, user_locale
from handlers.router import Router
from handlers.steps import Next, Result, StepConversation
from storage.drafts import Draft

DEFAULT_DAYS = 7
MAX_DAYS = 90


class VisitFlow(StepConversation):
    name = "visit"
    prefix = "vs"

    def __init__(
        self, services: Services, router: Router, access: Access, arrival: ArrivalFlow
    ) -> None:
        super().__init__(services, router)
        self.access = access
        self.arrival = arrival

    def handlers(self) -> list[BaseHandler]:
        private = filters.ChatType.PRIVATE
        return [
            *super().handlers(),
            CommandHandler("visit", self.cmd_visit, filters=private),
            CommandHandler("visits", self.cmd_visits, filters=private),
            CallbackQueryHandler(self.on_register, pattern=callback_pattern("vr")),
        ]

    def _grids(self, actor: roles.Actor) -> list[str]:
        return [
            g for g in self.access.all_grids if roles.can_visit(actor, g, self.access.village_of)
        ]

    async def cmd_visit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.access.actor(update.effective_user)
        grids = self._grids(actor)
        if not grids:
            await self.access.refuse(update, actor, "visit")
            return
        if len(grids) == 1:
            await self.start(update, "address", {"grid": grids[0], "grids": grids})
        else:
            await self.start(update, "grid", {"grids": grids})

    # -- the questions ---------------------------------------------------------------------

    def question(self, draft: Draft) -> tuple[str, Any]:
        locale, step, data = draft.locale, draft.step, draft.data
        grid = grid_label(self.s, data["grid"]) if data.get("grid") else ""
        text = self.s.text(locale, "visits", f"ask_{step}", grid=grid)
        if step == "grid":
            choices = [(grid_label(self.s, g), g) for g in data["grids"]]
            return text, self.buttons(draft, choices, per_row=1)
        values = {
            "refused": ("no", "yes"),
            "arrivals": ("no", "yes"),
            "note": ("skip",),
            "people": ("1", "2", "3", "4", "5"),
        }.get(step, ())
        choices = [(self.s.text(locale, "visits", "choice", step=step, value=v), v) for v in values]
        return text, self.buttons(draft, choices, per_row=5 if step == "people" else 2)

    def on_choice(self, draft: Draft, value: str) -> Result:
        data, step = draft.data, draft.step
        if step == "grid" and value in data["grids"]:
            return Next("address", {**data, "grid": value})
        if step == "refused" and value in ("yes", "no"):
            refused = value == "yes"
            return Next("note" if refused else "people", {**data, "refused": refused})
        if step == "people" and value in ("1", "2", "3", "4", "5"):
            return Next("temperatures", {**data, "people": int(value)})
        if step == "arrivals" and value in ("yes", "no"):
            return Next("note", {**data, "arrivals": value == "yes"})
        if step == "note" and value == "skip":
            return Next(None, {**data, "note": None})
        return Invalid("choice_stale")

    def on_text(self, draft: Draft, message: Message) -> Result:
        text, data, step = message.text, draft.data, draft.step
        if text is None:
            return Invalid("expect_text")
        parsers = {
            "address": (parse_address, "address", "refused"),
            "people": (parse_people, "people", "temperatures"),
            "temperatures": (parse_temperatures, "temperatures", "arrivals"),
            "note": (lambda t: parse_text(t, 300), "note", None),
        }
        if step not in parsers:
            return Invalid("expect_choice")
        parse, key, following = parsers[step]
        value = parse(text)
        if isinstance(value, Invalid):
            return value
        if step == "people" and value == 0:
            return Next("arrivals", {**data, "people": 0, "temperatures": []})
        return Next(following, {**data, key: list(value) if isinstance(value, tuple) else value})

    # -- saving ----------------------------------------------------------------------------

    async def finish(self, update: Update, draft: Draft) -> None:
        data = draft.data
        actor = await self.access.actor(update.effective_user)
        grid = data["grid"]
        if not roles.can_visit(actor, grid, self.access.village_of):
            await self.drop(draft)
            await self.access.refuse(update, actor, "visit", f"grid:{grid}")
            return
        visit = await visits.record(self.s, actor, draft.token, data)
        if visit is None:
            return  # a double tap
        markup = None
        if visit.arrivals:
            label = self.s.text(draft.locale, "visits", "btn_register")
            markup = keyboard([[(label, callback("vr", str(visit.id)))]])
        village, grid_name = grid_names(self.s, visit.grid_id)
        text = self.s.text(
            draft.locale,
            "visits",
            "saved",
            visit=visit.id,
            village=village,
            grid=grid_name,
            address=visit.address,
            refused=visit.refused,
            people=visit.people,
            temperatures=visit.temperatures,
            fever=visit.fever,
            arrivals=visit.arrivals,
        )
        await update.effective_chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=markup
        )

    async def on_register(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Register an arrival found at the door: the arrival report, prefilled, linked."""
        parts = parse_callback(update.callback_query.data, "vr") or []
        actor = await self.access.actor(update.effective_user)
        visit = None
        if len(parts) == 1 and parts[0].isascii() and parts[0].isdigit():
            visit = await visits.get(self.s, int(parts[0]))
        if (
            visit is None
            or visit.worker != actor.user_id
            or not roles.can_visit(actor, visit.grid_id, self.access.village_of)
        ):
            await self.access.refuse(
                update, actor, "visit.register", f"visit:{parts[0]}" if parts else None
            )
            return
        await update.callback_query.answer()
        await self.arrival.begin(
            update,
            {
                "village": self.access.village_of(visit.grid_id),
                "grid": visit.grid_id,
                "prefilled_village": True,
                "prefilled_grid": True,
                "address": visit.address,
                "prefilled_address": True,
                "visit_id": visit.id,
            },
        )

    # -- coverage --------------------------------------------------------------------------

    async def cmd_visits(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.access.actor(update.effective_user)
        grids = roles.visible_grids(actor, self.access.grids_of, self.access.all_grids)
        if not grids:
            await self.access.refuse(update, actor, "visits")
            return
        locale = await user_locale(self.s, update.effective_user)
        arg = context.args[0] if context.args else ""
        days = (
            int(arg)
            if arg.isascii() and arg.isdigit() and 1 <= int(arg) <= MAX_DAYS
            else DEFAULT_DAYS
        )
        coverage = await visits.coverage(self.s, actor, grids, days)
        await update.effective_chat.send_message(
            self.s.text(
                locale,
                "visits",
                "coverage",
                days=days,
                rows=coverage.rows,
                total=coverage.total,
                bad_arg=bool(arg) and days != (int(arg) if arg.isascii() and arg.isdigit() else -1),
            ),
            parse_mode=ParseMode.HTML,
        )
