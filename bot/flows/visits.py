"""A door-to-door visit (入户排查) as a flow: the grid (when the worker has several), the
household's address, entry refused or not, how many at home and their temperatures, arrivals
found, a note. The finish records it (bot.actions.visits.record, one transaction) and offers
to register the arrivals found. Texts: templates/*/visits.j2."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.actions import visits
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_address, parse_text
from bot.domain.roles import Actor, can_visit
from bot.domain.steps import Data, Step, Updates, fixed_choices, store_answer
from bot.domain.visits import parse_people, parse_temperatures
from bot.flows.engine import Draft, Engine
from bot.flows.table import TableFlow
from bot.runtime.services import Services

NOTE_LIMIT = 300
REGISTER = "vr"  # the saved visit's button: v1:vr:<visit id> (handlers/visits.py)
YES_NO = ("no", "yes")


def _temperatures(text: str) -> list[float] | Invalid:
    found = parse_temperatures(text)
    return found if isinstance(found, Invalid) else list(found)  # as the draft stores it


def _note(text: str) -> str | Invalid:
    return parse_text(text, NOTE_LIMIT)


STEPS = {
    step.key: step
    for step in (
        Step("grid", choices=lambda data, ctx: tuple(data["grids"])),
        Step("address", text=store_answer("address", parse_address)),
        Step("refused", choices=fixed_choices(YES_NO), per_row=2),
        Step("people", choices=fixed_choices(("1", "2", "3", "4", "5")),
             text=store_answer("people", parse_people), per_row=5),
        Step("temperatures", text=store_answer("temperatures", _temperatures)),
        Step("arrivals", choices=fixed_choices(YES_NO), per_row=2),
        Step("note", choices=fixed_choices(("skip",)), text=store_answer("note", _note),
             per_row=2),
    )
}  # fmt: skip
ORDER = tuple(STEPS)


def apply_choice(step: Step, value: str, data: Data) -> Updates | Invalid:
    """A pressed button: its value must be one this step offers."""
    if value not in step.values(data, None):
        return Invalid("choice_stale")
    if step.key in ("refused", "arrivals"):
        return {step.key: value == "yes"}
    if step.key == "people":
        return {"people": int(value)}
    if step.key == "note":
        return {"note": None}  # skipped
    return {step.key: value}


def advance(step: str, updates: Updates, data: Data) -> tuple[str | None, Data]:
    """Merge an answer; a refused entry goes straight to the note, nobody at home skips the
    temperatures. After the note: all answered (None)."""
    merged = {**data, **updates}
    if step == "refused" and merged["refused"]:
        return "note", merged
    if step == "people" and merged["people"] == 0:
        return "arrivals", {**merged, "temperatures": []}
    following = ORDER[ORDER.index(step) + 1 :]
    return (following[0] if following else None), merged


class VisitFlow(TableFlow):
    name = "visit"
    prefix = "vs"  # v1:vs:<token>:<step>:<value>
    module = "visits"
    steps = STEPS

    def __init__(self, services: Services, engine: Engine) -> None:
        super().__init__(services, engine)
        self._grids = tuple(g.id for v in services.config.villages for g in v.grids)

    async def begin(self, update: Update) -> None:
        """Start a visit in the worker's grid, or ask which one when they have several."""
        gate = self.engine.gate
        actor = await gate.actor(update.effective_user)
        grids = [g for g in self._grids if can_visit(actor, g, gate.village_of)]
        if not grids:
            await gate.refuse(update, actor, "visit")
        elif len(grids) == 1:
            await self.start(update, "address", {"grid": grids[0], "grids": grids})
        else:
            await self.start(update, "grid", {"grids": grids})

    # -- rules -----------------------------------------------------------------------------

    def choose(self, step: Step, value: str, data: Data) -> Updates | Invalid:
        return apply_choice(step, value, data)

    def advance(self, step: str, updates: Updates, data: Data) -> tuple[str | None, Data]:
        return advance(step, updates, data)

    # -- texts -----------------------------------------------------------------------------

    def question_text(self, draft: Draft) -> str:
        grid = draft.data.get("grid")
        return self.s.text(draft.locale, "visits", f"ask_{draft.step}",
                           grid=self.s.config.grid_label(grid) if grid else "")  # fmt: skip

    def label(self, draft: Draft, step: str, value: str) -> str:
        if step == "grid":
            return self.s.config.grid_label(value)
        return super().label(draft, step, value)

    def answered(self, draft: Draft, value: str) -> str | None:
        return None  # an answered question only loses its buttons

    # -- saving ----------------------------------------------------------------------------

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return "visit", f"grid:{draft.data['grid']}"

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        """The worker still holds the grid (a scope can be revoked mid-flow)."""
        return can_visit(actor, draft.data["grid"], self.engine.gate.village_of)

    async def finish(self, update: Update, draft: Draft) -> None:
        data = draft.data
        actor = await self.engine.gate.actor(update.effective_user)
        visit = await visits.record(self.s, actor, draft.token, data)
        if visit is None:
            return  # a double tap
        village, grid = self.s.config.grid_names(visit.grid_id)
        text = self.s.text(
            draft.locale, "visits", "saved", visit=visit.id, village=village, grid=grid,
            address=visit.address, refused=visit.refused, people=visit.people,
            temperatures=visit.temperatures, fever=visit.fever, arrivals=visit.arrivals,
        )  # fmt: skip
        await self.s.replies.send(draft.chat_id, text, reply_markup=self._register(draft, visit))

    def _register(self, draft: Draft, visit: visits.Visit) -> dict[str, Any] | None:
        """The button that registers the arrivals found at the door, one by one."""
        if not visit.arrivals:
            return None
        label = self.s.text(draft.locale, "visits", "btn_register")
        return inline_markup([[button(label, callback(REGISTER, str(visit.id)))]])
