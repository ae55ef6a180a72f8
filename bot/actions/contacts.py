"""A case's contacts (密切接触者、次密接): adding them (one by staff, many from a CDC list, in
the caller's transaction), their measure, the grid staff told in private and the leadership
group told masked; marking the list complete, which stops the case's trace deadline.

The trace deadline (escalation kind 'trace', subject ``trace:<case id>``) starts with the
case (bot.actions.cases.open_case), ``[contacts] trace_hours`` after its discovery, and climbs
the configured ladder. It is handled when staff of the case mark its contact list complete
(密接排查完毕, ``complete``) — a list with no contact at all included: the tracer answers for
it — or when the case is ruled out. Adding a contact ticks the checklist's "contacts" item
but does not stop the clock: a list is not complete because it was started."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import aiosqlite

from bot.actions import cases as case_actions
from bot.actions import isolation
from bot.actions.cases import trace_subject
from bot.domain import contacts as domain
from bot.domain.contacts import (
    ADDED,
    CONTACT,
    LINKED,
    NOT_FOUND,
    UPGRADED,
    Held,
    NewContact,
    is_contact_ref,
)
from bot.domain.masking import Audience
from bot.domain.messages import split_message
from bot.domain.records import PersonRecord
from bot.runtime.escalation import local
from bot.runtime.render import reader_locales
from bot.runtime.services import Services
from storage import audit, cases, drafts, outbox, staff
from storage import contacts as store
from storage.outbox import PRIORITY_ALERT, PRIORITY_NOTIFY

log = logging.getLogger(__name__)

GROUP_REFS = 40  # reference numbers listed in one group message; the rest are counted
CASE_CLOSED = "case_closed"  # an Outcome's status: the case was ruled out, nobody added


def subject(contact_id: int) -> str:
    return f"contact:{contact_id}"


@dataclass(frozen=True)
class Outcome:
    """What became of one entry: ``status`` ADDED, UPGRADED, LINKED or NOT_FOUND; the
    contact's reference number; ``known`` the record it was found as (an arrival report's
    or a contact's reference number), if any."""

    status: str
    ref: str | None = None
    contact_id: int | None = None
    known: str | None = None
    told: bool = False  # their grid's staff (else village admins) were told: someone works there


@dataclass(frozen=True)
class Added:
    """What ``add_all`` did: one Outcome per entry, in order; none and ``closed`` when the
    case was ruled out (closed): nobody is traced for it."""

    outcomes: tuple[Outcome, ...]
    closed: bool = False

    def counts(self) -> dict[str, int]:
        """How many entries each status took (ADDED, UPGRADED, LINKED, NOT_FOUND)."""
        return {s: n for s in (ADDED, UPGRADED, LINKED, NOT_FOUND)
                if (n := sum(o.status == s for o in self.outcomes))}  # fmt: skip


@dataclass(frozen=True)
class _Found:
    """A known person an entry names: their contact row, or else their arrival's person row."""

    contact: Any = None
    person: Any = None


# --- adding ---------------------------------------------------------------------------------


async def add(services: Services, case_id: int, entry: NewContact, user_id: int, name: str,
              draft_token: str) -> Outcome | None:  # fmt: skip
    """One contact added by staff (the contact flow), in its own transaction; the draft is
    dropped. None when the draft was already submitted (a double tap)."""
    async with services.db.write() as conn:
        if not await drafts.delete(conn, user_id, draft_token):
            return None
        added = await add_all(conn, services, case_id, [entry], user_id, name, "staff")
    if added.closed:
        return Outcome(CASE_CLOSED)
    services.wake_outbox()
    return added.outcomes[0]


async def add_all(conn: aiosqlite.Connection, services: Services, case_id: int,
                  entries: list[NewContact], user_id: int, name: str,
                  source: str) -> Added:  # fmt: skip
    """In the caller's transaction: each entry found among everyone known (by reference
    number, ID number, name and phone) or added, exposed to the case, its measure raised;
    the checklist's "contacts" ticked with the first; the grid staff of each told in private;
    the group told the counts and reference numbers (masked) and its case card brought up to
    date. ``source`` 'staff' or 'import'. An entry whose reference number names nobody
    (NOT_FOUND) is left out: an all-or-nothing caller rolls back on it. A case ruled out
    (closed) meanwhile adds nobody (``Added.closed``)."""
    now = services.now()
    case = await cases.get(conn, case_id)
    if case is None or case["state"] == "closed":
        return Added((), closed=True)
    outcomes = tuple([await _add_one(conn, services, case_id, e, user_id, source, now)
                      for e in entries])  # fmt: skip
    told = [o for o in outcomes if o.status != NOT_FOUND]
    if not told:
        return Added(outcomes)
    if await cases.tick(conn, case_id, "contacts", user_id, name, now):
        await audit.record(conn, now, user_id, "case.tick", case_actions.subject(case_id),
                           "contacts:auto")  # fmt: skip
    unstaffed = await _tell_staff(conn, services, case_id, told, now)
    await _tell_group(conn, services, case_id, told, unstaffed, now)
    await case_actions.refresh_card(services, conn, case_id, now)
    return Added(tuple(o if o.status == NOT_FOUND else replace(o, told=o.ref not in unstaffed)
                       for o in outcomes))  # fmt: skip


async def _add_one(conn: aiosqlite.Connection, services: Services, case_id: int,
                   entry: NewContact, user_id: int, source: str,
                   now: datetime) -> Outcome:  # fmt: skip
    found = await _find(conn, entry)
    if found is None:
        return Outcome(NOT_FOUND, known=entry.ref)
    plan = domain.measure_plan(
        getattr(services.config.measures, domain.MEASURES[entry.kind]), entry.last_exposure
    )
    measure = Held(plan.kind, plan.start, plan.end)
    if found.contact is not None:
        contact_id, status = await _expose_again(conn, services, found.contact, entry, measure, now)
        known = found.contact["ref"]
    else:
        contact_id, status = await _create(conn, services, found.person, entry, measure, now)
        known = found.person["ref"] if found.person is not None else None
    link = await store.exposure(conn, case_id, contact_id)
    kind, last = entry.kind, entry.last_exposure
    if link is not None:
        kind, last = domain.merged(link["kind"], date.fromisoformat(link["last_exposure"]),
                                   kind, last)  # fmt: skip
    await store.expose(conn, store.Exposure(case_id, contact_id, kind, last, entry.exposure,
                                            entry.note, source, user_id), now)  # fmt: skip
    await audit.record(conn, now, user_id, "contact.add", subject(contact_id),
                       f"{case_actions.subject(case_id)}:{status}:{source}")  # fmt: skip
    row = await store.get(conn, contact_id)
    return Outcome(status, row["ref"], contact_id, known)


async def _find(conn: aiosqlite.Connection, entry: NewContact) -> _Found | None:
    """Who the entry is: the record its reference number names (None: nobody), else the
    same person among everyone known, else a new person (an empty _Found)."""
    if entry.ref is not None:
        if is_contact_ref(entry.ref):
            row = await store.by_ref(conn, entry.ref)
            return _Found(contact=row) if row is not None else None
        people = await store.report_people(conn, entry.ref)
        if entry.member >= len(people):
            return None
        return await _person(conn, people[entry.member]["report_id"], entry.member)
    match = domain.pick(entry.person, await store.known(conn, entry.person))
    if match is None:
        return _Found()
    if match.where == CONTACT:
        return _Found(contact=await store.get(conn, match.id))
    return await _person(conn, match.id, match.idx)


async def _person(conn: aiosqlite.Connection, report_id: int, idx: int) -> _Found | None:
    """An arrival's person: the contact they already are, else their report's row (None:
    the report was withdrawn meanwhile)."""
    contact = await store.by_person(conn, report_id, idx)
    if contact is not None:
        return _Found(contact=contact)
    person = await store.report_person(conn, report_id, idx)
    return _Found(person=person) if person is not None else None


async def _expose_again(
    conn: aiosqlite.Connection,
    services: Services,
    row: Any,
    entry: NewContact,
    measure: Held,
    now: datetime,
) -> tuple[int, str]:
    """A known contact exposed again: while their measure runs, the stronger kind, the later
    exposure, the measure raised; once it is over (released, closed, or ended before the new
    one begins), this exposure and its measure alone — a released contact traced anew, to be
    isolated again. UPGRADED when anything changed, else LINKED."""
    before = store.held(row)
    if domain.afresh(row["state"], before, measure):
        kind, last, after = entry.kind, entry.last_exposure, measure
    else:
        kind, last = domain.merged(row["kind"], date.fromisoformat(row["last_exposure"]),
                                   entry.kind, entry.last_exposure)  # fmt: skip
        after = domain.raised(before, measure)
    reopened = row["state"] in domain.ENDED
    if not reopened and (kind, last.isoformat(), after) == (row["kind"], row["last_exposure"],
                                                            before):  # fmt: skip
        return row["id"], LINKED
    await store.update_exposure(conn, row["id"], kind, last, after, now,
                                state="traced" if reopened else None)  # fmt: skip
    if not reopened and after != before:
        await isolation.follow_exposure(conn, services, row["id"])
    return row["id"], UPGRADED


async def _create(conn: aiosqlite.Connection, services: Services, person: Any,
                  entry: NewContact, measure: Held, now: datetime) -> tuple[int, str]:  # fmt: skip
    """A new contact row: a new person (ADDED), or an arrival's person, linked to their
    report and their measure raised to the contact's (UPGRADED)."""
    ref = await store.next_ref(conn, services.config.town.code, services.local_today())
    if person is None:
        row = store.NewRow(ref, entry.person, entry.address, entry.village_id, entry.grid_id,
                           entry.kind, entry.last_exposure, measure)  # fmt: skip
        return await store.create(conn, row, now), ADDED
    record = PersonRecord(person["name"], person["phone"], person["id_kind"],
                                person["id_number"])  # fmt: skip
    row = store.NewRow(ref, record, person["address"], person["village_id"], person["grid_id"],
                       entry.kind, entry.last_exposure, domain.raised(store.held(person), measure),
                       report_id=person["report_id"], person_idx=person["idx"],
                       chat_id=person["reporter_chat_id"], locale=person["locale"])  # fmt: skip
    return await store.create(conn, row, now), UPGRADED


# --- who is told ----------------------------------------------------------------------------


def contact_params(services: Services, row: Any) -> dict[str, Any]:
    """Everything a contact's messages show (the renderer masks it for the group)."""
    village, grid = services.config.grid(row["grid_id"]) or (None, None)
    return dict(ref=row["ref"], name=row["name"], phone=row["phone"] or "",
                id_kind=row["id_kind"], id_number=row["id_number"] or "",
                address=row["address"], village=village.name if village else row["village_id"],
                grid=grid.name if grid else row["grid_id"], kind=row["kind"],
                last_exposure=date.fromisoformat(row["last_exposure"]),
                measure=row["measure_kind"], start=date.fromisoformat(row["measure_start"]),
                end=date.fromisoformat(row["measure_end"]))  # fmt: skip


async def _tell_staff(conn: aiosqlite.Connection, services: Services, case_id: int,
                      told: list[Outcome], now: datetime) -> list[str]:  # fmt: skip
    """Each contact's grid workers (else its village admins) told at once, in private and in
    full; the reference numbers of those whose grid has nobody to tell are returned."""
    case = await cases.get(conn, case_id)
    unstaffed = []
    for outcome in told:
        row = await store.get(conn, outcome.contact_id)
        users = await staff.recipients(conn, row["grid_id"], row["village_id"])
        if not users:
            unstaffed.append(row["ref"])
        link = await store.exposure(conn, case_id, row["id"])
        params = contact_params(services, row)
        default = services.config.bot.default_locale
        for user, locale in (await reader_locales(conn, users, default)).items():
            text = services.text(locale, "contacts", "staff_notice", Audience.ENTITLED,
                                 c=params, case_ref=case["ref"], status=outcome.status,
                                 known=outcome.known or "", how=link["exposure"] or "",
                                 note=link["note"] or "")  # fmt: skip
            await outbox.enqueue(conn, chat_id=user, now=now, priority=PRIORITY_ALERT, text=text,
                                 subject=subject(row["id"]),
                                 dedup_key=f"{subject(row['id'])}:case:{case_id}:"
                                           f"{int(now.timestamp())}:to:{user}")  # fmt: skip
    return unstaffed


async def _tell_group(conn: aiosqlite.Connection, services: Services, case_id: int,
                      told: list[Outcome], unstaffed: list[str],
                      now: datetime) -> None:  # fmt: skip
    """The leadership group: how many were added, their reference numbers, the case's count;
    masked (nothing personal but the reference numbers)."""
    case = await cases.get(conn, case_id)
    chain = await store.chain(conn, case_id)
    counts = {s: sum(o.status == s for o in told) for s in (ADDED, UPGRADED, LINKED)}
    refs = [o.ref for o in told]
    text = services.text(services.config.bot.default_locale, "contacts", "group_added",
                         case_ref=case["ref"], counts=counts, refs=refs[:GROUP_REFS],
                         more=max(len(refs) - GROUP_REFS, 0), traced=chain.traced,
                         unstaffed=unstaffed[:GROUP_REFS],
                         unstaffed_more=max(len(unstaffed) - GROUP_REFS, 0))  # fmt: skip
    await outbox.enqueue(conn, chat_id=services.config.leadership.chat_id, now=now,
                         priority=PRIORITY_NOTIFY, text=text,
                         subject=case_actions.subject(case_id),
                         dedup_key=f"{trace_subject(case_id)}:added:{refs[0]}:"
                                   f"{int(now.timestamp())}")  # fmt: skip


# --- the list complete ----------------------------------------------------------------------


async def complete(services: Services, case_id: int, user_id: int, name: str) -> bool:
    """Staff answer for the case's contact list being complete: the trace deadline stops,
    the group is told, the card shows it. False when it was marked already."""
    now = services.now()
    async with services.db.write() as conn:
        if not await store.mark_traced(conn, case_id, user_id, name, now):
            return False
        await case_actions.stop_trace(conn, case_id, now)
        await audit.record(conn, now, user_id, "contact.complete",
                           case_actions.subject(case_id))  # fmt: skip
        case = await cases.get(conn, case_id)
        chain = await store.chain(conn, case_id)
        text = services.text(services.config.bot.default_locale, "contacts", "group_complete",
                             case_ref=case["ref"], traced=chain.traced, name=name,
                             at=local(services, case["traced_at"]))  # fmt: skip
        await outbox.enqueue(conn, chat_id=services.config.leadership.chat_id, now=now,
                             priority=PRIORITY_NOTIFY, text=text,
                             subject=case_actions.subject(case_id),
                             dedup_key=f"{trace_subject(case_id)}:complete")  # fmt: skip
        await case_actions.refresh_card(services, conn, case_id, now)
    services.wake_outbox()
    return True


async def listing(services: Services, locale: str, case_id: int, user_id: int) -> list[str]:
    """The case's contacts as staff read them in private (in full), split under Telegram's
    limit; the view is audited."""
    async with services.db.write() as conn:
        await audit.record(
            conn, services.now(), user_id, "contact.view", case_actions.subject(case_id)
        )
        rows = await store.of_case(conn, case_id)
        case = await cases.get(conn, case_id)
    text = services.text(locale, "contacts", "listing", Audience.ENTITLED, case_ref=case["ref"],
                         rows=[contact_params(services, r) for r in rows],
                         traced_at=local(services, case["traced_at"]),
                         traced_by=case["traced_name"] or "")  # fmt: skip
    return split_message(text)


@dataclass(frozen=True)
class Named:
    """A record a reference number names: its grid (whose staff may see it) and its people's
    names (an arrival report's reporter first, then the companions; a contact's one)."""

    grid_id: str
    names: tuple[str, ...]


async def lookup(services: Services, ref: str, user_id: int) -> Named | None:
    """The arrival report or contact ``ref`` names, for the contact flow; the staff's look
    at it is audited (the caller checks their scope)."""
    async with services.db.write() as conn:
        if is_contact_ref(ref):
            row = await store.by_ref(conn, ref)
            found = Named(row["grid_id"], (row["name"],)) if row else None
        else:
            people = await store.report_people(conn, ref)
            found = (
                Named(people[0]["grid_id"], tuple(p["name"] for p in people)) if people else None
            )
        if found is not None:
            await audit.record(conn, services.now(), user_id, "contact.lookup", ref)
    return found


async def receipt(services: Services, locale: str, case_id: int, outcome: Outcome,
                  may_see: Callable[[str], bool]) -> str:  # fmt: skip
    """What the tracer reads after adding one contact, in private: in full when the contact's
    grid is theirs to see (``may_see``) or the tracer typed the person in (ADDED); a record
    found elsewhere (a dedup match in another grid) masked, without its address or measure.
    Whether the contact's grid has anyone to tell is said either way."""
    row = await store.get(services.db, outcome.contact_id)
    case = await cases.get(services.db, case_id)
    chain = await store.chain(services.db, case_id)
    entitled = outcome.status == ADDED or may_see(row["grid_id"])
    audience = Audience.ENTITLED if entitled else Audience.BROADCAST
    return services.text(locale, "contacts", "receipt", audience, status=outcome.status,
                         c=contact_params(services, row), case_ref=case["ref"],
                         traced=chain.traced, entitled=entitled, told=outcome.told)  # fmt: skip
