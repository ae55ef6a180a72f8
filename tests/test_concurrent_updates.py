"""A crowd, not a queue: different people's updates are handled side by side, one person's (and
one group's) in the order they came, and no waiting entry outlives its updates.

Updates are submitted the way python-telegram-bot's update fetcher does it: one task per update,
in arrival order, each through ``application.update_processor``. A slow Bot API round trip is a
call held by an ``asyncio.Event`` until the test lets it go: nothing here sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor

from bot.runtime.updates import InOrderPerSender, keys_of
from sandbox.recording import UpdateFactory
from storage import drafts
from tests.harness import Harness

ALICE, BOB = 5101, 5102
GROUP = -1009876543210
WAIT = 10  # seconds: a bound so a broken processor fails instead of hanging, never a pause


class SlowApi:
    """Wraps the recording double: the first ``sendMessage`` to ``held`` waits for ``go``, and
    ``answered[chat]`` is set when a message to that chat goes out."""

    def __init__(self, harness: Harness, held: int) -> None:
        self.held = held
        self.reached = asyncio.Event()  # the held call arrived
        self.go = asyncio.Event()
        self.answered: dict[int, asyncio.Event] = {ALICE: asyncio.Event(), BOB: asyncio.Event()}
        self._inner = harness.request.do_request
        harness.request.do_request = self._do_request  # type: ignore[method-assign]

    async def _do_request(self, url: str, method: str, request_data: Any = None, *args: Any,
                          **kwargs: Any) -> tuple[int, bytes]:  # fmt: skip
        chat = (request_data.json_parameters if request_data else {}).get("chat_id")
        chat = int(chat) if chat is not None else None
        if url.endswith("/sendMessage") and chat == self.held and not self.reached.is_set():
            self.reached.set()
            await self.go.wait()
        answer = await self._inner(url, method, request_data, *args, **kwargs)
        if url.endswith("/sendMessage") and chat in self.answered:
            self.answered[chat].set()
        return answer


def submit(
    app: Application,
    payload: dict,
    log: list[str] | None = None,
    name: str = "",
    processor: BaseUpdateProcessor | None = None,
) -> asyncio.Task:
    """What the update fetcher does with an update taken from ``update_queue``."""
    update = Update.de_json(payload, app.bot)
    work = app.process_update(update)
    if log is not None:
        work = _traced(work, log, name)
    return asyncio.create_task((processor or app.update_processor).process_update(update, work))


async def _traced(work: Awaitable[None], log: list[str], name: str) -> None:
    log.append(f"{name} start")
    await work
    log.append(f"{name} end")


def message(harness: Harness, user_id: int, text: str) -> dict:
    user = harness.updates.user(user_id)
    return harness.updates.message(user, int(harness.clock.now().timestamp()), text=text)


def waiting(app: Application) -> int:
    processor = app.update_processor
    assert isinstance(processor, InOrderPerSender)
    return processor.waiting


async def test_the_bot_processes_updates_concurrently_as_configured(harness: Harness) -> None:
    processor = harness.app.update_processor
    assert isinstance(processor, InOrderPerSender)
    assert processor.limit == harness.config.bot.concurrent_updates == 64


async def test_one_persons_second_update_waits_for_the_first(harness: Harness) -> None:
    api = SlowApi(harness, held=ALICE)
    log: list[str] = []
    first = submit(harness.app, message(harness, ALICE, "/arrive"), log, "arrive")
    second = submit(harness.app, message(harness, ALICE, "/cancel"), log, "cancel")
    await asyncio.wait_for(api.reached.wait(), WAIT)  # /arrive is waiting for Telegram
    assert log == ["arrive start"]  # /cancel has not started meanwhile
    api.go.set()
    await asyncio.wait_for(asyncio.gather(first, second), WAIT)
    assert log == ["arrive start", "arrive end", "cancel start", "cancel end"]
    # what Alice saw: the first question, then the cancellation of that report
    cancelled = harness.services.text("zh_CN", "conversation", "cancelled", flow="arrival")
    assert harness.texts(ALICE)[-1] == cancelled
    assert await drafts.get(harness.db, ALICE) is None
    assert waiting(harness.app) == 0


async def test_another_person_is_answered_while_one_waits_for_telegram(harness: Harness) -> None:
    api = SlowApi(harness, held=ALICE)
    alice = submit(harness.app, message(harness, ALICE, "/arrive"))
    await asyncio.wait_for(api.reached.wait(), WAIT)
    bob = submit(harness.app, message(harness, BOB, "/arrive"))
    await asyncio.wait_for(api.answered[BOB].wait(), WAIT)  # Bob's question went out ...
    assert not alice.done() and not api.answered[ALICE].is_set()  # ... while Alice's waits
    api.go.set()
    await asyncio.wait_for(asyncio.gather(alice, bob), WAIT)
    assert harness.texts(ALICE) and harness.texts(BOB)
    assert (await drafts.get(harness.db, ALICE)).flow == "arrival"
    assert (await drafts.get(harness.db, BOB)).flow == "arrival"
    assert waiting(harness.app) == 0


async def test_an_update_waiting_its_turn_holds_no_slot(harness: Harness) -> None:
    """Two slots: Alice's first update holds one, her second waits its turn without the
    other, so Bob is answered meanwhile (a fast tapper cannot stall the town)."""
    processor = InOrderPerSender(2)
    api = SlowApi(harness, held=ALICE)
    app = harness.app
    alice = [submit(app, message(harness, ALICE, "/arrive"), processor=processor)]
    await asyncio.wait_for(api.reached.wait(), WAIT)
    alice.append(submit(app, message(harness, ALICE, "/cancel"), processor=processor))
    bob = submit(app, message(harness, BOB, "/arrive"), processor=processor)
    await asyncio.wait_for(api.answered[BOB].wait(), WAIT)
    await asyncio.wait_for(bob, WAIT)
    assert not any(task.done() for task in alice)
    api.go.set()
    await asyncio.wait_for(asyncio.gather(*alice), WAIT)
    assert processor.waiting == 0


# -- the processor alone, over plain coroutines --------------------------------------------

FACTORY = UpdateFactory()


def private(user_id: int) -> Update:
    return Update.de_json(FACTORY.message(FACTORY.user(user_id), 0, text="x"), None)


def in_group(user_id: int, chat_id: int = GROUP) -> Update:
    payload = FACTORY.message(FACTORY.user(user_id), 0, text="x")
    payload["message"]["chat"] = {"id": chat_id, "type": "supergroup", "title": "领导小组"}
    return Update.de_json(payload, None)


def button_in_group(user_id: int) -> Update:
    payload = FACTORY.callback(FACTORY.user(user_id), 0, "v1:ack:1")
    payload["callback_query"]["message"]["chat"] = {"id": GROUP, "type": "supergroup", "title": "g"}
    return Update.de_json(payload, None)


@pytest.mark.parametrize(
    ("update", "keys"),
    [
        (private(ALICE), {ALICE}),  # the private chat's id is the user's
        (in_group(ALICE), {ALICE, GROUP}),  # in turn with her private chat and with the group
        (button_in_group(BOB), {BOB, GROUP}),
        (Update(update_id=1), set()),  # nobody's: only the slots bound it
        ("a custom update", set()),
    ],
)
def test_whose_turn_an_update_takes(update: object, keys: set[int]) -> None:
    assert set(keys_of(update)) == keys


def step(log: list[str], name: str, gate: asyncio.Event | None = None) -> Callable:
    async def run() -> None:
        log.append(f"{name} start")
        if gate is not None:
            await gate.wait()
        log.append(f"{name} end")

    return run


async def settle() -> None:
    """Let every ready task run: plain coroutines, no I/O, so a few passes of the loop do."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_group_and_its_members_take_turns() -> None:
    """Alice in the group waits for the group's earlier update (Bob's) and her own private
    one waits for her; Carol in her private chat goes ahead of all."""
    processor, log, gate = InOrderPerSender(8), [], asyncio.Event()
    bob = asyncio.create_task(processor.process_update(in_group(BOB), step(log, "bob", gate)()))
    alice_group = processor.process_update(in_group(ALICE), step(log, "alice-group")())
    alice = asyncio.create_task(alice_group)
    alice_private = asyncio.create_task(
        processor.process_update(private(ALICE), step(log, "alice-private")())
    )
    carol = asyncio.create_task(processor.process_update(private(5103), step(log, "carol")()))
    await asyncio.wait_for(carol, WAIT)
    await settle()
    assert log == ["bob start", "carol start", "carol end"]
    gate.set()
    await asyncio.wait_for(asyncio.gather(bob, alice, alice_private), WAIT)
    assert log[3:] == [
        "bob end", "alice-group start", "alice-group end", "alice-private start",
        "alice-private end",
    ]  # fmt: skip
    assert processor.waiting == 0


async def test_a_cancelled_update_does_not_let_the_next_overtake() -> None:
    processor, log, gate = InOrderPerSender(8), [], asyncio.Event()
    first = asyncio.create_task(processor.process_update(private(ALICE), step(log, "1", gate)()))
    second = asyncio.create_task(processor.process_update(private(ALICE), step(log, "2")()))
    third = asyncio.create_task(processor.process_update(private(ALICE), step(log, "3")()))
    await settle()
    second.cancel()  # e.g. the loop shutting down under it
    await asyncio.wait({second})
    await settle()
    assert log == ["1 start"]  # the third still waits for the first
    gate.set()
    await asyncio.wait_for(asyncio.gather(first, third), WAIT)
    assert log == ["1 start", "1 end", "3 start", "3 end"]
    assert processor.waiting == 0


def test_the_limit_is_positive() -> None:
    with pytest.raises(ValueError):
        InOrderPerSender(0)
