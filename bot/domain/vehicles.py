"""Transfer vehicles (转运车辆): their kinds and states, how a plate is written, and when a
vehicle may be dispatched. Pure: the rows are in storage.vehicles, the actions in
bot.actions.vehicles."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_name, parse_phone, parse_plate
from bot.domain.steps import Data, Lookup, Step, Updates, fixed_choices, store_answer

KINDS = ("negative_pressure", "transfer")  # 负压救护车, 转运车
AVAILABLE, DISPATCHED, DISINFECTING, OUT_OF_SERVICE = (
    "available", "dispatched", "disinfecting", "out_of_service")  # fmt: skip
STATES = (AVAILABLE, DISPATCHED, DISINFECTING, OUT_OF_SERVICE)
# The states an admin may set by hand: a dispatched vehicle changes only with its transfer.
SETTABLE = {AVAILABLE: (OUT_OF_SERVICE,), DISINFECTING: (OUT_OF_SERVICE,),
            OUT_OF_SERVICE: (AVAILABLE,)}  # fmt: skip
PROVINCE_AND_AREA = 2  # 渝A: the part a written plate separates with "·"


def plate(text: str) -> str | Invalid:
    """A plate as typed (渝A12345, 渝A·12345, 渝a 12345, new-energy 渝AD12345) in its written
    form, 渝A·12345; or why not."""
    parsed = parse_plate(text)
    return parsed if isinstance(parsed, Invalid) else written(parsed)


def written(plate: str) -> str:
    """渝A12345 -> 渝A·12345 (as painted on the plate)."""
    return f"{plate[:PROVINCE_AND_AREA]}·{plate[PROVINCE_AND_AREA:]}"


def dispatchable(state: str, available_at: datetime | None, now: datetime) -> bool:
    """May take a transfer now: on standby, or its disinfection after a delivery is over."""
    if state == AVAILABLE:
        return True
    return state == DISINFECTING and available_at is not None and available_at <= now


def disinfected_at(delivered_at: datetime, minutes: int) -> datetime:
    """When a vehicle that delivered at ``delivered_at`` is available again."""
    return delivered_at + timedelta(minutes=minutes)


def may_set(current: str, wanted: str) -> bool:
    """An admin's change of a vehicle's state by hand (out of service 停用, or back)."""
    return wanted in SETTABLE.get(current, ())


def back_in_service(available_at: datetime | None, now: datetime) -> str:
    """The state a vehicle put back on standby by hand is in: still disinfecting while its
    disinfection (kept through 停用) is not over — its timer frees it —, else available."""
    return DISINFECTING if available_at is not None and available_at > now else AVAILABLE


def chat_clashes(listed: list[tuple[str, str]], chat: list[tuple[str, str]]) -> list[str]:
    """Start-up problems, by the config's key path: a config vehicle (``listed``: id, plate
    in file order) with the id or the plate of a vehicle added in chat (``chat``)."""
    problems = []
    for i, (vehicle_id, plate) in enumerate(listed):
        for other_id, other_plate in chat:
            if other_id == vehicle_id:
                problems.append(f"vehicles[{i}].id: {vehicle_id} is the id of a vehicle added "
                                f"in chat ({other_plate}): give this one another id")  # fmt: skip
            elif other_plate == plate:
                problems.append(f"vehicles[{i}].plate: {plate} is vehicle {other_id}'s, added "
                                "in chat: remove it from the config (the bot has it already) "
                                "or correct the plate")  # fmt: skip
    return problems


# --- an admin's vehicle added in chat (bot.flows.transfers.VehicleFlow) -------------------

SKIP = "skip"  # the crew's name or phone not known yet
STEPS: dict[str, Step] = {
    step.key: step
    for step in (
        Step("plate", text=lambda text, data, ctx: _plate_lookup(text)),
        Step("kind", choices=fixed_choices(KINDS)),
        Step("crew_name", text=store_answer("crew_name", parse_name),
             choices=fixed_choices((SKIP,))),
        Step("crew_phone", text=store_answer("crew_phone", parse_phone),
             choices=fixed_choices((SKIP,))),
        Step("summary", choices=fixed_choices(("submit", "cancel")), per_row=2),
    )
}  # fmt: skip
FIRST_STEP = "plate"


def _plate_lookup(text: str) -> Lookup | Invalid:
    """A well-formed plate is looked up (another vehicle's is refused by the flow)."""
    written = plate(text)
    return written if isinstance(written, Invalid) else Lookup("plate", written)


ORDER = tuple(STEPS)


def apply_choice(step: Step, value: str, data: Data, ctx: object) -> Updates | Invalid:
    """A pressed button: the vehicle's kind, or "skip" for the crew's name or phone."""
    if value not in step.values(data, ctx):
        return Invalid("choice_stale")
    return {step.key: "" if value == SKIP else value}


def advance(step_key: str, updates: Updates, data: Data) -> tuple[str, Data]:
    """The questions in order, then the summary card."""
    position = ORDER.index(step_key) if step_key in ORDER else 0
    return ORDER[min(position + 1, len(ORDER) - 1)], {**data, **updates}


def missing_step(data: Data) -> str | None:
    """The first question a restored draft lacks an answer to (None: complete)."""
    return next((key for key in ORDER[:-1] if key not in data), None)


def next_id(taken: set[str]) -> str:
    """The id of a vehicle added in chat: ``VC01``, ``VC02`` … (vehicle, chat), the first
    free — never the config's V01, V02 … series, which the config may extend later."""
    number = 1
    while f"VC{number:02d}" in taken:
        number += 1
    return f"VC{number:02d}"
