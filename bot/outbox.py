"""The outbox worker: the only sender of pushed messages (DESIGN.md, "Durable outbox").

It claims due rows most-urgent first, sends them one at a time within Telegram's limits and
records the outcome on the row. Sending one at a time keeps the crash guarantee simple: a
crash between sending and marking repeats at most the one message in flight.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.clock import Clock
from storage import outbox
from storage.db import Database
from storage.outbox import OutboxRow

logger = logging.getLogger(__name__)

GROUP_WINDOW = timedelta(seconds=60)
MAX_BACKOFF = timedelta(minutes=10)
MAX_IDLE = 5.0  # seconds: the loop looks for due rows at least this often, even without wake()
_TAG = re.compile(r"<[^>]*>")


def plain_text(markup: str) -> str:
    """HTML message -> plain text: tags dropped, entities unescaped (the resend fallback)."""
    return html.unescape(_TAG.sub("", markup))


def retry_after_seconds(exc: RetryAfter) -> float:
    """PTB 22 gives an int or a timedelta depending on PTB_TIMEDELTA; accept both."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the int form is deprecated; we handle both
        value: Any = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


class OutboxWorker:
    def __init__(
        self,
        db: Database,
        bot: Bot,
        clock: Clock,
        *,
        rate_per_second: float = 25,
        group_per_minute: int = 20,
        max_attempts: int = 8,
        on_unreachable: Callable[[int], Awaitable[None]] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate_per_second <= 0 or group_per_minute < 1 or max_attempts < 1:
            raise ValueError("rate_per_second, group_per_minute and max_attempts must be > 0")
        self.db = db
        self.bot = bot
        self.clock = clock
        self.group_per_minute = group_per_minute
        self.max_attempts = max_attempts
        self.on_unreachable = on_unreachable
        self._sleep = sleep
        # Sliding-window log rather than a bucket with burst capacity: a bucket holding N
        # tokens can let 2N through in one second; this guarantees at most N in ANY
        # one-second window. Below 1/s: one send per 1/rate seconds.
        self._capacity = max(1, int(rate_per_second))
        self._window = timedelta(seconds=self._capacity / rate_per_second)
        self._recent: deque[datetime] = deque(maxlen=self._capacity)
        self._groups: dict[int, deque[datetime]] = {}
        self.batch_size = self._capacity  # about one second of sending per claim
        self._paused_until: datetime | None = None  # flood control is per bot
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._token = getattr(bot, "token", None)

    # -- control ---------------------------------------------------------------------------

    def wake(self) -> None:
        """Call after committing new rows, so they go out now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Ask run() to return after the message in flight; claimed unsent rows are released."""
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
        """Claim one batch and work through it. Returns (claimed, delivered)."""
        self._wake.clear()  # before the claim, so a wake() during the round is not lost
        if not await self._wait_until(self._paused_until):
            return 0, 0
        rows = await outbox.claim(self.db, self.clock.now(), self.batch_size)
        delivered = 0
        for index, row in enumerate(rows):
            if self._stop.is_set() or self._is_paused():
                # Flood control or shutdown: give the rest back untouched, and re-claim by
                # priority afterwards (an alert enqueued meanwhile goes first).
                await outbox.release(self.db, [r.id for r in rows[index:]])
                break
            try:
                delivered += await self._process(row)
            except Exception:
                # E.g. the database failed after a send. The rows not yet tried go back now;
                # this one stays 'sending' (it may have been delivered) until the next start.
                await outbox.release(self.db, [r.id for r in rows[index + 1 :]])
                raise
        return len(rows), delivered

    async def _process(self, row: OutboxRow) -> bool:
        """Send one row and record the outcome. True if delivered."""
        for plain in (False, True):
            defer_to = self._group_deferral(row.chat_id)
            if defer_to is not None:
                await outbox.defer(self.db, row.id, defer_to)
                return False
            if not await self._take_slot(row.chat_id):
                await outbox.release(self.db, [row.id])
                return False
            try:
                message = await self._send(row, plain)
            except BadRequest as exc:
                if not plain and "can't parse entities" in exc.message.lower():
                    # A template mistake must not lose an alert: resend once as plain text.
                    logger.error(
                        "outbox %d: bad HTML (%s); resending as plain text",
                        row.id,
                        self._scrub(exc.message),
                    )
                    continue
                await self._fail(row, f"BadRequest: {exc.message}")
                return False
            except Exception as exc:
                await self._on_error(row, exc)
                return False
            await outbox.mark_sent(
                self.db, row.id, getattr(message, "message_id", None), self.clock.now()
            )
            return True
        return False  # not reached: the plain pass always returns

    async def _send(self, row: OutboxRow, plain: bool) -> Any:
        text = plain_text(row.text) if plain else row.text
        parse_mode = None if plain else ParseMode.HTML
        markup = InlineKeyboardMarkup.de_json(row.reply_markup) if row.reply_markup else None
        if row.kind == "photo":
            return await self.bot.send_photo(
                row.chat_id,
                photo=row.photo,
                caption=text or None,
                parse_mode=parse_mode,
                reply_markup=markup,
            )
        return await self.bot.send_message(
            row.chat_id,
            text,
            parse_mode=parse_mode,
            reply_markup=markup,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

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
        error = self._scrub(f"{type(exc).__name__}: {exc}")
        attempt = row.attempts + 1
        if attempt >= self.max_attempts:
            await self._fail(row, f"gave up after {attempt} attempts; {error}")
            return
        delay = min(timedelta(seconds=2**attempt), MAX_BACKOFF)
        if isinstance(exc, TelegramError):
            logger.warning(
                "outbox %d: attempt %d failed (%s); retry in %s", row.id, attempt, error, delay
            )
        else:  # not a Telegram error: a bug worth a traceback
            logger.error("outbox %d: unexpected error; retry in %s", row.id, delay, exc_info=exc)
        await outbox.mark_retry(self.db, row.id, self.clock.now() + delay, error)

    async def _fail(self, row: OutboxRow, error: str) -> None:
        error = self._scrub(error)
        logger.error("outbox %d: failed to chat %d: %s", row.id, row.chat_id, error)
        await outbox.mark_failed(self.db, row.id, error)

    async def _unreachable(self, row: OutboxRow, reason: str) -> None:
        logger.warning("outbox %d: chat %d unreachable: %s", row.id, row.chat_id, reason)
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
        """Wait for a global send slot and record the send. False if stopped while waiting."""
        while True:
            now = self.clock.now()
            ready = now
            if len(self._recent) == self._capacity:
                ready = max(ready, self._recent[0] + self._window)
            if self._paused_until is not None:
                ready = max(ready, self._paused_until)
            if ready <= now:
                break
            if not await self._wait_until(ready):
                return False
        self._recent.append(now)
        if chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(now)
        return True

    def _is_paused(self) -> bool:
        return self._paused_until is not None and self.clock.now() < self._paused_until

    # -- waiting ---------------------------------------------------------------------------

    async def _wait_until(self, instant: datetime | None) -> bool:
        """Sleep (injected) until ``instant``; False if stop() came first."""
        if instant is not None:
            delay = (instant - self.clock.now()).total_seconds()
            if delay > 0:
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

    async def _nap(self, seconds: float, *, wakeable: bool) -> None:
        """The injected sleep, cut short by stop() (and by wake() if ``wakeable``)."""
        events = [self._stop, self._wake] if wakeable else [self._stop]
        if any(e.is_set() for e in events):
            return
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waiters = [asyncio.ensure_future(e.wait()) for e in events]
        try:
            await asyncio.wait([sleeper, *waiters], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, *waiters):
                task.cancel()
