"""Statistics on demand (/stats, 统计查询): one view's short table with its buttons, and the
arrivals' trend as a chart. Who may see what: bot.domain.stats (leaders and admins the whole
town, a village admin his villages), decided by the caller; a refusal is
handlers.access.Access.refuse (audited ``denied:stats``). Every view is aggregate (no
personal data) and audited ``stats.view`` with the query as its detail."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from markupsafe import Markup

from bot.domain import stats as rules
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.roles import Actor
from bot.domain.stats import Query, Row
from bot.domain.units import PAGE_SIZE, page_of
from bot.runtime import chart
from bot.runtime.services import Services
from storage import audit, outbox, sites
from storage import stats as store
from storage.outbox import PRIORITY_REPLY

log = logging.getLogger(__name__)

FLOW = rules.FLOW
SHOW, TREND, TYPED, PICK = "s", "g", "r", "c"  # v1:tj:<what>:<query>[:<page>]
ARRIVAL_BUTTONS = ("village", "grid", "category", "risk", "province", "day")
PER_ROW = 4
DRILL_BUTTONS = 8


@dataclass(frozen=True)
class Answer:
    text: str
    markup: dict[str, Any]


def permits(services: Services, actor: Actor, query: Query) -> bool:
    return rules.permits(actor, query, services.config.grid_villages())


def _filter(services: Services, actor: Actor, q: Query) -> store.Filter:
    """The window of ``q``'s days in the town's timezone, and the villages looked at."""
    tz = services.config.tz
    since, until = rules.midnight(q.start, tz), rules.midnight(q.end + timedelta(days=1), tz)
    villages = frozenset({q.village}) if q.village else rules.villages_of(actor)
    grids = None
    if villages is not None:
        grids = frozenset(g for g, v in services.config.grid_villages().items() if v in villages)
    return store.Filter(since, until, villages, grids, q.grid, q.category,
                        rules.province_name(q.province), tz)  # fmt: skip


async def _names(services: Services, view: str) -> dict[str, str]:
    """A row key's name where it has one: a village's, a grid's (the config), a site's (the
    sites table: a site added in the chat too)."""
    config = services.config
    if view == "village":
        return {v.id: v.name for v in config.villages}
    if view == "grid":
        return {g.id: g.name for v in config.villages for g in v.grids}
    if view == "site":
        return {s["id"]: s["name"] for s in await sites.listed(services.db)}
    return {}


def _label(services: Services, locale: str) -> Callable[..., str]:
    """A short text as plain text (a row of the table is escaped once, by the answer's
    template; a button's label is not HTML at all)."""

    def t(name: str, /, **params: Any) -> str:
        return Markup(services.renderer.label(locale, "stats", name, **params)).unescape()

    return t


def _rows(
    q: Query, counts: dict[str, int], names: dict[str, str], t: Callable[..., str]
) -> list[Row]:
    rows = [Row(key, t("label", view=q.view, key=key, name=names.get(key, "")) if key
                else t("unknown"), n) for key, n in counts.items()]  # fmt: skip
    if q.view == "day":
        return rules.latest(rows, 31, t("earlier"))
    return rules.top(rows, rules.TOP, t("other"))


def _scope(services: Services, actor: Actor, q: Query) -> dict[str, Any]:
    """Where the answer looks, as raw names (the answer's template escapes them once): the
    town's whole, or its villages; the grid, category and origin narrowed to."""
    villages = [q.village] if q.village else rules.villages_of(actor)
    found = services.config.grid(q.grid) if q.grid else None
    return {
        "town": services.config.town.name if villages is None else "",
        "villages": sorted(v.name for v in services.config.villages
                           if villages is not None and v.id in villages),
        "grid": found[1].name if found else "",
        "category": q.category,
        "province": rules.province_name(q.province),
    }  # fmt: skip


async def show(services: Services, actor: Actor, q: Query, locale: str) -> Answer:
    """The table of ``q`` (the caller checked ``permits``), the view audited."""
    counts = await store.counts(services.db.conn, q.view, _filter(services, actor, q))
    rows = _rows(q, counts, await _names(services, q.view), _label(services, locale))
    head = services.text(locale, "stats", "header", view=q.view).split("|")
    lines = rules.aligned([(head[0], head[1]), *((r.label, str(r.count)) for r in rows)])
    text = services.text(
        locale, "stats", "answer", view=q.view, start=q.start, end=q.end,
        current=q.view in rules.CURRENT, lines=lines, total=sum(counts.values()),
        empty=not counts, **_scope(services, actor, q),
    )  # fmt: skip
    await _audit(services, actor, q)
    return Answer(text, inline_markup(_buttons(services, q, rows, locale,
                                               len(_villages(services, actor)) > 1)))  # fmt: skip


def _villages(services: Services, actor: Actor) -> list[Any]:
    """The villages of the config in ``actor``'s scope, in the config's order."""
    scope = rules.villages_of(actor)
    return [v for v in services.config.villages if scope is None or v.id in scope]


def villages(services: Services, actor: Actor, q: Query, locale: str, page: int) -> Answer:
    """选村（社区）: a page of the villages in ``actor``'s scope, each a button to ``q``
    inside it, and the buttons to turn the page."""
    listed = _villages(services, actor)
    page, pages = page_of(len(listed), page)
    shown = listed[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    t = _label(services, locale)
    picks = [(v.name, data(SHOW, rules.within(q, v.id))) for v in shown]
    turns = [(t(name), data(PICK, q, "", str(to))) for name, to in
             (("btn_prev", page - 1), ("btn_next", page + 1)) if 0 <= to < pages]  # fmt: skip
    rows = [*(picks[i : i + 2] for i in range(0, len(picks), 2)), turns]
    shown_rows = [[button(label, d) for label, d in row if d] for row in rows]
    text = services.text(locale, "stats", "pick", page=page + 1, pages=pages)
    return Answer(text, inline_markup([row for row in shown_rows if row]))


async def _audit(services: Services, actor: Actor, q: Query, **extra: Any) -> None:
    async with services.db.write() as conn:
        await _record(conn, services, actor, q, **extra)


async def _record(conn: Any, services: Services, actor: Actor, q: Query, **extra: Any) -> None:
    detail = {"view": q.view, "from": q.start.isoformat(), "to": q.end.isoformat(),
              "village": q.village, "grid": q.grid, "category": q.category,
              "province": q.province, **extra}  # fmt: skip
    await audit.record(conn, services.now(), actor.user_id, "stats.view", f"stats:{q.view}",
                       json.dumps(detail, ensure_ascii=False))  # fmt: skip


def data(what: str, q: Query, preset: str = "", *extra: str) -> str | None:
    """A button's callback data; None when the query's ids would pass Telegram's 64 bytes."""
    try:
        return callback(FLOW, what, *rules.encode(q, preset), *extra)
    except ValueError:
        return None


def _buttons(
    services: Services, q: Query, rows: list[Row], locale: str, pick: bool
) -> list[list[dict]]:
    """A row's drill-down, the other views (and one of the other family: arrivals / the
    chain), the ranges, then 选村 (``pick``: any village of several, not only the rows with
    a drill-down), 自选日期, 按日趋势 and 全部."""
    t = _label(services, locale)
    drills = [(t("btn_drill", name=r.label), data(SHOW, inner)) for r in rows
              if (inner := q.drill(r.key))][:DRILL_BUTTONS]  # fmt: skip
    family = ARRIVAL_BUTTONS if q.is_arrivals else rules.OTHER_VIEWS
    views = [v for v in family if v != q.view]
    views.append(rules.OTHER_VIEWS[0] if q.is_arrivals else "village")
    others = [(t("btn_view", view=v), data(SHOW, rules.switched(q, v))) for v in views]
    last = [(t("btn_pick"), data(PICK, q))] if pick else []
    last.append((t("btn_typed"), data(TYPED, q)))
    if q.is_arrivals:
        last.append((t("btn_trend"), data(TREND, q)))
    if q.village or q.grid or q.category or q.province:
        last.append((t("btn_clear"), data(SHOW, rules.whole(q))))
    candidates = [
        *(drills[i : i + 2] for i in range(0, len(drills), 2)),
        *(others[i : i + PER_ROW] for i in range(0, len(others), PER_ROW)),
        [(t("btn_preset", preset=p), data(SHOW, q, p)) for p in rules.PRESETS],
        last,
    ]
    shown = [[button(label, d) for label, d in row if d] for row in candidates]
    return [row for row in shown if row]


async def trend(services: Services, actor: Actor, q: Query, locale: str) -> bool:
    """Arrivals per day over ``q``'s range as a chart, queued as a photo to the asker with
    the view's audit row (one transaction). False when the chart could not be drawn."""
    counts = await store.counts(services.db.conn, "day", _filter(services, actor, q))
    values = rules.by_day(counts, q.days)
    t = _label(services, locale)  # drawn into the picture: plain text, not HTML
    try:
        png = await asyncio.to_thread(
            chart.trend, q.days, values,
            t("chart_title", town=services.config.town.name, start=q.start, end=q.end),
            t("chart_series"), t("chart_people"),
        )  # fmt: skip
    except Exception:  # a chart that cannot be drawn must not lose the answer
        log.exception("the /stats trend chart failed")
        return False
    async with services.db.write() as conn:
        await _record(conn, services, actor, q, chart=True)
        await outbox.enqueue(conn, chat_id=actor.user_id, photo=png, now=services.now(),
                             text=services.text(locale, "stats", "chart_caption",
                                                start=q.start, end=q.end, total=sum(values)),
                             priority=PRIORITY_REPLY)  # fmt: skip
    services.wake_outbox()
    return True
