"""The daily report counts each event in the period in which it happened (issue 10): a
check-in when it was answered (not by its slot), a miss when it was marked missed, an
escalation when its rung or group alert was queued, a case when it was discovered. 零报告 is
never claimed for a period in which any of them happened.

The known answers below are written by hand from the seeded timeline, not computed by the
code under test."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite
import pytest

from storage import stats
from storage.outbox import iso
from tests.harness import Harness
from tests.test_digest import add_report, advance_to, at, reports_sent

ZERO = "✅ <b>零报告</b>"
GRID_VILLAGE = {"XF01": "xf", "SQ01": "sq"}
SINCE, UNTIL = at(26, 8), at(26, 20)  # the period under test: 26 October 08:00 to 20:00


async def _monitoring(conn: aiosqlite.Connection, grid: str, village: str) -> int:
    rid = await add_report(conn, village, grid, at(20, 9))
    cur = await conn.execute(
        """INSERT INTO monitoring (report_id, person_idx, chat_id, locale, grid_id, kind,
               start_date, end_date, state, created_at, updated_at)
           VALUES (?, 0, 1, 'zh_CN', ?, 'home_monitoring', '2020-10-20', '2020-11-02',
                   'active', ?, ?)""",
        (rid, grid, iso(at(20, 9)), iso(at(20, 9))),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


async def _checkin(
    conn: aiosqlite.Connection,
    mid: int,
    slot: datetime,
    answered: datetime | None,
    temperature: float | None = None,
    state: str = "answered",
) -> None:
    await conn.execute(
        """INSERT INTO checkins (monitoring_id, slot_at, prompted_at, answered_at, state,
               temperature, symptoms) VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (mid, iso(slot), iso(slot), answered and iso(answered), state, temperature,
         "[]" if answered else None),
    )  # fmt: skip


async def _escalation(
    conn: aiosqlite.Connection,
    subject: str,
    kind: str,
    village: str,
    started: datetime,
    queued: tuple[tuple[int, int, datetime], ...] = (),
) -> None:
    """An escalation row and its queue entries ``(step, chat_id, queued_at)``."""
    await conn.execute(
        """INSERT INTO escalations (subject, kind, ref, grid_id, village_id, deadline_at,
               started_at) VALUES (?, ?, 'XF-1', NULL, ?, ?, ?)""",
        (subject, kind, village, iso(started), iso(started)),
    )
    for step, chat, when in queued:
        await conn.execute(
            """INSERT INTO escalation_queue (subject, gen, step, chat_id, queued_at, sent_at)
               VALUES (?, 1, ?, ?, ?, ?)""",
            (subject, step, chat, iso(when), iso(when)),
        )


async def _case(conn: aiosqlite.Connection, n: int, created: datetime, state: str) -> None:
    await conn.execute(
        """INSERT INTO cases (ref, draft_token, kind, person_name, village_id, grid_id, address,
               status, reported_by, created_at, deadline_at, state)
           VALUES (?, ?, 'suspected', '李四', 'sq', 'SQ01', '石桥村5号', '已居家隔离', 1,
                   ?, ?, ?)""",
        (f"C{n}", f"case-{n}", iso(created), iso(created + timedelta(hours=2)), state),
    )


async def _seed(conn: aiosqlite.Connection) -> None:
    """The timeline. In the period: 4 check-ins answered (one of them fever, its slot in the
    previous period), 2 misses, 2 items escalated, 1 case (already closed). Outside it: the
    same kinds of event, just before ``SINCE`` or at ``UNTIL``."""
    xf = await _monitoring(conn, "XF01", "xf")
    sq = await _monitoring(conn, "SQ01", "sq")
    # answered in the period, whatever the slot
    await _checkin(conn, xf, at(26, 7, 30), at(26, 8, 10), 38.5)  # slot before, fever
    await _checkin(conn, xf, at(26, 9), at(26, 8))  # answered exactly at SINCE: in
    await _checkin(conn, sq, at(26, 19, 50), at(26, 19, 59), 36.5)
    await _checkin(conn, sq, at(25, 20), at(26, 9), 36.4)  # a late answer to a missed slot
    # answered outside the period
    await _checkin(conn, xf, at(25, 20), at(26, 7, 59), 39.0)  # fever, previous period
    await _checkin(conn, sq, at(26, 19, 55), at(26, 20), 38.0)  # at UNTIL: the next period
    await _checkin(conn, sq, at(26, 19, 58), None, state="prompted")  # not answered yet
    # missed check-ins: counted when marked missed (their escalation starts then)
    # the second miss in a row: 脱离管控, its alert to the group too (chat 0)
    await _escalation(conn, "checkin:1:a", "checkin", "xf", at(26, 9, 0),
                      ((-1, 5, at(26, 9)), (-1, 0, at(26, 9))))  # fmt: skip
    # a first miss: only its worker told, not escalated
    await _escalation(conn, "checkin:2:b", "checkin", "sq", at(26, 19, 59),
                      ((-1, 6, at(26, 19, 59)),))  # fmt: skip
    await _escalation(conn, "checkin:2:c", "checkin", "sq", at(26, 7, 59))  # previous period
    # an arrival started on 25th: its ladder's first rung in the period
    await _escalation(conn, "report:9", "arrival", "sq", at(25, 10), ((0, 6, at(26, 10)),))
    # a fever alert acknowledged at once: worker only, no rung, not escalated
    await _escalation(conn, "fever:7", "fever", "xf", at(26, 12), ((-1, 5, at(26, 12)),))
    # a rung at UNTIL belongs to the next period
    await _escalation(conn, "tip:4", "tip", "xf", at(26, 1), ((1, 7, at(26, 20)),))
    # cases: one discovered in the period and closed since; one from before
    await _case(conn, 1, at(26, 15), "closed")
    await _case(conn, 2, at(25, 15), "closed")


# (village, field) -> the known answer for the period
EXPECTED = {
    ("xf", "checkins_done"): 2,
    ("xf", "fever"): 1,
    ("xf", "checkins_missed"): 1,
    ("xf", "escalations"): 1,
    ("xf", "cases_new"): 0,
    ("sq", "checkins_done"): 2,
    ("sq", "fever"): 0,
    ("sq", "checkins_missed"): 1,
    ("sq", "escalations"): 1,
    ("sq", "cases_new"): 1,
    ("sq", "cases_open"): 0,
}


@pytest.fixture
async def counts(harness: Harness) -> dict[str, stats.VillageCounts]:
    async with harness.db.write() as conn:
        await _seed(conn)
        return await stats.collect(conn, SINCE, UNTIL, UNTIL, GRID_VILLAGE)


@pytest.mark.parametrize(("village", "name"), list(EXPECTED))
async def test_each_event_counts_in_the_period_it_happened(
    counts: dict[str, stats.VillageCounts], village: str, name: str
) -> None:
    assert getattr(counts[village], name) == EXPECTED[(village, name)]


async def test_a_period_with_any_event_is_not_quiet(
    counts: dict[str, stats.VillageCounts],
) -> None:
    assert not counts["xf"].quiet and not counts["sq"].quiet


async def test_a_fever_and_a_lost_contact_after_the_slots_period_is_no_zero_report(
    harness: Harness,
) -> None:
    """The issue's period: the only events are a fever answer to a slot of the previous
    period and the second miss in a row (可能脱离管控) of a slot of the previous period. Both
    were still open when that period's report went out, so they are this period's news."""
    h = harness
    async with h.db.write() as conn:
        mid = await _monitoring(conn, "XF01", "xf")
        # still prompted when the 08:00 report went; answered (fever) at 08:10
        await _checkin(conn, mid, at(26, 7, 30), at(26, 8, 10), 38.5)
        await _checkin(conn, mid, at(25, 20), None, state="missed")  # marked missed at 09:00
        await _escalation(conn, "checkin:x:1", "checkin", "xf", at(26, 9),
                          ((-1, 0, at(26, 9)),))  # fmt: skip
    await advance_to(h, at(26, 20))
    (text,) = reports_sent(h)
    assert ZERO not in text
    assert "健康打卡：已打卡 1，未打卡 1，发热/症状 <b>1</b>" in text
    assert "超时升级上报：<b>1</b> 项" in text
    assert "<b>先锋社区</b>：零报告" not in text


async def test_a_case_discovered_and_closed_within_the_period_is_reported(
    harness: Harness,
) -> None:
    h = harness
    async with h.db.write() as conn:
        await _case(conn, 1, at(26, 11), "closed")
    await advance_to(h, at(26, 20))
    (text,) = reports_sent(h)
    assert ZERO not in text
    assert "病例：本时段新增 1，未结 0" in text
