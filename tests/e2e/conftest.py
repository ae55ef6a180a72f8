"""End to end: the real bot as its own process (``python -m bot.cli run``) against the
sandbox Bot API server over HTTP, the way ``paicha sandbox`` runs them.

The ``live`` fixture starts the sandbox server in this test's event loop on an ephemeral
port (the town of config.example.toml seeded by sandbox/world.py, the web page too),
writes a config copy pointing at a temporary SQLite file, that server and a drill clock
file, launches the bot and waits until it polls. Teardown stops the bot (SIGTERM, then kill)
and fails the test when the bot's log shows a traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiohttp import web

from bot.config import Config, load_config
from sandbox.clock import DrillClock
from sandbox.control import SandboxControl
from sandbox.page import add_page_routes
from sandbox.regions import SandboxRegions
from sandbox.run import SANDBOX_TOKEN, BotProcess, sandbox_config
from sandbox.scenario import Player
from sandbox.server import bound_port, make_app, start_server
from sandbox.state import Message, SandboxState
from sandbox.world import World

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config.example.toml"
CST = timezone(timedelta(hours=8))
# data/regions.toml: 喀什 is a high-risk region from 2020-10-24 to 2020-12-31 (the sandbox's
# copy moves it to the clock's start: on this day, not at all)
DRILL_START = datetime(2020, 11, 20, 9, 0, tzinfo=CST)
STARTUP_TIMEOUT = 60.0  # real seconds for the bot to import, migrate and poll (loaded CI)
WAIT = 45.0  # real seconds a step waits for the bot's answer


@dataclass
class Live:
    """The running sandbox and bot of one test."""

    state: SandboxState
    world: World
    clock: DrillClock
    control: SandboxControl
    config: Config
    port: int
    bot: BotProcess
    log_path: Path
    lines: list[str] = field(default_factory=list)  # the player's step log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def player(self, timeout: float = WAIT) -> Player:
        return Player(self.state, self.world, self.clock, log=self.lines.append, timeout=timeout)

    def chat_id(self, key: str) -> int:
        return self.world.chat_keys()[key]

    def messages(self, key: str) -> list[Message]:
        return self.state.messages(self.chat_id(key))

    def texts(self, key: str) -> list[str]:
        return [m.text or m.caption or "" for m in self.messages(key)]

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""


async def wait_until_polling(state: SandboxState, bot: BotProcess, log_path: Path) -> None:
    """The bot's first getUpdates has reached the server (it is listening), or fail fast
    with the log when the process has exited."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT
    while state.polls == 0:
        if bot.exit_code is not None or bot.process is None:
            log = log_path.read_text(encoding="utf-8")
            pytest.fail(f"the bot exited with code {bot.exit_code} before polling:\n{log}")
        if loop.time() > deadline:
            pytest.fail(f"the bot did not poll within {STARTUP_TIMEOUT:g} s:\n"
                        f"{log_path.read_text(encoding='utf-8')}")  # fmt: skip
        await asyncio.sleep(0.05)


def write_config(target: Path, *, port: int, database: Path, clock: Path, regions: Path) -> None:
    """config.example.toml for the sandbox, with a 1 s long poll so shutdown is quick."""
    sandbox_config(CONFIG, target, port=port, database=database, clock=clock, regions=regions,
                   poll_timeout=1)  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clock(start): the drill clock's start (default 09:00)")


@pytest.fixture
async def live(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Live]:
    config = load_config(CONFIG)
    clock_file = tmp_path / "clock.json"
    clock = DrillClock(clock_file)
    marker = request.node.get_closest_marker("clock")
    clock.reset(marker.args[0] if marker else DRILL_START)
    state = SandboxState.for_token(SANDBOX_TOKEN, clock=clock)
    app = make_app(state, SANDBOX_TOKEN)
    regions = SandboxRegions(config.regions.file, tmp_path / "regions.toml", config.tz)
    control = SandboxControl(
        state, config, clock, scenarios_dir=ROOT / "scenarios", regions=regions
    )
    control.write_regions()
    add_page_routes(app, state, control)
    runner: web.AppRunner = await start_server(state, SANDBOX_TOKEN, "127.0.0.1", 0, app=app)
    port = bound_port(runner)
    config_copy = tmp_path / "config.toml"
    write_config(config_copy, port=port, database=tmp_path / "paicha.sqlite3", clock=clock_file,
                 regions=regions.target)  # fmt: skip
    log_path = tmp_path / "bot.log"
    bot = BotProcess(config_copy, log_path)
    control.bot = bot
    sandbox = Live(state, control.world, clock, control, config, port, bot, log_path)
    try:
        await bot.start()
        await wait_until_polling(state, bot, log_path)
        yield sandbox
    finally:
        process = bot.process
        await bot.stop()
        await runner.cleanup()
    log = sandbox.log()
    assert "Traceback" not in log, f"the bot logged a traceback:\n{log}"
    assert process is None or process.returncode == 0, (
        f"the bot exited with {process.returncode} after SIGTERM:\n{log}"
    )
