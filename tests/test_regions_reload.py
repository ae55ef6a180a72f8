"""A broken key-regions file (re-saved as GBK, emptied, comments only, invalid TOML) while
the bot runs keeps the last good list in force, submissions go on, and the admins are told
once per broken version and once when it is repaired; at start a broken file stops the bot
with one line unless the last good copy kept beside it can stand in."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import cli
from bot.actions import regions as actions
from bot.config import Config
from bot.domain.regions import RegionsError
from bot.runtime.clock import ManualClock
from bot.runtime.regions import RegionList, Repaired, Trouble, last_good_copy
from tests.harness import Harness
from tests.staff_helpers import ADMIN, LEADERS_CHAT, WORKER_XF01
from tests.test_arrival_flow import RESIDENT, answer_to_summary, submit

GOOD = """# 重点地区
[[region]]
province = "山东省"
city = "青岛市"
risk = "medium"
from = 2020-10-11
"""
REPAIRED = (
    GOOD
    + """
[[region]]
province = "天津市"
district = "滨海新区"
risk = "high"
from = 2020-11-09
"""
)
BROKEN = {
    "gbk": GOOD.encode("gbk"),
    "empty": b"",
    "comments only": "# 重点地区\n# 暂无\n".encode(),
    "invalid toml": b"[[region]\nprovince = ",
}
REASONS = {"gbk": "not UTF-8", "empty": "no [[region]]", "comments only": "no [[region]]",
           "invalid toml": "not valid TOML"}  # fmt: skip


def write(path: Path, content: bytes | str, mtime: int) -> None:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    os.utime(path, (mtime, mtime))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "regions.toml"
    write(file, GOOD, 1_000_000)
    return file


# --- the file on disk ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", BROKEN)
def test_a_broken_reload_keeps_the_last_good_list(path: Path, kind: str) -> None:
    regions = RegionList(path)
    good = regions.load()
    write(path, BROKEN[kind], 1_000_100)
    assert regions.current() == good
    news = regions.news()
    assert isinstance(news, Trouble) and REASONS[kind] in news.problems[0]
    assert str(path) in news.problems[0] and "\n" not in news.problems[0]
    regions.told(news)
    assert regions.current() == good and regions.news() is None  # told once
    write(path, REPAIRED, 1_000_200)
    assert len(regions.current()) == 2
    assert regions.news() == Repaired(2, regions.news().version) and regions.trouble is None


@pytest.mark.parametrize("kind", BROKEN)
def test_a_broken_file_at_start_without_a_copy_stops(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "regions.toml"
    write(path, BROKEN[kind], 1_000_000)
    with pytest.raises(RegionsError) as info:
        RegionList(path).start()
    assert REASONS[kind] in info.value.problems[0]


def test_a_broken_file_at_start_runs_on_the_last_good_copy(path: Path, tmp_path: Path) -> None:
    copy = last_good_copy(tmp_path / "var" / "paicha.sqlite3")
    copy.parent.mkdir()
    regions = RegionList(path, copy)
    regions.load()
    assert not copy.exists()  # reading (a check) writes nothing
    regions.keep_copy()  # the running bot's tick
    assert copy.read_text(encoding="utf-8") == GOOD
    assert copy.parent == tmp_path / "var"  # with the bot's state, not beside the file
    write(path, BROKEN["gbk"], 1_000_100)
    with pytest.raises(RegionsError):
        RegionList(path).start()  # no copy named: no fallback
    regions = RegionList(path, copy)
    assert [r.label() for r in regions.start()] == ["山东省 青岛市"]
    assert isinstance(regions.news(), Trouble)
    with pytest.raises(RegionsError):
        RegionList(path).load()  # check-config still says the file is broken


def test_an_explicitly_empty_list_and_a_bom_are_accepted(path: Path) -> None:
    write(path, "# 暂无重点地区\nregion = []\n", 1_000_100)
    assert RegionList(path).load() == ()
    write(path, "\ufeff" + GOOD, 1_000_200)  # Notepad's UTF-8
    assert len(RegionList(path).load()) == 1


def test_paicha_run_stops_with_one_line_on_a_broken_file(
    config: Config, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = Path(__file__).resolve().parents[1] / "config.example.toml"
    conf = tmp_path / "paicha.toml"
    text = source.read_text(encoding="utf-8")
    conf.write_text(text.replace('file = "data/regions.toml"',
                                 f'file = "{config.regions.file}"'), encoding="utf-8")  # fmt: skip
    write(config.regions.file, BROKEN["gbk"], 1_000_000)
    with pytest.raises(cli.Fatal) as info:
        cli.load(str(conf))
    assert "not UTF-8" in str(info.value) and "\n" not in str(info.value)
    write(config.regions.file, GOOD, 1_000_100)
    loaded = cli.load(str(conf))
    copy = last_good_copy(loaded.bot.database)
    assert not copy.exists()
    copy.parent.mkdir(parents=True, exist_ok=True)
    regions = RegionList(config.regions.file, copy)
    regions.start()
    regions.keep_copy()  # a bot that ran with the good file
    write(config.regions.file, b"", 1_000_200)
    assert cli.load(str(conf)).regions.file == config.regions.file  # the copy stands in


# --- the bot running ----------------------------------------------------------------------


@pytest.fixture
async def h(config: Config, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await Harness.start(config, tmp_path / "paicha.sqlite3", clock)
    await actions.sync(harness.services)
    yield harness
    await harness.stop()


async def file_alerts(h: Harness) -> list[tuple[int, str]]:
    rows = await h.db.fetchall(
        "SELECT chat_id, dedup_key FROM outbox WHERE dedup_key LIKE 'regions:file:%' ORDER BY id"
    )
    return [(r["chat_id"], r["dedup_key"].split(":")[2]) for r in rows]


async def test_a_gbk_file_stops_no_submission_and_alerts_the_admins_once(
    h: Harness, config: Config
) -> None:
    path = config.regions.file
    good = h.services.regions.current()
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    for _ in range(3):
        await actions.sync(h.services)  # ticks
    await answer_to_summary(h)
    assert "登记成功" in await submit(h)
    assert h.services.regions.current() == good
    assert await file_alerts(h) == [(ADMIN, "broken")]
    await h.drain_outbox()
    alert = h.texts(ADMIN)[-1]
    assert "重点地区文件有错误" in alert and "UTF-8" in alert and "上一次正确的名单" in alert
    assert not [t for t in h.texts(LEADERS_CHAT) + h.texts(WORKER_XF01) if "重点地区文件" in t]
    assert RESIDENT not in {chat for chat, _ in await file_alerts(h)}

    path.write_text(REPAIRED, encoding="utf-8")
    await actions.sync(h.services)
    await actions.sync(h.services)
    assert await file_alerts(h) == [(ADMIN, "broken"), (ADMIN, "repaired")]
    assert len(h.services.regions.current()) == 2
    await h.drain_outbox()
    assert "已改好并重新读取" in h.texts(ADMIN)[-1] and "2 个地区" in h.texts(ADMIN)[-1]


async def test_an_emptied_file_is_not_no_key_regions(h: Harness, config: Config) -> None:
    good = h.services.regions.current()
    assert good
    config.regions.file.write_text("", encoding="utf-8")
    await actions.sync(h.services)
    assert h.services.regions.current() == good
    assert await file_alerts(h) == [(ADMIN, "broken")]
    changes = await h.db.fetchone("SELECT COUNT(*) AS n FROM region_changes")
    assert changes["n"] == 0  # nothing "removed" from the list
