"""The shipped drills (scenarios/*.toml) played step by step against the live bot: the quick
demo (arrival_only.toml, the arrival alert alone) and the full drill (drill.toml: arrival
alert, a neighbour's tip, missed check-ins, a fever, a case and its online direct report).
Every step must pass; the full drill's wall time is reported (it jumps the drill clock
instead of waiting, so it should take well under a minute)."""

from __future__ import annotations

import time

from sandbox.scenario import load_scenario
from tests.e2e.conftest import ROOT, Live


async def play(live: Live, name: str) -> float:
    """Play scenarios/<name> and assert that every step passed; the real seconds it took."""
    drill = load_scenario(ROOT / "scenarios" / name, world=live.world)
    player = live.player()
    began = time.monotonic()
    passed = await player.play(drill)
    elapsed = time.monotonic() - began
    log = "\n".join(live.lines)
    assert passed, f"{name} failed after {elapsed:.1f} s:\n{log}\n--- bot log:\n{live.log()}"
    assert live.lines[-1] == "■ drill finished"
    assert sum(line.startswith("✓ ") for line in live.lines) == len(drill.steps), log
    assert not any(line.startswith("✗ ") for line in live.lines), log
    print(f"\n{name}: {len(drill.steps)} steps in {elapsed:.1f} s")
    return elapsed


def texts_with(live: Live, key: str, needle: str) -> list[str]:
    return [t for t in live.texts(key) if needle in t]


async def test_the_quick_demo_passes_against_the_real_bot(live: Live) -> None:
    await play(live, "arrival_only.toml")
    alert = texts_with(live, "leaders", "重点人员到达")
    assert len(alert) == 1 and "XF-20201120-0001" in alert[0]


async def test_the_full_drill_passes_against_the_real_bot(live: Live) -> None:
    await play(live, "drill.toml")

    leaders = "\n".join(live.texts("leaders"))
    # every stage reached the leadership group, with personal data masked
    for needle in ("重点人员到达", "群众举报", "可能脱离管控", "健康监测预警：发热",
                   "发现疑似病例", "尚未网络直报", "已完成网络直报"):  # fmt: skip
        assert needle in leaders, f"{needle!r} not in the leadership group:\n{leaders}"
    for secret in ("13800000001", "13800000002", "11010519491231002X", "500116199003150027",
                   "张伟", "王芳", "刘建国", "陈大妈"):  # fmt: skip
        assert secret not in leaders, f"{secret} unmasked in the leadership group"

    # the tip: the tipster stays anonymous and hears only the outcome
    card = texts_with(live, "worker_SQ01", "新线索")[0]
    assert "刘建国" in card and "陈大妈" not in card and "13800000005" not in card
    closing = texts_with(live, "neighbour", "核查完毕")[-1]
    assert "情况属实" in closing and "刘建国" not in closing

    # the missed check-ins: the first to the worker only, the second to the leaders too
    assert len(texts_with(live, "worker_XF01", "健康打卡未报")) == 2
    assert len(texts_with(live, "leaders", "可能脱离管控")) == 1
    assert "已连续2次未完成健康打卡" in texts_with(live, "leaders", "可能脱离管控")[0]

    # the case: the group's card now shows the number instead of the countdown, the timers
    # stopped (no overdue escalation), and the leader's private chat confirms the number
    card = texts_with(live, "leaders", "发现疑似病例")[0]
    assert "已网络直报：编号 5001162020112100001" in card and "剩余" not in card
    assert "定位：" in card and "地图位置" in card
    assert not texts_with(live, "leaders", "已超过2小时")
    assert texts_with(live, "leader", "5001162020112100001")
