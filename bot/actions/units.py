"""Key units and venues: seeded from the config, listed for the staff who answer for them,
marked for key monitoring (重点监测) by a leader. Each change is one transaction with its audit
row and its outbox row. Who may do what: bot.domain.roles, decided by the caller; a refusal
is handlers.access.Access.refuse (audited ``denied:unit.<what>``, subject ``unit:<id>``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.actions import unit_reports
from bot.config import Config
from bot.domain import roles
from bot.domain import units as rules
from bot.domain.roles import Actor
from bot.domain.units import UnitSpec
from bot.runtime.services import Services
from storage import audit, outbox
from storage import units as store
from storage.outbox import PRIORITY_ALERT

FLOW = rules.FLOW
Row = Any  # a units row


@dataclass(frozen=True)
class Outcome:
    """What an action did: ``done``, or why not (the template's reason), and the unit."""

    result: str
    unit: dict[str, Any] | None = None


def specs(config: Config) -> list[UnitSpec]:
    return [
        UnitSpec(
            id=u.id,
            name=u.name,
            kind=u.kind,
            village_id=u.village,
            grid_id=u.grid,
            address=u.address,
            headcount=u.headcount,
            note=u.note,
            monitored=u.monitored,
        )
        for u in config.key_units
    ]


async def seed(services: Services) -> None:
    """At start: the config's units (the file's details win; 重点监测 set in chat is kept)."""
    await store.seed_from_config(services.db, specs(services.config), services.now(),
                                 retired=unit_reports.close_retired)  # fmt: skip


def card(services: Services, row: Row, liaisons: int) -> dict[str, Any]:
    """What the templates show of a unit (no personal data: fine for the group)."""
    config = services.config
    village = config.village(row["village_id"])
    return dict(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        venue=rules.is_venue(row["kind"]),
        village=village.name if village else row["village_id"],
        grid=config.grid_names(row["grid_id"])[1] if row["grid_id"] else "",
        address=row["address"],
        headcount=row["headcount"],
        note=row["note"],
        monitored=bool(row["monitored"]),
        liaisons=liaisons,
        active=bool(row["active"]),
    )


def _in_config_order(config: Config, rows: list[Row]) -> list[Row]:
    """As the town lists them: by village, then as the file lists its units (a unit added in
    chat after them, by name)."""
    villages = {v.id: i for i, v in enumerate(config.villages)}
    listed = {u.id: i for i, u in enumerate(config.key_units)}
    last = len(listed)
    return sorted(
        rows,
        key=lambda r: (villages.get(r["village_id"], len(villages)), listed.get(r["id"], last),
                       r["name"]),
    )  # fmt: skip


def may_view(services: Services, actor: Actor, row: Row) -> bool:
    return roles.can_view_unit(
        actor, row["id"], row["village_id"], row["grid_id"], services.config.grid_villages().get
    )


async def visible(services: Services, actor: Actor) -> list[dict[str, Any]]:
    """The active units the actor answers for (/units), by village then name; audited."""
    rows = _in_config_order(services.config, await store.active(services.db))
    counts = await store.liaison_counts(services.db)
    listed = [card(services, r, counts.get(r["id"], 0)) for r in rows
              if may_view(services, actor, r)]  # fmt: skip
    async with services.db.write() as conn:
        await audit.record(conn, services.now(), actor.user_id, "view:units")
    return listed


async def unit(services: Services, unit_id: str) -> Row | None:
    """The unit's row (active or not); None for an id that cannot be one."""
    if not rules.UNIT_ID.fullmatch(unit_id):
        return None
    return await store.get(services.db, unit_id)


async def unit_card(services: Services, actor: Actor, row: Row) -> dict[str, Any]:
    """One unit's card, the view audited."""
    liaisons = len(await store.liaisons(services.db, row["id"]))
    async with services.db.write() as conn:
        await audit.record(
            conn, services.now(), actor.user_id, "view:unit", rules.subject(row["id"])
        )
    return card(services, row, liaisons)


async def invitable(services: Services, actor: Actor) -> dict[str, str]:
    """The active units the actor may invite a liaison for, id -> name: leaders and admins
    every one, a village admin their villages'."""
    return {
        r["id"]: r["name"]
        for r in _in_config_order(services.config, await store.active(services.db))
        if roles.can_invite(actor, roles.ROLE_UNIT, r["village_id"])
    }


# -- key monitoring --------------------------------------------------------------------------


async def set_monitored(services: Services, unit_id: str, on: bool, user_id: int) -> Outcome:
    """A leader puts a unit under key monitoring (its daily report twice a day, its figures in
    the group's daily report) or takes it off: stored, audited and the group told in one
    line, together. ``same``: it already was so (a double tap), nothing sent."""
    now = services.now()
    async with services.db.write() as conn:
        if not await store.set_monitored(conn, unit_id, on, user_id, now):
            row = await store.get(conn, unit_id)
            result = "same" if row is not None and row["active"] else "unknown"
            return Outcome(result, card(services, row, 0) if row else None)
        row = await store.get(conn, unit_id)
        shown = card(services, row, len(await store.liaisons(conn, unit_id)))
        subject, locale = rules.subject(unit_id), services.config.bot.default_locale
        await audit.record(conn, now, user_id, "unit.monitor" if on else "unit.unmonitor", subject)
        await outbox.enqueue(
            conn,
            chat_id=services.config.leadership.chat_id,
            now=now,
            priority=PRIORITY_ALERT,
            text=services.text(locale, "units", "group_monitored", u=shown),
            subject=subject,
            dedup_key=f"unit-monitor:{unit_id}:{int(on)}:{now.isoformat()}",
        )
    services.wake_outbox()
    return Outcome("done", shown)
