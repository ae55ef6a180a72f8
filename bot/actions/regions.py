"""Key regions (重点地区): a change of the list, from ``/regions`` or a hand edit of the file,
and the re-screen of everyone registered that it drives.

The regions file is the one source of truth (bot/runtime/regions.py). Every change is found
the same way, by diffing the list just read against the list last applied (a snapshot in the
database), and recorded with who made it (a staff user, or NULL: the file) and when. Its
re-screen is durable: the change stays ``pending`` until one transaction has re-assessed
every open arrival of the look-back window from or through a province it touches (by the
rule of submit, ``risk.assess``), raised the measures that went up (monitoring restarted,
the resident told their new measure, each grid's workers one list, the leadership group one
预警), and proposed to the workers the measures that went down (never lowered silently). A
crash mid-way rolls it back; the next tick runs it again, its messages keyed once each.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import aiosqlite

from bot.actions.arrivals import reason_texts
from bot.actions.cases import holds_measure
from bot.actions.monitoring import restart_monitoring
from bot.domain.arrivals import risk_facts
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.invalid import Invalid
from bot.domain.regions import (
    Edit,
    Region,
    diff_regions,
    direction,
    region_to_dict,
    regions_from_json,
)
from bot.domain.risk import RISK_CATEGORIES, Assessment, MeasurePlan, assess, plan_measure
from bot.runtime import cards
from bot.runtime.escalation import grid_recipients
from bot.runtime.regions import Trouble
from bot.runtime.render import reader_locale, reader_locales
from bot.runtime.services import Services
from storage import arrivals as reports
from storage import audit, outbox
from storage import regions as store
from storage.outbox import PRIORITY_ALERT, PRIORITY_NOTIFY

LIST_CAP = 30  # people named in one list: the rest are counted (the group gets 20 msg/min)
PROPOSAL = "rgp"  # callback data of a proposal card: v1:rgp:<proposal id>:c|k
SUBJECT = "regions"


@dataclass(frozen=True)
class Outcome:
    """What a change did: its id, how many measures went up, how many downgrades wait."""

    change_id: int | None
    upgraded: int = 0
    proposed: int = 0


@dataclass(frozen=True)
class Rescreened:
    row: Any  # storage.regions.candidates row
    data: dict[str, Any]
    assessment: Assessment


# --- finding changes ----------------------------------------------------------------------


async def sync(services: Services) -> dict[int, Outcome]:
    """Tick job: a hand edit of the file becomes a change (a broken one, or its repair, is
    told to the admins); pending re-screens run."""
    async with services.regions.lock:
        await _record(services, None)
        await _tell_file_news(services)
        services.regions.keep_copy()  # after a good read: what a broken restart starts on
    return await rescreen_pending(services)


FILE_PROBLEMS_SHOWN = 5  # a broken file's first problems in the admins' alert


async def _tell_file_news(services: Services) -> None:
    """The file broke (the last good list stays in force) or was repaired: each admin is
    told once per version of the file (keyed: a restart does not repeat it)."""
    news = services.regions.news()
    if news is None:
        return
    now, config = services.now(), services.config
    if isinstance(news, Trouble):
        name, key = "file_alert", f"{SUBJECT}:file:broken:{news.version}"
        params = {"problems": news.problems[:FILE_PROBLEMS_SHOWN],
                  "more": max(0, len(news.problems) - FILE_PROBLEMS_SHOWN),
                  "kept": len(services.regions.current())}  # fmt: skip
    else:
        name, key, params = "file_repaired", f"{SUBJECT}:file:repaired:{news.version}", {
            "count": news.count}  # fmt: skip
    async with services.db.write() as conn:
        readers = await reader_locales(conn, config.leadership.admins, config.bot.default_locale)
        for chat, locale in readers.items():
            text = services.text(locale, "regions", name, path=str(services.regions.path),
                                 **params)  # fmt: skip
            await outbox.enqueue(conn, chat_id=chat, text=text, now=now, priority=PRIORITY_ALERT,
                                 subject=SUBJECT, dedup_key=f"{key}:{chat}")  # fmt: skip
    services.regions.told(news)
    services.wake_outbox()


async def made_by(services: Services, token: str) -> int | None:
    """The change a /regions draft made, if it made one."""
    row = await store.by_draft(services.db, token)
    return row["id"] if row else None


async def _record(services: Services, actor: int | None, draft: str | None = None) -> int | None:
    """The file's list against the list last applied: a difference is recorded as a change
    by ``actor`` (None: the file was edited by hand). The first list ever read is the
    baseline: everyone registered before was assessed against it."""
    regions = services.regions.current()
    now = services.now()
    async with services.db.write() as conn:
        last = await store.snapshot(conn)
        if last is None:
            await store.set_snapshot(conn, regions, now)
            await audit.record(conn, now, None, "regions.baseline", SUBJECT, str(len(regions)))
            return None
        added, removed = diff_regions(last, regions)
        if not added and not removed:
            return None
        source = "file" if actor is None else "chat"
        change_id = await store.record_change(
            conn,
            now=now,
            actor=actor,
            source=source,
            added=added,
            removed=removed,
            regions=regions,
            draft=draft,
        )
        detail = {
            "source": source,
            "added": [region_to_dict(r) for r in added],
            "removed": [region_to_dict(r) for r in removed],
        }
        await audit.record(
            conn,
            now,
            actor,
            "regions.change",
            f"{SUBJECT}:{change_id}",
            json.dumps(detail, ensure_ascii=False),
        )
    return change_id


async def change(
    services: Services, actor: int, edit: Edit, draft: str | None = None
) -> Outcome | Invalid:
    """``/regions``: write ``edit`` to the file, record it as ``actor``'s change (made by
    ``draft``) and re-screen at once. A file that cannot be written changes nothing (the
    reason comes back)."""
    async with services.regions.lock:
        await _record(services, None)  # a hand edit not seen yet is a change of its own
        saved = services.regions.save(edit)
        if isinstance(saved, Invalid):
            return saved
        change_id = await _record(services, actor, draft)
    outcomes = await rescreen_pending(services)
    return outcomes.get(change_id or 0, Outcome(change_id))


# --- the re-screen ------------------------------------------------------------------------


async def rescreen_pending(services: Services) -> dict[int, Outcome]:
    return {
        row["id"]: await rescreen(services, row["id"])
        for row in await store.pending_changes(services.db)
    }


def _assess(
    services: Services, data: dict[str, Any], regions: Sequence[Region], today: date
) -> Assessment:
    """The rule of submit, on ``today``: a region listed since the arrival counts too."""
    config = services.config
    return assess(risk_facts(data), regions, config.measures, config.arrival.lookback_days,
                  as_of=today)  # fmt: skip


async def rescreen(services: Services, change_id: int) -> Outcome:
    """Re-assess the arrivals a change may touch, in one transaction (see the module)."""
    now, today = services.now(), services.local_today()
    since = today - timedelta(days=services.config.arrival.lookback_days)
    async with services.db.write() as conn:
        row = await store.change(conn, change_id)
        if row is None or row["state"] != "pending":  # done meanwhile by another run
            return Outcome(change_id, row["upgraded"], row["proposed"]) if row else Outcome(None)
        regions = regions_from_json(row["regions"])
        added, removed = regions_from_json(row["added"]), regions_from_json(row["removed"])
        ups: list[Rescreened] = []
        downs: list[Rescreened] = []
        for candidate in await store.candidates(conn, (*added, *removed), since):
            data = json.loads(candidate["data"])
            assessment = _assess(services, data, regions, today)
            way = direction(candidate["risk"], assessment.category, RISK_CATEGORIES)
            if way != "same":
                (ups if way == "up" else downs).append(Rescreened(candidate, data, assessment))
        await _apply(conn, services, ups, f"{SUBJECT}:{change_id}", now)
        await _tell_workers(conn, services, change_id, ups, now)
        proposed = await _propose(conn, services, change_id, downs, now)
        await _tell_leaders(conn, services, change_id, added, removed, ups, proposed, now)
        await store.finish_change(conn, change_id, now, len(ups), proposed)
        await audit.record(
            conn,
            now,
            None,
            "regions.rescreen",
            f"{SUBJECT}:{change_id}",
            json.dumps({"upgraded": [u.row["ref"] for u in ups], "proposed": proposed}),
        )
    services.wake_outbox()
    return Outcome(change_id, len(ups), proposed)


async def _apply(
    conn: aiosqlite.Connection,
    services: Services,
    changed: Sequence[Rescreened],
    key: str,
    now: datetime,
) -> None:
    """Store each re-assessed measure, restart its monitoring, tell the resident."""
    plans = {}
    for item in changed:
        arrival = date.fromisoformat(item.row["arrival_date"])
        plans[item.row["id"]] = plan_measure(item.assessment.measure, arrival)
    await reports.set_assessments(
        conn,
        [
            dict(
                id=item.row["id"],
                risk=item.assessment.category,
                alert=int(item.assessment.alert),
                measure_kind=plans[item.row["id"]].kind,
                measure_start=plans[item.row["id"]].start.isoformat(),
                measure_end=plans[item.row["id"]].end.isoformat(),
                data=json.dumps(
                    {**item.data, "reasons": [r.code for r in item.assessment.reasons]},
                    ensure_ascii=False,
                ),
            )
            for item in changed
        ],
        now,
    )
    for item in changed:
        report_id = item.row["id"]
        await restart_monitoring(conn, services, report_id, plans[report_id], now)
    # A pending downgrade no longer stands.
    await _supersede(conn, services, [item.row["id"] for item in changed], now)
    await _tell_residents(conn, services, changed, plans, key, now)


async def _tell_residents(
    conn: aiosqlite.Connection,
    services: Services,
    changed: Sequence[Rescreened],
    plans: dict[int, MeasurePlan],
    key: str,
    now: datetime,
) -> None:
    """Each resident their new measure and why, in their language. Many share the same
    reasons and dates: each distinct part is rendered once, and the messages are queued in
    a few statements."""
    chosen = await reader_locales(conn, [i.row["reporter_chat_id"] for i in changed], "")
    rendered: dict[tuple, Any] = {}

    def once(key: tuple, render: Callable[..., Any], *args: Any, **params: Any) -> Any:
        if key not in rendered:
            rendered[key] = render(*args, **params)
        return rendered[key]

    messages = []
    for item in changed:
        row, a, plan = item.row, item.assessment, plans[item.row["id"]]
        chat = row["reporter_chat_id"]
        locale = chosen[chat] or row["locale"]  # never chose: the language they reported in
        reasons = once(("why", locale, a.reasons), reason_texts, services, locale, a)
        risk = once(("risk", locale, a.category), services.text, locale, "risk", "category",
                    code=a.category)  # fmt: skip
        measure = once(("measure", locale, plan, a.measure.days), services.text, locale, "risk",
                       "measure_summary", kind=plan.kind, days=a.measure.days, start=plan.start,
                       end=plan.end, test_dates=plan.test_dates)  # fmt: skip
        text = services.text(locale, "regions", "resident_measure", ref=row["ref"],
                             reasons=reasons, risk=risk, measure=measure)  # fmt: skip
        priority = PRIORITY_ALERT if a.alert else PRIORITY_NOTIFY
        messages.append(dict(chat_id=chat, text=text, priority=priority,
                             subject=f"report:{row['id']}",
                             dedup_key=f"{key}:r{row['id']}"))  # fmt: skip
    await outbox.enqueue_many(conn, messages, now)


def _person(services: Services, locale: str, item: Rescreened) -> dict[str, Any]:
    row = item.row
    found = services.config.grid(row["grid_id"])
    return dict(
        ref=row["ref"],
        name=row["name"] or "",
        village=_village(services, row),
        grid=found[1].name if found else row["grid_id"],
        risk=services.text(locale, "risk", "category", code=item.assessment.category),
        measure=services.text(locale, "risk", "measure_kind", kind=item.assessment.measure.kind),
    )


def _village(services: Services, row: Any) -> str:
    village = services.config.village(row["village_id"])
    return village.name if village else row["village_id"]


async def _tell_workers(
    conn: aiosqlite.Connection,
    services: Services,
    change_id: int,
    ups: Sequence[Rescreened],
    now: datetime,
) -> None:
    """One list per grid to its workers (the group gets its own 预警)."""
    by_grid: dict[str, list[Rescreened]] = {}
    for item in ups:
        by_grid.setdefault(item.row["grid_id"], []).append(item)
    leadership = services.config.leadership.chat_id
    for grid_id, items in by_grid.items():
        chats = [c for c in await grid_recipients(conn, services, grid_id) if c != leadership]
        locales = await reader_locales(conn, chats, services.config.bot.default_locale)
        for chat in chats:
            people = [_person(services, locales[chat], item) for item in items[:LIST_CAP]]
            text = services.text(locales[chat], "regions", "worker_list", people=people,
                                 total=len(items))  # fmt: skip
            await _alert(conn, chat, text, change_id, f"g:{grid_id}:to:{chat}", now)


async def _tell_leaders(
    conn: aiosqlite.Connection,
    services: Services,
    change_id: int,
    added: Sequence[Region],
    removed: Sequence[Region],
    ups: Sequence[Rescreened],
    proposed: int,
    now: datetime,
) -> None:
    """The one 预警 to the leadership group: the regions, their level, how many registered
    people went up per village, their reference numbers."""
    chat = services.config.leadership.chat_id
    locale = await reader_locale(conn, chat, services.config.bot.default_locale)
    villages = Counter(_village(services, item.row) for item in ups)
    text = services.text(
        locale,
        "regions",
        "group_alert",
        added=[region_to_dict(r) | {"label": r.label()} for r in added],
        removed=[
            region_to_dict(r) | {"label": r.label()}
            for r in removed
            if not any(a.label() == r.label() for a in added)
        ],
        villages=sorted(villages.items(), key=lambda kv: (-kv[1], kv[0])),
        refs=[item.row["ref"] for item in ups[:LIST_CAP]],
        total=len(ups),
        proposed=proposed,
    )
    await _alert(conn, chat, text, change_id, "group", now)


async def _alert(
    conn: aiosqlite.Connection, chat: int, text: str, change_id: int, key: str, now: datetime
) -> None:
    """A message of change ``change_id``, keyed so that a re-run of its re-screen sends none
    twice."""
    subject = f"{SUBJECT}:{change_id}"
    await outbox.enqueue(conn, chat_id=chat, text=text, now=now, priority=PRIORITY_ALERT,
                         subject=subject, dedup_key=f"{subject}:{key}")  # fmt: skip


# --- downgrades: proposed, then confirmed or kept by a worker --------------------------------


def proposal_markup(services: Services, locale: str, proposal_id: int) -> dict:
    def label(value: str) -> str:
        return services.renderer.label(locale, "regions", "proposal_button", value=value)

    return inline_markup(
        [[button(label(v), callback(PROPOSAL, str(proposal_id), v)) for v in ("c", "k")]]
    )


async def _propose(
    conn: aiosqlite.Connection,
    services: Services,
    change_id: int,
    downs: Sequence[Rescreened],
    now: datetime,
) -> int:
    """A card with confirm/keep buttons to each grid's workers per lowered measure."""
    proposed = 0
    for item in downs:
        row = item.row
        await _supersede(conn, services, [row["id"]], now)
        pid = await store.propose(
            conn, change_id, row["id"], row["risk"], item.assessment.category, now
        )
        if pid is None:
            continue
        proposed += 1
        chats = await grid_recipients(conn, services, row["grid_id"])
        locales = await reader_locales(conn, chats, services.config.bot.default_locale)
        for chat in chats:
            text = services.text(
                locales[chat],
                "regions",
                "proposal",
                **_person(services, locales[chat], item),
                old=services.text(locales[chat], "risk", "category", code=row["risk"]),
            )
            markup = proposal_markup(services, locales[chat], pid)
            key = f"{SUBJECT}:{change_id}:p{pid}:to:{chat}"
            await outbox.enqueue(conn, chat_id=chat, text=text, now=now, reply_markup=markup,
                                 subject=f"report:{row['id']}", dedup_key=key)  # fmt: skip
            await outbox.offer(
                conn, key, _offer(pid), [b["callback_data"] for b in markup["inline_keyboard"][0]]
            )
    return proposed


def _offer(proposal_id: int) -> str:
    """What a proposal's cards offer buttons for (bot.runtime.cards)."""
    return f"{SUBJECT}:p{proposal_id}"


async def _retire(conn: aiosqlite.Connection, services: Services, proposal_id: int,
                  outcome: str, now: datetime) -> None:  # fmt: skip
    """The proposal's buttons off every worker's card, its outcome under it."""
    await cards.retire(conn, _offer(proposal_id), now,
                       default_locale=services.config.bot.default_locale,
                       note=lambda locale: services.text(locale, "regions", "proposal_note",
                                                         outcome=outcome))  # fmt: skip


async def _supersede(conn: aiosqlite.Connection, services: Services, report_ids: Sequence[int],
                     now: datetime) -> None:  # fmt: skip
    for proposal_id in await store.supersede(conn, report_ids):
        await _retire(conn, services, proposal_id, "superseded", now)


async def proposal(services: Services, proposal_id: int) -> Any:
    """A proposal with its report's reference and grid (None: no such proposal)."""
    return await store.proposal(services.db, proposal_id)


async def decide(services: Services, proposal_id: int, actor: int, confirm: bool) -> str:
    """A worker's answer to a proposed downgrade, audited: "confirmed" (the lower measure is
    applied, the resident told), "kept", "stale" (the list changed since: it would not be
    lower now), or "decided" (answered already)."""
    now = services.now()
    regions = services.regions.current()
    async with services.db.write() as conn:
        found = await store.proposal(conn, proposal_id)
        if found is None or found["state"] != "pending":
            return "decided"
        subject = f"report:{found['report_id']}"
        if not confirm:
            await store.decide(conn, proposal_id, "kept", actor, now)
            await audit.record(conn, now, actor, "regions.downgrade.keep", subject)
            await _retire(conn, services, proposal_id, "kept", now)
            services.wake_outbox()
            return "kept"
        row = await store.candidate(conn, found["report_id"])
        data = json.loads(row["data"])
        assessment = _assess(services, data, regions, services.local_today())
        if (
            row["state"] != "open"
            or direction(row["risk"], assessment.category, RISK_CATEGORIES) != "down"
        ):
            await store.decide(conn, proposal_id, "superseded", actor, now)
            await _retire(conn, services, proposal_id, "stale", now)
            services.wake_outbox()
            return "stale"
        if await holds_measure(conn, found["report_id"]):  # a case stands: "case", still pending
            return "case"
        await store.decide(conn, proposal_id, "confirmed", actor, now)
        await _retire(conn, services, proposal_id, "confirmed", now)
        await _apply(
            conn, services, [Rescreened(row, data, assessment)], f"{SUBJECT}:p{proposal_id}", now
        )
        await audit.record(
            conn,
            now,
            actor,
            "regions.downgrade.confirm",
            subject,
            f"{row['risk']} -> {assessment.category}",
        )
    services.wake_outbox()
    return "confirmed"


async def listed(services: Services) -> tuple[Region, ...]:
    """The key regions in force (the file as last read)."""
    return services.regions.current()
