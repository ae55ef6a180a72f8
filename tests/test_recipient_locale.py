"""Pushed messages are in each reader's own language (/language); the leadership group, and
anyone who never chose, get the configured default."""

from __future__ import annotations

from bot.runtime.render import reader_locale, reader_locales
from storage import users
from tests.harness import Harness
from tests.test_arrival_flow import LEADERS, RESIDENT, WORKER_XF01, answer_to_summary, submit
from tests.test_checkins import at, monitored


async def choose(h: Harness, user: int, locale: str) -> None:
    await h.text(user, "/language")
    await h.press(user, f"v1:lang:{locale}")


async def test_a_worker_who_chose_english_gets_the_missed_check_in_alert_in_english(
    harness: Harness,
) -> None:
    h = harness
    await choose(h, WORKER_XF01, "en")
    await monitored(h)
    for day, hour in ((26, 20), (26, 21), (26, 22), (27, 9), (27, 10), (27, 11)):
        await at(h, day, hour)
    await h.press(WORKER_XF01, "v1:ack:report:1")
    await at(h, 27, 11, 1)
    alert = h.texts(WORKER_XF01)[-1]
    assert "Check-in not reported" in alert and "Tap the number above" in alert
    assert h.buttons(WORKER_XF01)[-1][0] == "👌 Got it"
    group = [t for t in h.texts(LEADERS) if "脱离管控" in t]
    assert group and not any("Check-in" in t for t in h.texts(LEADERS))  # the group: default


async def test_a_worker_who_chose_english_gets_new_reports_in_english(harness: Harness) -> None:
    h = harness
    await choose(h, WORKER_XF01, "en")
    await answer_to_summary(h)
    await submit(h)
    await h.drain_outbox()
    assert "New arrival registration" in h.texts(WORKER_XF01)[-1]
    assert not any("New arrival registration" in t for t in h.texts(LEADERS))


async def test_a_resident_who_chose_english_later_gets_reminders_in_english(
    harness: Harness,
) -> None:
    h = harness
    await monitored(h)  # reported in Chinese
    await choose(h, RESIDENT, "en")
    await at(h, 26, 20)
    await at(h, 26, 21)
    assert "Check-in reminder" in h.texts(RESIDENT)[-1]
    labels = [label for label, _ in h.buttons(RESIDENT)]
    assert any("Other" in label or "other" in label for label in labels), labels


async def test_the_choice_is_read_in_one_query_for_many(harness: Harness) -> None:
    h = harness
    await choose(h, WORKER_XF01, "en")
    assert await users.locales(h.db, [WORKER_XF01, RESIDENT, 424242]) == {WORKER_XF01: "en"}
    assert await users.locales(h.db, []) == {}


async def test_reader_locales_known_answers(harness: Harness) -> None:
    h = harness
    async with h.db.write() as conn:
        await users.set_locale(conn, WORKER_XF01, "en", h.clock.now())
        await users.set_locale(conn, 777, "fr", h.clock.now())  # not ours: the default
    found = await reader_locales(h.db, [WORKER_XF01, LEADERS, RESIDENT, 777, WORKER_XF01], "x")
    assert found == {WORKER_XF01: "en", LEADERS: "x", RESIDENT: "x", 777: "x"}
    assert await reader_locale(h.db, WORKER_XF01, "zh_CN") == "en"
