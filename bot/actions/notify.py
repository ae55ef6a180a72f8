"""Who is told about a stored report, and what they read (pushed notices: the renderer masks
their personal data, see bot.domain.masking.Audience)."""

from __future__ import annotations

from typing import Any

import aiosqlite

from bot.domain.records import ReportRecord, StoredReport
from bot.domain.risk import Assessment
from bot.runtime.escalation import grid_recipients
from bot.runtime.services import Services
from storage.outbox import PRIORITY_ALERT, PRIORITY_NOTIFY


def reason_texts(services: Services, locale: str, assessment: Assessment) -> list[str]:
    return [services.text(locale, "risk", r.code, **dict(r.params)) for r in assessment.reasons]


async def report_notifications(
    conn: aiosqlite.Connection,
    services: Services,
    stored: StoredReport,
    record: ReportRecord,
    assessment: Assessment,
) -> list[dict[str, Any]]:
    """Outbox rows (keyword arguments of ``storage.outbox.enqueue``) for one stored report;
    ``conn``: the transaction storing it."""
    locale = services.config.bot.default_locale
    village, grid = services.config.grid(record.grid_id) or (None, None)
    main = record.main
    params = dict(
        ref=stored.ref,
        updated=stored.updated,
        alert=assessment.alert,
        village=village.name if village else record.village_id,
        grid=grid.name if grid else record.grid_id,
        name=main.name,
        phone=main.phone,
        id_number=main.id_number,
        people=len(record.people),
        arrival=record.arrival_date,
        category=record.category,
        risk=services.text(locale, "risk", "category", code=assessment.category),
        measure=services.text(locale, "risk", "measure_kind", kind=record.measure_kind),
        reasons=reason_texts(services, locale, assessment),
    )
    subject = f"report:{stored.id}"
    key = f"{subject}:v{stored.version}"
    priority = PRIORITY_ALERT if assessment.alert else PRIORITY_NOTIFY
    leadership = services.config.leadership.chat_id
    recipients = await grid_recipients(conn, services, record.grid_id)
    notice = services.text(locale, "notify", "report_notice", **params)
    rows = [
        dict(
            chat_id=chat,
            text=notice,
            priority=priority,
            subject=subject,
            dedup_key=f"{key}:to:{chat}",
        )
        for chat in recipients
        if chat != leadership
    ]
    if assessment.alert or leadership in recipients:
        name = "report_alert" if assessment.alert else "report_notice"
        rows.append(
            dict(
                chat_id=leadership,
                text=services.text(locale, "notify", name, **params),
                priority=priority,
                subject=subject,
                dedup_key=f"{key}:to:{leadership}",
            )
        )
    return rows
