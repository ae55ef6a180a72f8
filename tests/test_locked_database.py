"""A locked database (another process holding the write lock: a backup, the sqlite3 shell):
the bot waits it out when it can, and when it cannot, its apology says exactly that nothing
was saved. The lock is real (a second connection holding BEGIN IMMEDIATE); SQLite's busy
timeout is made short and the waits between attempts go through an injected sleep."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.runtime.render import Renderer
from sandbox.recording import Call
from storage import drafts
from tests.harness import Harness

RESIDENT = 424242


@pytest.fixture
def blocker(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection to the harness's database, holding its write lock."""
    conn = sqlite3.connect(tmp_path / "paicha.sqlite3", isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


async def short_busy_timeout(
    h: Harness, waits: list[float], release: sqlite3.Connection | None
) -> None:
    """SQLite gives up on the lock after 10 ms; each wait between attempts is recorded, and
    ``release`` (if given) lets go of the lock during the first one."""
    await h.db.conn.execute("PRAGMA busy_timeout=10")

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if release is not None and release.in_transaction:
            release.execute("COMMIT")

    h.db.sleep = sleep


def texts(calls: list[Call]) -> list[str]:
    return [c.params["text"] for c in calls if c.method == "sendMessage"]


def question(calls: list[Call]) -> str:
    """The text of the newest question with buttons among ``calls``."""
    return [
        c.params["text"] for c in calls if "inline_keyboard" in (c.params.get("reply_markup") or {})
    ][-1]


async def test_arrive_waits_for_a_lock_that_is_let_go(
    harness: Harness, blocker: sqlite3.Connection
) -> None:
    h, waits = harness, []
    await short_busy_timeout(h, waits, release=blocker)
    calls = await h.text(RESIDENT, "/arrive")
    assert len(waits) == 1  # one wait, then the lock was free
    draft = await drafts.get(h.db, RESIDENT)
    assert draft is not None and draft.flow == "arrival"
    assert question(calls) == "这次是给谁登记？"
    assert not [t for t in texts(calls) if "抱歉" in t]


async def test_arrive_under_a_lock_that_stays_says_nothing_was_saved(
    harness: Harness, blocker: sqlite3.Connection
) -> None:
    h, waits = harness, []
    await short_busy_timeout(h, waits, release=None)
    calls = await h.text(RESIDENT, "/arrive")
    assert len(waits) >= 2  # tried again a few times before giving up
    assert await drafts.get(h.db, RESIDENT) is None
    [apology] = texts(calls)
    assert "没有保存" in apology and "再发一次 /arrive" in apology
    assert "没有丢失" not in apology and "已经保存" not in apology


async def test_an_answer_under_a_lock_is_asked_again(harness: Harness, tmp_path: Path) -> None:
    """An answer that cannot be stored: the resident is told it was not saved and gets the
    same question again; sent again once the lock is gone, it is stored."""
    h, waits = harness, []
    await h.text(RESIDENT, "/arrive")
    await h.choose(RESIDENT, "本人")
    asked = h.texts(RESIDENT)[-1]
    conn = sqlite3.connect(tmp_path / "paicha.sqlite3", isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        await short_busy_timeout(h, waits, release=None)
        calls = await h.text(RESIDENT, "张三")
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    apology, again = texts(calls)
    assert "没有保存" in apology and "已经保存" not in apology
    assert again == asked
    assert "name" not in (await drafts.get(h.db, RESIDENT)).data
    await h.text(RESIDENT, "张三")
    assert (await drafts.get(h.db, RESIDENT)).data["name"] == "张三"


async def test_an_answer_stored_before_a_failure_is_said_to_be_saved(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the answer was stored (here: the next question cannot be built): the
    apology says the answer is saved, and the open question comes again."""
    from bot.flows.engine import Engine

    h = harness
    await h.text(RESIDENT, "/arrive")
    real_ask = Engine.ask
    failures = iter([RuntimeError("a bug")])

    async def ask_once_broken(self: Engine, draft: object, chat_id: int | None = None) -> None:
        error = next(failures, None)
        if error is not None:
            raise error
        await real_ask(self, draft, chat_id)

    monkeypatch.setattr(Engine, "ask", ask_once_broken)
    calls = await h.choose(RESIDENT, "本人")
    assert (await drafts.get(h.db, RESIDENT)).data.get("relation") == "self"
    apology, again = texts(calls)
    assert "已经保存" in apology
    assert again == "请输入您的真实姓名："


@pytest.mark.parametrize(
    ("locale", "name", "params", "says", "never"),
    [
        ("en", "error_not_saved", {"command": "/arrive", "kept": False},
         ["nothing was saved", "send /arrive again"], ["has been saved"]),
        ("en", "error_not_saved", {"command": None, "kept": True},
         ["was not saved", "answer the question below again"], ["has been saved"]),
        ("en", "error_saved", {}, ["has been saved"], ["not saved"]),
        ("en", "error", {"kept": False}, ["may not have gone through"], ["saved", "not lost"]),
        ("zh_CN", "error_not_saved", {"command": None, "kept": False},
         ["没有保存上", "再试一次"], ["已经保存"]),
        ("zh_CN", "error", {"kept": True}, ["可能没有办成", "之前填好的内容都还在"], ["没有丢失"]),
    ],
)  # fmt: skip
def test_each_apology_says_what_is_true(
    locale: str, name: str, params: dict, says: list[str], never: list[str]
) -> None:
    text = Renderer().text(locale, "start", name, **params)
    assert all(s in text for s in says), text
    assert not any(n in text for n in never), text
