"""A case's close contacts (issue 12): added from the staff's private case card on the one flow
engine, found again among everyone known (an arrival, a contact of another case), given their
measure; the grid worker of their address told in private and in full, the leadership group
told the reference numbers only; the checklist ticking itself; the group's card counting the
chain in place; the trace deadline climbing until the list is marked complete."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from bot.actions import cases, isolation
from bot.actions import contacts as service
from bot.actions.contacts import ADDED, LINKED, UPGRADED
from bot.domain.contacts import NewContact
from bot.domain.isolation import CONTACT, Ref
from bot.domain.parsing import id_check_char
from bot.runtime import timers as firing
from tests.conftest import SHANGHAI
from tests.harness import Harness
from tests.staff_helpers import seed_report
from tests.test_cases import GROUP, LEADER, OTHER_WORKER, WORKER, answers, report_case

CONTACT_WORKER = 30003  # grid SQ01 of 石桥村: where the new contact lives
VILLAGE_ADMIN = 20001  # 先锋社区, the case's village
ID17 = "50011619850505123"
CONTACT_ID = ID17 + id_check_char(ID17)
START = datetime(2020, 10, 26, 10, 0, tzinfo=SHANGHAI)


async def at(h: Harness, minutes: int) -> None:
    """The clock at ``minutes`` after 10:00 on the case's day, what fell due fired, and the
    ladder's flush of the minute after (its messages are batched per minute)."""
    for moment in (minutes, minutes + 1):
        h.clock.advance(seconds=(START + timedelta(minutes=moment) - h.clock.now()).total_seconds())
        await firing.fire_due(h.services)
    await h.drain_outbox()


async def case_id(h: Harness) -> int:
    return (await h.db.fetchone("SELECT id FROM cases ORDER BY id DESC"))["id"]


async def add_new_contact(h: Harness, user: int = WORKER) -> None:
    """From the case card in the worker's private chat: a new person, typed."""
    await h.choose(user, "添加密接")
    await h.choose(user, "新登记人员")
    await h.text(user, "王五")
    await h.text(user, "139 0000 1111")
    await h.text(user, CONTACT_ID)
    await h.choose(user, "石桥村")
    await h.choose(user, "石桥村第1网格")
    await h.text(user, "石桥村3组12号")
    await h.choose(user, "密切接触者")
    await h.choose(user, "昨天")
    await h.text(user, "同桌吃饭")
    await h.choose(user, "跳过")
    await h.choose(user, "确认添加")
    await h.drain_outbox()


def group_edits(h: Harness) -> list[str]:
    return [c.params["text"] for c in h.request.calls
            if c.method == "editMessageText" and int(c.params["chat_id"]) == GROUP]  # fmt: skip


async def test_a_worker_adds_a_close_contact_from_the_case_card(harness: Harness) -> None:
    h = harness
    await report_case(h)
    cid = await case_id(h)
    assert ("➕ 添加密接", f"v1:mj:{cid}:add") in h.buttons(WORKER)
    await add_new_contact(h)

    # What the tracer reads: the contact, in full, and the measure.
    receipt = h.texts(WORKER)[-1]
    assert "已添加密接 XF-MJ-20201026-0001" in receipt
    assert "王五" in receipt and "+86 139 0000 1111" in receipt
    assert "集中隔离医学观察，10月26日至11月8日" in receipt
    assert "已排查密接 1 人" in receipt

    # What is stored: one person, one exposure, the measure from the last exposure.
    row = await h.db.fetchone("SELECT * FROM contacts")
    assert (row["ref"], row["name"], row["phone"], row["id_number"], row["grid_id"]) == (
        "XF-MJ-20201026-0001", "王五", "13900001111", CONTACT_ID, "SQ01")  # fmt: skip
    measure = (row["measure_kind"], row["measure_start"], row["measure_end"])
    assert (row["kind"], row["last_exposure"], row["report_id"]) == ("close", "2020-10-25", None)
    assert measure == ("centralized_isolation", "2020-10-26", "2020-11-08")
    assert row["phone_key"] and row["id_number_key"]  # found again by the blind indexes
    link = await h.db.fetchone("SELECT * FROM case_contacts")
    assert (link["case_id"], link["kind"], link["exposure"], link["source"], link["added_by"]) == (
        cid, "close", "同桌吃饭", "staff", WORKER)  # fmt: skip

    # The grid worker of the contact's address: told at once, in private, in full.
    notice = h.texts(CONTACT_WORKER)[-1]
    assert "你负责的网格有密切接触者" in notice and "XF-MJ-20201026-0001" in notice
    assert "王五" in notice and "+86 139 0000 1111" in notice and CONTACT_ID in notice
    assert "石桥村3组12号" in notice and "同桌吃饭" in notice

    # The group: the count and the reference number, nothing personal.
    told = [t for t in h.texts(GROUP) if "新增密接" in t][-1]
    assert "病例 XF-BL-20201026-01 新增密接 1 人" in told and "XF-MJ-20201026-0001" in told
    assert "王五" not in told and "1111" not in told

    # The checklist ticked itself; the group's card counts the chain, edited in place.
    tick = await h.db.fetchone(
        "SELECT ticked_by FROM case_checklist WHERE case_id = ? AND item = 'contacts'", (cid,)
    )
    assert tick["ticked_by"] == WORKER
    card = group_edits(h)[-1]
    assert "✅ 密切接触者排查（用户，10:00）：已排查 1 人" in card
    assert "已排查 1 人 · 已隔离 0 人 · 已检测 0 人 · 待转运 0 人" in card
    assert "王五" not in card
    audited = await h.db.fetchone("SELECT * FROM audit WHERE action = 'contact.add'")
    assert audited["actor"] == WORKER and audited["subject"] == f"contact:{row['id']}"


async def test_a_registered_arrival_is_upgraded_not_duplicated(harness: Harness) -> None:
    h = harness
    report_id = await seed_report(h)  # 李四, XF01, home monitoring 10-25..11-08
    ref = (await h.db.fetchone("SELECT ref FROM reports WHERE id = ?", (report_id,)))["ref"]
    await report_case(h)
    await h.choose(WORKER, "添加密接")
    await h.text(WORKER, "xf " + ref[3:].replace("-", " "))  # typed loosely
    await h.choose(WORKER, "次密接")
    await h.text(WORKER, "10-24")
    await h.text(WORKER, "同一办公室")
    await h.choose(WORKER, "跳过")
    summary = h.texts(WORKER)[-1]
    assert "李四" in summary and ref in summary
    await h.choose(WORKER, "确认添加")
    await h.drain_outbox()

    rows = await h.db.fetchall("SELECT * FROM contacts")
    assert len(rows) == 1
    row = rows[0]
    assert (row["report_id"], row["person_idx"], row["name"], row["kind"]) == (
        report_id, 0, "李四", "secondary")  # fmt: skip
    # home monitoring (10-25..11-08) raised to centralised isolation: the stricter kind,
    # 14 days from the exposure (10-24), so its tests follow the exposure
    assert (row["measure_kind"], row["measure_start"], row["measure_end"]) == (
        "centralized_isolation", "2020-10-25", "2020-11-07")  # fmt: skip
    assert any("此人已有登记，管控措施已升级" in t for t in h.texts(WORKER))
    notice = [t for t in h.texts(WORKER) if "你负责的网格有次密接" in t][-1]
    assert f"原登记 <code>{ref}</code>，措施已升级" in notice


async def test_a_reference_out_of_scope_is_not_found(harness: Harness) -> None:
    h = harness
    report_id = await seed_report(h, grid="SQ01", village="sq")
    ref = (await h.db.fetchone("SELECT ref FROM reports WHERE id = ?", (report_id,)))["ref"]
    await report_case(h)
    await h.choose(WORKER, "添加密接")
    await h.text(WORKER, ref)
    assert f"没有找到编号 {ref} 的人员" in h.texts(WORKER)[-2]  # the reason, asked again
    assert "这个人登记过吗" in h.texts(WORKER)[-1]
    await h.text(WORKER, "XF-2020")  # not a number at all: the reason, the same question
    assert "没看懂这个编号" in h.texts(WORKER)[-2]
    assert "这个人登记过吗" in h.texts(WORKER)[-1]


async def test_a_contact_of_two_cases_is_one_person(harness: Harness) -> None:
    h = harness
    await report_case(h)
    first = await case_id(h)
    await report_case(h)
    second = await case_id(h)
    entry = NewContact(kind="secondary", last_exposure=date(2020, 10, 20), name="王五",
                       phone="13900001111", id_kind="id", id_number=CONTACT_ID,
                       address="石桥村3组12号", village_id="sq", grid_id="SQ01",
                       exposure="同车")  # fmt: skip
    again = NewContact(kind="close", last_exposure=date(2020, 10, 24), name="王五",
                       id_kind="id", id_number=CONTACT_ID, address="别处", village_id="xf",
                       grid_id="XF02")  # fmt: skip
    by_phone = NewContact(kind="secondary", last_exposure=date(2020, 10, 22), name="王五",
                          phone="13900001111", address="x", village_id="xf",
                          grid_id="XF02")  # fmt: skip
    outcomes = []
    for case, e in ((first, entry), (second, again), (second, by_phone)):
        async with h.db.write() as conn:
            added = await service.add_all(conn, h.services, case, [e], LEADER, "领导", "import")
        outcomes.append(added.outcomes[0])
    assert [o.status for o in outcomes] == [ADDED, UPGRADED, LINKED]
    assert {o.ref for o in outcomes} == {"XF-MJ-20201026-0001"}
    rows = await h.db.fetchall("SELECT * FROM contacts")
    assert len(rows) == 1
    # the stronger kind and the later exposure win; the measure runs from it
    assert (rows[0]["kind"], rows[0]["last_exposure"], rows[0]["measure_end"]) == (
        "close", "2020-10-24", "2020-11-07")  # fmt: skip
    assert rows[0]["grid_id"] == "SQ01"  # the first address stands
    links = await h.db.fetchall(
        "SELECT case_id, kind, last_exposure FROM case_contacts ORDER BY case_id"
    )
    assert [tuple(r) for r in links] == [(first, "secondary", "2020-10-20"),
                                         (second, "close", "2020-10-24")]  # fmt: skip


async def test_a_released_contact_exposed_again_is_traced_anew(harness: Harness) -> None:
    """Exposed Oct 1, isolated and released; exposed again Oct 25: traced again under the new
    measure alone (not merged across the gap), and open to isolation again."""
    h = harness
    await report_case(h)
    first = await case_id(h)
    await report_case(h)
    second = await case_id(h)
    entry = NewContact(kind="close", last_exposure=date(2020, 10, 1), name="王五",
                       phone="13900001111", id_kind="id", id_number=CONTACT_ID,
                       address="石桥村3组12号", village_id="sq", grid_id="SQ01")  # fmt: skip
    again = replace(entry, last_exposure=date(2020, 10, 25))
    async with h.db.write() as conn:
        await service.add_all(conn, h.services, first, [entry], LEADER, "领导", "import")
    await h.db.write_one("UPDATE contacts SET state = 'released'")
    async with h.db.write() as conn:
        added = await service.add_all(conn, h.services, second, [again], LEADER, "领导", "import")
    assert added.outcomes[0].status == UPGRADED
    row = await h.db.fetchone("SELECT * FROM contacts")
    assert (row["state"], row["last_exposure"], row["measure_start"], row["measure_end"]) == (
        "traced", "2020-10-25", "2020-10-26", "2020-11-08")  # fmt: skip
    found = await isolation.candidate(h.db, h.services, Ref(CONTACT, row["ref"]))
    assert not isinstance(found, isolation.Refused)
    assert (found.period.start, found.period.end) == (date(2020, 10, 26), date(2020, 11, 8))


async def test_the_receipt_says_when_nobody_works_in_the_contacts_grid(harness: Harness) -> None:
    h = harness
    await h.db.write_one("UPDATE staff SET active = 0 WHERE scope IN ('SQ01', 'sq')")
    await report_case(h)
    await add_new_contact(h)
    receipt = h.texts(WORKER)[-1]
    assert "已通知此人所在网格的网格员" not in receipt
    assert "此人所在网格没有网格员或村（社区）管理员，已报告领导小组安排人员" in receipt
    told = [t for t in h.texts(GROUP) if "新增密接" in t][-1]
    assert "以下密接所在网格没有网格员" in told and "XF-MJ-20201026-0001" in told


async def test_a_match_outside_the_tracers_grids_is_masked_in_the_receipt(
    harness: Harness,
) -> None:
    """The tracer (grid XF01) types a person who is already a contact in SQ01: the receipt
    names the record (masked) without its address, ID or measure."""
    h = harness
    await report_case(h)
    first = await case_id(h)
    known = NewContact(kind="close", last_exposure=date(2020, 10, 25), name="王五",
                       phone="13900001111", id_kind="id", id_number=CONTACT_ID,
                       address="石桥村3组12号", village_id="sq", grid_id="SQ01")  # fmt: skip
    async with h.db.write() as conn:
        await service.add_all(conn, h.services, first, [known], LEADER, "领导", "import")
    await report_case(h)
    await add_new_contact(h)
    receipt = h.texts(WORKER)[-1]
    assert "XF-MJ-20201026-0001" in receipt and "王*" in receipt
    for secret in ("王五", "石桥村3组12号", CONTACT_ID, "1111", "集中隔离医学观察"):
        assert secret not in receipt


def test_the_staff_notice_follows_the_measure(harness: Harness) -> None:
    h = harness
    c = dict(ref="XF-MJ-20201026-0001", name="王五", phone="", id_kind=None, id_number="",
             address="石桥村3组12号", village="石桥村", grid="石桥村第1网格", kind="secondary",
             last_exposure=date(2020, 10, 25), start=date(2020, 10, 26),
             end=date(2020, 11, 8))  # fmt: skip
    texts = {
        measure: h.services.text("zh_CN", "contacts", "staff_notice", c={**c, "measure": measure},
                                 case_ref="XF-BL-20201026-01", status="added", known="", how="",
                                 note="")
        for measure in ("centralized_isolation", "home_observation")
    }  # fmt: skip
    assert "等候安排转运到集中隔离点" in texts["centralized_isolation"]
    assert "转运" not in texts["home_observation"]
    assert "告知居家医学观察的要求" in texts["home_observation"]
    english = h.services.text("en", "contacts", "staff_notice", c={**c,
                              "measure": "home_observation"}, case_ref="XF-BL-20201026-01",
                              status="added", known="", how="", note="")  # fmt: skip
    assert "transfer" not in english


async def test_the_unstaffed_refs_in_the_group_are_capped(harness: Harness) -> None:
    h = harness
    await h.db.write_one("UPDATE staff SET active = 0 WHERE scope IN ('SQ01', 'sq')")
    await report_case(h)
    cid = await case_id(h)
    entries = [NewContact(kind="close", last_exposure=date(2020, 10, 25), name=f"王{n}",
                          phone=f"139{n:08d}", address="石桥村3组", village_id="sq",
                          grid_id="SQ01") for n in range(45)]  # fmt: skip
    async with h.db.write() as conn:
        await service.add_all(conn, h.services, cid, entries, LEADER, "领导", "import")
    await h.drain_outbox()
    told = [t for t in h.texts(GROUP) if "新增密接" in t][-1]
    unstaffed = told.split("请领导小组安排人员：")[1]
    assert unstaffed.count("<code>") == 40 and unstaffed.rstrip().endswith("等45人")


async def test_the_trace_deadline_climbs_until_the_list_is_complete(harness: Harness) -> None:
    h = harness
    await report_case(h)
    cid = await case_id(h)
    item = await h.db.fetchone("SELECT * FROM escalations WHERE subject = ?", (f"trace:{cid}",))
    assert (item["kind"], item["state"]) == ("trace", "open")
    assert datetime.fromisoformat(item["deadline_at"]) == START + timedelta(hours=24)
    # the direct report done: the case's own climb stops, the tracing still owed
    assert await cases.record_direct_report(h.services, cid, "5001160001", LEADER, "领导",
                                            LEADER, "none")  # fmt: skip
    await at(h, 24 * 60 - 5)
    assert not any("密接排查逾期" in t for t in h.texts(WORKER))
    await at(h, 24 * 60)  # the case grid's worker first
    assert any("病例密接排查逾期未完成" in t for t in h.texts(WORKER))
    assert not any("病例密接排查逾期未完成" in t for t in h.texts(VILLAGE_ADMIN))
    await at(h, 25 * 60)  # then the village admins
    assert any("病例密接排查逾期未完成" in t and "已升级至村（社区）" in t
               for t in h.texts(VILLAGE_ADMIN))  # fmt: skip

    await h.press(WORKER, f"v1:mj:{cid}:done")
    assert "密接排查完毕" in answers(h)[-1]
    item = await h.db.fetchone("SELECT state FROM escalations WHERE subject = ?", (f"trace:{cid}",))
    assert item["state"] == "handled"
    await h.drain_outbox()
    assert "病例 XF-BL-20201026-01 密接排查完毕</b>：共 0 人（用户" in h.texts(GROUP)[-1]
    assert "✅ 密接排查完毕" in group_edits(h)[-1]
    before = len(h.texts(GROUP))
    await at(h, 26 * 60)  # the leadership rung is not reached
    assert not any("密接排查" in t for t in h.texts(GROUP)[before:])
    await h.press(WORKER, f"v1:mj:{cid}:done")
    assert "已经标记过" in answers(h)[-1]


async def test_a_ruled_out_case_owes_no_tracing(harness: Harness) -> None:
    h = harness
    await report_case(h)
    cid = await case_id(h)
    async with h.db.write() as conn:
        await conn.execute("UPDATE cases SET confirmation = 'pending' WHERE id = ?", (cid,))
    assert await cases.rule_out(h.services, cid, LEADER, "领导")
    item = await h.db.fetchone("SELECT state FROM escalations WHERE subject = ?", (f"trace:{cid}",))
    assert item["state"] == "handled"


async def test_a_case_ruled_out_while_a_contact_is_being_added_adds_nobody(
    harness: Harness,
) -> None:
    h = harness
    await report_case(h)
    cid = await case_id(h)
    await h.press(WORKER, f"v1:mj:{cid}:add")
    for choose, value in ((True, "新登记人员"), (False, "王五"), (False, "139 0000 1111"),
                          (False, CONTACT_ID), (True, "石桥村"), (True, "石桥村第1网格"),
                          (False, "石桥村3组12号"), (True, "密切接触者"), (True, "昨天"),
                          (False, "同桌吃饭"), (True, "跳过")):  # fmt: skip
        await (h.choose(WORKER, value) if choose else h.text(WORKER, value))
    async with h.db.write() as conn:
        await conn.execute("UPDATE cases SET confirmation = 'pending' WHERE id = ?", (cid,))
    assert await cases.rule_out(h.services, cid, LEADER, "领导")
    await h.choose(WORKER, "确认添加")
    ref = (await h.db.fetchone("SELECT ref FROM cases WHERE id = ?", (cid,)))["ref"]
    assert h.texts(WORKER)[-1] == f"病例 {ref} 已排除，不再添加密接。"
    assert await h.db.fetchone("SELECT 1 FROM contacts") is None
    assert await h.db.fetchone("SELECT 1 FROM case_contacts") is None
    assert await h.db.fetchone("SELECT 1 FROM drafts WHERE user_id = ?", (WORKER,)) is None


async def test_a_worker_of_another_grid_is_refused_and_audited(harness: Harness) -> None:
    h = harness
    await report_case(h)
    cid = await case_id(h)
    for action in ("add", "list", "done"):
        await h.press(OTHER_WORKER, f"v1:mj:{cid}:{action}")
        assert "没有权限" in answers(h)[-1]
    denied = await h.db.fetchall(
        "SELECT action, subject FROM audit WHERE actor = ? AND action LIKE 'denied:%' "
        "ORDER BY id", (OTHER_WORKER,))  # fmt: skip
    assert [tuple(r) for r in denied] == [
        ("denied:contact.add", f"case:{cid}"), ("denied:contact.list", f"case:{cid}"),
        ("denied:contact.done", f"case:{cid}")]  # fmt: skip
    assert await h.db.fetchone("SELECT 1 FROM drafts") is None
    assert (await h.db.fetchone("SELECT traced_at FROM cases"))["traced_at"] is None


async def test_the_list_is_shown_in_private_in_full_and_audited(harness: Harness) -> None:
    h = harness
    await report_case(h)
    cid = await case_id(h)
    await add_new_contact(h)
    await h.press(WORKER, f"v1:mj:{cid}:list")
    listing = h.texts(WORKER)[-1]
    assert "病例 XF-BL-20201026-01 的密接名单：1 人" in listing
    assert "XF-MJ-20201026-0001" in listing and "王五" in listing and "+86 139 0000 1111" in listing
    assert await h.db.fetchone(
        "SELECT 1 FROM audit WHERE action = 'contact.view' AND actor = ?", (WORKER,)
    )


async def test_a_reference_naming_nobody_adds_nothing(harness: Harness) -> None:
    h = harness
    await report_case(h)
    cid = await case_id(h)
    before = len(h.texts(GROUP))
    nobody = [NewContact(kind="close", last_exposure=date(2020, 10, 25), ref=ref)
              for ref in ("XF-MJ-20201026-0009", "XF-20201026-0009")]  # fmt: skip
    async with h.db.write() as conn:
        added = await service.add_all(conn, h.services, cid, nobody, LEADER, "领导", "import")
    assert [o.status for o in added.outcomes] == ["not_found", "not_found"]
    assert added.counts() == {"not_found": 2}
    await h.drain_outbox()
    assert len(h.texts(GROUP)) == before
    assert await h.db.fetchone("SELECT 1 FROM contacts") is None
    tick = await h.db.fetchone(
        "SELECT ticked_at FROM case_checklist WHERE case_id = ? AND item = 'contacts'", (cid,)
    )
    assert tick["ticked_at"] is None
