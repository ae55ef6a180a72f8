"""The worker's inbox (待办): the arrival reports awaiting verification in the worker's grids,
and a report's card with its full details. Both are staff views of personal data, so each is
audited; the verification itself is in bot.actions.verification."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import aiosqlite

from bot.domain.roles import Actor
from bot.runtime.services import Services
from storage import arrivals, audit, inbox, outbox


@dataclass(frozen=True)
class Report:
    """What the inbox and the verification need of one arrival report."""

    id: int
    ref: str
    version: int
    state: str
    review: str
    grid_id: str
    address: str
    arrival: date
    risk: str
    measure_kind: str
    measure_start: date
    measure_end: date
    data: dict[str, Any]
    locale: str
    reporter_chat_id: int

    @property
    def subject(self) -> str:
        return f"report:{self.id}"

    @property
    def awaiting_review(self) -> bool:
        return self.state == "open" and self.review in inbox.PENDING


@dataclass(frozen=True)
class Task:
    report_id: int
    params: dict[str, Any]  # the task's line: ref, name, grid, arrival, alert, review


@dataclass(frozen=True)
class Tasks:
    total: int
    grids: list[dict[str, Any]]  # grid, count: the grids with reports waiting
    items: list[Task]  # the highest risk first, then the oldest first


def _report(row: aiosqlite.Row) -> Report:
    return Report(
        id=row["id"],
        ref=row["ref"],
        version=row["version"],
        state=row["state"],
        review=row["review"],
        grid_id=row["grid_id"],
        address=row["address"],
        arrival=date.fromisoformat(row["arrival_date"]),
        risk=row["risk"],
        measure_kind=row["measure_kind"],
        measure_start=date.fromisoformat(row["measure_start"]),
        measure_end=date.fromisoformat(row["measure_end"]),
        data=json.loads(row["data"]),
        locale=row["locale"],
        reporter_chat_id=row["reporter_chat_id"],
    )


async def report(services: Services, report_id: int) -> Report | None:
    """A plain read, for deciding who may act on the report: it shows nothing to anyone."""
    row = await inbox.report(services.db, report_id)
    return _report(row) if row is not None else None


async def tasks(services: Services, actor: Actor, grids: Sequence[str]) -> Tasks:
    """The reports awaiting verification in these grids; the view is audited (it lists names)."""
    counts = await inbox.counts(services.db, grids)
    rows = await inbox.pending(services.db, grids)
    async with services.db.write() as conn:
        scope = "*" if actor.is_admin else ",".join(grids)
        await audit.record(conn, services.now(), actor.user_id, "view:tasks", None, scope)
    items = [
        Task(
            r["id"],
            dict(
                ref=r["ref"],
                name=r["person_name"],
                grid=services.config.grid_names(r["grid_id"])[1],
                arrival=date.fromisoformat(r["arrival_date"]),
                alert=bool(r["alert"]),
                review=r["review"],
            ),
        )
        for r in rows
    ]
    per_grid = [
        dict(grid=services.config.grid_label(g), count=counts[g]) for g in grids if counts.get(g)
    ]
    return Tasks(sum(counts.values()), per_grid, items)


async def view_card(services: Services, actor: Actor, report: Report) -> dict[str, Any]:
    """The card's full details (the ``card`` template's parameters); the view is audited."""
    people = await arrivals.people(services.db, report.id)
    async with services.db.write() as conn:
        await audit.record(
            conn, services.now(), actor.user_id, f"view:{report.subject}", report.subject
        )
    village, grid = services.config.grid_names(report.grid_id)
    return dict(
        ref=report.ref,
        village=village,
        grid=grid,
        address=report.address,
        people=people,
        data=report.data,
        arrival=report.arrival,
        risk=report.risk,
        measure=report.measure_kind,
        start=report.measure_start,
        end=report.measure_end,
        review=report.review,
        state=report.state,
    )


def escalate_offer(subject: str) -> str:
    """The card's escalate button is offered apart: escalating takes only it off."""
    return f"{subject}:esc"


async def shown(
    services: Services, chat_id: int, message_id: int, text: str, markup: dict[str, Any],
    offers: dict[str, list[str]],
) -> None:  # fmt: skip
    """A card or /tasks list a worker was shown in reply (not pushed): recorded as delivered,
    with the buttons it offers per report (``offers``), so that handling a report takes its
    buttons off it (bot.runtime.cards)."""
    key = f"shown:{chat_id}:{message_id}"
    async with services.db.write() as conn:
        await outbox.record_sent(conn, key=key, chat_id=chat_id, message_id=message_id,
                                 text=text, reply_markup=markup, now=services.now())  # fmt: skip
        for subject, data in offers.items():
            await outbox.offer(conn, key, subject, data)
