"""A receipt after a submit is a direct reply like the questions before it (issue 11): when the
Bot API answers 500 again and again, the receipt is not lost but waits in the outbox and
arrives when it drains. Nothing here really sleeps (the backoff's sleep is recorded)."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.recording import Call
from storage import outbox
from tests.harness import Harness
from tests.test_arrival_flow import RESIDENT, answer_to_summary, submit
from tests.test_direct_replies import record_sleeps
from tests.test_tips import TIPSTER, send_tip

TIP_REF = "XF-XS-20201026-0001"


def receipt_to(chat_id: int, marker: str) -> Callable[[Call], bool]:
    def match(call: Call) -> bool:
        return (
            call.method == "sendMessage"
            and int(call.params["chat_id"]) == chat_id
            and marker in call.params["text"]
        )

    return match


def fail_three_times(h: Harness, match: Callable[[Call], bool]) -> None:
    for _ in range(3):
        h.request.fail(match, 500, "Internal Server Error")


async def delivered_after_drain(h: Harness, match: Callable[[Call], bool]) -> list[str]:
    before = len(h.request.calls)
    await h.drain_outbox()
    return [c.params["text"] for c in h.request.calls[before:] if match(c)]


async def test_a_tip_receipt_survives_a_failing_api(harness: Harness) -> None:
    h = harness
    slept = record_sleeps(h)
    receipt = receipt_to(TIPSTER, TIP_REF)
    fail_three_times(h, receipt)
    await send_tip(h)
    assert len(slept) == 2  # tried three times
    assert await outbox.pending_count(h.db) >= 1
    texts = await delivered_after_drain(h, receipt)
    assert len(texts) == 1 and "12小时" in texts[0]


async def test_an_arrival_receipt_survives_a_failing_api(harness: Harness) -> None:
    h = harness
    slept = record_sleeps(h)
    await answer_to_summary(h)
    receipt = receipt_to(RESIDENT, "XF-")
    fail_three_times(h, receipt)
    await submit(h)
    assert len(slept) == 2
    texts = await delivered_after_drain(h, receipt)
    assert len(texts) == 1
    markup = [c for c in h.request.calls if receipt(c)][-1].params.get("reply_markup")
    assert markup and "inline_keyboard" in markup  # the receipt's buttons came with it
