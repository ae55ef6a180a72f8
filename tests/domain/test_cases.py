"""The discovered-case rules: reference and direct-report number parsers (examples and
properties), the order of questions, the deadline arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import cases
from bot.domain.invalid import Invalid

NOW = datetime(2020, 10, 26, 15, 0, tzinfo=UTC)
ASCII = "0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
FULLWIDTH = str.maketrans(ASCII, "".join(chr(ord(c) + 0xFEE0) for c in ASCII))


def code(result: object) -> str | None:
    return result.code if isinstance(result, Invalid) else None


# --- reference numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("XF-20201026-0001", "XF-20201026-0001"),
        ("xf-20201026-0001", "XF-20201026-0001"),
        (" XF 20201026 0001 ", "XF-20201026-0001"),
        ("XF202010260001", "XF-20201026-0001"),
        ("ＸＦ－２０２０１０２６－０００１", "XF-20201026-0001"),
        ("XF—20201026—0042", "XF-20201026-0042"),
    ],
)
def test_ref_examples(text: str, expected: str) -> None:
    assert cases.parse_report_ref(text) == expected


@pytest.mark.parametrize(
    "text", ["", "XF", "XF-2020-0001", "XF-20201332-0001", "XF-20201026-001", "1-20201026-0001",
             "XF-20201026-00011", "XF-BL-20201026-01", "x" * 500],
)  # fmt: skip
def test_ref_refused(text: str) -> None:
    assert code(cases.parse_report_ref(text)) == "case_ref_format"


ref_parts = st.tuples(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=6),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    st.integers(min_value=0, max_value=9999),
)


@given(ref_parts, st.sampled_from(["-", " - ", "", "–", " "]), st.booleans(), st.booleans())
def test_ref_round_trips_however_typed(parts, dash, lower, full_width) -> None:
    town, day, number = parts
    canonical = f"{town}-{day:%Y%m%d}-{number:04d}"
    typed = f"{town}{dash}{day:%Y%m%d}{dash}{number:04d}"
    typed = typed.lower() if lower else typed
    typed = typed.upper().translate(FULLWIDTH) if full_width else typed
    assert cases.parse_report_ref(typed) == canonical
    assert cases.parse_report_ref(canonical) == canonical


@given(st.text(max_size=200))
def test_ref_never_raises(text: str) -> None:
    result = cases.parse_report_ref(text)
    assert isinstance(result, Invalid) or cases.parse_report_ref(result) == result


# --- direct report numbers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5001160001-2020-0042", "5001160001-2020-0042"), (" 5001 1600 01 ", "5001160001"),
     ("ab12", "AB12"), ("１２３４５６", "123456")],
)  # fmt: skip
def test_report_no_examples(text: str, expected: str) -> None:
    assert cases.parse_direct_report_no(text) == expected


@pytest.mark.parametrize("text", ["", "12", "-1234", "1234-", "12#45", "好的", "1" * 41])
def test_report_no_refused(text: str) -> None:
    assert code(cases.parse_direct_report_no(text)) == "case_report_no_format"


@given(st.from_regex(r"[A-Z0-9][A-Z0-9-]{2,38}[A-Z0-9]", fullmatch=True))
def test_report_no_round_trips(number: str) -> None:
    assert cases.parse_direct_report_no(number) == number
    assert cases.parse_direct_report_no(f"  {number.lower()} ") == number


@given(st.text(max_size=200))
def test_report_no_never_raises(text: str) -> None:
    result = cases.parse_direct_report_no(text)
    assert isinstance(result, Invalid) or cases.parse_direct_report_no(result) == result


@given(st.text(max_size=500))
def test_status_never_raises(text: str) -> None:
    result = cases.parse_status(text)
    assert isinstance(result, Invalid) or 0 < len(result) <= cases.STATUS_LIMIT


@given(st.floats(allow_nan=True), st.floats(allow_nan=True))
def test_location_answer_accepts_only_coordinates(latitude: float, longitude: float) -> None:
    result = cases.location_answer(latitude, longitude)
    valid = -90 <= latitude <= 90 and -180 <= longitude <= 180
    assert isinstance(result, Invalid) != valid


# --- the conversation, the deadline ----------------------------------------------------


def test_person_from_a_report_skips_to_the_location() -> None:
    assert cases.next_step("person", {"report_id": 3}) == "location"
    assert cases.next_step("person", {"report_id": None}) == "name"
    assert cases.next_step("address", {}) == "location"
    assert cases.next_step("status", {}) == "summary"


def test_choices_must_be_offered() -> None:
    ctx = cases.Context(villages={"xf": ("XF01", "XF02")}, now=NOW)
    grid = cases.STEPS["grid"]
    assert code(cases.apply_choice(grid, "SQ01", {"village": "xf"}, ctx)) == "choice_stale"
    assert cases.apply_choice(grid, "XF02", {"village": "xf"}, ctx) == {"grid": "XF02"}


def test_missing_for_submit() -> None:
    ctx = cases.Context(villages={"xf": ("XF01",)}, now=NOW)
    full = {"kind": "suspected", "name": "张三", "village": "xf", "grid": "XF01",
            "address": "1栋", "status": "居家", "located": True,
            "discovered_at": "2020-10-26T06:00:00+00:00"}  # fmt: skip
    assert cases.missing_for_submit(full, ctx) is None
    assert cases.missing_for_submit({**full, "located": False}, ctx) == "location"
    assert cases.missing_for_submit({**full, "grid": "SQ01"}, ctx) == "village"
    assert cases.missing_for_submit({**full, "name": ""}, ctx) == "person"


def test_remaining_minutes() -> None:
    now = datetime(2020, 10, 26, 2, 0, tzinfo=UTC)
    deadline = cases.deadline(now)
    assert cases.remaining_minutes(deadline, now) == 120
    assert cases.remaining_minutes(deadline, now + timedelta(minutes=119, seconds=1)) == 1
    assert cases.remaining_minutes(deadline, deadline) == 0
    assert cases.remaining_minutes(deadline, deadline + timedelta(hours=1)) == 0


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                    timezones=st.just(UTC)), st.integers(min_value=5, max_value=120))  # fmt: skip
def test_overdue_slots_partition_time(now: datetime, minutes: int) -> None:
    slot = cases.overdue_slot(now, minutes)
    assert cases.slot_start(slot, minutes) <= now < cases.slot_start(slot + 1, minutes)
