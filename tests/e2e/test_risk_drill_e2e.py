"""The risk drill (scenarios/risk.toml, issue 10) played against the live bot: a positive test
opens a suspected case pending confirmation; "quarantine done" from abroad stays key control
until a worker checks the release certificate; a case's countdown runs from its discovery."""

from __future__ import annotations

from tests.e2e.conftest import Live
from tests.e2e.test_drill_e2e import play, texts_with


async def test_the_risk_drill_passes_against_the_real_bot(live: Live) -> None:
    await play(live, "risk.toml")
    leaders = "\n".join(live.texts("leaders"))
    for secret in ("13800000001", "13800000002", "11010519491231002X", "500116199003150027",
                   "张伟", "王芳"):  # fmt: skip
        assert secret not in leaders, f"{secret} unmasked in the leadership group"
    filing = texts_with(live, "leaders", "报社区排查组备案")
    assert len(filing) == 1 and "待网格员核验" in filing[0]
    case = texts_with(live, "leaders", "已人工确认为病例")[0]  # the card, edited on confirmation
    assert "疑似病例" in case and "录入时间" in case and "已居家隔离" in case
    assert texts_with(live, "leaders", "确认为病例，请继续按时完成网络直报")
    late = texts_with(live, "leaders", "发现时间：11月20日 07:00")[0]
    assert "录入时间：11月20日 08:" in late
