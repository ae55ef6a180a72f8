"""零报告 is never claimed for a period in which the screening itself made news (review A6): a
change of the key regions (重点地区调整) re-screened people, a quarantine-release certificate
was filed (备案) with the leadership group, or an arrival alerted and was withdrawn since.
Each counts in the period in which it happened: a change when its re-screen was done, a
filing when the version of the report that made it was stored, an alert when the version
that raised it was stored, whatever became of the report later.

The known answers below are written by hand from the seeded timeline, not computed by the
code under test."""

from __future__ import annotations

from datetime import datetime

import aiosqlite
import pytest

from storage import stats
from storage.outbox import iso
from tests.harness import Harness
from tests.test_digest import add_report, advance_to, at, reports_sent

ZERO = "✅ <b>零报告</b>"
GRID_VILLAGE = {"XF01": "xf", "SQ01": "sq"}
SINCE, UNTIL = at(26, 8), at(26, 20)  # the period under test: 26 October 08:00 to 20:00


async def _change(
    conn: aiosqlite.Connection, made: datetime, done: datetime | None, upgraded: int
) -> None:
    """A change of the key regions; ``done``: when its re-screen committed (None: pending)."""
    await conn.execute(
        """INSERT INTO region_changes (at, actor, source, added, removed, regions, state,
               upgraded, done_at) VALUES (?, 1, 'chat', '[]', '[]', '[]', ?, ?, ?)""",
        (iso(made), "done" if done else "pending", upgraded, done and iso(done)),
    )


async def _version(conn: aiosqlite.Connection, report_id: int, stored: datetime) -> None:
    """The report's second version, stored at ``stored`` (its first went to the history)."""
    await conn.execute(
        """INSERT INTO report_history (report_id, version, data, persons, saved_at)
           VALUES (?, 1, '{}', '[]', ?)""",
        (report_id, iso(stored)),
    )
    await conn.execute(
        "UPDATE reports SET version = 2, updated_at = ? WHERE id = ?", (iso(stored), report_id)
    )


async def _certificate(
    conn: aiosqlite.Connection, report_id: int, state: str, decided: datetime | None = None
) -> None:
    await conn.execute(
        "UPDATE reports SET certificate = ?, certificate_at = ? WHERE id = ?",
        (state, decided and iso(decided), report_id),
    )


async def _seed(conn: aiosqlite.Connection) -> None:
    # key-region changes: two re-screens done in the period (one upgraded nobody)
    await _change(conn, at(25, 20), at(26, 9), upgraded=3)  # made before, re-screened in
    await _change(conn, at(26, 12), at(26, 12), upgraded=0)
    await _change(conn, at(26, 7), at(26, 7, 59), upgraded=5)  # the previous period
    await _change(conn, at(26, 19, 59), at(26, 20), upgraded=4)  # at UNTIL: the next period
    await _change(conn, at(26, 10), None, upgraded=0)  # its re-screen not done yet

    # certificate filings (备案): made when the report (version) was stored
    qd = {"category": "quarantine_done", "risk": "overseas"}
    rid = await add_report(conn, "xf", "XF01", at(26, 10), **qd)
    await _certificate(conn, rid, "pending")
    rid = await add_report(conn, "xf", "XF01", at(26, 11), **qd, state="withdrawn")
    await _certificate(conn, rid, "checked", at(26, 15))  # filed, checked, then withdrawn
    rid = await add_report(conn, "xf", "XF01", at(25, 10), **qd)  # filed the day before
    await _certificate(conn, rid, "pending")
    rid = await add_report(conn, "sq", "SQ01", at(20, 9), **qd)
    await _version(conn, rid, at(26, 13))  # a new version files again
    await _certificate(conn, rid, "pending")
    rid = await add_report(conn, "sq", "SQ01", at(22, 9), **qd)
    await _certificate(conn, rid, "checked", at(23, 9))
    await _version(conn, rid, at(26, 14))  # checked before this version: no new filing
    rid = await add_report(conn, "sq", "SQ01", at(22, 9))  # 三返 now: the old one is stale
    await _certificate(conn, rid, "pending")
    await _version(conn, rid, at(26, 14))

    # arrival alerts, counted when raised whatever became of the report
    await add_report(conn, "sq", "SQ01", at(26, 16), risk="high_risk", alert=True,
                     state="withdrawn")  # fmt: skip
    # the previous period's alert, withdrawn in this one
    await add_report(conn, "xf", "XF01", at(25, 10), risk="high_risk", alert=True,
                     state="withdrawn")  # fmt: skip
    rid = await add_report(conn, "xf", "XF01", at(21, 9), risk="high_risk", alert=True)
    await _version(conn, rid, at(26, 17))  # registered again: its 预警 went out again


# (village, field) -> the known answer for the period
EXPECTED = {
    ("xf", "certificates"): 2,
    ("sq", "certificates"): 1,
    ("xf", "alerts"): 1,
    ("sq", "alerts"): 1,
    ("xf", "arrivals"): 1,  # the open report of 26 October 10:00
    ("sq", "arrivals"): 0,  # the only new one was withdrawn
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


async def test_region_changes_count_when_their_re_screen_was_done(harness: Harness) -> None:
    async with harness.db.write() as conn:
        await _seed(conn)
        assert await stats.region_changes(conn, SINCE, UNTIL) == (2, 3)


async def test_the_region_changes_are_the_towns_not_an_unknown_villages(
    counts: dict[str, stats.VillageCounts],
) -> None:
    assert set(counts) == {"xf", "sq"}
    assert all(c.region_changes == c.region_upgraded == 0 for c in counts.values())


# --- what the leadership group reads ------------------------------------------------------


async def _report(h: Harness) -> str:
    await advance_to(h, at(26, 20))
    (text,) = reports_sent(h)
    return text


async def test_a_region_change_alone_is_no_zero_report(harness: Harness) -> None:
    async with harness.db.write() as conn:
        await _change(conn, at(26, 9), at(26, 9, 1), upgraded=2)
    text = await _report(harness)
    assert ZERO not in text
    assert "重点地区调整 1 次，升级管控 <b>2</b> 人" in text


async def test_a_region_change_that_upgraded_nobody_is_still_news(harness: Harness) -> None:
    async with harness.db.write() as conn:
        await _change(conn, at(26, 9), at(26, 9, 1), upgraded=0)
    text = await _report(harness)
    assert ZERO not in text
    assert "重点地区调整 1 次，升级管控 0 人" in text


async def test_a_certificate_filed_by_a_new_version_is_no_zero_report(harness: Harness) -> None:
    async with harness.db.write() as conn:
        rid = await add_report(conn, "xf", "XF01", at(20, 9), category="quarantine_done",
                               risk="overseas")  # fmt: skip
        await _version(conn, rid, at(26, 13))
        await _certificate(conn, rid, "pending")
    text = await _report(harness)
    assert ZERO not in text
    assert "隔离期满返回人员备案：<b>1</b> 人" in text
    assert "<b>先锋社区</b>：零报告" not in text


async def test_an_alert_withdrawn_in_the_same_period_is_no_zero_report(
    harness: Harness,
) -> None:
    async with harness.db.write() as conn:
        await add_report(conn, "xf", "XF01", at(26, 10), risk="high_risk", alert=True,
                         state="withdrawn")  # fmt: skip
    text = await _report(harness)
    assert ZERO not in text
    assert "到达预警：<b>1</b>" in text
    assert "新增来返人员：<b>0</b> 人" in text  # withdrawn: not a new arrival
    assert "<b>先锋社区</b>：零报告" not in text


async def test_nothing_in_the_period_is_still_a_zero_report(harness: Harness) -> None:
    async with harness.db.write() as conn:
        await _seed(conn)
        await conn.execute("DELETE FROM region_changes WHERE done_at >= ?", (iso(SINCE),))
        await conn.execute("DELETE FROM reports WHERE updated_at >= ?", (iso(SINCE),))
    assert ZERO in await _report(harness)


async def test_the_charts_alerts_keep_a_withdrawn_alert(harness: Harness) -> None:
    """The chart agrees with the text: an alert counts on its day, withdrawn since or not;
    a withdrawn report is no arrival."""
    async with harness.db.write() as conn:
        await add_report(conn, "xf", "XF01", at(26, 10), risk="high_risk", alert=True,
                         state="withdrawn")  # fmt: skip
        await add_report(conn, "xf", "XF01", at(26, 11))
        series = await stats.daily(conn, [at(25, 0), at(26, 0), at(26, 20)])
    assert (series.arrivals, series.alerts) == ([0, 1], [0, 1])
