"""``paicha run | check-config | invite | sandbox | drill``: the console script (sandbox and
drill come from the sandbox package, as ``paicha.commands`` entry points).

Every failure an operator can cause (bad config, missing token, unreachable API) ends with a
one-line reason and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import logging
import os
import signal
import sys

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.config import Config, ConfigError, load_config
from bot.domain import roles
from bot.domain.regions import RegionsError
from bot.runtime.clock import Clock, FileClock, SystemClock
from bot.runtime.regions import RegionList
from bot.runtime.timers import MissingHandlers

TOKEN_VARIABLE = "PAICHA_BOT_TOKEN"
log = logging.getLogger("paicha")


class Fatal(Exception):
    """A reason to stop, in one line for the operator."""


def load(path: str, base_url: str | None = None) -> Config:
    try:
        config = load_config(path)
        RegionList(config.regions.file).load()
    except ConfigError as exc:
        raise Fatal(f"{path}: {exc.problems[0]} ({len(exc.problems)} problem(s); "
                    f"see: paicha check-config {path})") from exc  # fmt: skip
    except RegionsError as exc:
        raise Fatal(exc.problems[0]) from exc
    if base_url:
        bot = config.bot.model_copy(update={"api_base_url": base_url, "api_file_url": ""})
        config = config.model_copy(update={"bot": bot})
    return config


def check_config(path: str) -> int:
    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}")
        return 1
    try:
        RegionList(config.regions.file).load()
    except RegionsError as exc:
        for problem in exc.problems:
            print(problem)
        return 1
    grids = sum(len(v.grids) for v in config.villages)
    print(f"{path}: OK — {config.town.name}, {len(config.villages)} villages, {grids} grids")
    return 0


def make_clock(config: Config) -> Clock:
    return FileClock(config.bot.clock_file) if config.bot.clock_file else SystemClock()


async def serve(config: Config, token: str) -> None:
    from bot.app import build_application  # imports PTB handlers: only when running
    from storage.db import Database

    db = await Database.open(config.bot.database)
    application = build_application(config, token, db, make_clock(config))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await application.initialize()
        await application.post_init(application)
        await application.updater.start_polling(
            timeout=config.bot.poll_timeout_seconds, allowed_updates=Update.ALL_TYPES
        )
        await application.start()
        log.info("paicha is running for %s", config.town.name)
        await stop.wait()
    finally:
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.post_shutdown(application)
        await application.shutdown()
        await db.close()


def run(path: str, base_url: str | None) -> int:
    config = load(path, base_url)
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise Fatal(f"{TOKEN_VARIABLE} is not set: export the bot token from BotFather")
    try:
        asyncio.run(serve(config, token))
    except MissingHandlers as exc:
        raise Fatal(str(exc)) from exc
    except InvalidToken as exc:
        raise Fatal(f"the Bot API refused the token in {TOKEN_VARIABLE}") from exc
    except NetworkError as exc:
        raise Fatal(f"cannot reach the Bot API at {config.bot.api_base_url}: {exc}") from exc
    except TelegramError as exc:
        raise Fatal(f"the Bot API answered: {exc}") from exc
    except OSError as exc:
        raise Fatal(f"{exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}") from exc
    return 0


def add_invite_parser(sub: argparse._SubParsersAction) -> None:
    i = sub.add_parser("invite", help="make a single-use invite link for a staff member")
    i.add_argument("--config", default="config.toml", help="TOML file (default: config.toml)")
    i.add_argument("--role", choices=roles.STAFF_ROLES, default=roles.ROLE_WORKER)
    i.add_argument("--grid", help="grid id, for a worker (e.g. XF01)")
    i.add_argument("--village", help="village id, for a village admin (e.g. xf)")
    i.add_argument("--hours", type=float, default=72, help="valid for this long (default 72)")
    i.add_argument("--bot-username", help="the bot's username (default: bot.username in config)")


def invite_scope(config: Config, args: argparse.Namespace) -> str:
    """The invite's scope, or ValueError with the reason."""
    if args.role == roles.ROLE_WORKER:
        if not args.grid or config.grid(args.grid) is None:
            known = ", ".join(g.id for v in config.villages for g in v.grids)
            raise ValueError(f"--grid: give one of the grids in the config ({known})")
        return args.grid
    if not args.village or config.village(args.village) is None:
        known = ", ".join(v.id for v in config.villages)
        raise ValueError(f"--village: give one of the villages in the config ({known})")
    return args.village


async def _make_invite(config: Config, role: str, scope: str, hours: float) -> str:
    from bot.actions.staff import make_invite
    from bot.runtime.clock import SystemClock
    from bot.runtime.render import Renderer
    from bot.runtime.services import Services
    from storage.db import Database

    db = await Database.open(config.bot.database)
    try:
        services = Services(
            config=config, db=db, clock=SystemClock(), renderer=Renderer(), regions=None
        )  # type: ignore[arg-type]
        return await make_invite(services, role, scope, None, hours)
    finally:
        await db.close()


def invite(config: Config, args: argparse.Namespace) -> str:
    """The link; ValueError with a one-line reason for the operator."""
    username = (args.bot_username or config.bot.username).lstrip("@")
    if not username:
        raise ValueError(
            "the bot's username is unknown: pass --bot-username or set bot.username in the config"
        )
    if not 0 < args.hours <= 24 * 30:
        raise ValueError("--hours: between 0 and 720")
    scope = invite_scope(config, args)
    token = asyncio.run(_make_invite(config, args.role, scope, args.hours))
    return roles.invite_link(username, token)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="paicha", description="paicha — community screening bot")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the bot (long polling)")
    r.add_argument("--config", default="config.toml", help="TOML file (default: config.toml)")
    r.add_argument("--base-url", help="Bot API base URL, e.g. http://127.0.0.1:8081/bot")
    c = sub.add_parser("check-config", help="list every problem in a config file")
    c.add_argument("file")
    add_invite_parser(sub)
    for command in _plugins():
        command.load()(sub)
    return p


def _plugins() -> list[importlib.metadata.EntryPoint]:
    """Commands other packages add (``paicha sandbox`` comes from the sandbox package): the bot
    never imports them, they register under the ``paicha.commands`` entry-point group."""
    return sorted(importlib.metadata.entry_points(group="paicha.commands"), key=lambda e: e.name)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL, and the URL carries the bot token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        if args.command == "check-config":
            return check_config(args.file)
        if args.command == "invite":
            try:
                print(invite(load(args.config), args))
            except ValueError as exc:
                raise Fatal(str(exc)) from exc
            return 0
        if hasattr(args, "run_command"):
            return args.run_command(args)
        return run(args.config, args.base_url)
    except Fatal as exc:
        print(f"paicha: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
