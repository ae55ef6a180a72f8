"""Exports of the registers (导出台账, /export) and of the audit log (操作日志, /audit): who may
take which register, which rows, in full or masked, over which days, under which file name.
Pure: no I/O.

Who may export (a private chat): admins and leaders every register of the town; a village
admin (综治专干) every register but the audit log, with only their villages' rows (the scope
filter). Anyone else is refused (and audited). The audit log is the admins' alone.

Who gets personal data in full (names, ID numbers, phones, addresses): the admins, who hold
the configuration and answer for the data, and a village admin, whose file holds only the
people of the villages they answer for (in-scope staff, as bot.domain.masking says). A leader
gets the whole town's register masked: a file of every person in the town is forwarded,
printed and left on a shared PC far more easily than a record opened in chat, and a leader's
use of a register is counting and following up, not calling — the full record stays one
audited tap away in chat. Fail safe: masked unless the role is named entitled here.

The range (统计时段): a button (今天, 近7天, 近14天, 本月, 全部) or a typed range
("11月1日-11月20日", "2020-11-01 至 2020-11-20", one day: /stats' presets and parser, in
bot.domain.stats); both ends inclusive, in the town's days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain import stats
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor
from bot.domain.steps import Data, Step, Updates, fixed_choices

AUDIT = "audit"
# What /export offers, in its buttons' order (the audit log is /audit's).
EXPORTABLE = ("arrivals", "monitoring", "tips", "visits", "cases", "contacts", "isolation",
              "units")  # fmt: skip
FORMATS = ("xlsx", "csv")

ALL = "all"  # 全部: every row, whenever
PRESETS = (*stats.PRESETS, ALL)  # 今天 / 近7天 / 近14天 / 本月 / 全部
# The day columns a register shows (monitoring's temperatures): the range's last days, at most
# this many; a range without a start (全部) shows its last ALL_DAYS days, up to today.
MAX_DAY_COLUMNS = 62
ALL_DAYS = 14
# What a file name may not hold (Windows' reserved characters, "/" and control characters): a
# town's layout title with one would name a file in a missing folder, or none Windows can open.
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def may_export(actor: Actor, register: str) -> bool:
    """Take the register (see the module's docstring)."""
    if register == AUDIT:
        return actor.is_admin
    if register not in EXPORTABLE:
        return False
    return actor.is_admin or actor.is_leader or bool(actor.admin_villages)


def registers_for(actor: Actor) -> tuple[str, ...]:
    """The registers /export offers the actor, in order."""
    return tuple(r for r in EXPORTABLE if may_export(actor, r))


def villages(actor: Actor) -> frozenset[str] | None:
    """The villages whose rows the actor's file holds; None: the whole town."""
    return None if actor.is_admin or actor.is_leader else actor.admin_villages


def entitled(actor: Actor) -> bool:
    """Personal data in full (see the module's docstring)."""
    return actor.is_admin or (not actor.is_leader and bool(actor.admin_villages))


Range = tuple[date | None, date | None]  # both ends included; None: from the first / up to now


def preset(name: str, today: date) -> Range:
    """A range button's days (KeyError for an unknown one): /stats' presets, and 全部."""
    return (None, None) if name == ALL else stats.preset_range(name, today)


def parse_range(text: str, today: date) -> Range | Invalid:
    """A typed range: /stats' parser (one for both), its reasons named in stats.j2."""
    found = stats.parse_range(text, today)
    return Invalid(f"stats.{found.code}", found.params) if isinstance(found, Invalid) else found


def day_columns(span: Range, today: date) -> list[date]:
    """The days a register's day columns show: the range's, its last MAX_DAY_COLUMNS at most;
    for a range without an end, up to today; without a start, the last ALL_DAYS."""
    start, end = span[0], span[1] or today
    first = start or end - timedelta(days=ALL_DAYS - 1)
    first = max(first, end - timedelta(days=MAX_DAY_COLUMNS - 1))
    return [first + timedelta(days=n) for n in range((end - first).days + 1)]


def filename(town: str, title: str, span: Range, today: date, suffix: str) -> str:
    """先锋镇-来返人员登记台账-20201101-20201120.xlsx; a range without a start is named by the
    day it runs to; a character no file name may hold becomes "_"."""
    days = [d.strftime("%Y%m%d") for d in (span[0], span[1] or today) if d is not None]
    return UNSAFE.sub("_", "-".join((town, title, *days))) + "." + suffix


def format_of(path_suffix: str) -> str | None:
    """The format a file name's suffix asks for (".xlsx", ".CSV"); None: neither."""
    found = path_suffix.lower().lstrip(".")
    return found if found in FORMATS else None


# --- the conversation (bot.flows.exports) --------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the step table needs: the town's today (the range buttons, a typed range)."""

    today: date


TYPED = "typed"  # the range was typed, not a button


def _span(span: Range, name: str) -> Updates:
    return {"range": name, "start": span[0] and span[0].isoformat(),
            "end": span[1] and span[1].isoformat()}  # fmt: skip


def _typed(text: str, data: Data, ctx: Context) -> Updates | Invalid:
    found = parse_range(text, ctx.today)
    return found if isinstance(found, Invalid) else _span(found, TYPED)


def answers_span(data: Data) -> Range:
    """The range a finished conversation chose."""
    start, end = (date.fromisoformat(d) if d else None for d in (data["start"], data["end"]))
    return start, end


_STEPS = {step.key: step for step in (
    Step("register", choices=lambda data, ctx: tuple(data["registers"]), per_row=2),
    Step("range", choices=fixed_choices(PRESETS), text=_typed, per_row=3),
    Step("format", choices=fixed_choices(FORMATS), per_row=2),
)}  # fmt: skip


class ExportRules:
    """/export: the register (those the actor may take, listed in ``data`` as it started),
    the range (a button or typed), the format; then the file. /audit starts at the range."""

    STEPS = _STEPS
    FIRST_STEP = "register"

    @staticmethod
    def apply_choice(step: Step, value: str, data: Data, ctx: Context) -> Updates | Invalid:
        if value not in step.values(data, ctx):
            return Invalid("choice_stale")
        if step.key == "range":
            return _span(preset(value, ctx.today), value)
        return {step.key: value}

    @staticmethod
    def advance(step_key: str, updates: Updates, data: Data) -> tuple[str | None, Data]:
        """register → range → format → done (no summary: nothing is changed by it)."""
        return {"register": "range", "range": "format"}.get(step_key), {**data, **updates}
