"""A tip's cards follow the tip (bot.runtime.cards): taking it takes the "start" button off
every card, escalating it the escalate button, closing it all of them, the outcome under each
card; a /tasks list keeps its other tips' buttons. The overdue card reads in each worker's
own language."""

from __future__ import annotations

import pytest

from bot.config import Config
from bot.runtime.timers import fire_due
from storage import timers
from tests.harness import Harness
from tests.staff_helpers import VADMIN_XF, WORKER_XF01, seed_report
from tests.test_cards_update import datas, edits
from tests.test_tips import press_tip, send_tip

SECOND = 30099  # a second worker of 先锋社区 XF01 (this module's config)


@pytest.fixture
def config(config: Config) -> Config:
    xf = config.village("xf")
    grids = tuple(
        g.model_copy(update={"workers": (*g.workers, SECOND)}) if g.id == "XF01" else g
        for g in xf.grids
    )
    village = xf.model_copy(update={"grids": grids})
    return config.model_copy(
        update={"villages": tuple(village if v.id == "xf" else v for v in config.villages)}
    )


async def tip_id(h: Harness, ref_suffix: str = "0001") -> int:
    row = await h.db.fetchone("SELECT id FROM tips WHERE ref LIKE ?", (f"%-{ref_suffix}",))
    return row["id"]


async def test_closing_a_tip_takes_the_buttons_off_both_workers_cards(harness: Harness) -> None:
    h = harness
    await send_tip(h)
    await h.drain_outbox()
    tid = await tip_id(h)
    for worker in (WORKER_XF01, SECOND):
        assert f"v1:tp:u:{tid}" in [d for _, d in h.buttons(worker)]

    await press_tip(h, WORKER_XF01, "开始核查")
    await h.drain_outbox()
    [taken] = edits(h, SECOND)  # the colleague's card: the tip is being checked
    assert f"v1:tp:c:{tid}" not in datas(taken) and f"v1:tp:u:{tid}" in datas(taken)

    await press_tip(h, WORKER_XF01, "情况不属实")
    await h.choose(WORKER_XF01, "跳过")
    await h.drain_outbox()
    for worker in (WORKER_XF01, SECOND):
        last = edits(h, worker)[-1]
        assert datas(last) == [], last
        assert "线索 XF-XS-20201026-0001 已办结：情况不属实。这张卡片不用再处理了" in last["text"]
        assert "新线索" in last["text"]  # the card itself stays readable above the outcome


async def test_a_linked_tip_shows_how_and_escalating_takes_off_only_its_button(
    harness: Harness,
) -> None:
    h = harness
    await send_tip(h)
    await h.drain_outbox()
    tid = await tip_id(h)
    await press_tip(h, WORKER_XF01, "上报领导小组")
    await h.choose(WORKER_XF01, "跳过")
    await h.drain_outbox()
    [escalated] = edits(h, SECOND)
    assert f"v1:tp:e:{tid}" not in datas(escalated) and f"v1:tp:y:{tid}" in datas(escalated)
    assert "已办结" not in escalated["text"]

    await seed_report(h, name="李四")
    await press_tip(h, SECOND, "情况属实")
    await press_tip(h, SECOND, "就是已登记的 XF-20201026-0001")
    await h.drain_outbox()
    for chat in (WORKER_XF01, SECOND, VADMIN_XF):  # the village admin's escalated card too
        last = edits(h, chat)[-1]
        assert datas(last) == [] and "情况属实，已关联到达登记" in last["text"], (chat, last)
    # the options the linking worker was shown lose their buttons as well
    assert [d for d in (datas(p) for p in edits(h, SECOND)) if d == []]


async def test_the_tasks_list_keeps_the_other_tips_buttons(harness: Harness) -> None:
    h = harness
    await send_tip(h)
    await send_tip(h, "gathering")
    first, second = await tip_id(h, "0001"), await tip_id(h, "0002")
    await h.text(VADMIN_XF, "/tasks")
    await h.press(VADMIN_XF, f"v1:tp:o:{first}")  # the village admin opens the first card
    await h.drain_outbox()
    await h.press(WORKER_XF01, f"v1:tp:n:{second}")
    await h.choose(WORKER_XF01, "跳过")
    await h.drain_outbox()
    [listed] = edits(h, VADMIN_XF)  # the list keeps the first tip's button; its card is as it was
    assert datas(listed) == [f"v1:tp:o:{first}"] and "待核查的线索" in listed["text"]
    await h.press(WORKER_XF01, f"v1:tp:n:{first}")
    await h.choose(WORKER_XF01, "跳过")
    await h.drain_outbox()
    later = edits(h, VADMIN_XF)[1:]
    assert [datas(p) for p in later] == [[], []]  # the list and the card
    card = next(p["text"] for p in later if "先锋街12号" in p["text"])
    assert "XF-XS-20201026-0001 已办结：未找到相关人员" in card


async def test_the_overdue_card_is_in_the_workers_own_language(harness: Harness) -> None:
    """A ``tip.deadline`` timer stored before the escalation ladder replaced it."""
    h = harness
    await h.text(SECOND, "/language")
    await h.press(SECOND, "v1:lang:en")
    await send_tip(h)
    await h.drain_outbox()
    tid = await tip_id(h)
    now = h.clock.now()
    async with h.db.write() as conn:
        await timers.schedule(conn, kind="tip.deadline", subject=f"tip:{tid}", due_at=now,
                              now=now)  # fmt: skip
    await fire_due(h.services)
    await h.drain_outbox()
    assert "Tip overdue, not checked" in h.texts(SECOND)[-1]
    assert ("❌ Unfounded", f"v1:tp:u:{tid}") in h.buttons(SECOND)
    assert "线索超时未核查" in h.texts(WORKER_XF01)[-1]
    assert "线索超时未核查" in h.texts(VADMIN_XF)[-1]

    await press_tip(h, WORKER_XF01, "情况不属实")
    await h.choose(WORKER_XF01, "跳过")
    await h.drain_outbox()
    overdue = [p for p in edits(h, SECOND) if "Tip overdue" in p["text"]]
    assert overdue and datas(overdue[-1]) == []
    assert "Tip XF-XS-20201026-0001 closed: " in overdue[-1]["text"]
