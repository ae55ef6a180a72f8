"""A discovered case: storing it with its alerts and its climb of the escalation ladder in one
transaction, what the leadership group reads (masked), and how the case ladder's messages are
worded (``LADDER``, wired in bot/app.py).

Every case also starts its contact tracing deadline (escalation kind 'trace', subject
``trace:<case id>``, ``[contacts] trace_hours`` after the discovery; bot.actions.contacts says
what handles it). The group's card shows how far its contacts are along the chain
(``refresh_card``, called by whoever changes a count).

Timeline of an open case (minutes after it was reported; bot.domain.escalation.case_ladder):
alert at 0; reminders at 60, 90 and 110 unless someone acknowledged ("收到"); at 120 a red
overdue escalation, then one batched red message per repeat slot
(``schedule.case_overdue_repeat_minutes``) listing every case still not reported. Only
recording the direct report (its number) stops the overdue escalation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiosqlite

from bot.domain import cases as domain
from bot.domain import contacts as contact_rules
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.contacts import Chain
from bot.domain.escalation import CASE, Rung
from bot.runtime import escalation
from bot.runtime.escalation import local
from bot.runtime.render import reader_locales
from bot.runtime.services import Services
from storage import audit, cases, contacts, drafts, outbox
from storage import escalation as ladder_store
from storage.cases import NewCase, Tick
from storage.escalation import Item
from storage.outbox import PRIORITY_ALERT, PRIORITY_NOTIFY

log = logging.getLogger(__name__)

FLOW = "cs"  # callback data of the buttons on case messages: v1:cs:<case id>:<action>[:<item>]
TRACE = "trace"  # the escalation kind of a case's contact tracing
BATCH_BUTTONS = 8  # "已网络直报" buttons on one batched escalation


def subject(case_id: int) -> str:
    return f"case:{case_id}"


def alert_key(case_id: int) -> str:
    return f"case:{case_id}:alert"


def trace_subject(case_id: int) -> str:
    return f"{TRACE}:{case_id}"


# --- rendering ---------------------------------------------------------------------------


def map_url(latitude: float, longitude: float, label: str) -> str:
    """A map pin that opens in 高德地图 (amap) from the WGS-84 coordinates Telegram gives."""
    query = urlencode({"position": f"{longitude},{latitude}", "name": label,
                       "coordinate": "wgs84", "callnative": 0})  # fmt: skip
    return f"https://uri.amap.com/marker?{query}"


def card_params(services: Services, case: Any, ticks: list[Tick], now: datetime,
                chain: Chain | None = None) -> dict:  # fmt: skip
    """Everything a case message shows (staff and group chats: the renderer masks it);
    ``chain``: how far its contacts are (the group's card)."""
    config = services.config
    village, grid = config.grid(case["grid_id"]) or (None, None)
    located = case["latitude"] is not None
    deadline_at = datetime.fromisoformat(case["deadline_at"])
    discovered = case["discovered_at"] or case["created_at"]  # older rows: entered = found
    return dict(
        ref=case["ref"], kind=case["kind"], state=case["state"],
        name=case["person_name"], phone=case["person_phone"], id_number=case["person_id_number"],
        report_ref=case["report_ref"] or "",
        village=village.name if village else case["village_id"],
        grid=grid.name if grid else case["grid_id"],
        address=case["address"], status=case["status"],
        latitude=case["latitude"], longitude=case["longitude"],
        map_url=map_url(case["latitude"], case["longitude"], case["ref"]) if located else "",
        created=local(services, case["created_at"]), deadline=local(services, deadline_at),
        discovered=local(services, discovered), source=case["source"],
        confirmation=case["confirmation"],
        remaining=domain.remaining_minutes(deadline_at, now),
        report_no=case["direct_report_no"] or "", reported_at=local(services, case["reported_at"]),
        reported_by=case["reported_by_name"] or "",
        ticks=[dict(item=t.item, name=t.name or "", at=local(services, t.at)) for t in ticks],
        chain=chain, traced_at=local(services, case["traced_at"]),
        traced_by=case["traced_name"] or "",
    )  # fmt: skip


def _button(label: str, *parts: str) -> dict[str, str]:
    return button(label, callback(FLOW, *parts))


def checklist_rows(services: Services, locale: str, case_id: int, ticks: list[Tick]) -> list:
    buttons = [
        _button(services.text(locale, "cases", "btn_item", item=t.item, done=t.at is not None),
                str(case_id), "t", t.item)
        for t in ticks
    ]  # fmt: skip
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def _report_row(services: Services, locale: str, case_id: int,
                ack: bool = True) -> list[dict[str, str]]:  # fmt: skip
    """The "已网络直报" button and (not on the overdue escalation, which asks only for the
    report) "收到": one row shared by the group card, the reminder and the overdue message."""
    row = [_button(services.text(locale, "cases", "btn_reported"), str(case_id), "r")]
    if ack:
        row.append(_button(services.text(locale, "cases", "btn_ack"), str(case_id), "a"))
    return row


def _pending(case: Any) -> bool:
    return case["confirmation"] == "pending" and case["state"] == "open"


def group_markup(services: Services, locale: str, case: Any, ticks: list[Tick]) -> dict:
    """The leadership group's card: "已网络直报" and "收到" while open, "确认是病例" and
    "排除" while a positive result's case waits for a human, and the checklist."""
    rows: list[list[dict[str, str]]] = []
    if case["state"] == "open":
        rows.append(_report_row(services, locale, case["id"]))
    if _pending(case):
        rows.append([_button(services.text(locale, "cases", "btn_confirm"), str(case["id"]), "c"),
                     _button(services.text(locale, "cases", "btn_rule_out"), str(case["id"]),
                             "x")])  # fmt: skip
    rows += checklist_rows(services, locale, case["id"], ticks)
    return inline_markup(rows)


def staff_markup(services: Services, locale: str, case: Any, ticks: list[Tick]) -> dict:
    """A worker's notice: while a positive result's case waits, the case flow prefilled with
    the person (定人定位定状态, which confirms it) and "排除"; the checklist; the contacts'
    buttons (add one, the list, the list complete) while the case stands."""
    rows: list[list[dict[str, str]]] = []
    if _pending(case):
        rows.append([_button(services.text(locale, "cases", "btn_fill"), str(case["id"]), "f")])
        rows.append([_button(services.text(locale, "cases", "btn_rule_out"), str(case["id"]),
                             "x")])  # fmt: skip
    rows += checklist_rows(services, locale, case["id"], ticks)
    if case["state"] != "closed":
        rows.append(contact_row(services, locale, case))
    return inline_markup(rows)


def contact_row(services: Services, locale: str, case: Any) -> list[dict[str, str]]:
    """The contact buttons: 添加密接, 密接名单 and, until it was marked, 密接排查完毕
    (handlers/contacts.py)."""
    actions = ("add", "list") if case["traced_at"] else ("add", "list", "done")
    return [button(services.text(locale, "contacts", f"btn_{a}"),
                   callback(contact_rules.CALLBACK, str(case["id"]), a))
            for a in actions]  # fmt: skip


async def load(conn: aiosqlite.Connection | Any, case_id: int) -> tuple[Any, list[Tick]] | None:
    case = await cases.get(conn, case_id)
    if case is None:
        return None
    return case, await cases.checklist(conn, case_id)


async def find(services: Services, case_id: int) -> tuple[Any, list[Tick]] | None:
    """A case and its checklist, as its buttons act on them (None: no such case)."""
    return await load(services.db, case_id)


def group_card(services: Services, case: Any, ticks: list[Tick], now: datetime,
               chain: Chain | None = None) -> str:  # fmt: skip
    locale = services.config.bot.default_locale
    return services.text(locale, "cases", "alert",
                         c=card_params(services, case, ticks, now, chain))  # fmt: skip


# --- storing a new case ------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    id: int
    ref: str
    deadline: datetime


async def store(services: Services, case: NewCase, user_id: int) -> Stored | None:
    """One transaction: the case with its alerts and climb (``open_case``); the draft is
    dropped. None when the draft was already submitted (a double tap)."""
    async with services.db.write() as conn:
        if not await drafts.delete(conn, user_id, case.draft_token):
            return None
        stored = await open_case(conn, services, case, user_id, services.now())
    services.wake_outbox()
    return stored


async def open_case(conn: aiosqlite.Connection, services: Services, case: NewCase,
                    user_id: int, now: datetime) -> Stored:  # fmt: skip
    """In the caller's transaction: the case, its checklist, the group alert, the notices to
    the area's staff, the start of its climb of the case ladder (2 hours from the discovery:
    a discovery already 2 hours old escalates at once), the audit entry."""
    deadline_at = domain.deadline(case.discovered_at)
    locale = services.config.bot.default_locale
    leadership = services.config.leadership.chat_id
    ref = await cases.next_ref(conn, services.config.town.code, services.local_today())
    case_id = await cases.create(conn, case, ref=ref, now=now, deadline_at=deadline_at)
    row, ticks = await load(conn, case_id)
    params = card_params(services, row, ticks, now)
    await outbox.enqueue(conn, chat_id=leadership, now=now, priority=PRIORITY_ALERT,
                         text=services.text(locale, "cases", "alert", c=params),
                         reply_markup=group_markup(services, locale, row, ticks),
                         dedup_key=alert_key(case_id), subject=subject(case_id))  # fmt: skip
    staff = await cases.local_staff(conn, case.grid_id, case.village_id)
    for user, reader in (await reader_locales(conn, staff, locale)).items():
        if user == case.reported_by and not case.pending:
            continue  # the reporter has the receipt; a positive result's recorder must act
        await outbox.enqueue(conn, chat_id=user, now=now, priority=PRIORITY_ALERT,
                             text=services.text(reader, "cases", "staff_notice", c=params),
                             reply_markup=staff_markup(services, reader, row, ticks),
                             dedup_key=f"case:{case_id}:to:{user}",
                             subject=subject(case_id))  # fmt: skip
    await escalation.start(conn, services, subject=subject(case_id), kind=CASE,
                           grid_id=case.grid_id, village_id=case.village_id,
                           deadline=deadline_at, ref=ref, now=now)  # fmt: skip
    traced_by = case.discovered_at + timedelta(hours=services.config.contacts.trace_hours)
    await escalation.start(conn, services, subject=trace_subject(case_id), kind=TRACE,
                           grid_id=case.grid_id, village_id=case.village_id,
                           deadline=traced_by, ref=ref, now=now,
                           parent=subject(case_id))  # fmt: skip
    await audit.record(
        conn,
        now,
        user_id,
        "case.create",
        subject(case_id),
        case.kind if case.source is None else f"{case.kind}:{case.source}",
    )
    log.info("case opened: %s (%s), alert queued to the leadership group and %d staff",
             ref, case.kind, len(staff))  # fmt: skip
    return Stored(case_id, ref, deadline_at)


def arrival_key(report_id: int, test_date: str | None) -> str:
    """An arrival report's positive result, by its test date: a later version with a new
    positive test opens a case of its own even when the first was ruled out."""
    return f"positive:report:{report_id}:{test_date}"


async def holds_measure(conn: aiosqlite.Connection, report_id: int) -> bool:
    """A case of the report's people stands (pending, confirmed): its measure is never
    lowered (a certificate checked, a key region's downgrade) until it is ruled out."""
    return await cases.standing(conn, report_id) is not None


async def open_positive(conn: aiosqlite.Connection, services: Services, *, source: str,
                        key: str, report_id: int, idx: int, by: int,
                        now: datetime) -> Stored | None:  # fmt: skip
    """In the transaction storing a positive result (``source`` 'arrival' or 'monitoring'):
    a suspected case of the report's person ``idx``, pending a human's confirmation, its
    countdown from now (when the result was reported); ``by`` who recorded it (0: the
    resident's own report). ``key`` names the result: None when it opened a case already
    (a replay, a re-submitted report). Its status stays empty until a worker's 定状态."""
    person = await cases.report_person(conn, report_id, idx)
    if person is None or await cases.by_source(conn, key) is not None:
        return None
    case = NewCase(
        draft_token=key, kind="suspected", report_id=report_id, person_name=person["name"],
        person_phone=person["phone"], person_id_number=person["id_number"],
        village_id=person["village_id"], grid_id=person["grid_id"], address=person["address"],
        latitude=None, longitude=None, status="", reported_by=by, discovered_at=now,
        source=source, source_key=key,
    )  # fmt: skip
    return await open_case(conn, services, case, by, now)


# --- a positive result's case: a human confirms it or rules it out -------------------------


async def confirm(services: Services, case_id: int, user_id: int, name: str,
                  details: NewCase | None = None,
                  draft_token: str | None = None) -> bool:  # fmt: skip
    """A human confirmed that a positive result's case is a case (in the group, or by the case
    flow's 定位定状态: ``details``); audited, the group told. False when it was no longer
    pending."""
    now = services.now()
    locale = services.config.bot.default_locale
    async with services.db.write() as conn:
        if draft_token is not None:
            await drafts.delete(conn, user_id, draft_token)
        if not await cases.confirm(conn, case_id, user_id, now, details):
            return False
        await audit.record(conn, now, user_id, "case.confirm", subject(case_id),
                           "flow" if details else "button")  # fmt: skip
        case = await cases.get(conn, case_id)
        status = services.text(locale, "cases", "confirmed", ref=case["ref"], name=name,
                               at=local(services, now))  # fmt: skip
        await outbox.enqueue(conn, chat_id=services.config.leadership.chat_id, now=now,
                             priority=PRIORITY_ALERT, subject=subject(case_id), text=status,
                             dedup_key=f"case:{case_id}:confirmed")  # fmt: skip
        await refresh_card(services, conn, case_id, now, priority=PRIORITY_ALERT)
    services.wake_outbox()
    return True


async def prefill(services: Services, case: Any, user_id: int) -> dict[str, Any]:
    """The case flow's answers for a positive result's case (定人 known: the person, where,
    when discovered); the staff member's view of the person is audited."""
    async with services.db.write() as conn:
        await audit.record(conn, services.now(), user_id, "case.view", subject(case["id"]),
                           "confirm")  # fmt: skip
    return {"case_id": case["id"], "report_id": case["report_id"],
            "report_ref": case["report_ref"], "name": case["person_name"],
            "phone": case["person_phone"], "id_number": case["person_id_number"],
            "village": case["village_id"], "grid": case["grid_id"], "address": case["address"],
            "discovered_at": case["discovered_at"], "kind": case["kind"]}  # fmt: skip


async def rule_out(services: Services, case_id: int, user_id: int, name: str) -> bool:
    """A human ruled a positive result's case out: closed, its climb stopped, audited, the
    group told. False when it was no longer pending."""
    now = services.now()
    locale = services.config.bot.default_locale
    async with services.db.write() as conn:
        if not await cases.rule_out(conn, case_id, user_id, now):
            return False
        await escalation.stop(conn, subject(case_id), now)
        await stop_trace(conn, case_id, now)
        await audit.record(conn, now, user_id, "case.rule_out", subject(case_id))
        case = await cases.get(conn, case_id)
        await outbox.enqueue(conn, chat_id=services.config.leadership.chat_id, now=now,
                             priority=PRIORITY_ALERT, subject=subject(case_id),
                             text=services.text(locale, "cases", "ruled_out", ref=case["ref"],
                                                name=name, at=local(services, now)),
                             dedup_key=f"case:{case_id}:ruled_out")  # fmt: skip
        await refresh_card(services, conn, case_id, now)
    services.wake_outbox()
    return True


# --- after the case was stored: tick, acknowledge, direct report ----------------------------


async def tick(services: Services, case_id: int, item: str, user_id: int, name: str) -> bool:
    """Tick a checklist item (once); tell the group. False when it was already ticked."""
    now = services.now()
    async with services.db.write() as conn:
        if not await cases.tick(conn, case_id, item, user_id, name, now):
            return False
        await audit.record(conn, now, user_id, "case.tick", subject(case_id), item)
        case = await cases.get(conn, case_id)
        status = services.text(
            services.config.bot.default_locale,
            "cases",
            "ticked",
            ref=case["ref"],
            item=item,
            name=name,
            at=local(services, now),
        )
        await refresh_card(services, conn, case_id, now, fallback=status)  # fmt: skip
    services.wake_outbox()
    return True


async def acknowledge(services: Services, case_id: int, user_id: int, name: str) -> str:
    """Acknowledge ("收到"): record who and when; the ladder's reminders stop (not the overdue
    escalation, a rung after "收到"). Returns 'done', 'again' (this person had acknowledged)
    or 'closed'."""
    now = services.now()
    locale = services.config.bot.default_locale
    async with services.db.write() as conn:
        case = await cases.get(conn, case_id)
        item = await ladder_store.get(conn, subject(case_id))
        if case is None or case["state"] != "open" or item is None:
            return "closed"
        if not await ladder_store.ack(conn, subject(case_id), user_id, name, now):
            return "again"
        await escalation.acknowledged(conn, services, item, user_id, now)
        await audit.record(conn, now, user_id, "case.ack", subject(case_id))
        await outbox.enqueue(conn, chat_id=services.config.leadership.chat_id, now=now,
                             priority=PRIORITY_NOTIFY, subject=subject(case_id),
                             text=services.text(locale, "cases", "acked", ref=case["ref"],
                                                name=name, at=local(services, now)),
                             dedup_key=f"case:{case_id}:ack:{user_id}")  # fmt: skip
    services.wake_outbox()
    return "done"


async def record_direct_report(services: Services, case_id: int, number: str, user_id: int,
                               name: str, draft_user: int, token: str) -> bool:  # fmt: skip
    """The online direct report is done: number, who, when; the case's climb stops and the
    group is told. False when the case was no longer open (someone recorded it first)."""
    now = services.now()
    locale = services.config.bot.default_locale
    async with services.db.write() as conn:
        await drafts.delete(conn, draft_user, token)
        if not await cases.mark_reported(conn, case_id, number, user_id, name, now):
            return False
        await escalation.stop(conn, subject(case_id), now)
        await audit.record(conn, now, user_id, "case.direct_report", subject(case_id), number)
        # The card first, as urgent as the news: the group sees the number on it by the time
        # it reads that the report is done.
        await refresh_card(services, conn, case_id, now, priority=PRIORITY_ALERT)
        case = await cases.get(conn, case_id)
        found = datetime.fromisoformat(case["discovered_at"] or case["created_at"])
        took = int((now - found).total_seconds() // 60)
        await outbox.enqueue(conn, chat_id=services.config.leadership.chat_id, now=now,
                             priority=PRIORITY_ALERT, subject=subject(case_id),
                             text=services.text(locale, "cases", "reported", ref=case["ref"],
                                                number=number, name=name,
                                                at=local(services, now), minutes=took,
                                                late=now > datetime.fromisoformat(
                                                    case["deadline_at"])),
                             dedup_key=f"case:{case_id}:reported")  # fmt: skip
    services.wake_outbox()
    return True


async def refresh_card(services: Services, conn: aiosqlite.Connection, case_id: int,
                       now: datetime | None = None, *, fallback: str | None = None,
                       priority: int = PRIORITY_NOTIFY) -> None:  # fmt: skip
    """The group's alert brought up to the case's current state (its checklist, its
    contacts' chain: traced, isolated, tested, waiting for transfer) by the outbox, edited in
    place, in the caller's transaction; ``fallback`` is posted instead if the alert cannot be
    edited. Isolation, testing and transfer call it when a count changes."""
    now = now or services.now()
    case, ticks = await load(conn, case_id)
    chain = await contacts.chain(conn, case_id)
    locale = services.config.bot.default_locale
    await outbox.enqueue_edit(conn, edits=alert_key(case_id),
                              chat_id=services.config.leadership.chat_id, now=now,
                              text=group_card(services, case, ticks, now, chain),
                              reply_markup=group_markup(services, locale, case, ticks),
                              priority=priority, subject=subject(case_id),
                              fallback=fallback)  # fmt: skip


async def stop_trace(conn: aiosqlite.Connection, case_id: int, now: datetime) -> None:
    """The case's contact tracing is no longer owed (its list marked complete, or the case
    ruled out): its deadline stops climbing."""
    await escalation.stop(conn, trace_subject(case_id), now)


# --- the case ladder's messages ------------------------------------------------------------


def _case_id(item: Item) -> int:
    return int(item.subject.split(":", 1)[1])


def _superseded(services: Services, rung: Rung, item: Item, now: datetime) -> bool:
    """A later rung is due too (a discovery entered late, a restart): only the latest of
    them is told, not a burst of stale reminders."""
    late = (now - item.deadline_at).total_seconds() / 60
    return any(rung.after_minutes < r.after_minutes <= late
               for r in escalation.ladder(services, CASE))  # fmt: skip


async def _send_step(services: Services, conn: aiosqlite.Connection, item: Item, rung: Rung,
                     now: datetime) -> None:  # fmt: skip
    """A rung before the deadline: a reminder ("收到" stops the next); at it: the red overdue
    escalation, asking only for the direct report."""
    loaded = await load(conn, _case_id(item))
    reminder = rung.after_minutes < 0
    if loaded is None or (reminder and _superseded(services, rung, item, now)):
        return  # a reminder fired late: the later one (or the overdue escalation) follows
    case, ticks = loaded
    locale = services.config.bot.default_locale
    params = card_params(services, case, ticks, now)
    row = _report_row(services, locale, case["id"], ack=reminder)
    key = f"{item.subject}:g{item.gen}:{rung.after_minutes}:msg"
    await outbox.enqueue(conn, chat_id=services.config.leadership.chat_id, now=now,
                         priority=PRIORITY_ALERT, subject=item.subject,
                         text=services.text(locale, "cases", "reminder" if reminder else "overdue",
                                            c=params),
                         reply_markup=inline_markup([row]),
                         dedup_key=key)  # fmt: skip


async def _send_repeat(services: Services, conn: aiosqlite.Connection, items: list[Item],
                       now: datetime, key: str) -> None:  # fmt: skip
    """One red message for every case still not reported past its deadline."""
    locale = services.config.bot.default_locale
    rows = [row for item in items if (row := await cases.get(conn, _case_id(item)))]
    listed = []
    for row in rows:
        village, grid = services.config.grid(row["grid_id"]) or (None, None)
        overdue = now - datetime.fromisoformat(row["deadline_at"])
        listed.append(dict(ref=row["ref"], kind=row["kind"],
                           village=village.name if village else row["village_id"],
                           grid=grid.name if grid else row["grid_id"],
                           minutes=int(overdue.total_seconds() // 60)))  # fmt: skip
    buttons = [
        [_button(services.text(locale, "cases", "btn_reported_ref", ref=row["ref"]),
                 str(row["id"]), "r")]
        for row in rows[:BATCH_BUTTONS]
    ]  # fmt: skip
    await outbox.enqueue(conn, chat_id=services.config.leadership.chat_id, now=now,
                         priority=PRIORITY_ALERT, subject=f"ladder:repeat:{CASE}",
                         text=services.text(locale, "cases", "overdue_batch", cases=listed,
                                            at=local(services, now)),
                         reply_markup=inline_markup(buttons), dedup_key=key)  # fmt: skip


LADDER = escalation.OwnMessages(step=_send_step, repeat=_send_repeat)
