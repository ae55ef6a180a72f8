"""Re-screening after a key-region change: 100,000 registered arrivals, one region added (from
the chat: the file written, the change recorded, every arrival of the look-back window from or
through a place inside the district or containing it re-assessed by the submit rule, the
upgraded ones stored with their monitoring restarted and their messages queued, all in one
transaction). How long does it take against a bare query reading the same rows?

A real SQLite file, the real application's services, real wall-clock time. Printed:

- rescreen_s: ``bot.actions.regions.change`` for one added district (北京市朝阳区, high risk):
  the file edit, the change, the candidates selected by place (``report_places``: inside the
  district, or a vaguer answer containing it; the rest of the province is not read), each
  assessed with ``risk.assess``, the upgrades written (reports, monitoring, timers, outbox);
- bare_query_s: ``SELECT id, data FROM reports`` over the same 100,000 open arrivals of the
  look-back window, every row fetched: what reading the registered arrivals costs at all;
- rescreen_ratio: rescreen_s / bare_query_s (target <= 5);
- from_province, upgraded: the arrivals from the changed district's province (the district's
  own and ``--province``'s share from 海淀区, which the place selection leaves out), and those
  upgraded (``--affected``: from the district itself).

    python bench/rescreen.py [--people 100000] [--affected 0.01] [--province 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.actions import regions as actions  # noqa: E402
from bot.app import build_application  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.domain.regions import Edit, Region  # noqa: E402
from bot.runtime.clock import ManualClock  # noqa: E402
from sandbox.recording import RecordingRequest  # noqa: E402
from storage.db import Database  # noqa: E402

# the database is thrown away after each run: any data key will do (unless one is set)
os.environ.setdefault("PAICHA_DATA_KEY", "0" * 64)

TOKEN = "123456:BENCH"
CONFIG = ROOT / "config.example.toml"
NOW = datetime(2020, 10, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ADMIN = 10001
CHAT_BASE = 10_000_000
CHANGED = {"province": "北京市", "city": None, "district": "朝阳区"}
SAME_PROVINCE = {"province": "北京市", "city": None, "district": "海淀区"}
# Elsewhere in China, none of them a key region in data/regions.toml.
OTHERS = [
    {"province": p, "city": c, "district": None}
    for p, c in (("广东省", "广州市"), ("四川省", "成都市"), ("浙江省", "杭州市"),
                 ("江苏省", "南京市"), ("河南省", "郑州市"), ("湖南省", "长沙市"),
                 ("陕西省", "西安市"), ("云南省", "昆明市"), ("贵州省", "贵阳市"))
]  # fmt: skip


def origin_of(i: int, people: int, affected: float, province: float) -> dict:
    """Spread evenly: ``affected`` of them from the changed district, ``province`` from its
    province (the candidates), the rest from elsewhere."""
    position = (i * 7919) % people / people  # a fixed shuffle
    if position < affected:
        return CHANGED
    if position < province:
        return SAME_PROVINCE
    return OTHERS[i % len(OTHERS)]


async def seed(db: Database, people: int, affected: float, province: float) -> None:
    today = NOW.date()
    stamp = NOW.isoformat()
    reports, persons, places = [], [], []
    for i in range(people):
        arrival = (today - timedelta(days=i % 12 + 1)).isoformat()
        origin = origin_of(i, people, affected, province)
        data = {"relation": "self", "region_kind": "china", "origin": origin, "travel": [],
                "arrival_date": arrival, "transport": "train", "village": "xf", "grid": "XF01",
                "address": "先锋街1号", "category": "sanfan", "health_code": "green",
                "test": "no", "temperature": 36.5, "symptoms": [], "reasons": []}  # fmt: skip
        reports.append((i + 1, f"XF-B-{i:06d}", f"bench-{i}", CHAT_BASE + i, CHAT_BASE + i,
                        arrival, arrival, arrival, json.dumps(data, ensure_ascii=False), stamp,
                        stamp))  # fmt: skip
        persons.append((i + 1, f"测试{i}", f"138{i:08d}"))
        places.append((i + 1, origin["province"], origin["city"], origin["district"]))
    async with db.write() as conn:
        await conn.executemany(
            """INSERT INTO reports (id, ref, draft_token, reporter_user_id, reporter_chat_id,
                   locale, relation, village_id, grid_id, address, arrival_date, category, risk,
                   alert, measure_kind, measure_start, measure_end, data, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, 'zh_CN', 'self', 'xf', 'XF01', '先锋街1号', ?, 'sanfan',
                       'low', 0, 'self_monitoring', ?, ?, ?, ?, ?)""",
            reports,
        )
        await conn.executemany(
            "INSERT INTO persons (report_id, idx, name, phone) VALUES (?, 0, ?, ?)", persons
        )
        await conn.executemany(
            "INSERT INTO report_places (report_id, province, city, district) VALUES (?, ?, ?, ?)",
            places,
        )


async def bare_query(db: Database, since: date) -> tuple[float, int]:
    started = time.perf_counter()
    rows = await db.fetchall(
        "SELECT id, data FROM reports WHERE state = 'open' AND arrival_date >= ?",
        (since.isoformat(),),
    )
    return time.perf_counter() - started, len(rows)


async def run(people: int, affected: float, province: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        regions_file = Path(tmp) / "regions.toml"
        shutil.copy(ROOT / "data" / "regions.toml", regions_file)
        base = load_config(CONFIG)
        config = base.model_copy(
            update={"regions": base.regions.model_copy(update={"file": regions_file})}
        )
        db = await Database.open(Path(tmp) / "bench.sqlite3")
        started = time.perf_counter()
        await seed(db, people, affected, province)
        print(f"people: {people}")
        print(f"setup_s: {time.perf_counter() - started:.1f}")
        request = RecordingRequest(record=False, remember_keyboards=False)
        app = build_application(config, TOKEN, db, ManualClock(NOW), request=request,
                                start_outbox=False)  # fmt: skip
        await app.initialize()
        await app.post_init(app)  # the staff of the config: the grid's workers
        services = app.bot_data["services"]
        await actions.sync(services)  # the baseline: the file as it is
        since = services.local_today() - timedelta(days=config.arrival.lookback_days)
        bare, rows = await bare_query(db, since)
        region = Region("北京市", None, "朝阳区", "high", NOW.date() - timedelta(days=20), None)
        started = time.perf_counter()
        outcome = await actions.change(services, ADMIN, Edit("add", region))
        elapsed = time.perf_counter() - started
        bare_again, _ = await bare_query(db, since)
        bare = min(bare, bare_again)
        from_province = sum(1 for i in range(people) if origin_of(i, people, affected, province)
                            in (CHANGED, SAME_PROVINCE))  # fmt: skip
        queued = await db.fetchone("SELECT COUNT(*) FROM outbox")
        print(f"rows_in_window: {rows}")
        print(f"from_province: {from_province}")
        print(f"upgraded: {outcome.upgraded}")
        print(f"messages_queued: {queued[0]}")
        print(f"rescreen_s: {elapsed:.2f}")
        print(f"bare_query_s: {bare:.2f}")
        print(f"rescreen_ratio: {elapsed / bare:.1f}")
        await app.shutdown()
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument(
        "--affected",
        type=float,
        default=0.01,
        help="share of arrivals from the changed district (upgraded)",
    )
    parser.add_argument(
        "--province",
        type=float,
        default=0.05,
        help="share from its province, the district included (candidates)",
    )
    args = parser.parse_args()  # fmt: skip
    asyncio.run(run(args.people, args.affected, args.province))


if __name__ == "__main__":
    main()
