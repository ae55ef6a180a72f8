"""The key-regions file on disk, reloaded when it changes (no restart needed).

At start ``load()`` refuses a bad file, so the bot never runs on a file nobody checked.
Later, ``current()`` picks up an edited file; a broken edit is logged problem by problem
and the last good list stays in force: an operator's typo must not blind the bot.

The file is the one source of truth for the key regions: ``/regions`` edits it too
(``save``: the edited document written beside it, then renamed over it, comments kept), so
the chat and the file can never disagree. ``lock`` serialises an edit with the tick that
compares the file with the list last applied (bot.actions.regions).
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import tomllib
from pathlib import Path

import tomlkit
from tomlkit.items import AoT

from bot.domain.invalid import Invalid
from bot.domain.regions import Edit, Region, RegionsError, apply_edit, parse_regions

log = logging.getLogger(__name__)

# What identifies one version of the file: modification time (ns) and size.
_Signature = tuple[int, int]


class RegionList:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._regions: tuple[Region, ...] | None = None
        self._signature: _Signature | None = None  # of the version last read, good or bad
        self.lock = asyncio.Lock()

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

    def save(self, edit: Edit) -> tuple[Region, ...] | Invalid:
        """Apply ``edit`` to the file as it is now and write it (atomically: a temporary file
        in the same folder renamed over it), keeping its comments and layout; the new list.
        An ``Invalid`` when the edit does not apply, the file is broken or cannot be written:
        then the file is as it was."""
        try:
            text = self.path.read_text(encoding="utf-8")
            regions = parse_regions(tomllib.loads(text))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RegionsError) as exc:
            log.error("%s: not edited: %s", self.path, exc)
            return Invalid("regions.file_broken", {"path": str(self.path)})
        landed = apply_edit(regions, edit)
        if isinstance(landed, Invalid):
            return landed
        document = tomlkit.parse(text)
        _edit_document(document, landed)
        try:
            _replace(self.path, tomlkit.dumps(document))
        except OSError as exc:
            log.error("%s: cannot write: %s", self.path, exc)
            reason = exc.strerror or str(exc)
            return Invalid("regions.file_unwritable", {"path": str(self.path), "reason": reason})
        return self.load()


def _edit_document(document: tomlkit.TOMLDocument, landed: tuple[int | None, Region]) -> None:
    index, region = landed
    if index is None:
        table = tomlkit.table()
        for key, value in (("province", region.province), ("city", region.city),
                           ("district", region.district), ("risk", region.risk),
                           ("from", region.start), ("until", region.until)):  # fmt: skip
            if value is not None:
                table[key] = value
        if "region" not in document:
            document.append("region", AoT([]))
        document["region"].append(table)
        return
    entry = document["region"][index]
    entry["risk"] = region.risk
    if region.until is not None:
        entry["until"] = region.until


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a crash leaves the old file)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, os.stat(path).st_mode)  # mkstemp's file is private: keep the old mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
