"""Counts for the daily report (日报) and its 14-day chart: SQL only.

Two kinds of figure:

- **new in the window** ``[since, until)``, each event counted in the window in which it
  happened, never by the time it was about: arrivals (people in reports still open, by
  category and risk); arrival alerts and quarantine-release certificate filings (备案) when
  the version of the report that raised them was stored, whatever became of the report
  since; changes of the key regions (town-wide) when their re-screen was done; people
  released from monitoring when released, check-ins and fever or symptom check-ins when
  answered (a slot of the previous window answered in this one is this window's), check-ins
  missed when marked missed (their escalation started), items escalated when a ladder rung
  or a group alert was queued, cases when discovered, tips received / handled;
- **current** (as of ``now``): people under monitoring, tips past their deadline and not
  handled, open cases and whether they were directly reported (网络直报).

A person is counted once: a companion entry that points to his own report
(``persons.self_report_id``, where the column exists) is counted there while that report is
open, not in the report that listed him; once it is withdrawn, in the listing one again
(``COUNTED``).

Only ``reports`` and ``persons`` are certain to exist. The other tables and columns belong
to flows that land separately, so each is looked up in ``sqlite_master`` and its columns
with ``pragma_table_info``; a missing table or column counts 0. The columns read (the contract):

============  ==============================================================================
table         columns
============  ==============================================================================
reports       certificate (NULL: none asked; 'pending' | 'checked' | 'rejected'), certificate_at
              (when a worker decided; NULL while pending), as in migration 013
report_       report_id, version, saved_at: version ``v`` of a report was stored when version
history       ``v - 1`` was saved here (version 1: the report's created_at)
region_       state ('done' once re-screened), done_at, upgraded (people whose measure the
changes       re-screen raised), as in migration 014
monitoring    state ('active' | 'released' | 'stopped'); a place: grid_id (or village_id, or
              report_id -> reports.village_id); started_at (or start_at, created_at) and
              ended_at (or released_at, stopped_at; else updated_at of a row no longer
              active, as in migration 006) for the released count and the chart
checkins      state ('prompted' | 'answered' | 'missed'); answered_at (or slot_at, due_at,
              prompted_at, created_at); temperature (REAL) and symptoms (text; '', '[]' or
              NULL = none), or an ``alert`` flag; a place: grid_id / village_id, or
              monitoring_id -> monitoring's place
escalations   kind, started_at (a missed check-in: kind 'checkin', started when marked
              missed), village_id
escalation_   subject -> escalations, step (-1: the item's own alert), chat_id (0: the
queue         leadership group), queued_at: an escalation is a rung (step >= 0) or an alert
              to the leadership group queued in the window
tips          created_at, handled_at (NULL until handled), deadline_at; a place: village_id
              (or grid_id)
cases         created_at (new in the window); reported_at (NULL until the online direct
              report); closed_at, or state (open unless 'closed', 'excluded', 'ruled_out',
              'cancelled'); deadline_at (optional: overdue reports); a place: village_id /
              grid_id / report_id (migration 007)
============  ==============================================================================

Places come back as ``"v:<village id>"`` or ``"g:<grid id>"``; the caller maps grids to
villages from the config. Times are compared as stored: ISO-8601 UTC text.

The chain after discovery (``chain``: contacts, stays, stay_tests, transfers, sites) is
town-wide and read from migration 027's tables as they are, each figure one count over an
index of migration 035; the occupancy per site is ``storage.isolation.occupancy``'s.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, tzinfo
from typing import Any

import aiosqlite

from bot.domain.isolation import SiteLoad
from storage import isolation
from storage.outbox import iso

FEVER = 37.3
CLOSED_CASE_STATES = ("closed", "excluded", "ruled_out", "cancelled")
UNKNOWN = "?"  # the place of rows whose village cannot be told


@dataclass
class VillageCounts:
    arrivals: int = 0  # people in new open reports
    reports: int = 0
    alerts: int = 0  # report versions stored in the window that alerted the group
    certificates: int = 0  # quarantine-release certificates filed (备案) in the window
    monitoring: int = 0  # current
    released: int = 0
    checkins_done: int = 0
    checkins_missed: int = 0  # slots marked missed in the window
    fever: int = 0  # check-ins answered in the window with fever or symptoms
    escalations: int = 0  # items with a ladder rung or a group alert queued in the window
    tips_new: int = 0
    tips_handled: int = 0
    tips_overdue: int = 0  # current
    cases_new: int = 0  # discovered in the window (closed since or not)
    cases_open: int = 0  # current
    cases_reported: int = 0  # current, open and directly reported
    cases_overdue: int = 0  # current, open, not reported, past the deadline
    # town-wide (a change of the list concerns every village): set on the town's total only
    region_changes: int = 0  # changes of the key regions whose re-screen was done
    region_upgraded: int = 0  # people whose measure those re-screens raised
    by_category: Counter[str] = field(default_factory=Counter)
    by_risk: Counter[str] = field(default_factory=Counter)

    def add(self, other: VillageCounts) -> None:
        for f in fields(self):
            if f.name in ("by_category", "by_risk"):
                getattr(self, f.name).update(getattr(other, f.name))
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def cases_unreported(self) -> int:
        return self.cases_open - self.cases_reported

    @property
    def quiet(self) -> bool:
        """Nothing to report (零报告): no arrival, alert, certificate filing, change of the key
        regions, fever, missed check-in, escalation, tip needing action or case."""
        return not (
            self.arrivals
            or self.alerts
            or self.certificates
            or self.region_changes
            or self.fever
            or self.checkins_missed
            or self.escalations
            or self.tips_new
            or self.tips_overdue
            or self.cases_new
            or self.cases_open
        )

    @property
    def all_zero(self) -> bool:
        return self.quiet and not (
            self.monitoring or self.released or self.checkins_done or self.tips_handled
        )


@dataclass(frozen=True)
class Daily:
    """The chart's series: one value per day (``bounds[i]`` to ``bounds[i + 1]``)."""

    arrivals: list[int]
    monitoring: list[int]  # at the end of each day (or now, for today)
    alerts: list[int]  # arrival alerts + fever check-ins


# --- introspection ------------------------------------------------------------------------


async def columns(conn: aiosqlite.Connection, table: str) -> set[str]:
    """The table's columns, or an empty set when it does not exist (yet)."""
    rows = await conn.execute_fetchall(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    )
    if not rows:
        return set()
    return {
        r[0] for r in await conn.execute_fetchall("SELECT name FROM pragma_table_info(?)", (table,))
    }


def _first(cols: set[str], *names: str) -> str | None:
    return next((n for n in names if n in cols), None)


# SQL: the person ``p`` counts in the report listing him, unless linked to his own report
# while it is open (counted there); withdrawn, he would vanish from both. Migration 046's
# ``people`` and the arrivals register (storage.registers) follow the same rule.
COUNTED = """(p.self_report_id IS NULL OR NOT EXISTS (SELECT 1 FROM reports o
              WHERE o.id = p.self_report_id AND o.state = 'open'))"""


async def _counted(conn: aiosqlite.Connection) -> str:
    """SQL: COUNTED (a database before migration 015 has no links)."""
    if "self_report_id" in await columns(conn, "persons"):
        return COUNTED
    return "1"


def _monitoring_end(cols: set[str]) -> str | None:
    """SQL: when a monitoring row of table ``t`` ended (NULL while active). Migration 006 has
    no end column: a row that is no longer active ended at its last update."""
    end = _first(cols, "ended_at", "released_at", "stopped_at")
    if end:
        return f"t.{end}"
    if "updated_at" in cols:
        return "CASE WHEN t.state != 'active' THEN t.updated_at END"
    return None


async def _place(conn: aiosqlite.Connection, table: str, cols: set[str]) -> tuple[str, str]:
    """(JOIN clause, SQL expression of the place key) for rows of ``table`` aliased ``t``."""
    if "village_id" in cols:
        return "", "'v:' || t.village_id"
    if "grid_id" in cols:
        return "", "'g:' || t.grid_id"
    if "report_id" in cols:
        return " LEFT JOIN reports r ON r.id = t.report_id", "'v:' || r.village_id"
    if "monitoring_id" in cols and table != "monitoring":
        mcols = await columns(conn, "monitoring")
        if "grid_id" in mcols:
            return " LEFT JOIN monitoring m ON m.id = t.monitoring_id", "'g:' || m.grid_id"
        if "report_id" in mcols:
            return (
                " LEFT JOIN monitoring m ON m.id = t.monitoring_id"
                " LEFT JOIN reports r ON r.id = m.report_id",
                "'v:' || r.village_id",
            )
    return "", "NULL"


def village_of(key: str | None, grid_village: Mapping[str, str]) -> str:
    """``"v:xf"`` -> ``"xf"``; ``"g:XF01"`` -> its village; anything else -> UNKNOWN."""
    if not key:
        return UNKNOWN
    kind, _, ident = key.partition(":")
    if kind == "v":
        return ident
    return grid_village.get(ident, UNKNOWN)


async def _grouped(
    conn: aiosqlite.Connection,
    sql: str,
    params: Sequence[Any] | Mapping[str, Any],
    grid_village: Mapping[str, str],
) -> dict[str, list[int]]:
    """Run a query whose first column is a place key and the rest counts; sum per village."""
    out: dict[str, list[int]] = {}
    for row in await conn.execute_fetchall(sql, params):
        village = village_of(row[0], grid_village)
        values = [int(v or 0) for v in tuple(row)[1:]]
        if village in out:
            out[village] = [a + b for a, b in zip(out[village], values, strict=True)]
        else:
            out[village] = values
    return out


# --- the figures ----------------------------------------------------------------------------


async def collect(
    conn: aiosqlite.Connection,
    since: datetime,
    until: datetime,
    now: datetime,
    grid_village: Mapping[str, str],
) -> dict[str, VillageCounts]:
    """Every figure of the report, per village id (``UNKNOWN`` for rows of no known place)."""
    result: dict[str, VillageCounts] = {}

    def at(village: str) -> VillageCounts:
        return result.setdefault(village, VillageCounts())

    window = (iso(since), iso(until))
    counted = await _counted(conn)
    for row in await conn.execute_fetchall(
        f"""SELECT r.village_id, r.category, r.risk, r.alert, COUNT(p.id) AS people
           FROM reports r LEFT JOIN persons p ON p.report_id = r.id AND {counted}
           WHERE r.state = 'open' AND r.created_at >= ? AND r.created_at < ?
           GROUP BY r.id""",
        window,
    ):
        c = at(row["village_id"] or UNKNOWN)
        people = max(1, row["people"])
        c.reports += 1
        c.arrivals += people
        c.by_category[row["category"]] += people
        c.by_risk[row["risk"]] += people

    groups = (
        (("alerts", "certificates"), await _reported(conn, window, grid_village)),
        (("monitoring", "released"), await _monitoring(conn, window, grid_village)),
        (("checkins_done", "fever"), await _checkins(conn, window, grid_village)),
        (("checkins_missed", "escalations"), await _escalations(conn, window, grid_village)),
        (
            ("tips_new", "tips_handled", "tips_overdue"),
            await _tips(conn, window, iso(now), grid_village),
        ),
        (
            ("cases_new", "cases_open", "cases_reported", "cases_overdue"),
            await _cases(conn, window, iso(now), grid_village),
        ),
    )
    for names, per_village in groups:
        for village, values in per_village.items():
            c = at(village)
            for name, value in zip(names, values, strict=True):
                setattr(c, name, getattr(c, name) + value)
    return result


async def _version_at(conn: aiosqlite.Connection) -> str:
    """SQL: when the current version of report ``r`` was stored (without the history, only a
    first version's time is known). Every later write of the row (a re-screen, a withdrawal)
    moves updated_at on, never back: updated_at is never earlier than this."""
    if not {"report_id", "version", "saved_at"} <= await columns(conn, "report_history"):
        return "r.created_at"
    return """COALESCE((SELECT h.saved_at FROM report_history h
                         WHERE h.report_id = r.id AND h.version = r.version - 1),
                        r.created_at)"""


def _filed(cols: set[str], version_at: str) -> str:
    """SQL: the current version of report ``r`` filed its quarantine-release certificate
    (备案): someone back after the quarantine at the port of entry whose certificate was
    not checked before this version (a check carried over files nothing; a certificate
    left from a version of another category is stale)."""
    if "certificate" not in cols:
        return "0"
    filed = "r.certificate IS NOT NULL AND r.category = 'quarantine_done'"
    if "certificate_at" in cols:
        filed += f" AND (r.certificate_at IS NULL OR r.certificate_at >= {version_at})"
    return filed


async def _reported(
    conn: aiosqlite.Connection, window: tuple[str, str], grid_village: Mapping[str, str]
) -> dict[str, list[int]]:
    """Report versions stored in the window that alerted the leadership group, and those
    that filed a certificate, whether the report is still open or not."""
    version_at = await _version_at(conn)
    filed = _filed(await columns(conn, "reports"), version_at)
    return await _grouped(
        conn,
        f"""SELECT 'v:' || r.village_id, SUM(r.alert != 0), SUM({filed})
            FROM reports r
            WHERE r.updated_at >= ?1 AND {version_at} >= ?1 AND {version_at} < ?2
            GROUP BY 1""",
        window,
        grid_village,
    )


async def region_changes(
    conn: aiosqlite.Connection, since: datetime, until: datetime
) -> tuple[int, int]:
    """(changes of the key regions re-screened in the window, people they upgraded): for the
    whole town. Any change counts, even one that upgraded nobody: the list itself changed."""
    cols = await columns(conn, "region_changes")
    if not {"state", "done_at"} <= cols:
        return 0, 0
    upgraded = "t.upgraded" if "upgraded" in cols else "0"
    ((changes, people),) = await conn.execute_fetchall(
        f"""SELECT COUNT(*), SUM({upgraded}) FROM region_changes t
            WHERE t.state = 'done' AND t.done_at >= ? AND t.done_at < ?""",
        (iso(since), iso(until)),
    )
    return int(changes or 0), int(people or 0)


async def _monitoring(
    conn: aiosqlite.Connection, window: tuple[str, str], grid_village: Mapping[str, str]
) -> dict[str, list[int]]:
    cols = await columns(conn, "monitoring")
    if "state" not in cols:
        return {}
    join, place = await _place(conn, "monitoring", cols)
    end = _monitoring_end(cols)
    released = f"t.state = 'released' AND {end} >= ? AND {end} < ?" if end else "0"
    return await _grouped(
        conn,
        f"""SELECT {place}, SUM(t.state = 'active'), SUM({released})
            FROM monitoring t{join} GROUP BY 1""",
        window if end else (),
        grid_village,
    )


def _fever(cols: set[str]) -> str:
    """SQL: an answered check-in of table ``t`` reports fever or a symptom."""
    if "alert" in cols:
        return "t.alert"
    parts = []
    if "temperature" in cols:
        parts.append(f"t.temperature >= {FEVER}")
    if "symptoms" in cols:
        parts.append("COALESCE(t.symptoms, '') NOT IN ('', '[]', 'none')")
    return " OR ".join(parts) or "0"


def _answered(cols: set[str]) -> str | None:
    """The column telling when a check-in of table ``checkins`` was answered."""
    return _first(cols, "answered_at", "slot_at", "due_at", "prompted_at", "created_at")


async def _checkins(
    conn: aiosqlite.Connection, window: tuple[str, str], grid_village: Mapping[str, str]
) -> dict[str, list[int]]:
    """Check-ins answered in the window, and those of them with fever or symptoms."""
    cols = await columns(conn, "checkins")
    when = _answered(cols)
    if "state" not in cols or when is None:
        return {}
    join, place = await _place(conn, "checkins", cols)
    return await _grouped(
        conn,
        f"""SELECT {place}, COUNT(*), SUM({_fever(cols)})
            FROM checkins t{join}
            WHERE t.state = 'answered' AND t.{when} >= ? AND t.{when} < ? GROUP BY 1""",
        window,
        grid_village,
    )


async def _escalations(
    conn: aiosqlite.Connection, window: tuple[str, str], grid_village: Mapping[str, str]
) -> dict[str, list[int]]:
    """Check-ins marked missed in the window (each starts its escalation then), and the items
    escalated in it: a rung of their ladder, or an alert to the leadership group, queued."""
    if not await columns(conn, "escalations"):
        return {}
    escalated = "0"
    if await columns(conn, "escalation_queue"):
        escalated = """EXISTS (SELECT 1 FROM escalation_queue q WHERE q.subject = t.subject
                       AND q.queued_at >= ?1 AND q.queued_at < ?2
                       AND (q.step >= 0 OR q.chat_id = 0))"""
    return await _grouped(
        conn,
        f"""SELECT 'v:' || t.village_id,
                   SUM(t.kind = 'checkin' AND t.started_at >= ?1 AND t.started_at < ?2),
                   SUM({escalated})
            FROM escalations t GROUP BY 1""",
        window,
        grid_village,
    )


async def _tips(
    conn: aiosqlite.Connection,
    window: tuple[str, str],
    now: str,
    grid_village: Mapping[str, str],
) -> dict[str, list[int]]:
    cols = await columns(conn, "tips")
    if "created_at" not in cols:
        return {}
    join, place = await _place(conn, "tips", cols)
    handled_col = "handled_at" in cols
    handled = "t.handled_at >= ?1 AND t.handled_at < ?2" if handled_col else "0"
    overdue = (
        "t.handled_at IS NULL AND t.deadline_at < ?3"
        if handled_col and "deadline_at" in cols
        else "0"
    )
    return await _grouped(
        conn,
        f"""SELECT {place}, SUM(t.created_at >= ?1 AND t.created_at < ?2), SUM({handled}),
                   SUM({overdue})
            FROM tips t{join} GROUP BY 1""",
        (*window, now) if "?3" in overdue else window,
        grid_village,
    )


async def _cases(
    conn: aiosqlite.Connection,
    window: tuple[str, str],
    now: str,
    grid_village: Mapping[str, str],
) -> dict[str, list[int]]:
    cols = await columns(conn, "cases")
    if not cols:
        return {}
    join, place = await _place(conn, "cases", cols)
    new = "t.created_at >= :since AND t.created_at < :until" if "created_at" in cols else "0"
    if "closed_at" in cols:
        is_open = "t.closed_at IS NULL"
    elif "state" in cols:
        is_open = f"t.state NOT IN ({', '.join(repr(s) for s in CLOSED_CASE_STATES)})"
    else:
        is_open = "1"
    reported = "t.reported_at IS NOT NULL" if "reported_at" in cols else "0"
    overdue = f"NOT ({reported}) AND t.deadline_at < :now" if "deadline_at" in cols else "0"
    return await _grouped(
        conn,
        f"""SELECT {place}, SUM({new}), SUM({is_open}), SUM({is_open} AND {reported}),
                   SUM({is_open} AND {overdue})
            FROM cases t{join} GROUP BY 1""",
        {"now": now, "since": window[0], "until": window[1]},
        grid_village,
    )


# --- the chain after discovery (issue 12) ---------------------------------------------------
# Town-wide, from the tables of migration 027: close contacts traced, people in centralised
# isolation per site, their nucleic-acid tests, transfers and the sites being activated.

MOVING = "('dispatched', 'acknowledged', 'picked_up')"  # a transfer on its way


@dataclass(frozen=True)
class Chain:
    contacts_new: int = 0  # people first traced as contacts in the window
    contacts_waiting: int = 0  # current: traced, not in isolation yet
    released: int = 0  # stays released in the window
    tests_taken: int = 0  # samples taken in the window
    positives: int = 0  # positive results recorded in the window
    results_pending: int = 0  # current: sampled, no result yet
    transfers_done: int = 0  # delivered in the window
    transfers_waiting: int = 0  # current: requested, no vehicle dispatched yet
    transfers_moving: int = 0  # current: dispatched, acknowledged or picked up
    sites: tuple[SiteLoad, ...] = ()  # every site not closed (storage.isolation.occupancy)
    deadlines: Mapping[str, datetime] = field(default_factory=dict)  # activating: countdown end

    @property
    def isolating(self) -> int:
        return sum(s.people for s in self.sites)

    @property
    def activating(self) -> tuple[SiteLoad, ...]:
        return tuple(s for s in self.sites if s.state == "activating")

    @property
    def quiet(self) -> bool:
        """Nothing here for 零报告 to leave out: no contact traced or waiting, no positive,
        no transfer under way, no site being activated. People merely isolated, tests taken
        and free rooms are figures, as monitoring is."""
        return not (
            self.contacts_new
            or self.contacts_waiting
            or self.positives
            or self.transfers_waiting
            or self.transfers_moving
            or self.activating
        )

    @property
    def shown(self) -> bool:
        """Worth a section: a town with no site and nothing traced keeps its old report."""
        return bool(self.sites) or not self.quiet or bool(self.tests_taken + self.released)


async def _deadlines(conn: aiosqlite.Connection) -> dict[str, datetime]:
    """The end of the activation countdown of each site being activated."""
    rows = await conn.execute_fetchall(
        """SELECT id, activation_deadline FROM sites
           WHERE state = 'activating' AND activation_deadline IS NOT NULL"""
    )
    return {r["id"]: datetime.fromisoformat(r["activation_deadline"]) for r in rows}


def _within(column: str) -> str:
    """SQL: ``column`` falls in the window ``[:since, :until)``."""
    return f"{column} >= :since AND {column} < :until"


# The chain's figures in the order of Chain's fields, each one count over an index of
# migration 035 (a scan of the tests is most of the report's time at 10,000 people isolated).
_CHAIN_COUNTS = (
    f"SELECT COUNT(*) FROM contacts WHERE {_within('created_at')}",
    "SELECT COUNT(*) FROM contacts WHERE state = 'traced'",
    f"SELECT COUNT(*) FROM stays WHERE {_within('released_at')}",
    f"SELECT COUNT(*) FROM stay_tests WHERE {_within('sampled_at')}",
    f"SELECT COUNT(*) FROM stay_tests WHERE result = 'positive' AND {_within('result_at')}",
    """SELECT COUNT(*) FROM stay_tests
       WHERE sampled_at IS NOT NULL AND COALESCE(result, 'pending') = 'pending'""",
    f"SELECT COUNT(*) FROM transfers WHERE {_within('delivered_at')}",
    "SELECT COUNT(*) FROM transfers WHERE state = 'requested'",
    f"SELECT COUNT(*) FROM transfers WHERE state IN {MOVING}",
)


async def chain(conn: aiosqlite.Connection, since: datetime, until: datetime) -> Chain:
    """The chain's figures for the window ``[since, until)`` and as of now."""
    window = {"since": iso(since), "until": iso(until)}
    figures = [(await conn.execute_fetchall(sql, window))[0][0] for sql in _CHAIN_COUNTS]
    return Chain(*figures, sites=await isolation.occupancy(conn), deadlines=await _deadlines(conn))


# --- the chart's series -----------------------------------------------------------------------


def _sums(expr: str, n: int) -> str:
    return ", ".join(expr.format(a=2 * i + 1, b=2 * i + 2) for i in range(n))


async def daily(conn: aiosqlite.Connection, bounds: Sequence[datetime]) -> Daily:
    """Per day between consecutive ``bounds`` (the last may be now): arrivals (people in open
    reports), people under monitoring at the day's end, alerts (arrival alerts, withdrawn
    since or not, and fever check-ins)."""
    n = len(bounds) - 1
    pairs = [v for i in range(n) for v in (iso(bounds[i]), iso(bounds[i + 1]))]
    counted = await _counted(conn)
    sql = (
        "SELECT "
        + _sums("SUM(r.state = 'open' AND r.created_at >= ?{a} AND r.created_at < ?{b})", n)
        + ", "
        + _sums("SUM(r.alert AND r.created_at >= ?{a} AND r.created_at < ?{b} AND p.idx = 0)", n)
        + " FROM reports r JOIN persons p ON p.report_id = r.id"
        f" WHERE r.created_at >= ?1 AND {counted}"
    )
    row = (await conn.execute_fetchall(sql, pairs))[0]
    arrivals = [int(v or 0) for v in tuple(row)[:n]]
    alerts = [int(v or 0) for v in tuple(row)[n:]]

    monitoring = [0] * n
    cols = await columns(conn, "monitoring")
    start = _first(cols, "started_at", "start_at", "created_at")
    end = _monitoring_end(cols)
    if start:
        still = f"({end} IS NULL OR {end} >= ?{{b}})" if end else "t.state = 'active'"
        sql = "SELECT " + _sums(f"SUM(t.{start} < ?{{b}} AND {still})", n) + " FROM monitoring t"
        row = (await conn.execute_fetchall(sql, pairs))[0]
        monitoring = [int(v or 0) for v in tuple(row)]

    cols = await columns(conn, "checkins")
    when = _answered(cols)
    if when and "state" in cols:
        fever = _fever(cols)
        sql = (
            "SELECT "
            + _sums(f"SUM(t.{when} >= ?{{a}} AND t.{when} < ?{{b}})", n)
            + f" FROM checkins t WHERE t.state = 'answered' AND ({fever})"
            f" AND t.{when} >= ?1"
        )
        row = (await conn.execute_fetchall(sql, pairs))[0]
        alerts = [a + int(v or 0) for a, v in zip(alerts, tuple(row), strict=True)]
    return Daily(arrivals=arrivals, monitoring=monitoring, alerts=alerts)


# --- statistics on demand (/stats) ----------------------------------------------------------
# One grouped count per question, over the live database. An arrival view is one pass over
# migration 046's covering index: each report carries its people counted once (``people``,
# by COUNTED, as in the daily report) and its origin, kept by triggers. The other views
# read the tables of migrations 006-027 as they are (the check-ins: 046's tally).


@dataclass(frozen=True)
class Filter:
    """Where a question looks: the window ``[since, until)`` (UTC), the villages in the
    asker's scope (None: the whole town) and their grids (monitoring rows carry only a grid),
    and what the asker narrowed it to; ``tz``: the town's, for the local day of a stored
    time."""

    since: datetime
    until: datetime
    villages: frozenset[str] | None = None
    grids: frozenset[str] | None = None
    grid: str = ""
    category: str = ""
    province: str = ""  # an origin province, by name as reports store it
    tz: tzinfo = UTC


# The dimension of the arrivals a view groups by.
ARRIVAL_KEYS = {
    "village": "r.village_id",
    "grid": "r.grid_id",
    "category": "r.category",
    "risk": "r.risk",
    "province": "r.origin_province",
    "city": "r.origin_city",
    # the UTC hour (cheap to cut from the stored text, unlike a date function per row),
    # made a local day in Python: exact for a town whose offset is whole hours
    "day": "substr(r.created_at, 1, 13)",
}

# The other views: (SQL with ``{scope}`` for the asker's villages, grouped by its first column).
_STAY_VILLAGE = """COALESCE((SELECT c.village_id FROM contacts c WHERE c.id = s.contact_id),
                            (SELECT r.village_id FROM reports r WHERE r.id = s.report_id),
                            (SELECT k.village_id FROM cases k WHERE k.id = s.case_id))"""
OTHER_QUERIES = {
    # current: people under each measure (monitoring rows still active)
    "measure": "SELECT t.kind, COUNT(*) FROM monitoring t WHERE t.state = 'active' {grids}",
    # check-in slots of the window, answered / missed / still waiting: migration 046's
    # tally per UTC hour (the window's bounds are whole hours), grid and state
    "checkin": """SELECT t.state, SUM(t.n) FROM checkin_tally t WHERE t.hour >= :since_hour
                  AND t.hour < :until_hour {grids}""",
    # tips received in the window
    "tip_kind": """SELECT t.kind, COUNT(*) FROM tips t WHERE t.created_at >= :since
                   AND t.created_at < :until {villages}""",
    "tip_state": """SELECT t.state, COUNT(*) FROM tips t WHERE t.created_at >= :since
                    AND t.created_at < :until {villages}""",
    # cases discovered in the window
    "case": """SELECT t.kind, COUNT(*) FROM cases t WHERE t.created_at >= :since
               AND t.created_at < :until {villages}""",
    # contacts traced in the window, by where they are now
    "contact": """SELECT t.state, COUNT(*) FROM contacts t WHERE t.created_at >= :since
                  AND t.created_at < :until {villages}""",
    # stays (centralised isolation) assigned in the window, by state
    "stay": """SELECT s.state, COUNT(*) FROM stays s WHERE s.assigned_at >= :since
                AND s.assigned_at < :until {stay_villages}""",
    # current: people assigned to or in each site
    "site": """SELECT s.site_id, COUNT(*) FROM stays s WHERE s.state IN ('assigned', 'in')
               {stay_villages}""",
}


def _scope_sql(f: Filter) -> dict[str, str]:
    """The ``{...}`` parts of OTHER_QUERIES: empty for the whole town."""
    if f.villages is None:
        return dict.fromkeys(("grids", "villages", "stay_villages"), "")
    within = "IN (SELECT value FROM json_each(:villages))"
    return {
        "grids": "AND t.grid_id IN (SELECT value FROM json_each(:grids))",
        "villages": f"AND t.village_id {within}",
        "stay_villages": f"AND {_STAY_VILLAGE} {within}",
    }


def _params(f: Filter) -> dict[str, Any]:
    return {
        "since": iso(f.since),
        "until": iso(f.until),
        "since_hour": iso(f.since)[:13],
        "until_hour": iso(f.until)[:13],
        "villages": json.dumps(sorted(f.villages or ())),
        "grids": json.dumps(sorted(f.grids or ())),
        "grid": f.grid,
        "category": f.category,
        "province": f.province,
    }


def arrivals_sql(view: str, f: Filter) -> str:
    """People in open reports made in the window, by the view's dimension (bench/stats.py
    runs it bare beside ``counts``)."""
    where = ["r.state = 'open'", "r.created_at >= :since", "r.created_at < :until"]
    if f.villages is not None:
        where.append("r.village_id IN (SELECT value FROM json_each(:villages))")
    if f.grid:
        where.append("r.grid_id = :grid")
    if f.category:
        where.append("r.category = :category")
    if f.province:
        where.append(f"{ARRIVAL_KEYS['province']} = :province")
    return f"""SELECT {ARRIVAL_KEYS[view]} AS k, SUM(r.people) FROM reports r
               WHERE {" AND ".join(where)} GROUP BY k"""


def view_sql(view: str, f: Filter) -> str:
    if view in ARRIVAL_KEYS:
        return arrivals_sql(view, f)
    return OTHER_QUERIES[view].format(**_scope_sql(f)) + " GROUP BY 1"


async def counts(conn: aiosqlite.Connection, view: str, f: Filter) -> dict[str, int]:
    """The count of each key of ``view`` (a view of bot.domain.stats.VIEWS) under ``f``; rows
    whose key is unknown (an origin not given) come back under ``""``."""
    rows = await conn.execute_fetchall(view_sql(view, f), _params(f))
    out: dict[str, int] = {}
    for key, value in rows:
        if not value:  # a tally counted down to nothing
            continue
        shown = _local_day(key, f.tz) if view == "day" else key or ""
        out[shown] = out.get(shown, 0) + int(value)
    return out


def _local_day(hour: str, tz: tzinfo) -> str:
    """``2020-10-25T17`` (a UTC hour) -> ``2020-10-26`` in Chongqing."""
    return datetime.fromisoformat(f"{hour}:00+00:00").astimezone(tz).date().isoformat()
