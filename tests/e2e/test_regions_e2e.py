"""The key-region drill (scenarios/regions.toml) against the live bot: a resident registered
while their origin was not a key region; a leader lists it mid-drill with /regions; the
resident, the grid worker and the leadership group get the right messages."""

from __future__ import annotations

from tests.e2e.conftest import Live
from tests.e2e.test_drill_e2e import play, texts_with


async def test_a_region_listed_mid_drill_reaches_the_registered_resident(live: Live) -> None:
    await play(live, "regions.toml")
    receipt = texts_with(live, "resident1", "登记成功")[0]
    assert "低风险" in receipt or "自我健康监测" in receipt
    told = texts_with(live, "resident1", "管控措施调整通知")
    assert len(told) == 1 and "XF-20201120-0001" in told[0] and "集中隔离" in told[0]
    listed = texts_with(live, "worker_XF01", "重点地区调整")
    assert len(listed) == 1 and "XF-20201120-0001" in listed[0]
    alert = texts_with(live, "leaders", "预警：重点地区调整")
    assert len(alert) == 1
    assert "北京市 朝阳区（高风险" in alert[0] and "先锋社区 1 人" in alert[0]
    assert "XF-20201120-0001" in alert[0] and "张伟" not in alert[0]
