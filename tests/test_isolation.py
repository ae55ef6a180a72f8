"""Isolation stays (issue 12): assigning a person a site and a room — the last room raced by two
workers, a full site naming the nearest with room —, the site manager's arrival (入住) in scope
only, /isolation's figures, and the /isolate conversation over the real pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.actions import contacts as contact_actions
from bot.actions import isolation as service
from bot.actions.isolation import Assigned, Refused
from bot.config import Config, Site
from bot.domain.contacts import Held, NewContact
from bot.domain.isolation import ARRIVAL, parse_ref
from bot.domain.records import PersonRecord, ReportRecord
from bot.runtime.clock import ManualClock
from bot.runtime.timers import fire_due
from storage import arrivals, contacts
from storage import isolation as store
from storage.isolation import Person
from tests.harness import Harness
from tests.staff_helpers import ADMIN, LEADERS_CHAT, REFUSED, RESIDENT, WORKER_SQ01, WORKER_XF01
from tests.test_cases import report_case
from tests.test_help import group_message

MANAGER_A, MANAGER_B = 40001, 40002
TODAY = date(2020, 10, 26)
SITES = (
    Site(id="GA", name="甲隔离点", address="先锋街1号", village="xf", latitude=29.14,
         longitude=106.26, rooms=("1",), state="active", managers=(MANAGER_A,)),
    # the same village as GA, farther than GC: the nearest with room when GA is full
    Site(id="GB", name="乙隔离点", address="先锋街99号", village="xf", latitude=29.40,
         longitude=106.60, rooms=("1", "2", "3"), state="active", managers=(MANAGER_B,)),
    Site(id="GC", name="丙隔离点", address="凤凰路2号", village="fh", latitude=29.141,
         longitude=106.261, rooms=("1", "2"), state="active"),
    Site(id="GD", name="丁储备点", address="凤凰路8号", village="fh", rooms=5),
)  # fmt: skip


@pytest.fixture
async def h(config: Config, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Harness]:
    started = await Harness.start(config.model_copy(update={"sites": SITES}),
                                  tmp_path / "paicha.sqlite3", clock)  # fmt: skip
    yield started
    await started.stop()


async def seed_arrival(h: Harness, name: str, n: int, *, start: date = TODAY,
                       grid: str = "XF01", village: str = "xf",
                       measure: str = "centralized_isolation") -> str:  # fmt: skip
    """An arrival report of one person under ``measure`` from ``start``: its reference."""
    record = ReportRecord(
        draft_token=f"seed-{name}", reporter_user_id=RESIDENT + n, reporter_chat_id=RESIDENT + n,
        locale="zh_CN", relation="self", village_id=village, grid_id=grid,
        address=f"先锋街{n}号", arrival_date=start, category="sanfan", risk="high_risk",
        alert=True, measure_kind=measure, measure_start=start,
        measure_end=start + timedelta(days=13), data={},
        people=(PersonRecord(name, f"1391234{n:04d}", "id", f"11010519491231{n:04d}"),),
    )  # fmt: skip
    now = h.clock.now()
    async with h.db.write() as conn:
        stored = await arrivals.store(conn, record, town_code="XF", local_today=TODAY,
                                      lookback_since=now, now=now)  # fmt: skip
    return stored.ref


async def assign(h: Harness, ref: str, site: str, room: str | None = None,
                 user: int = WORKER_XF01) -> Assigned | Refused | None:  # fmt: skip
    return await service.assign(h.services, parse_ref(ref), site, room, user)


async def stays(h: Harness) -> list[tuple[str, str, str]]:
    rows = await h.db.fetchall("SELECT site_id, room, state FROM stays ORDER BY id")
    return [tuple(r) for r in rows]


# --- occupancy under concurrent assignment ---------------------------------------------------


async def test_two_workers_race_for_the_last_room(h: Harness) -> None:
    """GA has one room: of two assignments at once, one gets it, the other is told GA is full
    and the nearest site with room is GB (same village; GC is closer but in another)."""
    first, second = await seed_arrival(h, "王一", 1), await seed_arrival(h, "王二", 2)
    results = await asyncio.gather(assign(h, first, "GA"), assign(h, second, "GA"))
    won = [r for r in results if isinstance(r, Assigned)]
    told = [r for r in results if isinstance(r, Refused)]
    assert len(won) == 1 and won[0].room == "1"
    assert told == [Refused("site_full", {"site": "甲隔离点", "nearest": "乙隔离点",
                                          "nearest_id": "GB", "free": 3})]  # fmt: skip
    assert await stays(h) == [("GA", "1", "assigned")]
    loads = {s.id: (s.people, s.free) for s in await store.occupancy(h.db)}
    assert loads == {"GA": (1, 0), "GB": (0, 3), "GC": (0, 2), "GD": (0, 5)}


async def test_two_workers_race_for_one_room_of_a_site_with_more(h: Harness) -> None:
    first, second = await seed_arrival(h, "王一", 1), await seed_arrival(h, "王二", 2)
    results = await asyncio.gather(assign(h, first, "GB", "2"), assign(h, second, "GB", "2"))
    assert sorted(type(r).__name__ for r in results) == ["Assigned", "Refused"]
    assert Refused("room_taken", {"room": "2", "free": "1"}) in results
    assert await stays(h) == [("GB", "2", "assigned")]


async def test_the_unique_index_refuses_a_second_stay_in_a_room(h: Harness) -> None:
    """Whatever got past the capacity check, a room holds one active stay."""
    await seed_arrival(h, "王一", 1)
    await seed_arrival(h, "王二", 2)
    period = service.domain.period_of(TODAY, TODAY + timedelta(days=13), (1,))
    async with h.db.write() as conn:
        kept = await store.assign(conn, Person(ARRIVAL, 1, 0), "GB", "2", period,
                                  "centralized_isolation", WORKER_XF01, h.clock.now())  # fmt: skip
        again = await store.assign(conn, Person(ARRIVAL, 2, 0), "GB", "2", period,
                                   "centralized_isolation", WORKER_XF01, h.clock.now())  # fmt: skip
    assert kept is not None and again is None
    assert await stays(h) == [("GB", "2", "assigned")]


async def test_a_full_site_refuses_with_the_nearest_that_has_room(h: Harness) -> None:
    refs = [await seed_arrival(h, f"王{n}", n) for n in range(1, 7)]
    assert isinstance(await assign(h, refs[0], "GA"), Assigned)
    assert (await assign(h, refs[1], "GA")).params["nearest_id"] == "GB"
    for ref, room in zip(refs[1:4], ("1", "2", "3"), strict=True):
        assert (await assign(h, ref, "GB")).room == room  # the first free room, in order
    # GA and GB full: GC, in another village, is the nearest left; the reserved GD never
    assert await assign(h, refs[4], "GB") == Refused(
        "site_full", {"site": "乙隔离点", "nearest": "丙隔离点", "nearest_id": "GC", "free": 2}
    )
    for ref in refs[4:6]:
        await assign(h, ref, "GC")
    seventh = await seed_arrival(h, "王7", 7)
    assert await assign(h, seventh, "GA") == Refused(
        "site_full", {"site": "甲隔离点", "nearest": "", "nearest_id": "", "free": 0}
    )
    assert await assign(h, seventh, "GD") == Refused("site_closed", {"site": "丁储备点"})
    assert len(await stays(h)) == 6


async def test_refusals_of_the_person(h: Harness) -> None:
    ref = await seed_arrival(h, "王一", 1)
    home = await seed_arrival(h, "王二", 2, measure="home_observation")
    assert isinstance(await assign(h, ref, "GB"), Assigned)
    assert await assign(h, ref, "GC") == Refused(
        "staying", {"ref": ref, "site": "乙隔离点", "room": "1"}
    )
    assert await assign(h, home, "GC") == Refused("not_isolation", {"ref": home})
    assert await assign(h, "XF-MJ-20201026-0099", "GC") == Refused(
        "not_found", {"ref": "XF-MJ-20201026-0099"}
    )
    assert await assign(h, ref.replace("-0001", "-0009"), "GC") == Refused(
        "not_found", {"ref": ref.replace("-0001", "-0009")}
    )
    assert await assign(h, "XF-BL-20201026-09", "GC") == Refused(
        "not_found", {"ref": "XF-BL-20201026-09"}
    )
    assert len(await stays(h)) == 1


# --- what an assignment stores and tells -----------------------------------------------------


async def seed_contact(h: Harness, report_id: int | None = None) -> str:
    async with h.db.write() as conn:
        ref = await contacts.next_ref(conn, "XF", TODAY)
        await contacts.create(conn, contacts.NewRow(
            ref=ref, person=PersonRecord("赵密接", "13700001111", "id", "110105194912310021"),
            address="先锋街5号", village_id="xf", grid_id="XF01", kind="close",
            last_exposure=TODAY - timedelta(days=2),
            measure=Held("centralized_isolation", TODAY - timedelta(days=1),
                         TODAY + timedelta(days=12)),
            report_id=report_id, person_idx=0 if report_id else None), h.clock.now())  # fmt: skip
    return ref


async def test_an_arrival_linked_to_a_contact_makes_the_contact_isolating(h: Harness) -> None:
    ref = await seed_arrival(h, "王一", 1)
    await seed_contact(h, report_id=1)
    assert isinstance(await assign(h, ref, "GB"), Assigned)
    assert (await h.db.fetchone("SELECT state FROM contacts"))["state"] == "isolating"


async def test_an_arrival_and_its_contact_are_one_person_holding_one_room(h: Harness) -> None:
    """A contact linked to an arrival report is the report's person under a second key: a
    stay under either key refuses the other (one room, one schedule, one certificate)."""
    arrival = await seed_arrival(h, "王一", 1)
    assert isinstance(await assign(h, arrival, "GA"), Assigned)
    contact = await seed_contact(h, report_id=1)  # the arrival added to a case's list
    assert await assign(h, contact, "GB") == Refused(
        "staying", {"ref": contact, "site": "甲隔离点", "room": "1"}
    )
    other = await seed_arrival(h, "王二", 2)
    second = await seed_contact(h, report_id=2)
    assert isinstance(await assign(h, second, "GB"), Assigned)  # the contact first this time
    assert await assign(h, other, "GC") == Refused(
        "staying", {"ref": other, "site": "乙隔离点", "room": "1"}
    )
    assert await stays(h) == [("GA", "1", "assigned"), ("GB", "1", "assigned")]
    assert (await h.db.fetchone("SELECT COUNT(*) FROM timers WHERE kind = 'release.due'"))[0] == 2


async def test_assigning_a_contact_stores_tests_and_tells_manager_and_group(h: Harness) -> None:
    ref = await seed_contact(h)
    done = await assign(h, ref, "GA")
    assert isinstance(done, Assigned) and done.period.start == TODAY - timedelta(days=1)
    row = await h.db.fetchone("SELECT * FROM stays WHERE id = ?", (done.stay_id,))
    assert (row["contact_id"], row["start_date"], row["end_date"], row["test_days"]) == (
        1,
        "2020-10-25",
        "2020-11-07",
        "[1, 4, 7, 14]",
    )  # [measures.close_contact]
    assert (await h.db.fetchone("SELECT state FROM contacts"))["state"] == "isolating"
    assert await h.db.fetchone("SELECT 1 FROM stay_tests WHERE stay_id = ?", (done.stay_id,))
    audit = await h.db.fetchone("SELECT * FROM audit WHERE action = 'stay.assign'")
    assert (audit["actor"], audit["subject"], audit["detail"]) == (
        WORKER_XF01,
        f"stay:{done.stay_id}",
        "GA:1",
    )
    await h.drain_outbox()
    to_manager = h.texts(MANAGER_A)[-1]
    assert "甲隔离点 1 房间" in to_manager and "赵密接" in to_manager
    assert "+86 137 0000 1111" in to_manager and ref in to_manager
    assert h.buttons(MANAGER_A) == [("✅ 确认入住", f"v1:iso:{done.stay_id}:in")]
    assert await h.db.fetchone("SELECT 1 FROM timers WHERE kind = 'release.due'")
    to_group = h.texts(LEADERS_CHAT)[-1]
    assert ref in to_group and "赵密接" not in to_group and "赵**" in to_group
    assert "在住 0 人，待入住 1 人，空余床位 0 个（共 1 个床位）" in to_group
    assert "还没有负责人" not in to_group
    assert h.texts(MANAGER_B) == []


async def test_a_site_without_manager_is_said_in_the_group(h: Harness) -> None:
    await assign(h, await seed_arrival(h, "王一", 1), "GC")
    await h.drain_outbox()
    assert "该隔离点还没有负责人" in h.texts(LEADERS_CHAT)[-1]


# --- 入住 ------------------------------------------------------------------------------------


async def test_arrival_only_by_the_sites_manager(h: Harness) -> None:
    done = await assign(h, await seed_arrival(h, "王一", 1), "GA")
    await h.drain_outbox()
    press = f"v1:iso:{done.stay_id}:in"
    for outsider in (MANAGER_B, WORKER_XF01):  # another site's manager; the assigner
        calls = await h.press(outsider, press)
        answer = next(c for c in calls if c.method == "answerCallbackQuery")
        assert REFUSED in answer.params["text"]
    denied = await h.db.fetchall(
        "SELECT actor, subject FROM audit WHERE action = 'denied:stay.arrive' ORDER BY id"
    )
    assert [tuple(r) for r in denied] == [(MANAGER_B, f"stay:{done.stay_id}"),
                                          (WORKER_XF01, f"stay:{done.stay_id}")]  # fmt: skip
    assert await stays(h) == [("GA", "1", "assigned")]

    calls = await h.press(MANAGER_A, press)
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params["text"] == "已确认 1 房间入住。"
    row = await h.db.fetchone("SELECT * FROM stays")
    assert (row["state"], row["arrived_by"]) == ("in", MANAGER_A)
    assert await h.db.fetchone("SELECT 1 FROM audit WHERE action = 'stay.arrive' AND actor = ?",
                               (MANAGER_A,))  # fmt: skip
    await h.drain_outbox()
    edit = [c for c in h.request.calls if c.method.startswith("editMessage")
            and int(c.params["chat_id"]) == MANAGER_A][-1]  # fmt: skip
    assert "✅ 已确认入住（" in edit.params["text"] and "10:00）" in edit.params["text"]
    assert [b["callback_data"] for row in edit.params["reply_markup"]["inline_keyboard"]
            for b in row] == [f"v1:rl:{done.stay_id}"]  # fmt: skip
    calls = await h.press(MANAGER_A, press)  # a double tap
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params["text"] == "1 房间已经确认过入住了。"


async def test_a_missing_stay_is_refused_as_out_of_scope(h: Harness) -> None:
    calls = await h.press(MANAGER_A, "v1:iso:999:in")
    assert REFUSED in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    assert await h.db.fetchone(
        "SELECT 1 FROM audit WHERE action = 'denied:stay.arrive' AND subject = 'stay:999'"
    )


# --- 申请转运 ---------------------------------------------------------------------------------


async def test_transfer_requested_from_the_receipt(h: Harness) -> None:
    done = await assign(h, await seed_arrival(h, "王一", 1), "GB")
    press = f"v1:iso:{done.stay_id}:tr"
    calls = await h.press(WORKER_SQ01, press)  # another grid's worker
    assert REFUSED in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    calls = await h.press(WORKER_XF01, press)
    assert (
        "已申请转运" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    )
    transfer = await h.db.fetchone("SELECT * FROM transfers")
    assert (transfer["site_id"], transfer["from_address"], transfer["urgency"]) == (
        "GB",
        "先锋街1号",
        "normal",
    )
    calls = await h.press(WORKER_XF01, press)  # again: one transfer
    assert (
        "已经有转运" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    )
    assert (await h.db.fetchone("SELECT COUNT(*) FROM transfers"))[0] == 1


# --- /isolation ------------------------------------------------------------------------------


async def test_isolation_figures_from_a_known_dataset(h: Harness) -> None:
    """Four people: GA 1 (arrived, day 1), GB 2 (day 4; day 14 and later), GC 1 (day 2, its
    measure began yesterday). Every one has a test today: day 1's, or the one standing for
    test days already past at assignment (bot.domain.samples.schedule)."""
    refs = [
        await seed_arrival(h, name, n, start=TODAY - timedelta(days=back))
        for name, n, back in (("王一", 1, 0), ("王二", 2, 3), ("王三", 3, 13), ("王四", 4, 1))
    ]
    first = await assign(h, refs[0], "GA")
    for ref, site in zip(refs[1:], ("GB", "GB", "GC"), strict=True):
        assert isinstance(await assign(h, ref, site), Assigned)
    await h.press(MANAGER_A, f"v1:iso:{first.stay_id}:in")
    seen = await service.overview(h.services, None)
    assert seen.people == 4
    assert [(s.id, s.arrived, s.expected, s.free) for s in seen.sites] == [
        ("GA", 1, 0, 0),
        ("GB", 0, 2, 1),
        ("GC", 0, 1, 1),
        ("GD", 0, 0, 5),
    ]
    assert seen.days == (1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)
    assert seen.due == {"GA": (1, 0), "GB": (2, 0), "GC": (1, 0), "GD": (0, 0)}

    await h.text(ADMIN, "/isolation")
    text = h.texts(ADMIN)[-1]
    for line in (
        "在隔离共 4 人",
        "在住 1 人，待入住 0 人，空余床位 0 个，共 1 个床位",
        "在住 0 人，待入住 2 人，空余床位 1 个，共 3 个床位",
        "今日应检测 2 人，已采样 0 人",
        "第1天：1 人",
        "第2天：1 人",
        "第4天：1 人",
        "第14天及以上：1 人",
        "丁储备点</b>（储备）",
    ):
        assert line in text, line  # fmt: skip
    assert "王" not in text  # figures only

    await h.text(MANAGER_B, "/isolation")  # a site manager: their own site
    own = h.texts(MANAGER_B)[-1]
    assert "乙隔离点" in own and "甲隔离点" not in own and "在隔离共 2 人" in own
    assert "第4天：1 人" in own and "第1天" not in own

    await h.text(WORKER_XF01, "/isolation")
    assert REFUSED in h.texts(WORKER_XF01)[-1]
    assert await h.db.fetchone("SELECT 1 FROM audit WHERE action = 'denied:isolation.view'")


async def test_isolation_in_english_with_nobody(h: Harness) -> None:
    await h.text(ADMIN, "/isolation", lang="en")
    text = h.texts(ADMIN)[-1]
    assert "0 people in isolation" in text and "Nobody in isolation" in text
    assert "甲隔离点</b> (active)\n0 in, 0 expected, 1 of 1 beds free" in text


# --- the /isolate conversation -------------------------------------------------------------


async def test_isolate_flow(h: Harness) -> None:
    ref = await seed_arrival(h, "王一", 1)
    other = await seed_arrival(h, "王二", 2)
    await h.text(WORKER_XF01, "/isolate")
    assert "请输入要安排隔离人员的编号" in h.texts(WORKER_XF01)[-1]
    await h.text(WORKER_XF01, "王一")
    assert "编号格式不对" in h.texts(WORKER_XF01)[-2]
    await h.text(WORKER_XF01, ref.lower().replace("-", " "))
    assert "请选择<b>隔离点</b>" in h.texts(WORKER_XF01)[-1]
    assert await h.db.fetchone("SELECT 1 FROM audit WHERE action = 'person.view' AND actor = ?"
                               " AND subject = ?", (WORKER_XF01, ref))  # fmt: skip
    assert [label for label, _ in h.buttons(WORKER_XF01)] == [
        "甲隔离点（空床位 1 个）",
        "乙隔离点（空床位 3 个）",
        "丙隔离点（空床位 2 个）",
    ]
    await h.choose(WORKER_XF01, "乙隔离点")
    assert [label for label, _ in h.buttons(WORKER_XF01)] == ["1", "2", "3"]
    await h.text(WORKER_XF01, "9")
    assert "没有 9 这个房间" in h.texts(WORKER_XF01)[-2]
    await h.text(WORKER_XF01, "3")
    summary = h.texts(WORKER_XF01)[-1]
    assert "王一" in summary and "乙隔离点" in summary and "房间：3" in summary
    await h.choose(WORKER_XF01, "确认安排")
    receipt = h.texts(WORKER_XF01)[-1]
    assert "已安排集中隔离" in receipt and "乙隔离点 3 房间" in receipt
    stay_id = (await h.db.fetchone("SELECT id FROM stays"))["id"]
    assert h.buttons(WORKER_XF01) == [("🚑 申请转运", f"v1:iso:{stay_id}:tr")]
    assert await stays(h) == [("GB", "3", "assigned")]
    assert await h.db.fetchone("SELECT 1 FROM drafts") is None

    # the site fills up while the second assigner is at the summary: back to the sites
    await h.text(WORKER_XF01, "/isolate")
    await h.text(WORKER_XF01, other)
    await h.choose(WORKER_XF01, "甲隔离点")
    await h.choose(WORKER_XF01, "1")
    await assign(h, await seed_arrival(h, "王三", 3), "GA", user=ADMIN)
    await h.choose(WORKER_XF01, "确认安排")
    assert (
        "甲隔离点 已经住满了。最近还有空房的是 <b>乙隔离点</b>（空床位 2 个）"
        in h.texts(WORKER_XF01)[-2]
    )
    assert [label for label, _ in h.buttons(WORKER_XF01)] == [
        "乙隔离点（空床位 2 个）",
        "丙隔离点（空床位 2 个）",
    ]
    await h.choose(WORKER_XF01, "丙隔离点")
    await h.choose(WORKER_XF01, "2")
    await h.choose(WORKER_XF01, "确认安排")
    assert await stays(h) == [("GB", "3", "assigned"), ("GA", "1", "assigned"),
                              ("GC", "2", "assigned")]  # fmt: skip


async def test_isolate_only_in_scope(h: Harness) -> None:
    """Another grid's worker gets the same answer as for a number that does not exist."""
    ref = await seed_arrival(h, "王一", 1)
    await h.text(WORKER_SQ01, "/isolate")
    await h.text(WORKER_SQ01, ref)
    assert f"没有找到编号为 {ref} 的待隔离人员" in h.texts(WORKER_SQ01)[-2]
    await h.text(RESIDENT, "/isolate")
    assert REFUSED in h.texts(RESIDENT)[-1]


async def test_isolate_out_of_scope_says_nothing_of_the_measure_and_is_audited(
    h: Harness,
) -> None:
    """A person of another grid under home observation: the answer is "not found", as for a
    number that does not exist — not "not centralised isolation", which would tell the
    person exists — and the refused look is audited."""
    home = await seed_arrival(h, "王一", 1, measure="home_observation")
    await h.text(WORKER_SQ01, "/isolate")
    await h.text(WORKER_SQ01, home)
    answer = h.texts(WORKER_SQ01)[-2]
    assert f"没有找到编号为 {home} 的待隔离人员" in answer and "集中隔离" not in answer
    denied = await h.db.fetchall(
        "SELECT actor, subject FROM audit WHERE action = 'denied:person.view'"
    )
    assert [tuple(r) for r in denied] == [(WORKER_SQ01, home)]
    assert not await h.db.fetchone("SELECT 1 FROM audit WHERE action = 'person.view'")
    await h.text(WORKER_XF01, "/isolate")  # in scope: the real reason
    await h.text(WORKER_XF01, home)
    assert "的管控措施不是集中隔离" in h.texts(WORKER_XF01)[-2]


async def test_isolate_with_no_site_taking_people(config: Config, clock: ManualClock,
                                                  tmp_path: Path) -> None:  # fmt: skip
    h = await Harness.start(config, tmp_path / "p.sqlite3", clock)  # the example's reserved sites
    try:
        ref = await seed_arrival(h, "王一", 1)
        await h.text(ADMIN, "/isolate")
        await h.text(ADMIN, ref)
        assert "现在没有可以接收人员的隔离点" in h.texts(ADMIN)[-2]
    finally:
        await h.stop()


async def test_isolation_in_the_leadership_group(h: Harness) -> None:
    await assign(h, await seed_arrival(h, "王一", 1), "GA")
    await h.feed(group_message(h, ADMIN, "/isolation"))
    text = h.texts(LEADERS_CHAT)[-1]
    assert "在隔离共 1 人" in text and "王" not in text


async def test_assign_button_on_a_persons_card(h: Harness) -> None:
    """A contact's or an arrival's card carries "安排隔离": the conversation opens at the
    site question with the person named; one out of scope, or gone, is said on the button."""
    ref = await seed_arrival(h, "王一", 1)
    markup = service.assign_button(h.services, "zh_CN", ref)
    assert markup == {"text": "🏨 安排隔离", "callback_data": f"v1:iso:as:{ref}"}
    calls = await h.press(WORKER_SQ01, markup["callback_data"])
    answer = next(c for c in calls if c.method == "answerCallbackQuery").params
    assert answer["show_alert"] and f"没有找到编号为 {ref}" in answer["text"]
    calls = await h.press(WORKER_XF01, "v1:iso:as:XF-0000")
    answer = next(c for c in calls if c.method == "answerCallbackQuery").params
    assert "编号格式不对" in answer["text"]
    await h.press(WORKER_XF01, markup["callback_data"])
    assert "请选择<b>隔离点</b>" in h.texts(WORKER_XF01)[-1] and "王一" in h.texts(WORKER_XF01)[-1]
    await h.choose(WORKER_XF01, "丙隔离点")
    await h.choose(WORKER_XF01, "1")
    await h.choose(WORKER_XF01, "确认安排")
    assert await stays(h) == [("GC", "1", "assigned")]


async def test_a_case_is_isolated_from_today_and_fetched_urgently(h: Harness) -> None:
    await report_case(h, WORKER_XF01)
    case = await h.db.fetchone("SELECT id, ref FROM cases")
    done = await assign(h, case["ref"], "GB")
    assert isinstance(done, Assigned)
    row = await h.db.fetchone("SELECT * FROM stays")
    assert (row["case_id"], row["start_date"], row["end_date"], row["test_days"]) == (
        case["id"], "2020-10-26", "2020-11-08", "[1, 4, 7, 14]")  # fmt: skip
    edit = await h.db.fetchone(
        "SELECT 1 FROM outbox WHERE edits = ?", (f"case:{case['id']}:alert",)
    )
    assert edit is not None  # the group's case card brought up to date
    await h.press(WORKER_XF01, f"v1:iso:{done.stay_id}:tr")
    assert (await h.db.fetchone("SELECT urgency FROM transfers"))["urgency"] == "urgent"


async def test_a_contact_in_a_room_exposed_again_is_kept_14_days_from_the_new_exposure(
    h: Harness,
) -> None:
    """A roommate's case four days in: the contact's 14 days start again from this exposure,
    and the stay follows — its end, its tests (day 1 = the day after the exposure), its
    release — else the person would be released on the first period's last day."""
    ref = await seed_contact(h)  # exposed 10-24: 10-25..11-07
    done = await assign(h, ref, "GA")
    assert isinstance(done, Assigned)
    await report_case(h, WORKER_XF01)
    case = await h.db.fetchone("SELECT id FROM cases")
    h.clock.advance(seconds=4 * 86400)  # 10-30: the roommate is a case, exposed 10-29
    entry = NewContact(kind="close", last_exposure=TODAY + timedelta(days=3), ref=ref)
    async with h.db.write() as conn:
        await contact_actions.add_all(conn, h.services, case["id"], [entry], WORKER_XF01, "网格员",
                                      "staff")  # fmt: skip
    stay = await h.db.fetchone("SELECT * FROM stays WHERE id = ?", (done.stay_id,))
    assert (stay["start_date"], stay["end_date"], stay["gen"]) == ("2020-10-30", "2020-11-12", 2)
    planned = await h.db.fetchall(
        "SELECT test_date FROM stay_tests WHERE stay_id = ? AND test_date > '2020-10-29'"
        " ORDER BY test_date", (done.stay_id,))  # fmt: skip
    assert [r["test_date"] for r in planned] == ["2020-10-30", "2020-11-02", "2020-11-05",
                                                  "2020-11-12"]  # fmt: skip
    due = await h.db.fetchall(
        "SELECT due_at FROM timers WHERE kind = 'release.due' AND subject = ?"
        " AND json_extract(payload, '$.gen') = 2", (f"stay:{done.stay_id}",))  # fmt: skip
    assert [r["due_at"][:10] for r in due] == ["2020-11-13"]
    h.clock.advance(seconds=(date(2020, 11, 8) - TODAY).days * 86400 - 4 * 86400)
    await fire_due(h.services)  # the first period's release day: nothing happens
    stay = await h.db.fetchone("SELECT state FROM stays WHERE id = ?", (done.stay_id,))
    assert stay["state"] == "assigned"
