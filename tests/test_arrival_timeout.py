"""An arrival draft untouched for the configured time (30 minutes) ends, and its owner is told;
the timeout is durable across a restart and spares drafts touched recently."""

from __future__ import annotations

from pathlib import Path

from bot.config import Config
from bot.flows.engine import expire_drafts
from bot.runtime.clock import ManualClock
from tests.harness import Harness
from tests.test_arrival_flow import RESIDENT, count, press_value

OTHER = 515151


async def start_draft(h: Harness, user: int = RESIDENT) -> None:
    await h.text(user, "/arrive")
    await h.choose(user, "本人")
    await h.text(user, "张三")


async def test_untouched_draft_ends_with_a_message(harness: Harness) -> None:
    h = harness
    await start_draft(h)
    h.clock.advance(minutes=29)
    assert await expire_drafts(h.services) == 0
    assert await count(h, "drafts") == 1
    h.clock.advance(minutes=2)
    assert await expire_drafts(h.services) == 1
    assert await count(h, "drafts") == 0
    assert await h.drain_outbox() == 1
    assert "超过30分钟没有操作，已自动结束" in h.texts(RESIDENT)[-1]
    # a second tick changes nothing, and the old buttons say the report has ended
    assert await expire_drafts(h.services) == 0
    assert await h.drain_outbox() == 0
    old = h.buttons(RESIDENT)  # the keyboard of the first question
    assert old
    calls = await h.press(RESIDENT, old[0][1])
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert "已经结束" in answer.params["text"]
    assert await count(h, "reports") == 0


async def test_draft_touched_recently_is_not_ended(harness: Harness) -> None:
    h = harness
    await start_draft(h)
    await start_draft(h, OTHER)
    h.clock.advance(minutes=20)
    await h.text(RESIDENT, "13812345678")  # RESIDENT answers; OTHER does not
    h.clock.advance(minutes=15)
    assert await expire_drafts(h.services) == 1
    await h.drain_outbox()
    assert not any("自动结束" in t for t in h.texts(RESIDENT))
    assert any("自动结束" in t for t in h.texts(OTHER))
    row = await h.db.fetchone("SELECT user_id, step FROM drafts")
    assert (row["user_id"], row["step"]) == (RESIDENT, "id_number")


async def test_timeout_across_a_restart(config: Config, clock: ManualClock, tmp_path: Path) -> None:
    path = tmp_path / "paicha.sqlite3"
    h = await Harness.start(config, path, clock)
    await start_draft(h)
    await h.stop()

    clock.advance(minutes=45)  # the bot was down
    h = await Harness.start(config, path, clock)
    try:
        assert await expire_drafts(h.services) == 1
        assert await h.drain_outbox() == 1
        assert "自动结束" in h.texts(RESIDENT)[-1]
        assert await count(h, "drafts") == 0
        # the resident can start again afterwards
        await h.text(RESIDENT, "/arrive")
        assert "这次是给谁登记" in h.texts(RESIDENT)[-1]
        await press_value(h, RESIDENT, "self")
        assert await count(h, "drafts") == 1
    finally:
        await h.stop()
