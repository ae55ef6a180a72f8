"""What the web page can do besides chatting: reset the world, play a drill, read its log.

``SandboxControl`` owns the seeded world, the drill clock, the drill player and (when the
sandbox runs the real bot) the bot process, which a reset stops and starts again around a
fresh database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from bot.config import Config
from sandbox.clock import DrillClock
from sandbox.regions import SandboxRegions
from sandbox.scenario import Player, Scenario, load_scenario
from sandbox.server import Faults
from sandbox.state import SandboxState, Signal
from sandbox.world import World, reset_state, seed

log = logging.getLogger("paicha.sandbox")
LOG_LIMIT = 500


class BotRunner(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def status(self) -> dict[str, Any]: ...


class SandboxControl:
    def __init__(
        self,
        state: SandboxState,
        config: Config,
        clock: DrillClock,
        *,
        world: World | None = None,
        scenarios_dir: Path | None = None,
        database: Path | None = None,
        bot: BotRunner | None = None,
        start: datetime | None = None,
        player_timeout: float | None = None,
        regions: SandboxRegions | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.state, self.config, self.clock = state, config, clock
        # the Bot API fault knob of the server (make_app's): a reset clears it
        self.faults = faults or Faults()
        self.world = world if world is not None else seed(state, config)
        self.scenarios_dir = scenarios_dir
        self.database = database
        self.bot = bot
        self.start = start
        self.player_timeout = player_timeout
        self.regions = regions
        self.epoch = 1
        self.lines: list[str] = []
        self.log_version = 0
        self.drill: asyncio.Task[bool] | None = None
        self.drill_name: str | None = None
        self.reset_signal = Signal()
        self._lock = asyncio.Lock()
        self.listeners: list[Callable[[str], None]] = []

    # ------------------------------------------------------------ log
    def say(self, line: str) -> None:
        """One line in the drill log the page shows (and the terminal, via listeners)."""
        stamp = self.clock.now().astimezone(self.config.tz).strftime("%m-%d %H:%M")
        self.lines.append(f"[{stamp}] {line}")
        del self.lines[:-LOG_LIMIT]
        self.log_version += 1
        for listener in self.listeners:
            listener(line)
        self.state.changed.fire()

    # ------------------------------------------------------------ reset
    async def reset(self, start: datetime | None = None) -> None:
        """Stop the drill and the bot, forget every message and the sandbox database, put
        the clock back, write the key regions for it, seed the town again, start the bot."""
        async with self._lock:
            await self.stop_drill()
            if self.bot is not None:
                await self.bot.stop()
            if self.database is not None:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{self.database}{suffix}").unlink(missing_ok=True)
            self.clock.reset(start or self.start)
            self.faults.set(rate=0.0, outage=False)
            self.write_regions()
            self.epoch += 1
            self.reset_signal.fire()
            self.world = reset_state(self.state, self.config)
            self.lines.clear()
            self.log_version += 1
            self.say("sandbox reset: fresh database, clock at speed 1")
            if self.bot is not None:
                await self.bot.start()

    def write_regions(self) -> None:
        """The sandbox's key-regions file, around the clock's start (see sandbox/regions.py)."""
        if self.regions is not None:
            self.regions.write(self.clock.now())

    def regions_in_force(self) -> dict[str, Any] | None:
        if self.regions is None:
            return None
        return self.regions.in_force(self.clock.now().astimezone(self.config.tz).date())

    # ------------------------------------------------------------ drills
    def scenarios(self) -> list[str]:
        if self.scenarios_dir is None or not self.scenarios_dir.is_dir():
            return []
        return sorted(p.name for p in self.scenarios_dir.glob("*.toml"))

    def load(self, name: str) -> Scenario:
        """A scenario file of the scenarios folder, validated against this world."""
        if self.scenarios_dir is None or name not in self.scenarios():
            raise FileNotFoundError(f"no scenario {name!r}")
        return load_scenario(self.scenarios_dir / name, world=self.world)

    async def play(self, name: str, *, fresh: bool = True) -> None:
        """Start a drill in the background (after a reset when ``fresh``); validation
        problems raise ScenarioError before anything changes."""
        scenario = self.load(name)
        await self.stop_drill()
        if fresh:
            await self.reset(scenario.start)
        kwargs: dict[str, Any] = {}
        if self.player_timeout is not None:
            kwargs["timeout"] = self.player_timeout
        player = Player(self.state, self.world, self.clock, log=self.say, **kwargs)
        self.drill_name = name
        self.drill = asyncio.create_task(self._play(player, scenario))

    async def _play(self, player: Player, scenario: Scenario) -> bool:
        try:
            return await player.play(scenario)
        except asyncio.CancelledError:
            self.say("■ drill stopped by hand")
            raise
        except Exception as exc:  # a bug in the player must not take the sandbox down
            log.exception("drill crashed")
            self.say(f"✗ drill crashed: {exc!r}")
            return False

    async def stop_drill(self) -> None:
        task, self.drill = self.drill, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def drill_running(self) -> bool:
        return self.drill is not None and not self.drill.done()

    def bot_status(self) -> dict[str, Any]:
        return self.bot.status() if self.bot is not None else {"state": "external"}
