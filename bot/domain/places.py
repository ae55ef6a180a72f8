"""Places in China named by residents ("武汉江汉区", "重庆江津"), resolved against the code list.

``divisions.py`` (made by ``bin/divisions.py``) lists every province, city and county-level
unit by its 6-digit code, and former names with their successors. A unit is found by its
full name or its short form (武汉市 -> 武汉, 江津区 -> 江津, 恩施土家族苗族自治州 -> 恩施 / 恩施州).
Every reading of the text as a chain of nested units is scored by the characters it
explains; the best chain names the place. Two different places scoring the same ("朝阳区":
Beijing's or Changchun's) is no answer, so the resident is asked for the province and city
rather than handed a guess.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple

from bot.domain.divisions import DIVISIONS
from bot.domain.invalid import Invalid
from bot.domain.parsing import clean

PLACE_LIMIT = 60
PLACES_LIMIT = 300
MAX_PLACES = 10
_NONE_ANSWERS = frozenset({"无", "没有", "none", "no", "没", "无。", "没有。"})
_SEPARATORS = re.compile(r"[,，、;；]")
# A municipality's districts hang straight under it: their place has no city.
_MUNICIPALITIES = ("11", "12", "31", "50")
# Suffixes a resident may leave off, longest first so 自治县 goes before 县.
_SUFFIXES = (
    ("特别行政区", "自治区", "省", "市"),
    ("自治州", "地区", "新区", "盟", "市"),
    ("自治县", "自治旗", "行政区", "新区", "林区", "特区", "区", "县", "市", "旗"),
)
# Peoples named in autonomous units (恩施土家族苗族自治州 -> 恩施). An autonomous unit may
# name a people of two or more characters without "族" (博尔塔拉蒙古自治州); a single
# character ("白", "水") without "族" is just part of a name.
_LONG_PEOPLES = (
    "蒙古|维吾尔|布依|朝鲜|土家|哈尼|哈萨克|傈僳|拉祜|东乡|纳西|景颇|柯尔克孜|达斡尔|仫佬|"
    "布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|塔塔尔|"
    "独龙|鄂伦春|赫哲|门巴|珞巴|基诺"
)
_PEOPLE = re.compile(rf"(?:{_LONG_PEOPLES}|[汉回藏苗彝壮满侗瑶白黎佤畲水土羌傣怒京各])族$")
_PEOPLE_UNMARKED = re.compile(rf"(?:{_LONG_PEOPLES})$")
_SHORTEST = 2  # a one-character short form ("忠" of 忠县) would match half the language
# A short form followed by one of these names a town, village or street, not the county:
# 白沙镇 is in Jiangjin, not 白沙黎族自治县; 中山路 is a street in any city.
_NOT_A_UNIT_AFTER = frozenset("镇乡村街路道巷")


@dataclass(frozen=True)
class Place:
    province: str
    city: str | None
    district: str | None

    def label(self) -> str:
        return " ".join(part for part in (self.province, self.city, self.district) if part)


class _Hit(NamedTuple):
    start: int
    end: int
    code: str
    full: bool  # the official name, not a short form


class _Index(NamedTuple):
    names: dict[str, str]  # code -> official name
    aliases: dict[str, tuple[tuple[str, bool], ...]]  # written form -> (code, full) choices
    longest: int


def _level(code: str) -> int:
    """0 province, 1 city (prefecture), 2 district or county."""
    return 0 if code.endswith("0000") else 1 if code.endswith("00") else 2


def _ancestors(code: str) -> tuple[str, ...]:
    """The province and city codes above ``code`` (a city code may name no unit)."""
    return (code[:2] + "0000", code[:4] + "00")[: _level(code)]


def _strip_peoples(stem: str, autonomous: bool) -> str:
    while True:
        found = _PEOPLE.search(stem) or (autonomous and _PEOPLE_UNMARKED.search(stem))
        if not found or found.start() < _SHORTEST:
            return stem
        stem = stem[: found.start()]


def _short_forms(name: str, level: int) -> set[str]:
    """What a resident writes for ``name``: 广西, 恩施 and 恩施州, 石柱 and 石柱县."""
    for suffix in _SUFFIXES[level]:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = _strip_peoples(name[: -len(suffix)], suffix.startswith("自治"))
            forms = {stem}
            if suffix.startswith("自治") and suffix != "自治区":
                forms.add(stem + suffix[-1])
            return {form for form in forms if len(form) >= _SHORTEST and form != name}
    return set()


@cache
def _index() -> _Index:
    """Index the code list once, on first use (app start-up warms it)."""
    names: dict[str, str] = {}
    forms: dict[str, dict[str, bool]] = {}
    for line in DIVISIONS.splitlines():
        code, name, *successor = line.split("\t")
        target = successor[0] if successor else code
        if not successor:
            names[code] = name
        forms.setdefault(name, {})[target] = True
        for form in _short_forms(name, _level(code)):
            forms.setdefault(form, {}).setdefault(target, False)
    aliases = {form: tuple(codes.items()) for form, codes in forms.items()}
    return _Index(names, aliases, max(map(len, aliases)))


def _hits(text: str, index: _Index) -> list[_Hit]:
    hits = []
    for start in range(len(text)):
        for end in range(start + _SHORTEST, min(len(text), start + index.longest) + 1):
            for code, full in index.aliases.get(text[start:end], ()):
                if full or text[end : end + 1] not in _NOT_A_UNIT_AFTER:
                    hits.append(_Hit(start, end, code, full))
    return hits


def _best_codes(hits: list[_Hit]) -> set[str]:
    """Codes ending the best-scoring chains of nested units in reading order.

    A chain scores the characters it explains, then the official names it uses, then how
    high it starts and ends: "北京朝阳" is one chain ending in 朝阳区, "吉林" alone is the
    province before the city, and "湖南长沙" the city 长沙市 before the county 长沙县.
    """
    hits = sorted(hits)
    by_end = sorted(range(len(hits)), key=lambda i: hits[i].end)
    scores: list[tuple[int, int, int]] = []
    ended: dict[str, tuple[int, int, int]] = {}  # best chain ending at a code, text before
    passed = 0
    for hit in hits:
        # Chains through the hits that end before this one starts may go on with it.
        while passed < len(by_end) and hits[by_end[passed]].end <= hit.start:
            i = by_end[passed]
            ended[hits[i].code] = max(ended.get(hits[i].code, scores[i]), scores[i])
            passed += 1
        size = hit.end - hit.start
        score = (size, int(hit.full), -_level(hit.code))
        for above in _ancestors(hit.code):
            if above in ended:
                best = ended[above]
                score = max(score, (best[0] + size, best[1] + hit.full, best[2]))
        scores.append(score)
    ranked = [(*score, -_level(hit.code)) for hit, score in zip(hits, scores, strict=True)]
    top = max(ranked, default=None)
    return {hit.code for hit, rank in zip(hits, ranked, strict=True) if rank == top}


def _place(code: str, names: dict[str, str]) -> Place:
    province = names[code[:2] + "0000"]
    city = None
    if _level(code) > 0 and not code.startswith(_MUNICIPALITIES):
        city = names.get(code[:4] + "00")  # none for a county-level city under a province
    return Place(province, city, names[code] if _level(code) == 2 else None)


@lru_cache(maxsize=4096)
def _lookup(text: str) -> Place | None:
    index = _index()
    codes = _best_codes(_hits(text, index))
    return _place(codes.pop(), index.names) if len(codes) == 1 else None


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
