"""The arrival self-report (来镇/返镇人员自主申报) as a flow: the steps of
bot.domain.arrivals, the questions of templates/*/arrivals.j2, and the report stored by
bot.actions.arrivals."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from telegram import ReplyKeyboardRemove, Update

from bot.actions.arrivals import build_record, reason_texts, store_report
from bot.domain import arrivals as domain
from bot.domain.masking import Audience
from bot.domain.steps import Data
from bot.flows.engine import Engine
from bot.flows.table import TableFlow
from bot.runtime import api
from bot.runtime.services import Services
from storage import arrivals as reports
from storage.drafts import Draft

DEEP_LINK = re.compile(r"^a-([A-Za-z0-9]{1,16})$")


class ArrivalFlow(TableFlow):
    name = "arrival"
    prefix = "ar"
    module = "arrivals"
    rules = domain

    def __init__(self, services: Services, engine: Engine) -> None:
        super().__init__(services, engine)
        self._villages = services.config.grid_ids()

    def context(self) -> domain.Context:
        config = self.s.config
        return domain.Context(
            today=self.s.local_today(),
            id_required=config.arrival.id_number == "required",
            max_days_back=config.arrival.max_days_back,
            max_companions=config.arrival.max_companions,
            villages=self._villages,
        )

    def prefill(self, payload: str | None) -> dict[str, Any] | None:
        """A QR poster's deep-link payload (``a-XF01`` a grid, ``a-xf`` a village) as answers."""
        match = DEEP_LINK.match(payload or "")
        return self.poster_place(match.group(1)) if match else None

    async def begin(self, update: Update, prefill: dict[str, Any] | None) -> None:
        """Start a report, or re-ask the open question of the one already under way."""
        await self.start(update, self.first_step, dict(prefill or {}))

    # -- rules -----------------------------------------------------------------------------

    def missing(self, data: Data) -> tuple[str, Data] | None:
        groups = domain.missing_for_submit(data, self.context())
        return domain.start_edit(groups[0], data) if groups else None

    def start_edit(self, group: str, data: Data) -> tuple[str, Data]:
        return domain.start_edit(group, data)

    async def made_from(self, token: str) -> str | None:
        row = await reports.by_draft(self.s.db, token)
        return row["ref"] if row else None

    # -- texts -----------------------------------------------------------------------------

    def intro(self, draft: Draft) -> str:
        return self.s.text(draft.locale, "arrivals", "intro", town=self.s.config.town.name,
                           place=self._place_label(draft.data))  # fmt: skip

    def _place_label(self, data: Data) -> str:
        village = self.s.config.village(data.get("village") or "")
        found = self.s.config.grid(data.get("grid") or "")
        if found:
            return f"{found[0].name} {found[1].name}"
        return village.name if village else ""

    def question_text(self, draft: Draft) -> str:
        step, data = draft.step, draft.data
        params = {"data": data, "required": self.context().id_required}
        if step == "origin_confirm":
            params["place"] = domain.place_from_dict(data["origin"]).label()
        if step == "travel_confirm":
            params["places"] = [domain.place_from_dict(p).label() for p in data["travel"]]
        if step in ("companion_name", "companion_id", "companion_phone", "companion_more"):
            params["count"] = len(data.get("people") or [])
        return self.s.text(draft.locale, "arrivals", f"ask_{step}", **params)

    def label(self, draft: Draft, step: str, value: str) -> str:
        if step in ("village", "grid"):
            return super().label(draft, step, value)
        chosen = step == "symptoms" and value in (draft.data.get("symptoms") or [])
        return self.s.renderer.label(draft.locale, "arrivals", "choice", step=step, value=value,
                                     chosen=chosen)  # fmt: skip

    def summary_text(self, draft: Draft) -> str:
        data = draft.data
        return self.s.text(
            draft.locale, "arrivals", "summary", Audience.ENTITLED,
            data=data, place=self._place_label(data),
            origin=domain.place_from_dict(data["origin"]).label() if data.get("origin") else "",
            travel=[domain.place_from_dict(p).label() for p in data.get("travel") or []],
            arrival=date.fromisoformat(data["arrival_date"]) if data.get("arrival_date") else None,
        )  # fmt: skip

    # -- submit ----------------------------------------------------------------------------

    async def finish(self, update: Update, draft: Draft) -> None:
        record, assessment, plan = build_record(self.s, draft)
        outcome = await store_report(self.s, draft, record, assessment)
        if outcome is None:  # the draft was submitted a moment ago (double tap)
            return
        receipt = self.s.text(
            draft.locale, "arrivals", "receipt", ref=outcome.ref, updated=outcome.updated,
            category=assessment.category, reasons=reason_texts(self.s, draft.locale, assessment),
            measure=plan, people=len(record.people),
        )  # fmt: skip
        await api.send_text(self.s.bot, draft.chat_id, receipt, reply_markup=ReplyKeyboardRemove())
