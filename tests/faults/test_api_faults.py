"""A bad network: 10% of the Bot API's answers are 429, 500, 502 or lost after the message
went out, then a 10-minute outage (every send answers 502): no alert is lost. Every
priority-0 row is delivered after the recovery and none is given up (``failed``).

In process, on an injected clock: the real application's outbox worker over the recording
Bot API double, routed through the sandbox's fault knob (``sandbox.server.Faults``); the
worker's waits move the clock instead of sleeping.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer

from bot.runtime.clock import ManualClock
from sandbox.run import SANDBOX_TOKEN
from sandbox.server import FAULTS_PATH, Faults, make_app
from sandbox.state import SandboxState
from storage import outbox
from tests.faults.conftest import inject_faults
from tests.harness import Harness

SEED = 11
FAULT_RATE = 0.10
OUTAGE = timedelta(minutes=10)
ALERTS = 40  # priority-0 rows queued before the outage, as many again during it
NOTICES = 200  # ordinary rows sent meanwhile
GROUP = -1001234567890  # the leadership group (config.example.toml)
CHATS = [30001, 30002, 30003, 900001, 900002, 900003]  # staff and residents, private
RECOVERY_LIMIT = timedelta(hours=2)  # the whole backlog is out well within this (virtual)


@dataclass
class Outcome:
    """The figures of one run: the test asserts on them, bench/faults.py prints them."""

    alerts: int = 0
    alerts_lost: int = 0  # not delivered when the run ends, or given up
    failed: int = 0
    undelivered: int = 0
    after_recovery_s: list[float] = field(default_factory=list)  # alerts waiting then
    injected: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        waits = sorted(self.after_recovery_s)
        p50 = statistics.median(waits) if waits else 0.0
        return [
            f"fault_rate: {FAULT_RATE:.0%}",
            f"outage_min: {OUTAGE.total_seconds() / 60:g}",
            f"alerts: {self.alerts}",
            f"alerts_waiting_at_recovery: {len(self.after_recovery_s)}",
            f"alerts_lost: {self.alerts_lost}",
            f"rows_failed: {self.failed}",
            f"rows_undelivered: {self.undelivered}",
            f"p50_s_to_deliver_after_recovery: {p50:.0f}",
            f"max_s_to_deliver_after_recovery: {waits[-1] if waits else 0:.0f}",
            f"faults_injected: {sum(self.injected.values())} {dict(sorted(self.injected.items()))}",
        ]


def fake_sleep(clock: ManualClock) -> Callable[[float], Awaitable[None]]:
    """The worker's sleep on the injected clock."""

    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    return sleep


async def queue(h: Harness, count: int, priority: int, start: int = 0) -> None:
    chats = [GROUP, *CHATS] if priority == outbox.PRIORITY_ALERT else CHATS
    messages = [
        {"chat_id": chats[n % len(chats)], "text": f"预警 {n}" if priority == 0 else f"通知 {n}",
         "priority": priority}
        for n in range(start, start + count)
    ]  # fmt: skip
    async with h.db.write() as conn:
        await outbox.enqueue_many(conn, messages, h.clock.now())


async def run_until(h: Harness, end: datetime) -> None:
    """The worker's life until ``end`` on the injected clock: send what is due, then move the
    clock to the next due row (or a poll interval, as the running worker's idle loop does)."""
    worker = h.services.outbox
    while h.clock.now() < end:
        await worker.drain()
        due = await outbox.next_due(h.db)
        step = h.clock.now() + timedelta(seconds=5)
        h.clock.set(min(end, max(due, h.clock.now()) if due is not None else step, step))


async def undelivered(h: Harness) -> int:
    return await outbox.pending_count(h.db)


async def run_faults(h: Harness, *, alerts: int = ALERTS, notices: int = NOTICES,
                     seed: int = SEED) -> Outcome:  # fmt: skip
    """10% faults while a backlog drains, an outage with alerts queued during it, the
    recovery; then what became of every alert."""
    faults = Faults(rate=FAULT_RATE, seed=seed)
    inject_faults(h.request, faults)
    h.services.outbox._sleep = fake_sleep(h.clock)  # the worker's waits move the clock
    await queue(h, alerts, outbox.PRIORITY_ALERT)
    await queue(h, notices, outbox.PRIORITY_NOTIFY)
    await run_until(h, h.clock.now() + timedelta(seconds=20))  # some out, some retrying
    faults.set(outage=True)
    outage_end = h.clock.now() + OUTAGE
    await run_until(h, h.clock.now() + OUTAGE / 2)
    await queue(h, alerts, outbox.PRIORITY_ALERT, start=alerts)  # raised during the outage
    await run_until(h, outage_end)
    faults.set(outage=False)
    recovered = h.clock.now()
    queued = "SELECT id FROM outbox WHERE priority = 0 AND state IN ('pending', 'sending')"
    waiting = {r["id"] for r in await h.db.fetchall(queued)}
    await run_until(h, recovered + RECOVERY_LIMIT)
    rows = await h.db.fetchall("SELECT id, priority, state, sent_at FROM outbox")
    result = Outcome(injected=dict(faults.counts))
    for row in rows:
        result.failed += row["state"] == "failed"
        result.undelivered += row["state"] in ("pending", "sending")
        if row["priority"] != outbox.PRIORITY_ALERT:
            continue
        result.alerts += 1
        if row["state"] != "sent":
            result.alerts_lost += 1
            continue
        if row["id"] in waiting:
            sent = datetime.fromisoformat(row["sent_at"])
            result.after_recovery_s.append((sent - recovered).total_seconds())
    return result


async def test_no_alert_is_lost_to_faults_and_a_ten_minute_outage(harness: Harness) -> None:
    result = await run_faults(harness)
    print("\n" + "\n".join(result.lines()))
    assert result.alerts == 2 * ALERTS
    assert result.injected.get("outage", 0) > 0 and len(result.injected) > 1, result.injected
    assert result.alerts_lost == 0, result.lines()
    assert result.failed == 0, result.lines()
    assert result.undelivered == 0, result.lines()


async def test_the_sandbox_servers_fault_knob_over_http() -> None:
    """The knob as a drill or the kill test uses it: set over HTTP, seeded, an outage."""
    state = SandboxState.for_token(SANDBOX_TOKEN)
    state.add_user(900001, "张伟", started=True)
    faults = Faults(late_seconds=0.0)
    send = f"/bot{SANDBOX_TOKEN}/sendMessage"
    message = {"chat_id": 900001, "text": "hi"}
    async with TestClient(TestServer(make_app(state, SANDBOX_TOKEN, faults))) as client:

        async def codes(count: int) -> list[int]:
            return [(await client.post(send, json=message)).status for _ in range(count)]

        assert await codes(3) == [200, 200, 200]
        assert (await client.post(FAULTS_PATH, json={"outage": True})).status == 200
        assert await codes(2) == [502, 502]
        await client.post(FAULTS_PATH, json={"outage": False, "rate": 1.0, "seed": 3})
        first = await codes(20)
        await client.post(FAULTS_PATH, json={"seed": 3})
        assert await codes(20) == first, "the same seed, the same faults"
        assert set(first) == {200, 429, 500, 502}  # "late" answers 200, after the wait
        reading = await (await client.get(FAULTS_PATH)).json()
        assert reading["rate"] == 1.0 and reading["outage"] is False
        assert (await client.post(FAULTS_PATH, json={"rate": 2})).status == 400
        await client.post(FAULTS_PATH, json={"rate": 0})
        assert await codes(2) == [200, 200]
    # every answered send reached the chat, the late ones included
    assert len(state.messages(900001)) == first.count(200) * 2 + 3 + 2
