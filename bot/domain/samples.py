"""Nucleic-acid tests of people in centralised isolation (集中隔离): the test schedule of a
stay, which scheduled test a recorded result belongs to, and the batch entry a site manager
types for a whole floor ("301 阴性 302 阴性 303 阳性").

Pure: no telegram, no SQL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

NEGATIVE = "negative"
POSITIVE = "positive"
SAMPLED = "sampled"  # sample taken, result not out yet (stored as result 'pending')
RESULTS = (NEGATIVE, POSITIVE, SAMPLED)


# --- the schedule ---------------------------------------------------------------------------


def schedule(start: date, end: date, test_days: Iterable[int], assigned_on: date) -> list[date]:
    """The test dates of a stay: day ``n`` of ``test_days`` is ``start + n - 1`` (day 1 is the
    start date), none after ``end``. Test days already past on the assignment day are never
    skipped (fail safe: nobody leaves with a test missing) nor chased one by one: one test on
    the assignment day stands for all of them, unless a test day falls on it anyway."""
    days = sorted({start + timedelta(days=n - 1) for n in test_days})
    due = [d for d in days if assigned_on <= d <= end]
    missed = any(d < assigned_on for d in days)
    if missed and assigned_on not in due:
        due.insert(0, assigned_on)
    return due


@dataclass(frozen=True)
class Test:
    """One scheduled test of a stay as stored."""

    __test__ = False  # not a pytest test class

    test_date: date
    sampled: bool
    result: str | None  # 'negative' | 'positive' | 'pending' | None


def target(tests: Sequence[Test], today: date, result: str) -> date | None:
    """Which scheduled test a recorded ``result`` belongs to (None: no test to record).

    A sample (``SAMPLED``) is the latest test due by today not sampled yet. A result
    (negative/positive) is the oldest sampled test still waiting for one; with none, the
    latest test due by today not sampled yet (sample and result recorded at once)."""
    due = [t for t in tests if t.test_date <= today]
    unsampled = [t.test_date for t in due if not t.sampled]
    if result != SAMPLED:
        waiting = [t.test_date for t in due if t.sampled and t.result in (None, "pending")]
        if waiting:
            return min(waiting)
    return max(unsampled, default=None)


# --- the batch entry parser -------------------------------------------------------------------

_WORDS: Mapping[str, str] = {
    "阴性": NEGATIVE, "阴": NEGATIVE, "-": NEGATIVE, "negative": NEGATIVE, "neg": NEGATIVE,
    "阳性": POSITIVE, "阳": POSITIVE, "+": POSITIVE, "positive": POSITIVE, "pos": POSITIVE,
    "待出": SAMPLED, "待定": SAMPLED, "pending": SAMPLED, "已采样": SAMPLED, "已采": SAMPLED,
    "采样": SAMPLED,
}  # fmt: skip
# A room: an optional letter, digits, an optional "-digits" (1-301) and an optional letter not
# followed by another ("301B"; "301neg" is room 301 and "neg"); 室/号/房 after it is dropped.
_TOKEN = re.compile(
    r"(?P<room>[A-Za-z]?\d+(?:-\d+)?(?:[A-Za-z](?![A-Za-z]))?)(?:室|号|房)?"
    r"|(?P<word>阴性|阳性|待出|待定|已采样|已采|采样|阴|阳|[A-Za-z]+|[+\-])"
    r"|(?P<sep>[\s,.;:/、。]+)"
    r"|(?P<other>.)"
)

# Why a line (or a room of it) was refused: the template words each.
NO_RESULT = "no_result"  # rooms with no result after them
NO_ROOM = "no_room"  # a result with no room before it
UNKNOWN_WORD = "unknown_word"  # neither a room nor a result
DUPLICATE = "duplicate"  # the room was listed twice in the message
NOT_HERE = "not_here"  # nobody is staying in that room at the manager's site
NO_TEST = "no_test"  # the room has no test to record today (recorded, or not a test day)
EMPTY = "empty"  # nothing to record in the message


@dataclass(frozen=True)
class Entry:
    room: str
    result: str  # one of RESULTS
    line: int  # 1-based line of the message


@dataclass(frozen=True)
class Problem:
    line: int  # 0: the message as a whole
    text: str  # the line as typed
    reason: str  # one of the reasons above
    item: str = ""  # the room or word concerned


@dataclass(frozen=True)
class Batch:
    entries: tuple[Entry, ...] = ()
    problems: tuple[Problem, ...] = ()
    lines: tuple[str, ...] = ()  # the message's lines as typed

    @property
    def ok(self) -> bool:
        return bool(self.entries) and not self.problems


def normalise(text: str) -> str:
    """Full-width digits, letters and punctuation as their ASCII forms (NFKC), rooms in
    upper case: "３０１ａ" is room 301A."""
    return unicodedata.normalize("NFKC", text)


def room_key(room: str) -> str:
    """A room as compared: the site's list and what a manager types meet here."""
    return normalise(room).strip().upper()


def _line(number: int, text: str) -> tuple[list[Entry], list[Problem]]:
    entries: list[Entry] = []
    problems: list[Problem] = []
    rooms: list[str] = []
    for match in _TOKEN.finditer(normalise(text)):
        kind, value = match.lastgroup, match.group(match.lastgroup or 0)
        if kind == "room":
            rooms.append(room_key(value))
        elif kind == "word" and value.lower() in _WORDS:
            if not rooms:
                problems.append(Problem(number, text, NO_ROOM, value))
            entries += [Entry(r, _WORDS[value.lower()], number) for r in rooms]
            rooms = []
        elif kind != "sep":
            problems.append(Problem(number, text, UNKNOWN_WORD, value))
    if rooms:
        problems.append(Problem(number, text, NO_RESULT, " ".join(rooms)))
    return entries, problems


def parse(text: str) -> Batch:
    """The entries of a batch message, one or more per line: rooms, then their result
    ("301 阴性 302 阴性", "301阴 302阴", "301、302、305 阴性", "301 已采样"), and every
    line that cannot be read with its reason. A room listed twice is a problem of its
    second line (which result would be meant?)."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        found, wrong = _line(number, line)
        problems += wrong
        for entry in found:
            if entry.room in seen:
                problems.append(Problem(number, line, DUPLICATE, entry.room))
            seen.add(entry.room)
            entries.append(entry)
    if not entries and not problems:
        problems.append(Problem(0, text, EMPTY))
    return Batch(tuple(entries), tuple(problems), tuple(lines))


def check(batch: Batch, occupied: Iterable[str]) -> Batch:
    """The batch with a problem for every room nobody is staying in at the site
    (``occupied``: the rooms of its active stays)."""
    rooms = {room_key(r) for r in occupied}
    missing = tuple(Problem(e.line, batch.lines[e.line - 1], NOT_HERE, e.room)
                    for e in batch.entries if e.room not in rooms)  # fmt: skip
    return replace(batch, problems=batch.problems + missing)


def counts(results: Iterable[str]) -> dict[str, int]:
    """How many of each result (the summary reply: 已记录 12 人：阴性 11，阳性 1)."""
    found = dict.fromkeys(RESULTS, 0)
    for result in results:
        found[result] += 1
    return found
