"""The quarantine-release certificate (解除隔离证明) of an arrival who says the quarantine at
the first port of entry is done (第一入境地隔离期满后自驾返津, plan point 4): filed with the
community screening group (报社区排查组备案, the leadership group) and given to the grid's
workers to check when the report is stored. Only a worker's check lowers the measure — never
the resident's own word, nor while a case of the report's people stands; a certificate found
wanting keeps the person under key control. The check is kept in the report's data, so a
later re-assessment (a key region's re-screen) remembers it. Each worker's task card offers
its buttons (bot.runtime.cards): the first decision takes them off every card."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import aiosqlite

from bot.actions import cases
from bot.actions.monitoring import restart_monitoring
from bot.domain import arrivals as flow
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.records import ReportRecord, StoredReport
from bot.domain.risk import assess, plan_measure
from bot.runtime import cards
from bot.runtime.escalation import grid_recipients
from bot.runtime.render import reader_locale, reader_locales
from bot.runtime.services import Services
from storage import audit, outbox
from storage import certificates as store
from storage.outbox import PRIORITY_ALERT, PRIORITY_NOTIFY

FLOW = "qc"  # v1:qc:<report id>:<ok | no | p>
MODULE = "certificates"


def subject(report_id: int) -> str:
    return f"report:{report_id}"


def offer_subject(report_id: int) -> str:
    """The check task's buttons, on every worker's card."""
    return f"certificate:{report_id}"


def task_markup(services: Services, locale: str, report_id: int, photo: bool) -> dict:
    """The worker's buttons: the photo (if sent), "核验通过" and "不符"."""

    def key(label: str, action: str) -> dict[str, str]:
        return button(services.text(locale, MODULE, label), callback(FLOW, str(report_id), action))

    rows = [[key("btn_photo", "p")]] if photo else []
    rows.append([key("btn_checked", "ok"), key("btn_rejected", "no")])
    return inline_markup(rows)


async def request(conn: aiosqlite.Connection, services: Services, stored: StoredReport,
                  record: ReportRecord, now: datetime) -> None:  # fmt: skip
    """In the transaction storing the report: the certificate waits for a worker; the filing
    (备案) goes to the leadership group, the check task to the grid's workers."""
    photo = record.data.get("certificate_photo")
    await store.request(conn, stored.id, photo)
    locale = services.config.bot.default_locale  # the group's
    village, grid = services.config.grid(record.grid_id) or (None, None)
    params = dict(ref=stored.ref, name=record.main.name, phone=record.main.phone,
                  village=village.name if village else record.village_id,
                  grid=grid.name if grid else record.grid_id, arrival=record.arrival_date,
                  country=record.data.get("country") or "", photo=bool(photo))  # fmt: skip
    key = f"{subject(stored.id)}:v{stored.version}:certificate"
    leadership = services.config.leadership.chat_id
    await outbox.enqueue(conn, chat_id=leadership, now=now, priority=PRIORITY_ALERT,
                         text=services.text(locale, MODULE, "filing", **params),
                         subject=subject(stored.id), dedup_key=f"{key}:filing")  # fmt: skip
    chats = await grid_recipients(conn, services, record.grid_id)
    for chat, reader in (await reader_locales(conn, chats, locale)).items():
        markup = task_markup(services, reader, stored.id, bool(photo))
        card = f"{key}:to:{chat}"
        await outbox.enqueue(conn, chat_id=chat, now=now, priority=PRIORITY_ALERT,
                             text=services.text(reader, MODULE, "task", **params),
                             reply_markup=markup, subject=subject(stored.id),
                             dedup_key=card)  # fmt: skip
        await outbox.offer(
            conn,
            card,
            offer_subject(stored.id),
            [b["callback_data"] for row in markup["inline_keyboard"] for b in row],
        )


async def report(services: Services, report_id: int) -> Any:
    """The report with its certificate state and main person (None: no such report)."""
    return await store.get(services.db, report_id)


async def photo(services: Services, report_id: int, user_id: int) -> str | None:
    """The certificate photo's file id, shown to a worker: the view is audited."""
    row = await store.get(services.db, report_id)
    if row is None or not row["certificate_photo"]:
        return None
    async with services.db.write() as conn:
        await audit.record(conn, services.now(), user_id, "certificate.view", subject(report_id))
    return row["certificate_photo"]


async def decide(services: Services, report_id: int, checked: bool, user_id: int,
                 name: str) -> str:  # fmt: skip
    """A worker checked the certificate (``checked``) or found it wanting: audited, the
    group and the resident told, every worker's task card without its buttons. Checked: the
    risk is assessed again with the certificate, and the measure and its monitoring follow.
    "done"; "again" when it was no longer pending; "case" (checked while a case of the
    report's people stands): nothing lowered, the certificate still waits."""
    now = services.now()
    locale = services.config.bot.default_locale
    async with services.db.write() as conn:
        if checked and await cases.holds_measure(conn, report_id):
            return "case"
        if not await store.decide(conn, report_id, checked, user_id, now):
            return "again"
        row = await store.get(conn, report_id)
        action = "certificate.check" if checked else "certificate.reject"
        await audit.record(conn, now, user_id, action, subject(report_id))
        measure = await _lower(conn, services, row, now) if checked else None
        params = dict(ref=row["ref"], name=name, at=now.astimezone(services.config.tz),
                      measure=measure)  # fmt: skip
        outcome = "checked" if checked else "rejected"
        key = f"{subject(report_id)}:v{row['version']}:certificate"  # decided once a version
        await outbox.enqueue(conn, chat_id=services.config.leadership.chat_id, now=now,
                             priority=PRIORITY_NOTIFY, subject=subject(report_id),
                             text=services.text(locale, MODULE, outcome, **params),
                             dedup_key=f"{key}:{outcome}")  # fmt: skip
        told = await reader_locale(conn, row["reporter_chat_id"], row["locale"])
        await outbox.enqueue(conn, chat_id=row["reporter_chat_id"], now=now,
                             priority=PRIORITY_NOTIFY, subject=subject(report_id),
                             text=services.text(told, MODULE, f"told_{outcome}",
                                                ref=row["ref"], measure=measure),
                             dedup_key=f"{key}:told")  # fmt: skip

        def note(reader: str) -> str:  # under each card left without buttons
            return services.text(reader, MODULE, "decided_note", outcome=outcome, name=name)

        await cards.retire(conn, offer_subject(report_id), now, note=note, default_locale=locale)
    services.wake_outbox()
    return "done"


async def _lower(conn: aiosqlite.Connection, services: Services, row: Any,
                 now: datetime) -> dict[str, Any]:  # fmt: skip
    """The report assessed again with its certificate checked, which its data keeps; its
    measure and monitoring restarted under the new plan. Returns the plan for the messages."""
    data = {**json.loads(row["data"]), "certificate_checked": True}
    config = services.config
    assessment = assess(flow.risk_facts(data), services.regions.current(), config.measures,
                        config.arrival.lookback_days, as_of=services.local_today())  # fmt: skip
    plan = plan_measure(assessment.measure, date.fromisoformat(row["arrival_date"]))
    data["reasons"] = [r.code for r in assessment.reasons]
    await store.set_measure(conn, row["id"], assessment.category, assessment.alert, plan.kind,
                            plan.start.isoformat(), plan.end.isoformat(),
                            json.dumps(data, ensure_ascii=False))  # fmt: skip
    await restart_monitoring(conn, services, row["id"], plan, now)
    return dict(kind=plan.kind, days=(plan.end - plan.start).days + 1, start=plan.start,
                end=plan.end, test_dates=plan.test_dates)  # fmt: skip
