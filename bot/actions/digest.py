"""The daily report to the leadership group (日报, 零报告): counts per village and for the
whole town, and a chart of the last 14 days.

Scheduling: one durable timer (kind ``digest.send``) per configured local time, dedup key
``digest:2020-10-26T08:00``. Each firing schedules the next; ``ensure_next`` (at start and on
every tick, one indexed lookup) recreates the chain if it was ever lost. A digest that fell
due while the bot was down fires once, late, and the chain resumes at the next time after
now: never a burst of stale reports.

Windows: "new" figures cover ``[since, until)``. ``until`` is the scheduled time (or the
firing time, for a late digest); ``since`` is the previous digest's ``until`` (kept in the
``counters`` table, written in the same transaction), so consecutive reports tile time with
no gap and no overlap. The first report starts at the previous configured time. ``/report``
covers the time since the last digest up to now and does not move the window.

The report goes out as text (priority 5 when scheduled, 0 on demand) followed by the chart
as a photo with a short caption (a caption holds only 1024 characters). A failing chart
never stops the text.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import aiosqlite

from bot.actions import supplies as supply_actions
from bot.actions import unit_reports
from bot.domain.arrivals import CATEGORIES
from bot.domain.risk import RISK_CATEGORIES
from bot.domain.timers import Kind
from bot.runtime import chart
from bot.runtime.services import Services
from storage import db, outbox, stats, timers
from storage import mobilisation as mobilisation_store
from storage.outbox import PRIORITY_ALERT, PRIORITY_NOTIFY
from storage.stats import VillageCounts
from storage.timers import Timer

log = logging.getLogger(__name__)

SUBJECT = "digest"
LAST_END = "digest:last_end"  # counters row: unix time of the end of the last digest window
CHART_DAYS = 14


# --- when ---------------------------------------------------------------------------------


def _times(services: Services) -> tuple[time, ...]:
    return services.config.schedule.digest


def next_slot(services: Services, after: datetime) -> datetime:
    """The first configured local time strictly after ``after`` (UTC)."""
    tz = services.config.tz
    local = after.astimezone(tz)
    for offset in range(3):
        day = local.date() + timedelta(days=offset)
        for t in _times(services):
            slot = datetime.combine(day, t, tz)
            if slot > local:
                return slot.astimezone(UTC)
    raise AssertionError("schedule.digest is empty")  # the config never allows it


def previous_slot(services: Services, slot: datetime) -> datetime:
    """The configured local time before ``slot`` (the default start of its window)."""
    tz = services.config.tz
    local = slot.astimezone(tz)
    for offset in range(3):
        day = local.date() - timedelta(days=offset)
        for t in reversed(_times(services)):
            candidate = datetime.combine(day, t, tz)
            if candidate < local:
                return candidate.astimezone(UTC)
    raise AssertionError("schedule.digest is empty")


def slot_key(services: Services, slot: datetime) -> str:
    return f"digest:{slot.astimezone(services.config.tz):%Y-%m-%dT%H:%M}"


async def _schedule(services: Services, conn: aiosqlite.Connection, now: datetime) -> bool:
    slot = next_slot(services, now)
    key = slot_key(services, slot)
    new = await timers.schedule(
        conn, kind=Kind.DIGEST, subject=SUBJECT, due_at=slot, now=now, dedup_key=key
    )
    return new is not None


async def ensure_next(services: Services) -> bool:
    """Make sure the next digest is scheduled; True if it had to be. One indexed read when
    it is (the usual case), so it is cheap enough for every tick."""
    now = services.now()
    key = slot_key(services, next_slot(services, now))
    if await timers.scheduled(services.db, key):
        return False
    async with services.db.write() as conn:
        return await _schedule(services, conn, now)


async def _last_end(conn: aiosqlite.Connection) -> datetime | None:
    stamp = await db.counter(conn, LAST_END)
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC)


async def _set_last_end(conn: aiosqlite.Connection, until: datetime) -> None:
    await db.set_counter(conn, LAST_END, int(until.timestamp()))


async def on_due(
    services: Services, conn: aiosqlite.Connection, timer: Timer, now: datetime, late: bool
) -> None:
    until = now if late else timer.due_at
    since = await _last_end(conn) or previous_slot(services, timer.due_at)
    since = min(since, until)
    key = timer.dedup_key or f"digest:timer:{timer.id}"
    await enqueue(
        services,
        conn,
        since=since,
        until=until,
        now=now,
        key=key,
        priority=PRIORITY_NOTIFY,
        late=late,
    )
    await _set_last_end(conn, until)
    await _schedule(services, conn, now)


async def send_now(services: Services, key: str) -> None:
    """``/report``: the same report, now, since the last digest; priority 0."""
    now = services.now()
    async with services.db.write() as conn:
        since = await _last_end(conn) or previous_slot(services, now)
        await enqueue(
            services,
            conn,
            since=min(since, now),
            until=now,
            now=now,
            key=key,
            priority=PRIORITY_ALERT,
            on_demand=True,
        )
    services.wake_outbox()


# --- what ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One village (or the town) as the template shows it."""

    name: str
    counts: VillageCounts

    @property
    def categories(self) -> list[tuple[str, int]]:
        return _ordered(self.counts.by_category, CATEGORIES)

    @property
    def risks(self) -> list[tuple[str, int]]:
        return _ordered(self.counts.by_risk, RISK_CATEGORIES)


def _ordered(counter: Counter[str], order: tuple[str, ...]) -> list[tuple[str, int]]:
    known = [(code, counter[code]) for code in order if counter[code]]
    return known + sorted((c, n) for c, n in counter.items() if c not in order and n)


@dataclass(frozen=True)
class Digest:
    text: str
    caption: str
    chart_days: list[date]
    series: stats.Daily
    chart_text: chart.ChartText


async def build(
    services: Services,
    conn: aiosqlite.Connection,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    late: bool = False,
    on_demand: bool = False,
) -> Digest:
    """The report's text and the chart's data (the PNG is drawn by ``render_chart``)."""
    config = services.config
    locale = config.bot.default_locale
    counts = await stats.collect(conn, since, until, now, services.config.grid_villages())
    rows = [Row(v.name, counts.pop(v.id, VillageCounts())) for v in config.villages]
    if any(not c.all_zero for c in counts.values()):  # rows of no configured village
        other = VillageCounts()
        for c in counts.values():
            other.add(c)
        rows.append(Row(services.text(locale, "digest", "unknown_village"), other))
    total = VillageCounts()
    for row in rows:
        total.add(row.counts)
    total.region_changes, total.region_upgraded = await stats.region_changes(conn, since, until)
    delivery = await outbox.trouble(conn, since, until)  # messages failed or maybe repeated
    isolation = await stats.chain(conn, since, until)
    tz = config.tz
    town = config.town.name
    text = services.text(
        locale,
        "digest",
        "report",
        town=town,
        at=now.astimezone(tz),
        since=since.astimezone(tz),
        until=until.astimezone(tz),
        late=late,
        on_demand=on_demand,
        quiet=total.quiet and isolation.quiet,
        total=Row(town, total),
        villages=rows,
        delivery=delivery,
        chain=isolation,
        deadlines={site: due.astimezone(tz) for site, due in isolation.deadlines.items()},
        units=await unit_reports.day_section(services, conn, now),
        supplies=await supply_actions.below_minimum(conn, services, locale),
        mobilisations=await mobilisation_store.opened_on(conn, since, until),
    )

    today = now.astimezone(tz).date()
    days = [today - timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
    bounds = [datetime.combine(d, time(), tz).astimezone(UTC) for d in days] + [now]
    series = await stats.daily(conn, bounds)
    words = {
        name: services.text(locale, "digest", f"chart_{name}")
        for name in ("arrivals", "alerts", "monitoring", "people")
    }
    chart_text = chart.ChartText(
        title=services.text(locale, "digest", "chart_title", town=town), **words
    )
    caption = services.text(
        locale, "digest", "chart_caption", town=town, first=days[0], last=days[-1]
    )
    return Digest(text, caption, days, series, chart_text)


async def render_chart(digest: Digest) -> bytes | None:
    """The PNG, drawn in a thread; None (logged) if it cannot be drawn."""
    s = digest.series
    try:
        return await asyncio.to_thread(
            chart.render, digest.chart_days, s.arrivals, s.alerts, s.monitoring, digest.chart_text
        )
    except Exception:
        log.exception("digest: the chart could not be drawn; sending the text alone")
        return None


async def enqueue(
    services: Services,
    conn: aiosqlite.Connection,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    key: str,
    priority: int,
    late: bool = False,
    on_demand: bool = False,
) -> None:
    """Build the report and queue it (text, then the chart) to the leadership group."""
    digest = await build(
        services, conn, since=since, until=until, now=now, late=late, on_demand=on_demand
    )
    chat = services.config.leadership.chat_id
    await outbox.enqueue(
        conn,
        chat_id=chat,
        text=digest.text,
        now=now,
        priority=priority,
        dedup_key=key,
        subject=SUBJECT,
    )
    png = await render_chart(digest)
    if png is not None:
        await outbox.enqueue(
            conn,
            chat_id=chat,
            text=digest.caption,
            photo=png,
            now=now,
            priority=priority,
            dedup_key=f"{key}:chart",
            subject=SUBJECT,
        )
