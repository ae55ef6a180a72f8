"""Leaders' figures of the chain after discovery at 10,000 people in centralised isolation:
does the occupancy per site and the whole daily report stay under 50 ms?

A real SQLite file and the real application's services. Seeded: ``--people`` stays holding
rooms (nine in ten arrived, the rest expected) spread over ``--sites`` active sites, as many
stays released before, one contact per stay, the test schedule of every stay (days 1, 4, 7
and 14; the first taken and negative, a few positive), a transfer per four people (most
delivered, some waiting or on the way), a site being activated and a reserve one. Printed
(each the median of ``--rounds`` runs):

- occupancy_ms: ``storage.isolation.occupancy`` (people arrived / expected and free rooms
  per site), beside occupancy_bare_ms: its statement run bare (the rows fetched, nothing
  made of them), and occupancy_ratio;
- digest_ms: ``bot.actions.digest.build``: the whole daily report assembled (every figure of
  every village, the chain's, the chart's 14-day series) and rendered from its template,
  beside digest_bare_ms: the bare SQL of the chain's figures (one statement per table, the
  same counts) and digest_ratio;
- target_ms: 50, for occupancy_ms and digest_ms.

    python bench/isolation.py [--people 10000] [--sites 20] [--rounds 21]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.actions import digest  # noqa: E402
from bot.app import build_application  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.runtime.clock import ManualClock  # noqa: E402
from bot.runtime.services import Services  # noqa: E402
from sandbox.recording import RecordingRequest  # noqa: E402
from storage import isolation  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.outbox import iso  # noqa: E402

# the database is thrown away after each run: any data key will do (unless one is set)
os.environ.setdefault("PAICHA_DATA_KEY", "0" * 64)

TOKEN = "123456:BENCH"
CONFIG = ROOT / "config.example.toml"
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2020, 11, 20, 20, 0, tzinfo=TZ)
SINCE = NOW - timedelta(hours=12)
TARGET_MS = 50
TEST_DAYS = (1, 4, 7, 14)

# storage.isolation.occupancy's statement, its rows fetched and nothing made of them
BARE_OCCUPANCY = """SELECT s.rowid, s.id, s.name, s.state, s.capacity, s.village_id, s.latitude,
                           s.longitude, TOTAL(st.state = 'in'), TOTAL(st.state = 'assigned')
                    FROM sites s
                    LEFT JOIN stays st ON st.site_id = s.id AND st.state IN ('assigned', 'in')
                    WHERE s.state != 'closed' GROUP BY s.id ORDER BY s.rowid"""
# the chain's figures, bare: the same counts over the same indexes, one statement each
WINDOW = "{0} >= :since AND {0} < :until"
BARE_CHAIN = (
    "SELECT COUNT(*) FROM contacts WHERE " + WINDOW.format("created_at"),
    "SELECT COUNT(*) FROM contacts WHERE state = 'traced'",
    "SELECT COUNT(*) FROM stays WHERE " + WINDOW.format("released_at"),
    "SELECT COUNT(*) FROM stay_tests WHERE " + WINDOW.format("sampled_at"),
    "SELECT COUNT(*) FROM stay_tests WHERE result = 'positive' AND " + WINDOW.format("result_at"),
    """SELECT COUNT(*) FROM stay_tests
       WHERE sampled_at IS NOT NULL AND COALESCE(result, 'pending') = 'pending'""",
    "SELECT COUNT(*) FROM transfers WHERE " + WINDOW.format("delivered_at"),
    "SELECT COUNT(*) FROM transfers WHERE state = 'requested'",
    "SELECT COUNT(*) FROM transfers WHERE state IN ('dispatched', 'acknowledged', 'picked_up')",
    BARE_OCCUPANCY,
)


def _at(days: float) -> str:
    return iso(NOW - timedelta(days=days))


def _rows(people: int, sites: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row to insert, by table: deterministic, spread evenly."""
    stamp = _at(30)
    out: dict[str, list[tuple[Any, ...]]] = {k: [] for k in
                                             ("sites", "contacts", "stays", "stay_tests",
                                              "transfers", "transfer_people")}  # fmt: skip
    rooms = people // sites + 2  # a couple of rooms free at each site
    for s in range(sites):
        out["sites"].append((f"B{s:03d}", f"隔离点{s}", "active", rooms, None, stamp))
    out["sites"].append(("BACT", "启用中隔离点", "activating", 50, _at(-0.5), stamp))
    out["sites"].append(("BRES", "储备隔离点", "reserved", 80, None, stamp))
    for i in range(2 * people):  # the first half holds rooms; the second was released
        active = i < people
        day = i % 14 + 1  # day of isolation today
        start = NOW.date() - timedelta(days=day - 1)
        contact = "isolating" if active else "released"
        out["contacts"].append((i + 1, f"XF-MJ-B{i:06d}", f"密接{i}", contact, _at(day),
                                _at(day)))  # fmt: skip
        state = ("in" if i % 10 else "assigned") if active else "released"
        released = None if active else _at((i % 40) / 24)
        out["stays"].append((i + 1, f"B{i % sites:03d}", str(i // sites % rooms + 1), i + 1,
                             start.isoformat(), (start + timedelta(days=13)).isoformat(),
                             state, _at(day), released))  # fmt: skip
        for n in TEST_DAYS:
            test_date = start + timedelta(days=n - 1)
            taken = test_date < NOW.date() or (test_date == NOW.date() and i % 3)
            sampled = _at((NOW.date() - test_date).days + 0.2) if taken else None
            result = ("positive" if i % 997 == 0 else "negative") if taken and i % 5 else None
            out["stay_tests"].append((i + 1, test_date.isoformat(), sampled, result,
                                      sampled))  # fmt: skip
        if i % 4 == 0:
            t = len(out["transfers"]) + 1
            kind = ("requested", "dispatched", "picked_up")[i % 3] if i % 200 == 0 else "delivered"
            delivered = _at(day) if kind == "delivered" else None
            out["transfers"].append((t, f"XF-ZY-B{t:05d}", f"B{i % sites:03d}", kind, _at(day),
                                     delivered))  # fmt: skip
            out["transfer_people"].append((t, i + 1))
    return out


async def seed(db: Database, people: int, sites: int) -> None:
    rows = _rows(people, sites)
    async with db.write() as conn:
        await conn.executemany(
            """INSERT INTO sites (id, name, address, state, capacity, activation_deadline,
                   created_at, updated_at) VALUES (?1, ?2, '先锋镇', ?3, ?4, ?5, ?6, ?6)""",
            rows["sites"],
        )
        await conn.executemany(
            """INSERT INTO contacts (id, ref, name, address, village_id, grid_id, kind,
                   last_exposure, measure_kind, measure_start, measure_end, state, created_at,
                   updated_at)
               VALUES (?, ?, ?, '先锋街1号', 'xf', 'XF01', 'close', '2020-11-01',
                       'central_isolation', '2020-11-01', '2020-11-14', ?, ?, ?)""",
            rows["contacts"],
        )
        await conn.executemany(
            """INSERT INTO stays (id, site_id, room, contact_id, measure_kind, start_date,
                   end_date, test_days, state, assigned_by, assigned_at, released_at)
               VALUES (?, ?, ?, ?, 'central_isolation', ?, ?, '[1, 4, 7, 14]', ?, 1, ?, ?)""",
            rows["stays"],
        )
        await conn.executemany(
            """INSERT INTO stay_tests (stay_id, test_date, sampled_at, result, result_at)
               VALUES (?, ?, ?, ?, ?)""",
            rows["stay_tests"],
        )
        await conn.executemany(
            """INSERT INTO transfers (id, ref, site_id, from_address, village_id, state,
                   requested_by, requested_at, delivered_at)
               VALUES (?, ?, ?, '先锋街1号', 'xf', ?, 1, ?, ?)""",
            rows["transfers"],
        )
        await conn.executemany(
            "INSERT INTO transfer_people (transfer_id, stay_id) VALUES (?, ?)",
            rows["transfer_people"],
        )


async def median_ms(rounds: int, job: Callable[[], Awaitable[Any]]) -> float:
    await job()  # warm: the first read fills the page cache and compiles the templates
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await job()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def bare(db: Database, statements: tuple[str, ...]) -> None:
    window = {"since": iso(SINCE), "until": iso(NOW)}
    for sql in statements:
        await db.fetchall(sql, window if ":since" in sql else ())


async def measure(services: Services, db: Database, people: int, rounds: int) -> None:
    occupancy = await median_ms(rounds, lambda: isolation.occupancy(db.conn))
    occupancy_bare = await median_ms(rounds, lambda: bare(db, (BARE_OCCUPANCY,)))

    async def build() -> digest.Digest:
        since, now = SINCE.astimezone(UTC), NOW.astimezone(UTC)
        return await digest.build(services, db.conn, since=since, until=now, now=now)

    report = await build()
    built = await median_ms(rounds, build)
    built_bare = await median_ms(rounds, lambda: bare(db, BARE_CHAIN))
    isolating = sum(s.people for s in await isolation.occupancy(db.conn))
    assert isolating == people, f"{isolating} people in isolation, not {people}"
    print(f"report_chars: {len(report.text)}")
    print(f"occupancy_ms: {occupancy:.2f}")
    print(f"occupancy_bare_ms: {occupancy_bare:.2f}")
    print(f"occupancy_ratio: {occupancy / occupancy_bare:.1f}")
    print(f"digest_ms: {built:.2f}")
    print(f"digest_bare_ms: {built_bare:.2f}")
    print(f"digest_ratio: {built / built_bare:.1f}")
    print(f"target_ms: {TARGET_MS}")


async def run(people: int, sites: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(CONFIG)
        db = await Database.open(Path(tmp) / "bench.sqlite3")
        request = RecordingRequest(record=False, remember_keyboards=False)
        app = build_application(config, TOKEN, db, ManualClock(NOW), request=request,
                                start_outbox=False)  # fmt: skip
        try:  # the database's thread keeps the process alive until it is closed
            await app.initialize()
            await app.post_init(app)  # the config's own sites and staff, as at start
            started = time.perf_counter()
            await seed(db, people, sites)
            print(f"people_isolated: {people}")
            print(f"sites: {sites}")
            print(f"setup_s: {time.perf_counter() - started:.1f}")
            await measure(app.bot_data["services"], db, people, rounds)
        finally:
            await app.post_shutdown(app)
            await app.shutdown()
            await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000, help="people in isolation")
    parser.add_argument("--sites", type=int, default=20, help="active sites they are spread over")
    parser.add_argument("--rounds", type=int, default=21, help="timed runs of each (median)")
    args = parser.parse_args()
    asyncio.run(run(args.people, args.sites, args.rounds))


if __name__ == "__main__":
    main()
