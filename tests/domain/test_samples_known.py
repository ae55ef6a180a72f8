"""bot.domain.samples: the test schedule of a stay, which test a result belongs to, and the
batch-entry parser — known answers written out by hand, and properties of the parser."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import samples as s
from bot.domain.samples import Entry, Problem, Test

D = date(2020, 10, 26)


def day(n: int) -> date:
    return D + timedelta(days=n - 1)


# --- the schedule --------------------------------------------------------------------------

SCHEDULES = [
    # (test days, period length, assigned on day, expected test days)
    ((1, 4, 7, 14), 14, 1, [1, 4, 7, 14]),
    ((1, 7, 14), 14, 1, [1, 7, 14]),
    ((14, 1, 7, 7), 14, 1, [1, 7, 14]),  # unsorted, repeated
    ((1, 4, 7, 14), 14, 2, [2, 4, 7, 14]),  # day 1 missed: tested on the assignment day
    ((1, 4, 7, 14), 14, 5, [5, 7, 14]),  # days 1 and 4 missed: ONE test on day 5
    ((1, 4, 7, 14), 14, 4, [4, 7, 14]),  # day 1 missed, day 4 is the assignment day
    ((1, 4, 7, 14), 14, 14, [14]),
    ((1, 7, 21), 14, 1, [1, 7]),  # a test day after the period's end: dropped
    ((1, 7), 7, 9, [9]),  # assigned after the end: still tested once (fail safe)
    ((), 14, 1, []),
    ((3,), 14, 1, [3]),
]


@pytest.mark.parametrize(("test_days", "length", "assigned", "expected"), SCHEDULES)
def test_schedule_known(test_days: tuple[int, ...], length: int, assigned: int,
                        expected: list[int]) -> None:  # fmt: skip
    got = s.schedule(D, day(length), test_days, day(assigned))
    assert got == [day(n) for n in expected]


# --- which test a result is for --------------------------------------------------------------

NONE, SAMPLED, NEG, POS, PEND = (False, None), (True, None), (True, "negative"), \
    (True, "positive"), (True, "pending")  # fmt: skip

TARGETS = [
    # (tests by day number: (sampled, result), today, recorded result, expected day or None)
    ({1: NONE, 4: NONE}, 1, s.NEGATIVE, 1),
    ({1: NONE, 4: NONE}, 1, s.SAMPLED, 1),
    ({1: NONE, 4: NONE}, 2, s.SAMPLED, 1),  # day 1 missed: sampled a day late
    ({1: NONE, 4: NONE}, 4, s.NEGATIVE, 4),  # the latest due, not the missed one
    ({1: PEND, 4: NONE}, 4, s.NEGATIVE, 1),  # the result waiting is day 1's
    ({1: SAMPLED, 4: NONE}, 4, s.POSITIVE, 1),
    ({1: PEND, 4: NONE}, 4, s.SAMPLED, 4),  # a new sample is today's
    ({1: NEG, 4: NONE}, 3, s.NEGATIVE, None),  # nothing due
    ({1: NEG, 4: NONE}, 1, s.SAMPLED, None),  # recorded already
    ({1: POS}, 1, s.NEGATIVE, None),
    ({1: PEND, 4: PEND}, 5, s.NEGATIVE, 1),  # oldest result first
    ({}, 1, s.NEGATIVE, None),
]


@pytest.mark.parametrize(("tests", "today", "result", "expected"), TARGETS)
def test_target_known(tests: dict[int, tuple[bool, str | None]], today: int, result: str,
                      expected: int | None) -> None:  # fmt: skip
    rows = [Test(day(n), sampled, res) for n, (sampled, res) in sorted(tests.items())]
    got = s.target(rows, day(today), result)
    assert got == (None if expected is None else day(expected))


# --- the parser: known answers -----------------------------------------------------------------

N, P, S = s.NEGATIVE, s.POSITIVE, s.SAMPLED

PARSED = [
    ("301 阴性 302 阴性 303 阳性", [("301", N), ("302", N), ("303", P)]),
    ("301阴 302阴", [("301", N), ("302", N)]),
    ("301阴性302阳性", [("301", N), ("302", P)]),
    ("301、302、305 阴性", [("301", N), ("302", N), ("305", N)]),
    ("301 302 阴性", [("301", N), ("302", N)]),
    ("301 已采样", [("301", S)]),
    ("301 待出\n302 待定\n303 pending\n304 已采", [("301", S), ("302", S), ("303", S), ("304", S)]),
    ("３０１　阴性，３０２：阳性", [("301", N), ("302", P)]),  # full-width digits, space, comma
    ("301 -\n302 +", [("301", N), ("302", P)]),
    ("301 －\n302 ＋", [("301", N), ("302", P)]),  # full-width signs
    ("301- 302+", [("301", N), ("302", P)]),
    ("301 negative 302 NEG 303 Positive 304 pos", [("301", N), ("302", N), ("303", P), ("304", P)]),
    ("301neg", [("301", N)]),
    ("a301 阴性 B302 阳", [("A301", N), ("B302", P)]),  # rooms in upper case
    ("301B 阴", [("301B", N)]),
    ("1-301 阴性", [("1-301", N)]),
    ("301室 阴性，302号 阳性。", [("301", N), ("302", P)]),
    ("  301 阴性  \n\n 302 阴性 ", [("301", N), ("302", N)]),
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parse_known(text: str, expected: list[tuple[str, str]]) -> None:
    batch = s.parse(text)
    assert batch.problems == ()
    assert [(e.room, e.result) for e in batch.entries] == expected
    assert batch.ok


REFUSED = [
    # (text, expected problems: (line, reason, item))
    ("301 302", [(1, s.NO_RESULT, "301 302")]),
    ("阴性", [(1, s.NO_ROOM, "阴性")]),
    ("301 阴性 阳性", [(1, s.NO_ROOM, "阳性")]),
    ("301 好 阴性", [(1, s.UNKNOWN_WORD, "好")]),
    ("301 ok", [(1, s.UNKNOWN_WORD, "ok"), (1, s.NO_RESULT, "301")]),
    ("301 阴性\n302 阴性\n301 阳性", [(3, s.DUPLICATE, "301")]),
    ("301、301 阴性", [(1, s.DUPLICATE, "301")]),
    ("", [(0, s.EMPTY, "")]),
    ("  \n ，", [(0, s.EMPTY, "")]),
    ("301 阴性\n302", [(2, s.NO_RESULT, "302")]),
]


@pytest.mark.parametrize(("text", "expected"), REFUSED)
def test_parse_refused_known(text: str, expected: list[tuple[int, str, str]]) -> None:
    batch = s.parse(text)
    assert [(p.line, p.reason, p.item) for p in batch.problems] == expected
    assert not batch.ok


def test_problem_keeps_the_line_as_typed() -> None:
    batch = s.parse("301 阴性\n３０２ 好")
    assert batch.problems == (Problem(2, "３０２ 好", s.UNKNOWN_WORD, "好"),
                              Problem(2, "３０２ 好", s.NO_RESULT, "302"))  # fmt: skip
    assert batch.entries == (Entry("301", N, 1),)


def test_check_names_the_rooms_nobody_stays_in() -> None:
    batch = s.check(s.parse("301 阴\n305、306 阳"), ["301", "306", "307"])
    assert [(p.line, p.text, p.reason, p.item) for p in batch.problems] == [
        (2, "305、306 阳", s.NOT_HERE, "305")]  # fmt: skip
    assert not batch.ok
    assert s.check(s.parse("a301 阴"), ["A301"]).ok  # the site's rooms compared alike
    assert s.check(s.parse("３０１ 阴"), ["301"]).ok


def test_counts() -> None:
    assert s.counts([N, N, P, S]) == {N: 2, P: 1, S: 1}
    assert s.counts([]) == {N: 0, P: 0, S: 0}


def test_room_key() -> None:
    assert s.room_key(" ａ３０１ ") == "A301"


# --- the parser: properties --------------------------------------------------------------------

ROOMS = st.from_regex(r"[A-Z]?[1-9][0-9]{1,3}", fullmatch=True)
SPELLINGS = {
    N: ["阴性", "阴", "-", "negative", "neg", "NEG", "－"],
    P: ["阳性", "阳", "+", "positive", "pos", "POS", "＋"],
    S: ["已采样", "待出", "待定", "pending", "已采"],
}
SEPARATORS = st.sampled_from([" ", "、", ",", "，", "  ", "　", ";"])
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@st.composite
def batches(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    """A message as a manager might type it, and the (room, result) pairs it means."""
    rooms = draw(st.lists(ROOMS, min_size=1, max_size=12, unique=True))
    expected: list[tuple[str, str]] = []
    lines: list[str] = []
    i = 0
    while i < len(rooms):
        size = draw(st.integers(1, 3))
        group = rooms[i : i + size]
        i += size
        result = draw(st.sampled_from(s.RESULTS))
        word = draw(st.sampled_from(SPELLINGS[result]))
        sep = draw(SEPARATORS)
        typed = [r.translate(FULL_WIDTH) if draw(st.booleans()) else r for r in group]
        text = sep.join(typed) + draw(st.sampled_from(["", " ", "　"])) + word  # "301阴"
        if draw(st.booleans()) or not lines:
            lines.append(text)
        else:
            lines[-1] += draw(SEPARATORS) + text
        expected += [(r, result) for r in group]
    return "\n".join(lines), expected


@settings(max_examples=60, deadline=None)  # each example builds a whole floor's message
@given(batches())
def test_parse_reads_back_what_was_meant(case: tuple[str, list[tuple[str, str]]]) -> None:
    text, expected = case
    batch = s.parse(text)
    assert batch.problems == ()
    assert [(e.room, e.result) for e in batch.entries] == expected


@given(st.text())
def test_parse_never_raises_and_never_invents_a_room(text: str) -> None:
    batch = s.parse(text)
    squashed = s.normalise(text).upper()
    for entry in batch.entries:
        assert entry.room in squashed
        assert entry.result in s.RESULTS
        assert 1 <= entry.line <= len(text.splitlines())
    assert batch.ok == (bool(batch.entries) and not batch.problems)
    assert batch.entries or batch.problems  # never silently nothing


@settings(max_examples=30, deadline=None)
@given(batches(), st.sampled_from(["好", "xx", "？"]))
def test_one_unreadable_word_makes_the_batch_not_ok(case: tuple[str, list], junk: str) -> None:
    text, _ = case
    assert not s.parse(text + " " + junk).ok
