"""A worker's verification (核实) of an arrival report as a flow: the health proofs checked,
the measure (the suggested one or another), its start and a note; or, for a report with
wrong information, what to correct. The finish calls one action of bot.actions.verification.
Texts: templates/*/inbox.j2."""

from __future__ import annotations

from datetime import date, timedelta

from telegram import Update

from bot.actions import inbox, verification
from bot.actions.inbox import Report
from bot.actions.verification import CHECKS
from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_date, parse_text
from bot.domain.roles import Actor, can_verify
from bot.domain.steps import Data, Step, Updates, fixed_choices, store_answer
from bot.flows.engine import Draft
from bot.flows.table import TableFlow
from bot.runtime.services import Services

MEASURES = ("keep", "home_monitoring", "home_observation", "centralized_isolation")
NOTE_LIMIT = 300
START_MAX_DAYS = 30  # how far back a measure may start


def _start_text(text: str, data: Data, today: date) -> Updates | Invalid:
    day = parse_date(text, today, START_MAX_DAYS)
    return day if isinstance(day, Invalid) else {"start": day.isoformat()}


def _note(text: str) -> str | Invalid:
    return parse_text(text, NOTE_LIMIT)


STEPS = {
    step.key: step
    for step in (
        Step("checks", choices=fixed_choices(tuple(CHECKS))),
        Step("measure", choices=fixed_choices(MEASURES)),
        Step("start", choices=fixed_choices(("today", "yesterday")), text=_start_text, per_row=2),
        Step("note", choices=fixed_choices(("skip",)), text=store_answer("note", _note),
             per_row=2),
        Step("correction", text=store_answer("note", _note)),  # outcome "wrong": all it asks
    )
}  # fmt: skip
NEXT = {"checks": "measure", "measure": "start", "start": "note"}  # a note ends it


def apply_choice(step: Step, value: str, data: Data, today: date) -> Updates | Invalid:
    """A pressed button: its value must be one this step offers."""
    if value not in step.values(data, today):
        return Invalid("choice_stale")
    if step.key == "measure":
        return {"measure": data["suggested"] if value == "keep" else value}
    if step.key == "start":
        days = 1 if value == "yesterday" else 0
        return {"start": (today - timedelta(days=days)).isoformat()}
    if step.key == "note":
        return {"note": None}  # skipped
    return {step.key: value}


async def already_reviewed(services: Services, chat_id: int, locale: str, ref: str) -> None:
    """Someone was quicker, or the reporter withdrew or updated the report: nothing was done."""
    text = services.text(locale, "inbox", "already_reviewed", ref=ref)
    await services.replies.send(chat_id, text, html=False)


class VerifyFlow(TableFlow):
    name = "verify"
    prefix = "vf"  # v1:vf:<token>:<step>:<value>
    module = "inbox"
    steps = STEPS

    async def begin(self, update: Update, report: Report, outcome: str) -> None:
        """Confirm ``report`` (outcome "verified") or say what is wrong with it ("wrong")."""
        data = {"report_id": report.id, "version": report.version, "ref": report.ref,
                "outcome": outcome, "suggested": report.measure_kind}  # fmt: skip
        await self.start(update, "checks" if outcome == "verified" else "correction", data)

    # -- rules -----------------------------------------------------------------------------

    def context(self) -> date:
        return self.s.local_today()

    def choose(self, step: Step, value: str, data: Data) -> Updates | Invalid:
        return apply_choice(step, value, data, self.context())

    def advance(self, step: str, updates: Updates, data: Data) -> tuple[str | None, Data]:
        return NEXT.get(step), {**data, **updates}

    # -- texts -----------------------------------------------------------------------------

    def question_text(self, draft: Draft) -> str:
        data = draft.data
        return self.s.text(draft.locale, "inbox", f"ask_{draft.step}", ref=data["ref"],
                           suggested=data["suggested"])  # fmt: skip

    def label(self, draft: Draft, step: str, value: str) -> str:
        return self.s.renderer.label(draft.locale, "inbox", "choice", step=step, value=value,
                                     suggested=draft.data["suggested"])  # fmt: skip

    def answered(self, draft: Draft, value: str) -> str | None:
        return None  # an answered question only loses its buttons

    # -- the review ------------------------------------------------------------------------

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return "verify", f"report:{draft.data['report_id']}"

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        """The worker may still verify the report (a scope can be revoked mid-flow)."""
        report = await inbox.report(self.s, draft.data["report_id"])
        return report is not None and can_verify(actor, report.grid_id, self.engine.gate.village_of)

    async def finish(self, update: Update, draft: Draft) -> None:
        data = draft.data
        actor = await self.engine.gate.actor(update.effective_user)
        report = await inbox.report(self.s, data["report_id"])
        if report is None:
            return  # gone since the check
        outcome = data["outcome"]
        act = verification.verify if outcome == "verified" else verification.mark_wrong
        review = await act(self.s, actor, report, draft.token, data)
        if review is None:
            return  # a double tap
        if not review.done:
            await already_reviewed(self.s, draft.chat_id, draft.locale, report.ref)
            return
        plan = review.plan
        text = self.s.text(
            draft.locale, "inbox", f"done_{outcome}", ref=report.ref,
            measure=plan.kind if plan else None, start=plan.start if plan else None,
            end=plan.end if plan else None,
        )  # fmt: skip
        await self.s.replies.send(draft.chat_id, text)
