"""Supplies (物资): receive (入库), issue (出库, to another place or a person), count (盘点) at a
place, and a village's request to the town store, issued or refused; each one transaction
(the stock, its movement rows, the alerts in the outbox, the audit entry).

The low-stock rule is bot.domain.supplies.level_after: a movement that takes an item under
its minimum at a place alerts the place's keepers and the leadership group once; further
movements while it stays under do not; back at or above the minimum, the keepers are told it
is made up (已补足). Every write is inside ``db.write()`` (BEGIN IMMEDIATE behind one lock),
and an issue takes stock in one checked statement: two keepers at once neither go under 0
nor alert twice."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import aiosqlite

from bot.config import SupplyItem
from bot.domain import supplies as domain
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.roles import ROLE_SITE_MANAGER, ROLE_VILLAGE_ADMIN, Actor
from bot.runtime import escalation
from bot.runtime.render import reader_locales
from bot.runtime.services import Services
from storage import audit, drafts, outbox
from storage import sites as site_store
from storage import supplies as store
from storage.db import Reader
from storage.outbox import PRIORITY_ALERT, PRIORITY_NOTIFY
from storage.supplies import Move

log = logging.getLogger(__name__)

FLOW = "wz"  # v1:wz:<what>:<place code | request id>
ISSUE_REQUEST, REFUSE_REQUEST = "ok", "no"


def subject(place: str, item: str | None = None) -> str:
    return f"supply:{place}:{item}" if item else f"supply:{place}"


def request_subject(request_id: int) -> str:
    return f"supply_request:{request_id}"


def town_keepers(services: Services) -> frozenset[int]:
    return frozenset(services.config.supplies.keepers)


def is_keeper(services: Services, actor: Actor) -> bool:
    return domain.keeps_any(actor, town_keepers(services))


def may_keep(services: Services, actor: Actor, place: str) -> bool:
    return domain.can_keep(actor, place, town_keepers(services))


def may_request(services: Services, actor: Actor, place: str) -> bool:
    return domain.can_request(actor, place, town_keepers(services))


def item_of(services: Services, item_id: str) -> SupplyItem:
    found = services.config.supplies.item(item_id)
    if found is None:
        raise ValueError(f"no supply item {item_id!r} in the config")
    return found


# --- places ----------------------------------------------------------------------------------


async def places(src: Reader, services: Services) -> list[str]:
    """Every place stock is kept at: the town store, each village, each site not closed."""
    sites = [row["id"] for row in await site_store.listed(src) if row["state"] != "closed"]
    return [domain.TOWN, *(domain.village_place(v.id) for v in services.config.villages),
            *(domain.site_place(s) for s in sites)]  # fmt: skip


async def place_names(src: Reader, services: Services, locale: str) -> dict[str, str]:
    """Each place's name as people call it (镇物资库, a village's, a site's)."""
    sites = {row["id"]: row["name"] for row in await site_store.listed(src)}
    names = {domain.TOWN: services.text(locale, "supplies", "town_store")}
    names |= {domain.village_place(v.id): v.name for v in services.config.villages}
    return names | {domain.site_place(s): name for s, name in sites.items()}


async def place_keepers(conn: aiosqlite.Connection, services: Services, place: str) -> list[int]:
    """Who keeps the place's stock. The town store with no keeper configured: the admins —
    an alert is never sent to nobody."""
    kind, ident = domain.split(place)
    if kind == domain.VILLAGE:
        return await store.keepers(conn, ROLE_VILLAGE_ADMIN, ident)
    if kind == domain.SITE:
        return await store.keepers(conn, ROLE_SITE_MANAGER, ident)
    return list(services.config.supplies.keepers or services.config.leadership.admins)


# --- the movements ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A movement done (``quantity``: the stock after it), or refused (``quantity``: the stock
    there is, fewer than asked)."""

    done: bool
    quantity: int


async def _apply(conn: aiosqlite.Connection, services: Services, move: Move,
                 quantity: int) -> store.Level | None:  # fmt: skip
    """One movement of ``quantity`` (counted quantity, for a count) in the caller's
    transaction: the stock, its row, the low-stock latch and alert. None: an issue of more
    than is in stock (nothing written)."""
    now = services.now()
    minimum = item_of(services, move.item).minimum_at(move.place)
    if move.kind == domain.RECEIVE:
        level = await store.add(conn, move.place, move.item, quantity, minimum, now)
    elif move.kind == domain.ISSUE:
        level = await store.take(conn, move.place, move.item, quantity, minimum, now)
    else:
        level = await store.count(conn, move.place, move.item, quantity, minimum, now)
    if level is None:
        return None
    delta = level.after - level.before
    move_id = await store.record(conn, replace(move, delta=delta, quantity_after=level.after), now)
    await audit.record(conn, now, move.user_id, f"supply.{move.kind}",
                       subject(move.place, move.item), f"{delta:+d}")  # fmt: skip
    below, event = domain.level_after(level.after, minimum, level.was_below)
    if below != level.was_below:
        await store.set_below(conn, move.place, move.item, below)
    if event is not None:
        await _tell_level(conn, services, move, level.after, minimum, event, move_id)
    return level


async def _tell_level(conn: aiosqlite.Connection, services: Services, move: Move, quantity: int,
                      minimum: int, event: str, move_id: int) -> None:  # fmt: skip
    """Under the minimum: the place's keepers and the group, once for this crossing; made up
    again: its keepers."""
    chats = await place_keepers(conn, services, move.place)
    if event == domain.LOW:
        chats = [*chats, services.config.leadership.chat_id]
    default = services.config.bot.default_locale
    now = services.now()
    for chat, locale in (await reader_locales(conn, chats, default)).items():
        names = await place_names(conn, services, locale)
        text = services.text(locale, "supplies", f"level_{event}", place=names[move.place],
                             item=item_params(services, move.item, locale), quantity=quantity,
                             minimum=minimum)  # fmt: skip
        key = f"{subject(move.place, move.item)}:{event}:{move_id}"
        await outbox.enqueue(conn, chat_id=chat, text=text, now=now, subject=key,
                             priority=PRIORITY_ALERT if event == domain.LOW else PRIORITY_NOTIFY,
                             dedup_key=f"{key}:{chat}")  # fmt: skip
    log.info("supplies %s: %s at %s (%d, minimum %d)", event, move.item, move.place, quantity,
             minimum)  # fmt: skip


def item_params(services: Services, item_id: str, locale: str) -> dict[str, str]:
    """An item's name and unit in the reader's language."""
    item = item_of(services, item_id)
    english = locale == "en"
    return dict(id=item.id, name=item.name_en if english else item.name,
                unit=item.unit_en if english else item.unit)  # fmt: skip


async def move(services: Services, data: dict[str, Any], user_id: int,
               token: str | None = None) -> Outcome:  # fmt: skip
    """A keeper's 入库 / 出库 / 盘点 as the flow answered it (``data``: place, op, item,
    quantity; for an issue ``to``: a place's code, or a person's name in ``person``), its
    draft dropped when done. An issue of more than is in stock is refused with the stock."""
    place, item, quantity = data["place"], data["item"], data["quantity"]
    kind = data["op"]
    to = data.get("to", domain.PERSON)
    to_place = None if to == domain.PERSON else domain.from_code(to)
    base = Move(kind, place, item, 0, 0, user_id, to_place=to_place,
                to_person=data.get("person") if kind == domain.ISSUE else None)  # fmt: skip
    async with services.db.write() as conn:
        level = await _apply(conn, services, base, quantity)
        if level is None:
            return Outcome(False, (await store.quantities(conn, place)).get(item, 0))
        if to_place is not None:
            await _apply(conn, services, Move(domain.RECEIVE, to_place, item, 0, 0, user_id,
                                              note=f"from {place}"), quantity)  # fmt: skip
        if token is not None:
            await drafts.delete(conn, user_id, token)
    services.wake_outbox()
    return Outcome(True, level.after)


# --- what /supplies shows --------------------------------------------------------------------


async def listing(services: Services, shown: Sequence[str], locale: str,
                  user_id: int) -> list[dict[str, Any]]:  # fmt: skip
    """The stock of each place of ``shown``, as /supplies lists it: every configured item
    (none kept shows 0) with its minimum there; places with items under their minimum
    first (then in the given order), those items first within a place."""
    names = await place_names(services.db, services, locale)
    rows = await store.stock(services.db)
    held = {(r["place"], r["item"]): r["quantity"] for r in rows}
    out = []
    for place in shown:
        items = []
        for item in services.config.supplies.items:
            quantity, minimum = held.get((place, item.id), 0), item.minimum_at(place)
            items.append(dict(**item_params(services, item.id, locale), quantity=quantity,
                              minimum=minimum, below=quantity < minimum))  # fmt: skip
        items.sort(key=lambda i: not i["below"])
        out.append(dict(place=place, code=domain.code(place), name=names.get(place, place),
                        stock=items, below=any(i["below"] for i in items)))  # fmt: skip
    out.sort(key=lambda p: not p["below"])
    async with services.db.write() as conn:
        await audit.record(conn, services.now(), user_id, "supply.list", None, str(len(out)))
    return out


async def below_minimum(conn: aiosqlite.Connection, services: Services,
                        locale: str) -> list[dict[str, Any]] | None:  # fmt: skip
    """The daily report's section: per place with stock kept (the town store always), the
    items under their minimum there; None when no supplies are configured (no section)."""
    if not services.config.supplies.items:
        return None
    rows = await store.stock(conn)
    kept = {domain.TOWN} | {r["place"] for r in rows}
    ordered = [p for p in await places(conn, services) if p in kept]
    names = await place_names(conn, services, locale)
    out = []
    for place in ordered:
        held = {r["item"]: r["quantity"] for r in rows if r["place"] == place}
        minimums = {i.id: i.minimum_at(place) for i in services.config.supplies.items}
        short = domain.below_minimum(held, minimums)
        if short:
            out.append(dict(name=names[place], stock=[
                dict(**item_params(services, item, locale), quantity=n, minimum=low)
                for item, n, low in short]))  # fmt: skip
    return out


# --- a village's request to the town store ---------------------------------------------------


async def request(services: Services, data: dict[str, Any], user_id: int, token: str) -> str:
    """A village keeper's request (``data``: place, lines, note): stored, each town store
    keeper sent a card to issue or refuse it; the draft dropped. Its reference."""
    now = services.now()
    async with services.db.write() as conn:
        ref = await store.next_ref(conn, services.config.town.code, services.local_today())
        request_id = await store.create_request(conn, ref, data["place"], data["lines"],
                                                data.get("note", ""), user_id, now)  # fmt: skip
        await _to_store(conn, services, request_id, first=True)
        await drafts.delete(conn, user_id, token)
        await audit.record(conn, now, user_id, "supply.request", request_subject(request_id),
                           ref)  # fmt: skip
    services.wake_outbox()
    return ref


async def request_params(src: Reader, services: Services, row: Any,
                         locale: str) -> dict[str, Any]:  # fmt: skip
    names = await place_names(src, services, locale)
    return dict(id=row["id"], ref=row["ref"], place=names.get(row["place"], row["place"]),
                state=row["state"], note=row["note"], reason=row["reason"] or "",
                requested=escalation.local(services, row["requested_at"]),
                lines=[dict(**item_params(services, line["item"], locale),
                            quantity=line["quantity"]) for line in store.lines(row)])  # fmt: skip


def store_markup(services: Services, locale: str, row: Any) -> dict[str, Any]:
    """批准发放 / 拒绝 while the request is open; no buttons once decided."""
    if row["state"] != "open":
        return inline_markup([])
    return inline_markup([[
        button(services.text(locale, "supplies", "btn_issue_request"),
               callback(FLOW, ISSUE_REQUEST, str(row["id"]))),
        button(services.text(locale, "supplies", "btn_refuse_request"),
               callback(FLOW, REFUSE_REQUEST, str(row["id"]))),
    ]])  # fmt: skip


async def _to_store(conn: aiosqlite.Connection, services: Services, request_id: int, *,
                    first: bool) -> None:  # fmt: skip
    """Each town store keeper's card: sent at the request, else edited to its decision."""
    row = await store.get_request(conn, request_id)
    chats = await place_keepers(conn, services, domain.TOWN)
    now = services.now()
    for chat, locale in (await reader_locales(conn, chats, services.config.bot.default_locale)
                         ).items():  # fmt: skip
        message = dict(chat_id=chat, now=now, subject=request_subject(request_id),
                       text=services.text(locale, "supplies", "request_card",
                                          r=await request_params(conn, services, row, locale)),
                       reply_markup=store_markup(services, locale, row))  # fmt: skip
        key = f"{request_subject(request_id)}:to:{chat}"
        if first:
            await outbox.enqueue(conn, priority=PRIORITY_ALERT, dedup_key=key, **message)
        else:
            await outbox.enqueue_edit(conn, edits=key, priority=PRIORITY_NOTIFY, **message)


async def find_request(services: Services, request_id: int) -> Any:
    return await store.get_request(services.db, request_id)


@dataclass(frozen=True)
class Decision:
    """``done``; else ``decided`` (no longer open) or ``short`` with the lines the store
    cannot cover: (item params, wanted, in stock)."""

    outcome: str
    short: tuple[tuple[dict[str, str], int, int], ...] = ()


async def issue_request(services: Services, request_id: int, user_id: int,
                        locale: str) -> Decision:  # fmt: skip
    """批准发放: every line moved from the town store to the village in one transaction —
    none when the store lacks any of them (the keeper told how many there are)."""
    async with services.db.write() as conn:
        row = await store.get_request(conn, request_id)
        if row is None or row["state"] != "open":
            return Decision("decided")
        wanted = [(line["item"], line["quantity"]) for line in store.lines(row)]
        short = domain.shortfalls(await store.quantities(conn, domain.TOWN), wanted)
        if short:
            return Decision("short", tuple((item_params(services, item, locale), n, have)
                                           for item, n, have in short))  # fmt: skip
        for item, quantity in wanted:
            await _apply(conn, services, Move(domain.ISSUE, domain.TOWN, item, 0, 0, user_id,
                                              to_place=row["place"], request_id=request_id),
                         quantity)  # fmt: skip
            await _apply(conn, services, Move(domain.RECEIVE, row["place"], item, 0, 0, user_id,
                                              request_id=request_id,
                                              note=f"from {domain.TOWN}"), quantity)  # fmt: skip
        await _decide(conn, services, request_id, "issued", None, user_id)
    services.wake_outbox()
    return Decision("done")


async def refuse_request(services: Services, request_id: int, reason: str, user_id: int,
                         token: str) -> bool:  # fmt: skip
    """拒绝 with the keeper's reason; False when the request is no longer open."""
    async with services.db.write() as conn:
        await drafts.delete(conn, user_id, token)
        row = await store.get_request(conn, request_id)
        if row is None or row["state"] != "open":
            return False
        await _decide(conn, services, request_id, "refused", reason, user_id)
    services.wake_outbox()
    return True


async def _decide(conn: aiosqlite.Connection, services: Services, request_id: int, state: str,
                  reason: str | None, user_id: int) -> None:  # fmt: skip
    """Close the request, edit the keepers' cards, tell the requester, audit."""
    now = services.now()
    await store.decide(conn, request_id, state, reason, user_id, now)
    await _to_store(conn, services, request_id, first=False)
    row = await store.get_request(conn, request_id)
    requester = row["requested_by"]
    locale = (await reader_locales(conn, [requester], services.config.bot.default_locale))[
        requester
    ]
    text = services.text(locale, "supplies", f"request_{state}",
                         r=await request_params(conn, services, row, locale))  # fmt: skip
    await outbox.enqueue(conn, chat_id=requester, text=text, now=now, priority=PRIORITY_NOTIFY,
                         dedup_key=f"{request_subject(request_id)}:{state}",
                         subject=request_subject(request_id))  # fmt: skip
    await audit.record(conn, now, user_id, f"supply.request_{state}",
                       request_subject(request_id), reason)  # fmt: skip


async def open_request_cards(services: Services, locale: str) -> list[tuple[str, dict]]:
    """The open requests as the store keepers' cards (text, buttons), oldest first."""
    cards = []
    for row in await store.open_requests(services.db):
        params = await request_params(services.db, services, row, locale)
        cards.append((services.text(locale, "supplies", "request_card", r=params),
                      store_markup(services, locale, row)))  # fmt: skip
    return cards
