"""A district-sized load: 100,000 people under monitoring. How long does one check-in wave
take to enqueue, how long does the bot take to start with 100,000 pending timers, how much
memory does it use, does the outbox hold its configured rate (never above it in any
one-second window, nothing lost or duplicated), and how long does an alert queued in the
middle of the wave wait?

Real wall-clock time, a real SQLite file, the real OutboxWorker sending through a
python-telegram-bot ``Bot`` over the in-process Bot API double (bot/recording.py). Each
figure is printed beside a baseline measured in the same run, and the ratio:

- enqueue_wave_s: ``storage.outbox.enqueue`` of one prompt per person, in transactions of 500
  (a tick's batch), against a bare ``executemany`` INSERT of the same rows;
- startup_s: open the database, build the application, initialize, post_init and the first
  tick, with the timers and monitoring rows in the file, against the same on an empty file;
- send rate: the whole wave with the rate raised so that it ends within about a minute, and
  the default 25 msg/s over a 20-second window, against the configured rate;
- alert_delay_s: a priority-0 alert enqueued when half the wave is sent.

    python bench/scale.py [--people 100000]      # --people 2000 for a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import math
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_application  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.outbox import OutboxWorker  # noqa: E402
from bot.recording import RecordingRequest  # noqa: E402
from bot.scheduler import tick  # noqa: E402
from storage import outbox, timers  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.outbox import PRIORITY_ALERT, PRIORITY_BULK, iso  # noqa: E402

TOKEN = "123456:BENCH"
BATCH = 500
ALERT_CHAT = -1001234567890
CHAT_BASE = 10_000_000  # private chats of the people: CHAT_BASE + i
PROMPT = "请报告今天的体温"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class TimedRequest(RecordingRequest):
    """The Bot API double, noting when each message was sent and what it said."""

    def __init__(self) -> None:
        super().__init__(record=False)
        self.sent: list[tuple[float, str]] = []
        self.alert_at: float | None = None

    async def do_request(self, url: str, method: str, request_data: Any = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:  # fmt: skip
        result = await super().do_request(url, method, request_data, *args, **kwargs)
        if url.endswith("/sendMessage") and request_data is not None:
            text = request_data.json_parameters.get("text", "")
            now = time.perf_counter()
            self.sent.append((now, text))
            if text.startswith("ALERT") and self.alert_at is None:
                self.alert_at = now
        return result


# --- set-up ---------------------------------------------------------------------------------


def prompt_rows(people: int, now: datetime) -> list[tuple]:
    stamp = iso(now)
    return [(f"wave:{i}", CHAT_BASE + i, f"prompt {i}: {PROMPT}", PRIORITY_BULK, stamp,
             stamp) for i in range(people)]  # fmt: skip


async def enqueue_wave(db: Database, people: int, now: datetime) -> float:
    started = time.perf_counter()
    for first in range(0, people, BATCH):
        async with db.write() as conn:
            for i in range(first, min(people, first + BATCH)):
                text = f"prompt {i}: {PROMPT}"
                await outbox.enqueue(conn, chat_id=CHAT_BASE + i, text=text, now=now,
                                     priority=PRIORITY_BULK, dedup_key=f"wave:{i}")  # fmt: skip
    return time.perf_counter() - started


async def bare_insert(db: Database, people: int, now: datetime) -> float:
    rows = prompt_rows(people, now)
    started = time.perf_counter()
    async with db.write() as conn:
        await conn.executemany(
            """INSERT INTO outbox (dedup_key, chat_id, kind, text, priority, state, not_before,
                                   created_at) VALUES (?, ?, 'text', ?, ?, 'pending', ?, ?)""",
            rows,
        )
    return time.perf_counter() - started


async def populate(db: Database, people: int, now: datetime) -> bool:
    """People under monitoring (if migration 006 is there) and their pending check-in timers,
    due tomorrow morning. Returns whether the monitoring tables were filled."""
    tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
    monitored = "monitoring" in tables
    stamp = iso(now)
    if monitored:
        async with db.write() as conn:
            await conn.executemany(
                """INSERT INTO reports (id, ref, draft_token, reporter_user_id, reporter_chat_id,
                       locale, relation, village_id, grid_id, address, arrival_date, category,
                       risk, alert, measure_kind, measure_start, measure_end, data, created_at,
                       updated_at)
                   VALUES (?, ?, ?, ?, ?, 'zh_CN', 'self', 'xf', 'XF01', '先锋街1号',
                           '2020-10-25', 'sanfan', 'medium_risk', 0, 'home_monitoring',
                           '2020-10-25', '2020-11-07', '{}', ?, ?)""",
                [(i + 1, f"XF-B-{i}", f"bench-{i}", CHAT_BASE + i, CHAT_BASE + i, stamp, stamp)
                 for i in range(people)],
            )  # fmt: skip
            await conn.executemany(
                "INSERT INTO persons (report_id, idx, name, phone) VALUES (?, 0, '张三', ?)",
                [(i + 1, f"138{i:08d}") for i in range(people)],
            )
            await conn.executemany(
                """INSERT INTO monitoring (id, report_id, person_idx, chat_id, locale, grid_id,
                       kind, start_date, end_date, created_at, updated_at)
                   VALUES (?, ?, 0, ?, 'zh_CN', 'XF01', 'home_monitoring', '2020-10-25',
                           '2020-11-07', ?, ?)""",
                [(i + 1, i + 1, CHAT_BASE + i, stamp, stamp) for i in range(people)],
            )  # fmt: skip
    due = now + timedelta(days=1)
    for first in range(0, people, BATCH):
        async with db.write() as conn:
            for i in range(first, min(people, first + BATCH)):
                await timers.schedule(conn, kind="checkin.prompt", subject=f"monitoring:{i + 1}",
                                      due_at=due, now=now, payload={"gen": 1},
                                      dedup_key=f"bench.prompt:{i}")  # fmt: skip
    return monitored


CONFIG = ROOT / "config.example.toml"


async def startup(path: Path) -> float:
    """Start-up as `paicha run` does it, up to the first tick done (no polling)."""
    config = load_config(CONFIG)
    started = time.perf_counter()
    db = await Database.open(path)
    request = RecordingRequest(record=False)
    app = build_application(config, TOKEN, db, SystemClock(), request=request, start_outbox=False)
    await app.initialize()
    await app.post_init(app)
    await tick(app.bot_data["services"])
    elapsed = time.perf_counter() - started
    await app.post_shutdown(app)
    await app.shutdown()
    await db.close()
    return elapsed


# --- sending --------------------------------------------------------------------------------


def max_window(stamps: list[float], window: float = 1.0) -> int:
    """The most sends in any window of ``window`` seconds."""
    best, lo = 0, 0
    for hi, t in enumerate(stamps):
        while t - stamps[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def run_worker(
    db: Database, rate: float, *, seconds: float | None, alert_after: int | None
) -> dict[str, Any]:
    """Send from the outbox at ``rate`` until it is empty (or for ``seconds``); enqueue one
    alert once ``alert_after`` messages went out."""
    request = TimedRequest()
    app = build_application(load_config(CONFIG), TOKEN, db, SystemClock(), request=request,
                            start_outbox=False)  # fmt: skip
    await app.initialize()
    worker = OutboxWorker(db, app.bot, SystemClock(), rate_per_second=rate, group_per_minute=20)
    task = asyncio.create_task(worker.run())
    alert_queued: float | None = None
    started = time.perf_counter()
    while True:
        await asyncio.sleep(0.05)
        if alert_after is not None and alert_queued is None and len(request.sent) >= alert_after:
            async with db.write() as conn:
                await outbox.enqueue(conn, chat_id=ALERT_CHAT, text="ALERT 发热预警",
                                     now=datetime.now(UTC), priority=PRIORITY_ALERT,
                                     dedup_key="bench-alert")  # fmt: skip
            alert_queued = time.perf_counter()
            worker.wake()
        if seconds is not None and time.perf_counter() - started >= seconds:
            break
        if seconds is None and await outbox.pending_count(db) == 0:
            break
    worker.stop()
    await task
    await app.shutdown()
    stamps = [t for t, _ in request.sent]
    texts = [text for _, text in request.sent]
    span = (stamps[-1] - stamps[0]) if len(stamps) > 1 else float("nan")
    return {
        "sent": len(stamps),
        "rate": (len(stamps) - 1) / span if len(stamps) > 1 else 0.0,
        "max_window": max_window(stamps),
        "texts": texts,
        "alert_delay": (request.alert_at - alert_queued) if alert_queued and request.alert_at
        else float("nan"),
        "span": span,
    }  # fmt: skip


def check_delivery(texts: list[str], people: int) -> tuple[int, int]:
    """(lost, duplicated) prompts of the wave."""
    prompts = [t for t in texts if t.startswith("prompt ")]
    seen = {int(t.split(":", 1)[0].split()[1]) for t in prompts}
    return people - len(seen & set(range(people))), len(prompts) - len(seen)


# --- main -----------------------------------------------------------------------------------


async def run(people: int, workdir: Path) -> None:
    now = datetime.now(UTC)
    print(f"people: {people}")
    base_rss = rss_mb()
    print(f"baseline_rss_mb: {base_rss:.0f}")

    # Enqueue a wave, against a bare executemany (separate files, same rows).
    db = await Database.open(workdir / "bare.sqlite3")
    bare = await bare_insert(db, people, now)
    await db.close()
    db = await Database.open(workdir / "wave.sqlite3")
    wave = await enqueue_wave(db, people, now)
    print(f"enqueue_wave_s: {wave:.2f}")
    print(f"enqueue_bare_executemany_s: {bare:.2f}")
    print(f"enqueue_wave_ratio: {wave / bare:.1f}")

    # Start-up with the load in the file, against an empty file.
    await startup(workdir / "warmup.sqlite3")  # imports, cpca's table: once per process
    empty = await startup(workdir / "empty.sqlite3")
    loaded_db = await Database.open(workdir / "loaded.sqlite3")
    setup_started = time.perf_counter()
    monitored = await populate(loaded_db, people, now)
    setup = time.perf_counter() - setup_started
    pending = await timers.pending_count(loaded_db)
    await loaded_db.close()
    loaded = await startup(workdir / "loaded.sqlite3")
    print(f"pending_timers: {pending}")
    print(f"monitoring_rows: {people if monitored else 0}")
    print(f"setup_s: {setup:.1f}")
    print(f"startup_s: {loaded:.2f}")
    print(f"startup_empty_s: {empty:.2f}")
    print(f"startup_ratio: {loaded / empty:.2f}")

    # The whole wave, the rate raised so that it ends within about a minute.
    fast_rate = float(max(25, math.ceil(people / 50)))
    result = await run_worker(db, fast_rate, seconds=None, alert_after=people // 2)
    lost, duplicated = check_delivery(result["texts"], people)
    (not_sent,) = await db.fetchone("SELECT COUNT(*) FROM outbox WHERE state != 'sent'")
    print(f"wave_configured_rate: {fast_rate:.0f}")
    print(f"wave_send_s: {result['span']:.1f}")
    print(f"wave_achieved_rate: {result['rate']:.1f}")
    print(f"send_rate_ratio: {result['rate'] / fast_rate:.3f}")
    print(f"max_window_rate_ratio: {result['max_window'] / fast_rate:.3f}")
    print(f"alert_delay_s: {result['alert_delay']:.2f}")
    print(f"lost: {lost + not_sent}")
    print(f"duplicated: {duplicated}")
    await db.close()

    # The default 25 msg/s over a 20-second window, a full backlog behind it.
    db = await Database.open(workdir / "default.sqlite3")
    await bare_insert(db, min(people, 2000), now)
    default = await run_worker(db, 25.0, seconds=20.0, alert_after=200)
    await db.close()
    print("default_configured_rate: 25")
    print(f"default_achieved_rate: {default['rate']:.2f}")
    print(f"default_send_rate_ratio: {default['rate'] / 25:.3f}")
    print(f"default_max_window_rate_ratio: {default['max_window'] / 25:.3f}")
    print(f"default_alert_delay_s: {default['alert_delay']:.2f}")
    print(f"peak_rss_mb: {rss_mb():.0f}")
    print(f"peak_rss_ratio: {rss_mb() / base_rss:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.people, Path(tmp)))


if __name__ == "__main__":
    main()
