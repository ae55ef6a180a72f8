"""The isolation drill (scenarios/isolation.toml, issue 12) played against the live bot: a case
and its three contacts (one already registered as an arrival), a reserve site activated within
its countdown, transfers dispatched and delivered (a vehicle disinfecting in between), tests
on day 1, a positive on day 4 opening a second case, the others released on day 14 with their
certificates; what the leadership group saw at each step, with personal data masked."""

from __future__ import annotations

from tests.e2e.conftest import Live
from tests.e2e.test_drill_e2e import play, texts_with


async def test_the_isolation_drill_passes_against_the_real_bot(live: Live) -> None:
    await play(live, "isolation.toml")
    leaders = "\n".join(live.texts("leaders"))
    for secret in ("13800000001", "13800000012", "13800000013", "11010519491231002X",
                   "500116198505050013", "张伟", "王强", "刘芳", "李明"):  # fmt: skip
        assert secret not in leaders, f"{secret} unmasked in the leadership group"
    # the contacts: one upgraded from the arrival register, two new, counted on the case
    assert "已有登记升级 1" in texts_with(live, "leaders", "新增密接")[0]
    for ref in ("XF-MJ-20201120-0001", "XF-MJ-20201120-0002", "XF-MJ-20201120-0003"):
        assert ref in leaders
    notices = texts_with(live, "worker_XF01", "请立即落实管控")  # in full, in private
    assert len(notices) == 3 and any("王强" in t for t in notices)
    # the site: ordered, then active well within its 24 hours
    active = texts_with(live, "leaders", "已启用，可以接收隔离人员")
    assert len(active) == 1 and "用时 3 小时" in active[0]
    # the positive on day 4: a second case, its countdown running
    second = texts_with(live, "leaders", "XF-BL-20201123-01")
    assert second and "发现疑似病例" in second[0]
    # released on the day after day 14: the registered one got the certificate in his chat
    assert any(m.document for m in live.messages("resident1")), "no certificate sent"
    assert len(texts_with(live, "manager_GL01", "已解除集中隔离")) == 2
    # the daily report's chain section
    report = texts_with(live, "leaders", "密接与集中隔离")[-1]
    assert "本时段解除 1 人" in report and "先锋镇集中隔离点（原粮站招待所）" in report
