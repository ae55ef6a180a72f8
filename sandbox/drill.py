"""``paicha drill FILE [--speed N]``: play a drill headlessly and say whether it passed.

For trainers checking a drill they wrote, and for CI. Every run is a fresh sandbox in a
temporary folder (database, clock, key regions, config copy, bot log): the sandbox's Bot API
server in this process, the unmodified bot as its own process (as ``paicha sandbox`` runs
it), the seeded town and the scenario player of the page; no page, no browser. It prints one
``✗`` line per failed step (the player stops at the first) and a summary line, and exits 0
only when every step passed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.config import ConfigError, load_config
from bot.runtime import assets
from sandbox.clock import MAX_SPEED, DrillClock
from sandbox.regions import FILE_NAME as REGIONS_FILE
from sandbox.regions import SandboxRegions
from sandbox.run import SANDBOX_TOKEN, BotProcess, sandbox_config
from sandbox.scenario import DEFAULT_TIMEOUT, Player, Scenario, ScenarioError, load_scenario
from sandbox.server import bound_port, start_server
from sandbox.state import SandboxState
from sandbox.world import seed

STARTUP_TIMEOUT = 90.0  # real seconds for the bot to import, migrate and poll (a loaded CI)
LOG_TAIL = 30  # lines of the bot's log shown when the bot, not a step, failed
Say = Callable[[str], None]


@dataclass
class FasterClock:
    """The drill clock as the player sees it, ``factor`` times as fast: every speed the
    drill sets (its ``speed`` and its ``speed`` steps) is multiplied; jumps stay as written."""

    clock: DrillClock
    factor: float

    def now(self) -> datetime:
        return self.clock.now()

    def reset(self, start: datetime | None = None) -> None:
        self.clock.reset(start)
        self.speed(1.0)

    def speed(self, speed: float) -> None:
        self.clock.speed(min(speed * self.factor, MAX_SPEED))

    def jump(self, minutes: float) -> None:
        self.clock.jump(minutes)


def find_drill(name: str) -> Path:
    """``name`` as given, else the packaged drill of that name: ``paicha drill
    scenarios/drill.toml`` works from any folder."""
    given = Path(name)
    for candidate in (given, assets.root() / given, assets.drills() / given.name):
        if candidate.is_file():
            return candidate
    return given  # load_scenario reports it missing


async def _until_polling(state: SandboxState, bot: BotProcess) -> str | None:
    """None once the bot's first getUpdates arrived; else why it never did."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT
    while state.polls == 0:
        if bot.exit_code is not None:
            return f"the bot exited with code {bot.exit_code} before it polled"
        if loop.time() > deadline:
            return f"the bot did not poll within {STARTUP_TIMEOUT:g} s"
        await asyncio.sleep(0.05)
    return None


def _log_tail(path: Path) -> str:
    text = path.read_text(encoding="utf-8") if path.exists() else "(no bot log)"
    return "\n".join(text.splitlines()[-LOG_TAIL:])


async def play_drill(
    drill: Path,
    config_path: Path,
    workdir: Path,
    *,
    speed: float = 1.0,
    timeout: float = DEFAULT_TIMEOUT,
    say: Say = print,
    verbose: bool = False,
) -> int:
    """Play ``drill`` against a fresh sandbox in ``workdir``; the exit status."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        say(f"✗ {config_path}: {exc.problems[0]}")
        return 1
    clock = DrillClock(workdir / "clock.json")
    state = SandboxState.for_token(SANDBOX_TOKEN, clock=clock)
    world = seed(state, config)
    try:
        scenario = load_scenario(drill, world=world)
    except ScenarioError as exc:
        for problem in exc.problems:
            say(f"✗ {problem}")
        return 1
    faster = FasterClock(clock, speed)
    faster.reset(scenario.start or datetime.now(UTC))
    regions = SandboxRegions(config.regions.file, workdir / REGIONS_FILE, config.tz)
    regions.write(clock.now())
    runner = await start_server(state, SANDBOX_TOKEN, "127.0.0.1", 0)
    config_copy = workdir / "config.toml"
    sandbox_config(config_path, config_copy, port=bound_port(runner),
                   database=workdir / "paicha.sqlite3", clock=clock.path,
                   regions=regions.target, poll_timeout=1)  # fmt: skip
    bot = BotProcess(config_copy, workdir / "bot.log")
    try:
        await bot.start()
        problem = await _until_polling(state, bot)
        if problem is not None:
            say(f"✗ {problem}:\n{_log_tail(bot.log_path)}")
            return 1
        return await _play(scenario, Player(state, world, faster, log=_lines(say, verbose),
                                            timeout=timeout), say)  # fmt: skip
    finally:
        await bot.stop()
        state.close()
        await runner.cleanup()


def _lines(say: Say, verbose: bool) -> Say:
    """The player's log as the command prints it: failures always, the rest when verbose."""

    def line(text: str) -> None:
        if verbose or text.startswith("✗"):
            say(text)

    return line


async def _play(scenario: Scenario, player: Player, say: Say) -> int:
    began = time.monotonic()
    passed = await player.play(scenario)
    elapsed = time.monotonic() - began
    total = len(scenario.steps)
    if passed:
        say(f"✓ {scenario.title or 'drill'}: all {total} steps passed in {elapsed:.0f} s")
        return 0
    say(f"■ {scenario.title or 'drill'}: stopped at the failed step after {elapsed:.0f} s")
    return 1


def run_drill(args: argparse.Namespace) -> int:
    """The ``paicha drill`` command."""
    if not 0 < args.speed <= MAX_SPEED:
        print(f"paicha drill: --speed must be above 0 and at most {MAX_SPEED:g}", file=sys.stderr)
        return 2
    config = Path(args.config) if args.config else assets.example_config()
    # the access log would print every long poll of the bot
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="paicha-drill-") as tmp:
        try:
            return asyncio.run(
                play_drill(
                    find_drill(args.file),
                    config,
                    Path(tmp),
                    speed=args.speed,
                    timeout=args.timeout,
                    verbose=args.verbose,
                    say=lambda line: print(line, flush=True),
                )
            )
        except KeyboardInterrupt:
            return 130


def add_command(sub: argparse._SubParsersAction) -> None:
    """``paicha drill``, registered under the ``paicha.commands`` entry point."""
    d = sub.add_parser("drill", help="play a drill headlessly against a fresh sandbox; exit 0 "
                       "only if every step passed")  # fmt: skip
    d.add_argument("file", help="drill TOML (a packaged one by name too: scenarios/drill.toml)")
    d.add_argument("--speed", type=float, default=1.0,
                   help="multiply the drill's clock speed (default: %(default)s)")  # fmt: skip
    d.add_argument("--config", help="TOML (default: the packaged config.example.toml)")
    d.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help="real seconds a step waits for the bot (default: %(default)s)")  # fmt: skip
    d.add_argument("-v", "--verbose", action="store_true", help="print every step, not only "
                   "the failed ones")  # fmt: skip
    d.set_defaults(run_command=run_drill)
