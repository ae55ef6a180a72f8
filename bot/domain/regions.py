"""Key epidemic regions (重点地区) published by the town's command, and their validation.

The plan (point 4) names regions down to a city or a district/county, each high or medium
risk, for a period. ``parse_regions`` turns the loaded TOML of ``data/regions.toml`` into
``Region`` values and refuses a file with every problem listed by its key path, so an
operator can fix all of them in one go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

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


def parse_regions(data: dict[str, Any]) -> tuple[Region, ...]:
    """The loaded TOML of a regions file -> regions, or ``RegionsError`` listing every problem.

    Key paths count entries from 0 in file order: ``region[0]`` is the first ``[[region]]``.
    A file with no ``[[region]]`` at all is valid and means no key regions.
    """
    problems: list[str] = []
    for key in data:
        if key != "region":
            problems.append(f"{key}: unknown key (regions are [[region]] tables)")
    entries = data.get("region", [])
    if not isinstance(entries, list):
        problems.append("region: must be an array of tables ([[region]])")
        entries = []
    regions: list[Region] = []
    for index, entry in enumerate(entries):
        region = _parse_region(entry, f"region[{index}]", problems)
        if region is not None:
            regions.append(region)
    if problems:
        raise RegionsError(problems)
    return tuple(regions)
