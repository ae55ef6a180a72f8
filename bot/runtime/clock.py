"""The one injected clock. Everything that asks "what time is it" asks a Clock, so tests
step time by hand and drills can run a day in minutes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    @property
    def current_speed(self) -> float:
        """Seconds of this clock per real second: 1, but faster in a drill. Whatever waits a
        real while (a tick) waits this many times as long on this clock."""
        ...


class SystemClock:
    current_speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (tests); ``speed`` is the pace it stands for,
    as a drill's clock would run."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        self._now = start.astimezone(UTC)
        self.current_speed = speed

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant.astimezone(UTC)


class FileClock:
    """A drill clock: the file holds ``{"real": unix, "virtual": unix, "speed": x}``, meaning
    that at real time ``real`` the drill's time was ``virtual`` and runs ``speed`` times as fast.
    Whoever runs the drill rewrites the file; a missing or unreadable file means real time."""

    def __init__(self, path: Path, wall: Callable[[], float] = time.time) -> None:
        self.path = path
        self._wall = wall
        self._mtime: tuple[int, int] | None = None
        self._anchor = (0.0, 0.0, 1.0)

    def _reload(self) -> None:
        try:
            stat = self.path.stat()
            # the inode too: a rewrite (temp file + rename) within the mtime's granularity
            mtime = (stat.st_mtime_ns, stat.st_ino)
        except OSError:
            self._anchor, self._mtime = (0.0, 0.0, 1.0), None
            return
        if mtime == self._mtime:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self._anchor = (float(data["real"]), float(data["virtual"]), float(data["speed"]))
        except (OSError, ValueError, KeyError, TypeError):
            self._anchor = (0.0, 0.0, 1.0)
        self._mtime = mtime

    @property
    def current_speed(self) -> float:
        self._reload()
        return self._anchor[2]

    def now(self) -> datetime:
        self._reload()
        real, virtual, speed = self._anchor
        wall = self._wall()
        return datetime.fromtimestamp(virtual + (wall - real) * speed, UTC)
