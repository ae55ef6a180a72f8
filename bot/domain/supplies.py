"""Supplies (物资): the places stock is kept at, who keeps each, quantities as typed, and the
low-stock rule (one alert per crossing of the minimum, not one per movement). Pure: the rows
are in storage.supplies, the actions in bot.actions.supplies."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.domain.invalid import Invalid
from bot.domain.parsing import clean, parse_name, parse_text
from bot.domain.roles import Actor
from bot.domain.steps import Data, Step, Updates, fixed_choices

# A place: the town store, a village's (村/社区) store, an isolation site's.
TOWN, VILLAGE, SITE = "town", "v", "s"
MAX_QUANTITY = 1_000_000  # more in one movement is a typing slip, not a delivery
QUANTITY_LIMIT = 30  # characters typed for a quantity ("1,000 个" and the like)
NOTE_LIMIT = 200
MAX_LINES = 10  # items in one request

# The movements (supply_moves.kind) and the flows' short codes for them.
RECEIVE, ISSUE, COUNT = "receive", "issue", "count"
REQUEST = "request"  # a village's request (its flow's ``op``: a quantity asked, not moved)
OPS = {"r": RECEIVE, "i": ISSUE, "c": COUNT}

# What a movement did to the place's level (``level_after``).
LOW, RESTORED = "low", "restored"


def village_place(village_id: str) -> str:
    return f"{VILLAGE}:{village_id}"


def site_place(site_id: str) -> str:
    return f"{SITE}:{site_id}"


def split(place: str) -> tuple[str, str]:
    """``v:xf`` -> (``v``, ``xf``); ``town`` -> (``town``, ``""``); anything else -> ("", "")."""
    if place == TOWN:
        return TOWN, ""
    kind, _, ident = place.partition(":")
    return (kind, ident) if kind in (VILLAGE, SITE) and ident else ("", "")


def code(place: str) -> str:
    """The place as a part of callback data (which ``:`` separates): ``v:xf`` -> ``v.xf``."""
    return place.replace(":", ".", 1)


def from_code(text: str) -> str:
    """``v.xf`` -> ``v:xf`` (a place's callback part back)."""
    return text.replace(".", ":", 1)


# --- the low-stock rule ----------------------------------------------------------------------


def level_after(quantity: int, minimum: int, was_below: bool) -> tuple[bool, str | None]:
    """After a movement leaves ``quantity``: whether the place is below ``minimum`` now, and
    what to say — LOW when it has just crossed under (one alert), RESTORED when it is back at
    or above it, None while it stays on the same side (no alert for every movement)."""
    below = quantity < minimum
    if below == was_below:
        return below, None
    return below, LOW if below else RESTORED


def shortfalls(
    stock: Mapping[str, int], wanted: Iterable[tuple[str, int]]
) -> list[tuple[str, int, int]]:
    """(item, wanted, in stock) of each line the stock cannot cover; empty: all can be issued."""
    return [(item, n, stock.get(item, 0)) for item, n in wanted if stock.get(item, 0) < n]


def below_minimum(
    stock: Mapping[str, int], minimums: Mapping[str, int]
) -> list[tuple[str, int, int]]:
    """(item, quantity, minimum) of each item under its minimum (none kept counts as 0), in
    the order of ``minimums`` (the config's)."""
    return [(item, stock.get(item, 0), low) for item, low in minimums.items()
            if stock.get(item, 0) < low]  # fmt: skip


# --- who keeps what ------------------------------------------------------------------------


def can_keep(actor: Actor, place: str, town_keepers: frozenset[int]) -> bool:
    """Receive, issue and count at the place: its keepers — the town store's (``keepers`` in
    the config), a village's admins, a site's managers —, and the town's leaders and admins
    anywhere."""
    if actor.is_admin or actor.is_leader:
        return True
    kind, ident = split(place)
    if kind == TOWN:
        return actor.user_id in town_keepers
    if kind == VILLAGE:
        return ident in actor.admin_villages
    return kind == SITE and ident in actor.site_ids


def keeps_any(actor: Actor, town_keepers: frozenset[int]) -> bool:
    """Keeps some place's stock (may open /supplies)."""
    return bool(actor.is_admin or actor.is_leader or actor.admin_villages or actor.site_ids
                or actor.user_id in town_keepers)  # fmt: skip


def kept_places(actor: Actor, town_keepers: frozenset[int], places: Sequence[str]) -> list[str]:
    """The places of ``places`` (all of them, in order) whose stock the actor keeps."""
    return [place for place in places if can_keep(actor, place, town_keepers)]


def can_request(actor: Actor, place: str, town_keepers: frozenset[int]) -> bool:
    """Ask the town store for items: the keepers of a village (not the store itself)."""
    return split(place)[0] == VILLAGE and can_keep(actor, place, town_keepers)


# --- what is typed -------------------------------------------------------------------------

# digits (thousands separated or not), then at most a short unit word: "500", "1,000 个"
_QUANTITY = re.compile(r"(-?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*([^\d\s.,-]{0,4})")


def parse_quantity(text: str, *, zero: bool = False) -> int | Invalid:
    """A quantity as typed: full-width digits, thousands separators and a unit word ("500个",
    "１０００", "1,000 瓶") are fine; not a whole number, negative, 0 (unless ``zero``: a
    count may find none) or more than MAX_QUANTITY is refused with the reason."""
    cleaned = clean(text, QUANTITY_LIMIT)
    if isinstance(cleaned, Invalid):
        return Invalid("quantity_not_number")
    found = _QUANTITY.fullmatch(cleaned.replace("，", ","))
    if found is None:
        return Invalid("quantity_not_number")
    sign, digits, fraction, _ = found.groups()
    if fraction:
        return Invalid("quantity_not_whole")
    value = int(digits.replace(",", ""))
    if sign and value:
        return Invalid("quantity_negative")
    if value == 0 and not zero:
        return Invalid("quantity_zero")
    if value > MAX_QUANTITY:
        return Invalid("quantity_too_big", {"limit": MAX_QUANTITY})
    return value


def parse_note(text: str) -> str | Invalid:
    """A request's note or a refusal's reason (cleaned), or why not: empty, too long."""
    return parse_text(text, NOTE_LIMIT)


def add_line(lines: Sequence[Mapping[str, object]], item: str, quantity: int) -> list[dict]:
    """A request's lines with ``quantity`` of ``item`` added (to its line, if it has one)."""
    out = [dict(line) for line in lines]
    for line in out:
        if line["item"] == item:
            line["quantity"] = int(line["quantity"]) + quantity  # type: ignore[call-overload]
            return out
    return [*out, {"item": item, "quantity": quantity}]


# --- the conversations (bot.flows.supplies) ------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the step tables choose from: the config's item ids, in order."""

    items: tuple[str, ...]


PERSON = "person"  # 出库 to a person (by name) rather than to another place
SKIP, MORE, DONE = "skip", "more", "done"


def _items(data: Data, ctx: Context) -> tuple[str, ...]:
    return ctx.items


def _targets(data: Data, ctx: object) -> tuple[str, ...]:
    """Where stock may be issued to: every other place (their codes, as the flow started), or
    a person."""
    return (*data["targets"], PERSON)


def _quantity(text: str, data: Data, ctx: object) -> Updates | Invalid:
    value = parse_quantity(text, zero=data.get("op") == COUNT)
    return value if isinstance(value, Invalid) else {"quantity": value}


def _person(text: str, data: Data, ctx: object) -> Updates | Invalid:
    name = parse_name(text)
    return name if isinstance(name, Invalid) else {"person": name}


def _note(text: str, data: Data, ctx: object) -> Updates | Invalid:
    note = parse_note(text)
    return note if isinstance(note, Invalid) else {"note": note}


SUMMARY = Step("summary", choices=fixed_choices(("submit", "cancel")), per_row=2)


def _table(*steps: Step) -> dict[str, Step]:
    return {step.key: step for step in steps}


def _chosen(step: Step, value: str, data: Data, ctx: object) -> Updates | Invalid:
    if value not in step.values(data, ctx):
        return Invalid("choice_stale")
    return {step.key: value}


class MoveRules:
    """入库 / 出库 / 盘点 at one place (``data``: place, op): the item, the quantity (the
    counted quantity for a count), for an issue where to (a place, or a person by name)."""

    STEPS = _table(
        Step("item", choices=_items, per_row=2),
        Step("quantity", text=_quantity),
        Step("to", choices=_targets, per_row=2),
        Step("person", text=_person),
        SUMMARY,
    )
    FIRST_STEP = "item"
    apply_choice = staticmethod(_chosen)

    @staticmethod
    def advance(step_key: str, updates: Updates, data: Data) -> tuple[str, Data]:
        merged = {**data, **updates}
        if step_key == "item":
            return "quantity", merged
        if step_key == "quantity" and merged["op"] == ISSUE:
            return "to", merged
        if step_key == "to" and merged["to"] == PERSON:
            return "person", merged
        return "summary", merged


class RequestRules:
    """A village's request to the town store: lines of item and quantity (one at a time, "add
    another"), an optional note, then the summary card."""

    STEPS = _table(
        Step("item", choices=_items, per_row=2),
        Step("quantity", text=_quantity),
        Step("more", choices=lambda data, ctx: (MORE, DONE) if len(data["lines"]) < MAX_LINES
             else (DONE,), per_row=2),
        Step("note", text=_note, choices=fixed_choices((SKIP,))),
        SUMMARY,
    )  # fmt: skip
    FIRST_STEP = "item"

    @staticmethod
    def apply_choice(step: Step, value: str, data: Data, ctx: object) -> Updates | Invalid:
        chosen = _chosen(step, value, data, ctx)
        if isinstance(chosen, Invalid) or step.key != "note":
            return chosen
        return {"note": ""}

    @staticmethod
    def advance(step_key: str, updates: Updates, data: Data) -> tuple[str, Data]:
        merged = {**data, **updates}
        if step_key == "item":
            return "quantity", merged
        if step_key == "quantity":
            lines = add_line(merged["lines"], merged.pop("item"), merged.pop("quantity"))
            return "more", {**merged, "lines": lines}
        if step_key == "more":
            return ("item" if merged.pop("more") == MORE else "note"), merged
        return "summary", merged
