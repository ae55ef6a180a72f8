"""零报告 (zero report) is claimed only when nothing happened: a fever or symptom at a check-in
is an event, even when it is the only one (a mutation run found that dropping fever from the
rule passed the suite). People merely under monitoring, answered check-ins without fever and
handled tips are figures, not events."""

from __future__ import annotations

from dataclasses import fields

import pytest

from storage.outbox import iso
from storage.stats import VillageCounts
from tests.harness import Harness
from tests.test_digest import add_report, advance_to, at, reports_sent

ZERO = "✅ <b>零报告</b>"

# The events of a window: any of them means there is something to report.
EVENTS = ("arrivals", "alerts", "certificates", "region_changes", "fever", "checkins_missed",
          "escalations", "tips_new", "tips_overdue", "cases_new", "cases_open")  # fmt: skip
# Figures that are shown but are not news on their own (people upgraded come with a change).
FIGURES = ("monitoring", "released", "checkins_done", "tips_handled", "reports",
           "cases_reported", "cases_overdue", "region_upgraded")  # fmt: skip


def test_the_table_names_every_count() -> None:
    counts = {f.name for f in fields(VillageCounts)} - {"by_category", "by_risk"}
    assert counts == set(EVENTS) | set(FIGURES)


def test_all_zero_is_quiet() -> None:
    assert VillageCounts().quiet and VillageCounts().all_zero


@pytest.mark.parametrize("name", EVENTS)
def test_any_event_alone_is_not_quiet(name: str) -> None:
    counts = VillageCounts(**{name: 1})
    assert not counts.quiet and not counts.all_zero


@pytest.mark.parametrize("name", ("monitoring", "released", "checkins_done", "tips_handled"))
def test_a_figure_alone_is_quiet_but_not_all_zero(name: str) -> None:
    counts = VillageCounts(**{name: 1})
    assert counts.quiet and not counts.all_zero


async def _checkin(h: Harness, temperature: float, symptoms: str = "[]") -> None:
    """One person under home monitoring since the 23rd, one answered check-in today."""
    t, earlier = iso(at(26, 11)), iso(at(23, 9))
    async with h.db.write() as conn:
        rid = await add_report(conn, "xf", "XF01", at(23, 9))
        cur = await conn.execute(
            """INSERT INTO monitoring (report_id, person_idx, chat_id, locale, grid_id, kind,
                   start_date, end_date, state, created_at, updated_at)
               VALUES (?, 0, 1, 'zh_CN', 'XF01', 'home_monitoring', '2020-10-23', '2020-11-05',
                       'active', ?, ?)""",
            (rid, earlier, earlier),
        )
        await conn.execute(
            """INSERT INTO checkins (monitoring_id, slot_at, prompted_at, answered_at, state,
                   temperature, symptoms) VALUES (?, ?, ?, ?, 'answered', ?, ?)""",
            (cur.lastrowid, t, t, t, temperature, symptoms),
        )


@pytest.mark.parametrize(("temperature", "symptoms"), [(38.2, "[]"), (36.6, '["cough"]')])
async def test_a_fever_check_in_alone_is_not_a_zero_report(
    harness: Harness, temperature: float, symptoms: str
) -> None:
    h = harness
    await _checkin(h, temperature, symptoms)
    await advance_to(h, at(26, 20))
    (text,) = reports_sent(h)
    assert ZERO not in text
    assert "新增来返人员：<b>0</b> 人" in text  # no other event in the window
    assert "健康打卡：已打卡 1，未打卡 0，发热/症状 <b>1</b>" in text
    assert "<b>先锋社区</b>：零报告" not in text


async def test_a_normal_check_in_alone_is_still_a_zero_report(harness: Harness) -> None:
    h = harness
    await _checkin(h, 36.5)
    await advance_to(h, at(26, 20))
    (text,) = reports_sent(h)
    assert ZERO in text
    assert "健康打卡：已打卡 1，未打卡 0，发热/症状 0" in text
    assert "<b>先锋社区</b>：零报告" not in text  # someone is under monitoring there
    assert "<b>石桥村</b>：零报告" in text
