"""The arrival self-report through PTB's real pipeline: what the resident sees, what is stored,
who is told."""

from __future__ import annotations

import json

from tests.harness import Harness

RESIDENT = 424242
WORKER_XF01 = 30001
LEADERS = -1001234567890
ID_NUMBER = "11010519491231002X"


async def answer_to_summary(h: Harness, user: int = RESIDENT, lang: str = "zh-hans",
                            origin: str = "湖北省武汉市江汉区", temperature: str = "36.5",
                            name: str = "张三") -> None:  # fmt: skip
    await h.text(user, "/arrive", lang)
    await h.choose(user, "本人" if lang != "en" else "Myself", lang)
    await h.text(user, name, lang)
    await h.text(user, "13812345678", lang)
    await h.text(user, ID_NUMBER, lang)
    await h.choose(user, "国内" if lang != "en" else "China", lang)
    await h.text(user, origin, lang)
    await h.choose(user, "对的" if lang != "en" else "Yes", lang)
    await h.press(user, h.buttons(user)[0][1], lang)  # no other places passed through
    await h.text(user, "10月25日", lang)
    await h.choose(user, "火车" if lang != "en" else "Train", lang)
    await h.text(user, "G1234", lang)
    await h.choose(user, "先锋社区", lang)
    await h.choose(user, "第1网格", lang)
    await h.text(user, "先锋街12号2单元301", lang)
    await h.press(user, h.buttons(user)[0][1], lang)  # 三返
    await h.press(user, h.buttons(user)[0][1], lang)  # green
    await h.press(user, h.buttons(user)[1][1], lang)  # no test
    await h.text(user, temperature, lang)
    await h.press(user, [d for _, d in h.buttons(user) if d.endswith(":none")][0], lang)
    await h.press(user, [d for _, d in h.buttons(user) if d.endswith(":no")][0], lang)


async def test_happy_path_zh(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    card = h.texts(RESIDENT)[-1]
    assert "请核对登记信息" in card
    assert "张三" in card and "13812345678" in card and "湖北省 武汉市 江汉区" in card
    await h.choose(RESIDENT, "确认提交")
    receipt = h.texts(RESIDENT)[-1]
    assert "登记成功" in receipt and "XF-20201026-0001" in receipt
    row = await h.db.fetchone("SELECT * FROM reports")
    assert row["ref"] == "XF-20201026-0001"
    assert row["grid_id"] == "XF01" and row["risk"] == "low"
    data = json.loads(row["data"])
    assert data["trip"] == "G1234" and data["temperature"] == 36.5
    assert await h.db.fetchone("SELECT * FROM drafts") is None
    assert await h.drain_outbox() == 1
    notice = h.texts(WORKER_XF01)[-1]
    assert "XF-20201026-0001" in notice and "138****5678" in notice
    assert "13812345678" not in notice and ID_NUMBER not in notice
    assert h.texts(LEADERS) == []
