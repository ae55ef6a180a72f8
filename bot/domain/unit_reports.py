"""The daily unit report (单位日报): when a unit is asked for it (once a day, twice for a unit
under key monitoring, 重点监测), how its deadline is set, what its liaison may answer, and how
a report stands (filed, late, waiting, missing). Pure: the rows are in storage.unit_reports,
the actions in bot.actions.unit_reports."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from bot.domain.invalid import Invalid
from bot.domain.parsing import clean, parse_text
from bot.domain.steps import Data, Step, Updates, fixed_choices

KIND = "unit_report"  # the escalation kind (migration 027)
SUBJECT = "unitrep"  # escalation subject: unitrep:<report id>
COUNTS = ("present", "new_arrivals", "key_region", "symptomatic")
MAX_COUNT = 99_999  # a unit whose headcount is not on file: any sane number
COUNT_LIMIT = 20  # characters of a typed number ("1 200 人")
NOTE_LIMIT = 200
FILED, LATE, WAITING, MISSING = "filed", "late", "waiting", "missing"
STATUSES = (FILED, LATE, WAITING, MISSING)


def subject(report_id: int) -> str:
    return f"{SUBJECT}:{report_id}"


# --- when it is asked -----------------------------------------------------------------------


def slot_times(
    report_at: time, monitored_at: tuple[time, ...], monitored: bool
) -> tuple[time, ...]:
    """The local times a unit is asked at, slot 1 first: a monitored unit's two, else one."""
    return monitored_at if monitored else (report_at,)


def due_slots(times: tuple[time, ...], now: time) -> tuple[int, ...]:
    """The slots (1, 2) whose time of day has come by ``now`` (local)."""
    return tuple(slot for slot, at in enumerate(times, start=1) if at <= now)


def deadline(due: datetime, minutes: int) -> datetime:
    """Filed by then, or the ladder: ``minutes`` after it was due — also when it was asked
    late (the bot was down): the report is late all the same, and the ladder says so (fail
    safe), rather than a town-wide outage silently moving every unit's deadline."""
    return due + timedelta(minutes=minutes)


VENUES = frozenset({"hotel", "homestay", "rental", "farmstay"})  # guests come and go


def limit(headcount: int, kind: str = "") -> int:
    """The most people a unit may report: twice its headcount on file (its staff, pupils or
    workers); any sane number for a venue (its guests count as present, not its headcount)
    or when none is on file."""
    return 2 * headcount if headcount > 0 and kind not in VENUES else MAX_COUNT


def askable(due: datetime, changed_at: datetime | None, covered: Iterable[datetime]) -> bool:
    """Is a slot due at ``due`` asked? Not when it became due only because its unit's key
    monitoring changed after that time (``changed_at``), nor when a report of the day already
    covers that time (``covered``: its reports' due and filed times): never a card for a time
    already past or already answered."""
    if changed_at is not None and changed_at > due:
        return False
    return all(at < due for at in covered)


def digest_day(local: datetime, times: Iterable[time]) -> date:
    """The day the group's daily report shows: today once all of today's report times have
    come, else yesterday, the previous full day (the morning report)."""
    today = local.date()
    return today if local.time() >= max(times) else today - timedelta(days=1)


# --- the report's status --------------------------------------------------------------------


def status(state: str, filed_at: datetime | None, deadline_at: datetime, now: datetime) -> str:
    """filed (in time), late (filed after its deadline: 迟报), waiting (due, deadline ahead)
    or missing (due, deadline passed: on the ladder)."""
    if state == "filed":
        return LATE if filed_at is not None and filed_at > deadline_at else FILED
    return MISSING if now > deadline_at else WAITING


@dataclass(frozen=True)
class Tally:
    """A day's reports by status (the group's daily report)."""

    filed: int = 0
    late: int = 0
    waiting: int = 0
    missing: int = 0

    @property
    def total(self) -> int:
        return self.filed + self.late + self.waiting + self.missing


def tally(statuses: Iterable[str]) -> Tally:
    counts = Counter(statuses)
    return Tally(*(counts[s] for s in STATUSES))


# --- the answers ------------------------------------------------------------------------------

_NONE_WORDS = frozenset({"无", "没有", "零", "沒有", "none", "no"})
_COUNT = re.compile(r"([0-9]+)\s*(?:人|名|个|位)?")


def parse_count(text: str, most: int) -> int | Invalid:
    """A number of people as typed: "12", "１２" (full width), "12人", "1,200"; "无"/"没有"/"零"
    for none. At most ``most``."""
    cleaned = clean(text, COUNT_LIMIT)
    if isinstance(cleaned, Invalid):
        return Invalid("unit_reports.count_number")
    if cleaned.casefold() in _NONE_WORDS:
        return 0
    found = _COUNT.fullmatch(cleaned.replace(",", "").replace("，", ""))
    if not found:
        return Invalid("unit_reports.count_number")
    count = int(found[1])
    if count > most:
        return Invalid("unit_reports.count_over", {"limit": most})
    return count


def _present(text: str, data: Data, ctx: object) -> Updates | Invalid:
    count = parse_count(text, limit(data.get("headcount", 0), data.get("kind", "")))
    return count if isinstance(count, Invalid) else {"present": count}


def _new_arrivals(text: str, data: Data, ctx: object) -> Updates | Invalid:
    count = parse_count(text, limit(data.get("headcount", 0), data.get("kind", "")))
    return count if isinstance(count, Invalid) else {"new_arrivals": count}


def _part_of(key: str, whole: str, reason: str, param: str,
             text: str, data: Data, ctx: object) -> Updates | Invalid:  # fmt: skip
    """A count of some of an earlier answer (key region: of today's new arrivals; fever or
    symptoms: of the people present): never more than it."""
    count = parse_count(text, MAX_COUNT)
    if isinstance(count, Invalid):
        return count
    if count > data[whole]:
        return Invalid(f"unit_reports.{reason}", {param: data[whole]})
    return {key: count}


def _note(text: str, data: Data, ctx: object) -> Updates | Invalid:
    note = parse_text(text, NOTE_LIMIT)
    return note if isinstance(note, Invalid) else {"note": note}


NONE, SKIP = "0", "skip"  # buttons: none (a count of 0), no note
STEPS: dict[str, Step] = {
    step.key: step
    for step in (
        Step("present", text=_present),
        Step("new_arrivals", text=_new_arrivals, choices=fixed_choices((NONE,))),
        Step(
            "key_region",
            text=partial(_part_of, "key_region", "new_arrivals", "key_over_new", "new"),
            choices=fixed_choices((NONE,)),
        ),
        Step(
            "symptomatic",
            text=partial(_part_of, "symptomatic", "present", "sick_over_present", "present"),
            choices=fixed_choices((NONE,)),
        ),
        Step("note", text=_note, choices=fixed_choices((SKIP,))),
        Step("summary", choices=fixed_choices(("submit", "cancel")), per_row=2),
    )
}
FIRST_STEP = "present"
ORDER = tuple(STEPS)


def apply_choice(step: Step, value: str, data: Data, ctx: object) -> Updates | Invalid:
    """A pressed button: none (0) for a count, no note."""
    if value not in step.values(data, ctx):
        return Invalid("choice_stale")
    return {step.key: "" if value == SKIP else 0}


def advance(step_key: str, updates: Updates, data: Data) -> tuple[str, Data]:
    """The questions in order, then the summary card."""
    merged = {**data, **updates}
    position = ORDER.index(step_key) if step_key in ORDER else 0
    return ORDER[min(position + 1, len(ORDER) - 1)], merged


def missing_step(data: Data) -> str | None:
    """The first question a draft lacks an answer to (None: complete)."""
    return next((key for key in ORDER[:-1] if key not in data), None)


@dataclass(frozen=True)
class Figures:
    """What a unit reports: headcount present, new arrivals today, of whom from key regions,
    with fever or symptoms; ``zero``: 零报告, nothing to report."""

    present: int = 0
    new_arrivals: int = 0
    key_region: int = 0
    symptomatic: int = 0
    note: str = ""
    zero: bool = False

    @classmethod
    def from_answers(cls, data: Data) -> Figures:
        return cls(*(int(data[key]) for key in COUNTS), note=data.get("note", ""))


ZERO = Figures(zero=True)
