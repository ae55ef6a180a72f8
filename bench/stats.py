"""/stats at a district's scale: 1,000,000 arrivals (people in reports, companions included).
How long does each view take from the live database, against the bare SQL of the same
grouped count?

A real SQLite file (every migration), real wall-clock time. About 700,000 reports over 90
days, each of one to three people (a tenth of the companions linked to their own report,
some of those withdrawn since), spread over the example town's villages and grids, six
categories, eight risks and twenty origins; and what a million arrivals bring with them:
150,000 people under monitoring (as many released before) with a check-in a day for the 14
days (2.1 million), 30,000 tips, 2,000 cases, 50,000 contacts traced and 30,000 stays in 20
isolation sites. Printed for every view of bot.domain.stats.VIEWS and each window
(``14d``: the last 14 days, ``90d``: every row; ``village``: a village admin's scope):

- <view>_<window>_ms: ``storage.stats.counts`` as the bot calls it (aiosqlite, the
  bot's connection), the best of five;
- bare_ms: the plain grouped count the issue names, on a plain ``sqlite3``
  connection, the best of five. For an arrival view ``SELECT <dim>, COUNT(*) FROM reports
  JOIN persons ... WHERE ... GROUP BY <dim>``: one row per person counted (storage.stats'
  COUNTED rule), the origin read from the report's JSON, and ``reports NOT INDEXED``: the
  database as it was before migration 046 (no trigger-kept column, no covering index); for
  the other views the plain count over the table, joined to where its rows' place is kept;
- ratio: the first over the second: below 1, what 046's triggers and
  indexes (and the queries written for them) buy. Target for the first: < 300 ms.

    python bench/stats.py [--people 1000000]      # --people 20000 for a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
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

from bot.config import load_config  # noqa: E402
from bot.domain.stats import VIEWS  # noqa: E402
from storage import stats  # noqa: E402
from storage.db import Database  # noqa: E402

# the database is thrown away after each run: any data key will do (unless one is set)
os.environ.setdefault("PAICHA_DATA_KEY", "0" * 64)

CONFIG = ROOT / "config.example.toml"
NOW = datetime(2020, 11, 30, 2, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")
SPAN_DAYS = 90
TARGET_MS = 300
REPEAT = 5
CATEGORIES = ("sanfan", "siwai", "overseas", "quarantine_done", "visitor", "other")
RISKS = ("low", "low", "low", "medium_risk", "high_risk", "yellow_code", "overseas",
         "symptomatic")  # fmt: skip
MEASURES = ("home_monitoring", "home_monitoring", "home_observation", "self_monitoring",
            "centralized_isolation")  # fmt: skip
TIP_KINDS = ("unregistered", "symptoms", "gathering", "venue", "other")
CASE_KINDS = ("confirmed", "suspected", "asymptomatic", "pneumonia")
CONTACT_STATES = ("traced", "isolating", "isolating", "released", "closed")
STAY_STATES = ("assigned", "in", "in", "released")
ORIGINS = [(p, c) for p in ("湖北省", "广东省", "四川省", "浙江省", "北京市")
           for c in ("甲市", "乙市", "丙市", "丁市")]  # fmt: skip


def build(path: Path, people: int) -> dict[str, int]:
    """Rows written per table, in one transaction with executemany."""
    grids = [(v.id, g.id) for v in load_config(CONFIG).villages for g in v.grids]
    reports, persons = [], []
    report, person = 0, 0
    while person < people:
        report += 1
        i = report
        village, grid = grids[(i * 31) % len(grids)]
        province, city = ORIGINS[(i * 7) % len(ORIGINS)]
        created = NOW - timedelta(seconds=(i * 7919) % (SPAN_DAYS * 86400))
        data = json.dumps(
            {
                "origin": {"province": province, "city": city, "district": None},
                "relation": "self",
                "temperature": 36.5,
            },
            ensure_ascii=False,
        )
        stamp = created.isoformat()
        reports.append((report, f"XF-B-{i:07d}", f"b{i}", i, i, village, grid,
                        CATEGORIES[i % len(CATEGORIES)], RISKS[(i * 3) % len(RISKS)], data,
                        "withdrawn" if i % 50 == 0 else "open", stamp, stamp))  # fmt: skip
        for idx in range(1 + i % 3 if i % 4 else 1):
            person += 1
            linked = report - 1 if idx and person % 10 == 0 else None
            persons.append((report, idx, f"测试{person}", linked))
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            """INSERT INTO reports (id, ref, draft_token, reporter_user_id, reporter_chat_id,
                   locale, relation, village_id, grid_id, address, arrival_date, category, risk,
                   alert, measure_kind, measure_start, measure_end, data, state, created_at,
                   updated_at)
               VALUES (?, ?, ?, ?, ?, 'zh_CN', 'self', ?, ?, '先锋街1号', '2020-11-01', ?, ?,
                       0, 'self_monitoring', '2020-11-01', '2020-11-14', ?, ?, ?, ?)""",
            reports,
        )
        conn.executemany(
            "INSERT INTO persons (report_id, idx, name, self_report_id) VALUES (?, ?, ?, ?)",
            persons,
        )
        written = {"reports": len(reports), "people": len(persons)}
        written |= _around(conn, people, grids, len(reports))
    conn.close()  # not analysed, as a live database is not: the plans are the same
    return written


def _stamp(i: int, days: int) -> str:
    return (NOW - timedelta(seconds=(i * 7919) % (days * 86400))).isoformat()


def _around(conn: sqlite3.Connection, people: int, grids: list[tuple[str, str]],
            reports: int) -> dict[str, int]:  # fmt: skip
    """What that many arrivals bring: monitoring and its check-ins, tips, cases, contacts,
    stays (each table's required columns not given here filled by ``fill``)."""
    share = people / 1_000_000
    active, released = int(150_000 * share), int(150_000 * share)
    monitoring = [{"id": m, "report_id": 1 + m % reports, "person_idx": m // reports,
                   "grid_id": grids[m % len(grids)][1], "kind": MEASURES[m % len(MEASURES)],
                   "state": "active" if m <= active else "released",
                   "created_at": _stamp(m, SPAN_DAYS)}
                  for m in range(1, active + released + 1)]  # fmt: skip
    checkins = [{"monitoring_id": m, "slot_at": (NOW - timedelta(days=d, hours=12)).isoformat(),
                 "state": ("answered", "answered", "answered", "missed", "prompted")[(m + d) % 5]}
                for m in range(1, active + 1) for d in range(14)]  # fmt: skip
    villages = [(v, g) for v, g in grids]

    def placed(i: int) -> dict[str, str]:
        village, grid = villages[(i * 13) % len(villages)]
        return {"village_id": village, "grid_id": grid, "created_at": _stamp(i, SPAN_DAYS)}

    tips = [{"kind": TIP_KINDS[i % 5], "state": ("open", "checking", "closed")[i % 3],
             **placed(i)} for i in range(int(30_000 * share))]  # fmt: skip
    cases = [{"kind": CASE_KINDS[i % 4], **placed(i)} for i in range(int(2_000 * share))]
    contacts = [{"id": i + 1, "kind": "close", "state": CONTACT_STATES[i % 5], **placed(i)}
                for i in range(int(50_000 * share))]  # fmt: skip
    sites = [{"id": f"S{s:02d}", "state": "active"} for s in range(20)]
    stays = [{"site_id": f"S{i % 20:02d}", "contact_id": 1 + i % max(1, len(contacts)),
              "state": STAY_STATES[i % 4], "assigned_at": _stamp(i, SPAN_DAYS)}
             for i in range(int(30_000 * share))]  # fmt: skip
    tables = {"monitoring": monitoring, "checkins": checkins, "tips": tips, "cases": cases,
              "contacts": contacts, "sites": sites, "stays": stays}  # fmt: skip
    for table, rows in tables.items():
        fill(conn, table, rows)
    return {table: len(rows) for table, rows in tables.items()}


def fill(conn: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, each required column they do not give made up (unique where it must
    be: ``<column><row>``)."""
    if not rows:
        return
    required = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")
                if r[3] and r[4] is None and not r[5]]  # fmt: skip
    names = list(dict.fromkeys([*rows[0], *required]))
    kinds = {r[1]: r[2] for r in conn.execute(f"PRAGMA table_info({table})")}
    values = (
        tuple(row[n] if n in row else (i if kinds[n] == "INTEGER" else f"{n}{i}") for n in names)
        for i, row in enumerate(rows)
    )
    conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) "
                     f"VALUES ({', '.join('?' * len(names))})", values)  # fmt: skip


async def best(run: Callable[[], Awaitable[Any]]) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


# The bare SQL of each view (see the module's docstring): (the count, where a village
# admin's scope goes).
BARE_DIMS = {
    "village": "r.village_id",
    "grid": "r.grid_id",
    "category": "r.category",
    "risk": "r.risk",
    "province": "json_extract(r.data, '$.origin.province')",
    "city": "json_extract(r.data, '$.origin.city')",
    "day": "substr(r.created_at, 1, 13)",
}
IN_VILLAGES = "IN (SELECT value FROM json_each(:villages))"
IN_GRIDS = "IN (SELECT value FROM json_each(:grids))"
WINDOW = "BETWEEN :since AND :until"  # one bound more than the bot's: the same rows here
STAYED = "FROM stays s JOIN contacts c ON c.id = s.contact_id"
BARE_OTHERS = {
    "measure": ("SELECT t.kind, COUNT(*) FROM monitoring t WHERE t.state = 'active'",
                f"t.grid_id {IN_GRIDS}"),
    "checkin": ("SELECT t.state, COUNT(*) FROM checkins t JOIN monitoring m"
                f" ON m.id = t.monitoring_id WHERE t.slot_at {WINDOW}", f"m.grid_id {IN_GRIDS}"),
    "tip_kind": (f"SELECT t.kind, COUNT(*) FROM tips t WHERE t.created_at {WINDOW}",
                 f"t.village_id {IN_VILLAGES}"),
    "tip_state": (f"SELECT t.state, COUNT(*) FROM tips t WHERE t.created_at {WINDOW}",
                  f"t.village_id {IN_VILLAGES}"),
    "case": (f"SELECT t.kind, COUNT(*) FROM cases t WHERE t.created_at {WINDOW}",
             f"t.village_id {IN_VILLAGES}"),
    "contact": (f"SELECT t.state, COUNT(*) FROM contacts t WHERE t.created_at {WINDOW}",
                f"t.village_id {IN_VILLAGES}"),
    "stay": (f"SELECT s.state, COUNT(*) {STAYED} WHERE s.assigned_at {WINDOW}",
             f"c.village_id {IN_VILLAGES}"),
    "site": (f"SELECT s.site_id, COUNT(*) {STAYED} WHERE s.state IN ('assigned', 'in')",
             f"c.village_id {IN_VILLAGES}"),
}  # fmt: skip


def bare_sql(view: str, f: stats.Filter) -> str:
    if view in BARE_DIMS:
        where = f"r.state = 'open' AND r.created_at {WINDOW} AND {stats.COUNTED}"
        if f.villages is not None:
            where += f" AND r.village_id {IN_VILLAGES}"
        return (f"SELECT {BARE_DIMS[view]}, COUNT(*) FROM reports r NOT INDEXED"
                f" JOIN persons p ON p.report_id = r.id WHERE {where} GROUP BY 1")  # fmt: skip
    sql, scope = BARE_OTHERS[view]
    return f"{sql} AND {scope} GROUP BY 1" if f.villages is not None else f"{sql} GROUP BY 1"


async def measure(path: Path) -> list[float]:
    db = await Database.open(path)
    bare = sqlite3.connect(path)
    windows = {
        "14d": stats.Filter(NOW - timedelta(days=14), NOW, tz=TZ),
        "90d": stats.Filter(NOW - timedelta(days=SPAN_DAYS), NOW, tz=TZ),
        "village": stats.Filter(NOW - timedelta(days=14), NOW, villages=frozenset({"xf"}),
                                grids=frozenset({"XF01", "XF02"}), tz=TZ),
    }  # fmt: skip
    worst = []
    try:
        for view in VIEWS:
            for name, f in windows.items():
                sql, params = bare_sql(view, f), stats._params(f)
                took = await best(lambda v=view, f=f: stats.counts(db.conn, v, f))

                async def plain(sql: str = sql, params: dict = params) -> None:
                    bare.execute(sql, params).fetchall()

                baseline = await best(plain)
                print(f"{view}_{name}_ms: {took:.1f}  bare_ms: {baseline:.1f}  "
                      f"ratio: {took / baseline:.2f}", flush=True)  # fmt: skip
                worst.append(took)
    finally:
        bare.close()
        await db.close()
    return worst


async def run(people: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        await (await Database.open(path)).close()  # every migration
        started = time.perf_counter()
        for table, rows in build(path, people).items():
            print(f"{table}: {rows}")
        print(f"setup_s: {time.perf_counter() - started:.1f}")
        worst = max(await measure(path))
        print(f"slowest_view_ms: {worst:.1f}")
        print(f"target_ms: {TARGET_MS}")
        print(f"within_target: {worst < TARGET_MS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    asyncio.run(run(parser.parse_args().people))


if __name__ == "__main__":
    main()
