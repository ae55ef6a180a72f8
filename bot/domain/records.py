"""Plain records passed between handlers, domain and storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any


@dataclass(frozen=True)
class PersonRecord:
    name: str
    phone: str | None
    id_kind: str | None  # "id" | "passport" | None
    id_number: str | None


@dataclass(frozen=True)
class ReportRecord:
    """A submitted arrival report, ready to store."""

    draft_token: str
    reporter_user_id: int
    reporter_chat_id: int
    locale: str
    relation: str
    village_id: str
    grid_id: str
    address: str
    arrival_date: date
    category: str
    risk: str
    alert: bool
    measure_kind: str
    measure_start: date
    measure_end: date
    data: dict[str, Any]
    people: tuple[PersonRecord, ...]  # the main person first, then companions
    unit_id: str | None = None  # the key unit or venue it was made for (issue 13)

    @property
    def main(self) -> PersonRecord:
        return self.people[0]


@dataclass(frozen=True)
class StoredReport:
    id: int
    ref: str
    updated: bool  # True when an open report of the same person was updated instead
    version: int
    companion_of: str | None = None  # the report that already lists him as a companion
    conflicts: tuple[str, ...] = ()  # reports that look like him but disagree: for the worker


# --- is a newly reported person one already registered? --------------------------------

SAME = "same"
DIFFERENT = "different"
CONFLICT = "conflict"  # alike, but the ID number or the name disagrees: keep both, flag


def same_person(new: PersonRecord, old: PersonRecord) -> str:
    """An ID number on both sides decides: the same number and name is the same person, a
    different number is never the same person, whatever the name and phone. Without one, the
    same name and phone is. Where the evidence disagrees (the same name and phone with another
    number, the same number with another name) nobody may be overwritten: ``CONFLICT``."""
    alike = new.name == old.name and new.phone is not None and new.phone == old.phone
    if new.id_number and old.id_number:
        if new.id_number.upper() != old.id_number.upper():
            return CONFLICT if alike else DIFFERENT
        return SAME if new.name == old.name else CONFLICT
    return SAME if alike else DIFFERENT


def merged(new: PersonRecord, old: PersonRecord) -> PersonRecord:
    """The same person reported again: the new facts, but an ID number given before is not
    dropped by a report that left it out."""
    if new.id_number or not old.id_number:
        return new
    return replace(new, id_kind=old.id_kind, id_number=old.id_number)


@dataclass(frozen=True)
class Registered:
    """A person in an open report: which report, and as whom (idx 0: its main person)."""

    report_id: int
    ref: str
    idx: int
    person: PersonRecord


@dataclass(frozen=True)
class Identified:
    """Where a newly reported person already is: his own report (to update), a report that
    lists him as a companion (to link), and look-alikes the worker must check."""

    own: Registered | None = None
    companion: Registered | None = None
    conflicts: tuple[str, ...] = ()


def identify(new: PersonRecord, registered: Sequence[Registered]) -> Identified:
    """``registered``: the candidates, newest report first. His own newest report wins; else
    the newest that lists him as a companion; every look-alike (``CONFLICT``) in another
    report is named for the worker, never merged."""
    verdicts = [(r, same_person(new, r.person)) for r in registered]
    same = [r for r, verdict in verdicts if verdict == SAME]
    own = next((r for r in same if r.idx == 0), None)
    companion = None if own else next(iter(same), None)
    found = own or companion
    conflicts = [r.ref for r, verdict in verdicts if verdict == CONFLICT]
    return Identified(own, companion, tuple(dict.fromkeys(
        ref for ref in conflicts if found is None or ref != found.ref)))  # fmt: skip
