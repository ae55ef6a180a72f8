"""How much does the arrival flow cost per update, next to python-telegram-bot's bare echo bot?

N simulated residents go through the whole conversation concurrently, through the real PTB
pipeline and the in-process Bot API double, with durable SQLite persistence of every step.
The baseline is the framework's floor: an echo bot on the same double, handling the same
number of updates, in the same run. Prints one ``name: value`` line per figure.

    python bench/arrival.py [--residents 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_application  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.domain.parsing import id_check_char  # noqa: E402
from bot.runtime.clock import ManualClock  # noqa: E402
from sandbox.recording import RecordingRequest, UpdateFactory  # noqa: E402
from storage.db import Database  # noqa: E402

TOKEN = "123456:BENCH"
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


async def _timed(app: Application, payload: dict, latencies: list[float]) -> None:
    update = Update.de_json(payload, app.bot)
    started = time.perf_counter()
    await app.process_update(update)
    latencies.append(time.perf_counter() - started)


def _button(request: RecordingRequest, chat_id: int, label: str) -> str:
    for text, data in request.keyboards.get(chat_id, []):
        if label in text:
            return data
    raise RuntimeError(f"resident {chat_id}: no button {label!r}")


async def resident(
    app: Application,
    request: RecordingRequest,
    factory: UpdateFactory,
    user_id: int,
    clock: ManualClock,
    latencies: list[float],
) -> None:
    user = factory.user(user_id)
    first17 = f"11010519800101{user_id % 1000:03d}"
    answers = {"id_number": first17 + id_check_char(first17), "phone": f"138{user_id:08d}"}
    for kind, value in SCRIPT:
        value = value.format(**answers)
        stamp = int(clock.now().timestamp())
        if kind == "text":
            payload = factory.message(user, stamp, text=value)
        else:
            payload = factory.callback(user, stamp, _button(request, user_id, value))
        await _timed(app, payload, latencies)


async def run_arrival(residents: int, workdir: Path) -> tuple[float, list[float], int]:
    config = load_config(ROOT / "config.example.toml")
    clock = ManualClock(datetime(2020, 10, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    db = await Database.open(workdir / "bench.sqlite3")
    request = RecordingRequest(record=False)
    app = build_application(config, TOKEN, db, clock, request=request, start_outbox=False)
    await app.initialize()
    factory = UpdateFactory()
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(resident(app, request, factory, 1000 + i, clock, latencies) for i in range(residents))
    )
    elapsed = time.perf_counter() - started
    (stored,) = await db.fetchone("SELECT COUNT(*) FROM reports")
    await app.shutdown()
    await db.close()
    return elapsed, latencies, stored


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(update.effective_message.text)


async def run_echo(updates: int, residents: int) -> tuple[float, list[float]]:
    request = RecordingRequest(record=False)
    app = ApplicationBuilder().token(TOKEN).request(request).get_updates_request(request).build()
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    await app.initialize()
    factory = UpdateFactory()
    latencies: list[float] = []
    per_resident = updates // residents

    async def chatter(user_id: int) -> None:
        user = factory.user(user_id)
        for i in range(per_resident):
            await _timed(app, factory.message(user, 1_600_000_000, text=f"echo {i}"), latencies)

    started = time.perf_counter()
    await asyncio.gather(*(chatter(1000 + i) for i in range(residents)))
    elapsed = time.perf_counter() - started
    await app.shutdown()
    return elapsed, latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs; best of each")
    args = parser.parse_args()
    arrival_runs, echo_runs = [], []
    for _ in range(args.rounds):  # alternate, so both see the same load on a shared machine
        with tempfile.TemporaryDirectory() as tmp:
            arrival_runs.append(asyncio.run(run_arrival(args.residents, Path(tmp))))
        updates = len(arrival_runs[-1][1])
        echo_runs.append(asyncio.run(run_echo(updates, args.residents)))
    elapsed, latencies, stored = min(arrival_runs, key=lambda run: run[0])
    echo_elapsed, echo_latencies = min(echo_runs, key=lambda run: run[0])
    arrival_rate = len(latencies) / elapsed
    echo_rate = len(echo_latencies) / echo_elapsed
    print(f"residents: {args.residents}")
    print(f"reports_stored: {stored}")
    print(f"updates: {len(latencies)}")
    print(f"arrival_updates_per_s: {arrival_rate:.0f}")
    print(f"echo_updates_per_s: {echo_rate:.0f}")
    print(f"cost_ratio: {echo_rate / arrival_rate:.2f}")
    print(f"p50_ms: {percentile(latencies, 50) * 1000:.2f}")
    print(f"p99_ms: {percentile(latencies, 99) * 1000:.2f}")
    print(f"echo_p50_ms: {percentile(echo_latencies, 50) * 1000:.2f}")
    print(f"echo_p99_ms: {percentile(echo_latencies, 99) * 1000:.2f}")


if __name__ == "__main__":
    main()
