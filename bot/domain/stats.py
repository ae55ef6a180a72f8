"""Statistics on demand (/stats, 统计查询): what a query asks, its date ranges, the typed
range's parser, its compact callback form, and the short aligned table it answers with.
Pure: the counts come from storage.stats, the words from templates/*/stats.j2."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache

from bot.domain.divisions import DIVISIONS
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor

FLOW = "tj"  # 统计: v1:tj:<view>:<range>:<village>:<grid>:<category>:<province>
RANGE_FLOW = "tjr"  # the typed range: v1:tjr:<token>:<step>:<value>
TOP = 12  # rows shown before the rest are summed as 其他
MAX_DAYS = 366  # a typed range longer than a year is refused
EARLIEST = date(2000, 1, 1)  # no screening before; a button's date (YYMMDD) holds only 20xx

# A view: what is counted, by which dimension. Arrivals are people in open reports that
# arrived (were reported) in the range; the others as noted in storage.stats.
ARRIVAL_VIEWS = ("village", "grid", "category", "risk", "province", "city", "day")
OTHER_VIEWS = ("measure", "checkin", "tip_kind", "tip_state", "case", "contact", "stay", "site")
VIEWS = ARRIVAL_VIEWS + OTHER_VIEWS
# The short code of each view in callback data.
CODES = dict(zip(VIEWS, ("v", "g", "c", "r", "p", "y", "d", "m", "k", "tk", "ts", "cs", "ct",
                         "st", "si"), strict=True))  # fmt: skip
VIEW_OF = {code: view for view, code in CODES.items()}
# A tap on a row of a view goes one level down: the row's key becomes a filter.
DRILL = {"village": "grid", "province": "city", "category": "village"}
CURRENT = ("measure", "site")  # views of now: the range does not apply
PRESETS = ("d1", "d7", "d14", "month")  # 今天 / 近7天 / 近14天 / 本月

_DAY = r"(?:\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{1,2}[-/.月]\d{1,2}日?)"
_SEPARATOR = r"(?:\s*(?:-|~|—|–|至|到)\s*|\s+to\s+)"  # "to": /export's English prompt
_RANGE = re.compile(rf"({_DAY})(?:{_SEPARATOR}({_DAY}))?", re.IGNORECASE)
_DAY_PARTS = re.compile(r"(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?")
_STAMP = re.compile(r"\d{6}")


@dataclass(frozen=True)
class Query:
    """One statistics question: a view over the days ``start``..``end`` (inclusive, local),
    narrowed by a village, a grid, a category of arrival, a province (its 2-digit code)."""

    view: str
    start: date
    end: date
    village: str = ""
    grid: str = ""
    category: str = ""
    province: str = ""

    @property
    def is_arrivals(self) -> bool:
        return self.view in ARRIVAL_VIEWS

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def drill(self, key: str) -> Query | None:
        """The view one level inside row ``key`` (a village's grids, a province's cities)."""
        inner = DRILL.get(self.view)
        if inner is None or not key:
            return None
        if self.view == "village":
            return replace(self, view=inner, village=key)
        if self.view == "category":
            return replace(self, view=inner, category=key)
        code = province_code(key)
        return replace(self, view=inner, province=code) if code else None


def within(query: Query, village: str) -> Query:
    """``query`` inside one village (picked from the list of them): the village view's is
    its grids; a grid of another village no longer applies."""
    if query.view == "village":
        return replace(query, view="grid", village=village, grid="")
    return replace(query, village=village, grid="")


def switched(query: Query, view: str) -> Query:
    """Another view of the same range and village; the arrivals' own filters (a grid, a
    category, an origin) only while it is an arrival view."""
    if view in ARRIVAL_VIEWS:
        return replace(query, view=view)
    return replace(query, view=view, grid="", category="", province="")


def whole(query: Query) -> Query:
    """The same view and range over the asker's whole scope (the filters taken away)."""
    return replace(query, village="", grid="", category="", province="")


def villages_of(actor: Actor) -> frozenset[str] | None:
    """Whose figures ``actor`` may see: None the whole town (leaders, admins), else the
    villages he is the admin of (none: not his to see)."""
    return None if actor.is_leader or actor.is_admin else actor.admin_villages


def may_view(actor: Actor) -> bool:
    return villages_of(actor) != frozenset()


def permits(actor: Actor, query: Query, village_of_grid: Mapping[str, str]) -> bool:
    """Whether ``query`` stays inside ``actor``'s villages (a forged button's would not)."""
    scope = villages_of(actor)
    if scope is None:
        return True
    if not scope:
        return False
    grid_ok = not query.grid or village_of_grid.get(query.grid) in scope
    return (not query.village or query.village in scope) and grid_ok


def midnight(day: date, tz: tzinfo) -> datetime:
    """The instant a town's day begins (in UTC): a range of days [first, last] is the instants
    from ``midnight(first)`` up to, not including, ``midnight(last + 1 day)``."""
    return datetime.combine(day, time(), tz).astimezone(UTC)


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """今天, 近7天, 近14天 (today included), 本月 (from the first of the month)."""
    if preset == "month":
        return today.replace(day=1), today
    days = {"d1": 1, "d7": 7, "d14": 14}[preset]
    return today - timedelta(days=days - 1), today


# -- the typed range --------------------------------------------------------------------------


def parse_range(text: str, today: date) -> tuple[date, date] | Invalid:
    """``11月1日-11月20日``, ``2020-11-01 至 2020-11-20``, ``2020-11-01 to 2020-11-20``,
    ``11/1~11/20``, full-width digits; one day alone is a range of one day. Days without a
    year are of one year: ``today``'s, or the year before when the first of them is still to
    come (``12月1日-12月20日`` typed in November is last December). Never before 2000, never
    backwards, never in the future, at most a year."""
    found = _RANGE.fullmatch(unicodedata.normalize("NFKC", text).strip())
    parts = [_DAY_PARTS.fullmatch(part) for part in found.groups() if part] if found else []
    days = _days([(m[1], m[2], m[3]) for m in parts if m], today)
    if not days:
        return Invalid("stats_range_format")
    start, end = days[0], days[-1]
    if start < EARLIEST:
        return Invalid("stats_range_old", {"year": EARLIEST.year})
    if start > end:
        return Invalid("stats_range_backwards")
    if end > today:
        return Invalid("stats_range_future")
    if (end - start).days + 1 > MAX_DAYS:
        return Invalid("stats_range_long", {"days": MAX_DAYS})
    return start, end


def _days(parts: Sequence[tuple[str | None, str, str]], today: date) -> list[date]:
    """The dates of (year or None, month, day) parts; [] when one is no date (2月30日)."""
    yearless = [(int(m), int(d)) for y, m, d in parts if y is None]
    year = today.year
    try:
        if yearless and date(year, *yearless[0]) > today:
            year -= 1
        return [date(int(y) if y else year, int(m), int(d)) for y, m, d in parts]
    except ValueError:  # 2月30日, 2月29日 of a year that has none, year 0000
        return []


# -- callback data -----------------------------------------------------------------------------


def encode(query: Query, preset: str = "") -> list[str]:
    """The parts after ``v1:tj:``: view, range, village, grid, category, province (ids of the
    config and codes: at most ~50 bytes with the prefix). The range is ``YYMMDDYYMMDD``, or a
    preset (``d7``) the day the button is pressed makes: 近7天 pressed tomorrow is tomorrow's."""
    span = preset or query.start.strftime("%y%m%d") + query.end.strftime("%y%m%d")
    return [CODES[query.view], span, query.village, query.grid, query.category, query.province]


def decode(parts: Sequence[str], today: date) -> Query | None:
    """A button's query, or None when the data is not one (forged, or of another version)."""
    if len(parts) != 6 or parts[0] not in VIEW_OF:
        return None
    if parts[1] in PRESETS:
        start, end = preset_range(parts[1], today)
    elif len(parts[1]) == 12 and (span := _span(parts[1])):
        start, end = span
    else:
        return None
    village, grid, category, province = parts[2:]
    return Query(VIEW_OF[parts[0]], start, end, village, grid, category, province)


def _span(text: str) -> tuple[date, date] | None:
    start, end = _stamp(text[:6]), _stamp(text[6:])
    return (start, end) if start and end and start <= end else None


def _stamp(text: str) -> date | None:
    if not _STAMP.fullmatch(text):
        return None
    try:
        return date(2000 + int(text[:2]), int(text[2:4]), int(text[4:]))
    except ValueError:
        return None


# -- provinces ---------------------------------------------------------------------------------


@cache
def provinces() -> dict[str, str]:
    """Province name (as reports store it) -> its 2-digit code."""
    found = {}
    for line in DIVISIONS.splitlines():
        code, name, *former = line.split("\t")
        if code.endswith("0000") and not former:
            found[name] = code[:2]
    return found


def province_code(name: str) -> str:
    return provinces().get(name, "")


def province_name(code: str) -> str:
    return next((name for name, c in provinces().items() if c == code), "")


# -- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    key: str  # what the row counts (a village id, a category code...); "" for 其他
    label: str
    count: int


def top(rows: Sequence[Row], limit: int, other: str) -> list[Row]:
    """The ``limit`` largest rows (ties: in the given order) and the rest summed as one row
    ``other`` (when there is a rest)."""
    ranked = sorted(rows, key=lambda r: -r.count)
    if len(ranked) <= limit:
        return ranked
    rest = sum(r.count for r in ranked[limit - 1 :])
    return [*ranked[: limit - 1], Row("", other, rest)]


def width(text: str) -> int:
    """Columns ``text`` takes in a monospace font: wide and full-width characters two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def aligned(rows: Sequence[tuple[str, str]]) -> list[str]:
    """Two columns: the labels padded to one width (CJK counted double), the numbers right
    aligned after them."""
    left = max((width(a) for a, _ in rows), default=0)
    right = max((width(b) for _, b in rows), default=0)
    return [f"{a}{' ' * (left - width(a))}  {' ' * (right - width(b))}{b}" for a, b in rows]


def by_day(counts: dict[str, int], days: Sequence[date]) -> list[int]:
    """A count for each day of the range (ISO keys), 0 where none."""
    return [counts.get(d.isoformat(), 0) for d in days]


def latest(rows: Sequence[Row], limit: int, earlier: str) -> list[Row]:
    """Rows of days (ISO keys) in date order: the latest ``limit - 1`` days and, when there
    are more, the earlier ones summed first as one row ``earlier``."""
    ordered = sorted(rows, key=lambda r: r.key)
    if len(ordered) <= limit:
        return ordered
    cut = len(ordered) - (limit - 1)
    return [Row("", earlier, sum(r.count for r in ordered[:cut])), *ordered[cut:]]
