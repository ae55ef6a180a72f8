"""Business events in the log (issue 11): a report stored, an alert queued, a ladder step, a
timer fired late, a purge ran — at INFO, with reference numbers and counts, and never a
name, phone, ID number or address."""

from __future__ import annotations

import logging

import pytest

from bot.actions import retention
from bot.runtime.timers import fire_due
from tests.harness import Harness
from tests.test_arrival_companions import LI_ID
from tests.test_arrival_flow import ID_NUMBER, answer_to_summary, submit

REF = "XF-20201026-0001"
PERSONAL = ("张三", "张*", "13812345678", "138****5678", ID_NUMBER, "先锋街", "李四", LI_ID,
            "13900001111")  # fmt: skip


async def test_a_full_arrival_and_its_alert_are_logged_without_personal_data(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.INFO)
    await answer_to_summary(h, code="red", companions=[("李四", LI_ID, "13900001111")])
    await submit(h)
    await h.drain_outbox()
    h.clock.advance(hours=12, minutes=1)  # unverified past its deadline: the ladder climbs
    await fire_due(h.services)
    h.clock.advance(hours=3)  # the bot was down meanwhile: what fell due fires late
    await fire_due(h.services)
    await h.drain_outbox()
    await retention.run(h.services)

    lines = [r.getMessage() for r in caplog.records]
    kinds = ("report stored", "alert queued", "ladder step", "timer", "retention")
    events = [line for line in lines if line.startswith(kinds)]
    assert f"report stored: {REF} (report.create), 2 person(s), red_code, " in events[0]
    assert f"alert queued: arrival {REF} to the leadership group" in events
    assert f"ladder step: arrival {REF} step 0 to assignee" in events
    assert f"ladder step: arrival {REF} step 1 to village_admin (late)" in events
    assert any("fired late" in e for e in events)
    assert "retention: purged 0 report(s), 0 person(s); 0 tip(s) lost their tipster" in events
    assert all(r.levelno == logging.INFO for r in caplog.records if r.getMessage() in events)
    leaked = [line for line in lines for p in PERSONAL if p in line]
    assert leaked == []
