"""A check-in prompt answered by typing (README: "temperature by button or typed"): while a
check-in is open and no conversation is, a typed number is its answer; other text is told
what the check-in waits for, with its buttons again — never an unrelated hint."""

from __future__ import annotations

import pytest

from tests.harness import Harness
from tests.test_arrival_companions import LI_ID, WANG_ID
from tests.test_arrival_flow import LEADERS, RESIDENT, WORKER_XF01, answer_to_summary, submit
from tests.test_checkins import at, monitored, toggle

TEMPERATURE_BUTTONS = ["36.2℃", "36.5℃", "36.8℃", "37.0℃", "37.3℃", "38.0℃", "其他（直接输入）"]


async def stored(h: Harness) -> list[tuple[float | None, str | None]]:
    rows = await h.db.fetchall("SELECT temperature, symptoms FROM checkins ORDER BY id")
    return [(r["temperature"], r["symptoms"]) for r in rows]


def labels(h: Harness) -> list[str]:
    return [label for label, _ in h.buttons(RESIDENT)]


# Known answers: what the person types -> the temperature stored (the parser's own table is
# in tests/domain; these are the forms a resident types at a prompt).
TYPED = [
    ("36.5", 36.5),
    ("38,5", 38.5),
    ("38.5度", 38.5),
    ("３８．５", 38.5),
    ("37.3℃", 37.3),
    ("  36.9 ", 36.9),
]


@pytest.mark.parametrize(("typed", "value"), TYPED)
async def test_a_typed_number_answers_the_open_prompt(
    harness: Harness, typed: str, value: float
) -> None:
    h = harness
    await monitored(h)
    await at(h, 26, 20)
    await h.text(RESIDENT, typed)
    assert await stored(h) == [(value, None)]
    assert "有没有下面这些症状" in h.texts(RESIDENT)[-1]
    assert "没有症状" in labels(h)
    assert not any("/arrive" in t for t in h.texts(RESIDENT)[-2:])
    await toggle(h, "没有症状")
    assert await stored(h) == [(value, "[]")]


async def test_a_typed_fever_alerts_as_the_button_does(harness: Harness) -> None:
    h = harness
    await monitored(h)
    await at(h, 26, 20)
    worker_before = len(h.texts(WORKER_XF01))
    await h.text(RESIDENT, "38.5")
    await h.drain_outbox()
    for chat in (WORKER_XF01, LEADERS):
        alert = h.texts(chat)[-1]
        assert "健康监测预警：发热" in alert and "38.5℃" in alert and "张*" in alert
    assert len(h.texts(WORKER_XF01)) == worker_before + 1
    row = await h.db.fetchone("SELECT state FROM checkins")
    assert row["state"] == "answered"
    missed = await h.db.fetchone(
        "SELECT COUNT(*) AS n FROM timers WHERE kind = 'checkin.missed' AND state = 'pending'"
    )
    assert missed["n"] == 0  # answered: no reminder follows


async def test_text_that_is_no_temperature_is_told_what_is_awaited(harness: Harness) -> None:
    h = harness
    await monitored(h)
    await at(h, 26, 20)
    await h.text(RESIDENT, "你好")
    text = h.texts(RESIDENT)[-1]
    assert "正在等<b>张三</b>的体温" in text and "第2/7天" in text
    assert labels(h) == TEMPERATURE_BUTTONS  # the prompt's buttons again
    assert await stored(h) == [(None, None)]
    await h.text(RESIDENT, "50")  # impossible: the reason, then the same question
    text = h.texts(RESIDENT)[-1]
    assert "35.0℃到42.0℃之间" in text and "正在等<b>张三</b>的体温" in text
    assert await stored(h) == [(None, None)]
    await h.choose(RESIDENT, "36.8℃")  # the resent buttons answer the same slot
    assert await stored(h) == [(36.8, None)]


async def test_after_the_temperature_text_is_told_the_symptoms_are_awaited(
    harness: Harness,
) -> None:
    h = harness
    await monitored(h)
    await at(h, 26, 20)
    await h.choose(RESIDENT, "36.5℃")
    await h.text(RESIDENT, "37")
    assert "张三的体温已经记下了，还差症状" in h.texts(RESIDENT)[-1]
    assert "没有症状" in labels(h)
    assert await stored(h) == [(36.5, None)]  # the first answer stands


async def test_nothing_open_gets_the_menu(harness: Harness) -> None:
    h = harness
    await monitored(h)
    await at(h, 26, 20)
    await h.choose(RESIDENT, "36.5℃")
    await toggle(h, "没有症状")
    await h.text(RESIDENT, "36.5")
    assert "请点下面的按钮" in h.texts(RESIDENT)[-1]
    assert "📝 到达登记" in labels(h)
    assert await stored(h) == [(36.5, "[]")]


async def test_a_family_number_is_not_guessed(harness: Harness) -> None:
    """Three people's check-ins open in one chat: a bare number could be anyone's, so
    nothing is stored and each one's question comes again."""
    h = harness
    family = [("李四", LI_ID, None), ("王五", WANG_ID, None)]
    await answer_to_summary(h, code="yellow", companions=family)
    await submit(h)
    await h.drain_outbox()
    await at(h, 26, 20)
    calls = await h.text(RESIDENT, "36.5")
    texts = [c.params["text"] for c in calls if c.method == "sendMessage"]
    assert len(texts) == 3 and "这个体温是谁的" in texts[0]
    assert all(f"正在等<b>{n}</b>的体温" in t for t, n in zip(texts, ("张三", "李四", "王五"),
                                                              strict=True))  # fmt: skip
    assert await stored(h) == [(None, None)] * 3


async def test_the_menu_button_shows_the_open_check_in(harness: Harness) -> None:
    h = harness
    await h.text(RESIDENT, "/start")
    await h.choose(RESIDENT, "健康打卡")
    assert "现在没有需要打卡的" in h.texts(RESIDENT)[-1]
    await monitored(h)
    await at(h, 26, 20)
    await h.text(RESIDENT, "/start")
    await h.choose(RESIDENT, "健康打卡")
    assert "正在等<b>张三</b>的体温" in h.texts(RESIDENT)[-1]
    assert labels(h) == TEMPERATURE_BUTTONS


async def test_an_open_conversation_keeps_its_answers(harness: Harness) -> None:
    """A form being filled in takes the text, not the check-in."""
    h = harness
    await monitored(h)
    await at(h, 26, 20)
    await h.text(RESIDENT, "/tip")
    await h.text(RESIDENT, "36.5")
    assert await stored(h) == [(None, None)]
