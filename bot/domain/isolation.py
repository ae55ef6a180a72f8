"""A person's stay at a centralised isolation site (集中隔离医学观察, plan §3 and §8): whom it
is for, its period, the room, the nearest site that still has room, its states, and the
assignment conversation's steps.

A stay is assigned (a room is held for the person), then the site manager confirms the
arrival (入住), then it is released (解除, by the rule of bot.domain.release) or ended (the
person became a case, was moved). Pure: no telegram, no SQL.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.domain import contacts
from bot.domain.invalid import Invalid
from bot.domain.parsing import DASHES, clean
from bot.domain.steps import Lookup, Step, fixed_choices

# A stay's states (migration 027): assigned and in hold the room; released and ended do not.
ASSIGNED, IN = "assigned", "in"
ACTIVE = (ASSIGNED, IN)
# Site states that take people: an activation under way prepares its rooms while the person
# is being fetched.
TAKING = ("active", "activating")
CONTACT, ARRIVAL, CASE = "contact", "arrival", "case"  # whose stay (one of the three)
SPAN = 14  # /isolation's days of isolation: 1..14, later days counted in the last
ROOM_BUTTONS = 6  # free rooms offered as buttons; any other free room may be typed
SITE_BUTTONS = 8
FLOW = "iso"  # callback data of a stay's buttons: v1:iso:<stay id>:<action>


def subject(stay_id: int) -> str:
    return f"stay:{stay_id}"


# --- the period --------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Day 1 to the last day (inclusive) and the test days (1 = the first day)."""

    start: date
    end: date
    test_days: tuple[int, ...]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_of(start: date, end: date, test_days: Sequence[int]) -> Period:
    """A contact's or an arrival's measure as stored (a contact's runs from the last
    exposure, an arrival's from the report): the stay keeps its dates, so a person fetched
    on day 3 is released on the measure's day 14, not 14 days after arriving. Test days
    past the end are dropped."""
    days = (end - start).days + 1
    return Period(start, end, tuple(sorted({d for d in test_days if 1 <= d <= days})))


def case_period(today: date, days: int, test_days: Sequence[int]) -> Period:
    """A case's person isolated from today: day 1 today, ``days`` days."""
    return period_of(today, today + timedelta(days=max(days, 1) - 1), test_days)


def day_of(start: date, today: date) -> int:
    """Today's day of isolation (day 1 = ``start``); a period not begun yet is on day 1."""
    return max((today - start).days + 1, 1)


def day_histogram(
    starts: Iterable[tuple[date, int]], today: date, span: int = SPAN
) -> tuple[int, ...]:
    """People per day of isolation, days 1..``span``, from (first day, people) pairs; a day
    past ``span`` counts in the last."""
    counts = [0] * span
    for start, people in starts:
        counts[min(day_of(start, today), span) - 1] += people
    return tuple(counts)


# --- rooms and sites -------------------------------------------------------------------


def free_rooms(rooms: Sequence[str], taken: Collection[str]) -> tuple[str, ...]:
    """The site's rooms not held by a stay, in the site's own order."""
    return tuple(r for r in rooms if r not in taken)


def first_free_room(rooms: Sequence[str], taken: Collection[str]) -> str | None:
    return next(iter(free_rooms(rooms, taken)), None)


@dataclass(frozen=True)
class SiteLoad:
    """One isolation site as of now: who holds a room there and what is left. A site's
    capacity is never above its rooms (config and /sites check it), so the people it still
    takes are its free places."""

    id: str
    name: str
    state: str  # reserved | activating | active | closed
    capacity: int
    arrived: int  # checked in (入住)
    expected: int  # a room assigned, not arrived yet
    village_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    order: int = 0  # its place in the config (sites added in chat after)

    @property
    def people(self) -> int:
        return self.arrived + self.expected

    @property
    def free(self) -> int:
        return max(self.capacity - self.people, 0)

    @property
    def taking(self) -> bool:
        """Takes people now: active or activating, with a free place."""
        return self.state in TAKING and self.free > 0


EARTH_KM = 6371.0


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + (
        math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_KM * math.asin(math.sqrt(h))


def nearest_with_room(
    sites: Sequence[SiteLoad], village_id: str | None, point: tuple[float, float] | None,
    exclude: str | None = None,
) -> SiteLoad | None:  # fmt: skip
    """The site taking people nearest to a village and a point (a full site's own, when it
    refuses): one in the same village first, then by distance where both the point and the
    site have coordinates (sites without come after those with), then the config order."""

    def key(site: SiteLoad) -> tuple[int, float, int]:
        located = point is not None and site.latitude is not None and site.longitude is not None
        far = distance_km(point, (site.latitude, site.longitude)) if located else math.inf
        return (0 if village_id and site.village_id == village_id else 1, far, site.order)

    return min((s for s in sites if s.taking and s.id != exclude), key=key, default=None)


# --- what is typed -----------------------------------------------------------------------

REF_LIMIT = 40
_CASE_REF = re.compile(r"([A-Z]{1,6})-?BL-?([0-9]{8})-?([0-9]{2})")  # XF-BL-20201026-01


@dataclass(frozen=True)
class Ref:
    kind: str  # CONTACT | ARRIVAL | CASE
    ref: str  # canonical: XF-MJ-20201120-0001


def _squeezed(text: str) -> str | Invalid:
    cleaned = clean(text, REF_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    return "".join(cleaned.split()).upper().translate(DASHES)


def parse_ref(text: str) -> Ref | Invalid:
    """A case's (``XF-BL-20201026-01``), a contact's or an arrival report's reference number
    as typed: any case, full-width characters, spaces, other dashes or none."""
    squeezed = _squeezed(text)
    if isinstance(squeezed, Invalid):
        return Invalid("isolation.ref_format")
    case = _CASE_REF.fullmatch(squeezed)
    if case is not None:
        code, day, number = case.groups()
        return Ref(CASE, f"{code}-BL-{day}-{number}") if _real_day(day) else _bad_ref()
    ref = contacts.parse_ref(squeezed)
    if isinstance(ref, Invalid):
        return _bad_ref()
    return Ref(CONTACT if contacts.is_contact_ref(ref) else ARRIVAL, ref)


def _bad_ref() -> Invalid:
    return Invalid("isolation.ref_format")


def _real_day(day: str) -> bool:
    try:
        date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        return False
    return True


def parse_room(text: str, rooms: Sequence[str]) -> str | Invalid:
    """A room of the site as typed ("a-101" is "A-101"); one not in its list is refused."""
    typed = _squeezed(text)
    if isinstance(typed, Invalid) or typed not in rooms:
        typed = "" if isinstance(typed, Invalid) else typed
        return Invalid("isolation.room_unknown", {"room": typed[:12]})
    return typed


# --- the assignment conversation -------------------------------------------------------
# person (a reference number, looked up) -> site (buttons: sites taking people with room)
# -> room (the first free rooms as buttons, or typed) -> summary. The lookups are I/O
# (bot/flows/isolation.py); what they found is kept in the draft: ``person``, and ``free``,
# each offered site's first free rooms (site id -> rooms), in the sites' order.

Data = dict[str, Any]
Updates = dict[str, Any]


def _person_text(text: str, data: Data, ctx: Any) -> Invalid | Lookup:
    ref = parse_ref(text)
    return ref if isinstance(ref, Invalid) else Lookup("person", ref)


def _sites(data: Data, ctx: Any) -> tuple[str, ...]:
    return tuple(data.get("free") or {})[:SITE_BUTTONS]


def _rooms(data: Data, ctx: Any) -> tuple[str, ...]:
    return tuple((data.get("free") or {}).get(data.get("site") or "", ()))[:ROOM_BUTTONS]


def _room_text(text: str, data: Data, ctx: Any) -> Lookup:
    return Lookup("room", text)


STEPS: dict[str, Step] = {
    step.key: step
    for step in (
        Step("person", text=_person_text),
        Step("site", choices=_sites),
        Step("room", choices=_rooms, text=_room_text, per_row=3),
        Step("summary", choices=fixed_choices(("submit", "cancel")), per_row=2),
    )
}
ORDER = tuple(STEPS)
FIRST_STEP = "person"


def apply_choice(step: Step, value: str, data: Data, ctx: Any) -> Updates | Invalid:
    """A pressed button: its value must be one this step offers right now. A site chosen
    anew forgets the room chosen at another."""
    if step.choices is None or value not in step.choices(data, ctx):
        return Invalid("choice_stale")
    if step.key == "site":
        return {"site": value, "room": None}
    return {step.key: value}


def advance(step_key: str, updates: Updates, data: Data) -> tuple[str, Data]:
    """Merge an accepted answer; the next question in order."""
    merged = {**data, **updates}
    return ORDER[min(ORDER.index(step_key) + 1, len(ORDER) - 1)], merged


def missing_for_submit(data: Data) -> str | None:
    """The first step whose answer a restored draft lacks, else None."""
    return next((key for key in ("person", "site", "room") if not data.get(key)), None)
