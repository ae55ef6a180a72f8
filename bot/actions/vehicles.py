"""Transfer vehicles: the config's seeded at start (their state kept), the list /vehicles
shows, an admin's vehicle added in chat or taken out of service (停用) and back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.config import ConfigError
from bot.domain import vehicles as domain
from bot.domain.callbacks import button, callback, inline_markup
from bot.runtime import escalation
from bot.runtime.services import Services
from storage import audit, drafts
from storage import vehicles as store
from storage.vehicles import NewVehicle

FLOW = "vh"  # v1:vh:<vehicle id>:<state wanted> (an admin's 停用 / 恢复待命)


def subject(vehicle_id: str) -> str:
    return f"vehicle:{vehicle_id}"


def at(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp) if stamp else None


def vehicle_params(services: Services, row: Any, now: datetime) -> dict[str, Any]:
    """A vehicle as the lists and the dispatchers' cards show it: ``free`` to dispatch now."""
    return dict(id=row["id"], plate=row["plate"], kind=row["kind"], state=row["state"],
                crew_name=row["crew_name"] or "", crew_phone=row["crew_phone"] or "",
                free=domain.dispatchable(row["state"], at(row["available_at"]), now),
                available_at=escalation.local(services, row["available_at"]))  # fmt: skip


async def seed(services: Services) -> None:
    """The config's ``[[vehicles]]`` in the table (added, or brought up to date). A listed
    vehicle with the id or the plate of one added in chat stops the start with a
    ConfigError naming its key: the config never takes over a chat vehicle, and skipping it
    would leave its crew (config-listed) without its transfers."""
    listed = [NewVehicle(v.id, v.plate, v.kind, v.crew_name, v.crew_phone)
              for v in services.config.vehicles]  # fmt: skip
    clashes = await store.seed_from_config(services.db, listed, services.now())
    if clashes:
        chat = [(r["id"], r["plate"]) for r in clashes]
        raise ConfigError(domain.chat_clashes([(v.id, v.plate) for v in listed], chat))


async def listing(services: Services, user_id: int) -> list[dict[str, Any]]:
    """Every vehicle with its state (free now, or disinfecting until when); the view of the
    crews' phones audited."""
    now = services.now()
    async with services.db.write() as conn:
        rows = await store.all_(conn)
        await audit.record(conn, now, user_id, "vehicle.list", None, str(len(rows)))
    return [vehicle_params(services, row, now) for row in rows]


def admin_markup(services: Services, locale: str, vehicles: list[dict[str, Any]]) -> dict:
    """An admin's buttons: out of service (停用) for a vehicle not on the road, back on
    standby for one out of service."""
    rows = [
        [button(services.text(locale, "vehicles", f"btn_{wanted}", plate=v["plate"]),
                callback(FLOW, v["id"], wanted))]
        for v in vehicles
        for wanted in domain.SETTABLE.get(v["state"], ())
    ]  # fmt: skip
    return inline_markup(rows)


async def set_state(services: Services, vehicle_id: str, wanted: str, user_id: int) -> bool:
    """An admin's change (停用, or back on standby); False when the vehicle is not in a state
    that allows it (dispatched meanwhile). A disinfection's end is kept through 停用: put
    back before it, the vehicle is disinfecting still (its timer frees it)."""
    now = services.now()
    async with services.db.write() as conn:
        row = await store.get(conn, vehicle_id)
        if row is None or not domain.may_set(row["state"], wanted):
            return False
        until = at(row["available_at"])
        state = domain.back_in_service(until, now) if wanted == domain.AVAILABLE else wanted
        kept = None if state == domain.AVAILABLE else until
        await store.set_state(conn, vehicle_id, state, now, expected=[row["state"]],
                              available_at=kept)  # fmt: skip
        await audit.record(conn, now, user_id, "vehicle.state", subject(vehicle_id), state)
    return True


async def plate_taken(services: Services, plate: str) -> bool:
    return await store.by_plate(services.db, plate) is not None


async def add(services: Services, data: dict[str, Any], user_id: int,
              token: str) -> str | None:  # fmt: skip
    """An admin's vehicle added in chat (the flow's answers; its draft dropped), on standby,
    under the next free id; None when its plate is taken (the draft stays, to change it)."""
    now = services.now()
    async with services.db.write() as conn:
        vehicle_id = domain.next_id({row["id"] for row in await store.all_(conn)})
        vehicle = NewVehicle(vehicle_id, data["plate"], data["kind"], data["crew_name"],
                             data["crew_phone"])  # fmt: skip
        if not await store.add(conn, vehicle, now):
            return None
        await drafts.delete(conn, user_id, token)
        await audit.record(conn, now, user_id, "vehicle.add", subject(vehicle_id), vehicle.plate)
    return vehicle_id
