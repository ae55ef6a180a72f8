"""Key epidemic regions (重点地区) published by the town's command, and their validation.

The plan (point 4) names regions down to a city or a district/county, each high or medium
risk, for a period. ``parse_regions`` turns the loaded TOML of ``data/regions.toml`` into
``Region`` values and refuses a file with every problem listed by its key path, so an
operator can fix all of them in one go.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from bot.domain.invalid import Invalid
from bot.domain.parsing import clean, full_date, parse_date
from bot.domain.places import PLACE_LIMIT, Place, parse_place
from bot.domain.steps import Data, Step, Updates, fixed_choices

RISKS = ("high", "medium")
PROVINCE_SUFFIXES = ("省", "市", "自治区", "特别行政区")
# A prefecture-level unit: 市, 地区, 自治州, 盟.
CITY_SUFFIXES = ("市", "地区", "州", "盟")
# A county-level unit: 区, 县, 市, 旗 (also 自治县, 自治旗, 林区, 特区).
DISTRICT_SUFFIXES = ("区", "县", "市", "旗")
# The code list's placeholders in the city column (a municipality's 市辖区, a province's
# directly administered counties): never a city a resident's place carries.
PLACEHOLDER_CITIES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
REGION_KEYS = ("province", "city", "district", "risk", "from", "until")
_NAME_LIMIT = 40


class RegionsError(ValueError):
    """A regions file that cannot be used; ``problems`` has one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Region:
    province: str
    city: str | None
    district: str | None
    risk: Literal["high", "medium"]
    start: date
    until: date | None  # inclusive; None: until further notice

    def active_between(self, first: date, last: date) -> bool:
        """Whether the region's validity overlaps the window ``[first, last]`` (inclusive)."""
        return self.start <= last and (self.until is None or self.until >= first)

    def label(self) -> str:
        """Same form as ``Place.label``: the levels present, separated by spaces."""
        return " ".join(part for part in (self.province, self.city, self.district) if part)


def _name(
    entry: dict[str, Any],
    key: str,
    path: str,
    suffixes: tuple[str, ...],
    problems: list[str],
    *,
    required: bool,
) -> str | None:
    value = entry.get(key)
    if value is None:
        if required:
            problems.append(f"{path}.{key}: missing")
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{path}.{key}: must be a non-empty name in quotes")
        return None
    name = value.strip()
    if len(name) > _NAME_LIMIT or any(ch.isspace() for ch in name):
        problems.append(f"{path}.{key}: {name!r} is not a single administrative name")
        return None
    if not name.endswith(suffixes) or name in suffixes:
        wanted = " / ".join(suffixes)
        problems.append(
            f"{path}.{key}: {name!r} must be a full official name ending in {wanted}"
            f' (e.g. "山东省", "青岛市", "滨海新区")'
        )
        return None
    return name


def _date(
    entry: dict[str, Any], key: str, path: str, problems: list[str], *, required: bool
) -> date | None:
    value = entry.get(key)
    if value is None:
        if required:
            problems.append(f"{path}.{key}: missing")
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    elif isinstance(value, date) and not isinstance(value, datetime):
        return value
    problems.append(f"{path}.{key}: must be a date like 2020-10-26, got {value!r}")
    return None


def _city(entry: dict[str, Any], path: str, problems: list[str]) -> str | None:
    """The city; a code list's placeholder (市辖区, 县, ...) gets its own reason, before the
    generic one of a name without a city's suffix."""
    if entry.get("city") in PLACEHOLDER_CITIES:
        problems.append(
            f"{path}.city: {entry['city']!r} is not a city; leave city out and give the district"
        )
        return None
    return _name(entry, "city", path, CITY_SUFFIXES, problems, required=False)


def _parse_region(entry: object, path: str, problems: list[str]) -> Region | None:
    if not isinstance(entry, dict):
        problems.append(f"{path}: must be a table ([[region]])")
        return None
    before = len(problems)
    for key in entry:
        if key not in REGION_KEYS:
            allowed = ", ".join(REGION_KEYS)
            problems.append(f"{path}.{key}: unknown key (allowed: {allowed})")
    province = _name(entry, "province", path, PROVINCE_SUFFIXES, problems, required=True)
    city = _city(entry, path, problems)
    district = _name(entry, "district", path, DISTRICT_SUFFIXES, problems, required=False)
    risk = entry.get("risk")
    if risk is None:
        problems.append(f'{path}.risk: missing (must be "high" or "medium")')
    elif risk not in RISKS:
        problems.append(f'{path}.risk: must be "high" or "medium", got {risk!r}')
    start = _date(entry, "from", path, problems, required=True)
    until = _date(entry, "until", path, problems, required=False)
    if start is not None and until is not None and until < start:
        problems.append(f"{path}.until: {until.isoformat()} is before from {start.isoformat()}")
    if len(problems) > before or province is None or start is None:
        return None
    return Region(province, city, district, risk, start, until)  # type: ignore[arg-type]


def _smallest(place: Place) -> str:
    return place.district or place.city or place.province


def _unknown_place(region: Region, path: str) -> str | None:
    """Why ``region`` names no unit of the code list (a name that is no unit, or a unit not
    inside the one above it), with the official names where the text is close to one;
    None for a real unit. A region no resident's place can lie in would never match."""
    given = Place(region.province, region.city, region.district)
    found = parse_place(given.label())
    if found == given:
        return None
    problem = f'{path}: "{given.label()}" is not in the list of administrative divisions'
    if isinstance(found, Invalid) or not _smallest(found).startswith(_smallest(given)[:2]):
        return f"{problem} (check each name, and that it lies in the one above it)"
    keys = (("province", found.province), ("city", found.city), ("district", found.district))
    fields = ", ".join(f'{key} = "{name}"' for key, name in keys if name)
    return f"{problem}; did you mean {fields}?"


def _parse_list(data: dict[str, Any], problems: list[str]) -> list[tuple[str, Region]]:
    """Each well-formed region with its key path; a problem of form or type is listed."""
    for key in data:
        if key != "region":
            problems.append(f"{key}: unknown key (regions are [[region]] tables)")
    entries = data.get("region", [])
    if not isinstance(entries, list):
        problems.append("region: must be an array of tables ([[region]])")
        entries = []
    parsed = []
    for index, entry in enumerate(entries):
        region = _parse_region(entry, f"region[{index}]", problems)
        if region is not None:
            parsed.append((f"region[{index}]", region))
    return parsed


def parse_regions(data: dict[str, Any]) -> tuple[Region, ...]:
    """The loaded TOML of a regions file -> regions, or ``RegionsError`` listing every problem;
    every region must be a unit of the code list of administrative divisions.

    Key paths count entries from 0 in file order: ``region[0]`` is the first ``[[region]]``.
    A file with no ``[[region]]`` at all is valid and means no key regions.
    """
    return _read(data, official=True)


def _read(data: dict[str, Any], *, official: bool) -> tuple[Region, ...]:
    problems: list[str] = []
    parsed = _parse_list(data, problems)
    if official:
        problems.extend(p for path, region in parsed if (p := _unknown_place(region, path)))
    if problems:
        raise RegionsError(problems)
    return tuple(region for _, region in parsed)


# --- the list as data: snapshots, changes -------------------------------------------------


def region_to_dict(region: Region) -> dict[str, str]:
    """A region as a ``[[region]]`` table of the file (dates as ISO text): how a snapshot,
    a change and a draft store it; ``parse_regions`` reads it back."""
    entry = {"province": region.province, "city": region.city, "district": region.district,
             "risk": region.risk, "from": region.start.isoformat(),
             "until": region.until.isoformat() if region.until else None}  # fmt: skip
    return {key: value for key, value in entry.items() if value is not None}


def regions_to_json(regions: Iterable[Region]) -> str:
    return json.dumps([region_to_dict(r) for r in regions], ensure_ascii=False)


def regions_from_json(text: str) -> tuple[Region, ...]:
    """A list the bot stored: checked against the code list when it was read from the file,
    so a later code list cannot make a pending change unreadable."""
    return _read({"region": json.loads(text)}, official=False)


def diff_regions(
    old: Sequence[Region], new: Sequence[Region]
) -> tuple[tuple[Region, ...], tuple[Region, ...]]:
    """(added, removed): the regions listed now and not before, and before and not now. A
    region whose risk or dates changed is both: removed as it was, added as it is."""
    added = tuple(r for r in new if r not in old)
    removed = tuple(r for r in old if r not in new)
    return added, removed


Direction = Literal["up", "down", "same"]


def direction(old: str, new: str, ranked: Sequence[str]) -> Direction:
    """Whether a re-assessed category ``new`` is more serious than the stored ``old``, in the
    precedence order ``ranked`` (most serious first: ``risk.RISK_CATEGORIES``). A category
    not in the order cannot be compared: "down", so a person decides, never the bot alone."""
    if old == new:
        return "same"
    if old not in ranked or new not in ranked:
        return "down"
    return "up" if ranked.index(new) < ranked.index(old) else "down"


# --- one edit of the list, from the chat ----------------------------------------------------

EDIT_OPS = ("add", "change", "end")


@dataclass(frozen=True)
class Edit:
    """``add`` lists ``region``; ``change`` gives the listed ``region`` the risk ``risk``;
    ``end`` makes the listed ``region`` end on ``until``."""

    op: Literal["add", "change", "end"]
    region: Region
    risk: str | None = None
    until: date | None = None


def _same_place(a: Region, b: Region) -> bool:
    return (a.province, a.city, a.district) == (b.province, b.city, b.district)


def apply_edit(regions: Sequence[Region], edit: Edit) -> tuple[int | None, Region] | Invalid:
    """Where ``edit`` lands in ``regions`` (None: appended) and the region it leaves there;
    an ``Invalid`` when it cannot apply to this list (changed meanwhile, already so)."""
    if edit.op == "add":
        new = edit.region
        last = new.until or date.max
        if any(_same_place(r, new) and r.active_between(new.start, last) for r in regions):
            return Invalid("regions.region_listed", {"place": new.label()})
        return None, new
    if edit.region not in regions:
        return Invalid("regions.region_gone", {"place": edit.region.label()})
    index = list(regions).index(edit.region)
    if edit.op == "change":
        if edit.risk not in RISKS:
            return Invalid("choice_stale")
        if edit.risk == edit.region.risk:
            return Invalid("regions.risk_same", {"risk": edit.risk})
        return index, replace(edit.region, risk=edit.risk)  # type: ignore[arg-type]
    if edit.until is None:
        return Invalid("choice_stale")
    if edit.until < edit.region.start:
        return Invalid("regions.until_before_from", {"start": edit.region.start})
    return index, replace(edit.region, until=edit.until)


def edited(regions: Sequence[Region], edit: Edit) -> tuple[Region, ...] | Invalid:
    """The whole list after ``edit``."""
    landed = apply_edit(regions, edit)
    if isinstance(landed, Invalid):
        return landed
    index, region = landed
    if index is None:
        return (*regions, region)
    return (*regions[:index], region, *regions[index + 1 :])


# --- the /regions conversation ----------------------------------------------------------------

START_DAYS_BACK = 60  # a region listed with a start this long ago at most
_UNTIL_LIMIT = 20


@dataclass(frozen=True)
class Context:
    today: date
    regions: tuple[Region, ...]  # the list in force now, in the file's order


def _menu_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return ("add", "change", "end") if ctx.regions else ("add",)


def _pick_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return tuple(str(i) for i in range(len(ctx.regions)))


def _risk_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    current = (data.get("target") or {}).get("risk")
    return tuple(r for r in RISKS if r != current)


def _until_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return ("today", "yesterday") if data.get("op") == "end" else ("none",)


def _place_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    place = parse_place(text)
    if isinstance(place, Invalid):
        return Invalid("regions.place_unknown", {"text": text.strip()[:PLACE_LIMIT]})
    return {"place": {"province": place.province, "city": place.city,
                      "district": place.district}}  # fmt: skip


def _start_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    value = parse_date(text, ctx.today, START_DAYS_BACK)
    return value if isinstance(value, Invalid) else {"start": value.isoformat()}


def parse_until(text: str, start: date) -> date | Invalid:
    """The last day a region applies, typed as a full date (2020-12-31, 2020年12月31日, ...):
    it may lie ahead, but not before the region's start."""
    cleaned = clean(text, _UNTIL_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    value = full_date("".join(cleaned.split()))
    if value is None:
        return Invalid("regions.until_format")
    if isinstance(value, Invalid):
        return value
    if value < start:
        return Invalid("regions.until_before_from", {"start": start})
    return value


def _start_of(data: Data, ctx: Context) -> date:
    target = data.get("target")
    raw = target["from"] if target else data.get("start")
    return date.fromisoformat(raw) if raw else ctx.today


def _until_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    value = parse_until(text, _start_of(data, ctx))
    return value if isinstance(value, Invalid) else {"until": value.isoformat()}


STEPS: dict[str, Step] = {
    step.key: step
    for step in (
        Step("menu", choices=_menu_choices, per_row=3),
        Step("pick", choices=_pick_choices),
        Step("place", text=_place_text),
        Step("risk", choices=_risk_choices, per_row=2),
        Step("start", choices=fixed_choices(("today", "yesterday")), text=_start_text, per_row=2),
        Step("until", choices=_until_choices, text=_until_text, per_row=2),
        Step("summary", choices=fixed_choices(("submit", "cancel")), per_row=2),
    )
}
FIRST_STEP = "menu"
SEQUENCES = {
    "add": ("menu", "place", "risk", "start", "until", "summary"),
    "change": ("menu", "pick", "risk", "summary"),
    "end": ("menu", "pick", "until", "summary"),
}


def _choose_day(key: str, value: str, ctx: Context) -> Updates:
    days = 0 if value == "today" else 1
    return {key: (ctx.today - timedelta(days=days)).isoformat()}


def apply_choice(step: Step, value: str, data: Data, ctx: Context) -> Updates | Invalid:
    """A pressed button: its value must be one this step offers right now."""
    if step.choices is None or value not in step.choices(data, ctx):
        return Invalid("choice_stale")
    if step.key == "menu":
        return {"op": value, "target": None}
    if step.key == "pick":
        return {"target": region_to_dict(ctx.regions[int(value)])}
    if step.key == "start":
        return _choose_day("start", value, ctx)
    if step.key == "until":
        if value == "none":
            return {"until": None}
        until = _choose_day("until", value, ctx)
        if until["until"] < _start_of(data, ctx).isoformat():
            return Invalid("regions.until_before_from", {"start": _start_of(data, ctx)})
        return until
    return {step.key: value}


def advance(step_key: str, updates: Updates, data: Data) -> tuple[str, Data]:
    """Merge an accepted answer; the next question is the next of the chosen operation's."""
    merged = {**data, **updates}
    sequence = SEQUENCES.get(merged.get("op") or "", ("menu", "summary"))
    position = sequence.index(step_key) if step_key in sequence else 0
    return sequence[min(position + 1, len(sequence) - 1)], merged


def edit_of(data: Data) -> Edit | None:
    """The edit a finished draft asks for; None when a restored draft lacks an answer."""
    op = data.get("op")
    try:
        if op == "add":
            entry = {**data["place"], "risk": data["risk"], "from": data["start"]}
            if data.get("until"):
                entry["until"] = data["until"]
            return Edit("add", parse_regions({"region": [_present(entry)]})[0])
        target = parse_regions({"region": [data["target"]]})[0]
        if op == "change":
            return Edit("change", target, risk=data["risk"])
        if op == "end":
            return Edit("end", target, until=date.fromisoformat(data["until"]))
    except (KeyError, TypeError, ValueError):
        return None
    return None


def _present(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if value is not None}


def missing_step(data: Data) -> str | None:
    """Where a draft that cannot make an edit goes back to on submit (else None)."""
    return None if edit_of(data) is not None else FIRST_STEP
