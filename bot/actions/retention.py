"""The daily purge of personal data (issue 11): a tick job (bot/app.py ``TICK_JOBS``) that
does its work once a local day — every other tick is one indexed read.

Reports whose people were released or withdrawn ``retention.days`` ago lose their names,
phones, ID numbers, addresses and photos (bot/domain/retention.py decides who is due,
storage/retention.py purges); closed tips whose tipster was answered lose the tipster; tips
and cases with no report lose the person they name ``retention.days`` after they were
closed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.domain import retention as rule
from bot.runtime.services import Services
from storage import audit
from storage import retention as store

log = logging.getLogger(__name__)

PAGE = 200  # candidate reports read and purged per transaction


@dataclass
class Purged:
    reports: int = 0
    people: int = 0
    tipsters: int = 0
    tips: int = 0
    cases: int = 0


async def run(services: Services) -> Purged | None:
    """Purge what is due, once a local day; None when today's run is done already."""
    today = services.local_today()
    last = await store.last_run(services.db)
    if last is not None and last >= today:
        return None
    purged = Purged()
    after: int | None = 0  # the last report id read; None: all read
    while after is not None:
        async with services.db.write() as conn:
            after = await _page(services, conn, after, purged)
    async with services.db.write() as conn:
        purged.tipsters = await _tipsters(conn)
        purged.tips = await _closed(services, conn, "tips", store.purge_tips)
        purged.cases = await _closed(services, conn, "cases", store.purge_cases)
        # who did what: the system, how much
        if purged.reports or purged.tipsters or purged.tips or purged.cases:
            await audit.record(conn, services.now(), None, "retention.purge", None,
                               f"reports={purged.reports} tipsters={purged.tipsters} "
                               f"tips={purged.tips} cases={purged.cases}")  # fmt: skip
        await store.set_last_run(conn, today)
    log.info("retention: purged %d report(s), %d person(s); %d tip(s) lost their tipster",
             purged.reports, purged.people, purged.tipsters)  # fmt: skip
    log.info("retention: purged %d closed tip(s), %d closed case(s) without a report",
             purged.tips, purged.cases)  # fmt: skip
    return purged


async def _page(
    services: Services, conn: aiosqlite.Connection, after: int, purged: Purged
) -> int | None:
    """One page of candidates after report id ``after``: the due ones purged. The last id
    read, or None when there were no more."""
    now, days, tz = services.now(), services.config.retention.days, services.config.tz
    found = await store.candidates(
        conn,
        withdrawn_before=now - timedelta(days=days),
        measure_end_by=rule.measure_cutoff(now, days, tz),
        after_id=after,
        limit=PAGE,
    )
    due = [report_id for report_id, held in found if rule.due(held, now, days, tz)]
    purged.people += await store.purge_reports(conn, due, now)
    purged.reports += len(due)
    return found[-1][0] if len(found) == PAGE else None


async def _tipsters(conn: aiosqlite.Connection) -> int:
    tips = await store.closed_tips(conn)
    done = [tip_id for tip_id, state, told in tips if rule.tipster_forgotten(state, told)]
    return await store.forget_tipsters(conn, done)


async def _closed(
    services: Services,
    conn: aiosqlite.Connection,
    table: str,
    purge: Callable[[aiosqlite.Connection, Sequence[int], datetime], Awaitable[int]],
) -> int:
    """Purge the closed tips or report-less cases (``table``) whose time has come."""
    now, days = services.now(), services.config.retention.days
    found = await store.closed(conn, table, now - timedelta(days=days))
    due = [i for i, state, closed_at in found if rule.closed_due(state, closed_at, now, days)]
    return await purge(conn, due, now)
