"""Transfers (转运): a request to bring people from an address to an isolation site, its
states and what moves it on, and its climb of the escalation ladder. Pure.

States: requested -> dispatched (a vehicle assigned) -> acknowledged (the crew's 收到) ->
picked_up (已接到) -> delivered (已送达); cancelled from any state before the pick-up (people
on board are delivered, never dropped). The crew may press 已接到 without 收到 first: the
pick-up acknowledges.

The ladder (kind 'transfer', subject ``transfer:<id>``), one climb per stage waiting; each
stage's own people are reminded ``remind_minutes`` before its deadline, the village admin is
told at it, the leadership group ``group_minutes`` after it:
- 'requested': the deadline is the request + ``dispatch_minutes`` (urgent:
  ``urgent_dispatch_minutes``); its people are the dispatchers.
- 'dispatched': the dispatch + ``ack_minutes`` (the issue's 15 minutes) for the crew's 收到.
- 'acknowledged': the 收到 + ``pickup_minutes`` for the crew's 已接到.
- 'picked_up': the pick-up + ``delivery_minutes`` for the crew's 已送达.
The crew is the later stages' people. Each step ends the stage's climb and starts the next
one's; the delivery ends the last; cancelling ends any."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.escalation import Rung
from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_text

KIND = "transfer"  # the escalation kind
URGENCIES = ("normal", "urgent")
REQUESTED, DISPATCHED, ACKNOWLEDGED, PICKED_UP, DELIVERED, CANCELLED = (
    "requested", "dispatched", "acknowledged", "picked_up", "delivered", "cancelled")  # fmt: skip
STATES = (REQUESTED, DISPATCHED, ACKNOWLEDGED, PICKED_UP, DELIVERED, CANCELLED)
EVENTS = ("dispatch", "acknowledge", "pick_up", "deliver", "cancel")
TRANSITIONS = {
    (REQUESTED, "dispatch"): DISPATCHED,
    (DISPATCHED, "acknowledge"): ACKNOWLEDGED,
    (DISPATCHED, "pick_up"): PICKED_UP,
    (ACKNOWLEDGED, "pick_up"): PICKED_UP,
    (PICKED_UP, "deliver"): DELIVERED,
    (REQUESTED, "cancel"): CANCELLED,
    (DISPATCHED, "cancel"): CANCELLED,
    (ACKNOWLEDGED, "cancel"): CANCELLED,
}
OPEN = (REQUESTED, DISPATCHED, ACKNOWLEDGED, PICKED_UP)  # still on the dispatchers' list
ON_THE_ROAD = (DISPATCHED, ACKNOWLEDGED, PICKED_UP)  # the vehicle is taken
CLIMBING = (REQUESTED, DISPATCHED, ACKNOWLEDGED, PICKED_UP)  # the stages the ladder watches
# Each stage after the request: the ``[transfer]`` setting its wait is, from its own time.
WAITS = {DISPATCHED: "ack_minutes", ACKNOWLEDGED: "pickup_minutes",
         PICKED_UP: "delivery_minutes"}  # fmt: skip
REASON_LIMIT = 200  # characters of a cancellation's reason


def after(state: str, event: str) -> str | None:
    """The state ``event`` moves a transfer in ``state`` to; None: not allowed now."""
    return TRANSITIONS.get((state, event))


def deadline(stage: str, since: datetime, urgency: str, minutes: dict[str, int]) -> datetime:
    """When a stage's wait is overdue: ``since`` the stage was reached (the request, the
    dispatch, the 收到, the pick-up); ``minutes`` the ``[transfer]`` settings."""
    if stage in WAITS:
        wait = minutes[WAITS[stage]]
    elif urgency == "urgent":
        wait = minutes["urgent_dispatch_minutes"]
    else:
        wait = minutes["dispatch_minutes"]
    return since + timedelta(minutes=wait)


def ladder(remind_minutes: int, group_minutes: int) -> tuple[Rung, ...]:
    """The stage's own people (dispatchers, or the crew) reminded before the deadline, the
    village admin at it, the leadership group after it."""
    return (
        Rung("assignee", -remind_minutes),
        Rung("village_admin", 0),
        Rung("leadership", group_minutes),
    )


def parse_reason(text: str) -> str | Invalid:
    """A cancellation's reason as typed (cleaned), or why not: empty, too long."""
    return parse_text(text, REASON_LIMIT)
