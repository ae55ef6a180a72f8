"""A grid worker's verification (核实) of an arrival report: checked and confirmed with the
measure to apply, information wrong (the reporter is asked to correct it), or escalated to the
leadership group. Each one transaction: the verification, the review state, the stop of the
report's escalation ladder, the message out and the audit entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import aiosqlite

from bot.actions.inbox import Report, escalate_offer
from bot.actions.monitoring import restart_monitoring
from bot.domain.risk import MeasurePlan, plan_measure
from bot.domain.roles import Actor
from bot.runtime import cards, escalation
from bot.runtime.services import Services
from storage import arrivals, audit, drafts, inbox, outbox
from storage.outbox import PRIORITY_ALERT

CHECKS = {"both": (True, True), "code": (True, False), "none": (False, False)}


@dataclass(frozen=True)
class Review:
    done: bool  # False: reviewed by someone else meanwhile, or withdrawn or updated
    plan: MeasurePlan | None = None  # the measure confirmed


def _measure_plan(services: Services, report: Report, kind: str, start: date) -> MeasurePlan:
    """The measure the worker confirmed, from ``start``: as configured for its kind; a kind no
    longer configured keeps the report's own duration, without test days."""
    configured = next((m for m in services.config.measures.values() if m.kind == kind), None)
    if configured is not None:
        return plan_measure(configured, start)
    days = (report.measure_end - report.measure_start).days + 1
    return MeasurePlan(kind, start, start + timedelta(days=max(days - 1, 0)), ())


async def verify(
    services: Services, actor: Actor, report: Report, token: str, answers: dict[str, Any]
) -> Review | None:
    """Checked and confirmed: the measure (and the monitoring that follows it) from the
    answers. ``token``: the actor's verify draft, dropped in the same transaction; None when
    it was gone already (a double tap)."""
    plan = _measure_plan(services, report, answers["measure"], date.fromisoformat(answers["start"]))
    return await _review(services, actor, report, token, answers, "verified", plan)


async def mark_wrong(
    services: Services, actor: Actor, report: Report, token: str, answers: dict[str, Any]
) -> Review | None:
    """Information wrong: the reporter is told what to correct (the answers' note)."""
    return await _review(services, actor, report, token, answers, "wrong", None)


async def _review(
    services: Services,
    actor: Actor,
    report: Report,
    token: str,
    answers: dict[str, Any],
    outcome: str,
    plan: MeasurePlan | None,
) -> Review | None:
    now, note = services.now(), answers.get("note")
    async with services.db.write() as conn:
        if not await drafts.delete(conn, actor.user_id, token):
            return None
        # the version the worker saw: a report updated since then is not verified blind
        done = await inbox.record(
            conn,
            report.id,
            answers["version"],
            actor.user_id,
            outcome,
            now,
            checks=CHECKS.get(answers.get("checks"), (None, None)),
            measure=plan,
            note=note,
        )
        if done:
            await audit.record(conn, now, actor.user_id, f"report.{outcome}", report.subject, note)
            await escalation.stop(conn, report.subject, now)
            await _retire_cards(conn, services, report, outcome)
            await _tell_reporter(conn, services, report, outcome, plan, note)
            if plan is not None:  # monitoring follows the measure the worker confirmed
                await restart_monitoring(conn, services, report.id, plan, now)
    if done:
        services.wake_outbox()
    return Review(done, plan)


async def _retire_cards(
    conn: aiosqlite.Connection, services: Services, report: Report, outcome: str
) -> None:
    """Every card and list that offered this report's buttons loses them; a card, the
    outcome under it."""
    now = services.now()
    await cards.retire(conn, escalate_offer(report.subject), now)
    await cards.retire(conn, report.subject, now,
                       default_locale=services.config.bot.default_locale,
                       note=lambda locale: services.text(locale, "inbox", "settled", ref=report.ref,
                                                         outcome=outcome))  # fmt: skip


async def _tell_reporter(
    conn: aiosqlite.Connection,
    services: Services,
    report: Report,
    outcome: str,
    plan: MeasurePlan | None,
    note: str | None,
) -> None:
    text = services.text(
        report.locale,
        "inbox",
        f"reporter_{outcome}",
        ref=report.ref,
        note=note,
        measure=plan.kind if plan else None,
        start=plan.start if plan else None,
        end=plan.end if plan else None,
    )
    await outbox.enqueue(
        conn,
        chat_id=report.reporter_chat_id,
        text=text,
        now=services.now(),
        subject=report.subject,
        dedup_key=f"{report.subject}:v{report.version}:{outcome}",
    )


async def escalate(services: Services, actor: Actor, report: Report) -> bool:
    """To the leadership group for a decision (masked: a group chat); the report stays in the
    inbox to be verified. False when it was reviewed meanwhile."""
    now = services.now()
    async with services.db.write() as conn:
        if not await inbox.record(conn, report.id, report.version, actor.user_id, "escalated", now):
            return False
        await audit.record(conn, now, actor.user_id, "report.escalated", report.subject)
        await escalation.stop(conn, report.subject, now)
        await cards.retire(conn, escalate_offer(report.subject), now)
        await outbox.enqueue(
            conn,
            chat_id=services.config.leadership.chat_id,
            text=await _group_alert(conn, services, report),
            now=now,
            priority=PRIORITY_ALERT,
            subject=report.subject,
            dedup_key=f"{report.subject}:v{report.version}:escalated",
        )
    services.wake_outbox()
    return True


async def _group_alert(conn: aiosqlite.Connection, services: Services, report: Report) -> str:
    people = await arrivals.people(conn, report.id)
    main = people[0]
    village, grid = services.config.grid_names(report.grid_id)
    return services.text(
        services.config.bot.default_locale,
        "inbox",
        "escalation",
        ref=report.ref,
        village=village,
        grid=grid,
        name=main.name,
        phone=main.phone,
        id_number=main.id_number,
        people=len(people),
        arrival=report.arrival,
        risk=report.risk,
        measure=report.measure_kind,
    )
