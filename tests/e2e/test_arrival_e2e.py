"""An arrival report from the first message to the leadership alert, through the real bot
process and the sandbox server: a resident scans grid XF01's poster and reports an arrival
from 喀什 (a high-risk region on 2020-11-20)."""

from __future__ import annotations

from tests.e2e.conftest import Live

RESIDENT = "resident1"


async def report_arrival(live: Live, who: str = RESIDENT) -> None:
    """Answer the arrival form as a person does; every step waits for the bot's answer."""
    p = live.player()
    await p.act(who, "start", payload="a-XF01")
    await p.act(who, "press", label="本人")
    await p.act(who, "text", text="张伟")
    await p.act(who, "contact")  # the "📱 send my number" button
    await p.act(who, "text", text="11010519491231002X")
    await p.act(who, "press", label="国内")
    await p.act(who, "text", text="新疆喀什地区喀什市")
    await p.act(who, "press", label="对的")
    await p.act(who, "press", label="没有途经其他地方")
    await p.act(who, "press", label="昨天")
    await p.act(who, "press", label="火车")
    await p.act(who, "text", text="T9484")
    await p.act(who, "text", text="先锋街12号2单元301")
    await p.act(who, "press", label="四外")
    await p.act(who, "press", label="绿码")
    await p.act(who, "press", label="没有做过")
    await p.act(who, "text", text="36.6")
    await p.act(who, "press", label="以上都没有")
    await p.act(who, "press", label="没有，就这些")
    await p.act(who, "press", label="确认提交")
    await p.act(who, "wait_for", text="登记成功")


def only(texts: list[str], needle: str) -> str:
    found = [t for t in texts if needle in t]
    assert len(found) == 1, f"{len(found)} messages contain {needle!r}: {texts}"
    return found[0]


async def test_arrival_from_a_high_risk_region_alerts_the_leadership_group(live: Live) -> None:
    await report_arrival(live)
    p = live.player()
    await p.act(None, "wait_for", chat="leaders", text="预警")
    await p.act(None, "wait_for", chat="worker_XF01", text="XF-20201120-0001")

    receipt = only(live.texts(RESIDENT), "登记成功")
    assert "XF-20201120-0001" in receipt
    assert "高风险地区来返" in receipt and "集中隔离" in receipt
    # the grid of the poster was never asked: the deep link filled it in
    summary = only(live.texts(RESIDENT), "请核对登记信息")
    assert "先锋社区第1网格" in summary and "13800000001" in summary  # own chat: unmasked

    alert = only(live.texts("leaders"), "预警")
    assert "XF-20201120-0001" in alert and "先锋社区第1网格" in alert
    assert "138****0001" in alert and "1101**********002X" in alert
    for secret in ("13800000001", "11010519491231002X", "张伟"):
        assert secret not in alert, f"{secret} unmasked in the leadership group"

    notice = only(live.texts("worker_XF01"), "XF-20201120-0001")
    assert "核实" in notice and "138****0001" in notice
    assert live.world.person("worker_XF01").user_id == 30001
    # nobody else's grid is bothered
    assert not any("XF-20201120-0001" in t for t in live.texts("worker_XF02"))
