"""Tipster anonymity (issue 11): the location button says it sends where the tipster is and
is meant for the tip's place; pins are kept to about 100 m; and a tipster who blocked the bot
is nobody's business: closing their tip alerts no worker, even when they are under
monitoring."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.domain.tips import PIN_DECIMALS, is_tipster_message, location_answer, tipster_key
from bot.runtime.timers import fire_due
from storage import outbox
from tests.conftest import SHANGHAI
from tests.harness import Harness
from tests.test_arrival_flow import RESIDENT, WORKER_XF01, press_value
from tests.test_checkins import monitored
from tests.test_tips import TIPSTER, press_tip, say, tap

PINS = [
    ((29.123456, 106.567891), (29.123, 106.568)),
    ((29.1, 106.2), (29.1, 106.2)),
    ((-33.86785, 151.20732), (-33.868, 151.207)),
    ((29.0004999, 106.0005001), (29.0, 106.001)),
]


@pytest.mark.parametrize(("sent", "kept"), PINS)
def test_pins_are_kept_to_about_100_m(sent: tuple[float, float], kept: tuple) -> None:
    assert PIN_DECIMALS == 3
    assert location_answer(*sent) == {"latitude": kept[0], "longitude": kept[1]}


@pytest.mark.parametrize(("key", "expected"), [
    ("tip:12:closed", True), ("tip:12:closed#2", True), (tipster_key(7), True),
    ("tip:12:overdue:to:5", False), ("tip:12:new:to:5", False), ("mon.unreachable:1:x", False),
    ("xtip:12:closed", False), ("tip:12:closed#", False), ("tip::closed", False), (None, False),
])  # fmt: skip
def test_tipster_messages_known(key: str | None, expected: bool) -> None:
    assert is_tipster_message(key) is expected


async def test_the_location_button_is_for_the_tips_place(harness: Harness) -> None:
    h = harness
    await say(h, "/tip")
    await tap(h, "venue")
    await tap(h, "farmstay")
    await tap(h, "xf")
    await tap(h, "XF01")
    question = h.last_question(TIPSTER).params
    button = question["reply_markup"]["keyboard"][0][0]
    assert button["request_location"] is True
    assert "现场" in button["text"] and len(button["text"]) <= 16
    assert "您自己所在的位置" in question["text"]
    await say(h, location={"latitude": 29.276543, "longitude": 106.251234})
    await say(h, "石桥农家乐")
    await tap(h, "skip")
    await tap(h, "today")
    await tap(h, "skip")
    await tap(h, "submit")
    tip = await h.db.fetchone("SELECT latitude, longitude FROM tips")
    assert (tip["latitude"], tip["longitude"]) == (29.277, 106.251)
    await h.drain_outbox()
    card = h.texts(WORKER_XF01)[-1]
    assert "106.251%2C29.277" in card or "106.251,29.277" in card
    assert "29.276543" not in card and "106.251234" not in card


async def tip_from(h: Harness, user: int) -> None:
    await h.text(user, "/tip")
    for value in ("unregistered", "xf", "XF01"):
        await press_value(h, user, value)
    await h.text(user, "先锋街3号")
    await h.text(user, "李四")
    for value in ("skip", "tenant", "skip", "today", "skip", "submit"):
        await press_value(h, user, value)


def block(h: Harness) -> None:
    """The next message to RESIDENT finds the bot blocked."""
    h.request.fail(lambda c: c.method == "sendMessage" and int(c.params["chat_id"]) == RESIDENT,
                   403, "Forbidden: bot was blocked by the user")  # fmt: skip


async def test_a_blocked_tipster_under_monitoring_alerts_no_one(harness: Harness) -> None:
    h = harness
    await monitored(h)  # RESIDENT (张三) under home monitoring, and a tipster
    await tip_from(h, RESIDENT)
    await h.drain_outbox()
    block(h)
    await press_tip(h, WORKER_XF01, "开始核查")
    await press_tip(h, WORKER_XF01, "情况不属实")
    await h.text(WORKER_XF01, "核实为本地常住人员")
    await h.drain_outbox()
    await h.drain_outbox()
    told = await h.db.fetchone("SELECT state FROM outbox WHERE dedup_key LIKE 'tip:%:closed'")
    assert told["state"] == "unreachable"
    assert not [t for t in h.texts(WORKER_XF01) if "无法联系" in t]
    assert await h.db.fetchone("SELECT * FROM outbox WHERE dedup_key LIKE 'mon.unreachable%'") \
        is None  # fmt: skip
    assert not await outbox.is_unreachable(h.db, RESIDENT)  # forgotten: not linked to the tip
    # later, a check-in prompt that cannot reach them is the worker's business again
    block(h)
    h.clock.advance(seconds=(datetime(2020, 10, 26, 20, tzinfo=SHANGHAI)
                             - h.clock.now()).total_seconds())  # fmt: skip
    await fire_due(h.services)
    await h.drain_outbox()
    await h.drain_outbox()
    alerts = [t for t in h.texts(WORKER_XF01) if "无法联系" in t]
    assert len(alerts) == 1 and "张*" in alerts[0]
