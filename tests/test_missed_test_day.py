"""A test day already past when the monitoring is planned is never skipped silently (issue
10): the newest such day without a sample is overdue and chased at once (one message however
many days were missed, worded so that it never calls today the test day); the worker gets it
with a "sample taken" button and the card shows it due; later test days stay scheduled; a
sample on record stops it."""

from __future__ import annotations

from datetime import date, datetime

from bot.actions import monitoring as mon
from bot.domain.roles import Actor
from bot.runtime.timers import fire_due
from storage import timers
from tests.conftest import SHANGHAI
from tests.harness import Harness
from tests.test_arrival_flow import RESIDENT, WORKER_XF01, answer_to_summary, submit
from tests.test_checkins import at

WORKER = Actor(WORKER_XF01, worker_grids=frozenset({"XF01"}))
OVERDUE = "还没有登记采样：<b>请今天尽快去做核酸检测</b>"
OCT_25, OCT_31, NOV_7 = date(2020, 10, 25), date(2020, 10, 31), date(2020, 11, 7)


async def register_on(h: Harness, month: int, day: int, *, fire: bool = True,
                      **answers: str) -> None:  # fmt: skip
    """Arrived on 25 October, registered on ``day`` of ``month`` at 10:00; ``fire``: the
    timers then due have fired."""
    target = datetime(2020, month, day, 10, tzinfo=SHANGHAI)
    h.clock.advance(seconds=(target - h.clock.now()).total_seconds())
    await answer_to_summary(h, **answers)
    await submit(h)
    if fire:
        await fire_due(h.services)
    await h.drain_outbox()


def overdue_to_resident(h: Harness) -> list[str]:
    return [t for t in h.texts(RESIDENT) if OVERDUE in t]


def overdue_to_worker(h: Harness) -> list[str]:
    return [t for t in h.texts(WORKER_XF01) if "核酸采样逾期未做" in t]


async def scheduled(h: Harness) -> list[tuple[str, str]]:
    pending = await timers.pending(h.db, "monitoring:1")
    return sorted((t.payload["date"], t.payload["which"]) for t in pending
                  if t.kind == "test.remind")  # fmt: skip


async def card_days(h: Harness, ref: str) -> list[tuple[date, bool, bool]]:
    """The card's test days: (date, sampled, overdue)."""
    (card,) = await mon.view(h.services, WORKER, await mon.by_ref(h.services, ref))
    return [(t.date, t.sampled, t.overdue) for t in card.tests]


async def test_a_missed_day_one_is_due_now_and_day_seven_stays_scheduled(
    harness: Harness,
) -> None:
    """Yellow code (tests on days 1 and 7), arrived 25 Oct, registered on the 29th."""
    h = harness
    await register_on(h, 10, 29, code="yellow")
    (to_resident,) = overdue_to_resident(h)
    assert "张三按要求应在10月25日做的核酸检测" in to_resident
    assert "是张三的核酸采样日" not in to_resident  # today is not called the test day
    (to_worker,) = overdue_to_worker(h)
    assert "应采样日：10月25日（第1/7天），日子已过，还没有登记采样" in to_worker
    notice = next(c for c in h.request.sent_to(WORKER_XF01) if c.params["text"] == to_worker)
    button = notice.params["reply_markup"]["inline_keyboard"][0][0]
    assert button["text"] == "✅ 已采样（10月25日）"
    assert await scheduled(h) == [("2020-10-31", "before"), ("2020-10-31", "day")]
    ref = "XF-20201029-0001"
    assert await card_days(h, ref) == [(OCT_25, False, True), (OCT_31, False, False)]
    await h.text(WORKER_XF01, f"/monitor {ref}")
    card = h.texts(WORKER_XF01)[-1]  # what the worker sees
    assert "10月25日：⚠️ 逾期未采样，请今天安排" in card and "10月31日：未采样" in card

    # a change of the plan does not chase it again; the sample taken ends it
    (m,) = await mon.by_ref(h.services, ref)
    assert await mon.change(h.services, WORKER, m.id, 1) is not None
    await fire_due(h.services)
    await h.drain_outbox()
    assert len(overdue_to_resident(h)) == 1 and len(overdue_to_worker(h)) == 1
    await h.press(WORKER_XF01, button["callback_data"])
    assert await card_days(h, ref) == [(OCT_25, True, False), (OCT_31, False, False)]
    row = await h.db.fetchone("SELECT test_date, sampled_by FROM test_samples")
    assert tuple(row) == ("2020-10-25", WORKER_XF01)
    await at(h, 30, 20)
    assert any("明天（10月31日）是张三的核酸采样日" in t for t in h.texts(RESIDENT))
    assert len(overdue_to_resident(h)) == 1


async def test_a_week_late_only_the_newest_missed_day_is_chased(harness: Harness) -> None:
    """From abroad (tests on days 1, 7 and 14), arrived 25 Oct, registered on 1 November:
    days 1 and 7 are past; one test now does for both."""
    h = harness
    await register_on(h, 11, 1, country="美国")
    (to_resident,) = overdue_to_resident(h)
    assert "按要求应在10月31日做的核酸检测" in to_resident and "10月25日" not in to_resident
    (to_worker,) = overdue_to_worker(h)
    assert "10月31日（第7/14天）" in to_worker and "10月25日" not in to_worker
    assert await scheduled(h) == [("2020-11-07", "before"), ("2020-11-07", "day")]
    days = await card_days(h, "XF-20201101-0001")
    assert days == [(OCT_25, False, False), (OCT_31, False, True), (NOV_7, False, False)]


async def test_a_sample_on_record_before_it_fires_stops_it(harness: Harness) -> None:
    h = harness
    await register_on(h, 10, 29, fire=False, code="yellow")
    (m,) = await mon.by_ref(h.services, "XF-20201029-0001")
    assert await mon.record_test(h.services, WORKER, m.id, OCT_25, None) is not None
    await fire_due(h.services)
    await h.drain_outbox()
    assert overdue_to_resident(h) == [] and overdue_to_worker(h) == []
    assert await card_days(h, m.ref) == [(OCT_25, True, False), (OCT_31, False, False)]


async def test_the_english_wording(harness: Harness) -> None:
    h = harness
    await register_on(h, 10, 29, code="yellow", lang="en")
    person = h.texts(RESIDENT)[-1]
    assert "张三's nucleic-acid test, due on Oct 25, has no sample recorded yet" in person
    assert "<b>please get tested today</b>" in person
