"""Transfers (转运) through the bot's pipeline: a request reaches the dispatchers in full with
the vehicles free now; dispatch, 收到, 已接到, 已送达 move it and its vehicle on; the vehicle is
disinfected before its next transfer; an unacknowledged dispatch climbs the ladder (15 min ->
village admin -> group); two dispatchers racing for one vehicle; a crew of another vehicle is
refused and audited; a cancellation with its reason."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, timedelta

import pytest

from bot.actions import cases, transfers
from bot.runtime.timers import fire_due
from storage.cases import NewCase
from storage.cipher import PREFIX
from tests.harness import Harness
from tests.staff_helpers import ADMIN, LEADERS_CHAT, REFUSED, VADMIN_XF, WORKER_XF01, denied

DISPATCHER = 40101
CREW_V01 = 40201
CREW_V02 = 40202
SITE_MANAGER = 40001  # GL01's
PHONE = "13912345678"


async def later(h: Harness, **delta: float) -> None:
    h.clock.advance(**delta)
    await fire_due(h.services)
    await h.drain_outbox()


async def stay(h: Harness, name: str = "王五", room: str = "101") -> int:
    """A contact assigned a room at GL01 (the isolation part is helper D's: made directly)."""
    now = h.clock.now().isoformat()
    async with h.db.write() as conn:
        cur = await conn.execute(
            """INSERT INTO contacts (ref, name, phone, address, village_id, grid_id, kind,
                   last_exposure, measure_kind, measure_start, measure_end, created_at,
                   updated_at)
               VALUES (?, ?, ?, '先锋街12号', 'xf', 'XF01', 'close', '2020-10-25',
                       'centralized_isolation', '2020-10-26', '2020-11-08', ?, ?)""",
            (f"XF-MJ-{name}", name, PHONE, now, now),
        )
        cur = await conn.execute(
            """INSERT INTO stays (site_id, room, contact_id, measure_kind, start_date, end_date,
                                  assigned_by, assigned_at)
               VALUES ('GL01', ?, ?, 'centralized_isolation', '2020-10-26', '2020-11-08', ?, ?)""",
            (room, cur.lastrowid, WORKER_XF01, now),
        )
        return cur.lastrowid


async def request(h: Harness, *stays: int, urgency: str = "normal") -> int:
    async with h.db.write() as conn:
        transfer_id = await transfers.request(
            conn, h.services, list(stays), "先锋街12号", "xf", "XF01", "GL01", urgency, WORKER_XF01
        )
    await h.drain_outbox()
    return transfer_id


async def row(h: Harness, transfer_id: int) -> dict:
    found = await h.db.fetchone("SELECT * FROM transfers WHERE id = ?", (transfer_id,))
    return dict(found)


async def vehicle(h: Harness, vehicle_id: str = "V01") -> dict:
    return dict(await h.db.fetchone("SELECT * FROM vehicles WHERE id = ?", (vehicle_id,)))


def answers(h: Harness) -> list[str]:
    return [c.params.get("text", "") for c in h.request.calls if c.method == "answerCallbackQuery"]


def card_buttons(h: Harness, chat: int) -> list[tuple[str, str]]:
    """(label, data) of the newest transfer card the chat was sent or had edited (not the
    ladder's reminders): a card with no buttons left has none."""
    for call in reversed(h.request.calls):
        markup = call.params.get("reply_markup")
        text = call.params.get("text") or ""
        if str(call.params.get("chat_id")) == str(chat) and "转运任务" in text:
            rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
            return [(b["text"], b["callback_data"]) for row in rows for b in row]
    return []


def keyboard(h: Harness, chat: int) -> list[str]:
    return [label for label, _ in card_buttons(h, chat)]


def data(transfer_id: int, *parts: str) -> str:
    return ":".join(("v1", "zy", str(transfer_id), *parts))


async def dispatched(h: Harness, vehicle_id: str = "V01") -> int:
    transfer_id = await request(h, await stay(h))
    await h.press(DISPATCHER, data(transfer_id, "d", vehicle_id))
    await h.drain_outbox()
    return transfer_id


async def test_the_dispatchers_get_the_request_in_full_with_the_free_vehicles(
    harness: Harness,
) -> None:
    h = harness
    transfer_id = await request(h, await stay(h), await stay(h, "赵六", "102"))
    [card] = h.texts(DISPATCHER)
    assert "XF-ZY-20201026-01" in card and "待派车" in card
    assert "王五" in card and "赵六" in card and "+86 139 1234 5678" in card  # in full
    assert "先锋街12号" in card and "原粮站招待所" in card and "房间 101" in card
    assert h.buttons(DISPATCHER) == [
        ("🚑 派 渝A·12345（负压救护车）", data(transfer_id, "d", "V01")),
        ("🚑 派 渝B·D12345（转运车）", data(transfer_id, "d", "V02")),
        ("✖️ 取消转运", data(transfer_id, "x")),
    ]
    assert not h.texts(LEADERS_CHAT)  # nothing personal in the group
    stored = await row(h, transfer_id)
    assert (stored["state"], stored["site_id"], stored["urgency"]) == ("requested", "GL01",
                                                                       "normal")  # fmt: skip
    ladder = await h.db.fetchone("SELECT * FROM escalations WHERE subject = ?",
                                 (f"transfer:{transfer_id}",))  # fmt: skip
    assert (ladder["kind"], ladder["state"]) == ("transfer", "open")


async def test_dispatch_acknowledge_pick_up_deliver(harness: Harness) -> None:
    h = harness
    transfer_id = await dispatched(h)
    assert answers(h)[-1] == "已派车 渝A·12345，已通知车组。"
    assert (await row(h, transfer_id))["state"] == "dispatched"
    assert (await vehicle(h))["state"] == "dispatched"
    [crew_card] = h.texts(CREW_V01)
    assert "王五" in crew_card and "+86 139 1234 5678" in crew_card and "先锋街12号" in crew_card
    assert [label for label, _ in h.buttons(CREW_V01)] == ["👌 收到", "👥 已接到"]
    assert any("已派车 渝A·12345" in t for t in h.texts(WORKER_XF01))  # the requester
    assert not h.texts(CREW_V02)

    h.clock.advance(minutes=3)
    await h.press(CREW_V01, data(transfer_id, "a"))
    await h.drain_outbox()
    stored = await row(h, transfer_id)
    assert (stored["state"], stored["acknowledged_by"]) == ("acknowledged", CREW_V01)
    ladder = await h.db.fetchone("SELECT state, detail FROM escalations")
    assert ladder["state"] == "open" and '"acknowledged"' in ladder["detail"]  # the pick-up's
    assert keyboard(h, CREW_V01) == ["👥 已接到"]

    await h.press(CREW_V01, data(transfer_id, "p"))
    assert '"picked_up"' in (await h.db.fetchone("SELECT detail FROM escalations"))["detail"]
    await h.press(CREW_V01, data(transfer_id, "v"))
    await h.drain_outbox()
    assert (await h.db.fetchone("SELECT state FROM escalations"))["state"] == "handled"
    stored = await row(h, transfer_id)
    assert stored["state"] == "delivered" and stored["delivered_at"] and stored["picked_up_at"]
    car = await vehicle(h)
    assert car["state"] == "disinfecting"
    assert (
        car["available_at"] == (h.clock.now() + timedelta(minutes=60)).astimezone(UTC).isoformat()
    )
    [note] = [t for t in h.texts(SITE_MANAGER) if "送达" in t]
    assert "渝A·12345" in note and "1 人" in note and "确认入住" in note
    assert any("送达" in t for t in h.texts(WORKER_XF01))
    actions = [
        r["action"]
        for r in await h.db.fetchall(
            "SELECT action FROM audit WHERE subject = ? ORDER BY id", (f"transfer:{transfer_id}",)
        )
    ]
    assert actions == ["transfer.request", "transfer.dispatch", "transfer.acknowledge",
                       "transfer.pick_up", "transfer.deliver"]  # fmt: skip


async def test_a_vehicle_is_disinfected_before_its_next_transfer(harness: Harness) -> None:
    h = harness
    first = await dispatched(h)
    for step in ("p", "v"):
        await h.press(CREW_V01, data(first, step))
    await h.drain_outbox()
    second = await request(h, await stay(h, "赵六", "102"))
    card = h.texts(DISPATCHER)[-1]
    assert "渝A·12345（负压救护车）：消毒中，11:00 后可派" in card
    assert [label for label, _ in h.buttons(DISPATCHER)] == ["🚑 派 渝B·D12345（转运车）",
                                                             "✖️ 取消转运"]  # fmt: skip

    await later(h, minutes=59)
    await h.press(DISPATCHER, data(second, "d", "V01"))  # an old card's button
    assert answers(h)[-1].startswith("这辆车现在不能派")
    assert (await row(h, second))["state"] == "requested"

    await later(h, minutes=1)  # 60 minutes: the timer frees it, the waiting card offers it
    assert (await vehicle(h))["state"] == "available"
    assert ("🚑 派 渝A·12345（负压救护车）", data(second, "d", "V01")) in card_buttons(
        h, DISPATCHER
    )
    await h.press(DISPATCHER, data(second, "d", "V01"))
    assert (await row(h, second))["vehicle_id"] == "V01"
    assert (await vehicle(h))["state"] == "dispatched"


async def test_an_unacknowledged_dispatch_climbs_to_the_village_admin_then_the_group(
    harness: Harness,
) -> None:
    h = harness
    transfer_id = await dispatched(h)
    crew_before = len(h.texts(CREW_V01))
    await later(h, minutes=10)  # 5 minutes before the deadline: the crew reminded
    await later(h, minutes=1)  # the minute's flush
    reminders = h.texts(CREW_V01)[crew_before:]
    assert len(reminders) == 1 and "车组尚未确认接单" in reminders[0]
    assert not [t for t in h.texts(VADMIN_XF) if "转运" in t]

    await later(h, minutes=3)  # 14 minutes
    assert not [t for t in h.texts(VADMIN_XF) if "转运" in t]
    await later(h, minutes=1)  # 15 minutes: the village admin
    await later(h, minutes=1)
    [step] = [t for t in h.texts(VADMIN_XF) if "转运" in t]
    assert "XF-ZY-20201026-01" in step and "已升级至村（社区）" in step
    assert "调度员或车组尚未处理" in step and "王五" not in step
    assert not [t for t in h.texts(LEADERS_CHAT) if "XF-ZY" in t]

    await later(h, minutes=14)
    assert not [t for t in h.texts(LEADERS_CHAT) if "XF-ZY" in t]
    await later(h, minutes=1)  # 30 minutes: the leadership group, in the minute's batch
    await later(h, minutes=1)
    [batch] = [t for t in h.texts(LEADERS_CHAT) if "XF-ZY" in t]
    assert "车组尚未确认接单" in batch and "王五" not in batch and "1391" not in batch
    reached = await h.db.fetchone("SELECT reached FROM escalations")
    assert reached["reached"] == "leadership"
    assert (await row(h, transfer_id))["state"] == "dispatched"


async def test_an_undispatched_request_reminds_the_dispatchers_then_the_village_admin(
    harness: Harness,
) -> None:
    h = harness
    await request(h, await stay(h), urgency="urgent")  # 10 minutes to dispatch
    await later(h, minutes=5)
    await later(h, minutes=1)
    assert any("尚未派车" in t for t in h.texts(DISPATCHER))
    await later(h, minutes=4)  # 10 minutes
    await later(h, minutes=1)
    assert any("尚未派车" in t for t in h.texts(VADMIN_XF))


async def test_two_dispatchers_racing_for_one_vehicle_one_wins(harness: Harness) -> None:
    h = harness
    first, second = await request(h, await stay(h)), await request(h, await stay(h, "赵六", "102"))
    outcomes = await asyncio.gather(
        transfers.dispatch(h.services, first, "V01", DISPATCHER, "调度甲"),
        transfers.dispatch(h.services, second, "V01", ADMIN, "调度乙"),
    )
    assert sorted(outcomes) == ["busy", "done"]
    rows = await h.db.fetchall("SELECT state, vehicle_id FROM transfers ORDER BY id")
    assert sorted((r["state"], r["vehicle_id"]) for r in rows) == [("dispatched", "V01"),
                                                                   ("requested", None)]  # fmt: skip

    # the loser's button, pressed again: told on the button
    loser = first if outcomes[0] == "busy" else second
    await h.press(DISPATCHER, data(loser, "d", "V01"))
    assert answers(h)[-1].startswith("这辆车现在不能派")
    # one transfer, two vehicles: the second press is told it was dispatched already
    await h.press(DISPATCHER, data(loser, "d", "V02"))
    await h.press(ADMIN, data(loser, "d", "V02"))
    assert answers(h)[-1] == "此转运已派车或已取消，无需再派。"
    assert (await vehicle(h, "V02"))["state"] == "dispatched"


async def test_the_crew_of_another_vehicle_is_refused_and_audited(harness: Harness) -> None:
    h = harness
    transfer_id = await dispatched(h)
    await h.press(CREW_V02, data(transfer_id, "a"))
    assert REFUSED in answers(h)[-1]
    assert (await row(h, transfer_id))["state"] == "dispatched"
    assert await denied(h, CREW_V02) == ["denied:transfer.a"]
    await h.press(CREW_V01, data(transfer_id, "d", "V02"))  # the crew does not dispatch
    assert await denied(h, CREW_V01) == ["denied:transfer.d"]


async def test_a_cancellation_asks_the_reason_and_frees_the_vehicle(harness: Harness) -> None:
    h = harness
    transfer_id = await dispatched(h)
    await h.press(DISPATCHER, data(transfer_id, "x"))
    assert "取消转运 XF-ZY-20201026-01 的原因" in h.texts(DISPATCHER)[-1]
    await h.text(DISPATCHER, "   ")
    assert "内容不能为空" in h.texts(DISPATCHER)[-2]  # the reason, then the same question
    assert "的原因" in h.texts(DISPATCHER)[-1]
    await h.text(DISPATCHER, "人员已自行前往")
    await h.drain_outbox()
    stored = await row(h, transfer_id)
    assert (stored["state"], stored["note"]) == ("cancelled", "人员已自行前往")
    assert (await vehicle(h))["state"] == "available"
    assert any("已由" in t and "人员已自行前往" in t for t in h.texts(WORKER_XF01))
    assert (await h.db.fetchone("SELECT state FROM escalations"))["state"] == "handled"
    await h.press(CREW_V01, data(transfer_id, "a"))
    assert answers(h)[-1] == "此步骤已记录过，或转运已取消。"


async def test_the_case_card_follows_its_contacts_transfer(harness: Harness) -> None:
    h = harness
    stay_id = await stay(h)
    now = h.clock.now()
    case = NewCase(draft_token="t-case", kind="confirmed", report_id=None, person_name="张三",
                   person_phone=None, person_id_number=None, village_id="xf", grid_id="XF01",
                   address="先锋街1号", latitude=None, longitude=None, status="发热",
                   reported_by=WORKER_XF01, discovered_at=now)  # fmt: skip
    async with h.db.write() as conn:
        stored = await cases.open_case(conn, h.services, case, WORKER_XF01, now)
        await conn.execute(
            """INSERT INTO case_contacts (case_id, contact_id, kind, last_exposure, source,
                                          added_by, added_at)
               SELECT ?, contact_id, 'close', '2020-10-25', 'staff', ?, ? FROM stays
               WHERE id = ?""",
            (stored.id, WORKER_XF01, now.isoformat(), stay_id),
        )
    await h.drain_outbox()
    key = f"case:{stored.id}:alert"

    async def card_edits() -> int:
        found = await h.db.fetchone("SELECT COUNT(*) AS n FROM outbox WHERE edits = ?", (key,))
        return found["n"]

    transfer_id = await request(h, stay_id)
    after_request = await card_edits()
    assert after_request >= 1
    await h.press(DISPATCHER, data(transfer_id, "d", "V01"))
    assert await card_edits() > after_request
    edits = [c for c in h.request.calls if c.method == "editMessageText"
             and str(c.params["chat_id"]) == str(LEADERS_CHAT)]  # fmt: skip
    assert edits  # the group's card was brought up to date


async def test_transfers_and_vehicles_commands(harness: Harness) -> None:
    h = harness
    transfer_id = await dispatched(h)
    await request(h, await stay(h, "赵六", "102"), urgency="urgent")
    await h.text(DISPATCHER, "/transfers")
    listing = h.texts(DISPATCHER)[-1]
    assert "未完成的转运：2 项" in listing and "🔴紧急 待派车" in listing
    assert "已派车，待车组确认" in listing and "渝A·12345" in listing
    await h.press(DISPATCHER, data(transfer_id, "o"))
    assert "XF-ZY-20201026-01" in h.texts(DISPATCHER)[-1]

    await h.text(DISPATCHER, "/vehicles")
    vehicles = h.texts(DISPATCHER)[-1]
    assert (
        "渝A·12345（负压救护车）🚑 已派出" in vehicles and "渝B·D12345（转运车）🟢 待命" in vehicles
    )
    assert not h.buttons(DISPATCHER) or all("停用" not in b for b, _ in h.buttons(DISPATCHER))

    await h.text(ADMIN, "/vehicles")
    # not the one on the road
    assert [b for b, _ in h.buttons(ADMIN)] == ["⛔ 渝B·D12345 停用", "➕ 添加车辆"]
    await h.choose(ADMIN, "停用")
    assert (await vehicle(h, "V02"))["state"] == "out_of_service"
    assert "渝B·D12345（转运车）⛔ 停用" in h.texts(ADMIN)[-1]
    assert [b for b, _ in h.buttons(ADMIN)] == ["🟢 渝B·D12345 恢复待命", "➕ 添加车辆"]

    await h.text(CREW_V02, "/transfers")
    await h.text(CREW_V02, "/vehicles")
    await h.press(CREW_V02, "v1:vh:V02:available")
    assert await denied(h, CREW_V02) == ["denied:transfer.list", "denied:vehicle.list",
                                         "denied:vehicle.state"]  # fmt: skip
    assert (await vehicle(h, "V02"))["state"] == "out_of_service"


async def test_an_admin_adds_a_vehicle_in_chat(harness: Harness) -> None:
    h = harness
    await h.text(ADMIN, "/vehicles")
    await h.choose(ADMIN, "添加车辆")
    assert "请输入车牌号" in h.texts(ADMIN)[-1]
    await h.text(ADMIN, "渝A1234")
    assert "车牌号格式不正确" in h.texts(ADMIN)[-2] and "请输入车牌号" in h.texts(ADMIN)[-1]
    await h.text(ADMIN, "渝a 12345")  # V01's, spaced otherwise
    assert "车牌 渝A·12345 已经登记过了" in h.texts(ADMIN)[-2]
    await h.text(ADMIN, "渝A·67890")
    await h.choose(ADMIN, "转运车")
    await h.choose(ADMIN, "暂不填写")
    await h.text(ADMIN, "13600000003")
    assert "车牌：渝A·67890（转运车）" in h.texts(ADMIN)[-1]
    await h.choose(ADMIN, "确认添加")
    assert h.texts(ADMIN)[-1] == "✅ 已添加车辆 渝A·67890，状态：待命。"
    added = await vehicle(h, "VC01")  # the chat's own series, never the config's V03
    assert (added["plate"], added["kind"], added["state"], added["source"]) == (
        "渝A·67890", "transfer", "available", "chat")  # fmt: skip
    assert added["crew_phone"] == "13600000003" and added["crew_name"] is None
    with sqlite3.connect(h.db.path) as raw:  # at rest: sealed, the config's and this one
        phones = [r[0] for r in raw.execute("SELECT crew_phone FROM vehicles")]
    assert len(phones) == 3 and all(p.startswith(PREFIX) for p in phones)

    # a dispatcher may not add one
    await h.press(DISPATCHER, "v1:vh:new")
    assert await denied(h, DISPATCHER) == ["denied:vehicle.add"]


async def test_a_request_names_stays_waiting_at_its_site(harness: Harness) -> None:
    h = harness
    stay_id = await stay(h)
    for stays, site in (([stay_id], "GL02"), ([], "GL01"), ([stay_id, 999], "GL01")):
        with pytest.raises(ValueError):
            async with h.db.write() as conn:
                await transfers.request(conn, h.services, stays, "先锋街12号", "xf", "XF01", site,
                                        "normal", WORKER_XF01)  # fmt: skip
    with pytest.raises(ValueError):
        async with h.db.write() as conn:
            await transfers.request(conn, h.services, [stay_id], "先锋街12号", "xf", "XF01",
                                    "GL01", "soon", WORKER_XF01)  # fmt: skip
    assert await h.db.fetchone("SELECT 1 FROM transfers") is None  # nothing half-stored


# --- review fixes: the stages after 收到 on the ladder; a vehicle's disinfection kept through
# 停用; vehicles added in chat (their own ids, a crew to invite, the config never taking them
# over); every waiting card refreshed and /transfers saying how many it leaves out ---------


def about(h: Harness, chat: int, words: str) -> list[str]:
    return [t for t in h.texts(chat) if "XF-ZY" in t and words in t]


async def test_an_acknowledged_transfer_climbs_until_picked_up_then_until_delivered(
    harness: Harness,
) -> None:
    h = harness
    transfer_id = await dispatched(h)
    await later(h, minutes=3)
    await h.press(CREW_V01, data(transfer_id, "a"))  # 收到 at 3: the pick-up is due at 33
    await h.drain_outbox()
    await later(h, minutes=21)  # 24
    assert not about(h, CREW_V01, "尚未接到人员")
    await later(h, minutes=4)  # 28: 5 minutes before, the crew reminded
    await later(h, minutes=1)
    assert len(about(h, CREW_V01, "车组已接单，尚未接到人员")) == 1
    assert not about(h, VADMIN_XF, "尚未接到人员")
    await later(h, minutes=4)  # 33: the village admin
    await later(h, minutes=1)
    assert len(about(h, VADMIN_XF, "车组已接单，尚未接到人员")) == 1
    await later(h, minutes=15)  # 49: the leadership group
    await later(h, minutes=1)
    assert len(about(h, LEADERS_CHAT, "车组已接单，尚未接到人员")) == 1

    await h.press(CREW_V01, data(transfer_id, "p"))  # 已接到 at 50: delivery due at 110
    await h.drain_outbox()
    climb = await h.db.fetchone("SELECT state, reached FROM escalations")
    assert (climb["state"], climb["reached"]) == ("open", None)  # a new climb, from the start
    await later(h, minutes=54)  # 104
    assert not about(h, CREW_V01, "尚未送达")
    await later(h, minutes=1)  # 105: the crew reminded
    await later(h, minutes=1)
    assert len(about(h, CREW_V01, "已接到人员，尚未送达")) == 1
    await later(h, minutes=4)  # 110: the village admin
    await later(h, minutes=1)
    assert len(about(h, VADMIN_XF, "已接到人员，尚未送达")) == 1

    await h.press(CREW_V01, data(transfer_id, "v"))  # delivered: the climb ends
    await h.drain_outbox()
    assert (await h.db.fetchone("SELECT state FROM escalations"))["state"] == "handled"
    await later(h, minutes=30)
    assert not about(h, LEADERS_CHAT, "尚未送达")


async def test_out_of_service_keeps_the_disinfection_until_its_end(harness: Harness) -> None:
    h = harness
    first = await dispatched(h)
    for step in ("p", "v"):
        await h.press(CREW_V01, data(first, step))
    await h.drain_outbox()
    until = (await vehicle(h))["available_at"]  # 60 minutes on
    await h.text(ADMIN, "/vehicles")
    await h.choose(ADMIN, "渝A·12345 停用")
    assert ((await vehicle(h))["state"], (await vehicle(h))["available_at"]) == (
        "out_of_service", until)  # fmt: skip
    await later(h, minutes=10)
    await h.choose(ADMIN, "渝A·12345 恢复待命")  # back before the end: disinfecting still
    assert ((await vehicle(h))["state"], (await vehicle(h))["available_at"]) == (
        "disinfecting", until)  # fmt: skip
    second = await request(h, await stay(h, "赵六", "102"))
    await h.press(DISPATCHER, data(second, "d", "V01"))
    assert answers(h)[-1].startswith("这辆车现在不能派")
    await later(h, minutes=50)  # the end: its timer frees it
    assert (await vehicle(h))["state"] == "available"

    # taken out while disinfecting, back only after the end: available at once
    third = await request(h, await stay(h, "孙八", "104"))
    await h.press(DISPATCHER, data(third, "d", "V02"))
    for step in ("p", "v"):
        await h.press(CREW_V02, data(third, step))
    await h.text(ADMIN, "/vehicles")
    await h.choose(ADMIN, "渝B·D12345 停用")
    await later(h, minutes=61)  # the timer fired while out of service: nothing to do
    assert (await vehicle(h, "V02"))["state"] == "out_of_service"
    await h.text(ADMIN, "/vehicles")
    await h.choose(ADMIN, "渝B·D12345 恢复待命")
    assert ((await vehicle(h, "V02"))["state"], (await vehicle(h, "V02"))["available_at"]) == (
        "available", None)  # fmt: skip


async def add_vehicle(h: Harness, plate: str = "渝A·67890") -> None:
    await h.text(ADMIN, "/vehicles")
    await h.choose(ADMIN, "添加车辆")
    await h.text(ADMIN, plate)
    await h.choose(ADMIN, "转运车")
    await h.choose(ADMIN, "暂不填写")
    await h.choose(ADMIN, "暂不填写")
    await h.choose(ADMIN, "确认添加")


async def test_a_vehicle_with_no_crew_in_the_bot_is_said_so_and_still_climbs(
    harness: Harness,
) -> None:
    h = harness
    await add_vehicle(h)
    added = await h.db.fetchone("SELECT id FROM vehicles WHERE plate = '渝A·67890'")
    transfer_id = await request(h, await stay(h))
    await h.press(DISPATCHER, data(transfer_id, "d", added["id"]))
    await h.drain_outbox()
    told = answers(h)[-1]
    assert "已派车 渝A·67890" in told and "未能通知" in told and "已通知车组" not in told
    assert (await row(h, transfer_id))["vehicle_id"] == added["id"]
    await later(h, minutes=10)  # the crew's reminder: to the dispatchers, the crew being absent
    await later(h, minutes=1)
    assert about(h, DISPATCHER, "车组尚未确认接单")
    await later(h, minutes=4)  # 15: the village admin
    await later(h, minutes=1)
    assert about(h, VADMIN_XF, "车组尚未确认接单")


async def test_chat_vehicles_have_their_own_ids_and_the_config_never_takes_them_over(
    harness: Harness,
) -> None:
    from bot.actions import vehicles as fleet
    from bot.config import ConfigError, Vehicle

    h = harness
    await add_vehicle(h)
    added = await vehicle(h, "VC01")
    assert (added["plate"], added["source"]) == ("渝A·67890", "chat")

    def config_with(*extra: Vehicle) -> None:
        h.services.config = h.config.model_copy(update={"vehicles": (*h.config.vehicles,
                                                                     *extra)})  # fmt: skip

    # a third vehicle in the config (V03, the config's series): both kept, apart
    config_with(Vehicle(id="V03", plate="渝A·11111", kind="transfer"))
    await fleet.seed(h.services)
    assert (await vehicle(h, "V03"))["source"] == "config"
    assert dict(await vehicle(h, "VC01")) == added
    # the chat vehicle's plate in the config: a start-up error naming the key, nothing written
    config_with(Vehicle(id="V03", plate="渝A·67890", kind="negative_pressure"))
    with pytest.raises(ConfigError) as error:
        await fleet.seed(h.services)
    assert error.value.problems == [
        "vehicles[2].plate: 渝A·67890 is vehicle VC01's, added in chat: remove it from the "
        "config (the bot has it already) or correct the plate"
    ]
    # the chat vehicle's id in the config
    config_with(Vehicle(id="VC01", plate="渝A·22222", kind="transfer"))
    with pytest.raises(ConfigError, match=r"vehicles\[2\]\.id: VC01 is the id of a vehicle added"):
        await fleet.seed(h.services)
    assert dict(await vehicle(h, "VC01")) == added
    assert (await vehicle(h, "V03"))["plate"] == "渝A·11111"


async def test_every_waiting_card_is_refreshed_and_the_list_counts_what_it_leaves_out(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import transfers as store

    h = harness
    first = await dispatched(h)
    for step in ("p", "v"):
        await h.press(CREW_V01, data(first, step))
    await h.drain_outbox()
    async with h.db.write() as conn:  # 52 more waiting (made directly: their cards are not
        waiting = [  # what this is about)
            await store.create(conn, store.NewTransfer((), "先锋街12号", "xf", "XF01", "GL01",
                                                       "normal", WORKER_XF01),
                               f"XF-ZY-20201026-{n + 10:02d}", h.clock.now())
            for n in range(52)
        ]  # fmt: skip
    h.clock.advance(minutes=60)
    freed = h.clock.now().astimezone(UTC).isoformat()
    await fire_due(h.services)  # V01 free again: every waiting card offers it
    edited = await h.db.fetchall(
        "SELECT DISTINCT subject FROM outbox WHERE edits IS NOT NULL AND created_at >= ?",
        (freed,),
    )
    assert {r["subject"] for r in edited} == {f"transfer:{t}" for t in waiting}

    monkeypatch.setattr(transfers, "LIST_LIMIT", 5)
    await h.text(DISPATCHER, "/transfers")
    listing = h.texts(DISPATCHER)[-1]
    assert "未完成的转运：52 项" in listing and "还有 47 条未列出" in listing
    assert listing.count("XF-ZY-") == 5 and len(h.buttons(DISPATCHER)) == 5
    monkeypatch.setattr(transfers, "LIST_LIMIT", 60)
    await h.text(DISPATCHER, "/transfers")
    assert "未列出" not in h.texts(DISPATCHER)[-1]
