"""What every handler needs, created once at start and closed at shutdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from telegram import Bot

from bot.config import Config
from bot.domain.masking import Audience
from bot.runtime.clock import Clock
from bot.runtime.outbox import OutboxWorker
from bot.runtime.regions import RegionList
from bot.runtime.render import Renderer
from bot.runtime.replies import Replies
from bot.runtime.timers import Handlers
from storage.db import Database


@dataclass
class Services:
    config: Config
    db: Database
    clock: Clock
    renderer: Renderer
    regions: RegionList
    outbox: OutboxWorker | None = field(default=None)
    bot: Bot | None = field(default=None)  # the application's bot, set when it is built
    timers: Handlers = field(default_factory=Handlers)  # every timer kind's, from bot/app.py
    replies: Replies = field(init=False)  # direct replies: retried, else queued (replies.py)

    def __post_init__(self) -> None:
        self.replies = Replies(self)

    def now(self) -> datetime:
        return self.clock.now()

    def local_now(self) -> datetime:
        return self.clock.now().astimezone(self.config.tz)

    def local_today(self) -> date:
        return self.local_now().date()

    def wake_outbox(self) -> None:
        if self.outbox is not None:
            self.outbox.wake()

    def text(
        self,
        locale: str,
        module: str,
        name: str,
        /,
        audience: Audience = Audience.BROADCAST,
        **params: object,
    ) -> str:
        return self.renderer.text(locale, module, name, audience, **params)
