"""A discovered case (病例、疑似病例、无症状感染者、不明原因肺炎) and its 2-hour online
direct report (网络直报): the report conversation as steps, the parsers, the deadlines.

Pure: no telegram, no SQL. The plan (point 1): "一旦发现……第一时间定人定位定状态，
2小时内完成网络直报，同步落实疫点封控前期工作" — who, where and in what state; reported
within 2 hours; the preliminary lockdown of the epidemic point started at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from bot.domain.invalid import Invalid
from bot.domain.parsing import (
    DASHES,
    clean,
    parse_address,
    parse_date,
    parse_id_number,
    parse_name,
    parse_phone,
    parse_text,
)
from bot.domain.steps import Lookup, Step, fixed_choices, store_answer

KINDS = ("confirmed", "suspected", "asymptomatic", "pneumonia")
# 疫点封控前期工作: site sealed off, close-contact list started, transfer arranged, isolation place.
CHECKLIST = ("seal", "contacts", "transfer", "isolation")

DEADLINE = timedelta(hours=2)
REMINDERS = (60, 90, 110)  # minutes after the report, while the direct report is still open
DEFAULT_OVERDUE_REPEAT_MINUTES = 15

STATUS_LIMIT = 100
REF_LIMIT = 40
REPORT_NO_LIMIT = 40
DISCOVERED_LIMIT = 40
DISCOVERED_MAX_DAYS = 7  # a discovery older than this is a typing mistake: asked again
DISCOVERED_CHOICES = {"now": timedelta(0), "1h": timedelta(hours=1)}

Data = dict[str, Any]
Updates = dict[str, Any]


# --- parsers ---------------------------------------------------------------------------

_REF = re.compile(r"([A-Z]{1,6})-?([0-9]{8})-?([0-9]{4})")


def parse_report_ref(text: str) -> str | Invalid:
    """An arrival report's reference number, ``XF-20201026-0042``, as typed: any case, full-width
    characters, spaces, other dashes or none at all. Returns the canonical form."""
    cleaned = clean(text, REF_LIMIT)
    if isinstance(cleaned, Invalid):
        return Invalid("case_ref_format")
    squeezed = "".join(cleaned.split()).upper().translate(DASHES)
    match = _REF.fullmatch(squeezed)
    if not match:
        return Invalid("case_ref_format")
    code, day, number = match.groups()
    try:
        datetime.strptime(day, "%Y%m%d")
    except ValueError:
        return Invalid("case_ref_format")
    return f"{code}-{day}-{number}"


_REPORT_NO = re.compile(r"[A-Z0-9][A-Z0-9-]{2,38}[A-Z0-9]")


def parse_direct_report_no(text: str) -> str | Invalid:
    """The number the online direct report system (网络直报) gave the report card: 4 to 40
    letters, digits and inner dashes; spaces are dropped, letters upper-cased."""
    cleaned = clean(text, REPORT_NO_LIMIT)
    if isinstance(cleaned, Invalid):
        return Invalid("case_report_no_format")
    squeezed = "".join(cleaned.split()).upper().translate(DASHES)
    if not _REPORT_NO.fullmatch(squeezed):
        return Invalid("case_report_no_format")
    return squeezed


# "14:30", "14点", "14点30分", "14点半", after an optional day ("12-05", "12月5日", "昨天").
_CLOCK = re.compile(
    r"(.*?)\s*([0-9]{1,2})(?:\s*:\s*([0-9]{2})|\s*点\s*(?:(半)|([0-9]{1,2})\s*分?)?)"
)
_DAY_REASONS = {"date_future": "case_discovered_future", "date_too_old": "case_discovered_old"}


def _clock(text: str) -> tuple[str, int, int] | None:
    """The day part (possibly empty), hour and minute of a typed time, if it is one."""
    match = _CLOCK.fullmatch(text)
    if not match:
        return None
    day, hour, minute, half, spoken = match.groups()
    value = 30 if half else int(minute or spoken or 0)
    return (day, int(hour), value) if int(hour) < 24 and value < 60 else None


def parse_discovered(text: str, now: datetime) -> datetime | Invalid:
    """When the case was discovered, typed as a time (the latest such time not after ``now``:
    "23:50" typed just after midnight is last night's) or a day and a time ("12-05 14:30",
    "昨天 14:30"); ``now`` is aware, in the town's timezone, and so is the answer. Not in the
    future, not more than ``DISCOVERED_MAX_DAYS`` ago."""
    cleaned = clean(text, DISCOVERED_LIMIT)
    if isinstance(cleaned, Invalid):
        return Invalid("case_discovered_format")
    parts = _clock(cleaned.lower())
    if parts is None:
        return Invalid("case_discovered_format")
    day_text, hour, minute = parts
    if day_text:
        day = parse_date(day_text, now.date(), DISCOVERED_MAX_DAYS)
        if isinstance(day, Invalid):
            code = _DAY_REASONS.get(day.code)
            return Invalid(code, day.params) if code else Invalid("case_discovered_format")
    else:
        day = now.date()
    at = datetime.combine(day, time(hour, minute), now.tzinfo)
    if at > now and not day_text:
        at -= timedelta(days=1)  # only a time: the latest one not after now
    return check_discovered(at, now)


def check_discovered(at: datetime, now: datetime) -> datetime | Invalid:
    """A discovery time must lie in the last ``DISCOVERED_MAX_DAYS`` days, not ahead of now."""
    if at > now:
        return Invalid("case_discovered_future")
    if now - at > timedelta(days=DISCOVERED_MAX_DAYS):
        return Invalid("case_discovered_old", {"days": DISCOVERED_MAX_DAYS})
    return at


def parse_status(text: str) -> str | Invalid:
    """The person's current status, free text: 已居家隔离, 在发热门诊, 已送定点医院 ..."""
    return parse_text(text, STATUS_LIMIT)


# --- the report conversation -----------------------------------------------------------


@dataclass(frozen=True)
class Context:
    villages: Mapping[str, tuple[str, ...]]  # village id -> its grid ids, in config order
    now: datetime  # aware, in the town's timezone: discovery times are typed in it


def _discovered_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    at = parse_discovered(text, ctx.now)
    return at if isinstance(at, Invalid) else {"discovered_at": at.astimezone(UTC).isoformat()}


def _person_text(text: str, data: Data, ctx: Context) -> Lookup | Invalid:
    """A reference number; the flow looks it up (within the reporter's scope)."""
    ref = parse_report_ref(text)
    return ref if isinstance(ref, Invalid) else Lookup("report", ref)


def _id_text(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    value = parse_id_number(text)
    return value if isinstance(value, Invalid) else {"id_number": value}


def location_answer(latitude: float, longitude: float) -> Updates | Invalid:
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return Invalid("case_location_invalid")
    return {"latitude": round(latitude, 6), "longitude": round(longitude, 6), "located": True}


def skip_location() -> Updates:
    return {"latitude": None, "longitude": None, "located": True}


STEPS: dict[str, Step] = {
    step.key: step
    for step in (
        Step("kind", choices=fixed_choices(KINDS), per_row=2),
        Step(
            "discovered",
            choices=fixed_choices(tuple(DISCOVERED_CHOICES)),
            text=_discovered_text,
            per_row=2,
        ),
        Step("person", choices=fixed_choices(("new",)), text=_person_text),
        Step("name", text=store_answer("name", parse_name)),
        Step("phone", choices=fixed_choices(("skip",)), text=store_answer("phone", parse_phone)),
        Step("id_number", choices=fixed_choices(("skip",)), text=_id_text),
        Step("village", choices=lambda data, ctx: tuple(ctx.villages)),
        Step("grid", choices=lambda data, ctx: ctx.villages.get(data.get("village") or "", ())),
        Step("address", text=store_answer("address", parse_address)),
        Step("location", choices=fixed_choices(("skip",)), location=location_answer),
        Step("status", text=store_answer("status", parse_status)),
        Step("summary", choices=fixed_choices(("submit", "cancel")), per_row=2),
    )
}
ORDER = tuple(STEPS)
FIRST_STEP = "kind"
_FROM_REPORT = frozenset({"name", "phone", "id_number", "village", "grid", "address"})
# A suspected case opened by a positive result: its person and discovery time are known.
_FROM_CASE = _FROM_REPORT | {"person", "discovered"}


def _skipped(key: str, data: Data) -> bool:
    if data.get("case_id"):
        return key in _FROM_CASE
    return bool(data.get("report_id")) and key in _FROM_REPORT


def next_step(current: str, data: Data) -> str:
    """The question after ``current``: a person taken from a report skips who and where
    (the report's address), and goes on to the location pin; a suspected case's person
    and discovery time are its own."""
    for key in ORDER[ORDER.index(current) + 1 :]:
        if not _skipped(key, data):
            return key
    return "summary"


def advance(step_key: str, updates: Updates, data: Data) -> tuple[str, Data]:
    """Merge an accepted answer and work out the next question."""
    merged = {**data, **updates}
    return next_step(step_key, merged), merged


def apply_choice(step: Step, value: str, data: Data, ctx: Context) -> Updates | Invalid:
    """A pressed button: its value must be one this step offers right now."""
    if step.choices is None or value not in step.choices(data, ctx):
        return Invalid("choice_stale")
    if step.key == "person":  # "new person": forget a person taken from a report
        return {"report_id": None, "report_ref": None}
    if step.key in ("phone", "id_number"):
        return {step.key: None}
    if step.key == "location":
        return skip_location()
    if step.key == "village":
        return {"village": value, "grid": None}
    if step.key == "discovered":
        at = ctx.now - DISCOVERED_CHOICES[value]
        return {"discovered_at": at.astimezone(UTC).isoformat()}
    return {step.key: value}


def missing_for_submit(data: Data, ctx: Context) -> str | None:
    """The first step whose answer a draft lacks (a restored or stale draft), else None."""
    for key in ("kind", "discovered_at", "name", "village", "grid", "address", "status"):
        if not data.get(key):
            return {"name": "person", "discovered_at": "discovered"}.get(key, key)
    if data["kind"] not in KINDS or data["grid"] not in ctx.villages.get(data["village"], ()):
        return "kind" if data["kind"] not in KINDS else "village"
    if not data.get("located"):
        return "location"
    return None


# --- deadlines -------------------------------------------------------------------------


def deadline(discovered_at: datetime) -> datetime:
    """The direct report is due 2 hours after the discovery, not after it reached the bot."""
    return discovered_at + DEADLINE


def remaining_minutes(deadline_at: datetime, now: datetime) -> int:
    """Whole minutes left before the deadline (rounded up), 0 once it has passed."""
    seconds = (deadline_at - now).total_seconds()
    return max(0, -int(-seconds // 60))


def overdue_slot(now: datetime, repeat_minutes: int) -> int:
    """The index of the repeat period ``now`` falls in: one batched escalation per slot."""
    return int(now.astimezone(UTC).timestamp() // (repeat_minutes * 60))


def slot_start(slot: int, repeat_minutes: int) -> datetime:
    return datetime.fromtimestamp(slot * repeat_minutes * 60, UTC)
