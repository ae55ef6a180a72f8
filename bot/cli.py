"""``paicha run | check-config | invite | posters | export | audit | status | backup | restore
| sandbox | drill``: the console script (sandbox and drill come from the sandbox package, as
``paicha.commands`` entry points); ``--log-level`` on every one.

Every failure an operator can cause (bad config, missing token, unreachable API) ends with a
one-line reason and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.config import Config, ConfigError, load_config
from bot.domain import roles
from bot.domain.regions import RegionsError
from bot.domain.registers import LayoutError
from bot.runtime import registers
from bot.runtime.clock import Clock, FileClock, SystemClock
from bot.runtime.regions import RegionList, last_good_copy
from bot.runtime.timers import MissingHandlers
from storage.cipher import NEW_KEY_VARIABLE, Cipher, KeyProblem, load_key, new_key

if TYPE_CHECKING:
    from storage.db import Database

TOKEN_VARIABLE = "PAICHA_BOT_TOKEN"
# Secrets systemd hands over with LoadCredential= (README, "Run it as a service"): read from
# $CREDENTIALS_DIRECTORY/<name>, ahead of the environment.
TOKEN_CREDENTIAL = "paicha-token"
DATA_KEY_CREDENTIAL = "paicha-data-key"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
log = logging.getLogger("paicha")


class Fatal(Exception):
    """A reason to stop, in one line for the operator."""


def load(path: str, base_url: str | None = None) -> Config:
    try:
        config = load_config(path)
        RegionList(config.regions.file, last_good_copy(config.bot.database)).start()
    except ConfigError as exc:
        raise Fatal(f"{path}: {exc.problems[0]} ({len(exc.problems)} problem(s); "
                    f"see: paicha check-config {path})") from exc  # fmt: skip
    except RegionsError as exc:
        raise Fatal(exc.problems[0]) from exc
    check_layouts(path, config)
    if base_url:
        bot = config.bot.model_copy(update={"api_base_url": base_url, "api_file_url": ""})
        config = config.model_copy(update={"bot": bot})
    return config


def check_layouts(path: str, config: Config) -> None:
    """Refuse a town's register layout with a problem when the bot or an export starts, not at
    the last tap of /export."""
    found = registers.problems(config.registers.dir)
    if found:
        raise Fatal(f"{found[0]} ({len(found)} problem(s); see: paicha check-config {path})")


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
    layout_problems = registers.problems(config.registers.dir)
    for problem in layout_problems:
        print(problem)
    if layout_problems:
        return 1
    problem = key_problem(config)
    if problem:
        print(f"{path}: {problem}")
        return 1
    grids = sum(len(v.grids) for v in config.villages)
    print(f"{path}: OK — {config.town.name}, {len(config.villages)} villages, {grids} grids")
    return 0


def key_problem(config: Config) -> str | None:
    """Why the bot could not open its database with the data key it would be given: none
    found, malformed, or not this database's; None when it fits (or no database yet)."""
    from storage.db import key_fits

    try:
        cipher = Cipher(load_key(data_key_file() or config.bot.data_key_file))
    except KeyProblem as exc:
        return str(exc)
    database = config.bot.database
    if database.exists() and not key_fits(database, cipher):
        return f"the data key is not the one {database} was sealed with"
    return None


def make_clock(config: Config) -> Clock:
    return FileClock(config.bot.clock_file) if config.bot.clock_file else SystemClock()


async def serve(config: Config, token: str) -> None:
    from bot.app import build_application  # imports PTB handlers: only when running

    db = await open_database(config.bot.database, config.bot.data_key_file)
    try:
        application = build_application(config, token, db, make_clock(config))
    except BaseException:  # e.g. a timer kind unhandled: the database's thread must end too
        await db.close()
        raise
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
    token = bot_token()
    try:
        asyncio.run(serve(config, token))
    except (MissingHandlers, KeyProblem) as exc:
        raise Fatal(str(exc)) from exc
    except ConfigError as exc:  # the config against the database (a vehicle added in chat)
        raise Fatal(f"{path}: {'; '.join(exc.problems)}") from exc
    except InvalidToken as exc:
        raise Fatal(f"the Bot API refused the token in {TOKEN_VARIABLE}") from exc
    except NetworkError as exc:
        raise Fatal(f"cannot reach the Bot API at {config.bot.api_base_url}: {exc}") from exc
    except TelegramError as exc:
        raise Fatal(f"the Bot API answered: {exc}") from exc
    except OSError as exc:
        raise Fatal(f"{exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}") from exc
    return 0


def health(path: str, alert_minutes: float | None) -> int:
    """``paicha status``: one line per figure; 2 when alerts are stuck (a priority-0 message
    waiting longer than ``alert_minutes`` (default ``status.ALERT_STUCK``), or any message
    failed in the last 24 hours)."""
    from bot.actions import status  # no PTB application: the database, read only

    config = config_only(path)
    database = config.bot.database
    try:
        figures = asyncio.run(status.read_file(database, make_clock(config).now()))
    except FileNotFoundError as exc:
        raise Fatal(f"no database at {database}: has the bot run yet?") from exc
    except sqlite3.Error as exc:
        raise Fatal(f"cannot read {database}: {exc} (start the bot once to migrate it)") from exc
    limit = status.ALERT_STUCK if alert_minutes is None else timedelta(minutes=alert_minutes)
    stuck = status.problems(figures, limit)
    for name, value in status.figures(figures):
        print(f"{name}: {value}")
    print(f"alerts: {'STUCK (' + ', '.join(stuck) + ')' if stuck else 'OK'}")
    return 2 if stuck else 0


def credential(name: str) -> Path | None:
    """The file systemd passed as credential ``name``, if it did."""
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    path = Path(folder, name) if folder else None
    return path if path is not None and path.is_file() else None


def bot_token() -> str:
    """The token: the ``paicha-token`` credential, else ``PAICHA_BOT_TOKEN``."""
    path = credential(TOKEN_CREDENTIAL)
    if path is not None:
        token = path.read_text(encoding="utf-8").strip()
        if not token:
            raise Fatal(f"{path} is empty: put the bot token from BotFather in it")
        return token
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise Fatal(f"{TOKEN_VARIABLE} is not set: export the bot token from BotFather")
    return token


def data_key_file() -> Path | None:
    """The data key's file: the ``paicha-data-key`` credential, if systemd passed one (else
    the key comes from the config's key file or PAICHA_DATA_KEY: storage/cipher.py)."""
    return credential(DATA_KEY_CREDENTIAL)


def config_only(path: str) -> Config:
    """The config, for commands that only need the database's place."""
    try:
        return load_config(path)
    except ConfigError as exc:
        raise Fatal(f"{path}: {exc.problems[0]} (see: paicha check-config {path})") from exc


def add_backup_parsers(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backup", help="copy the database, also while the bot runs")
    b.add_argument("--config", default="config.toml", help="TOML file (default: config.toml)")
    b.add_argument("--out", required=True, help="the backup file to write (created 0600)")
    b.add_argument("--force", action="store_true", help="replace --out if it exists")
    b.set_defaults(run_command=backup_command)
    r = sub.add_parser("restore", help="check a backup and put it in place of the database")
    r.add_argument("--config", default="config.toml", help="TOML file (default: config.toml)")
    r.add_argument("file", help="the backup file")
    r.add_argument("--force", action="store_true", help="replace the database if it exists")
    r.set_defaults(run_command=restore_command)


def backup_command(args: argparse.Namespace) -> int:
    from storage import backup

    config = config_only(args.config)
    try:
        size = backup.backup(config.bot.database, Path(args.out), force=args.force)
    except backup.BackupError as exc:
        raise Fatal(str(exc)) from exc
    log.info("backup: %s written, %d bytes", args.out, size)
    return 0


def restore_command(args: argparse.Namespace) -> int:
    from storage import backup

    config = config_only(args.config)
    source, target = Path(args.file), config.bot.database
    try:
        version = backup.verify(source)
        staged = backup.stage(source, target, force=args.force)
    except backup.BackupError as exc:
        raise Fatal(str(exc)) from exc
    try:
        asyncio.run(_open_once(staged, config.bot.data_key_file))
    except Exception as exc:  # KeyProblem, sqlite3.Error: the file is not restored
        backup.discard(staged)
        raise Fatal(f"{source}: {exc}") from exc
    backup.install(staged, target)
    log.info("restore: %s restored from %s (schema %d)", target, source, version)
    return 0


async def open_database(path: Path, key_file: Path | None = None) -> Database:
    """The database, opened with the data key: systemd's ``paicha-data-key`` credential if it
    passed one, else ``key_file`` (the config's ``bot.data_key_file``), else PAICHA_DATA_KEY
    (KeyProblem when it is missing or not this database's)."""
    from storage.db import Database

    return await Database.open(path, Cipher(load_key(data_key_file() or key_file)))


async def _open_once(path: Path, key_file: Path | None) -> None:
    """Open the staged copy as the bot would: the data key checked, the schema migrated."""
    await (await open_database(path, key_file)).close()


def add_key_parsers(sub: argparse._SubParsersAction) -> None:
    n = sub.add_parser("new-key", help="print a new data key (64 hex characters)")
    n.set_defaults(run_command=lambda args: print(new_key()) or 0)
    r = sub.add_parser("rotate-key", help="re-seal the personal data under a new data key")
    r.add_argument("--config", default="config.toml", help="TOML file (default: config.toml)")
    r.add_argument("--new-key-file", help=f"the new key's file (default: ${NEW_KEY_VARIABLE})")
    r.set_defaults(run_command=rotate_key_command)


def rotate_key_command(args: argparse.Namespace) -> int:
    """Every sealed value and blind index moved to the new key in one transaction, with the
    bot stopped (a running bot would go on sealing under the old key)."""
    from storage import backup

    config = config_only(args.config)
    key_file = Path(args.new_key_file) if args.new_key_file else None
    new = load_key(key_file, NEW_KEY_VARIABLE)
    database = config.bot.database
    if not database.exists():
        raise Fatal(f"no database at {database}: nothing to re-seal")
    if backup.in_use(database):
        raise Fatal(f"{database} is in use: stop the bot, then rotate the key")
    count = asyncio.run(_rotate(database, config.bot.data_key_file, new))
    print(f"{database}: {count} rows re-sealed under the new key; the old key opens nothing "
          "now: put the new one where the bot reads it, then start the bot")  # fmt: skip
    return 0


async def _rotate(database: Path, key_file: Path | None, new: bytes) -> int:
    db = await open_database(database, key_file)
    try:
        if db.cipher.key == new:
            raise Fatal("the new data key is the one in use: make one with paicha new-key")
        return await db.rotate(new)
    finally:
        await db.close()


def add_invite_parser(sub: argparse._SubParsersAction) -> None:
    i = sub.add_parser("invite", help="make a single-use invite link for a staff member")
    i.add_argument("--config", default="config.toml", help="TOML file (default: config.toml)")
    i.add_argument("--role", choices=roles.STAFF_ROLES, default=roles.ROLE_WORKER)
    i.add_argument("--grid", help="grid id, for a worker (e.g. XF01)")
    i.add_argument("--village", help="village id, for a village admin (e.g. xf)")
    i.add_argument("--site", help="isolation site id, for a site manager (e.g. GL01)")
    i.add_argument("--vehicle", help="vehicle id, for a crew member (e.g. V01)")
    i.add_argument("--unit", help="key unit id, for a unit's liaison (e.g. jnvs)")
    i.add_argument("--hours", type=float, default=72, help="valid for this long (default 72)")
    i.add_argument("--bot-username", help="the bot's username (default: bot.username in config)")


def invite_scope(config: Config, args: argparse.Namespace,
                 known: Mapping[str, Mapping[str, str]]) -> str:  # fmt: skip
    """The invite's scope, or ValueError with the reason; ``known``: the sites, vehicles and
    units one may be invited for, by role (bot.actions.staff.invitable: those added in chat too)."""
    if args.role == roles.ROLE_WORKER:
        if not args.grid or config.grid(args.grid) is None:
            known_grids = ", ".join(g.id for v in config.villages for g in v.grids)
            raise ValueError(f"--grid: give one of the grids in the config ({known_grids})")
        return args.grid
    if args.role == roles.ROLE_DISPATCHER:
        return roles.TOWN_SCOPE
    if args.role == roles.ROLE_SITE_MANAGER:
        return _listed("--site", args.site, list(known.get(args.role, {})), "isolation sites")
    if args.role == roles.ROLE_CREW:
        return _listed("--vehicle", args.vehicle, list(known.get(args.role, {})), "vehicles")
    if args.role == roles.ROLE_UNIT:
        return _listed("--unit", args.unit, list(known.get(args.role, {})), "key units")
    if not args.village or config.village(args.village) is None:
        villages = ", ".join(v.id for v in config.villages)
        raise ValueError(f"--village: give one of the villages in the config ({villages})")
    return args.village


def _listed(option: str, value: str | None, known: list[str], what: str) -> str:
    if value not in known:
        raise ValueError(f"{option}: give one of the {what} the bot knows, in the config or "
                         f"added in chat ({', '.join(known) or 'none yet'})")  # fmt: skip
    return value


async def _make_invite(config: Config, args: argparse.Namespace) -> str:
    """The invite's scope checked against the database's sites and vehicles, then the link's
    token (ValueError with the reason)."""
    from bot.actions.staff import invitable, make_invite
    from bot.runtime.clock import SystemClock
    from bot.runtime.render import Renderer
    from bot.runtime.services import Services

    db = await open_database(config.bot.database, config.bot.data_key_file)
    try:
        services = Services(
            config=config, db=db, clock=SystemClock(), renderer=Renderer(), regions=None
        )  # type: ignore[arg-type]
        scoped = (roles.ROLE_SITE_MANAGER, roles.ROLE_CREW, roles.ROLE_UNIT)
        known = {role: await invitable(services, role) for role in scoped}
        scope = invite_scope(config, args, known)
        return await make_invite(services, args.role, scope, None, args.hours)
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
    token = asyncio.run(_make_invite(config, args))
    return roles.invite_link(username, token)


def add_posters_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("posters", help="the QR posters to print (二维码张贴): PDF, or PNG for one")
    p.add_argument("--config", default="config.toml", help="TOML file (default: config.toml)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--village", help="a village and its grids and venues (e.g. xf)")
    which.add_argument("--grid", help="one grid (e.g. XF01)")
    which.add_argument("--unit", help="one venue (a hotel, homestay, rental or farmstay unit)")
    p.add_argument("--out", required=True, help="FILE.pdf, or FILE.png for exactly one poster")
    p.add_argument("--bot-username", help="the bot's username (default: bot.username in config)")
    p.set_defaults(run_command=posters_command)


POSTER_FORMATS = {".pdf": "posters", ".png": "poster_png"}  # bot.runtime.pdf.LAYOUTS


class Usage(Fatal):
    """A choice of the operator's that cannot be carried out: one line, exit 2."""


def posters_command(args: argparse.Namespace) -> int:
    """The posters chosen, written to --out as PDF (one page each) or PNG (one poster)."""
    from bot.runtime import pdf

    config = config_only(args.config)
    try:
        layout = POSTER_FORMATS.get(Path(args.out).suffix.lower())
        if layout is None:
            raise Usage("--out: a .pdf file, or a .png file for one poster")
        username = (args.bot_username or config.bot.username).lstrip("@")
        if not username:
            raise Usage("the bot's username is unknown: pass --bot-username or set "
                        "bot.username in the config")  # fmt: skip
        made = asyncio.run(_posters(config, username, args))
        if layout == "poster_png" and made.count != 1:
            raise Usage(f"--out {args.out}: a PNG holds one poster, not {made.count}: "
                        "choose it with --grid or --unit")  # fmt: skip
    except Usage as exc:
        print(f"paicha: {exc}", file=sys.stderr)
        return 2
    Path(args.out).write_bytes(pdf.LAYOUTS[layout](made.words, SystemClock().now()))
    if made.missing:
        print(f"paicha: the font has no {' '.join(made.missing)}: printed as {pdf.MISSING}",
              file=sys.stderr)  # fmt: skip
    print(f"{args.out}: {made.count} poster(s)")
    return 0


async def _posters(config: Config, username: str, args: argparse.Namespace) -> Any:
    """The posters' words (bot.actions.posters.Made); Usage: why they cannot be made."""
    from bot.actions import posters
    from bot.domain.invalid import Invalid
    from bot.runtime.render import Renderer
    from bot.runtime.services import Services

    db = await open_database(config.bot.database, config.bot.data_key_file)
    try:
        services = Services(config=config, db=db, clock=SystemClock(),
                            renderer=Renderer(health_code=config.town.health_code),
                            regions=None)  # type: ignore[arg-type]  # fmt: skip
        choice = {"village": args.village, "grid": args.grid, "unit": args.unit}
        made = await posters.build(services, username, config.bot.default_locale, **choice)
        venues = ", ".join(v.id for v in await posters.venues(services)) or "none yet"
    finally:
        await db.close()
    if not isinstance(made, Invalid):
        return made
    grids = ", ".join(g.id for v in config.villages for g in v.grids)
    raise Usage({
        "no_hotline": "town.hotline is not set: every poster gives the town's hotline",
        "no_village": f"--village: give one of the villages "
                      f"({', '.join(v.id for v in config.villages)})",
        "no_grid": f"--grid: give one of the grids ({grids})",
        "no_venue": f"--unit: give one of the venues ({venues})",
    }[made.code])  # fmt: skip


OUT_HELP = "FILE.xlsx or FILE.csv (over 49 MB: FILE-1.xlsx, FILE-2.xlsx…)"


def add_export_parsers(sub: argparse._SubParsersAction) -> None:
    from bot.domain.exports import EXPORTABLE

    e = sub.add_parser("export", help="a register (台账) to FILE.xlsx or FILE.csv, in full")
    e.add_argument("register", help=f"one of: {', '.join(EXPORTABLE)}")
    a = sub.add_parser("audit", help="the audit log (操作日志) to FILE.xlsx or FILE.csv")
    a.set_defaults(register="audit")
    for command, days in ((e, "default: from the first"), (a, "required")):
        command.add_argument("--config", default="config.toml",
                             help="TOML file (default: config.toml)")  # fmt: skip
        command.add_argument("--from", dest="start", required=command is a,
                             help=f"the first day, e.g. 2020-11-01 ({days})")  # fmt: skip
        command.add_argument("--to", dest="end", required=command is a,
                             help="the last day, e.g. 2020-11-20 (default: none, every row up to"
                                  " the export's moment, later dates too)")  # fmt: skip
        command.add_argument("--out", required=True, help=OUT_HELP)
        command.add_argument("--force", action="store_true",
                             help="replace --out (and its parts) if it exists")  # fmt: skip
        command.add_argument("--author", help="the 填报人 named on the file "
                             "(default: exports.j2's words for a server export)")  # fmt: skip
        command.set_defaults(run_command=export_command)


def _day(option: str, text: str | None) -> date | None:
    from bot.domain.parsing import full_date

    day = full_date(text.strip()) if text else None
    if text and not isinstance(day, date):
        raise Usage(f"{option}: {text!r} is not a date: write it as 2020-11-01")
    return day


def export_command(args: argparse.Namespace) -> int:
    """A register (or the audit log) written to --out, the whole town in full, audited."""
    from bot.domain import exports

    config = config_only(args.config)
    check_layouts(args.config, config)
    try:
        if args.command == "export" and args.register not in exports.EXPORTABLE:
            raise Usage(f"{args.register!r} is no register: give one of "
                        f"{', '.join(exports.EXPORTABLE)}")  # fmt: skip
        start, end = _day("--from", args.start), _day("--to", args.end)
        if start and end and start > end:
            raise Usage(f"--from {start} is after --to {end}")
        if exports.format_of(Path(args.out).suffix) is None:
            raise Usage(f"--out {args.out}: the file name must end in .xlsx or .csv")
        if not Path(args.out).parent.is_dir():
            raise Usage(f"--out {args.out}: no such folder")
    except Usage as exc:
        print(f"paicha: {exc}", file=sys.stderr)
        return 2
    if not config.bot.database.exists():
        raise Fatal(f"no database at {config.bot.database}: nothing to export")
    try:
        done = asyncio.run(_export(config, args, start, end))
    except LayoutError as exc:  # changed since the start
        raise Fatal("; ".join(exc.problems)) from exc
    except FileExistsError as exc:
        raise Fatal(str(exc)) from exc
    print(f"{args.register}: {done.rows} rows written to {', '.join(done.files)}")
    return 0


async def _export(config: Config, args: argparse.Namespace, start: date | None,
                  end: date | None) -> Any:  # fmt: skip
    """bot.actions.exports.export_file over the database opened with the data key."""
    from bot.actions import exports
    from bot.runtime.render import Renderer
    from bot.runtime.services import Services

    db = await open_database(config.bot.database, config.bot.data_key_file)
    try:
        services = Services(config=config, db=db, clock=make_clock(config),
                            renderer=Renderer(health_code=config.town.health_code),
                            regions=None)  # type: ignore[arg-type]  # fmt: skip
        return await exports.export_file(services, args.register, start, end, Path(args.out),
                                         config.bot.default_locale, args.author or "",
                                         force=args.force)  # fmt: skip
    finally:
        await db.close()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="paicha", description="paicha — community screening bot")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the bot (long polling)")
    r.add_argument("--config", default="config.toml", help="TOML file (default: config.toml)")
    r.add_argument("--base-url", help="Bot API base URL, e.g. http://127.0.0.1:8081/bot")
    c = sub.add_parser("check-config", help="list every problem in a config file")
    c.add_argument("file")
    add_invite_parser(sub)
    add_backup_parsers(sub)
    add_key_parsers(sub)
    add_posters_parser(sub)
    add_export_parsers(sub)
    h = sub.add_parser("status", help="health figures; exit 2 when alerts are stuck")
    h.add_argument("--config", default="config.toml", help="TOML file (default: config.toml)")
    h.add_argument("--alert-minutes", type=float,
                   help="an alert waiting longer than this is stuck (default 10)")  # fmt: skip
    for command in _plugins():
        command.load()(sub)
    level = {"choices": LOG_LEVELS, "type": str.upper, "help": "log level (default INFO)"}
    p.add_argument("--log-level", default="INFO", **level)
    for command in sub.choices.values():  # after the subcommand too: paicha run --log-level
        command.add_argument("--log-level", default=argparse.SUPPRESS, **level)
    return p


def _plugins() -> list[importlib.metadata.EntryPoint]:
    """Commands other packages add (``paicha sandbox`` comes from the sandbox package): the bot
    never imports them, they register under the ``paicha.commands`` entry-point group."""
    return sorted(importlib.metadata.entry_points(group="paicha.commands"), key=lambda e: e.name)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL, and the URL carries the bot token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # a line per glyph table subset
    try:
        if args.command == "check-config":
            return check_config(args.file)
        if args.command == "status":
            return health(args.config, args.alert_minutes)
        if args.command == "invite":
            try:
                print(invite(load(args.config), args))
            except ValueError as exc:
                raise Fatal(str(exc)) from exc
            return 0
        if hasattr(args, "run_command"):
            return args.run_command(args)
        return run(args.config, args.base_url)
    except (Fatal, KeyProblem) as exc:
        print(f"paicha: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
