"""Companions (同行人员) registered with the arrival report."""

from __future__ import annotations

from pathlib import Path

from bot.config import Config
from bot.domain.parsing import id_check_char
from bot.runtime.clock import ManualClock
from tests.harness import Harness
from tests.test_arrival_flow import (
    RESIDENT,
    WORKER_XF01,
    answer_to_summary,
    count,
    press_value,
    submit,
)


def valid_id(first17: str) -> str:
    return first17 + id_check_char(first17)


LI_ID = valid_id("50038119850312001")
WANG_ID = valid_id("50038120100601002")


async def test_two_companions_are_stored_with_the_report(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, companions=[("李四", LI_ID, "13900001111"),
                                           ("王五", WANG_ID, None)])  # fmt: skip
    card = h.texts(RESIDENT)[-1]
    assert "同行人员：李四、王五（2人）" in card
    receipt = await submit(h)
    assert "本次共登记3人" in receipt
    report = await h.db.fetchone("SELECT id FROM reports")
    rows = await h.db.fetchall(
        "SELECT idx, name, phone, id_kind, id_number FROM persons WHERE report_id = ? "
        "ORDER BY idx", (report["id"],))  # fmt: skip
    assert [tuple(r) for r in rows] == [
        (0, "张三", "13812345678", "id", "11010519491231002X"),
        (1, "李四", "13900001111", "id", LI_ID),
        (2, "王五", None, "id", WANG_ID),
    ]
    await h.drain_outbox()
    notice = h.texts(WORKER_XF01)[-1]
    assert "同行共3人" in notice
    assert LI_ID not in notice and WANG_ID not in notice and "13900001111" not in notice


async def test_companion_questions_count_up(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, companions=[("李四", LI_ID, None)])
    texts = h.texts(RESIDENT)
    assert any("请输入第1位同行人员的姓名" in t for t in texts)
    assert any("已添加1位同行人员" in t for t in texts)


async def test_max_companions_is_enforced(
    config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    limited = config.model_copy(
        update={"arrival": config.arrival.model_copy(update={"max_companions": 2})}
    )
    h = await Harness.start(limited, tmp_path / "paicha.sqlite3", clock)
    try:
        await answer_to_summary(h, companions=[("李四", LI_ID, None), ("王五", WANG_ID, None)])
        await press_value(h, RESIDENT, "edit")
        await press_value(h, RESIDENT, "companions")
        await press_value(h, RESIDENT, "yes")
        for index, (name, number) in enumerate((("李四", LI_ID), ("王五", WANG_ID))):
            if index:
                await press_value(h, RESIDENT, "add")
            await h.text(RESIDENT, name)
            await h.text(RESIDENT, number)
            await press_value(h, RESIDENT, "skip")
        question = h.texts(RESIDENT)[-1]
        assert "已添加2位同行人员" in question
        await press_value(h, RESIDENT, "add")
        assert "一次最多登记2位同行人员" in h.texts(RESIDENT)[-2]
        assert h.texts(RESIDENT)[-1] == question
        draft = await h.db.fetchone("SELECT step FROM drafts")
        assert draft["step"] == "companion_more"
        await press_value(h, RESIDENT, "done")
        assert "同行人员：李四、王五（2人）" in h.texts(RESIDENT)[-1]
        assert "本次共登记3人" in await submit(h)
        assert await count(h, "persons") == 3
    finally:
        await h.stop()


async def test_no_companions_allowed(config: Config, clock: ManualClock, tmp_path: Path) -> None:
    none_allowed = config.model_copy(
        update={"arrival": config.arrival.model_copy(update={"max_companions": 0})}
    )
    h = await Harness.start(none_allowed, tmp_path / "paicha.sqlite3", clock)
    try:
        await answer_to_summary(h)
        await press_value(h, RESIDENT, "edit")
        await press_value(h, RESIDENT, "companions")
        await press_value(h, RESIDENT, "yes")
        assert "一次最多登记0位同行人员" in h.texts(RESIDENT)[-2]
        draft = await h.db.fetchone("SELECT step FROM drafts")
        assert draft["step"] == "companions"
    finally:
        await h.stop()


async def test_companion_passport_after_a_passport_holder(harness: Harness) -> None:
    """A foreign resident with a passport, travelling with a foreign companion."""
    h = harness
    await h.text(RESIDENT, "/arrive")
    await h.choose(RESIDENT, "本人")
    await h.text(RESIDENT, "John Smith")
    await h.text(RESIDENT, "13812345678")
    await press_value(h, RESIDENT, "passport")
    assert "请输入护照号码" in h.texts(RESIDENT)[-1]
    await h.text(RESIDENT, "E12345678")
    draft = await h.db.fetchone("SELECT data FROM drafts")
    assert '"id_kind": "passport"' in draft["data"]
    # on to the companions
    await press_value(h, RESIDENT, "abroad")
    await h.text(RESIDENT, "美国")
    await press_value(h, RESIDENT, "none")
    await press_value(h, RESIDENT, "yesterday")
    await press_value(h, RESIDENT, "flight")
    await h.text(RESIDENT, "CA4321")
    await h.choose(RESIDENT, "先锋社区")
    await h.choose(RESIDENT, "第1网格")
    await h.text(RESIDENT, "先锋街12号2单元301")
    for value in ("overseas", "green", "no"):
        await press_value(h, RESIDENT, value)
    await h.text(RESIDENT, "36.5")
    await press_value(h, RESIDENT, "none")
    await press_value(h, RESIDENT, "yes")
    await h.text(RESIDENT, "Mary Smith")
    question = h.texts(RESIDENT)[-1]
    assert "同行人员的18位身份证号" in question
    labels = [label for label, _ in h.buttons(RESIDENT)]
    assert labels == ["外籍人员：填护照号"]
    await press_value(h, RESIDENT, "passport")
    assert "请输入这位同行人员的护照号码" in h.texts(RESIDENT)[-1]
    assert [label for label, _ in h.buttons(RESIDENT)] == ["改填身份证号"]
    await h.text(RESIDENT, "E87654321")
    await press_value(h, RESIDENT, "skip")
    await press_value(h, RESIDENT, "done")
    await submit(h)
    rows = await h.db.fetchall("SELECT id_kind, id_number FROM persons ORDER BY idx")
    assert [tuple(r) for r in rows] == [("passport", "E12345678"), ("passport", "E87654321")]
