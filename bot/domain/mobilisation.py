"""Mobilisation (紧急动员): a leader calls people on file — a category, a village, a skill, or
named people — to a place, at a time, for a task; each answers 收到 / 到岗 / 无法到岗 (with a
reason), and the caller's roll-call shows who did. A drill (演练) is marked as one everywhere.
Pure: the rows are storage.mobilisation, the transactions bot.actions.mobilisation.

The ladder (kind 'mobilisation', one item per call, subject ``mobilisation:<id>``): the call's
deadline is when it went out; ``remind_minutes`` after it the silent are reminded themselves,
``escalate_minutes`` after it their village admins are told, ``group_minutes`` after it the
leadership group. An answer takes the person off every later rung; the last silent one's
answer, or closing the call, ends the climb."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.escalation import Rung
from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_text
from bot.domain.steps import Data, Step, Updates, fixed_choices, store_answer

KIND = "mobilisation"  # the escalation kind
FLOW = "dy"  # 动员: v1:dy:<mobilisation id>:<action> (answers, close, refresh)

# Who is called: the target's kind, then its choices (``ANY``: not narrowed).
CATEGORY, VILLAGE, SKILL, PEOPLE = "category", "village", "skill", "people"
TARGETS = (CATEGORY, VILLAGE, SKILL, PEOPLE)
ANY = "any"
# The narrowing after a kind's own choice: a category in a village (下沉干部 of 石桥村), the
# people of a village in a category, a skill in a village.
PATHS = {CATEGORY: (CATEGORY, VILLAGE), VILLAGE: (VILLAGE, CATEGORY), SKILL: (SKILL, VILLAGE),
         PEOPLE: (PEOPLE,)}  # fmt: skip
DETAILS = ("place", "when", "task", "drill", "summary")

# When: a button's code (shown in each reader's words), else the caller's own text.
NOW, WITHIN_30, WITHIN_60 = "now", "m30", "m60"
WHEN_CODES = (NOW, WITHIN_30, WITHIN_60)

# A called person's state: 'unreachable' (on file, not in the bot: phoned by the caller),
# 'sent' (silent so far), then their answer.
UNREACHABLE, SENT, RECEIVED, ARRIVED, DECLINED = (
    "unreachable", "sent", "received", "arrived", "declined")  # fmt: skip
STATES = (RECEIVED, ARRIVED, DECLINED, SENT, UNREACHABLE)  # the roll-call's order
ANSWER_CODES = {"r": RECEIVED, "a": ARRIVED, "d": DECLINED}  # v1:dy:<id>:<code>
# An answer may move on (收到 then 到岗), or change a 无法到岗 (they could come after all);
# 到岗 is final. 到岗 needs no 收到 first.
MOVES = {SENT: (RECEIVED, ARRIVED, DECLINED), RECEIVED: (ARRIVED, DECLINED),
         DECLINED: (RECEIVED, ARRIVED)}  # fmt: skip
OPEN, CLOSED = "open", "closed"

PLACE_LIMIT, WHEN_LIMIT, TASK_LIMIT, REASON_LIMIT = 60, 40, 300, 100  # characters
PAGE_SIZE = 8  # named people listed per page of the choice
PREV, NEXT, DONE = "prev", "next", "done"  # the named people's paging and end buttons
NAMES_SHOWN = 30  # names listed per state in the roll-call; the rest are "等 N 人"


def subject(mobilisation_id: int) -> str:
    return f"{KIND}:{mobilisation_id}"


def may_answer(state: str, answer: str) -> bool:
    """May a called person in ``state`` answer ``answer`` now? (Not the same answer twice,
    nothing after 到岗, nothing when the message never reached them.)"""
    return answer in MOVES.get(state, ())


def tally(states: Iterable[str]) -> dict[str, int]:
    """How many people are in each state (every state present, 0 where none)."""
    counted = Counter(states)
    return {state: counted[state] for state in STATES}


def shown(names: Sequence[Any], limit: int = NAMES_SHOWN) -> tuple[list[Any], int]:
    """The first ``limit`` of ``names`` and how many more there are ("等 N 人")."""
    return list(names[:limit]), max(len(names) - limit, 0)


def ladder(remind_minutes: int, escalate_minutes: int, group_minutes: int) -> tuple[Rung, ...]:
    """The silent reminded, then their village admins, then the group (after the call)."""
    return (
        Rung("assignee", remind_minutes),
        Rung("village_admin", escalate_minutes),
        Rung("leadership", group_minutes),
    )


def parse_place(text: str) -> str | Invalid:
    return parse_text(text, PLACE_LIMIT)


def parse_when(text: str) -> str | Invalid:
    """When, as typed ("今天 15:00", "下午三点前"): the recipients read it as written."""
    return parse_text(text, WHEN_LIMIT)


def parse_task(text: str) -> str | Invalid:
    return parse_text(text, TASK_LIMIT)


def parse_reason(text: str) -> str | Invalid:
    """无法到岗's reason."""
    return parse_text(text, REASON_LIMIT)


# --- who is called ---------------------------------------------------------------------------


def selection(data: Data) -> dict[str, Any]:
    """The roster filters (storage.roster.select) of the caller's answers. A group is called
    among the available (忙碌 and 外出 are not); named people are called as named."""
    if data["target"] == PEOPLE:
        return {"ids": tuple(data.get("people", ()))}
    return {"category": data.get(CATEGORY), "village_id": data.get(VILLAGE),
            "skill": data.get(SKILL), "available_only": True}  # fmt: skip


def target(data: Data) -> dict[str, Any]:
    """What the call's ``target`` column keeps: the kind and its choices."""
    keys = ("people",) if data["target"] == PEOPLE else PATHS[data["target"]]
    return {"kind": data["target"], **{key: data.get(key) for key in keys}}


# --- the caller's conversation (bot.flows.mobilisation.MobiliseFlow) -------------------------


@dataclass(frozen=True)
class Context:
    """The choices the config offers (ids, in the file's order)."""

    categories: tuple[str, ...]
    villages: tuple[str, ...]
    skills: tuple[str, ...]


def _with_any(values: tuple[str, ...], data: Data, own: str) -> tuple[str, ...]:
    """A narrowing step offers "any" (the whole town, every category); a target's own
    choice does not."""
    return values if data.get("target") == own else (*values, ANY)


def page_of(data: Data) -> tuple[int, list[int]]:
    """The named people's choice: the page shown and the roster ids on it."""
    people = [person[0] for person in data.get("roster", ())]
    last = max((len(people) - 1) // PAGE_SIZE, 0)
    page = min(max(data.get("page", 0), 0), last)
    return page, people[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]


def _people_choices(data: Data, ctx: Any) -> tuple[str, ...]:
    page, ids = page_of(data)
    more = len(data.get("roster", ())) > (page + 1) * PAGE_SIZE
    return (*(str(i) for i in ids), *((PREV,) if page else ()), *((NEXT,) if more else ()),
            DONE)  # fmt: skip


STEPS: dict[str, Step] = {
    step.key: step
    for step in (
        Step("target", choices=fixed_choices(TARGETS), per_row=2),
        Step(CATEGORY, choices=lambda data, ctx: _with_any(ctx.categories, data, CATEGORY),
             per_row=2),
        Step(VILLAGE, choices=lambda data, ctx: _with_any(ctx.villages, data, VILLAGE),
             per_row=2),
        Step(SKILL, choices=lambda data, ctx: ctx.skills, per_row=2),
        Step(PEOPLE, choices=_people_choices, per_row=2),
        Step("place", text=store_answer("place", parse_place)),
        Step("when", text=store_answer("when", parse_when), choices=fixed_choices(WHEN_CODES),
             per_row=3),
        Step("task", text=store_answer("task", parse_task)),
        Step("drill", choices=fixed_choices(("yes", "no")), per_row=2),
        Step("summary", choices=fixed_choices(("submit", "cancel")), per_row=2),
    )
}  # fmt: skip
FIRST_STEP = "target"


def apply_choice(step: Step, value: str, data: Data, ctx: Any) -> Updates | Invalid:
    """A pressed button: a target and its choices (any: not narrowed), a named person
    toggled or a page turned, the time, whether it is a drill."""
    if value not in step.values(data, ctx):
        return Invalid("choice_stale")
    if step.key == PEOPLE:
        return _people_choice(value, data)
    if step.key == "drill":
        return {"drill": value == "yes"}
    return {step.key: None if value == ANY else value}


def _people_choice(value: str, data: Data) -> Updates | Invalid:
    page, _ = page_of(data)
    chosen = list(data.get("people", ()))
    if value in (PREV, NEXT):
        return {"page": page + (1 if value == NEXT else -1)}
    if value == DONE:
        return {DONE: True} if chosen else Invalid("none_chosen")
    person = int(value)
    return {"people": [p for p in chosen if p != person] if person in chosen
            else [*chosen, person]}  # fmt: skip


def advance(step_key: str, updates: Updates, data: Data) -> tuple[str, Data]:
    """The target's path (a new target forgets the old one's choices), then the details;
    the named people's choice stays open until 选好了."""
    merged = {**data, **updates}
    if step_key == "target":
        merged = {key: value for key, value in merged.items()
                  if key not in (CATEGORY, VILLAGE, SKILL, PEOPLE, "page")}  # fmt: skip
    if step_key == PEOPLE and not merged.pop(DONE, False):
        return PEOPLE, merged
    path = (*PATHS[merged["target"]], *DETAILS)
    return (path[0] if step_key == "target" else path[path.index(step_key) + 1]), merged
