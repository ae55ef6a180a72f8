"""Supplies (物资) through the bot: receive / issue / count with their movement rows and audit,
never under 0, one low-stock alert per crossing (the keepers and the group), two keepers
issuing at once, a village's request issued or refused, keepers of another place refused
and audited, /supplies per role, and the daily report's section."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.actions import digest
from bot.actions import supplies as service
from bot.config import Config
from bot.domain.supplies import OPS
from bot.runtime.clock import ManualClock
from tests.harness import Harness
from tests.staff_helpers import ADMIN, LEADER, LEADERS_CHAT, REFUSED, VADMIN_SQ, VADMIN_XF

KEEPER = 40301  # the town store's (config [supplies] keepers)
SITE_MANAGER = 40001  # GL01's
LOW = "物资不足"


async def moved(h: Harness, place: str, op: str, item: str, quantity: int,
                user: int = KEEPER, **more: Any) -> service.Outcome:  # fmt: skip
    outcome = await service.move(h.services, {"place": place, "op": OPS[op], "item": item,
                                              "quantity": quantity, **more}, user)  # fmt: skip
    await h.drain_outbox()
    return outcome


def to_a_person(n: int) -> dict[str, Any]:
    """An issue of ``n`` masks from the town store to 张三."""
    return {"place": "town", "op": "issue", "item": "mask", "quantity": n, "to": "person",
            "person": "张三"}  # fmt: skip


async def quantity(h: Harness, place: str, item: str = "mask") -> int | None:
    row = await h.db.fetchone(
        "SELECT quantity FROM supply_stock WHERE place = ? AND item = ?", (place, item)
    )
    return None if row is None else row["quantity"]


async def moves(h: Harness) -> list[tuple]:
    rows = await h.db.fetchall(
        "SELECT kind, place, item, delta, quantity_after, to_place, to_person, user_id "
        "FROM supply_moves ORDER BY id"
    )
    return [tuple(r) for r in rows]


def alerts(h: Harness, chat: int) -> list[str]:
    return [t for t in h.texts(chat) if LOW in t]


async def denied(h: Harness, action: str) -> list[tuple]:
    rows = await h.db.fetchall(
        "SELECT actor, subject FROM audit WHERE action = ? ORDER BY id", (f"denied:{action}",)
    )
    return [tuple(r) for r in rows]


async def test_receive_issue_and_count_are_stored_with_their_movements(harness: Harness) -> None:
    h = harness
    assert await moved(h, "town", "r", "mask", 1500) == service.Outcome(True, 1500)
    assert await moved(h, "town", "i", "mask", 300, to="v.xf") == service.Outcome(True, 1200)
    assert await moved(h, "town", "i", "mask", 50, to="person", person="张三") == \
        service.Outcome(True, 1150)  # fmt: skip
    assert await moved(h, "town", "c", "mask", 1140) == service.Outcome(True, 1140)
    assert await quantity(h, "town") == 1140
    assert await quantity(h, "v:xf") == 300  # issued to a place: moved there
    assert await moves(h) == [
        ("receive", "town", "mask", 1500, 1500, None, None, KEEPER),
        ("issue", "town", "mask", -300, 1200, "v:xf", None, KEEPER),
        ("receive", "v:xf", "mask", 300, 300, None, None, KEEPER),
        ("issue", "town", "mask", -50, 1150, None, "张三", KEEPER),
        ("count", "town", "mask", -10, 1140, None, None, KEEPER),  # the difference found
    ]
    audited = await h.db.fetchall(
        "SELECT action, subject, detail FROM audit WHERE action LIKE 'supply.%' ORDER BY id"
    )
    assert [tuple(r) for r in audited] == [
        ("supply.receive", "supply:town:mask", "+1500"),
        ("supply.issue", "supply:town:mask", "-300"),
        ("supply.receive", "supply:v:xf:mask", "+300"),
        ("supply.issue", "supply:town:mask", "-50"),
        ("supply.count", "supply:town:mask", "-10"),
    ]


async def test_an_issue_of_more_than_in_stock_is_refused_with_the_stock(harness: Harness) -> None:
    h = harness
    await moved(h, "town", "r", "suit", 120)
    assert await moved(h, "town", "i", "suit", 121, to="v.xf") == service.Outcome(False, 120)
    assert await moved(h, "v:xf", "i", "suit", 1, VADMIN_XF, to="person", person="张三") == \
        service.Outcome(False, 0)  # fmt: skip
    assert await quantity(h, "town", "suit") == 120
    assert await quantity(h, "v:xf", "suit") is None  # nothing half-moved
    assert len(await moves(h)) == 1


async def test_one_low_stock_alert_per_crossing(harness: Harness) -> None:
    """Masks at the town store (minimum 1000): issued down past it, on below it, made up,
    then down again — the keeper and the group are told once per crossing."""
    h = harness
    await moved(h, "town", "r", "mask", 1500)
    assert alerts(h, KEEPER) == [] and alerts(h, LEADERS_CHAT) == []
    for _ in range(4):  # 1200, 900 (crossing), 600, 300
        await moved(h, "town", "i", "mask", 300, to="person", person="张三")
    [alert] = alerts(h, LEADERS_CHAT)
    assert "镇物资库" in alert and "口罩 现有 <b>900个</b>" in alert and "最低库存 1000个" in alert
    assert alerts(h, KEEPER) == [alert]
    await moved(h, "town", "r", "mask", 800)  # 1100: made up again
    [restored] = [t for t in h.texts(KEEPER) if "已补足" in t]
    assert "1100个" in restored
    assert not [t for t in h.texts(LEADERS_CHAT) if "已补足" in t]  # the group: only the alert
    await moved(h, "town", "i", "mask", 200, to="person", person="张三")  # 900: crossing again
    assert len(alerts(h, LEADERS_CHAT)) == 2 and len(alerts(h, KEEPER)) == 2
    below = await h.db.fetchone("SELECT below FROM supply_stock WHERE place = 'town'")
    assert below["below"] == 1


async def test_a_village_under_its_minimum_alerts_its_admins_and_the_group(
    harness: Harness,
) -> None:
    h = harness
    await moved(h, "town", "r", "mask", 5000)
    await moved(h, "town", "i", "mask", 250, to="v.xf")  # the village: 250, minimum 200
    await moved(h, "v:xf", "i", "mask", 100, VADMIN_XF, to="person", person="李四")
    [alert] = alerts(h, VADMIN_XF)
    assert "先锋社区" in alert and "150个" in alert and "最低库存 200个" in alert
    assert alerts(h, LEADERS_CHAT) == [alert]
    assert alerts(h, KEEPER) == []  # the town store is not under its minimum
    assert alerts(h, VADMIN_SQ) == []


async def test_two_keepers_issuing_at_once_never_go_negative_nor_alert_twice(
    harness: Harness,
) -> None:
    h = harness
    await moved(h, "town", "r", "mask", 1100)
    outcomes = await asyncio.gather(
        *(service.move(h.services, to_a_person(600), user) for user in (KEEPER, ADMIN))
    )
    await h.drain_outbox()
    assert sorted(outcomes, key=lambda o: o.done) == [service.Outcome(False, 500),
                                                      service.Outcome(True, 500)]  # fmt: skip
    assert await quantity(h, "town") == 500
    assert len(alerts(h, LEADERS_CHAT)) == 1
    many = await asyncio.gather(
        *(service.move(h.services, to_a_person(100), KEEPER) for _ in range(8))
    )
    assert sum(o.done for o in many) == 5 and await quantity(h, "town") == 0
    await h.drain_outbox()
    assert len(alerts(h, LEADERS_CHAT)) == 1  # still the one crossing


# --- /supplies in chat ---------------------------------------------------------------------


async def test_supplies_for_a_village_admin_shows_their_village_and_its_buttons(
    harness: Harness,
) -> None:
    h = harness
    await moved(h, "town", "r", "mask", 5000)
    await moved(h, "town", "i", "mask", 100, to="v.xf")
    await moved(h, "v:xf", "r", "disinfectant", 20, VADMIN_XF)
    await h.text(VADMIN_XF, "/supplies")
    [text] = h.texts(VADMIN_XF)[-1:]
    assert "先锋社区" in text and "石桥村" not in text and "镇物资库" not in text
    assert "⚠️ 口罩：100个（最低 200）" in text
    assert "• 消毒液：20瓶（最低 10）" in text and "⚠️ 手套：0双（最低 50）" in text
    assert h.buttons(VADMIN_XF) == [
        ("📥 入库", "v1:wz:r:v.xf"),
        ("📤 出库", "v1:wz:i:v.xf"),
        ("🔢 盘点", "v1:wz:c:v.xf"),
        ("📝 向镇物资库申请", "v1:wz:q:v.xf"),
    ]


async def test_supplies_for_a_leader_lists_every_place_those_below_first(
    harness: Harness,
) -> None:
    h = harness
    await moved(h, "town", "r", "mask", 5000)
    for item in ("disinfectant", "suit", "thermometer", "gloves", "alcohol"):
        await moved(h, "town", "r", item, 1000)
    h.request.members[LEADER] = "member"  # of the leadership group
    await h.text(LEADER, "/supplies")
    labels = [label for label, _ in h.buttons(LEADER)]
    assert labels[0].startswith("⚠️")  # villages with nothing: under their minimums
    assert "📦 镇物资库" in labels  # the town store: nothing under its minimum
    assert "⚠️ 先锋镇集中隔离点（原粮站招待所）" in labels  # an isolation site
    assert labels[-1] == "📋 待处理的申请"
    text = h.texts(LEADER)[-1]
    assert text.index("石桥村") < text.index("镇物资库")


async def test_a_place_named_with_an_ampersand_is_a_plain_button(
    config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    """A button label is plain text: a site's name rendered for HTML showed "&amp;" on it
    (the autouse no_literal_markup check fails on any entity a person would see)."""
    sites = tuple(s.model_copy(update={"name": "A&B楼隔离点"}) if s.id == "GL01" else s
                  for s in config.sites)  # fmt: skip
    h = await Harness.start(config.model_copy(update={"sites": sites}),
                            tmp_path / "amp.sqlite3", clock)  # fmt: skip
    try:
        h.request.members[LEADER] = "member"
        await h.text(LEADER, "/supplies")
        assert "⚠️ A&B楼隔离点" in [label for label, _ in h.buttons(LEADER)]
    finally:
        await h.stop()


async def test_supplies_for_the_town_store_keeper(harness: Harness) -> None:
    h = harness
    await h.text(KEEPER, "/supplies")
    assert "<b>镇物资库</b> ⚠️" in h.texts(KEEPER)[-1]
    assert "⚠️ 口罩：0个（最低 1000）" in h.texts(KEEPER)[-1]
    assert h.buttons(KEEPER) == [
        ("📥 入库", "v1:wz:r:town"),
        ("📤 出库", "v1:wz:i:town"),
        ("🔢 盘点", "v1:wz:c:town"),
        ("📋 待处理的申请", "v1:wz:l:town"),
    ]


async def test_supplies_is_refused_to_a_worker_and_audited(harness: Harness) -> None:
    h = harness
    await h.text(30001, "/supplies")
    assert REFUSED in h.texts(30001)[-1]
    assert await denied(h, "supply.list") == [(30001, None)]


async def test_a_keeper_of_another_place_is_refused_and_audited(harness: Harness) -> None:
    h = harness
    await h.press(VADMIN_SQ, "v1:wz:i:v.xf")
    await h.press(VADMIN_SQ, "v1:wz:q:v.xf")
    await h.press(SITE_MANAGER, "v1:wz:r:town")
    await h.press(VADMIN_XF, "v1:wz:l:town")
    await h.press(VADMIN_XF, "v1:wz:l:v.xf")  # his own village, but the list is every village's
    await h.press(ADMIN, "v1:wz:c:v.nowhere")  # forged: no such place, even for an admin
    assert await denied(h, "supply.i") == [(VADMIN_SQ, "supply:v:xf")]
    assert await denied(h, "supply.q") == [(VADMIN_SQ, "supply:v:xf")]
    assert await denied(h, "supply.r") == [(SITE_MANAGER, "supply:town")]
    assert await denied(h, "supply.l") == [(VADMIN_XF, "supply:town"), (VADMIN_XF, "supply:v:xf")]
    assert await denied(h, "supply.c") == [(ADMIN, "supply:v:nowhere")]
    assert await h.db.fetchone("SELECT 1 FROM drafts") is None


async def test_an_issue_in_chat_reasks_a_bad_quantity_and_moves_the_stock(
    harness: Harness,
) -> None:
    h = harness
    await moved(h, "town", "r", "mask", 2000)
    await h.press(KEEPER, "v1:wz:i:town")
    await h.choose(KEEPER, "口罩")
    assert "出库多少个口罩" in h.texts(KEEPER)[-1]
    for typed, reason in (("0", "不能是 0"), ("五百", "请输入数字"), ("-3", "负数"),
                          ("3000", None)):  # fmt: skip
        await h.text(KEEPER, typed)
        if reason:
            assert reason in h.texts(KEEPER)[-2] and "出库多少个口罩" in h.texts(KEEPER)[-1]
    await h.choose(KEEPER, "石桥村")
    await h.choose(KEEPER, "确认")
    assert "库存不够：口罩 现有 2000个，不能出库 3000个" in h.texts(KEEPER)[-2]
    assert "出库多少个口罩" in h.texts(KEEPER)[-1]  # the quantity asked again
    await h.text(KEEPER, "１２００个")
    await h.choose(KEEPER, "石桥村")
    summary = h.texts(KEEPER)[-1]
    assert "镇物资库 出库：口罩 1200个" in summary and "发往：石桥村" in summary
    await h.choose(KEEPER, "确认")
    assert "✅ 已出库：口罩 1200个。镇物资库 现有 800个。" in h.texts(KEEPER)[-1]
    assert await quantity(h, "town") == 800 and await quantity(h, "v:sq") == 1200
    await h.drain_outbox()
    assert len(alerts(h, KEEPER)) == 1  # 800 < 1000


async def test_a_count_in_chat_may_find_none(harness: Harness) -> None:
    h = harness
    await moved(h, "s:GL01", "r", "suit", 30, SITE_MANAGER)
    await h.press(SITE_MANAGER, "v1:wz:c:s.GL01")
    await h.choose(SITE_MANAGER, "防护服")
    await h.text(SITE_MANAGER, "０")
    await h.choose(SITE_MANAGER, "确认")
    assert await quantity(h, "s:GL01", "suit") == 0
    assert (await moves(h))[-1] == ("count", "s:GL01", "suit", -30, 0, None, None, SITE_MANAGER)
    await h.drain_outbox()
    [alert] = alerts(h, SITE_MANAGER)
    assert "原粮站招待所" in alert and "防护服 现有 <b>0套</b>" in alert


# --- a village's request to the town store ---------------------------------------------------


async def request_in_chat(h: Harness, user: int = VADMIN_XF, code: str = "v.xf") -> None:
    await h.press(user, f"v1:wz:q:{code}")
    await h.choose(user, "口罩")
    await h.text(user, "300个")
    await h.choose(user, "再加一种")
    await h.choose(user, "防护服")
    await h.text(user, "20")
    await h.choose(user, "就这些")
    await h.text(user, "卡口值守急需")
    assert "口罩 300个" in h.texts(user)[-1] and "防护服 20套" in h.texts(user)[-1]
    await h.choose(user, "确认")
    await h.drain_outbox()


async def test_a_request_issued_moves_the_stock_and_tells_the_requester(
    harness: Harness,
) -> None:
    h = harness
    await moved(h, "town", "r", "mask", 1200)
    await moved(h, "town", "r", "suit", 200)
    await request_in_chat(h)
    assert "XF-WZ-20201026-01" in h.texts(VADMIN_XF)[-1]
    [card] = [t for t in h.texts(KEEPER) if "物资申请" in t]
    assert "先锋社区" in card and "口罩 300个" in card and "卡口值守急需" in card
    request_id = (await h.db.fetchone("SELECT id FROM supply_requests"))["id"]
    assert h.buttons(KEEPER) == [("✅ 批准发放", f"v1:wz:ok:{request_id}"),
                                 ("✖️ 拒绝", f"v1:wz:no:{request_id}")]  # fmt: skip
    await h.press(VADMIN_XF, f"v1:wz:ok:{request_id}")  # the requester cannot issue it
    assert await denied(h, "supply.request_ok") == [(VADMIN_XF, f"supply_request:{request_id}")]
    await h.press(KEEPER, f"v1:wz:ok:{request_id}")
    await h.drain_outbox()
    assert await quantity(h, "town") == 900 and await quantity(h, "v:xf") == 300
    assert await quantity(h, "town", "suit") == 180 and await quantity(h, "v:xf", "suit") == 20
    state = await h.db.fetchone("SELECT state, decided_by FROM supply_requests")
    assert tuple(state) == ("issued", KEEPER)
    assert any("已批准发放" in t for t in h.texts(VADMIN_XF))
    assert len(alerts(h, LEADERS_CHAT)) == 1  # the store crossed under 1000 masks
    await h.press(KEEPER, f"v1:wz:ok:{request_id}")  # a double tap: nothing more moves
    assert await quantity(h, "town") == 900


async def test_a_request_the_store_cannot_cover_is_not_issued(harness: Harness) -> None:
    h = harness
    await moved(h, "town", "r", "mask", 1000)
    await moved(h, "town", "r", "suit", 5)
    await request_in_chat(h)
    request_id = (await h.db.fetchone("SELECT id FROM supply_requests"))["id"]
    calls = await h.press(KEEPER, f"v1:wz:ok:{request_id}")
    [answer] = [c.params["text"] for c in calls if c.method == "answerCallbackQuery"]
    assert answer == "库存不够，没有发放：防护服 申请 20，现有 5套。"
    assert await quantity(h, "town") == 1000 and await quantity(h, "v:xf") is None
    state = await h.db.fetchone("SELECT state FROM supply_requests")
    assert state["state"] == "open"


async def test_a_request_refused_with_a_reason(harness: Harness) -> None:
    h = harness
    await request_in_chat(h)
    request_id = (await h.db.fetchone("SELECT id FROM supply_requests"))["id"]
    await h.press(KEEPER, f"v1:wz:no:{request_id}")
    assert "拒绝申请 XF-WZ-20201026-01 的原因" in h.texts(KEEPER)[-1]
    await h.text(KEEPER, "镇库存不足 已向区里申请")
    assert "已拒绝申请 XF-WZ-20201026-01" in h.texts(KEEPER)[-1]
    await h.drain_outbox()
    told = h.texts(VADMIN_XF)[-1]
    assert "没有批准" in told and "镇库存不足 已向区里申请" in told
    row = await h.db.fetchone("SELECT state, reason FROM supply_requests")
    assert tuple(row) == ("refused", "镇库存不足 已向区里申请")
    await h.press(KEEPER, "v1:wz:l:town")
    assert h.texts(KEEPER)[-1] == "现在没有待处理的物资申请。"


# --- the daily report ----------------------------------------------------------------------


async def test_the_daily_report_lists_the_items_under_their_minimum(harness: Harness) -> None:
    h = harness
    async with h.db.write() as conn:
        built = await digest.build(h.services, conn, since=h.clock.now(), until=h.clock.now(),
                                   now=h.clock.now())  # fmt: skip
    assert "物资低于最低库存" in built.text and "镇物资库：口罩 0/1000个" in built.text
    for item in ("mask", "disinfectant", "suit", "thermometer", "gloves", "alcohol"):
        await moved(h, "town", "r", item, 5000)
    await moved(h, "town", "i", "mask", 4900, to="v.xf")
    await moved(h, "v:xf", "i", "mask", 4800, VADMIN_XF, to="person", person="张三")
    async with h.db.write() as conn:
        built = await digest.build(h.services, conn, since=h.clock.now(), until=h.clock.now(),
                                   now=h.clock.now())  # fmt: skip
    assert "镇物资库：口罩 100/1000个" in built.text
    assert "先锋社区：口罩 100/200个、消毒液 0/10瓶" in built.text
    section = built.text.split("物资低于最低库存</b>\n")[1].split("\n\n")[0]
    assert (
        section == "  镇物资库：口罩 100/1000个\n  先锋社区：口罩 100/200个、消毒液 0/10瓶、"
        "防护服 0/10套、测温枪 0/2把、手套 0/50双、酒精 0/10瓶"
    )  # 石桥村: no stock kept there


async def test_supplies_in_english(harness: Harness) -> None:
    h = harness
    await moved(h, "town", "r", "mask", 1500)
    await h.press(ADMIN, "v1:wz:p:town", lang="en")
    text = h.texts(ADMIN)[-1]
    assert "Supplies in stock" in text and "Town store" in text
    assert "• masks: 1500 pcs (minimum 1000)" in text and "⚠️ disinfectant: 0 bottles" in text
    assert [label for label, _ in h.buttons(ADMIN)] == [
        "📥 Receive", "📤 Issue", "🔢 Count", "📋 Open requests"
    ]  # fmt: skip
    await h.choose(ADMIN, "Issue", lang="en")
    await h.choose(ADMIN, "masks", lang="en")
    await h.text(ADMIN, "600", lang="en")
    await h.choose(ADMIN, "To a person", lang="en")
    await h.text(ADMIN, "Zhang San", lang="en")
    assert "To: Zhang San (a person)" in h.texts(ADMIN)[-1]
    await h.choose(ADMIN, "Confirm", lang="en")
    assert "Issued: masks, 600 pcs. Town store now has 900 pcs." in h.texts(ADMIN)[-1]
