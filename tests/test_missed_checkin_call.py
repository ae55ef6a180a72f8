"""A missed check-in reaches the grid's worker in their private chat with the person's number
in full, written so Telegram's clients link it to a call (the Bot API has no tel: links);
the leadership group's messages stay masked."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.domain.masking import Audience
from bot.runtime.render import Renderer, dialable
from tests.harness import Harness
from tests.test_arrival_flow import LEADERS, WORKER_XF01
from tests.test_checkins import at, monitored

DIALABLE = "+86 138 1234 5678"  # the resident's 13812345678 (tests/test_arrival_flow.py)


async def test_the_alone_alert_shows_the_number_to_call(harness: Harness) -> None:
    h = harness
    await monitored(h)
    for day, hour in ((26, 20), (26, 21), (26, 22), (27, 9), (27, 10), (27, 11)):
        await at(h, day, hour)
    await h.press(WORKER_XF01, "v1:ack:report:1")  # the arrival's own climb, out of the way
    await at(h, 27, 11, 1)
    alert = h.texts(WORKER_XF01)[-1]
    assert "连续2次" in alert and f"手机 {DIALABLE}" in alert
    assert "点上面的号码就能直接拨打" in alert and "138****5678" not in alert
    assert not any("13812345678" in t or DIALABLE in t for t in h.texts(LEADERS))


async def test_the_minutes_list_to_the_worker_shows_it_too(harness: Harness) -> None:
    h = harness
    await monitored(h)
    for hour, minute in ((20, 0), (21, 0), (22, 0), (22, 1)):
        await at(h, 26, hour, minute)
    listed = h.texts(WORKER_XF01)[-1]
    assert "打卡未报" in listed and "到达登记未核实" in listed and DIALABLE in listed


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812345678", "+86 138 1234 5678"),
        ("19900001111", "+86 199 0000 1111"),
        ("023-4567890", "023-4567890"),  # a landline: as it is
        ("1381234567", "1381234567"),  # ten digits: not a mobile number
        ("23812345678", "23812345678"),  # eleven digits, not a mobile prefix
        ("1381234567x", "1381234567x"),
    ],
)
def test_dialable_known_answers(phone: str, shown: str) -> None:
    assert dialable(phone) == shown


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_dial_form_is_only_for_the_entitled(locale: str) -> None:
    renderer = Renderer()
    params = dict(ref="R", name="张三", phone="13812345678", kind="home_monitoring", day=2,
                  total=7, start=None, end=None, village="V", grid="G",
                  slot=datetime(2020, 10, 26, 20), missed=1)  # fmt: skip
    entitled = renderer.text(locale, "monitoring", "missed_staff", Audience.ENTITLED, **params)
    masked = renderer.text(locale, "monitoring", "missed_staff", **params)
    assert DIALABLE in entitled and "13812345678" not in masked and DIALABLE not in masked
    assert "138****5678" in masked
