"""Isolation tests until release (issue 12, part E): a stay's schedule and its timers, the
site manager's batch entry (all or nothing), a positive result's one case, a missed test on
the ladder, and a manager of another site refused."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from bot.actions import samples
from bot.actions.isolation import Refused
from bot.domain.roles import Actor
from bot.runtime.timers import fire_due
from storage import timers
from storage.db import cipher_of
from tests.conftest import SHANGHAI
from tests.harness import Harness
from tests.staff_helpers import seed_invited
from tests.test_isolation import assign, seed_arrival

MANAGER = 7101  # manages GL91
OTHER = 7102  # manages GL92
SITE = "GL91"  # not one of the example config's sites
ROOMS = ["301", "302", "303", "305"]
OCT_26 = date(2020, 10, 26)


async def seed_site(h: Harness, site: str = SITE, rooms: list[str] = ROOMS) -> None:
    now = h.clock.now().isoformat()
    async with h.db.write() as conn:
        await conn.execute(
            """INSERT INTO sites (id, name, address, village_id, rooms, capacity, state,
                   created_at, updated_at) VALUES (?, ?, ?, 'xf', ?, ?, 'active', ?, ?)""",
            (site, f"先锋隔离点{site}", "先锋镇滨江路1号", json.dumps(rooms), len(rooms), now, now),
        )


async def seed_stay(h: Harness, room: str, *, site: str = SITE, start: date = OCT_26,
                    days: int = 14, test_days: tuple[int, ...] = (1, 4, 7, 14),
                    name: str = "李四") -> int:  # fmt: skip
    """A close contact staying in ``room`` (arrived), its tests planned: the stay's id."""
    now = h.clock.now()
    end = start + timedelta(days=days - 1)
    async with h.db.write() as conn:
        seal = cipher_of(conn).seal
        cur = await conn.execute(
            """INSERT INTO contacts (ref, name, phone, address, village_id, grid_id, kind,
                   last_exposure, measure_kind, measure_start, measure_end, state, created_at,
                   updated_at)
               VALUES (?, ?, ?, '先锋镇新街12号', 'xf', 'XF01', 'close', ?, 'close_contact', ?,
                       ?, 'isolating', ?, ?)""",
            (f"XF-MJ-{room}", name, seal("13900001111"), start.isoformat(), start.isoformat(),
             end.isoformat(), now.isoformat(), now.isoformat()),
        )  # fmt: skip
        cur = await conn.execute(
            """INSERT INTO stays (site_id, room, contact_id, measure_kind, start_date, end_date,
                   test_days, state, assigned_by, assigned_at)
               VALUES (?, ?, ?, 'close_contact', ?, ?, ?, 'in', 1, ?)""",
            (site, room, cur.lastrowid, start.isoformat(), end.isoformat(),
             json.dumps(list(test_days)), now.isoformat()),
        )  # fmt: skip
        stay_id = cur.lastrowid
        await samples.plan(conn, h.services, stay_id)
    return stay_id


def manager(user: int = MANAGER, site: str = SITE) -> Actor:
    return Actor(user, site_ids=frozenset({site}))


async def recorded_tests(h: Harness, stay_id: int) -> list[tuple[str, str | None, str | None]]:
    rows = await h.db.fetchall(
        "SELECT test_date, sampled_at, result FROM stay_tests WHERE stay_id = ? ORDER BY 1",
        (stay_id,),
    )
    return [(r["test_date"], r["sampled_at"] and "sampled", r["result"]) for r in rows]


async def case_count(h: Harness) -> int:
    return (await h.db.fetchone("SELECT count(*) FROM cases"))[0]


# --- the schedule and its timers --------------------------------------------------------------


async def test_plan_makes_one_test_per_test_day_and_a_timer_pair_per_site_day(
    harness: Harness,
) -> None:
    h = harness  # 26 Oct 10:00: the first test is today, its morning reminder is past
    await seed_site(h)
    first = await seed_stay(h, "301")
    await seed_stay(h, "302")
    assert await recorded_tests(h, first) == [
        ("2020-10-26", None, None), ("2020-10-29", None, None), ("2020-11-01", None, None),
        ("2020-11-08", None, None),
    ]  # fmt: skip
    pending = await timers.pending(h.db, samples.timer_subject(SITE))
    keys = sorted(t.dedup_key for t in pending)
    # one morning reminder and one end-of-day check per site and test day, however many
    # stays; today's morning is past: each room assigned now is reminded at once
    assert keys == sorted([
        "sample.remind:GL91:2020-10-26:s1", "sample.remind:GL91:2020-10-26:s2",
        *(f"sample.remind:GL91:{d}" for d in ("2020-10-29", "2020-11-01", "2020-11-08")),
        *(f"sample.missed:GL91:{d}" for d in ("2020-10-26", "2020-10-29", "2020-11-01",
                                              "2020-11-08")),
    ])  # fmt: skip
    due = {t.dedup_key: t.due_at for t in pending}
    assert due["sample.remind:GL91:2020-10-29"] == datetime(2020, 10, 29, 9, tzinfo=SHANGHAI)
    assert due["sample.missed:GL91:2020-10-29"] == datetime(2020, 10, 30, tzinfo=SHANGHAI)


async def test_assigned_late_the_past_test_days_are_one_test_today(harness: Harness) -> None:
    h = harness  # the period started on 22 Oct: days 1 and 4 are past, one test today for both
    await seed_site(h)
    stay = await seed_stay(h, "301", start=date(2020, 10, 22))
    assert [d for d, _, _ in await recorded_tests(h, stay)] == ["2020-10-26", "2020-10-28",
                                                          "2020-11-04"]  # fmt: skip


async def test_the_morning_reminder_lists_the_rooms_to_sample(harness: Harness) -> None:
    h = harness
    await seed_site(h)
    await seed_invited(h, MANAGER, "site_manager", SITE)
    tomorrow = OCT_26 + timedelta(days=1)  # day 1 of their period
    await seed_stay(h, "301", start=tomorrow)
    await seed_stay(h, "302", start=tomorrow)
    await seed_stay(h, "303", start=OCT_26)  # its test is today: not on tomorrow's list
    h.clock.advance(seconds=(datetime(2020, 10, 27, 9, tzinfo=SHANGHAI) - h.clock.now())
                    .total_seconds())  # fmt: skip
    await fire_due(h.services)
    await h.drain_outbox()
    reminders = [t for t in h.texts(MANAGER) if "10月27日" in t]
    assert len(reminders) == 1
    assert "有 2 间待采样：301、302" in reminders[0]


# --- recording --------------------------------------------------------------------------------


async def test_a_batch_is_recorded_whole_with_its_summary(harness: Harness) -> None:
    h = harness
    await seed_site(h)
    stays = [await seed_stay(h, room) for room in ("301", "302", "303")]
    outcome = await samples.record(h.services, manager(), SITE, "３０１阴\n302-\n303 已采样")
    assert outcome == samples.Recorded({"negative": 2, "positive": 0, "sampled": 1}, ())
    assert [(await recorded_tests(h, s))[0] for s in stays] == [
        ("2020-10-26", "sampled", "negative"), ("2020-10-26", "sampled", "negative"),
        ("2020-10-26", "sampled", "pending"),
    ]  # fmt: skip
    # the pending one's result comes later: the same test, not the next one
    assert await samples.record(h.services, manager(), SITE, "303 阴性") == samples.Recorded(
        {"negative": 1, "positive": 0, "sampled": 0}, ()
    )
    assert (await recorded_tests(h, stays[2]))[0] == ("2020-10-26", "sampled", "negative")


async def test_one_bad_line_stores_nothing_and_says_which_and_why(harness: Harness) -> None:
    h = harness
    await seed_site(h)
    stays = [await seed_stay(h, room) for room in ("301", "302")]
    outcome = await samples.record(h.services, manager(), SITE,
                                   "301 阴性\n302 阴性\n305 阴性\n301 阳")  # fmt: skip
    assert isinstance(outcome, samples.Rejected)
    problems = [(p.line, p.reason, p.item) for p in outcome.batch.problems]
    assert problems == [(4, "duplicate", "301"), (3, "not_here", "305"), (4, "not_here", "301")] \
        or (4, "duplicate", "301") in problems  # fmt: skip
    assert (3, "not_here", "305") in problems
    for stay in stays:
        assert [sampled for _, sampled, _ in await recorded_tests(h, stay)] == [None] * 4
    text = h.services.text("zh_CN", "samples", "bad_batch", problems=outcome.batch.problems)
    assert "一个结果都没有保存" in text
    assert "第3行“305 阴性”：“305”这个房间没有在住的隔离人员" in text
    assert "第4行“301 阳”：“301”在这条消息里写了两次" in text


async def test_a_room_already_recorded_today_is_refused_not_overwritten(harness: Harness) -> None:
    h = harness
    await seed_site(h)
    stay = await seed_stay(h, "301")
    await samples.record(h.services, manager(), SITE, "301 阴性")
    outcome = await samples.record(h.services, manager(), SITE, "301 阳性")
    assert isinstance(outcome, samples.Rejected)
    assert [p.reason for p in outcome.batch.problems] == ["no_test"]
    assert (await recorded_tests(h, stay))[0] == ("2020-10-26", "sampled", "negative")
    assert await case_count(h) == 0


async def test_a_positive_opens_exactly_one_case_and_the_group_is_alerted(
    harness: Harness,
) -> None:
    h = harness
    await seed_site(h)
    stay = await seed_stay(h, "303", name="王五")
    await seed_stay(h, "301")
    outcome = await samples.record(h.services, manager(), SITE, "301 阴 303 阳")
    assert isinstance(outcome, samples.Recorded)
    assert outcome.counts == {"negative": 1, "positive": 1, "sampled": 0}
    assert len(outcome.cases) == 1
    again = await samples.record(h.services, manager(), SITE, "301 阴 303 阳")
    # the same message twice: told, nothing stored again, still one case
    assert again == samples.Recorded({"negative": 0, "positive": 0, "sampled": 0}, (),
                                     ("301", "303"))  # fmt: skip
    assert await case_count(h) == 1
    case = await h.db.fetchone("SELECT * FROM cases")
    assert (case["person_name"], case["person_phone"], case["confirmation"]) == (
        "王五", "13900001111", "pending")  # fmt: skip
    assert case["source_key"] == f"positive:stay:{stay}:2020-10-26"
    contact = await h.db.fetchone(
        "SELECT c.state FROM contacts c JOIN stays s ON s.contact_id = c.id WHERE s.id = ?",
        (stay,),
    )
    assert contact["state"] == "case"
    kept = await h.db.fetchone("SELECT state FROM stays WHERE id = ?", (stay,))
    assert kept["state"] == "in"  # the room stays taken until the transfer
    escalation = await h.db.fetchone("SELECT kind, state FROM escalations WHERE subject = ?",
                                     (f"case:{case['id']}",))  # fmt: skip
    assert (escalation["kind"], escalation["state"]) == ("case", "open")  # the 2-hour climb
    await h.drain_outbox()
    alert = h.texts(h.config.leadership.chat_id)[-1]
    assert case["ref"] in alert
    summary = h.services.text("zh_CN", "samples", "recorded", **samples.summary_params(outcome))
    assert "已记录 2 人：阴性 1，阳性 1" in summary and case["ref"] in summary


async def test_a_manager_of_another_site_is_refused_and_audited(harness: Harness) -> None:
    h = harness
    await seed_site(h)
    stay = await seed_stay(h, "301")
    outcome = await samples.record(h.services, manager(OTHER, "GL92"), SITE, "301 阴性")
    assert outcome == samples.Refused()
    assert (await recorded_tests(h, stay))[0][1] is None
    row = await h.db.fetchone("SELECT action, subject FROM audit WHERE actor = ?", (OTHER,))
    assert (row["action"], row["subject"]) == ("denied:samples.record", f"site:{SITE}")


# --- a missed test -----------------------------------------------------------------------------


async def test_a_missed_test_climbs_the_ladder_to_the_site_managers(harness: Harness) -> None:
    h = harness
    await seed_site(h)
    await seed_invited(h, MANAGER, "site_manager", SITE)
    missed = await seed_stay(h, "301")
    done = await seed_stay(h, "302")
    await samples.record(h.services, manager(), SITE, "302 已采样")
    midnight = datetime(2020, 10, 27, tzinfo=SHANGHAI)
    h.clock.advance(seconds=(midnight - h.clock.now()).total_seconds())
    await fire_due(h.services)  # the end of the day's check: the ladder's first step
    h.clock.advance(seconds=60)
    await fire_due(h.services)  # the minute's flush
    await h.drain_outbox()
    open_items = await h.db.fetchall("SELECT subject, kind, state FROM escalations")
    assert [(r["subject"], r["kind"], r["state"]) for r in open_items] == [
        (f"sample:{missed}:2020-10-26", "sample", "open")]  # fmt: skip
    assert f"sample:{done}:2020-10-26" not in [r["subject"] for r in open_items]
    told = [t for t in h.texts(MANAGER) if "核酸漏采" in t]
    assert len(told) == 1 and f"先锋隔离点{SITE} 301" in told[0]
    h.clock.advance(seconds=120 * 60)  # 2 hours later: the leadership group
    await fire_due(h.services)
    h.clock.advance(seconds=60)
    await fire_due(h.services)
    await h.drain_outbox()
    assert any("核酸漏采" in t for t in h.texts(h.config.leadership.chat_id))
    # "已采样" the day after is no sample of the missed test: the make-up (补采) is
    refused = await samples.record(h.services, manager(), SITE, "301 已采样")
    assert [p.reason for p in refused.batch.problems] == ["missed"]
    # sampled late (the day after, 补采): the climb stops
    await samples.record(h.services, manager(), SITE, "301 补采")
    assert (await recorded_tests(h, missed))[0] == ("2020-10-26", "sampled", "pending")
    item = await h.db.fetchone("SELECT state FROM escalations WHERE subject = ?",
                               (f"sample:{missed}:2020-10-26",))  # fmt: skip
    assert item["state"] == "handled"


async def test_the_site_manager_acknowledges_a_missed_test_another_sites_may_not(
    harness: Harness,
) -> None:
    """The missed-test alert's 收到 is the site's managers' (the ladder's assignees here, not a
    grid's workers): a manager of another site pressing it is refused and audited."""
    h = harness
    await seed_site(h)
    await seed_invited(h, MANAGER, "site_manager", SITE)
    await seed_invited(h, OTHER, "site_manager", "GL92")
    missed = await seed_stay(h, "301")
    midnight = datetime(2020, 10, 27, tzinfo=SHANGHAI)
    h.clock.advance(seconds=(midnight - h.clock.now()).total_seconds())
    await fire_due(h.services)
    h.clock.advance(seconds=60)
    await fire_due(h.services)
    await h.drain_outbox()
    ack = dict(h.buttons(MANAGER))["👌 收到"]
    await h.press(OTHER, ack)
    denied = await h.db.fetchone("SELECT 1 FROM audit WHERE actor = ? AND action = ?",
                                 (OTHER, "denied:escalation.ack"))  # fmt: skip
    assert denied is not None
    await h.press(MANAGER, ack)
    item = await h.db.fetchone("SELECT state, closed_by FROM escalations WHERE subject = ?",
                               (f"sample:{missed}:2020-10-26",))  # fmt: skip
    assert (item["state"], item["closed_by"]) == ("acked", MANAGER)


# --- in chat: /samples, the batch flow and a stay's test card ---------------------------------


async def test_a_manager_types_a_floor_and_a_bad_line_is_asked_again(harness: Harness) -> None:
    h = harness
    await seed_site(h)
    await seed_invited(h, MANAGER, "site_manager", SITE)
    stays = [await seed_stay(h, room) for room in ("301", "302")]
    await h.text(MANAGER, "/samples")
    assert "录入核酸采样和检测结果" in h.texts(MANAGER)[-1]
    await h.text(MANAGER, "301 阴性\n302 好")
    reason, question = h.texts(MANAGER)[-2:]
    assert "一个结果都没有保存" in reason and "第2行“302 好”：“好”看不懂" in reason
    assert "录入核酸采样和检测结果" in question  # the same question again
    await h.text(MANAGER, "301 阴性\n305 阴性")  # reads, but nobody is in 305
    reason = h.texts(MANAGER)[-2]
    assert "第2行“305 阴性”：“305”这个房间没有在住的隔离人员" in reason
    assert [(await recorded_tests(h, s))[0][1] for s in stays] == [None, None]
    await h.text(MANAGER, "301、302 阴性")
    assert "✅ 已记录 2 人：阴性 2，阳性 0" in h.texts(MANAGER)[-1]
    assert [(await recorded_tests(h, s))[0][2] for s in stays] == ["negative", "negative"]
    assert await h.db.fetchone("SELECT 1 FROM drafts WHERE user_id = ?", (MANAGER,)) is None


async def test_samples_for_another_site_is_refused_and_audited(harness: Harness) -> None:
    h = harness
    await seed_site(h)
    await seed_site(h, "GL92")
    await seed_invited(h, MANAGER, "site_manager", SITE)
    await h.text(MANAGER, "/samples GL92")
    assert "录入核酸采样" not in h.texts(MANAGER)[-1]
    row = await h.db.fetchone(
        "SELECT action, subject FROM audit WHERE actor = ? AND action LIKE 'denied:%'", (MANAGER,)
    )
    assert (row["action"], row["subject"]) == ("denied:samples.record", "site:GL92")


async def test_a_result_pressed_on_a_stays_test_card(harness: Harness) -> None:
    h = harness
    await seed_site(h)
    await seed_invited(h, MANAGER, "site_manager", SITE)
    stay = await seed_stay(h, "303", name="王五")
    await h.text(MANAGER, "/samples 303")
    card = h.texts(MANAGER)[-1]
    assert f"先锋隔离点{SITE} 303" in card and "10月26日：今天待采样" in card
    buttons = dict(h.buttons(MANAGER))
    assert list(buttons) == ["阴性", "阳性", "已采样"]
    await h.press(MANAGER, buttons["已采样"])
    assert (await recorded_tests(h, stay))[0] == ("2020-10-26", "sampled", "pending")
    await h.press(MANAGER, buttons["阳性"])
    await h.press(MANAGER, buttons["阳性"])  # a double tap: still one case
    assert (await recorded_tests(h, stay))[0] == ("2020-10-26", "sampled", "positive")
    assert await case_count(h) == 1
    assert any("阳性人员已按疑似病例上报" in t for t in h.texts(MANAGER))
    await h.press(OTHER, buttons["阴性"])  # not a manager of the site
    assert await h.db.fetchone("SELECT 1 FROM audit WHERE actor = ? AND action = ?",
                               (OTHER, "denied:samples.record"))  # fmt: skip


async def test_an_arrivals_positive_opens_the_case_of_that_report_once(harness: Harness) -> None:
    """Assigned by /isolate's action (bot.actions.isolation calls ``plan``): the case is the
    report person's (open_positive's source key), and a second positive does not open another."""
    h = harness
    ref = await seed_arrival(h, "王一", 1)
    async with h.db.write() as conn:  # the example's GL01 takes people
        await conn.execute("UPDATE sites SET state = 'active' WHERE id = 'GL01'")
    assert not isinstance(await assign(h, ref, "GL01", "101"), Refused)
    stay = (await h.db.fetchone("SELECT id FROM stays"))["id"]
    assert (await recorded_tests(h, stay))[0][0] == "2020-10-26"
    outcome = await samples.record(h.services, manager(40001, "GL01"), "GL01", "101 阳性")
    assert isinstance(outcome, samples.Recorded) and len(outcome.cases) == 1
    case = await h.db.fetchone("SELECT * FROM cases")
    report = await h.db.fetchone("SELECT id FROM reports WHERE ref = ?", (ref,))
    assert (case["report_id"], case["person_name"], case["source_key"]) == (
        report["id"], "王一", f"positive:stay:{stay}:2020-10-26")  # fmt: skip
    again = await samples.record_one(h.services, manager(40001, "GL01"), stay, OCT_26,
                                     "positive")  # fmt: skip
    assert again == samples.Recorded({"negative": 0, "positive": 0, "sampled": 0}, (),
                                     ("101",))  # fmt: skip
    assert await case_count(h) == 1


# --- review of issue 12: a result never fills a missed test; ranges and signs ---------------


def to_day(h: Harness, day: date) -> None:
    """The clock moved to 10:00 of ``day``."""
    h.clock.advance(seconds=(datetime.combine(day, datetime.min.time(), SHANGHAI)
                             + timedelta(hours=10) - h.clock.now()).total_seconds())  # fmt: skip


OCT_29 = OCT_26 + timedelta(days=3)  # day 4 of the stays starting on 26 Oct


async def test_a_result_sent_twice_never_fills_a_missed_test(harness: Harness) -> None:
    """Day 4, day 1 never sampled: "301 阴性" is day 4's (sample and result at once); the same
    message again is already recorded, not day 1's negative (which would let the person be
    released on a test nobody took). Day 1 needs its make-up (补采) first."""
    h = harness
    await seed_site(h)
    stay = await seed_stay(h, "301")
    to_day(h, OCT_29)
    first = await samples.record(h.services, manager(), SITE, "301 阴性")
    assert first == samples.Recorded({"negative": 1, "positive": 0, "sampled": 0}, ())
    again = await samples.record(h.services, manager(), SITE, "301 阴性")
    assert (await recorded_tests(h, stay))[:2] == [
        ("2020-10-26", None, None), ("2020-10-29", "sampled", "negative")]  # fmt: skip
    assert again == samples.Recorded({"negative": 0, "positive": 0, "sampled": 0}, (), ("301",))
    text = h.services.text("zh_CN", "samples", "recorded", **samples.summary_params(again))
    assert "301 的这个结果已经录过，没有重复记录" in text and "已记录 0 人" not in text
    made_up = await samples.record(h.services, manager(), SITE, "301 补采")
    assert made_up == samples.Recorded({"negative": 0, "positive": 0, "sampled": 1}, ())
    assert await samples.record(h.services, manager(), SITE, "301 阴性") == first
    assert (await recorded_tests(h, stay))[:2] == [
        ("2020-10-26", "sampled", "negative"), ("2020-10-29", "sampled", "negative")]  # fmt: skip


async def test_a_waiting_samples_result_sent_twice_on_a_test_day_fills_nothing_else(
    harness: Harness,
) -> None:
    """Day 1 sampled and waiting; on day 4 "301 阴性" is day 1's result. Sent again that day it
    is already recorded — not day 4's sample and result at once (nobody sampled day 4)."""
    h = harness
    await seed_site(h)
    stay = await seed_stay(h, "301")
    await samples.record(h.services, manager(), SITE, "301 已采样")
    to_day(h, OCT_29)
    first = await samples.record(h.services, manager(), SITE, "301 阴性")
    assert first == samples.Recorded({"negative": 1, "positive": 0, "sampled": 0}, ())
    again = await samples.record(h.services, manager(), SITE, "301 阴性")
    assert again == samples.Recorded({"negative": 0, "positive": 0, "sampled": 0}, (), ("301",))
    assert (await recorded_tests(h, stay))[:2] == [
        ("2020-10-26", "sampled", "negative"), ("2020-10-29", None, None)]  # fmt: skip


async def test_a_double_tap_on_a_card_records_its_own_test_once(harness: Harness) -> None:
    """The reviewer's case: day 4, day 1 never sampled, 阴性 pressed twice on the card."""
    h = harness
    await seed_site(h)
    stay = await seed_stay(h, "301")
    to_day(h, OCT_29)
    one = await samples.record_one(h.services, manager(), stay, OCT_29, "negative")
    two = await samples.record_one(h.services, manager(), stay, OCT_29, "negative")
    assert one == samples.Recorded({"negative": 1, "positive": 0, "sampled": 0}, ())
    assert two == samples.Recorded({"negative": 0, "positive": 0, "sampled": 0}, (), ("301",))
    missed = await samples.record_one(h.services, manager(), stay, OCT_26, "negative")
    assert isinstance(missed, samples.Rejected)
    assert [p.reason for p in missed.batch.problems] == ["missed"]
    assert (await recorded_tests(h, stay))[:2] == [
        ("2020-10-26", None, None), ("2020-10-29", "sampled", "negative")]  # fmt: skip
    later = await samples.record_one(h.services, manager(), stay, OCT_29 + timedelta(days=3),
                                     "sampled")  # fmt: skip
    assert isinstance(later, samples.Rejected)  # day 7 is not due yet


async def test_the_card_names_each_test_and_offers_a_make_up_for_a_missed_one(
    harness: Harness,
) -> None:
    h = harness
    await seed_site(h)
    await seed_invited(h, MANAGER, "site_manager", SITE)
    stay = await seed_stay(h, "301")
    to_day(h, OCT_29)
    await h.text(MANAGER, "/samples 301")
    assert "10月26日：⚠️ 漏采" in h.texts(MANAGER)[-1]
    buttons = dict(h.buttons(MANAGER))
    assert list(buttons) == ["补采 10月26日", "阴性", "阳性", "已采样"]
    assert buttons["补采 10月26日"] == f"v1:smr:{stay}:20201026:s"
    assert buttons["阴性"] == f"v1:smr:{stay}:20201029:n"
    assert all(len(data.encode()) <= 64 for data in buttons.values())
    assert len(samples.button_data(2**63 - 1, OCT_29, "positive").encode()) <= 64
    await h.press(MANAGER, buttons["阴性"])
    calls = await h.press(MANAGER, buttons["阴性"])  # a double tap
    answer = [c for c in calls if c.method == "answerCallbackQuery"][-1]
    assert "已经录过" in answer.params["text"]
    assert (await recorded_tests(h, stay))[:2] == [
        ("2020-10-26", None, None), ("2020-10-29", "sampled", "negative")]  # fmt: skip
    await h.press(MANAGER, buttons["补采 10月26日"])
    assert (await recorded_tests(h, stay))[0] == ("2020-10-26", "sampled", "pending")
    calls = await h.press(MANAGER, f"v1:smr:{stay}:n")  # a card of the old format
    answer = [c for c in calls if c.method == "answerCallbackQuery"][-1]
    assert "已过时" in answer.params["text"]
    assert (await recorded_tests(h, stay))[0] == ("2020-10-26", "sampled", "pending")


async def test_a_spaced_dash_between_rooms_is_refused_not_read_as_negative(
    harness: Harness,
) -> None:
    h = harness
    await seed_site(h)
    stays = [await seed_stay(h, room) for room in ("301", "302", "303", "305")]
    outcome = await samples.record(h.services, manager(), SITE, "301 - 305 阳性")
    assert isinstance(outcome, samples.Rejected)
    assert [(p.reason, p.item) for p in outcome.batch.problems] == [("range", "301-305")]
    for stay in stays:
        assert (await recorded_tests(h, stay))[0] == ("2020-10-26", None, None)
    text = h.services.text("zh_CN", "samples", "bad_batch", problems=outcome.batch.problems)
    assert "不支持写范围" in text and "301、302、303 阴性" in text
    joined = await samples.record(h.services, manager(), SITE, "301-305 阳性")
    assert [(p.reason, p.item) for p in joined.batch.problems] == [("range", "301-305")]


async def test_a_lettered_room_with_a_dash_is_entered_in_a_batch(harness: Harness) -> None:
    h = harness
    await seed_site(h, rooms=["A-101", "A-102"])
    first, second = await seed_stay(h, "A-101"), await seed_stay(h, "A-102")
    outcome = await samples.record(h.services, manager(), SITE, "a-101 阴性 A-102+")
    assert outcome == samples.Recorded({"negative": 1, "positive": 1, "sampled": 0},
                                       outcome.cases)  # fmt: skip
    assert (await recorded_tests(h, first))[0] == ("2020-10-26", "sampled", "negative")
    assert (await recorded_tests(h, second))[0] == ("2020-10-26", "sampled", "positive")
