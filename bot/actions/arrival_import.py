"""Importing a unit's arrivals from the liaison's spreadsheet (XLSX or CSV) in one transaction.

Policy: nothing half-imported. A file with any rejected row imports nothing at all; the
liaison gets every rejected row with its reason per field, fixes the file and sends it again
(the conversation stays open for it). A file whose every row is valid is stored whole: each
row an arrival report of the unit through ``bot.actions.arrivals.store_in`` — the chat form's
own submit, so risk, measure, monitoring, the group's alert, the grid worker's notice, the
verification deadline on the ladder and dedup against the reports already stored all apply —
with the audit row and the end of the conversation, in one transaction.

Each row's report carries the token ``import:<file digest>:<row>``: the same file sent again is
found by it and imported no second time (the liaison is told). A row just as the person's open
report already is (a cumulative list: yesterday's rows again) is skipped — no new version, no
notice — and counted as unchanged.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup

from bot.actions import units
from bot.actions.arrivals import build_record, form_context, store_in
from bot.actions.contact_import import SHEETS, rejected_rows
from bot.domain import arrival_import as domain
from bot.domain import units as unit_rules
from bot.domain.arrival_import import Parsed, Unit
from bot.domain.callbacks import button, callback, inline_markup
from bot.domain.invalid import Invalid
from bot.domain.masking import Audience
from bot.domain.messages import split_message
from bot.domain.records import ReportRecord
from bot.domain.roles import Actor
from bot.runtime.services import Services
from storage import arrivals as reports
from storage import audit, drafts, outbox
from storage import units as unit_store
from storage.drafts import Draft

FLOW = "bi"  # the buttons: v1:bi:<o open | t template>:<unit id>
OPEN, TEMPLATE = "o", "t"
MODULE = "arrival_import"
PERMISSION = "unit.import"  # audited as denied:unit.import
IMPORTED, REJECTED, REPEATED, GONE = "imported", "rejected", "repeated", "gone"
TEMPLATE_NAME = {"zh": "单位人员报到模板.xlsx", "en": "unit-arrivals-template.xlsx"}
TEXT_COLUMNS = ("phone", "id_number", "trip", "room")  # never numbers: Excel drops digits


def may_import(services: Services, actor: Actor, row: Any) -> bool:
    """A unit's file: its liaisons (and admins), and the staff who see the unit — the town's
    leaders, its village's admins, its grid's workers (A's ``units.may_view``). A liaison of
    another unit is none of them."""
    return row is not None and bool(row["active"]) and units.may_view(services, actor, row)


def unit_of(services: Services, row: Any) -> Unit | Invalid:
    """The unit as the row parser places its people: its grid, or its village's only one; a
    unit that names no grid in a village of several cannot say whose worker follows its
    people (never guessed)."""
    village = services.config.village(row["village_id"])
    grids = [g.id for g in village.grids] if village else []
    grid = row["grid_id"] or (grids[0] if len(grids) == 1 else None)
    if grid is None:
        return Invalid("import_unit_no_grid", {"name": row["name"]})
    return Unit(row["id"], row["kind"], row["village_id"], grid, row["address"] or "")


def digest(data: bytes) -> str:
    """The file's digest as it names the reports it made (short: the token stays readable)."""
    return hashlib.sha256(data).hexdigest()[:16]


def row_token(file_digest: str, row: int) -> str:
    return f"import:{file_digest}:{row}"


# --- checking ----------------------------------------------------------------------------


def check(services: Services, data: bytes, unit: Unit) -> Parsed | Invalid:
    return domain.parse_file(data, unit, form_context(services))


def field_name(services: Services, locale: str, key: str) -> str:
    return services.text(locale, MODULE, "field", key=key)


def reason(services: Services, locale: str, invalid: Invalid) -> str:
    """A reason's words: the file's (sheets), the import's own or the CDC list's (an ID cell
    Excel turned into a number), or a field parser's (errors, the arrival form's)."""
    params = dict(invalid.params)
    if invalid.code == "sheet_missing_columns":  # the columns in the reader's words
        params = {"groups": [[Markup(field_name(services, locale, key)) for key in group]
                             for group in params["groups"]]}  # fmt: skip
    if invalid.code.startswith("sheet_"):
        return services.text(locale, SHEETS, invalid.code, **params)
    for module in (MODULE, "contact_import", "errors", "arrivals"):
        if invalid.code in services.renderer.messages(locale, module):
            return services.text(locale, module, invalid.code, **params)
    return services.text(locale, MODULE, "import_invalid")


# --- importing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    state: str  # IMPORTED | REJECTED | REPEATED (this very file was imported) | GONE
    unit: str = ""  # the unit's name
    added: int = 0  # new reports
    updated: int = 0  # the same person's open report brought up to date (dedup)
    alerts: int = 0  # people the leadership group was alerted about
    unchanged: int = 0  # rows just as the person's open report: nothing stored, nobody told


def _draft(record_data: dict[str, Any], token: str, user_id: int, chat_id: int,
           locale: str) -> Draft:  # fmt: skip
    """A finished draft of the arrival form holding one row's answers (never stored: it is
    what ``build_record`` turns into a report, as for a chat submit)."""
    return Draft(user_id=user_id, chat_id=chat_id, flow="arrival", token=token, locale=locale,
                 step="summary", data=record_data, last_update_id=0, updated_at="")  # fmt: skip


async def commit(services: Services, unit_id: str, parsed: Parsed, *, file_digest: str,
                 file_name: str, draft: Draft) -> Outcome:  # fmt: skip
    """One transaction: every row stored as the unit's arrival report and the conversation
    ended; or (a row rejected) nothing but the audit of the attempt; or (the same file again)
    nothing but its audit, the conversation ended."""
    now = services.now()
    user = draft.user_id
    detail = {"file": file_name, "digest": file_digest, "rows": parsed.rows,
              "accepted": len(parsed.accepted),
              "rejected": [r.row for r in parsed.rejected]}  # fmt: skip
    tokens = [row_token(file_digest, number) for number, _ in parsed.accepted]
    async with services.db.write() as conn:
        row = await unit_store.get(conn, unit_id)
        if row is None or not row["active"]:
            await drafts.delete(conn, user, draft.token)
            return Outcome(GONE)
        if parsed.rejected:
            await _audit(conn, services, user, "arrival.import_rejected", unit_id, detail)
            return Outcome(REJECTED, row["name"])
        if await _imported_before(conn, tokens):
            await _audit(conn, services, user, "arrival.import_repeated", unit_id, detail)
            await drafts.delete(conn, user, draft.token)
            return Outcome(REPEATED, row["name"])
        added = updated = unchanged = alerts = 0
        since = now - timedelta(days=services.config.arrival.lookback_days)  # as store_in
        for (_, data), token in zip(parsed.accepted, tokens, strict=True):
            one = _draft(data, token, user, draft.chat_id, draft.locale)
            record, assessment, _ = build_record(services, one)
            if await _unchanged(conn, record, since):
                unchanged += 1
                continue
            stored = await store_in(conn, services, record, assessment, now=now)
            updated += stored.updated
            added += not stored.updated
            alerts += assessment.alert
        await _audit(conn, services, user, "arrival.import", unit_id,
                     {**detail, "added": added, "updated": updated, "unchanged": unchanged,
                      "alerts": alerts})  # fmt: skip
        await drafts.delete(conn, user, draft.token)
    services.wake_outbox()
    return Outcome(IMPORTED, row["name"], added, updated, alerts, unchanged)


async def _unchanged(conn: Any, record: ReportRecord, since: datetime) -> bool:
    """The person's open report says just what this row says (yesterday's rows of a
    cumulative list sent again): no new version, no notice, no alert for it."""
    own = (await reports.find_same_person(conn, record.main, since)).own
    if own is None:
        return False
    stored = await reports.by_id(conn, own.report_id)
    if (stored["risk"], stored["measure_kind"]) != (record.risk, record.measure_kind):
        return False
    return json.loads(stored["data"]) == json.loads(json.dumps(record.data))  # as stored


async def _imported_before(conn: Any, tokens: Sequence[str]) -> bool:
    for token in tokens:
        if await reports.by_draft(conn, token) is not None:
            return True
    return False


async def _audit(conn: Any, services: Services, user: int, action: str, unit_id: str,
                 detail: dict[str, Any]) -> None:  # fmt: skip
    await audit.record(conn, services.now(), user, action, unit_rules.subject(unit_id),
                       json.dumps(detail, ensure_ascii=False))  # fmt: skip


# --- the summary -------------------------------------------------------------------------


def summary(services: Services, locale: str, outcome: Outcome, parsed: Parsed,
            file_name: str) -> list[str]:  # fmt: skip
    """What the liaison reads, split under Telegram's limit: the counts, then every rejected
    row with the reason per field (the liaison sent the file: entitled to its names)."""
    rejected = rejected_rows(parsed, lambda invalid: reason(services, locale, invalid))
    text = services.text(locale, MODULE, "summary", audience=Audience.ENTITLED,
                         state=outcome.state, unit=outcome.unit, file=file_name,
                         rows=parsed.rows, accepted=len(parsed.accepted), rejected=rejected,
                         ignored=list(parsed.ignored), added=outcome.added,
                         updated=outcome.updated, unchanged=outcome.unchanged,
                         alerts=outcome.alerts)  # fmt: skip
    return split_message(text)


# --- entry: the units, the buttons, the template -----------------------------------------


async def importable(services: Services, actor: Actor) -> list[Any]:
    """The active units the actor may import for, by village then name."""
    return [r for r in await unit_store.active(services.db) if may_import(services, actor, r)]


def open_button(services: Services, locale: str, row: Any) -> dict[str, str]:
    """A unit to choose in /import_arrivals' list: its name."""
    return button(row["name"], callback(FLOW, OPEN, row["id"]))


def menu_button(services: Services, locale: str, unit_id: str) -> dict[str, str]:
    """ "📋 批量导入" for a liaison's menu or a unit's card (the import of that unit)."""
    return button(services.text(locale, MODULE, "btn_menu"), callback(FLOW, OPEN, unit_id))


def template_markup(services: Services, locale: str, unit_id: str) -> dict[str, Any]:
    label = services.text(locale, MODULE, "btn_template")
    return inline_markup([[button(label, callback(FLOW, TEMPLATE, unit_id))]])


def template_file(locale: str) -> tuple[str, bytes]:
    """The empty workbook to fill in: the header row in the reader's language, the columns
    that hold digits formatted as text (an ID typed into a number cell loses its last
    digits)."""
    from openpyxl import Workbook  # slow to import; only a template needs it
    from openpyxl.styles import Font

    english = not locale.startswith("zh")
    book = Workbook()
    sheet = book.active
    sheet.append(list(domain.template_header(english)))
    for position, column in enumerate(domain.COLUMNS, start=1):
        head = sheet.cell(row=1, column=position)
        head.font = Font(bold=domain.is_required(column.key))  # the columns every row fills
        sheet.column_dimensions[head.column_letter].width = 16
        if column.key in TEXT_COLUMNS:
            for row in range(2, domain.MAX_ROWS + 2):
                sheet.cell(row=row, column=position).number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return TEMPLATE_NAME["en" if english else "zh"], out.getvalue()


async def send_template(services: Services, user_id: int, chat_id: int, locale: str,
                        unit_id: str) -> None:  # fmt: skip
    """The template as a document through the outbox (durable like any push), audited."""
    now = services.now()
    caption = services.text(locale, MODULE, "template_caption", limit=domain.MAX_ROWS)
    document = template_file(locale)  # built before the write lock: it takes tens of ms
    async with services.db.write() as conn:
        await outbox.enqueue(conn, chat_id=chat_id, text=caption, now=now,
                             document=document, subject=unit_rules.subject(unit_id),
                             dedup_key=f"import-template:{chat_id}:{outbox.iso(now)}")  # fmt: skip
        await audit.record(
            conn, now, user_id, "arrival.import_template", unit_rules.subject(unit_id)
        )
    services.wake_outbox()
