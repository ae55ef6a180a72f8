"""Who may do what: roles, the acting user, and every permission decision in one place.

Pure: an ``Actor`` is built by ``handlers.access`` from the config, the staff table and the
leadership chat's membership; the functions here only compare scopes.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

ROLE_WORKER = "worker"
ROLE_VILLAGE_ADMIN = "village_admin"
ROLE_SITE_MANAGER = "site_manager"  # scope: an isolation site's id
ROLE_DISPATCHER = "dispatcher"  # scope: "*", the town's transfer vehicles
ROLE_CREW = "crew"  # scope: a vehicle's id
ROLE_UNIT = "unit"  # a key unit's or venue's liaison (联络员); scope: the unit's id
STAFF_ROLES = (
    ROLE_WORKER, ROLE_VILLAGE_ADMIN, ROLE_SITE_MANAGER, ROLE_DISPATCHER, ROLE_CREW, ROLE_UNIT
)  # fmt: skip
TOWN_SCOPE = "*"  # the scope of a role over the whole town (a dispatcher's)
SOURCE_CONFIG = "config"  # a staff row listed in the config file (storage.staff.seed_from_config)

INVITE_PREFIX = "inv-"
INVITE_HOURS = 72  # how long a staff invite, or a roster join link, may be opened
INVITE_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,60}")  # "inv-" + token fits a 64-byte payload

VillageOf = Callable[[str], str | None]  # grid id -> its village id (None: unknown grid)


@dataclass(frozen=True)
class Actor:
    user_id: int
    is_admin: bool = False
    is_leader: bool = False
    worker_grids: frozenset[str] = frozenset()
    admin_villages: frozenset[str] = frozenset()
    site_ids: frozenset[str] = frozenset()  # isolation sites managed
    is_dispatcher: bool = False
    crew_vehicles: frozenset[str] = frozenset()
    unit_ids: frozenset[str] = frozenset()  # key units the user is liaison of

    @property
    def is_staff(self) -> bool:
        return bool(
            self.is_admin or self.is_leader or self.worker_grids or self.admin_villages
            or self.site_ids or self.is_dispatcher or self.crew_vehicles or self.unit_ids
        )  # fmt: skip

    @property
    def role(self) -> str:
        """The highest role, for messages and the audit log."""
        if self.is_admin:
            return "admin"
        if self.is_leader:
            return "leader"
        if self.admin_villages:
            return ROLE_VILLAGE_ADMIN
        if self.worker_grids:
            return ROLE_WORKER
        if self.site_ids:
            return ROLE_SITE_MANAGER
        if self.is_dispatcher:
            return ROLE_DISPATCHER
        if self.crew_vehicles:
            return ROLE_CREW
        if self.unit_ids:
            return ROLE_UNIT
        return "resident"


def parse_invite_payload(payload: str | None) -> str | None:
    """The token of a ``/start inv-<token>`` deep link, or None when it is not an invite."""
    if not payload or not payload.startswith(INVITE_PREFIX):
        return None
    token = payload[len(INVITE_PREFIX) :]
    return token if INVITE_TOKEN.fullmatch(token) else None


def _town_wide(actor: Actor) -> bool:
    return actor.is_admin or actor.is_leader


def holds_grid(actor: Actor, grid_id: str, village_of: VillageOf) -> bool:
    """Works in the grid: a worker holding it, or the admin of its village."""
    if grid_id in actor.worker_grids:
        return True
    village = village_of(grid_id)
    return village is not None and village in actor.admin_villages


def can_see_grid(actor: Actor, grid_id: str, village_of: VillageOf) -> bool:
    """See the grid's records in full (private chat) and its coverage."""
    return _town_wide(actor) or holds_grid(actor, grid_id, village_of)


def can_manage_regions(actor: Actor) -> bool:
    """List, add, change or end key regions (/regions): the town's leaders and admins."""
    return _town_wide(actor)


def can_verify(actor: Actor, grid_id: str, village_of: VillageOf) -> bool:
    """Act on a record of the grid — verify, correct or escalate it, change its monitoring,
    record a test: its staff, and admins. Leaders read."""
    return actor.is_admin or holds_grid(actor, grid_id, village_of)


def can_report_case(actor: Actor, grid_id: str, village_of: VillageOf) -> bool:
    """Report a discovered case in the grid (/case): its staff, and the town's leaders and
    admins — a case is an alert, and whoever of the town's command learns of one raises it;
    a worker of another grid does not (the grid's own staff answer for it)."""
    return can_see_grid(actor, grid_id, village_of)


# Add to, read and complete the contact list of a case in the grid: the staff who answer for
# the case (its grid's, the town's leaders and admins), as for reporting it.
can_trace = can_report_case


def can_visit(actor: Actor, grid_id: str, village_of: VillageOf) -> bool:
    """Record a door-to-door visit (入户排查) in the grid."""
    return holds_grid(actor, grid_id, village_of)


def has_inbox(actor: Actor) -> bool:
    return actor.is_admin or bool(actor.worker_grids or actor.admin_villages)


def inbox_grids(
    actor: Actor, grids_of: Callable[[str], tuple[str, ...]], all_grids: tuple[str, ...]
) -> tuple[str, ...]:
    """The grids whose pending records the actor's /tasks lists, in config order."""
    if actor.is_admin:
        return all_grids
    return tuple(
        g
        for g in all_grids
        if g in actor.worker_grids or any(g in grids_of(v) for v in actor.admin_villages)
    )


def visible_grids(
    actor: Actor, grids_of: Callable[[str], tuple[str, ...]], all_grids: tuple[str, ...]
) -> tuple[str, ...]:
    """The grids whose coverage (/visits) the actor may see."""
    if _town_wide(actor):
        return all_grids
    return inbox_grids(actor, grids_of, all_grids)


def can_manage_staff(actor: Actor, village_id: str | None = None) -> bool:
    """List, move and revoke staff: admins anywhere, village admins in their village
    (``village_id`` None: anywhere at all, e.g. to open /staff)."""
    if actor.is_admin:
        return True
    if village_id is None:
        return bool(actor.admin_villages)
    return village_id in actor.admin_villages


def can_manage_member(actor: Actor, role: str, village_id: str | None, source: str) -> bool:
    """Move or revoke one staff member: never one listed in the config (the file is where
    they are changed); admins any other; a village admin the workers of their own village,
    not a peer village admin."""
    if source == SOURCE_CONFIG:
        return False
    if actor.is_admin:
        return True
    return role == ROLE_WORKER and village_id is not None and village_id in actor.admin_villages


def can_invite(actor: Actor, role: str, village_id: str | None) -> bool:
    """Admins invite anyone (a site manager, dispatcher or crew too); village admins invite
    workers, and units' liaisons, for their own village (``village_id``: the unit's); leaders
    a liaison of any unit (the town's key units answer to them)."""
    if role not in STAFF_ROLES:
        return False
    if actor.is_admin or (role == ROLE_UNIT and actor.is_leader):
        return True
    if role not in (ROLE_WORKER, ROLE_UNIT):
        return False
    if village_id is None:
        return bool(actor.admin_villages)
    return village_id in actor.admin_villages


def can_view_sites(actor: Actor) -> bool:
    """/sites: the town's leaders and admins see every site, a site manager their own."""
    return _town_wide(actor) or bool(actor.site_ids)


def can_edit_sites(actor: Actor) -> bool:
    """Add a site, change its name, address, rooms or capacity, close or reopen it: admins."""
    return actor.is_admin


def can_order_activation(actor: Actor) -> bool:
    """Order a reserved site activated (the 24-hour countdown starts): leaders and admins."""
    return _town_wide(actor)


def can_manage_site(actor: Actor, site_id: str) -> bool:
    """Act at the site — tick its activation checklist, confirm arrivals and releases, record
    tests: its managers, and admins. A manager of another site may not (refused, audited)."""
    return actor.is_admin or site_id in actor.site_ids


# Assign a person of the grid to an isolation site and room, and ask their transfer: the
# grid's staff, and the town's leaders and admins (who answer for the whole chain).
can_isolate = can_see_grid


def can_dispatch(actor: Actor) -> bool:
    """Assign transfer requests to vehicles: the dispatchers, and admins."""
    return actor.is_admin or actor.is_dispatcher


def can_crew(actor: Actor, vehicle_id: str) -> bool:
    """Acknowledge, pick up and deliver a transfer of the vehicle: its crew, and admins."""
    return actor.is_admin or vehicle_id in actor.crew_vehicles


def can_liaise(actor: Actor, unit_id: str) -> bool:
    """Act for a key unit — register its people, import them, file its daily report: its
    liaisons, and admins. A liaison of another unit may not (refused, audited); leaders and
    the unit's grid staff read its figures, they do not file for it."""
    return actor.is_admin or unit_id in actor.unit_ids


def can_file_unit_report(actor: Actor, unit_id: str, village_id: str, grid_id: str | None) -> bool:
    """File a key unit's daily report (单位日报): whoever may act for it (``can_liaise``), and
    the staff who follow it — its grid's workers, its village's admins —, who phone a unit
    with no liaison in the bot and file what they were told."""
    return (
        can_liaise(actor, unit_id)
        or (grid_id is not None and grid_id in actor.worker_grids)
        or village_id in actor.admin_villages
    )


def can_view_unit(
    actor: Actor, unit_id: str, village_id: str, grid_id: str | None, village_of: VillageOf
) -> bool:
    """See a key unit's card and figures: the town's leaders and admins, its village's
    admins, the workers of the grid that follows it, and its own liaisons."""
    return (
        _town_wide(actor)
        or village_id in actor.admin_villages
        or (grid_id is not None and holds_grid(actor, grid_id, village_of))
        or unit_id in actor.unit_ids
    )


def can_list_units(actor: Actor) -> bool:
    """/units: leaders and admins (every unit), village admins (their villages'), grid workers
    (their grids'), liaisons (their own)."""
    return _town_wide(actor) or bool(actor.admin_villages or actor.worker_grids or actor.unit_ids)


def can_mark_monitored(actor: Actor) -> bool:
    """Put a unit under key monitoring (重点监测) or take it off: the leaders (and admins)."""
    return _town_wide(actor)


def new_invite_token() -> str:
    """22 url-safe characters (128 bits): unguessable, and ``inv-`` + it fits a payload."""
    return secrets.token_urlsafe(16)


def invite_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={INVITE_PREFIX}{token}"


ACK_LEVELS = (
    "assignee",
    "village_admin",
    "leadership",
)  # bot.runtime.escalation's ladder, climbing


def can_acknowledge(
    actor: Actor,
    reached: str | None,
    grid_id: str | None,
    village_id: str,
    village_of: VillageOf,
    assignee: Callable[[Actor], bool] | None = None,
) -> bool:
    """Press "收到" on an escalated item: the recipients of the level it has reached and those
    above — the item's assignees while it is with them (the grid's workers, or ``assignee``
    where the kind has others: a site's managers, the dispatchers or a vehicle's crew), the
    village's admins up to theirs, leaders and admins always."""
    needed = ACK_LEVELS.index(reached) if reached in ACK_LEVELS else 0
    if _town_wide(actor):
        return True
    village = village_of(grid_id) if grid_id else village_id
    if village_id in actor.admin_villages or village in actor.admin_villages:
        return needed <= 1
    if needed != 0:
        return False
    if assignee is not None:
        return assignee(actor)
    return grid_id is not None and grid_id in actor.worker_grids
