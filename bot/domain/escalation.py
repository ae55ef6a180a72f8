"""The escalation ladder's rules: a ladder is a tuple of rungs, each told at its time relative
to the item's deadline. Most kinds' ladders come from the config (``[escalation]``); a case's
is its 2-hour direct report (网络直报) rules, below."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain import cases

CASE = "case"  # the escalation kind of a discovered case


@dataclass(frozen=True)
class Rung:
    """One step of a ladder: who is told (assignee, village_admin, leadership), minutes after
    the item's deadline (negative: a reminder before it). ``repeat_minutes``: told again every
    so many minutes (on the clock's slots, all items of the kind in one message) until handled;
    ``after_ack``: still comes after "收到", which skips the rungs before it."""

    to: str
    after_minutes: int
    repeat_minutes: int | None = None
    after_ack: bool = False


def case_ladder(repeat_minutes: int) -> tuple[Rung, ...]:
    """Reminders to the leadership group at 60, 90 and 110 minutes (stopped by "收到"), the red
    overdue escalation at the 2-hour deadline, repeated until the direct report is recorded."""
    deadline = int(cases.DEADLINE.total_seconds() // 60)
    reminders = tuple(Rung("leadership", minutes - deadline) for minutes in cases.REMINDERS)
    return (*reminders, Rung("leadership", 0, repeat_minutes=repeat_minutes, after_ack=True))


def next_repeat(now: datetime, repeat_minutes: int) -> datetime:
    """The start of the repeat slot after ``now``'s: one repeat per slot, whoever asks."""
    return cases.slot_start(cases.overdue_slot(now, repeat_minutes) + 1, repeat_minutes)
