"""Every kind of durable timer, declared here and nowhere else: ``storage.timers`` refuses to
schedule a kind not in ``KINDS``, and bot/app.py registers a handler for each of them (the bot
refuses to start otherwise), so no timer can be stored that nothing would fire."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    # the escalation ladder (bot.runtime.escalation)
    LADDER_STEP = "ladder.step"
    LADDER_FLUSH = "ladder.flush"
    LADDER_REPEAT = "ladder.repeat"
    # monitoring (bot.actions.monitoring)
    CHECKIN_PROMPT = "checkin.prompt"
    CHECKIN_MISSED = "checkin.missed"
    CHECKIN_ESCALATE = "checkin.escalate"
    TEST_REMIND = "test.remind"
    MONITORING_END = "monitoring.end"
    # the daily digest (bot.actions.digest)
    DIGEST = "digest.send"
    # tips (bot.actions.tips): stored before the ladder replaced it, still fired
    TIP_DEADLINE = "tip.deadline"
    # transfers (bot.actions.transfers): a vehicle's disinfection after a delivery is over
    VEHICLE_AVAILABLE = "vehicle.available"
    # isolation tests (bot.actions.samples): a site's test day, its morning and its end
    SAMPLE_REMIND = "sample.remind"
    SAMPLE_MISSED = "sample.missed"
    # release from isolation (bot.actions.release): the day after a stay's last day
    RELEASE_DUE = "release.due"


KINDS: frozenset[str] = frozenset(Kind)


def check(kind: str) -> None:
    """Raise ValueError for a kind not declared above (``KINDS``)."""
    if kind not in KINDS:
        raise ValueError(f"timer kind {kind!r} is not declared in bot.domain.timers")
