"""Neighbour tips (邻里监督提供线索): the tip conversation as steps, its parsers, the deadline,
and the staff's view of a tip.

Pure: no telegram, no SQL. Anonymity is structural: ``TipView`` — the only shape in which a
tip reaches a staff message — has no field for the tipster, so no staff template can show one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_address, parse_date, parse_name, parse_phone, parse_text
from bot.domain.roles import Actor, VillageOf, can_verify
from bot.domain.steps import OTHER, Step, fixed_choices, store_answer

KINDS = ("unregistered", "symptoms", "gathering", "venue", "other")
# 酒店、宾馆、民宿、日租房、农家乐 (the plan, point 3)
VENUES = ("hotel", "guesthouse", "bnb", "daily_rental", "farmstay")
# The person's relation to the place (not to the tipster: that would hint at who wrote).
RELATIONS = ("resident", "family", "tenant", "guest", "employee", "unknown")
SINCE = ("today", "yesterday", "unknown")
OUTCOMES = ("confirmed", "unfounded", "not_found")
CONFIRM_HOW = ("registered", "linked", "handled")
UNKNOWN_GRID = "none"

DESCRIPTION_LIMIT = 300
NOTE_LIMIT = 300
SINCE_MAX_DAYS = 60
MATCH_DAYS = 14  # a name matches registrations of the last 14 days
MAX_MATCHES = 3
ADDRESS_MATCH_MIN = 4  # shorter normalised addresses are too vague to match on

Data = dict[str, Any]
Updates = dict[str, Any]


# --- parsers ---------------------------------------------------------------------------

_PAYLOAD = re.compile(r"t-([A-Za-z0-9]{1,16})")


def parse_tip_payload(payload: str | None) -> str | None:
    """The place code of a tip poster's deep link (``/start t-XF01``, ``t-xf``), or None."""
    match = _PAYLOAD.fullmatch(payload or "")
    return match.group(1) if match else None


_ADDRESS_NOISE = re.compile(r"[\s,，.。、;；:：()（）\[\]【】\"'“”‘’#＃-]+")


def normalize_address(text: str) -> str:
    """An address reduced for substring matching: NFKC, no spaces or punctuation, upper case.
    ``先锋街 12号（2单元）301`` and ``先锋街12号2单元301`` normalise alike."""
    squeezed = _ADDRESS_NOISE.sub("", unicodedata.normalize("NFKC", text)).upper()
    return unicodedata.normalize("NFKC", squeezed)  # recompose what the removal split


def parse_description(text: str) -> str | Invalid:
    return parse_text(text, DESCRIPTION_LIMIT)


def parse_note(text: str) -> str | Invalid:
    return parse_text(text, NOTE_LIMIT)


# --- the tipster's messages ----------------------------------------------------------

_TIPSTER_KEY = re.compile(r"tip:[0-9]+:closed(?:#[0-9]+)?")  # "#n": a part of a split text


def tipster_key(tip_id: int) -> str:
    """The outbox dedup key of the message telling the tipster how their tip ended."""
    return f"tip:{tip_id}:closed"


def is_tipster_message(dedup_key: str | None) -> bool:
    """Whether an outbox message was an answer to a tipster: whether one can be reached is
    nobody's business (an alert about it would tell a worker who sent the tip)."""
    return dedup_key is not None and _TIPSTER_KEY.fullmatch(dedup_key) is not None


# --- deadlines and permissions -------------------------------------------------------


def deadline(kind: str, created: datetime, symptom_hours: float, other_hours: float) -> datetime:
    """A tip about fever or symptoms must be checked within 2 hours, any other within 12
    (the configured ``schedule.symptom_tip_deadline_hours`` / ``tip_deadline_hours``)."""
    hours = symptom_hours if kind == "symptoms" else other_hours
    return created + timedelta(hours=hours)


def can_check(actor: Actor, village_id: str, grid_id: str | None, village_of: VillageOf) -> bool:
    """Check (and close) a tip: the grid's staff and its village admins; a tip whose grid the
    tipster did not know, the village admins; admins anywhere."""
    if grid_id:
        return can_verify(actor, grid_id, village_of)
    return actor.is_admin or village_id in actor.admin_villages


# --- the staff's view ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TipContent:
    """What the tip says (never who sent it): the fields shared by the tip as it is stored
    (storage.tips.NewTip, which adds the tipster) and as staff see it (TipView)."""

    kind: str
    venue_kind: str | None
    person_name: str | None
    person_phone: str | None
    relation: str | None
    description: str | None
    village_id: str
    grid_id: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    since: str | None
    photo_file_id: str | None


@dataclass(frozen=True, kw_only=True)
class TipView(TipContent):
    """A tip as staff see it. Deliberately without any tipster field: build every staff-facing
    message from this, and the tipster's identity cannot reach a worker or a leader."""

    id: int
    ref: str
    state: str
    outcome: str | None
    report_id: int | None
    escalated_at: str | None
    created_at: str
    deadline_at: str
    handled_at: str | None

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TipView:
        return cls(**{name: row[name] for name in cls.columns()})

    @property
    def has_pin(self) -> bool:
        return self.latitude is not None and self.longitude is not None


assert not any("tipster" in name for name in TipView.columns())


# Why a registration matched, strongest first. A phone or a name is evidence about the person;
# an address only says someone at that address registered (fail safe: never shown as the person).
REASONS = ("phone", "name", "address")
PERSON_REASONS = ("phone", "name")


@dataclass(frozen=True)
class Match:
    """An arrival registration found for a tip, and why it matched (in ``REASONS`` order)."""

    report_id: int
    ref: str
    reasons: tuple[str, ...]

    @property
    def is_person(self) -> bool:
        """The phone or the name matched: possibly the person tipped about. Otherwise it is
        only a registration at the same address, which the worker must not take for them."""
        return any(reason in PERSON_REASONS for reason in self.reasons)


def ranked(found: Mapping[int, tuple[str, Collection[str]]]) -> list[Match]:
    """The matches to show (report id -> its ref and reasons): evidence about the person
    before mere addresses, then the most reasons, then the newest; at most ``MAX_MATCHES``."""
    matches = [Match(rid, ref, tuple(r for r in REASONS if r in reasons))
               for rid, (ref, reasons) in found.items()]  # fmt: skip
    matches.sort(key=lambda m: (not m.is_person, -len(m.reasons), -m.report_id))
    return matches[:MAX_MATCHES]


# --- the tip conversation ------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    today: date
    villages: Mapping[str, tuple[str, ...]]  # village id -> its grid ids, in config order


def _since_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    value = parse_date(text, ctx.today, SINCE_MAX_DAYS)
    return value if isinstance(value, Invalid) else {"since": value.isoformat()}


def _description_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return () if description_required(data) else ("skip",)


# A pin sent from the tip's place may be where the tipster stands (or lives): stored and
# shown to about 100 m (3 decimals of a degree), enough to find the place, not the door.
PIN_DECIMALS = 3


def location_answer(latitude: float, longitude: float) -> Updates:
    return {"latitude": round(latitude, PIN_DECIMALS), "longitude": round(longitude, PIN_DECIMALS)}


STEPS: dict[str, Step] = {
    step.key: step
    for step in (
        Step("kind", choices=fixed_choices(KINDS)),
        Step("venue", choices=fixed_choices(VENUES)),
        Step("village", choices=lambda data, ctx: tuple(ctx.villages)),
        Step("grid", choices=lambda data, ctx: (*ctx.villages.get(data.get("village") or "", ()),
                                                UNKNOWN_GRID)),
        Step("address", text=store_answer("address", parse_address), location=location_answer),
        Step("name", choices=fixed_choices(("skip",)), text=store_answer("name", parse_name)),
        Step("venue_name", choices=fixed_choices(("skip",)),
             text=store_answer("name", parse_description)),
        Step("phone", choices=fixed_choices(("skip",)), text=store_answer("phone", parse_phone),
             contact_of=lambda data: OTHER),
        Step("relation", choices=fixed_choices(RELATIONS), per_row=2),
        Step("description", choices=_description_choices,
             text=store_answer("description", parse_description)),
        Step("since", choices=fixed_choices(SINCE), text=_since_text, per_row=2),
        Step("photo", choices=fixed_choices(("skip",)), photo="photo_file_id"),
        Step("summary", choices=fixed_choices(("submit", "cancel")), per_row=2),
    )
}  # fmt: skip
ORDER = tuple(STEPS)
FIRST_STEP = "kind"
PERSON_KINDS = ("unregistered", "symptoms", "other")


def description_required(data: Data) -> bool:
    """A gathering or "other" tip says what it is about in words."""
    return data.get("kind") in ("gathering", "other")


def _applies(key: str, data: Data) -> bool:
    kind = data.get("kind")
    rules: dict[str, Callable[[], bool]] = {
        "venue": lambda: kind == "venue",
        "village": lambda: not data.get("prefilled_village"),
        "grid": lambda: not data.get("prefilled_grid"),
        "name": lambda: kind in PERSON_KINDS,
        "venue_name": lambda: kind == "venue",
        "phone": lambda: kind in PERSON_KINDS,
        "relation": lambda: kind in ("unregistered", "symptoms"),
    }
    rule = rules.get(key)
    return rule() if rule else True


def next_step(current: str, data: Data) -> str:
    position = ORDER.index(current)
    return next((k for k in ORDER[position + 1 :] if _applies(k, data)), "summary")


_SKIPPED = {"name": "name", "venue_name": "name", "phone": "phone",
            "description": "description", "photo": "photo_file_id"}  # fmt: skip


def apply_choice(step: Step, value: str, data: Data, ctx: Context) -> Updates | Invalid:
    """A pressed button: its value must be one this step offers right now."""
    if value not in step.values(data, ctx):
        return Invalid("choice_stale")
    if value == "skip" and step.key in _SKIPPED:
        return {_SKIPPED[step.key]: None}
    if step.key == "village":
        return {"village": value, "grid": None}
    if step.key == "grid":
        return {"grid": None if value == UNKNOWN_GRID else value}
    if step.key == "since":
        if value == "unknown":
            return {"since": None}
        days = 0 if value == "today" else 1
        return {"since": (ctx.today - timedelta(days=days)).isoformat()}
    if step.key == "venue":
        return {"venue_kind": value}
    return {step.key: value}


def advance(step: str, updates: Updates, data: Data) -> tuple[str, Data]:
    """Merge an accepted answer; the next question follows from the answers."""
    merged = {**data, **updates}
    if step == "kind":
        for key in ("venue_kind", "name", "phone", "relation"):
            merged.pop(key, None)
    return next_step(step, merged), merged


def missing_for_submit(data: Data, ctx: Context) -> str | None:
    """The first step a (restored or prefilled) draft still lacks."""
    if data.get("kind") not in KINDS:
        return "kind"
    if data["kind"] == "venue" and data.get("venue_kind") not in VENUES:
        return "venue"
    if data.get("village") not in ctx.villages:
        return "village"
    if data.get("grid") and data["grid"] not in ctx.villages[data["village"]]:
        return "grid"
    if not data.get("address") and data.get("latitude") is None:
        return "address"
    if description_required(data) and not data.get("description"):
        return "description"
    return None
