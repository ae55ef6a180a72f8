"""The daily report's chain after discovery (issue 12): close contacts traced and waiting,
people in centralised isolation per site with the rooms left, tests taken and positives,
transfers delivered and waiting, sites being activated — town-wide, from a known dataset.

The known answers are written by hand from the seeded timeline, not computed by the code
under test. The period is 26 October 08:00 to 20:00 (Shanghai)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import aiosqlite
import pytest

from bot.actions import digest
from bot.config import Config
from bot.domain.isolation import SiteLoad
from bot.runtime.clock import ManualClock
from storage import stats
from storage.outbox import iso
from tests.harness import Harness
from tests.test_digest import at

SINCE, UNTIL = at(26, 8), at(26, 20)
_ids = itertools.count(1)


async def _site(
    conn: aiosqlite.Connection, ident: str, name: str, state: str, capacity: int,
    deadline: datetime | None = None,
) -> None:  # fmt: skip
    await conn.execute(
        """INSERT INTO sites (id, name, address, capacity, state, activation_deadline,
               created_at, updated_at) VALUES (?, ?, '先锋镇', ?, ?, ?, ?, ?)""",
        (ident, name, capacity, state, deadline and iso(deadline), iso(at(1, 8)), iso(at(1, 8))),
    )


async def _contact(conn: aiosqlite.Connection, created: datetime, state: str) -> int:
    n = next(_ids)
    cur = await conn.execute(
        """INSERT INTO contacts (ref, name, address, village_id, grid_id, kind, last_exposure,
               measure_kind, measure_start, measure_end, state, created_at, updated_at)
           VALUES (?, ?, '先锋街1号', 'xf', 'XF01', 'close', '2020-10-25',
                   'central_isolation', '2020-10-25', '2020-11-07', ?, ?, ?)""",
        (f"XF-MJ-{n:04d}", f"密接{n}", state, iso(created), iso(created)),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


async def _stay(
    conn: aiosqlite.Connection, site: str, room: str, state: str,
    released: datetime | None = None,
) -> int:  # fmt: skip
    contact = await _contact(conn, at(20, 9), "isolating")
    cur = await conn.execute(
        """INSERT INTO stays (site_id, room, contact_id, measure_kind, start_date, end_date,
               state, assigned_by, assigned_at, released_at)
           VALUES (?, ?, ?, 'central_isolation', '2020-10-20', '2020-11-02', ?, 1, ?, ?)""",
        (site, room, contact, state, iso(at(20, 9)), released and iso(released)),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


async def _test(
    conn: aiosqlite.Connection, stay: int, day: int, sampled: datetime | None,
    result: str | None = None, result_at: datetime | None = None,
) -> None:  # fmt: skip
    await conn.execute(
        """INSERT INTO stay_tests (stay_id, test_date, sampled_at, result, result_at)
           VALUES (?, ?, ?, ?, ?)""",
        (stay, f"2020-10-{day}", sampled and iso(sampled), result, result_at and iso(result_at)),
    )


async def _transfer(conn: aiosqlite.Connection, state: str, delivered: datetime | None) -> None:
    n = next(_ids)
    await conn.execute(
        """INSERT INTO transfers (ref, site_id, from_address, village_id, state, requested_by,
               requested_at, delivered_at) VALUES (?, 'ZT1', '先锋街1号', 'xf', ?, 1, ?, ?)""",
        (f"XF-ZY-{n:02d}", state, iso(at(20, 9)), delivered and iso(delivered)),
    )


async def seed(conn: aiosqlite.Connection) -> None:
    # the config's own sites would add to the reserve: the known answers are about these
    await conn.execute("DELETE FROM sites")
    await _site(conn, "ZT1", "一号隔离点", "active", 2)
    await _site(conn, "ZT2", "二号隔离点", "activating", 10, deadline=at(27, 9))
    await _site(conn, "ZT3", "三号隔离点", "reserved", 20)
    await _site(conn, "ZT4", "四号隔离点", "closed", 5)
    await _site(conn, "ZT5", "五号隔离点", "activating", 8, deadline=at(26, 18))  # overdue

    # contacts traced: two in the period, one before it, one at its end (the next period's);
    # all four still waiting for isolation but the first
    await _contact(conn, at(26, 9), "isolating")
    await _contact(conn, at(26, 12), "traced")
    await _contact(conn, at(25, 10), "traced")
    await _contact(conn, at(26, 20), "traced")

    # stays (each with a contact of 20 October, isolating): one arrived and one expected in
    # 一号 (full), one arrived in 二号; released in the period, released before, ended
    arrived = await _stay(conn, "ZT1", "101", "in")
    expected = await _stay(conn, "ZT1", "102", "assigned")
    second = await _stay(conn, "ZT2", "A1", "in")
    gone = await _stay(conn, "ZT1", "103", "released", released=at(26, 11))
    await _stay(conn, "ZT1", "104", "released", released=at(25, 19))
    await _stay(conn, "ZT1", "105", "ended")

    # tests: three sampled in the period (one negative, one positive, one awaiting its
    # result), an older sample still pending, an older negative, one not taken yet
    await _test(conn, arrived, 26, at(26, 9), "negative", at(26, 15))
    await _test(conn, expected, 26, at(26, 10))
    await _test(conn, second, 26, at(26, 11), "positive", at(26, 18))
    await _test(conn, expected, 25, at(25, 21), "pending")
    await _test(conn, gone, 23, at(23, 9), "negative", at(23, 20))
    await _test(conn, second, 27, None)

    # transfers: one delivered in the period, one before; one waiting for a vehicle, two on
    # the way, one cancelled
    await _transfer(conn, "delivered", at(26, 10))
    await _transfer(conn, "delivered", at(25, 10))
    await _transfer(conn, "requested", None)
    await _transfer(conn, "dispatched", None)
    await _transfer(conn, "picked_up", None)
    await _transfer(conn, "cancelled", None)


EXPECTED = {
    "contacts_new": 2,
    "contacts_waiting": 3,
    "released": 1,
    "tests_taken": 3,
    "positives": 1,
    "results_pending": 2,
    "transfers_done": 1,
    "transfers_waiting": 1,
    "transfers_moving": 2,
}
# site id -> (people arrived, expected, beds free)
SITES = {"ZT1": (1, 1, 0), "ZT2": (1, 0, 9), "ZT3": (0, 0, 20), "ZT5": (0, 0, 8)}


@pytest.fixture
async def chain(harness: Harness) -> stats.Chain:
    async with harness.db.write() as conn:
        await seed(conn)
        return await stats.chain(conn, SINCE, UNTIL)


@pytest.mark.parametrize("name", list(EXPECTED))
async def test_each_figure_of_the_chain(chain: stats.Chain, name: str) -> None:
    assert getattr(chain, name) == EXPECTED[name]


async def test_occupancy_per_site_leaves_out_closed_sites(chain: stats.Chain) -> None:
    mine = {s.id: (s.arrived, s.expected, s.free) for s in chain.sites if s.id in SITES}
    assert mine == SITES
    assert "ZT4" not in {s.id for s in chain.sites}
    assert [s.id for s in chain.activating if s.id.startswith("ZT")] == ["ZT2", "ZT5"]
    assert {k: v for k, v in chain.deadlines.items() if k.startswith("ZT")} == {
        "ZT2": at(27, 9), "ZT5": at(26, 18)
    }  # fmt: skip


def test_a_town_without_sites_or_contacts_keeps_its_old_report() -> None:
    assert stats.Chain().quiet and not stats.Chain().shown


@pytest.mark.parametrize(
    "news", ("contacts_new", "contacts_waiting", "positives", "transfers_waiting",
             "transfers_moving"),
)  # fmt: skip
def test_news_of_the_chain_is_never_a_zero_report(news: str) -> None:
    chain = stats.Chain(**{news: 1})
    assert not chain.quiet and chain.shown


def test_a_site_being_activated_is_news_and_people_isolated_are_a_figure() -> None:
    site = SiteLoad("A", "甲", "activating", 5, 0, 0)
    assert not stats.Chain(sites=(site,)).quiet
    active = SiteLoad("B", "乙", "active", 5, 3, 0)
    assert stats.Chain(sites=(active,)).quiet and stats.Chain(sites=(active,)).shown


async def _text(h: Harness) -> str:
    async with h.db.write() as conn:
        await seed(conn)
        built = await digest.build(h.services, conn, since=SINCE, until=UNTIL, now=UNTIL)
    return built.text


ZH_LINES = (
    "<b>密接与集中隔离</b>",
    "密切接触者：本时段新增 2 人，待隔离 <b>3</b> 人",
    "  一号隔离点：2 人（待入住 1），空余床位 <b>0</b> 张",
    "  二号隔离点（启用中）：1 人，空余床位 9 张",
    "  五号隔离点（启用中）：0 人，空余床位 8 张",
    "  储备隔离点 1 处，可容纳 20 人",
    "核酸检测：本时段采样 3 人次，阳性 <b>1</b>，待出结果 2",
    "转运：本时段送达 1 趟，待派车 <b>1</b>，在途 2",
    "⏰ 隔离点启用中：二号隔离点，须于 10月27日 09:00 前完成",
    "⏰ 隔离点启用中：五号隔离点，须于 10月26日 18:00 前完成，<b>已超时</b>",
)

EN_LINES = (
    "<b>Close contacts and centralised isolation</b>",
    "Close contacts: 2 traced in this period, waiting for isolation <b>3</b>",
    "  一号隔离点: 2 in isolation (1 not arrived yet), <b>0</b> beds free",
    "  二号隔离点 (being activated): 1 in isolation, 9 beds free",
    "  reserve sites: 1, room for 20 people",
    "Tests: 3 samples taken in this period, positive <b>1</b>, 2 results pending",
    "Transfers: 1 delivered in this period, waiting for a vehicle <b>1</b>, 2 on the way",
    "⏰ Site being activated: 二号隔离点, due by 27 Oct 09:00",
    "⏰ Site being activated: 五号隔离点, due by 26 Oct 18:00, <b>overdue</b>",
)


async def test_the_report_shows_the_chain_in_chinese(harness: Harness) -> None:
    text = await _text(harness)
    lines = text.splitlines()
    for line in ZH_LINES:
        assert line in lines, f"{line!r} not in:\n{text}"
    assert "四号隔离点" not in text  # closed
    assert "三号隔离点" not in text  # reserved: counted among the reserve
    assert any(line.startswith("集中隔离：在隔离 <b>") and "本时段解除 1 人" in line
               for line in lines)  # fmt: skip
    assert "✅" not in text  # a positive, contacts waiting: never a zero report


@pytest.fixture
async def english(config: Config, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Harness]:
    en = config.model_copy(update={"bot": config.bot.model_copy(update={"default_locale": "en"})})
    h = await Harness.start(en, tmp_path / "en.sqlite3", clock)
    yield h
    await h.stop()


async def test_the_report_shows_the_chain_in_english(english: Harness) -> None:
    text = await _text(english)
    lines = text.splitlines()
    for line in EN_LINES:
        assert line in lines, f"{line!r} not in:\n{text}"
    assert "四号隔离点" not in text
