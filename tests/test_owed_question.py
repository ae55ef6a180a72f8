"""The open question survives a crash (issue 11): an answer is saved before the next question
goes out, so a bot killed between the two must ask that question again when it starts, without
the resident having to write first. A question that went out is not asked twice. The owed
questions are queued in the outbox at start, not sent then: a start during an outage is not
held up by them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram.error import TimedOut

from bot.app import _tick
from bot.config import Config
from bot.runtime import api
from bot.runtime.clock import ManualClock
from storage import drafts, outbox
from tests.harness import Harness

RESIDENT = 515151
FIRST = "这次是给谁登记？"  # the arrival's first question (for whom)
RESUME = "接着来"  # the resume note: the conversation goes on


def killed_at_the_next_question(h: Harness) -> None:
    """The process dies (the update's task is cancelled) as the question after the resident's
    answer is being sent: the answer is stored, nothing reached the resident."""
    real = h.services.replies.send

    async def send(chat_id: int, text: str, **params: Any) -> int | None:
        if params.get("reply_markup") is not None and text != FIRST:
            raise asyncio.CancelledError
        return await real(chat_id, text, **params)

    h.services.replies.send = send  # type: ignore[method-assign]


async def test_a_crash_between_answer_and_question_asks_again_at_start(
    config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "paicha.sqlite3"
    h = await Harness.start(config, path, clock)
    await h.text(RESIDENT, "/arrive")
    killed_at_the_next_question(h)
    with pytest.raises(asyncio.CancelledError):
        await h.choose(RESIDENT, "本人")
    saved = await drafts.get(h.db, RESIDENT)
    assert saved is not None and saved.data.get("relation") == "self"  # the answer is stored
    await h.stop()

    clock.advance(minutes=2)  # the bot comes back
    h = await Harness.start(config, path, clock)  # a fresh application, the same database
    try:
        assert h.texts(RESIDENT) == []  # queued at start, sent by the outbox
        await h.drain_outbox()
        texts = h.texts(RESIDENT)  # nobody wrote anything since
        draft = await drafts.get(h.db, RESIDENT)
        assert draft.step == saved.step and draft.data == saved.data
        assert len(texts) == 2 and RESUME in texts[0]
        assert texts[1] == "请输入您的真实姓名："  # the question after the saved answer
        clock.advance(minutes=1)
        await h.stop()  # asked now: a second start does not ask it again
        h = await Harness.start(config, path, clock)
        await h.drain_outbox()
        assert h.texts(RESIDENT) == []
    finally:
        await h.stop()


async def test_questions_that_went_out_are_not_asked_again(
    config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    """A scheduler tick stores which questions went out: a kill after it asks nobody again."""
    path = tmp_path / "paicha.sqlite3"
    h = await Harness.start(config, path, clock)
    await h.text(RESIDENT, "/arrive")
    await h.choose(RESIDENT, "本人")
    await _tick(SimpleNamespace(bot_data=h.app.bot_data))  # type: ignore[arg-type]

    clock.advance(minutes=2)
    again = await Harness.start(config, path, clock)  # killed: no shutdown of the first
    try:
        await again.drain_outbox()
        assert again.texts(RESIDENT) == []
    finally:
        await again.stop()
        await h.stop()


async def test_a_draft_past_its_timeout_is_not_asked_again(
    config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    """It is ending on the first tick (its owner is told): asking it again would only be
    taken back a moment later."""
    path = tmp_path / "paicha.sqlite3"
    h = await Harness.start(config, path, clock)
    await h.text(RESIDENT, "/arrive")
    killed_at_the_next_question(h)
    with pytest.raises(asyncio.CancelledError):
        await h.choose(RESIDENT, "本人")
    await h.stop()

    clock.advance(minutes=config.bot.conversation_timeout_minutes + 1)
    h = await Harness.start(config, path, clock)
    try:
        await h.drain_outbox()
        assert h.texts(RESIDENT) == []
    finally:
        await h.stop()


async def test_a_start_during_an_outage_is_not_held_up_by_owed_questions(
    config: Config, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every owed question is queued (note and question, with its buttons) while the Bot API
    fails: the start tries no send and sleeps through no retry; the outbox delivers them in
    order once the API answers."""
    path = tmp_path / "paicha.sqlite3"
    h = await Harness.start(config, path, clock)
    residents = (RESIDENT, RESIDENT + 1, RESIDENT + 2)
    for resident in residents:
        await h.text(resident, "/arrive")
    killed = h.services.replies.send

    async def never_sent(chat_id: int, text: str, **params: Any) -> int | None:
        raise asyncio.CancelledError  # the bot dies before the next questions go out

    h.services.replies.send = never_sent  # type: ignore[method-assign]
    for resident in residents:
        with pytest.raises(asyncio.CancelledError):
            await h.choose(resident, "本人")
    h.services.replies.send = killed  # type: ignore[method-assign]
    await h.stop()

    clock.advance(minutes=2)
    tried: list[int] = []

    async def down(bot: object, chat_id: int, text: str, **params: Any) -> int | None:
        tried.append(chat_id)
        raise TimedOut  # would be handed to the outbox at once, without a pause

    monkeypatch.setattr(api, "send_text", down)
    h = await Harness.start(config, path, clock)  # the Bot API fails while the bot starts
    try:
        assert tried == [] and h.texts(RESIDENT) == []  # the start tried no send
        assert await outbox.pending_count(h.db) == 2 * len(residents)
        monkeypatch.undo()  # the Bot API answers again
        await h.drain_outbox()
        for resident in residents:
            note, question = h.request.sent_to(resident)
            assert RESUME in note.params["text"]
            assert question.params["text"] == "请输入您的真实姓名："
            assert question.params["reply_markup"] == {"remove_keyboard": True}  # as asked
    finally:
        await h.stop()
