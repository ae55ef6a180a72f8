"""Nucleic-acid tests of people in centralised isolation, until release.

- ``plan`` (in the transaction that assigns a stay, bot.actions.isolation): the stay's
  ``stay_tests`` rows from its measure's test days (``bot.domain.samples.schedule``: test days
  already past at assignment are one test on the assignment day) and two durable timers per
  site and test day, shared by every stay of the site tested that day:
  ``sample.remind`` the morning of the day (the first check-in time, ``schedule.checkin``) to
  the site's managers, listing the rooms to sample (a stay assigned after that morning: at
  once, for its room alone); ``sample.missed`` at the end of the day, which puts every room
  still not sampled on the escalation ladder (kind 'sample', subject
  ``sample:<stay>:<date>``; the ladder's assignee is the site's managers).
- ``record`` (the batch entry, bot/flows/samples.py) and ``record_one`` (a button on a stay's
  test card, naming the test): all or nothing, in one transaction; a sample stops its ladder
  climb. A result goes to a sample waiting for it or to today's test, never to a missed past
  day (a make-up sample, 补采, first); the same result sent again is "already recorded",
  nothing new stored (a double tap, a message sent twice).
- A positive result: in the same transaction a suspected case (the case machinery's own
  2-hour countdown and group alert, ``bot.actions.cases``), one per test (its source key), and
  a contact's state 'case'. The stay is kept — the room stays taken, never offered to
  someone else while the person is still in it — until it is ended when the person is moved
  out; no further test of that stay is chased. A case's own stay
  (already a case) opens no second case.
- An unknown result is never a negative: "待出" is stored as 'pending', and only 'negative'
  counts toward release.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import aiosqlite

from bot.actions import cases
from bot.domain import samples as domain
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.roles import Actor, can_manage_site
from bot.domain.samples import Batch, Problem
from bot.domain.timers import Kind
from bot.runtime import escalation
from bot.runtime.render import reader_locales
from bot.runtime.services import Services
from storage import audit, contacts, drafts, outbox, sites, timers
from storage import cases as case_store
from storage import samples as store
from storage.cases import NewCase
from storage.outbox import PRIORITY_NOTIFY
from storage.timers import NewTimer, Timer

log = logging.getLogger(__name__)

SAMPLE = "sample"  # the escalation kind of a missed test
PENDING = "pending"  # how a sample without its result is stored


def subject(stay_id: int, day: date) -> str:
    """The escalation subject of a stay's test day."""
    return f"sample:{stay_id}:{day.isoformat()}"


def timer_subject(site_id: str) -> str:
    return f"samples:{site_id}"


def _local(services: Services, day: date, at: time = time(0)) -> datetime:
    return datetime.combine(day, at, tzinfo=services.config.tz)


def _day_end(services: Services, day: date) -> datetime:
    return _local(services, day + timedelta(days=1))


# --- the schedule -------------------------------------------------------------------------


async def plan(conn: aiosqlite.Connection, services: Services, stay_id: int) -> list[date]:
    """In the caller's transaction: the stay's tests and their timers (again after its dates
    changed: tests no longer scheduled dropped unless sampled). Returns the test dates."""
    stay = await store.stay(conn, stay_id)
    if stay is None:
        raise ValueError(f"no stay {stay_id}")
    now = services.now()
    assigned_on = datetime.fromisoformat(stay["assigned_at"]).astimezone(services.config.tz)
    dates = domain.schedule(date.fromisoformat(stay["start_date"]),
                            date.fromisoformat(stay["end_date"]),
                            json.loads(stay["test_days"]), assigned_on.date())  # fmt: skip
    await store.set_schedule(conn, stay_id, dates)
    site = stay["site_id"]
    morning = services.config.schedule.checkin[0]
    new: list[NewTimer] = []
    for day in dates:
        payload = {"site": site, "date": day.isoformat()}
        remind_at = _local(services, day, morning)
        if remind_at > now:
            new.append(NewTimer(Kind.SAMPLE_REMIND, timer_subject(site), remind_at, payload,
                                f"sample.remind:{site}:{day}"))  # fmt: skip
        elif day == services.local_today():  # the morning's list went out without this room
            new.append(NewTimer(Kind.SAMPLE_REMIND, timer_subject(site), now,
                                {**payload, "stay": stay_id},
                                f"sample.remind:{site}:{day}:s{stay_id}"))  # fmt: skip
        new.append(NewTimer(Kind.SAMPLE_MISSED, timer_subject(site),
                            max(_day_end(services, day), now), payload,
                            f"sample.missed:{site}:{day}"))  # fmt: skip
    await timers.schedule_many(conn, new, now)
    return dates


async def on_remind(services: Services, conn: aiosqlite.Connection, timer: Timer,
                    now: datetime, late: bool) -> None:  # fmt: skip
    """The morning of a test day: the site's managers get the rooms still to sample."""
    day = date.fromisoformat(timer.payload["date"])
    site = timer.payload["site"]
    due = await store.due_on(conn, site, day, timer.payload.get("stay"))
    if not due:
        return
    rooms = [r["room"] for r in due]
    default = services.config.bot.default_locale
    managers = await sites.managers(conn, site)
    for user, locale in (await reader_locales(conn, managers, default)).items():
        await outbox.enqueue(conn, chat_id=user, now=now, priority=PRIORITY_NOTIFY,
                             text=services.text(locale, "samples", "remind", rooms=rooms,
                                                day=day, site=due[0]["site_name"]),
                             subject=timer.subject,
                             dedup_key=f"{timer.dedup_key}:to:{user}")  # fmt: skip


async def on_missed(services: Services, conn: aiosqlite.Connection, timer: Timer,
                    now: datetime, late: bool) -> None:  # fmt: skip
    """The end of a test day: every room of the site still not sampled climbs the ladder."""
    day = date.fromisoformat(timer.payload["date"])
    missed = await store.due_on(conn, timer.payload["site"], day)
    if missed:
        log.info("tests missed at %s on %s: %d room(s)", timer.payload["site"], day, len(missed))
    for row in missed:
        stay = await store.stay(conn, row["id"])
        await escalation.start(conn, services, subject=subject(row["id"], day), kind=SAMPLE,
                               grid_id=None, village_id=stay["site_village"] or "",
                               deadline=_day_end(services, day),
                               ref=f"{stay['site_name']} {stay['room']}", now=now,
                               detail={"site": stay["site_id"], "room": stay["room"],
                                       "date": day.isoformat()})  # fmt: skip


# --- recording ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    counts: dict[str, int]  # by result (domain.RESULTS)
    cases: tuple[str, ...]  # the refs of the cases opened
    already: tuple[str, ...] = ()  # rooms whose result was recorded already: nothing stored


@dataclass(frozen=True)
class Refused:
    """Out of the actor's scope (audited)."""


@dataclass(frozen=True)
class Rejected:
    """Nothing stored: the batch's problems, to ask again with."""

    batch: Batch


async def _refused(conn: aiosqlite.Connection, actor: Actor, site_id: str, now: datetime) -> bool:
    """Out of the actor's scope: audited (the same whether or not the site exists)."""
    if can_manage_site(actor, site_id):
        return False
    await audit.record(conn, now, actor.user_id, "denied:samples.record", f"site:{site_id}")
    return True


async def record(services: Services, actor: Actor, site_id: str, text: str,
                 draft: drafts.Draft | None = None) -> Recorded | Refused | Rejected:  # fmt: skip
    """A site manager's batch message, all or nothing in one transaction: every room must be
    occupied at the site and have a test to record today; else nothing is stored and the
    problems come back. A room whose result is recorded already (the message sent twice) is
    told, not stored again. ``draft``: the flow's, ended with the record."""
    now, today = services.now(), services.local_today()
    async with services.db.write() as conn:
        if await _refused(conn, actor, site_id, now):
            return Refused()
        taken = await store.rooms(conn, site_id)
        rooms = {domain.room_key(room): stay for room, stay in taken.items()}
        batch = domain.check(domain.parse(text), rooms)
        if not batch.ok:
            return Rejected(batch)
        targets, missing = await _targets(conn, batch, rooms, today, services.config.tz)
        if missing:
            return Rejected(Batch(batch.entries, missing, batch.lines))
        if draft is not None:
            await drafts.delete(conn, draft.user_id, draft.token)
        todo = [(e, t) for e, t in zip(batch.entries, targets, strict=True) if t is not None]
        opened = [await _store(conn, services, actor, stay, day, entry.result, now)
                  for entry, (stay, day) in todo]  # fmt: skip
    services.wake_outbox()
    already = tuple(e.room for e, t in zip(batch.entries, targets, strict=True) if t is None)
    return _recorded([e.result for e, _ in todo], opened, already)


async def record_one(services: Services, actor: Actor, stay_id: int, day: date,
                     result: str) -> Recorded | Refused | Rejected:  # fmt: skip
    """One stay's sample or result on its test of ``day``, by a button of its test card (the
    batch's rules; the button names the test: a double tap or a stale card never fills another
    test). A sample on a missed past day is its make-up (补采)."""
    now = services.now()
    async with services.db.write() as conn:
        stay = await store.stay(conn, stay_id)
        if stay is None or await _refused(conn, actor, stay["site_id"], now):
            return Refused()
        tests = await store.tests(conn, stay_id, services.config.tz)
        test = next((t for t in tests if t.test_date == day), None)
        why = domain.check_test(test, services.local_today(), result)
        if stay["state"] not in ("assigned", "in"):
            why = domain.NO_TEST
        if why == domain.ALREADY:
            return _recorded([], [], (stay["room"],))
        if why is not None:
            return Rejected(Batch(problems=(Problem(0, "", why, stay["room"]),)))
        opened = await _store(conn, services, actor, stay_id, day, result, now)
    services.wake_outbox()
    return _recorded([result], [opened])


def _recorded(results: list[str], opened: list[str | None],
              already: tuple[str, ...] = ()) -> Recorded:  # fmt: skip
    return Recorded(domain.counts(results), tuple(ref for ref in opened if ref), already)


Target = tuple[int, date] | None  # an entry's stay and test day; None: recorded already


async def _targets(conn: aiosqlite.Connection, batch: Batch, rooms: dict[str, int], today: date,
                   tz: tzinfo) -> tuple[list[Target], tuple[Problem, ...]]:  # fmt: skip
    """Each entry's stay and test day (None: the same result is recorded already); a problem
    for each room with no test to record."""
    found: list[Target] = []
    missing: list[Problem] = []
    for entry in batch.entries:
        stay = rooms[entry.room]
        tests = await store.tests(conn, stay, tz)
        day = domain.target(tests, today, entry.result)
        why = None if day else domain.refusal(tests, today, entry.result)
        if why is not None and why != domain.ALREADY:
            missing.append(Problem(entry.line, batch.lines[entry.line - 1], why, entry.room))
        found.append((stay, day) if day else None)
    return found, tuple(missing)


async def _store(conn: aiosqlite.Connection, services: Services, actor: Actor, stay_id: int,
                 day: date, result: str, now: datetime) -> str | None:  # fmt: skip
    """One test's record with its effects; the ref of the case it opened, if any. ``result``:
    one of ``domain.KINDS`` (a make-up is a sample)."""
    stored = PENDING if domain.stored(result) == domain.SAMPLED else result
    if not await store.record(conn, stay_id, day, stored, actor.user_id, now):
        return None
    await escalation.stop(conn, subject(stay_id, day), now)
    await audit.record(conn, now, actor.user_id, f"samples.{result}", f"stay:{stay_id}",
                       day.isoformat())  # fmt: skip
    if result != domain.POSITIVE:
        return None
    case = await _open_case(conn, services, stay_id, day, actor.user_id, now)
    return case.ref if case else None


async def _open_case(conn: aiosqlite.Connection, services: Services, stay_id: int, day: date,
                     by: int, now: datetime) -> cases.Stored | None:  # fmt: skip
    """A positive test's suspected case, pending a human's confirmation, with the case
    machinery's countdown and alerts; one per test (its source key). The source is
    'monitoring': centralised isolation is 集中隔离医学观察, a medical observation."""
    stay = await store.stay(conn, stay_id)
    key = f"positive:stay:{stay_id}:{day.isoformat()}"
    if stay["report_id"] is not None:
        return await cases.open_positive(conn, services, source="monitoring", key=key,
                                         report_id=stay["report_id"], idx=stay["person_idx"],
                                         by=by, now=now)  # fmt: skip
    if stay["contact_id"] is None:
        return None  # a case's own stay: already a case
    person = await contacts.get(conn, stay["contact_id"])
    await store.contact_became_case(conn, person["id"], now)
    if await case_store.by_source(conn, key):
        return None
    case = NewCase(
        draft_token=key, kind="suspected", report_id=person["report_id"],
        person_name=person["name"], person_phone=person["phone"],
        person_id_number=person["id_number"], village_id=person["village_id"],
        grid_id=person["grid_id"], address=person["address"], latitude=None, longitude=None,
        status="", reported_by=by, discovered_at=now, source="monitoring", source_key=key,
    )  # fmt: skip
    return await cases.open_case(conn, services, case, by, now)


def summary_params(recorded: Recorded) -> dict[str, Any]:
    return dict(total=sum(recorded.counts.values()), counts=recorded.counts,
                cases=recorded.cases, already=recorded.already)  # fmt: skip


# --- a stay's test card ---------------------------------------------------------------------

BUTTONS = "smr"  # v1:smr:<stay id>:<yyyymmdd>:<n|p|s>: a result pressed on a test of a card
CODES = {"n": domain.NEGATIVE, "p": domain.POSITIVE, "s": domain.SAMPLED}
_CODE_OF = {result: code for code, result in CODES.items()}


def button_data(stay_id: int, day: date, result: str) -> str:
    return callback(BUTTONS, str(stay_id), day.strftime("%Y%m%d"), _CODE_OF[result])


def read_button(parts: list[str] | None) -> tuple[int, date, str] | None:
    """(stay, test date, result) of a card's button (the parts after ``v1:smr:``); None
    when they do not read (a card of an older format: it is to be opened again)."""
    if not parts or len(parts) != 3 or not parts[0].isdigit() or parts[2] not in CODES:
        return None
    try:
        day = datetime.strptime(parts[1], "%Y%m%d").date()
    except ValueError:
        return None
    return int(parts[0]), day, CODES[parts[2]]


@dataclass(frozen=True)
class Card:
    stay_id: int
    site: str  # the site's name
    room: str
    tests: tuple[domain.Test, ...]


async def is_site(services: Services, text: str) -> bool:
    """Does ``text`` name a site (/samples GL01), rather than a room (/samples 301)?"""
    return await sites.get(services.db, text.upper()) is not None


async def card(services: Services, site_id: str, room: str) -> Card | None:
    """The test card of the stay in ``room`` at the site (None: nobody stays there). Rooms and
    results only: the caller checked the actor's scope."""
    taken = await store.rooms(services.db, site_id)
    stay_id = {domain.room_key(r): stay for r, stay in taken.items()}.get(domain.room_key(room))
    if stay_id is None:
        return None
    return await card_of(services, stay_id)


async def card_of(services: Services, stay_id: int) -> Card | None:
    stay = await store.stay(services.db, stay_id)
    if stay is None:
        return None
    tests = await store.tests(services.db, stay_id, services.config.tz)
    return Card(stay_id, stay["site_name"], stay["room"], tuple(tests))


def card_markup(services: Services, locale: str, card: Card, today: date) -> dict[str, Any]:
    """The card's buttons, a row per test that can take one (``domain.card_rows``), each
    naming its test: today's 阴性 / 阳性 / 已采样, a waiting sample's result, a missed
    day's make-up (补采)."""
    return inline_markup([
        [button(services.text(locale, "samples", "btn", result=result, day=day, today=today),
                button_data(card.stay_id, day, result)) for result in results]
        for day, results in domain.card_rows(card.tests, today)
    ])  # fmt: skip
