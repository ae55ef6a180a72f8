"""Mobilisation (紧急动员): a leader's call, each answer, the close; each one transaction (the
rows, the outbox messages, the climb of the ladder, the audit entry), and the ladder's own
messages for the silent (``LADDER``, wired in bot/app.py). Rules: bot.domain.mobilisation.

Who is told: each person called who is in the bot gets the call with 收到 / 到岗 / 无法到岗;
those only on file (no Telegram) are listed, phones in full, on the caller's roll-call to be
phoned. The caller's roll-call is one message edited in place, rendered from the database
inside every answer's transaction: the writes are serialised, so the last edit has every
answer. The leadership group gets a notice at the call and the summary at its close. A
drill carries 【演练】 in every one of these messages, and in the audit."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import aiosqlite
from markupsafe import Markup

from bot.actions.roster import names as staff_kinds
from bot.domain import mobilisation as domain
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.escalation import Rung
from bot.domain.masking import Audience
from bot.domain.messages import MESSAGE_LIMIT
from bot.domain.steps import Data
from bot.runtime import cards, escalation
from bot.runtime.render import reader_locale, reader_locales
from bot.runtime.services import Services
from storage import audit, drafts, outbox, roster
from storage import escalation as ladder_store
from storage import mobilisation as store
from storage.escalation import Item
from storage.mobilisation import NewCall
from storage.outbox import PRIORITY_ALERT, PRIORITY_NOTIFY

log = logging.getLogger(__name__)

MODULE = "mobilisation"
CLOSE, REFRESH = "c", "f"  # the caller's buttons: v1:dy:<id>:c | f
CODES = {state: code for code, state in domain.ANSWER_CODES.items()}
NAME_LIMITS = (domain.NAMES_SHOWN, 10, 3, 0)  # names per state, until the roll-call fits


def subject(mobilisation_id: int) -> str:
    return domain.subject(mobilisation_id)


def _data(mobilisation_id: int, code: str) -> str:
    return callback(domain.FLOW, str(mobilisation_id), code)


# --- what the messages say -------------------------------------------------------------------


def call_params(services: Services, row: Any, locale: str) -> dict[str, Any]:
    """The call as every message shows it, in ``locale`` (no personal data)."""
    return dict(ref=row["ref"], drill=bool(row["drill"]), place=row["place"],
                when=row["meet_at"], task=row["task"], state=row["state"],
                who=target_label(services, locale, json.loads(row["target"])))  # fmt: skip


def _person(row: Any) -> dict[str, Any]:
    """A person on file (a roster row, or a roll-call row)."""
    return dict(name=row["name"], phone=row["phone"] or "")


def _called(call: Any) -> dict[str, Any]:
    """A person on the roll-call, with their reason if they cannot come."""
    return {**_person(call), "reason": call["reason"] or ""}


def rollcall_params(calls: Sequence[Any], limit: int) -> dict[str, Any]:
    """Counts per state, and the first ``limit`` people of each with how many more."""
    people: dict[str, Any] = {}
    for state in domain.STATES:
        names, more = domain.shown([_called(c) for c in calls if c["state"] == state], limit)
        people[state] = dict(people=names, more=more)
    return dict(counts=domain.tally(c["state"] for c in calls), people=people,
                total=len(calls))  # fmt: skip


def fitted(render: Callable[[int], str]) -> str:
    """The roll-call with as many names per state as one message holds (an edit cannot be
    split); with none it always fits, every field of a call being capped."""
    for limit in NAME_LIMITS[:-1]:
        text = render(limit)
        if len(text) <= MESSAGE_LIMIT:
            return text
    return render(NAME_LIMITS[-1])


def answer_markup(services: Services, locale: str, row: Any, state: str) -> dict[str, Any] | None:
    """A called person's buttons: the answers still open to them, while the call is."""
    if row["state"] != domain.OPEN:
        return None
    buttons = [button(services.text(locale, MODULE, f"btn_{to}"), _data(row["id"], CODES[to]))
               for to in (domain.RECEIVED, domain.ARRIVED, domain.DECLINED)
               if domain.may_answer(state, to)]  # fmt: skip
    return inline_markup([buttons]) if buttons else None


def caller_markup(services: Services, locale: str, row: Any) -> dict[str, Any] | None:
    if row["state"] != domain.OPEN:
        return None
    return inline_markup([[button(services.text(locale, MODULE, "btn_close"),
                                  _data(row["id"], CLOSE)),
                           button(services.text(locale, MODULE, "btn_refresh"),
                                  _data(row["id"], REFRESH))]])  # fmt: skip


async def rollcall_text(conn: aiosqlite.Connection, services: Services, row: Any, locale: str,
                        now: datetime) -> str:  # fmt: skip
    """The caller's roll-call as the database has it now (names and phones in full: the
    caller is entitled to their own call's people)."""
    calls = await store.calls(conn, row["id"])
    m, at = call_params(services, row, locale), escalation.local(services, now)
    return fitted(lambda limit: services.text(locale, MODULE, "rollcall", Audience.ENTITLED,
                                              m=m, r=rollcall_params(calls, limit),
                                              at=at))  # fmt: skip


async def _rollcall(conn: aiosqlite.Connection, services: Services, mobilisation_id: int,
                    now: datetime, *, first: bool) -> None:  # fmt: skip
    row = await store.get(conn, mobilisation_id)
    chat = row["caller_chat_id"]
    locale = await reader_locale(conn, chat, services.config.bot.default_locale)
    message = dict(chat_id=chat, now=now, subject=subject(mobilisation_id),
                   text=await rollcall_text(conn, services, row, locale, now),
                   reply_markup=caller_markup(services, locale, row))  # fmt: skip
    if first:
        await outbox.enqueue(conn, priority=PRIORITY_ALERT, dedup_key=row["rollcall_key"],
                             **message)  # fmt: skip
    else:
        await outbox.enqueue_edit(conn, edits=row["rollcall_key"], priority=PRIORITY_NOTIFY,
                                  **message)  # fmt: skip


def _reminders(mobilisation_id: int) -> str:
    """What the reminders offer their answer buttons for (bot.runtime.cards): the close
    takes them off."""
    return f"{subject(mobilisation_id)}:remind"


def _card_key(mobilisation_id: int, user_id: int) -> str:
    return f"{subject(mobilisation_id)}:to:{user_id}"


async def _cards(conn: aiosqlite.Connection, services: Services, row: Any,
                 calls: Sequence[Any], now: datetime, *, first: bool) -> None:  # fmt: skip
    """Each reachable person's card of the call, with the answers still open to them."""
    reached = [c for c in calls if c["user_id"] is not None and c["state"] != domain.UNREACHABLE]
    default = services.config.bot.default_locale
    locales = await reader_locales(conn, [c["user_id"] for c in reached], default)
    for call in reached:
        locale = locales[call["user_id"]]
        m = call_params(services, row, locale)
        state = call["state"]
        message = dict(chat_id=call["user_id"], now=now, subject=subject(row["id"]),
                       text=services.text(locale, MODULE, "card", Audience.ENTITLED, m=m,
                                          me=_called(call), state=state),
                       reply_markup=answer_markup(services, locale, row, state))  # fmt: skip
        key = _card_key(row["id"], call["user_id"])
        if first:
            await outbox.enqueue(conn, priority=PRIORITY_ALERT, dedup_key=key, **message)
        else:
            await outbox.enqueue_edit(conn, edits=key, priority=PRIORITY_NOTIFY, **message)


async def _to_group(conn: aiosqlite.Connection, services: Services, row: Any, name: str,
                    key: str, now: datetime, **params: Any) -> None:  # fmt: skip
    """The leadership group's message about the call (masked: names as the group may see
    them, no phones)."""
    locale = services.config.bot.default_locale
    await outbox.enqueue(conn, chat_id=services.config.leadership.chat_id, now=now,
                         priority=PRIORITY_NOTIFY, dedup_key=key, subject=key,
                         text=services.text(locale, MODULE, name,
                                            m=call_params(services, row, locale),
                                            **params))  # fmt: skip


# --- the call --------------------------------------------------------------------------------


async def everyone(services: Services) -> list[Any]:
    """Everyone on file (named people are chosen among them)."""
    return await roster.select(services.db)


async def reach(services: Services, data: Data) -> dict[str, Any]:
    """Who the caller's answers call, for the confirmation card: how many the bot reaches,
    who is only on file (to phone: in full, the caller is entitled), how many of the group
    are not called being busy or away."""
    selection = domain.selection(data)
    people = await roster.select(services.db, **selection)
    matching = await roster.select(services.db, **{**selection, "available_only": False})
    return dict(bot=sum(p["user_id"] is not None for p in people),
                file=[_person(p) for p in people if p["user_id"] is None],
                away=len(matching) - len(people))  # fmt: skip


def kind_name(services: Services, locale: str, what: str, kind_id: str) -> str:
    """A staff category's or skill's name (``what``: category | skill); one no longer
    configured shows as its id."""
    return staff_kinds(services, locale, what).get(kind_id, kind_id)


def target_label(services: Services, locale: str, target: dict[str, Any]) -> Markup:
    """Who a call is for, in words ("石桥村 下沉干部", "指定人员 3 名"): rendered HTML, so
    that the templates it goes into do not escape it again."""
    village = services.config.village(target.get(domain.VILLAGE) or "")
    names = {what: kind_name(services, locale, what, target[what])
             for what in (domain.CATEGORY, domain.SKILL) if target.get(what)}  # fmt: skip
    return Markup(services.text(locale, MODULE, "target", kind=target["kind"],
                                village=village.name if village else "",
                                people=len(target.get("people") or ()), **names))  # fmt: skip


async def call(services: Services, data: Data, user_id: int, chat_id: int,
               token: str) -> int | None:  # fmt: skip
    """Send the call (the caller's answers; the draft dropped): the call and its roll-call
    rows, each reachable person's card, the caller's roll-call, the group's notice, the
    ladder for the silent, the audit. None when nobody matches any more (nothing sent)."""
    now = services.now()
    async with services.db.write() as conn:
        people = await roster.select(conn, **domain.selection(data))
        if not people:
            return None
        await drafts.delete(conn, user_id, token)
        ref = await store.next_ref(conn, services.config.town.code, services.local_today())
        new = NewCall(drill=bool(data["drill"]), target=domain.target(data), place=data["place"],
                      meet_at=data["when"], task=data["task"], village_id=data.get("village"),
                      caller_user_id=user_id, caller_chat_id=chat_id)  # fmt: skip
        called = [(p["id"], p["user_id"] is not None) for p in people]
        mobilisation_id = await store.create(conn, new, ref, now, called)
        row = await store.get(conn, mobilisation_id)
        calls = await store.calls(conn, mobilisation_id)
        await _cards(conn, services, row, calls, now, first=True)
        await _rollcall(conn, services, mobilisation_id, now, first=True)
        counts = domain.tally(c["state"] for c in calls)
        await _to_group(conn, services, row, "group_notice",
                        f"{subject(mobilisation_id)}:notice", now, counts=counts,
                        total=len(calls))  # fmt: skip
        if counts[domain.SENT]:
            await escalation.start(conn, services, subject=subject(mobilisation_id),
                                   kind=domain.KIND, grid_id=None, village_id=new.village_id or "",
                                   deadline=now, ref=ref, now=now,
                                   detail={"drill": new.drill})  # fmt: skip
        await audit.record(conn, now, user_id, "mobilisation.call", subject(mobilisation_id),
                           f"{'drill' if new.drill else 'real'}:{counts[domain.SENT]}"
                           f":{counts[domain.UNREACHABLE]}")  # fmt: skip
    services.wake_outbox()
    log.info("mobilisation %s: %d called%s", ref, len(calls), " (drill)" if new.drill else "")
    return mobilisation_id


# --- answers ---------------------------------------------------------------------------------


async def find(services: Services, mobilisation_id: int) -> Any:
    return await store.get(services.db, mobilisation_id)


async def answer(services: Services, mobilisation_id: int, user_id: int, to: str,
                 reason: str | None = None, token: str | None = None) -> str:  # fmt: skip
    """收到 / 到岗 / 无法到岗 (``to``; a reason with the last): 'done'; 'again' when that
    answer is not open to them (pressed twice, 到岗 already); 'closed' when the call ended;
    'not_called' when the user is not on its roll-call; 'missing' for no such call."""
    now = services.now()
    async with services.db.write() as conn:
        if token is not None:
            await drafts.delete(conn, user_id, token)
        row = await store.get(conn, mobilisation_id)
        found = row and await store.call_of(conn, mobilisation_id, user_id)
        outcome = _refusal(row, found, to)
        if outcome is not None:
            return outcome
        await store.answer(conn, mobilisation_id, found["roster_id"], [found["state"]], to,
                           reason if to == domain.DECLINED else None, now)  # fmt: skip
        if not await store.waiting(conn, mobilisation_id):
            await escalation.stop(conn, subject(mobilisation_id), now)
        await _rollcall(conn, services, mobilisation_id, now, first=False)
        mine = await store.call_of(conn, mobilisation_id, user_id)
        await _cards(conn, services, row, [mine], now, first=False)
        await audit.record(conn, now, user_id, f"mobilisation.{to}", subject(mobilisation_id),
                           _drill_note(row, reason if to == domain.DECLINED else None))  # fmt: skip
    services.wake_outbox()
    return "done"


def _refusal(row: Any, found: Any, to: str) -> str | None:
    if row is None:
        return "missing"
    if found is None:
        return "not_called"
    if row["state"] != domain.OPEN:
        return "closed"
    return None if domain.may_answer(found["state"], to) else "again"


def _drill_note(row: Any, detail: str | None) -> str | None:
    """The audit's detail: a drill's entries say so."""
    parts = [*(["drill"] if row["drill"] else []), *([detail] if detail else [])]
    return ":".join(parts) or None


async def may_decline(services: Services, mobilisation_id: int, user_id: int) -> str | None:
    """Why 无法到岗 cannot be answered now (the outcomes of ``answer``), None: ask the reason."""
    row = await store.get(services.db, mobilisation_id)
    found = row and await store.call_of(services.db, mobilisation_id, user_id)
    return _refusal(row, found, domain.DECLINED)


# --- the caller's buttons --------------------------------------------------------------------


async def close(services: Services, mobilisation_id: int, user_id: int) -> str:
    """结束动员: 'done' (the climb stops, the roll-call, the cards and the reminders lose
    their buttons, the group gets the summary); 'again' when it was closed already."""
    now = services.now()
    async with services.db.write() as conn:
        if not await store.close(conn, mobilisation_id, user_id, now):
            return "again"
        await escalation.stop(conn, subject(mobilisation_id), now)
        row = await store.get(conn, mobilisation_id)
        calls = await store.calls(conn, mobilisation_id)
        await _rollcall(conn, services, mobilisation_id, now, first=False)
        await _cards(conn, services, row, calls, now, first=False)
        await cards.retire(conn, _reminders(mobilisation_id), now,
                           note=lambda locale: services.text(locale, MODULE, "answer_closed",
                                                             state=domain.SENT),
                           default_locale=services.config.bot.default_locale)  # fmt: skip
        await _to_group(conn, services, row, "group_summary",
                        f"{subject(mobilisation_id)}:summary", now,
                        r=rollcall_params(calls, domain.NAMES_SHOWN))  # fmt: skip
        await audit.record(conn, now, user_id, "mobilisation.close", subject(mobilisation_id),
                           _drill_note(row, None))  # fmt: skip
    services.wake_outbox()
    return "done"


async def refresh(services: Services, mobilisation_id: int) -> None:
    """🔄: the roll-call edited again (its time shows when)."""
    async with services.db.write() as conn:
        await _rollcall(conn, services, mobilisation_id, services.now(), first=False)
    services.wake_outbox()


# --- the ladder's messages for the silent ----------------------------------------------------


async def _send_step(services: Services, conn: aiosqlite.Connection, item: Item, rung: Rung,
                     now: datetime) -> None:  # fmt: skip
    """A rung for everyone still silent: each reminded themselves (with the answer buttons);
    each village's admins told of theirs (phones in full: they are to reach them), those of
    no village or with no admin in the bot to the group; the group, every one of them."""
    mobilisation_id = int(item.subject.rpartition(":")[2])
    row = await store.get(conn, mobilisation_id)
    silent = await store.silent(conn, mobilisation_id)
    if row is None or not silent:
        return
    key = f"{item.subject}:g{item.gen}:{rung.to}"
    if rung.to == "assignee":
        await _remind(conn, services, row, silent, now, key)
        return
    leftover = silent
    if rung.to == "village_admin":
        leftover = await _to_village_admins(conn, services, row, silent, now, key)
    if leftover:
        await _to_group(conn, services, row, "group_silent", f"{key}:group", now,
                        people=[_person(c) for c in leftover],
                        overdue=int((now - item.deadline_at).total_seconds() // 60))  # fmt: skip


async def _remind(conn: aiosqlite.Connection, services: Services, row: Any,
                  silent: Sequence[Any], now: datetime, key: str) -> None:  # fmt: skip
    locales = await reader_locales(conn, [c["user_id"] for c in silent],
                                   services.config.bot.default_locale)  # fmt: skip
    for call in silent:
        locale = locales[call["user_id"]]
        m = call_params(services, row, locale)
        await outbox.enqueue(conn, chat_id=call["user_id"], now=now, priority=PRIORITY_ALERT,
                             text=services.text(locale, MODULE, "reminder", m=m),
                             reply_markup=answer_markup(services, locale, row, call["state"]),
                             subject=subject(row["id"]),
                             dedup_key=f"{key}:to:{call['user_id']}")  # fmt: skip
        await outbox.offer(conn, f"{key}:to:{call['user_id']}", _reminders(row["id"]),
                           [_data(row["id"], code) for code in domain.ANSWER_CODES])  # fmt: skip
    await store.reminded(conn, row["id"], [c["roster_id"] for c in silent], now)


async def _to_village_admins(conn: aiosqlite.Connection, services: Services, row: Any,
                             silent: Sequence[Any], now: datetime,
                             key: str) -> list[Any]:  # fmt: skip
    """Each village's admins get their silent people; returns those with nobody to tell."""
    by_village: dict[str, list[Any]] = {}
    for call in silent:
        by_village.setdefault(call["village_id"] or "", []).append(call)
    leftover: list[Any] = []
    for village_id, people in by_village.items():
        admins = village_id and await ladder_store.village_admins(conn, village_id)
        if not admins:
            leftover += people
            continue
        village = services.config.village(village_id)
        listed = [_person(c) for c in people]
        locales = await reader_locales(conn, admins, services.config.bot.default_locale)
        for chat, locale in locales.items():
            text = services.text(locale, MODULE, "admin_silent", Audience.ENTITLED,
                                 m=call_params(services, row, locale), people=listed,
                                 village=village.name if village else village_id)  # fmt: skip
            await outbox.enqueue(conn, chat_id=chat, now=now, priority=PRIORITY_ALERT, text=text,
                                 subject=subject(row["id"]),
                                 dedup_key=f"{key}:{village_id}:to:{chat}")  # fmt: skip
    return leftover


LADDER = escalation.OwnMessages(step=_send_step)  # its rungs never repeat
