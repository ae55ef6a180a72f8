"""How long does a crowd of residents wait for the bot, and what does an arrival update cost next
to python-telegram-bot's bare echo bot?

Everything goes through the bot as it runs in production: the application started (without
the updater), each update put on ``Application.update_queue``, the configured update processor
taking it from there, and a Bot API double that answers after ``--rtt-ms`` (half of it on the
way to Telegram, half on the way back). N residents press /arrive at the same moment, then each
goes through the whole conversation (22 updates), answering when the bot has handled the
previous answer; every step is stored durably in SQLite.

- answer_crowd_p50_ms / answer_crowd_max_ms: from a resident's /arrive put on the queue to
  Telegram receiving the bot's first message to that chat, all N at once; beside
  answer_alone_ms, the same for one resident with nobody else about, in the same run, and
  answer_target_ms (two round trips plus 50 ms);
- p50_ms / p99_ms: from an update put on the queue to the bot having handled it;
- cost_ratio: the echo bot's updates per second over the arrival flow's, the same residents
  sending as many updates through the same double (meaningful with ``--rtt-ms 0``: the cost
  of the code, not of the network).

Prints one ``name: value`` line per figure; each round alternates the two bots and the best
round is shown.

    python bench/arrival.py [--residents 200] [--rtt-ms 0]
    python bench/arrival.py --residents 100 --rtt-ms 150
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_application  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.domain.parsing import id_check_char  # noqa: E402
from bot.runtime.clock import ManualClock  # noqa: E402
from sandbox.recording import RecordingRequest, UpdateFactory  # noqa: E402
from storage.db import Database  # noqa: E402

TOKEN = "123456:BENCH"
# the database is thrown away after each run: any data key will do (unless one is set)
os.environ.setdefault("PAICHA_DATA_KEY", "0" * 64)
LAST_GROUP = 1_000  # after every handler of the bot: the update has been handled
# residents pressing /arrive one after another with nobody else about (the first warms the
# caches up and is left out)
ALONE = range(990, 996)
# One resident's answers: ("text", value) is typed, ("button", label part) is pressed.
SCRIPT = (
    ("text", "/arrive"),
    ("button", "本人"),
    ("text", "张三"),
    ("text", "{phone}"),
    ("text", "{id_number}"),
    ("button", "国内"),
    ("text", "湖北省武汉市江汉区"),
    ("button", "对的"),
    ("button", "没有途经"),
    ("text", "10月25日"),
    ("button", "火车"),
    ("text", "G1234"),
    ("button", "先锋社区"),
    ("button", "第1网格"),
    ("text", "先锋街12号2单元301"),
    ("button", "三返"),
    ("button", "绿码"),
    ("button", "没有做过"),
    ("text", "36.5"),
    ("button", "以上都没有"),
    ("button", "没有"),
    ("button", "确认提交"),
)


@dataclass
class SlowRequest(RecordingRequest):
    """The recording double, ``rtt`` seconds away; tells ``answered[chat]`` when a message to
    that chat reaches Telegram."""

    rtt: float = 0.0
    answered: dict[int, asyncio.Future[float]] = field(default_factory=dict)

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any,
                         **kwargs: Any) -> tuple[int, bytes]:  # fmt: skip
        await asyncio.sleep(self.rtt / 2)
        if url.endswith("/sendMessage") and request_data is not None:
            chat = int(request_data.json_parameters.get("chat_id", 0))
            waiter = self.answered.pop(chat, None)
            if waiter is not None:
                waiter.set_result(time.perf_counter())
        answer = await super().do_request(url, method, request_data, *args, **kwargs)
        await asyncio.sleep(self.rtt / 2)
        return answer


@dataclass
class Running:
    """A started application fed through its update queue."""

    app: Application
    request: SlowRequest
    factory: UpdateFactory = field(default_factory=UpdateFactory)
    handled: dict[int, asyncio.Future[float]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app.add_handler(TypeHandler(Update, self._handled), group=LAST_GROUP)

    async def _handled(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self.handled.pop(update.update_id).set_result(time.perf_counter())

    async def put(self, payload: dict, answer_of: int | None = None) -> float:
        """Put an update on the queue and wait until it is handled; returns how long that
        took or, with ``answer_of``, how long the bot's first message to that chat took to
        reach Telegram."""
        loop = asyncio.get_running_loop()
        handled = self.handled[payload["update_id"]] = loop.create_future()
        answered = handled
        if answer_of is not None:
            answered = self.request.answered[answer_of] = loop.create_future()
        started = time.perf_counter()
        await self.app.update_queue.put(Update.de_json(payload, self.app.bot))
        self.latencies.append(await handled - started)
        return await answered - started


@asynccontextmanager
async def running(app: Application, request: SlowRequest) -> AsyncIterator[Running]:
    bench = Running(app, request)
    await app.initialize()
    await app.start()
    try:
        yield bench
    finally:
        await app.stop()
        await app.shutdown()


def _button(request: RecordingRequest, chat_id: int, label: str) -> str:
    for text, data in request.keyboards.get(chat_id, []):
        if label in text:
            return data
    raise RuntimeError(f"resident {chat_id}: no button {label!r}")


async def arrive_alone(bench: Running, user_id: int) -> float:
    user = bench.factory.user(user_id)
    return await bench.put(bench.factory.message(user, 1_600_000_000, text="/arrive"), user_id)


async def resident(bench: Running, user_id: int, clock: ManualClock) -> float:
    """One resident's whole report; returns how long the answer to /arrive took."""
    user = bench.factory.user(user_id)
    first17 = f"11010519800101{user_id % 1000:03d}"
    answers = {"id_number": first17 + id_check_char(first17), "phone": f"138{user_id:08d}"}
    stamp = int(clock.now().timestamp())
    first = await bench.put(bench.factory.message(user, stamp, text="/arrive"), user_id)
    for kind, value in SCRIPT[1:]:
        value = value.format(**answers)
        if kind == "text":
            payload = bench.factory.message(user, stamp, text=value)
        else:
            payload = bench.factory.callback(user, stamp, _button(bench.request, user_id, value))
        await bench.put(payload)
    return first


@dataclass
class Round:
    elapsed: float
    latencies: list[float]
    answers: list[float] = field(default_factory=list)
    alone: float = 0.0
    stored: int = 0


async def run_arrival(residents: int, rtt: float, workdir: Path) -> Round:
    config = load_config(ROOT / "config.example.toml")
    clock = ManualClock(datetime(2020, 10, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    db = await Database.open(workdir / "bench.sqlite3")
    request = SlowRequest(record=False, rtt=rtt)
    app = build_application(config, TOKEN, db, clock, request=request, start_outbox=False)
    async with running(app, request) as bench:
        alone = [await arrive_alone(bench, user_id) for user_id in ALONE][1:]
        bench.latencies.clear()
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(resident(bench, 1000 + i, clock) for i in range(residents))
        )
        elapsed = time.perf_counter() - started
    (stored,) = await db.fetchone("SELECT COUNT(*) FROM reports")
    await db.close()
    return Round(elapsed, bench.latencies, answers, statistics.median(alone), stored)


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(update.effective_message.text)


async def run_echo(updates: int, residents: int, rtt: float, concurrency: int) -> Round:
    request = SlowRequest(record=False, remember_keyboards=False, rtt=rtt)
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(request)
        .get_updates_request(request)
        .concurrent_updates(concurrency)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    per_resident = updates // residents

    async def chatter(bench: Running, user_id: int) -> None:
        user = bench.factory.user(user_id)
        for i in range(per_resident):
            await bench.put(bench.factory.message(user, 1_600_000_000, text=f"echo {i}"))

    async with running(app, request) as bench:
        started = time.perf_counter()
        await asyncio.gather(*(chatter(bench, 1000 + i) for i in range(residents)))
        elapsed = time.perf_counter() - started
    return Round(elapsed, bench.latencies)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def fastest(runs: list[Round]) -> Round:
    return min(runs, key=lambda run: run.elapsed)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def report(residents: int, rtt_ms: float, arrival: Round, echo: Round) -> list[tuple[str, str]]:
    arrival_rate = len(arrival.latencies) / arrival.elapsed
    echo_rate = len(echo.latencies) / echo.elapsed
    return [
        ("residents", str(residents)),
        ("rtt_ms", f"{rtt_ms:g}"),
        ("answer_alone_ms", _ms(arrival.alone)),
        ("answer_crowd_p50_ms", _ms(statistics.median(arrival.answers))),
        ("answer_crowd_max_ms", _ms(max(arrival.answers))),
        ("answer_target_ms", f"{2 * rtt_ms + 50:g}"),
        ("reports_stored", str(arrival.stored)),
        ("updates", str(len(arrival.latencies))),
        ("arrival_updates_per_s", f"{arrival_rate:.0f}"),
        ("echo_updates_per_s", f"{echo_rate:.0f}"),
        ("cost_ratio", f"{echo_rate / arrival_rate:.2f}"),
        ("p50_ms", _ms(percentile(arrival.latencies, 50))),
        ("p99_ms", _ms(percentile(arrival.latencies, 99))),
        ("echo_p50_ms", _ms(percentile(echo.latencies, 50))),
        ("echo_p99_ms", _ms(percentile(echo.latencies, 99))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="Bot API round trip")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs; best of each")
    args = parser.parse_args()
    config = load_config(ROOT / "config.example.toml")
    rtt = args.rtt_ms / 1000
    arrival_runs, echo_runs = [], []
    for _ in range(args.rounds):  # alternate, so both see the same load on a shared machine
        with tempfile.TemporaryDirectory() as tmp:
            arrival_runs.append(asyncio.run(run_arrival(args.residents, rtt, Path(tmp))))
        updates = len(arrival_runs[-1].latencies)
        concurrency = config.bot.concurrent_updates
        echo_runs.append(asyncio.run(run_echo(updates, args.residents, rtt, concurrency)))
    figures = report(args.residents, args.rtt_ms, fastest(arrival_runs), fastest(echo_runs))
    for name, value in figures:
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
