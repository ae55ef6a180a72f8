"""QR posters to print (二维码张贴): which posters a choice of village, grid or venue gives, the
deep links their two codes carry, who may print them, and the town's hotline. Pure: no
telegram, no SQL, no drawing (bot.runtime.pdf lays a poster out).

A poster's big code opens the arrival form with the place prefilled (``a-<grid>``,
``a-<village>``: bot.flows.arrivals.DEEP_LINK; a venue's ``u-<unit>``: bot.domain.units), the
small one the tip form (``t-<grid>`` / ``t-<village>``: bot.domain.tips.parse_tip_payload; a
venue's tips go to the grid that follows it, else its village).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers
from phonenumbers import shortnumberinfo

from bot.domain.invalid import Invalid
from bot.domain.roles import Actor
from bot.domain.units import venue_payload

GRID, VILLAGE, VENUE = "grid", "village", "venue"
ARRIVAL_PREFIX, TIP_PREFIX = "a-", "t-"
PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what Telegram's /start carries
HOTLINE_LIMIT = 20
_HOTLINE_CHARS = re.compile(r"\+?[0-9(][0-9 ()\-]*")
_HOTLINE_TYPES = (
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,  # 800 numbers
    phonenumbers.PhoneNumberType.SHARED_COST,  # 400 numbers
)


@dataclass(frozen=True)
class GridPlace:
    id: str
    name: str


@dataclass(frozen=True)
class VillagePlace:
    id: str
    name: str
    grids: tuple[GridPlace, ...]


@dataclass(frozen=True)
class Venue:
    id: str
    name: str
    village_id: str
    grid_id: str | None


@dataclass(frozen=True)
class Poster:
    """One A4 page: ``kind`` (grid, village, venue), the place's id and names, and the place
    whose staff it names (a grid's workers, a village's admins, a venue's grid's workers)."""

    kind: str
    id: str
    name: str
    village: str  # the village's name ("" on the village's own poster)
    staff_of: str  # a grid id or a village id
    tip_place: str  # a grid id or a village id

    @property
    def arrival_payload(self) -> str:
        return venue_payload(self.id) if self.kind == VENUE else f"{ARRIVAL_PREFIX}{self.id}"

    @property
    def tip_payload(self) -> str:
        return f"{TIP_PREFIX}{self.tip_place}"


def deep_link(bot_username: str, payload: str) -> str:
    """The t.me link that opens the bot with ``/start <payload>``."""
    if not PAYLOAD.fullmatch(payload):
        raise ValueError(f"not a deep-link payload: {payload!r}")
    return f"https://t.me/{bot_username}?start={payload}"


def _village_posters(village: VillagePlace, venues: Sequence[Venue]) -> list[Poster]:
    grids = {g.id: g for g in village.grids}
    posters = [Poster(VILLAGE, village.id, village.name, "", village.id, village.id)]
    posters += [Poster(GRID, g.id, g.name, village.name, g.id, g.id) for g in village.grids]
    for venue in venues:
        if venue.village_id == village.id:
            place = venue.grid_id if venue.grid_id in grids else village.id
            posters.append(Poster(VENUE, venue.id, venue.name, village.name, place, place))
    return posters


def select(villages: Sequence[VillagePlace], venues: Sequence[Venue], *,
           village: str | None = None, grid: str | None = None,
           unit: str | None = None) -> list[Poster] | Invalid:  # fmt: skip
    """The posters asked for, in the town's order (each village, then its grids, then its
    venues): all of them; one village's (``village``); one grid's; one venue's. An id the
    town does not have: Invalid (``no_village``, ``no_grid``, ``no_venue``)."""
    chosen = [v for v in villages if village in (None, v.id)]
    if not chosen:
        return Invalid("no_village")
    posters = [p for v in chosen for p in _village_posters(v, venues)]
    for kind, wanted, reason in ((GRID, grid, "no_grid"), (VENUE, unit, "no_venue")):
        if wanted is not None:
            posters = [p for p in posters if p.kind == kind and p.id == wanted]
            if not posters:
                return Invalid(reason)
    return posters


def may_print(actor: Actor, village_id: str) -> bool:
    """Admins and leaders print any village's posters, a village admin their villages'."""
    return actor.is_admin or actor.is_leader or village_id in actor.admin_villages


def may_open(actor: Actor) -> bool:
    """Whether /posters offers anything at all."""
    return actor.is_admin or actor.is_leader or bool(actor.admin_villages)


def parse_hotline(text: str) -> str | Invalid:
    """The town's hotline as it is to be printed: a mainland landline with its area code
    (023-47521234), a mobile, a 400/800 number, or a short service number (12345, 12320);
    spaces and dashes kept as written."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > HOTLINE_LIMIT or not _HOTLINE_CHARS.fullmatch(cleaned):
        return Invalid("hotline_format")
    digits = re.sub(r"\D", "", cleaned)
    try:
        number = phonenumbers.parse(cleaned if cleaned.startswith("+") else digits, "CN")
    except phonenumbers.NumberParseException:
        return Invalid("hotline_format")
    if number.country_code != phonenumbers.country_code_for_region("CN"):
        return Invalid("hotline_format")
    if shortnumberinfo.is_valid_short_number_for_region(number, "CN"):
        return cleaned
    if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in _HOTLINE_TYPES:
        return cleaned
    return Invalid("hotline_format")
