"""A companion who later reports for himself is monitored once (issue 10): under his own
report, his check-ins in his own chat; the companion entry's monitoring stops in the same
transaction, unannounced; a new version of the report that listed him does not start it
again; the daily report counts him once. Unless his own report does not monitor him: then
the companion entry's monitoring goes on (never less watched for having reported)."""

from __future__ import annotations

from datetime import datetime

from storage import timers
from tests.conftest import SHANGHAI
from tests.harness import Harness
from tests.test_arrival_companions import LI_ID, WANG_ID
from tests.test_arrival_flow import RESIDENT, WORKER_XF01, answer_to_summary, submit
from tests.test_arrival_identity import LI
from tests.test_digest import advance_to, reports_sent

FAMILY = [("李四", LI_ID, None), ("王五", WANG_ID, None)]


async def family_then_li(h: Harness, li_code: str = "yellow") -> None:
    """张三 registers with 李四 and 王五 at 10:00 (yellow code: all three monitored); 李四
    registers for himself at 15:00."""
    await answer_to_summary(h, code="yellow", companions=FAMILY)
    await submit(h)
    h.clock.advance(hours=5)
    await answer_to_summary(h, user=LI, name="李四", phone="13900001111", id_number=LI_ID,
                            code=li_code)  # fmt: skip
    await submit(h, LI)
    await h.drain_outbox()


async def monitorings(h: Harness) -> list[tuple]:
    rows = await h.db.fetchall(
        """SELECT r.ref, m.person_idx, p.name, m.state, m.chat_id FROM monitoring m
           JOIN reports r ON r.id = m.report_id
           JOIN persons p ON p.report_id = m.report_id AND p.idx = m.person_idx ORDER BY m.id"""
    )
    return [tuple(r) for r in rows]


def prompted(h: Harness, chat: int) -> list[str]:
    """Whose check-in prompts went to ``chat``."""
    return [t.split("\n")[1][:2] for t in h.texts(chat) if "健康打卡</b>　第" in t]


async def test_a_companion_reporting_for_himself_is_monitored_once(harness: Harness) -> None:
    h = harness
    await family_then_li(h)
    assert await monitorings(h) == [
        ("XF-20201026-0001", 0, "张三", "active", RESIDENT),
        ("XF-20201026-0001", 1, "李四", "stopped", RESIDENT),
        ("XF-20201026-0001", 2, "王五", "active", RESIDENT),
        ("XF-20201026-0002", 0, "李四", "active", LI),
    ]
    assert await timers.pending(h.db, "monitoring:2") == []
    for chat in (RESIDENT, LI, WORKER_XF01):  # stopped unannounced: he goes on, elsewhere
        assert not any("健康监测已结束" in t for t in h.texts(chat))

    await advance_to(h, datetime(2020, 10, 26, 20, tzinfo=SHANGHAI))
    assert sorted(prompted(h, RESIDENT)) == ["张三", "王五"]
    assert prompted(h, LI) == ["李四"]
    (report,) = reports_sent(h)
    assert "新增来返人员：<b>3</b> 人（登记 2 份）" in report
    assert "健康监测：在管 <b>3</b> 人" in report

    # 张三 reports again with his companions: 李四 stays monitored under his own report only
    h.clock.advance(hours=1)
    await answer_to_summary(h, code="yellow", companions=FAMILY)
    await submit(h)
    states = [(ref[-1], idx, state) for ref, idx, _, state, _ in await monitorings(h)]
    assert states == [("1", 0, "active"), ("1", 1, "stopped"), ("1", 2, "active"),
                      ("2", 0, "active")]  # fmt: skip
    assert await timers.pending(h.db, "monitoring:2") == []


async def test_not_monitored_under_his_own_report_the_companion_entry_goes_on(
    harness: Harness,
) -> None:
    """His own answers put him at low risk (self-monitoring): the family's measure still
    applies to him, so the companion entry's monitoring is kept; he is counted once."""
    h = harness
    await family_then_li(h, li_code="green")
    assert [m[3] for m in await monitorings(h)] == ["active"] * 3
    await advance_to(h, datetime(2020, 10, 26, 20, tzinfo=SHANGHAI))
    assert sorted(prompted(h, RESIDENT)) == ["张三", "李四", "王五"]
    assert prompted(h, LI) == []
    (report,) = reports_sent(h)
    assert "新增来返人员：<b>3</b> 人（登记 2 份）" in report
    assert "健康监测：在管 <b>3</b> 人" in report


# --- his own plan must watch him at least as closely and as long (review A2) --------------

LI_REF = "XF-20201026-0002"


async def state_of_li_entry(h: Harness) -> str:
    """The state of 李四's monitoring under 张三's report (the companion entry)."""
    row = await h.db.fetchone(
        "SELECT m.state FROM monitoring m JOIN reports r ON r.id = m.report_id "
        "WHERE r.ref = 'XF-20201026-0001' AND m.person_idx = 1"
    )
    return row["state"]


async def test_a_stricter_companion_plan_is_not_lowered_by_his_own(harness: Harness) -> None:
    """The family's red code: 14 days of centralized isolation; his own yellow code: 7 days
    of home monitoring. The companion entry's stricter plan goes on beside his own."""
    h = harness
    await answer_to_summary(h, code="red", companions=FAMILY)
    await submit(h)
    h.clock.advance(hours=5)
    await answer_to_summary(h, user=LI, name="李四", phone="13900001111", id_number=LI_ID,
                            code="yellow")  # fmt: skip
    await submit(h, LI)
    kinds = await h.db.fetchall("SELECT person_idx, kind, state FROM monitoring ORDER BY id")
    assert [tuple(k) for k in kinds] == [
        (0, "centralized_isolation", "active"),
        (1, "centralized_isolation", "active"),
        (2, "centralized_isolation", "active"),
        (0, "home_monitoring", "active"),
    ]
    assert await timers.pending(h.db, "monitoring:2") != []


async def test_his_own_monitoring_stopped_early_the_companion_entry_resumes(
    harness: Harness,
) -> None:
    h = harness
    await family_then_li(h)
    assert await state_of_li_entry(h) == "stopped"
    await h.text(WORKER_XF01, f"/monitor {LI_REF}")
    await h.choose(WORKER_XF01, "结束监测")
    await h.text(WORKER_XF01, "已转运至集中隔离点")
    assert await state_of_li_entry(h) == "active"  # the family's plan watches him again
    assert [t.kind for t in await timers.pending(h.db, "monitoring:2")] != []
    resumed = await h.db.fetchall("SELECT subject FROM audit WHERE action = 'monitoring.resume'")
    assert [r["subject"] for r in resumed] == ["monitoring:2"]
    await advance_to(h, datetime(2020, 10, 26, 20, tzinfo=SHANGHAI))
    assert sorted(prompted(h, RESIDENT)) == ["张三", "李四", "王五"]
    assert prompted(h, LI) == []


async def test_his_own_report_lowered_the_companion_entry_resumes(harness: Harness) -> None:
    """He reports again with a green code (low risk, not monitored): the family's measure
    watches him again."""
    h = harness
    await family_then_li(h)
    h.clock.advance(hours=1)
    await answer_to_summary(h, user=LI, name="李四", phone="13900001111", id_number=LI_ID)
    await submit(h, LI)
    assert await state_of_li_entry(h) == "active"


async def test_his_own_report_withdrawn_the_companion_entry_resumes(harness: Harness) -> None:
    """His own (monitored) report is withdrawn once the grid worker confirms it: the family's
    plan watches him again."""
    h = harness
    await family_then_li(h)
    await h.press(LI, "v1:my:withdraw:2")
    await h.choose(LI, "确定撤回")
    assert await state_of_li_entry(h) == "stopped"  # still monitored as himself meanwhile
    await h.drain_outbox()
    await h.choose(WORKER_XF01, "确认撤回")
    assert await state_of_li_entry(h) == "active"
