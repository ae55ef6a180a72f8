"""Risk classification of an arrival and the measure it calls for (plan points 4 and 5).

``assess`` collects every reason that applies, so the receipt and the worker's card can
say all of them; the category is the most serious one (``RISK_CATEGORIES`` order) and
decides the measure. Pure: the measures come in as a mapping, the regions as values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from bot.domain.places import Place, place_within
from bot.domain.regions import Region

# Precedence order: the first that applies is the category; the last is the default.
RISK_CATEGORIES = (
    "symptomatic",
    "overseas",
    "high_risk",
    "red_code",
    "medium_risk",
    "yellow_code",
    "quarantine_done",
    "low",
)
MEASURE_KINDS = (
    "centralized_isolation",
    "home_observation",
    "home_monitoring",
    "medical_care",
    "self_monitoring",
)
FEVER_THRESHOLD = 37.3
SYMPTOMS = ("fever", "dry_cough", "fatigue", "sore_throat", "smell_taste", "diarrhoea")
HEALTH_CODES = ("green", "yellow", "red")

# Which category each reason code stands for.
REASON_CATEGORIES: Mapping[str, str] = {
    "fever": "symptomatic",
    "symptoms": "symptomatic",
    "overseas": "overseas",
    "region_high": "high_risk",
    "code_red": "red_code",
    "region_medium": "medium_risk",
    "code_yellow": "yellow_code",
    "quarantine_done": "quarantine_done",
}


class MeasureLike(Protocol):
    """What the domain needs of a configured measure (``bot.config.Measure`` fits)."""

    @property
    def kind(self) -> str: ...
    @property
    def days(self) -> int: ...
    @property
    def test_days(self) -> tuple[int, ...]: ...
    @property
    def alert(self) -> bool: ...


@dataclass(frozen=True)
class RiskFacts:
    overseas: bool  # arrived from abroad (plan: all overseas arrivals are key control)
    origin: Place | None  # None when overseas
    travel: tuple[Place, ...]  # places passed through in the last 14 days
    arrival_date: date
    health_code: str | None  # "green" | "yellow" | "red" | None
    temperature: float | None
    symptoms: frozenset[str]  # codes from SYMPTOMS ("none" never included)
    quarantine_done: bool  # self-driving back after first-entry quarantine ended


@dataclass(frozen=True)
class Reason:
    """``code`` names a macro in ``templates/<locale>/risk.j2``; ``params`` are its kwargs."""

    code: str
    params: tuple[tuple[str, object], ...] = ()

    @property
    def category(self) -> str:
        return REASON_CATEGORIES[self.code]


@dataclass(frozen=True)
class Assessment:
    category: str
    reasons: tuple[Reason, ...]  # most serious first
    alert: bool  # tell the leadership group at once
    measure: MeasureLike
    regions: tuple[Region, ...]  # the key regions the person came from or passed through


@dataclass(frozen=True)
class MeasurePlan:
    kind: str
    start: date
    end: date  # inclusive
    test_dates: tuple[date, ...]


def _symptom_order(code: str) -> tuple[int, str]:
    return (SYMPTOMS.index(code) if code in SYMPTOMS else len(SYMPTOMS), code)


def _places(facts: RiskFacts) -> tuple[Place, ...]:
    return ((facts.origin,) if facts.origin is not None else ()) + tuple(facts.travel)


def matching_regions(
    places: Iterable[Place], regions: Iterable[Region], first: date, last: date
) -> tuple[Region, ...]:
    """Regions in force at some time in ``[first, last]`` that contain one of ``places``;
    each region once, high risk before medium, otherwise in the file's order."""
    places = tuple(places)
    found: list[Region] = []
    for region in regions:
        if region in found or not region.active_between(first, last):
            continue
        if any(place_within(p, region.province, region.city, region.district) for p in places):
            found.append(region)
    return tuple(sorted(found, key=lambda r: r.risk != "high"))


def assess(
    facts: RiskFacts,
    regions: Iterable[Region],
    measures: Mapping[str, MeasureLike],
    lookback_days: int = 14,
) -> Assessment:
    missing = [c for c in RISK_CATEGORIES if c not in measures]
    if missing:
        raise ValueError(f"no measure configured for: {', '.join(missing)}")

    reasons: list[Reason] = []
    temperature = facts.temperature
    if temperature is not None and math.isfinite(temperature) and temperature >= FEVER_THRESHOLD:
        reasons.append(Reason("fever", (("temperature", temperature),)))
    if facts.symptoms:
        names = tuple(sorted(facts.symptoms, key=_symptom_order))
        reasons.append(Reason("symptoms", (("names", names),)))
    # Someone who finished the quarantine at the first port of entry and then drove back
    # (第一入境地隔离期满后自驾返津) came from abroad too, but has served the overseas
    # measure already: the plan has them recorded (备案), not isolated again.
    if facts.overseas and not facts.quarantine_done:
        reasons.append(Reason("overseas"))

    try:
        first = facts.arrival_date - timedelta(days=max(lookback_days, 0))
    except OverflowError:
        first = date.min
    matched = matching_regions(_places(facts), regions, first, facts.arrival_date)
    region_reasons: dict[str, list[Reason]] = {"high": [], "medium": []}
    for region in matched:
        reason = Reason(f"region_{region.risk}", (("place", region.label()), ("risk", region.risk)))
        if reason not in region_reasons[region.risk]:  # one region listed twice
            region_reasons[region.risk].append(reason)
    reasons.extend(region_reasons["high"])
    if facts.health_code == "red":
        reasons.append(Reason("code_red"))
    reasons.extend(region_reasons["medium"])
    if facts.health_code == "yellow":
        reasons.append(Reason("code_yellow"))
    if facts.quarantine_done:
        reasons.append(Reason("quarantine_done"))

    applied = [c for c in RISK_CATEGORIES if any(r.category == c for r in reasons)]
    category = applied[0] if applied else "low"
    measure = measures[category]
    alert = bool(measure.alert) or any(measures[c].alert for c in applied)
    return Assessment(category, tuple(reasons), alert, measure, matched)


def plan_measure(measure: MeasureLike, start: date) -> MeasurePlan:
    """Dates of a measure begun on ``start`` (day 1); test day n is ``start + n - 1``.

    Test days outside ``1..days`` are left out (config validation refuses them anyway).
    """
    days = max(measure.days, 0)
    end = start + timedelta(days=days - 1) if days else start
    test_dates = tuple(
        start + timedelta(days=n - 1) for n in sorted(set(measure.test_days)) if 1 <= n <= days
    )
    return MeasurePlan(measure.kind, start, end, test_dates)
