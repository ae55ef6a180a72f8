"""The drill clock: the writer side of ``bot.runtime.clock.FileClock``.

The sandbox server, the web page and the bot process all read the same JSON file
``{"real": unix, "virtual": unix, "speed": x}``; only the sandbox writes it, atomically
(a temporary file then ``os.replace``), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.runtime.clock import FileClock

MAX_SPEED = 10_000.0


class DrillClock(FileClock):
    """A FileClock that can also set the pace: ``speed``, ``jump`` and ``reset``."""

    def __init__(self, path: Path, wall: Callable[[], float] = time.time) -> None:
        super().__init__(Path(path), wall)

    def anchor(self) -> dict[str, float]:
        """The file's contents as they stand (real time at speed 1 when there is no file)."""
        self._reload()
        real, virtual, speed = self._anchor
        if self._mtime is None:
            now = self._wall()
            return {"real": now, "virtual": now, "speed": 1.0}
        return {"real": real, "virtual": virtual, "speed": speed}

    def describe(self) -> dict[str, Any]:
        """What the web page shows and extrapolates: the anchor plus the instant itself."""
        return self.anchor() | {"now": self.now().timestamp(), "iso": self.now().isoformat()}

    def speed(self, speed: float) -> None:
        """Run ``speed`` times as fast from now on; the virtual time does not jump."""
        if not 0 < speed <= MAX_SPEED:
            raise ValueError(f"speed must be above 0 and at most {MAX_SPEED:g}")
        self._write(self.now(), float(speed))

    def jump(self, minutes: float) -> None:
        """Move the virtual time forward by ``minutes`` (never backwards: timers only fire)."""
        if minutes < 0:
            raise ValueError("the clock only jumps forward")
        self._write(self.now() + timedelta(minutes=minutes), self.current_speed)

    def reset(self, start: datetime | None = None) -> None:
        """Speed 1 from ``start`` (default: the real time now)."""
        if start is not None and start.tzinfo is None:
            raise ValueError("the start of a drill needs a timezone")
        self._write(start or datetime.fromtimestamp(self._wall(), UTC), 1.0)

    def _write(self, virtual: datetime, speed: float) -> None:
        real = self._wall()
        data = {"real": real, "virtual": virtual.timestamp(), "speed": speed}
        write_atomically(self.path, json.dumps(data))
        # our own reads must not depend on the file system's mtime resolution
        self._anchor = (real, data["virtual"], speed)
        self._mtime = self.path.stat().st_mtime


def write_atomically(path: Path, text: str) -> None:
    """``text`` into ``path`` through a temporary file and ``os.replace``: a reader (the bot
    process) sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
