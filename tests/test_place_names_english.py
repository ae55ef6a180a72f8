"""Place names in a key region's reason are in the reader's script (issue 10): an English
reader gets the Chinese name with its English one, a Chinese reader the Chinese alone."""

from __future__ import annotations

from sandbox.formatting import parse_html
from tests.harness import Harness
from tests.test_arrival_flow import (
    LEADERS,
    WORKER_XF01,
    answer_to_summary,
    submit,
)
from tests.test_recipient_locale import choose

KASHGAR = "新疆维吾尔自治区 喀什地区"
KASHGAR_EN = "新疆维吾尔自治区 喀什地区 (Kashi Prefecture, Xinjiang)"
REASON_EN = f"came from or passed through a high-risk area: {KASHGAR_EN}"


def seen(text: str) -> str:
    return parse_html(text)[0]


async def test_an_english_resident_and_worker_read_the_region_in_english(
    harness: Harness,
) -> None:
    h = harness
    await choose(h, WORKER_XF01, "en")
    await answer_to_summary(h, lang="en", origin="Kashgar City, Xinjiang")
    receipt = seen(await submit(h, lang="en"))
    assert REASON_EN in receipt
    assert await h.drain_outbox() == 2
    card = seen(h.texts(WORKER_XF01)[-1])
    assert "Key-control person arrived" in card and REASON_EN in card
    # the leadership group reads the town's language: the Chinese name alone
    group = seen(h.texts(LEADERS)[-1])
    assert f"来自或途经高风险地区：{KASHGAR}" in group and "Kashi" not in group


async def test_a_chinese_receipt_keeps_the_chinese_name(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, origin="新疆喀什地区喀什市")
    receipt = seen(await submit(h))
    assert f"来自或途经高风险地区：{KASHGAR}\n" in receipt and "Kashi" not in receipt
