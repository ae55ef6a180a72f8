"""``paicha invite``: make a single-use staff invite link from the command line."""

from __future__ import annotations

import argparse
import asyncio

from bot.config import Config
from bot.domain import roles


def add_parser(sub: argparse._SubParsersAction) -> None:
    i = sub.add_parser("invite", help="make a single-use invite link for a staff member")
    i.add_argument("--config", default="config.toml", help="TOML file (default: config.toml)")
    i.add_argument("--role", choices=roles.STAFF_ROLES, default=roles.ROLE_WORKER)
    i.add_argument("--grid", help="grid id, for a worker (e.g. XF01)")
    i.add_argument("--village", help="village id, for a village admin (e.g. xf)")
    i.add_argument("--hours", type=float, default=72, help="valid for this long (default 72)")
    i.add_argument("--bot-username", help="the bot's username (default: bot.username in config)")


def scope_of(config: Config, args: argparse.Namespace) -> str:
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


async def _make(config: Config, role: str, scope: str, hours: float) -> str:
    from bot.clock import SystemClock
    from bot.render import Renderer
    from bot.services import Services
    from handlers.staff import make_invite
    from storage.db import Database

    db = await Database.open(config.bot.database)
    try:
        services = Services(
            config=config, db=db, clock=SystemClock(), renderer=Renderer(), regions=None
        )  # type: ignore[arg-type]
        return await make_invite(services, role, scope, None, hours)
    finally:
        await db.close()


def run(config: Config, args: argparse.Namespace) -> str:
    """The link; ValueError with a one-line reason for the operator."""
    username = (args.bot_username or config.bot.username).lstrip("@")
    if not username:
        raise ValueError(
            "the bot's username is unknown: pass --bot-username or set bot.username in the config"
        )
    if not 0 < args.hours <= 24 * 30:
        raise ValueError("--hours: between 0 and 720")
    scope = scope_of(config, args)
    token = asyncio.run(_make(config, args.role, scope, args.hours))
    return roles.invite_link(username, token)
