"""Places in China named by residents ("武汉江汉区", "重庆江津"), resolved with cpca."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

import cpca

from bot.domain.invalid import Invalid
from bot.domain.parsing import clean

PLACE_LIMIT = 60
PLACES_LIMIT = 300
MAX_PLACES = 10
_NONE_ANSWERS = frozenset({"无", "没有", "none", "no", "没", "无。", "没有。"})
_SEPARATORS = re.compile(r"[,，、;；]")
# cpca fills the city column with these placeholders for a municipality's districts and
# for county-level cities directly under a province; they are not cities to show or match.
_NOT_A_CITY = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


@dataclass(frozen=True)
class Place:
    province: str
    city: str | None
    district: str | None

    def label(self) -> str:
        return " ".join(part for part in (self.province, self.city, self.district) if part)


def _field(value: object) -> str | None:
    """cpca gives None or NaN (a float) for an unknown level."""
    return value if isinstance(value, str) and value else None


@lru_cache(maxsize=4096)
def _lookup(text: str) -> Place | None:
    try:
        row = cpca.transform([text]).iloc[0]
    except Exception:  # a third-party parser must never take the conversation down
        return None
    province = _field(row["省"])
    if province is None:
        return None
    city = _field(row["市"])
    return Place(province, None if city in _NOT_A_CITY else city, _field(row["区"]))


def parse_place(text: str) -> Place | Invalid:
    cleaned = clean(text, PLACE_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    place = _lookup(cleaned) if cleaned else None
    return place if place is not None else Invalid("place_unknown")


def _split_spaced(chunk: str) -> list[Place] | None:
    """ "武汉 广州" is two places but "四川 成都" is one: split on spaces only when every
    word is a place and none lies inside the word before it."""
    words = chunk.split()
    if len(words) < 2:
        return None
    places = [_lookup(word) for word in words]
    if any(p is None for p in places):
        return None
    resolved = [p for p in places if p is not None]
    for before, after in itertools.pairwise(resolved):
        if place_within(after, before.province, before.city, before.district):
            return None
    return resolved


def _parse_chunk(chunk: str) -> list[Place] | Invalid:
    spaced = _split_spaced(chunk)
    if spaced is not None:
        return spaced
    place = _lookup(chunk)
    if place is None:
        return Invalid("place_unknown", {"text": chunk})
    return [place]


def parse_places(text: str) -> list[Place] | Invalid:
    """A list of places separated by commas, 顿号 or semicolons; "无" means none."""
    cleaned = clean(text, PLACES_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    if cleaned.lower() in _NONE_ANSWERS:
        return []
    places: list[Place] = []
    for chunk in filter(None, (c.strip() for c in _SEPARATORS.split(cleaned))):
        parsed = _parse_chunk(chunk)
        if isinstance(parsed, Invalid):
            return parsed
        places.extend(p for p in parsed if p not in places)
        if len(places) > MAX_PLACES:
            return Invalid("places_too_many", {"limit": MAX_PLACES})
    if not places:
        return Invalid("place_unknown", {"text": cleaned})
    return places


def place_within(
    inner: Place, outer_province: str, outer_city: str | None, outer_district: str | None
) -> bool:
    """True when ``inner`` lies in the region; a less precise ``inner`` is not inside."""
    if inner.province != outer_province:
        return False
    if outer_city is not None and inner.city != outer_city:
        return False
    return outer_district is None or inner.district == outer_district
