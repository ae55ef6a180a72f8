"""Transfers and vehicles (bot.domain.transfers, bot.domain.vehicles): known answers for the
state machine, the stages' deadlines, the ladder, a vehicle's availability; plates as written
(property tests over the plate parser's language)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import transfers, vehicles
from bot.domain.escalation import Rung
from bot.domain.invalid import Invalid
from bot.domain.parsing import PLATE_PROVINCES, parse_plate
from bot.domain.steps import Lookup
from tests.domain.test_parsing import PLATE_BODIES

T0 = datetime(2020, 11, 20, 2, 0, tzinfo=UTC)

# Every (state, event) pair: the state it leads to, None where the event is refused.
TABLE = {
    "requested": {"dispatch": "dispatched", "acknowledge": None, "pick_up": None,
                  "deliver": None, "cancel": "cancelled"},
    "dispatched": {"dispatch": None, "acknowledge": "acknowledged", "pick_up": "picked_up",
                   "deliver": None, "cancel": "cancelled"},
    "acknowledged": {"dispatch": None, "acknowledge": None, "pick_up": "picked_up",
                     "deliver": None, "cancel": "cancelled"},
    "picked_up": {"dispatch": None, "acknowledge": None, "pick_up": None,
                  "deliver": "delivered", "cancel": None},  # people on board: never dropped
    "delivered": {"dispatch": None, "acknowledge": None, "pick_up": None, "deliver": None,
                  "cancel": None},
    "cancelled": {"dispatch": None, "acknowledge": None, "pick_up": None, "deliver": None,
                  "cancel": None},
}  # fmt: skip


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    [(s, e, to) for s, row in TABLE.items() for e, to in row.items()],
)
def test_state_machine(state: str, event: str, expected: str | None) -> None:
    assert transfers.after(state, event) == expected


def test_table_covers_every_state_and_event() -> None:
    assert set(TABLE) == set(transfers.STATES)
    assert all(set(row) == set(transfers.EVENTS) for row in TABLE.values())


MINUTES = {"dispatch_minutes": 30, "urgent_dispatch_minutes": 10, "ack_minutes": 15,
           "pickup_minutes": 30, "delivery_minutes": 60}  # fmt: skip


@pytest.mark.parametrize(
    ("stage", "urgency", "after"),
    [
        ("requested", "normal", 30),
        ("requested", "urgent", 10),
        ("dispatched", "normal", 15),  # the 15 minutes, urgent or not
        ("acknowledged", "urgent", 30),  # from the crew's 收到 to their 已接到
        ("picked_up", "normal", 60),  # from the pick-up to the delivery
        ("dispatched", "urgent", 15),
    ],
)
def test_stage_deadline(stage: str, urgency: str, after: int) -> None:
    assert transfers.deadline(stage, T0, urgency, MINUTES) == T0 + timedelta(minutes=after)


def test_ladder_reminds_then_village_admin_at_the_deadline_then_the_group() -> None:
    assert transfers.ladder(5, 15) == (
        Rung("assignee", -5),
        Rung("village_admin", 0),
        Rung("leadership", 15),
    )


def test_reason() -> None:
    assert transfers.parse_reason("  人员已自行前往 ") == "人员已自行前往"
    assert transfers.parse_reason("   ") == Invalid("text_empty")
    assert transfers.parse_reason("很" * 201) == Invalid("too_long", {"limit": 200})
    assert transfers.parse_reason("很" * 200) == "很" * 200


@pytest.mark.parametrize(
    ("state", "available_at", "expected"),
    [
        ("available", None, True),
        ("available", T0 + timedelta(hours=1), True),  # a stale time does not hold it back
        ("dispatched", None, False),
        ("dispatched", T0, False),
        ("out_of_service", None, False),
        ("out_of_service", T0 - timedelta(hours=1), False),
        ("disinfecting", None, False),  # when it ends unknown: not free (fail safe)
        ("disinfecting", T0 + timedelta(seconds=1), False),
        ("disinfecting", T0, True),  # the disinfection ends now
        ("disinfecting", T0 - timedelta(minutes=1), True),
    ],
)
def test_dispatchable(state: str, available_at: datetime | None, expected: bool) -> None:
    assert vehicles.dispatchable(state, available_at, T0) is expected


def test_disinfected_at() -> None:
    assert vehicles.disinfected_at(T0, 60) == T0 + timedelta(hours=1)
    assert vehicles.disinfected_at(T0, 0) == T0


@pytest.mark.parametrize(
    ("current", "wanted", "expected"),
    [
        ("available", "out_of_service", True),
        ("disinfecting", "out_of_service", True),
        ("out_of_service", "available", True),
        ("dispatched", "out_of_service", False),  # only its transfer moves it
        ("dispatched", "available", False),
        ("available", "available", False),
        ("available", "disinfecting", False),
        ("out_of_service", "dispatched", False),
    ],
)
def test_may_set(current: str, wanted: str, expected: bool) -> None:
    assert vehicles.may_set(current, wanted) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("渝A12345", "渝A·12345"),
        ("渝A·12345", "渝A·12345"),
        ("渝a 12345", "渝A·12345"),
        ("渝AD12345", "渝A·D12345"),  # small new-energy: 8 characters
        ("渝A12345F", "渝A·12345F"),  # large new-energy
        ("渝Ａ１２３４５", "渝A·12345"),
    ],
)
def test_plate_written(text: str, expected: str) -> None:
    assert vehicles.plate(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [("A12345", "plate_province"), ("渝A1234", "plate_format"), ("", "plate_format")],
)
def test_plate_refused(text: str, code: str) -> None:
    assert vehicles.plate(text) == Invalid(code)


@given(st.sampled_from(PLATE_PROVINCES), st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"),
       PLATE_BODIES, st.sampled_from(["", "·", " ", "-"]))  # fmt: skip
def test_plate_written_round_trip(province: str, letter: str, body: str, separator: str) -> None:
    """Any valid plate, however separated: written with one "·" after the area letter, and
    the written form reads back as itself and parses to the same plate."""
    written = vehicles.plate(f"{province}{letter}{separator}{body}")
    assert written == f"{province}{letter}·{body}"
    assert vehicles.plate(written) == written
    assert parse_plate(written) == f"{province}{letter}{body}"


# --- an admin's vehicle added in chat: the flow's rules ------------------------------------


def test_vehicle_flow_order_and_choices() -> None:
    assert vehicles.FIRST_STEP == "plate"
    assert vehicles.advance("plate", {"plate": "渝A·67890"}, {}) == ("kind", {"plate": "渝A·67890"})
    assert vehicles.advance("kind", {"kind": "transfer"}, {"plate": "p"})[0] == "crew_name"
    assert vehicles.advance("crew_name", {"crew_name": ""}, {})[0] == "crew_phone"
    assert vehicles.advance("crew_phone", {"crew_phone": ""}, {})[0] == "summary"
    assert vehicles.advance("summary", {}, {})[0] == "summary"
    kind, name = vehicles.STEPS["kind"], vehicles.STEPS["crew_name"]
    assert vehicles.apply_choice(kind, "transfer", {}, None) == {"kind": "transfer"}
    assert vehicles.apply_choice(kind, "bus", {}, None) == Invalid("choice_stale")
    assert vehicles.apply_choice(name, "skip", {}, None) == {"crew_name": ""}
    assert vehicles.apply_choice(name, "transfer", {}, None) == Invalid("choice_stale")


def test_vehicle_flow_plate_is_looked_up_only_when_well_formed() -> None:
    step = vehicles.STEPS["plate"]
    assert step.text("渝a12345", {}, None) == Lookup("plate", "渝A·12345")
    assert step.text("渝A1234", {}, None) == Invalid("plate_format")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, "plate"),
        ({"plate": "p"}, "kind"),
        ({"plate": "p", "kind": "transfer"}, "crew_name"),
        ({"plate": "p", "kind": "transfer", "crew_name": ""}, "crew_phone"),
        ({"plate": "p", "kind": "transfer", "crew_name": "", "crew_phone": ""}, None),
    ],
)
def test_vehicle_flow_missing_step(data: dict, expected: str | None) -> None:
    assert vehicles.missing_step(data) == expected


@pytest.mark.parametrize(
    ("taken", "expected"),
    [(set(), "VC01"), ({"V01", "V02"}, "VC01"), ({"VC01", "VC02"}, "VC03"),
     ({"VC02"}, "VC01"), ({"VC01", "VC03", "V03"}, "VC02")],
)  # fmt: skip
def test_next_vehicle_id(taken: set[str], expected: str) -> None:
    """A vehicle added in chat: its own series, never the config's V01, V02 …"""
    assert vehicles.next_id(taken) == expected


def test_every_stage_after_the_request_is_on_the_ladder() -> None:
    assert transfers.CLIMBING == ("requested", "dispatched", "acknowledged", "picked_up")


@pytest.mark.parametrize(
    ("available_at", "expected"),
    [
        (None, "available"),
        (T0 - timedelta(minutes=1), "available"),
        (T0, "available"),
        (T0 + timedelta(minutes=1), "disinfecting"),  # its timer frees it
    ],
)
def test_back_in_service(available_at: datetime | None, expected: str) -> None:
    assert vehicles.back_in_service(available_at, T0) == expected


def test_chat_clashes_name_the_config_key() -> None:
    listed = [("V01", "渝A·12345"), ("VC01", "渝A·22222"), ("V03", "渝A·67890")]
    chat = [("VC01", "渝A·33333"), ("VC02", "渝A·67890")]
    assert vehicles.chat_clashes(listed, chat) == [
        "vehicles[1].id: VC01 is the id of a vehicle added in chat (渝A·33333): give this one "
        "another id",
        "vehicles[2].plate: 渝A·67890 is vehicle VC02's, added in chat: remove it from the config "
        "(the bot has it already) or correct the plate",
    ]
    assert vehicles.chat_clashes(listed[:1], chat) == []
