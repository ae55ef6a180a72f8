"""The mobilisation drill (scenarios/mobilisation.toml, issue 13) played against the live bot: a
village admin files five town cadres (下沉干部) who join by their links; a leader mobilises them
as a drill (演练): three answer, one declines with a reason, one stays silent (reminded, then
his village admin told, then the leadership group); the caller's roll-call is one message
edited in place; the group gets the notice and the summary; then masks issued from the town
store below the minimum alert once."""

from __future__ import annotations

from tests.e2e.conftest import Live
from tests.e2e.test_drill_e2e import play, texts_with
from tests.e2e.test_units_drill_e2e import stored

CADRES = ("何平", "吕斌", "施红", "孔亮", "曹敏")


async def test_the_mobilisation_drill_passes_against_the_real_bot(live: Live) -> None:
    await play(live, "mobilisation.toml")
    leaders = "\n".join(live.texts("leaders"))
    for secret in (*CADRES, "13300000201", "13300000205", "133 0000 0205"):
        assert secret not in leaders, f"{secret} unmasked in the leadership group"
    # the five on file, each bound to the person who opened his link
    cadres = [live.world.person(f"cadre{n}").user_id for n in range(1, 6)]
    assert stored(live, """SELECT user_id FROM roster WHERE category = 'cadre'
                           AND village_id = 'sq' AND active = 1 ORDER BY user_id""") == [
        (user,) for user in cadres]  # fmt: skip
    # a drill: marked in every message about it, the cards of all five included
    for n in range(1, 6):
        card = texts_with(live, f"cadre{n}", "紧急动员 XF-DY-20201120-01")
        assert card and all(t.startswith("【演练】") for t in card)
    # the group: the notice at the start and the summary at the close, masked
    notice = texts_with(live, "leaders", "紧急动员已发出")
    assert len(notice) == 1 and notice[0].startswith("【演练】") and "机器人通知 5 人" in notice[0]
    summary = texts_with(live, "leaders", "动员结束")
    assert len(summary) == 1 and summary[0].startswith("【演练】")
    for line in ("已收到 1：施*", "已到岗 2：何*、吕*", "无法到岗 1：孔*（正在杉坪村隔离点值班）",
                 "未回复 1：曹*"):  # fmt: skip
        assert line in summary[0], summary[0]
    # the caller's roll-call: one message, edited in place to the end, names in full
    rollcall = texts_with(live, "leader", "动员点名")
    assert len(rollcall) == 1 and "（已结束）" in rollcall[0]
    assert "无法到岗 1：孔亮（正在杉坪村隔离点值班）" in rollcall[0]
    assert "未回复 1：曹敏" in rollcall[0]
    # the silent one: reminded once himself, then his village admin told (only of him)
    assert len(texts_with(live, "cadre5", "动员提醒")) == 1
    for n in range(1, 5):
        assert not texts_with(live, f"cadre{n}", "动员提醒")
    told = texts_with(live, "admin_sq", "动员未回复（石桥村）")
    assert len(told) == 1 and "曹敏" in told[0]
    assert not any(name in told[0] for name in CADRES[:4])
    # then the group, 40 minutes after the call (group_minutes), masked, before the close
    [climbed] = texts_with(live, "leaders", "升级至领导小组")
    assert climbed.startswith("【演练】") and "仍有 1 人未回复：曹*" in climbed, climbed
    assert stored(live, """SELECT r.name, c.state, c.reason FROM mobilisation_calls c
                           JOIN roster r ON r.id = c.roster_id ORDER BY r.user_id""") == [
        ("何平", "arrived", None), ("吕斌", "arrived", None), ("施红", "received", None),
        ("孔亮", "declined", "正在杉坪村隔离点值班"), ("曹敏", "sent", None)]  # fmt: skip
    # masks: one alert for the crossing (the keeper and the group), none for the next issue
    assert len(texts_with(live, "leaders", "物资不足")) == 1
    low = texts_with(live, "keeper", "物资不足")
    assert len(low) == 1 and "口罩 现有 500个，低于最低库存 1000个" in low[0]
    assert stored(live, """SELECT place, quantity, below FROM supply_stock WHERE item = 'mask'
                           ORDER BY place""") == [("town", 400, 1), ("v:sq", 2600, 0)]  # fmt: skip
