"""The ``[supplies]`` settings (bot/config.py): the example's items and keepers, each item's
minimum per kind of place, and each mistake reported with its key path."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import load_config
from tests.test_config import EXAMPLE, example, problems_of


def test_example_supplies() -> None:
    supplies = load_config(EXAMPLE).supplies
    assert supplies.keepers == (40301,)
    assert [(i.id, i.name, i.unit) for i in supplies.items] == [
        ("mask", "口罩", "个"), ("disinfectant", "消毒液", "瓶"), ("suit", "防护服", "套"),
        ("thermometer", "测温枪", "把"), ("gloves", "手套", "双"), ("alcohol", "酒精", "瓶"),
    ]  # fmt: skip
    mask = supplies.item("mask")
    assert mask is not None and (mask.name_en, mask.unit_en) == ("masks", "pcs")
    assert [mask.minimum_at(p) for p in ("town", "v:xf", "s:GL01", "bogus")] == [1000, 200, 100, 0]
    assert supplies.item("nothing") is None


def with_item(**changes: Any) -> dict[str, Any]:
    data = example()
    data["supplies"]["items"][1].update(changes)
    return data


def without(key: str) -> dict[str, Any]:
    data = example()
    del data["supplies"]["items"][0][key]
    return data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (with_item(id="mask"), 'supplies.items[1].id: duplicate supply item id "mask"'),
        (with_item(id="Mask-2"), "supplies.items[1].id: \"Mask-2\" is not a valid id"),
        (with_item(minimum=-1), "supplies.items[1].minimum: must be at least 0, not -1"),
        (with_item(village_minimum=1_000_001),
         "supplies.items[1].village_minimum: must be at most 1000000, not 1000001"),
        (with_item(site_minimum="10"), 'supplies.items[1].site_minimum: must be an integer'),
        (with_item(unit="一大箱子装"), "supplies.items[1].unit: must be at most 4 characters"),
        (with_item(unit=" "), "supplies.items[1].unit:"),
        (with_item(colour="red"), 'supplies.items[1]: unknown key "colour"'),
        (without("name_en"), "supplies.items[0].name_en: missing"),
        (without("unit_en"), "supplies.items[0].unit_en: missing"),
    ],
)  # fmt: skip
def test_supply_problems(data: dict[str, Any], expected: str) -> None:
    assert any(p.startswith(expected) for p in problems_of(data)), problems_of(data)


def test_keepers_must_be_user_ids() -> None:
    data = example()
    data["supplies"]["keepers"] = [0]
    assert "supplies.keepers[0]: must be a positive user id, not 0" in problems_of(data)
