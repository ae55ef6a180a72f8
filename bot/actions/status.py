"""Health: is the bot doing its job? The figures of ``paicha status`` and ``/status``.

Alerts are stuck when a priority-0 message has waited longer than ``ALERT_STUCK`` or when any
message failed for good in the last 24 hours: the health command then exits non-zero, and
``/status`` says so first. The last update processed is recorded at most once a minute
(``Heartbeat``), so recording it costs nothing per update.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from bot.runtime.services import Services
from storage import audit
from storage import status as storage
from storage.db import Reader
from storage.status import Health

log = logging.getLogger(__name__)

ALERT_STUCK = timedelta(minutes=10)  # an alert waiting longer is stuck (`--alert-minutes`)
LATE_TIMER = timedelta(minutes=1)  # the tick fires due timers every few seconds
HEARTBEAT = timedelta(minutes=1)  # the last update is written at most this often

STUCK_ALERT = "alert_stuck"
FAILED = "failed"


async def read(conn: Reader, now: datetime) -> Health:
    return await storage.health(conn, now, LATE_TIMER)


async def read_file(path: Path, now: datetime) -> Health:
    """The figures of the database at ``path``, opened read only (the bot may be running)."""
    conn = await storage.open_readonly(path)
    try:
        return await read(conn, now)
    finally:
        await conn.close()


def figures(health: Health) -> list[tuple[str, int | str]]:
    """One (name, value) per figure, for the health command: counts, ages in seconds
    ("none" when there is nothing to be old), bytes. No personal data."""
    b = health.backlog
    return [
        ("outbox_pending", b.pending),
        ("outbox_oldest_pending_seconds", _age(health.at, b.oldest)),
        ("alert_oldest_pending_seconds", _age(health.at, b.oldest_alert)),
        ("failed_last_24h", health.failed_24h),
        ("failed_total", health.failed_total),
        ("possible_repeats_last_24h", health.repeats_24h),
        ("possible_repeats_total", health.repeats_total),
        ("timers_due", health.timers_due),
        ("timers_late", health.timers_late),
        ("last_update_seconds_ago", _age(health.at, health.last_update)),
        ("database_bytes", health.database_bytes),
    ]


def _age(now: datetime, since: datetime | None) -> int | str:
    return "none" if since is None else max(0, int((now - since).total_seconds()))


def problems(health: Health, alert_stuck: timedelta = ALERT_STUCK) -> tuple[str, ...]:
    """What makes alerts stuck now: ``STUCK_ALERT`` (a priority-0 message pending longer
    than ``alert_stuck``), ``FAILED`` (a message failed for good in the last 24 h)."""
    found = []
    oldest = health.backlog.oldest_alert
    if oldest is not None and health.at - oldest > alert_stuck:
        found.append(STUCK_ALERT)
    if health.failed_24h:
        found.append(FAILED)
    return tuple(found)


async def view(services: Services, user_id: int, locale: str) -> str:
    """``/status`` for an admin: the figures as text, the view audited (one transaction)."""
    now = services.now()
    async with services.db.write() as conn:
        health = await read(conn, now)
        await audit.record(conn, now, user_id, "view:status")
    return services.text(
        locale,
        "status",
        "report",
        health=health,
        problems=problems(health),
        stuck_minutes=int(ALERT_STUCK.total_seconds() // 60),
        at=now.astimezone(services.config.tz),
        tz=services.config.tz,
    )


class Heartbeat:
    """Records when the bot last processed an update: a time comparison per update, a write
    at most once a ``HEARTBEAT``."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self._written: datetime | None = None

    async def beat(self) -> None:
        now = self.s.now()
        if self._written is not None and now - self._written < HEARTBEAT:
            return
        self._written = now  # before the write: concurrent updates do not all write
        try:
            await storage.record_update(self.s.db, now)
        except Exception:  # a locked database must not cost the update its answer
            log.warning("status: the time of the last update was not recorded", exc_info=True)
