"""A discovered case (§4): reported by a worker with a location pin, alerted to the leadership
group with a 2-hour countdown, reminded at 60/90/110 minutes, escalated in red at 120 and
repeated, stopped by the online direct report (网络直报); the lockdown checklist; "收到"."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Config
from bot.domain.parsing import id_check_char
from bot.runtime import timers as firing
from bot.runtime.clock import ManualClock
from storage import db as db_module
from storage import timers
from storage.db import Database
from storage.outbox import iso
from tests.conftest import SHANGHAI
from tests.harness import Harness

WORKER = 30001  # grid XF01 of 先锋社区
VILLAGE_ADMIN = 20001  # 先锋社区
OTHER_WORKER = 30003  # grid SQ01 of 石桥村
LEADER = 10001  # an admin in config: a leader
RESIDENT = 50001
GROUP = -1001234567890
ID17 = "50011619900101123"
ID_NUMBER = ID17 + id_check_char(ID17)
PIN = {"latitude": 29.0512, "longitude": 106.2534}


def _not_a_member(h: Harness) -> None:
    """Telegram's answer for a user who is not in the leadership group."""
    h.request.fail(lambda c: c.method == "getChatMember", 400, "Bad Request: user not found")


async def report_case(h: Harness, user: int = WORKER, *, pin: bool = True) -> None:
    await h.text(user, "/case")
    await h.choose(user, "疑似病例")
    await h.choose(user, "刚刚发现")
    await h.choose(user, "新登记人员")
    await h.text(user, "张三丰")
    await h.text(user, "138 1234 5678")
    await h.text(user, ID_NUMBER)
    await h.choose(user, "先锋社区")
    await h.choose(user, "先锋社区第1网格")
    await h.text(user, "幸福小区3栋2单元501")
    if pin:
        await h.send(user, location=PIN)
    else:
        await h.text(user, "不发送定位")
    await h.text(user, "已居家隔离")
    await h.choose(user, "确认上报")
    await h.drain_outbox()


def group_texts(h: Harness) -> list[str]:
    return h.texts(GROUP)


def group_buttons(h: Harness) -> list[tuple[str, str]]:
    return h.request.keyboards.get(GROUP, [])


def answers(h: Harness) -> list[str]:
    return [c.params.get("text", "") for c in h.request.calls if c.method == "answerCallbackQuery"]


async def advance_to(h: Harness, minutes: int) -> None:
    """Move the clock to ``minutes`` after 10:00 and fire what fell due."""
    start = datetime(2020, 10, 26, 10, 0, tzinfo=SHANGHAI)
    h.clock.advance(seconds=(start + timedelta(minutes=minutes) - h.clock.now()).total_seconds())
    await firing.fire_due(h.services)
    await h.drain_outbox()


async def test_worker_reports_case_and_group_gets_masked_alert_with_countdown(
    harness: Harness,
) -> None:
    h = harness
    await report_case(h)
    row = await h.db.fetchone("SELECT * FROM cases")
    assert row["ref"] == "XF-BL-20201026-01"
    assert (row["kind"], row["state"], row["reported_by"]) == ("suspected", "open", WORKER)
    assert (row["person_phone"], row["person_id_number"]) == ("13812345678", ID_NUMBER)
    assert (row["latitude"], row["longitude"]) == (PIN["latitude"], PIN["longitude"])
    assert (row["grid_id"], row["status"]) == ("XF01", "已居家隔离")
    assert datetime.fromisoformat(row["deadline_at"]) - datetime.fromisoformat(
        row["created_at"]
    ) == timedelta(hours=2)

    (alert,) = group_texts(h)
    assert "疑似病例" in alert and "XF-BL-20201026-01" in alert
    assert "须于 <b>12:00</b> 前完成网络直报，剩余 2小时" in alert
    assert "张**" in alert and "138****5678" in alert and "5001**********" in alert
    assert "张三丰" not in alert and "13812345678" not in alert and ID_NUMBER not in alert
    assert "uri.amap.com" in alert and "106.2534" in alert  # the location pin
    assert "疫点封控前期工作" in alert and "⬜ 现场封控" in alert
    labels = [label for label, _ in group_buttons(h)]
    assert labels[:2] == ["📨 已网络直报", "👌 收到"]
    assert "⬜ 密切接触者排查" in labels and "⬜ 隔离场所落实" in labels
    assert all(len(data.encode()) <= 64 for _, data in group_buttons(h))

    # The village admin is told too (masked); the reporting worker gets the receipt.
    (notice,) = h.texts(VILLAGE_ADMIN)
    assert "你负责的区域发现疑似病例" in notice and "张**" in notice
    assert "已上报 XF-BL-20201026-01" in h.texts(WORKER)[-1]
    audit = await h.db.fetchone("SELECT actor, action FROM audit WHERE action = 'case.create'")
    assert audit["actor"] == WORKER


async def test_countdown_reminders_overdue_and_repeat(harness: Harness) -> None:
    h = harness
    await report_case(h, pin=False)
    assert "未发送定位" in group_texts(h)[0]
    for minutes, left in ((60, "剩余 1小时"), (90, "剩余 30分钟"), (110, "剩余 10分钟")):
        await advance_to(h, minutes)
        text = group_texts(h)[-1]
        assert "提醒" in text and left in text, (minutes, text)
        assert [label for label, _ in group_buttons(h)] == ["📨 已网络直报", "👌 收到"]
    assert len(group_texts(h)) == 4
    await advance_to(h, 119)
    assert len(group_texts(h)) == 4

    await advance_to(h, 120)
    overdue = group_texts(h)[-1]
    assert overdue.startswith("🔴 <b>超时") and "已超过2小时仍未完成网络直报" in overdue
    await advance_to(h, 135)  # the next repeat slot (every 15 minutes)
    batch = group_texts(h)[-1]
    assert "🔴🔴" in batch and "1 起" in batch and "已超时 15分钟" in batch
    await advance_to(h, 150)
    assert "已超时 30分钟" in group_texts(h)[-1]
    assert len(group_texts(h)) == 7

    # The direct report stops everything.
    case_id = (await h.db.fetchone("SELECT id FROM cases"))["id"]
    await h.press(LEADER, f"v1:cs:{case_id}:r")
    await h.text(LEADER, "5001160001-2020-0042")
    await h.drain_outbox()
    assert "超时" in group_texts(h)[-1] and "5001160001-2020-0042" in group_texts(h)[-1]
    await advance_to(h, 240)
    assert len(group_texts(h)) == 8
    assert await timers.pending_count(h.db) == 0 or all(
        t.kind not in ("case.remind", "case.overdue", "case.overdue_repeat")
        for t in await timers.pending(h.db, f"case:{case_id}")
    )


async def test_overdue_repeat_is_one_message_for_all_cases(harness: Harness) -> None:
    h = harness
    await report_case(h)
    await advance_to(h, 5)
    await report_case(h)
    await advance_to(h, 126)  # both past their deadlines (12:00 and 12:05)
    before = len(group_texts(h))
    await advance_to(h, 135)
    assert len(group_texts(h)) == before + 1
    batch = group_texts(h)[-1]
    assert "2 起" in batch and "XF-BL-20201026-01" in batch and "XF-BL-20201026-02" in batch
    labels = [label for label, _ in group_buttons(h)]
    assert labels == ["📨 已网络直报 XF-BL-20201026-01", "📨 已网络直报 XF-BL-20201026-02"]


async def test_direct_report_records_who_when_number_and_updates_the_card(
    harness: Harness,
) -> None:
    h = harness
    await report_case(h)
    await advance_to(h, 47)
    case_id = (await h.db.fetchone("SELECT id FROM cases"))["id"]
    await h.press(LEADER, f"v1:cs:{case_id}:r")
    assert "请输入网络直报编号" in h.texts(LEADER)[-1]
    await h.text(LEADER, "x")  # too short: asked again
    assert "网络直报编号应为4到40位" in h.texts(LEADER)[-2]
    await h.text(LEADER, " 5001160001 2020 0042 ")
    assert "已记录" in h.texts(LEADER)[-1]
    row = await h.db.fetchone("SELECT * FROM cases WHERE id = ?", (case_id,))
    assert (row["state"], row["direct_report_no"], row["reported_by_user"]) == (
        "reported", "500116000120200042", LEADER)  # fmt: skip
    assert datetime.fromisoformat(row["reported_at"]) == h.clock.now()
    await h.drain_outbox()
    assert "已完成网络直报" in group_texts(h)[-1] and "发现后 47分钟" in group_texts(h)[-1]
    edits = [c for c in h.request.calls if c.method == "editMessageText"
             and int(c.params["chat_id"]) == GROUP]  # fmt: skip
    assert edits
    assert "✅ 已网络直报：编号 <code>500116000120200042</code>" in edits[-1].params["text"]
    assert "已网络直报" not in str(edits[-1].params["reply_markup"])  # no more button
    # Pressing again: it is done; no new question.
    await h.press(LEADER, f"v1:cs:{case_id}:r")
    assert "已完成网络直报" in answers(h)[-1]
    count = len(group_texts(h))
    for minutes in (60, 90, 110, 120, 135):
        await advance_to(h, minutes)
    assert len(group_texts(h)) == count  # no reminder, no escalation


async def test_checklist_ticks_record_who_and_when(harness: Harness) -> None:
    h = harness
    await report_case(h)
    case_id = (await h.db.fetchone("SELECT id FROM cases"))["id"]
    await advance_to(h, 10)
    await h.press(LEADER, f"v1:cs:{case_id}:t:seal")  # pressed in the group
    await advance_to(h, 25)
    await h.press(WORKER, f"v1:cs:{case_id}:t:contacts")  # from the worker's receipt
    await h.press(WORKER, f"v1:cs:{case_id}:t:contacts")  # twice: the first tick stands
    assert answers(h)[-1] == "密切接触者排查 之前已经记录为完成。"
    rows = await h.db.fetchall("SELECT * FROM case_checklist WHERE case_id = ? ORDER BY position",
                               (case_id,))  # fmt: skip
    ticked = {r["item"]: (r["ticked_by"], r["ticked_at"]) for r in rows if r["ticked_at"]}
    assert set(ticked) == {"seal", "contacts"}
    assert ticked["seal"][0] == LEADER and ticked["contacts"][0] == WORKER
    await h.drain_outbox()  # the card is brought up to date through the outbox
    edits = [c.params["text"] for c in h.request.calls if c.method == "editMessageText"
             and int(c.params["chat_id"]) == GROUP]  # fmt: skip
    assert "✅ 现场封控（用户，10:10）" in edits[-1]
    assert "✅ 密切接触者排查（用户，10:25）" in edits[-1] and "⬜ 转运安排" in edits[-1]
    # A worker of another grid may not tick.
    _not_a_member(h)
    await h.press(OTHER_WORKER, f"v1:cs:{case_id}:t:transfer")
    assert "没有权限" in answers(h)[-1]
    assert await h.db.fetchone("SELECT 1 FROM audit WHERE action = 'denied:case.tick'")


async def test_tick_before_the_alert_is_sent_posts_a_status_line(harness: Harness) -> None:
    h = harness
    await report_case(h)
    case_id = (await h.db.fetchone("SELECT id FROM cases"))["id"]
    await h.db.write_one("UPDATE outbox SET message_id = NULL")  # as if not delivered yet
    await h.press(WORKER, f"v1:cs:{case_id}:t:isolation")
    await h.drain_outbox()
    assert group_texts(h)[-1].startswith("☑️ XF-BL-20201026-01：隔离场所落实 已完成")


async def test_acknowledge_stops_reminders_but_not_the_overdue_escalation(
    harness: Harness,
) -> None:
    h = harness
    await report_case(h)
    case_id = (await h.db.fetchone("SELECT id FROM cases"))["id"]
    await advance_to(h, 60)
    assert "提醒" in group_texts(h)[-1]
    await advance_to(h, 65)
    await h.press(LEADER, f"v1:cs:{case_id}:a")
    assert "提醒停止" in answers(h)[-1]
    ack = await h.db.fetchone("SELECT * FROM acks")
    assert (ack["subject"], ack["user_id"]) == (f"case:{case_id}", LEADER)
    await h.drain_outbox()
    assert "收到" in group_texts(h)[-1] and "超时仍会升级" in group_texts(h)[-1]
    count = len(group_texts(h))
    await advance_to(h, 90)
    await advance_to(h, 110)
    assert len(group_texts(h)) == count  # no reminders after "收到"
    await advance_to(h, 120)
    assert group_texts(h)[-1].startswith("🔴")  # the overdue escalation still comes
    await h.press(LEADER, f"v1:cs:{case_id}:a")
    assert answers(h)[-1] == "您已经点过“收到”了。"


async def test_report_from_an_arrival_ref_and_scope(harness: Harness) -> None:
    h = harness
    async with h.db.write() as conn:
        for ref, grid, village in (("XF-20201026-0001", "XF01", "xf"),
                                   ("XF-20201026-0002", "SQ01", "sq")):  # fmt: skip
            cur = await conn.execute(
                """INSERT INTO reports (ref, draft_token, reporter_user_id, reporter_chat_id,
                       locale, relation, village_id, grid_id, address, arrival_date, category,
                       risk, alert, measure_kind, measure_start, measure_end, data, created_at,
                       updated_at)
                   VALUES (?, ?, 1, 1, 'zh_CN', 'self', ?, ?, '幸福小区1栋', '2020-10-25',
                           'sanfan', 'low', 0, 'self_monitoring', '2020-10-25', '2020-11-08',
                           '{}', '', '')""",
                (ref, ref, village, grid),
            )
            await conn.execute(
                "INSERT INTO persons (report_id, idx, name, phone) VALUES (?, 0, '李四', ?)",
                (cur.lastrowid, "13912345678"),
            )
    await h.text(WORKER, "/case")
    await h.choose(WORKER, "无症状感染者")
    await h.choose(WORKER, "刚刚发现")
    await h.text(WORKER, "XF-20201026-0002")  # exists, but in another village's grid
    out_of_scope = h.texts(WORKER)[-2]
    await h.text(WORKER, "XF-20201026-0099")  # does not exist
    missing = h.texts(WORKER)[-2]
    assert out_of_scope.replace("0002", "0099") == missing
    assert "没有找到编号" in missing
    await h.text(WORKER, "xf２０２０１０２６０００１")  # typed loosely: found, in scope
    assert "发送当前位置" in h.texts(WORKER)[-1]  # straight to the location pin
    await h.send(WORKER, location=PIN)
    await h.text(WORKER, "在发热门诊")
    assert "李四" in h.texts(WORKER)[-1]  # the reporter's own summary: in full
    await h.choose(WORKER, "确认上报")
    await h.drain_outbox()
    row = await h.db.fetchone("SELECT * FROM cases")
    assert (row["kind"], row["person_name"], row["grid_id"]) == ("asymptomatic", "李四", "XF01")
    assert row["report_id"] is not None
    alert = group_texts(h)[-1]
    assert "XF-20201026-0001" in alert and "李*" in alert and "139****5678" in alert


async def test_resident_cannot_report_a_case(harness: Harness) -> None:
    h = harness
    _not_a_member(h)
    await h.text(RESIDENT, "/case")
    assert "没有权限" in h.texts(RESIDENT)[-1]
    assert await h.db.fetchone("SELECT * FROM drafts WHERE user_id = ?", (RESIDENT,)) is None
    row = await h.db.fetchone("SELECT actor, action FROM audit WHERE action = 'denied:case.report'")
    assert row["actor"] == RESIDENT


async def test_only_leaders_record_the_direct_report(harness: Harness) -> None:
    h = harness
    await report_case(h)
    case_id = (await h.db.fetchone("SELECT id FROM cases"))["id"]
    await h.press(WORKER, f"v1:cs:{case_id}:r")
    assert "没有权限" in answers(h)[-1]
    _not_a_member(h)
    await h.press(RESIDENT, f"v1:cs:{case_id}:a")
    assert "没有权限" in answers(h)[-1]
    assert (await h.db.fetchone("SELECT state FROM cases"))["state"] == "open"
    assert await h.db.fetchone("SELECT 1 FROM acks") is None


async def test_leader_who_never_started_the_bot_is_told_to(harness: Harness) -> None:
    h = harness
    await report_case(h)
    case_id = (await h.db.fetchone("SELECT id FROM cases"))["id"]
    h.request.fail(lambda c: c.method == "sendMessage" and int(c.params["chat_id"]) == LEADER,
                   403, "Forbidden: bot can't initiate conversation with a user")  # fmt: skip
    await h.press(LEADER, f"v1:cs:{case_id}:r")
    assert "/start" in answers(h)[-1]
    assert await h.db.fetchone("SELECT * FROM drafts WHERE user_id = ?", (LEADER,)) is None


@pytest.mark.parametrize("locale", ["en"])
async def test_english_alert_renders(harness: Harness, locale: str) -> None:
    h = harness
    await h.text(WORKER, "/language")
    await h.press(WORKER, "v1:lang:en")
    await h.text(WORKER, "/case")
    await h.choose(WORKER, "Suspected case")
    await h.choose(WORKER, "Just now")
    await h.choose(WORKER, "New person")
    await h.text(WORKER, "Wang Wu")
    await h.choose(WORKER, "Unknown")
    await h.choose(WORKER, "Unknown")
    await h.choose(WORKER, "先锋社区")
    await h.choose(WORKER, "先锋社区第1网格")  # the worker's own grid
    await h.text(WORKER, "Building 5")
    await h.text(WORKER, "No location")
    await h.text(WORKER, "at the fever clinic")
    await h.choose(WORKER, "Report now")
    assert "Reported as XF-BL-20201026-01" in h.texts(WORKER)[-1]


async def test_reminders_stored_before_the_one_ladder_still_fire(
    config: Config, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database of the version whose cases had their own timers ('case.remind' at 60, 90,
    110 minutes, 'case.overdue' at 120): migration 011 puts the open case on the ladder, and
    the group sees the same reminders, red escalation and repeat as before."""
    path, now = tmp_path / "paicha.sqlite3", clock.now()
    every = db_module.migrations()
    monkeypatch.setattr(db_module, "migrations", lambda: [m for m in every if m[0] <= 10])
    old = await Database.open(path)
    async with old.write() as conn:  # the case as that version stored it
        cur = await conn.execute(
            """INSERT INTO cases (ref, draft_token, kind, person_name, person_phone, village_id,
                   grid_id, address, status, reported_by, created_at, deadline_at)
               VALUES ('XF-BL-20201026-01', 't', 'suspected', '张三丰', '13812345678', 'xf',
                       'XF01', '幸福小区3栋2单元501', '已居家隔离', ?, ?, ?)""",
            (WORKER, iso(now), iso(now + timedelta(hours=2))),
        )
        case_id = cur.lastrowid
        await conn.executemany(
            "INSERT INTO case_checklist (case_id, item, position) VALUES (?, ?, ?)",
            [(case_id, item, i) for i, item in enumerate(("seal", "contacts", "transfer",
                                                          "isolation"))],
        )  # fmt: skip
        for kind, minutes in [("case.remind", m) for m in (60, 90, 110)] + [("case.overdue", 120)]:
            await conn.execute(
                """INSERT INTO timers (kind, subject, due_at, payload, dedup_key, created_at)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                (kind, f"case:{case_id}", iso(now + timedelta(minutes=minutes)),
                 json.dumps({"minutes": minutes}), f"case:{case_id}:{kind}:{minutes}", iso(now)),
            )  # fmt: skip
    await old.close()
    monkeypatch.undo()
    h = await Harness.start(config, path, clock)
    try:
        old_kinds = await h.db.fetchone(
            "SELECT COUNT(*) AS n FROM timers WHERE state = 'pending' AND kind LIKE 'case.%'"
        )
        assert old_kinds["n"] == 0
        for minutes, left in ((60, "剩余 1小时"), (90, "剩余 30分钟"), (110, "剩余 10分钟")):
            await advance_to(h, minutes)
            assert "提醒" in group_texts(h)[-1] and left in group_texts(h)[-1]
        await advance_to(h, 120)
        assert group_texts(h)[-1].startswith("🔴 <b>超时")
        await advance_to(h, 135)
        assert "🔴🔴" in group_texts(h)[-1] and "1 起" in group_texts(h)[-1]
        assert len(group_texts(h)) == 5
    finally:
        await h.stop()


async def test_a_ladder_acknowledge_button_on_a_case_is_the_cases_own(harness: Harness) -> None:
    """The ladder's "收到" (v1:ack:case:<id>) and the card's (v1:cs:<id>:a) are one
    acknowledgement: leaders only, the reminders stop, the overdue escalation still comes."""
    h = harness
    await report_case(h)
    case_id = (await h.db.fetchone("SELECT id FROM cases"))["id"]
    await h.press(WORKER, f"v1:ack:case:{case_id}")
    assert await h.db.fetchone("SELECT 1 FROM audit WHERE action = 'denied:escalation.ack'")
    await h.press(LEADER, f"v1:ack:case:{case_id}")
    assert "提醒停止" in answers(h)[-1]
    await h.press(LEADER, f"v1:cs:{case_id}:a")
    assert answers(h)[-1] == "您已经点过“收到”了。"
    count = len(group_texts(h)) + 1  # the note that the leader acknowledged
    await advance_to(h, 110)
    assert len(group_texts(h)) == count
    await advance_to(h, 120)
    assert group_texts(h)[-1].startswith("🔴")
