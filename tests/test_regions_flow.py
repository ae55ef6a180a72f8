"""/regions and the re-screen it drives, through PTB's real pipeline: what the leader, the
resident, the grid worker and the leadership group see, what the file and the database hold.
A region listed or upgraded later must reach people registered before it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.rescreen import seed
from bot.actions import regions as actions
from bot.config import Config
from bot.runtime.clock import ManualClock
from tests.harness import Harness
from tests.staff_helpers import (
    ADMIN,
    LEADER,
    LEADERS_CHAT,
    REFUSED,
    VADMIN_XF,
    WORKER_XF01,
    WORKER_XF02,
)
from tests.test_arrival_flow import answer_to_summary, press_value, submit
from tests.test_cards_update import datas, edits

RESIDENT = 424242


@pytest.fixture
def regions_file(config: Config) -> Path:
    return config.regions.file  # the test's own copy (tests/conftest.py)


@pytest.fixture
async def h(config: Config, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await Harness.start(config, tmp_path / "paicha.sqlite3", clock)
    await actions.sync(harness.services)  # the first tick: the list in force is the baseline
    yield harness
    await harness.stop()


async def register(h: Harness, origin: str) -> str:
    await answer_to_summary(h, origin=origin)
    receipt = await submit(h)
    assert "登记成功" in receipt
    await h.drain_outbox()
    row = await h.db.fetchone("SELECT ref FROM reports ORDER BY id DESC LIMIT 1")
    return row["ref"]


async def add_region(
    h: Harness, place: str, risk: str, user: int = ADMIN, start: str | None = None
) -> list[str]:
    """A region listed from ``start`` as typed (None: "今天起" pressed, as a leader would)."""
    await h.text(user, "/regions")
    await press_value(h, user, "add")
    await h.text(user, place)
    await press_value(h, user, risk)
    if start is None:
        await press_value(h, user, "today")
    else:
        await h.text(user, start)
    await press_value(h, user, "none")
    await press_value(h, user, "submit")
    return h.texts(user)


async def lower_kashgar(h: Harness) -> None:
    await h.text(ADMIN, "/regions")
    await press_value(h, ADMIN, "change")
    await h.choose(ADMIN, "喀什地区")
    await press_value(h, ADMIN, "medium")
    await press_value(h, ADMIN, "submit")


async def report(h: Harness) -> dict:
    return dict(await h.db.fetchone("SELECT * FROM reports ORDER BY id DESC LIMIT 1"))


async def test_a_region_added_in_chat_upgrades_people_registered_before(
    h: Harness, regions_file: Path
) -> None:
    ref = await register(h, "北京市朝阳区")
    assert (await report(h))["risk"] == "low"
    texts = await add_region(h, "北京朝阳区", "high")
    assert "北京市 朝阳区" in texts[-2]  # the summary card
    assert "已发布" in texts[-1] and "1 人升级管控" in texts[-1]
    # the file is the source of truth: written, comments kept
    written = regions_file.read_text(encoding="utf-8")
    assert 'district = "朝阳区"' in written and "# Key epidemic regions" in written
    # stored: the new category and measure, monitoring restarted under it
    row = await report(h)
    assert row["risk"] == "high_risk" and row["measure_kind"] == "centralized_isolation"
    assert "region_high" in json.loads(row["data"])["reasons"]
    kinds = await h.db.fetchall("SELECT kind, state FROM monitoring")
    assert [(k["kind"], k["state"]) for k in kinds] == [("centralized_isolation", "active")]
    change = await h.db.fetchone("SELECT * FROM region_changes")
    assert change["actor"] == ADMIN and change["source"] == "chat" and change["state"] == "done"
    assert change["upgraded"] == 1
    audited = await h.db.fetchall("SELECT action FROM audit WHERE action LIKE 'regions.%'")
    assert {a["action"] for a in audited} >= {"regions.change", "regions.rescreen"}
    await h.drain_outbox()
    told = h.texts(RESIDENT)[-1]
    assert "管控措施调整通知" in told and ref in told and "集中隔离" in told
    worker = h.texts(WORKER_XF01)[-1]
    assert ref in worker and "1 人管控措施升级" in worker and "张三" not in worker
    group = [t for t in h.texts(LEADERS_CHAT) if "预警：重点地区调整" in t]
    assert len(group) == 1
    assert "北京市 朝阳区（高风险" in group[0] and "先锋社区 1 人" in group[0] and ref in group[0]


async def test_a_region_listed_from_today_reaches_an_arrival_from_three_days_ago(
    h: Harness, clock: ManualClock
) -> None:
    ref = await register(h, "北京市朝阳区")  # arrived 10月25日
    clock.advance(days=2)  # 10月28日: three days after the arrival
    texts = await add_region(h, "北京朝阳区", "medium")
    assert "2020年10月28日起" in texts[-1] and "1 人升级管控" in texts[-1]
    row = await report(h)
    assert row["risk"] == "medium_risk" and row["measure_kind"] == "home_observation"
    await h.drain_outbox()
    told = h.texts(RESIDENT)[-1]
    assert ref in told and "北京市 朝阳区" in told and "中风险" in told


async def test_the_resident_is_told_why_when_possibly_from_a_new_region(h: Harness) -> None:
    ref = await register(h, "北京市")  # no key region in Beijing yet: no district asked
    assert "1 人升级管控" in (await add_region(h, "北京朝阳区", "high"))[-1]
    row = await report(h)
    assert row["risk"] == "medium_risk" and "region_possible" in json.loads(row["data"])["reasons"]
    await h.drain_outbox()
    told = h.texts(RESIDENT)[-1]
    assert ref in told and "中风险" in told
    assert "可能来自重点地区：只说到“北京市”" in told


async def test_a_region_listed_today_counts_for_someone_registering_today(h: Harness) -> None:
    await add_region(h, "北京朝阳区", "high")  # from 10月26日; the arrival was 10月25日
    await register(h, "北京市朝阳区")
    row = await report(h)
    assert row["risk"] == "high_risk" and row["measure_kind"] == "centralized_isolation"


async def queued(h: Harness, chat: int, marker: str) -> list[str]:
    """The messages queued for ``chat`` (the outbox: 45 residents' messages take a while)."""
    rows = await h.db.fetchall("SELECT text FROM outbox WHERE chat_id = ? ORDER BY id", (chat,))
    return [r["text"] for r in rows if marker in r["text"]]


async def test_long_lists_are_capped_and_say_where_to_see_everyone(h: Harness) -> None:
    """After a big re-screen the group's 预警 and a worker's list name 30 people, the count of
    the rest and where to see them all: one message each, not thousands of numbers."""
    await seed(h.db, 45, affected=1.0, province=1.0)  # 45 arrivals from 朝阳区, in 第1网格
    await add_region(h, "北京朝阳区", "high")
    (group,) = await queued(h, LEADERS_CHAT, "预警：重点地区调整")
    assert "<b>45 人</b>" in group
    assert group.count("XF-B-") == 30 and "等 45 人" in group and "/monitoring" in group
    (worker,) = await queued(h, WORKER_XF01, "管控措施升级")
    assert "45 人管控措施升级" in worker
    assert worker.count("XF-B-") == 30 and "另有 15 人" in worker and "/monitoring" in worker


async def test_a_hand_edit_of_the_file_is_a_change_too(h: Harness, regions_file: Path) -> None:
    ref = await register(h, "北京市朝阳区")
    with regions_file.open("a", encoding="utf-8") as f:
        f.write('\n[[region]]\nprovince = "北京市"\ndistrict = "朝阳区"\nrisk = "medium"\n'
                "from = 2020-10-20\n")  # fmt: skip
    outcomes = await actions.sync(h.services)
    assert [o.upgraded for o in outcomes.values()] == [1]
    change = await h.db.fetchone("SELECT * FROM region_changes")
    assert change["actor"] is None and change["source"] == "file"
    assert (await report(h))["risk"] == "medium_risk"
    assert await actions.sync(h.services) == {}  # the same file again: no second change
    await h.drain_outbox()
    assert ref in h.texts(WORKER_XF01)[-1]


async def test_a_lower_risk_is_only_proposed_until_a_worker_confirms(h: Harness) -> None:
    ref = await register(h, "新疆喀什")  # 喀什地区: high risk from 2020-10-24
    assert (await report(h))["risk"] == "high_risk"
    await lower_kashgar(h)
    assert "1 人可降级，待网格员确认" in h.texts(ADMIN)[-1]
    assert (await report(h))["risk"] == "high_risk"  # never lowered silently
    await h.drain_outbox()
    card = h.texts(WORKER_XF01)[-1]
    assert "请确认" in card and ref in card
    before = len(h.texts(RESIDENT))
    await h.choose(WORKER_XF01, "确认降级")
    row = await report(h)
    assert row["risk"] == "medium_risk" and row["measure_kind"] == "home_observation"
    await h.drain_outbox()
    assert len(h.texts(RESIDENT)) == before + 1 and "居家医学观察" in h.texts(RESIDENT)[-1]
    decided = await h.db.fetchone("SELECT state, decided_by FROM region_proposals")
    assert tuple(decided) == ("confirmed", WORKER_XF01)


SECOND = 30099  # a second worker of 先锋社区 XF01 (only where a test says so)


def with_second_worker(config: Config) -> Config:
    xf = config.village("xf")
    grids = tuple(
        g.model_copy(update={"workers": (*g.workers, SECOND)}) if g.id == "XF01" else g
        for g in xf.grids
    )
    village = xf.model_copy(update={"grids": grids})
    return config.model_copy(
        update={"villages": tuple(village if v.id == "xf" else v for v in config.villages)}
    )


@pytest.mark.parametrize(
    ("press", "note"),
    [("确认降级", "网格员已确认降级"), ("保持现有措施", "网格员已决定保持现有措施")],
)
async def test_a_decided_proposal_leaves_no_buttons_on_any_workers_card(
    config: Config, clock: ManualClock, tmp_path: Path, press: str, note: str
) -> None:
    h = await Harness.start(with_second_worker(config), tmp_path / "paicha.sqlite3", clock)
    try:
        await actions.sync(h.services)
        ref = await register(h, "新疆喀什")
        await lower_kashgar(h)
        await h.drain_outbox()
        pid = (await h.db.fetchone("SELECT id FROM region_proposals"))["id"]
        for worker in (WORKER_XF01, SECOND):
            assert f"v1:rgp:{pid}:c" in [d for _, d in h.buttons(worker)]
        await h.choose(WORKER_XF01, press)
        await h.drain_outbox()
        for worker in (WORKER_XF01, SECOND):
            [card] = edits(h, worker)
            assert datas(card) == [] and ref in card["text"] and note in card["text"]
    finally:
        await h.stop()


async def test_a_proposal_superseded_by_a_later_change_loses_its_buttons(h: Harness) -> None:
    await register(h, "新疆喀什")
    await lower_kashgar(h)  # high -> medium proposed
    await h.drain_outbox()
    await h.text(ADMIN, "/regions")  # then ended: a new proposal (low) replaces the first
    await press_value(h, ADMIN, "end")
    await h.choose(ADMIN, "喀什地区")
    await press_value(h, ADMIN, "yesterday")
    await press_value(h, ADMIN, "submit")
    await h.drain_outbox()
    assert (await report(h))["risk"] == "high_risk"
    [first, second] = await h.db.fetchall("SELECT id, state FROM region_proposals ORDER BY id")
    assert (first["state"], second["state"]) == ("superseded", "pending")
    [card] = edits(h, WORKER_XF01)
    assert datas(card) == [] and "不再适用" in card["text"]
    assert f"v1:rgp:{second['id']}:c" in [d for _, d in h.buttons(WORKER_XF01)]


async def test_a_proposal_is_decided_by_whoever_may_verify_the_grid(h: Harness) -> None:
    """The one rule for a worker's decision on a record (roles.can_verify): the grid's
    workers, its village admin, admins; not another grid's worker, not a leader."""
    await register(h, "新疆喀什")
    await lower_kashgar(h)
    pid = (await h.db.fetchone("SELECT id FROM region_proposals"))["id"]
    for outsider in (WORKER_XF02, LEADER):
        await h.press(outsider, f"v1:rgp:{pid}:k")
        assert (await h.db.fetchone("SELECT state FROM region_proposals"))["state"] == "pending"
    await h.press(VADMIN_XF, f"v1:rgp:{pid}:k")
    decided = await h.db.fetchone("SELECT state, decided_by FROM region_proposals")
    assert tuple(decided) == ("kept", VADMIN_XF)


async def test_keep_leaves_the_measure(h: Harness) -> None:
    await register(h, "新疆喀什")
    await lower_kashgar(h)
    await h.drain_outbox()
    await h.choose(WORKER_XF01, "保持现有措施")
    assert (await report(h))["risk"] == "high_risk"
    row = await h.db.fetchone("SELECT state FROM region_proposals")
    assert row["state"] == "kept"


async def test_only_leaders_and_admins_may_manage_regions(h: Harness) -> None:
    await h.text(RESIDENT, "/regions")
    assert REFUSED in h.texts(RESIDENT)[-1]
    await h.text(WORKER_XF01, "/regions")
    assert REFUSED in h.texts(WORKER_XF01)[-1]


async def test_an_unwritable_file_changes_nothing(
    h: Harness, regions_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = regions_file.read_text(encoding="utf-8")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("bot.runtime.regions.tempfile.mkstemp", refuse)
    texts = await add_region(h, "北京朝阳区", "high")
    assert "无法写入（Permission denied）" in texts[-2] and "没有任何改动" in texts[-2]
    assert "请核对" in texts[-1]  # the same question again
    assert regions_file.read_text(encoding="utf-8") == before
    assert await h.db.fetchone("SELECT * FROM region_changes") is None


async def test_ending_a_region_writes_its_last_day(h: Harness, regions_file: Path) -> None:
    await h.text(ADMIN, "/regions")
    await press_value(h, ADMIN, "end")
    await h.choose(ADMIN, "浦东新区")  # listed from 2020-11-21: ending it before is refused
    await h.text(ADMIN, "2020-11-01")
    assert "结束日期不能早于开始日期（2020年11月21日）" in h.texts(ADMIN)[-2]
    await h.text(ADMIN, "2020年12月31日")
    await press_value(h, ADMIN, "submit")
    assert "已发布" in h.texts(ADMIN)[-1]
    assert "until = 2020-12-31" in regions_file.read_text(encoding="utf-8")
    change = await h.db.fetchone("SELECT added, removed FROM region_changes")
    assert json.loads(change["added"])[0]["until"] == "2020-12-31"
    assert "until" not in json.loads(change["removed"])[0]


async def test_bad_place_is_asked_again(h: Harness) -> None:
    await h.text(ADMIN, "/regions")
    await press_value(h, ADMIN, "add")
    await h.text(ADMIN, "火星")
    assert "没有认出“火星”" in h.texts(ADMIN)[-2]
    assert "请输入地区名称" in h.texts(ADMIN)[-1]
