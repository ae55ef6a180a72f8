"""The registers (台账) the town's leaders export, and the layouts that say how each one looks:
its title, and its columns — header, the value shown (a field of the register's rows or a
Jinja2 expression over them), width, cell format and masking.

Pure: a layout is parsed from the mapping a TOML file holds; every problem is named with its
path so ``paicha check-config`` can list them all at once. Expressions run in Jinja2's sandbox
(no underscore attributes, no I/O) and may only name the register's fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.parser import Parser
from jinja2.sandbox import SandboxedEnvironment

from bot.domain import arrivals, cases, contacts, isolation, risk, roles, tips, units
from bot.domain.masking import mask_id, mask_name, mask_phone

REGISTERS = (
    "arrivals",
    "monitoring",
    "tips",
    "visits",
    "cases",
    "contacts",
    "isolation",
    "units",
    "audit",
)

# The fields each register's rows carry (storage/registers.py yields exactly these keys).
# Every row has ``seq`` (序号: 1, 2, 3... in the register's order); ``village``/``grid`` and
# the coded fields (category, risk, measure, state...) come as the words the caller's
# ``names`` give them (see storage/registers.py), else as stored.
_PERSON = ("name", "sex", "id_kind", "id_number", "phone", "address", "village", "grid")
FIELDS: dict[str, frozenset[str]] = {
    "arrivals": frozenset({
        "seq", *_PERSON, "ref", "companion", "companions", "relation", "channel", "unit", "origin",
        "travel", "arrival_date", "transport", "trip", "category", "risk", "alert", "measure",
        "measure_start", "measure_end", "health_code", "test_result", "temperature",
        "symptoms", "review", "registered_at", "updated_at",
    }),
    "monitoring": frozenset({
        "seq", *_PERSON, "ref", "measure", "start_date", "end_date", "state", "worker",
        "tests", "missed", "fevers", "temperatures", "note",
    }),
    "tips": frozenset({
        "seq", "ref", "kind", "venue_kind", "person_name", "person_phone", "relation",
        "description", "village", "grid", "address", "since", "state", "outcome", "result",
        "report_ref", "received_at", "deadline_at", "escalated_at", "handled_at", "handled_by",
    }),
    "visits": frozenset({
        "seq", "at", "village", "grid", "address", "worker", "refused", "people_present",
        "temperatures", "fever", "arrivals", "reports", "note",
    }),
    "cases": frozenset({
        "seq", *_PERSON, "ref", "kind", "source", "report_ref", "status", "state",
        "confirmation", "discovered_at", "deadline_at", "reported_at", "direct_report_no",
        "reported_by", "within_2h", "traced_at", "contacts",
    }),
    "contacts": frozenset({
        "seq", *_PERSON, "ref", "kind", "cases", "case_names", "exposure", "last_exposure",
        "measure",
        "measure_start", "measure_end", "state", "site", "room", "registered_at",
    }),
    "isolation": frozenset({
        "seq", *_PERSON, "ref", "person_kind", "site", "room", "measure", "start_date",
        "end_date", "state", "assigned_at", "arrived_at", "released_at", "end_reason", "tests",
    }),
    "units": frozenset({
        "seq", "unit_id", "name", "kind", "village", "grid", "address", "headcount",
        "monitored", "day", "slot", "report_state", "zero", "present", "new_arrivals",
        "key_region", "symptomatic", "report_note", "filed_at",
    }),
    "audit": frozenset({"seq", "at", "actor", "actor_name", "roles", "action", "subject",
                        "ref", "detail"}),
}  # fmt: skip

# The fields that are a day mapping {date: str} (e.g. monitoring's temperatures per day): only
# these may fill a ``days`` column, which expands into one column per day of the export.
DAY_FIELDS: dict[str, frozenset[str]] = {
    **{r: frozenset() for r in REGISTERS},
    "monitoring": frozenset({"temperatures"}),
}

# The actions the audit log records (every ``audit.record`` and refusal of the code base:
# tests/test_register_actions.py reads them from the source) and the nouns of ``view:<noun>``
# and ``denied:<what>``: the 操作 column shows them as words (storage.registers _Words.action).
AUDIT_ACTIONS = (
    "arrival.import", "arrival.import_rejected", "arrival.import_repeated",
    "arrival.import_template", "audit.export", "case.ack", "case.confirm", "case.create",
    "case.direct_report", "case.rule_out", "case.tick", "case.view", "certificate.check",
    "certificate.reject", "certificate.view", "contact.add", "contact.complete", "contact.import",
    "contact.import_refused", "contact.import_rejected", "contact.lookup", "contact.view",
    "escalation.ack", "export", "invite.create", "invite.revoke", "mobilisation.arrived",
    "mobilisation.call", "mobilisation.close", "mobilisation.declined", "mobilisation.received",
    "monitoring.cover", "monitoring.extend", "monitoring.release", "monitoring.resume",
    "monitoring.rneg", "monitoring.rpos", "monitoring.sample", "monitoring.shorten",
    "monitoring.stop", "monitoring.unreachable", "monitoring.view", "person.view", "posters",
    "regions.baseline", "regions.change", "regions.downgrade.confirm", "regions.downgrade.keep",
    "regions.rescreen", "release.confirm.extend", "release.confirm.hold",
    "release.confirm.not_due", "release.confirm.release", "release.extend", "release.release",
    "report.companion_link", "report.correct", "report.create", "report.escalated",
    "report.identity_conflict", "report.update", "report.verified", "report.view",
    "report.withdraw", "report.withdraw_refused", "report.withdraw_request", "report.wrong",
    "retention.purge", "roster.add", "roster.auto", "roster.bind", "roster.edit", "roster.link",
    "samples.negative", "samples.positive", "samples.sampled", "site.active", "site.add",
    "site.close", "site.edit", "site.order", "site.reopen", "site.tick", "staff.bind",
    "staff.move", "staff.revoke", "stats.view", "stay.arrive", "stay.assign", "supply.count",
    "supply.issue", "supply.list", "supply.receive", "supply.request", "supply.request_issued",
    "supply.request_refused", "tip.checking", "tip.confirmed", "tip.create", "tip.escalated",
    "tip.not_found", "tip.unfounded", "transfer.acknowledge", "transfer.cancel",
    "transfer.deliver", "transfer.dispatch", "transfer.list", "transfer.pick_up",
    "transfer.request", "transfer.view", "unit.monitor", "unit.unmonitor", "unit_report.correct",
    "unit_report.file", "unit_report.zero", "vehicle.add", "vehicle.list", "vehicle.state",
    "visit.create",
)  # fmt: skip
AUDIT_NOUNS = (
    "case", "certificate", "contact", "escalation", "invite", "isolation", "mobilisation",
    "monitor", "monitoring", "person", "regions", "release", "report", "roster", "roster_join",
    "samples", "site", "sites", "staff", "stats", "status", "stay", "supply", "tasks", "tip",
    "transfer", "unit", "units", "vehicle", "verify", "visit", "visits",
)  # fmt: skip
AUDIT_PREFIXES = ("view", "denied")

# The codes the rows turn into the reader's words: ``names["<kind>:<code>"]`` (village:<id>
# and grid:<id> come from the config). A code without a word is shown as stored.
CODES: dict[str, tuple[str, ...]] = {
    "sex": ("male", "female"),
    "id_kind": ("id", "passport"),
    "flag": ("yes", "no"),
    "person": ("main", "companion"),
    "relation": arrivals.RELATIONS,
    "channel": ("resident", "unit", "visit", "tip"),
    "category": arrivals.CATEGORIES,
    "risk": risk.RISK_CATEGORIES,
    "measure": risk.MEASURE_KINDS,
    "transport": arrivals.TRANSPORTS,
    "health_code": arrivals.HEALTH_CODES,
    "test_result": (*arrivals.TEST_RESULTS, "planned"),
    "symptom": risk.SYMPTOMS,
    "review": ("pending", "escalated", "verified", "wrong"),
    "monitoring_state": ("active", "released", "stopped"),
    "checkin": ("missed",),
    "tip_kind": tips.KINDS,
    "venue_kind": tips.VENUES,
    "tip_relation": tips.RELATIONS,
    "tip_state": ("open", "checking", "closed"),
    "tip_outcome": tips.OUTCOMES,
    "case_kind": cases.KINDS,
    "case_state": ("open", "reported", "closed"),
    "case_source": ("arrival", "monitoring"),
    "confirmation": ("pending", "confirmed", "ruled_out"),
    "contact_kind": contacts.KINDS,
    "contact_state": ("traced", "isolating", "released", "case", "closed"),
    "stay_state": ("assigned", "in", "released", "ended"),
    "person_kind": (isolation.CONTACT, isolation.ARRIVAL, isolation.CASE),
    "unit_kind": units.KINDS,
    "unit_report_state": ("due", "filed"),
    "role": roles.STAFF_ROLES,
    "audit_action": AUDIT_ACTIONS,
    "audit_noun": AUDIT_NOUNS,
    "audit_prefix": AUDIT_PREFIXES,
}

# Sex as a mainland ID number tells it (its 17th digit: odd a man, even a woman).
ID_LENGTH = 18


def sex_of(id_kind: str | None, id_number: str | None) -> str | None:
    """ "male" or "female" from a mainland ID number; None when it cannot tell (a passport,
    none given, not 18 characters)."""
    if id_kind != "id" or not id_number or len(id_number) != ID_LENGTH:
        return None
    digit = id_number[ID_LENGTH - 2]
    if not digit.isdigit():
        return None
    return "male" if int(digit) % 2 else "female"


FORMATS = ("text", "integer", "number", "date", "datetime", "temperature", "days")
MASKS = ("none", "name", "phone", "id_number", "address")
ADDRESS_KEPT = 6  # an address is masked to its first characters (the village, the street)
SHEET_MAX = 31  # Excel's limit on a worksheet's name
SHEET_FORBIDDEN = frozenset("[]:*?/\\")
WIDTH_MIN, WIDTH_MAX = 1, 100
DEFAULT_WIDTH = 12
LAYOUT_KEYS = frozenset({"title", "title_en", "sheet", "sheet_en", "columns"})
COLUMN_KEYS = frozenset({"header", "header_en", "value", "width", "format", "mask"})
# Jinja2 reads these bare words as constants, not as a field of the row.
CONSTANTS = frozenset({"true", "false", "none", "True", "False", "None"})

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def mask_address(value: str) -> str:
    return value[:ADDRESS_KEPT] + "***" if len(value) > ADDRESS_KEPT else value


MASKERS: dict[str, Callable[[str], str]] = {
    "name": mask_name,
    "phone": mask_phone,
    "id_number": mask_id,
    "address": mask_address,
}


# Between the names (or phones, IDs, references) listed in one cell: 同行人员 "李四、王五".
SEPARATOR = "、"
# An address is masked whole: its parts are not people, and each would show its first ones.
LISTED = frozenset({"name", "phone", "id_number"})


def masked(kind: str, value: Any) -> Any:
    """``value`` as a reader not entitled to personal data sees it under mask ``kind``; a
    cell listing several people masks each of them (never 李四、王五 as one name)."""
    if kind == "none" or value is None or value == "":
        return value
    mask = MASKERS[kind]
    if kind in LISTED:
        return SEPARATOR.join(mask(part) for part in str(value).split(SEPARATOR))
    return mask(str(value))


class LayoutError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _is_plain(value: str) -> bool:
    return value.isidentifier() and value not in CONSTANTS


def _expression(source: str) -> nodes.Template:
    """The expression's syntax tree (as Environment.compile_expression builds it), so its names
    can be checked before it is compiled."""
    parser = Parser(_ENV, source, state="variable")
    expr = parser.parse_expression()
    if not parser.stream.eos:
        parser.fail("unexpected text after the expression")
    body = [nodes.Assign(nodes.Name("result", "store"), expr, lineno=1)]
    tree = nodes.Template(body, lineno=1)
    tree.set_environment(_ENV)
    return tree


@dataclass(frozen=True)
class Column:
    header: str
    header_en: str
    value: str
    width: int = DEFAULT_WIDTH
    format: str = "text"
    mask: str = "none"

    def cell(self, row: Mapping[str, Any]) -> Any:
        """The column's value for ``row``, unmasked."""
        if self._plain:
            return row[self.value]  # the fast path: most columns are a field as it is
        return self._compiled(**row)

    @cached_property
    def _plain(self) -> bool:
        return _is_plain(self.value)

    @cached_property
    def _compiled(self) -> Callable[..., Any]:
        return _ENV.compile_expression(self.value, undefined_to_none=False)


@dataclass(frozen=True)
class Layout:
    register: str
    title: str
    title_en: str
    sheet: str
    sheet_en: str
    columns: tuple[Column, ...]


def _text(data: Mapping, key: str, where: str, problems: list[str]) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}{key}: a non-empty text is required")
        return ""
    return value


def _sheet(value: Any, fallback: str, where: str, problems: list[str]) -> str:
    if value is None:
        name = "".join(c for c in fallback if c not in SHEET_FORBIDDEN)[:SHEET_MAX]
        return name.strip() or "Sheet1"
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: a non-empty text is required")
    elif len(value) > SHEET_MAX:
        problems.append(f"{where}: {len(value)} characters, Excel allows at most {SHEET_MAX}")
    elif SHEET_FORBIDDEN & set(value):
        problems.append(f"{where}: none of {''.join(sorted(SHEET_FORBIDDEN))} is allowed")
    else:
        return value
    return "Sheet1"


def _unknown(data: Mapping, known: frozenset[str], where: str, problems: list[str]) -> None:
    for key in data:
        if key not in known:
            problems.append(f"{where}{key}: unknown key (known: {', '.join(sorted(known))})")


def _check_value(register: str, value: str, fmt: str, where: str, problems: list[str]) -> None:
    fields = FIELDS.get(register, frozenset())
    day_fields = DAY_FIELDS.get(register, frozenset())
    if fmt == "days":
        if value not in day_fields:
            days = ", ".join(sorted(day_fields)) or "none"
            problems.append(
                f'{where}value: "{value}" is not a day mapping of {register} (those: {days})'
            )
    elif not _is_plain(value):
        _check_expression(register, value, fields, day_fields, where, problems)
    elif value not in fields:
        problems.append(f'{where}value: "{value}" is not a field of {register}')
    elif value in day_fields:  # a {date: text} mapping fits no single cell
        problems.append(
            f'{where}value: "{value}" is a day mapping: only a format = "days" column may show it'
        )


def _check_expression(
    register: str,
    value: str,
    fields: frozenset[str],
    day_fields: frozenset[str],
    where: str,
    problems: list[str],
) -> None:
    try:
        tree = _expression(value)
        for node in tree.find_all((nodes.Getattr,)):
            if node.attr.startswith("_"):
                problems.append(f'{where}value: "{node.attr}": no attribute with "_" may be read')
                return
        named = meta.find_undeclared_variables(tree)
        _ENV.compile_expression(value)  # unknown filters and tests are found here
    except TemplateError as error:
        problems.append(f'{where}value: "{value}" is not a valid expression ({error.message})')
        return
    unknown = sorted(named - fields)
    if unknown:
        problems.append(f"{where}value: {', '.join(unknown)}: not a field of {register}")
    days = sorted(named & day_fields)
    if days:
        problems.append(
            f'{where}value: {", ".join(days)}: a day mapping, only a format = "days" column '
            "may show it"
        )


def _column(register: str, data: Any, where: str, problems: list[str]) -> Column | None:
    if not isinstance(data, Mapping):
        problems.append(f"{where}: a table is required")
        return None
    before = len(problems)
    _unknown(data, COLUMN_KEYS, f"{where}.", problems)
    header = _text(data, "header", f"{where}.", problems)
    header_en = _text(data, "header_en", f"{where}.", problems)
    value = _text(data, "value", f"{where}.", problems)
    width = data.get("width", DEFAULT_WIDTH)
    if type(width) is not int or not WIDTH_MIN <= width <= WIDTH_MAX:
        problems.append(f"{where}.width: {width!r} is not a whole number {WIDTH_MIN}..{WIDTH_MAX}")
    fmt = data.get("format", "text")
    if fmt not in FORMATS:
        problems.append(f'{where}.format: "{fmt}" is not one of {", ".join(FORMATS)}')
    mask = data.get("mask", "none")
    if mask not in MASKS:
        problems.append(f'{where}.mask: "{mask}" is not one of {", ".join(MASKS)}')
    if value and fmt in FORMATS:
        _check_value(register, value, fmt, f"{where}.", problems)
    if len(problems) > before:
        return None
    return Column(header, header_en, value, width, fmt, mask)


def _duplicates(columns: list[Column], where: str, problems: list[str]) -> None:
    for attribute in ("header", "header_en"):
        seen: set[str] = set()
        for index, column in enumerate(columns):
            text = getattr(column, attribute)
            if text in seen:
                problems.append(f'{where}columns[{index}].{attribute}: "{text}" appears twice')
            seen.add(text)


def parse(register: str, data: Any, where: str) -> Layout:
    """The layout of ``register`` from a TOML file's table; ``where`` names the file in each
    problem. Raises LayoutError listing every problem found."""
    prefix = f"{where}: "
    if register not in REGISTERS:
        raise LayoutError([f"{prefix}{register!r} is not a register ({', '.join(REGISTERS)})"])
    if not isinstance(data, Mapping):
        raise LayoutError([f"{prefix}a table is required"])
    problems: list[str] = []
    _unknown(data, LAYOUT_KEYS, prefix, problems)
    title = _text(data, "title", prefix, problems)
    title_en = _text(data, "title_en", prefix, problems)
    sheet = _sheet(data.get("sheet"), title, f"{prefix}sheet", problems)
    sheet_en = _sheet(data.get("sheet_en"), title_en, f"{prefix}sheet_en", problems)
    raw = data.get("columns")
    columns: list[Column] = []
    if not isinstance(raw, list) or not raw:
        problems.append(f"{prefix}columns: at least one [[columns]] table is required")
    else:
        for index, item in enumerate(raw):
            column = _column(register, item, f"{prefix}columns[{index}]", problems)
            if column is not None:
                columns.append(column)
        _duplicates(columns, prefix, problems)
    if problems:
        raise LayoutError(problems)
    return Layout(register, title, title_en, sheet, sheet_en, tuple(columns))
