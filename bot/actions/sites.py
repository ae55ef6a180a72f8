"""Isolation sites: seeded from the config, listed, added and changed by admins, ordered
activated by a leader (the countdown on the ladder: ``LADDER``, wired in bot/app.py), the
activation checklist ticked by the site's manager, closed. Each action is one transaction
with its audit row and its outbox rows. Who may do what: bot.domain.roles (the caller)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.config import Config
from bot.domain import sites as rules
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.escalation import Rung
from bot.domain.sites import SiteSpec
from bot.runtime import escalation
from bot.runtime.render import reader_locale
from bot.runtime.services import Services
from storage import audit, drafts, isolation, outbox
from storage import sites as store
from storage.db import Reader
from storage.escalation import Item
from storage.outbox import PRIORITY_ALERT

FLOW = rules.FLOW
Row = Any  # a sites row


@dataclass(frozen=True)
class Outcome:
    """What an action did: ``done``, or why not (the template's reason), and the site."""

    result: str
    site: dict[str, Any] | None = None


def specs(config: Config) -> list[SiteSpec]:
    return [
        SiteSpec(
            id=s.id,
            name=s.name,
            address=s.address,
            village_id=s.village,
            rooms=s.rooms,
            capacity=s.places,
            state=s.state,
            latitude=s.latitude,
            longitude=s.longitude,
        )
        for s in config.sites
    ]


async def seed(services: Services) -> None:
    """At start: the config's sites, keeping the state they reached at runtime."""
    await store.seed_from_config(services.db, specs(services.config), services.now())


def _local(services: Services, iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso).astimezone(services.config.tz) if iso else None


def card(services: Services, row: Row, checklist: list[Row], taken: int) -> dict[str, Any]:
    """What the templates show of a site (no personal data: fine for the group)."""
    village = services.config.village(row["village_id"] or "")
    occupancy = rules.Occupancy(row["capacity"], taken)
    return dict(
        id=row["id"],
        name=row["name"],
        address=row["address"],
        village=village.name if village else "",
        state=row["state"],
        rooms=len(store.rooms(row)),
        capacity=row["capacity"],
        taken=taken,
        free=occupancy.free,
        deadline=_local(services, row["activation_deadline"]),
        ordered=_local(services, row["activation_at"]),
        activated=_local(services, row["activated_at"]),
        checklist=[
            dict(
                item=c["item"],
                done=c["ticked_at"] is not None,
                by=c["ticked_name"] or "",
                at=_local(services, c["ticked_at"]),
            )
            for c in checklist
        ],
    )


async def _taken(src: Reader) -> dict[str, int]:
    """People assigned to or staying at each site not closed (a closed one has nobody)."""
    return {load.id: load.people for load in await isolation.occupancy(src)}


async def load(services: Services, src: Reader, site_id: str) -> dict[str, Any] | None:
    row = await store.get(src, site_id)
    if row is None:
        return None
    taken = (await _taken(src)).get(site_id, 0)
    return card(services, row, await store.checklist(src, site_id), taken)


async def overview(services: Services, actor_id: int) -> list[dict[str, Any]]:
    """Every site with its occupancy and checklist (the /sites list), the view audited."""
    rows = await store.listed(services.db)
    taken = await _taken(services.db)
    listed = [
        card(services, r, await store.checklist(services.db, r["id"]), taken.get(r["id"], 0))
        for r in rows
    ]
    async with services.db.write() as conn:
        await audit.record(conn, services.now(), actor_id, "view:sites")
    return listed


def checklist_buttons(
    services: Services, locale: str, site: dict[str, Any]
) -> list[tuple[str, str]]:
    """The manager's buttons, (label, callback data): one per item still to tick."""
    return [
        (
            services.text(locale, "sites", "btn_tick", item=c["item"]),
            callback(FLOW, "t", site["id"], c["item"]),
        )
        for c in site["checklist"]
        if not c["done"]
    ]


def checklist_markup(services: Services, locale: str, site: dict[str, Any]) -> dict[str, Any]:
    return inline_markup([[button(*b)] for b in checklist_buttons(services, locale, site)])


async def open_sites(services: Services) -> dict[str, str]:
    """Sites not closed, id -> name (what a site manager may be invited for)."""
    return {r["id"]: r["name"] for r in await store.listed(services.db) if r["state"] != "closed"}


async def rooms(services: Services, site_id: str) -> list[str]:
    row = await store.get(services.db, site_id)
    return list(store.rooms(row)) if row else []


async def _to_managers(
    conn: aiosqlite.Connection,
    services: Services,
    site: dict[str, Any],
    name: str,
    now: datetime,
    key: str,
    buttons: bool,
) -> None:
    for chat in await store.managers(conn, site["id"]):
        locale = await reader_locale(conn, chat, services.config.bot.default_locale)
        markup = checklist_markup(services, locale, site) if buttons else None
        await outbox.enqueue(
            conn,
            chat_id=chat,
            now=now,
            priority=PRIORITY_ALERT,
            text=services.text(locale, "sites", name, s=site),
            reply_markup=markup,
            subject=rules.subject(site["id"]),
            dedup_key=f"{key}:to:{chat}",
        )


async def _to_group(
    conn: aiosqlite.Connection,
    services: Services,
    site: dict[str, Any],
    name: str,
    now: datetime,
    key: str,
) -> None:
    locale = services.config.bot.default_locale
    await outbox.enqueue(
        conn,
        chat_id=services.config.leadership.chat_id,
        now=now,
        priority=PRIORITY_ALERT,
        text=services.text(locale, "sites", name, s=site),
        subject=rules.subject(site["id"]),
        dedup_key=f"{key}:group",
    )


def _may(row: Row | None, event: str) -> bool:
    """The domain's state machine decides; storage's own guards only back it up."""
    return row is not None and rules.next_state(row["state"], event) is not None


async def order_activation(services: Services, site_id: str, user_id: int) -> Outcome:
    """A leader orders a reserved site activated: the checklist opens, the countdown climbs
    the ladder (``site:<id>``), the group and the site's managers are told — together."""
    now = services.now()
    deadline = rules.activation_deadline(now, services.config.schedule.site_activation_hours)
    async with services.db.write() as conn:
        row = await store.get(conn, site_id)
        if not _may(row, "order") or not await store.order(conn, site_id, user_id, now, deadline):
            return Outcome("not_reserved", row and await load(services, conn, site_id))
        subject = rules.subject(site_id)
        await escalation.start(
            conn,
            services,
            subject=subject,
            kind=rules.KIND,
            grid_id=None,
            village_id=row["village_id"] or "",
            deadline=deadline,
            ref=site_id,
            now=now,
            detail={"name": row["name"]},
        )
        site = await load(services, conn, site_id)
        key = f"{subject}:ordered:{int(now.timestamp())}"
        await _to_group(conn, services, site, "ordered", now, key)
        await _to_managers(conn, services, site, "ordered_manager", now, key, buttons=True)
        await audit.record(conn, now, user_id, "site.order", subject, deadline.isoformat())
    services.wake_outbox()
    return Outcome("done", site)


async def tick(services: Services, site_id: str, item: str, user_id: int, name: str) -> Outcome:
    """The site's manager ticks a checklist item; the last one makes the site active: the
    countdown stops, the group and the managers are told."""
    now = services.now()
    async with services.db.write() as conn:
        if item not in rules.CHECKLIST or not await store.tick(
            conn, site_id, item, user_id, name, now
        ):
            return Outcome("not_ticked", await load(services, conn, site_id))
        await audit.record(conn, now, user_id, "site.tick", rules.subject(site_id), item)
        if not rules.complete(await store.ticked(conn, site_id)) or not _may(
            await store.get(conn, site_id), "complete"
        ):
            return Outcome("done", await load(services, conn, site_id))
        await store.activate(conn, site_id, now)
        await escalation.stop(conn, rules.subject(site_id), now)
        site = await load(services, conn, site_id)
        key = f"{rules.subject(site_id)}:active:{int(now.timestamp())}"
        await _to_group(conn, services, site, "activated", now, key)
        await _to_managers(conn, services, site, "activated", now, key, buttons=False)
        await audit.record(conn, now, user_id, "site.active", rules.subject(site_id))
    services.wake_outbox()
    return Outcome("active", site)


async def save(
    services: Services, user_id: int, draft_token: str, spec: SiteSpec, new: bool
) -> Outcome | None:
    """An admin's new or changed site, and the conversation's end, together. A new site gets
    the next free chat id (``spec.id`` is ignored). None: the draft had ended (a double tap)."""
    now = services.now()
    async with services.db.write() as conn:
        if not await drafts.delete(conn, user_id, draft_token):
            return None
        if new:
            spec = SiteSpec(**{**spec.__dict__, "id": rules.new_site_id(await store.ids(conn))})
            await store.add(conn, spec, now)
        elif not await store.update(conn, spec, now):
            return Outcome("gone")
        what = f"{len(spec.rooms)}:{spec.capacity}"
        await audit.record(
            conn, now, user_id, "site.add" if new else "site.edit", rules.subject(spec.id), what
        )
        return Outcome("done", await load(services, conn, spec.id))


async def close(services: Services, site_id: str, user_id: int) -> Outcome:
    """Close a site — refused while anyone is assigned to it or stays there. An activation
    under way is called off: its countdown stops."""
    now = services.now()
    async with services.db.write() as conn:
        site = await load(services, conn, site_id)
        if site is None or rules.next_state(site["state"], "close") is None:
            return Outcome("not_closed", site)
        if not await store.close(conn, site_id, now):
            return Outcome("occupied", site)
        await escalation.stop(conn, rules.subject(site_id), now)
        await audit.record(conn, now, user_id, "site.close", rules.subject(site_id))
        return Outcome("done", await load(services, conn, site_id))


async def reopen(services: Services, site_id: str, user_id: int) -> Outcome:
    now = services.now()
    async with services.db.write() as conn:
        if not _may(await store.get(conn, site_id), "reopen") or not await store.reopen(
            conn, site_id, now
        ):
            return Outcome("not_closed", await load(services, conn, site_id))
        await audit.record(conn, now, user_id, "site.reopen", rules.subject(site_id))
        return Outcome("done", await load(services, conn, site_id))


async def site(services: Services, site_id: str) -> dict[str, Any] | None:
    return await load(services, services.db, site_id)


# -- the activation countdown's ladder messages ---------------------------------------------


async def _send_step(
    services: Services, conn: aiosqlite.Connection, item: Item, rung: Rung, now: datetime
) -> None:
    """A rung of the countdown: a reminder before the deadline, overdue at or after it; the
    managers' copy carries the checklist buttons still to press."""
    site_id = rules.site_of(item.subject)
    found = site_id and await load(services, conn, site_id)
    if not found:
        return
    name = "reminder" if rung.after_minutes < 0 else "overdue"
    key = f"{item.subject}:g{item.gen}:{rung.to}:{rung.after_minutes}"
    leadership = services.config.leadership.chat_id
    for chat in await escalation.level_chats(conn, services, item, rung.to):
        if chat == leadership:
            await _to_group(conn, services, found, name, now, key)
            continue
        locale = await reader_locale(conn, chat, services.config.bot.default_locale)
        markup = checklist_markup(services, locale, found) if rung.to == "assignee" else None
        await outbox.enqueue(
            conn,
            chat_id=chat,
            now=now,
            priority=PRIORITY_ALERT,
            text=services.text(locale, "sites", name, s=found, to=rung.to),
            reply_markup=markup,
            subject=item.subject,
            dedup_key=f"{key}:to:{chat}",
        )


LADDER = escalation.OwnMessages(step=_send_step)  # the countdown's rungs never repeat
