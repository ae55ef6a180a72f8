"""What survives kill -9 and a bad network: the fault suite's two scenarios at a larger size
than the tests (tests/faults/), with their figures.

- kill -9: the real bot process (``python -m bot.cli run``) against the sandbox Bot API
  server over HTTP; ``--residents`` open the arrival form at once, ``--completing`` of them
  submit it, a wave of queued messages goes out, and the process is killed ``--crashes``
  times at seeded points of the crowd's progress and started again each time. Counts:
  reports stored against receipts shown (lost, duplicated), conversations that did not
  resume, queued messages never delivered or delivered twice (max repeats after one crash,
  against ``outbox.concurrency``), answers residents had to give again after a crash (their
  update was confirmed to Telegram by python-telegram-bot before it was handled).
- a bad network: the application's outbox worker in process on an injected clock, 10% of
  the Bot API's answers 429 / 500 / 502 / lost after delivery, then a 10-minute outage with
  alerts raised during it. Counts: alerts lost, rows given up, p50 and max (virtual) seconds
  from the recovery to the delivery of the alerts waiting then.

Prints one ``name: value`` line per figure.

    python bench/faults.py [--residents 400] [--completing 40] [--crashes 30] [--seed 11]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.runtime.clock import ManualClock  # noqa: E402
from tests.conftest import example_config  # noqa: E402  (also: the test data key)
from tests.faults.conftest import running_crowd  # noqa: E402
from tests.faults.test_api_faults import run_faults  # noqa: E402
from tests.faults.test_kill import CONCURRENCY, run_crashes  # noqa: E402
from tests.faults.test_random_updates import START  # noqa: E402
from tests.harness import Harness  # noqa: E402


async def kill_figures(residents: int, completing: int, crashes: int, seed: int) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        async with running_crowd(Path(folder), residents, {"concurrency": CONCURRENCY}) as crowd:
            figures = await run_crashes(crowd, residents, completing, crashes, seed)
    lines = figures.lines()
    lines.insert(lines.index(next(x for x in lines if x.startswith("repeats_per_crash"))) + 1,
                 f"outbox_concurrency: {CONCURRENCY}")  # fmt: skip
    return lines + [f"stuck: {line}" for line in figures.stuck[:10]]


async def network_figures(alerts: int, notices: int, seed: int) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        h = await Harness.start(example_config(Path(folder)), Path(folder) / "p.sqlite3",
                                ManualClock(START))  # fmt: skip
        try:
            outcome = await run_faults(h, alerts=alerts, notices=notices, seed=seed)
        finally:
            await h.stop()
    return outcome.lines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=400)
    parser.add_argument("--completing", type=int, default=40, help="residents who submit")
    parser.add_argument("--crashes", type=int, default=30)
    parser.add_argument("--alerts", type=int, default=200, help="before the outage, and during")
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.CRITICAL)  # the retries' warnings are the point here
    for line in asyncio.run(network_figures(args.alerts, args.notices, args.seed)):
        print(line, flush=True)
    kill = kill_figures(args.residents, args.completing, args.crashes, args.seed)
    for line in asyncio.run(kill):
        print(line, flush=True)


if __name__ == "__main__":
    main()
