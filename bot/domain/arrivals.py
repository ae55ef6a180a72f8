"""The arrival self-report (来镇/返镇人员自主申报) as a sequence of questions.

Pure: a draft is a plain dict of answers; each step turns a typed text or a pressed choice
into updates to that dict, or an ``Invalid`` with the reason. Which question comes next is
derived from the answers, so a draft restored after a restart continues where it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from bot.domain.invalid import Invalid
from bot.domain.parsing import (
    parse_address,
    parse_date,
    parse_id_number,
    parse_name,
    parse_passport,
    parse_phone,
    parse_plate,
    parse_temperature,
    parse_text,
    parse_trip_number,
)
from bot.domain.places import Place, parse_place, parse_places
from bot.domain.risk import SYMPTOMS, RiskFacts
from bot.domain.steps import Step, fixed_choices, store_answer

RELATIONS = ("self", "family", "tenant", "guest")
REGION_KINDS = ("china", "abroad")
TRANSPORTS = ("self_drive", "train", "flight", "coach", "other")
CATEGORIES = ("sanfan", "siwai", "overseas", "quarantine_done", "visitor", "other")
HEALTH_CODES = ("green", "yellow", "red")
TEST_RESULTS = ("negative", "positive", "pending")
YES_NO = ("yes", "no")
COMMON_TEMPERATURES = ("36.2", "36.5", "36.8", "37.0")

Data = dict[str, Any]
Updates = dict[str, Any]


@dataclass(frozen=True)
class Context:
    """What a step needs to know beyond the answers: today's date in the town, settings."""

    today: date
    id_required: bool
    max_days_back: int
    max_companions: int
    villages: Mapping[str, tuple[str, ...]]  # village id -> its grid ids, in config order


def _parse_id(text: str, id_kind: str | None, ctx: Context) -> str | Invalid:
    """A passport number or (any other kind, and by default) a resident ID number: the same
    rule for the reporter and each companion."""
    return parse_passport(text) if id_kind == "passport" else parse_id_number(text, ctx.today)


def _id_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    value = _parse_id(text, data.get("id_kind"), ctx)
    if isinstance(value, Invalid):
        return value
    return {"id_kind": data.get("id_kind") or "id", "id_number": value}


def _id_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    if data.get("id_kind") == "passport":
        return ("id",) if ctx.id_required else ("id", "skip")
    return ("passport",) if ctx.id_required else ("passport", "skip")


def _companion_id_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    """The companion's own kind of ID decides the offer, not the main person's."""
    return _id_choices(data.get("companion") or {}, ctx)


def _origin_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    place = parse_place(text)
    return place if isinstance(place, Invalid) else {"origin": place_to_dict(place)}


def _travel_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    places = parse_places(text)
    if isinstance(places, Invalid):
        return places
    return {"travel": [place_to_dict(p) for p in places]}


# The steps' answer functions are module-level, bound to their key with partial rather than
# built by a factory when STEPS is: what runs when an answer comes is then this code itself.
def _date_text(key: str, text: str, data: Data, ctx: Context) -> Updates | Invalid:
    value = parse_date(text, ctx.today, ctx.max_days_back)
    return value if isinstance(value, Invalid) else {key: value.isoformat()}


def _trip_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    kind = data.get("transport")
    value = parse_plate(text) if kind == "self_drive" else parse_trip_number(kind or "", text)
    return value if isinstance(value, Invalid) else {"trip": value}


def _temperature_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    value = parse_temperature(text)
    return value if isinstance(value, Invalid) else {"temperature": value}


def _village_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return tuple(ctx.villages)


def _grid_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return ctx.villages.get(data.get("village", ""), ())


def _symptom_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return (*SYMPTOMS, "none", "done")


def _companion_id_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    current = dict(data.get("companion") or {})
    value = _parse_id(text, current.get("id_kind"), ctx)
    if isinstance(value, Invalid):
        return value
    current.setdefault("id_kind", "id")
    current["id_number"] = value
    return {"companion": current}


def _companion_field(
    key: str, parse: Callable[[str], Any], text: str, data: Data, ctx: Context
) -> Updates | Invalid:
    value = parse(text)
    if isinstance(value, Invalid):
        return value
    return {"companion": {**(data.get("companion") or {}), key: value}}


STEPS: dict[str, Step] = {
    step.key: step
    for step in (
        Step("relation", "relation", choices=fixed_choices(RELATIONS), per_row=2),
        Step("name", "name", text=store_answer("name", parse_name)),
        Step("phone", "phone", text=store_answer("phone", parse_phone), contact=True),
        Step("id_number", "id_number", choices=_id_choices, text=_id_text, per_row=2),
        Step("region_kind", "origin", choices=fixed_choices(REGION_KINDS), per_row=2),
        Step("country", "origin", text=store_answer("country", lambda t: parse_text(t, 40))),
        Step("origin", "origin", text=_origin_text),
        Step("origin_confirm", "origin", choices=fixed_choices(YES_NO), per_row=2),
        Step("travel", "travel", choices=fixed_choices(("none",)), text=_travel_text, per_row=2),
        Step("travel_confirm", "travel", choices=fixed_choices(YES_NO), per_row=2),
        Step("arrival_date", "arrival_date", choices=fixed_choices(("today", "yesterday")),
             text=partial(_date_text, "arrival_date"), per_row=2),
        Step("transport", "transport", choices=fixed_choices(TRANSPORTS), per_row=2),
        Step("trip", "transport", text=_trip_text),
        Step("village", "place", choices=_village_choices),
        Step("grid", "place", choices=_grid_choices),
        Step("address", "place", text=store_answer("address", parse_address)),
        Step("category", "category", choices=fixed_choices(CATEGORIES)),
        Step("health_code", "health_code", choices=fixed_choices(HEALTH_CODES), per_row=3),
        Step("test", "test", choices=fixed_choices(YES_NO), per_row=2),
        Step("test_date", "test", choices=fixed_choices(("today", "yesterday")),
             text=partial(_date_text, "test_date"), per_row=2),
        Step("test_result", "test", choices=fixed_choices(TEST_RESULTS), per_row=2),
        Step("test_photo", "test", choices=fixed_choices(("skip",)), photo="test_photo",
             per_row=2),
        Step("temperature", "temperature", choices=fixed_choices(COMMON_TEMPERATURES),
             text=_temperature_text, per_row=4),
        Step("symptoms", "symptoms", choices=_symptom_choices, per_row=2),
        Step("companions", "companions", choices=fixed_choices(YES_NO), per_row=2),
        Step("companion_name", "companions", text=partial(_companion_field, "name", parse_name)),
        Step("companion_id", "companions", choices=_companion_id_choices,
             text=_companion_id_text, per_row=2),
        Step("companion_phone", "companions", choices=fixed_choices(("skip",)),
             text=partial(_companion_field, "phone", parse_phone), per_row=2),
        Step("companion_more", "companions", choices=fixed_choices(("add", "done")), per_row=2),
        Step("summary", "summary", choices=fixed_choices(("submit", "edit", "cancel")), per_row=2),
        Step("edit", "summary", choices=lambda data, ctx: EDIT_GROUPS),
    )
}  # fmt: skip
ORDER = tuple(STEPS)
EDIT_GROUPS = (
    "relation", "name", "phone", "id_number", "origin", "travel", "arrival_date", "transport",
    "place", "category", "health_code", "test", "temperature", "symptoms", "companions",
)  # fmt: skip
FIRST_STEP = "relation"


def place_to_dict(place: Place) -> dict[str, str | None]:
    return {"province": place.province, "city": place.city, "district": place.district}


def place_from_dict(value: Mapping[str, str | None]) -> Place:
    return Place(value["province"] or "", value.get("city"), value.get("district"))


def _applies(key: str, data: Data) -> bool:
    """Whether a question is asked, given the answers so far."""
    rules: dict[str, Callable[[], bool]] = {
        "country": lambda: data.get("region_kind") == "abroad",
        "origin": lambda: data.get("region_kind") == "china",
        "origin_confirm": lambda: data.get("region_kind") == "china",
        "travel_confirm": lambda: bool(data.get("travel")),
        "trip": lambda: data.get("transport") not in (None, "other"),
        "village": lambda: not data.get("prefilled_village"),
        "grid": lambda: not data.get("prefilled_grid"),
        "address": lambda: not data.get("prefilled_address"),
        "test_date": lambda: data.get("test") == "yes",
        "test_result": lambda: data.get("test") == "yes",
        "test_photo": lambda: data.get("test") == "yes",
        "companion_name": lambda: data.get("companions") == "yes",
        "companion_id": lambda: data.get("companions") == "yes",
        "companion_phone": lambda: data.get("companions") == "yes",
        "companion_more": lambda: data.get("companions") == "yes",
        "edit": lambda: False,
    }
    rule = rules.get(key)
    return rule() if rule else True


def next_step(current: str, data: Data) -> str:
    """The question after ``current``; while editing, back to the summary once the edited
    field's group is done."""
    if current == "companion_more" and data.get("companion_more") == "add":
        return "companion_name"
    position = ORDER.index(current)
    for key in ORDER[position + 1 :]:
        if not _applies(key, data):
            continue
        editing = data.get("editing")
        if editing and STEPS[key].group != editing:
            return "summary"
        return key
    return "summary"


def start_edit(group: str, data: Data) -> tuple[str, Data]:
    """Reopen one group of answers from the summary card; returns (first step, new data)."""
    data = {**data, "editing": group}
    if group == "place":
        for flag in ("prefilled_village", "prefilled_grid", "prefilled_address"):
            data.pop(flag, None)
    if group == "companions":
        data["people"] = []
    first = next(key for key in ORDER if STEPS[key].group == group)
    return first, data


def finish_edit(data: Data) -> Data:
    return {key: value for key, value in data.items() if key != "editing"}


def apply_choice(step: Step, value: str, data: Data, ctx: Context) -> Updates | Invalid:
    """A pressed button: its value must be one this step offers right now."""
    if step.choices is None or value not in step.choices(data, ctx):
        return Invalid("choice_stale")
    handler = _CHOICE_EFFECTS.get(step.key)
    return handler(value, data, ctx) if handler else {step.key: value}


def _choose_id(value: str, data: Data, ctx: Context) -> Updates:
    if value == "skip":
        return {"id_kind": None, "id_number": None}
    return {"id_kind": value, "pending": True}


def _choose_companion_id(value: str, data: Data, ctx: Context) -> Updates:
    companion = dict(data.get("companion") or {})
    if value == "skip":
        companion.update(id_kind=None, id_number=None)
        return {"companion": companion}
    companion["id_kind"] = value
    return {"companion": companion, "pending": True}


def _choose_date(key: str, value: str, data: Data, ctx: Context) -> Updates:
    days = 0 if value == "today" else 1
    return {key: date.fromordinal(ctx.today.toordinal() - days).isoformat()}


def _choose_origin(value: str, data: Data, ctx: Context) -> Updates:
    if value == "no":
        return {"origin": None, "origin_confirm": None, "back": "origin"}
    return {"origin_confirm": "yes"}


def _choose_travel_confirm(value: str, data: Data, ctx: Context) -> Updates:
    if value == "no":
        return {"travel": [], "back": "travel"}
    return {"travel_confirm": "yes"}


def _choose_symptom(value: str, data: Data, ctx: Context) -> Updates:
    chosen = list(data.get("symptoms") or [])
    if value == "none":
        return {"symptoms": [], "symptoms_done": True}
    if value == "done":
        return {"symptoms": chosen, "symptoms_done": True}
    if value in chosen:
        chosen.remove(value)
    else:
        chosen.append(value)
    return {"symptoms": chosen, "pending": True}


def _choose_companion_more(value: str, data: Data, ctx: Context) -> Updates | Invalid:
    if value == "add" and len(data.get("people") or []) >= ctx.max_companions:
        return Invalid("companions_too_many", {"limit": ctx.max_companions})
    return {"companion_more": value}


def _choose_companions(value: str, data: Data, ctx: Context) -> Updates | Invalid:
    if value == "yes" and ctx.max_companions == 0:
        return Invalid("companions_too_many", {"limit": 0})
    return {"companions": value, "people": [] if value == "no" else data.get("people") or []}


def _choose_village(value: str, data: Data, ctx: Context) -> Updates:
    return {"village": value, "grid": None}


def _choose_trip_kind(value: str, data: Data, ctx: Context) -> Updates:
    return {"transport": value, "trip": None}


def _choose_region_kind(value: str, data: Data, ctx: Context) -> Updates:
    if value == "abroad":
        return {"region_kind": value, "origin": None, "origin_confirm": None}
    return {"region_kind": value, "country": None}


def _choose_test(value: str, data: Data, ctx: Context) -> Updates:
    if value == "no":
        return {"test": value, "test_date": None, "test_result": None, "test_photo": None}
    return {"test": value}


def _choose_temperature(value: str, data: Data, ctx: Context) -> Updates:
    return {"temperature": float(value)}


_CHOICE_EFFECTS: dict[str, Callable[[str, Data, Context], Updates | Invalid]] = {
    "id_number": _choose_id,
    "companion_id": _choose_companion_id,
    "arrival_date": partial(_choose_date, "arrival_date"),
    "test_date": partial(_choose_date, "test_date"),
    "origin_confirm": _choose_origin,
    "travel_confirm": _choose_travel_confirm,
    "travel": lambda value, data, ctx: {"travel": []},
    "test_photo": lambda value, data, ctx: {"test_photo": None},
    "symptoms": _choose_symptom,
    "companion_more": _choose_companion_more,
    "companions": _choose_companions,
    "companion_phone": lambda value, data, ctx: {
        "companion": {**(data.get("companion") or {}), "phone": None}
    },
    "village": _choose_village,
    "transport": _choose_trip_kind,
    "region_kind": _choose_region_kind,
    "test": _choose_test,
    "temperature": _choose_temperature,
}


def advance(step_key: str, updates: Updates, data: Data) -> tuple[str, Data]:
    """Merge an accepted answer and work out the next question.

    ``pending`` keeps the same question open (a symptom toggled, an ID kind chosen);
    ``back`` returns to a question the resident rejected ("对吗？" -> no)."""
    merged = {**data, **updates}
    pending = merged.pop("pending", False)
    back = merged.pop("back", None)
    merged.pop("symptoms_done", None)
    if back:
        return back, merged
    if pending:
        return step_key, merged
    if step_key == "companion_phone":
        merged["people"] = [*merged.get("people", []), merged.pop("companion", {})]
    if step_key == "companion_more" and merged.get("companion_more") == "add":
        merged.pop("companion_more")
        return "companion_name", merged
    following = next_step(step_key, merged)
    if following == "summary":
        merged = finish_edit(merged)
    return following, merged


def missing_for_submit(data: Data, ctx: Context) -> list[str]:
    """Groups a draft still lacks; a prefilled or restored draft is checked before it is stored."""
    required = ["relation", "name", "phone", "region_kind", "arrival_date", "transport",
                "village", "grid", "address", "category", "health_code", "test",
                "temperature"]  # fmt: skip
    missing = [key for key in required if data.get(key) in (None, "")]
    if ctx.id_required and not data.get("id_number"):
        missing.append("id_number")
    if data.get("region_kind") == "china" and not data.get("origin"):
        missing.append("origin")
    if data.get("grid") not in ctx.villages.get(data.get("village") or "", ()):
        missing.append("grid")
    groups = [STEPS[key].group for key in missing]  # "grid" is asked in the "place" group
    return list(dict.fromkeys(groups))


def risk_facts(data: Data) -> RiskFacts:
    origin = data.get("origin")
    return RiskFacts(
        overseas=data.get("region_kind") == "abroad" or data.get("category") == "overseas",
        origin=place_from_dict(origin) if origin else None,
        travel=tuple(place_from_dict(p) for p in data.get("travel") or []),
        arrival_date=date.fromisoformat(data["arrival_date"]),
        health_code=data.get("health_code"),
        temperature=data.get("temperature"),
        symptoms=frozenset(data.get("symptoms") or []),
        quarantine_done=data.get("category") == "quarantine_done",
    )
