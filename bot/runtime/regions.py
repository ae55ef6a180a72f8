"""The key-regions file on disk, reloaded when it changes (no restart needed).

At start ``start()`` refuses a bad file, so the bot never runs on a file nobody checked,
unless the last good copy can stand in (kept with the bot's state, beside its database:
``last_good_copy``; written by the running bot's tick after a good read, ``keep_copy``; a
check never writes): a file broken while the bot was down must not keep the town's bot down.
Later, ``current()`` picks up an edited file; a broken edit (invalid TOML, not UTF-8 such as
a file re-saved as GBK, emptied) is logged problem by problem and the last good list stays
in force: an operator's typo must not blind the bot, and no submission waits on a reload.
Each broken version and each repair is news once (``news``/``told``): the tick tells the
admins (bot.actions.regions).

An emptied file, or one of comments only, is a mistake, not a decision: a file that lists
no key regions says so with ``region = []``.

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
from dataclasses import dataclass
from pathlib import Path

import tomlkit
from tomlkit.items import AoT

from bot.domain.invalid import Invalid
from bot.domain.regions import Edit, Region, RegionsError, apply_edit, parse_regions

log = logging.getLogger(__name__)

# What identifies one version of the file: modification time (ns) and size.
_Signature = tuple[int, int]


def last_good_copy(database: Path) -> Path:
    """Where the bot keeps the regions file last read as good: with its state (the database's
    folder), not in the folder of the file, which a check or a packaged example may share."""
    return database.with_name(database.name + ".regions-last-good.toml")


@dataclass(frozen=True)
class Trouble:
    """The file as it is now cannot be used: its problems (each naming the file). ``version``
    names the broken version, so each is reported once (also across restarts)."""

    problems: tuple[str, ...]
    version: str


@dataclass(frozen=True)
class Repaired:
    """The file is good again after a ``Trouble``: ``count`` regions in force."""

    count: int
    version: str


News = Trouble | Repaired


def _version(signature: _Signature | None) -> str:
    return "missing" if signature is None else f"{signature[0]}-{signature[1]}"


class RegionList:
    def __init__(self, path: Path, last_good: Path | None = None) -> None:
        """``last_good``: the copy a start falls back on (None: none, as for a check)."""
        self.path = Path(path)
        self.last_good = last_good
        self._regions: tuple[Region, ...] | None = None
        self._signature: _Signature | None = None  # of the version last read, good or bad
        self.trouble: Trouble | None = None  # the file as it is now cannot be used
        self._news: News | None = None  # not yet told (see ``news``)
        self._good_text: str | None = None  # the text of the file last read as good
        self._copied: str | None = None  # the text last kept as the copy (or tried)
        self.lock = asyncio.Lock()

    def _stat(self) -> _Signature:
        st = os.stat(self.path)
        return (st.st_mtime_ns, st.st_size)

    def _read(self, path: Path | None = None) -> tuple[tuple[Region, ...], str]:
        """Read and validate the file (or ``path``): its regions and its text; every failure
        is a ``RegionsError`` naming the file."""
        path = self.path if path is None else path
        try:
            # utf-8-sig: Windows Notepad's "UTF-8" starts with a byte-order mark
            text = path.read_bytes().decode("utf-8-sig")
        except OSError as exc:
            raise RegionsError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
        except UnicodeDecodeError as exc:
            raise RegionsError([f"{path}: not UTF-8 text (saved as GBK?): save it as UTF-8, "
                                f"byte {exc.start} cannot be read"]) from exc  # fmt: skip
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RegionsError([f"{path}: not valid TOML: {exc}"]) from exc
        if "region" not in data:
            raise RegionsError([f"{path}: no [[region]] at all (emptied?); a file listing no "
                                "key regions says region = []"])  # fmt: skip
        try:
            regions = parse_regions(data)
        except RegionsError as exc:
            raise RegionsError([f"{path}: {p}" for p in exc.problems]) from exc
        return regions, text

    def load(self) -> tuple[Region, ...]:
        """Read the file now; raises ``RegionsError`` when it is missing or invalid."""
        signature = self._signature_or_none()
        regions, text = self._read()
        self._good(regions, text, signature)
        return regions

    def start(self) -> tuple[Region, ...]:
        """The bot's start: ``load()``, or when the file is broken the last good copy (the
        problem then is news for the admins); ``RegionsError`` when there is none either."""
        try:
            return self.load()
        except RegionsError as exc:
            if self.last_good is None:
                raise
            try:
                regions, _ = self._read(self.last_good)
            except RegionsError:
                raise exc from None
            log.error("%s; starting on the last good copy %s (%d regions)",
                      exc.problems[0], self.last_good, len(regions))  # fmt: skip
            self._regions = regions
            self._broken(exc, self._signature_or_none())
            return regions

    def _signature_or_none(self) -> _Signature | None:
        try:
            return self._stat()
        except OSError:
            return None

    def _good(self, regions: tuple[Region, ...], text: str, signature: _Signature | None) -> None:
        if self.trouble is not None:
            self._news = Repaired(len(regions), _version(signature))
        self._regions, self._signature, self.trouble = regions, signature, None
        self._good_text = text

    def _broken(self, exc: RegionsError, signature: _Signature | None) -> None:
        self._signature = signature  # report this version once, not on every call
        self.trouble = Trouble(tuple(exc.problems), _version(signature))
        self._news = self.trouble

    def keep_copy(self) -> None:
        """Write the file last read as good beside it (once per version), for a start while
        the file is broken. The tick's: a check or a test that only reads writes nothing."""
        text = self._good_text
        if self.last_good is None or text is None or text == self._copied:
            return
        self._copied = text
        try:
            _replace(self.last_good, text, mode_of=self.path)
        except OSError as exc:  # a read-only folder must not stop a good list
            log.warning("%s: cannot keep a copy: %s", self.last_good, exc.strerror or exc)

    def current(self) -> tuple[Region, ...]:
        """The regions in force, re-read first when the file changed since the last read.
        Never raises once a list is in force: a broken file keeps the last good list."""
        if self._regions is None:
            return self.load()
        try:
            signature = self._stat()
        except OSError as exc:
            if self._signature is not None:  # just gone: said once
                reason = exc.strerror or str(exc)
                log.error("%s: cannot read (%s); keeping the last good list of %d regions",
                          self.path, reason, len(self._regions))  # fmt: skip
                self._broken(RegionsError([f"{self.path}: cannot read: {reason}"]), None)
            return self._regions
        if signature == self._signature:
            return self._regions
        try:
            regions, text = self._read()
        except RegionsError as exc:
            for problem in exc.problems:
                log.error("%s", problem)
            log.error(
                "%s: not reloaded; keeping the last good list of %d regions",
                self.path,
                len(self._regions),
            )
            self._broken(exc, signature)
            return self._regions
        log.info("%s: reloaded, %d regions", self.path, len(regions))
        self._good(regions, text, signature)
        return regions

    def news(self) -> News | None:
        """A broken version or a repair not yet told (``told`` once it is)."""
        return self._news

    def told(self, news: News) -> None:
        if self._news == news:
            self._news = None

    def save(self, edit: Edit) -> tuple[Region, ...] | Invalid:
        """Apply ``edit`` to the file as it is now and write it (atomically: a temporary file
        in the same folder renamed over it), keeping its comments and layout; the new list.
        An ``Invalid`` when the edit does not apply, the file is broken or cannot be written:
        then the file is as it was."""
        try:
            regions, text = self._read()
        except RegionsError as exc:
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


def _replace(path: Path, text: str, mode_of: Path | None = None) -> None:
    """Write ``text`` to ``path`` whole or not at all (a crash leaves the old file), with the
    permissions of ``mode_of`` (by default the old file's)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp's file is private: keep the old mode
        os.chmod(tmp, os.stat(mode_of or path).st_mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
