"""The outbox worker: the only sender of pushed messages (DESIGN.md, "Durable outbox").

It claims due rows most-urgent first in small batches, sends them paced and a few at a time
within Telegram's limits, and records the outcome on the row as each send completes: a crash
between sending and marking repeats at most the messages in flight (``concurrency``), each at
most once.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
import re
import warnings
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.runtime import api, pdf
from bot.runtime.clock import Clock
from storage import outbox
from storage.db import Database
from storage.outbox import OutboxRow

logger = logging.getLogger(__name__)

GROUP_WINDOW = timedelta(seconds=60)
MAX_BATCH = 100  # rows per claim: an alert waits behind one claimed batch at most
BATCH_SECONDS = 0.5  # ... and a batch is about half a second of sending at the configured rate
PACE_SLACK = timedelta(milliseconds=20)  # lost pacing time the worker may make up at once
SHORT_WAIT = 0.01  # seconds: waits this short skip the stop()/wake() machinery
MAX_BACKOFF = timedelta(minutes=5)  # an outage's end is noticed within this long
MAX_AGE = timedelta(hours=24)  # outbox.max_age_hours' default: how long a row is retried
HASTEN_EVERY = timedelta(minutes=1)  # at most this often, a recovery makes backed-off rows due
MAX_IDLE = 5.0  # seconds: the loop looks for due rows at least this often, even without wake()
_TAG = re.compile(r"<[^>]*>")
_NO_PREVIEW = {"is_disabled": True}  # LinkPreviewOptions: the links we send are not news
MADE_KEPT = 8  # documents made lately, kept for their other copies (a certificate to print)


EDIT_WAIT = timedelta(seconds=2)  # an edit waits this long for its message to be delivered


class _EditTargetPending(Exception):
    """The message an edit row brings up to date is not delivered yet."""


def plain_text(markup: str) -> str:
    """HTML message -> plain text: tags dropped, entities unescaped (the resend fallback)."""
    return html.unescape(_TAG.sub("", markup))


async def send_row(bot: Bot, row: OutboxRow, *, plain: bool = False) -> int | None:
    """Send one outbox row as it is stored (its keyboard JSON as is, ``api``); returns the
    new message's id."""
    text = plain_text(row.text) if plain else row.text
    markup = {"reply_markup": row.reply_markup} if row.reply_markup else None
    parse_mode = None if plain else ParseMode.HTML
    if row.kind == "photo":
        message = await bot.send_photo(row.chat_id, photo=row.photo, caption=text or None,
                                       parse_mode=parse_mode, api_kwargs=markup)  # fmt: skip
        return message.message_id
    if row.kind == "document":
        message = await bot.send_document(row.chat_id, document=row.photo, caption=text or None,
                                          filename=row.filename, parse_mode=parse_mode,
                                          api_kwargs=markup)  # fmt: skip
        return message.message_id
    return await api.send_text(bot, row.chat_id, text, html=not plain,
                               reply_markup=row.reply_markup,
                               link_preview_options=_NO_PREVIEW)  # fmt: skip


def backoff(attempt: int) -> timedelta:
    """The wait after the ``attempt``-th failed send: 2, 4, 8... seconds, at most
    ``MAX_BACKOFF`` (the exponent is bounded so a day of failures cannot overflow it)."""
    return min(timedelta(seconds=2 ** min(attempt, 20)), MAX_BACKOFF)


def maybe_delivered(exc: Exception) -> bool:
    """The request may have reached Telegram but its answer was lost (a read timeout): the
    message may be there already, and the retry may repeat it. A connect or pool timeout
    never sent anything."""
    return isinstance(exc, TimedOut) and not isinstance(
        exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout
    )


def retry_after_seconds(exc: RetryAfter) -> float:
    """PTB 22 gives an int or a timedelta depending on PTB_TIMEDELTA; accept both."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the int form is deprecated; we handle both
        value: Any = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


class OutboxWorker:
    """Sends due outbox rows, most urgent first, within the configured limits.

    Limits and guarantees:

    - Global rate: sends are paced (one start per ``1/rate_per_second``, so they never go out
      in bunches) and, in addition, a sliding window counts each send from its start until one
      window after its *completion*: a new send may start only while fewer than ``rate`` sends
      are in flight or completed within the last second. The receiver gets a message between
      our start and our completion, so at most ``rate`` messages arrive in any one-second
      window at the receiver, however jittery the latency.
    - Per group chat: at most ``group_per_minute`` starts in any minute; a saturated group's
      rows are deferred, other chats keep flowing.
    - Concurrency: at most ``concurrency`` sends in flight. A row is marked as soon as its send
      completes (marks that complete together are written in one transaction), and a send's
      slot is not freed until its mark is stored — so a crash between sending and marking
      repeats at most ``concurrency`` messages, each at most once (``requeue_stale_sending``
      at the next start). ``concurrency=1`` gives the strict one-message bound.
    - Flood control (RetryAfter) pauses every send; the few already in flight when it arrives
      complete (their outcome is recorded as usual).
    - Outages: a network error, a 5xx or a timeout is never final. The row is retried with
      exponential backoff (at most ``MAX_BACKOFF`` apart) until it is older than ``max_age``;
      only a definite refusal (BadRequest, Forbidden) or that age fails it, and every failure
      is an ERROR log line and counted (``storage.outbox.trouble``). A send whose answer was
      lost (``maybe_delivered``) is logged and counted on the row (``uncertain``): if a retry
      delivers it, it may have arrived twice, and the daily report and ``paicha status`` say
      so.
    - Priority: rows are claimed in small batches (about half a second of sending, at most
      ``MAX_BATCH``), so an alert enqueued behind a wave waits for one small batch at most.
    - Documents made when sent (a row's ``recipe``): built right before the send, in a thread
      and outside any transaction, one at a time, once for the copies that go out together
      (``MADE_KEPT``); a recipe that cannot be built is a failed send (retried, then failed).
    """

    def __init__(
        self,
        db: Database,
        bot: Bot,
        clock: Clock,
        *,
        rate_per_second: float = 25,
        group_per_minute: int = 20,
        max_age: timedelta = MAX_AGE,
        concurrency: int = 8,
        on_unreachable: Callable[[int], Awaitable[None]] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if min(rate_per_second, group_per_minute, concurrency) <= 0 or max_age <= timedelta():
            raise ValueError(
                "rate_per_second, group_per_minute, max_age and concurrency must be > 0"
            )
        self.db = db
        self.bot = bot
        self.clock = clock
        self.group_per_minute = group_per_minute
        self.max_age = max_age
        self.concurrency = concurrency
        self.on_unreachable = on_unreachable
        self._sleep = sleep
        # At most `capacity` sends in any window of `window` (one second; below 1/s, one send
        # per 1/rate seconds), counted from start to completion + window (see the docstring).
        self._capacity = max(1, int(rate_per_second))
        self._window = timedelta(seconds=self._capacity / rate_per_second)
        self._interval = self._window / self._capacity  # pacing: 1/rate between starts
        self._paced: datetime | None = None  # the pacing time of the latest start
        self._last_start: datetime | None = None  # the clock's reading at the latest start
        self._in_flight = 0
        self._completed_at: deque[datetime] = deque()  # completions within the last window
        self._completed = asyncio.Event()
        self._groups: dict[int, deque[datetime]] = {}
        self.batch_size = max(1, min(MAX_BATCH, math.ceil(rate_per_second * BATCH_SECONDS)))
        self._permits = asyncio.Semaphore(concurrency)
        self._pace_lock = asyncio.Lock()  # one taker of send slots at a time
        self._marks: list[tuple[int, int | None, datetime, int, asyncio.Future[None]]] = []
        self._blocked: set[int] = set()  # chats of claimed rows that may be unreachable
        self._marking = False
        self._making = asyncio.Lock()  # one document built at a time (CPU-bound)
        self._made: OrderedDict[str, bytes] = OrderedDict()  # recipe -> file, newest last
        self._failure: Exception | None = None  # a task's storage failure, for the round
        self._paused_until: datetime | None = None  # flood control is per bot
        # a send failed transiently since the last delivery; when the last recovery hastened
        self._failing = False
        self._hastened: datetime | None = None
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._token = getattr(bot, "token", None)

    # -- control ---------------------------------------------------------------------------

    def wake(self) -> None:
        """Call after committing new rows, so they go out now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Ask run() to return after the messages in flight; claimed unsent rows are
        released."""
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        """Send until stop() (final: a stopped worker stays stopped). Never raises except
        on cancellation; every failure is logged with the row id."""
        try:
            stale = await outbox.requeue_stale_sending(self.db)
            if stale:
                logger.warning("outbox: requeued %d messages left 'sending' by a crash", stale)
        except Exception:
            logger.exception("outbox: requeue at start failed")
        while not self._stop.is_set():
            try:
                claimed, _ = await self._round()
                if not claimed:
                    await self._idle()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox: round failed; retrying shortly")
                await self._nap(MAX_IDLE, wakeable=False)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Send everything due now (tests, drills); returns how many were delivered."""
        delivered = 0
        for _ in range(max_rounds):
            claimed, sent = await self._round()
            delivered += sent
            if not claimed:
                break
        return delivered

    # -- one round -------------------------------------------------------------------------

    async def _round(self) -> tuple[int, int]:
        """Claim one batch and work through it, up to ``concurrency`` sends at a time.
        Returns (claimed, delivered)."""
        self._wake.clear()  # before the claim, so a wake() during the round is not lost
        if not await self._wait_until(self._paused_until):
            return 0, 0
        rows = await outbox.claim(self.db, self.clock.now(), self.batch_size)
        tasks: list[asyncio.Task[bool]] = []
        untried = 0  # rows[untried:] were neither sent nor deferred
        try:
            if rows:
                # Marks for chats known reachable are one statement; a delivery to a chat
                # marked unreachable must also clear that (see _mark_sent).
                chats = [r.chat_id for r in rows]
                self._blocked |= await outbox.unreachable_among(self.db, chats)
            for row in rows:
                if self._stop.is_set() or self._is_paused() or self._failure is not None:
                    # Shutdown, flood control or a storage failure: give the rest back
                    # untouched, re-claimed by priority afterwards.
                    break
                await self._permits.acquire()
                try:
                    started = await self._start(row)
                except BaseException:
                    self._permits.release()
                    raise
                if started is None:  # stopped or paused while waiting for a slot
                    self._permits.release()
                    break
                untried += 1
                if started:
                    tasks.append(asyncio.create_task(self._deliver(row)))
                    # Let the send begin before taking the next slot: an answer that is
                    # already there (flood control, say) is seen before the next start.
                    await asyncio.sleep(0)
                else:
                    self._permits.release()  # deferred (a saturated group)
        except BaseException as exc:
            if not isinstance(exc, Exception):  # cancelled: so are the sends in flight
                for task in tasks:
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await outbox.release(self.db, [r.id for r in rows[untried:]])
            raise
        delivered = sum(await asyncio.gather(*tasks))
        await outbox.release(self.db, [r.id for r in rows[untried:]])
        if self._failure is not None:
            # E.g. the database failed after a send: that row stays 'sending' (it may have
            # been delivered) until the next start; the run loop retries shortly.
            failure, self._failure = self._failure, None
            raise failure
        return len(rows), delivered

    async def _start(self, row: OutboxRow) -> bool | None:
        """Take a send slot for ``row``: True if taken (the send may start now), False if the
        row was deferred instead (its group is saturated), None if stopped or paused (flood
        control) while waiting."""
        async with self._pace_lock:
            defer_to = self._group_deferral(row.chat_id)
            if defer_to is not None:
                await outbox.defer(self.db, row.id, defer_to)
                return False
            if not await self._take_slot(row.chat_id):
                return None
            return True

    async def _deliver(self, row: OutboxRow) -> bool:
        """A send task: its permit is released when the row's outcome is stored."""
        try:
            return await self._process(row)
        except Exception as exc:
            logger.exception("outbox %d: storing the outcome failed", row.id)
            if self._failure is None:
                self._failure = exc
            return False
        finally:
            self._permits.release()

    async def _process(self, row: OutboxRow) -> bool:
        """Send one row (its first slot already taken) and record the outcome. True if
        delivered."""
        for plain in (False, True):
            if plain:
                started = await self._start(row)
                if not started:
                    if started is None:
                        await outbox.release(self.db, [row.id])
                    return False
            error: Exception | None = None
            try:
                message_id = await self._send(row, plain)
            except _EditTargetPending:
                await outbox.defer(self.db, row.id, self.clock.now() + EDIT_WAIT)
                return False
            except Exception as exc:
                error = exc
            finally:
                self._send_completed()
            if isinstance(error, BadRequest):
                if not plain and "can't parse entities" in error.message.lower():
                    # A template mistake must not lose an alert: resend once as plain text.
                    logger.error(
                        "outbox %d: bad HTML (%s); resending as plain text",
                        row.id,
                        self._scrub(error.message),
                    )
                    continue
                await self._fail(row, f"BadRequest: {error.message}")
                return False
            if error is not None:
                await self._on_error(row, error)
                return False
            await self._mark_sent(row.id, message_id, row.chat_id)
            await self._recovered()
            return True
        return False  # not reached: the plain pass always returns

    async def _send(self, row: OutboxRow, plain: bool) -> int | None:
        """Send ``row``; an edit row edits its message once that is delivered, and sends its
        fallback (if any) as a new message when there is nothing it can edit."""
        if row.edits is None:
            return await send_row(self.bot, await self._file(row), plain=plain)
        target = await outbox.edit_target(self.db, row.edits)
        if target is not None and target[0] in ("pending", "sending"):
            raise _EditTargetPending
        if target is None or target[2] is None:
            return await self._send_fallback(row, plain)
        _, chat_id, message_id = target
        text = plain_text(row.text) if plain else row.text
        try:
            await api.edit_text(self.bot, chat_id, message_id, text, html=not plain,
                                reply_markup=row.reply_markup)  # fmt: skip
        except BadRequest as exc:
            reason = exc.message.lower()
            if "not modified" in reason:
                return message_id  # it already shows this state
            if "can't parse entities" in reason:
                raise
            return await self._send_fallback(row, plain)  # too old, or deleted
        return message_id

    async def _file(self, row: OutboxRow) -> OutboxRow:
        """``row`` with its document's file: built now from its recipe (bot.runtime.pdf.make;
        no transaction is open here, and the event loop keeps going meanwhile), or taken from
        the copy just built for another chat. Raises when the recipe cannot be built."""
        if row.recipe is None or row.photo is not None:
            return row
        async with self._making:
            data = self._made.pop(row.recipe, None)
            if data is None:
                data = await asyncio.to_thread(pdf.make, row.recipe)
            self._made[row.recipe] = data
            while len(self._made) > MADE_KEPT:
                self._made.popitem(last=False)
        return replace(row, photo=data)

    async def _send_fallback(self, row: OutboxRow, plain: bool) -> int | None:
        if row.fallback is None:
            return None  # a best-effort edit: nothing else to say
        return await send_row(self.bot, replace(row, text=row.fallback, reply_markup=None),
                              plain=plain)  # fmt: skip

    async def _mark_sent(self, row_id: int, message_id: int | None, chat_id: int) -> None:
        """Record a delivery; returns once it is stored. Group commit: the marks of sends that
        complete while a mark is being written go together in the next write."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((row_id, message_id, self.clock.now(), chat_id, done))
        if not self._marking:
            self._marking = True
            batch: list[tuple[int, int | None, datetime, int, asyncio.Future[None]]] = []
            try:
                while self._marks:
                    batch, self._marks = self._marks, []
                    chats = {m[3] for m in batch}
                    clear = not chats.isdisjoint(self._blocked)
                    try:
                        await outbox.mark_sent_many(
                            self.db, [m[:3] for m in batch], clear_unreachable=clear
                        )
                    except Exception as exc:
                        for *_, future in batch:
                            future.set_exception(exc)
                    else:
                        self._blocked -= chats
                        for *_, future in batch:
                            future.set_result(None)
            except BaseException:
                for *_, future in [*batch, *self._marks]:
                    future.cancel()
                self._marks = []
                raise
            finally:
                self._marking = False
        await done

    # -- errors ----------------------------------------------------------------------------

    async def _on_error(self, row: OutboxRow, exc: Exception) -> None:
        now = self.clock.now()
        if isinstance(exc, RetryAfter):
            wait = timedelta(seconds=retry_after_seconds(exc))
            self._paused_until = now + wait
            logger.warning("outbox %d: flood control, pausing all sends %ss", row.id, wait)
            await outbox.mark_retry(self.db, row.id, now + wait, "RetryAfter", count_attempt=False)
        elif isinstance(exc, Forbidden):
            await self._unreachable(row, exc.message)
        elif isinstance(exc, ChatMigrated):
            logger.warning(
                "outbox %d: chat %d is now %d; update configured chat ids",
                row.id,
                row.chat_id,
                exc.new_chat_id,
            )
            await outbox.retarget(self.db, row.id, exc.new_chat_id)
        else:
            # NetworkError/TimedOut and anything unexpected: transient until proven otherwise.
            await self._retry(row, exc)

    async def _retry(self, row: OutboxRow, exc: Exception) -> None:
        """A failure that is not a definite refusal: try again later, until ``max_age``."""
        now = self.clock.now()
        error = self._scrub(f"{type(exc).__name__}: {exc}")
        uncertain = maybe_delivered(exc)
        if uncertain:
            logger.warning(
                "outbox %d: no answer to the send (%s): it may have been delivered, and the "
                "retry may repeat it",
                row.id,
                error,
            )
        self._failing = True
        attempt = row.attempts + 1
        if now - row.created_at >= self.max_age:
            await self._fail(row, f"undelivered after {attempt} attempts in {self.max_age}; "
                                  f"{error}")  # fmt: skip
            return
        delay = backoff(attempt)
        if isinstance(exc, TelegramError):
            logger.warning(
                "outbox %d: attempt %d failed (%s); retry in %s", row.id, attempt, error, delay
            )
        else:  # not a Telegram error: a bug worth a traceback
            logger.error("outbox %d: unexpected error; retry in %s", row.id, delay, exc_info=exc)
        await outbox.mark_retry(self.db, row.id, now + delay, error, uncertain=uncertain)

    async def _recovered(self) -> None:
        """A delivery after transient failures: the API answers again, so the messages backed
        off during the outage (up to MAX_BACKOFF away) are due now, not minutes later. At most
        once per HASTEN_EVERY: a chat that keeps failing alone is not retried at every send."""
        if not self._failing:
            return
        self._failing = False
        now = self.clock.now()
        if self._hastened is not None and now - self._hastened < HASTEN_EVERY:
            return
        self._hastened = now
        hastened = await outbox.hasten_retries(self.db, now)
        if hastened:
            logger.info("outbox: the Bot API answers again; %d backed-off messages due now",
                        hastened)  # fmt: skip
            self.wake()

    async def _fail(self, row: OutboxRow, error: str) -> None:
        """Given up for good: loud (an ERROR line, counted by the daily report and ``paicha
        status``). No chat id or text in the log: they would identify the person."""
        error = self._scrub(error)
        logger.error(
            "outbox %d: message FAILED for good (priority %d, %s): %s",
            row.id,
            row.priority,
            row.subject or "no subject",
            error,
        )
        await outbox.mark_failed(self.db, row.id, error, self.clock.now())

    async def _unreachable(self, row: OutboxRow, reason: str) -> None:
        logger.warning("outbox %d: chat %d unreachable: %s", row.id, row.chat_id, reason)
        self._blocked.add(row.chat_id)
        newly = await outbox.mark_unreachable(
            self.db, row.id, row.chat_id, self.clock.now(), self._scrub(reason)
        )
        if newly and self.on_unreachable is not None:
            try:
                await self.on_unreachable(row.chat_id)
            except Exception:
                logger.exception("outbox %d: on_unreachable(%d) failed", row.id, row.chat_id)

    def _scrub(self, text: str) -> str:
        """Error texts can quote request URLs; the token never reaches a log or the DB."""
        return text.replace(self._token, "<token>") if self._token else text

    # -- rate limits -----------------------------------------------------------------------

    def _group_deferral(self, chat_id: int) -> datetime | None:
        """When a saturated group chat may next receive, or None if it may now. Deferring the
        row (instead of waiting) keeps other chats flowing."""
        if chat_id >= 0:
            return None
        sent = self._groups.get(chat_id)
        if sent is None:
            return None
        cutoff = self.clock.now() - GROUP_WINDOW
        while sent and sent[0] <= cutoff:
            sent.popleft()
        if len(sent) < self.group_per_minute:
            return None
        return sent[0] + GROUP_WINDOW

    async def _take_slot(self, chat_id: int) -> bool:
        """Wait for a global send slot and record the start (under ``_pace_lock``). False if
        stopped, or paused by flood control, while waiting."""
        while True:
            self._completed.clear()  # before looking, so a completion meanwhile is not lost
            now = self.clock.now()
            if self._is_paused():
                return False  # flood control: the round gives its rows back
            ready = now
            frozen = now == self._last_start
            if self._paced is not None and not frozen:
                ready = max(ready, self._paced + self._interval)
            cutoff = now - self._window
            finished = self._completed_at
            while finished and finished[0] <= cutoff:
                finished.popleft()
            busy = self._in_flight + len(finished)
            if self._in_flight >= self._capacity:
                # Every slot is in flight: wait for a completion (then its window).
                if not await self._nap(None, wakeable=False, completed=True):
                    return False
                continue
            if busy >= self._capacity:
                # Enough completions must leave the window to make room for one more.
                ready = max(ready, finished[busy - self._capacity] + self._window)
            if ready <= now:
                break
            if not await self._wait_until(ready):
                return False
        # Paced: no catching up on more than PACE_SLACK of lost time (a late wake-up), so
        # starts never bunch; the window above is the hard limit either way. A clock that has
        # not moved since the previous start (a stopped test clock; never a real one, whose
        # readings between two starts differ) cannot pace: then only the window limits.
        paced = now - PACE_SLACK
        if self._paced is not None and not frozen:
            paced = max(paced, self._paced + self._interval)
        self._paced = min(paced, now) if frozen else paced
        self._last_start = now
        self._in_flight += 1
        if chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(now)
        return True

    def _send_completed(self) -> None:
        """A send returned (or failed): from now its slot counts one window more."""
        self._in_flight -= 1
        self._completed_at.append(self.clock.now())
        self._completed.set()

    def _is_paused(self) -> bool:
        return self._paused_until is not None and self.clock.now() < self._paused_until

    # -- waiting ---------------------------------------------------------------------------

    async def _wait_until(self, instant: datetime | None) -> bool:
        """Sleep (injected) until ``instant``; False if stop() came first."""
        if instant is not None:
            delay = (instant - self.clock.now()).total_seconds()
            if 0 < delay <= SHORT_WAIT:
                await self._sleep(delay)  # pacing at a high rate: too short to interrupt
            elif delay > 0:
                await self._nap(delay, wakeable=False)
        return not self._stop.is_set()

    async def _idle(self) -> None:
        """Nothing due: sleep until the next due row, a wake(), or MAX_IDLE."""
        delay = MAX_IDLE
        due = await outbox.next_due(self.db)
        if due is not None:
            delay = min(delay, max(0.0, (due - self.clock.now()).total_seconds()))
        if delay > 0:
            await self._nap(delay, wakeable=True)

    async def _nap(self, seconds: float | None, *, wakeable: bool, completed: bool = False) -> bool:
        """The injected sleep (none if ``seconds`` is None), cut short by stop(), by wake()
        if ``wakeable``, by a send's completion if ``completed``. False if stopped."""
        events = [self._stop]
        if wakeable:
            events.append(self._wake)
        if completed:
            events.append(self._completed)
        if any(e.is_set() for e in events):
            return not self._stop.is_set()
        waiters = [asyncio.ensure_future(e.wait()) for e in events]
        if seconds is not None:
            waiters.append(asyncio.ensure_future(self._sleep(seconds)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waiters:
                task.cancel()
        return not self._stop.is_set()
