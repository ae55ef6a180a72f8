"""The fault suite's fixtures: the real bot process against the sandbox server with a crowd
of residents and the Bot API fault knob (``kill -9``, ``test_kill.py``), and the in-process
double with the same knob (``test_api_faults.py``).

``crowd`` starts like tests/e2e's ``live`` (the sandbox server in this test's event loop, a
config copy, ``python -m bot.cli run``) with the residents and outbox settings of the test's
``crowd(n, outbox={...})`` marker: n more residents in the world, each with their own name,
phone and ID number.
"""

from __future__ import annotations

import asyncio
import json
import signal
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from telegram.error import TimedOut

from bot.config import load_config
from bot.domain.parsing import id_check_char
from sandbox.clock import DrillClock
from sandbox.control import SandboxControl
from sandbox.recording import RecordingRequest
from sandbox.regions import SandboxRegions
from sandbox.run import SANDBOX_TOKEN, BotProcess
from sandbox.server import METHODS, Faults, bound_port, make_app, start_server
from sandbox.state import SandboxState
from sandbox.tomlwrite import dump_toml
from sandbox.world import Person
from tests.e2e.conftest import (
    CONFIG,
    DRILL_START,
    ROOT,
    STARTUP_TIMEOUT,
    Live,
    wait_until_polling,
    write_config,
)

CROWD_IDS_FROM = 950_001
_FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
          "涛", "明", "超", "秀英", "桂英", "建华")  # fmt: skip


def crowd_person(index: int) -> Person:
    """Resident ``index`` of the crowd: a unique name, phone and ID number (a valid one: the
    check character computed, born 1960–1999)."""
    name = _FAMILY[index % len(_FAMILY)] + _GIVEN[index // len(_FAMILY) % len(_GIVEN)]
    return Person(f"crowd{index}", CROWD_IDS_FROM + index, f"居民 {name}", "resident",
                  "zh-hans", f"1501234{index:04d}", first_name=name)  # fmt: skip


def crowd_id_number(index: int) -> str:
    first17 = f"500381{1960 + index % 40}0101{index % 1000:03d}"
    return first17 + id_check_char(first17)


@dataclass
class Crowd(Live):
    """The running sandbox and bot process, its fault knob, database and crashes so far."""

    faults: Faults = field(default_factory=Faults)
    database: Path = Path()
    crashes: int = 0
    restarted_at: float = 0.0  # the event loop's time when the bot polled again

    async def crash(self) -> None:
        """``kill -9`` the bot process (nothing it did not commit survives), then start it
        again and wait until it polls."""
        process = self.bot.process
        assert process is not None and process.returncode is None, "the bot is not running"
        self.bot.stopping = True
        process.send_signal(signal.SIGKILL)
        await self.bot.stop()  # reaps the killed process, closes its log
        self.crashes += 1
        polls = self.state.polls
        await self.bot.start()
        await wait_until_polled_again(self, polls)
        self.restarted_at = asyncio.get_running_loop().time()


async def wait_until_polled_again(crowd: Crowd, polls: int) -> None:
    """The restarted bot's first getUpdates has arrived (it is listening again)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT
    while crowd.state.polls <= polls:
        if crowd.bot.exit_code is not None or loop.time() > deadline:
            pytest.fail(f"the bot did not come back after a crash:\n{crowd.log()[-5000:]}")
        await asyncio.sleep(0.05)


def override_config(path: Path, **sections: dict[str, Any]) -> None:
    """Set keys of the config copy ``path`` (e.g. ``outbox={"rate_per_second": 50}``)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for name, values in sections.items():
        data[name] = dict(data.get(name, {})) | values
    path.write_text(dump_toml(data), encoding="utf-8")


def crowd_marker(request: pytest.FixtureRequest) -> tuple[int, dict[str, Any]]:
    marker = request.node.get_closest_marker("crowd")
    if marker is None:
        return 0, {}
    return marker.args[0], dict(marker.kwargs.get("outbox", {}))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "crowd(n, outbox={...}): residents added to the world, outbox settings"
    )


@pytest.fixture
async def crowd(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Crowd]:
    size, outbox = crowd_marker(request)
    async with running_crowd(tmp_path, size, outbox) as live:
        yield live


@asynccontextmanager
async def running_crowd(folder: Path, size: int, outbox: dict[str, Any]) -> AsyncIterator[Crowd]:
    """The sandbox server in this event loop with ``size`` crowd residents, the bot process on
    a config copy in ``folder`` (``outbox`` settings over the example's); afterwards the bot
    must have stopped cleanly on SIGTERM without a traceback in its log."""
    config = load_config(CONFIG)
    clock_file = folder / "clock.json"
    clock = DrillClock(clock_file)
    clock.reset(DRILL_START)
    state = SandboxState.for_token(SANDBOX_TOKEN, clock=clock)
    faults = Faults()
    app = make_app(state, SANDBOX_TOKEN, faults)
    regions = SandboxRegions(config.regions.file, folder / "regions.toml", config.tz)
    control = SandboxControl(state, config, clock, scenarios_dir=ROOT / "scenarios",
                             regions=regions, faults=faults)  # fmt: skip
    control.write_regions()
    for index in range(size):
        person = crowd_person(index)
        control.world.people[person.key] = person
        state.add_user(person.user_id, person.first_name, language_code=person.language)
    runner: web.AppRunner = await start_server(state, SANDBOX_TOKEN, "127.0.0.1", 0, app=app)
    config_copy = folder / "config.toml"
    database = folder / "paicha.sqlite3"
    write_config(config_copy, port=bound_port(runner), database=database, clock=clock_file,
                 regions=regions.target)  # fmt: skip
    if outbox:
        override_config(config_copy, outbox=outbox)
    log_path = folder / "bot.log"
    bot = BotProcess(config_copy, log_path)
    control.bot = bot
    live = Crowd(state, control.world, clock, control, config, bound_port(runner), bot,
                 log_path, faults=faults, database=database)  # fmt: skip
    try:
        await bot.start()
        await wait_until_polling(state, bot, log_path)
        yield live
    finally:
        process = bot.process
        await bot.stop()
        await runner.cleanup()
    log = live.log()
    first = log.find("Traceback")  # the log of 20 restarts is long: show the first one
    assert first < 0, f"the bot logged a traceback:\n{log[max(0, first - 1500) : first + 3500]}"
    assert process is None or process.returncode == 0, (
        f"the bot exited with {process.returncode} after SIGTERM:\n{log[-5000:]}"
    )


# ------------------------------------------------------------------ the in-process double
SENDING = frozenset(name for name, method in METHODS.items() if method.sends)
Send = Callable[..., Awaitable[tuple[int, bytes]]]


def inject_faults(request: RecordingRequest, faults: Faults) -> None:
    """Route the recording double's calls through ``faults``: a sending call may answer an
    error, or be delivered with its answer lost (``TimedOut``, as after a read timeout)."""
    deliver: Send = request.do_request

    async def do_request(url: str, method: str, request_data: Any = None,
                         **timeouts: Any) -> tuple[int, bytes]:  # fmt: skip
        name = url.rsplit("/", 1)[-1]
        fault = faults.draw() if name in SENDING else None
        if fault is None:
            return await deliver(url, method, request_data, **timeouts)
        if fault.error is None:
            await deliver(url, method, request_data, **timeouts)
            raise TimedOut("the answer came after the read timeout")
        return fault.error.error_code, json.dumps(fault.error.to_api()).encode()

    request.do_request = do_request  # type: ignore[method-assign]
