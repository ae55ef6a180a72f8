"""Turning a finished draft into a stored report: risk, measure, one transaction with its
notifications."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import aiosqlite

from bot.actions import cases, certificates, tips
from bot.actions.inbox import escalate_offer
from bot.actions.monitoring import restart_monitoring, stop_monitoring
from bot.domain import arrivals as flow
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.monitoring import withdrawal_needs_worker
from bot.domain.records import PersonRecord, ReportRecord, StoredReport
from bot.domain.risk import Assessment, MeasurePlan, assess, plan_measure
from bot.domain.units import is_venue
from bot.runtime import cards, escalation
from bot.runtime.escalation import grid_recipients
from bot.runtime.render import reader_locales
from bot.runtime.services import Services
from storage import arrivals as reports
from storage import audit, drafts, outbox, timers, visits
from storage import units as unit_store
from storage.drafts import Draft
from storage.outbox import PRIORITY_ALERT, PRIORITY_NOTIFY

log = logging.getLogger(__name__)

# The buttons of a withdrawal request's card: v1:wd:<y confirm | n keep>:<report id>.
WITHDRAW_FLOW, CONFIRM, KEEP = "wd", "y", "n"


def form_context(services: Services) -> flow.Context:
    """The arrival form's rules as they are today: the chat form's and a bulk import's."""
    config = services.config
    return flow.Context(
        today=services.local_today(),
        id_required=config.arrival.id_number == "required",
        max_days_back=config.arrival.max_days_back,
        max_companions=config.arrival.max_companions,
        villages=config.grid_ids(),
        regions=services.regions.current(),
        lookback_days=config.arrival.lookback_days,
    )


def build_record(services: Services, draft: Draft) -> tuple[ReportRecord, Assessment, MeasurePlan]:
    data = draft.data
    config = services.config
    assessment = assess(
        flow.risk_facts(data),
        services.regions.current(),
        config.measures,
        config.arrival.lookback_days,
        as_of=services.local_today(),
    )
    arrival = date.fromisoformat(data["arrival_date"])
    plan = plan_measure(assessment.measure, arrival)
    main = PersonRecord(data["name"], data["phone"], data.get("id_kind"), data.get("id_number"))
    companions = tuple(
        PersonRecord(p["name"], p.get("phone"), p.get("id_kind"), p.get("id_number"))
        for p in data.get("people") or []
    )
    record = ReportRecord(
        draft_token=draft.token,
        reporter_user_id=draft.user_id,
        reporter_chat_id=draft.chat_id,
        locale=draft.locale,
        relation=data["relation"],
        village_id=data["village"],
        grid_id=data["grid"],
        address=data["address"],
        arrival_date=arrival,
        category=data["category"],
        risk=assessment.category,
        alert=assessment.alert,
        measure_kind=plan.kind,
        measure_start=plan.start,
        measure_end=plan.end,
        data={**data, "reasons": [r.code for r in assessment.reasons]},
        people=(main, *companions),
        unit_id=data.get("unit"),
    )
    return record, assessment, plan


async def store_report(
    services: Services, draft: Draft, record: ReportRecord, assessment: Assessment
) -> StoredReport | None:
    """Store the report, its notifications and the audit entry together, and drop the draft.
    Returns None when the draft was already submitted (a double tap)."""
    now = services.now()
    async with services.db.write() as conn:
        if not await drafts.delete(conn, draft.user_id, draft.token):
            return None
        stored = await store_in(conn, services, record, assessment, now=now)
    # business events, once committed: reference numbers and counts only, never a name
    log.info("report stored: %s (%s), %d person(s), %s, %s", stored.ref,
             audit_action(record, stored), len(record.people), assessment.category,
             record.measure_kind)  # fmt: skip
    if assessment.alert:
        log.info("alert queued: arrival %s to the leadership group", stored.ref)
    services.wake_outbox()
    return stored


def audit_action(record: ReportRecord, stored: StoredReport) -> str:
    """The audit row's action for a stored report: a correction, a new version, a new one."""
    if record.data.get("corrects"):
        return "report.correct"
    return "report.update" if stored.updated else "report.create"


async def store_in(conn: aiosqlite.Connection, services: Services, record: ReportRecord,
                   assessment: Assessment, *, now: datetime) -> StoredReport:  # fmt: skip
    """Everything a submitted report is, inside the caller's transaction ``conn``: the report
    (or the same person's open one updated: dedup), its measure and monitoring, its
    certificate check and suspected case, the notices and alerts, the visit or tip it closes,
    the verification deadline on the ladder, the audit. The chat form's submit and each row of
    a bulk import (bot.actions.arrival_import) both come here, so every rule applies to both."""
    data = record.data
    since = now - timedelta(days=services.config.arrival.lookback_days)
    stored = await reports.store(
        conn,
        record,
        town_code=services.config.town.code,
        local_today=services.local_today(),
        lookback_since=since,
        now=now,
        corrects=data.get("corrects"),  # the reporter's correction of his report
    )
    plan = plan_measure(assessment.measure, record.measure_start)
    # 居家健康监测 etc.; a companion now reporting himself is watched once (relink)
    await restart_monitoring(conn, services, stored.id, plan, now)
    if assessment.certificate_pending:  # 备案, and a worker checks the certificate
        await certificates.request(conn, services, stored, record, now)
    if assessment.positive:  # a suspected case, pending a human's confirmation
        key = cases.arrival_key(stored.id, data.get("test_date"))
        await cases.open_positive(conn, services, source="arrival", key=key,
                                  report_id=stored.id, idx=0, by=0, now=now)  # fmt: skip
    for message in await report_notifications(conn, services, stored, record, assessment):
        await outbox.enqueue(conn, now=now, **message)
    reporter = record.reporter_user_id
    if isinstance(data.get("visit_id"), int):  # registered at the door (入户排查)
        await visits.link_report(conn, data["visit_id"], stored.id, reporter)
    if isinstance(data.get("tip_id"), int):  # registered on the spot for a tip (线索)
        await tips.close_in(conn, services, data["tip_id"], "confirmed", reporter, now,
                            report_id=stored.id, how="registered")  # fmt: skip
    # to be verified within arrival_deadline_hours, then up the escalation ladder (a new
    # version of a report still waiting keeps its clock)
    await escalation.start(
        conn,
        services,
        subject=f"report:{stored.id}",
        kind="arrival",
        grid_id=record.grid_id,
        village_id=record.village_id,
        deadline=now + timedelta(hours=services.config.schedule.arrival_deadline_hours),
        ref=stored.ref,
        now=now,
        detail={"name": record.main.name},
    )
    subject = f"report:{stored.id}"
    await audit.record(conn, now, reporter, audit_action(record, stored), subject)
    if stored.companion_of:  # his companion entry there now points to this report
        await audit.record(conn, now, reporter, "report.companion_link", subject,
                           stored.companion_of)  # fmt: skip
    if stored.conflicts:  # kept apart, never merged: the worker checks (in the notice)
        await audit.record(conn, now, reporter, "report.identity_conflict", subject,
                           ",".join(stored.conflicts))  # fmt: skip
    return stored


async def person_for(
    services: Services, report_id: int, actor_id: int, purpose: str
) -> PersonRecord:
    """The main person of a report, shown to staff for ``purpose``: the viewing is audited."""
    person = (await reports.people(services.db, report_id))[0]
    async with services.db.write() as conn:
        await audit.record(conn, services.now(), actor_id, "report.view", f"report:{report_id}",
                           purpose)  # fmt: skip
    return person


async def report(services: Services, report_id: int) -> Any:
    """A report by its id (None: no such report)."""
    return await reports.by_id(services.db, report_id)


async def of_reporter(services: Services, user_id: int) -> list[Any]:
    """/my: the user's own latest reports, each with its main person's name."""
    return await reports.of_reporter(services.db, user_id)


@dataclass(frozen=True)
class Withdrawal:
    """A reporter's withdrawal: done, or (a key-control report) waiting for the grid worker."""

    ref: str
    pending: bool


def withdraw_subject(report_id: int) -> str:
    """A key-control report's withdrawal request: its card's buttons, its escalation."""
    return f"withdraw:{report_id}"


async def withdraw(services: Services, report_id: int, user_id: int) -> Withdrawal | None:
    """The reporter withdraws their open report. A key-control one
    (``withdrawal_needs_worker``) only asks: its monitoring, timers and verification go on,
    and the grid's workers get a card to confirm or refuse, on the escalation ladder until one
    does (``decide_withdrawal``). Any other is withdrawn at once (``_withdrawn``). None when
    it was not theirs or not open."""
    now = services.now()
    async with services.db.write() as conn:
        row = await reports.by_id(conn, report_id)
        if row is None or row["reporter_user_id"] != user_id or row["state"] != "open":
            return None
        if withdrawal_needs_worker(row["risk"], bool(row["alert"]), row["measure_kind"]):
            if await reports.request_withdraw(conn, report_id, user_id, now):
                await _ask_grid(conn, services, row, user_id, now)
            outcome = Withdrawal(row["ref"], pending=True)  # asked before: still waiting
        elif await reports.withdraw(conn, report_id, user_id, now):
            await _withdrawn(conn, services, row, user_id, now, confirmed=False)
            outcome = Withdrawal(row["ref"], pending=False)
        else:
            return None
    services.wake_outbox()
    return outcome


async def _withdrawn(conn: aiosqlite.Connection, services: Services, row: Any, actor: int,
                     now: datetime, *, confirmed: bool) -> None:  # fmt: skip
    """The report ``row`` is withdrawn: its monitoring stops (unannounced to its reporter: he
    asked for it), its timers and escalation end, audited; the grid's staff (and, for a
    key-control person, the leadership group) are told: nobody leaves their lists unseen."""
    subject = f"report:{row['id']}"
    await audit.record(conn, now, actor, "report.withdraw", subject,
                       "confirmed" if confirmed else None)  # fmt: skip
    await stop_monitoring(conn, services, row["id"], now, reason="withdrawn", tell=False)
    await timers.cancel(conn, subject)
    await escalation.stop(conn, subject, now)
    await cards.retire(conn, escalate_offer(subject), now)
    await cards.retire(conn, subject, now, default_locale=services.config.bot.default_locale,
                       note=lambda locale: services.text(locale, "arrivals", "withdrawn_note",
                                                         ref=row["ref"]))  # fmt: skip
    for message in await withdrawn_notifications(conn, services, row, confirmed=confirmed):
        await outbox.enqueue(conn, now=now, **message)


async def _ask_grid(conn: aiosqlite.Connection, services: Services, row: Any, user_id: int,
                    now: datetime) -> None:  # fmt: skip
    """The withdrawal request's card to the grid's workers (confirm / refuse), offered for
    ``withdraw_subject``, and its climb up the ladder until one of them decides."""
    subject = withdraw_subject(row["id"])
    await audit.record(conn, now, user_id, "report.withdraw_request", f"report:{row['id']}")
    params = await _staff_params(conn, services, row)
    recipients = await grid_recipients(conn, services, row["grid_id"])
    locales = await reader_locales(conn, recipients, services.config.bot.default_locale)
    datas = {action: callback(WITHDRAW_FLOW, code, str(row["id"]))
             for action, code in (("confirm", CONFIRM), ("keep", KEEP))}  # fmt: skip
    for chat, locale in locales.items():
        markup = inline_markup([[
            button(services.text(locale, "arrivals", f"btn_withdraw_{action}"), data)
            for action, data in datas.items()
        ]])  # fmt: skip
        key = f"{subject}:{outbox.iso(now)}:to:{chat}"  # asked again after a refusal: anew
        await outbox.enqueue(conn, chat_id=chat, now=now, priority=PRIORITY_ALERT,
                             text=services.text(locale, "arrivals", "withdraw_request", **params),
                             subject=f"report:{row['id']}", reply_markup=markup,
                             dedup_key=key)  # fmt: skip
        await outbox.offer(conn, key, subject, list(datas.values()))
    await escalation.start(
        conn, services, subject=subject, kind="withdrawal", grid_id=row["grid_id"],
        village_id=row["village_id"], ref=row["ref"], now=now, detail={"name": params["name"]},
        deadline=now + timedelta(hours=services.config.schedule.arrival_deadline_hours),
    )  # fmt: skip


async def decide_withdrawal(services: Services, report_id: int, actor: int, confirm: bool) -> str:
    """A grid worker (the caller checked: ``roles.can_verify``) confirms the withdrawal
    (``"confirmed"``: withdrawn, as ``_withdrawn``) or keeps key control (``"kept"``: the
    request dropped); either way the cards lose their buttons, the climb stops, the
    reporter is told, audited. ``"closed"`` when there was no request waiting."""
    now = services.now()
    async with services.db.write() as conn:
        row = await reports.by_id(conn, report_id)
        decided = row is not None and await (
            reports.confirm_withdraw(conn, report_id, now) if confirm
            else reports.refuse_withdraw(conn, report_id)
        )  # fmt: skip
        if not decided:
            return "closed"
        outcome = "confirmed" if confirm else "kept"
        subject = withdraw_subject(report_id)
        await escalation.stop(conn, subject, now)
        await cards.retire(conn, subject, now, default_locale=services.config.bot.default_locale,
                           note=lambda locale: services.text(
                               locale, "arrivals", "withdraw_decided_note", ref=row["ref"],
                               outcome=outcome))  # fmt: skip
        if confirm:
            await _withdrawn(conn, services, row, actor, now, confirmed=True)
        else:
            await audit.record(conn, now, actor, "report.withdraw_refused", f"report:{report_id}")
        await outbox.enqueue(conn, chat_id=row["reporter_chat_id"], now=now,
                             text=services.text(row["locale"], "arrivals",
                                                f"withdraw_{outcome}_person", ref=row["ref"]),
                             subject=f"report:{report_id}",
                             dedup_key=f"{subject}:{outbox.iso(now)}:{outcome}")  # fmt: skip
    services.wake_outbox()
    return outcome


async def _staff_params(conn: aiosqlite.Connection, services: Services, row: Any) -> dict[str, Any]:
    """What a staff notice of the report ``row`` says: its place and main person (masked by
    the renderer in these pushed messages)."""
    village, grid = services.config.grid(row["grid_id"]) or (None, None)
    main = (await reports.people(conn, row["id"]))[0]
    return dict(ref=row["ref"], alert=bool(row["alert"]), name=main.name, phone=main.phone,
                village=village.name if village else row["village_id"],
                grid=grid.name if grid else row["grid_id"])  # fmt: skip


async def withdrawn_notifications(
    conn: aiosqlite.Connection, services: Services, row: Any, *, confirmed: bool = False
) -> list[dict[str, Any]]:
    """Outbox rows telling the grid's staff that the report ``row`` was withdrawn by its
    reporter (``confirmed``: after a worker checked it), the leadership group too when he is
    a key-control person, each in its reader's locale."""
    params = await _staff_params(conn, services, row)
    alert = params["alert"]
    leadership = services.config.leadership.chat_id
    recipients = await grid_recipients(conn, services, row["grid_id"])
    chats = list(dict.fromkeys([*recipients, *([leadership] if alert else [])]))
    locales = await reader_locales(conn, chats, services.config.bot.default_locale)
    return [
        dict(
            chat_id=chat,
            text=services.text(
                locales[chat], "arrivals", "report_withdrawn", confirmed=confirmed, **params
            ),
            priority=PRIORITY_ALERT if alert else PRIORITY_NOTIFY,
            subject=f"report:{row['id']}",
            dedup_key=f"report:{row['id']}:withdrawn:to:{chat}",
        )
        for chat in chats
    ]


# --- who is told about a stored report, and what they read -------------------------------


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
    ``conn``: the transaction storing it. Each reader gets it in their own locale."""
    village, grid = services.config.grid(record.grid_id) or (None, None)
    main = record.main
    unit = await unit_store.get(conn, record.unit_id) if record.unit_id else None
    common = dict(
        **_unit_params(unit, record.data),
        ref=stored.ref,
        updated=stored.updated,
        companion_of=stored.companion_of,
        conflicts=stored.conflicts,
        alert=assessment.alert,
        village=village.name if village else record.village_id,
        grid=grid.name if grid else record.grid_id,
        name=main.name,
        phone=main.phone,
        id_number=main.id_number,
        people=len(record.people),
        arrival=record.arrival_date,
        category=record.category,
    )

    def text(locale: str, name: str) -> str:
        return services.text(
            locale, "arrivals", name, **common,
            risk=services.text(locale, "risk", "category", code=assessment.category),
            measure=services.text(locale, "risk", "measure_kind", kind=record.measure_kind),
            reasons=reason_texts(services, locale, assessment),
        )  # fmt: skip

    subject = f"report:{stored.id}"
    key = f"{subject}:v{stored.version}"
    priority = PRIORITY_ALERT if assessment.alert else PRIORITY_NOTIFY
    leadership = services.config.leadership.chat_id
    recipients = await grid_recipients(conn, services, record.grid_id)
    # a guest registered himself by the venue's QR code: its liaison is told, one line (not
    # for the liaison's own registrations nor a row of the unit's imported list)
    by_qr = unit is not None and registered_via(record.data) == VIA_QR
    liaisons = await unit_store.liaisons(conn, unit["id"]) if by_qr else []
    locales = await reader_locales(
        conn, [*recipients, leadership, *liaisons], services.config.bot.default_locale
    )
    rows = [
        dict(
            chat_id=chat,
            text=text(locales[chat], "report_notice"),
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
                text=text(locales[leadership], name),
                priority=priority,
                subject=subject,
                dedup_key=f"{key}:to:{leadership}",
            )
        )
    guest = dict(ref=stored.ref, unit=common.get("unit"), name=main.name, phone=main.phone,
                 room=record.data.get("room"), venue=common.get("venue"))  # fmt: skip
    rows += [
        dict(
            chat_id=chat,
            text=services.text(locales[chat], "arrivals", "venue_guest_notice", **guest),
            subject=subject,
            dedup_key=f"{key}:unit:to:{chat}",
        )
        for chat in liaisons
    ]
    return rows


VIA_QR, VIA_IMPORT, VIA_LIAISON = "qr", "import", "liaison"


def registered_via(data: dict[str, Any]) -> str:
    """How a unit's report came: a row of the unit's imported list, the person's own scan of
    the unit's QR code (its deep link answers the relation "self"), or its liaison's form."""
    if data.get("imported"):
        return VIA_IMPORT
    if data.get("prefilled_relation") and data.get("relation") == "self":
        return VIA_QR
    return VIA_LIAISON


def _unit_params(unit: Any, data: dict[str, Any]) -> dict[str, Any]:
    """What a notice says of the unit a report was made for (None: a resident's own): its
    name, how the person was registered (``registered_via``: its liaison, its imported list,
    else the person himself by the unit's QR code), whether it is a venue (the words: a
    guest, or the unit's people), and a guest's stay."""
    if unit is None:
        return {}
    stay = (dict(checkin=data.get("checkin_date"), checkout=data.get("checkout_date"),
                 room=data.get("room")) if flow.is_guest(data) else None)  # fmt: skip
    via = registered_via(data)
    return dict(unit=unit["name"], liaison=via == VIA_LIAISON, imported=via == VIA_IMPORT,
                stay=stay, venue=is_venue(unit["kind"]))  # fmt: skip
