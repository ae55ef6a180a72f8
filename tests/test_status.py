"""Health: ``paicha status`` and ``/status`` (issue 11) — each figure from a seeded database
(known answers), the exit code, /status for admins only, the heartbeat of the last update,
and the failed / possibly repeated messages in the daily report."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import cli
from bot.actions import status
from bot.runtime.clock import ManualClock
from storage import outbox
from storage.db import Database
from storage.outbox import PRIORITY_ALERT, PRIORITY_BULK, Backlog, iso
from storage.status import LAST_UPDATE, Health
from tests.conftest import ROOT
from tests.harness import Harness
from tests.test_arrival_flow import RESIDENT, WORKER_XF01
from tests.test_digest import add_report, advance_to, at, reports_sent

NOW = datetime(2020, 10, 26, 2, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
ADMIN = 10001


async def put(db: Database, chat_id: int, created: datetime, priority: int = 5) -> int:
    async with db.write() as conn:
        row_id = await outbox.enqueue(
            conn, chat_id=chat_id, text="x", now=created, priority=priority
        )
    assert row_id is not None
    return row_id


async def seed(db: Database) -> None:
    """Known figures as of NOW: see EXPECTED."""
    await put(db, 1, NOW - 20 * MIN, PRIORITY_BULK)  # waiting 20 minutes
    await put(db, 2, NOW - 15 * MIN, PRIORITY_ALERT)  # an alert waiting 15 minutes
    await outbox.mark_failed(db, await put(db, 3, NOW - 3 * 60 * MIN), "a", NOW - 2 * 60 * MIN)
    await outbox.mark_failed(db, await put(db, 4, NOW - 31 * 60 * MIN), "b", NOW - 30 * 60 * MIN)
    for chat, sent_at in ((5, NOW - 60 * MIN), (6, NOW - 48 * 60 * MIN)):
        row_id = await put(db, chat, sent_at - MIN)
        await outbox.mark_retry(db, row_id, sent_at, "TimedOut", uncertain=True)
        await outbox.mark_sent(db, row_id, 7, sent_at)  # possibly received twice
    await outbox.mark_sent(db, await put(db, 8, NOW - MIN), 8, NOW - MIN)  # delivered once
    async with db.write() as conn:
        for due, state in ((NOW - timedelta(seconds=30), "pending"),  # due, not late
                           (NOW - 5 * MIN, "pending"),  # due and late
                           (NOW + 60 * MIN, "pending"),  # not due
                           (NOW - 120 * MIN, "done")):  # fmt: skip
            await conn.execute(
                "INSERT INTO timers (kind, subject, due_at, state, created_at) "
                "VALUES ('digest.send', 'digest', ?, ?, ?)",
                (iso(due), state, iso(NOW - 180 * MIN)),
            )
        await conn.execute(
            "INSERT INTO counters (scope, value) VALUES (?, ?)",
            (LAST_UPDATE, int((NOW - timedelta(seconds=90)).timestamp())),
        )


EXPECTED = [
    ("outbox_pending", 2),
    ("outbox_oldest_pending_seconds", 1200),
    ("alert_oldest_pending_seconds", 900),
    ("failed_last_24h", 1),
    ("failed_total", 2),
    ("possible_repeats_last_24h", 1),
    ("possible_repeats_total", 2),
    ("timers_due", 2),
    ("timers_late", 1),
    ("last_update_seconds_ago", 90),
]


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "paicha.sqlite3")
    yield database
    await database.close()


async def test_each_figure_from_a_seeded_database(db: Database) -> None:
    await seed(db)
    health = await status.read(db, NOW)
    assert health.backlog == Backlog(2, NOW - 20 * MIN, NOW - 15 * MIN)
    assert health.last_update == NOW - timedelta(seconds=90)
    size = await db.fetchone("SELECT page_count * page_size FROM pragma_page_count(), "
                             "pragma_page_size()")  # fmt: skip
    assert status.figures(health) == [*EXPECTED, ("database_bytes", size[0])]
    assert size[0] > 0
    assert status.problems(health) == (status.STUCK_ALERT, status.FAILED)


async def test_an_empty_database_is_healthy(db: Database) -> None:
    health = await status.read(db, NOW)
    figures = dict(status.figures(health))
    assert figures["outbox_pending"] == 0 and figures["last_update_seconds_ago"] == "none"
    assert figures["alert_oldest_pending_seconds"] == "none"
    assert status.problems(health) == ()


def health(oldest_alert: timedelta | None = None, failed_24h: int = 0) -> Health:
    alert = None if oldest_alert is None else NOW - oldest_alert
    return Health(NOW, Backlog(1 if alert else 0, alert, alert), failed_24h, failed_24h,
                  0, 0, 0, 0, None, 0)  # fmt: skip


# Known answers: (alert waiting, failed in 24 h) -> what is stuck, with the default 10 minutes.
PROBLEMS = [
    (None, 0, ()),
    (10 * MIN, 0, ()),  # exactly the limit: not yet
    (10 * MIN + timedelta(seconds=1), 0, (status.STUCK_ALERT,)),
    (None, 1, (status.FAILED,)),
    (60 * MIN, 3, (status.STUCK_ALERT, status.FAILED)),
]


@pytest.mark.parametrize(("waiting", "failed", "expected"), PROBLEMS)
def test_when_alerts_are_stuck(waiting, failed, expected) -> None:
    assert status.problems(health(waiting, failed)) == expected


def test_the_alert_limit_is_the_callers() -> None:
    assert status.problems(health(15 * MIN), timedelta(minutes=20)) == ()


# -- paicha status ---------------------------------------------------------------------------


def config_file(tmp_path: Path, database: Path) -> Path:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('"var/paicha.sqlite3"', repr(str(database)))
    text = text.replace('"data/regions.toml"', repr(str(ROOT / "data/regions.toml")))
    path = tmp_path / "paicha.toml"
    path.write_text(text, encoding="utf-8")
    return path


def seeded(tmp_path: Path, fill: bool = True) -> Path:
    path = tmp_path / "bot.sqlite3"

    async def make() -> None:
        database = await Database.open(path)
        if fill:
            await seed(database)
        await database.close()

    asyncio.run(make())
    return path


@pytest.fixture
def at_now(monkeypatch) -> None:
    monkeypatch.setattr(cli, "make_clock", lambda config: ManualClock(NOW))


def test_the_command_prints_each_figure_and_exits_2_when_alerts_are_stuck(
    tmp_path: Path, capsys, at_now, monkeypatch
) -> None:
    database = seeded(tmp_path)
    path = config_file(tmp_path, database)
    monkeypatch.delenv("PAICHA_DATA_KEY")  # reading counts needs no key
    # The bot is running and writing: the command reads beside it.
    bot = sqlite3.connect(database, isolation_level=None)
    bot.execute("BEGIN IMMEDIATE")
    try:
        assert cli.main(["status", "--config", str(path)]) == 2
    finally:
        bot.execute("ROLLBACK")
        bot.close()
    lines = capsys.readouterr().out.splitlines()
    assert lines[: len(EXPECTED)] == [f"{name}: {value}" for name, value in EXPECTED]
    assert lines[len(EXPECTED)].startswith("database_bytes: ")
    assert lines[-1] == "alerts: STUCK (alert_stuck, failed)"
    assert len(lines) == len(EXPECTED) + 2


def test_a_healthy_database_exits_0(tmp_path: Path, capsys, at_now) -> None:
    path = config_file(tmp_path, seeded(tmp_path, fill=False))
    assert cli.main(["status", "--config", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "alerts: OK"


def test_the_alert_limit_is_an_option(tmp_path: Path, capsys, at_now) -> None:
    database = seeded(tmp_path)
    with sqlite3.connect(database) as conn:  # only the waiting alert is left
        conn.execute("DELETE FROM outbox WHERE state = 'failed'")
    path = config_file(tmp_path, database)
    assert cli.main(["status", "--config", str(path)]) == 2
    assert cli.main(["status", "--config", str(path), "--alert-minutes", "20"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "alerts: OK"


def test_no_database_is_a_one_line_reason(tmp_path: Path, capsys) -> None:
    path = config_file(tmp_path, tmp_path / "missing.sqlite3")
    assert cli.main(["status", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("paicha: no database at ") and len(err.splitlines()) == 1
    assert not (tmp_path / "missing.sqlite3").exists()  # read only: nothing created


# -- /status ---------------------------------------------------------------------------------


async def test_status_for_an_admin_shows_the_figures_and_is_audited(harness: Harness) -> None:
    async with harness.db.write() as conn:
        await outbox.enqueue(conn, chat_id=1, text="x", now=harness.clock.now() - 30 * MIN,
                             priority=PRIORITY_ALERT)  # fmt: skip
    calls = await harness.text(ADMIN, "/status")
    (text,) = [c.params["text"] for c in calls if c.method == "sendMessage"]
    assert "系统运行状态" in text and "预警消息发送受阻" in text
    assert "有预警消息超过 10 分钟还没发出" in text
    assert "待发消息：1 条，最早的已等 30 分钟" in text
    assert "发送失败：近24小时 0 条，累计 0 条" in text
    audit = await harness.db.fetchall("SELECT actor, action FROM audit WHERE action LIKE '%status'")
    assert [tuple(r) for r in audit] == [(ADMIN, "view:status")]


async def test_status_in_english(harness: Harness) -> None:
    calls = await harness.text(ADMIN, "/status", lang="en")
    (text,) = [c.params["text"] for c in calls if c.method == "sendMessage"]
    assert "Bot status" in text and "Alerts are going out normally" in text


@pytest.mark.parametrize("user", [RESIDENT, WORKER_XF01])
async def test_status_is_refused_to_anyone_but_admins(harness: Harness, user: int) -> None:
    calls = await harness.text(user, "/status")
    texts = [c.params["text"] for c in calls if c.method == "sendMessage"]
    assert texts and all("系统运行状态" not in t and "待发消息" not in t for t in texts)
    assert any("您没有权限" in t for t in texts)
    row = await harness.db.fetchone("SELECT actor, action FROM audit WHERE action LIKE '%status'")
    assert tuple(row) == (user, "denied:status")


async def test_admins_have_status_in_their_command_menu(harness: Harness) -> None:
    menus = [
        [command["command"] for command in c.params["commands"]]
        for c in harness.request.calls
        if c.method == "setMyCommands" and c.params["scope"].get("chat_id") == ADMIN
    ]
    assert menus and all("status" in m and "tasks" in m and "arrive" in m for m in menus)


async def test_the_last_update_is_recorded_at_most_once_a_minute(harness: Harness) -> None:
    async def recorded() -> datetime | None:
        return (await status.read(harness.db, harness.clock.now())).last_update

    first = harness.clock.now()
    await harness.text(RESIDENT, "/help")
    assert await recorded() == first.replace(microsecond=0)
    harness.clock.advance(seconds=59)
    await harness.text(RESIDENT, "/help")
    assert await recorded() == first.replace(microsecond=0)  # not written again
    later = harness.clock.advance(seconds=2)
    await harness.text(RESIDENT, "/help")
    assert await recorded() == later.replace(microsecond=0)


# -- the daily report ------------------------------------------------------------------------


async def test_the_daily_report_counts_failed_and_possibly_repeated_messages(
    harness: Harness,
) -> None:
    db = harness.db
    await add_report(db, "xf", "XF01", at(26, 11))
    failed = await put(db, 7, at(26, 11))
    await outbox.mark_failed(db, failed, "Chat not found", at(26, 12))
    before = await put(db, 7, at(26, 7))
    await outbox.mark_failed(db, before, "Chat not found", at(26, 7))  # the previous window
    repeated = await put(db, 7, at(26, 13))
    await outbox.mark_retry(db, repeated, at(26, 13), "TimedOut", uncertain=True)
    await outbox.mark_sent(db, repeated, 3, at(26, 14))
    await advance_to(harness, at(26, 20))
    (report,) = reports_sent(harness)
    assert "⚠️ <b>1 条消息发送失败</b>" in report
    assert "1 条消息可能重复发送" in report
    await advance_to(harness, at(27, 8))
    quiet = reports_sent(harness)[-1]
    assert "发送失败" not in quiet and "重复发送" not in quiet
