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
# A missed test sampled late (补采): a sample, on the oldest missed test; counted as a sample.
MAKE_UP = "make_up"
KINDS = (*RESULTS, MAKE_UP)  # what a batch entry records


def stored(kind: str) -> str:
    """The result a recorded kind is: a make-up is a sample."""
    return SAMPLED if kind == MAKE_UP else kind


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
    result_on: date | None = None  # the local day its result was recorded


def _waiting(t: Test) -> bool:
    return t.sampled and t.result in (None, "pending")


def target(tests: Sequence[Test], today: date, kind: str) -> date | None:
    """Which scheduled test a recorded ``kind`` belongs to (None: no test to record it on;
    ``refusal`` says why).

    A sample (``SAMPLED``) is today's test, not sampled yet. A make-up (``MAKE_UP``, 补采) is
    the oldest missed test (before today, never sampled). A result (negative/positive) is the
    oldest sampled test still waiting for one; with none, today's test not sampled yet (sample
    and result at once) — unless the same result was recorded today already (the message sent
    again). A result never goes to a missed past day: that would fill a test nobody took (a
    message sent twice, a double tap) and release the person on it."""
    due = [t for t in tests if t.test_date <= today]
    if kind == MAKE_UP:
        return min((t.test_date for t in due if t.test_date < today and not t.sampled),
                   default=None)  # fmt: skip
    if kind != SAMPLED:
        waiting = [t.test_date for t in due if _waiting(t)]
        if waiting:
            return min(waiting)
        if _repeated(tests, today, kind):
            return None
    return today if any(t.test_date == today and not t.sampled for t in due) else None


def _repeated(tests: Sequence[Test], today: date, kind: str) -> bool:
    """The same result was recorded for the stay today already (an earlier sample's): the
    message sent again, not today's own sample and result — never a test nobody took."""
    return any(t.result_on == today and t.result == kind for t in tests)


def refusal(tests: Sequence[Test], today: date, kind: str) -> str:
    """Why ``kind`` has no test to go to (``target`` gave None): ``ALREADY`` when the test it
    was meant for has it already (a message sent twice: nothing new to store), ``MISSED`` when
    a past test was never sampled (a make-up sample first: its result comes after), else
    ``NO_TEST``."""
    due = [t for t in tests if t.test_date <= today]
    sampled = [t for t in due if t.sampled]
    if kind == SAMPLED and any(t.test_date == today for t in sampled):
        return ALREADY
    if kind in (NEGATIVE, POSITIVE) and _repeated(tests, today, kind):
        return ALREADY
    if kind in (NEGATIVE, POSITIVE) and sampled:
        latest = max(sampled, key=lambda t: t.test_date)
        skipped = any(latest.test_date < t.test_date < today and not t.sampled for t in due)
        if latest.result == kind and not skipped:  # a missed test since: say that instead
            return ALREADY
    if kind != MAKE_UP and any(t.test_date < today and not t.sampled for t in due):
        return MISSED
    return NO_TEST


def check_test(test: Test | None, today: date, kind: str) -> str | None:
    """May ``kind`` (a result, or ``SAMPLED``) be recorded on this one test, named by a
    button of the stay's test card? None if it may, else why not (``ALREADY``, ``MISSED``,
    ``NO_TEST``). A sample on a missed past day is its make-up (补采); a result needs the
    test sampled, or the test to be today's (sample and result at once)."""
    if test is None or test.test_date > today:
        return NO_TEST
    if kind == SAMPLED:
        return ALREADY if test.sampled else None
    if test.result == kind:
        return ALREADY
    if test.result in (NEGATIVE, POSITIVE):
        return NO_TEST  # a result is never overwritten
    if test.sampled or test.test_date == today:
        return None
    return MISSED


def card_rows(tests: Sequence[Test], today: date) -> list[tuple[date, tuple[str, ...]]]:
    """The buttons of a stay's test card, a row per test that can take one: today's test
    (negative, positive, sampled), a sample waiting for its result (negative, positive), a
    missed past test (its make-up sample). None once a test was positive (a case: no
    further test is chased)."""
    if any(t.result == POSITIVE for t in tests):
        return []
    rows: list[tuple[date, tuple[str, ...]]] = []
    for t in tests:
        if _waiting(t) and t.test_date <= today:
            rows.append((t.test_date, (NEGATIVE, POSITIVE)))
        elif not t.sampled and t.test_date == today:
            rows.append((t.test_date, (NEGATIVE, POSITIVE, SAMPLED)))
        elif not t.sampled and t.test_date < today:
            rows.append((t.test_date, (SAMPLED,)))
    return rows


# --- the batch entry parser -------------------------------------------------------------------

_WORDS: Mapping[str, str] = {
    "阴性": NEGATIVE, "阴": NEGATIVE, "-": NEGATIVE, "negative": NEGATIVE, "neg": NEGATIVE,
    "阳性": POSITIVE, "阳": POSITIVE, "+": POSITIVE, "positive": POSITIVE, "pos": POSITIVE,
    "待出": SAMPLED, "待定": SAMPLED, "pending": SAMPLED, "已采样": SAMPLED, "已采": SAMPLED,
    "采样": SAMPLED, "补采样": MAKE_UP, "补采": MAKE_UP, "makeup": MAKE_UP,
}  # fmt: skip
_SIGNS = ("-", "+")  # a result only attached to its room: "301-", "301+"
# A room, as the sites' rooms are written (bot.domain.sites: 1–8 of A-Z, 0-9 and "-", e.g.
# "A-1203"): letters, a dash and digits ("A-101", not a result word: "neg-1" is no room); or
# an optional letter, digits and an optional "-digits" ("1-301"); then an optional letter not
# followed by another ("301B"; "301neg" is room 301 and "neg"); 室/号/房 after it is dropped.
_TOKEN = re.compile(
    r"(?P<room>(?:(?!(?i:neg|pos))[A-Za-z]{1,4}-\d+|[A-Za-z]?\d+(?:-\d+)?)"
    r"(?:[A-Za-z](?![A-Za-z]))?)(?:室|号|房)?"
    r"|(?P<word>阴性|阳性|待出|待定|已采样|已采|补采样|补采|采样|阴|阳|[A-Za-z]+|[+\-])"
    r"|(?P<range>[~—–至到])"
    r"|(?P<sep>[\s,.;:/、。]+)"
    r"|(?P<other>.)"
)
_SPAN = re.compile(r"(\d+)-(\d+)")  # "301-305": a range typed as one token, if no such room

# Why a line (or a room of it) was refused: the template words each.
NO_RESULT = "no_result"  # rooms with no result after them
NO_ROOM = "no_room"  # a result with no room before it
UNKNOWN_WORD = "unknown_word"  # neither a room nor a result
SIGN_APART = "sign_apart"  # "-"/"+" not attached to its room ("301 -": write "301-")
RANGE = "range"  # "301 - 305": ranges are not read (which result? which rooms?)
DUPLICATE = "duplicate"  # the room was listed twice in the message
NOT_HERE = "not_here"  # nobody is staying in that room at the manager's site
NO_TEST = "no_test"  # the room has no test to record today (recorded, or not a test day)
MISSED = "missed"  # a past test was never sampled: a make-up (补采) first
ALREADY = "already"  # the same result is recorded already: nothing new (not refused)
EMPTY = "empty"  # nothing to record in the message


@dataclass(frozen=True)
class Entry:
    room: str
    result: str  # one of KINDS
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
    tokens = [(m.lastgroup, m.group(m.lastgroup or 0)) for m in _TOKEN.finditer(normalise(text))]
    for i, (kind, value) in enumerate(tokens):
        before = tokens[i - 1][0] if i else None
        after = next(((k, v) for k, v in tokens[i + 1 :] if k != "sep"), (None, ""))
        if kind == "room":
            rooms.append(room_key(value))
        elif (kind == "range" or (kind == "word" and value in _SIGNS and before != "room")) \
                and rooms and after[0] == "room":  # fmt: skip
            # "301 - 305", "301到305": a range, or a sign apart from its room? Neither is read.
            problems.append(Problem(number, text, RANGE, f"{rooms[-1]}{value}{room_key(after[1])}"))
            rooms = []
        elif kind == "word" and value in _SIGNS and before != "room":
            problems.append(Problem(number, text, SIGN_APART, value))
            rooms = []
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


def _looks_like_range(room: str) -> bool:
    span = _SPAN.fullmatch(room)
    return bool(span) and len(span[1]) == len(span[2]) and int(span[1]) < int(span[2])


def check(batch: Batch, occupied: Iterable[str]) -> Batch:
    """The batch with a problem for every room nobody is staying in at the site
    (``occupied``: the rooms of its active stays); "301-305" is no room there: a range."""
    rooms = {room_key(r) for r in occupied}
    missing = tuple(Problem(e.line, batch.lines[e.line - 1],
                            RANGE if _looks_like_range(e.room) else NOT_HERE, e.room)
                    for e in batch.entries if e.room not in rooms)  # fmt: skip
    return replace(batch, problems=batch.problems + missing)


def counts(kinds: Iterable[str]) -> dict[str, int]:
    """How many of each result (the summary reply: 已记录 12 人：阴性 11，阳性 1); a make-up
    is a sample."""
    found = dict.fromkeys(RESULTS, 0)
    for kind in kinds:
        found[stored(kind)] += 1
    return found
