"""Outbox: enqueue in the caller's transaction, and the worker's limits, retries and states.

A real temp SQLite database, a fake bot that records calls and raises scripted errors, a
ManualClock and a fake sleep that advances it: nothing here really sleeps.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import random
import tomllib
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.app import build_application
from bot.config import parse_config
from bot.runtime.clock import ManualClock
from bot.runtime.outbox import OutboxWorker, plain_text, retry_after_seconds
from sandbox.recording import RecordingRequest
from storage import outbox
from storage.db import Database

# Constructing RetryAfter reads its own deprecated int form; not our code's warning.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
GROUP = -1001234


@dataclass
class Call:
    at: datetime
    method: str
    chat_id: int
    text: str | None
    kwargs: dict[str, Any]
    error: Exception | None


@dataclass
class FakeMessage:
    message_id: int


@dataclass
class FakeBot:
    """Records every call; ``errors[chat_id]`` is a list of exceptions raised one per call."""

    clock: ManualClock
    calls: list[Call] = field(default_factory=list)
    errors: dict[int, list[Exception]] = field(default_factory=lambda: defaultdict(list))
    always: dict[int, Exception] = field(default_factory=dict)

    async def _call(self, method: str, chat_id: int, text: str | None, **kw: Any) -> FakeMessage:
        error = self.errors[chat_id].pop(0) if self.errors[chat_id] else self.always.get(chat_id)
        self.calls.append(Call(self.clock.now(), method, chat_id, text, kw, error))
        if error is not None:
            raise error
        return FakeMessage(len(self.calls))

    async def do_api_request(self, endpoint: str, api_kwargs: dict[str, Any]) -> dict[str, Any]:
        """The outbox sends text this way: parameters as the Bot API takes them."""
        params = dict(api_kwargs)
        chat_id, text = params.pop("chat_id"), params.pop("text")
        if "reply_markup" in params:
            params["reply_markup"] = json.loads(params["reply_markup"])
        message = await self._call(endpoint, chat_id, text, **params)
        return {"message_id": message.message_id}

    async def send_photo(self, chat_id: int, photo: bytes, **kw: Any) -> FakeMessage:
        return await self._call("send_photo", chat_id, kw.pop("caption", None), photo=photo, **kw)

    @property
    def sent(self) -> list[Call]:
        return [c for c in self.calls if c.error is None]


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def bot(clock) -> FakeBot:
    return FakeBot(clock)


def make_worker(db, bot, clock, **kw: Any) -> OutboxWorker:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)
        await asyncio.sleep(0)

    return OutboxWorker(db, bot, clock, sleep=sleep, **kw)


async def put(db, clock, chat_id: int, text: str = "hi", **kw: Any) -> int | None:
    async with db.write() as conn:
        return await outbox.enqueue(conn, chat_id=chat_id, text=text, now=clock.now(), **kw)


async def put_many(db, clock, chats: list[int], priority: int = 9) -> None:
    async with db.write() as conn:
        for i, chat_id in enumerate(chats):
            await outbox.enqueue(
                conn, chat_id=chat_id, text=f"m{i}", now=clock.now(), priority=priority
            )


async def states(db) -> dict[int, str]:
    return {r["id"]: r["state"] for r in await db.fetchall("SELECT id, state FROM outbox")}


async def drain_until_done(worker: OutboxWorker, db, clock, step: float = 1.0) -> None:
    """Drain, move time on, repeat until nothing is pending (bounded)."""
    for _ in range(10_000):
        await worker.drain()
        if not await outbox.pending_count(db):
            return
        clock.advance(seconds=step)
    raise AssertionError("outbox never emptied")


# -- enqueue -------------------------------------------------------------------------------


async def test_same_dedup_key_makes_one_row_and_one_send(db, clock, bot):
    first = await put(db, clock, 1, "report received", dedup_key="report:42:notify")
    again = await put(db, clock, 1, "report received", dedup_key="report:42:notify")
    assert first is not None and again is None
    assert len(await states(db)) == 1
    assert await make_worker(db, bot, clock).drain() == 1
    assert len(bot.calls) == 1


async def test_rolled_back_transaction_leaves_no_rows(db, clock):
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await outbox.enqueue(conn, chat_id=1, text="a", now=clock.now(), dedup_key="k")
            raise RuntimeError("the report failed to save")
    assert await states(db) == {}
    assert await put(db, clock, 1, "a", dedup_key="k") is not None  # key not burnt


async def test_long_text_split_in_order_with_keyboard_on_last_part(db, clock, bot):
    text = "\n".join(["x" * 3000, "y" * 3000, "z" * 3000])
    keyboard = {"inline_keyboard": [[{"text": "OK", "callback_data": "v1:tip:1:ok"}]]}
    await put(db, clock, 7, text, reply_markup=keyboard, dedup_key="long")
    keys = [r["dedup_key"] for r in await db.fetchall("SELECT dedup_key FROM outbox ORDER BY id")]
    assert keys == ["long#1", "long#2", "long#3"]
    assert await put(db, clock, 7, text, reply_markup=keyboard, dedup_key="long") is None
    assert await make_worker(db, bot, clock).drain() == 3
    assert "\n".join(c.text for c in bot.calls) == text
    assert all(len(c.text) <= 4096 for c in bot.calls)
    markups = [c.kwargs.get("reply_markup") for c in bot.calls]
    assert markups == [None, None, keyboard]


async def test_enqueue_many_writes_what_enqueue_would_in_few_statements(
    db, clock, bot, monkeypatch
):
    """Many messages (more than one statement holds), a long one split in parts with the
    keyboard on the last, and a replayed dedup key that adds nothing."""
    monkeypatch.setattr(outbox, "_MAX_ROWS", 7)
    keyboard = {"inline_keyboard": [[{"text": "OK", "callback_data": "v1:ci:1"}]]}
    messages = [dict(chat_id=100 + i, text=f"m{i}", dedup_key=f"k{i}", priority=9)
                for i in range(20)]  # fmt: skip
    messages.append(dict(chat_id=7, text="x" * 3000 + "\n" + "y" * 3000, dedup_key="long",
                         reply_markup=keyboard, subject="monitoring:1"))  # fmt: skip
    async with db.write() as conn:
        await outbox.enqueue_many(conn, messages, clock.now())
        await outbox.enqueue_many(conn, messages[:3], clock.now())  # a replay
    rows = await db.fetchall("SELECT * FROM outbox ORDER BY id")
    assert [r["dedup_key"] for r in rows] == [f"k{i}" for i in range(20)] + ["long#1", "long#2"]
    assert [r["chat_id"] for r in rows[:3]] == [100, 101, 102]
    assert {r["priority"] for r in rows[:20]} == {9}
    assert [r["reply_markup"] for r in rows[20:]] == [None, json.dumps(keyboard)]
    assert rows[21]["subject"] == "monitoring:1"
    assert await make_worker(db, bot, clock).drain() == 22
    long1, long2, *short = bot.calls  # priority 5 before 9
    assert long2.kwargs["reply_markup"] == keyboard and "reply_markup" not in long1.kwargs
    assert [c.text for c in short] == [f"m{i}" for i in range(20)]


async def test_enqueue_checks_the_priority(db, clock):
    async with db.write() as conn:
        with pytest.raises(ValueError):
            await outbox.enqueue_many(conn, [dict(chat_id=1, text="a", priority=10)], clock.now())


async def test_photo_is_sent_with_caption(db, clock, bot):
    await put(db, clock, 3, "<b>QR</b>", photo=b"\x89PNG fake")
    assert await make_worker(db, bot, clock).drain() == 1
    (call,) = bot.calls
    assert call.method == "send_photo" and call.text == "<b>QR</b>"
    assert call.kwargs["photo"] == b"\x89PNG fake"


async def test_bad_priority_rejected(db, clock):
    with pytest.raises(ValueError):
        await put(db, clock, 1, priority=10)


# -- ordering and rate limits --------------------------------------------------------------


async def test_alert_behind_a_thousand_reminders_goes_first(db, clock, bot):
    await put_many(db, clock, list(range(1, 1001)), priority=9)
    alert = await put(db, clock, 5000, "escalation", priority=0)
    claimed = await outbox.claim(db, clock.now(), 25)
    assert claimed[0].id == alert
    await outbox.release(db, [r.id for r in claimed])
    worker = make_worker(db, bot, clock)
    await worker.drain(max_rounds=1)
    assert bot.calls[0].chat_id == 5000


async def test_global_rate_never_exceeded_and_nearly_reached(db, clock, bot):
    rate, count = 25, 3000
    await put_many(db, clock, list(range(1, count + 1)))
    worker = make_worker(db, bot, clock, rate_per_second=rate)
    assert await worker.drain(max_rounds=10_000) == count
    times = [c.at for c in bot.calls]
    # Any window [t, t+1s) holds at most `rate` sends: send i and send i+rate are >= 1s apart.
    assert all(times[i + rate] - times[i] >= timedelta(seconds=1) for i in range(count - rate))
    achieved = count / ((times[-1] - times[0]).total_seconds() + 1)
    assert achieved >= 0.95 * rate


async def test_group_limited_per_minute_without_blocking_others(db, clock, bot):
    await put_many(db, clock, [GROUP] * 50 + [1, 2, 3], priority=5)
    worker = make_worker(db, bot, clock)
    await worker.drain()
    assert {c.chat_id for c in bot.calls} >= {1, 2, 3}  # private chats not held up
    assert sum(c.chat_id == GROUP for c in bot.calls) == 20
    await drain_until_done(worker, db, clock)
    group_times = [c.at for c in bot.calls if c.chat_id == GROUP]
    assert len(group_times) == 50
    assert all(
        group_times[i + 20] - group_times[i] >= timedelta(seconds=60)
        for i in range(len(group_times) - 20)
    )
    rows = await db.fetchall("SELECT attempts FROM outbox WHERE chat_id = ?", (GROUP,))
    assert {r["attempts"] for r in rows} == {1}  # deferral is not an attempt


# -- errors --------------------------------------------------------------------------------


async def test_retry_after_pauses_everything_and_loses_nothing(db, clock, bot):
    bot.errors[1] = [RetryAfter(30)]
    ids = [await put(db, clock, chat) for chat in (1, 2, 3)]
    worker = make_worker(db, bot, clock)
    await drain_until_done(worker, db, clock)
    flood_at = bot.calls[0].at
    assert bot.calls[0].error is not None
    assert all(c.at >= flood_at + timedelta(seconds=30) for c in bot.calls[1:])
    assert sorted(c.chat_id for c in bot.sent) == [1, 2, 3]  # each once: no loss, no dup
    assert set((await states(db)).values()) == {"sent"}
    first = await outbox.get(db, ids[0])
    assert first is not None and first.attempts == 1  # flood control is not the row's fault


@pytest.mark.parametrize("opt_in", ["false", "true"])
def test_retry_after_read_as_int_or_timedelta(monkeypatch, opt_in):
    monkeypatch.setenv("PTB_TIMEDELTA", opt_in)
    assert retry_after_seconds(RetryAfter(timedelta(seconds=12))) == 12
    assert retry_after_seconds(RetryAfter(7)) == 7


async def test_network_errors_back_off_then_succeed(db, clock, bot):
    bot.errors[1] = [NetworkError("connection reset"), TimedOut(), NetworkError("reset")]
    await put(db, clock, 1)
    await drain_until_done(make_worker(db, bot, clock), db, clock, step=0.5)
    gaps = [(b.at - a.at).total_seconds() for a, b in zip(bot.calls, bot.calls[1:], strict=False)]
    assert gaps == [2, 4, 8]
    assert len(bot.sent) == 1


async def test_gives_up_only_at_max_age(db, clock, bot):
    """2 + 4 + 8 + 16 s of backoff: the fifth try, 30 s after the row was enqueued, is the
    first at its maximum age; it fails the row (tests/test_outbox_outage.py has the rest)."""
    bot.always[1] = NetworkError("down")
    row_id = await put(db, clock, 1)
    worker = make_worker(db, bot, clock, max_age=timedelta(seconds=30))
    await drain_until_done(worker, db, clock, step=1)
    assert len(bot.calls) == 5
    row = await outbox.get(db, row_id)
    assert row is not None and row.state == "failed" and row.attempts == 5


async def test_forbidden_marks_unreachable_and_escalates_once(db, clock, bot):
    escalated: list[int] = []

    async def on_unreachable(chat_id: int) -> None:
        escalated.append(chat_id)

    bot.errors[9] = [Forbidden("bot was blocked by the user")] * 2
    await put(db, clock, 9, "check in")
    await put(db, clock, 9, "check in again")
    worker = make_worker(db, bot, clock, on_unreachable=on_unreachable)
    assert await worker.drain() == 0
    assert set((await states(db)).values()) == {"unreachable"}
    assert escalated == [9]  # once per blocking, not per message
    assert await outbox.is_unreachable(db, 9)
    await put(db, clock, 9, "unblocked now")
    assert await worker.drain() == 1
    assert not await outbox.is_unreachable(db, 9)  # a delivery proves reachability


async def test_unparsable_html_is_resent_as_plain_text(db, clock, bot):
    bot.errors[1] = [BadRequest('Can\'t parse entities: unsupported start tag "br" at 5')]
    row_id = await put(db, clock, 1, "<b>Alert</b> fever &amp; cough<br>", priority=0)
    assert await make_worker(db, bot, clock).drain() == 1
    html_call, plain_call = bot.calls
    assert html_call.kwargs["parse_mode"] == "HTML"
    assert "parse_mode" not in plain_call.kwargs
    assert plain_call.text == "Alert fever & cough"
    row = await outbox.get(db, row_id)
    assert row is not None and row.state == "sent"


async def test_other_bad_request_fails_without_retry(db, clock, bot):
    bot.errors[1] = [BadRequest("Chat not found")]
    row_id = await put(db, clock, 1)
    worker = make_worker(db, bot, clock)
    await worker.drain()
    clock.advance(hours=1)
    await worker.drain()
    assert len(bot.calls) == 1
    row = await db.fetchone("SELECT state, error FROM outbox WHERE id = ?", (row_id,))
    assert row["state"] == "failed" and "Chat not found" in row["error"]


async def test_unexpected_exception_never_escapes_and_is_retried(db, clock, bot):
    bot.errors[1] = [RuntimeError("bug in a fake")]
    await put(db, clock, 1)
    await drain_until_done(make_worker(db, bot, clock), db, clock)
    assert len(bot.sent) == 1


# -- the run loop --------------------------------------------------------------------------


async def wait_for(predicate, timeout: float = 60.0) -> None:
    """Until ``predicate()`` holds. The worker's database calls run in aiosqlite's thread, so
    how many loop rounds they take depends on the machine's load: bound the wait by a
    generous time, which only a hang exceeds, never by a count of rounds."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0)


async def test_run_requeues_stale_sending_and_sends_on_wake(db, clock, bot):
    stale = await put(db, clock, 1, "was in flight when we crashed")
    assert [r.id for r in await outbox.claim(db, clock.now(), 10)] == [stale]
    worker = make_worker(db, bot, clock)
    task = asyncio.create_task(worker.run())
    await wait_for(lambda: len(bot.sent) == 1)
    await put(db, clock, 2, "new")
    worker.wake()
    await wait_for(lambda: len(bot.sent) == 2)
    worker.stop()
    await asyncio.wait_for(task, 60)
    assert set((await states(db)).values()) == {"sent"}


def test_plain_text_strips_tags_and_unescapes():
    assert plain_text('<a href="x">1 &lt; 2</a> <i>ok</i>') == "1 < 2 ok"


# -- concurrency, pacing and priority in (virtual) time ------------------------------------


class TickingClock(ManualClock):
    """A manual clock that, like a real one, moves on between two readings (by 1 µs)."""

    def now(self) -> datetime:
        reading = super().now()
        self.advance(microseconds=1)
        return reading


class VirtualTime:
    """Sleeping on the ManualClock for concurrent tasks: sleepers wake in due order, and the
    clock jumps to the next wake-up only once nothing else can run (no ready task, and no
    database call under way — SQLite answers in real time while the clock stands still)."""

    def __init__(self, clock: ManualClock, db: Database) -> None:
        self.clock = clock
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._db_busy = 0
        self._track(db)

    def _track(self, db: Database) -> None:
        write, fetchone, fetchall = db.write, db.fetchone, db.fetchall

        @asynccontextmanager
        async def tracked_write() -> AsyncIterator[Any]:
            self._db_busy += 1
            try:
                async with write() as conn:
                    yield conn
            finally:
                self._db_busy -= 1

        def tracked(call):
            async def wrapper(*args: Any) -> Any:
                self._db_busy += 1
                try:
                    return await call(*args)
                finally:
                    self._db_busy -= 1

            return wrapper

        db.write, db.fetchone, db.fetchall = tracked_write, tracked(fetchone), tracked(fetchall)

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        due = self.clock.now() + timedelta(seconds=max(0.0, seconds))
        heapq.heappush(self._sleepers, (due, next(self._order), future))
        await future

    async def run(self, task: asyncio.Task, limit: float = 7200) -> Any:
        """Drive virtual time until ``task`` is done; returns its result."""
        deadline = self.clock.now() + timedelta(seconds=limit)
        while not task.done():
            for _ in range(20):
                await asyncio.sleep(0)
            while self._sleepers and self._sleepers[0][2].done():  # cancelled sleeps
                heapq.heappop(self._sleepers)
            if self._db_busy or not self._sleepers or task.done():
                await asyncio.sleep(0.001)
                continue
            due = self._sleepers[0][0]
            assert due <= deadline, "virtual time ran past the limit"
            if due > self.clock.now():
                self.clock.set(due)
            while self._sleepers and self._sleepers[0][0] <= self.clock.now():
                _, _, future = heapq.heappop(self._sleepers)
                if not future.done():
                    future.set_result(None)
        return task.result()


@dataclass
class LatencyBot(FakeBot):
    """A FakeBot whose calls take a random time (virtual): the message arrives somewhere
    between the request's start and its answer. Counts the calls in flight."""

    vt: VirtualTime | None = None
    latency: tuple[float, float] = (0.001, 0.05)
    rng: random.Random = field(default_factory=lambda: random.Random(4))
    in_flight: int = 0
    max_in_flight: int = 0

    async def _call(self, method: str, chat_id: int, text: str | None, **kw: Any) -> FakeMessage:
        assert self.vt is not None
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            total, share = self.rng.uniform(*self.latency), self.rng.random()
            await self.vt.sleep(total * share)
            message = await super()._call(method, chat_id, text, **kw)  # arrives now
            await self.vt.sleep(total * (1 - share))
            return message
        finally:
            self.in_flight -= 1


def virtual_worker(db, **kw: Any) -> tuple[OutboxWorker, LatencyBot, VirtualTime]:
    """A worker, its LatencyBot and the VirtualTime driving both on a TickingClock."""
    vt = VirtualTime(kw.pop("clock", None) or TickingClock(T0), db)
    bot = LatencyBot(vt.clock, vt=vt, latency=kw.pop("latency", (0.001, 0.05)))
    return OutboxWorker(db, bot, vt.clock, sleep=vt.sleep, **kw), bot, vt


async def test_concurrency_bound_is_respected(db, clock):
    worker, bot, vt = virtual_worker(db, concurrency=3, latency=(0.2, 0.6))
    await put_many(db, clock, list(range(1, 61)))
    assert await vt.run(asyncio.create_task(worker.drain())) == 60
    assert bot.max_in_flight == 3  # reached (40 ms pacing, 200-600 ms latency), never passed
    assert sorted(c.chat_id for c in bot.sent) == list(range(1, 61))


async def test_rate_at_the_receiver_with_jittery_latency(db, clock):
    """Counted where it matters: when messages arrive. Starts are paced at 1/rate and a send
    keeps its slot until one second after its answer, so however the latency jitters no
    one-second window at the receiver holds more than `rate` — and the rate is still nearly
    reached."""
    rate, count = 25, 600
    worker, bot, vt = virtual_worker(db, rate_per_second=rate, concurrency=8)
    await put_many(db, clock, list(range(1, count + 1)))
    assert await vt.run(asyncio.create_task(worker.drain(max_rounds=10_000))) == count
    arrivals = sorted(c.at for c in bot.calls)
    assert all(
        arrivals[i + rate] - arrivals[i] >= timedelta(seconds=1) for i in range(count - rate)
    )
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(arrivals)]
    assert max(gaps) < 0.2  # paced: no second-long stalls between bursts
    achieved = (count - 1) / (arrivals[-1] - arrivals[0]).total_seconds()
    assert 0.95 * rate <= achieved <= rate


@pytest.mark.parametrize("rate", [25, 400])
async def test_alert_behind_a_running_wave_waits_less_than_two_seconds(db, clock, rate):
    worker, bot, vt = virtual_worker(db, rate_per_second=rate)
    clock = vt.clock
    wave = 20 * rate
    await put_many(db, clock, list(range(1, wave + 1)), priority=9)

    async def scenario() -> tuple[datetime, datetime]:
        running = asyncio.create_task(worker.run())
        while len(bot.calls) < wave // 3:
            await vt.sleep(0.01)
        queued = clock.now()
        await put(db, clock, 5000, "fever alert", priority=0)
        worker.wake()
        while not any(c.chat_id == 5000 for c in bot.calls):
            await vt.sleep(0.01)
        sent = next(c.at for c in bot.calls if c.chat_id == 5000)
        worker.stop()
        await running
        return queued, sent

    queued, sent = await vt.run(asyncio.create_task(scenario()))
    assert (sent - queued).total_seconds() < 2
    assert len(bot.calls) < wave  # long before the wave ended


async def test_crash_repeats_at_most_the_messages_in_flight(db, clock):
    worker, bot, vt = virtual_worker(db, concurrency=4, latency=(0.3, 0.9))
    await put_many(db, clock, list(range(1, 201)))

    async def crash() -> None:
        running = asyncio.create_task(worker.run())
        while len(bot.sent) < 40:
            await vt.sleep(0.01)
        running.cancel()  # the process dies: nothing after this point runs
        with pytest.raises(asyncio.CancelledError):
            await running

    await vt.run(asyncio.create_task(crash()))
    sending = [s for s in (await states(db)).values() if s == "sending"]
    assert 0 < len(sending) <= 4  # claimed but unsent rows were given back
    restarted, _, vt2 = virtual_worker(db, clock=vt.clock)
    restarted.bot = bot
    bot.vt = vt2
    assert await outbox.requeue_stale_sending(db) == len(sending)
    await vt2.run(asyncio.create_task(restarted.drain()))
    per_chat = defaultdict(int)
    for call in bot.sent:
        per_chat[call.chat_id] += 1
    assert set(per_chat) == set(range(1, 201))  # nothing lost
    assert sum(n - 1 for n in per_chat.values()) <= 4  # at most the ones in flight, once
    assert set((await states(db)).values()) == {"sent"}


async def test_the_configured_outbox_settings_reach_the_worker(db):
    data = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    data["outbox"] |= {"concurrency": 1, "rate_per_second": 10, "group_per_minute": 5}
    config = parse_config(data, ROOT)
    app = build_application(config, "1:T", db, ManualClock(T0), request=RecordingRequest())
    worker = app.bot_data["services"].outbox
    assert (worker.concurrency, worker.group_per_minute, worker.batch_size) == (1, 5, 5)
