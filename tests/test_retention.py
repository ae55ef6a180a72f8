"""Retention (issue 11): the daily purge of the personal data of people released or withdrawn
``retention.days`` (30) ago — names, phones, ID numbers, addresses, photos, the messages
about them — while the daily report's figures stay; closed tips lose their tipster once
told."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime

import pytest

from bot.actions import digest, retention
from bot.config import ConfigError, parse_config
from bot.runtime.timers import fire_due
from tests.conftest import ROOT, SHANGHAI
from tests.harness import Harness
from tests.staff_helpers import WORKER_XF01
from tests.test_arrival_companions import LI_ID
from tests.test_arrival_flow import ID_NUMBER, RESIDENT, answer_to_summary, submit
from tests.test_arrival_my import withdraw
from tests.test_cases import report_case
from tests.test_checkins import at
from tests.test_tips import TIPSTER, press_tip, send_tip

# What the arrivals below tell about their people: none of it may survive the purge.
PERSONAL = ("张三", "13812345678", ID_NUMBER, "先锋街12号", "李四", LI_ID, "13900001111",
            "cert-photo")  # fmt: skip


async def found(h: Harness, needles: tuple[str, ...] = PERSONAL) -> set[str]:
    """``table.column: needle`` for every stored text holding one of ``needles``."""
    hits = set()
    for (table,) in await h.db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ):
        for row in await h.db.fetchall(f"SELECT * FROM {table}"):
            for column in row.keys():  # noqa: SIM118 (a Row iterates its values)
                value = row[column]
                hits |= {f"{table}.{column}: {n}" for n in needles
                         if isinstance(value, str) and n in value}  # fmt: skip
    return hits


async def on_day(h: Harness, month: int, day: int) -> retention.Purged | None:
    """The clock at 03:00 of that local day (2020), the tick's purge run."""
    h.clock.set(datetime(2020, month, day, 3, 0, tzinfo=SHANGHAI))
    await fire_due(h.services)
    await h.drain_outbox()
    return await retention.run(h.services)


async def released_family(h: Harness) -> int:
    """A yellow-code arrival with a companion: home monitoring 25–31 Oct, both released at
    midnight into 1 November (local). Returns the report id."""
    await answer_to_summary(h, code="yellow", companions=[("李四", LI_ID, "13900001111")])
    await submit(h)
    await fire_due(h.services)
    await h.drain_outbox()
    await at(h, 1, 0, 0)  # 1 November 00:00: the monitoring ends, both released
    states = await h.db.fetchall("SELECT state FROM monitoring")
    assert [s["state"] for s in states] == ["released", "released"]
    return (await h.db.fetchone("SELECT id FROM reports"))["id"]


async def daily_report(h: Harness) -> str:
    """The daily report's text for 26 October – 2 November, as of 3 December."""
    since = datetime(2020, 10, 26, tzinfo=SHANGHAI)
    until = datetime(2020, 11, 2, tzinfo=SHANGHAI)
    now = datetime(2020, 12, 3, tzinfo=SHANGHAI)
    built = await digest.build(h.services, h.db.conn, since=since, until=until, now=now)
    return built.text + repr(built.series)


async def test_released_29_days_ago_kept_31_days_ago_purged(harness: Harness) -> None:
    h = harness
    report_id = await released_family(h)
    before = await daily_report(h)
    assert "新增来返人员：<b>2</b> 人" in before

    assert await on_day(h, 11, 30) == retention.Purged()  # 29 days after the release
    assert await found(h)  # everything still there
    assert await on_day(h, 11, 30) is None  # once a day: the next tick only reads

    purged = await on_day(h, 12, 2)  # 31 days after
    assert purged == retention.Purged(reports=1, people=2)
    assert await found(h) == set()  # no name, phone, ID, address left anywhere
    people = await h.db.fetchall("SELECT name, phone, id_kind, id_number FROM persons")
    assert [tuple(p) for p in people] == [("", None, "id", None), ("", None, "id", None)]
    keys = await h.db.fetchall("SELECT phone_key, id_number_key FROM persons")  # blind indexes
    assert [tuple(k) for k in keys] == [(None, None), (None, None)]
    report = await h.db.fetchone("SELECT * FROM reports WHERE id = ?", (report_id,))
    assert report["purged_at"] is not None
    assert (report["village_id"], report["grid_id"], report["risk"], report["measure_kind"],
            report["arrival_date"]) == ("xf", "XF01", "yellow_code", "home_monitoring",
                                        "2020-10-25")  # fmt: skip
    data = json.loads(report["data"])
    assert data["origin"]["province"] == "湖北省" and data["people"] == [{"id_kind": "id"}]
    assert await daily_report(h) == before  # the figures of past days are unchanged
    assert await on_day(h, 12, 3) == retention.Purged()  # nothing twice


async def test_withdrawn_report_is_purged_after_the_retention_time(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)  # low risk: no monitoring
    await submit(h)
    report_id = (await h.db.fetchone("SELECT id FROM reports"))["id"]
    await withdraw(h, report_id)
    assert (await h.db.fetchone("SELECT state FROM reports"))["state"] == "withdrawn"
    # withdrawn on 26 October: its measure would run to 8 November, but it ended now
    assert await on_day(h, 11, 24) == retention.Purged()
    assert await found(h, ("张三", ID_NUMBER))
    assert await on_day(h, 11, 26) == retention.Purged(reports=1, people=1)
    assert await found(h) == set()


async def test_people_still_under_a_measure_are_never_purged(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, code="yellow")
    await submit(h)
    await h.db.write_one("UPDATE monitoring SET end_date = '2021-12-31'")  # extended far
    await h.db.write_one("UPDATE reports SET measure_end = '2020-10-31'")
    assert await on_day(h, 12, 30) == retention.Purged()
    assert await found(h, ("张三", ID_NUMBER)) != set()


async def test_a_pending_certificate_keeps_the_report(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, category="quarantine_done", certificate="cert-photo")
    await submit(h)
    row = await h.db.fetchone("SELECT certificate, certificate_photo FROM reports")
    assert tuple(row) == ("pending", "cert-photo")
    await on_day(h, 11, 8)  # the isolation (to 7 November) ends: released
    assert (await h.db.fetchone("SELECT state FROM monitoring"))[0] == "released"
    assert await on_day(h, 12, 10) == retention.Purged()  # the certificate was never checked
    await h.db.write_one("UPDATE reports SET certificate = 'checked'")
    assert await on_day(h, 12, 11) == retention.Purged(reports=1, people=1)
    assert await found(h) == set()  # the certificate photo's file id too


async def test_a_closed_tip_loses_its_tipster_once_told(harness: Harness) -> None:
    h = harness
    await send_tip(h)
    await h.drain_outbox()
    await press_tip(h, WORKER_XF01, "开始核查")
    await press_tip(h, WORKER_XF01, "情况不属实")
    await h.text(WORKER_XF01, "核实为本地常住人员，未外出")
    tip = await h.db.fetchone("SELECT tipster_user_id, tipster_chat_id FROM tips")
    assert tuple(tip) == (TIPSTER, TIPSTER)
    # today's run: the closing message still waits to go
    assert await retention.run(h.services) == retention.Purged()
    assert (await h.db.fetchone("SELECT tipster_user_id FROM tips"))[0] == TIPSTER

    assert await on_day(h, 10, 27) == retention.Purged(tipsters=1)  # sent meanwhile
    assert "情况不属实" in h.texts(TIPSTER)[-1]
    tip = await h.db.fetchone("SELECT tipster_user_id, tipster_chat_id FROM tips")
    assert tuple(tip) == (0, 0)
    sent = await h.db.fetchall("SELECT chat_id FROM outbox WHERE chat_id = ?", (TIPSTER,))
    assert sent == []


async def test_an_open_tip_keeps_its_tipster(harness: Harness) -> None:
    h = harness
    await send_tip(h)
    assert await on_day(h, 12, 30) == retention.Purged()
    assert (await h.db.fetchone("SELECT tipster_user_id FROM tips"))[0] == TIPSTER
    kept = {"tips.person_name: 李四", "tips.address: 先锋街12号2单元301"}
    assert await found(h, TIPPED) >= kept


async def test_my_reports_after_the_purge(harness: Harness) -> None:
    h = harness
    await released_family(h)
    await on_day(h, 12, 2)
    calls = await h.text(RESIDENT, "/my")
    text = calls[-1].params["text"]
    assert "XF-20201026-0001" in text and "张三" not in text


def test_retention_days_in_the_config() -> None:
    data = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    assert parse_config(data, ROOT).retention.days == 30
    del data["retention"]
    assert parse_config(data, ROOT).retention.days == 30  # the default
    for bad in (0, 3651, "30"):
        data["retention"] = {"days": bad}
        with pytest.raises(ConfigError, match=r"retention\.days"):
            parse_config(data, ROOT)


async def test_a_companion_watched_by_his_own_report_holds_the_first(harness: Harness) -> None:
    """Li Si, a companion on report 1, reported himself (report 2): his entry on report 1 is
    stopped, covered by report 2, and would resume if report 2's monitoring were shortened;
    report 1 keeps its data while report 2 still monitors him."""
    h = harness
    await released_family(h)
    own = await h.db.fetchone("SELECT * FROM reports")
    await h.db.write_one(
        """INSERT INTO reports (ref, draft_token, reporter_user_id, reporter_chat_id, locale,
               relation, village_id, grid_id, address, arrival_date, category, risk, alert,
               measure_kind, measure_start, measure_end, data, created_at, updated_at)
           SELECT 'XF-2', 'other-draft', 1, 1, locale, relation, village_id, grid_id, address,
               arrival_date, category, risk, alert, measure_kind, measure_start, '2021-01-31',
               '{}', created_at, updated_at FROM reports WHERE id = ?""",
        (own["id"],),
    )
    await h.db.write_one(
        """INSERT INTO monitoring (report_id, person_idx, chat_id, locale, grid_id, kind,
               start_date, end_date, state, created_at, updated_at)
           VALUES (2, 0, 1, 'zh_CN', 'XF01', 'home_monitoring', '2020-11-01', '2021-01-31',
                   'active', '2020-11-01T00:00:00+00:00', '2020-11-01T00:00:00+00:00')"""
    )
    await h.db.write_one(
        "UPDATE monitoring SET state = 'stopped', covered_by = 2 WHERE report_id = 1 AND id = 2"
    )
    assert await on_day(h, 12, 2) == retention.Purged()  # report 2 still watches him
    await h.db.write_one("UPDATE monitoring SET state = 'released' WHERE report_id = 2")
    assert await on_day(h, 12, 3) == retention.Purged(reports=1, people=2)


async def test_earlier_versions_and_typed_notes_are_purged_too(harness: Harness) -> None:
    h = harness
    report_id = await released_family(h)
    people = [{"name": "张三", "phone": "13812345678", "id_kind": "id", "id_number": ID_NUMBER}]
    data = {"name": "张三", "address": "先锋街12号", "origin": {"province": "湖北省"},
            "people": [{"name": "李四", "id_number": LI_ID, "id_kind": "id"}]}  # fmt: skip
    async with h.db.write() as conn:
        await conn.execute(
            """INSERT INTO report_history (report_id, version, data, persons, saved_at)
               VALUES (?, 0, ?, ?, '2020-10-26T02:00:00+00:00')""",
            (
                report_id,
                json.dumps(data, ensure_ascii=False),
                json.dumps(people, ensure_ascii=False),
            ),
        )
        await conn.execute(
            """INSERT INTO audit (at, actor, action, subject, detail)
               VALUES ('2020-10-27T02:00:00+00:00', 30001, 'monitoring.stop', 'monitoring:1',
                       '张三已去外地')"""
        )
    await on_day(h, 12, 2)
    assert await found(h) == set()
    row = await h.db.fetchone("SELECT data, persons FROM report_history")
    assert json.loads(row["data"]) == {"origin": {"province": "湖北省"},
                                       "people": [{"id_kind": "id"}]}  # fmt: skip
    assert json.loads(row["persons"]) == [{"id_kind": "id"}]
    audit = await h.db.fetchone("SELECT actor, action, detail FROM audit WHERE actor = 30001")
    assert tuple(audit) == (30001, "monitoring.stop", None)  # who did what stays


# What a tip below tells about the person tipped about, and what staff typed about them.
TIPPED = ("李四", "13900001111", "先锋街12号2单元301")
NOTES = ("李四发烧在家", "李四核实为本地常住人员")


async def closed_tip(h: Harness) -> int:
    """A tip about 李四, escalated and closed as unfounded on 26 October with typed notes
    naming him, the tipster told. Returns the tip's id."""
    await send_tip(h, phone="13900001111")
    await h.drain_outbox()
    await press_tip(h, WORKER_XF01, "上报领导小组")
    await h.text(WORKER_XF01, NOTES[0])
    await press_tip(h, WORKER_XF01, "开始核查")
    await press_tip(h, WORKER_XF01, "情况不属实")
    await h.text(WORKER_XF01, NOTES[1])
    await h.drain_outbox()
    tip = await h.db.fetchone("SELECT id, state, handled_at FROM tips")
    assert tip["state"] == "closed"
    return tip["id"]


async def test_a_closed_tip_loses_the_person_it_named_after_the_retention_time(
    harness: Harness,
) -> None:
    h = harness
    tip_id = await closed_tip(h)
    assert {hit.split(":")[0] for hit in await found(h, TIPPED + NOTES)} >= {
        "tips.person_name", "tips.person_phone", "tips.address", "audit.detail",
        "tip_actions.note", "outbox.text"}  # fmt: skip
    before = await daily_report(h)

    # 29 days after it was closed: only the tipster (told long ago) goes
    assert await on_day(h, 11, 25) == retention.Purged(tipsters=1)
    assert await found(h, TIPPED + NOTES)
    assert await on_day(h, 11, 27) == retention.Purged(tips=1)  # 31 days after
    assert await found(h, TIPPED + NOTES) == set()  # the row, its notes, its messages
    tip = await h.db.fetchone("SELECT * FROM tips WHERE id = ?", (tip_id,))
    assert [tip[c] for c in ("person_name", "person_phone", "description", "address",
                             "latitude", "longitude", "photo_file_id")] == [None] * 7  # fmt: skip
    assert (tip["kind"], tip["village_id"], tip["grid_id"], tip["state"], tip["outcome"]) == (
        "unregistered", "xf", "XF01", "closed", "unfounded")  # fmt: skip
    assert tip["created_at"] and tip["handled_at"] and tip["purged_at"]
    notes = await h.db.fetchall("SELECT action, detail FROM audit WHERE subject = ?",
                                (f"tip:{tip_id}",))  # fmt: skip
    assert {n["action"] for n in notes} >= {"tip.escalated", "tip.unfounded"}  # who did what
    assert await daily_report(h) == before  # the figures are unchanged
    assert await on_day(h, 11, 28) == retention.Purged()  # nothing twice


async def test_an_open_tip_keeps_the_person_it_named(harness: Harness) -> None:
    h = harness
    await send_tip(h, phone="13900001111")
    await h.drain_outbox()
    await press_tip(h, WORKER_XF01, "开始核查")
    assert await on_day(h, 12, 30) == retention.Purged()
    assert (await h.db.fetchone("SELECT person_name FROM tips"))[0] == "李四"


# What the case below tells about its person (no arrival report: a newly found person).
CASE_PERSON = ("张三丰", "13812345678", ID_NUMBER, "幸福小区3栋2单元501")


async def test_a_closed_case_without_a_report_is_purged_an_open_one_kept(
    harness: Harness,
) -> None:
    h = harness
    await report_case(h, WORKER_XF01)
    closed_id = (await h.db.fetchone("SELECT id, report_id FROM cases"))["id"]
    await h.db.write_one(  # another, still open, about someone else
        """INSERT INTO cases (ref, draft_token, kind, person_name, village_id, grid_id, address,
               latitude, longitude, status, reported_by, created_at, deadline_at)
           SELECT 'XF-BL-2', 'other', kind, '王五', village_id, grid_id, '先锋街8号',
               latitude, longitude, status, reported_by, created_at, deadline_at FROM cases""",
    )
    open_id = (await h.db.fetchone("SELECT id FROM cases WHERE ref = 'XF-BL-2'"))["id"]
    await h.db.write_one(  # ruled out (how a case closes: storage/cases.py rule_out)
        """UPDATE cases SET state = 'closed', confirmation = 'ruled_out', confirmed_at = ?
           WHERE id = ?""",
        (h.clock.now().isoformat(), closed_id),
    )
    assert await found(h, CASE_PERSON)
    before = await daily_report(h)

    assert await on_day(h, 11, 25) == retention.Purged()  # 29 days after it was closed
    assert await on_day(h, 11, 27) == retention.Purged(cases=1)  # 31 days after
    assert await found(h, CASE_PERSON) == set()  # the row and the messages about it
    row = await h.db.fetchone("SELECT * FROM cases WHERE id = ?", (closed_id,))
    personal = ("person_name", "person_phone", "person_id_number", "address", "latitude",
                "longitude")  # fmt: skip
    assert [row[c] for c in personal] == ["", None, None, "", None, None]
    assert (row["kind"], row["village_id"], row["grid_id"], row["state"]) == (
        "suspected", "xf", "XF01", "closed")  # fmt: skip
    kept = await h.db.fetchone("SELECT * FROM cases WHERE id = ?", (open_id,))
    assert (kept["person_name"], kept["address"], kept["purged_at"]) == ("王五", "先锋街8号", None)
    assert kept["latitude"] is not None
    assert await daily_report(h) == before  # the figures are unchanged
