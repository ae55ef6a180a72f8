"""The regions file's problems, worded exactly (known answers): the lines a town officer reads
when the file is refused."""

from __future__ import annotations

import pytest

from bot.domain.regions import RegionsError, parse_regions

BASE = {"province": "湖北省", "risk": "high", "from": "2020-10-01"}


def problems(**entry: object) -> list[str]:
    with pytest.raises(RegionsError) as refused:
        parse_regions({"region": [{**BASE, **entry}]})
    return refused.value.problems


def test_unknown_key_lists_the_allowed_ones() -> None:
    assert problems(town="先锋镇") == [
        "region[0].town: unknown key (allowed: province, city, district, risk, from, until)"
    ]


def test_a_name_must_end_in_its_levels_suffix() -> None:
    assert problems(city="青岛") == [
        "region[0].city: '青岛' must be a full official name ending in 市 / 地区 / 州 / 盟"
        ' (e.g. "山东省", "青岛市", "滨海新区")'
    ]


def test_names_up_to_forty_characters() -> None:
    name = "甲" * 39 + "市"
    (region,) = parse_regions({"region": [{**BASE, "city": name}]})
    assert region.city == name
    longer = "甲" * 40 + "市"
    assert problems(city=longer) == [
        f"region[0].city: {longer!r} is not a single administrative name"
    ]
