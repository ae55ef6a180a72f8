"""A person's stay at a centralised isolation site: assigning a room (one transaction: the
stay, its tests, the contact's state, the notices), the arrival (入住) confirmed by the site's
manager, a transfer asked for the person, and what /isolation shows.

Occupancy is right under concurrent assignment: the capacity and the room are checked inside
the same ``BEGIN IMMEDIATE`` transaction that inserts the stay, and the partial unique index
``stays_room_taken`` refuses a second stay in a room whatever got past the check. Two workers
assigning the last room: one gets it, the other is told the nearest site that has room."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import aiosqlite

from bot.actions import cases, release, samples, transfers
from bot.domain import contacts as contact_rules
from bot.domain import isolation as domain
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.isolation import ARRIVAL, CASE, CONTACT, Period, Ref, SiteLoad
from bot.domain.masking import Audience
from bot.runtime.escalation import local
from bot.runtime.render import reader_locales
from bot.runtime.services import Services
from storage import arrivals, audit, drafts, outbox
from storage import cases as case_store
from storage import contacts as contact_store
from storage import isolation as store
from storage import samples as sample_store
from storage import sites as site_store
from storage import transfers as transfer_store
from storage.isolation import Person
from storage.outbox import PRIORITY_NOTIFY

log = logging.getLogger(__name__)

FLOW = domain.FLOW
ASSIGN = "as"  # v1:iso:as:<reference>: "安排隔离" on a contact's or an arrival's card
CENTRALISED = "centralized_isolation"


@dataclass(frozen=True)
class Candidate:
    """Whom a stay would be for, as found by a reference number."""

    person: Person
    ref: str
    name: str
    village_id: str
    grid_id: str
    address: str
    measure_kind: str
    period: Period


@dataclass(frozen=True)
class Refused:
    """Why nothing was assigned: ``code`` names a message of templates/*/isolation.j2."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Assigned:
    stay_id: int
    ref: str
    site_id: str
    site_name: str
    room: str
    period: Period


class _Refusal(Exception):
    """Rolls the assignment's transaction back, carrying the reason."""

    def __init__(self, refused: Refused) -> None:
        super().__init__(refused.code)
        self.refused = refused


def _isolation_measure(services: Services, kind: str) -> Any:
    """The measure whose days and tests a stay follows: a contact's kind's; a case's person
    is isolated as a close contact would be (plan §3: 集中隔离医学观察)."""
    return getattr(services.config.measures, contact_rules.MEASURES[kind])


async def follow_exposure(conn: aiosqlite.Connection, services: Services, contact_id: int) -> None:
    """A contact holding a room was exposed again: the stay takes the contact's new measure
    (14 days from the latest exposure), its tests are planned again and its release moved —
    else the person would be released on the old period's last day."""
    contact = await contact_store.get(conn, contact_id)
    stay = await store.active_of(conn, Person(CONTACT, contact_id))
    if contact is None or stay is None or stay["case_id"] is not None:
        return
    measure = _isolation_measure(services, contact["kind"])
    period = domain.period_of(*_dates(contact), measure.test_days)
    if (period.start.isoformat(), period.end.isoformat()) == (stay["start_date"],
                                                              stay["end_date"]):  # fmt: skip
        return
    await store.set_period(conn, stay["id"], period.start, period.end, period.test_days)
    await samples.plan(conn, services, stay["id"])
    await release.schedule(conn, services, stay["id"])


# --- whom --------------------------------------------------------------------------------


async def whom(conn: aiosqlite.Connection | Any, services: Services, ref: Ref) -> Candidate | None:
    """The open person ``ref`` names, with their measure and isolation period, whatever the
    measure (None: nobody open). The caller checks the scope before saying anything more."""
    finders = {CONTACT: _contact, ARRIVAL: _arrival, CASE: _case}
    return await finders[ref.kind](conn, services, ref.ref)


def assignable(found: Candidate | None, ref: Ref) -> Candidate | Refused:
    """Refused when nobody open is found or their measure is not centralised isolation."""
    if found is None:
        return Refused("not_found", {"ref": ref.ref})
    if found.measure_kind != CENTRALISED:
        return Refused("not_isolation", {"ref": ref.ref})
    return found


async def candidate(conn: aiosqlite.Connection | Any, services: Services,
                    ref: Ref) -> Candidate | Refused:  # fmt: skip
    """The person ``ref`` names, with their isolation period; Refused when nobody open is
    found or their measure is not centralised isolation."""
    return assignable(await whom(conn, services, ref), ref)


def _dates(row: Any) -> tuple[date, date]:
    return date.fromisoformat(row["measure_start"]), date.fromisoformat(row["measure_end"])


async def _contact(conn: Any, services: Services, ref: str) -> Candidate | None:
    row = await contact_store.by_ref(conn, ref)
    if row is None or row["state"] not in ("traced", "isolating"):
        return None
    measure = _isolation_measure(services, row["kind"])
    return Candidate(Person(CONTACT, row["id"]), ref, row["name"], row["village_id"],
                     row["grid_id"], row["address"], row["measure_kind"],
                     domain.period_of(*_dates(row), measure.test_days))  # fmt: skip


async def _arrival(conn: Any, services: Services, ref: str) -> Candidate | None:
    """An arrival report's main person (a companion is assigned as the contact a case's
    list makes of them)."""
    people = await contact_store.report_people(conn, ref)
    row = people and await contact_store.report_person(conn, people[0]["report_id"], 0)
    if not row:
        return None
    report = await arrivals.by_id(conn, row["report_id"])
    test_days = services.config.measures[report["risk"]].test_days
    return Candidate(Person(ARRIVAL, row["report_id"], 0), ref, row["name"], row["village_id"],
                     row["grid_id"], row["address"], row["measure_kind"],
                     domain.period_of(*_dates(row), test_days))  # fmt: skip


async def _case(conn: Any, services: Services, ref: str) -> Candidate | None:
    row = await case_store.by_ref(conn, ref)
    if row is None or row["confirmation"] == "ruled_out":
        return None
    measure = _isolation_measure(services, "close")
    period = domain.case_period(services.local_today(), measure.days, measure.test_days)
    return Candidate(Person(CASE, row["id"]), ref, row["person_name"], row["village_id"],
                     row["grid_id"], row["address"], CENTRALISED, period)  # fmt: skip


async def viewed(services: Services, user_id: int, ref: str) -> None:
    """Staff opened the person (to assign them): every staff view is audited."""
    async with services.db.write() as conn:
        await audit.record(conn, services.now(), user_id, "person.view", ref, "isolation")


# --- where ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A site taking people, as the assignment offers it."""

    id: str
    name: str
    free: int
    rooms: tuple[str, ...]  # its first free rooms, in its own order


async def offers(services: Services) -> list[Offer]:
    """The sites taking people (active or activating, with room), in the config's order."""
    found: list[Offer] = []
    for load in await store.occupancy(services.db):
        if len(found) == domain.SITE_BUTTONS:
            break
        if not load.taking:
            continue
        row = await site_store.get(services.db, load.id)
        taken = await sample_store.rooms(services.db, load.id)
        rooms = domain.free_rooms(site_store.rooms(row), taken)[: domain.ROOM_BUTTONS]
        found.append(Offer(load.id, load.name, load.free, rooms))
    return found


async def room_of(services: Services, site_id: str, text: str) -> str | Refused:
    """A typed room of the site: one of its rooms, and free."""
    row = await site_store.get(services.db, site_id)
    room = domain.parse_room(text, site_store.rooms(row) if row else ())
    if not isinstance(room, str):
        return Refused(room.code.removeprefix("isolation."), dict(room.params))
    if room in await sample_store.rooms(services.db, site_id):
        return Refused("room_taken", {"room": room})
    return room


def _nearest(loads: tuple[SiteLoad, ...], full: SiteLoad) -> dict[str, Any]:
    """The nearest site with room to a full one (same village, distance, config order)."""
    point = (full.latitude, full.longitude) if full.latitude is not None else None
    near = domain.nearest_with_room(loads, full.village_id, point, exclude=full.id)
    return {"site": full.name, "nearest": near.name if near else "",
            "nearest_id": near.id if near else "", "free": near.free if near else 0}  # fmt: skip


# --- assigning -----------------------------------------------------------------------------


async def assign(
    services: Services, ref: Ref, site_id: str, room: str | None, user_id: int,
    draft_token: str | None = None,
) -> Assigned | Refused | None:  # fmt: skip
    """One transaction: the stay in ``room`` (None: the first free room), its tests and
    their timers (bot.actions.samples.plan), its release check (bot.actions.release), a
    contact's state 'isolating' (also when named by their arrival report), the notices to
    the site's managers (full, private, with "入住") and to the leadership group (masked),
    the case cards brought up to date, the audit entry. Refused (nothing written) when the
    person is not open, already holds a room, the site takes nobody or is full (with the
    nearest site that has room), or the room is taken. None: the draft was submitted
    already (a double tap)."""
    now = services.now()
    try:
        async with services.db.write() as conn:
            found = await candidate(conn, services, ref)
            if isinstance(found, Refused):
                raise _Refusal(found)
            if draft_token is not None and not await drafts.delete(conn, user_id, draft_token):
                return None
            done = await _place(conn, services, found, site_id, room, user_id)
            await _notify(conn, services, done)
            await _refresh_cases(conn, services, done.stay_id)
            await audit.record(conn, now, user_id, "stay.assign", domain.subject(done.stay_id),
                               f"{done.site_id}:{done.room}")  # fmt: skip
    except _Refusal as refusal:
        return refusal.refused
    services.wake_outbox()
    log.info("stay %s: %s assigned to %s room %s", done.stay_id, done.ref, site_id, done.room)
    return done


async def _place(conn: aiosqlite.Connection, services: Services, found: Candidate,
                 site_id: str, room: str | None, user_id: int) -> Assigned:  # fmt: skip
    """The checks and the stay, inside the transaction (raises _Refusal)."""
    staying = await store.active_of(conn, found.person)
    if staying is not None:
        raise _Refusal(Refused("staying", {"ref": found.ref, "site": staying["site_name"],
                                           "room": staying["room"]}))  # fmt: skip
    loads = await store.occupancy(conn)
    load = next((s for s in loads if s.id == site_id), None)
    if load is None or load.state not in domain.TAKING:
        raise _Refusal(Refused("site_closed", {"site": load.name if load else site_id}))
    if load.free <= 0:
        raise _Refusal(Refused("site_full", _nearest(loads, load)))
    rooms = site_store.rooms(await site_store.get(conn, site_id))
    taken = await sample_store.rooms(conn, site_id)
    chosen = room or domain.first_free_room(rooms, taken)
    if chosen is None or chosen in taken or chosen not in rooms:
        free = domain.first_free_room(rooms, taken) or ""
        raise _Refusal(Refused("room_taken", {"room": chosen or "", "free": free}))
    stay_id = await store.assign(conn, found.person, site_id, chosen, found.period,
                                 found.measure_kind, user_id, services.now())  # fmt: skip
    if stay_id is None:
        raise _Refusal(Refused("room_taken", {"room": chosen, "free": ""}))
    await samples.plan(conn, services, stay_id)
    await release.schedule(conn, services, stay_id)
    await store.mark_isolating(conn, found.person, services.now())
    return Assigned(stay_id, found.ref, site_id, load.name, chosen, found.period)


def stay_params(services: Services, stay: Any) -> dict[str, Any]:
    """What a stay's messages show (the renderer masks the person unless entitled)."""
    village, grid = services.config.grid_names(stay["grid_id"])
    start, end = date.fromisoformat(stay["start_date"]), date.fromisoformat(stay["end_date"])
    return dict(
        ref=stay["ref"], name=stay["name"], phone=stay["phone"], id_number=stay["id_number"],
        village=village, grid=grid, address=stay["address"], site=stay["site_name"],
        room=stay["room"], start=start, end=end, days=(end - start).days + 1,
        state=stay["state"], arrived=local(services, stay["arrived_at"]),
    )  # fmt: skip


def _stay_button(services: Services, locale: str, stay_id: int, action: str) -> dict[str, str]:
    label = services.text(locale, "isolation", "btn", action=action)
    return button(label, callback(FLOW, str(stay_id), action))


def manager_markup(services: Services, locale: str, stay: Any) -> dict[str, Any] | None:
    """The site manager's stay card: "入住" while the person is expected, "解除" once in
    (bot.actions.release)."""
    if stay["state"] == domain.IN:
        return inline_markup([[release.button(services, locale, stay["id"])]])
    if stay["state"] != domain.ASSIGNED:
        return None
    return inline_markup([[_stay_button(services, locale, stay["id"], "in")]])


def assign_button(services: Services, locale: str, ref: str) -> dict[str, str]:
    """ "安排隔离" for a person's staff card (a contact's, an arrival's, a case's): opens
    /isolate with the person named."""
    return button(services.text(locale, "isolation", "btn", action=ASSIGN),
                  callback(FLOW, ASSIGN, ref))  # fmt: skip


def receipt_markup(services: Services, locale: str, stay_id: int) -> dict[str, Any]:
    """The assigner's receipt: "申请转运" (the person is fetched by a transfer vehicle)."""
    return inline_markup([[_stay_button(services, locale, stay_id, "tr")]])


async def _notify(conn: aiosqlite.Connection, services: Services, done: Assigned) -> None:
    """The site's managers get the person in full (private), with "入住"; the leadership
    group the masked reference and the site's figures — and a site nobody manages yet is
    said there, so someone answers for the person's arrival."""
    now = services.now()
    stay = await store.get(conn, done.stay_id)
    params = stay_params(services, stay)
    subject = domain.subject(done.stay_id)
    managers = await site_store.managers(conn, done.site_id)
    default = services.config.bot.default_locale
    for user, locale in (await reader_locales(conn, managers, default)).items():
        key = f"stay:{done.stay_id}:to:{user}"
        markup = manager_markup(services, locale, stay)
        text = services.text(locale, "isolation", "to_manager", Audience.ENTITLED, s=params)
        await outbox.enqueue(conn, chat_id=user, text=text, now=now, priority=PRIORITY_NOTIFY,
                             reply_markup=markup, dedup_key=key, subject=subject)  # fmt: skip
        await outbox.offer(conn, key, subject, [callback(FLOW, str(done.stay_id), "in")])
    load = next(s for s in await store.occupancy(conn) if s.id == done.site_id)
    text = services.text(default, "isolation", "to_group", s=params, load=load,
                         managed=bool(managers))  # fmt: skip
    await outbox.enqueue(conn, chat_id=services.config.leadership.chat_id, text=text, now=now,
                         priority=PRIORITY_NOTIFY, dedup_key=f"stay:{done.stay_id}:group",
                         subject=subject)  # fmt: skip


async def _refresh_cases(conn: aiosqlite.Connection, services: Services, stay_id: int) -> None:
    """The group's card of every case the person is in shows the chain as it is now."""
    for case_id in await store.cases_of(conn, stay_id):
        await cases.refresh_card(services, conn, case_id, services.now())


# --- the stay's buttons ----------------------------------------------------------------------


async def stay(services: Services, stay_id: int) -> Any:
    """A stay with its site and person (None: no such stay)."""
    return await store.get(services.db, stay_id)


async def arrive(services: Services, stay_id: int, user_id: int, name: str) -> bool:
    """入住, by a manager of the stay's site (the caller checked the scope): the stay is
    'in', every manager's card says who confirmed it and offers "解除" instead of "入住",
    the case cards count the person isolated, audited. False: not expected any more."""
    now = services.now()
    async with services.db.write() as conn:
        if not await store.arrive(conn, stay_id, user_id, now):
            return False
        await _arrived_cards(conn, services, stay_id, name)
        await _refresh_cases(conn, services, stay_id)
        await audit.record(conn, now, user_id, "stay.arrive", domain.subject(stay_id))
    services.wake_outbox()
    return True


async def _arrived_cards(conn: aiosqlite.Connection, services: Services, stay_id: int,
                         name: str) -> None:  # fmt: skip
    """Every manager's card of the stay, edited to the arrival (who, when) and its buttons."""
    stay = await store.get(conn, stay_id)
    params = stay_params(services, stay)
    offers = await outbox.take_offers(conn, domain.subject(stay_id))
    default = services.config.bot.default_locale
    locales = await reader_locales(conn, [o.chat_id for o in offers], default)
    for found in offers:
        locale = locales[found.chat_id]
        text = services.text(locale, "isolation", "to_manager", Audience.ENTITLED, s=params,
                             by=name)  # fmt: skip
        await outbox.enqueue_edit(conn, edits=found.key, chat_id=found.chat_id, text=text,
                                  now=services.now(), priority=PRIORITY_NOTIFY,
                                  subject=found.subject,
                                  reply_markup=manager_markup(services, locale, stay))  # fmt: skip


async def request_transfer(services: Services, stay_id: int, user_id: int) -> str | None:
    """申请转运: a transfer of the stay's person from their address to the site (urgent for
    a case), by bot.actions.transfers; its reference. None: the person is not waiting for
    a room any more, or a transfer of theirs is under way already (a double tap)."""
    async with services.db.write() as conn:
        stay = await store.get(conn, stay_id)
        if stay is None or stay["state"] != domain.ASSIGNED:
            return None
        if await store.open_transfer(conn, stay_id) is not None:
            return None
        urgency = "urgent" if stay["case_id"] is not None else "normal"
        transfer_id = await transfers.request(
            conn, services, [stay_id], stay["address"], stay["village_id"], stay["grid_id"],
            stay["site_id"], urgency, user_id,
        )  # fmt: skip
        ref = (await transfer_store.get(conn, transfer_id))["ref"]
    services.wake_outbox()
    return ref


# --- /isolation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    sites: tuple[SiteLoad, ...]
    days: tuple[int, ...]  # people on day 1..14 of their isolation (the last: 14 and later)
    due: dict[str, tuple[int, int]]  # site id -> (tests due today, sampled already)

    @property
    def people(self) -> int:
        return sum(s.people for s in self.sites)


async def overview(services: Services, site_ids: frozenset[str] | None) -> Overview:
    """/isolation: every site (``site_ids`` None) or the given ones: occupancy, the people per
    day of isolation, the tests due today."""
    today = services.local_today()
    loads = await store.occupancy(services.db)
    if site_ids is not None:
        loads = tuple(s for s in loads if s.id in site_ids)
    starts = await store.starts(services.db, None if site_ids is None else [s.id for s in loads])
    due = await store.tests_due(services.db, today)
    return Overview(loads, domain.day_histogram(starts, today),
                    {s.id: due.get(s.id, (0, 0)) for s in loads})  # fmt: skip
