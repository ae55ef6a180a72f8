"""Centralised isolation sites (集中隔离点, plan §8): their states, the activation checklist, and
the answers an admin types when adding or changing a site (rooms, capacity).

A site is reserved (储备) until a leader orders it activated (启用中); its manager ticks the
four checklist items (人员到位, 物资到位, 房间准备, 医务人员到位) within the activation countdown
(``[escalation] site``, from the order plus ``schedule.site_activation_hours``), and the last
tick makes it active (已启用). Pure: no telegram, no SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.escalation import Rung
from bot.domain.invalid import Invalid

RESERVED, ACTIVATING, ACTIVE, CLOSED = "reserved", "activating", "active", "closed"
STATES = (RESERVED, ACTIVATING, ACTIVE, CLOSED)
CHECKLIST = ("staff", "supplies", "rooms", "medical")  # in the order the card shows them
KIND = "site"  # the escalation kind of an activation countdown
SUBJECT_PREFIX = "site:"
FLOW = "si"  # callback data of the sites' buttons: v1:si:<what>:<site id>[:<item>]

# What may happen to a site in each state, and the state it leads to. A closed site is
# reserved again when reopened; an activation under way can be closed (called off).
EVENTS = ("order", "complete", "close", "reopen")
_MOVES = {
    (RESERVED, "order"): ACTIVATING,
    (ACTIVATING, "complete"): ACTIVE,
    (RESERVED, "close"): CLOSED,
    (ACTIVATING, "close"): CLOSED,
    (ACTIVE, "close"): CLOSED,
    (CLOSED, "reopen"): RESERVED,
}

# The activation countdown's ladder unless ``[escalation] site`` replaces it: the site's
# managers reminded two hours before the deadline, the village admins and the leadership
# group at the deadline itself (overdue is the group's business at once, plan §8: 24小时内).
ACTIVATION_LADDER = (Rung("assignee", -120), Rung("village_admin", 0), Rung("leadership", 0))

MAX_ROOMS = 2000  # rooms of one site: a big hotel, never a typo's 10**9
MAX_ROOM_LEN = 8  # "A-1203"
MAX_NAME = 40
MAX_ADDRESS = 80
_ROOM = re.compile(r"[A-Za-z0-9-]{1,8}")
_RANGE = re.compile(r"(\d{1,6})\s*[-~～—至到]\s*(\d{1,6})")
_RANGE_TOKEN = re.compile(r"(\d{1,6})-(\d{1,6})")
_SEPARATORS = re.compile(r"[\s,，、;；]+")
SITE_ID = re.compile(r"[A-Z0-9]{2,8}")


def next_state(state: str, event: str) -> str | None:
    """The state ``event`` leads to from ``state``; None when it may not happen there."""
    return _MOVES.get((state, event))


def subject(site_id: str) -> str:
    return f"{SUBJECT_PREFIX}{site_id}"


def site_of(subject_: str) -> str | None:
    """The site id of an escalation subject ``site:<id>``; None for any other subject."""
    if not subject_.startswith(SUBJECT_PREFIX):
        return None
    rest = subject_[len(SUBJECT_PREFIX) :]
    return rest if SITE_ID.fullmatch(rest) else None


def activation_deadline(ordered_at: datetime, hours: float) -> datetime:
    return ordered_at + timedelta(hours=hours)


def complete(ticked: frozenset[str] | set[str]) -> bool:
    """Every checklist item ticked: the site may take people."""
    return all(item in ticked for item in CHECKLIST)


def numbered_rooms(count: int) -> tuple[str, ...]:
    """A room count in the config or typed: rooms "1" … "<count>"."""
    return tuple(str(i) for i in range(1, count + 1))


@dataclass(frozen=True)
class SiteSpec:
    """A site as the config or an admin's answers describe it (what storage writes)."""

    id: str
    name: str
    address: str
    village_id: str | None
    rooms: tuple[str, ...]
    capacity: int
    state: str = RESERVED
    latitude: float | None = None
    longitude: float | None = None


def seeded_state(stored: str, configured: str) -> str:
    """A config site's state at start: the file may make a reserved site active, but never
    undoes what happened at runtime (an activation under way, an active or closed site)."""
    return configured if stored == RESERVED else stored


@dataclass(frozen=True)
class Occupancy:
    """People staying (assigned or arrived) at a site against its capacity."""

    capacity: int
    taken: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.taken, 0)


# -- typed answers (adding or changing a site in chat) ---------------------------------------


def parse_name(text: str) -> str | Invalid:
    name = " ".join(text.split())
    if not name:
        return Invalid("site_name_empty")
    if len(name) > MAX_NAME:
        return Invalid("site_text_long", {"limit": MAX_NAME})
    return name


def parse_address(text: str) -> str | Invalid:
    address = " ".join(text.split())
    if len(address) < 4:
        return Invalid("site_address_short")
    if len(address) > MAX_ADDRESS:
        return Invalid("site_text_long", {"limit": MAX_ADDRESS})
    return address


def parse_rooms(text: str) -> tuple[str, ...] | Invalid:
    """A room count ("40"), room numbers ("101 102 103") or ranges ("101-120，201-220"), in
    any mix; every room once. Ranges hold numbers only, low to high."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        count = int(text)
        if not 1 <= count <= MAX_ROOMS:
            return Invalid("site_rooms_count", {"limit": MAX_ROOMS})
        return numbered_rooms(count)
    text = _RANGE.sub(r"\1-\2", text)  # "101 至 110": one token, "101-110"
    rooms: list[str] = []
    for token in filter(None, _SEPARATORS.split(text)):
        found = _expand(token)
        if isinstance(found, Invalid):
            return found
        rooms += found
        if len(rooms) > MAX_ROOMS:
            return Invalid("site_rooms_count", {"limit": MAX_ROOMS})
    if not rooms:
        return Invalid("site_rooms_empty")
    if len(set(rooms)) != len(rooms):
        twice = next(r for r in rooms if rooms.count(r) > 1)
        return Invalid("site_room_twice", {"room": twice})
    return tuple(rooms)


def _expand(token: str) -> list[str] | Invalid:
    span = _RANGE_TOKEN.fullmatch(token)
    if span:
        low, high = int(span[1]), int(span[2])
        if high < low or high - low >= MAX_ROOMS:
            return Invalid("site_room_range", {"text": token})
        width = len(span[1]) if span[1].startswith("0") else 0  # "001-020" keeps its zeros
        return [str(n).zfill(width) for n in range(low, high + 1)]
    if not _ROOM.fullmatch(token):
        return Invalid("site_room_bad", {"text": token[: MAX_ROOM_LEN * 2]})
    return [token.upper()]


def parse_capacity(text: str, rooms: int) -> int | Invalid:
    """People the site takes: at most one a room (a room holds one stay at a time)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        return Invalid("site_capacity_number")
    capacity = int(text)
    if capacity > rooms:
        return Invalid("site_capacity_rooms", {"rooms": rooms})
    return capacity


def new_site_id(taken: set[str] | frozenset[str]) -> str:
    """The id of a site added in chat: ``GLC01``, ``GLC02`` … (隔离点, chat), the first free."""
    n = 1
    while f"GLC{n:02d}" in taken:
        n += 1
    return f"GLC{n:02d}"
