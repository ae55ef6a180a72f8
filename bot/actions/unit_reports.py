"""The daily unit report (单位日报).

- ``ask_due`` (a scheduler tick job, bot/app.py TICK_JOBS): every active unit whose time of
  day has come (``[units] report_at``; a unit under key monitoring, 重点监测, both of
  ``monitored_report_at``) and that has no report row for today's slot gets one, 'due', in
  one transaction with its card to the unit's liaisons (填报 / 零报告) and its ladder item
  (kind 'unit_report', subject ``unitrep:<id>``, deadline ``deadline_minutes`` after it was
  due): the unit's grid worker(s), then the village admins, then the group. A unit with no
  liaison in the bot: its grid worker is asked to phone it and may file for it (the item
  climbs all the same). The row is UNIQUE per unit, day and slot, so a restart or two ticks
  never ask twice; a tick missed (the bot down at 16:00) asks on the first tick after, its
  deadline unchanged (past it, the ladder starts at once). Only today is asked: a day the
  bot was down throughout is not asked the day after, its units counted as never asked in
  the group's daily report. A slot that fell due only because the unit's key monitoring
  changed after its time, or whose time a report of the day already covers, is not asked.
- ``file`` (零报告 in one tap, or the answers of bot/flows/unit_reports.py): stored with who
  and when, the ladder item stopped, audited; filed after its deadline it is accepted and
  shows as late (迟报). Fever or symptoms: the unit's grid worker(s) and the group are
  alerted (counts only, a human follows up); people from key regions: the worker is told
  to check their arrival reports (the group, if the unit has nobody following it). 填报 on
  a report filed that same day corrects it (a 零报告 tapped by mistake): its figures
  replaced, audited, its alerts raised.
- ``close_retired``: a unit retired from the config has its reports still due closed and
  their ladder stopped (in the transaction that retires it).
- ``day_section``: the group's daily report's part (bot/actions/digest.py): today's once
  all of today's report times have come, else the previous full day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiosqlite

from bot.domain import roles
from bot.domain import unit_reports as domain
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.roles import Actor
from bot.domain.unit_reports import Figures, Tally
from bot.runtime import escalation
from bot.runtime.render import reader_locales
from bot.runtime.services import Services
from storage import audit, drafts, outbox, staff, units
from storage import unit_reports as store
from storage.outbox import PRIORITY_ALERT, PRIORITY_NOTIFY

FLOW = "ur"  # the card's buttons: v1:ur:<f|z>:<report id>
FILL, ZERO = "f", "z"


def card_markup(services: Services, locale: str, report_id: int) -> dict[str, Any]:
    """填报 / 零报告 under a report's card."""
    label = {what: services.text(locale, "unit_reports", name)
             for what, name in ((FILL, "btn_fill"), (ZERO, "btn_zero"))}  # fmt: skip
    return inline_markup([[button(label[w], callback(FLOW, w, str(report_id))) for w in label]])


def may_file(actor: Actor, report: aiosqlite.Row) -> bool:
    return roles.can_file_unit_report(actor, report["unit_id"], report["village_id"],
                                      report["grid_id"])  # fmt: skip


# --- asking ---------------------------------------------------------------------------------


async def ask_due(services: Services) -> int:
    """Ask every unit whose report of today's slot is due and not asked yet; how many were
    asked. One indexed read per slot when all were (every tick's usual case)."""
    settings = services.config.units
    now, local = services.now(), services.local_now()
    asked = 0
    for monitored in (False, True):
        times = domain.slot_times(settings.report_at, settings.monitored_report_at, monitored)
        for slot in domain.due_slots(times, local.time()):
            due = datetime.combine(local.date(), times[slot - 1], services.config.tz)
            unasked = [u for u in await store.unasked(services.db, local.date(), slot, monitored)
                       if _askable(u, due)]  # fmt: skip
            if not unasked:
                continue
            async with services.db.write() as conn:
                for unit in unasked:
                    asked += await _ask(conn, services, unit, local.date(), slot, due, now)
    if asked:
        services.wake_outbox()
    return asked


def _askable(unit: aiosqlite.Row, due: datetime) -> bool:
    changed = unit["monitored_at"] and datetime.fromisoformat(unit["monitored_at"])
    covered = [datetime.fromisoformat(at) for at in (unit["covered"] or "").split(",") if at]
    return domain.askable(due, changed or None, covered)


async def _ask(conn: aiosqlite.Connection, services: Services, unit: aiosqlite.Row, day: date,
               slot: int, due: datetime, now: datetime) -> bool:  # fmt: skip
    deadline = domain.deadline(due, services.config.units.deadline_minutes)
    report_id = await store.create(conn, unit["id"], day, slot, due, deadline)
    if report_id is None:
        return False  # asked meanwhile
    params = dict(u=unit, day=day, slot=slot, deadline=deadline.astimezone(services.config.tz))
    liaisons = await units.liaisons(conn, unit["id"])
    name = "card" if liaisons else "phone_card"
    chats = liaisons or await _followers(conn, services, unit)
    leadership = services.config.leadership.chat_id
    for chat, locale in (await reader_locales(conn, chats, _default(services))).items():
        markup = card_markup(services, locale, report_id) if chat != leadership else None
        await outbox.enqueue(conn, chat_id=chat, now=now, priority=PRIORITY_NOTIFY,
                             text=services.text(locale, "unit_reports", name, **params),
                             reply_markup=markup, subject=domain.subject(report_id),
                             dedup_key=f"{domain.subject(report_id)}:ask:{chat}")  # fmt: skip
    await escalation.start(conn, services, subject=domain.subject(report_id), kind=domain.KIND,
                           grid_id=unit["grid_id"], village_id=unit["village_id"],
                           deadline=deadline, ref=ref(unit["name"], day, slot), now=now,
                           detail={"unit": unit["id"]})  # fmt: skip
    return True


def ref(unit_name: str, day: date, slot: int) -> str:
    """The ladder's reference of a report: "江南宾馆 10/26" ("#2": a monitored unit's second)."""
    return f"{unit_name} {day.month}/{day.day}" + (f" #{slot}" if slot > 1 else "")


def _default(services: Services) -> str:
    return services.config.bot.default_locale


async def _followers(conn: aiosqlite.Connection, services: Services,
                     unit: aiosqlite.Row) -> list[int]:  # fmt: skip
    """Who follows the unit for the town: its grid's workers, else its village's admins, else
    the leadership group (never nobody)."""
    if unit["grid_id"]:
        return await escalation.grid_recipients(conn, services, unit["grid_id"])
    found = await staff.recipients(conn, "", unit["village_id"])
    return found or [services.config.leadership.chat_id]


# --- filing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filed:
    report: aiosqlite.Row  # as it was before this filing
    already: bool  # filed before (a double tap, or someone else): nothing stored
    late: bool = False  # filed after its deadline: 迟报
    corrected: bool = False  # a filed report's figures replaced (a 零报告 tapped by mistake)


@dataclass(frozen=True)
class Refused:
    """Out of the actor's scope, or no such report: the caller refuses and audits."""


def shown(report: Any) -> dict[str, Any]:
    """A report (a row, or a draft's answers) as its texts show it: its day as a date."""
    values = dict(report)
    return {**values, "day_date": date.fromisoformat(values["day"])}


def deadline_of(services: Services, report: aiosqlite.Row) -> datetime:
    """A report's deadline in the town's time."""
    return datetime.fromisoformat(report["deadline_at"]).astimezone(services.config.tz)


def filed_text(services: Services, locale: str, outcome: Filed, zero: bool) -> str:
    """The answer to the person who filed (or pressed again)."""
    return services.text(locale, "unit_reports", "filed", r=shown(outcome.report), zero=zero,
                         late=outcome.late, already=outcome.already,
                         corrected=outcome.corrected)  # fmt: skip


def correctable(services: Services, report: aiosqlite.Row) -> bool:
    """A filed report may be corrected by 填报 on its own day (a 零报告 tapped by mistake, a
    fever found after): its figures replaced, its alerts raised."""
    today = services.local_now().date().isoformat()
    return report["state"] == "filed" and report["day"] == today


async def report(services: Services, report_id: int) -> aiosqlite.Row | None:
    return await store.get(services.db, report_id)


async def due_for(services: Services, actor: Actor) -> list[aiosqlite.Row]:
    """The reports still due of the units the actor is liaison of (/unitreport)."""
    return await store.due_for(services.db, actor.unit_ids)


async def file(services: Services, actor: Actor, report_id: int, figures: Figures,
               draft: drafts.Draft | None = None) -> Filed | Refused:  # fmt: skip
    """File the report (零报告: ``domain.ZERO``) in one transaction; ``draft``: the flow's,
    ended with it."""
    now = services.now()
    async with services.db.write() as conn:
        row = await store.get(conn, report_id)
        if row is None or not may_file(actor, row):
            return Refused()
        if draft is not None:
            await drafts.delete(conn, draft.user_id, draft.token)
        correcting = not figures.zero and correctable(services, row)
        if not await store.file(conn, report_id, figures, actor.user_id, now, correcting):
            return Filed(row, already=True)
        await escalation.stop(conn, domain.subject(report_id), now)
        deadline = datetime.fromisoformat(row["deadline_at"])
        filed_at = datetime.fromisoformat(row["filed_at"]) if correcting else now
        late = domain.status("filed", filed_at, deadline, now) == domain.LATE
        await audit.record(conn, now, actor.user_id, _action(figures, correcting),
                           f"unit:{row['unit_id']}",
                           f"{row['day']}#{row['slot']}" + (" late" if late else ""))  # fmt: skip
        await _alerts(conn, services, row, figures, now, f":c{now:%H%M%S}" if correcting else "")
    services.wake_outbox()
    return Filed(row, already=False, late=late, corrected=correcting)


def _action(figures: Figures, correcting: bool) -> str:
    if correcting:
        return "unit_report.correct"
    return "unit_report.zero" if figures.zero else "unit_report.file"


async def _alerts(conn: aiosqlite.Connection, services: Services, row: aiosqlite.Row,
                  figures: Figures, now: datetime, again: str = "") -> None:  # fmt: skip
    """Fever or symptoms: the unit's followers and the group (counts only: a human follows
    up); people from key regions: the followers, to check their arrival reports — the group
    when the unit has no follower in the bot (never nobody). ``again``: a correction's own
    alerts (not taken for the first filing's repeat)."""
    key = domain.subject(row["id"])
    params = dict(r=row, f=figures, day=date.fromisoformat(row["day"]))
    followers = await _followers(conn, services, row)
    leadership = services.config.leadership.chat_id
    sends: list[tuple[int, str, str]] = []
    if figures.symptomatic:
        sends += [(chat, "sick_alert", "sick") for chat in {*followers, leadership}]
    if figures.key_region:
        told = [chat for chat in followers if chat != leadership] or [leadership]
        sends += [(chat, "key_alert", "key") for chat in told]
    locales = await reader_locales(conn, [chat for chat, _, _ in sends], _default(services))
    for chat, name, what in sends:
        await outbox.enqueue(conn, chat_id=chat, now=now, priority=PRIORITY_ALERT,
                             text=services.text(locales[chat], "unit_reports", name, **params),
                             subject=key, dedup_key=f"{key}:{what}:{chat}{again}")  # fmt: skip


async def close_retired(conn: aiosqlite.Connection, now: datetime) -> int:
    """In the transaction that retires units (removed from the config): their reports still
    due closed and their ladder stopped — nobody is chased for a unit that is gone."""
    closed = await store.close_retired(conn, now)
    for report_id in closed:
        await escalation.stop(conn, domain.subject(report_id), now)
    return len(closed)


# --- the group's daily report -----------------------------------------------------------------


@dataclass(frozen=True)
class Watched:
    """A unit under key monitoring and its reports of the day, slot by slot."""

    name: str
    reports: list[dict[str, Any]]


@dataclass(frozen=True)
class Section:
    day: date | None  # None: no key units (the section is not shown)
    tally: Tally
    watched: list[Watched]
    unasked: int = 0  # units never asked that day (未询问: the bot was down at their time)

    @property
    def shown(self) -> bool:
        return self.day is not None


async def day_section(services: Services, conn: aiosqlite.Connection, now: datetime) -> Section:
    """Today's unit reports once all of today's report times have come, else yesterday's,
    the previous full day (the morning report): filed, late, waiting, missing, and the units
    never asked that day (the bot down at their time); each monitored unit's figures."""
    settings, tz = services.config.units, services.config.tz
    times = (settings.report_at, *settings.monitored_report_at)
    day = domain.digest_day(now.astimezone(tz), times)
    rows = await store.of_day(conn, day)
    last = datetime.combine(day, max(times), tz)  # a unit added by then was due to be asked
    unasked = sum(datetime.fromisoformat(u["created_at"]) <= last
                  for u in await store.never_asked(conn, day))  # fmt: skip
    watched_units = await units.monitored(conn)
    if not rows and not watched_units and not await units.active(conn):
        return Section(None, Tally(), [])
    statuses = {r["id"]: _status(r, now) for r in rows}
    watched = [
        Watched(u["name"], [{**dict(r), "status": statuses[r["id"]]}
                            for r in rows if r["unit_id"] == u["id"]])
        for u in watched_units
    ]  # fmt: skip
    return Section(day, domain.tally(statuses.values()), watched, unasked)


def _status(row: aiosqlite.Row, now: datetime) -> str:
    filed_at = row["filed_at"] and datetime.fromisoformat(row["filed_at"])
    return domain.status(row["state"], filed_at or None,
                         datetime.fromisoformat(row["deadline_at"]), now)  # fmt: skip
