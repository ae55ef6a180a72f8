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

from bot.domain.places import Place, more_precise, place_within
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
    # A positive nucleic-acid test: to the fever clinic at once (medical care), whatever
    # else applies; a suspected case is opened with it (bot.actions.cases).
    "positive": "symptomatic",
    "fever": "symptomatic",
    "symptoms": "symptomatic",
    "overseas": "overseas",
    # "quarantine done" by the resident's word: key control until a worker saw the
    # quarantine-release certificate (解除隔离证明).
    "certificate_pending": "overseas",
    "region_high": "high_risk",
    "code_red": "red_code",
    "region_medium": "medium_risk",
    # A place answered as a city or province while a key region lies inside it, and the
    # resident could not say the district: maybe from the region, for a worker to check.
    "region_possible": "medium_risk",
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
    test_result: str | None = None  # "negative" | "positive" | "pending" | None
    certificate_checked: bool = False  # a worker saw the quarantine-release certificate


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

    @property
    def positive(self) -> bool:
        """A positive test: a suspected case is opened, pending a human's confirmation."""
        return any(r.code == "positive" for r in self.reasons)

    @property
    def certificate_pending(self) -> bool:
        return any(r.code == "certificate_pending" for r in self.reasons)


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


def regions_inside(
    place: Place, regions: Iterable[Region], first: date, last: date
) -> tuple[Region, ...]:
    """Regions in force at some time in ``[first, last]`` lying strictly inside ``place``
    (江汉区 listed, 湖北省 武汉市 answered): the answer is too vague to rule them out."""
    return tuple(
        region
        for region in regions
        if region.active_between(first, last)
        and more_precise(Place(region.province, region.city, region.district), place)
    )


def assess(
    facts: RiskFacts,
    regions: Iterable[Region],
    measures: Mapping[str, MeasureLike],
    lookback_days: int = 14,
    as_of: date | None = None,
) -> Assessment:
    """Every reason that applies to ``facts``, assessed on ``as_of`` (default: the arrival
    date). A region counts when it was in force at some time from ``lookback_days`` before
    the arrival to the later of the arrival and ``as_of``: one listed today reaches those
    who came from there in the days before it was listed."""
    missing = [c for c in RISK_CATEGORIES if c not in measures]
    if missing:
        raise ValueError(f"no measure configured for: {', '.join(missing)}")

    reasons: list[Reason] = []
    if facts.test_result == "positive":
        reasons.append(Reason("positive"))
    temperature = facts.temperature
    if temperature is not None and math.isfinite(temperature) and temperature >= FEVER_THRESHOLD:
        reasons.append(Reason("fever", (("temperature", temperature),)))
    if facts.symptoms:
        names = tuple(sorted(facts.symptoms, key=_symptom_order))
        reasons.append(Reason("symptoms", (("names", names),)))
    # Someone who finished the quarantine at the first port of entry and then drove back
    # (第一入境地隔离期满后自驾返津) came from abroad too: the plan keeps every arrival from
    # abroad under key control and has them filed (备案). Served quarantine lowers the measure
    # only once a worker saw the release certificate, never on the resident's word alone.
    certified = facts.quarantine_done and facts.certificate_checked
    if (facts.overseas or facts.quarantine_done) and not certified:
        reasons.append(Reason("overseas"))
    if facts.quarantine_done and not certified:
        reasons.append(Reason("certificate_pending"))

    try:
        first = facts.arrival_date - timedelta(days=max(lookback_days, 0))
    except OverflowError:
        first = date.min
    last = max(facts.arrival_date, as_of or facts.arrival_date)
    regions = tuple(regions)
    matched = matching_regions(_places(facts), regions, first, last)
    region_reasons: dict[str, list[Reason]] = {"high": [], "medium": []}
    for region in matched:
        reason = Reason(f"region_{region.risk}", (("place", region.label()), ("risk", region.risk)))
        if reason not in region_reasons[region.risk]:  # one region listed twice
            region_reasons[region.risk].append(reason)
    reasons.extend(region_reasons["high"])
    if facts.health_code == "red":
        reasons.append(Reason("code_red"))
    reasons.extend(region_reasons["medium"])
    reasons.extend(
        Reason("region_possible", (("place", place.label()),))
        for place in dict.fromkeys(_places(facts))
        if regions_inside(place, regions, first, last)
    )
    if facts.health_code == "yellow":
        reasons.append(Reason("code_yellow"))
    if certified:
        reasons.append(Reason("quarantine_done"))

    applied = [c for c in RISK_CATEGORIES if any(r.category == c for r in reasons)]
    category = applied[0] if applied else "low"
    measure = measures[category]
    # These alert whatever the configured measure says: a human must act on them.
    forced = any(r.code in ("positive", "certificate_pending", "region_possible") for r in reasons)
    alert = forced or bool(measure.alert) or any(measures[c].alert for c in applied)
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
