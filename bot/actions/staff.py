"""Staff actions: invites made, bound and revoked, workers moved and revoked, the roster
viewed. Each is one transaction with its audit row (and its outbox row where someone is told).
Who may do what is decided by the caller with bot.domain.roles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.actions import sites
from bot.actions.roster import ensure_for_staff
from bot.domain import roles
from bot.runtime.services import Services
from storage import audit, drafts, outbox, staff
from storage import sites as site_store
from storage import units as unit_store
from storage import vehicles as vehicle_store

Row = Any  # a staff or invite row: mapping access by column name


@dataclass(frozen=True)
class Scopes:
    grids: frozenset[str]  # held as a worker
    villages: frozenset[str]  # held as a village admin
    sites: frozenset[str] = frozenset()  # isolation sites managed
    dispatcher: bool = False
    vehicles: frozenset[str] = frozenset()  # held as crew
    units: frozenset[str] = frozenset()  # key units held as liaison

    @property
    def grid_staff(self) -> bool:
        """Works in grids: a worker or a village admin."""
        return bool(self.grids or self.villages)

    @property
    def any(self) -> bool:
        return self.grid_staff or bool(self.sites or self.dispatcher or self.vehicles or self.units)


@dataclass(frozen=True)
class Roster:
    members: list[Row]
    invites: list[Row]  # unused and unexpired


ScopeNames = Mapping[str, Mapping[str, str]]  # role -> scope id -> its name (``scope_names``)


def scope_label(services: Services, role: str, scope: str, names: ScopeNames | None = None) -> str:
    """By name: a worker's grid ("先锋社区 第1网格"), a village admin's village, a site
    manager's site, a crew's vehicle (its plate), a dispatcher's town. A site's or a
    vehicle's name is read from ``names`` (``scope_names``: the database's rows, those added
    in chat too); the id itself where it is unknown."""
    if role == roles.ROLE_WORKER:
        found = services.config.grid(scope)
        return f"{found[0].name} {found[1].name}" if found else scope
    if role in (roles.ROLE_SITE_MANAGER, roles.ROLE_CREW, roles.ROLE_UNIT):
        return (names or {}).get(role, {}).get(scope) or scope
    if role == roles.ROLE_DISPATCHER:
        return services.config.town.name
    village = services.config.village(scope)
    return village.name if village else scope


async def scope_names(services: Services) -> dict[str, dict[str, str]]:
    """The sites' names and the vehicles' plates by id, for ``scope_label``: the database's
    rows (config-listed and added in chat), and the config's own not seeded yet (the bot
    has not started since they were listed)."""
    config = services.config
    sites = {s.id: s.name for s in config.sites}
    sites |= {r["id"]: r["name"] for r in await site_store.listed(services.db)}
    vehicles = {v.id: v.plate for v in config.vehicles}
    vehicles |= {r["id"]: r["plate"] for r in await vehicle_store.all_(services.db)}
    return {
        roles.ROLE_SITE_MANAGER: sites,
        roles.ROLE_CREW: vehicles,
        roles.ROLE_UNIT: await _unit_names(services),
    }


async def _unit_names(services: Services) -> dict[str, str]:
    """The active units by id (the config's not seeded yet too)."""
    listed = {u.id: u.name for u in services.config.key_units}
    return listed | {r["id"]: r["name"] for r in await unit_store.active(services.db)}


async def invitable(services: Services, role: str) -> dict[str, str]:
    """What a site manager, a crew or a unit's liaison may be invited for, id -> name: every
    site not closed, every vehicle, every active unit — config-listed and added in chat alike
    (the config's own not seeded yet too); {} for other roles."""
    if role == roles.ROLE_SITE_MANAGER:
        seeded = await site_store.ids(services.db)
        unseeded = {s.id: s.name for s in services.config.sites if s.id not in seeded}
        return unseeded | await sites.open_sites(services)
    if role == roles.ROLE_CREW:
        return (await scope_names(services))[roles.ROLE_CREW]
    if role == roles.ROLE_UNIT:
        return await _unit_names(services)
    return {}


async def scopes(services: Services, user_id: int) -> Scopes:
    """Read on every call, so a revoked worker loses access at once."""
    held = await staff.held(services.db, user_id)
    none: frozenset[str] = frozenset()
    return Scopes(
        grids=held.get(roles.ROLE_WORKER, none),
        villages=held.get(roles.ROLE_VILLAGE_ADMIN, none),
        sites=held.get(roles.ROLE_SITE_MANAGER, none),
        dispatcher=roles.ROLE_DISPATCHER in held,
        vehicles=held.get(roles.ROLE_CREW, none),
        units=held.get(roles.ROLE_UNIT, none),
    )


async def make_invite(
    services: Services,
    role: str,
    scope: str,
    created_by: int | None,
    hours: float = roles.INVITE_HOURS,
) -> str:
    """Store a new single-use invite (with its audit row); returns its token."""
    token = roles.new_invite_token()
    now = services.now()
    async with services.db.write() as conn:
        await staff.create_invite(
            conn, token, role, scope, created_by, now, now + timedelta(hours=hours)
        )
        await audit.record(
            conn, now, created_by, "invite.create", f"invite:{token[:8]}", f"{role}:{scope}"
        )
    return token


async def usable_invite(services: Services, token: str) -> Row | None:
    return await staff.usable_invite(services.db, token, services.now())


async def invite(services: Services, token: str) -> Row | None:
    """An invite whatever its state (for the revoke button's permission check)."""
    return await staff.get_invite(services.db, token)


async def refuse_invite(services: Services, user_id: int, token: str) -> None:
    """An unknown, used, expired or revoked invite was opened: audited, never explained."""
    async with services.db.write() as conn:
        await audit.record(conn, services.now(), user_id, "denied:invite", f"invite:{token[:8]}")


async def bind(
    services: Services, user_id: int, draft_token: str, answers: dict[str, Any]
) -> Row | bool | None:
    """The invite conversation's end: the draft closes and the invite binds its user, together.
    Returns the invite bound; None when it could not be used (then audited as refused); False
    when the draft had ended already (a double tap: bound before)."""
    now = services.now()
    async with services.db.write() as conn:
        if not await drafts.delete(conn, user_id, draft_token):
            return False
        bound = await staff.use_invite(
            conn, answers["token"], user_id, answers["name"], answers["phone"], now
        )
        what = f"{bound['role']}:{bound['scope']}" if bound else None
        action, subject = (
            ("staff.bind", f"user:{user_id}")
            if bound
            else ("denied:invite", f"invite:{answers['token'][:8]}")
        )
        await audit.record(conn, now, user_id, action, subject, what)
        if bound:  # on the roster (人员档案) from now on, as everyone on staff
            pair = [(bound["role"], bound["scope"])]
            await ensure_for_staff(conn, user_id, pair, services.config.grid_villages(), now)
    return bound


async def revoke_invite(services: Services, actor_id: int, token: str) -> bool:
    now = services.now()
    async with services.db.write() as conn:
        done = await staff.revoke_invite(conn, token, now)
        if done:
            await audit.record(conn, now, actor_id, "invite.revoke", f"invite:{token[:8]}")
    return done


async def roster(services: Services, actor_id: int) -> Roster:
    """Active staff and open invites, the view audited (``view:staff``); the caller keeps the
    rows the actor may manage."""
    members = await staff.active(services.db)
    invites = await staff.open_invites(services.db, services.now(), limit=20)
    async with services.db.write() as conn:
        await audit.record(conn, services.now(), actor_id, "view:staff")
    return Roster(members, invites)


async def member(services: Services, staff_id: int) -> Row | None:
    return await staff.get(services.db, staff_id)


async def move(services: Services, actor_id: int, row: Row, grid: str) -> bool:
    now = services.now()
    async with services.db.write() as conn:
        done = await staff.move(conn, row["id"], grid)
        if done:
            await audit.record(
                conn, now, actor_id, "staff.move", f"staff:{row['id']}", f"{row['scope']}->{grid}"
            )
    return done


async def revoke(services: Services, actor_id: int, row: Row, notice: str) -> Scopes | None:
    """Revoke a staff role and tell its holder (``notice``), together. Returns the roles the
    person still holds, or None when nothing was revoked (revoked meanwhile)."""
    now = services.now()
    async with services.db.write() as conn:
        if not await staff.revoke(conn, row["id"], actor_id, now):
            return None
        await audit.record(
            conn, now, actor_id, "staff.revoke", f"staff:{row['id']}",
            f"{row['role']}:{row['scope']}",
        )  # fmt: skip
        await outbox.enqueue(
            conn, chat_id=row["user_id"], text=notice, now=now,
            dedup_key=f"staff-revoked:{row['id']}", subject=f"staff:{row['id']}",
        )  # fmt: skip
    services.wake_outbox()
    return await scopes(services, row["user_id"])
