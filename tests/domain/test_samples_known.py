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
    ({1: NONE, 4: NONE}, 2, s.SAMPLED, None),  # day 1 missed: a sample is no make-up
    ({1: NONE, 4: NONE}, 2, s.MAKE_UP, 1),  # day 1 missed: sampled a day late (补采)
    ({1: NONE, 4: NONE}, 2, s.NEGATIVE, None),  # a result never fills a missed day
    ({1: NONE, 4: NONE}, 4, s.NEGATIVE, 4),  # today's, not the missed one
    ({1: NONE, 4: NEG}, 4, s.NEGATIVE, None),  # sent twice: never day 1's (the review's case)
    ({1: NONE, 4: NEG}, 4, s.SAMPLED, None),
    ({1: NONE, 4: NONE}, 4, s.MAKE_UP, 1),
    ({1: NONE, 4: NONE, 7: NONE}, 8, s.MAKE_UP, 1),  # the oldest missed first
    ({1: NEG, 4: NONE}, 4, s.MAKE_UP, None),  # nothing missed: today's is no make-up
    ({1: SAMPLED, 4: NONE}, 4, s.MAKE_UP, None),
    ({1: PEND, 4: NONE}, 4, s.NEGATIVE, 1),  # the result waiting is day 1's
    ({1: SAMPLED, 4: NONE}, 4, s.POSITIVE, 1),
    ({1: PEND, 4: NONE}, 4, s.SAMPLED, 4),  # a new sample is today's
    ({1: NEG, 4: NONE}, 3, s.NEGATIVE, None),  # nothing due
    ({1: NEG, 4: NONE}, 1, s.SAMPLED, None),  # recorded already
    ({1: POS}, 1, s.NEGATIVE, None),
    ({1: PEND, 4: PEND}, 5, s.NEGATIVE, 1),  # oldest result first
    ({1: NONE, 4: PEND}, 5, s.POSITIVE, 4),  # a waiting sample, even with day 1 missed
    ({}, 1, s.NEGATIVE, None),
]


@pytest.mark.parametrize(("tests", "today", "result", "expected"), TARGETS)
def test_target_known(tests: dict[int, tuple[bool, str | None]], today: int, result: str,
                      expected: int | None) -> None:  # fmt: skip
    rows = [Test(day(n), sampled, res) for n, (sampled, res) in sorted(tests.items())]
    got = s.target(rows, day(today), result)
    assert got == (None if expected is None else day(expected))


REFUSALS = [
    # (tests, today, kind, why target gave None)
    ({1: NEG, 4: NONE}, 1, s.NEGATIVE, s.ALREADY),  # the same message twice
    ({1: NEG, 4: NONE}, 3, s.NEGATIVE, s.ALREADY),
    # day 1's result recorded today (day 4): the same again is a repeat, not day 4's test
    ([Test(day(1), True, "negative", day(4)), Test(day(4), False, None)], 4, s.NEGATIVE, s.ALREADY),
    # day 4 never sampled: not "already recorded" (day 1's) but a make-up first
    ({1: NEG, 4: NONE, 7: NONE}, 5, s.NEGATIVE, s.MISSED),
    ({1: NEG, 4: NONE, 7: NONE}, 8, s.NEGATIVE, s.MISSED),
    ({1: NONE, 4: NEG}, 4, s.NEGATIVE, s.ALREADY),
    ({1: NEG, 4: NONE}, 1, s.POSITIVE, s.NO_TEST),  # another result: never overwritten
    ({1: PEND}, 1, s.SAMPLED, s.ALREADY),
    ({1: NEG}, 1, s.SAMPLED, s.ALREADY),
    ({1: NONE, 4: NONE}, 2, s.NEGATIVE, s.MISSED),  # a make-up first
    ({1: NONE, 4: NONE}, 2, s.SAMPLED, s.MISSED),
    ({1: NEG, 4: NONE}, 3, s.SAMPLED, s.NO_TEST),
    ({1: NEG, 4: NONE}, 3, s.MAKE_UP, s.NO_TEST),
    ({}, 1, s.NEGATIVE, s.NO_TEST),
]


@pytest.mark.parametrize(("tests", "today", "kind", "expected"), REFUSALS)
def test_refusal_known(tests: dict[int, tuple[bool, str | None]] | list[Test], today: int,
                       kind: str, expected: str) -> None:  # fmt: skip
    rows = tests if isinstance(tests, list) else [
        Test(day(n), sampled, res) for n, (sampled, res) in sorted(tests.items())]  # fmt: skip
    assert s.target(rows, day(today), kind) is None
    assert s.refusal(rows, day(today), kind) == expected


ONE_TEST = [
    # (the test named by a card's button: day, (sampled, result) or None; today; kind; why)
    (1, NONE, 1, s.NEGATIVE, None),  # today's: sample and result at once
    (1, NONE, 1, s.SAMPLED, None),
    (1, NONE, 4, s.SAMPLED, None),  # a missed day's make-up
    (1, NONE, 4, s.NEGATIVE, s.MISSED),  # no result without a sample
    (1, PEND, 4, s.NEGATIVE, None),  # the waiting sample's result
    (1, NEG, 1, s.NEGATIVE, s.ALREADY),  # a double tap
    (1, PEND, 1, s.SAMPLED, s.ALREADY),
    (1, NEG, 1, s.POSITIVE, s.NO_TEST),  # never overwritten
    (4, NONE, 1, s.SAMPLED, s.NO_TEST),  # not due yet
    (1, None, 1, s.NEGATIVE, s.NO_TEST),  # no such test
]


@pytest.mark.parametrize(("n", "test", "today", "kind", "expected"), ONE_TEST)
def test_check_test_known(n: int, test: tuple[bool, str | None] | None, today: int, kind: str,
                          expected: str | None) -> None:  # fmt: skip
    row = None if test is None else Test(day(n), *test)
    assert s.check_test(row, day(today), kind) == expected


def test_card_rows() -> None:
    rows = [Test(day(1), *NONE), Test(day(4), *PEND), Test(day(7), *NONE), Test(day(14), *NONE)]
    assert s.card_rows(rows, day(7)) == [
        (day(1), (s.SAMPLED,)), (day(4), (N, P)), (day(7), (N, P, S))]  # fmt: skip
    assert s.card_rows(rows, day(5)) == [(day(1), (s.SAMPLED,)), (day(4), (N, P))]
    assert s.card_rows([Test(day(1), *POS), Test(day(4), *NONE)], day(4)) == []  # a case


# --- the parser: known answers -----------------------------------------------------------------

N, P, S, M = s.NEGATIVE, s.POSITIVE, s.SAMPLED, s.MAKE_UP

PARSED = [
    ("301 阴性 302 阴性 303 阳性", [("301", N), ("302", N), ("303", P)]),
    ("301阴 302阴", [("301", N), ("302", N)]),
    ("301阴性302阳性", [("301", N), ("302", P)]),
    ("301、302、305 阴性", [("301", N), ("302", N), ("305", N)]),
    ("301 302 阴性", [("301", N), ("302", N)]),
    ("301 已采样", [("301", S)]),
    ("301 待出\n302 待定\n303 pending\n304 已采", [("301", S), ("302", S), ("303", S), ("304", S)]),
    ("３０１　阴性，３０２：阳性", [("301", N), ("302", P)]),  # full-width digits, space, comma
    ("301-\n302+", [("301", N), ("302", P)]),  # a sign attached to its room
    ("301－\n302＋", [("301", N), ("302", P)]),  # full-width signs
    ("301- 302+", [("301", N), ("302", P)]),
    ("301、302- 303+", [("301", N), ("302", N), ("303", P)]),
    ("A-101 阴性", [("A-101", N)]),  # lettered rooms as the sites write them ("A-1203")
    ("a-1203+ B-12 阴，Ab-7-", [("A-1203", P), ("B-12", N), ("AB-7", N)]),
    ("301 补采 302 补采样", [("301", M), ("302", M)]),  # a missed test sampled late
    ("301 makeup", [("301", M)]),
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
    # "-" is negative only attached to its room: "301 - 305 阳性" is no "301 negative"
    ("301 - 305 阳性", [(1, s.RANGE, "301-305")]),
    ("301 -305 阳性", [(1, s.RANGE, "301-305")]),
    ("A-101 - A-105 阴", [(1, s.RANGE, "A-101-A-105")]),
    ("301 ～ 305 阴性", [(1, s.RANGE, "301~305")]),
    ("301到305阴性", [(1, s.RANGE, "301到305")]),
    ("301 -", [(1, s.SIGN_APART, "-")]),
    ("301 -\n302 +", [(1, s.SIGN_APART, "-"), (2, s.SIGN_APART, "+")]),
    ("301 阴 -", [(1, s.SIGN_APART, "-")]),
    ("301 neg-302 pos", [(1, s.SIGN_APART, "-")]),
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


def test_check_calls_a_joined_range_a_range() -> None:
    """ "301-305" reads as one room (building 1 room 301 is "1-301"); nobody is in it: a range
    of rooms (same width, low to high) is told as one."""
    batch = s.check(s.parse("301-305 阳性\n1-301 阴"), ["301", "305"])
    assert [(p.reason, p.item) for p in batch.problems] == [
        (s.RANGE, "301-305"), (s.NOT_HERE, "1-301")]  # fmt: skip
    assert s.check(s.parse("1-301 阴"), ["1-301"]).ok


def test_check_names_the_rooms_nobody_stays_in() -> None:
    batch = s.check(s.parse("301 阴\n305、306 阳"), ["301", "306", "307"])
    assert [(p.line, p.text, p.reason, p.item) for p in batch.problems] == [
        (2, "305、306 阳", s.NOT_HERE, "305")]  # fmt: skip
    assert not batch.ok
    assert s.check(s.parse("a301 阴"), ["A301"]).ok  # the site's rooms compared alike
    assert s.check(s.parse("３０１ 阴"), ["301"]).ok


def test_counts() -> None:
    assert s.counts([N, N, P, S]) == {N: 2, P: 1, S: 1}
    assert s.counts([S, M]) == {N: 0, P: 0, S: 2}  # a make-up is a sample
    assert s.counts([]) == {N: 0, P: 0, S: 0}


def test_room_key() -> None:
    assert s.room_key(" ａ３０１ ") == "A301"


# --- the parser: properties --------------------------------------------------------------------

ROOMS = st.from_regex(r"[A-Z]?[1-9][0-9]{1,3}|[A-Z]{1,2}-[1-9][0-9]{0,3}", fullmatch=True)
SPELLINGS = {
    N: ["阴性", "阴", "-", "negative", "neg", "NEG", "－"],
    P: ["阳性", "阳", "+", "positive", "pos", "POS", "＋"],
    S: ["已采样", "待出", "待定", "pending", "已采"],
    M: ["补采", "补采样", "makeup"],
}
SIGNS = {"-", "+", "－", "＋"}  # only attached to the room: "301-"
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
        result = draw(st.sampled_from(s.KINDS))
        word = draw(st.sampled_from(SPELLINGS[result]))
        sep = draw(SEPARATORS)
        typed = [r.translate(FULL_WIDTH) if draw(st.booleans()) else r for r in group]
        space = "" if word in SIGNS else draw(st.sampled_from(["", " ", "　"]))
        text = sep.join(typed) + space + word  # "301阴", "301-"
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
        assert entry.result in s.KINDS
        assert 1 <= entry.line <= len(text.splitlines())
    assert batch.ok == (bool(batch.entries) and not batch.problems)
    assert batch.entries or batch.problems  # never silently nothing


@settings(max_examples=30, deadline=None)
@given(batches(), st.sampled_from(["好", "xx", "？"]))
def test_one_unreadable_word_makes_the_batch_not_ok(case: tuple[str, list], junk: str) -> None:
    text, _ = case
    assert not s.parse(text + " " + junk).ok


DASHES = st.sampled_from(["-", "－", "~", "到", "至"])
SPACES = st.sampled_from([" ", "  ", "　", ""])


@settings(max_examples=60, deadline=None)
@given(ROOMS, ROOMS, DASHES, SPACES, st.sampled_from(["阴性", "阳性", "-", "+"]))
def test_a_range_between_two_rooms_is_never_a_result(first: str, last: str, dash: str,
                                                     space: str, word: str) -> None:  # fmt: skip
    """ "301 - 305 阳性": never 301 negative (nor any room of a range recorded quietly)."""
    if (dash in "-－" and not space) or first == last:
        return  # "301-305": one room token, refused by ``check`` if nobody is in it
    batch = s.parse(f"{first}{space}{dash}{space}{last} {word}")
    assert not batch.ok
    assert s.RANGE in [p.reason for p in batch.problems]
    assert first not in [e.room for e in batch.entries]


@settings(max_examples=60, deadline=None)
@given(ROOMS, st.sampled_from(sorted(SIGNS)))
def test_a_sign_attached_to_a_room_is_its_result(room: str, sign: str) -> None:
    batch = s.parse(room + sign)
    assert [(e.room, e.result) for e in batch.entries] == [(room, N if sign in "-－" else P)]
    assert batch.ok
