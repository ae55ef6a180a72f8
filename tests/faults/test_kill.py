"""kill -9 of the bot process at seeded moments while a crowd fills arrival forms and a wave
of queued messages is sending, restarted each time: no report lost or doubled, every
conversation resumes, every queued message delivered, at most ``outbox.concurrency`` repeats
per crash (the messages in flight).

The real process (``python -m bot.cli run``) against the sandbox Bot API server over HTTP;
the residents act through the sandbox state and answer each question as it comes. The
moments are points of the crowd's progress (answers given) drawn from a seeded generator,
plus a seeded fraction of a second, so a run repeats.

200 residents open the form at once; 10 go on to submit it, the others stay at its first
question until the end, when they answer it and must be asked the next. The size is what
fits the time: the process answers people through python-telegram-bot's rate limiter (30
calls a second), and each restart costs about two seconds; bench/faults.py runs more."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox.state import Message
from storage import outbox
from storage.db import Database
from tests.faults.conftest import Crowd, crowd_id_number, crowd_person

RESIDENTS = 200
COMPLETING = 10  # residents who go on to submit; the others stop at the first question
CRASHES = 20
SEED = 11
CONCURRENCY = 8  # outbox.concurrency: the bound on repeats per crash
WAVE = 15  # queued messages added at the start and after every restart
STEP_WAIT = 60.0  # real seconds of an idle bot a resident waits for an answer
DELIVERY_WAIT = 60.0  # real seconds for the last queued messages after the crowd is done
WAVE_WORDS = "全镇通知"
WAVE_MARK = WAVE_WORDS + " 第{}条"


# The arrival form from grid XF01's poster, from a low-risk place (no leadership alert: the
# group's 20 messages a minute would hold the end of the test for minutes): what the resident
# answers to each question, known by its words. ("press", label), ("text", value), ("contact",
# ""); the values {name}, {id}, {address} are the resident's own.
ANSWERS = (
    ("请核对登记信息", "press", "确认提交"),  # first: the summary holds the other words
    ("这次是给谁登记", "press", "本人"),
    ("真实姓名", "text", "{name}"),
    ("手机号", "contact", ""),
    ("身份证号", "text", "{id}"),
    ("从哪里来的？", "press", "国内"),
    ("请写到区县", "text", "四川省成都市武侯区"),
    ("对吗？", "press", "对的"),
    ("途经", "press", "没有途经其他地方"),
    ("哪天到的", "press", "昨天"),
    ("交通工具", "press", "火车"),
    ("车次", "text", "G8601"),
    ("详细住址", "text", "{address}"),
    ("属于哪一类", "press", "四外"),
    ("码现在是什么颜色", "press", "绿码"),
    ("核酸检测", "press", "没有做过"),
    ("体温", "text", "36.5"),
    ("症状", "press", "以上都没有"),
    ("同行人员", "press", "没有，就这些"),
)
FORM_STEPS = len(ANSWERS) + 1  # and the /start of the poster's link
RECEIPT = "登记成功"
START = "/start a-XF01"
# The residents who do not submit open the form and stop at its first question; at the end
# they answer it and must be asked the next (their conversations survived every crash).
WHO, NAME = "这次是给谁登记", "真实姓名"
PARTIAL_STEPS = 1
ANSWERED = "\n👉"  # a question edited to show the answer chosen
REPEAT_AFTER = 3.0  # real seconds of quiet after a restart before answering again


@dataclass
class Figures:
    """What the run counted: the test asserts on these, bench/faults.py prints them."""

    crashes: int = 0
    residents: int = 0
    receipts: int = 0
    reports: int = 0
    reports_lost: int = 0
    reports_duplicated: int = 0
    stuck: list[str] = field(default_factory=list)  # conversations that did not resume
    queued: int = 0
    undelivered: int = 0
    repeats: int = 0
    repeats_per_crash: list[int] = field(default_factory=list)
    receipts_repeated: int = 0
    answers_repeated: int = 0  # answers a resident gave again after a crash
    seconds: float = 0.0

    def lines(self) -> list[str]:
        return [
            f"crashes: {self.crashes}",
            f"residents: {self.residents}",
            f"reports_stored: {self.reports}",
            f"reports_lost: {self.reports_lost}",
            f"reports_duplicated: {self.reports_duplicated}",
            f"conversations_stuck: {len(self.stuck)}",
            f"queued_messages: {self.queued}",
            f"queued_undelivered: {self.undelivered}",
            f"queued_repeats: {self.repeats}",
            f"repeats_per_crash_max: {max(self.repeats_per_crash, default=0)}",
            f"receipts_repeated: {self.receipts_repeated}",
            f"answers_repeated_after_crash: {self.answers_repeated}",
            f"wall_s: {self.seconds:.1f}",
        ]


class Progress:
    """Completed resident steps, and a way to wait for a number of them."""

    def __init__(self) -> None:
        self.done = 0
        self._changed = asyncio.Event()

    def step(self) -> None:
        self.done += 1
        self._changed.set()

    async def reach(self, count: int, finished: asyncio.Future[object]) -> bool:
        """Wait until ``count`` steps are done; False if the crowd finished first."""
        while self.done < count:
            if finished.done():
                return False
            self._changed.clear()
            waiter = asyncio.ensure_future(self._changed.wait())
            await asyncio.wait({waiter, finished}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        return True


class Activity:
    """When the bot was last busy: a resident's chat changed (the bot answering someone, or
    anyone acting), or it still had updates to fetch or fetched ones to handle (the intake
    table). A resident repeats himself, or counts as stuck, only after the bot has been idle
    that long: on a loaded machine a slow bot is busy, not stuck, and a resident who repeats
    into a backlog only makes it longer."""

    def __init__(self, crowd: Crowd, chat_ids: list[int]) -> None:
        self.crowd, self.chat_ids = crowd, chat_ids
        self.at = asyncio.get_running_loop().time()
        self._versions = 0

    async def watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            versions = sum(self.crowd.state.chats[c].version for c in self.chat_ids)
            if (
                versions != self._versions
                or self.crowd.state.pending_update_count
                or (await asyncio.to_thread(backlog, self.crowd.database))
            ):
                self._versions, self.at = versions, loop.time()
            await asyncio.sleep(0.2)


def backlog(database: Path) -> int:
    """Updates the bot fetched and has not handled yet (read beside the running bot)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True,
                                                timeout=5)) as conn:  # fmt: skip
            return conn.execute("SELECT COUNT(*) FROM intake").fetchone()[0]
    except sqlite3.Error:  # not created yet, or busy past the timeout: count it as busy
        return 1


def latest_question(crowd: Crowd, chat_id: int) -> Message | None:
    """The bot's newest message in the chat that asks a question of the form (answered or
    not: a pressed button's question shows the answer) or says the report is stored."""
    for message in reversed(crowd.state.messages(chat_id)):
        text = message.text or ""
        if message.from_id == crowd.state.bot.id and (
            RECEIPT in text or any(words in text for words, _, _ in ANSWERS)
        ):
            return message
    return None


def can_answer(question: Message) -> bool:
    """A question the form's answer still fits: a pressed question's buttons go away."""
    text = question.text or ""
    _, action, value = next(a for a in ANSWERS if a[0] in text)
    return action != "press" or any(value in label for label in labels(question))


def labels(question: Message) -> list[str]:
    rows = (question.reply_markup or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


def answer(crowd: Crowd, index: int, question: Message) -> None:
    """What resident ``index`` does on ``question``: press its button, type, share a contact."""
    person = crowd_person(index)
    text = question.text or ""
    _, action, value = next(a for a in ANSWERS if a[0] in text)
    value = value.format(name=person.first_name, id=crowd_id_number(index),
                         address=f"先锋街{index + 1}号")  # fmt: skip
    state = crowd.state
    if action == "text":
        state.user_sends_text(person.user_id, None, value)
    elif action == "contact":
        state.user_sends_contact(person.user_id, person.phone)
    else:
        rows = (question.reply_markup or {}).get("inline_keyboard", [])
        found = [b["callback_data"] for row in rows for b in row if value in b["text"]]
        if not found:
            raise AssertionError(f"no button {value!r} on {text!r}: {rows}")
        state.user_presses_button(person.user_id, person.user_id, question.message_id, found[0])


@dataclass
class Resident:
    """One resident of the crowd filling the arrival form, answering each question as it
    comes. After a crash, a resident the bot left without a question (the message lost:
    python-telegram-bot confirms updates to Telegram before it handles them; or the question
    lost) does what a person does a little after the bot is back: answers the open question
    again, or sends /arrive."""

    crowd: Crowd
    index: int
    progress: Progress
    stuck: list[str]
    repeated: Counter[str]
    activity: Activity

    @property
    def chat_id(self) -> int:
        return crowd_person(self.index).user_id

    async def fill(self, until: str) -> None:
        """Answer until the bot asks the question with the words ``until`` (left unanswered)
        or says the report is stored. Nothing new for STEP_WAIT: stuck."""
        crowd, loop = self.crowd, asyncio.get_running_loop()
        handled: set[int] = set()  # the questions answered
        acted_at, crashes_then = loop.time(), crowd.crashes
        while True:
            version = crowd.state.chats[self.chat_id].version
            question = latest_question(crowd, self.chat_id)
            text = question.text or "" if question is not None else ""
            fresh = question is not None and ANSWERED not in text and can_answer(question)
            if RECEIPT in text or (fresh and until in text):
                return
            now = loop.time()
            if fresh and question.message_id not in handled:
                answer(crowd, self.index, question)
                handled.add(question.message_id)
                acted_at, crashes_then = now, crowd.crashes
                self.progress.step()
                continue
            # a person waits while the bot is busy with anyone after the restart
            quiet = now - max(acted_at, crowd.restarted_at, self.activity.at)
            if crowd.crashes > crashes_then and quiet > REPEAT_AFTER:
                self.again(question if fresh else None, started=question is not None)
                acted_at, crashes_then = now, crowd.crashes
                continue
            if quiet > STEP_WAIT:
                self.stuck.append(f"{crowd_person(self.index).key}: nothing new in {STEP_WAIT:g}"
                                  f" s of an idle bot after {text[:30] or START!r}")  # fmt: skip
                return
            await crowd.state.wait_chat_change(self.chat_id, version, 1.0)

    def start(self) -> None:
        self.crowd.state.user_sends_text(self.chat_id, None, START)
        self.progress.step()

    def again(self, question: Message | None, *, started: bool) -> None:
        """Answer ``question`` again, or (none open) ask the bot to go on."""
        if question is not None:
            answer(self.crowd, self.index, question)
        else:
            self.crowd.state.user_sends_text(self.chat_id, None, "/arrive" if started else START)
        self.repeated[crowd_person(self.index).key] += 1


def wave_texts(start: int, count: int) -> list[str]:
    return [WAVE_MARK.format(n) for n in range(start, start + count)]


async def enqueue_wave(crowd: Crowd, texts: list[str]) -> None:
    """Queue ``texts`` as the bot's own actions do (outbox rows), to the staff's private
    chats in turn (they have opened the bot), from this process while the bot runs."""
    staff = [p.user_id for p in crowd.world.people.values()
             if p.role not in ("resident", "neighbour", "cadre")]  # fmt: skip
    db = await Database.open(crowd.database)
    try:
        async with db.write() as conn:
            messages = [{"chat_id": staff[n % len(staff)], "text": text, "priority": 9}
                        for n, text in enumerate(texts)]  # fmt: skip
            await outbox.enqueue_many(conn, messages, crowd.clock.now())
    finally:
        await db.close()


def seen(crowd: Crowd, mark: str) -> Counter[str]:
    """How many times each message containing ``mark`` reached any chat."""
    return Counter(
        m.text
        for chat in crowd.state.chats.values()
        for m in chat.messages.values()
        if m.text and mark in m.text and m.from_id == crowd.state.bot.id
    )


def repeats(counts: Counter[str]) -> int:
    return sum(n - 1 for n in counts.values() if n > 1)


async def outbox_states(crowd: Crowd) -> Counter[str]:
    db = await Database.open(crowd.database)
    try:
        rows = await db.fetchall("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
    finally:
        await db.close()
    return Counter({r["state"]: r["n"] for r in rows})


async def stored_reports(crowd: Crowd) -> Counter[int]:
    db = await Database.open(crowd.database)
    try:
        rows = await db.fetchall("SELECT reporter_user_id AS user FROM reports")
    finally:
        await db.close()
    return Counter(r["user"] for r in rows)


async def run_crashes(crowd: Crowd, residents: int, completing: int, crashes: int, seed: int,
                      wave: int = WAVE) -> Figures:  # fmt: skip
    """The scenario: ``residents`` start the form at once, ``completing`` of them go on to
    submit it while the others stop at its first question; ``crashes`` kill -9s at seeded
    points of their progress; a wave of ``wave`` queued messages at the start and after every
    restart. Then the others answer that question (their conversations resume) and
    everything is counted."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    rng = random.Random(seed)
    figures = Figures(residents=residents)
    progress = Progress()
    repeated: Counter[str] = Counter()
    activity = Activity(crowd, [crowd_person(i).user_id for i in range(residents)])
    watcher = asyncio.create_task(activity.watch())
    crowd_members = [Resident(crowd, i, progress, figures.stuck, repeated, activity)
                     for i in range(residents)]  # fmt: skip
    total = completing * FORM_STEPS + (residents - completing) * PARTIAL_STEPS
    points = sorted(rng.sample(range(total // 20, total * 19 // 20), crashes))
    await enqueue_wave(crowd, wave_texts(0, wave))
    figures.queued = wave
    for member in crowd_members:
        member.start()
    crowd_done = asyncio.gather(*(m.fill(RECEIPT if m.index < completing else WHO)
                                  for m in crowd_members))  # fmt: skip
    repeated_before = 0
    try:
        for point in points:
            if not await progress.reach(point, crowd_done):
                break
            await asyncio.sleep(rng.uniform(0.0, 0.3))  # somewhere inside an update or a send
            await crowd.crash()
            now_repeated = repeats(seen(crowd, WAVE_WORDS))
            figures.repeats_per_crash.append(now_repeated - repeated_before)
            repeated_before = now_repeated
            await enqueue_wave(crowd, wave_texts(figures.queued, wave))
            figures.queued += wave
        await crowd_done
        # every conversation left open resumes: its question answered, the next one asked
        await asyncio.gather(*(m.fill(NAME) for m in crowd_members[completing:]))
    finally:
        crowd_done.cancel()
        watcher.cancel()
    figures.crashes = crowd.crashes
    await count_deliveries(crowd, figures, repeated_before)
    await count_reports(crowd, figures, completing)
    figures.answers_repeated = sum(repeated.values())
    figures.seconds = loop.time() - began
    return figures


async def count_deliveries(crowd: Crowd, figures: Figures, repeated_before: int) -> None:
    """Wait (bounded) for every queued message, then count what arrived and how often."""
    loop = asyncio.get_running_loop()
    expected = set(wave_texts(0, figures.queued))
    deadline = loop.time() + DELIVERY_WAIT
    while not expected <= set(seen(crowd, WAVE_WORDS)) and loop.time() < deadline:
        await asyncio.sleep(0.2)
    delivered = seen(crowd, WAVE_WORDS)
    figures.undelivered = len(expected - set(delivered))
    figures.repeats = repeats(delivered)
    if figures.repeats_per_crash:  # repeats sent after the last restart count for it
        figures.repeats_per_crash[-1] += figures.repeats - repeated_before


async def count_reports(crowd: Crowd, figures: Figures, completing: int) -> None:
    """Reports stored against receipts shown, per resident who submitted."""
    receipts = {
        crowd_person(i).user_id: sum(RECEIPT in t for t in crowd.texts(crowd_person(i).key))
        for i in range(completing)
    }
    figures.receipts = sum(1 for n in receipts.values() if n)
    figures.receipts_repeated = sum(n - 1 for n in receipts.values() if n > 1)
    reports = await stored_reports(crowd)
    figures.reports = sum(reports.values())
    # a receipt without a stored report, or a resident who submitted and was never told
    figures.reports_lost = sum(1 for user, n in receipts.items() if not n or not reports[user])
    figures.reports_duplicated = sum(n - 1 for n in reports.values() if n > 1)


@pytest.mark.crowd(RESIDENTS, outbox={"concurrency": CONCURRENCY})
async def test_kill_minus_nine_loses_nothing(crowd: Crowd) -> None:
    figures = await run_crashes(crowd, RESIDENTS, COMPLETING, CRASHES, SEED)
    print("\n" + "\n".join(figures.lines()))
    assert figures.crashes == CRASHES, "the crowd finished before every crash"
    assert figures.stuck == [], "conversations that did not resume:\n" + "\n".join(
        figures.stuck[:20]
    )
    assert figures.reports_lost == 0
    assert figures.reports_duplicated == 0
    assert figures.reports == COMPLETING
    assert figures.undelivered == 0
    states = await outbox_states(crowd)
    assert states["failed"] == 0 and states["pending"] == 0 and states["sending"] == 0, states
    assert max(figures.repeats_per_crash) <= CONCURRENCY, figures.repeats_per_crash
