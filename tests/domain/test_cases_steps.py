"""The case report's step table, driven directly (known answers, no bot)."""

from __future__ import annotations

import time as clock
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.domain import cases as flow
from bot.domain.invalid import Invalid
from bot.domain.steps import Lookup

NOW = datetime(2020, 12, 5, 15, 0, tzinfo=timezone(timedelta(hours=8)))
CTX = flow.Context(villages={"xf": ("XF01", "XF02"), "sq": ("SQ01",)}, now=NOW)
ID = "440304199001011233"


def choose(step: str, value: str, data: dict | None = None):
    return flow.apply_choice(flow.STEPS[step], value, data or {}, CTX)


CHOICES = [
    ("kind", {}, ("confirmed", "suspected", "asymptomatic", "pneumonia")),
    ("discovered", {}, ("now", "1h")),
    ("person", {}, ("new",)),
    ("phone", {}, ("skip",)),
    ("id_number", {}, ("skip",)),
    ("village", {}, ("xf", "sq")),
    ("grid", {"village": "xf"}, ("XF01", "XF02")),
    ("grid", {}, ()),
    ("grid", {"village": None}, ()),
    ("location", {}, ("skip",)),
    ("summary", {}, ("submit", "cancel")),
]


@pytest.mark.parametrize(("step", "data", "expected"), CHOICES)
def test_the_buttons(step, data, expected) -> None:
    assert flow.STEPS[step].values(data, CTX) == expected


PRESSES = [
    ("kind", "suspected", {}, {"kind": "suspected"}),
    ("kind", "flu", {}, Invalid("choice_stale")),
    ("person", "new", {"report_id": 7, "report_ref": "XF-20201026-0001"},
     {"report_id": None, "report_ref": None}),
    ("person", "old", {}, Invalid("choice_stale")),
    ("name", "张三", {}, Invalid("choice_stale")),
    ("phone", "skip", {"phone": "13800138000"}, {"phone": None}),
    ("id_number", "skip", {}, {"id_number": None}),
    ("village", "sq", {"grid": "XF01"}, {"village": "sq", "grid": None}),
    ("grid", "XF01", {"village": "xf"}, {"grid": "XF01"}),
    ("grid", "SQ01", {"village": "xf"}, Invalid("choice_stale")),
    ("location", "skip", {}, {"latitude": None, "longitude": None, "located": True}),
    ("summary", "submit", {}, {"summary": "submit"}),
]  # fmt: skip


@pytest.mark.parametrize(("step", "value", "data", "expected"), PRESSES)
def test_pressed_buttons(step, value, data, expected) -> None:
    assert choose(step, value, data) == expected


TEXTS = [
    ("person", "xf-20201026-0042", Lookup("report", "XF-20201026-0042")),
    ("person", "张三", Invalid("case_ref_format")),
    ("name", "张三", {"name": "张三"}),
    ("phone", "13800138000", {"phone": "13800138000"}),
    ("phone", "12", Invalid("phone_format")),
    ("id_number", ID, {"id_number": ID}),
    ("id_number", "123", Invalid("id_length", {"length": 3})),
    ("address", "先锋街12号", {"address": "先锋街12号"}),
    ("status", " 已居家隔离 ", {"status": "已居家隔离"}),
    ("status", "x" * 101, Invalid("too_long", {"limit": 100})),
    ("status", "", Invalid("text_empty")),
]


@pytest.mark.parametrize(("step", "answer", "expected"), TEXTS)
def test_typed_answers(step, answer, expected) -> None:
    assert flow.STEPS[step].text(answer, {}, CTX) == expected


def test_a_typed_discovery_time_is_stored_in_utc_whatever_the_machine_zone(monkeypatch) -> None:
    """14:30 in the town is 06:30 UTC, also on a server set to the town's own zone."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    clock.tzset()
    try:
        answer = flow.STEPS["discovered"].text("14:30", {}, CTX)
    finally:
        monkeypatch.undo()
        clock.tzset()
    assert answer == {"discovered_at": "2020-12-05T06:30:00+00:00"}


def test_location_pin() -> None:
    answer = flow.STEPS["location"].location
    assert answer(45.1234567, 126.7654321) == {
        "latitude": 45.123457, "longitude": 126.765432, "located": True,
    }  # fmt: skip
    assert answer(90, 180) == {"latitude": 90, "longitude": 180, "located": True}
    assert answer(-90, -180) == {"latitude": -90, "longitude": -180, "located": True}
    for lat, lon in ((90.1, 0), (-90.1, 0), (0, 180.1), (0, -180.1)):
        assert answer(lat, lon) == Invalid("case_location_invalid")


NEXT = [
    ("kind", {}, "discovered"),
    ("kind", {"case_id": 4, "report_id": 7}, "location"),
    ("kind", {"case_id": 4}, "location"),
    ("discovered", {}, "person"),
    ("person", {}, "name"),
    ("person", {"report_id": 7}, "location"),
    ("person", {"report_id": None}, "name"),
    ("name", {}, "phone"),
    ("phone", {}, "id_number"),
    ("id_number", {}, "village"),
    ("village", {}, "grid"),
    ("grid", {}, "address"),
    ("address", {}, "location"),
    ("location", {"report_id": 7}, "status"),
    ("status", {"report_id": 7}, "summary"),
    ("summary", {}, "summary"),
]


@pytest.mark.parametrize(("current", "data", "expected"), NEXT)
def test_the_next_question(current, data, expected) -> None:
    assert flow.next_step(current, data) == expected


def test_advance_merges_and_moves_on() -> None:
    data = {"kind": "confirmed"}
    assert flow.advance("person", {"report_id": 7, "name": "张三"}, data) == (
        "location", {"kind": "confirmed", "report_id": 7, "name": "张三"}
    )  # fmt: skip
    assert data == {"kind": "confirmed"}
    assert flow.advance("person", {"report_id": None}, {"report_id": 7}) == (
        "name", {"report_id": None}
    )  # fmt: skip


COMPLETE = {"kind": "confirmed", "name": "张三", "village": "xf", "grid": "XF01",
            "address": "先锋街12号", "status": "已隔离", "located": True,
            "discovered_at": "2020-12-05T06:30:00+00:00"}  # fmt: skip
MISSING = [
    (COMPLETE, None),
    ({}, "kind"),
    ({**COMPLETE, "kind": None}, "kind"),
    ({**COMPLETE, "discovered_at": None}, "discovered"),
    ({**COMPLETE, "name": ""}, "person"),
    ({**COMPLETE, "village": None}, "village"),
    ({**COMPLETE, "grid": None}, "grid"),
    ({**COMPLETE, "address": None}, "address"),
    ({**COMPLETE, "status": None}, "status"),
    ({**COMPLETE, "kind": "flu"}, "kind"),
    ({**COMPLETE, "kind": "flu", "grid": "SQ01"}, "kind"),
    ({**COMPLETE, "grid": "SQ01"}, "village"),
    ({**COMPLETE, "village": "zz"}, "village"),
    ({**COMPLETE, "located": False}, "location"),
    ({k: v for k, v in COMPLETE.items() if k != "located"}, "location"),
]


@pytest.mark.parametrize(("data", "expected"), MISSING)
def test_what_a_draft_lacks(data, expected) -> None:
    assert flow.missing_for_submit(data, CTX) == expected


def test_overdue_slots() -> None:
    now = datetime(2020, 10, 26, 2, 7, tzinfo=UTC)
    # 2020-10-26 02:07 UTC is 1603678020 s after the epoch: 1781864 whole 15-minute slots
    assert flow.overdue_slot(now, 15) == 1781864
    assert flow.overdue_slot(now.astimezone(timezone(timedelta(hours=8))), 15) == 1781864
    assert flow.slot_start(1781864, 15) == datetime(2020, 10, 26, 2, 0, tzinfo=UTC)
    assert flow.overdue_slot(datetime(2020, 10, 26, 2, 14, 59, tzinfo=UTC), 15) == 1781864
    assert flow.overdue_slot(datetime(2020, 10, 26, 2, 15, tzinfo=UTC), 15) == 1781865
    assert flow.overdue_slot(now, 60) == 445466
