"""The same person reported again: within the lookback the open report is updated (same
reference, earlier version kept); later a new report is made."""

from __future__ import annotations

import json

from bot.domain.parsing import id_check_char
from tests.harness import Harness
from tests.test_arrival_flow import (
    WORKER_XF01,
    answer_to_summary,
    count,
    submit,
)

FAMILY = 515151  # another family member registers the same person


async def test_same_person_within_14_days_updates_the_report(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, phone="13812345678")
    first = await submit(h)
    assert "XF-20201026-0001" in first and "已更新" not in first
    await h.drain_outbox()

    h.clock.advance(days=3)
    await answer_to_summary(h, phone="13911112222", origin="四川省成都市武侯区")
    receipt = await submit(h)
    assert "XF-20201026-0001" in receipt
    assert "您近期已经登记过" in receipt
    assert await count(h, "reports") == 1
    row = await h.db.fetchone("SELECT * FROM reports")
    assert row["ref"] == "XF-20201026-0001" and row["version"] == 2
    assert json.loads(row["data"])["origin"]["city"] == "成都市"
    person = await h.db.fetchone("SELECT phone FROM persons WHERE report_id = ?", (row["id"],))
    assert person["phone"] == "13911112222"
    history = await h.db.fetchall("SELECT * FROM report_history")
    assert len(history) == 1 and history[0]["version"] == 1
    assert json.loads(history[0]["data"])["origin"]["city"] == "武汉市"
    assert json.loads(history[0]["persons"])[0]["phone"] == "13812345678"
    actions = [r["action"] for r in await h.db.fetchall("SELECT action FROM audit ORDER BY id")]
    assert actions == ["report.create", "report.update"]
    # the worker hears about the update too
    assert await h.drain_outbox() == 1
    assert "已更新原登记" in h.texts(WORKER_XF01)[-1]


async def test_same_person_after_15_days_is_a_new_report(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    await submit(h)
    h.clock.advance(days=15)
    await answer_to_summary(h)
    receipt = await submit(h)
    assert "XF-20201110-0001" in receipt and "您近期已经登记过" not in receipt
    refs = [r["ref"] for r in await h.db.fetchall("SELECT ref FROM reports ORDER BY id")]
    assert refs == ["XF-20201026-0001", "XF-20201110-0001"]
    assert await count(h, "report_history") == 0


async def test_same_id_number_from_another_reporter_updates(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    await submit(h)
    h.clock.advance(hours=2)
    await answer_to_summary(h, user=FAMILY, phone="13911112222")
    receipt = await submit(h, FAMILY)
    assert "XF-20201026-0001" in receipt and "您近期已经登记过" in receipt
    assert await count(h, "reports") == 1


async def test_a_different_person_is_a_new_report(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    await submit(h)
    other_id = "50038119850312001" + id_check_char("50038119850312001")
    await answer_to_summary(h, name="李四", phone="13911112222", id_number=other_id)
    receipt = await submit(h)
    assert "XF-20201026-0002" in receipt and "您近期已经登记过" not in receipt
    assert await count(h, "reports") == 2
