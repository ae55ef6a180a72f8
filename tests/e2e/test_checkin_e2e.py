"""A fever at a health-monitoring check-in, under a fast drill clock: a resident arrives
from 喀什 at 08:00 (centralized isolation, monitored), the clock runs 600 times as fast, the
09:00 check-in prompt comes within seconds, the resident answers 38.0℃ and the leadership
group receives the fever alert."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.e2e.conftest import CST, Live
from tests.e2e.test_arrival_e2e import RESIDENT, report_arrival

# the bot's scheduler looks at due timers every 10 real seconds (bot/scheduler.py); a prompt
# is due 6 real seconds after the clock speeds up: the wait covers both, on a slow machine
PROMPT_WAIT = 60.0


@pytest.mark.clock(datetime(2020, 11, 20, 8, 0, tzinfo=CST))
async def test_fever_check_in_under_a_fast_clock_reaches_the_leadership_group(
    live: Live,
) -> None:
    await report_arrival(live)
    p = live.player()
    await p.act(None, "wait_for", chat="leaders", text="重点人员到达")

    live.clock.speed(600)  # an hour in six seconds
    await p.act(RESIDENT, "wait_for", text="健康打卡", timeout=PROMPT_WAIT)
    prompt = [t for t in live.texts(RESIDENT) if "健康打卡" in t][-1]
    assert "第2/14天" in prompt and "张伟" in prompt, prompt  # 11月19日起集中隔离14天
    await p.act(RESIDENT, "press", label="38.0℃")

    await p.act(None, "wait_for", chat="leaders", text="发热")
    live.clock.speed(1)
    alert = [t for t in live.texts("leaders") if "发热" in t][-1]
    assert "健康监测预警" in alert and "38.0℃" in alert and "XF-20201120-0001" in alert
    assert "138****0001" in alert and "13800000001" not in alert and "张伟" not in alert
    await p.act(None, "wait_for", chat="worker_XF01", text="发热")

    await p.act(RESIDENT, "press", label="没有症状")
    await p.act(RESIDENT, "wait_for", text="打卡完成")
    done = [t for t in live.texts(RESIDENT) if "打卡完成" in t][-1]
    assert "38.0℃" in done and "已通知网格员" in done
