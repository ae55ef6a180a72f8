"""Health monitoring check-ins through the real pipeline: prompts at the configured local
times with the day counter, answers, alerts, missed check-ins, catch-up after downtime,
test-day reminders, the end of the period, the worker's changes and the unreachable."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.runtime.clock import ManualClock
from bot.runtime.timers import fire_due
from storage import monitoring as store
from storage import timers
from tests.conftest import SHANGHAI
from tests.harness import Harness
from tests.test_arrival_companions import LI_ID, WANG_ID
from tests.test_arrival_flow import LEADERS, RESIDENT, WORKER_XF01, answer_to_summary, submit

REF = "XF-20201026-0001"
OTHER_WORKER = 30002  # grid XF02: not this record's grid


async def monitored(h: Harness, *, tested_on_arrival: bool = True) -> int:
    """A yellow-code arrival on 25 Oct: home monitoring, 7 days (25–31 Oct), tests on days
    1 and 7. ``tested_on_arrival``: the day-1 test is on record, negative (else that test,
    already past, is overdue: tests/test_missed_test_day.py). Returns the monitoring id."""
    await answer_to_summary(h, code="yellow")
    await submit(h)
    row = await h.db.fetchone("SELECT * FROM monitoring")
    assert (row["kind"], row["start_date"], row["end_date"]) == (
        "home_monitoring", "2020-10-25", "2020-10-31")  # fmt: skip
    if tested_on_arrival:
        day1, now = date(2020, 10, 25), h.clock.now()
        async with h.db.write() as conn:
            await store.record_sample(conn, row["id"], day1, WORKER_XF01, now)
            await store.record_result(conn, row["id"], day1, "negative", WORKER_XF01, now)
    await fire_due(h.services)
    await h.drain_outbox()
    return row["id"]


async def at(h: Harness, day: int, hour: int, minute: int = 0) -> None:
    """Move the clock to ``day`` October (or November if < 20) at the local time; fire."""
    month = 10 if day >= 20 else 11
    target = datetime(2020, month, day, hour, minute, tzinfo=SHANGHAI)
    h.clock.advance(seconds=(target - h.clock.now()).total_seconds())
    await fire_due(h.services)
    await h.drain_outbox()


def prompts(h: Harness) -> list[str]:
    return [t for t in h.texts(RESIDENT) if "健康打卡</b>　第" in t]


async def answer(h: Harness, temperature: str = "36.5", symptoms: tuple[str, ...] = ()) -> None:
    await h.choose(RESIDENT, f"{temperature}℃")
    for label in symptoms:
        await toggle(h, label)
    await toggle(h, "选好了" if symptoms else "没有症状")
    await h.drain_outbox()


async def pending(h: Harness, kind: str) -> int:
    row = await h.db.fetchone(
        "SELECT COUNT(*) AS n FROM timers WHERE kind = ? AND state = 'pending'", (kind,)
    )
    return row["n"]


async def toggle(h: Harness, label: str) -> None:
    """Press a button of the newest keyboard, sent or edited (symptom toggles edit it)."""
    for call in reversed(h.request.calls):
        markup = call.params.get("reply_markup")
        if (
            call.method in ("sendMessage", "editMessageText")
            and int(call.params.get("chat_id", 0)) == RESIDENT
            and isinstance(markup, dict)
        ):
            for row in markup["inline_keyboard"]:
                for button in row:
                    if label in button["text"]:
                        await h.press(RESIDENT, button["callback_data"])
                        return
            raise AssertionError(f"no button {label!r}")
    raise AssertionError("no keyboard")


def callback_answers(h: Harness) -> list[str]:
    return [c.params.get("text", "") for c in h.request.calls if c.method == "answerCallbackQuery"]


async def test_prompts_at_local_times_across_days_with_day_counter(harness: Harness) -> None:
    h = harness
    await monitored(h)
    assert await pending(h, "checkin.prompt") == 1
    timer = (await timers.pending(h.db, "monitoring:1"))[0]
    assert timer.kind == "checkin.prompt"
    assert timer.due_at.astimezone(SHANGHAI) == datetime(2020, 10, 26, 20, 0, tzinfo=SHANGHAI)
    await at(h, 26, 19, 59)
    assert prompts(h) == []
    await at(h, 26, 20, 0)
    assert len(prompts(h)) == 1 and "第2/7天" in prompts(h)[0] and "张三" in prompts(h)[0]
    assert "09:00、20:00" in prompts(h)[0]  # the first prompt explains the schedule
    labels = [label for label, _ in h.buttons(RESIDENT)]
    assert labels == ["36.2℃", "36.5℃", "36.8℃", "37.0℃", "37.3℃", "38.0℃", "其他（直接输入）"]
    assert all(len(data.encode()) <= 64 for _, data in h.buttons(RESIDENT))
    await answer(h)
    await at(h, 27, 8, 59)
    assert len(prompts(h)) == 1
    await at(h, 27, 9, 0)
    await answer(h)
    await at(h, 27, 20, 0)
    await answer(h)
    await at(h, 28, 9, 0)
    counters = [p.split("第")[1].split("天")[0] for p in prompts(h)]
    assert counters == ["2/7", "3/7", "3/7", "4/7"]
    assert "09:00" not in prompts(h)[1]  # only the first explains
    assert await pending(h, "checkin.prompt") == 1  # one pending prompt per person, always
    rows = await h.db.fetchall("SELECT slot_at, state FROM checkins ORDER BY slot_at")
    assert [r["slot_at"] for r in rows] == [
        "2020-10-26T12:00:00+00:00", "2020-10-27T01:00:00+00:00",
        "2020-10-27T12:00:00+00:00", "2020-10-28T01:00:00+00:00",
    ]  # fmt: skip
    assert [r["state"] for r in rows] == ["answered"] * 3 + ["prompted"]


async def test_a_family_is_prompted_together(harness: Harness, monkeypatch) -> None:
    """A report's people share their slots: one run of the wave (one statement opens the
    three slots), each person with their own prompt, buttons and follow-up timers."""
    h = harness
    family = [("李四", LI_ID, None), ("王五", WANG_ID, None)]
    await answer_to_summary(h, code="yellow", companions=family)
    await submit(h)
    await h.drain_outbox()
    opened: list[int] = []
    open_slots = store.open_slots

    async def counting(conn, slots, now):
        opened.append(len(slots))
        return await open_slots(conn, slots, now)

    monkeypatch.setattr(store, "open_slots", counting)
    await at(h, 26, 20)
    assert opened == [3]
    assert all(name in p for p, name in zip(prompts(h), ("张三", "李四", "王五"), strict=True))
    assert all("09:00、20:00" in p and "第2/7天" in p for p in prompts(h))  # each one's first
    markups = [
        c.params["reply_markup"] for c in h.request.calls if c.params.get("text") in prompts(h)
    ]
    slots = [row[0]["callback_data"] for m in markups for row in m["inline_keyboard"][:1]]
    assert [data.split(":")[2] for data in slots] == ["1", "2", "3"]  # the monitoring ids
    assert (await pending(h, "checkin.missed"), await pending(h, "checkin.prompt")) == (3, 3)
    await at(h, 27, 9)
    assert opened == [3, 3]
    assert len(prompts(h)) == 6
    assert not any("09:00、20:00" in p for p in prompts(h)[3:])


async def test_second_misses_falling_due_together_are_one_group_message(
    harness: Harness,
) -> None:
    """A family of three misses twice: the worker gets one list of the three, and so does
    the leadership group (its 20 messages a minute are for the whole town)."""
    h = harness
    family = [("李四", LI_ID, None), ("王五", WANG_ID, None)]
    await answer_to_summary(h, code="yellow", companions=family)
    await submit(h)
    await h.drain_outbox()
    group_before = len(h.texts(LEADERS))  # the daily reports come too
    for day, hour in ((26, 20), (26, 21), (26, 22), (27, 9), (27, 10), (27, 11), (27, 12)):
        await at(h, day, hour)
    (to_worker,) = [t for t in h.texts(WORKER_XF01) if "连续2次" in t]  # one list
    assert to_worker.count("已连续2次未完成健康打卡") == 3 and "待处理提醒：3 项" in to_worker
    assert [label for label, _ in h.buttons(WORKER_XF01)] == [f"👌 收到 {REF}"] * 3
    (batch,) = [t for t in h.texts(LEADERS)[group_before:] if "脱离管控" in t]
    assert batch.count("可能脱离管控") == 3 and "3 项" in batch
    assert all(name in batch for name in ("张*", "李*", "王*"))


async def test_normal_answer_is_recorded_and_no_reminder_follows(harness: Harness) -> None:
    h = harness
    await monitored(h)
    await at(h, 26, 20)
    await answer(h, "36.8")
    assert "打卡完成" in h.texts(RESIDENT)[-1] or any(
        "打卡完成" in c.params.get("text", "") for c in h.request.calls
        if c.method == "editMessageText")  # fmt: skip
    row = await h.db.fetchone("SELECT temperature, symptoms, state FROM checkins")
    assert (row["temperature"], row["symptoms"], row["state"]) == (36.8, "[]", "answered")
    await at(h, 26, 23)
    assert not any("提醒" in t for t in h.texts(RESIDENT))
    # only the arrival notice (and, the arrival being still unverified at 22:00, its
    # escalation: tests/test_escalation.py)
    assert [t for t in h.texts(WORKER_XF01)[1:] if "逾期未核实" not in t] == []
    assert await pending(h, "checkin.missed") == 0


async def test_fever_alerts_worker_and_leadership_at_once_masked(harness: Harness) -> None:
    h = harness
    await monitored(h)
    before = len(h.texts(WORKER_XF01))
    await at(h, 26, 20)
    await h.choose(RESIDENT, "38.0℃")
    await h.drain_outbox()  # before the symptoms are even chosen
    for chat in (WORKER_XF01, LEADERS):
        alert = h.texts(chat)[-1]
        assert "健康监测预警：发热" in alert and REF in alert and "38.0℃" in alert
        assert "第2/7天" in alert and "核酸" in alert and "发热门诊" in alert
        assert "张*" in alert and "张三" not in alert and "13812345678" not in alert
    assert len(h.texts(WORKER_XF01)) == before + 1
    await h.choose(RESIDENT, "没有症状")
    await h.drain_outbox()
    assert len(h.texts(WORKER_XF01)) == before + 1  # no second alert for "no symptoms"


async def test_typed_temperature_and_symptoms_alert(harness: Harness) -> None:
    h = harness
    await monitored(h)
    await at(h, 26, 20)
    await h.choose(RESIDENT, "其他")
    assert "请直接输入张三的体温" in h.texts(RESIDENT)[-1]
    await h.text(RESIDENT, "50")
    assert "35.0℃到42.0℃之间" in h.texts(RESIDENT)[-2]
    await h.text(RESIDENT, "３６.９")  # full-width digits from a Chinese keyboard
    assert "没有症状" in [label for label, _ in h.buttons(RESIDENT)]
    assert await h.db.fetchone("SELECT * FROM drafts") is None
    await toggle(h, "干咳")
    await toggle(h, "乏力")
    await toggle(h, "乏力")  # toggled off again
    await toggle(h, "选好了")
    await h.drain_outbox()
    row = await h.db.fetchone("SELECT temperature, symptoms FROM checkins")
    assert (row["temperature"], row["symptoms"]) == (36.9, '["dry_cough"]')
    for chat in (WORKER_XF01, LEADERS):
        assert "出现症状" in h.texts(chat)[-1] and "干咳" in h.texts(chat)[-1]
        assert "乏力" not in h.texts(chat)[-1]


async def test_second_answer_to_a_slot_is_refused(harness: Harness) -> None:
    h = harness
    await monitored(h)
    await at(h, 26, 20)
    buttons = h.buttons(RESIDENT)
    await answer(h)
    await h.press(RESIDENT, buttons[0][1])  # 36.2 on the same prompt
    assert callback_answers(h)[-1] == "这次打卡已经报过了，谢谢。"
    row = await h.db.fetchone("SELECT temperature FROM checkins")
    assert row["temperature"] == 36.5


async def test_missed_reminds_then_worker_then_leadership_on_the_second(harness: Harness) -> None:
    h = harness
    await monitored(h)
    worker_before = len(h.texts(WORKER_XF01))
    await at(h, 26, 20)
    await at(h, 26, 21)
    assert "健康打卡提醒" in h.texts(RESIDENT)[-1] and "第2/7天" in h.texts(RESIDENT)[-1]
    assert len(h.texts(WORKER_XF01)) == worker_before  # a reminder first
    await at(h, 26, 22)
    assert len(h.texts(WORKER_XF01)) == worker_before  # with the minute's others, at 22:01
    await at(h, 26, 22, 1)
    # one message: the miss, and the arrival not yet verified (its deadline was 22:00 too)
    assert "打卡未报" in h.texts(WORKER_XF01)[-1] and "到达登记未核实" in h.texts(WORKER_XF01)[-1]
    worker = h.texts(WORKER_XF01)[-1]  # in their own grid: the name and a number to call
    assert REF in worker and "张三" in worker and "+86 138 1234 5678" in worker
    assert not any("脱离管控" in t for t in h.texts(LEADERS))  # one miss: not yet
    await at(h, 27, 9)
    await at(h, 27, 10)
    await at(h, 27, 11)
    assert not any("脱离管控" in t for t in h.texts(LEADERS))  # the minute's batch: at 11:01
    item = await h.db.fetchone("SELECT subject FROM escalations WHERE state = 'open'")
    await h.press(WORKER_XF01, f"v1:ack:{item['subject']}")  # acknowledged meanwhile: the
    await at(h, 27, 11, 1)  # group is told all the same
    assert "连续2次" in h.texts(WORKER_XF01)[-1]  # alone this time: the full alert
    assert "请电话联系或上门核实" in h.texts(WORKER_XF01)[-1]
    leaders = [t for t in h.texts(LEADERS) if "脱离管控" in t]
    assert len(leaders) == 1 and "已连续2次未完成健康打卡，可能脱离管控" in leaders[0]
    assert REF in leaders[0] and "张*" in leaders[0] and "张三" not in leaders[0]
    row = await h.db.fetchone("SELECT missed_in_row FROM monitoring")
    assert row["missed_in_row"] == 2
    # a late answer to the missed 09:00 slot (the reminder's buttons) is recorded against it
    old = next(d for _, d in h.request.keyboards[RESIDENT] if d.endswith("t:365"))
    await h.press(RESIDENT, old)
    rows = await h.db.fetchall("SELECT state, temperature FROM checkins ORDER BY slot_at")
    assert [(r["state"], r["temperature"]) for r in rows] == [("missed", None), ("answered", 36.5)]
    assert (await h.db.fetchone("SELECT missed_in_row FROM monitoring"))["missed_in_row"] == 0


async def test_catch_up_after_downtime_prompts_once_late(harness: Harness, tmp_path) -> None:
    h = harness
    await monitored(h)
    await h.stop()
    h.clock.advance(seconds=(datetime(2020, 10, 27, 21, 30, tzinfo=SHANGHAI)
                             - h.clock.now()).total_seconds())  # fmt: skip
    await h.restart(tmp_path / "paicha.sqlite3")
    await fire_due(h.services)
    await fire_due(h.services)
    await h.drain_outbox()
    assert len(prompts(h)) == 1
    assert "第3/7天" in prompts(h)[0] and "延迟" in prompts(h)[0]
    rows = await h.db.fetchall("SELECT slot_at FROM checkins")
    assert [r["slot_at"] for r in rows] == ["2020-10-27T12:00:00+00:00"]  # the newest slot
    row = await h.db.fetchone("SELECT late FROM timers WHERE kind = 'checkin.prompt' "
                              "AND state = 'done'")  # fmt: skip
    assert row["late"] == 1
    await at(h, 28, 9)
    await fire_due(h.services)
    assert len(prompts(h)) == 2 and "第4/7天" in prompts(h)[1]


async def test_test_day_reminders_sample_and_result(harness: Harness) -> None:
    h = harness
    await monitored(h)
    await at(h, 30, 19, 59)
    assert not any("核酸检测提醒" in t for t in h.texts(RESIDENT))
    await at(h, 30, 20)
    assert any("明天（10月31日）" in t for t in h.texts(RESIDENT))
    assert any("核酸采样明天进行" in t for t in h.texts(WORKER_XF01))
    await at(h, 31, 9)
    assert any("今天（10月31日）" in t for t in h.texts(RESIDENT))
    notice = [c for c in h.request.sent_to(WORKER_XF01) if "核酸采样今天进行" in c.params["text"]]
    assert len(notice) == 1
    button = notice[0].params["reply_markup"]["inline_keyboard"][0][0]
    assert "已采样" in button["text"]
    await h.press(WORKER_XF01, button["callback_data"])
    assert "已登记" in h.texts(WORKER_XF01)[-2]
    await h.choose(WORKER_XF01, "阴性")
    assert "核酸结果：阴性" in h.texts(WORKER_XF01)[-2]
    row = await h.db.fetchone("SELECT * FROM test_samples ORDER BY test_date DESC")
    assert (row["test_date"], row["result"], row["sampled_by"]) == (
        "2020-10-31", "negative", WORKER_XF01)  # fmt: skip


async def test_end_of_period_releases_and_tells_both(harness: Harness) -> None:
    h = harness
    await monitored(h)
    await at(h, 31, 23, 59)
    assert (await h.db.fetchone("SELECT state FROM monitoring"))["state"] == "active"
    await at(h, 1, 0, 0)
    assert (await h.db.fetchone("SELECT state FROM monitoring"))["state"] == "released"
    assert "已期满，解除管控" in h.texts(RESIDENT)[-1]
    assert "解除管控" in h.texts(WORKER_XF01)[-1] and REF in h.texts(WORKER_XF01)[-1]
    assert await pending(h, "checkin.prompt") == 0
    await at(h, 2, 9)
    assert "解除管控" in h.texts(RESIDENT)[-1]  # nothing after


async def test_worker_extends_shortens_and_stops(harness: Harness) -> None:
    h = harness
    await monitored(h)
    await h.text(OTHER_WORKER, f"/monitor {REF}")
    assert f"没有找到编号为 {REF} 的" in h.texts(OTHER_WORKER)[-1]  # as for an unknown one
    await h.text(WORKER_XF01, f"/monitor {REF}")
    card = h.texts(WORKER_XF01)[-1]
    assert REF in card and "张三" in card and "第2/7天" in card
    await h.choose(WORKER_XF01, "延长3天")
    assert "11月3日" in h.texts(WORKER_XF01)[-1]
    await h.drain_outbox()
    assert "延长至11月3日" in h.texts(RESIDENT)[-1]
    end = [t for t in await timers.pending(h.db, "monitoring:1") if t.kind == "monitoring.end"]
    assert len(end) == 1 and end[0].due_at.astimezone(SHANGHAI).day == 4
    await h.text(WORKER_XF01, f"/monitor {REF}")
    await h.choose(WORKER_XF01, "缩短7天")
    assert "原因" in h.texts(WORKER_XF01)[-1]
    await h.text(WORKER_XF01, "核酸两次阴性，经卫生院评估")
    assert "10月27日结束" in h.texts(WORKER_XF01)[-1]
    row = await h.db.fetchone("SELECT end_date, note FROM monitoring")
    assert (row["end_date"], row["note"]) == ("2020-10-27", "核酸两次阴性,经卫生院评估")  # NFKC
    await h.text(WORKER_XF01, f"/monitor {REF}")
    await h.choose(WORKER_XF01, "结束监测")
    await h.text(WORKER_XF01, "已转运至集中隔离点")
    assert "已结束" in h.texts(WORKER_XF01)[-1]
    await h.drain_outbox()
    assert "已转运至集中隔离点" in h.texts(RESIDENT)[-1]
    assert (await h.db.fetchone("SELECT state FROM monitoring"))["state"] == "stopped"
    assert await timers.pending(h.db, "monitoring:1") == []
    await at(h, 27, 9)
    assert prompts(h) == []
    actions = [r["action"] for r in await h.db.fetchall("SELECT action FROM audit")]
    assert {"monitoring.extend", "monitoring.shorten", "monitoring.stop",
            "denied:monitor.view"} <= set(actions)  # fmt: skip


async def test_blocked_bot_alerts_the_worker(harness: Harness) -> None:
    h = harness
    await monitored(h)
    h.request.fail(lambda c: c.method == "sendMessage" and int(c.params["chat_id"]) == RESIDENT,
                   403, "Forbidden: bot was blocked by the user")  # fmt: skip
    h.clock.advance(seconds=(datetime(2020, 10, 26, 20, tzinfo=SHANGHAI)
                             - h.clock.now()).total_seconds())  # fmt: skip
    await fire_due(h.services)
    await h.drain_outbox()
    await h.drain_outbox()
    alert = h.texts(WORKER_XF01)[-1]
    assert "无法联系" in alert and REF in alert and "张*" in alert


async def test_low_risk_is_not_monitored(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    await submit(h)
    assert await h.db.fetchone("SELECT * FROM monitoring") is None
    assert await pending(h, "checkin.prompt") == 0


def test_clock_fixture_is_shanghai(clock: ManualClock) -> None:
    assert clock.now().astimezone(SHANGHAI).utcoffset() == timedelta(hours=8)
