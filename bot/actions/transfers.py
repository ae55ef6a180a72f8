"""Transfers (转运): a request for people to be fetched to an isolation site, its dispatch to
a vehicle, the crew's 收到 / 已接到 / 已送达, a cancellation; each one transaction (the rows,
the vehicle's state, the climb of the ladder, the outbox messages, the audit entry).

Who is told: the dispatchers get every request in private, in full (names, phones, the
address: they must fetch people), with a button per vehicle free now; the crew of the
dispatched vehicle gets the transfer in full with its step buttons; each card is edited as
the transfer moves on. The requester is told of the dispatch, the delivery or a
cancellation; the site's managers of the delivery (入住 stays their confirmation, in
bot.actions.isolation). The ladder's stages are in bot.domain.transfers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from bot.actions import cases
from bot.actions.vehicles import at, vehicle_params
from bot.actions.vehicles import subject as vehicle_subject
from bot.domain import transfers as domain
from bot.domain import vehicles as fleet
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.isolation import ASSIGNED
from bot.domain.masking import Audience
from bot.domain.timers import Kind
from bot.runtime import escalation
from bot.runtime.render import reader_locales
from bot.runtime.services import Services
from storage import audit, drafts, outbox, timers
from storage import sites as site_store
from storage import transfers as store
from storage import vehicles as vehicle_store
from storage.outbox import PRIORITY_ALERT, PRIORITY_NOTIFY
from storage.timers import Timer
from storage.transfers import NewTransfer

log = logging.getLogger(__name__)

FLOW = "zy"  # v1:zy:<transfer id>:<action>[:<vehicle id>]
DISPATCH, ACK, PICK_UP, DELIVER, CANCEL = "d", "a", "p", "v", "x"
CREW_EVENTS = {ACK: "acknowledge", PICK_UP: "pick_up", DELIVER: "deliver"}
MAX_VEHICLE_BUTTONS = 8
LIST_LIMIT = 50  # transfers listed by /transfers (the rest are counted)
# The column of the time each climbing stage's wait runs from.
SINCE = {domain.REQUESTED: "requested_at", domain.DISPATCHED: "dispatched_at",
         domain.ACKNOWLEDGED: "acknowledged_at", domain.PICKED_UP: "picked_up_at"}  # fmt: skip


def subject(transfer_id: int) -> str:
    return f"transfer:{transfer_id}"


def _data(transfer_id: int, *parts: str) -> str:
    return callback(FLOW, str(transfer_id), *parts)


# --- what the cards say --------------------------------------------------------------------


def card_params(services: Services, row: Any, people: Sequence[Any]) -> dict[str, Any]:
    """A transfer as its cards show it (the renderer masks for any but its entitled staff)."""
    village, grid = services.config.grid_names(row["grid_id"] or "")
    village = village or getattr(services.config.village(row["village_id"]), "name", "")
    return dict(
        id=row["id"], ref=row["ref"], state=row["state"], urgency=row["urgency"],
        from_address=row["from_address"], village=village, grid=grid if row["grid_id"] else "",
        site=row["site_name"], site_address=row["site_address"], plate=row["plate"] or "",
        vehicle_kind=row["vehicle_kind"] or "", crew_name=row["crew_name"] or "",
        crew_phone=row["crew_phone"] or "", note=row["note"] or "",
        people=[dict(name=p["name"] or "", phone=p["phone"] or "", room=p["room"])
                for p in people],
        requested=escalation.local(services, row["requested_at"]),
        dispatched=escalation.local(services, row["dispatched_at"]),
        acknowledged=escalation.local(services, row["acknowledged_at"]),
        picked_up=escalation.local(services, row["picked_up_at"]),
        delivered=escalation.local(services, row["delivered_at"]),
        cancelled=escalation.local(services, row["cancelled_at"]),
    )  # fmt: skip


def dispatcher_markup(services: Services, locale: str, row: Any,
                      fleet_rows: Sequence[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    """While requested: a button per vehicle free now; until picked up: cancel."""
    rows: list[list[dict[str, str]]] = []
    if row["state"] == domain.REQUESTED:
        rows += [[button(services.text(locale, "transfers", "btn_dispatch", v=v),
                         _data(row["id"], DISPATCH, v["id"]))]
                 for v in fleet_rows if v["free"]][:MAX_VEHICLE_BUTTONS]  # fmt: skip
    if domain.after(row["state"], "cancel"):
        rows.append([button(services.text(locale, "transfers", "btn_cancel"),
                            _data(row["id"], CANCEL))])  # fmt: skip
    return inline_markup(rows)


def crew_markup(services: Services, locale: str, row: Any) -> dict[str, Any]:
    """The crew's next steps: 收到 while dispatched, 已接到 until picked up, then 已送达."""
    state = row["state"]
    buttons = [button(services.text(locale, "transfers", f"btn_{event}"),
                      _data(row["id"], code))
               for code, event in CREW_EVENTS.items() if domain.after(state, event)]  # fmt: skip
    return inline_markup([buttons] if buttons else [])


async def _fleet(conn: aiosqlite.Connection | Any, services: Services,
                 now: datetime) -> list[dict[str, Any]]:  # fmt: skip
    return [vehicle_params(services, v, now) for v in await vehicle_store.all_(conn)]


async def _to_dispatchers(conn: aiosqlite.Connection, services: Services, transfer_id: int,
                          now: datetime, *, first: bool) -> None:  # fmt: skip
    """Each dispatcher's card: sent at the request (``first``), else brought up to date. With
    no dispatcher in the bot yet, the config's admins (who may dispatch) get it: no request
    waits unseen."""
    row = await store.get(conn, transfer_id)
    people = await store.people(conn, transfer_id)
    params = card_params(services, row, people)
    fleet_rows = await _fleet(conn, services, now)
    chats = await store.dispatchers(conn) or list(services.config.leadership.admins)
    default = services.config.bot.default_locale
    for chat, locale in (await reader_locales(conn, chats, default)).items():
        text = services.text(locale, "transfers", "dispatcher_card", Audience.ENTITLED,
                             t=params, fleet=fleet_rows)  # fmt: skip
        message = dict(
            chat_id=chat,
            now=now,
            text=text,
            subject=subject(transfer_id),
            reply_markup=dispatcher_markup(services, locale, row, fleet_rows),
        )
        key = f"{subject(transfer_id)}:to:{chat}"
        if first:
            await outbox.enqueue(conn, priority=PRIORITY_ALERT, dedup_key=key, **message)
        else:
            await outbox.enqueue_edit(conn, edits=key, priority=PRIORITY_NOTIFY, **message)


async def _to_crew(conn: aiosqlite.Connection, services: Services, transfer_id: int,
                   now: datetime, *, first: bool) -> None:  # fmt: skip
    row = await store.get(conn, transfer_id)
    if row["vehicle_id"] is None:
        return
    params = card_params(services, row, await store.people(conn, transfer_id))
    default = services.config.bot.default_locale
    chats = await vehicle_store.crew(conn, row["vehicle_id"])
    for chat, locale in (await reader_locales(conn, chats, default)).items():
        message = dict(chat_id=chat, now=now, subject=subject(transfer_id),
                       text=services.text(locale, "transfers", "crew_card", Audience.ENTITLED,
                                          t=params),
                       reply_markup=crew_markup(services, locale, row))  # fmt: skip
        key = f"{subject(transfer_id)}:crew:{row['vehicle_id']}:{chat}"
        if first:
            await outbox.enqueue(conn, priority=PRIORITY_ALERT, dedup_key=key, **message)
        else:
            await outbox.enqueue_edit(conn, edits=key, priority=PRIORITY_NOTIFY, **message)


async def _tell(conn: aiosqlite.Connection, services: Services, chats: Sequence[int],
                name: str, key: str, now: datetime, **params: Any) -> None:  # fmt: skip
    """A short note (masked: no personal data) to each of ``chats`` in its reader's locale."""
    default = services.config.bot.default_locale
    for chat, locale in (await reader_locales(conn, chats, default)).items():
        await outbox.enqueue(conn, chat_id=chat, now=now, priority=PRIORITY_NOTIFY,
                             text=services.text(locale, "transfers", name, **params),
                             dedup_key=f"{key}:{chat}", subject=key)  # fmt: skip


# --- the request ---------------------------------------------------------------------------


async def request(conn: aiosqlite.Connection, services: Services, stay_ids: Sequence[int],
                  from_address: str, village_id: str, grid_id: str | None, site_id: str,
                  urgency: str, user_id: int) -> int:  # fmt: skip
    """In the caller's transaction: a transfer of the stays' people from ``from_address`` to
    ``site_id``, sent to the dispatchers, its dispatch deadline on the ladder. Raises
    ValueError for no stays, an unknown urgency, or a stay not waiting at that site."""
    if urgency not in domain.URGENCIES or not stay_ids:
        raise ValueError(f"a transfer needs stays and an urgency, not {stay_ids} {urgency!r}")
    stays = await store.stays_of(conn, stay_ids)
    if len(stays) != len(set(stay_ids)) or any(
        s["site_id"] != site_id or s["state"] != ASSIGNED for s in stays
    ):
        raise ValueError(f"stays {stay_ids} are not all assigned to site {site_id}")
    now = services.now()
    ref = await store.next_ref(conn, services.config.town.code, services.local_today())
    new = NewTransfer(tuple(dict.fromkeys(stay_ids)), from_address, village_id, grid_id,
                      site_id, urgency, user_id)  # fmt: skip
    transfer_id = await store.create(conn, new, ref, now)
    await _to_dispatchers(conn, services, transfer_id, now, first=True)
    await _climb(conn, services, transfer_id, domain.REQUESTED, now)
    await _refresh_cases(conn, services, transfer_id, now)
    await audit.record(conn, now, user_id, "transfer.request", subject(transfer_id),
                       f"{site_id}:{len(new.stay_ids)}:{urgency}")  # fmt: skip
    log.info("transfer requested: %s, %d people to %s", ref, len(new.stay_ids), site_id)
    return transfer_id


async def _climb(conn: aiosqlite.Connection, services: Services, transfer_id: int, stage: str,
                 now: datetime) -> None:  # fmt: skip
    """The stage's climb (bot.domain.transfers): the one before it ends."""
    row = await store.get(conn, transfer_id)
    since = at(row[SINCE[stage]])
    await escalation.stop(conn, subject(transfer_id), now)
    await escalation.start(
        conn, services, subject=subject(transfer_id), kind=domain.KIND, grid_id=row["grid_id"],
        village_id=row["village_id"], ref=row["ref"], now=now,
        deadline=domain.deadline(stage, since, row["urgency"], services.config.transfer.minutes()),
        detail={"stage": stage, "vehicle": row["vehicle_id"]},
    )  # fmt: skip


# --- dispatch --------------------------------------------------------------------------------


async def dispatch(services: Services, transfer_id: int, vehicle_id: str, user_id: int,
                   name: str) -> str:  # fmt: skip
    """Assign the vehicle: 'done'; 'no_crew' when it is assigned but the vehicle has no crew
    in the bot to tell (the dispatcher must reach them; the ladder climbs as ever, its
    crew's reminders going to the dispatchers); 'taken' when the transfer was dispatched (or
    cancelled) already; 'busy' when the vehicle is not free (dispatched, disinfecting, out
    of service: two dispatchers pressing for one vehicle, one wins); 'missing' for no such
    transfer."""
    now = services.now()
    async with services.db.write() as conn:
        row = await store.get(conn, transfer_id)
        if row is None:
            return "missing"
        if row["state"] != domain.REQUESTED:
            return "taken"
        if not await vehicle_store.take(conn, vehicle_id, now):
            return "busy"
        await store.assign(conn, transfer_id, vehicle_id, user_id, now)
        await _climb(conn, services, transfer_id, domain.DISPATCHED, now)
        await _to_crew(conn, services, transfer_id, now, first=True)
        await _moved(conn, services, transfer_id, now)
        vehicle = await vehicle_store.get(conn, vehicle_id)
        await _tell(conn, services, [row["requested_by"]], "requester_dispatched",
                    f"{subject(transfer_id)}:dispatched", now, ref=row["ref"],
                    plate=vehicle["plate"], by=name)  # fmt: skip
        crewless = not await vehicle_store.crew(conn, vehicle_id)
        await audit.record(conn, now, user_id, "transfer.dispatch", subject(transfer_id),
                           f"{vehicle_id}:no_crew" if crewless else vehicle_id)  # fmt: skip
    services.wake_outbox()
    return "no_crew" if crewless else "done"


async def _moved(conn: aiosqlite.Connection, services: Services, transfer_id: int,
                 now: datetime) -> None:  # fmt: skip
    """Every card of the transfer shows its new state (the dispatchers', the crew's, and the
    group's card of each case whose contacts it carries)."""
    await _to_dispatchers(conn, services, transfer_id, now, first=False)
    await _to_crew(conn, services, transfer_id, now, first=False)
    await _refresh_cases(conn, services, transfer_id, now)


async def _refresh_cases(conn: aiosqlite.Connection, services: Services, transfer_id: int,
                         now: datetime) -> None:  # fmt: skip
    for case_id in await store.cases_of(conn, transfer_id):
        await cases.refresh_card(services, conn, case_id, now)


# --- the crew's steps ------------------------------------------------------------------------


async def crew_step(services: Services, transfer_id: int, code: str, user_id: int,
                    name: str) -> str:  # fmt: skip
    """收到 / 已接到 / 已送达 (``code``: ACK, PICK_UP, DELIVER): 'done', or 'again' when the
    transfer is not at that step (pressed twice, or cancelled meanwhile)."""
    event = CREW_EVENTS[code]
    now = services.now()
    async with services.db.write() as conn:
        row = await store.get(conn, transfer_id)
        to = domain.after(row["state"], event) if row else None
        if to is None:
            return "again"
        await store.move(conn, transfer_id, [row["state"]], to, now, user_id)
        if to in domain.CLIMBING:  # the next step's deadline
            await _climb(conn, services, transfer_id, to, now)
        else:
            await escalation.stop(conn, subject(transfer_id), now)
        if event == "deliver":
            await _delivered(conn, services, row, now)
        await _moved(conn, services, transfer_id, now)
        await audit.record(conn, now, user_id, f"transfer.{event}", subject(transfer_id))
    services.wake_outbox()
    return "done"


async def _delivered(conn: aiosqlite.Connection, services: Services, row: Any,
                     now: datetime) -> None:  # fmt: skip
    """The vehicle is disinfected before its next transfer (a timer frees it); the site's
    managers and the requester are told."""
    minutes = services.config.transfer.disinfection_minutes
    until = fleet.disinfected_at(now, minutes)
    vehicle_id = row["vehicle_id"]
    await vehicle_store.set_state(conn, vehicle_id, fleet.DISINFECTING, now,
                                  expected=[fleet.DISPATCHED], available_at=until)  # fmt: skip
    await timers.schedule(conn, kind=Kind.VEHICLE_AVAILABLE, subject=vehicle_subject(vehicle_id),
                          due_at=until, now=now, payload={"vehicle": vehicle_id},
                          dedup_key=f"{vehicle_subject(vehicle_id)}:free:{row['id']}")  # fmt: skip
    managers = await site_store.managers(conn, row["site_id"])
    at = escalation.local(services, now)
    await _tell(conn, services, managers or [services.config.leadership.chat_id],
                "site_delivered", f"{subject(row['id'])}:delivered", now, ref=row["ref"],
                plate=row["plate"], people=row["people"], site=row["site_name"], at=at)  # fmt: skip
    await _tell(conn, services, [row["requested_by"]], "requester_delivered",
                f"{subject(row['id'])}:delivered:requester", now, ref=row["ref"],
                people=row["people"], site=row["site_name"], at=at)  # fmt: skip


async def on_vehicle_available(services: Services, conn: aiosqlite.Connection, timer: Timer,
                               now: datetime, late: bool) -> None:  # fmt: skip
    """A vehicle's disinfection is over: on standby again (unless taken out of service or
    dispatched meanwhile); the waiting requests' cards offer it."""
    vehicle_id = timer.payload["vehicle"]
    vehicle = await vehicle_store.get(conn, vehicle_id)
    if vehicle is None or vehicle["state"] != fleet.DISINFECTING:
        return
    if at(vehicle["available_at"]) > now:
        return  # a later delivery's timer frees it
    await vehicle_store.set_state(conn, vehicle_id, fleet.AVAILABLE, now,
                                  expected=[fleet.DISINFECTING])  # fmt: skip
    for waiting in await store.waiting_ids(conn):  # every one, however many
        await _to_dispatchers(conn, services, waiting, now, first=False)


# --- cancelling ------------------------------------------------------------------------------


async def cancel(services: Services, transfer_id: int, reason: str, user_id: int, name: str,
                 draft_user: int | None = None, token: str | None = None) -> str:  # fmt: skip
    """Cancel with a reason: 'done'; 'again' when it was picked up, delivered or cancelled
    already. A dispatched vehicle is on standby again; its crew, the dispatchers and the
    requester are told."""
    now = services.now()
    async with services.db.write() as conn:
        if token is not None:
            await drafts.delete(conn, draft_user, token)
        row = await store.get(conn, transfer_id)
        if row is None or not domain.after(row["state"], "cancel"):
            return "again"
        await store.move(conn, transfer_id, [row["state"]], domain.CANCELLED, now, note=reason)
        await escalation.stop(conn, subject(transfer_id), now)
        if row["vehicle_id"]:
            await vehicle_store.set_state(conn, row["vehicle_id"], fleet.AVAILABLE, now,
                                          expected=[fleet.DISPATCHED])  # fmt: skip
        await _moved(conn, services, transfer_id, now)
        await _tell(conn, services, [row["requested_by"]], "requester_cancelled",
                    f"{subject(transfer_id)}:cancelled", now, ref=row["ref"], reason=reason,
                    by=name)  # fmt: skip
        await audit.record(conn, now, user_id, "transfer.cancel", subject(transfer_id), reason)
    services.wake_outbox()
    return "done"


# --- reading -------------------------------------------------------------------------------


async def find(services: Services, transfer_id: int) -> Any:
    """The transfer (None: no such), as its buttons act on it."""
    return await store.get(services.db, transfer_id)


async def dispatcher_view(services: Services, transfer_id: int, locale: str,
                          user_id: int) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """A dispatcher's card as it reads now, with its buttons; the view audited."""
    now = services.now()
    async with services.db.write() as conn:
        row = await store.get(conn, transfer_id)
        fleet_rows = await _fleet(conn, services, now)
        params = card_params(services, row, await store.people(conn, transfer_id))
        await audit.record(conn, now, user_id, "transfer.view", subject(transfer_id))
    text = services.text(locale, "transfers", "dispatcher_card", Audience.ENTITLED, t=params,
                         fleet=fleet_rows)  # fmt: skip
    return text, dispatcher_markup(services, locale, row, fleet_rows)


async def open_list(services: Services, user_id: int) -> tuple[list[dict[str, Any]], int]:
    """/transfers: the first ``LIST_LIMIT`` open requests, in full for the dispatcher, and how
    many more are open (the view audited)."""
    async with services.db.write() as conn:
        rows = await store.open_ones(conn, LIST_LIMIT)
        total = await store.open_count(conn)
        listed = [card_params(services, r, await store.people(conn, r["id"])) for r in rows]
        await audit.record(conn, services.now(), user_id, "transfer.list", None, str(total))
    return listed, total - len(listed)
