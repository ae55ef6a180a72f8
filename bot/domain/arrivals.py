"""The arrival self-report (来镇/返镇人员自主申报) as a sequence of questions.

Pure: a draft is a plain dict of answers; each step turns a typed text or a pressed choice
into updates to that dict, or an ``Invalid`` with the reason. Which question comes next is
derived from the answers, so a draft restored after a restart continues where it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

from bot.domain.invalid import Invalid
from bot.domain.parsing import (
    DATE_LIMIT,
    clean,
    full_date,
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
from bot.domain.places import (
    Ambiguous,
    Place,
    most_precise,
    narrower,
    parse_place_within,
    parse_places,
    place_choices,
)
from bot.domain.regions import Region
from bot.domain.risk import SYMPTOMS, RiskFacts, regions_inside
from bot.domain.steps import ANYONE, SELF, Step, fixed_choices, store_answer
from bot.domain.units import is_venue

# Whom a resident registers; a unit's liaison registers the unit's own people (员工 / 学生 /
# 住客), offered by the unit's kind; a venue's guest by its QR code registers himself.
RESIDENT_RELATIONS = ("self", "family", "tenant", "guest")
UNIT_RELATIONS = {"school": ("student", "staff")}  # any other non-venue unit: its staff
VENUE_RELATIONS = ("venue_guest", "staff")
RELATIONS = (*RESIDENT_RELATIONS, "staff", "student", "venue_guest")
MAX_STAY_DAYS = 60  # a guest's expected check-out lies at most this far after check-in
ROOM_LIMIT = 20
CHECKOUT_DAYS = {"today": 0, "今天": 0, "tomorrow": 1, "明天": 1, "day_after": 2, "后天": 2}
_NIGHTS = re.compile(r"住?(\d{1,2})(?:天|晚|夜|nights?|days?)")
REGION_KINDS = ("china", "abroad")
TRANSPORTS = ("self_drive", "train", "flight", "coach", "other")
CATEGORIES = ("sanfan", "siwai", "overseas", "quarantine_done", "visitor", "other")
HEALTH_CODES = ("green", "yellow", "red")
TEST_RESULTS = ("negative", "positive", "pending")
YES_NO = ("yes", "no")
UNSURE = "unsure"
MAX_DISTRICT_BUTTONS = 16  # a city's districts as buttons; more (a province's) are typed
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
    regions: tuple[Region, ...] = ()  # the key regions in force
    lookback_days: int = 14


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


def too_vague(place: Place, ctx: Context) -> bool:
    """A key region lies inside the answered city or province (江汉区 in 武汉市): the
    district must be asked. The window reaches back as far as any arrival date accepted
    later, so no region that could count is missed."""
    first = ctx.today - timedelta(days=ctx.lookback_days + ctx.max_days_back)
    return bool(regions_inside(place, ctx.regions, first, ctx.today))


def _set_origin(place: Place, ctx: Context) -> Updates:
    return {"origin": place_to_dict(place), "origin_choices": None,
            "origin_vague": too_vague(place, ctx)}  # fmt: skip


def _origin_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    found = place_choices(text)
    if isinstance(found, Invalid):
        return found
    if len(found) > 1:  # "Taizhou", "朝阳区": the resident picks, the bot never guesses
        return {"origin": None, "origin_choices": [place_to_dict(p) for p in found]}
    return _set_origin(found[0], ctx)


def _origin_pick_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return tuple(str(i) for i in range(len(data.get("origin_choices") or ())))


def _choose_origin_pick(value: str, data: Data, ctx: Context) -> Updates:
    return _set_origin(place_from_dict(data["origin_choices"][int(value)]), ctx)


def district_options(place: Place) -> tuple[Place, ...]:
    """The places one level inside ``place`` offered as buttons, when they are few."""
    inside = narrower(place)
    return inside if len(inside) <= MAX_DISTRICT_BUTTONS else ()


def _district_choices(place: Place) -> tuple[str, ...]:
    return (*(str(i) for i in range(len(district_options(place)))), UNSURE)


def _origin_district_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return _district_choices(place_from_dict(data["origin"]))


def _narrow_origin(place: Place, ctx: Context) -> Updates:
    """A district, or a city of a province: asked again while still too vague."""
    updates = _set_origin(place, ctx)
    return {**updates, "pending": updates["origin_vague"]}


def _origin_district_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    place = parse_place_within(text, place_from_dict(data["origin"]))
    return place if isinstance(place, Invalid) else _narrow_origin(place, ctx)


def _choose_origin_district(value: str, data: Data, ctx: Context) -> Updates:
    if value == UNSURE:  # kept as answered; the assessment flags it for a worker
        return {"origin_vague": False}
    return _narrow_origin(district_options(place_from_dict(data["origin"]))[int(value)], ctx)


def _set_travel(places: list[Place], ties: list[dict[str, Any]], ctx: Context) -> Updates:
    """The travel places so far and the ambiguous answers still to pick from; which places
    are too vague is settled on the whole list (a pick may hold a place answered before)."""
    kept = most_precise(places)
    vague = [i for i, place in enumerate(kept) if too_vague(place, ctx)]
    return {"travel": [place_to_dict(p) for p in kept], "travel_choices": ties,
            "travel_vague": vague}  # fmt: skip


def _travel_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    parsed = parse_places(text)
    if isinstance(parsed, Invalid):
        return parsed
    places = [p for p in parsed if isinstance(p, Place)]
    ties = [{"text": t.text, "places": [place_to_dict(p) for p in t.places]}
            for t in parsed if isinstance(t, Ambiguous)]  # fmt: skip
    return _set_travel(places, ties, ctx)


def travel_tie(data: Data) -> Mapping[str, Any]:
    """The ambiguous travel answer the resident picks from now: its text, its places."""
    return data["travel_choices"][0]


def _travel_pick_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return tuple(str(i) for i in range(len(travel_tie(data)["places"])))


def _choose_travel_pick(value: str, data: Data, ctx: Context) -> Updates:
    """One ambiguous travel answer settled; the next one is asked, then the districts."""
    picked = place_from_dict(travel_tie(data)["places"][int(value)])
    places = [place_from_dict(p) for p in data["travel"]]
    rest = data["travel_choices"][1:]
    updates = _set_travel([*places, picked] if picked not in places else places, rest, ctx)
    return {**updates, "pending": bool(rest)}


def vague_travel_place(data: Data) -> Place:
    """The travel place the district question is about now."""
    return place_from_dict(data["travel"][data["travel_vague"][0]])


def _travel_district_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return _district_choices(vague_travel_place(data))


def _set_travel_place(place: Place | None, data: Data, ctx: Context) -> Updates:
    """Replace the travel place asked about (None: not sure, keep it); ask the next one."""
    index, *rest = data["travel_vague"]
    travel = list(data["travel"])
    if place is not None:
        travel[index] = place_to_dict(place)
        rest = [index, *rest] if too_vague(place, ctx) else rest
    return {"travel": travel, "travel_vague": rest, "pending": bool(rest)}


def _travel_district_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    place = parse_place_within(text, vague_travel_place(data))
    return place if isinstance(place, Invalid) else _set_travel_place(place, data, ctx)


def _choose_travel_district(value: str, data: Data, ctx: Context) -> Updates:
    if value == UNSURE:
        return _set_travel_place(None, data, ctx)
    place = district_options(vague_travel_place(data))[int(value)]
    return _set_travel_place(place, data, ctx)


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


def _phone_of(data: Data) -> str:
    """Registering oneself, a contact card must be one's own (another's is not "my number");
    for a family member or a guest, their card or the registrar's own will do."""
    return SELF if data.get("relation") == "self" else ANYONE


def relation_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    """A resident registers himself or his household; a unit's liaison the unit's people."""
    kind = data.get("unit_kind")
    if not kind:
        return RESIDENT_RELATIONS
    return VENUE_RELATIONS if is_venue(kind) else UNIT_RELATIONS.get(kind, ("staff",))


def is_guest(data: Data) -> bool:
    """Registered for a venue and not as its staff: the guest register is asked (入住登记)."""
    return is_venue(data.get("unit_kind") or "") and data.get("relation") != "staff"


def _checkin_problem(checkin: date, data: Data) -> Invalid | None:
    """Nobody checks in before reaching the town."""
    arrival = data.get("arrival_date")
    if arrival and checkin < date.fromisoformat(arrival):
        return Invalid("checkin_before_arrival", {"arrival": date.fromisoformat(arrival)})
    return None


def _checkout_problem(checkout: date, checkin: date) -> Invalid | None:
    if checkout < checkin:
        return Invalid("checkout_before_checkin", {"checkin": checkin})
    if (checkout - checkin).days > MAX_STAY_DAYS:
        return Invalid("checkout_too_far", {"days": MAX_STAY_DAYS})
    return None


def _dated_checkin(value: date, data: Data) -> Updates | Invalid:
    return _checkin_problem(value, data) or {"checkin_date": value.isoformat()}


def _checkin_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    value = parse_date(text, ctx.today, ctx.max_days_back)
    return value if isinstance(value, Invalid) else _dated_checkin(value, data)


def _choose_checkin(value: str, data: Data, ctx: Context) -> Updates | Invalid:
    return _dated_checkin(ctx.today - timedelta(days=0 if value == "today" else 1), data)


def _checkout_in_year(text: str, checkin: date) -> date | Invalid | None:
    """A month and day without a year: the such date nearest to check-in (1月3日 written on
    28 December is next year's; 12月26日 then is a slip before check-in), whose window the
    caller checks. None: no month and day."""
    found = [full_date(f"{year}-{text}") or full_date(f"{year}年{text}")
             for year in (checkin.year, checkin.year + 1)]  # fmt: skip
    dates = [value for value in found if isinstance(value, date)]
    return min(dates, key=lambda value: abs(value - checkin)) if dates else found[0]


def parse_checkout(text: str, checkin: date, today: date) -> date | Invalid:
    """The expected check-out date (预计退房日期): 明天/后天, “住3晚” (nights from check-in),
    a full date, or a month and day; never before check-in nor more than MAX_STAY_DAYS
    after it."""
    cleaned = clean(text, DATE_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    compact = "".join(cleaned.split()).lower()
    nights = _NIGHTS.fullmatch(compact)
    if compact in CHECKOUT_DAYS:
        value: date | Invalid | None = today + timedelta(days=CHECKOUT_DAYS[compact])
    elif nights:
        value = checkin + timedelta(days=int(nights.group(1)))
    else:
        value = full_date(compact) or _checkout_in_year(compact, checkin)
    if value is None:
        return Invalid("checkout_format")
    if isinstance(value, Invalid):
        return value
    return _checkout_problem(value, checkin) or value


def _checkin_of(data: Data, ctx: Context) -> date:
    raw = data.get("checkin_date")
    return date.fromisoformat(raw) if raw else ctx.today


def _checkout_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    value = parse_checkout(text, _checkin_of(data, ctx), ctx.today)
    return value if isinstance(value, Invalid) else {"checkout_date": value.isoformat()}


def _choose_checkout(value: str, data: Data, ctx: Context) -> Updates | Invalid:
    checkout = ctx.today + timedelta(days=CHECKOUT_DAYS[value])
    problem = _checkout_problem(checkout, _checkin_of(data, ctx))
    return problem or {"checkout_date": checkout.isoformat()}


def stay_problem(data: Data) -> Invalid | None:
    """A guest register whose dates no longer agree (the arrival date changed after it)."""
    if not (data.get("checkin_date") and data.get("checkout_date")):
        return None
    checkin = date.fromisoformat(data["checkin_date"])
    return _checkin_problem(checkin, data) or _checkout_problem(
        date.fromisoformat(data["checkout_date"]), checkin
    )


def unit_answers(
    unit: Mapping[str, Any], villages: Mapping[str, tuple[str, ...]], *, guest: bool
) -> Data:
    """A unit's form prefilled from the unit (``units`` row): its village, grid and address
    where the town knows them (else asked). ``guest``: a guest by the venue's QR code, who
    registers himself; else its liaison, who registers the unit's people (``liaison``: the
    scope checked again at submit)."""
    data: Data = {"unit": unit["id"], "unit_kind": unit["kind"], "unit_name": unit["name"]}
    grids = villages.get(unit["village_id"])
    if grids is not None:
        data.update(village=unit["village_id"], prefilled_village=True)
    if grids and unit["grid_id"] in grids:
        data.update(grid=unit["grid_id"], prefilled_grid=True)
    if unit["address"]:
        data.update(address=unit["address"], prefilled_address=True)
    if guest:
        data.update(relation="self", prefilled_relation=True)
    else:
        data["liaison"] = True
    return data


def _edit_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    """The summary's "change" offers what was asked: not a relation the QR code set, not the
    guest register of someone who is no guest."""
    hidden = {"relation"} if data.get("prefilled_relation") else set()
    if not is_guest(data):
        hidden.add("stay")
    return tuple(group for group in EDIT_GROUPS if group not in hidden)


STEPS: dict[str, Step] = {
    step.key: step
    for step in (
        Step("relation", "relation", choices=relation_choices, per_row=2),
        Step("name", "name", text=store_answer("name", parse_name)),
        Step("phone", "phone", text=store_answer("phone", parse_phone), contact=True,
             contact_of=_phone_of),
        Step("id_number", "id_number", choices=_id_choices, text=_id_text, per_row=2),
        Step("region_kind", "origin", choices=fixed_choices(REGION_KINDS), per_row=2),
        Step("country", "origin", text=store_answer("country", lambda t: parse_text(t, 40))),
        Step("origin", "origin", text=_origin_text),
        Step("origin_pick", "origin", choices=_origin_pick_choices),
        Step("origin_district", "origin", choices=_origin_district_choices,
             text=_origin_district_text, per_row=3),
        Step("origin_confirm", "origin", choices=fixed_choices(YES_NO), per_row=2),
        Step("travel", "travel", choices=fixed_choices(("none",)), text=_travel_text, per_row=2),
        Step("travel_pick", "travel", choices=_travel_pick_choices),
        Step("travel_district", "travel", choices=_travel_district_choices,
             text=_travel_district_text, per_row=3),
        Step("travel_confirm", "travel", choices=fixed_choices(YES_NO), per_row=2),
        Step("arrival_date", "arrival_date", choices=fixed_choices(("today", "yesterday")),
             text=partial(_date_text, "arrival_date"), per_row=2),
        Step("transport", "transport", choices=fixed_choices(TRANSPORTS), per_row=2),
        Step("trip", "transport", text=_trip_text),
        Step("village", "place", choices=_village_choices),
        Step("grid", "place", choices=_grid_choices),
        Step("address", "place", text=store_answer("address", parse_address)),
        # the guest register of a venue (入住登记): check-in, expected check-out, room
        Step("checkin_date", "stay", choices=fixed_choices(("today", "yesterday")),
             text=_checkin_text, per_row=2),
        Step("checkout_date", "stay", choices=fixed_choices(("tomorrow", "day_after")),
             text=_checkout_text, per_row=2),
        Step("room", "stay", text=store_answer("room", lambda t: parse_text(t, ROOM_LIMIT))),
        Step("category", "category", choices=fixed_choices(CATEGORIES)),
        # 解除隔离证明: a worker checks it before the person leaves key control
        Step("certificate", "category", choices=fixed_choices(("skip",)),
             photo="certificate_photo"),
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
             text=partial(_companion_field, "phone", parse_phone), per_row=2,
             contact_of=lambda data: ANYONE),
        Step("companion_more", "companions", choices=fixed_choices(("add", "done")), per_row=2),
        Step("summary", "summary", choices=fixed_choices(("submit", "edit", "cancel")), per_row=2),
        Step("edit", "summary", choices=_edit_choices),
    )
}  # fmt: skip
ORDER = tuple(STEPS)
EDIT_GROUPS = (
    "relation", "name", "phone", "id_number", "origin", "travel", "arrival_date", "transport",
    "place", "stay", "category", "health_code", "test", "temperature", "symptoms", "companions",
)  # fmt: skip
FIRST_STEP = "relation"


def place_to_dict(place: Place) -> dict[str, str | None]:
    return {"province": place.province, "city": place.city, "district": place.district}


def place_from_dict(value: Mapping[str, str | None]) -> Place:
    return Place(value["province"] or "", value.get("city"), value.get("district"))


def _applies(key: str, data: Data) -> bool:
    """Whether a question is asked, given the answers so far."""
    rules: dict[str, Callable[[], bool]] = {
        "relation": lambda: not data.get("prefilled_relation"),
        "country": lambda: data.get("region_kind") == "abroad",
        "origin": lambda: data.get("region_kind") == "china",
        "origin_pick": lambda: bool(data.get("origin_choices")),
        "origin_district": lambda: bool(data.get("origin_vague")),
        "origin_confirm": lambda: data.get("region_kind") == "china",
        "travel_pick": lambda: bool(data.get("travel_choices")),
        "travel_district": lambda: bool(data.get("travel_vague")),
        "travel_confirm": lambda: bool(data.get("travel")),
        "trip": lambda: data.get("transport") not in (None, "other"),
        "village": lambda: not data.get("prefilled_village"),
        "grid": lambda: not data.get("prefilled_grid"),
        "address": lambda: not data.get("prefilled_address"),
        "checkin_date": lambda: is_guest(data),
        "checkout_date": lambda: is_guest(data),
        "room": lambda: is_guest(data),
        "certificate": lambda: data.get("category") == "quarantine_done",
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


def first_question(data: Data) -> str:
    """The first question not answered by the prefill (a venue's QR code sets the relation)."""
    return FIRST_STEP if _applies(FIRST_STEP, data) else next_step(FIRST_STEP, data)


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
        return {"origin": None, "origin_confirm": None, "origin_vague": None, "back": "origin"}
    return {"origin_confirm": "yes"}


def _choose_travel_confirm(value: str, data: Data, ctx: Context) -> Updates:
    if value == "no":
        return {"travel": [], "travel_choices": [], "travel_vague": [], "back": "travel"}
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
        return {"region_kind": value, "origin": None, "origin_confirm": None,
                "origin_choices": None, "origin_vague": None}  # fmt: skip
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
    "travel": lambda value, data, ctx: {"travel": [], "travel_choices": [], "travel_vague": []},
    "travel_pick": _choose_travel_pick,
    "origin_pick": _choose_origin_pick,
    "origin_district": _choose_origin_district,
    "travel_district": _choose_travel_district,
    "test_photo": lambda value, data, ctx: {"test_photo": None},
    "certificate": lambda value, data, ctx: {"certificate_photo": None},
    "symptoms": _choose_symptom,
    "companion_more": _choose_companion_more,
    "companions": _choose_companions,
    "companion_phone": lambda value, data, ctx: {
        "companion": {**(data.get("companion") or {}), "phone": None}
    },
    "village": _choose_village,
    "checkin_date": _choose_checkin,
    "checkout_date": _choose_checkout,
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
    if is_guest(data):
        missing += [key for key in ("checkin_date", "checkout_date", "room") if not data.get(key)]
        if stay_problem(data):
            missing.append("checkin_date")
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
        test_result=data.get("test_result") if data.get("test") == "yes" else None,
        # a worker's check of the release certificate, kept with the report (bot.actions.
        # certificates): a later re-assessment must not forget it
        certificate_checked=data.get("certificate_checked") is True,
    )
