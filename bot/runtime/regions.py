"""The key-regions file on disk, reloaded when it changes (no restart needed).

At start ``load()`` refuses a bad file, so the bot never runs on a file nobody checked.
Later, ``current()`` picks up an edited file; a broken edit is logged problem by problem
and the last good list stays in force: an operator's typo must not blind the bot.
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path

from bot.domain.regions import Region, RegionsError, parse_regions

log = logging.getLogger(__name__)

# What identifies one version of the file: modification time (ns) and size.
_Signature = tuple[int, int]


class RegionList:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._regions: tuple[Region, ...] | None = None
        self._signature: _Signature | None = None  # of the version last read, good or bad

    def _stat(self) -> _Signature:
        st = os.stat(self.path)
        return (st.st_mtime_ns, st.st_size)

    def _read(self) -> tuple[tuple[Region, ...], _Signature]:
        """Read and validate the file; every failure is a ``RegionsError`` naming the file."""
        try:
            signature = self._stat()
            with self.path.open("rb") as f:
                data = tomllib.load(f)
        except OSError as exc:
            raise RegionsError([f"{self.path}: cannot read: {exc.strerror or exc}"]) from exc
        except tomllib.TOMLDecodeError as exc:
            raise RegionsError([f"{self.path}: not valid TOML: {exc}"]) from exc
        try:
            regions = parse_regions(data)
        except RegionsError as exc:
            raise RegionsError([f"{self.path}: {p}" for p in exc.problems]) from exc
        return regions, signature

    def load(self) -> tuple[Region, ...]:
        """Read the file now; raises ``RegionsError`` when it is missing or invalid."""
        regions, signature = self._read()
        self._regions, self._signature = regions, signature
        return regions

    def current(self) -> tuple[Region, ...]:
        """The regions in force, re-read first when the file changed since the last read."""
        if self._regions is None:
            return self.load()
        try:
            signature = self._stat()
        except OSError as exc:
            if self._signature is not None:
                log.error(
                    "%s: cannot read (%s); keeping the last good list of %d regions",
                    self.path,
                    exc.strerror or exc,
                    len(self._regions),
                )
            self._signature = None
            return self._regions
        if signature == self._signature:
            return self._regions
        try:
            regions, signature = self._read()
        except RegionsError as exc:
            for problem in exc.problems:
                log.error("%s", problem)
            log.error(
                "%s: not reloaded; keeping the last good list of %d regions",
                self.path,
                len(self._regions),
            )
            self._signature = signature  # report this version once, not on every call
            return self._regions
        log.info("%s: reloaded, %d regions", self.path, len(regions))
        self._regions, self._signature = regions, signature
        return regions
