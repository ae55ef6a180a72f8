"""[[key_units]] in the config: kinds (and the older name), the grid that follows a unit, the
liaisons who become staff, and one clear problem per mistake."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import parse_config
from tests.test_config import ROOT, example, problems_of


def with_unit(**changes: Any) -> dict[str, Any]:
    data = example()
    data["key_units"][2].update(changes)  # 先锋宾馆 (xfhotel), 先锋社区 XF01
    return data


def test_example_units() -> None:
    config = parse_config(example(), ROOT)
    hotel = config.key_unit("xfhotel")
    assert hotel is not None
    assert (hotel.kind, hotel.village, hotel.grid, hotel.headcount, hotel.liaisons) == (
        "hotel", "xf", "XF01", 12, (40401,),
    )  # fmt: skip
    assert config.key_unit("park").monitored and not config.key_unit("jnvs").monitored
    assert config.key_unit("nope") is None
    assert {k for k in [u.kind for u in config.key_units]} >= {"school", "hotel", "homestay"}


def test_the_older_kind_is_read_as_enterprise() -> None:
    config = parse_config(with_unit(kind="enterprise_park"), ROOT)
    assert config.key_unit("xfhotel").kind == "enterprise"


def test_liaisons_become_staff_of_their_unit() -> None:
    config = parse_config(with_unit(liaisons=[40401, 40402]), ROOT)
    assert {s for s in config.listed_staff() if s[1] == "unit"} == {
        (40401, "unit", "xfhotel"),
        (40402, "unit", "xfhotel"),
    }


def test_a_unit_without_grid_or_details() -> None:
    data = example()
    data["key_units"] = [{"id": "shop", "name": "小卖部", "kind": "other", "village": "sq"}]
    unit = parse_config(data, ROOT).key_unit("shop")
    assert (unit.grid, unit.address, unit.headcount, unit.liaisons, unit.monitored) == (
        None, "", 0, (), False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"grid": "SQ01"}, 'key_units[2].grid: no grid "SQ01" in village "xf"'),
        ({"grid": "ZZ99"}, 'key_units[2].grid: no grid "ZZ99" in village "xf"'),
        ({"headcount": -1}, "key_units[2].headcount: must be at least 0, not -1"),
        ({"headcount": 1.5}, "key_units[2].headcount: must be an integer, not 1.5"),
        ({"liaisons": [0]}, "key_units[2].liaisons[0]: must be a positive user id, not 0"),
        ({"monitored": "yes"}, 'key_units[2].monitored: must be true or false, not "yes"'),
        ({"id": "jnvs"}, 'key_units[2].id: duplicate key unit id "jnvs"'),
        ({"id": "XF-Hotel"}, 'key_units[2].id: "XF-Hotel" is not a valid id (1–16 of a-z, 0-9, _)'),
        (
            {"kind": "hostel"},
            "key_units[2].kind: must be one of: enterprise, school, hotel, "
            'homestay, rental, farmstay, other; not "hostel"',
        ),
        ({"village": "zz"}, 'key_units[2].village: no village with id "zz"'),  # grid: not twice
        ({"manager": [1]}, 'key_units[2]: unknown key "manager"'),
    ],
)
def test_each_mistake_is_named(changes: dict[str, Any], problem: str) -> None:
    assert problems_of(with_unit(**changes)) == [problem]
