"""Close contacts (密切接触者) and secondary contacts (次密接) of a case: who they are, how they
were exposed, and the measure that follows (plan point 3: 密切接触者……集中隔离医学观察).

Pure: no telegram, no SQL.

- A person is one contact however many cases exposed them: found again by ID number first,
  then name + phone, among the contacts and then the arrivals (``pick``).
- Exposed again: the stronger kind and the later last exposure win (``merged``); the measure
  is raised, never lowered (``raised``).
- The measure runs from the day after the last exposure (``measure_plan``): 14 days of
  centralised isolation by default (``[measures.close_contact]``, ``[measures.secondary_contact]``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.domain.invalid import Invalid
from bot.domain.parsing import (
    DASHES,
    clean,
    parse_address,
    parse_date,
    parse_id_number,
    parse_name,
    parse_passport,
    parse_phone,
    parse_text,
)
from bot.domain.records import SAME, PersonRecord, same_person
from bot.domain.risk import MeasureLike, MeasurePlan, plan_measure
from bot.domain.steps import Data, Lookup, Step, Updates, fixed_choices, store_answer

CALLBACK = "mj"  # a case's contact buttons: v1:mj:<case id>:<add | list | done>
KINDS = ("close", "secondary")  # 密切接触者, 次密接: the stronger first
SOURCES = ("staff", "import")
# The config's measure of each kind: [measures.close_contact], [measures.secondary_contact].
MEASURES = {"close": "close_contact", "secondary": "secondary_contact"}
# What happened to one entry: a new person, a known person whose measure was raised, a known
# contact already under at least this measure (the case linked to them), or a reference
# number that names nobody.
ADDED, UPGRADED, LINKED, NOT_FOUND = "added", "upgraded", "linked", "not_found"

EXPOSURE_MAX_DAYS = 21  # a last exposure longer ago is past any observation period
EXPOSURE_LIMIT = 100
NOTE_LIMIT = 200
REF_LIMIT = 40


@dataclass(frozen=True)
class NewContact:
    """One contact as entered by staff or read from a CDC list's row, already validated.
    ``ref``: the reference number of a known arrival, companion or contact it names instead
    of new personal data (then the person fields may be empty and are taken from that record);
    ``member``: which person of an arrival report (0 the reporter, then the companions).
    """

    kind: str  # one of KINDS
    last_exposure: date
    name: str = ""
    phone: str | None = None
    id_kind: str | None = None  # "id" | "passport" | None
    id_number: str | None = None
    address: str = ""
    village_id: str = ""
    grid_id: str = ""
    exposure: str | None = None  # how exposed, free text
    note: str | None = None
    ref: str | None = None
    member: int = 0

    @property
    def person(self) -> PersonRecord:
        return PersonRecord(self.name, self.phone, self.id_kind, self.id_number)


# --- kinds, exposures and measures ----------------------------------------------------------


def stronger(a: str, b: str) -> str:
    """The closer of two kinds of contact: a close contact stays one whatever else they are."""
    return a if KINDS.index(a) <= KINDS.index(b) else b


def merged(kind: str, last: date, new_kind: str, new_last: date) -> tuple[str, date]:
    """A person exposed again: the stronger kind, the later last exposure."""
    return stronger(kind, new_kind), max(last, new_last)


def measure_plan(measure: MeasureLike, last_exposure: date) -> MeasurePlan:
    """The measure of a contact: day 1 is the day after the last exposure, so a 14-day
    isolation ends 14 days after it."""
    return plan_measure(measure, last_exposure + timedelta(days=1))


# How closely a measure holds a person. Medical care outranks a site's isolation here: a
# person at the clinic stays there, the isolation follows.
_RANK = {"self_monitoring": 0, "home_monitoring": 1, "home_observation": 2,
         "centralized_isolation": 3, "medical_care": 4}  # fmt: skip


@dataclass(frozen=True)
class Held:
    """A measure a person is under: its kind and its days (local dates, inclusive)."""

    kind: str
    start: date
    end: date


def raised(current: Held | None, new: Held) -> Held:
    """The measure of someone already under ``current`` who is given ``new``: the stricter
    kind (an unknown kind counts for nothing), counted from the latest exposure — an
    isolation runs 14 days from the last exposure and its tests from its own day 1, so a
    period is never stretched back over an earlier start (the tests of day 7 and 14 would
    fall before the exposure's). ``current`` stays as it is only when it is at least as
    strict and lasts at least as long."""
    if current is None:
        return new
    keep = _RANK.get(current.kind, -1) >= _RANK.get(new.kind, -1)
    if keep and current.end >= new.end:
        return current
    return Held(current.kind if keep else new.kind, new.start, new.end)


ENDED = ("released", "closed")  # a contact's states once their measure is over


def afresh(state: str, current: Held, new: Held) -> bool:
    """Does a known contact exposed again start over under the new measure alone? Yes once
    their measure is over — released or closed, or (traced, not in a stay) ended before the
    new one begins — so it is never merged across the gap; no while it runs (the new one
    begins by the day after it ends) or while they are isolated: it is raised (``raised``)."""
    gap = new.start > current.end + timedelta(days=1)
    return state in ENDED or (state == "traced" and gap)


@dataclass(frozen=True)
class Chain:
    """How far a case's contacts are along the chain (the group's case card)."""

    traced: int
    isolated: int
    tested: int
    transfer: int  # waiting for a transfer under way
    unplaced: int = 0  # traced for centralised isolation, holding no room yet: nobody acted


# --- the same person ----------------------------------------------------------------------

CONTACT, PERSON = "contact", "person"


@dataclass(frozen=True)
class Known:
    """Someone already on record: a contact (``where`` CONTACT, ``id`` its row) or a person of
    an arrival report (PERSON, ``id`` the report, ``idx`` the person's place in it)."""

    where: str
    id: int
    person: PersonRecord
    idx: int = 0


def pick(new: PersonRecord, known: Sequence[Known]) -> Known | None:
    """Who of ``known`` the new contact is: a match by ID number before one by name and phone,
    a contact before an arrival's person; None when nobody is the same person (a look-alike
    with another ID number is not)."""
    same = [k for k in known if same_person(new, k.person) == SAME]
    by_id = [k for k in same if new.id_number and k.person.id_number]
    for group in (by_id, same):
        for where in (CONTACT, PERSON):
            found = next((k for k in group if k.where == where), None)
            if found is not None:
                return found
    return None


# --- parsers ----------------------------------------------------------------------------

_REF = re.compile(r"([A-Z]{1,6}?)-?(?:(MJ)-?)?([0-9]{8})-?([0-9]{4})")


def parse_ref(text: str) -> str | Invalid:
    """The reference number of an arrival report (``XF-20201026-0042``) or a contact
    (``XF-MJ-20201120-0001``), as typed: any case, spaces, other dashes or none. Returns the
    canonical form."""
    cleaned = clean(text, REF_LIMIT)
    if isinstance(cleaned, Invalid):
        return Invalid("contact_ref_format")
    squeezed = "".join(cleaned.split()).upper().translate(DASHES)
    match = _REF.fullmatch(squeezed)
    if not match:
        return Invalid("contact_ref_format")
    code, contact, day, number = match.groups()
    try:
        date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        return Invalid("contact_ref_format")
    return "-".join(p for p in (code, contact, day, number) if p)


def is_contact_ref(ref: str) -> bool:
    return "-MJ-" in ref


_ID_LIKE = re.compile(r"[0-9]{14,}[0-9X]?")


def parse_identity(text: str, today: date) -> tuple[str, str] | Invalid:
    """An ID or passport number: (``"id"`` | ``"passport"``, the number). Digits of an ID's
    length are held to the ID number's rules (a mistyped ID is not taken for a passport)."""
    cleaned = clean(text, REF_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    squeezed = "".join(cleaned.split()).upper()
    if _ID_LIKE.fullmatch(squeezed):
        number = parse_id_number(squeezed, today)
        return number if isinstance(number, Invalid) else ("id", number)
    number = parse_passport(squeezed)
    return number if isinstance(number, Invalid) else ("passport", number)


# --- the conversation (bot/flows/contacts.py) -----------------------------------------------


@dataclass(frozen=True)
class Context:
    villages: Mapping[str, tuple[str, ...]]  # village id -> its grid ids, in config order
    today: date  # local: last exposures are typed in the town's days


def _person_text(text: str, data: Data, ctx: Context) -> Lookup | Invalid:
    """A reference number; the flow looks it up (within the tracer's scope)."""
    ref = parse_ref(text)
    return ref if isinstance(ref, Invalid) else Lookup("ref", ref)


def _id_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    found = parse_identity(text, ctx.today)
    return found if isinstance(found, Invalid) else {"id_kind": found[0], "id_number": found[1]}


def _exposure_date_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    day = parse_date(text, ctx.today, EXPOSURE_MAX_DAYS)
    return day if isinstance(day, Invalid) else {"last_exposure": day.isoformat()}


def parse_exposure(text: str) -> str | Invalid:
    """How the contact was exposed: 同住, 同餐, 同车, 同一办公室 ..."""
    return parse_text(text, EXPOSURE_LIMIT)


def parse_note(text: str) -> str | Invalid:
    return parse_text(text, NOTE_LIMIT)


def _members(data: Data, ctx: Context) -> tuple[str, ...]:
    return tuple(str(i) for i in range(len(data.get("members") or ())))


STEPS: dict[str, Step] = {
    step.key: step
    for step in (
        Step("person", choices=fixed_choices(("new",)), text=_person_text),
        Step("member", choices=_members),
        Step("name", text=store_answer("name", parse_name)),
        Step("phone", choices=fixed_choices(("skip",)), text=store_answer("phone", parse_phone)),
        Step("id_number", choices=fixed_choices(("skip",)), text=_id_text),
        Step("village", choices=lambda data, ctx: tuple(ctx.villages)),
        Step("grid", choices=lambda data, ctx: ctx.villages.get(data.get("village") or "", ())),
        Step("address", text=store_answer("address", parse_address)),
        Step("kind", choices=fixed_choices(KINDS), per_row=2),
        Step(
            "last_exposure",
            choices=fixed_choices(("today", "yesterday")),
            text=_exposure_date_text,
            per_row=2,
        ),
        Step("exposure", text=store_answer("exposure", parse_exposure)),
        Step("note", choices=fixed_choices(("skip",)), text=store_answer("note", parse_note)),
        Step("summary", choices=fixed_choices(("submit", "cancel")), per_row=2),
    )
}
ORDER = tuple(STEPS)
FIRST_STEP = "person"
_WHO = frozenset({"name", "phone", "id_number", "village", "grid", "address"})


def next_step(current: str, data: Data) -> str:
    """The question after ``current``: a person named by a reference number skips who and
    where (the record's); the member question only for a report of several people."""
    for key in ORDER[ORDER.index(current) + 1 :]:
        if key == "member" and len(data.get("members") or ()) < 2:
            continue
        if data.get("ref") and key in _WHO:
            continue
        return key
    return "summary"


def advance(step_key: str, updates: Updates, data: Data) -> tuple[str, Data]:
    merged_data = {**data, **updates}
    return next_step(step_key, merged_data), merged_data


def apply_choice(step: Step, value: str, data: Data, ctx: Context) -> Updates | Invalid:
    """A pressed button: its value must be one this step offers right now."""
    if step.choices is None or value not in step.choices(data, ctx):
        return Invalid("choice_stale")
    if step.key == "person":  # a new person: forget one named by a reference number
        return {"ref": None, "members": None, "member": 0, "ref_name": None}
    if step.key == "member":
        return {"member": int(value), "ref_name": data["members"][int(value)]}
    if step.key in ("phone", "note"):
        return {step.key: None}
    if step.key == "id_number":
        return {"id_kind": None, "id_number": None}
    if step.key == "village":
        return {"village": value, "grid": None}
    if step.key == "last_exposure":
        back = 0 if value == "today" else 1
        return {"last_exposure": (ctx.today - timedelta(days=back)).isoformat()}
    return {step.key: value}


def missing_for_submit(data: Data, ctx: Context) -> str | None:
    """The first step whose answer a draft lacks (a restored or stale draft), else None."""
    if not data.get("ref"):
        for key in ("name", "village", "grid", "address"):
            if not data.get(key):
                return key
        if data["grid"] not in ctx.villages.get(data["village"], ()):
            return "village"
    for key in ("kind", "last_exposure", "exposure"):
        if not data.get(key):
            return key
    return "kind" if data["kind"] not in KINDS else None


def entry(data: Data) -> NewContact:
    """The flow's answers as one contact (``missing_for_submit`` found none lacking)."""
    who: dict[str, Any] = (
        {"ref": data["ref"], "member": data.get("member") or 0} if data.get("ref") else
        {"name": data["name"], "phone": data.get("phone"), "id_kind": data.get("id_kind"),
         "id_number": data.get("id_number"), "address": data["address"],
         "village_id": data["village"], "grid_id": data["grid"]}
    )  # fmt: skip
    return NewContact(kind=data["kind"], last_exposure=date.fromisoformat(data["last_exposure"]),
                      exposure=data.get("exposure"), note=data.get("note"), **who)  # fmt: skip
