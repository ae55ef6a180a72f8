"""A district-sized load: 100,000 people under monitoring. How long does one check-in wave
take to enqueue, how long does the bot take to start with 100,000 pending timers, how much
memory does it use, does the outbox hold its configured rate (never above it in any
one-second window, nothing lost or duplicated), and how long does an alert queued in the
middle of the wave wait?

Real wall-clock time, a real SQLite file, the real OutboxWorker sending through a
python-telegram-bot ``Bot`` over the in-process Bot API double (bot/recording.py). Each
figure is printed beside a baseline measured in the same run, and the ratio:

- enqueue_wave_s: one check-in wave as the bot does it: ``timers.fire_due`` (at the slot's
  time, until nothing is due) fires one ``checkin.prompt`` timer per person — each writes the
  prompt (outbox row), its check-in row, the ``checkin.missed`` timer and the next prompt and
  marks the timer done — against a bare ``executemany`` writing exactly the same rows (read
  back from the real run) in one transaction on an identically populated file;
- enqueue_rows_s: ``storage.outbox.enqueue`` of one prompt per person, in transactions of 500
  (a tick's batch), against a bare ``executemany`` INSERT of the same rows;
- startup_s: open the database, build the application, initialize, post_init and the first
  tick, with the timers and monitoring rows in the file, against the same on an empty file;
- send rate: the whole wave with the rate raised so that it ends within about a minute, and
  the default 25 msg/s over a 20-second window, against the configured rate;
- send_ceiling_bare_loop_msgs_per_s: a bare loop of the worker's ``send_row`` over the wave's
  rows (same bot, same double, no outbox): what sending costs without the outbox's pacing,
  claiming and marking;
- alert_delay_s: a priority-0 alert enqueued when half the wave is sent (wave: the real
  prompts produced by enqueue_wave_s).

    python bench/scale.py [--people 100000]      # --people 2000 for a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import TICK_JOBS, build_application  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.domain import monitoring as dm  # noqa: E402
from bot.runtime.clock import ManualClock, SystemClock  # noqa: E402
from bot.runtime.outbox import OutboxWorker, send_row  # noqa: E402
from bot.runtime.scheduler import tick  # noqa: E402
from bot.runtime.timers import fire_due  # noqa: E402
from sandbox.recording import RecordingRequest  # noqa: E402
from storage import outbox, timers  # noqa: E402
from storage.db import Database  # noqa: E402

# the database is thrown away after each run: any data key will do (unless one is set)
os.environ.setdefault("PAICHA_DATA_KEY", "0" * 64)
from storage.outbox import PRIORITY_ALERT, PRIORITY_BULK, iso  # noqa: E402

TOKEN = "123456:BENCH"
BATCH = 500
ALERT_CHAT = -1001234567890
CHAT_BASE = 10_000_000  # private chats of the people: CHAT_BASE + i
PROMPT = "请报告今天的体温"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class TimedRequest(RecordingRequest):
    """The Bot API double, noting when each message was received and by which chat."""

    def __init__(self) -> None:
        super().__init__(record=False, remember_keyboards=False)
        self.sent: list[tuple[float, int]] = []
        self.alert_at: float | None = None

    async def do_request(self, url: str, method: str, request_data: Any = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:  # fmt: skip
        result = await super().do_request(url, method, request_data, *args, **kwargs)
        if url.endswith("/sendMessage") and request_data is not None:
            params = request_data.json_parameters
            now = time.perf_counter()
            self.sent.append((now, int(params["chat_id"])))
            if params.get("text", "").startswith("ALERT") and self.alert_at is None:
                self.alert_at = now
        return result


# --- set-up ---------------------------------------------------------------------------------


def prompt_rows(people: int, now: datetime) -> list[tuple]:
    stamp = iso(now)
    return [(f"wave:{i}", CHAT_BASE + i, f"prompt {i}: {PROMPT}", PRIORITY_BULK, stamp,
             stamp) for i in range(people)]  # fmt: skip


async def enqueue_rows(db: Database, people: int, now: datetime) -> float:
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


def latest_slot(now: datetime) -> datetime:
    """The newest check-in slot at or before ``now`` (the wave's time: already due)."""
    config = load_config(CONFIG)
    today = now.astimezone(config.tz).date()
    slots = [slot for day in (today - timedelta(days=1), today)
             for slot in dm.slots_on(day, config.schedule.checkin, config.tz)]  # fmt: skip
    return max(slot for slot in slots if slot <= now)


async def populate(db: Database, people: int, now: datetime, due: datetime) -> bool:
    """People under monitoring (if migration 006 is there) and their pending check-in timer
    for the slot ``due``. Returns whether the monitoring tables were filled."""
    tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
    monitored = "monitoring" in tables
    stamp = iso(now)
    today = now.astimezone(load_config(CONFIG).tz).date()
    start, end = (today - timedelta(days=3)).isoformat(), (today + timedelta(days=10)).isoformat()
    if monitored:
        async with db.write() as conn:
            await conn.executemany(
                """INSERT INTO reports (id, ref, draft_token, reporter_user_id, reporter_chat_id,
                       locale, relation, village_id, grid_id, address, arrival_date, category,
                       risk, alert, measure_kind, measure_start, measure_end, data, created_at,
                       updated_at)
                   VALUES (?, ?, ?, ?, ?, 'zh_CN', 'self', 'xf', 'XF01', '先锋街1号',
                           ?, 'sanfan', 'medium_risk', 0, 'home_monitoring',
                           ?, ?, '{}', ?, ?)""",
                [(i + 1, f"XF-B-{i}", f"bench-{i}", CHAT_BASE + i, CHAT_BASE + i, start, start,
                  end, stamp, stamp) for i in range(people)],
            )  # fmt: skip
            await conn.executemany(
                "INSERT INTO persons (report_id, idx, name, phone) VALUES (?, 0, '张三', ?)",
                [(i + 1, f"138{i:08d}") for i in range(people)],
            )
            await conn.executemany(
                """INSERT INTO monitoring (id, report_id, person_idx, chat_id, locale, grid_id,
                       kind, start_date, end_date, created_at, updated_at)
                   VALUES (?, ?, 0, ?, 'zh_CN', 'XF01', 'home_monitoring', ?, ?, ?, ?)""",
                [(i + 1, i + 1, CHAT_BASE + i, start, end, stamp, stamp)
                 for i in range(people)],
            )  # fmt: skip
    slot = dm.epoch(due)
    for first in range(0, people, BATCH):
        async with db.write() as conn:
            for i in range(first, min(people, first + BATCH)):
                await timers.schedule(conn, kind="checkin.prompt", subject=f"monitoring:{i + 1}",
                                      due_at=due, now=now, payload={"gen": 1, "slot": slot},
                                      dedup_key=f"ci.prompt:{i + 1}:g1:{slot}")  # fmt: skip
    return monitored


async def fire_wave(path: Path, slot: datetime) -> tuple[float, int]:
    """The real wave: fire_due at the slot's time until nothing is due. (seconds, fired)"""
    db = await Database.open(path)
    request = RecordingRequest(record=False, remember_keyboards=False)
    app = build_application(
        load_config(CONFIG), TOKEN, db, ManualClock(slot), request=request, start_outbox=False
    )
    await app.initialize()
    services = app.bot_data["services"]
    fired = 0
    started = time.perf_counter()
    while batch := await fire_due(services):
        fired += batch
    elapsed = time.perf_counter() - started
    await app.shutdown()
    await db.close()
    return elapsed, fired


# What one wave writes, per table: the rows of the fired file to copy.
WAVE_TABLES = {
    "outbox": "1",
    "checkins": "1",
    "timers": "state = 'pending'",  # the timers the wave scheduled (the fired ones are done)
}
CHUNK = 5000


async def bare_wave(fired: Path, bare: Path) -> float:
    """The same rows as the real wave, written by bare executemany in one transaction on a
    file populated the same way: the new outbox, checkins and timer rows, and the fired timers
    marked done. Read in chunks (memory); only the writes and the commit are timed."""
    src = await Database.open(fired)
    db = await Database.open(bare)
    elapsed = 0.0

    async def chunks(sql: str) -> Any:
        last = 0
        while rows := await src.fetchall(sql, (last, CHUNK)):
            last = rows[-1]["id"]
            yield rows

    async with db.write() as conn:
        done = "SELECT fired_at, late, id FROM timers WHERE state = 'done' AND id > ? "
        async for rows in chunks(done + "ORDER BY id LIMIT ?"):
            started = time.perf_counter()
            await conn.executemany(
                "UPDATE timers SET state = 'done', fired_at = ?, late = ? WHERE id = ?",
                [tuple(r) for r in rows],
            )
            elapsed += time.perf_counter() - started
        for table, where in WAVE_TABLES.items():
            select = f"SELECT * FROM {table} WHERE {where} AND id > ? ORDER BY id LIMIT ?"
            async for rows in chunks(select):
                columns = rows[0].keys()
                sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
                       f"VALUES ({', '.join('?' * len(columns))})")  # fmt: skip
                started = time.perf_counter()
                await conn.executemany(sql, [tuple(r) for r in rows])
                elapsed += time.perf_counter() - started
        started = time.perf_counter()
    elapsed += time.perf_counter() - started  # the commit
    await src.close()
    await db.close()
    return elapsed


async def send_ceiling(path: Path, limit: int = 5000) -> float:
    """What this machine can send at all: a bare loop of the worker's own ``send_row`` over
    the wave's first rows, through the same bot and double, without the outbox (msg/s)."""
    db = await Database.open(path)
    ids = [r[0] for r in await db.fetchall("SELECT id FROM outbox ORDER BY id LIMIT ?", (limit,))]
    rows = [row for id in ids if (row := await outbox.get(db, id)) is not None]
    request = TimedRequest()
    app = build_application(load_config(CONFIG), TOKEN, db, SystemClock(), request=request,
                            start_outbox=False)  # fmt: skip
    await app.initialize()
    started = time.perf_counter()
    for row in rows:
        await send_row(app.bot, row)
    elapsed = time.perf_counter() - started
    await app.shutdown()
    await db.close()
    return len(rows) / elapsed


CONFIG = ROOT / "config.example.toml"


async def startup(path: Path) -> float:
    """Start-up as `paicha run` does it, up to the first tick done (no polling)."""
    config = load_config(CONFIG)
    started = time.perf_counter()
    db = await Database.open(path)
    request = RecordingRequest(record=False, remember_keyboards=False)
    app = build_application(config, TOKEN, db, SystemClock(), request=request, start_outbox=False)
    await app.initialize()
    await app.post_init(app)
    await tick(app.bot_data["services"], TICK_JOBS)
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
    expected = await outbox.pending_count(db) + (alert_after is not None)
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
        # Count rows only once the double has received the whole backlog: a COUNT over 100k
        # rows every 50 ms would occupy the worker's SQLite thread and slow the worker down.
        if seconds is None and len(request.sent) >= expected and not await outbox.pending_count(db):
            break
    worker.stop()
    await task
    await app.shutdown()
    stamps = [t for t, _ in request.sent]
    chats = [chat for _, chat in request.sent]
    span = (stamps[-1] - stamps[0]) if len(stamps) > 1 else float("nan")
    return {
        "sent": len(stamps),
        "rate": (len(stamps) - 1) / span if len(stamps) > 1 else 0.0,
        "max_window": max_window(stamps),
        "chats": chats,
        "alert_delay": (request.alert_at - alert_queued) if alert_queued and request.alert_at
        else float("nan"),
        "span": span,
    }  # fmt: skip


def check_delivery(chats: list[int], people: int) -> tuple[int, int]:
    """(lost, duplicated) prompts of the wave: one per person, each to its own chat."""
    prompts = [chat - CHAT_BASE for chat in chats if CHAT_BASE <= chat < CHAT_BASE + people]
    seen = set(prompts)
    return people - len(seen), len(prompts) - len(seen)


# --- main -----------------------------------------------------------------------------------


async def run(people: int, workdir: Path) -> None:
    now = datetime.now(UTC)
    print(f"people: {people}")
    base_rss = rss_mb()
    print(f"baseline_rss_mb: {base_rss:.0f}")

    # One check-in wave as the bot fires it, against the same rows by a bare executemany
    # (two files populated alike). The fired file's outbox is the wave sent below.
    slot = latest_slot(now)
    for name in ("wave", "bare_wave"):
        setup_db = await Database.open(workdir / f"{name}.sqlite3")
        monitored = await populate(setup_db, people, now, slot)
        await setup_db.close()
    wave, fired = await fire_wave(workdir / "wave.sqlite3", slot)
    bare_w = await bare_wave(workdir / "wave.sqlite3", workdir / "bare_wave.sqlite3")
    db = await Database.open(workdir / "wave.sqlite3")
    (prompts,) = await db.fetchone("SELECT COUNT(*) FROM outbox")
    print(f"wave_timers_fired: {fired}")
    print(f"wave_prompts_enqueued: {prompts}")
    print(f"enqueue_wave_s: {wave:.2f}")
    print(f"enqueue_wave_bare_executemany_s: {bare_w:.2f}")
    print(f"enqueue_wave_ratio: {wave / bare_w:.1f}")

    # The outbox alone: enqueue of one prompt per person, against a bare executemany.
    rows_db = await Database.open(workdir / "bare.sqlite3")
    bare = await bare_insert(rows_db, people, now)
    await rows_db.close()
    rows_db = await Database.open(workdir / "rows.sqlite3")
    enqueued = await enqueue_rows(rows_db, people, now)
    await rows_db.close()
    print(f"enqueue_rows_s: {enqueued:.2f}")
    print(f"enqueue_rows_bare_executemany_s: {bare:.2f}")
    print(f"enqueue_rows_ratio: {enqueued / bare:.1f}")

    # Start-up with the load in the file, against an empty file.
    await startup(workdir / "warmup.sqlite3")  # imports, cpca's table: once per process
    empty = await startup(workdir / "empty.sqlite3")
    loaded_db = await Database.open(workdir / "loaded.sqlite3")
    setup_started = time.perf_counter()
    monitored = await populate(loaded_db, people, now, slot + timedelta(days=1))
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

    # The whole wave, the rate raised so that it ends within about a minute; beside it, what
    # a bare send loop achieves on this machine (the ceiling of any worker).
    ceiling = await send_ceiling(workdir / "wave.sqlite3")
    fast_rate = float(max(25, math.ceil(people / 50)))
    result = await run_worker(db, fast_rate, seconds=None, alert_after=people // 2)
    lost, duplicated = check_delivery(result["chats"], people)
    (not_sent,) = await db.fetchone("SELECT COUNT(*) FROM outbox WHERE state != 'sent'")
    print(f"wave_configured_rate: {fast_rate:.0f}")
    print(f"wave_send_s: {result['span']:.1f}")
    print(f"wave_achieved_rate: {result['rate']:.1f}")
    print(f"send_rate_ratio: {result['rate'] / fast_rate:.3f}")
    print(f"send_ceiling_bare_loop_msgs_per_s: {ceiling:.0f}")
    print(f"wave_rate_vs_ceiling: {result['rate'] / ceiling:.3f}")
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
