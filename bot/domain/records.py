"""Plain records passed between handlers, domain and storage."""

from __future__ import annotations

from dataclasses import dataclass
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

    @property
    def main(self) -> PersonRecord:
        return self.people[0]


@dataclass(frozen=True)
class StoredReport:
    id: int
    ref: str
    updated: bool  # True when an open report of the same person was updated instead
    version: int
