"""Places in China named by residents ("武汉江汉区", "重庆江津"), resolved against the code list.

``divisions.py`` (made by ``bin/divisions.py``) lists every province, city and county-level
unit by its 6-digit code, and former names with their successors. A unit is found by its
full name or its short form (武汉市 -> 武汉, 江津区 -> 江津, 恩施土家族苗族自治州 -> 恩施 / 恩施州).
Every reading of the text as a chain of nested units is scored by the characters it
explains; the best chain names the place. Two different places scoring the same ("朝阳区":
Beijing's or Changchun's) is no answer: ``place_choices`` offers both, never a guess.

Answers in Latin letters ("Yubei District, Chongqing", "yubeiqu", "Hubei Wuhan Jianghan")
are matched word by word against the readings in ``divisions.PINYIN`` (generated once, so no
pinyin library is loaded here) and common English names (Inner Mongolia, Tibet, Hong Kong).
English writes the smaller unit first, so Latin chains are scored in both directions.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple

from bot.domain.divisions import DIVISIONS, PINYIN
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
_HAN = re.compile("[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile("[a-z]+")
_LATIN_ONLY = re.compile("[^a-z]")
_LATIN_SPAN = 6  # words one name may take ("xi an", "inner mongolia autonomous region")
# English for each kind of unit, by the end of its Chinese name, longest first. A
# prefecture-level 市 and a province-level unit go by their bare name ("Wuhan", "Hubei").
_KINDS = (
    ("特别行政区", "SAR"), ("自治区", "Autonomous Region"), ("自治州", "Autonomous Prefecture"),
    ("自治县", "Autonomous County"), ("自治旗", "Autonomous Banner"),
    ("行政区", "Administrative Zone"), ("新区", "New Area"), ("林区", "Forestry District"),
    ("特区", "Special District"), ("地区", "Prefecture"), ("省", "Province"),
    ("区", "District"), ("县", "County"), ("旗", "Banner"), ("盟", "League"), ("市", "City"),
)  # fmt: skip
# Other words a resident may add to a name: "Wuhan City", "Enshi Prefecture".
_EXTRA_KIND_WORDS = {"市": ("city", "municipality"), "自治州": ("prefecture",), "省": ("province",)}
# English names that are not the pinyin (and pinyin written two ways).
_ENGLISH_NAMES = {
    "内蒙古自治区": ("Inner Mongolia", "Nei Mongol"),
    "西藏自治区": ("Tibet",),
    "香港特别行政区": ("Hong Kong",),
    "澳门特别行政区": ("Macao", "Macau"),
    "陕西省": ("Shaanxi",),  # its pinyin is Shanxi's; the official spelling tells them apart
    # the name English writers use for the city on the key-region lists since 2020
    "喀什地区": ("Kashi Prefecture", "Kashgar", "Kashgar Prefecture"),
    "喀什市": ("Kashi City", "Kashgar City"),
}
# A bare name followed by one of these words names a town, road or village, not the unit.
_LATIN_NOT_A_UNIT_AFTER = ("town", "village", "road", "street", "zhen", "cun", "lu")


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
    latin: dict[str, tuple[tuple[str, bool], ...]]  # folded Latin letters -> choices
    english: dict[str, str]  # code -> English name ("Yubei District")
    codes: dict[Place, str]  # place -> code
    labels: dict[str, Place]  # Place.label() -> place


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


def _fold(text: str) -> str:
    """Lower case without tone marks; ü (written v by many keyboards) as u."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return bare.lower().replace("v", "u")


def _kind(name: str) -> tuple[str, str]:
    """(Chinese suffix, English kind) of a unit's name; ("", "") for none."""
    return next(((zh, en) for zh, en in _KINDS if name.endswith(zh) and name != zh), ("", ""))


def _stem(name: str) -> str:
    """The name without its kind and peoples: 石柱土家族自治县 -> 石柱."""
    suffix = _kind(name)[0]
    return _strip_peoples(name[: len(name) - len(suffix)], suffix.startswith("自治"))


def _romanise(syllables: list[str]) -> str:
    """Pinyin as written in English: Xi'an (not Xian), Lüliang (the table writes lv)."""
    written = [s.replace("v", "ü") for s in syllables]
    word = "".join(s if i == 0 or s[0] not in "aoe" else "'" + s for i, s in enumerate(written))
    return word.capitalize()


def _english(name: str, level: int, readings: dict[str, list[str]]) -> tuple[str, str]:
    """(English name, its bare stem): 渝北区 -> Yubei District, 石柱土家族自治县 -> Shizhu
    Autonomous County, 武汉市 -> Wuhan."""
    suffix, kind = _kind(name)
    bare = _romanise(readings.get(name, [])[: len(_stem(name))])
    if name in _ENGLISH_NAMES:
        return _ENGLISH_NAMES[name][0], bare
    plain = level == 0 or (level == 1 and suffix == "市")
    return (bare if plain or not kind else f"{bare} {kind}"), bare


def _latin_forms(name: str, level: int, readings: dict[str, list[str]]) -> dict[str, bool]:
    """Folded Latin forms of a unit: full reading and English name (full), bare stem."""
    english, bare = _english(name, level, readings)
    suffix, kind = _kind(name)
    forms = {_fold("".join(readings.get(name, []))): True, _fold(english): True}
    forms.update({_fold(bare + kind): True} if kind else {})
    forms.update({_fold(bare + word): True for word in _EXTRA_KIND_WORDS.get(suffix, ())})
    forms.update({_fold(other): True for other in _ENGLISH_NAMES.get(name, ())})
    if len(_stem(name)) >= _SHORTEST:  # one syllable would match half the language
        forms.setdefault(_fold(bare), False)
    return {_LATIN_ONLY.sub("", form): full for form, full in forms.items() if form}


def _add(table: dict[str, dict[str, bool]], form: str, code: str, full: bool) -> None:
    choices = table.setdefault(form, {})
    choices[code] = choices.get(code, False) or full


@cache
def _index() -> _Index:
    """Index the code list once, on first use (app start-up warms it)."""
    names: dict[str, str] = {}
    forms: dict[str, dict[str, bool]] = {}
    latin: dict[str, dict[str, bool]] = {}
    readings = {n: r.split() for n, r in (line.split("\t") for line in PINYIN.splitlines())}
    english: dict[str, str] = {}
    for line in DIVISIONS.splitlines():
        code, name, *successor = line.split("\t")
        target = successor[0] if successor else code
        if not successor:
            names[code] = name
            english[code] = _english(name, _level(code), readings)[0]
        forms.setdefault(name, {})[target] = True
        for form in _short_forms(name, _level(code)):
            forms.setdefault(form, {}).setdefault(target, False)
        for form, full in _latin_forms(name, _level(code), readings).items():
            _add(latin, form, target, full)
    aliases = {form: tuple(codes.items()) for form, codes in forms.items()}
    codes = {_place(code, names): code for code in names}
    return _Index(
        names,
        aliases,
        max(map(len, aliases)),
        {form: tuple(choices.items()) for form, choices in latin.items()},
        english,
        codes,
        {place.label(): place for place in codes},
    )


def _hits(text: str, index: _Index) -> list[_Hit]:
    hits = []
    for start in range(len(text)):
        for end in range(start + _SHORTEST, min(len(text), start + index.longest) + 1):
            for code, full in index.aliases.get(text[start:end], ()):
                if full or text[end : end + 1] not in _NOT_A_UNIT_AFTER:
                    hits.append(_Hit(start, end, code, full))
    return hits


_NOT_A_UNIT_WORDS = frozenset(map(_fold, _LATIN_NOT_A_UNIT_AFTER))


def _latin_hits(words: list[str], index: _Index) -> list[_Hit]:
    """Hits over word positions: a name may take several words ("xi an", "hong kong")."""
    hits = []
    for start in range(len(words)):
        for end in range(start + 1, min(len(words), start + _LATIN_SPAN) + 1):
            following = words[end] if end < len(words) else ""
            for code, full in index.latin.get("".join(words[start:end]), ()):
                if full or following not in _NOT_A_UNIT_WORDS:
                    hits.append(_Hit(start, end, code, full))
    return hits


def _latin_codes(text: str, index: _Index) -> set[str]:
    """The best chains read either way: "Chongqing Yubei" and "Yubei District, Chongqing"."""
    words = _LATIN_WORD.findall(_fold(text))
    hits = _latin_hits(words, index)
    mirrored = [_Hit(len(words) - h.end, len(words) - h.start, h.code, h.full) for h in hits]
    ahead, back = _best(hits), _best(mirrored)
    if ahead[0] == back[0]:
        return ahead[1] | back[1]
    return max(ahead, back, key=lambda best: best[0] or ())[1]


def _best_codes(hits: list[_Hit]) -> set[str]:
    return _best(hits)[1]


def _best(hits: list[_Hit]) -> tuple[tuple[int, ...] | None, set[str]]:
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
    return top, {hit.code for hit, rank in zip(hits, ranked, strict=True) if rank == top}


def _place(code: str, names: dict[str, str]) -> Place:
    province = names[code[:2] + "0000"]
    city = None
    if _level(code) > 0 and not code.startswith(_MUNICIPALITIES):
        city = names.get(code[:4] + "00")  # none for a county-level city under a province
    return Place(province, city, names[code] if _level(code) == 2 else None)


@lru_cache(maxsize=4096)
def _candidates(text: str) -> tuple[Place, ...]:
    """Every place the text names equally well, in code order (none, one, or a tie)."""
    index = _index()
    if _HAN.search(text) or not _LATIN_WORD.search(_fold(text)):
        codes = _best_codes(_hits(text, index))
    else:
        codes = _latin_codes(text, index)
    return tuple(_place(code, index.names) for code in sorted(codes))


def _lookup(text: str) -> Place | None:
    found = _candidates(text)
    return found[0] if len(found) == 1 else None


def parse_place(text: str) -> Place | Invalid:
    cleaned = clean(text, PLACE_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    place = _lookup(cleaned) if cleaned else None
    return place if place is not None else Invalid("place_unknown")


def place_choices(text: str) -> tuple[Place, ...] | Invalid:
    """The place or, where the answer fits several ("Taizhou": 泰州 or 台州), each of them
    for the resident to choose (five at most: 城区)."""
    cleaned = clean(text, PLACE_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    found = _candidates(cleaned) if cleaned else ()
    return found or Invalid("place_unknown")


def _english_chain(place: Place) -> list[str]:
    """English names of the place's units, largest first; [] for a place not in the list
    (an answer stored under an older list)."""
    index = _index()
    code = index.codes.get(place)
    if code is None:
        return []
    return [index.english[c] for c in (*_ancestors(code), code) if c in index.names]


def english_name(place: Place) -> str:
    """The place in English, smaller unit first: "Yubei District, Chongqing"."""
    return ", ".join(reversed(_english_chain(place))) or place.label()


def parse_place_within(text: str, outer: Place) -> Place | Invalid:
    """A place typed as a part of ``outer``: "江汉" or "Jianghan" in 湖北省 武汉市 is 江汉区
    (alone, "朝阳" in 北京市 would be Liaoning's city)."""
    cleaned = clean(text, PLACE_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    latin = not _HAN.search(cleaned) and _english_chain(outer)
    prefix = " ".join(_english_chain(outer)) if latin else outer.label()
    inside = [p for p in _candidates(f"{prefix} {cleaned}") if more_precise(p, outer)]
    if len(inside) != 1:
        return Invalid("place_not_inside", {"text": cleaned, "place": outer.label()})
    return inside[0]


def bilingual_label(place: Place) -> str:
    """ "重庆市 渝北区 (Yubei District, Chongqing)": both scripts, for English readers."""
    english = english_name(place)
    return place.label() if english == place.label() else f"{place.label()} ({english})"


def bilingual(label: str) -> str:
    """A ``Place.label`` in both scripts ("湖北省 武汉市" -> "湖北省 武汉市 (Wuhan, Hubei)"):
    texts carry the Chinese label (a region's, a reason's); a label not in the list stays."""
    place = _index().labels.get(label)
    return bilingual_label(place) if place is not None else label


def narrower(place: Place) -> tuple[Place, ...]:
    """The units one level inside ``place``: a city's districts, a province's cities (and
    the county-level units it runs directly); none for a district."""
    index = _index()
    code = index.codes.get(place)
    if code is None or place.district is not None:
        return ()
    found = [
        _place(c, index.names) for c in index.names if c != code and _parent(c, index.names) == code
    ]
    return tuple(found)


def _parent(code: str, names: dict[str, str]) -> str | None:
    above = [c for c in _ancestors(code) if c in names]
    return above[-1] if above else None


def more_precise(inner: Place, outer: Place) -> bool:
    """True when ``inner`` lies strictly inside ``outer`` (湖北省 武汉市 江汉区 in 湖北省)."""
    return inner != outer and place_within(inner, outer.province, outer.city, outer.district)


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


class Ambiguous(NamedTuple):
    """A part of a list naming several places equally well ("Taizhou": 泰州 or 台州)."""

    text: str
    places: tuple[Place, ...]


def _parse_chunk(chunk: str) -> list[Place] | Ambiguous | Invalid:
    spaced = _split_spaced(chunk)
    if spaced is not None:
        return spaced
    found = _candidates(chunk)
    if len(found) > 1:  # "Taizhou": 泰州 or 台州, never a guess
        return Ambiguous(chunk, found)
    if not found:
        return Invalid("place_unknown", {"text": chunk})
    return list(found)


def parse_places(text: str) -> list[Place | Ambiguous] | Invalid:
    """A list of places separated by commas, 顿号 or semicolons; "无" means none. A part
    naming several places comes as ``Ambiguous``, for the resident to choose, unless another
    place in the list holds just one of them ("Chaoyang District, Beijing")."""
    cleaned = clean(text, PLACES_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    if cleaned.lower() in _NONE_ANSWERS:
        return []
    places: list[Place] = []
    ties: list[Ambiguous] = []
    for chunk in filter(None, (c.strip() for c in _SEPARATORS.split(cleaned))):
        parsed = _parse_chunk(chunk)
        if isinstance(parsed, Invalid):
            return parsed
        if isinstance(parsed, Ambiguous):
            ties.append(parsed)
        else:
            places.extend(p for p in parsed if p not in places)
        if len(most_precise(places)) + len(ties) > MAX_PLACES:
            return Invalid("places_too_many", {"limit": MAX_PLACES})
    if not places and not ties:
        return Invalid("place_unknown", {"text": cleaned})
    settled = [_settle(tie, places) for tie in ties]
    places.extend(p for p in settled if isinstance(p, Place) and p not in places)
    return [*most_precise(places), *(tie for tie in settled if isinstance(tie, Ambiguous))]


def _settle(tie: Ambiguous, places: list[Place]) -> Place | Ambiguous:
    """The one place of ``tie`` inside another place of the list, if just one is."""
    inside = [p for p in tie.places if any(more_precise(p, outer) for outer in places)]
    return inside[0] if len(inside) == 1 else tie


def most_precise(places: Iterable[Place]) -> list[Place]:
    """Drop a place another one in the list lies inside: "Yubei District, Chongqing" (the
    comma of English) and "重庆，渝北" name one place."""
    places = list(places)
    return [p for p in places if not any(more_precise(other, p) for other in places)]


def place_within(
    inner: Place, outer_province: str, outer_city: str | None, outer_district: str | None
) -> bool:
    """True when ``inner`` lies in the region; a less precise ``inner`` is not inside."""
    if inner.province != outer_province:
        return False
    if outer_city is not None and inner.city != outer_city:
        return False
    return outer_district is None or inner.district == outer_district
