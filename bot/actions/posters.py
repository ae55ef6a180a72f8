"""QR posters to print (二维码张贴): the words of each poster asked for (the town's places from
the config, venues and the people to call from the database), and ``send``, which files one
set for a chat through the outbox (audited ``posters``); the PDF or PNG is made from the
words by bot.runtime.pdf (by the outbox worker for a chat, by ``paicha posters`` on the
server). Never imports telegram."""

from __future__ import annotations

import html
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from bot.config import Config
from bot.domain import posters as domain
from bot.domain.invalid import Invalid
from bot.domain.masking import Audience
from bot.domain.roles import Actor
from bot.domain.units import is_venue
from bot.runtime import pdf
from bot.runtime.services import Services
from storage import audit, outbox
from storage import posters as store
from storage import units as unit_store

MODULE = "posters"
ACTION = "posters"  # audited; a refusal: denied:posters
# People named on one poster: more do not fit the page in large print (the hotline is always
# there besides).
MAX_CONTACTS = 3


@dataclass(frozen=True)
class Made:
    """The words of a set of posters (``pdf.POSTER``'s for each in turn), how many there are,
    the characters of them the font lacks (printed □: the reader is told), and the posters."""

    words: list[str]
    count: int
    missing: list[str]
    posters: list[domain.Poster]


def villages(config: Config) -> list[domain.VillagePlace]:
    return [
        domain.VillagePlace(v.id, v.name, tuple(domain.GridPlace(g.id, g.name) for g in v.grids))
        for v in config.villages
    ]


async def venues(services: Services) -> list[domain.Venue]:
    """The active venues (hotels, homestays, rentals, farmstays): those in the database, and
    those of the config not yet there (``paicha posters`` before the bot's first start)."""
    stored = {r["id"]: domain.Venue(r["id"], r["name"], r["village_id"], r["grid_id"])
              for r in await unit_store.active(services.db) if is_venue(r["kind"])}  # fmt: skip
    listed = [domain.Venue(u.id, u.name, u.village, u.grid)
              for u in services.config.key_units if is_venue(u.kind)]  # fmt: skip
    return [*stored.values(), *(v for v in listed if v.id not in stored)]


async def _contacts(services: Services) -> dict[str, list[dict[str, Any]]]:
    """The people each grid (its workers) and village (its admins) names: those with a name
    on file, at most ``MAX_CONTACTS`` each."""
    people: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in await store.contacts(services.db):
        if row["name"] and len(people[row["scope"]]) < MAX_CONTACTS:
            people[row["scope"]].append(
                {"role": row["role"], "name": row["name"], "phone": row["phone"]}
            )
    return people


def _words(services: Services, locale: str, username: str, poster: domain.Poster,
           people: list[dict[str, Any]]) -> list[str]:  # fmt: skip
    """One poster's words in ``pdf.POSTER``'s order, as plain text (the templates escape
    HTML; a PDF shows text as it is). Names and phones in full: a poster is there to be
    called from."""

    def text(name: str, **params: Any) -> str:
        rendered = services.text(locale, MODULE, name, Audience.ENTITLED, **params)
        return html.unescape(rendered)

    town = services.config.town
    place = {"kind": poster.kind, "name": poster.name, "village": poster.village}
    return [
        text("heading", kind=poster.kind),
        text("place", town=town.name, p=place),
        domain.deep_link(username, poster.arrival_payload),
        text("steps"),
        domain.deep_link(username, poster.tip_payload),
        text("tip_caption"),
        text("contacts", people=people),
        text("hotline", number=town.hotline),
    ]


async def build(services: Services, username: str, locale: str, *, village: str | None = None,
                grid: str | None = None, unit: str | None = None) -> Made | Invalid:  # fmt: skip
    """The posters of the town, a village (with its grids and venues), a grid or a venue.
    Invalid: ``no_hotline`` (a poster must give a number to call), ``no_village``,
    ``no_grid``, ``no_venue``."""
    if not services.config.town.hotline:
        return Invalid("no_hotline")
    chosen = domain.select(villages(services.config), await venues(services),
                           village=village, grid=grid, unit=unit)  # fmt: skip
    if isinstance(chosen, Invalid):
        return chosen
    people = await _contacts(services)
    words = [w for p in chosen for w in _words(services, locale, username, p, people[p.staff_of])]
    return Made(words, len(chosen), pdf.missing("".join(words)), chosen)


async def send(services: Services, actor: Actor, chat_id: int, username: str, locale: str, *,
               village: str, grid: str | None = None) -> Made | Invalid:  # fmt: skip
    """A village's posters as one PDF, or one grid's as a PNG, to ``chat_id`` through the
    outbox, made by its worker when sent; audited ``posters`` (what, how many pages). The
    caller checked ``domain.may_print``. Invalid: why ``build`` could not."""
    now = services.now()
    subject = f"grid:{grid}" if grid else f"village:{village}"
    made = await build(services, username, locale, village=village, grid=grid)
    if isinstance(made, Invalid):
        return made
    layout, extension = ("poster_png", "png") if grid else ("posters", "pdf")
    name = services.text(locale, MODULE, "file_name", what=grid or village)
    caption = (services.text(locale, MODULE, "caption_one", name=made.posters[0].name) if grid
               else services.text(locale, MODULE, "caption", count=made.count,
                                  village=made.posters[0].name))  # fmt: skip
    if made.missing:
        caption += "\n" + services.text(locale, MODULE, "missing_glyphs", chars=made.missing)
    detail = json.dumps({"pages": made.count, "format": extension}, ensure_ascii=False)
    async with services.db.write() as conn:
        await audit.record(conn, now, actor.user_id, ACTION, subject, detail)
        document = (f"{name}.{extension}", pdf.recipe(layout, made.words, now))
        key = f"posters:{chat_id}:{subject}:{now.isoformat()}"
        await outbox.enqueue(conn, chat_id=chat_id, now=now, text=caption, subject=subject,
                             document=document, dedup_key=key)  # fmt: skip
    services.wake_outbox()
    return made
