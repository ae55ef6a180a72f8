"""Release from centralised isolation (issue 12, part F): on the day after the 14th day, every
test negative — the stay and the contact released, the person sent the certificate (a PDF
read back here), the site's manager and the home grid's worker told; a missing, pending or
positive result holds the person and tells the humans why; a final test never taken extends
the stay to a make-up test; the manager's 解除 goes through the same rule, a manager of
another site refused and audited; a release due while the bot was down fires once after."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.actions import isolation, release
from bot.config import Config
from bot.runtime import pdf
from bot.runtime.clock import ManualClock
from bot.runtime.timers import fire_due
from storage import timers
from storage.db import cipher_of
from tests.conftest import SHANGHAI
from tests.harness import Harness
from tests.pdf_text import pdf_lines
from tests.staff_helpers import seed_invited
from tests.test_arrival_flow import RESIDENT, WORKER_XF01
from tests.test_isolation import MANAGER_A, SITES, assign, seed_arrival, seed_contact
from tests.test_samples import seed_stay

# The stay runs from 26 Oct (day 1) to 8 Nov (day 14); tests on 26 Oct, 29 Oct, 1 and 8 Nov.
DAYS = ("2020-10-26", "2020-10-29", "2020-11-01", "2020-11-08")
DAY_14_EVENING = datetime(2020, 11, 8, 22, 0, tzinfo=SHANGHAI)
RELEASE_AT = datetime(2020, 11, 9, 9, 0, tzinfo=SHANGHAI)
ID_NUMBER = "500381199001011234"
SITE = "GL01"  # the example town's: managed by MANAGER (config)
MANAGER = 40001
OTHER = 7102  # manages GL02


async def stay_of_contact(h: Harness, room: str = "101", *, name: str = "李四") -> int:
    """A contact in ``room`` at GL01 (managed by MANAGER; OTHER manages GL02), reachable in
    RESIDENT's chat, its release scheduled as at assignment: the stay's id."""
    await seed_invited(h, OTHER, role="site_manager", scope="GL02")
    async with h.db.write() as conn:
        await conn.execute("UPDATE sites SET state = 'active'")
    stay_id = await seed_stay(h, room, site=SITE, name=name)
    async with h.db.write() as conn:
        await conn.execute(
            """UPDATE contacts SET chat_id = ?, id_number = ?
               WHERE id = (SELECT contact_id FROM stays WHERE id = ?)""",
            (RESIDENT, cipher_of(conn).seal(ID_NUMBER), stay_id),
        )
        await release.schedule(conn, h.services, stay_id)
    return stay_id


async def results(h: Harness, stay_id: int, *outcomes: str | None) -> None:
    """Each scheduled test, in date order: 'negative' / 'positive' / 'pending' (sampled,
    result awaited) or None (never sampled)."""
    async with h.db.write() as conn:
        for day, outcome in zip(DAYS, outcomes, strict=True):
            await conn.execute(
                """UPDATE stay_tests SET sampled_at = ?, sampled_by = ?, result = ?
                   WHERE stay_id = ? AND test_date = ?""",
                (None if outcome is None else h.clock.now().isoformat(),
                 None if outcome is None else MANAGER, outcome, stay_id, day),
            )  # fmt: skip


async def at(h: Harness, instant: datetime) -> None:
    h.clock.set(instant)
    await fire_due(h.services)


async def state(h: Harness, stay_id: int) -> tuple[str, str]:
    row = await h.db.fetchone(
        """SELECT s.state, c.state AS contact FROM stays s JOIN contacts c ON c.id = s.contact_id
           WHERE s.id = ?""",
        (stay_id,),
    )
    return row["state"], row["contact"]


def uploads(h: Harness) -> list[tuple[int, str, bytes]]:
    """Every document sent from now on, as uploaded: (chat, file name, bytes)."""
    sent: list[tuple[int, str, bytes]] = []
    inner = h.request.do_request

    async def do_request(url: str, method: str, request_data: Any = None, *args: Any,
                         **kwargs: Any) -> tuple[int, bytes]:  # fmt: skip
        if url.endswith("/sendDocument") and request_data is not None:
            chat = int(request_data.json_parameters["chat_id"])
            sent.extend((chat, name, data)
                        for name, data, _ in request_data.multipart_data.values())  # fmt: skip
        return await inner(url, method, request_data, *args, **kwargs)

    h.request.do_request = do_request  # type: ignore[method-assign]
    return sent


async def certificate_row(h: Harness) -> tuple[int, str, bytes]:
    """The first certificate sent, read back from the document the outbox uploaded."""
    sent = uploads(h)
    await h.drain_outbox()
    return sent[0]


def documents(h: Harness, chat_id: int) -> list[dict]:
    return [c.params for c in h.request.calls
            if c.method == "sendDocument" and int(c.params["chat_id"]) == chat_id]  # fmt: skip


async def test_released_the_day_after_day_14_with_the_certificate(harness: Harness) -> None:
    h = harness
    stay_id = await stay_of_contact(h)
    await results(h, stay_id, "negative", "negative", "negative", "negative")
    await at(h, DAY_14_EVENING)  # day 14 itself: its test is in, the period is not over
    assert await state(h, stay_id) == ("in", "isolating")
    await at(h, RELEASE_AT)
    assert await state(h, stay_id) == ("released", "released")
    chat, filename, data = await certificate_row(h)
    assert (chat, filename) == (RESIDENT, f"解除隔离告知书-XF-JC-20201109-{stay_id:04d}.pdf")
    text = "".join(pdf_lines(data))
    for words in ("解除集中隔离医学观察告知书", f"编号：XF-JC-20201109-{stay_id:04d}",
                  "李四", "5003**********1234", "2020年10月26日至2020年11月8日",
                  "先锋镇集中隔离点（原粮站招待所）", "共14天", "自2020年11月9日起解除",
                  "先锋镇新冠肺炎疫情防控工作领导小组"):  # fmt: skip
        assert words in text, words
    assert ID_NUMBER not in text  # the paper is shown and forwarded: the ID masked
    await h.drain_outbox()
    (sent,) = documents(h, RESIDENT)
    assert "今天解除隔离" in sent["caption"] and "李四" in sent["caption"]
    row = await h.db.fetchone("SELECT state, photo FROM outbox WHERE kind = 'document'")
    assert (row["state"], row["photo"]) == ("sent", None)  # its file forgotten once sent
    for staff in (MANAGER, WORKER_XF01):
        told = h.texts(staff)[-1]
        assert "已解除集中隔离" in told and "已发给本人" in told
        assert "李*" in told and "李四" not in told  # a pushed notice: masked
    released = await h.db.fetchone("SELECT released_by, released_at, certificate_at FROM stays")
    assert released["released_by"] is None and released["certificate_at"]
    await at(h, datetime(2020, 11, 10, 9, 0, tzinfo=SHANGHAI))  # nothing fires twice
    await h.drain_outbox()
    assert len(documents(h, RESIDENT)) == 1


@pytest.mark.parametrize(
    ("outcomes", "reason"),
    [
        (("negative", "negative", "negative", "pending"), "结果未出"),
        (("negative", "negative", "negative", "positive"), "阳性"),
        (("negative", None, "negative", "negative"), "没有采样"),
    ],
)
async def test_held_with_a_result_not_negative_and_the_humans_told(
    harness: Harness, outcomes: tuple[str | None, ...], reason: str
) -> None:
    h = harness
    stay_id = await stay_of_contact(h)
    await results(h, stay_id, *outcomes)
    await at(h, RELEASE_AT)
    await h.drain_outbox()
    assert await state(h, stay_id) == ("in", "isolating")
    assert not documents(h, RESIDENT)
    for staff in (MANAGER, WORKER_XF01):
        told = h.texts(staff)[-1]
        assert "暂不能解除隔离" in told and reason in told
    assert h.buttons(MANAGER) == [("✅ 解除隔离", f"v1:rl:{stay_id}")]  # once the results are in
    assert h.buttons(WORKER_XF01) != h.buttons(MANAGER)
    # looked at again the next morning: told once, not every day
    pending = await timers.pending(h.db, f"stay:{stay_id}")
    assert [t.due_at for t in pending if t.kind == "release.due"] == [
        datetime(2020, 11, 10, 9, 0, tzinfo=SHANGHAI)
    ]
    await at(h, datetime(2020, 11, 10, 9, 0, tzinfo=SHANGHAI))
    await h.drain_outbox()
    assert sum("暂不能解除隔离" in t for t in h.texts(MANAGER)) == 1


async def test_a_pending_result_that_comes_in_negative_releases_the_next_morning(
    harness: Harness,
) -> None:
    h = harness
    stay_id = await stay_of_contact(h)
    await results(h, stay_id, "negative", "negative", "negative", "pending")
    await at(h, RELEASE_AT)
    await results(h, stay_id, "negative", "negative", "negative", "negative")
    await at(h, datetime(2020, 11, 10, 9, 0, tzinfo=SHANGHAI))
    assert await state(h, stay_id) == ("released", "released")
    assert (await certificate_row(h))[1].endswith(f"-XF-JC-20201110-{stay_id:04d}.pdf")


async def test_a_final_test_never_taken_extends_the_stay_to_a_make_up_test(
    harness: Harness,
) -> None:
    h = harness
    stay_id = await stay_of_contact(h)
    await results(h, stay_id, "negative", "negative", "negative", None)
    await at(h, RELEASE_AT)
    await h.drain_outbox()
    row = await h.db.fetchone("SELECT state, end_date, gen FROM stays")
    assert (row["state"], row["end_date"], row["gen"]) == ("in", "2020-11-09", 2)
    days = [r["test_date"] for r in await h.db.fetchall("SELECT test_date FROM stay_tests")]
    assert sorted(days) == ["2020-10-26", "2020-10-29", "2020-11-01", "2020-11-09"]
    for staff in (MANAGER, WORKER_XF01):  # (the manager also gets the make-up's reminder)
        assert any("隔离延长" in t and "请今天补采" in t for t in h.texts(staff)[-2:])
    async with h.db.write() as conn:
        await conn.execute(
            """UPDATE stay_tests SET sampled_at = ?, result = 'negative'
               WHERE stay_id = ? AND test_date = '2020-11-09'""",
            (h.clock.now().isoformat(), stay_id),
        )
    await at(h, datetime(2020, 11, 10, 9, 0, tzinfo=SHANGHAI))
    assert await state(h, stay_id) == ("released", "released")


async def test_the_manager_confirms_through_the_same_rule(harness: Harness) -> None:
    h = harness
    stay_id = await stay_of_contact(h)
    await results(h, stay_id, "negative", "negative", "negative", "negative")
    h.clock.set(DAY_14_EVENING)
    await h.press(MANAGER, f"v1:rl:{stay_id}")
    assert "确认解除" in h.texts(MANAGER)[-1]
    assert h.buttons(MANAGER)[-1] == ("✅ 确认解除", f"v1:rl:{stay_id}:y")
    await h.press(MANAGER, f"v1:rl:{stay_id}:y")
    assert "11月9日起才能解除" in h.texts(MANAGER)[-1]
    assert await state(h, stay_id) == ("in", "isolating")
    h.clock.set(datetime(2020, 11, 9, 8, 0, tzinfo=SHANGHAI))  # before the bot's own check
    await h.press(MANAGER, f"v1:rl:{stay_id}:y")
    assert "已解除隔离" in h.texts(MANAGER)[-1]
    assert await state(h, stay_id) == ("released", "released")
    assert (await h.db.fetchone("SELECT released_by FROM stays"))["released_by"] == MANAGER
    await at(h, RELEASE_AT)  # the bot's check finds it released: nothing more
    await h.drain_outbox()
    assert len(documents(h, RESIDENT)) == 1
    assert "由隔离点负责人确认解除" in h.texts(WORKER_XF01)[-1]
    for tap in (f"v1:rl:{stay_id}:y", f"v1:rl:{stay_id}"):  # an old button: said, not asked
        await h.press(MANAGER, tap)
        assert "已经解除" in h.texts(MANAGER)[-1]


async def test_the_manager_is_told_why_not(harness: Harness) -> None:
    h = harness
    stay_id = await stay_of_contact(h)
    await results(h, stay_id, "negative", "negative", "negative", "pending")
    h.clock.set(datetime(2020, 11, 9, 8, 0, tzinfo=SHANGHAI))
    await h.press(MANAGER, f"v1:rl:{stay_id}:y")
    assert "暂不能解除" in h.texts(MANAGER)[-1] and "结果未出" in h.texts(MANAGER)[-1]
    assert await state(h, stay_id) == ("in", "isolating")


async def test_a_manager_of_another_site_is_refused_and_audited(harness: Harness) -> None:
    h = harness
    stay_id = await stay_of_contact(h)
    await results(h, stay_id, "negative", "negative", "negative", "negative")
    h.clock.set(datetime(2020, 11, 9, 8, 0, tzinfo=SHANGHAI))
    for tap in (f"v1:rl:{stay_id}", f"v1:rl:{stay_id}:y"):
        await h.press(OTHER, tap)
    assert await state(h, stay_id) == ("in", "isolating")
    denied = await h.db.fetchall(
        "SELECT action, subject FROM audit WHERE actor = ? ORDER BY id", (OTHER,)
    )
    assert [(r["action"], r["subject"]) for r in denied] == [
        ("denied:release.confirm", f"stay:{stay_id}")
    ] * 2


async def test_a_release_due_while_the_bot_was_down_fires_once_after(
    harness: Harness, tmp_path: Path
) -> None:
    h = harness
    stay_id = await stay_of_contact(h)
    await results(h, stay_id, "negative", "negative", "negative", "negative")
    await h.stop()
    h.clock.set(datetime(2020, 11, 11, 15, 0, tzinfo=SHANGHAI))  # down for two days
    await h.restart(tmp_path / "paicha.sqlite3")
    await fire_due(h.services)
    await fire_due(h.services)
    await h.drain_outbox()
    assert await state(h, stay_id) == ("released", "released")
    assert len(documents(h, RESIDENT)) == 1
    fired = await h.db.fetchone("SELECT late, state FROM timers WHERE kind = 'release.due'")
    assert (fired["late"], fired["state"]) == (1, "done")


async def test_a_name_the_font_cannot_print_is_a_clear_replacement(harness: Harness) -> None:
    h = harness
    stay_id = await stay_of_contact(h, name="王喆")
    await results(h, stay_id, "negative", "negative", "negative", "negative")
    await at(h, RELEASE_AT)
    text = "".join(pdf_lines((await certificate_row(h))[2]))
    assert "王□（身份证件号码" in text
    await h.drain_outbox()
    (sent,) = documents(h, RESIDENT)
    assert "王喆" in sent["caption"] and "用“□”代替" in sent["caption"]


async def test_a_person_without_a_chat_gets_the_certificate_through_the_site(
    harness: Harness,
) -> None:
    h = harness
    stay_id = await stay_of_contact(h)
    async with h.db.write() as conn:
        await conn.execute("UPDATE contacts SET chat_id = NULL")
    await results(h, stay_id, "negative", "negative", "negative", "negative")
    await at(h, RELEASE_AT)
    await h.drain_outbox()
    assert await state(h, stay_id) == ("released", "released")
    (printed,) = documents(h, MANAGER)
    assert "请打印后交给本人" in printed["caption"]
    assert not documents(h, WORKER_XF01)
    assert "告知书已发给隔离点负责人" in h.texts(WORKER_XF01)[-1]


async def test_the_certificate_is_made_outside_every_write_transaction_once_per_stay(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timer's transaction (up to 200 releases in one) stores only the certificate's
    words: its PDF is built by the outbox worker right before sending, with no db.write()
    held by the builder's caller — and once, however many site managers print a copy."""
    h = harness
    second = 40002  # another manager of GL01
    await seed_invited(h, second, role="site_manager", scope=SITE)
    stay_id = await stay_of_contact(h)
    async with h.db.write() as conn:
        await conn.execute("UPDATE contacts SET chat_id = NULL")
    await results(h, stay_id, "negative", "negative", "negative", "negative")
    writing: ContextVar[bool] = ContextVar("writing", default=False)
    write = h.db.write

    @asynccontextmanager
    async def flagged() -> AsyncIterator[Any]:
        async with write() as conn:
            token = writing.set(True)  # seen by a thread started inside (asyncio.to_thread)
            try:
                yield conn
            finally:
                writing.reset(token)

    monkeypatch.setattr(h.db, "write", flagged)
    built: list[bool] = []  # per PDF built: was a write transaction held around it?
    output = pdf.Document.output

    def spy(self: pdf.Document) -> bytes:
        built.append(writing.get())
        return output(self)

    monkeypatch.setattr(pdf.Document, "output", spy)
    await at(h, RELEASE_AT)
    assert await state(h, stay_id) == ("released", "released")
    assert built == []  # the release's transaction built nothing
    with sqlite3.connect(h.db.path) as raw:  # the recipe names the person: sealed at rest
        recipes = [r[0] for r in raw.execute("SELECT recipe FROM outbox WHERE recipe IS NOT NULL")]
    assert recipes and all(r.startswith("enc1:") for r in recipes), recipes
    sent = uploads(h)
    await h.drain_outbox()
    assert built == [False]  # built once, for both managers, outside any transaction
    assert sorted(chat for chat, _, _ in sent) == [MANAGER, second]
    assert sent[0][1:] == sent[1][1:]  # the same paper
    assert "李四" in "".join(pdf_lines(sent[0][2]))


async def test_a_make_up_test_is_reminded_and_a_missed_one_climbs_the_ladder(
    harness: Harness,
) -> None:
    """The extension's make-up day is a test day like the others: the morning's reminder
    (at once: the morning is over) and the end-of-day check that starts the ladder."""
    h = harness
    stay_id = await stay_of_contact(h)
    await results(h, stay_id, "negative", "negative", "negative", None)
    await at(h, RELEASE_AT)
    await fire_due(h.services)  # the timers the extension scheduled for now
    await h.drain_outbox()
    assert any("今天（11月9日）是核酸采样日" in t and "101" in t for t in h.texts(MANAGER))
    days = [r["test_date"] for r in await h.db.fetchall("SELECT test_date FROM stay_tests")]
    assert sorted(days) == ["2020-10-26", "2020-10-29", "2020-11-01", "2020-11-09"]
    await at(h, datetime(2020, 11, 10, 0, 0, tzinfo=SHANGHAI))  # the make-up day is over
    item = await h.db.fetchone("SELECT kind, state FROM escalations WHERE subject = ?",
                               (f"sample:{stay_id}:2020-11-09",))  # fmt: skip
    assert item is not None and (item["kind"], item["state"]) == ("sample", "open")


def test_the_release_day_is_the_day_after_the_last() -> None:
    assert release.rule.release_day(date(2020, 11, 8)) == date(2020, 11, 9)


async def test_an_assignment_schedules_the_release_of_the_stay(
    config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    """bot.actions.isolation.assign schedules it; the manager's 入住 and the tests follow."""
    h = await Harness.start(config.model_copy(update={"sites": SITES}),
                            tmp_path / "paicha.sqlite3", clock)  # fmt: skip
    try:
        done = await assign(h, await seed_contact(h), "GA")  # 25 Oct to 7 Nov
        (due,) = [t for t in await timers.pending(h.db, f"stay:{done.stay_id}")
                  if t.kind == "release.due"]  # fmt: skip
        assert due.due_at == datetime(2020, 11, 8, 9, 0, tzinfo=SHANGHAI)
        await h.press(MANAGER_A, f"v1:iso:{done.stay_id}:in")
        stay = await isolation.stay(h.services, done.stay_id)  # its card now offers 解除
        assert isolation.manager_markup(h.services, "zh_CN", stay) == {
            "inline_keyboard": [[{"text": "✅ 解除隔离", "callback_data": f"v1:rl:{done.stay_id}"}]]
        }
        async with h.db.write() as conn:
            await conn.execute("UPDATE stay_tests SET sampled_at = '-', result = 'negative'")
        await at(h, due.due_at)
        row = await h.db.fetchone("SELECT state FROM stays")
        assert row["state"] == "released"
    finally:
        await h.stop()


async def test_an_arrival_released_goes_on_to_home_monitoring_when_configured(
    config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    """An arrival's main person: the certificate to the reporter's chat, then 7 days of home
    health monitoring (release.home_monitoring_days) from the release day."""
    release_config = config.release.model_copy(update={"home_monitoring_days": 7})
    h = await Harness.start(config.model_copy(update={"sites": SITES, "release": release_config}),
                            tmp_path / "paicha.sqlite3", clock)  # fmt: skip
    try:
        done = await assign(h, await seed_arrival(h, "钱到达", 7), "GA")  # 26 Oct to 8 Nov
        await h.press(MANAGER_A, f"v1:iso:{done.stay_id}:in")
        async with h.db.write() as conn:
            await conn.execute("UPDATE stay_tests SET sampled_at = '-', result = 'negative'")
        await at(h, RELEASE_AT)
        await h.drain_outbox()
        row = await h.db.fetchone(
            "SELECT kind, start_date, end_date, state FROM monitoring WHERE person_idx = 0"
        )
        assert tuple(row) == ("home_monitoring", "2020-11-09", "2020-11-15", "active")
        (sent,) = documents(h, RESIDENT + 7)  # the reporter's chat
        assert "居家健康监测7天" in sent["caption"]
        assert "解除后居家健康监测7天，请网格员跟进" in h.texts(WORKER_XF01)[-1]
    finally:
        await h.stop()


async def test_a_person_reading_english_gets_it_in_english(harness: Harness) -> None:
    h = harness
    stay_id = await stay_of_contact(h)
    async with h.db.write() as conn:
        await conn.execute("UPDATE contacts SET locale = 'en'")
    await results(h, stay_id, "negative", "negative", "negative", "negative")
    await at(h, RELEASE_AT)
    _, filename, data = await certificate_row(h)
    assert filename == f"release-certificate-XF-JC-20201109-{stay_id:04d}.pdf"
    text = " ".join(pdf_lines(data))
    assert "Release from Centralised Medical Observation" in text
    assert "from 26 Oct 2020 to 8 Nov 2020, 14 days" in text
    await h.drain_outbox()
    assert "you are released today" in documents(h, RESIDENT)[0]["caption"]
