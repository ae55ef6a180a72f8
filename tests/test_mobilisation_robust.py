"""Mobilisation when the roster changes under an open call: a called person who left the bot
(their row lost its user id) is listed to be phoned and the ladder goes on for the others; a
deactivated file is not reminded or escalated; names with HTML characters show once
escaped; the daily report's figures add up to the number called; closing takes the answer
buttons off the reminders too."""

from __future__ import annotations

from pathlib import Path

from bot.actions import digest
from bot.config import Config, StaffKind
from bot.runtime.clock import ManualClock
from sandbox.formatting import parse_html
from tests.harness import Harness
from tests.staff_helpers import LEADER, LEADERS_CHAT, VADMIN_SQ
from tests.test_mobilisation import calls, data, file, later, mobilise, rollcalls, texts


async def unbind(h: Harness, user_id: int) -> None:
    """The person's roster row loses its user id (they left the bot, the row retired)."""
    async with h.db.write() as conn:
        await conn.execute("UPDATE roster SET user_id = NULL WHERE user_id = ?", (user_id,))


async def test_a_called_person_who_left_the_bot_is_phoned_and_the_ladder_goes_on(
    harness: Harness,
) -> None:
    h = harness
    await file(h)
    mobilisation_id = await mobilise(h)
    for user in (61001, 61002):
        await h.press(user, data(mobilisation_id, "a"))
    await unbind(h, 61004)  # 赵四; 王三 (61003) stays silent in the bot
    await later(h, minutes=10)  # the reminder step runs (it crashed on the unbound row)
    assert "动员提醒" in texts(h, 61003)[-1]
    assert len(texts(h, 61004)) == 1  # the card only: the bot no longer reaches them
    await later(h, minutes=10)
    [told] = texts(h, VADMIN_SQ)
    assert "王三" in told and "赵四" not in told
    await later(h, minutes=20)
    group = texts(h, LEADERS_CHAT)[-1]
    assert "升级至领导小组" in group and "王*" in group and "赵*" not in group
    await h.press(LEADER, data(mobilisation_id, "f"))
    await h.drain_outbox()
    last = rollcalls(h)[-1]  # listed, phone in full, to be phoned
    assert "未加入机器人 2" in last and "赵四 +86 139 1234 5678" in last
    assert "未回复 1" in last


async def test_a_deactivated_file_is_not_reminded_or_escalated(harness: Harness) -> None:
    h = harness
    await file(h)
    mobilisation_id = await mobilise(h)
    for user in (61001, 61002, 61003):
        await h.press(user, data(mobilisation_id, "a"))
    async with h.db.write() as conn:
        await conn.execute("UPDATE roster SET active = 0 WHERE user_id = 61004")
    await later(h, minutes=60)
    assert len(texts(h, 61004)) == 1 and not texts(h, VADMIN_SQ)
    assert len(texts(h, LEADERS_CHAT)) == 1  # the notice only
    assert (await calls(h, mobilisation_id))["赵四"]["reminded_at"] is None


ODD = "W's & Co"  # a category named with HTML's special characters


async def test_a_name_with_an_apostrophe_and_an_ampersand_is_escaped_once(
    config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    categories = tuple(StaffKind(id=k.id, name=ODD) if k.id == "cadre" else k
                       for k in config.staff.categories)  # fmt: skip
    odd = config.model_copy(
        update={"staff": config.staff.model_copy(update={"categories": categories})}
    )
    h = await Harness.start(odd, tmp_path / "paicha.sqlite3", clock)
    try:
        await file(h)
        h.request.members[LEADER] = "member"
        await h.text(LEADER, "/mobilise")
        await h.choose(LEADER, "按类别")
        await h.choose(LEADER, ODD)
        await h.choose(LEADER, "石桥村")
        assert f"石桥村 {ODD}" in texts(h, LEADER)[-1]  # the place's question
        await h.text(LEADER, "石桥村村委会")
        await h.choose(LEADER, "立即")
        await h.text(LEADER, "协助核酸采样")
        await h.choose(LEADER, "是，演练")
        assert f"石桥村 {ODD}" in texts(h, LEADER)[-1]  # the confirmation card
        await h.choose(LEADER, "确认发送")
        await h.drain_outbox()
        for shown in (texts(h, 61001)[-1], rollcalls(h)[-1], texts(h, LEADERS_CHAT)[-1]):
            assert f"石桥村 {ODD}" in shown and "&amp;" not in shown and "&#39;" not in shown
    finally:
        await h.stop()


async def test_the_daily_report_figures_add_up_to_the_number_called(harness: Harness) -> None:
    h = harness
    await file(h)
    since = h.clock.now()
    mobilisation_id = await mobilise(h)
    await h.press(61001, data(mobilisation_id, "a"))
    await h.press(61002, data(mobilisation_id, "d"))
    await h.text(61002, "发烧在家")
    await h.press(61003, data(mobilisation_id, "r"))
    h.clock.advance(minutes=1)
    async with h.db.write() as conn:
        built = await digest.build(h.services, conn, since=since, until=h.clock.now(),
                                   now=h.clock.now())  # fmt: skip
    text = parse_html(built.text)[0]
    # 5 called = 1 arrived + 1 received + 1 declined + 1 silent (赵四) + 1 only on file (钱五)
    assert ("【演练】XF-DY-20201026-01：召集 5 人，到岗 1，已收到 1，无法到岗 1，未回复 1，"
            "电话通知 1（进行中）") in text  # fmt: skip


async def test_closing_takes_the_buttons_off_the_reminders(harness: Harness) -> None:
    h = harness
    await file(h)
    mobilisation_id = await mobilise(h)
    await later(h, minutes=10)
    assert "动员提醒" in texts(h, 61004)[-1] and h.buttons(61004)
    await h.press(LEADER, data(mobilisation_id, "c"))
    await h.drain_outbox()
    edits = [c for c in h.request.calls if c.method == "editMessageText"
             and int(c.params["chat_id"]) == 61004 and "动员提醒" in c.params["text"]]  # fmt: skip
    assert edits and not edits[-1].params.get("reply_markup")
    assert "本次动员已结束" in parse_html(edits[-1].params["text"])[0]
