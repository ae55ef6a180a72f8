"""The regions file's problems, worded exactly (known answers): the lines a town officer reads
when the file is refused."""

from __future__ import annotations

import pytest

from bot.domain.regions import RegionsError, parse_regions, regions_from_json

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
    name = "甲" * 39 + "市"  # a name of the right shape: then checked against the code list
    assert problems(city=name) == [
        f'region[0]: "湖北省 {name}" is not in the list of administrative divisions'
        " (check each name, and that it lies in the one above it)"
    ]
    longer = "甲" * 40 + "市"
    assert problems(city=longer) == [
        f"region[0].city: {longer!r} is not a single administrative name"
    ]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            {"province": "新疆自治区"},
            'region[0]: "新疆自治区" is not in the list of administrative divisions;'
            ' did you mean province = "新疆维吾尔自治区"?',
        ),
        (
            {"province": "湖北省", "city": "武汉市", "district": "江汉县"},
            'region[0]: "湖北省 武汉市 江汉县" is not in the list of administrative divisions;'
            ' did you mean province = "湖北省", city = "武汉市", district = "江汉区"?',
        ),
        (
            {"province": "河北省", "city": "武汉市"},
            'region[0]: "河北省 武汉市" is not in the list of administrative divisions'
            " (check each name, and that it lies in the one above it)",
        ),
        (
            {"province": "湖北省", "district": "江汉区"},  # the city left out
            'region[0]: "湖北省 江汉区" is not in the list of administrative divisions;'
            ' did you mean province = "湖北省", city = "武汉市", district = "江汉区"?',
        ),
        (
            {"province": "重庆市", "city": "重庆市", "district": "石柱土家族自治县"},
            'region[0]: "重庆市 重庆市 石柱土家族自治县" is not in the list of administrative'
            ' divisions; did you mean province = "重庆市", district = "石柱土家族自治县"?',
        ),
        (
            {"province": "火星省"},
            'region[0]: "火星省" is not in the list of administrative divisions'
            " (check each name, and that it lies in the one above it)",
        ),
    ],
)
def test_a_name_not_in_the_divisions_is_refused(entry: dict, problem: str) -> None:
    assert problems(**entry) == [problem]


@pytest.mark.parametrize(
    "entry",
    [
        {"province": "湖北省"},
        {"province": "湖北省", "city": "武汉市"},
        {"province": "湖北省", "city": "武汉市", "district": "江汉区"},
        {"province": "湖北省", "district": "神农架林区"},  # run by the province directly
        {"province": "北京市", "district": "朝阳区"},
        {"province": "新疆维吾尔自治区", "city": "喀什地区"},
    ],
)
def test_official_places_are_accepted(entry: dict) -> None:
    (region,) = parse_regions({"region": [{**BASE, **entry}]})
    assert (region.province, region.city, region.district) == (
        entry["province"],
        entry.get("city"),
        entry.get("district"),
    )


def test_a_stored_list_is_read_back_without_the_divisions() -> None:
    """A list the bot stored (snapshot, change) was checked when read from the file: a later
    code list must not make it unreadable."""
    stored = '[{"province": "某某省", "risk": "high", "from": "2020-10-01"}]'
    (region,) = regions_from_json(stored)
    assert region.province == "某某省"
