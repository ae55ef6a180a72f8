"""A direct reply that fails (a 5xx, flood control again and again) must not leave the resident
without the open question: it is retried, and when it still fails it goes through the outbox.
The same holds for the error handler's apology. Nothing here really sleeps: the backoff goes
through an injected sleep that only records how long it would have waited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from telegram.error import TimedOut

from bot.flows.engine import Engine
from sandbox.recording import Call
from storage import drafts, outbox
from tests.harness import Harness

RESIDENT = 424242
WHO_QUESTION = "本人"  # a button of the arrival's first question (for whom)
APOLOGY = "抱歉"


def record_sleeps(h: Harness) -> list[float]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    h.services.replies.sleep = sleep
    return slept


def to_resident(call: Call) -> bool:
    return call.method == "sendMessage" and int(call.params["chat_id"]) == RESIDENT


def fail_next(h: Harness, times: int, code: int, description: str) -> None:
    """The next ``times`` messages to the resident get this error answer."""
    for _ in range(times):
        h.request.fail(to_resident, code, description)


def sends(calls: list[Call], match: Callable[[Call], bool] = to_resident) -> list[Call]:
    return [c for c in calls if match(c)]


def a_question(call: Call) -> bool:
    """A question with buttons to the resident (not the intro before it)."""
    return to_resident(call) and "inline_keyboard" in (call.params.get("reply_markup") or {})


async def test_a_500_on_the_next_question_is_retried(harness: Harness) -> None:
    h = harness
    slept = record_sleeps(h)
    await h.text(RESIDENT, "/arrive")
    fail_next(h, 1, 500, "Internal Server Error")
    calls = await h.choose(RESIDENT, WHO_QUESTION)
    draft = await drafts.get(h.db, RESIDENT)
    assert draft is not None and draft.data.get("relation") == "self"  # the answer is stored
    failed, *after = sends(calls)
    # the same question again, and nothing else: no apology, no "something went wrong"
    assert [c.params["text"] for c in after] == [failed.params["text"]]
    assert after[0].params.get("reply_markup") == failed.params.get("reply_markup")
    assert len(slept) == 1 and slept[0] <= 2
    assert await outbox.pending_count(h.db) == 0


async def test_429_three_times_hands_the_question_to_the_outbox(harness: Harness) -> None:
    h = harness
    slept = record_sleeps(h)
    for _ in range(3):
        h.request.fail(a_question, 429, "Too Many Requests: retry after 1", {"retry_after": 1})
    calls = await h.text(RESIDENT, "/arrive")
    tried = sends(calls, a_question)
    assert len(tried) == 3 and len({c.params["text"] for c in tried}) == 1
    assert len(slept) == 2 and all(s >= 1 for s in slept)  # flood control's wait honoured
    assert not [c for c in sends(calls) if APOLOGY in c.params["text"]]
    assert await drafts.get(h.db, RESIDENT) is not None  # the question waits in the outbox
    assert await outbox.pending_count(h.db) == 1

    before = len(h.request.calls)
    await h.drain_outbox()
    delivered = sends(h.request.calls[before:])
    assert [c.params["text"] for c in delivered] == [tried[0].params["text"]]
    assert delivered[0].params["reply_markup"] == tried[0].params["reply_markup"]
    # the queued question's buttons work: the conversation goes on from it
    await h.choose(RESIDENT, WHO_QUESTION)
    assert (await drafts.get(h.db, RESIDENT)).data.get("relation") == "self"


async def test_a_timeout_is_resent_once_only(harness: Harness) -> None:
    """A timed-out send may have arrived: it is not resent in a loop but handed to the
    outbox once."""
    h = harness
    slept = record_sleeps(h)
    await h.text(RESIDENT, "/arrive")
    real, attempts = h.request.do_request, []

    async def slow(url: str, *args: object, **kwargs: object) -> tuple[int, bytes]:
        if url.endswith("/sendMessage"):
            attempts.append(url)
            raise TimedOut
        return await real(url, *args, **kwargs)

    h.request.do_request = slow  # type: ignore[method-assign]
    try:
        await h.choose(RESIDENT, WHO_QUESTION)
    finally:
        h.request.do_request = real  # type: ignore[method-assign]
    assert len(attempts) == 1 and slept == []  # not tried again directly
    assert await outbox.pending_count(h.db) == 1
    before = len(h.request.calls)
    await h.drain_outbox()
    assert len(sends(h.request.calls[before:])) == 1


async def test_the_apology_survives_a_failing_send(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    record_sleeps(h)
    await h.text(RESIDENT, "/arrive")
    question = sends(h.request.calls, a_question)[-1].params["text"]

    async def broken(self: Engine, update: object, draft: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Engine, "on_message", broken)
    fail_next(h, 1, 500, "Internal Server Error")
    calls = await h.text(RESIDENT, "张三")
    texts = [c.params["text"] for c in sends(calls)]
    assert APOLOGY in texts[0] and texts[1] == texts[0]  # failed, then delivered on retry
    assert texts[-1] == question  # and the open question comes again


async def test_the_apology_goes_through_the_outbox_when_the_api_stays_down(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    record_sleeps(h)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Engine, "start", broken)
    fail_next(h, 3, 502, "Bad Gateway")
    await h.text(RESIDENT, "/arrive")
    before = len(h.request.calls)
    await h.drain_outbox()
    delivered = [c.params["text"] for c in sends(h.request.calls[before:])]
    assert len(delivered) == 1 and APOLOGY in delivered[0]


async def test_replies_after_a_queued_one_follow_it_in_order(harness: Harness) -> None:
    """The intro could not be sent: the question after it waits behind it in the outbox, so
    the resident reads them in order (and the update does not go through the retries twice)."""
    h = harness
    slept = record_sleeps(h)
    fail_next(h, 3, 502, "Bad Gateway")
    calls = await h.text(RESIDENT, "/arrive")
    assert len(sends(calls)) == 3 and len(slept) == 2  # the intro, tried three times
    assert await outbox.pending_count(h.db) == 2
    before = len(h.request.calls)
    await h.drain_outbox()
    delivered = sends(h.request.calls[before:])
    assert [c.params["text"] for c in delivered] == [
        sends(calls)[0].params["text"],
        "这次是给谁登记？",
    ]
    assert "inline_keyboard" in delivered[1].params["reply_markup"]


NAME_QUESTION = "请输入您的真实姓名："
PHONE_QUESTION = "请输入手机号"


async def test_an_answer_long_after_a_queued_question_does_not_overtake_it(
    harness: Harness,
) -> None:
    """The name question waits in the outbox through a long outage (its retry put off by
    minutes); the resident answers it anyway: the phone question waits behind it, however
    long ago the name question was queued, and each arrives once."""
    h = harness
    record_sleeps(h)
    await h.text(RESIDENT, "/arrive")
    fail_next(h, 3, 500, "Internal Server Error")
    await h.choose(RESIDENT, WHO_QUESTION)
    fail_next(h, 1, 500, "Internal Server Error")
    await h.drain_outbox()  # the outbox's try fails too: put off by its backoff
    before = len(h.request.calls)
    h.clock.advance(seconds=61)
    await h.text(RESIDENT, "张三")  # the Bot API answers again
    assert (await drafts.get(h.db, RESIDENT)).data.get("name") == "张三"
    await h.drain_outbox()
    h.clock.advance(minutes=6)
    await h.drain_outbox()
    texts = [c.params["text"] for c in sends(h.request.calls[before:])]
    assert len(texts) == 2
    assert texts[0] == NAME_QUESTION and texts[1].startswith(PHONE_QUESTION)
    assert await outbox.pending_count(h.db) == 0


async def test_a_failing_queued_reply_holds_back_the_next_one(harness: Harness) -> None:
    """The intro and the question wait in the outbox; the intro fails again while the question
    could go through: the question waits for the intro, never arrives before it."""
    h = harness
    record_sleeps(h)
    fail_next(h, 3, 502, "Bad Gateway")
    calls = await h.text(RESIDENT, "/arrive")
    intro = sends(calls)[0].params["text"]
    fail_next(h, 1, 502, "Bad Gateway")
    before = len(h.request.calls)
    await h.drain_outbox()
    assert [c.params["text"] for c in sends(h.request.calls[before:])] == [intro]  # it failed
    h.clock.advance(minutes=6)
    await h.drain_outbox()
    delivered = [c.params["text"] for c in sends(h.request.calls[before:])]
    assert delivered == [intro, intro, "这次是给谁登记？"]
    assert await outbox.pending_count(h.db) == 0


@pytest.mark.parametrize("reason", ["message is not modified", "message to edit not found"])
async def test_a_press_whose_question_cannot_be_edited_still_counts(
    harness: Harness, reason: str
) -> None:
    """A press handled again after a restart finds its question edited already ("not
    modified"), or deleted: marking the question answered is cosmetic, the answer is not lost
    (the fault suite's kill -9 found the update failing there)."""
    h = harness
    await h.text(RESIDENT, "/arrive")
    for method in ("editMessageText", "editMessageReplyMarkup"):
        h.request.fail(lambda c, m=method: c.method == m, 400, f"Bad Request: {reason}")
    calls = await h.choose(RESIDENT, WHO_QUESTION)
    draft = await drafts.get(h.db, RESIDENT)
    assert draft is not None and draft.data.get("relation") == "self"
    assert any("姓名" in str(c.params.get("text")) for c in sends(calls))  # the next question
    assert not any(APOLOGY in str(c.params.get("text")) for c in sends(calls))
