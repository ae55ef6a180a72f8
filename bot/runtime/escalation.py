"""The escalation ladder: every item with a deadline — an unverified arrival, an open tip, a
missed check-in, a health alert — climbs the configured ladder (``[escalation]``): a reminder
to the assignee (the grid's workers), then the village admins, then the leadership group,
each step at its own delay after the item's deadline.

- ``start`` (inside the transaction that stores the item) opens the item's ``escalations`` row
  and schedules its first ``ladder.step`` timer; each step schedules the next, so an item has
  at most one pending timer.
- Handling the item calls ``stop`` (or ``stop_parent``) in the handling transaction; each step
  also re-checks that the item is still waiting (a safety net behind the explicit stops).
- Every message carries an acknowledge button (``v1:ack:<subject>``): ``acknowledge`` records
  who and when (the ``acks`` table, and the audit log) and stops the climb.
- No chat is sent one message per item: every step (and a missed check-in's own alert) waits
  in ``escalation_queue`` for its chat, and one ``ladder.flush`` timer per minute slot sends
  each chat ONE message — a wave of items falling due together is one list for the
  leadership group (well within Telegram's 20 messages a minute per group) and one for each
  worker, not dozens. An entry alone in its chat goes as its own full message.
- A kind may word its own steps (``OwnMessages``, wired in bot/app.py): a case's reminders and
  red overdue escalation go to the group at once, and its repeating rung (``Rung.repeat_minutes``)
  lists every case still overdue in one ``ladder.repeat`` message per slot.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiosqlite

from bot.domain import escalation as rules
from bot.domain import mobilisation as mobilisation_rules
from bot.domain import roles, sites
from bot.domain import transfers as transfer_rules
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.escalation import Rung
from bot.domain.masking import Audience
from bot.domain.roles import Actor
from bot.domain.timers import Kind
from bot.runtime import cards
from bot.runtime.render import reader_locale, reader_locales
from bot.runtime.services import Services
from storage import audit, outbox, samples, staff, timers
from storage import contacts as contact_store
from storage import escalation as store
from storage import mobilisation as mobilisation_store
from storage import sites as site_store
from storage import transfers as transfer_store
from storage import unit_reports as unit_report_store
from storage import vehicles as vehicle_store
from storage.escalation import ALERT_STEP, Item, Queued
from storage.outbox import PRIORITY_ALERT
from storage.timers import Timer

log = logging.getLogger(__name__)
STEP = Kind.LADDER_STEP
FLUSH = Kind.LADDER_FLUSH
REPEAT = Kind.LADDER_REPEAT
FLUSH_SUBJECT = "escalation:flush"
FLOW = "ack"  # callback data of the acknowledge button: v1:ack:<subject>
LEVELS = ("assignee", "village_admin", "leadership")  # in climbing order
BATCH_BUTTONS = 8  # acknowledge buttons on one batched group message
BATCH_LINES = 40  # items listed in one batched group message; the rest are counted
BATCH_LIMIT = 500  # queued items taken by one flush; any more go in the next minute's
REPEAT_LIMIT = 200  # items told again by one repeat
SITE = sites.KIND  # an isolation site's activation countdown (bot.actions.sites)


async def grid_recipients(
    conn: aiosqlite.Connection, services: Services, grid_id: str
) -> list[int]:
    """The grid's active workers (staff table: config-listed and invited); where it has none,
    the village admins; else the leadership group, so that no report goes unseen."""
    found = services.config.grid(grid_id)
    if found is None:
        return [services.config.leadership.chat_id]
    village, grid = found
    return await staff.recipients(conn, grid.id, village.id) or [services.config.leadership.chat_id]


def ladder(services: Services, kind: str) -> tuple[Rung, ...]:
    """The ladder of an item kind: a case's from its 2-hour rules, the others configured."""
    if kind == rules.CASE:
        return rules.case_ladder(services.config.schedule.case_overdue_repeat_minutes)
    if kind == mobilisation_rules.KIND:
        calls = services.config.mobilisation
        return mobilisation_rules.ladder(calls.remind_minutes, calls.escalate_minutes,
                                         calls.group_minutes)  # fmt: skip
    if kind == transfer_rules.KIND:
        settings = services.config.transfer
        return transfer_rules.ladder(settings.remind_minutes, settings.group_minutes)
    if kind == SITE and services.config.escalation.site is None:
        return sites.ACTIVATION_LADDER
    return tuple(Rung(s.to, s.after_minutes) for s in services.config.escalation.ladder(kind))


def rank(level: str | None) -> int:
    """assignee 0, village admin 1, leadership 2 (None: nothing sent yet, as the assignee)."""
    return LEVELS.index(level) if level in LEVELS else 0


def ack_data(subject: str) -> str:
    """``v1:ack:<subject>`` (the subject may itself hold colons: the handler joins them back)."""
    return callback(FLOW, subject)


def ack_markup(services: Services, subject: str, locale: str | None = None) -> dict[str, Any]:
    """The "收到" button of an item's messages."""
    label = services.text(locale or services.config.bot.default_locale, "escalation", "btn_ack")
    return inline_markup([[button(label, ack_data(subject))]])


# --- starting and stopping ---------------------------------------------------------------


async def start(
    conn: aiosqlite.Connection, services: Services, *, subject: str, kind: str,
    grid_id: str | None, village_id: str, deadline: datetime, ref: str, now: datetime,
    parent: str | None = None, detail: dict[str, Any] | None = None, alerted: bool = False,
    alerts: Sequence[tuple[int, str]] = (), alert_group: bool = False,
) -> bool:  # fmt: skip
    """Open the item's climb in the caller's transaction. ``alerted``: the caller's own alert
    (with an acknowledge button) reached the assignee at ``deadline``, so the ladder's
    assignee steps at 0 minutes are not repeated; ``alerts``, (chat, text) pairs, are that
    alert, sent with the minute's other messages to each chat (``queue``);
    ``alert_group``: the item goes to the leadership group now too, in the minute's batched
    message. False when the item was already climbing (a replay, or a new version of a
    report still waiting: its clock is not reset)."""
    gen = await store.open_item(conn, subject=subject, kind=kind, parent=parent, ref=ref,
                                grid_id=grid_id, village_id=village_id, deadline_at=deadline,
                                detail=detail or {}, now=now)  # fmt: skip
    if gen is None:
        return False
    await timers.cancel(conn, subject, [STEP])  # a restarted climb: the old one's timer
    rungs = ladder(services, kind)
    first = 0
    if alerted:
        while first < len(rungs) and rungs[first].to == "assignee" \
                and rungs[first].after_minutes == 0:  # fmt: skip
            first += 1
        if first:
            await store.advance(conn, subject, gen, first - 1, "assignee")
    if first < len(rungs):
        await _schedule_step(conn, subject, gen, first, rungs[first], deadline, now)
    to = [*alerts, *([(store.GROUP, None)] if alert_group else [])]
    await queue(conn, subject, gen, ALERT_STEP, now, to)
    return True


async def stop(conn: aiosqlite.Connection, subject: str, now: datetime) -> bool:
    """The item was handled: its climb stops (in the handling transaction). False when it
    was not climbing."""
    await timers.cancel(conn, subject, [STEP])
    await cards.retire(conn, cards.ack_subject(subject), now)
    return await store.close(conn, subject, "handled", now)


async def stop_parent(conn: aiosqlite.Connection, parent: str, now: datetime,
                      kinds: tuple[str, ...] | None = None) -> int:  # fmt: skip
    """Stop every open item of ``parent`` (e.g. ``monitoring:3``'s missed check-ins)."""
    stopped = 0
    for subject in await store.open_subjects(conn, parent, kinds):
        stopped += await stop(conn, subject, now)
    return stopped


async def _schedule_step(
    conn: aiosqlite.Connection, subject: str, gen: int, index: int, rung: Rung,
    deadline: datetime, now: datetime, key: str = "",
) -> None:  # fmt: skip
    due = max(deadline + timedelta(minutes=rung.after_minutes), now)
    await timers.schedule(conn, kind=STEP, subject=subject, due_at=due, now=now,
                          payload={"gen": gen, "step": index},
                          dedup_key=f"ladder:{subject}:g{gen}:s{index}{key}")  # fmt: skip


# --- acknowledging -----------------------------------------------------------------------


async def item(services: Services, subject: str) -> Item | None:
    """The escalation of ``subject`` (a 收到 button's), if there is one."""
    return await store.get(services.db, subject)


async def first_ack(services: Services, subject: str) -> tuple[str, datetime] | None:
    """Who acknowledged the item first, and when."""
    return await store.first_ack(services.db, subject)


async def acknowledge(services: Services, subject: str, user_id: int,
                      name: str) -> tuple[str, Item | None]:  # fmt: skip
    """ "收到": record who and when, stop the climb, audit. Returns ('done' | 'again' |
    'closed', the item as it was): 'again' when someone acknowledged it already (this
    person's acknowledgement is recorded too), 'closed' when it was handled."""
    now = services.now()
    async with services.db.write() as conn:
        item = await store.get(conn, subject)
        if item is None or item.state == "handled":
            return "closed", item
        await store.ack(conn, subject, user_id, name, now)
        if not await acknowledged(conn, services, item, user_id, now):
            return "again", item
        await audit.record(conn, now, user_id, "escalation.ack", subject, item.reached)
        at = local(services, now)
        await cards.retire(conn, cards.ack_subject(subject), now,
                           default_locale=services.config.bot.default_locale,
                           note=lambda locale: services.text(locale, "escalation", "acked_note",
                                                             name=name, at=at))  # fmt: skip
    return "done", item


async def acknowledged(conn: aiosqlite.Connection, services: Services, item: Item, user_id: int,
                       now: datetime) -> bool:  # fmt: skip
    """The first "收到" of an item (who pressed it is the caller's ``store.ack``): its climb
    stops, up to its first rung still due after an acknowledgement (a case's overdue
    escalation). False when it was acknowledged (or handled) already."""
    if item.state != "open" or not await store.close(conn, item.subject, "acked", now, user_id):
        return False
    await timers.cancel(conn, item.subject, [STEP])
    rungs = ladder(services, item.kind)
    after = next((i for i in range(item.step, len(rungs)) if rungs[i].after_ack), None)
    if after is not None:  # a new row: the cancelled one may hold the step's plain key
        await _schedule_step(conn, item.subject, item.gen, after, rungs[after],
                             item.deadline_at, now, ":ack")  # fmt: skip
    return True


# --- the steps ---------------------------------------------------------------------------


def local(services: Services, instant: datetime | str | None) -> datetime | None:
    if instant is None:
        return None
    value = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    return value.astimezone(services.config.tz)


def item_params(services: Services, item: Item, now: datetime) -> dict[str, Any]:
    """What an escalation message says about an item (masked: it may land in the group)."""
    village, grid = services.config.grid(item.grid_id or "") or (None, None)
    if village is None:
        village = services.config.village(item.village_id)
    overdue = max(int((now - item.deadline_at).total_seconds() // 60), 0)
    detail = item.detail
    return dict(kind=item.kind, ref=item.ref, name=detail.get("name", ""),
                village=village.name if village else item.village_id,
                grid=grid.name if grid else "", deadline=local(services, item.deadline_at),
                overdue=overdue, slot=local(services, detail.get("slot")),
                temperature=detail.get("temperature"),
                missed=detail.get("missed", 0), phone=detail.get("phone", ""),
                stage=detail.get("stage", ""))  # fmt: skip


async def _waiting(conn: aiosqlite.Connection, item: Item) -> bool:
    """Is the item still unhandled? (Explicit stops are the rule; this is the safety net.)"""
    kind, _, rest = item.subject.partition(":")
    if item.kind == "arrival" and kind == "report":
        return await store.report_waiting(conn, int(rest))
    if item.kind == "tip" and kind == "tip":
        return await store.tip_waiting(conn, int(rest))
    if item.kind == "checkin" and kind == "checkin":
        mid, _, stamp = rest.partition(":")
        slot = datetime.fromtimestamp(int(stamp), UTC)
        return await store.checkin_waiting(conn, int(mid), slot)
    if item.kind == rules.CASE and kind == "case":
        return await store.case_waiting(conn, int(rest))
    if item.kind == "trace" and kind == "trace":  # a case's contact list not marked complete
        return await contact_store.trace_waiting(conn, int(rest))
    if item.kind == SITE and kind == "site":  # a site's activation countdown
        return await site_store.activating(conn, rest)
    if item.kind == "sample" and kind == "sample":
        stay, _, day = rest.partition(":")
        return await samples.waiting(conn, int(stay), date.fromisoformat(day))
    if item.kind == mobilisation_rules.KIND and kind == "mobilisation":  # someone silent
        return await mobilisation_store.waiting(conn, int(rest))
    if item.kind == transfer_rules.KIND and kind == "transfer":  # the stage still waiting
        return await transfer_store.in_state(conn, int(rest), item.detail.get("stage", ""))
    if item.kind == "unit_report" and kind == "unitrep":  # a daily unit report not filed
        return await unit_report_store.waiting(conn, int(rest))
    if item.kind == "fever" and item.parent and item.parent.startswith("monitoring:"):
        return await store.monitoring_active(conn, int(item.parent.split(":")[1]))
    return True


async def level_chats(conn: aiosqlite.Connection, services: Services, item: Item,
                      to: str) -> list[int]:  # fmt: skip
    """The chats of a ladder level (also for a kind that words its own messages,
    ``OwnMessages``); where it has nobody, the leadership group."""
    leadership = services.config.leadership.chat_id
    if to == "assignee" and item.kind == "sample":  # a missed isolation test: site managers
        found = await site_store.managers(conn, item.detail.get("site", ""))
    elif to == "assignee" and item.kind == SITE:  # an activation countdown: the site's managers
        found = await site_store.managers(conn, item.ref)
    elif to == "assignee" and item.kind == transfer_rules.KIND:  # the crew, or dispatchers
        vehicle = item.detail.get("vehicle")  # a vehicle with no crew in the bot: dispatchers
        found = (vehicle and await vehicle_store.crew(conn, vehicle)) \
            or await transfer_store.dispatchers(conn)  # fmt: skip
    elif to == "assignee":
        if item.grid_id:
            found = await grid_recipients(conn, services, item.grid_id)
        else:  # a tip whose grid is unknown: its village's admins
            found = await staff.recipients(conn, "", item.village_id)
    elif to == "village_admin":
        found = await store.village_admins(conn, item.village_id)
    else:
        found = []
    return list(dict.fromkeys(found)) or [leadership]


def assignee(item: Item) -> Callable[[Actor], bool] | None:
    """Who may press "收到" as the item's assignee where that is not the grid's workers: the
    same people ``level_chats`` tells at the assignee level. None: the grid's workers."""
    if item.kind == "sample":
        site = item.detail.get("site", "")
        return lambda actor: roles.can_manage_site(actor, site)
    if item.kind == SITE:
        return lambda actor: roles.can_manage_site(actor, item.ref)
    if item.kind == transfer_rules.KIND:
        vehicle = item.detail.get("vehicle")
        if vehicle:
            return lambda actor: roles.can_crew(actor, vehicle) or roles.can_dispatch(actor)
        return roles.can_dispatch
    return None


StepSender = Callable[[Services, aiosqlite.Connection, Item, Rung, datetime], Awaitable[None]]
RepeatSender = Callable[[Services, aiosqlite.Connection, list[Item], datetime, str],
                        Awaitable[None]]  # fmt: skip


@dataclass(frozen=True)
class OwnMessages:
    """How a kind words its own ladder messages (a case's), instead of the queued step:
    ``step`` sends one rung for an item; ``repeat`` tells a repeating rung's items again, all
    in one message (its outbox dedup key given); None for a kind whose rungs never repeat."""

    step: StepSender
    repeat: RepeatSender | None = None


class Ladder:
    """The ladder's timer handlers (``step``, ``repeat``; the flush is ``flush``), given the
    kinds that word their own messages."""

    def __init__(self, own: Mapping[str, OwnMessages]) -> None:
        self.own = dict(own)

    async def step(self, services: Services, conn: aiosqlite.Connection, timer: Timer,
                   now: datetime, late: bool) -> None:  # fmt: skip
        item = await store.get(conn, timer.subject)
        gen, index = timer.payload["gen"], timer.payload["step"]
        if item is None or item.state == "handled" or item.gen != gen or item.step > index:
            return  # handled, restarted, or a replay
        rungs = ladder(services, item.kind)
        if index >= len(rungs) or (item.state == "acked" and not rungs[index].after_ack):
            return  # the ladder was shortened in the config meanwhile, or acknowledged
        if not await _waiting(conn, item):
            await store.close(conn, item.subject, "handled", now)
            return
        rung = rungs[index]
        own = self.own.get(item.kind)
        if own is not None:
            await own.step(services, conn, item, rung, now)
        else:
            await _queue_step(services, conn, item, index, rung, now)
        reached = rung.to if rank(rung.to) >= rank(item.reached) else None
        await store.advance(conn, item.subject, gen, index, reached)
        if index + 1 < len(rungs):
            await _schedule_step(conn, item.subject, gen, index + 1, rungs[index + 1],
                                 item.deadline_at, now)  # fmt: skip
        if rung.repeat_minutes:
            await _schedule_repeat(conn, item.kind, index, rung.repeat_minutes, now)
        log.info("ladder step: %s %s step %d to %s%s", item.kind, item.ref, index, rung.to,
                 " (late)" if late else "")  # fmt: skip

    async def repeat(self, services: Services, conn: aiosqlite.Connection, timer: Timer,
                     now: datetime, late: bool) -> None:  # fmt: skip
        """One message for every item of the kind past the repeating rung and still waiting;
        again next slot while there are any."""
        kind, index = timer.payload["kind"], timer.payload["step"]
        rungs = ladder(services, kind)
        if index >= len(rungs) or not rungs[index].repeat_minutes:
            return  # the ladder changed meanwhile
        rung = rungs[index]
        items = []
        for item in await store.past_step(conn, kind, index, REPEAT_LIMIT):
            if item.state == "acked" and not rung.after_ack:
                continue
            if await _waiting(conn, item):
                items.append(item)
            else:
                await store.close(conn, item.subject, "handled", now)
        own = self.own.get(kind)
        if items and own is not None and own.repeat is not None:
            await own.repeat(services, conn, items, now, f"{timer.dedup_key}:msg")
            await _schedule_repeat(conn, kind, index, rung.repeat_minutes, now)


async def _queue_step(services: Services, conn: aiosqlite.Connection, item: Item, index: int,
                      rung: Rung, now: datetime) -> None:  # fmt: skip
    """A rung's message to each chat of its level, waiting for the minute's flush."""
    leadership = services.config.leadership.chat_id
    params = item_params(services, item, now)
    chats = await level_chats(conn, services, item, rung.to)
    locales = await reader_locales(conn, chats, services.config.bot.default_locale)
    to = [(store.GROUP, None) if chat == leadership else
          (chat, services.text(locales[chat], "escalation", "step", i=params, to=rung.to))
          for chat in chats]  # fmt: skip
    await queue(conn, item.subject, item.gen, index, now, to)


async def _schedule_repeat(conn: aiosqlite.Connection, kind: str, index: int, minutes: int,
                           now: datetime) -> None:  # fmt: skip
    """The kind's next repeat, at the start of the next slot: one timer per slot, however
    many items reach the rung."""
    due = rules.next_repeat(now, minutes)
    await timers.schedule(conn, kind=REPEAT, subject=f"ladder:repeat:{kind}", due_at=due,
                          now=now, payload={"kind": kind, "step": index},
                          dedup_key=f"{REPEAT}:{kind}:{index}:{int(due.timestamp())}")  # fmt: skip


# --- one message per chat a minute --------------------------------------------------------------


def minute_slot(now: datetime) -> int:
    return int(now.timestamp()) // 60


async def queue(conn: aiosqlite.Connection, subject: str, gen: int, step: int, now: datetime,
                to: Sequence[tuple[int, str | None]]) -> None:  # fmt: skip
    """The item's step for the chats ``to`` — (chat, text) pairs — waits for the minute's
    flush, which sends each chat ONE message: the leadership group (``store.GROUP``) a list
    of its items; a staff chat ``text`` when it is the chat's only entry, else a list too."""
    if not to:
        return
    for chat_id, text in to:
        await store.enqueue(conn, subject, gen, step, now, chat_id, text)
    await _schedule_flush(conn, now)


async def _schedule_flush(conn: aiosqlite.Connection, now: datetime, key: str = "") -> None:
    """``ladder.flush`` at the end of the current minute: one timer per slot (and ``key``),
    by its dedup key."""
    slot = minute_slot(now)
    await timers.schedule(conn, kind=FLUSH, subject=FLUSH_SUBJECT, now=now,
                          due_at=datetime.fromtimestamp((slot + 1) * 60, UTC),
                          payload={"slot": slot}, dedup_key=f"{FLUSH}:{slot}{key}")  # fmt: skip


async def flush(services: Services, conn: aiosqlite.Connection, timer: Timer, now: datetime,
                 late: bool) -> None:  # fmt: skip
    """ONE message per chat for every queued entry whose item is still waiting (an item's own
    alert also when it was acknowledged meanwhile: the group is told all the same)."""
    queued = await store.waiting(conn, BATCH_LIMIT)
    live: dict[int, dict[str, Queued]] = {}
    sent: list[int] = []
    waiting: dict[str, bool] = {}  # by subject: an item queued for several chats, once
    for entry in queued:
        item = entry.item
        if item.state == "open" and item.subject not in waiting:
            waiting[item.subject] = await _waiting(conn, item)
            if not waiting[item.subject]:
                await store.close(conn, item.subject, "handled", now)  # drops its entries
        alert = entry.step == ALERT_STEP and item.closed_by is not None  # acknowledged
        if alert or waiting.get(item.subject):
            live.setdefault(entry.chat_id, {}).setdefault(item.subject, entry)
            sent.append(entry.id)
        elif item.state != "open":
            sent.append(entry.id)
    await store.mark_sent(conn, sent, now)
    if len(queued) == BATCH_LIMIT and await store.waiting_count(conn):
        await _schedule_flush(conn, now, ":more")
    for chat, entries in live.items():
        await _send_batch(services, conn, chat, list(entries.values()), now, timer.id)


async def _send_batch(services: Services, conn: aiosqlite.Connection, chat: int,
                      entries: list[Queued], now: datetime, flush_id: int) -> None:  # fmt: skip
    """A chat's one message of the minute: an entry alone as it is; several as a list with
    acknowledge buttons for the first ``BATCH_BUTTONS``. A staff chat's list is in its
    reader's locale, in full (its items are in the reader's scope); the group's masked."""
    chat_id = services.config.leadership.chat_id if chat == store.GROUP else chat
    locale = await reader_locale(conn, chat_id, services.config.bot.default_locale)
    key = f"{FLUSH}:t{flush_id}:to:{chat_id}"
    first, *rest = entries
    if chat != store.GROUP and not rest and first.text:
        markup = ack_markup(services, first.item.subject, locale)
        await outbox.enqueue(conn, chat_id=chat_id, now=now, text=first.text,
                             priority=PRIORITY_ALERT, subject=first.item.subject,
                             dedup_key=key, reply_markup=markup)  # fmt: skip
        await cards.offer_acks(conn, key, markup)
        return
    live = [entry.item for entry in entries]
    items = [item_params(services, item, now) for item in live]
    buttons = [
        [button(services.text(locale, "escalation", "btn_ack_ref", ref=item.ref),
                ack_data(item.subject))]
        for item in live[:BATCH_BUTTONS]
    ]  # fmt: skip
    more = max(len(items) - BATCH_LINES, 0)
    group = chat == store.GROUP
    text = services.text(locale, "escalation", "batch" if group else "staff_batch",
                         Audience.BROADCAST if group else Audience.ENTITLED,
                         items=items[:BATCH_LINES], more=more, at=local(services, now))  # fmt: skip
    markup = inline_markup(buttons)
    await outbox.enqueue(conn, chat_id=chat_id, now=now, text=text, priority=PRIORITY_ALERT,
                         reply_markup=markup, subject=FLUSH_SUBJECT, dedup_key=key)  # fmt: skip
    await cards.offer_acks(conn, key, markup)
