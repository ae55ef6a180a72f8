"""Staff filed by category (分类建档): an admin files a person and gets their join link, the
person binds it, staff get a file of their own, files are edited (by the person in /me, by
admins in /staff) and listed. One transaction each, with its audit row. Who may do what is
decided by the caller with bot.domain.roster."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from bot.domain import roles
from bot.domain import roster as domain
from bot.runtime.services import Services
from storage import audit, drafts, staff
from storage import roster as store

FLOW = "rs"  # the roster's buttons: v1:rs:...
Row = Any  # a roster row: mapping access by column name


@dataclass(frozen=True)
class Filed:
    roster_id: int
    token: str


@dataclass(frozen=True)
class Listing:
    people: list[Row]
    counts: list[Row]  # (village_id, category, people)


def names(services: Services, locale: str, kind: str) -> dict[str, str]:
    """The configured categories (``kind`` "category") or skills ("skill") -> their names in
    ``locale``, in the config's order: the config's own name, else the template's."""
    settings = services.config.staff
    kinds = settings.categories if kind == "category" else settings.skills
    return {k.id: _name(services, locale, kind, k.id, k.name, k.name_en) for k in kinds}


def _name(services: Services, locale: str, kind: str, ident: str, name: str, name_en: str) -> str:
    given = name_en if locale == "en" else name
    return given or services.text(locale, "roster", f"{kind}_name", id=ident)


async def file(services: Services, actor_id: int, draft_token: str, data: Mapping[str, Any],
               hours: float = roles.INVITE_HOURS) -> Filed | None:  # fmt: skip
    """The 人员档案 form's end: the draft closes and the person is filed with a join link,
    together. None when the draft had ended already (a double tap: filed before)."""
    now = services.now()
    token = roles.new_invite_token()
    person = store.NewPerson(
        name=data["name"], phone=data["phone"], category=data["category"],
        village_id=data["village_id"], grid_id=data.get("grid_id"),
        skills=tuple(data.get("skills", ())), availability=data["availability"],
    )  # fmt: skip
    async with services.db.write() as conn:
        if not await drafts.delete(conn, actor_id, draft_token):
            return None
        roster_id = await store.add(conn, person, actor_id, now, token=token,
                                    token_expires_at=now + timedelta(hours=hours))  # fmt: skip
        await audit.record(conn, now, actor_id, "roster.add", f"roster:{roster_id}",
                           f"{person.category}:{person.village_id}")  # fmt: skip
    return Filed(roster_id, token)


@dataclass(frozen=True)
class Joining:
    """A join link opened or confirmed: ``outcome`` ASK (``row``: the link's file, for the
    user to confirm it is theirs), BOUND (``row``: now theirs), FILED (``row``: the user's
    own file an admin made, which stands) or INVALID (unknown, used or expired)."""

    outcome: str
    row: Row | None = None


ASK, BOUND, FILED, INVALID = "ask", "bound", "filed", "invalid"


async def opened(services: Services, user_id: int, token: str) -> Joining:
    """A join link opened: its file, for 是我 / 不是我 (nothing bound yet: a link forwarded
    to the wrong person stays usable), or why it cannot be used (audited as refused)."""
    return await _joining(services, user_id, token, bind=False)


async def join(services: Services, user_id: int, token: str) -> Joining:
    """是我: the link's person is bound to this Telegram user, once (the link used up); a
    file made automatically for them is retired, one an admin made is not (refused)."""
    return await _joining(services, user_id, token, bind=True)


async def _joining(services: Services, user_id: int, token: str, *, bind: bool) -> Joining:
    now = services.now()
    async with services.db.write() as conn:
        target, own = await store.joinable(conn, token, now), await store.by_user(conn, user_id)
        if target is None or domain.keeps_own_file(own):
            await audit.record(conn, now, user_id, "denied:roster_join", f"join:{token[:8]}",
                               None if target is None else f"roster:{own['id']}")  # fmt: skip
            return Joining(INVALID) if target is None else Joining(FILED, own)
        if not bind:
            return Joining(ASK, target)
        bound = await store.bind(conn, token, user_id, now)
        await audit.record(conn, now, user_id, "roster.bind", f"roster:{bound['id']}")
    return Joining(BOUND, bound)


async def ensure_for_staff(
    conn: aiosqlite.Connection, user_id: int, held: Iterable[tuple[str, str]],
    village_of: Mapping[str, str], now: datetime,
) -> Row | None:  # fmt: skip
    """The user's file; made (audited) for staff who have none: their category from their
    role (a worker is a 网格员; others asked in /me), their village and grid from their
    scope, their name and phone as given when they joined. ``held``: (role, scope) pairs.
    Inside the caller's write transaction."""
    own = await store.by_user(conn, user_id)
    # a unit's liaison is the unit's own person, not the town's staff
    held = [(role, scope) for role, scope in held if role != roles.ROLE_UNIT]
    if own is not None or not held:
        return own
    grids = sorted(scope for role, scope in held if role == roles.ROLE_WORKER)
    villages = sorted(scope for role, scope in held if role == roles.ROLE_VILLAGE_ADMIN)
    village = villages[0] if villages else village_of.get(grids[0]) if grids else None
    known = await store.staff_person(conn, user_id)
    person = store.NewPerson(
        name=(known and known["name"]) or str(user_id), phone=known and known["phone"],
        category=domain.default_category(role for role, _ in held), village_id=village,
        grid_id=grids[0] if grids and not villages else None, user_id=user_id,
    )  # fmt: skip
    roster_id = await store.add(conn, person, None, now)
    await audit.record(conn, now, user_id, "roster.auto", f"roster:{roster_id}",
                       f"{person.category}:{person.village_id}")  # fmt: skip
    return await store.get(conn, roster_id)


async def own(services: Services, user_id: int) -> Row | None:
    """The user's file for /me: theirs, or made now when they are staff; None: neither."""
    found = await store.by_user(services.db, user_id)
    if found is not None:
        return found
    held = await staff.held(services.db, user_id)
    pairs = [(role, scope) for role, scopes in held.items() for scope in sorted(scopes)]
    if not pairs:
        return None
    async with services.db.write() as conn:
        return await ensure_for_staff(conn, user_id, pairs, services.config.grid_villages(),
                                      services.now())  # fmt: skip


async def change(
    services: Services, actor_id: int, roster_id: int, changes: Mapping[str, Any],
    draft_token: str | None = None,
) -> Row | None:  # fmt: skip
    """Apply an edit (by the person or an admin), audited with what changed; the row as it
    now reads, or None when there is no such row. Nothing changed: nothing written. With
    ``draft_token``, the actor's conversation that asked it closes in the same transaction
    (None too when it had ended already: a double tap)."""
    now = services.now()
    async with services.db.write() as conn:
        if draft_token is not None and not await drafts.delete(conn, actor_id, draft_token):
            return None
        row = await store.get(conn, roster_id)
        if row is None:
            return None
        before = {**dict(row), "skills": domain.skills_of(row["skills"])}
        wanted = {k: tuple(v) if k == "skills" else v for k, v in changes.items()}
        real = domain.changed(before, wanted)
        if real:
            await store.update(conn, roster_id, real, actor_id, now)
            await audit.record(conn, now, actor_id, "roster.edit", f"roster:{roster_id}",
                               domain.audit_detail(before, real))  # fmt: skip
        return await store.get(conn, roster_id)


async def relink(services: Services, actor_id: int, roster_id: int,
                 hours: float = roles.INVITE_HOURS) -> str | None:  # fmt: skip
    """A fresh join link for someone not in the bot yet; None when they are (or deactivated)."""
    now, token = services.now(), roles.new_invite_token()
    async with services.db.write() as conn:
        done = await store.new_token(conn, roster_id, token, now + timedelta(hours=hours),
                                     actor_id, now)  # fmt: skip
        if done:
            await audit.record(conn, now, actor_id, "roster.link", f"roster:{roster_id}")
    return token if done else None


async def listing(services: Services, actor_id: int, villages: list[str] | None,
                  category: str | None = None) -> Listing:  # fmt: skip
    """The people on file in ``villages`` (None: all, the unplaced too) of ``category`` (None:
    any), and the counts by village and category; the view audited (``view:roster``)."""
    people = await store.select(services.db, category=category)
    if villages is not None:
        people = [p for p in people if p["village_id"] in villages]
    counts = await store.counts(services.db, villages)
    async with services.db.write() as conn:
        await audit.record(conn, services.now(), actor_id, "view:roster", category)
    return Listing(people, counts)


async def person(services: Services, roster_id: int) -> Row | None:
    return await store.get(services.db, roster_id)


def shown(services: Services, locale: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A roster row (or the form's answers) as the templates show a person: names, not ids."""
    config, row = services.config, dict(row)
    categories, skills = names(services, locale, "category"), names(services, locale, "skill")
    village = config.village(row.get("village_id") or "")
    grid = config.grid(row.get("grid_id") or "")
    held = row.get("skills") or ()
    held = domain.skills_of(held) if isinstance(held, str) else held
    return dict(
        id=row.get("id"), name=row.get("name") or "", phone=row.get("phone"),
        category=categories.get(row.get("category") or "", row.get("category")),
        village=village.name if village else row.get("village_id"),
        grid=grid[1].name if grid else None,
        skills=[skills.get(s, s) for s in held],
        availability=row.get("availability") or domain.AVAILABLE,
        bound=row.get("user_id") is not None, active=bool(row.get("active", 1)),
    )  # fmt: skip
