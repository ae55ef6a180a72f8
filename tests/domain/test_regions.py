"""Key regions: validation of the file's data, validity windows, reloading from disk."""

from __future__ import annotations

import logging
import os
import tomllib
from datetime import date
from pathlib import Path

import pytest

from bot.domain.regions import Region, RegionsError, parse_regions
from bot.runtime.regions import RegionList

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
[[region]]
province = "山东省"
city = "青岛市"
risk = "medium"
from = 2020-10-11
until = 2020-11-30
"""

OTHER = """
[[region]]
province = "天津市"
district = "滨海新区"
risk = "high"
from = 2020-11-09
"""


def _problems(data: dict) -> list[str]:
    with pytest.raises(RegionsError) as info:
        parse_regions(data)
    return info.value.problems


def _entry(**fields: object) -> dict:
    base: dict[str, object] = {"province": "山东省", "risk": "high", "from": date(2020, 10, 1)}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


# ---- parse_regions ----


def test_example_file_parses() -> None:
    with (ROOT / "data" / "regions.toml").open("rb") as f:
        regions = parse_regions(tomllib.load(f))
    assert regions
    assert all(r.risk in ("high", "medium") for r in regions)
    kashgar = regions[0]
    assert kashgar == Region(
        "新疆维吾尔自治区", "喀什地区", None, "high", date(2020, 10, 24), date(2020, 12, 31)
    )
    assert kashgar.label() == "新疆维吾尔自治区 喀什地区"


def test_all_levels_and_open_end() -> None:
    (region,) = parse_regions(
        {
            "region": [
                _entry(
                    province="湖北省", city="武汉市", district="江汉区", risk="medium", until=None
                )
            ]
        }
    )
    assert region == Region("湖北省", "武汉市", "江汉区", "medium", date(2020, 10, 1), None)


def test_empty_file_means_no_regions() -> None:
    assert parse_regions({}) == ()
    assert parse_regions({"region": []}) == ()


def test_quoted_date_is_accepted() -> None:
    (region,) = parse_regions({"region": [_entry(**{"from": "2020-10-02"})]})
    assert region.start == date(2020, 10, 2)


def test_bad_risk_has_its_path() -> None:
    data = {"region": [_entry(), _entry(), _entry(), _entry(risk="low")]}
    assert _problems(data) == ['region[3].risk: must be "high" or "medium", got \'low\'']


def test_missing_fields() -> None:
    problems = _problems({"region": [{"city": "青岛市"}]})
    assert "region[0].province: missing" in problems
    assert any(p.startswith("region[0].risk: missing") for p in problems)
    assert "region[0].from: missing" in problems


def test_until_before_from() -> None:
    problems = _problems({"region": [_entry(until=date(2020, 9, 30))]})
    assert problems == ["region[0].until: 2020-09-30 is before from 2020-10-01"]


def test_until_equal_to_from_is_one_day() -> None:
    (region,) = parse_regions({"region": [_entry(until=date(2020, 10, 1))]})
    assert region.active_between(date(2020, 10, 1), date(2020, 10, 1))


def test_unknown_keys() -> None:
    problems = _problems({"regions": [], "region": [_entry(level="city")]})
    assert any(p.startswith("regions: unknown key") for p in problems)
    assert any(p.startswith("region[0].level: unknown key") for p in problems)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("province", "山东"),
        ("province", "省"),
        ("province", "中山路"),
        ("province", 37),
        ("province", ""),
        ("province", "山东 省"),
        ("city", "青岛"),
        ("city", "市辖区"),
        ("district", "滨海"),
    ],
)
def test_names_must_be_full_official_names(key: str, value: object) -> None:
    problems = _problems({"region": [_entry(**{key: value})]})
    assert len(problems) == 1
    assert problems[0].startswith(f"region[0].{key}: ")


@pytest.mark.parametrize(
    "placeholder", ["市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"]
)
def test_a_code_list_placeholder_city_gets_its_own_reason(placeholder: str) -> None:
    problems = _problems({"region": [_entry(city=placeholder)]})
    assert problems == [
        f"region[0].city: {placeholder!r} is not a city; leave city out and give the district"
    ]


@pytest.mark.parametrize(
    "province", ["山东省", "重庆市", "新疆维吾尔自治区", "广西壮族自治区", "香港特别行政区"]
)
def test_real_province_names(province: str) -> None:
    (region,) = parse_regions({"region": [_entry(province=province)]})
    assert region.province == province


@pytest.mark.parametrize(
    ("province", "city", "district"),
    [
        ("新疆维吾尔自治区", "喀什地区", None),
        ("吉林省", "延边朝鲜族自治州", "延吉市"),
        ("内蒙古自治区", "锡林郭勒盟", "二连浩特市"),
        ("湖北省", None, "神农架林区"),
        ("内蒙古自治区", "呼伦贝尔市", "鄂温克族自治旗"),
        ("重庆市", None, "石柱土家族自治县"),
    ],
)
def test_real_city_and_district_names(
    province: str, city: str | None, district: str | None
) -> None:
    (region,) = parse_regions({"region": [_entry(province=province, city=city, district=district)]})
    assert (region.city, region.district) == (city, district)


def test_bad_dates_and_types() -> None:
    from datetime import datetime

    problems = _problems(
        {
            "region": [
                _entry(**{"from": "yesterday"}),
                _entry(until=datetime(2020, 11, 1, 8, 0)),
                "not a table",
            ],
        }
    )
    assert problems[0].startswith("region[0].from: must be a date like 2020-10-26")
    assert problems[1].startswith("region[1].until: must be a date like 2020-10-26")
    assert problems[2] == "region[2]: must be a table ([[region]])"


def test_region_must_be_a_list() -> None:
    assert _problems({"region": {"province": "山东省"}}) == [
        "region: must be an array of tables ([[region]])"
    ]


def test_every_problem_is_reported_at_once() -> None:
    problems = _problems({"region": [_entry(risk="x"), _entry(province="山东"), _entry()]})
    assert [p.split(".")[0] for p in problems] == ["region[0]", "region[1]"]


# ---- validity window ----

REGION = Region("山东省", "青岛市", None, "medium", date(2020, 10, 11), date(2020, 10, 20))


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (date(2020, 10, 21), date(2020, 11, 3), False),  # ended the day before the window
        (date(2020, 10, 20), date(2020, 11, 2), True),  # ends on the window's first day
        (date(2020, 9, 27), date(2020, 10, 11), True),  # starts on the window's last day
        (date(2020, 9, 26), date(2020, 10, 10), False),  # starts the day after the window
        (date(2020, 10, 12), date(2020, 10, 13), True),  # window inside the validity
        (date(2020, 10, 1), date(2020, 10, 31), True),  # validity inside the window
    ],
)
def test_active_between(first: date, last: date, expected: bool) -> None:
    assert REGION.active_between(first, last) is expected


def test_open_ended_region_stays_active() -> None:
    region = Region("天津市", None, "滨海新区", "medium", date(2020, 11, 9), None)
    assert region.active_between(date(2030, 1, 1), date(2030, 1, 14))
    assert not region.active_between(date(2020, 10, 1), date(2020, 11, 8))
    assert region.label() == "天津市 滨海新区"


# ---- RegionList (file on disk) ----


def _write(path: Path, text: str, mtime: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_load_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "regions.toml"
    _write(path, GOOD, 1_000_000)
    regions = RegionList(path).load()
    assert [r.label() for r in regions] == ["山东省 青岛市"]


def test_load_refuses_a_bad_file_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "regions.toml"
    _write(path, GOOD.replace('"medium"', '"mid"'), 1_000_000)
    with pytest.raises(RegionsError) as info:
        RegionList(path).load()
    assert info.value.problems == [
        f'{path}: region[0].risk: must be "high" or "medium", got \'mid\''
    ]


def test_load_refuses_bad_toml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "regions.toml"
    with pytest.raises(RegionsError, match="cannot read"):
        RegionList(path).load()
    _write(path, "[[region]\nprovince = ", 1_000_000)
    with pytest.raises(RegionsError, match="not valid TOML"):
        RegionList(path).load()


def test_current_reloads_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "regions.toml"
    _write(path, GOOD, 1_000_000)
    regions = RegionList(path)
    first = regions.load()
    assert regions.current() is first  # unchanged: not re-read
    _write(path, GOOD + OTHER, 1_000_100)
    assert [r.label() for r in regions.current()] == ["山东省 青岛市", "天津市 滨海新区"]


def test_current_reloads_same_size_edit_with_new_mtime(tmp_path: Path) -> None:
    path = tmp_path / "regions.toml"
    _write(path, GOOD, 1_000_000)
    regions = RegionList(path)
    regions.load()
    _write(path, GOOD.replace('"medium"', '"high"  '), 1_000_001)
    assert regions.current()[0].risk == "high"


def test_broken_edit_keeps_last_good_and_logs_each_problem(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "regions.toml"
    _write(path, GOOD, 1_000_000)
    regions = RegionList(path)
    good = regions.load()
    broken = GOOD.replace('"medium"', '"mid"').replace('"山东省"', '"山东"')
    _write(path, broken, 1_000_100)
    with caplog.at_level(logging.ERROR, logger="bot.runtime.regions"):
        assert regions.current() == good
    messages = [r.getMessage() for r in caplog.records]
    assert f'{path}: region[0].risk: must be "high" or "medium", got \'mid\'' in messages
    assert any(m.startswith(f"{path}: region[0].province: ") for m in messages)
    assert any("keeping the last good list of 1 regions" in m for m in messages)
    assert all("\n" not in m for m in messages)

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="bot.runtime.regions"):
        assert regions.current() == good  # the same broken version is reported once
    assert caplog.records == []

    _write(path, GOOD + OTHER, 1_000_200)  # fixed: taken up
    assert len(regions.current()) == 2


def test_deleted_file_keeps_last_good(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "regions.toml"
    _write(path, GOOD, 1_000_000)
    regions = RegionList(path)
    good = regions.load()
    path.unlink()
    with caplog.at_level(logging.ERROR, logger="bot.runtime.regions"):
        assert regions.current() == good
        assert regions.current() == good
    assert len(caplog.records) == 1
    _write(path, OTHER, 1_000_000)  # put back, even with an old mtime
    assert [r.label() for r in regions.current()] == ["天津市 滨海新区"]


def test_current_before_load_loads(tmp_path: Path) -> None:
    path = tmp_path / "regions.toml"
    _write(path, GOOD, 1_000_000)
    assert len(RegionList(path).current()) == 1
