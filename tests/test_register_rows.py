"""The registers' rows (storage/registers.py) on data made through the real flows: known
answers written by hand, one row per person, the tipster never in a tip's row, the monitoring
temperatures per day, the village scope, and every row's keys exactly FIELDS[register]."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bot.actions import isolation
from bot.config import Config
from bot.domain.isolation import parse_ref
from bot.domain.registers import CODES, FIELDS, REGISTERS
from bot.runtime import registers as writer
from bot.runtime.clock import ManualClock
from storage import arrivals as reports
from storage import registers, visits
from storage.db import open_read
from tests.conftest import SHANGHAI
from tests.harness import Harness
from tests.staff_helpers import RESIDENT, WORKER_SQ01, WORKER_XF01, seed_report, seed_visit
from tests.test_arrival_companions import LI_ID, WANG_ID
from tests.test_arrival_flow import ID_NUMBER, answer_to_summary, submit
from tests.test_cases import ID_NUMBER as CASE_ID
from tests.test_cases import report_case
from tests.test_checkins import answer, at, monitored
from tests.test_contacts import CONTACT_ID, add_new_contact
from tests.test_isolation import SITES
from tests.test_tips import TIPSTER, TIPSTER_NAME, send_tip

NAMES = {
    "village:xf": "先锋社区",
    "grid:XF01": "第1网格",
    "category:sanfan": "三返",
    "risk:low": "低风险",
    "measure:self_monitoring": "自我健康监测",
    "measure:home_monitoring": "居家健康监测",
    "transport:train": "火车/高铁",
    "health_code:green": "绿码",
    "relation:self": "本人",
    "channel:resident": "自主申报",
    "review:pending": "待核实",
    "person:main": "本人",
    "person:companion": "同行",
    "sex:male": "男",
    "sex:female": "女",
    "id_kind:id": "身份证",
    "flag:yes": "是",
    "flag:no": "否",
    "checkin:missed": "未报",
    "test_result:negative": "阴性",
    "monitoring_state:active": "监测中",
}


def read(h: Harness, register: str, **given: Any) -> list[dict[str, Any]]:
    scope: dict[str, Any] = {"start": None, "end": None, "villages": None, "tz": SHANGHAI,
                             "names": NAMES, **given}  # fmt: skip
    assert h.db.path is not None
    conn = open_read(h.db.path, h.db.cipher)
    try:
        return list(registers.rows(conn, h.db.cipher, register, **scope))
    finally:
        conn.close()


def values(rows: list[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        for value in row.values():
            yield from map(str, value.values()) if isinstance(value, dict) else (str(value),)


async def test_a_report_with_two_companions_is_three_rows(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, companions=[("李四", LI_ID, "13900001111"),
                                           ("王五", WANG_ID, None)])  # fmt: skip
    await submit(h)
    rows = read(h, "arrivals")
    assert all(set(row) == FIELDS["arrivals"] for row in rows)
    common = {
        "ref": "XF-20201026-0001", "address": "先锋街12号2单元301", "village": "先锋社区",
        "grid": "第1网格", "relation": "本人", "channel": "自主申报", "unit": None,
        "origin": "湖北省武汉市江汉区",
        "travel": "", "arrival_date": date(2020, 10, 25), "transport": "火车/高铁",
        "trip": "G1234", "category": "三返", "risk": "低风险", "alert": "否",
        "measure": "自我健康监测", "measure_start": date(2020, 10, 25),
        "measure_end": date(2020, 11, 7), "review": "待核实",
        "registered_at": datetime(2020, 10, 26, 2, 0, tzinfo=UTC),
        "updated_at": datetime(2020, 10, 26, 2, 0, tzinfo=UTC), "id_kind": "身份证",
    }  # fmt: skip
    assert rows[0] == {
        **common, "seq": 1, "name": "张三", "sex": "女", "id_number": ID_NUMBER,
        "phone": "13812345678", "companion": "本人", "companions": "李四、王五",
        "health_code": "绿码", "test_result": None, "temperature": 36.5, "symptoms": "",
    }  # fmt: skip
    # 与填报人关系 is the reporter's own: a companion is told apart by 同行, not 本人
    companion = {"health_code": None, "test_result": None, "temperature": None,
                 "symptoms": None, "companion": "同行", "relation": None}  # fmt: skip
    assert rows[1] == {
        **common, **companion, "seq": 2, "name": "李四", "sex": "男", "id_number": LI_ID,
        "phone": "13900001111", "companions": "张三、王五",
    }  # fmt: skip
    assert rows[2] == {
        **common, **companion, "seq": 3, "name": "王五", "sex": "女", "id_number": WANG_ID,
        "phone": None, "companions": "张三、李四",
    }  # fmt: skip


async def test_a_companion_with_his_own_report_is_one_row(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, companions=[("李四", LI_ID, "13900001111"),
                                           ("王五", WANG_ID, None)])  # fmt: skip
    await submit(h)
    await seed_report(h, name="李四", phone="13900001111", id_number=LI_ID)
    rows = read(h, "arrivals")
    assert [(r["seq"], r["name"], r["ref"], r["companion"]) for r in rows] == [
        (1, "张三", "XF-20201026-0001", "本人"),
        (2, "王五", "XF-20201026-0001", "同行"),
        (3, "李四", "XF-20201026-0002", "本人"),
    ]
    assert rows[1]["companions"] == "张三、李四"  # he still came with them


async def test_a_companion_whose_own_report_was_withdrawn_is_listed_again(
    harness: Harness,
) -> None:
    """His own report withdrawn, he is still someone who arrived: the report he came with
    lists him again (never nowhere)."""
    h = harness
    await answer_to_summary(h, companions=[("李四", LI_ID, "13900001111")])
    await submit(h)
    own = await seed_report(h, name="李四", phone="13900001111", id_number=LI_ID)
    async with h.db.write() as conn:  # home monitoring: withdrawn once a worker confirms
        assert await reports.withdraw(conn, own, RESIDENT, h.clock.now())
    rows = read(h, "arrivals")
    assert [(r["seq"], r["name"], r["ref"], r["companion"]) for r in rows] == [
        (1, "张三", "XF-20201026-0001", "本人"),
        (2, "李四", "XF-20201026-0001", "同行"),
    ]


async def test_arrivals_by_arrival_date_and_village(harness: Harness) -> None:
    h = harness
    await seed_report(h, name="李四", id_number=LI_ID)  # arrived 25 Oct, 先锋社区
    await seed_report(h, "SQ01", "sq", name="王五", phone="13900002222", id_number=WANG_ID)
    day = lambda d: datetime(2020, 10, d, tzinfo=SHANGHAI)  # noqa: E731
    assert [r["name"] for r in read(h, "arrivals")] == ["李四", "王五"]
    assert [r["name"] for r in read(h, "arrivals", villages=frozenset({"sq"}))] == ["王五"]
    assert read(h, "arrivals", villages=frozenset()) == []
    assert len(read(h, "arrivals", start=day(25), end=day(26))) == 2
    assert read(h, "arrivals", start=day(26)) == []
    assert read(h, "arrivals", end=day(25)) == []
    # a range from or to the middle of a day takes that day's arrivals (a date has no hour)
    noon = datetime(2020, 10, 25, 12, tzinfo=SHANGHAI)
    assert len(read(h, "arrivals", end=noon)) == len(read(h, "arrivals", start=noon)) == 2


async def test_a_tip_never_carries_the_tipster(harness: Harness) -> None:
    h = harness
    await send_tip(h, phone="13700001111")
    (row,) = read(h, "tips")
    assert set(row) == FIELDS["tips"]
    assert (row["seq"], row["kind"], row["person_name"], row["village"], row["grid"]) == (
        1, "unregistered", "李四", "先锋社区", "第1网格")  # fmt: skip
    assert row["received_at"] == datetime(2020, 10, 26, 2, 0, tzinfo=UTC)
    tipster = await h.db.fetchone("SELECT tipster_chat_id, tipster_user_id FROM tips")
    seen = list(values([row]))
    for secret in (str(TIPSTER), TIPSTER_NAME, str(tipster[0]), str(tipster[1])):
        assert not any(secret in value for value in seen)


async def checked_in(h: Harness) -> None:
    """Monitored from 25 Oct: 36.8 on the 26th at 20:00; 38.0 on the 27th at 09:00, and that
    evening's check-in missed."""
    await monitored(h)
    await at(h, 26, 20)
    await answer(h, "36.8")
    await at(h, 27, 9)
    await answer(h, "38.0")
    for hour in (20, 21, 22):  # not answered: reminded, then marked missed
        await at(h, 27, hour)


async def test_monitoring_temperatures_per_day(harness: Harness) -> None:
    h = harness
    await checked_in(h)
    days = [date(2020, 10, d) for d in (25, 26, 27, 28)]
    (row,) = read(h, "monitoring", days=days)
    assert set(row) == FIELDS["monitoring"]
    assert row["temperatures"] == {days[0]: "", days[1]: "36.8", days[2]: "38.0 / 未报",
                                   days[3]: ""}  # fmt: skip
    expected = {
        "seq": 1, "name": "张三", "sex": "女", "id_kind": "身份证", "id_number": ID_NUMBER,
        "phone": "13812345678", "address": "先锋街12号2单元301", "village": "先锋社区",
        "grid": "第1网格", "ref": "XF-20201026-0001", "measure": "居家健康监测",
        "start_date": date(2020, 10, 25), "end_date": date(2020, 10, 31),
        "state": "监测中", "tests": "2020-10-25 阴性; 2020-10-31 planned", "missed": 1,
        "fevers": 1, "note": None,
    }  # fmt: skip
    assert {k: row[k] for k in expected} == expected
    assert row["worker"] == "30001"  # the grid's worker: by name once known
    november = datetime(2020, 11, 1, tzinfo=SHANGHAI)
    assert read(h, "monitoring", start=november) == []  # ended on 31 Oct
    assert len(read(h, "monitoring", end=datetime(2020, 10, 25, 1, tzinfo=SHANGHAI))) == 1


async def test_visits_are_scoped_by_their_grid(harness: Harness) -> None:
    h = harness
    await seed_visit(h)
    grids = {"XF01": "xf", "SQ01": "sq"}
    (row,) = read(h, "visits", grid_villages=grids)
    assert set(row) == FIELDS["visits"]
    assert {k: row[k] for k in ("seq", "village", "grid", "address", "people_present",
                                "temperatures", "fever", "arrivals", "refused")} == {
        "seq": 1, "village": "先锋社区", "grid": "第1网格", "address": "先锋街1号",
        "people_present": 2, "temperatures": "36.5", "fever": "否", "arrivals": "是",
        "refused": "否"}  # fmt: skip
    assert read(h, "visits", villages=frozenset({"sq"}), grid_villages=grids) == []
    assert read(h, "visits", villages=frozenset({"xf"})) == []  # grid not placed: left out


async def test_the_audit_is_the_whole_towns(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    await submit(h)  # audited: report.create
    async with h.db.write() as conn:
        await conn.execute(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            ("2020-10-26T02:00:00+00:00", 30001, "export", "arrivals", '{"rows": 3}'),
        )
    actions = {"audit_action:export": "导出台账", "audit_action:report.create": "新登记来返人员"}
    rows = read(h, "audit", names={**NAMES, **actions})
    assert rows[-1] == {
        "seq": len(rows), "at": datetime(2020, 10, 26, 2, tzinfo=UTC), "actor": 30001,
        "actor_name": None, "roles": "worker", "action": "导出台账",
        "subject": "arrivals", "ref": None, "detail": '{"rows": 3}',
    }  # fmt: skip
    created = rows[0]
    assert (created["action"], created["subject"], created["ref"]) == (
        "新登记来返人员", "report:1", "XF-20201026-0001")  # fmt: skip
    assert read(h, "audit")[0]["action"] == "report.create"  # no words given: as stored
    with pytest.raises(ValueError, match="whole town"):
        read(h, "audit", villages=frozenset({"xf"}))


@pytest.mark.parametrize("register", REGISTERS)
async def test_every_register_reads_with_its_fields(harness: Harness, register: str) -> None:
    h = harness
    await answer_to_summary(h, code="yellow", companions=[("李四", LI_ID, None)])
    await submit(h)
    await send_tip(h)
    await seed_visit(h)
    async with h.db.write() as conn:
        await conn.execute(
            "INSERT INTO audit (at, actor, action) VALUES ('2020-10-26T02:00:00+00:00', 1, 'x')"
        )
    rows = read(h, register, days=[date(2020, 10, 26)], grid_villages={"XF01": "xf"})
    assert all(set(row) == FIELDS[register] for row in rows)
    assert [row["seq"] for row in rows] == list(range(1, len(rows) + 1))
    if register in ("arrivals", "monitoring", "tips", "visits", "units", "audit"):
        assert rows


@pytest.fixture
async def chain(config: Config, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Harness]:
    """A town with an active isolation site (the example's are in reserve)."""
    h = await Harness.start(config.model_copy(update={"sites": SITES}),
                            tmp_path / "paicha.sqlite3", clock)  # fmt: skip
    yield h
    await h.stop()


async def test_a_case_its_contact_and_the_contacts_stay(chain: Harness) -> None:
    h = chain
    await report_case(h)  # 10:00, a suspected case in 先锋社区
    await add_new_contact(h)  # 王五 of 石桥村, close contact
    contact_ref = "XF-MJ-20201026-0001"
    assigned = await isolation.assign(h.services, parse_ref(contact_ref), "GA", None,
                                      WORKER_SQ01)  # fmt: skip
    assert assigned is not None and not isinstance(assigned, isolation.Refused)
    (case,) = read(h, "cases")
    assert set(case) == FIELDS["cases"]
    assert {k: case[k] for k in ("seq", "name", "phone", "id_number", "village", "address",
                                 "status", "state", "kind", "discovered_at", "deadline_at",
                                 "reported_at", "within_2h", "contacts")} == {
        "seq": 1, "name": "张三丰", "phone": "13812345678", "id_number": CASE_ID,
        "village": "先锋社区", "address": "幸福小区3栋2单元501", "status": "已居家隔离",
        "state": "open", "kind": "suspected",
        "discovered_at": datetime(2020, 10, 26, 2, tzinfo=UTC),
        "deadline_at": datetime(2020, 10, 26, 4, tzinfo=UTC), "reported_at": None,
        "within_2h": None, "contacts": 1}  # fmt: skip
    (contact,) = read(h, "contacts")
    assert set(contact) == FIELDS["contacts"]
    assert {k: contact[k] for k in ("ref", "name", "phone", "id_number", "village", "grid",
                                    "kind", "cases", "case_names", "exposure", "last_exposure",
                                    "measure", "measure_start", "measure_end", "site",
                                    "room")} == {
        "ref": contact_ref, "name": "王五", "phone": "13900001111", "id_number": CONTACT_ID,
        "village": "sq", "grid": "SQ01", "kind": "close", "cases": case["ref"],
        "case_names": "张三丰",
        "exposure": "同桌吃饭", "last_exposure": date(2020, 10, 25),
        "measure": "centralized_isolation", "measure_start": date(2020, 10, 26),
        "measure_end": date(2020, 11, 8), "site": "甲隔离点", "room": "1"}  # fmt: skip
    (stay,) = read(h, "isolation")
    assert set(stay) == FIELDS["isolation"]
    assert {k: stay[k] for k in ("ref", "name", "id_number", "person_kind", "site", "room",
                                 "start_date", "end_date", "state", "village")} == {
        "ref": contact_ref, "name": "王五", "id_number": CONTACT_ID, "person_kind": "contact",
        "site": "甲隔离点", "room": "1", "start_date": date(2020, 10, 26),
        "end_date": date(2020, 11, 8), "state": "assigned", "village": "sq"}  # fmt: skip
    assert stay["tests"].startswith("2020-10-26 planned")
    # each in its own village
    assert read(h, "cases", villages=frozenset({"sq"})) == []
    assert read(h, "contacts", villages=frozenset({"xf"})) == []
    assert read(h, "isolation", villages=frozenset({"xf"})) == []
    assert len(read(h, "isolation", villages=frozenset({"sq"}))) == 1
    # 石桥村's admin reads its contact, not the name of 先锋社区's case (its ref says which)
    (theirs,) = read(h, "contacts", villages=frozenset({"sq"}))
    assert (theirs["name"], theirs["cases"], theirs["case_names"]) == ("王五", case["ref"], "张**")
    (both,) = read(h, "contacts", villages=frozenset({"sq", "xf"}))
    assert both["case_names"] == "张三丰"
    # by when: the case discovered at 10:00, the stay from 26 Oct
    later = datetime(2020, 10, 26, 10, 1, tzinfo=SHANGHAI)
    assert read(h, "cases", start=later) == [] and read(h, "contacts", end=later) != []
    assert read(h, "isolation", start=datetime(2020, 11, 9, tzinfo=SHANGHAI)) == []


async def test_a_unit_with_its_latest_report(harness: Harness) -> None:
    h = harness
    rows = read(h, "units")
    assert rows and all(set(row) == FIELDS["units"] for row in rows)
    assert all(row["day"] is None for row in rows)  # nothing filed yet
    async with h.db.write() as conn:
        await conn.executemany(
            """INSERT INTO unit_reports (unit_id, day, slot, state, present, new_arrivals,
                   key_region, symptomatic, due_at, deadline_at, filed_at)
               VALUES ('xfhotel', ?, 1, 'filed', ?, 1, 0, 0, ?, ?, ?)""",
            [(day, present, "2020-10-25T01:00:00+00:00", "2020-10-25T02:00:00+00:00",
              f"{day}T01:30:00+00:00") for day, present in (("2020-10-24", 10),
                                                            ("2020-10-25", 12))],
        )  # fmt: skip
    (hotel,) = [r for r in read(h, "units") if r["unit_id"] == "xfhotel"]
    assert (hotel["day"], hotel["present"], hotel["report_state"]) == (
        date(2020, 10, 25), 12, "filed")  # fmt: skip
    until = datetime(2020, 10, 25, tzinfo=SHANGHAI)
    (hotel,) = [r for r in read(h, "units", end=until) if r["unit_id"] == "xfhotel"]
    assert (hotel["day"], hotel["present"]) == (date(2020, 10, 24), 10)
    assert read(h, "units", villages=frozenset()) == []


async def test_the_monitoring_register_as_read(harness: Harness, tmp_path: Path) -> None:
    """The rows through the shipped layout and the writer, in the words of the templates: a
    column per day, the ID masked for a reader not entitled to it."""
    h = harness
    await checked_in(h)
    days = [date(2020, 10, d) for d in (26, 27)]
    names = {f"{kind}:{code}": h.services.text("zh_CN", "registers", "code", kind=kind, code=code)
             for kind, codes in CODES.items() for code in codes}  # fmt: skip
    rows = read(h, "monitoring", days=days, names={**names, "village:xf": "先锋社区"})
    heading = writer.Heading("先锋镇", "先锋镇疫情防控工作领导小组办公室", "王主任",
                             h.clock.now(), days[0], days[-1])  # fmt: skip
    written = writer.write_xlsx(
        tmp_path / "monitoring.xlsx", writer.layouts(None)["monitoring"], rows, heading=heading,
        words=writer.Words(h.services.text, "zh_CN"), tz=SHANGHAI, entitled=False, days=days,
    )  # fmt: skip
    sheet = openpyxl.load_workbook(written.paths[0]).active
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = next(i for i, row in enumerate(table) if row[0] == "序号")
    line = dict(zip(table[header], table[header + 1], strict=True))
    who = (line["姓名"], line["性别"], line["身份证号（护照号）"], line["联系电话"])
    assert who == ("张*", "女", "1101**********002X", "138****5678")
    assert (line["10月26日"], line["10月27日"]) == ("36.8", "38.0 / 未报")
    assert (line["监测方式"], line["监测状态"], line["所属村（社区）"]) == (
        "居家健康监测", "监测中", "先锋社区")  # fmt: skip
    assert line["核酸检测"] == "2020-10-25 阴性; 2020-10-31 待采样"


async def test_the_export_connection_only_reads(harness: Harness) -> None:
    h = harness
    await seed_report(h)
    assert h.db.path is not None
    conn = open_read(h.db.path, h.db.cipher)
    try:
        row = conn.execute("SELECT phone, id_number FROM persons").fetchone()
        assert tuple(row) == ("13912345678", "11010519491231002X")  # opened, as the bot reads
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("DELETE FROM persons")
    finally:
        conn.close()


@pytest.mark.parametrize("name", ["town?.db", "town#1.db", "town%3F.db", "镇 #?%.db"])
def test_the_export_connection_opens_the_file_named_whatever_it_is_called(
    harness: Harness, tmp_path: Path, name: str
) -> None:
    """A ``?``, ``#`` or ``%`` in the database's path opens that very file, read only —
    never another one (created, writable) named by the path cut at it."""
    folder = tmp_path / "export"
    folder.mkdir()
    path = folder / name
    with sqlite3.connect(path) as made:
        made.execute("CREATE TABLE t (x)")
        made.execute("INSERT INTO t VALUES ('here')")
    made.close()
    conn = open_read(path, harness.db.cipher)
    try:
        assert tuple(conn.execute("SELECT x FROM t").fetchone()) == ("here",)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("CREATE TABLE u (y)")
    finally:
        conn.close()
    assert [p.name for p in folder.iterdir()] == [name]


async def test_how_each_arrival_came_in(harness: Harness) -> None:
    h = harness
    visit_id = await seed_visit(h)
    at_door = await seed_report(h, name="李四", id_number=LI_ID)
    await seed_report(h, name="王五", phone="13900002222", id_number=WANG_ID)
    async with h.db.write() as conn:
        await visits.link_report(conn, visit_id, at_door, WORKER_XF01)
    rows = read(h, "arrivals", names={**NAMES, "channel:visit": "入户排查登记"})
    assert [(r["name"], r["channel"]) for r in rows] == [("李四", "入户排查登记"),
                                                         ("王五", "自主申报")]  # fmt: skip
    (visit,) = read(h, "visits")
    assert visit["reports"] == rows[0]["ref"]
