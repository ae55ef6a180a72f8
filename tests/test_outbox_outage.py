"""Alerts survive an outage (issue 11): network errors, 5xx and timeouts are never final.

A Bot double that fails every call during an outage window of clock time, then recovers; an
injected clock and sleep (nothing really sleeps). A row fails only on a definite refusal or
when it is older than the maximum age, and every failure and every send whose answer was lost
is recorded on the row and counted (``storage.outbox.trouble``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.app import SEND_TIMEOUTS, build_application
from bot.config import parse_config
from bot.runtime.clock import ManualClock
from bot.runtime.outbox import MAX_BACKOFF, backoff, maybe_delivered
from storage import outbox
from storage.db import Database
from storage.outbox import PRIORITY_ALERT
from tests.test_outbox import (
    GROUP,
    T0,
    Call,
    FakeBot,
    drain_until_done,
    make_worker,
    put,
    wait_for,
)

ROOT = Path(__file__).resolve().parent.parent
RESIDENT = 4242
ALERT_TEXT = "🔴 <b>发热预警</b> 王** 38.6℃"


def outage_errors() -> itertools.cycle[Exception]:
    """What a Bot API outage looks like from the bot: 502s, resets, lost answers."""
    return itertools.cycle(
        [NetworkError("Bad Gateway"), TimedOut(), NetworkError("httpx.ConnectError: reset")]
    )


@dataclass
class OutageBot(FakeBot):
    """Every call fails while the clock is before ``until``; then the API is back."""

    until: datetime = T0
    faults: itertools.cycle[Exception] = field(default_factory=outage_errors)

    async def _call(self, method, chat_id, text, **kw):
        if self.clock.now() < self.until:
            error = next(self.faults)
            self.calls.append(Call(self.clock.now(), method, chat_id, text, kw, error))
            raise error
        return await super()._call(method, chat_id, text, **kw)

    def attempts_at(self, chat_id: int) -> list[datetime]:
        return [c.at for c in self.calls if c.chat_id == chat_id]


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


@pytest.fixture
def down(clock) -> OutageBot:
    return OutageBot(clock)


async def row_of(db, row_id: int) -> dict:
    row = await db.fetchone("SELECT * FROM outbox WHERE id = ?", (row_id,))
    return dict(row)


# -- the outage ----------------------------------------------------------------------------


async def test_alert_survives_a_20_minute_outage_and_is_delivered_once(db, clock, down):
    """The real run loop, its sleeps advancing the clock: 20 minutes of 502s, resets and
    timeouts (the old worker gave up after about 4½ minutes), then the API is back."""
    down.until = T0 + timedelta(minutes=20)
    alert = await put(db, clock, GROUP, ALERT_TEXT, priority=PRIORITY_ALERT, dedup_key="fever:1")
    notice = await put(db, clock, RESIDENT, "您的登记已收到")
    worker = make_worker(db, down, clock)
    task = asyncio.create_task(worker.run())
    try:
        await wait_for(lambda: {c.chat_id for c in down.sent} == {GROUP, RESIDENT})
    finally:
        worker.stop()
        await asyncio.wait_for(task, 60)
    assert [c.text for c in down.sent if c.chat_id == GROUP] == [ALERT_TEXT]  # once
    assert [c.text for c in down.sent if c.chat_id == RESIDENT] == ["您的登记已收到"]
    for row_id in (alert, notice):
        row = await row_of(db, row_id)
        assert (row["state"], row["failed_at"]) == ("sent", None)
    tries = down.attempts_at(GROUP)
    gaps = [b - a for a, b in itertools.pairwise(tries)]
    assert max(gaps) <= MAX_BACKOFF  # never more than a few minutes between tries
    assert tries[-1] - down.until <= MAX_BACKOFF  # the recovery is noticed within the cap
    assert len(tries) > 8  # more attempts than the old max_attempts allowed
    assert (await outbox.trouble(db, T0, clock.now() + timedelta(seconds=1))).failed == 0


async def test_the_first_delivery_after_an_outage_makes_every_backed_off_row_due(db, clock, down):
    """After a long outage each row waits up to MAX_BACKOFF for its next try; the first send
    that gets through (here a new alert) brings the others forward instead of leaving a fever
    alert minutes behind a recovered API."""
    down.until = T0 + timedelta(minutes=30)
    old = [await put(db, clock, GROUP - i, f"预警 {i}", priority=PRIORITY_ALERT) for i in range(5)]
    worker = make_worker(db, down, clock)
    while clock.now() < down.until:  # the outage: every row backs off up to the cap
        await worker.drain()
        clock.advance(seconds=30)
    assert {(await row_of(db, r))["state"] for r in old} == {"pending"}
    waiting = [datetime.fromisoformat((await row_of(db, r))["not_before"]) for r in old]
    assert max(waiting) - clock.now() > timedelta(minutes=1)  # they would wait minutes more
    await put(db, clock, RESIDENT, "新的提醒", priority=PRIORITY_ALERT)
    await worker.drain()  # the new one gets through: the API is back
    await worker.drain()  # ... and the backed-off alerts go at once
    assert sorted(c.text for c in down.sent) == sorted(
        ["新的提醒", *(f"预警 {i}" for i in range(5))]
    )
    assert {(await row_of(db, r))["state"] for r in old} == {"sent"}


@pytest.mark.parametrize("hours", [1, 6, 23.9])
async def test_an_outage_of_any_length_below_max_age_loses_nothing(db, clock, down, hours):
    down.until = T0 + timedelta(hours=hours)
    alert = await put(db, clock, GROUP, ALERT_TEXT, priority=PRIORITY_ALERT)
    await drain_until_done(make_worker(db, down, clock), db, clock, step=60)
    assert [c.text for c in down.sent] == [ALERT_TEXT]
    assert (await row_of(db, alert))["state"] == "sent"


async def test_a_row_older_than_max_age_fails_loudly_and_is_counted(db, clock, down, caplog):
    down.until = T0 + timedelta(days=3)  # the API never comes back in time
    alert = await put(db, clock, GROUP, ALERT_TEXT, priority=PRIORITY_ALERT, subject="fever:7")
    worker = make_worker(db, down, clock, max_age=timedelta(hours=2))
    with caplog.at_level(logging.ERROR, logger="bot.runtime.outbox"):
        await drain_until_done(worker, db, clock, step=60)
    row = await row_of(db, alert)
    assert row["state"] == "failed"
    failed_at = datetime.fromisoformat(row["failed_at"])
    assert T0 + timedelta(hours=2) <= failed_at <= T0 + timedelta(hours=2) + MAX_BACKOFF
    assert down.attempts_at(GROUP)[-1] == failed_at  # no try after giving up
    assert "undelivered after" in row["error"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "FAILED" in errors[0] and "fever:7" in errors[0]
    assert str(GROUP) not in errors[0] and "王" not in errors[0]  # no chat id, no text
    counted = await outbox.trouble(db, T0, failed_at + timedelta(seconds=1))
    assert (counted.failed, counted.repeats) == (1, 0)
    assert (await outbox.trouble(db, failed_at + timedelta(seconds=1), clock.now())).failed == 0


async def test_bad_request_fails_at_once_and_is_counted(db, clock, bot):
    bot.errors[RESIDENT] = [BadRequest("Chat not found")]
    row_id = await put(db, clock, RESIDENT, "hi")
    worker = make_worker(db, bot, clock)
    await worker.drain()
    clock.advance(hours=1)
    await worker.drain()
    assert len(bot.calls) == 1
    row = await row_of(db, row_id)
    assert (row["state"], row["failed_at"]) == ("failed", outbox.iso(T0))
    assert (await outbox.trouble(db, T0, clock.now())).failed == 1


# -- a lost answer -------------------------------------------------------------------------


def timed_out(cause: Exception | None) -> TimedOut:
    """TimedOut as PTB raises it: ``raise TimedOut from <the httpx exception>``."""
    error = TimedOut()
    error.__cause__ = cause
    return error


async def test_lost_answer_is_recorded_and_its_delivery_counted_as_possible_repeat(
    db, clock, bot, caplog
):
    bot.errors[RESIDENT] = [timed_out(httpx.ReadTimeout("read"))]
    row_id = await put(db, clock, RESIDENT, "请今晚20:00前打卡")
    worker = make_worker(db, bot, clock)
    with caplog.at_level(logging.WARNING, logger="bot.runtime.outbox"):
        await drain_until_done(worker, db, clock)
    row = await row_of(db, row_id)
    assert (row["state"], row["uncertain"]) == ("sent", 1)
    assert any("may have been delivered" in r.getMessage() for r in caplog.records)
    counted = await outbox.trouble(db, T0, clock.now() + timedelta(seconds=1))
    assert (counted.failed, counted.repeats) == (0, 1)


@pytest.mark.parametrize(
    "error",
    [
        timed_out(httpx.ConnectTimeout("connect")),
        timed_out(httpx.PoolTimeout("pool")),
        NetworkError("Bad Gateway"),
    ],
)
async def test_a_send_that_never_went_out_is_no_possible_repeat(db, clock, bot, error):
    bot.errors[RESIDENT] = [error]
    row_id = await put(db, clock, RESIDENT, "hi")
    await drain_until_done(make_worker(db, bot, clock), db, clock)
    row = await row_of(db, row_id)
    assert (row["state"], row["uncertain"]) == ("sent", 0)
    assert (await outbox.trouble(db, T0, clock.now() + timedelta(seconds=1))).repeats == 0


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (timed_out(httpx.ReadTimeout("r")), True),
        (timed_out(httpx.WriteTimeout("w")), True),
        (timed_out(None), True),  # no cause known: it may have gone out
        (timed_out(httpx.ConnectTimeout("c")), False),
        (timed_out(httpx.PoolTimeout("p")), False),
        (NetworkError("Bad Gateway"), False),
        (BadRequest("Chat not found"), False),
    ],
)
def test_maybe_delivered(error, expected):
    assert maybe_delivered(error) is expected


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [(1, 2), (2, 4), (3, 8), (8, 256), (9, 300), (20, 300), (10_000, 300)],
)
def test_backoff_doubles_up_to_the_cap_and_never_overflows(attempt, seconds):
    assert backoff(attempt) == timedelta(seconds=seconds)


# -- the timeouts --------------------------------------------------------------------------


async def test_sends_wait_30_seconds_for_an_answer(db):
    """PTB's default of 5 s turned slow answers into repeats: the application's bot (direct
    replies) and the outbox's both wait longer."""
    data = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    data["outbox"]["max_age_hours"] = 6
    app = build_application(parse_config(data, ROOT), "1:T", db, ManualClock(T0))
    worker = app.bot_data["services"].outbox
    assert worker.max_age == timedelta(hours=6)
    for bot in (app.bot, worker.bot):
        assert bot is not None
        request = bot.request
        assert (request.read_timeout, request._client.timeout.write) == (30, 30)
        assert request._client.timeout.connect == SEND_TIMEOUTS["connect_timeout"]


@pytest.mark.parametrize("max_age", [timedelta(0), timedelta(hours=-1)])
def test_max_age_must_be_positive(db, clock, bot, max_age):
    with pytest.raises(ValueError, match="max_age"):
        make_worker(db, bot, clock, max_age=max_age)
