"""The ``[transfer]`` settings and ``[[vehicles]]`` (bot/config.py): the example's, and each
mistake reported with its key path."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import load_config, parse_config
from tests.test_config import EXAMPLE, ROOT, example, problems_of


def test_example_vehicles_and_transfer_settings() -> None:
    config = load_config(EXAMPLE)
    [v01, v02] = config.vehicles
    assert (v01.id, v01.plate, v01.kind, v01.crew) == ("V01", "渝A·12345", "negative_pressure",
                                                       (40201,))  # fmt: skip
    assert v02.plate == "渝B·D12345"  # as written, whatever the spacing in the file
    t = config.transfer
    assert (t.dispatch_minutes, t.urgent_dispatch_minutes, t.ack_minutes, t.pickup_minutes,
            t.delivery_minutes, t.remind_minutes, t.group_minutes,
            t.disinfection_minutes) == (30, 10, 15, 30, 60, 5, 15, 60)  # fmt: skip
    assert set(t.minutes()) == {"dispatch_minutes", "urgent_dispatch_minutes", "ack_minutes",
                                "pickup_minutes", "delivery_minutes"}  # fmt: skip
    assert {(40201, "crew", "V01"), (40202, "crew", "V02"),
            (40101, "dispatcher", "*")} <= config.listed_staff()  # fmt: skip


def with_vehicle(**changes: Any) -> dict[str, Any]:
    data = example()
    data["vehicles"][1].update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (with_vehicle(plate="渝A1234"),
         'vehicles[1].plate: "渝A1234" is not a plate like 渝A12345 or 渝AD12345'),
        (with_vehicle(plate="渝 A 12345"), 'vehicles[1].plate: plate "渝A·12345" is listed twice'),
        (with_vehicle(id="V01"), 'vehicles[1].id: duplicate vehicle id "V01"'),
        (with_vehicle(id="v-2"),
         'vehicles[1].id: "v-2" is not a valid vehicle id (2–8 of A-Z, 0-9)'),
        (with_vehicle(kind="bus"),
         "vehicles[1].kind: must be one of: negative_pressure, transfer; not \"bus\""),
        (with_vehicle(crew_phone="123"), 'vehicles[1].crew_phone: "123" is not a phone number'),
        (with_vehicle(crew=[0]), "vehicles[1].crew[0]: must be a positive user id, not 0"),
    ],
)  # fmt: skip
def test_vehicle_problems(data: dict[str, Any], expected: str) -> None:
    assert expected in problems_of(data)


def with_transfer(**changes: Any) -> dict[str, Any]:
    data = example()
    data["transfer"].update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"ack_minutes": 0}, "transfer.ack_minutes: must be at least 1, not 0"),
        ({"urgent_dispatch_minutes": 40},
         "transfer: urgent_dispatch_minutes must not be more than dispatch_minutes"),
        ({"remind_minutes": 15}, "transfer: remind_minutes must be less than"),
        ({"remind_minutes": 10}, "transfer: remind_minutes must be less than"),  # urgent's 10
        ({"pickup_minutes": 5}, "transfer: remind_minutes must be less than"),  # remind's 5
        ({"delivery_minutes": 0}, "transfer.delivery_minutes: must be at least 1, not 0"),
        ({"pickup_minutes": 1441}, "transfer.pickup_minutes: must be at most 1440"),
        ({"disinfection_minutes": -1}, "transfer.disinfection_minutes: must be at least 0, not -1"),
        ({"dispatchers": [-5]}, "transfer.dispatchers[0]: must be a positive user id, not -5"),
        ({"ack": 15}, 'transfer: unknown key "ack"'),
    ],
)  # fmt: skip
def test_transfer_problems(changes: dict[str, Any], expected: str) -> None:
    assert any(p.startswith(expected) for p in problems_of(with_transfer(**changes)))


def test_transfer_settings_at_their_limits_are_accepted() -> None:
    data = with_transfer(remind_minutes=9, urgent_dispatch_minutes=10, dispatch_minutes=10,
                         disinfection_minutes=0)  # fmt: skip
    assert parse_config(data, ROOT).transfer.remind_minutes == 9


def test_pickup_and_delivery_minutes_default_when_left_out() -> None:
    data = example()
    del data["transfer"]["pickup_minutes"], data["transfer"]["delivery_minutes"]
    t = parse_config(data, ROOT).transfer
    assert (t.pickup_minutes, t.delivery_minutes) == (30, 60)
