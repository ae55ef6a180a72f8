"""The escalation ladder (runtime/escalation) through PTB's pipeline: an unverified arrival climbs
assignee -> village admin -> leadership group at the configured delays; handling or "收到"
stops it; who may acknowledge; a wave of items makes one group message; a symptom tip's 2 h."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Config, Escalation, EscalationStep
from bot.runtime import escalation
from bot.runtime.clock import ManualClock
from bot.runtime.timers import fire_due
from storage import db as db_module
from storage import escalation as store
from storage.db import Database
from tests.harness import Harness
from tests.staff_helpers import (
    LEADER,
    LEADERS_CHAT,
    REFUSED,
    RESIDENT,
    VADMIN_SQ,
    VADMIN_XF,
    WORKER_SQ01,
    WORKER_XF01,
    audit_actions,
    denied,
    seed_report,
)
from tests.test_arrival_flow import answer_to_summary, submit
from tests.test_checkins import answer, at, monitored
from tests.test_inbox import open_card
from tests.test_tips import press_tip, send_tip

OVERDUE = "到达登记逾期未核实"


async def later(h: Harness, **delta: float) -> None:
    """Move the clock on, fire what fell due, deliver the outbox."""
    h.clock.advance(**delta)
    await fire_due(h.services)
    await h.drain_outbox()


async def arrival(h: Harness) -> int:
    """A resident's arrival in 先锋社区 第1网格 (XF01), submitted at 10:00: the report id."""
    await answer_to_summary(h)
    await submit(h)
    await h.drain_outbox()
    return (await h.db.fetchone("SELECT id FROM reports"))["id"]


def escalations_to(h: Harness, chat: int, marker: str = OVERDUE) -> list[str]:
    return [t for t in h.texts(chat) if marker in t]


def group_batches(h: Harness) -> list[str]:
    return [t for t in h.texts(LEADERS_CHAT) if "升级至领导小组" in t]


def callback_answers(h: Harness) -> list[str]:
    return [c.params.get("text", "") for c in h.request.calls if c.method == "answerCallbackQuery"]


async def pending_steps(h: Harness) -> int:
    row = await h.db.fetchone(
        "SELECT COUNT(*) AS n FROM timers WHERE kind = 'ladder.step' AND state = 'pending'"
    )
    return row["n"]


async def climb_to_village_admin(h: Harness) -> int:
    report_id = await arrival(h)
    await later(h, hours=12)
    await later(h, minutes=60)
    await later(h, minutes=1)  # the minute's flush
    assert len(escalations_to(h, VADMIN_XF)) == 1
    return report_id


async def test_an_unverified_arrival_climbs_the_ladder_step_by_step(harness: Harness) -> None:
    h = harness
    report_id = await arrival(h)
    subject = f"report:{report_id}"
    row = await h.db.fetchone("SELECT * FROM escalations WHERE subject = ?", (subject,))
    deadline = h.clock.now() + timedelta(hours=12)  # schedule.arrival_deadline_hours
    assert (row["kind"], row["state"], row["grid_id"], row["village_id"]) == (
        "arrival", "open", "XF01", "xf")  # fmt: skip
    assert row["deadline_at"] == deadline.astimezone(UTC).isoformat()
    assert await pending_steps(h) == 1  # one pending step at a time

    await later(h, hours=11, minutes=59)
    assert not escalations_to(h, WORKER_XF01)

    # step 1, at the deadline (22:00): the assignee, the grid's worker, in the chat's one
    # message of the minute (22:01)
    await later(h, minutes=1)
    assert not escalations_to(h, WORKER_XF01)
    await later(h, minutes=1)
    [step1] = escalations_to(h, WORKER_XF01)
    assert "XF-20201026-0001" in step1 and "张*" in step1 and "请尽快处理" in step1
    assert "张三" not in step1 and "13812345678" not in step1
    assert ("👌 收到", f"v1:ack:{subject}") in h.buttons(WORKER_XF01)
    assert not escalations_to(h, VADMIN_XF) and not group_batches(h)
    assert await pending_steps(h) == 1

    # step 2, 60 minutes later: the village admin
    await later(h, minutes=59)
    assert not escalations_to(h, VADMIN_XF)
    await later(h, minutes=1)
    [step2] = escalations_to(h, VADMIN_XF)
    assert "已升级至村（社区）" in step2 and "已超过时限 1小时" in step2
    assert (await h.db.fetchone("SELECT reached FROM escalations"))["reached"] == "village_admin"

    # step 3, 120 minutes after the deadline: the leadership group, in the minute's batch
    await later(h, minutes=60)
    assert not group_batches(h)  # queued for the minute's one message
    await later(h, minutes=1)
    [batch] = group_batches(h)
    assert "1 项" in batch and "XF-20201026-0001" in batch and "已超过时限 2小时" in batch
    assert "张三" not in batch
    assert ("👌 收到 XF-20201026-0001", f"v1:ack:{subject}") in h.buttons(LEADERS_CHAT)
    assert len(escalations_to(h, WORKER_XF01)) == len(escalations_to(h, VADMIN_XF)) == 1

    # the top of the ladder: nothing more
    await later(h, hours=24)
    assert len(group_batches(h)) == 1 and await pending_steps(h) == 0


async def test_verifying_before_the_deadline_stops_the_climb(harness: Harness) -> None:
    h = harness
    report_id = await arrival(h)
    await open_card(h, report_id)
    await h.choose(WORKER_XF01, "核实无误")
    await h.choose(WORKER_XF01, "都已查验")
    await h.choose(WORKER_XF01, "按建议")
    await h.choose(WORKER_XF01, "今天")
    await h.choose(WORKER_XF01, "跳过")
    row = await h.db.fetchone("SELECT review FROM reports")
    assert row["review"] == "verified"
    esc = await h.db.fetchone("SELECT state, closed_by FROM escalations")
    assert (esc["state"], esc["closed_by"]) == ("handled", None)
    assert await pending_steps(h) == 0
    await later(h, hours=16)
    assert not escalations_to(h, WORKER_XF01) and not escalations_to(h, VADMIN_XF)
    assert not group_batches(h)


async def test_marking_wrong_then_verifying_late(harness: Harness) -> None:
    """Handled at step 1 (the worker asks for a correction): the climb stops there."""
    h = harness
    report_id = await arrival(h)
    await later(h, hours=12)
    await later(h, minutes=1)
    assert len(escalations_to(h, WORKER_XF01)) == 1
    await open_card(h, report_id)
    await h.choose(WORKER_XF01, "信息有误")
    await h.text(WORKER_XF01, "门牌号应为302")
    await later(h, hours=3)
    assert not escalations_to(h, VADMIN_XF) and not group_batches(h)


async def test_acknowledging_at_step_two_stops_the_climb(harness: Harness) -> None:
    h = harness
    report_id = await climb_to_village_admin(h)
    subject = f"report:{report_id}"
    acked_at = h.clock.now() + timedelta(minutes=7)
    h.clock.advance(minutes=7)
    await h.press(VADMIN_XF, f"v1:ack:{subject}")
    assert callback_answers(h)[-1].startswith("已确认收到")
    ack = await h.db.fetchone("SELECT * FROM acks WHERE subject = ?", (subject,))
    assert ack["user_id"] == VADMIN_XF and ack["at"] == acked_at.astimezone(UTC).isoformat()
    esc = await h.db.fetchone("SELECT * FROM escalations")
    assert (esc["state"], esc["closed_by"]) == ("acked", VADMIN_XF)
    assert "escalation.ack" in await audit_actions(h, VADMIN_XF)
    assert await pending_steps(h) == 0

    await later(h, hours=5)
    assert not group_batches(h)  # the leadership step never came
    await h.press(VADMIN_XF, f"v1:ack:{subject}")  # twice: told so, nothing new
    assert "已确认收到" in callback_answers(h)[-1]
    assert (await h.db.fetchone("SELECT COUNT(*) AS n FROM acks"))["n"] == 1
    # acknowledged is not handled: the report is still to be verified
    assert (await h.db.fetchone("SELECT review FROM reports"))["review"] == "pending"


async def test_a_leader_may_acknowledge_a_lower_step(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "member"
    report_id = await arrival(h)
    await later(h, hours=12)
    await h.press(LEADER, f"v1:ack:report:{report_id}")
    assert callback_answers(h)[-1].startswith("已确认收到")
    assert (await h.db.fetchone("SELECT closed_by FROM escalations"))["closed_by"] == LEADER


async def test_a_non_recipient_is_refused_and_audited(harness: Harness) -> None:
    h = harness
    report_id = await climb_to_village_admin(h)
    data = f"v1:ack:report:{report_id}"
    # the grid's worker: the item has climbed past them; others were never recipients
    for user in (WORKER_XF01, WORKER_SQ01, VADMIN_SQ, RESIDENT):
        await h.press(user, data)
        assert REFUSED in callback_answers(h)[-1]
        assert "denied:escalation.ack" in await denied(h, user)
    await h.press(RESIDENT, "v1:ack:report:99999")  # no such item: the same refusal
    assert REFUSED in callback_answers(h)[-1]
    assert (await h.db.fetchone("SELECT COUNT(*) AS n FROM acks"))["n"] == 0
    # the climb goes on
    await later(h, minutes=60)
    await later(h, minutes=1)
    assert len(group_batches(h)) == 1


async def test_a_wave_of_items_is_one_group_message(
    config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    """30 arrivals fall due together on a ladder that goes straight to the group. (The
    harness's outbox sends at most 25 messages per clock second, so the wave's private steps
    are left out: the point is the group.)"""
    ladder = (EscalationStep(to="leadership", after_minutes=30),)
    config = config.model_copy(update={"escalation": Escalation(arrival=ladder)})
    h = await Harness.start(config, tmp_path / "wave.sqlite3", clock)
    try:
        await _wave(h)
    finally:
        await h.stop()


async def _wave(h: Harness) -> None:
    now = h.clock.now()
    deadline = now + timedelta(hours=1)
    for n in range(30):
        report_id = await seed_report(h, name=f"李{n:02d}", phone=f"139000000{n:02d}",
                                      id_number=f"1101051949123100{n:02d}")  # fmt: skip
        async with h.db.write() as conn:
            started = await escalation.start(
                conn, h.services, subject=f"report:{report_id}", kind="arrival",
                grid_id="XF01", village_id="xf", deadline=deadline,
                ref=f"XF-20201026-{n + 1:04d}", now=now, detail={"name": "李*"},
            )  # fmt: skip
        assert started
    await later(h, hours=1, minutes=30)  # all 30 leadership steps fall due in this tick
    assert not group_batches(h)
    assert (await h.db.fetchone("SELECT COUNT(*) AS n FROM escalation_queue"))["n"] == 30
    for _ in range(10):  # ten more minutes, a tick a minute
        await later(h, minutes=1)
    batches = group_batches(h)
    assert len(batches) == 1
    assert "30 项" in batches[0]
    assert all(f"XF-20201026-{n:04d}" in batches[0] for n in range(1, 31))
    buttons = h.buttons(LEADERS_CHAT)
    assert len(buttons) == escalation.BATCH_BUTTONS
    assert all(data.startswith("v1:ack:report:") for _, data in buttons)
    # the group never gets more than 20 messages in a minute
    rows = await h.db.fetchall(
        "SELECT created_at FROM outbox WHERE chat_id = ? ORDER BY created_at", (LEADERS_CHAT,)
    )
    per_minute: dict[str, int] = {}
    for row in rows:
        minute = datetime.fromisoformat(row["created_at"]).strftime("%Y%m%d%H%M")
        per_minute[minute] = per_minute.get(minute, 0) + 1
    assert rows and max(per_minute.values()) <= 20
    # a button of the batch acknowledges its item: leaders only, at this height
    await h.press(VADMIN_XF, buttons[0][1])
    assert "denied:escalation.ack" in await denied(h, VADMIN_XF)
    h.request.members[LEADER] = "member"
    await h.press(LEADER, buttons[0][1])
    state = await h.db.fetchone(
        "SELECT state FROM escalations WHERE subject = ?", (buttons[0][1][len("v1:ack:") :],)
    )
    assert state["state"] == "acked"


async def test_a_symptom_tip_climbs_from_two_hours_until_closed(harness: Harness) -> None:
    h = harness
    await send_tip(h, "symptoms", name="张三丰", phone="13912345678")
    await h.drain_outbox()
    tip = await h.db.fetchone("SELECT * FROM tips")
    row = await h.db.fetchone("SELECT * FROM escalations")
    assert (row["subject"], row["kind"], row["deadline_at"]) == (
        f"tip:{tip['id']}", "tip", tip["deadline_at"])  # fmt: skip
    marker = "线索逾期未核查"
    await later(h, minutes=120)
    assert not escalations_to(h, WORKER_XF01, marker)
    await later(h, minutes=1)  # the minute's flush
    [first] = escalations_to(h, WORKER_XF01, marker)
    assert "XF-XS-20201026-0001" in first and "张**" in first and "张三丰" not in first
    await later(h, minutes=59)
    await later(h, minutes=1)
    assert len(escalations_to(h, VADMIN_XF, marker)) == 1
    # the worker closes it: no leadership step
    await press_tip(h, WORKER_XF01, "情况不属实")
    await h.text(WORKER_XF01, "核实为本地常住人员")
    assert (await h.db.fetchone("SELECT state FROM escalations"))["state"] == "handled"
    await later(h, hours=3)
    assert not group_batches(h)


async def test_an_ordinary_tip_climbs_from_twelve_hours(harness: Harness) -> None:
    h = harness
    await send_tip(h)
    await later(h, hours=12)
    assert not escalations_to(h, WORKER_XF01, "线索逾期未核查")
    await later(h, minutes=1)  # the minute's flush
    assert len(escalations_to(h, WORKER_XF01, "线索逾期未核查")) == 1


async def test_a_fever_alert_climbs_until_acknowledged(harness: Harness) -> None:
    h = harness
    await monitored(h)
    await at(h, 26, 20)
    await h.choose(RESIDENT, "38.0℃")
    await h.drain_outbox()
    checkin_id = (await h.db.fetchone("SELECT id FROM checkins"))["id"]
    data = f"v1:ack:fever:{checkin_id}"
    assert ("👌 收到", data) in h.buttons(WORKER_XF01)  # on the alert itself
    assert ("👌 收到", data) in h.buttons(LEADERS_CHAT)
    marker = "健康监测预警尚未确认"
    await at(h, 26, 21)  # not acknowledged within the ladder's first delay: the village admin
    await at(h, 26, 21, 1)
    [climbed] = escalations_to(h, VADMIN_XF, marker)
    assert "38.0℃" in climbed and "张*" in climbed and "张三" not in climbed
    await h.press(VADMIN_XF, data)
    assert callback_answers(h)[-1].startswith("已确认收到")
    await at(h, 26, 23)
    assert not [t for t in h.texts(LEADERS_CHAT) if marker in t]


async def test_a_missed_checkin_climbs_until_the_person_checks_in(harness: Harness) -> None:
    h = harness
    mid = await monitored(h)
    await at(h, 26, 20)
    await at(h, 26, 21)
    await at(h, 26, 22)  # missed: the worker is alerted, with a "收到" button, in one message
    await at(h, 26, 22, 1)  # with the arrival still to verify (its deadline was 22:00 too)
    assert "打卡未报" in h.texts(WORKER_XF01)[-1]
    subject = f"checkin:{mid}:{int(datetime(2020, 10, 26, 12, tzinfo=UTC).timestamp())}"
    assert ("👌 收到 XF-20201026-0001", f"v1:ack:{subject}") in h.buttons(WORKER_XF01)
    marker = "打卡未报"  # a line of the village admin's list (the arrival climbed at 23:00 too)
    await at(h, 26, 23)
    await at(h, 26, 23, 1)
    assert len(escalations_to(h, VADMIN_XF, marker)) == 1
    await at(h, 27, 9)
    await answer(h, "36.5")  # checked in again: the missed slot's climb is over
    row = await h.db.fetchone("SELECT state FROM escalations WHERE subject = ?", (subject,))
    assert row["state"] == "handled"
    await at(h, 27, 12)
    assert not [t for t in h.texts(LEADERS_CHAT) if marker in t]


async def test_migration_010_keeps_the_queued_group_entries(tmp_path: Path, monkeypatch) -> None:
    """A database of the version before staff chats were queued too: its waiting group
    entries are still there, for the leadership group."""
    every, stamp = db_module.migrations(), "2020-10-26T14:00:00+00:00"
    monkeypatch.setattr(db_module, "migrations", lambda: [m for m in every if m[0] <= 9])
    old = await Database.open(tmp_path / "old.sqlite3")
    async with old.write() as conn:
        await conn.execute(
            """INSERT INTO escalations (subject, kind, ref, village_id, deadline_at, started_at)
               VALUES ('report:1', 'arrival', 'XF-20201026-0001', 'xf', ?, ?)""",
            (stamp, stamp),
        )
        await conn.execute(
            """INSERT INTO escalation_queue (subject, gen, step, queued_at)
               VALUES ('report:1', 1, 2, ?)""",
            (stamp,),
        )
    await old.close()
    monkeypatch.undo()
    db = await Database.open(tmp_path / "old.sqlite3")
    try:
        [entry] = await store.waiting(db.conn, 10)
    finally:
        await db.close()
    assert (entry.step, entry.chat_id, entry.text) == (2, store.GROUP, None)
    assert entry.item.ref == "XF-20201026-0001"
