"""Key units and venues (重点单位与场所, plan §2–§3: 社区吹哨、单位报到): their kinds, the subject
that names one in the audit log and on the ladder, the venue's deep link, and what a unit's
state becomes when the config is read again. Pure: no telegram, no SQL.

A unit is listed in the config (``[[key_units]]``) and seeded at start; its liaison (联络员) is
staff with role ``unit`` (bot.domain.roles.ROLE_UNIT) and the unit's id as scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("enterprise", "school", "hotel", "homestay", "rental", "farmstay", "other")
# Venues take guests for the night: their arrival form asks the guest register (B's steps).
VENUE_KINDS = ("hotel", "homestay", "rental", "farmstay")
# Kinds an older config may still name, and the kind each now is.
KIND_ALIASES = {"enterprise_park": "enterprise"}

FLOW = "un"  # callback data of the units' buttons: v1:un:<what>:<unit id>
SUBJECT_PREFIX = "unit:"
VENUE_PREFIX = "u-"  # the venue's deep link: /start u-<unit id> (handlers/start.py)
# A config id (bot.config SmallId), or one a unit added in chat will have (DW01…, never a
# config id): both fit a deep-link payload.
UNIT_ID = re.compile(r"[a-z0-9_]{1,16}|DW[0-9]{2,6}")
SOURCE_CONFIG = "config"  # a unit listed in the config file (storage.units.seed_from_config)
# Units a page of /units lists: a town may have a hundred venues, more than one message and
# one keyboard hold; twenty lines and buttons are still easy to scan on a phone.
PAGE_SIZE = 20


@dataclass(frozen=True)
class UnitSpec:
    """A unit as the config lists it (bot.actions.units.specs)."""

    id: str
    name: str
    kind: str
    village_id: str
    grid_id: str | None = None
    address: str = ""
    headcount: int = 0
    note: str = ""
    monitored: bool = False  # the initial 重点监测: a leader's later choice is kept


def canonical_kind(kind: str) -> str:
    """The kind an older name stands for (``enterprise_park`` -> ``enterprise``)."""
    return KIND_ALIASES.get(kind, kind)


def is_venue(kind: str) -> bool:
    return kind in VENUE_KINDS


def subject(unit_id: str) -> str:
    return f"{SUBJECT_PREFIX}{unit_id}"


def unit_of(subject_: str) -> str | None:
    """The unit id of a subject ``unit:<id>``; None for any other subject."""
    if not subject_.startswith(SUBJECT_PREFIX):
        return None
    rest = subject_[len(SUBJECT_PREFIX) :]
    return rest if UNIT_ID.fullmatch(rest) else None


def venue_payload(unit_id: str) -> str:
    """The deep-link payload of a unit's QR code (``u-<id>``)."""
    return f"{VENUE_PREFIX}{unit_id}"


def page_of(count: int, requested: int) -> tuple[int, int]:
    """The page of ``count`` units to show (from 0) and how many pages there are (one, even
    empty). A stale or made-up page number (the list grew shorter): the nearest there is."""
    pages = max(-(-count // PAGE_SIZE), 1)
    return min(max(requested, 0), pages - 1), pages


def venue_link(bot_username: str, unit_id: str) -> str:
    return f"https://t.me/{bot_username}?start={venue_payload(unit_id)}"


def seeded_monitored(stored: bool | None, initial: bool) -> bool:
    """重点监测 when the config is read again: the leaders' choice in chat once the unit is
    stored (``stored`` not None) — the file's ``monitored`` is only where a unit starts."""
    return initial if stored is None else stored
