"""Neighbour tips after the conversation: storing one (with its deadline timer and the notices),
checking it (take, escalate, close), telling the tipster. Its deadline (2 h for symptoms, else
12 h) starts the escalation ladder (bot.runtime.escalation); closing the tip stops it.

Every staff-facing message is rendered from a ``TipView`` (no tipster field) or from masked
values; the tipster's chat is read only by ``_tell_tipster``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import aiosqlite

from bot.actions.cases import map_url
from bot.domain import tips as domain
from bot.domain.callbacks import button, callback, inline_markup, parse_callback
from bot.domain.masking import Audience
from bot.domain.tips import Match, TipView
from bot.runtime import cards, escalation
from bot.runtime.escalation import grid_recipients
from bot.runtime.render import reader_locales
from bot.runtime.services import Services
from storage import audit, drafts, outbox, staff, timers, tips
from storage.outbox import PRIORITY_ALERT, PRIORITY_NOTIFY
from storage.timers import Timer
from storage.tips import NewTip

FLOW = "tp"  # the tip card's buttons: v1:tp:<action>:<tip id>[:<report id>]


def subject(tip_id: int) -> str:
    return f"tip:{tip_id}"


# The buttons a step of the checking takes off every card (bot.runtime.cards): taking the tip
# its "start" button, escalating it its escalate button; closing it takes off all the rest.
_STEP_OFFERS = {"c": "check", "e": "esc"}


def offers(tip_id: int, markup: dict[str, Any] | None) -> dict[str, list[str]]:
    """The tip's buttons on a card or list, by the offer that takes them off."""
    found: dict[str, list[str]] = {}
    for row in (markup or {}).get("inline_keyboard", []):
        for data in (b["callback_data"] for b in row):
            step = _STEP_OFFERS.get((parse_callback(data, FLOW) or [""])[0])
            found.setdefault(step_offer(tip_id, step) if step else subject(tip_id), []).append(data)
    return found


def step_offer(tip_id: int, step: str) -> str:
    return f"{subject(tip_id)}:{step}"


async def offer(conn: aiosqlite.Connection, key: str, tip_id: int,
                markup: dict[str, Any] | None) -> None:  # fmt: skip
    """The message enqueued as ``key`` offers the tip's buttons (``markup``)."""
    for item, data in offers(tip_id, markup).items():
        await outbox.offer(conn, key, item, data)


@dataclass(frozen=True)
class Stored:
    id: int
    ref: str
    deadline_at: datetime


def day_start(services: Services) -> datetime:
    """The start of today in the town, as an instant: the daily limit counts from here."""
    return datetime.combine(services.local_today(), time(0), services.config.tz)


def place_names(services: Services, village_id: str, grid_id: str | None) -> tuple[str, str]:
    village = services.config.village(village_id)
    found = services.config.grid(grid_id or "")
    return (village.name if village else village_id, found[1].name if found else "")


def _local(services: Services, stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp).astimezone(services.config.tz) if stamp else None


def card_params(services: Services, tip: TipView, matches: list[Match] | None) -> dict[str, Any]:
    """What a staff card shows: the view, its place, local times, the registrations found."""
    village, grid = place_names(services, tip.village_id, tip.grid_id)
    pin = map_url(tip.latitude, tip.longitude, tip.ref) if tip.has_pin else ""
    return dict(t=tip, village=village, grid=grid, map=pin, matches=matches,
                since=date.fromisoformat(tip.since) if tip.since else None,
                created=_local(services, tip.created_at),
                deadline=_local(services, tip.deadline_at),
                handled=_local(services, tip.handled_at))  # fmt: skip


def group_params(services: Services, tip: TipView) -> dict[str, Any]:
    """For the leadership group: the place, what, and the name and phone (masked there)."""
    village, grid = place_names(services, tip.village_id, tip.grid_id)
    return dict(ref=tip.ref, kind=tip.kind, village=village, grid=grid,
                name=tip.person_name, phone=tip.person_phone,
                since=date.fromisoformat(tip.since) if tip.since else None,
                deadline=_local(services, tip.deadline_at))  # fmt: skip


def _button(label: str, *parts: str) -> dict[str, str]:
    return button(label, callback(FLOW, *parts))


def card_markup(services: Services, locale: str, tip: TipView) -> dict[str, Any] | None:
    """The actions still open on the tip."""
    if tip.state == "closed":
        return None
    tid = str(tip.id)
    rows = []
    if tip.state == "open":
        rows.append([_button(services.text(locale, "tips", "btn_check"), "c", tid)])
    rows.append([_button(services.text(locale, "tips", "btn_confirm"), "y", tid)])
    rows.append([_button(services.text(locale, "tips", "btn_unfounded"), "u", tid),
                 _button(services.text(locale, "tips", "btn_not_found"), "n", tid)])  # fmt: skip
    if tip.escalated_at is None:
        rows.append([_button(services.text(locale, "tips", "btn_escalate"), "e", tid)])
    return inline_markup(rows)


def confirm_markup(services: Services, locale: str, tip: TipView,
                   matches: list[Match]) -> dict[str, Any]:  # fmt: skip
    """Confirmed: register the person on the spot, link an existing registration, or (nobody
    to register: a gathering, a venue) handled. Only a match on the person (phone, name) gets
    a one-tap link: a registration at the same address may be someone else, so the worker
    types its number after checking."""
    tid = str(tip.id)
    rows = [[_button(services.text(locale, "tips", "btn_register"), "r", tid)]]
    rows += [[_button(services.text(locale, "tips", "btn_link", ref=m.ref), "l", tid,
                      str(m.report_id))] for m in matches if m.is_person]  # fmt: skip
    rows.append([_button(services.text(locale, "tips", "btn_link_other"), "lr", tid)])
    rows.append([_button(services.text(locale, "tips", "btn_handled"), "h", tid)])
    return inline_markup(rows)


async def recipients(conn: aiosqlite.Connection, services: Services, tip: TipView) -> list[int]:
    """The grid's workers (else its village admins, else the leadership group); a tip whose grid
    is unknown goes to the village admins."""
    if tip.grid_id:
        return await grid_recipients(conn, services, tip.grid_id)
    # staff.recipients with no grid: the village's admins.
    return await staff.recipients(conn, "", tip.village_id) or [services.config.leadership.chat_id]


async def matches_for(conn: aiosqlite.Connection | Any, services: Services,
                      tip: TipView) -> list[Match]:  # fmt: skip
    return await tips.match_registrations(
        conn, phone=tip.person_phone, name=tip.person_name, village_id=tip.village_id,
        grid_id=tip.grid_id, address=tip.address, now=services.now(),
    )  # fmt: skip


# --- what staff read --------------------------------------------------------------------


async def view(services: Services, tip_id: int) -> TipView | None:
    """The tip as staff see it (no tipster)."""
    return await tips.view(services.db, tip_id)


async def open_in(
    services: Services, grids: Sequence[str], villages: Sequence[str]
) -> list[TipView]:
    """Tips not closed in these grids, or (grid unknown) in these villages: /tasks."""
    return await tips.open_in(services.db, grids, villages)


async def sent_today(services: Services, user_id: int) -> int:
    """Tips this person sent today: for the daily limit, checked before a tip is begun."""
    return await tips.count_today(services.db, user_id, day_start(services))


async def by_draft(services: Services, token: str) -> TipView | None:
    """The tip made from this draft (a resent submit button)."""
    return await tips.by_draft(services.db, token)


async def report_by_ref(services: Services, ref: str) -> Any:
    """The arrival registration a worker typed the number of (id, ref, grid, village)."""
    return await tips.report_by_ref(services.db, ref)


async def matches(services: Services, tip: TipView) -> list[Match]:
    """The registrations the tip may match now."""
    return await matches_for(services.db, services, tip)


async def open_card(services: Services, actor: int, tip: TipView) -> list[Match]:
    """The full card opened by staff: the registrations it may match now; audited."""
    found = await matches(services, tip)
    async with services.db.write() as conn:
        await audit.record(conn, services.now(), actor, "view:tip", subject(tip.id))
    return found


# --- storing a tip ----------------------------------------------------------------------


async def submit(services: Services, new: NewTip) -> Stored | str | None:
    """One transaction: the tip (within the tipster's daily limit), its deadline timer, the
    notices to the grid's staff (with the registrations it may match), an alert to the
    leadership group for fever or symptoms. ``"limit"`` when over the daily limit; None when
    the draft was already submitted."""
    now = services.now()
    schedule = services.config.schedule
    deadline_at = domain.deadline(new.kind, now, schedule.symptom_tip_deadline_hours,
                                  schedule.tip_deadline_hours)  # fmt: skip
    locale = services.config.bot.default_locale
    leadership = services.config.leadership.chat_id
    async with services.db.write() as conn:
        if await tips.count_today(conn, new.tipster_user_id, day_start(services)) \
                >= services.config.tips.max_per_day:  # fmt: skip
            return "limit"
        if not await drafts.delete(conn, new.tipster_user_id, new.draft_token):
            return None
        ref = await tips.next_ref(conn, services.config.town.code, services.local_today())
        tip_id = await tips.insert(conn, new, ref=ref, now=now, deadline_at=deadline_at)
        if tip_id is None:
            return None
        tip = await tips.view(conn, tip_id)
        matches = await matches_for(conn, services, tip)
        alert = tip.kind == "symptoms"
        priority = PRIORITY_ALERT if alert else PRIORITY_NOTIFY
        to = await recipients(conn, services, tip)
        for chat, reader in (await reader_locales(conn, to, locale)).items():
            if chat == leadership:
                continue
            await _card(conn, services, tip, chat, reader, now, key=f"tip:{tip_id}:to:{chat}",
                        head="new", priority=priority, matches=matches)  # fmt: skip
        if alert or leadership in to:
            await outbox.enqueue(conn, chat_id=leadership, now=now, priority=priority,
                                 text=services.text(locale, "tips", "leader_alert", head="new",
                                                    **group_params(services, tip)),
                                 subject=subject(tip_id),
                                 dedup_key=f"tip:{tip_id}:to:{leadership}")  # fmt: skip
        await escalation.start(conn, services, subject=subject(tip_id), kind="tip",
                               grid_id=tip.grid_id, village_id=tip.village_id,
                               deadline=deadline_at, ref=ref, now=now,
                               detail={"name": tip.person_name or ""})  # fmt: skip
        # The actor is left empty: the audit log must not name the tipster either.
        await audit.record(conn, now, None, "tip.create", subject(tip_id), tip.kind)
    services.wake_outbox()
    return Stored(tip_id, ref, deadline_at)


async def _card(
    conn: aiosqlite.Connection, services: Services, tip: TipView, chat: int, locale: str,
    now: datetime, *, key: str, head: str, priority: int = PRIORITY_ALERT,
    matches: list[Match] | None = None,
) -> None:  # fmt: skip
    """A staff card pushed to ``chat`` in its reader's language, offering the tip's buttons
    (closing the tip takes them off, bot.runtime.cards)."""
    markup = card_markup(services, locale, tip)
    await outbox.enqueue(conn, chat_id=chat, now=now, priority=priority, subject=subject(tip.id),
                         text=services.text(locale, "tips", "card", Audience.ENTITLED, head=head,
                                            **card_params(services, tip, matches)),
                         reply_markup=markup, dedup_key=key)  # fmt: skip
    await offer(conn, key, tip.id, markup)


# --- checking ---------------------------------------------------------------------------


async def start_checking(services: Services, tip_id: int, actor: int) -> bool:
    now = services.now()
    async with services.db.write() as conn:
        done = await tips.start_checking(conn, tip_id, actor, now)
        if done:
            await audit.record(conn, now, actor, "tip.checking", subject(tip_id))
            await cards.retire(conn, step_offer(tip_id, "check"), now)
    if done:
        services.wake_outbox()
    return done


async def escalate(services: Services, tip_id: int, actor: int, note: str | None) -> bool:
    """The leadership group (masked) and the village admins are told; the tip stays open."""
    now = services.now()
    locale = services.config.bot.default_locale
    async with services.db.write() as conn:
        if not await tips.escalate(conn, tip_id, actor, now, note):
            return False
        await audit.record(conn, now, actor, "tip.escalated", subject(tip_id), note)
        tip = await tips.view(conn, tip_id)
        await outbox.enqueue(conn, chat_id=services.config.leadership.chat_id, now=now,
                             priority=PRIORITY_ALERT, subject=subject(tip_id),
                             text=services.text(locale, "tips", "leader_alert", head="escalated",
                                                **group_params(services, tip)),
                             dedup_key=f"tip:{tip_id}:escalated")  # fmt: skip
        admins = await staff.recipients(conn, "", tip.village_id)
        await cards.retire(conn, step_offer(tip_id, "esc"), now)
        for chat, reader in (await reader_locales(conn, admins, locale)).items():
            if chat == actor:
                continue
            await _card(conn, services, tip, chat, reader, now, head="escalated",
                        key=f"tip:{tip_id}:escalated:to:{chat}")  # fmt: skip
    services.wake_outbox()
    return True


async def close_in(conn: aiosqlite.Connection, services: Services, tip_id: int, outcome: str,
                   actor: int, now: datetime, *, note: str | None = None,
                   report_id: int | None = None, how: str | None = None) -> bool:  # fmt: skip
    """Close inside the caller's transaction (the arrival registered on the spot is stored in
    the same one): the outcome, the audit entry, the timers cancelled, the tipster told."""
    if not await tips.close(conn, tip_id, outcome, actor, now, note=note, report_id=report_id,
                            how=how):  # fmt: skip
        return False
    await audit.record(conn, now, actor, f"tip.{outcome}", subject(tip_id), how or note)
    await timers.cancel(conn, subject(tip_id))
    await escalation.stop(conn, subject(tip_id), now)
    await _retire_cards(conn, services, tip_id, outcome, how, now)
    await _tell_tipster(conn, services, tip_id, outcome, now)
    return True


async def _retire_cards(conn: aiosqlite.Connection, services: Services, tip_id: int,
                        outcome: str, how: str | None, now: datetime) -> None:  # fmt: skip
    """Every card and list that offered the tip's buttons loses them; a card, the outcome
    under it."""
    tip = await tips.view(conn, tip_id)
    ref = tip.ref if tip else ""
    for step in _STEP_OFFERS.values():
        await cards.retire(conn, step_offer(tip_id, step), now)
    await cards.retire(conn, subject(tip_id), now,
                       default_locale=services.config.bot.default_locale,
                       note=lambda locale: services.text(locale, "tips", "closed_note", ref=ref,
                                                         outcome=outcome, how=how))  # fmt: skip


async def close(services: Services, tip_id: int, outcome: str, actor: int, *,
                note: str | None = None, report_id: int | None = None,
                how: str | None = None) -> bool:  # fmt: skip
    async with services.db.write() as conn:
        done = await close_in(conn, services, tip_id, outcome, actor, services.now(), note=note,
                              report_id=report_id, how=how)  # fmt: skip
    if done:
        services.wake_outbox()
    return done


async def _tell_tipster(conn: aiosqlite.Connection, services: Services, tip_id: int,
                        outcome: str, now: datetime) -> None:  # fmt: skip
    """The outcome only: nothing about the person tipped about."""
    who = await tips.tipster(conn, tip_id)
    tip = await tips.view(conn, tip_id)
    if who is None or tip is None:
        return
    await outbox.enqueue(conn, chat_id=who.chat_id, now=now, subject=subject(tip_id),
                         text=services.text(who.locale, "tips", "tipster_closed", ref=tip.ref,
                                            outcome=outcome),
                         dedup_key=domain.tipster_key(tip_id))  # fmt: skip


# --- the deadline before the escalation ladder ---------------------------------------------


async def on_deadline(services: Services, conn: aiosqlite.Connection, timer: Timer, now: datetime,
                    late: bool) -> None:  # fmt: skip
    """A ``tip.deadline`` timer stored before the ladder replaced it (new tips climb the
    ladder): not closed in time, the grid's staff again, and the village admins."""
    tip = await tips.view(conn, int(timer.subject.split(":", 1)[1]))
    if tip is None or tip.state == "closed":
        return
    locale = services.config.bot.default_locale
    leadership = services.config.leadership.chat_id
    to = [*await recipients(conn, services, tip),
          *await staff.recipients(conn, "", tip.village_id)]  # fmt: skip
    for chat, reader in (await reader_locales(conn, to, locale)).items():
        key = f"tip:{tip.id}:overdue:to:{chat}"
        if chat == leadership:  # no staff at all: the group gets the masked version
            text_group = services.text(locale, "tips", "leader_alert", head="overdue",
                                       **group_params(services, tip))  # fmt: skip
            await outbox.enqueue(conn, chat_id=chat, now=now, priority=PRIORITY_ALERT,
                                 text=text_group, subject=timer.subject, dedup_key=key)  # fmt: skip
            continue
        await _card(conn, services, tip, chat, reader, now, key=key, head="overdue")
