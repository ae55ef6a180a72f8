"""``paicha sandbox``: the sandbox Bot API server, the web chat page and the real bot.

The bot runs unmodified, as its own process (``python -m bot.cli run``), on a copy of the
config whose database, Bot API address and clock file point into the sandbox folder
(default ``var/sandbox/`` under the current directory): the production database is never
opened. Without ``--config`` it plays the example town, config.example.toml as packaged
(bot/runtime/assets.py): no file of the current directory is needed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import signal
import sys
import tomllib
from pathlib import Path
from typing import Any, TextIO

import bot
from bot.config import ConfigError, load_config
from bot.runtime import assets
from sandbox.clock import DrillClock
from sandbox.control import SandboxControl
from sandbox.page import add_page_routes
from sandbox.regions import FILE_NAME as REGIONS_FILE
from sandbox.regions import SandboxRegions
from sandbox.server import make_app, start_server
from sandbox.state import SandboxState
from sandbox.tomlwrite import dump_toml

SANDBOX_TOKEN = "123456:SANDBOX"
# Where ``bot`` was imported from (a checkout, mutants/, site-packages): the bot process
# imports the same copy.
SOURCE = Path(bot.__file__).resolve().parents[1]
STOP_TIMEOUT = 10.0


# ---------------------------------------------------------------- the config copy
def _absolute_paths(value: Any, base: Path) -> Any:
    """Relative file paths of the original config, made absolute: the copy lives in
    another folder. A string counts as a path when it names an existing file there."""
    if isinstance(value, dict):
        return {k: _absolute_paths(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_absolute_paths(v, base) for v in value]
    if isinstance(value, str) and value and not Path(value).is_absolute():
        candidate = base / value
        with contextlib.suppress(OSError, ValueError):
            if ("/" in value or "." in value) and candidate.exists():
                return str(candidate.resolve())
    return value


def sandbox_config(source: Path, target: Path, *, port: int, database: Path, clock: Path,
                   regions: Path | None = None, poll_timeout: int = 10) -> None:  # fmt: skip
    """Write ``target``: ``source`` with the sandbox's database, Bot API, clock and (when
    given) key-regions file; a long poll of at most ``poll_timeout`` seconds (a stop waits
    for it)."""
    data = tomllib.loads(source.read_text(encoding="utf-8"))
    data = _absolute_paths(data, source.resolve().parent)
    bot = dict(data.get("bot", {}))
    bot.update(
        api_base_url=f"http://127.0.0.1:{port}/bot",
        api_file_url=f"http://127.0.0.1:{port}/file/bot",
        database=str(database.resolve()),
        clock_file=str(clock.resolve()),
        data_key_file=str(sandbox_key(target.parent).resolve()),
        poll_timeout_seconds=min(int(bot.get("poll_timeout_seconds", 10)), poll_timeout),
    )
    data["bot"] = bot
    if regions is not None:
        data["regions"] = dict(data.get("regions", {})) | {"file": str(regions.resolve())}
    header = f"# Written by `paicha sandbox` from {source.resolve()}; rewritten at every start.\n"
    target.write_text(header + dump_toml(data), encoding="utf-8")


def sandbox_key(folder: Path) -> Path:
    """The sandbox's data key file (storage/cipher.py), in its folder, readable by this user
    only: nothing to set by hand. It holds the key of the environment (PAICHA_DATA_KEY) when
    there is one, so that what opens the sandbox's database from outside (the tests, the
    fault suite) opens it with that key; else a key of its own, made once."""
    path, key = folder / "data.key", os.environ.get("PAICHA_DATA_KEY", "").strip()
    if key or not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write((key or secrets.token_hex(32)) + "\n")  # as `paicha new-key` makes one
    return path


# ---------------------------------------------------------------- the bot process
class BotProcess:
    """``python -m bot.cli run --config <copy>`` with the sandbox token; output to a log."""

    def __init__(self, config: Path, log_path: Path, *, token: str = SANDBOX_TOKEN,
                 on_exit: Any = None) -> None:  # fmt: skip
        self.config, self.log_path, self.token = config, log_path, token
        self.process: asyncio.subprocess.Process | None = None
        self.stopping = False
        self.on_exit = on_exit
        self._watch: asyncio.Task[None] | None = None
        self._log: TextIO | None = None
        self.exit_code: int | None = None

    async def start(self) -> None:
        if self.process is not None and self.process.returncode is None:
            return
        env = dict(os.environ)
        env["PAICHA_BOT_TOKEN"] = self.token
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        self._log = self.log_path.open("a", encoding="utf-8")
        self._log.write(f"--- bot started {dt.datetime.now().isoformat(timespec='seconds')}\n")
        self._log.flush()
        self.stopping, self.exit_code = False, None
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", "--config", str(self.config.resolve()),
            cwd=self.config.resolve().parent, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log, stderr=self._log,
            start_new_session=True,  # Ctrl-C reaches the sandbox, which stops the bot in order
        )  # fmt: skip
        self._watch = asyncio.create_task(self._wait(self.process))

    async def _wait(self, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        self.exit_code = code
        if not self.stopping and self.on_exit is not None:
            self.on_exit(code)

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        self.stopping = True
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._watch is not None:
            await self._watch
        if self._log is not None:
            self._log.close()
            self._log = None

    def status(self) -> dict[str, Any]:
        if self.process is not None and self.process.returncode is None:
            return {"state": "running", "pid": self.process.pid, "log": str(self.log_path)}
        return {"state": "stopped", "exit_code": self.exit_code, "log": str(self.log_path)}


# ---------------------------------------------------------------- the command
async def serve_sandbox(
    config_path: Path,
    *,
    port: int = 8080,
    workdir: Path = Path("var/sandbox"),
    host: str = "127.0.0.1",
    scenarios_dir: Path | None = None,
    start: dt.datetime | None = None,
    run_bot: bool = True,
    stop: asyncio.Event | None = None,
) -> int:
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"paicha sandbox: {config_path}: {exc.problems[0]}", file=sys.stderr)
        return 1
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=config.tz)
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "paicha-sandbox.sqlite3"
    clock_file = workdir / "clock.json"
    config_copy = workdir / "config.toml"
    regions = SandboxRegions(config.regions.file, workdir / REGIONS_FILE, config.tz)
    if scenarios_dir is None:  # the config's own drills, else the packaged ones
        scenarios_dir = next(
            (d for d in (config_path.resolve().parent / "scenarios", assets.drills())
             if d.is_dir()), assets.drills())  # fmt: skip

    # the access log would print every long poll of the bot and of the page
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    clock = DrillClock(clock_file)
    clock.reset(start)
    for suffix in ("", "-wal", "-shm", "-journal"):  # a sandbox starts on a fresh database
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    state = SandboxState.for_token(SANDBOX_TOKEN, clock=clock)
    app = make_app(state, SANDBOX_TOKEN)
    bot: BotProcess | None = None
    control = SandboxControl(
        state, config, clock, scenarios_dir=scenarios_dir, database=database, start=start,
        regions=regions,
    )  # fmt: skip
    control.write_regions()
    control.listeners.append(lambda line: print(f"drill: {line}", flush=True))
    add_page_routes(app, state, control)
    try:
        runner = await start_server(state, SANDBOX_TOKEN, host, port, app=app)
    except OSError as exc:
        print(f"paicha sandbox: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    actual_port = int(runner.addresses[0][1])
    sandbox_config(config_path, config_copy, port=actual_port, database=database,
                   clock=clock_file, regions=regions.target)  # fmt: skip

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    def bot_exited(code: int) -> None:
        control.say(f"✗ the bot exited with code {code}: see {bot.log_path if bot else ''}")
        print(f"paicha sandbox: the bot exited with code {code}; see {workdir / 'bot.log'}",
              file=sys.stderr, flush=True)  # fmt: skip

    if run_bot:
        bot = BotProcess(config_copy, workdir / "bot.log", on_exit=bot_exited)
        control.bot = bot
        await bot.start()
    print(f"paicha sandbox: open http://{host}:{actual_port}", flush=True)
    print(f"paicha sandbox: database {database}, bot log {workdir / 'bot.log'}; Ctrl-C stops",
          flush=True)  # fmt: skip
    try:
        await stop.wait()
    finally:
        print("paicha sandbox: stopping", flush=True)
        await control.stop_drill()
        if control.bot is not None:
            await control.bot.stop()
        await runner.cleanup()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return 0


def run_sandbox(
    config_path: str | Path | None = None,
    port: int = 8080,
    workdir: str | Path = "var/sandbox",
    *,
    host: str = "127.0.0.1",
    start: str | None = None,
) -> int:
    """The ``paicha sandbox`` command; returns the exit status. No config: the packaged
    example (config.example.toml, its demo regions and drills)."""
    begin = None
    if start:
        try:
            begin = dt.datetime.fromisoformat(start)
        except ValueError:
            print(f"paicha sandbox: --start {start!r} is not an ISO date and time", file=sys.stderr)
            return 2
    try:
        return asyncio.run(
            serve_sandbox(
                Path(config_path or assets.example_config()),
                port=port,
                workdir=Path(workdir),
                host=host,
                start=begin,
            )
        )
    except KeyboardInterrupt:
        return 130


def add_command(sub: argparse._SubParsersAction) -> None:
    """``paicha sandbox``, registered under the ``paicha.commands`` entry point."""
    s = sub.add_parser("sandbox", help="local Bot API, web chat page and the bot, for drills")
    s.add_argument("--config", help="TOML (default: the packaged config.example.toml)")
    s.add_argument("--port", type=int, default=8080, help="web page port (default: %(default)s)")
    s.add_argument("--dir", default="var/sandbox", help="sandbox files (default: %(default)s)")
    s.add_argument("--start", help="drill clock start, ISO date-time (default: now)")
    s.set_defaults(
        run_command=lambda args: run_sandbox(args.config, args.port, args.dir, start=args.start)
    )
