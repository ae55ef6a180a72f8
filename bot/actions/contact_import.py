"""Importing the contact list the CDC sends for a case (XLSX or CSV) in one transaction.

Policy: nothing half-imported. A list with any rejected row imports nothing at all; the
leader gets every rejected row with its reason per field, fixes the file and sends it again
(the conversation stays open for it). A list whose every row is valid is added whole by
``bot.actions.contacts.add_all`` (dedup against everyone known, measures, the grid workers
told, the case card's counts) inside this action's transaction, with the audit row and the
end of the conversation: a crash leaves either all of it or none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from bot.actions import contacts
from bot.config import Config
from bot.domain import contact_import as domain
from bot.domain.callbacks import button, callback
from bot.domain.contact_import import Parsed, Village
from bot.domain.invalid import Invalid
from bot.domain.masking import Audience
from bot.domain.messages import split_message
from bot.runtime.services import Services
from storage import audit, cases, drafts

FLOW = "imp"  # the case card's button: v1:imp:<case id>
MODULE = "contact_import"
SHEETS = "sheets"  # bot/domain/sheets.py's reasons: templates/*/sheets.j2, shared by imports
IMPORTED, REJECTED, NO_CASE, CLOSED = "imported", "rejected", "no_case", "case_closed"


def town(config: Config) -> tuple[Village, ...]:
    """The town's villages and grids as the row parser matches them."""
    return tuple(
        Village(v.id, v.name, tuple((g.id, g.name) for g in v.grids)) for v in config.villages
    )


def import_button(services: Services, locale: str, case_id: int) -> dict[str, str]:
    """ "导入密接名单" for a case card (opens the import in the presser's private chat)."""
    return button(services.text(locale, MODULE, "btn_import"), callback(FLOW, str(case_id)))


def subject(case_id: int) -> str:
    return f"case:{case_id}"


# --- checking ----------------------------------------------------------------------------


def check(services: Services, data: bytes) -> Parsed | Invalid:
    """The file read and every row checked, against the town's places and today's date."""
    return domain.parse_file(data, town(services.config), services.local_today())


def reason(services: Services, locale: str, invalid: Invalid) -> str:
    """A reason's words: the file's (sheets), the import's own, or a field parser's (errors)."""
    params = invalid.params
    if invalid.code == "sheet_missing_columns":  # the columns in the reader's words
        params = {"groups": [[Markup(services.text(locale, MODULE, "field", key=key))
                              for key in group] for group in params["groups"]]}  # fmt: skip
    if invalid.code.startswith("sheet_"):
        module = SHEETS
    elif invalid.code in services.renderer.messages(locale, MODULE):
        module = MODULE
    else:
        module = "errors"
    return services.text(locale, module, invalid.code, **params)


# --- importing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    state: str  # IMPORTED | REJECTED | NO_CASE | CLOSED (the case ruled out: nobody added)
    ref: str = ""  # the case's
    added: contacts.Added | None = None  # when imported


async def commit(services: Services, case_id: int, parsed: Parsed, *, user_id: int, name: str,
                 file_name: str, draft_user: int, token: str) -> Outcome:  # fmt: skip
    """One transaction: every row added and the conversation ended, or (a row rejected)
    nothing but the audit of the attempt; a case ruled out meanwhile: nobody added, the
    attempt audited, the conversation ended."""
    now = services.now()
    detail = {"file": file_name, "rows": parsed.rows, "accepted": len(parsed.accepted),
              "rejected": [r.row for r in parsed.rejected]}  # fmt: skip
    async with services.db.write() as conn:
        case = await cases.get(conn, case_id)
        if case is None:
            await drafts.delete(conn, draft_user, token)
            return Outcome(NO_CASE)
        if parsed.rejected:
            await audit.record(conn, now, user_id, "contact.import_rejected", subject(case_id),
                               json.dumps(detail, ensure_ascii=False))  # fmt: skip
            return Outcome(REJECTED, case["ref"])
        entries = [contact for _, contact in parsed.accepted]
        result = await contacts.add_all(conn, services, case_id, entries, user_id, name, "import")
        if result.closed:
            await audit.record(conn, now, user_id, "contact.import_refused", subject(case_id),
                               json.dumps(detail, ensure_ascii=False))  # fmt: skip
            await drafts.delete(conn, draft_user, token)
            return Outcome(CLOSED, case["ref"])
        await audit.record(conn, now, user_id, "contact.import", subject(case_id),
                           json.dumps(detail, ensure_ascii=False))  # fmt: skip
        await drafts.delete(conn, draft_user, token)
    services.wake_outbox()
    return Outcome(IMPORTED, case["ref"], result)


# --- the summary -------------------------------------------------------------------------


def rejected_rows(parsed: Any, words: Callable[[Invalid], str]) -> list[dict[str, Any]]:
    """Every rejected row of a parsed list (this one's, or a unit's arrivals) with its
    problems, each reason in ``words`` — rendered already (escaped once), so not escaped
    again inside the summary."""
    return [
        {"row": r.row, "name": r.name,
         "problems": [{"field": p.field, "reason": Markup(words(p.reason))}
                      for p in r.problems]}
        for r in parsed.rejected
    ]  # fmt: skip


def summary(services: Services, locale: str, outcome: Outcome, parsed: Parsed,
            file_name: str) -> list[str]:  # fmt: skip
    """What the leader reads, split under Telegram's limit: the counts, then every rejected
    row with the reason per field (the leader sent the file: entitled to its names)."""
    rejected = rejected_rows(parsed, lambda invalid: reason(services, locale, invalid))
    text = services.text(locale, MODULE, "summary", audience=Audience.ENTITLED,
                         state=outcome.state, ref=outcome.ref, file=file_name,
                         rows=parsed.rows, accepted=len(parsed.accepted), rejected=rejected,
                         ignored=list(parsed.ignored),
                         outcomes=outcome.added.counts() if outcome.added else {})  # fmt: skip
    return split_message(text)


# --- the case the list is for ------------------------------------------------------------


async def case_of(services: Services, case_id: int | None = None,
                  ref: str | None = None) -> Any:  # fmt: skip
    """The case (id, ref) a list is imported for, by id (the card's button) or reference
    number (the command); None when there is none."""
    if case_id is not None:
        return await cases.get(services.db, case_id)
    return await cases.by_ref(services.db, (ref or "").strip())
