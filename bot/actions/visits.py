"""Door-to-door screening (入户排查): a household visit recorded in one transaction (the visit,
its audit entry, the leadership group's alert for a fever), and the coverage of the grids."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiosqlite

from bot.domain.roles import Actor
from bot.domain.visits import FEVER, has_fever
from bot.runtime.services import Services
from storage import audit, drafts, outbox, visits
from storage.outbox import PRIORITY_ALERT

COUNTS = ("households", "visits", "refused", "fever", "registered")


@dataclass(frozen=True)
class Visit:
    id: int
    worker: int
    grid_id: str
    address: str
    refused: bool
    people: int | None  # present at home; None when refused
    temperatures: list[float]
    fever: bool
    arrivals: bool  # arrivals found, to register on the spot


@dataclass(frozen=True)
class Coverage:
    rows: list[dict[str, Any]]  # per grid in scope: grid and COUNTS
    total: dict[str, int]


def _visit(row: aiosqlite.Row) -> Visit:
    return Visit(
        id=row["id"],
        worker=row["worker"],
        grid_id=row["grid_id"],
        address=row["address"],
        refused=bool(row["refused"]),
        people=row["people_present"],
        temperatures=json.loads(row["temperatures"]),
        fever=bool(row["fever"]),
        arrivals=bool(row["arrivals"]),
    )


async def get(services: Services, visit_id: int) -> Visit | None:
    row = await visits.get(services.db, visit_id)
    return _visit(row) if row is not None else None


async def record(
    services: Services, actor: Actor, token: str, answers: dict[str, Any]
) -> Visit | None:
    """Store the visit answered in the actor's draft ``token`` and drop the draft; a fever is
    reported to the leadership group at once. None when stored already (a double tap)."""
    now = services.now()
    temperatures = answers.get("temperatures") or []
    new = dict(
        worker=actor.user_id,
        grid_id=answers["grid"],
        address=answers["address"],
        refused=bool(answers.get("refused")),
        people=answers.get("people"),
        temperatures=temperatures,
        fever=has_fever(temperatures),
        arrivals=bool(answers.get("arrivals")),
    )
    async with services.db.write() as conn:
        if not await drafts.delete(conn, actor.user_id, token):
            return None
        visit_id = await visits.store(
            conn, draft_token=token, now=now, note=answers.get("note"), **new
        )
        if visit_id is None:
            return None
        stored = Visit(id=visit_id, **new)
        await audit.record(
            conn, now, actor.user_id, "visit.create", f"visit:{visit_id}", stored.grid_id
        )
        if stored.fever:
            await _fever_alert(conn, services, stored)
    if stored.fever:
        services.wake_outbox()
    return stored


async def _fever_alert(conn: aiosqlite.Connection, services: Services, visit: Visit) -> None:
    village, grid = services.config.grid_names(visit.grid_id)
    alert = services.text(
        services.config.bot.default_locale,
        "visits",
        "fever_alert",
        visit=visit.id,
        village=village,
        grid=grid,
        temperatures=[t for t in visit.temperatures if t >= FEVER],
    )
    await outbox.enqueue(
        conn,
        chat_id=services.config.leadership.chat_id,
        text=alert,
        now=services.now(),
        priority=PRIORITY_ALERT,
        subject=f"visit:{visit.id}",
        dedup_key=f"visit:{visit.id}:fever",
    )


async def coverage(services: Services, actor: Actor, grids: Sequence[str], days: int) -> Coverage:
    """The visits of the last ``days`` per grid (every grid in scope, visited or not); the view
    is audited."""
    since = services.now() - timedelta(days=days)
    found = {r["grid_id"]: r for r in await visits.coverage(services.db, grids, since)}
    rows = [dict(grid=services.config.grid_label(g), **_counts(found.get(g))) for g in grids]
    async with services.db.write() as conn:
        await audit.record(conn, services.now(), actor.user_id, "view:visits", None, str(days))
    return Coverage(rows, {k: sum(r[k] for r in rows) for k in COUNTS})


def _counts(row: aiosqlite.Row | None) -> dict[str, int]:
    """A grid's counts; SQL's SUM over no refusal or no fever is NULL, a grid not visited 0."""
    return {k: (row[k] or 0) if row is not None else 0 for k in COUNTS}
