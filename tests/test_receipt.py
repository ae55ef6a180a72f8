"""The resident's intro and receipt say what is true (issue 10): every answer is kept as it is
given and nothing reaches the community before submit; a test day already past is never
listed as scheduled — it is due now."""

from __future__ import annotations

from tests.harness import Harness
from tests.test_arrival_flow import RESIDENT, answer_to_summary, submit


async def test_the_intro_says_answers_are_kept_and_sent_only_on_submit(harness: Harness) -> None:
    h = harness
    await h.text(RESIDENT, "/arrive", "zh-hans")
    intro = next(t for t in h.texts(RESIDENT) if "自主申报" in t)
    assert "提交前不会保存" not in intro
    assert "每个回答都会随时保存" in intro and "再发 /arrive 就能接着填" in intro
    assert "超过30分钟没有操作，已填的内容会作废" in intro
    assert "点“确认提交”之前，信息不会发给社区和网格员" in intro


async def test_the_english_intro_too(harness: Harness) -> None:
    h = harness
    await h.text(RESIDENT, "/arrive", "en")
    intro = next(t for t in h.texts(RESIDENT) if "self-report" in t)
    assert "nothing is saved until" not in intro
    assert "Each answer is kept as you give it" in intro
    assert "Nothing is sent to the community or your grid worker until you press submit" in intro


async def test_a_test_day_already_past_is_due_now_not_scheduled(harness: Harness) -> None:
    """From abroad, arrived on the 25th (today is the 26th): tests on days 1, 7 and 14 are
    the 25th (past), 31 October and 7 November."""
    h = harness
    await answer_to_summary(h, country="美国")
    await submit(h)
    receipt = next(t for t in h.texts(RESIDENT) if "登记成功" in t)
    assert "于10月31日、11月7日进行核酸检测" in receipt
    assert "10月25日、" not in receipt  # the past day is not listed as scheduled
    assert "按要求应在10月25日做的核酸检测，日子已经过了" in receipt
    assert "<b>请今天尽快去做核酸检测</b>" in receipt
