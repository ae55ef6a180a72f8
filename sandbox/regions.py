"""The sandbox's own key-regions file, in its data folder (writable: ``/regions`` edits made
in chat land there, never in the packaged list).

The packaged demo list, ``data/regions.toml``, is dated around 2020-11-20 (the day the shipped
drills start). A sandbox whose clock starts on another day gets that list moved by the same
number of days, so that the regions in force on the drill's first day are the same whatever
the day: a fresh ``paicha sandbox`` (clock at today) alerts on an arrival from 喀什 as the
drills do. Any other list (a town's own config) is copied as it is. The file is written again
at every reset, around the clock's new start.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from bot.domain.regions import parse_regions
from bot.runtime import assets
from sandbox.clock import write_atomically
from sandbox.tomlwrite import dump_toml

DEMO_DAY = date(2020, 11, 20)  # the day data/regions.toml's demo dates are written around
FILE_NAME = "regions.toml"


def demo_list() -> Path:
    """The packaged demo list (``data/regions.toml``)."""
    return assets.root() / "data" / FILE_NAME


def moved(data: dict[str, Any], days: int) -> dict[str, Any]:
    """A regions file's data with every ``from`` and ``until`` date ``days`` later."""
    step = timedelta(days=days)
    regions = [
        {k: v + step if k in ("from", "until") and isinstance(v, date) else v
         for k, v in region.items()}
        for region in data.get("region", [])
    ]  # fmt: skip
    return {**data, "region": regions}


@dataclass(frozen=True)
class SandboxRegions:
    """``target`` (in the sandbox folder) written from ``source`` for a clock start."""

    source: Path
    target: Path
    tz: tzinfo

    @property
    def demo(self) -> bool:
        return self.source.resolve() == demo_list().resolve()

    def write(self, start: datetime) -> int:
        """Write the file for a clock starting at ``start``; the days the list was moved."""
        text = self.source.read_text(encoding="utf-8")
        days = (start.astimezone(self.tz).date() - DEMO_DAY).days if self.demo else 0
        data = moved(tomllib.loads(text), days)
        header = (
            f"# Written by the sandbox from {self.source}"
            + (f", every date moved by {days} days" if days else "")
            + ". Rewritten at every reset.\n"
        )
        write_atomically(self.target, header + dump_toml(data))
        return days

    def in_force(self, today: date) -> dict[str, Any]:
        """What the page says: which list, and the regions in force ``today``."""
        about: dict[str, Any] = {"demo": self.demo, "file": str(self.target)}
        try:
            regions = parse_regions(tomllib.loads(self.target.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:  # RegionsError and TOMLDecodeError are ValueErrors
            return about | {"error": str(exc), "regions": []}
        return about | {
            "regions": [
                {"label": r.label(), "risk": r.risk, "from": r.start.isoformat(),
                 "until": r.until.isoformat() if r.until else None}
                for r in regions if r.active_between(today, today)
            ],
        }  # fmt: skip
