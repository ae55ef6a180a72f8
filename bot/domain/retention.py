"""How long personal data is kept (issue 11): the people of a report whose measure ended —
released, or the report withdrawn — lose their names, phones, ID numbers and addresses
``retention.days`` later; what the statistics count stays. Nobody still under a measure,
in an open case or with a certificate waiting for a check is ever purged.

Tips and cases with no report keep whom and where they name (the person tipped about, their
phone, address, description, photo, pin) until ``retention.days`` after they were closed.

Pure rules over plain values; storage/retention.py gathers them, bot/actions/retention.py
runs the purge once a day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_DAYS = 30

# Outbox states after which a message is no longer waiting to go (storage/outbox.py).
WAITING = ("pending", "sending")

# The answers of a report (and of its earlier versions) that name or locate a person, and
# the same of each companion (``people``): removed, while the places, dates, category, risk
# and measure the statistics count stay.
REPORT_KEYS = ("name", "phone", "id_number", "address", "test_photo", "certificate_photo")
COMPANION_KEYS = ("name", "phone", "id_number")

# Audit actions whose detail is text a staff member typed (a reason, a note): it may name
# the person, so it goes with the rest; who did what, when and to which record stays.
TYPED_AUDIT_DETAIL = (
    "monitoring.stop",
    "monitoring.extend",
    "monitoring.shorten",
    "report.verified",
    "report.wrong",
    "tip.escalated",  # the tip's closing notes: tip.<outcome> (bot/actions/tips.py)
    "tip.confirmed",
    "tip.unfounded",
    "tip.not_found",
)


@dataclass(frozen=True)
class Held:
    """What keeps one report's people in the records.

    ``monitoring``: per monitored person, when the monitoring ended (released or stopped),
    or None while it is still active."""

    withdrawn_at: datetime | None
    measure_end: date  # local date, the measure's last day
    monitoring: Sequence[datetime | None] = ()
    open_case: bool = False
    pending_certificate: bool = False


def released_at(held: Held, tz: ZoneInfo) -> datetime | None:
    """When the report's people were last under anything: its withdrawal, else the end of the
    measure's last local day or the latest end of a monitoring, whichever is later. None:
    someone is still held (an active monitoring, an open case, a certificate to check)."""
    if held.open_case or held.pending_certificate or None in held.monitoring:
        return None
    if held.withdrawn_at is not None:
        return held.withdrawn_at
    measure_over = datetime.combine(held.measure_end + timedelta(days=1), time(), tz)
    return max([measure_over, *held.monitoring])  # type: ignore[list-item]


def due(held: Held, now: datetime, days: int, tz: ZoneInfo) -> bool:
    """Whether the report's personal data goes now: ``days`` full days after its release."""
    released = released_at(held, tz)
    return released is not None and now - released >= timedelta(days=days)


def measure_cutoff(now: datetime, days: int, tz: ZoneInfo) -> date:
    """The latest measure end date a report can have and be due: no report whose measure
    ends after it is read at all (the daily run stays cheap)."""
    return (now - timedelta(days=days)).astimezone(tz).date() - timedelta(days=1)


def tipster_forgotten(tip_state: str, told_state: str | None) -> bool:
    """A tip loses its tipster once closed and the tipster's closing message is no longer
    waiting to go (sent, or given up: nothing more will be sent to them). ``told_state``:
    that message's outbox state, None when none was queued."""
    return tip_state == "closed" and (told_state is None or told_state not in WAITING)


def closed_due(state: str, closed_at: datetime | None, now: datetime, days: int) -> bool:
    """Whether a tip or a case with no report loses its personal data now: ``days`` full days
    after it was closed. Never while open; a closed one whose closing time is unknown is
    kept: when it is due cannot be told, and data kept can still be purged later."""
    return state == "closed" and closed_at is not None and now - closed_at >= timedelta(days=days)
