"""The sandbox's own key-regions file: the demo list moved to the clock's start, any other list
copied as it is, written again at every reset, and named on the page."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from bot.config import load_config
from bot.runtime.regions import RegionList
from sandbox.clock import DrillClock
from sandbox.control import SandboxControl
from sandbox.regions import SandboxRegions, demo_list
from sandbox.run import sandbox_config
from sandbox.state import SandboxState

CST = timezone(timedelta(hours=8))
KASHGAR = "新疆维吾尔自治区 喀什地区"


def dates(path: Path) -> dict[str, tuple[date, date | None]]:
    return {r.label(): (r.start, r.until) for r in RegionList(path).load()}


def test_a_drill_on_the_demo_day_gets_the_demo_list_unmoved(tmp_path: Path) -> None:
    regions = SandboxRegions(demo_list(), tmp_path / "regions.toml", CST)
    assert regions.demo
    # 2020-11-20 08:30 in the town is still 2020-11-20 there (not the UTC day before)
    assert regions.write(datetime(2020, 11, 20, 0, 30, tzinfo=UTC)) == 0
    assert dates(regions.target) == dates(demo_list())


def test_a_sandbox_starting_another_day_gets_the_list_moved_by_as_many_days(
    tmp_path: Path,
) -> None:
    regions = SandboxRegions(demo_list(), tmp_path / "regions.toml", CST)
    assert regions.write(datetime(2021, 11, 20, 9, 0, tzinfo=CST)) == 365
    moved = dates(regions.target)
    assert moved[KASHGAR] == (date(2021, 10, 24), date(2021, 12, 31))
    assert moved["天津市 滨海新区"] == (date(2021, 11, 9), None)
    assert moved["山东省 青岛市"] == (date(2021, 10, 11), date(2021, 11, 30))


def test_a_fresh_sandbox_today_has_key_regions_in_force(tmp_path: Path) -> None:
    today = datetime.now(CST)
    regions = SandboxRegions(demo_list(), tmp_path / "regions.toml", CST)
    regions.write(today)
    shown = regions.in_force(today.date())
    assert shown["demo"] is True and "error" not in shown
    assert {"label": KASHGAR, "risk": "high"}.items() <= shown["regions"][0].items()
    assert all(r["label"] != "湖北省 武汉市 江汉区" for r in shown["regions"])  # long over


def test_a_town_s_own_list_is_copied_as_it_is(tmp_path: Path) -> None:
    own = tmp_path / "own.toml"
    own.write_text('[[region]]\nprovince = "山东省"\ncity = "青岛市"\nrisk = "high"\n'
                   "from = 2020-10-11\n", "utf-8")  # fmt: skip
    regions = SandboxRegions(own, tmp_path / "sandbox" / "regions.toml", CST)
    assert not regions.demo
    assert regions.write(datetime(2026, 1, 1, tzinfo=CST)) == 0
    assert dates(regions.target) == {"山东省 青岛市": (date(2020, 10, 11), None)}


def test_a_broken_edit_is_shown_not_raised(tmp_path: Path) -> None:
    regions = SandboxRegions(demo_list(), tmp_path / "regions.toml", CST)
    regions.target.write_text("[[region]]\nprovince = 1\n", "utf-8")
    shown = regions.in_force(date(2020, 11, 20))
    assert shown["regions"] == [] and "region[0].province" in shown["error"]


async def test_a_reset_writes_the_list_around_the_new_start(tmp_path: Path) -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "config.example.toml")
    clock = DrillClock(tmp_path / "clock.json")
    regions = SandboxRegions(config.regions.file, tmp_path / "regions.toml", config.tz)
    state = SandboxState.for_token("123456:SANDBOX", clock=clock)
    control = SandboxControl(state, config, clock, regions=regions)
    await control.reset(datetime(2022, 11, 20, 9, 0, tzinfo=CST))
    assert dates(regions.target)[KASHGAR] == (date(2022, 10, 24), date(2022, 12, 31))
    assert control.regions_in_force()["regions"][0]["from"] == "2022-10-24"


def test_the_config_copy_points_at_the_sandbox_list(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "config.example.toml"
    target = tmp_path / "config.toml"
    sandbox_config(source, target, port=1, database=tmp_path / "db", clock=tmp_path / "c.json",
                   regions=tmp_path / "regions.toml", poll_timeout=1)  # fmt: skip
    data = tomllib.loads(target.read_text("utf-8"))
    assert data["regions"]["file"] == str((tmp_path / "regions.toml").resolve())
    assert data["bot"]["poll_timeout_seconds"] == 1
