"""The ``[mobilisation]`` settings (bot/config.py): the example's minutes, the defaults, and
the order the ladder needs (reminded, then the village admins, then the group)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import load_config, parse_config
from tests.test_config import EXAMPLE, ROOT, example, problems_of


def test_example_and_defaults() -> None:
    settings = load_config(EXAMPLE).mobilisation
    assert (settings.remind_minutes, settings.escalate_minutes, settings.group_minutes) == (
        10, 20, 40)  # fmt: skip
    data = example()
    del data["mobilisation"]
    default = parse_config(data, ROOT).mobilisation
    assert (default.remind_minutes, default.escalate_minutes, default.group_minutes) == (
        10, 20, 40)  # fmt: skip


def with_minutes(**minutes: Any) -> dict[str, Any]:
    data = example()
    data["mobilisation"].update(minutes)
    return data


ORDER = "mobilisation: remind_minutes < escalate_minutes < group_minutes"


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        ({"remind_minutes": 20}, ORDER),
        (
            {"escalate_minutes": 40},
            "mobilisation: remind_minutes < escalate_minutes < group_minutes",
        ),
        ({"group_minutes": 5}, ORDER),
        ({"remind_minutes": 0}, "mobilisation.remind_minutes:"),
        ({"group_minutes": 1441}, "mobilisation.group_minutes:"),
        ({"remind": 5}, 'mobilisation: unknown key "remind"'),
    ],
)
def test_mistakes_are_reported_with_their_key(minutes: dict[str, Any], expected: str) -> None:
    [problem] = problems_of(with_minutes(**minutes))
    assert problem.startswith(expected), problem


def test_in_order_is_accepted() -> None:
    settings = parse_config(with_minutes(remind_minutes=1, escalate_minutes=2,
                                         group_minutes=3), ROOT).mobilisation  # fmt: skip
    assert settings.group_minutes == 3
