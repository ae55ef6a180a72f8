"""The arrival self-report (来镇/返镇人员自主申报) as a flow: the steps of
bot.domain.arrivals, the questions of templates/*/arrivals.j2, and the report stored by
bot.actions.arrivals."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from typing import Any

from telegram import ReplyKeyboardRemove, Update

from bot.actions import tips, units
from bot.actions.arrivals import build_record, form_context, reason_texts, store_report
from bot.domain import arrivals as domain
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.masking import Audience
from bot.domain.places import Place, bilingual_label, english_name
from bot.domain.roles import Actor, can_liaise
from bot.domain.steps import Data
from bot.domain.tips import can_check
from bot.domain.units import UNIT_ID, VENUE_PREFIX, subject
from bot.flows.engine import SUMMARY, Engine, plain, user_locale
from bot.flows.table import TableFlow
from bot.runtime.services import Services
from storage import arrivals as reports
from storage.drafts import Draft

DEEP_LINK = re.compile(r"^a-([A-Za-z0-9]{1,16})$")
# The buttons of a stored report (its receipt, /my): v1:my:<action>:<report id>.
REPORT = "my"
CORRECT, WITHDRAW, WITHDRAW_YES, WITHDRAW_NO = "correct", "withdraw", "withdraw_yes", "withdraw_no"
# The buttons of a unit's registration (on its card, its liaison's menu): v1:ua:<action>:<unit id>
UNIT_BUTTONS, REGISTER, QR = "ua", "reg", "qr"
# A stored report's data a correction does not carry over: worked out again on submit, or
# done once by the first submit (the door visit linked, the tip closed), or a worker's word
# on the version he saw (the certificate checked: a corrected report is checked again), or
# how the first version came (a bulk import's row, corrected in chat by the liaison).
NOT_CARRIED = ("reasons", "visit_id", "tip_id", "corrects", "certificate_checked", "imported")


def report_button(action: str, report_id: int) -> str:
    return callback(REPORT, action, str(report_id))


def unit_button(action: str, unit_id: str) -> str:
    return callback(UNIT_BUTTONS, action, unit_id)


def venue_unit(payload: str | None) -> str | None:
    """The unit id of a venue's QR deep link (``u-<unit id>``); None for any other payload."""
    if not payload or not payload.startswith(VENUE_PREFIX):
        return None
    unit_id = payload[len(VENUE_PREFIX) :]
    return unit_id if UNIT_ID.fullmatch(unit_id) else None


def refusal(report: Any, user_id: int, action: str = CORRECT) -> str | None:
    """Why ``action`` on the stored ``report`` (None: there is none) is refused to
    ``user_id``, as a text of the arrivals templates; None: he may do it. A withdrawal
    waiting for the grid worker is not asked for twice."""
    if report is None or report["reporter_user_id"] != user_id:
        return "report_not_yours"
    if report["state"] != "open":
        return "report_is_withdrawn"
    waiting = action in (WITHDRAW, WITHDRAW_YES) and report["withdraw_requested_at"]
    return "report_withdraw_waiting" if waiting else None


class ArrivalFlow(TableFlow):
    name = "arrival"
    prefix = "ar"
    module = "arrivals"
    rules = domain

    def __init__(self, services: Services, engine: Engine) -> None:
        super().__init__(services, engine)
        self._villages = services.config.grid_ids()

    def commit_check(self, draft: Draft) -> tuple[str, str | None] | None:
        """A resident's own report (a venue's guest's too): anyone; registered on the spot for
        a tip, whose submission closes it: whoever may still check the tip; a unit's people
        registered by its liaison: still its liaison."""
        tip_id = draft.data.get("tip_id")
        if isinstance(tip_id, int):
            return ("tip.r", tips.subject(tip_id))
        if draft.data.get("liaison"):
            return ("unit.register", subject(draft.data["unit"]))
        return None

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        if draft.data.get("liaison"):
            return can_liaise(actor, draft.data["unit"])
        tip = await tips.view(self.s, draft.data["tip_id"])
        gate = self.engine.gate
        return tip is not None and can_check(actor, tip.village_id, tip.grid_id, gate.village_of)

    def context(self) -> domain.Context:
        return form_context(self.s)

    def prefill(self, payload: str | None) -> dict[str, Any] | None:
        """A QR poster's deep-link payload (``a-XF01`` a grid, ``a-xf`` a village) as answers."""
        match = DEEP_LINK.match(payload or "")
        return self.poster_place(match.group(1)) if match else None

    async def begin(self, update: Update, prefill: dict[str, Any] | None) -> None:
        """Start a report, or re-ask the open question of the one already under way."""
        data = dict(prefill or {})
        await self.start(update, domain.first_question(data), data)

    async def begin_venue(self, update: Update, unit_id: str) -> None:
        """A guest scanned a venue's QR code: the form with the venue prefilled; a venue the
        town no longer has: the ordinary form, after a line saying so."""
        unit = await units.unit(self.s, unit_id)
        if unit is None or not unit["active"]:
            locale = await user_locale(self.s, update.effective_user)
            await self.s.replies.send(update.effective_user.id,
                                      self.s.text(locale, "arrivals", "venue_unknown"))  # fmt: skip
            await self.begin(update, None)
            return
        await self.begin(update, domain.unit_answers(unit, self._villages, guest=True))

    async def begin_for_unit(self, update: Update, unit: Any) -> None:
        """A liaison registers one of the unit's people (the caller checked ``can_liaise``;
        it is checked again at submit)."""
        await self.begin(update, domain.unit_answers(unit, self._villages, guest=False))

    async def correct(self, update: Update, report: Any) -> None:
        """The reporter corrects his stored ``report`` (see ``refusal``): its answers on a new
        draft at the summary card; its submit updates that report, named by ``corrects``."""
        data = json.loads(report["data"])
        kept = {key: value for key, value in data.items() if key not in NOT_CARRIED}
        await self.start(update, SUMMARY, {**kept, "corrects": report["ref"]})

    def report_markup(self, locale: str, report_id: int) -> dict[str, Any]:
        """The buttons under a stored report: correct it, withdraw it."""
        return inline_markup([[
            button(plain(self.s.text(locale, "arrivals", f"btn_{action}")),
                   report_button(action, report_id))
            for action in (CORRECT, WITHDRAW)
        ]])  # fmt: skip

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
        config = self.s.config
        if draft.data.get("corrects"):
            return self.s.text(draft.locale, "arrivals", "correct_intro",
                               ref=draft.data["corrects"])  # fmt: skip
        return self.s.text(draft.locale, "arrivals", "intro", town=config.town.name,
                           place=self._place_label(draft.data),
                           minutes=config.bot.conversation_timeout_minutes,
                           unit=draft.data.get("unit_name"),
                           liaison=bool(draft.data.get("liaison")),
                           guest=domain.is_guest(draft.data))  # fmt: skip

    def _place_label(self, data: Data) -> str:
        village = self.s.config.village(data.get("village") or "")
        found = self.s.config.grid(data.get("grid") or "")
        if found:
            return f"{found[0].name} {found[1].name}"
        return village.name if village else ""

    @staticmethod
    def _place_name(locale: str, place: Place) -> str:
        """Chinese; both scripts for English readers ("English is complete, place names
        included"), so the name still matches the Chinese on signs and health codes."""
        return place.label() if locale.startswith("zh") else bilingual_label(place)

    def _places(self, locale: str, values: list[dict[str, str | None]]) -> list[str]:
        return [self._place_name(locale, domain.place_from_dict(p)) for p in values]

    def question_text(self, draft: Draft) -> str:
        step, data, locale = draft.step, draft.data, draft.locale
        params = {"data": data, "required": self.context().id_required}
        if step in ("origin_confirm", "origin_district"):
            params["place"] = self._place_name(locale, domain.place_from_dict(data["origin"]))
        if step == "travel_district":
            params["place"] = self._place_name(locale, domain.vague_travel_place(data))
        if step == "travel_pick":
            params["text"] = domain.travel_tie(data)["text"]
        if step == "travel_confirm":
            params["places"] = self._places(locale, data["travel"])
        if step in ("companion_name", "companion_id", "companion_phone", "companion_more"):
            params["count"] = len(data.get("people") or [])
        return self.s.text(draft.locale, "arrivals", f"ask_{step}", **params)

    def label(self, draft: Draft, step: str, value: str) -> str:
        if step in ("village", "grid"):
            return super().label(draft, step, value)
        if step == "origin_pick":
            return self._places(draft.locale, [draft.data["origin_choices"][int(value)]])[0]
        if step == "travel_pick":
            tie = domain.travel_tie(draft.data)["places"]
            return self._places(draft.locale, [tie[int(value)]])[0]
        if step in ("origin_district", "travel_district") and value != domain.UNSURE:
            return self._district_label(draft, step, int(value))
        chosen = step == "symptoms" and value in (draft.data.get("symptoms") or [])
        return self.s.renderer.label(draft.locale, "arrivals", "choice", step=step, value=value,
                                     chosen=chosen)  # fmt: skip

    def _district_label(self, draft: Draft, step: str, index: int) -> str:
        """A district button: its own name only, the city is in the question."""
        data = draft.data
        outer = (domain.place_from_dict(data["origin"]) if step == "origin_district"
                 else domain.vague_travel_place(data))  # fmt: skip
        place = domain.district_options(outer)[index]
        own = place.district or place.city or place.province
        english = english_name(place).split(", ")[0]
        return own if draft.locale.startswith("zh") or english == own else f"{own} ({english})"

    def summary_text(self, draft: Draft) -> str:
        data = draft.data
        return self.s.text(
            draft.locale, "arrivals", "summary", Audience.ENTITLED,
            data=data, place=self._place_label(data),
            origin=self._places(draft.locale, [data["origin"]])[0] if data.get("origin") else "",
            travel=self._places(draft.locale, data.get("travel") or []),
            arrival=date.fromisoformat(data["arrival_date"]) if data.get("arrival_date") else None,
            guest=domain.is_guest(data),
        )  # fmt: skip

    # -- submit ----------------------------------------------------------------------------

    async def finish(self, update: Update, draft: Draft) -> None:
        corrects = draft.data.get("corrects")
        if corrects and (reason := refusal(await reports.by_ref(self.s.db, corrects),
                                           draft.user_id)):  # fmt: skip
            await self.drop(draft)  # withdrawn while it was being corrected: nothing to update
            await self.s.replies.send(draft.chat_id,
                                      self.s.text(draft.locale, "arrivals", reason, ref=corrects),
                                      reply_markup=ReplyKeyboardRemove())  # fmt: skip
            return
        record, assessment, plan = build_record(self.s, draft)
        outcome = await store_report(self.s, draft, record, assessment)
        if outcome is None:  # the draft was submitted a moment ago (double tap)
            return
        # A test day already past is never shown as scheduled: a missed test is due now.
        today = self.s.local_today()
        missed = tuple(d for d in plan.test_dates if d < today)
        upcoming = replace(plan, test_dates=tuple(d for d in plan.test_dates if d >= today))
        receipt = self.s.text(
            draft.locale, "arrivals", "receipt", ref=outcome.ref, updated=outcome.updated,
            corrected=bool(corrects), liaison=bool(draft.data.get("liaison")),
            category=assessment.category, reasons=reason_texts(self.s, draft.locale, assessment),
            measure=upcoming, missed_tests=missed, people=len(record.people),
        )  # fmt: skip
        await self.s.replies.send(
            draft.chat_id, receipt, reply_markup=self.report_markup(draft.locale, outcome.id)
        )
