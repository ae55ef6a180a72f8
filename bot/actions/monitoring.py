"""Health monitoring (居家健康监测): starting, changing and ending it, and its timers.

Each person under a monitored measure has one ``monitoring`` row and at most one pending
``checkin.prompt`` timer: a prompt, when it fires, schedules the next one. So 100k people
under observation are ~100k pending rows, not 28 each.

Timer kinds (handlers below, registered on import):

- ``checkin.prompt``   send the slot's prompt; schedule ``checkin.missed`` and the next prompt.
                       Late (the bot was down): only the newest slot due is prompted, once.
- ``checkin.missed``   the slot is still unanswered after ``checkin_reminder_minutes``:
                       remind the person; schedule ``checkin.escalate`` as long again.
- ``checkin.escalate`` still unanswered: the slot is missed; alert the grid worker(s); the
                       second consecutive miss also alerts the leadership group (脱离管控?),
                       in the minute's one batched group message.
                       The missed slot then climbs the escalation ladder (bot.runtime.escalation)
                       until someone acknowledges it or the person checks in again.
- ``test.remind``      a nucleic-acid test day: the evening before and the morning of, to the
                       person and the worker(s) (with a "sample taken" button); a test day
                       already past without a sample when the plan is made: overdue, at once.
- ``monitoring.end``   midnight after the last day: released; the person and worker(s) told.

Every effect is written on the caller's connection, inside the transaction that marks the
timer done (or stores the report). The actions at the end (a person's check-in answer, a
worker's /monitor and /monitoring) are each one transaction of their own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any, TypeGuard

import aiosqlite

from bot.actions import cases
from bot.domain import monitoring as dm
from bot.domain.callbacks import button, inline_markup
from bot.domain.masking import Audience
from bot.domain.risk import MeasurePlan
from bot.domain.roles import Actor
from bot.domain.timers import Kind
from bot.domain.tips import is_tipster_message
from bot.runtime import cards, escalation
from bot.runtime.render import reader_locales
from bot.runtime.services import Services
from storage import audit, drafts, outbox, timers
from storage import monitoring as store
from storage.drafts import Draft
from storage.monitoring import Checkin, Monitoring
from storage.outbox import PRIORITY_ALERT, PRIORITY_NOTIFY
from storage.timers import NewTimer, Timer

log = logging.getLogger(__name__)
PLAN_TIMERS = ("checkin.prompt", "monitoring.end", "test.remind")
Markup = Callable[[str], dict]  # a message's buttons, in the reader's locale


# --- recipients and texts ---------------------------------------------------------------


async def grid_chats(services: Services, conn: aiosqlite.Connection, grid_id: str) -> list[int]:
    """The grid's staff chats (``escalation.grid_recipients``: the staff table on ``conn``)."""
    return list(dict.fromkeys(await escalation.grid_recipients(conn, services, grid_id)))


async def staff_locales(
    services: Services, conn: aiosqlite.Connection, chats: list[int]
) -> dict[int, str]:
    """Each staff chat's own locale (/language); the group's, the configured one."""
    return await reader_locales(conn, chats, services.config.bot.default_locale)


def place_names(services: Services, m: Monitoring) -> dict[str, str]:
    found = services.config.grid(m.grid_id)
    if found is None:
        return {"village": m.village_id, "grid": m.grid_id}
    return {"village": found[0].name, "grid": found[1].name}


def staff_params(services: Services, m: Monitoring, day: date | None = None) -> dict[str, Any]:
    """What staff messages say about a person (pushed notices: the renderer masks them)."""
    day = day or services.local_today()
    return dict(
        ref=m.ref, name=m.name, phone=m.phone, kind=m.kind,
        **_day_params(m, day), start=m.start_date, end=m.end_date, **place_names(services, m),
    )  # fmt: skip


async def _to_grid(
    services: Services, conn: aiosqlite.Connection, m: Monitoring, macro: str, key: str,
    now: datetime, *, priority: int = PRIORITY_ALERT, leaders: bool = False,
    markup: Markup | None = None, group_markup: Markup | None = None, **params: Any,
) -> None:  # fmt: skip
    """One staff message to the grid's workers (and the leadership group if ``leaders``),
    each in its reader's locale; ``markup`` (of the locale) on the private messages,
    ``group_markup`` on the group's."""
    chats = await grid_chats(services, conn, m.grid_id)
    leadership = services.config.leadership.chat_id
    if (leaders or not chats) and leadership not in chats:
        chats.append(leadership)  # nobody in the grid: the leadership group sees it
    for chat, locale in (await staff_locales(services, conn, chats)).items():
        buttons = markup if chat > 0 else group_markup
        shown = buttons(locale) if buttons else None
        await outbox.enqueue(conn, chat_id=chat, now=now, priority=priority,
                             text=services.text(locale, "monitoring", macro, **params),
                             dedup_key=f"{key}:to:{chat}", subject=m.subject,
                             reply_markup=shown)  # fmt: skip
        await cards.offer_acks(conn, f"{key}:to:{chat}", shown)


async def _to_person(
    services: Services, conn: aiosqlite.Connection, m: Monitoring, macro: str, key: str,
    now: datetime, **message: Any,
) -> None:  # fmt: skip
    await outbox.enqueue(conn, now=now, **_person_message(services, m, macro, key, **message))


def _person_message(
    services: Services, m: Monitoring, macro: str, key: str, *, priority: int = PRIORITY_NOTIFY,
    markup: dict | None = None, **params: Any,
) -> dict[str, Any]:  # fmt: skip
    """A message to the person, in their locale: the arguments of ``outbox.enqueue``."""
    text = services.text(m.locale, "monitoring", macro, name=m.name, **params)
    return dict(chat_id=m.chat_id, text=text, priority=priority, dedup_key=key,
                subject=m.subject, reply_markup=markup)  # fmt: skip


# --- starting, changing, stopping -------------------------------------------------------


def _local(services: Services, day: date, at: time = time(0)) -> datetime:
    return datetime.combine(day, at, tzinfo=services.config.tz)


async def _schedule_plan(services: Services, conn: aiosqlite.Connection, m: Monitoring,
                         now: datetime) -> None:  # fmt: skip
    """The monitoring's next prompt, its end and its test-day reminders (generation ``gen``)."""
    config, tz = services.config, services.config.tz
    times = config.schedule.checkin
    plan = []
    slot = dm.next_slot(now, m.start_date, m.end_date, times, tz)
    if slot is not None:
        plan.append(_prompt_timer(m, slot))
    end_at = _local(services, m.end_date + timedelta(days=1))
    plan.append(NewTimer(Kind.MONITORING_END, m.subject, end_at, {"gen": m.gen},
                         f"mon.end:{m.id}:g{m.gen}"))  # fmt: skip
    today = dm.local_day(now, tz)
    done = await store.samples(conn, m.id)
    overdue = dm.overdue_test(m.test_dates, today, m.end_date, done)
    if overdue is not None:  # a test day already past is never skipped: due now
        plan.append(_test_timer(m, overdue, "overdue", now))
    for test_date in m.test_dates:
        if test_date > m.end_date or test_date < today or test_date in done:
            continue
        before, on_day = dm.reminder_times(test_date, times, tz)
        for which, due in (("before", before), ("day", on_day)):
            if due <= now:
                if which == "before" or test_date != today:
                    continue
                due = now  # the test is today: remind now
            plan.append(_test_timer(m, test_date, which, due))
    await timers.schedule_many(conn, plan, now)


def _test_timer(m: Monitoring, test_date: date, which: str, due: datetime) -> NewTimer:
    day = test_date.isoformat()
    return NewTimer(Kind.TEST_REMIND, m.subject, due,
                    {"gen": m.gen, "date": day, "which": which},
                    f"test.remind:{m.id}:g{m.gen}:{day}:{which}")  # fmt: skip


def _prompt_timer(m: Monitoring, slot: datetime) -> NewTimer:
    stamp = dm.epoch(slot)
    return NewTimer(Kind.CHECKIN_PROMPT, m.subject, slot, {"gen": m.gen, "slot": stamp},
                    f"ci.prompt:{m.id}:g{m.gen}:{stamp}")  # fmt: skip


async def restart_monitoring(
    conn: aiosqlite.Connection, services: Services, report_id: int, plan: MeasurePlan,
    now: datetime,
) -> list[int]:  # fmt: skip
    """(Re)start monitoring of every person of the report under ``plan``, in the caller's
    transaction: on a new report, a new version of it, or a worker's correction of the
    measure. People no longer under a monitored measure (or no longer in the report) are
    stopped; a companion whose own report watches him at least as closely is covered by it
    (``relink``). Returns the ids of the active monitorings."""
    report = await store.report_outline(conn, report_id)
    if report is None:
        return []
    existing = {m.person_idx: m for m in await store.of_report(conn, report_id)}
    today = dm.local_day(now, services.config.tz)
    monitored = dm.is_monitored(plan.kind, dm.total_days(plan.start, plan.end))
    monitored = monitored and plan.end >= today
    fields = _plan_fields(report, plan, now)
    active: list[int] = []
    for idx in report.people:
        old = existing.pop(idx, None)
        if not monitored:
            if old is not None:
                await _stop(services, conn, old, now, reason=None, actor=None, tell=False)
            continue
        m = await _set_plan(conn, report_id, idx, old, fields)
        own = report.own.get(idx)
        if own is not None and dm.covers(own.kind, own.end, plan.kind, plan.end):
            await _cover(services, conn, m, own.report_id, now)
            continue
        await _schedule_plan(services, conn, m, now)
        active.append(m.id)
    for old in existing.values():  # a companion removed from the report
        await _stop(services, conn, old, now, reason=None, actor=None, tell=False)
    await relink(conn, services, report_id, now)
    return active


async def start_person(
    conn: aiosqlite.Connection, services: Services, report_id: int, idx: int,
    plan: MeasurePlan, now: datetime,
) -> int | None:  # fmt: skip
    """Monitoring of one person of the report under ``plan`` (the home health monitoring
    that follows a release from isolation, bot.actions.release), in the caller's
    transaction; the report's other people keep theirs. Returns the monitoring's id (None:
    no such report)."""
    report = await store.report_outline(conn, report_id)
    if report is None:
        return None
    fields = _plan_fields(report, plan, now)
    old = next((m for m in await store.of_report(conn, report_id) if m.person_idx == idx), None)
    m = await _set_plan(conn, report_id, idx, old, fields)
    await _schedule_plan(services, conn, m, now)
    return m.id


def _plan_fields(report: store.ReportOutline, plan: MeasurePlan, now: datetime) -> dict[str, Any]:
    return dict(chat_id=report.chat_id, locale=report.locale, grid_id=report.grid_id,
                kind=plan.kind, start=plan.start, end=plan.end, test_dates=plan.test_dates,
                now=now)  # fmt: skip


async def _set_plan(conn: aiosqlite.Connection, report_id: int, idx: int,
                    old: Monitoring | None, fields: dict[str, Any]) -> Monitoring:  # fmt: skip
    """The person's monitoring row under the plan in ``fields``: a new one, or ``old``
    active again with new dates (its plan's timers cancelled: a new generation follows)."""
    if old is None:
        mid = await store.insert(conn, report_id=report_id, person_idx=idx, **fields)
    else:
        mid = old.id
        await store.cancel_timers(conn, mid, PLAN_TIMERS)
        await store.update_plan(conn, mid, **fields)
    m = await store.get(conn, mid)
    assert m is not None
    return m


async def relink(
    conn: aiosqlite.Connection, services: Services, report_id: int, now: datetime
) -> None:
    """Each person is watched once, and never less for having reported himself: a companion
    entry (in another report) of the main person of ``report_id`` stops while his own
    monitoring there covers its plan (``dm.covers``), and resumes once it no longer does
    (withdrawn, stopped or shortened by a worker, lowered). In the caller's transaction."""
    own = next((m for m in await store.of_report(conn, report_id)
                if m.person_idx == 0 and m.state == "active"), None)  # fmt: skip
    today = dm.local_day(now, services.config.tz)
    for m in await store.companion_entries(conn, report_id):
        covered = own is not None and dm.covers(own.kind, own.end_date, m.kind, m.end_date)
        if m.state == "active" and covered:
            await _cover(services, conn, m, report_id, now)
        elif m.state == "stopped" and not covered and m.end_date >= today:
            await _resume(services, conn, m, report_id, now)


async def _cover(services: Services, conn: aiosqlite.Connection, m: Monitoring, own: int,
                 now: datetime) -> None:  # fmt: skip
    """The companion entry ``m`` stops, unannounced: his own report ``own`` watches him. Its
    missed check-ins' ladders end too (his check-ins come under his own report now); a
    fever's goes on."""
    if not await store.cover(conn, m.id, own, now):
        return
    await store.cancel_timers(conn, m.id)
    await escalation.stop_parent(conn, m.subject, now, kinds=("checkin",))
    await audit.record(conn, now, None, "monitoring.cover", m.subject, f"report:{own}")


async def _resume(services: Services, conn: aiosqlite.Connection, m: Monitoring, own: int,
                  now: datetime) -> None:  # fmt: skip
    """The companion entry ``m`` watches him again under its own plan (his report ``own``
    no longer covers it): prompts from the next slot."""
    await store.update_plan(conn, m.id, chat_id=m.chat_id, locale=m.locale, grid_id=m.grid_id,
                            kind=m.kind, start=m.start_date, end=m.end_date,
                            test_dates=m.test_dates, now=now)  # fmt: skip
    resumed = await store.get(conn, m.id)
    assert resumed is not None
    await _schedule_plan(services, conn, resumed, now)
    await audit.record(conn, now, None, "monitoring.resume", m.subject, f"report:{own}")


async def stop_monitoring(
    conn: aiosqlite.Connection, services: Services, report_id: int, now: datetime, *,
    reason: str | None = None, actor: int | None = None, tell: bool = True,
) -> int:  # fmt: skip
    """Stop every active monitoring of the report (a withdrawn report, a changed measure):
    his companion entries elsewhere resume (``relink``). Returns how many were stopped."""
    stopped = 0
    for m in await store.of_report(conn, report_id):
        stopped += await _stop(services, conn, m, now, reason=reason, actor=actor, tell=tell)
    await relink(conn, services, report_id, now)
    return stopped


async def _stop(services: Services, conn: aiosqlite.Connection, m: Monitoring, now: datetime, *,
                reason: str | None, actor: int | None, tell: bool) -> bool:  # fmt: skip
    if not await store.set_state(conn, m.id, "stopped", reason, now):
        return False
    await store.cancel_timers(conn, m.id)
    await audit.record(conn, now, actor, "monitoring.stop", m.subject, reason)
    if tell:
        key = f"mon.stop:{m.id}:g{m.gen}"
        await _to_person(services, conn, m, "stopped_person", key, now, reason=reason or "")
        await _to_grid(services, conn, m, "stopped_staff", key, now, priority=PRIORITY_NOTIFY,
                       reason=reason or "", **staff_params(services, m))  # fmt: skip
    return True


async def change_end(
    conn: aiosqlite.Connection, services: Services, m: Monitoring, days: int, now: datetime, *,
    reason: str | None, actor: int,
) -> Monitoring | None:  # fmt: skip
    """Extend (``days`` > 0) or shorten (< 0) an active monitoring; None when not possible
    (not active, would end before today or before it began, or beyond ``MAX_DAYS``)."""
    today = dm.local_day(now, services.config.tz)
    end = m.end_date + timedelta(days=days)
    if m.state != "active" or end < max(today, m.start_date):
        return None
    if dm.total_days(m.start_date, end) > dm.MAX_DAYS:
        return None
    await store.cancel_timers(conn, m.id, PLAN_TIMERS)
    await store.set_end(conn, m.id, end, reason, now)
    changed = await store.get(conn, m.id)
    assert changed is not None
    await _schedule_plan(services, conn, changed, now)
    await relink(conn, services, m.report_id, now)  # shortened: may no longer cover him
    # the open slot's prompt was sent already: the chain goes on from the next slot
    action = "extend" if days > 0 else "shorten"
    await audit.record(conn, now, actor, f"monitoring.{action}", m.subject,
                       json.dumps({"days": days, "end": end.isoformat(), "reason": reason},
                                  ensure_ascii=False))  # fmt: skip
    key = f"mon.change:{m.id}:g{changed.gen}"
    await _to_person(services, conn, changed, "changed_person", key, now, action=action,
                     end=end, reason=reason or "")  # fmt: skip
    return changed


# --- timer handlers ---------------------------------------------------------------------


def _monitoring_id(timer: Timer) -> int:
    return int(timer.subject.split(":")[1])


def _is_current(m: Monitoring | None, timer: Timer) -> TypeGuard[Monitoring]:
    """The timer's monitoring is still active and of the timer's generation."""
    if m is None or m.state != "active":
        return False
    return "gen" not in timer.payload or timer.payload["gen"] == m.gen


async def _current(conn: aiosqlite.Connection, timer: Timer) -> Monitoring | None:
    m = await store.get(conn, _monitoring_id(timer))
    return m if _is_current(m, timer) else None


def prompt_markup(m: Monitoring, slot: datetime, label: Any) -> dict:
    stamp = dm.epoch(slot)
    temps = [
        button(label("temp_label", value=v),
               dm.CheckinAction(m.id, stamp, "temperature", tenths=round(float(v) * 10)).encode())
        for v in dm.CHECKIN_TEMPERATURES
    ]  # fmt: skip
    other = button(label("other_label"), dm.CheckinAction(m.id, stamp, "other").encode())
    return inline_markup([temps[:3], temps[3:], [other]])


def _person_markup(services: Services, m: Monitoring, slot: datetime) -> dict:
    """The check-in buttons in the person's own locale: on the prompt and on its reminder."""
    return prompt_markup(
        m, slot, lambda n, **p: services.renderer.label(m.locale, "monitoring", n, **p)
    )


def _day_params(m: Monitoring, day: date) -> dict[str, int]:
    """The day counter ("day 3 of 14") that the person's and the staff's messages show."""
    return dict(day=dm.day_number(day, m.start_date), total=dm.total_days(m.start_date, m.end_date))


async def on_prompts(services: Services, conn: aiosqlite.Connection,
                     fired: list[tuple[Timer, bool]], now: datetime) -> None:  # fmt: skip
    """Prompt the timers' monitorings (a wave: a run of a batch at once). Each read and
    write is one statement for all of them; the messages, a row each, go in together."""
    found = await store.get_many(conn, [_monitoring_id(timer) for timer, _ in fired])
    prompts: list[tuple[Monitoring, datetime, bool]] = []
    for timer, late in fired:
        m = found.get(_monitoring_id(timer))
        if not _is_current(m, timer):
            continue
        slot = _prompt_slot(services, m, timer, now, late)
        if slot is not None:
            prompts.append((m, slot, late))
    opened = await store.open_slots(conn, [(m.id, slot) for m, slot, _ in prompts], now)
    earliest = await store.first_slots(conn, [m.id for m, _, _ in prompts])
    prompted = [(m, slot, late) for m, slot, late in prompts if m.id in opened]
    messages = [_prompt_message(services, m, slot, late=late, first=earliest[m.id] >= slot)
                for m, slot, late in prompted]  # fmt: skip
    await outbox.enqueue_many(conn, messages, now)
    follow_ups = [_missed_timer(services, m, slot, now) for m, slot, _ in prompted]
    times, tz = services.config.schedule.checkin, services.config.tz
    for m, slot, _ in prompts:
        following = dm.next_slot(max(slot, now), m.start_date, m.end_date, times, tz)
        if following is not None:
            follow_ups.append(_prompt_timer(m, following))
    await timers.schedule_many(conn, follow_ups, now)


def _prompt_slot(
    services: Services, m: Monitoring, timer: Timer, now: datetime, late: bool
) -> datetime | None:
    """The slot to prompt: the timer's; late (the bot was down), the newest slot due, and
    none when the period ended meanwhile (``monitoring.end`` follows)."""
    slot = dm.from_epoch(timer.payload["slot"])
    if not late:
        return slot
    tz = services.config.tz
    if dm.local_day(now, tz) > m.end_date:
        return None
    return dm.latest_slot(now, slot, m.end_date, services.config.schedule.checkin, tz)


def _prompt_message(services: Services, m: Monitoring, slot: datetime, *, late: bool,
                    first: bool) -> dict[str, Any]:  # fmt: skip
    """The slot's prompt; ``first``: no earlier slot of theirs was prompted (the prompt then
    explains the schedule)."""
    tz, times = services.config.tz, services.config.schedule.checkin
    return _person_message(
        services, m, "prompt", f"ci.msg:{m.id}:{dm.epoch(slot)}",
        markup=_person_markup(services, m, slot), **_day_params(m, dm.local_day(slot, tz)),
        slot=slot.astimezone(tz), late=late, first=first, kind=m.kind, start=m.start_date,
        end=m.end_date, times=[t.strftime("%H:%M") for t in times],
    )  # fmt: skip


def _missed_timer(services: Services, m: Monitoring, slot: datetime, now: datetime) -> NewTimer:
    """The slot's reminder, should it still be unanswered ``checkin_reminder_minutes`` on."""
    stamp = dm.epoch(slot)
    remind_at = max(slot, now) + timedelta(
        minutes=services.config.schedule.checkin_reminder_minutes
    )
    return NewTimer(Kind.CHECKIN_MISSED, f"checkin:{m.id}:{stamp}", remind_at, {"slot": stamp},
                    f"ci.missed:{m.id}:{stamp}")  # fmt: skip


async def _slot_timer(
    conn: aiosqlite.Connection, timer: Timer
) -> tuple[Monitoring, datetime] | None:
    _, mid, stamp = timer.subject.split(":")
    m = await store.get(conn, int(mid))
    if m is None or m.state != "active":
        return None
    slot = dm.from_epoch(int(stamp))
    c = await store.checkin(conn, m.id, slot)
    if c is None or c.state != "prompted":
        return None  # answered meanwhile
    return m, slot


async def on_missed(services: Services, conn: aiosqlite.Connection, timer: Timer, now: datetime,
                    late: bool) -> None:  # fmt: skip
    found = await _slot_timer(conn, timer)
    if found is None:
        return
    m, slot = found
    tz, stamp = services.config.tz, timer.payload["slot"]
    day = dm.local_day(slot, tz)
    await _to_person(services, conn, m, "reminder", f"ci.remind:{m.id}:{stamp}", now,
                     markup=_person_markup(services, m, slot), **_day_params(m, day),
                     slot=slot.astimezone(tz))  # fmt: skip
    due = now + timedelta(minutes=services.config.schedule.checkin_reminder_minutes)
    await timers.schedule(conn, kind=Kind.CHECKIN_ESCALATE, subject=timer.subject, due_at=due,
                          now=now, payload={"slot": stamp},
                          dedup_key=f"ci.escalate:{m.id}:{stamp}")  # fmt: skip


async def on_escalate(services: Services, conn: aiosqlite.Connection, timer: Timer, now: datetime,
                      late: bool) -> None:  # fmt: skip
    found = await _slot_timer(conn, timer)
    if found is None:
        return
    m, slot = found
    await store.mark_missed(conn, m.id, slot)
    missed = await store.refresh_missed_in_row(conn, m.id)
    tz = services.config.tz
    params = staff_params(services, m, dm.local_day(slot, tz))
    leadership = services.config.leadership.chat_id
    chats = [chat for chat in await grid_chats(services, conn, m.grid_id) if chat != leadership]
    locales = await staff_locales(services, conn, chats)
    # The grid's workers in their private chats are in scope: the number in full, to call.
    alerts = [(chat, services.text(locales[chat], "monitoring", "missed_staff",
                                   Audience.ENTITLED, slot=slot.astimezone(tz), missed=missed,
                                   **params)) for chat in chats]  # fmt: skip
    # This alert is the assignee's step: the ladder goes on from there. At a wave's reminder
    # time many fall due together, so each chat gets it with the minute's others (one list,
    # not dozens of messages); a second miss in a row (脱离管控?) reaches the leadership
    # group too, in its minute's batch.
    await escalation.start(conn, services, subject=timer.subject, kind="checkin",
                           parent=m.subject, grid_id=m.grid_id, village_id=m.village_id,
                           deadline=now, ref=m.ref, now=now, alerted=True,
                           alerts=alerts, alert_group=missed >= 2 or not chats,
                           detail={"name": params["name"], "slot": outbox.iso(slot),
                                   "missed": missed, "phone": params["phone"]})  # fmt: skip


async def on_test_remind(services: Services, conn: aiosqlite.Connection, timer: Timer,
                         now: datetime, late: bool) -> None:  # fmt: skip
    m = await _current(conn, timer)
    if m is None:
        return
    test_date = date.fromisoformat(timer.payload["date"])
    today = dm.local_day(now, services.config.tz)
    notice = dm.reminder_notice(timer.payload["which"], test_date, today)
    if notice is None or test_date in await store.samples(conn, m.id) or test_date > m.end_date:
        return
    # keyed by what it says: an overdue test is chased once, however often the plan changes
    key = f"test.remind:{m.id}:{test_date.isoformat()}:{notice}"
    await _to_person(services, conn, m, "test_person", key, now, test_date=test_date,
                     notice=notice)  # fmt: skip
    markup = None if notice == "before" else partial(sample_markup, services, m, test_date)
    await _to_grid(services, conn, m, "test_staff", key, now, priority=PRIORITY_NOTIFY,
                   markup=markup, test_date=test_date, notice=notice,
                   **staff_params(services, m, test_date))  # fmt: skip


def sample_markup(services: Services, m: Monitoring, test_date: date, locale: str) -> dict:
    label = services.text(locale, "monitoring", "btn_sampled", test_date=test_date)
    return inline_markup([[button(label, dm.sample_callback(m.id, test_date))]])


async def on_end(services: Services, conn: aiosqlite.Connection, timer: Timer, now: datetime,
                 late: bool) -> None:  # fmt: skip
    m = await _current(conn, timer)
    if m is None or not await store.set_state(conn, m.id, "released", None, now):
        return
    await store.cancel_timers(conn, m.id)
    await audit.record(conn, now, None, "monitoring.release", m.subject)
    key = f"mon.end:{m.id}:g{m.gen}"
    await _to_person(services, conn, m, "released_person", key, now, start=m.start_date,
                     end=m.end_date, kind=m.kind)  # fmt: skip
    await _to_grid(services, conn, m, "released_staff", key, now, priority=PRIORITY_NOTIFY,
                   **staff_params(services, m, m.end_date))  # fmt: skip


# --- answers and the unreachable --------------------------------------------------------


async def checkin_alert(
    services: Services, conn: aiosqlite.Connection, m: Monitoring, slot: datetime,
    temperature: float, symptoms: list[str] | None, now: datetime, stage: str,
) -> None:  # fmt: skip
    """A fever (``stage`` "fever", as soon as the temperature is in) or symptoms (``stage``
    "symptoms", once chosen): the grid's workers and the leadership group at once, with a
    "收到" button; not acknowledged, it climbs the escalation ladder (``fever:<check-in id>``,
    one per check-in) until acknowledged or a sample is recorded."""
    tz = services.config.tz
    params = staff_params(services, m, dm.local_day(slot, tz))
    checkin = await store.checkin(conn, m.id, slot)
    ack = partial(escalation.ack_markup, services, f"fever:{checkin.id}") if checkin else None
    await _to_grid(services, conn, m, "alert", f"ci.alert:{m.id}:{dm.epoch(slot)}:{stage}", now,
                   leaders=True, temperature=temperature, fever=dm.is_fever(temperature),
                   symptoms=symptoms or [], slot=slot.astimezone(tz), markup=ack,
                   group_markup=ack, **params)  # fmt: skip
    if checkin is not None:
        await escalation.start(conn, services, subject=f"fever:{checkin.id}", kind="fever",
                               parent=m.subject, grid_id=m.grid_id,
                               village_id=m.village_id, deadline=now, ref=m.ref,
                               now=now, alerted=True,
                               detail={"name": params["name"], "slot": outbox.iso(slot),
                                       "temperature": temperature})  # fmt: skip
    log.info("alert queued: health alert %s (monitoring %d, %s) to the grid and the "
             "leadership group", m.ref, m.id, stage)  # fmt: skip


async def on_unreachable(services: Services, chat_id: int) -> None:
    """The outbox found ``chat_id`` blocked the bot: for people under monitoring there, their
    grid's workers are alerted (an unreachable person under observation is an escalation).
    Not when it was the answer to a tip: "无法联系" right after closing a tip would name the
    tipster to the worker. That blocking is forgotten, so the next message that fails (a
    check-in prompt) alerts on its own."""
    if is_tipster_message(await outbox.last_unreachable_key(services.db, chat_id)):
        await outbox.clear_unreachable(services.db, chat_id)
        return
    now = services.now()
    async with services.db.write() as conn:
        people = await store.active_for_chat(conn, chat_id)
        for m in people:
            await audit.record(conn, now, None, "monitoring.unreachable", m.subject)
            await _to_grid(services, conn, m, "unreachable_staff",
                           f"mon.unreachable:{m.id}:{outbox.iso(now)}", now,
                           **staff_params(services, m))  # fmt: skip
    if people:
        services.wake_outbox()


# --- the person's answers and the worker's commands (bot.flows.monitoring) ------------
#
# One function per thing a person or a worker does, each one transaction with its timers,
# outbox rows and audit row. Who may act is decided by the caller (bot.domain.roles).


@dataclass(frozen=True)
class Slot:
    """A check-in slot as its person answers it."""

    monitoring: Monitoring
    checkin: Checkin | None  # None: never prompted (an outdated or forged button)


@dataclass(frozen=True)
class SampleDay:
    """A test day of the plan, as the worker's card shows it."""

    date: date
    sampled: bool
    result: str | None  # None: no result yet
    overdue: bool  # past and not sampled: to be taken now (``dm.overdue_test``)


@dataclass(frozen=True)
class Card:
    """What a worker's card of one monitoring shows."""

    monitoring: Monitoring
    checkins: list[Checkin]  # the newest first
    tests: list[SampleDay]  # the plan's test days, in order


@dataclass(frozen=True)
class Overview:
    """/monitoring: today's check-ins per grid and the people most in need of a look."""

    counts: dict[str, dict[str, int]]  # grid -> active, answered, missed, prompted
    people: list[Monitoring]  # the most check-ins missed in a row first


async def get(services: Services, monitoring_id: int) -> Monitoring | None:
    return await store.get(services.db, monitoring_id)


async def by_ref(services: Services, ref: str) -> list[Monitoring]:
    """The monitorings of the report numbered ``ref``, one per person."""
    return await store.by_ref(services.db, ref)


async def person_slot(
    services: Services, monitoring_id: int, user_id: int, slot: datetime
) -> Slot | None:
    """The slot of the user's own monitoring; None when the monitoring is not theirs."""
    m = await store.get(services.db, monitoring_id)
    if m is None or m.chat_id != user_id:
        return None
    return Slot(m, await store.checkin(services.db, m.id, slot))


async def open_checkins(services: Services, chat_id: int) -> list[Slot]:
    """The check-ins the chat's people still owe: per active monitoring, its newest prompted
    slot while it lacks a temperature or symptoms (an older one is over: missed)."""
    waiting = []
    for m in await store.active_for_chat(services.db, chat_id):
        newest = await store.checkins_of(services.db, m.id, limit=1)
        if newest and (newest[0].temperature is None or newest[0].symptoms is None):
            waiting.append(Slot(m, newest[0]))
    return waiting


async def record_temperature(
    services: Services, monitoring_id: int, slot: datetime, value: float,
    draft: Draft | None = None,
) -> bool:  # fmt: skip
    """The slot's temperature: the slot's reminders and the missed check-ins' escalations
    end, a fever alerts at once. ``draft``: the typed answer's, ended with it. False when
    the slot had a temperature already."""
    now = services.now()
    async with services.db.write() as conn:
        await _end_draft(conn, draft)
        m = await store.get(conn, monitoring_id)
        if m is None or not await store.record_temperature(conn, m.id, slot, value, now):
            return False
        await store.refresh_missed_in_row(conn, m.id)
        await timers.cancel(conn, f"checkin:{m.id}:{dm.epoch(slot)}")
        await escalation.stop_parent(conn, m.subject, now, kinds=("checkin",))
        if dm.is_fever(value):
            await checkin_alert(services, conn, m, slot, value, None, now, "fever")
    services.wake_outbox()
    return True


async def record_symptoms(
    services: Services, monitoring_id: int, slot: datetime, codes: list[str]
) -> bool:
    """The slot's symptoms (none: ``codes`` empty); any symptom alerts at once. False when
    the slot has no temperature yet or had its symptoms already."""
    now = services.now()
    async with services.db.write() as conn:
        m = await store.get(conn, monitoring_id)
        checkin = await store.checkin(conn, monitoring_id, slot)
        if m is None or checkin is None or checkin.temperature is None:
            return False
        if not await store.record_symptoms(conn, m.id, slot, codes):
            return False
        if codes:
            await checkin_alert(services, conn, m, slot, checkin.temperature, codes, now,
                                "symptoms")  # fmt: skip
    services.wake_outbox()
    return True


async def view(services: Services, actor: Actor, found: list[Monitoring]) -> list[Card]:
    """/monitor <ref>: the cards of one report's people (``by_ref``), the view audited."""
    async with services.db.write() as conn:
        await audit.record(conn, services.now(), actor.user_id, "monitoring.view",
                           f"report:{found[0].report_id}")  # fmt: skip
        return [await _card(services, conn, m) for m in found]


async def _card(services: Services, conn: store.Conn, m: Monitoring) -> Card:
    done = await store.samples(conn, m.id)
    active = m.state == "active"
    overdue = dm.overdue_test(m.test_dates, services.local_today(), m.end_date, done)
    tests = [_test_day(d, done.get(d), active and d == overdue) for d in m.test_dates]
    return Card(m, await store.checkins_of(conn, m.id), tests)


def _test_day(day: date, sample: aiosqlite.Row | None, overdue: bool) -> SampleDay:
    if sample is None:
        return SampleDay(day, sampled=False, result=None, overdue=overdue)
    return SampleDay(day, sampled=bool(sample["sampled_at"]), result=sample["result"],
                     overdue=overdue)  # fmt: skip


async def record_test(
    services: Services, actor: Actor, monitoring_id: int, test_date: date, result: str | None
) -> Card | None:
    """A sample taken on a test day (``result`` None: the health alerts' escalations are
    over) or the sample's result; the fresh card, or None when there was nothing to record."""
    now = services.now()
    async with services.db.write() as conn:
        m = await store.get(conn, monitoring_id)
        if m is None:
            return None
        if result is None:
            done = await store.record_sample(conn, m.id, test_date, actor.user_id, now)
        else:
            done = await store.record_result(conn, m.id, test_date, result, actor.user_id, now)
        if not done:
            return None
        if result is None:
            await escalation.stop_parent(conn, m.subject, now, kinds=("fever",))
        if result == "positive":  # a suspected case, pending a human's confirmation
            await cases.open_positive(conn, services, source="monitoring",
                                      key=f"positive:{m.subject}:{test_date.isoformat()}",
                                      report_id=m.report_id, idx=m.person_idx,
                                      by=actor.user_id, now=now)  # fmt: skip
        what, detail = ("sample", "") if result is None else (f"r{result[:3]}", f":{result}")
        await audit.record(conn, now, actor.user_id, f"monitoring.{what}", m.subject,
                           test_date.isoformat() + detail)  # fmt: skip
        return await _card(services, conn, m)


async def change(
    services: Services, actor: Actor, monitoring_id: int, days: int, reason: str | None = None,
    draft: Draft | None = None,
) -> Monitoring | None:  # fmt: skip
    """Extend (``days`` > 0) or shorten the monitoring (``change_end``); ``draft``: the
    typed reason's, ended with it. None when not possible."""
    async with services.db.write() as conn:
        await _end_draft(conn, draft)
        m = await store.get(conn, monitoring_id)
        if m is None:
            return None
        changed = await change_end(conn, services, m, days, services.now(), reason=reason,
                                   actor=actor.user_id)  # fmt: skip
    if changed is not None:
        services.wake_outbox()
    return changed


async def stop(
    services: Services, actor: Actor, monitoring_id: int, reason: str, draft: Draft | None = None
) -> bool:
    """End the monitoring early (the person and the grid told); ``draft``: the typed
    reason's, ended with it. False when it was not active."""
    async with services.db.write() as conn:
        await _end_draft(conn, draft)
        m = await store.get(conn, monitoring_id)
        if m is None:
            return False
        now = services.now()
        stopped = await _stop(services, conn, m, now, reason=reason, actor=actor.user_id,
                              tell=True)  # fmt: skip
        await relink(conn, services, m.report_id, now)  # his companion entries resume
    if stopped:
        services.wake_outbox()
    return stopped


async def overview(services: Services, grids: tuple[str, ...]) -> Overview:
    """/monitoring over ``grids``: today's check-ins (the town's day) and at most 30 people."""
    start = _local(services, services.local_today())
    counts = await store.grid_counts(services.db, grids, start, start + timedelta(days=1))
    return Overview(counts, await store.active_in_grids(services.db, grids, limit=30))


async def _end_draft(conn: aiosqlite.Connection, draft: Draft | None) -> None:
    """A typed answer's draft ends in the transaction that records the answer."""
    if draft is not None:
        await drafts.delete(conn, draft.user_id, draft.token)
