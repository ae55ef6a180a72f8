"""Health monitoring (居家健康监测): which measures are monitored, when check-ins fall due,
the day counter, which test day is overdue and what a test reminder says, and the check-in
buttons' callback data. Pure: no telegram, no SQL.

Monitored measures: every kind but ``self_monitoring``. Home observation and home monitoring
are the plan's 居家 measures; people in centralized isolation and those sent to medical care
record their temperature twice a day too (the site or clinic staff check them, but the town
keeps one record and one alarm chain). Self-monitoring (low risk) is the person's own duty:
prompting every low-risk arrival for 14 days would drown the workers in noise.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.callbacks import CALLBACK_LIMIT, CALLBACK_VERSION, callback
from bot.domain.risk import FEVER_THRESHOLD, SYMPTOMS

MONITORED_KINDS = frozenset(
    {"home_monitoring", "home_observation", "centralized_isolation", "medical_care"}
)
CHECKIN_TEMPERATURES = ("36.2", "36.5", "36.8", "37.0", "37.3", "38.0")
TEST_RESULTS = ("negative", "positive", "pending")
EXTEND_CHOICES = (1, 3, 7)
SHORTEN_CHOICES = (1, 3, 7)
MAX_DAYS = 60


def is_monitored(kind: str, days: int) -> bool:
    return kind in MONITORED_KINDS and days > 0


# How closely each monitored measure watches a person. Isolation at a site and medical care
# share the top: each does what the other does not (the site's test days, the clinic's
# care), so neither stands in for the other.
_STRICTNESS = {"home_monitoring": 1, "home_observation": 2, "centralized_isolation": 3,
               "medical_care": 3}  # fmt: skip


def covers(own_kind: str, own_end: date, other_kind: str, other_end: date) -> bool:
    """Does a person's own monitoring (``own_kind`` until ``own_end``) watch him at least as
    closely and as long as another plan for him (a companion entry's)? Then that one may
    stop. Unknown or unmonitored kinds never cover and are never covered: both go on."""
    own, other = _STRICTNESS.get(own_kind), _STRICTNESS.get(other_kind)
    if own is None or other is None or own_end < other_end:
        return False
    return own > other or own_kind == other_kind


def withdrawal_needs_worker(risk: str, alert: bool, measure_kind: str) -> bool:
    """May a report be withdrawn on its reporter's word alone? Only a low-risk one under
    self-monitoring that alerted nobody; key control ends only with a worker's confirmation."""
    return alert or risk != "low" or measure_kind != "self_monitoring"


# --- slots ------------------------------------------------------------------------------


def slots_on(day: date, times: Iterable[time], tz: ZoneInfo) -> list[datetime]:
    """The check-in slots of one local day, in UTC, in order. A local time that does not
    exist (a DST gap) or exists twice resolves as zoneinfo does (``fold=0``)."""
    return sorted(datetime.combine(day, t, tzinfo=tz).astimezone(UTC) for t in times)


def next_slot(
    after: datetime, start: date, end: date, times: tuple[time, ...], tz: ZoneInfo
) -> datetime | None:
    """The first slot strictly after ``after`` within the local days ``start..end``."""
    if not times:
        return None
    day = max(start, after.astimezone(tz).date() - timedelta(days=1))
    while day <= end:
        for slot in slots_on(day, times, tz):
            if slot > after:
                return slot
        day += timedelta(days=1)
    return None


def latest_slot(
    at: datetime, earliest: datetime, end: date, times: tuple[time, ...], tz: ZoneInfo
) -> datetime:
    """The newest slot in ``[earliest, at]`` (``earliest`` itself being a slot) not after the
    last day: after downtime only the newest missed prompt is worth sending."""
    found = earliest
    day = earliest.astimezone(tz).date()
    last = min(end, at.astimezone(tz).date())
    while day <= last:
        for slot in slots_on(day, times, tz):
            if earliest <= slot <= at:
                found = slot
        day += timedelta(days=1)
    return found


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def day_number(day: date, start: date) -> int:
    """Day 1 is the measure's first day."""
    return (day - start).days + 1


def total_days(start: date, end: date) -> int:
    return (end - start).days + 1


def is_fever(temperature: float | None) -> bool:
    return temperature is not None and temperature >= FEVER_THRESHOLD


def reminder_times(
    test_date: date, times: tuple[time, ...], tz: ZoneInfo
) -> tuple[datetime, datetime]:
    """(the evening before, the morning of) a test day: the last check-in time of the day
    before and the first of the day itself, so the reminder rides with a prompt."""
    before = slots_on(test_date - timedelta(days=1), times, tz)[-1]
    on_day = slots_on(test_date, times, tz)[0]
    return before, on_day


def overdue_test(
    test_dates: Iterable[date], today: date, end: date, sampled: Container[date]
) -> date | None:
    """The test day to chase now: the period's newest test day up to today when it is past
    and has no sample. One test today does for every missed day, so older ones are not
    chased one by one; a sample of a later day, or a test day today, supersedes them."""
    newest = max((d for d in test_dates if d <= min(today, end)), default=None)
    if newest is None or newest == today or newest in sampled:
        return None
    return newest


def reminder_notice(which: str, test_date: date, today: date) -> str | None:
    """What a test reminder (``which``: "before", "day" or "overdue") says when it goes out
    on ``today``: "before" (tomorrow is the day), "day" (today is) or "overdue" (the day is
    past: test today). A reminder that fires late (the bot was down) never names the wrong
    day: the eve's on or after the day says nothing (the day's own reminder follows), the
    day's after it says the test is overdue."""
    if which == "before":
        return "before" if today < test_date else None
    return "overdue" if test_date < today else "day"


# --- callback data ----------------------------------------------------------------------
#
#   v1:ci:<monitoring>:<slot epoch>:t:<tenths>          a temperature button (365 = 36.5 °C)
#   v1:ci:<monitoring>:<slot epoch>:o                   "other": type the temperature
#   v1:ci:<monitoring>:<slot epoch>:s:<mask>:<choice>   symptoms: toggle 0..5, n(one), d(one)
#
# The symptom selection so far travels in the button (a bit mask over SYMPTOMS), so toggling
# writes nothing and 100k people under monitoring need no draft rows.
#
#   v1:mo:<monitoring>:<action>:<arg>                   a worker's buttons on a monitoring card
#                                                       and on the test-day reminder

CHECKIN_FLOW = "ci"
STAFF_FLOW = "mo"
PREFIX = f"{CALLBACK_VERSION}:{CHECKIN_FLOW}:"
_CALLBACK = re.compile(
    re.escape(PREFIX) + r"(?P<mid>[1-9][0-9]{0,11}):(?P<slot>[0-9]{1,11}):"
    r"(?:t:(?P<tenths>[0-9]{3})|(?P<other>o)|s:(?P<mask>[0-9]{1,2}):(?P<choice>[0-9]|n|d))"
)
_MASK_LIMIT = 1 << len(SYMPTOMS)
TEMP_TENTHS = (350, 420)


@dataclass(frozen=True)
class CheckinAction:
    monitoring_id: int
    slot_epoch: int
    kind: str  # "temperature" | "other" | "symptom"
    tenths: int = 0  # kind temperature: 365 = 36.5 °C
    mask: int = 0  # kind symptom: selection before this press
    choice: str = ""  # kind symptom: "0".."5" (toggle), "n" (none), "d" (done)

    @property
    def temperature(self) -> float:
        return self.tenths / 10

    def encode(self) -> str:
        head = (CHECKIN_FLOW, str(self.monitoring_id), str(self.slot_epoch))
        if self.kind == "temperature":
            return callback(*head, "t", f"{self.tenths:03d}")
        if self.kind == "other":
            return callback(*head, "o")
        return callback(*head, "s", str(self.mask), self.choice)


def parse_checkin_callback(data: str | None) -> CheckinAction | None:
    """The action of a check-in button, or None for anything malformed (never raises)."""
    if not data or len(data) > CALLBACK_LIMIT:
        return None
    match = _CALLBACK.fullmatch(data)
    if match is None:
        return None
    mid, slot = int(match["mid"]), int(match["slot"])
    if match["tenths"] is not None:
        tenths = int(match["tenths"])
        if not TEMP_TENTHS[0] <= tenths <= TEMP_TENTHS[1]:
            return None
        return CheckinAction(mid, slot, "temperature", tenths=tenths)
    if match["other"]:
        return CheckinAction(mid, slot, "other")
    mask, choice = int(match["mask"]), match["choice"]
    if mask >= _MASK_LIMIT or (choice.isdigit() and int(choice) >= len(SYMPTOMS)):
        return None
    return CheckinAction(mid, slot, "symptom", mask=mask, choice=choice)


def staff_callback(monitoring_id: int, action: str, arg: str) -> str:
    """``v1:mo:<monitoring>:<action>:<arg>``: the worker's buttons (extend, shorten, stop, sampled,
    test result), built in one place for the /monitor card and the test-day reminder alike."""
    return callback(STAFF_FLOW, str(monitoring_id), action, arg)


def sample_callback(monitoring_id: int, test_date: date) -> str:
    """The "sampled" button of a test day (on the /monitor card and the test-day reminder)."""
    return staff_callback(monitoring_id, "sample", test_date.strftime("%Y%m%d"))


def toggle(mask: int, index: int) -> int:
    return mask ^ (1 << index)


def symptoms_of(mask: int) -> list[str]:
    return [code for i, code in enumerate(SYMPTOMS) if mask & (1 << i)]


def epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def from_epoch(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)
