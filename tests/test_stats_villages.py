"""/stats in a town of 15 villages: every village can be picked (选村（社区）), not only the
eight whose rows carry a drill button; a name with ``&`` reads as typed, in the answer and
in the chart's title."""

from __future__ import annotations

import pytest

from bot.config import Config, Grid, Village
from bot.runtime import chart
from tests.harness import Harness
from tests.staff_helpers import LEADER
from tests.test_stats import last_table, seed

NAMES = ["张&李村", *(f"第{i}村" for i in range(2, 16))]


@pytest.fixture
def config(config: Config) -> Config:
    villages = tuple(
        Village(id=f"c{i}", name=name, grids=(Grid(id=f"C{i:02d}", name=f"{name}一组"),))
        for i, name in enumerate(NAMES, start=1)
    )
    return config.model_copy(update={"villages": (*config.villages, *villages)})


async def seed_villages(h: Harness) -> None:
    """第i村: i people (the more, the higher in the table); 张&李村 one."""
    h.request.members[LEADER] = "member"
    for i in range(1, 16):
        await seed(h, f"C{i:02d}", f"c{i}", 1, days_ago=1)
        for _ in range(i - 1):
            await seed(h, f"C{i:02d}", f"c{i}", 1, days_ago=1)


async def test_any_village_can_be_picked(harness: Harness) -> None:
    h = harness
    await seed_villages(h)
    await h.text(LEADER, "/stats")
    drills = [label for label, _ in h.buttons(LEADER) if label.startswith("🔍")]
    # top 12: 第15村..第5村 and 其他 (4 + 3 + 2 + 1); 8 drill buttons
    assert "🔍 张&李村" not in drills and ("其他", 10) in await last_table(h, LEADER)
    await h.choose(LEADER, "选村（社区）")
    listed = [label for label, _ in h.buttons(LEADER)]
    assert "张&李村" in listed and "先锋社区" in listed
    await h.choose(LEADER, "张&李村")
    text = h.texts(LEADER)[-1]
    assert "来返人员·按网格" in text and await last_table(h, LEADER) == [("张&amp;李村一组", 1)]
    assert "范围：张&amp;李村" in text and "&amp;amp;" not in text


async def test_the_village_list_turns_pages(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "member"
    await h.text(LEADER, "/stats")
    await h.choose(LEADER, "选村（社区）")
    first = [label for label, _ in h.buttons(LEADER)]
    assert "第15村" not in first and "下一页" in " ".join(first)  # 6 + 15 villages: 2 pages
    await h.choose(LEADER, "下一页")
    edit = [c for c in h.request.calls if c.method == "editMessageText"][-1]  # in place
    keyboard = edit.params["reply_markup"]["inline_keyboard"]
    second = {b["text"]: b["callback_data"] for row in keyboard for b in row}
    assert "第15村" in second and "⬅️ 上一页" in second and "（第2页，共2页）" in edit.params["text"]
    await h.press(LEADER, second["第15村"])
    assert "范围：第15村" in h.texts(LEADER)[-1]


async def test_the_chart_title_is_plain_text(harness: Harness, monkeypatch) -> None:
    h = harness
    await seed_villages(h)
    titles = []
    real = chart.trend

    def spy(days, values, title, *rest):  # type: ignore[no-untyped-def]
        titles.append(title)
        return real(days, values, title, *rest)

    monkeypatch.setattr(chart, "trend", spy)
    config = h.config
    town = config.town.model_copy(update={"name": "张&李镇"})
    object.__setattr__(config, "town", town)  # a town name with & (frozen model)
    await h.text(LEADER, "/stats")
    await h.choose(LEADER, "按日趋势")
    assert titles and titles[0].startswith("张&李镇来返人员按日趋势")
