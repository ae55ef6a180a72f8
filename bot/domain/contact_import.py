"""A contact list the CDC sends (疾控中心推送的密接名单, XLSX or CSV): its columns found by their
header names, every row checked as a contact typed in chat would be, each rejected row with
the reason per field.

Pure: the file's bytes come in (bot/domain/sheets.py reads them), ``NewContact`` values and
rejected rows go out. Policy (bot/actions/contact_import.py): a list with any rejected row
imports nothing; the leader fixes the file and sends it again.

Per row, as the CDC writes it:
- kind (类别): 密接 / 次密接 and their long forms; a blank kind is a close contact (the
  stricter measure: a blank never lets anyone off lightly); anything else is refused;
- ID numbers that Excel stored as a number (5.00101E+17: the last digits are gone) are
  refused, never guessed; phones stored as numbers are fine (11 digits fit);
- dates as date cells or as text ("2020-10-25", "10月25日", with or without a time);
- the village (村/社区) and grid (网格) by id or name, a grid also by its number within the
  village ("1", "第1网格"); a village with one grid needs no grid;
- a phone or an ID number at least: without either the person can be neither found again
  (dedup) nor reached;
- the same person twice in one list (the same ID number, or the same name and phone) is
  refused on the later row, naming the earlier one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.domain.contacts import (
    EXPOSURE_LIMIT,
    EXPOSURE_MAX_DAYS,
    NOTE_LIMIT,
    NewContact,
    parse_identity,
)
from bot.domain.invalid import Invalid
from bot.domain.parsing import (
    NAME_LIMIT,
    parse_address,
    parse_date,
    parse_name,
    parse_phone,
    parse_text,
)
from bot.domain.sheets import Cell, Column, Limits, Sheet, Table, read_sheet, table

MAX_BYTES = 2 * 1024 * 1024  # a list of thousands of people is a few hundred KB
MAX_ROWS = 2000  # people in one list
LIMITS = Limits(max_bytes=MAX_BYTES, max_rows=MAX_ROWS)

COLUMNS = (
    Column("name", ("姓名", "名字", "name", "full name")),
    Column("id_number", ("身份证号", "身份证号码", "证件号码", "证件号", "身份证", "身份证件号码",
                         "id number", "id", "id/passport", "passport")),
    Column("phone", ("联系电话", "手机号", "电话", "手机", "手机号码", "联系方式", "电话号码",
                     "phone", "mobile", "telephone")),
    Column("address", ("现住址", "住址", "地址", "现居住地址", "居住地址", "现住地址", "家庭住址",
                       "address", "current address")),
    Column("last_exposure", ("末次接触时间", "末次暴露日期", "末次接触日期", "末次暴露时间",
                             "最后接触时间", "最后接触日期", "last exposure",
                             "last exposure date")),
    Column("kind", ("类别", "接触类型", "人员类别", "人员类型", "类型", "kind", "category")),
    Column("exposure", ("接触方式", "暴露方式", "接触情况", "how exposed", "exposure")),
    Column("note", ("备注", "说明", "note", "notes", "remark", "remarks")),
    Column("village", ("村/社区", "村社区", "村", "社区", "所属村社区", "所在村社区",
                       "village", "community", "village/community")),
    Column("grid", ("网格", "所属网格", "网格号", "grid")),
)  # fmt: skip
# At least one column of each group.
REQUIRED = (("name",), ("address",), ("last_exposure",), ("phone", "id_number"),
            ("village", "grid"))  # fmt: skip

_KINDS = {
    "close": ("密接", "密切接触者", "密切接触", "密接者", "close", "close contact"),
    "secondary": ("次密接", "次密切接触者", "密接的密接", "次密", "secondary",
                  "secondary contact"),
}  # fmt: skip
_SCIENTIFIC = re.compile(r"[0-9]+(?:\.[0-9]+)?[eE][+]?[0-9]+")
_TIME_OF_DAY = re.compile(r"\s*(?:T|\s)\s*[0-9]{1,2}[:：][0-9]{2}(?:[:：][0-9]{2})?$")
_GRID_NUMBER = re.compile(r"第?([0-9]+)(?:号)?(?:网格)?")
_SUFFIX = re.compile(r"(?:村委会|居委会|社区|村)$")


@dataclass(frozen=True)
class Village:
    id: str
    name: str
    grids: tuple[tuple[str, str], ...]  # (grid id, grid name), in config order


@dataclass(frozen=True)
class Problem:
    field: str  # a column key (its header name is shown)
    reason: Invalid


@dataclass(frozen=True)
class Rejected:
    row: int
    name: str  # as written, for the leader to find the row (never shown to others)
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Parsed:
    accepted: tuple[tuple[int, NewContact], ...]  # (row number, contact)
    rejected: tuple[Rejected, ...]
    ignored: tuple[str, ...]  # header names not imported, as written

    @property
    def rows(self) -> int:
        return len(self.accepted) + len(self.rejected)


# --- cells -------------------------------------------------------------------------------


def text_of(cell: Cell) -> str:
    """A cell as the text it shows: a whole number without ``.0``, a date as ISO."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    return str(cell).strip()


def _optional(cell: Cell, limit: int) -> str | Invalid | None:
    text = text_of(cell)
    return parse_text(text, limit) if text else None


def parse_id_cell(cell: Cell, today: date) -> tuple[str, str] | Invalid | None:
    """An ID or passport number; None when blank. A number cell or its printed form
    (5.00101E+17) has lost the ID's last digits in Excel: refused, never completed."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return Invalid("import_id_number_cell")
    text = text_of(cell)
    if not text:
        return None
    if _SCIENTIFIC.fullmatch(unicodedata.normalize("NFKC", text).replace(" ", "")):
        return Invalid("import_id_number_cell")
    return parse_identity(text, today)


def parse_phone_cell(cell: Cell) -> str | Invalid | None:
    text = text_of(cell)
    return parse_phone(text) if text else None


def parse_exposure_date(cell: Cell, today: date) -> date | Invalid:
    """A date cell, or text as typed in chat (a time of day after it is dropped)."""
    if isinstance(cell, datetime):
        cell = cell.date()
    text = _TIME_OF_DAY.sub("", text_of(cell))
    if not text:
        return Invalid("import_blank")
    return parse_date(text, today, EXPOSURE_MAX_DAYS)


def parse_kind(cell: Cell) -> str | Invalid:
    key = _fold(text_of(cell))
    if not key:
        return "close"
    for kind, names in _KINDS.items():
        if key in {_fold(n) for n in names}:
            return kind
    return Invalid("import_kind", {"text": text_of(cell)})


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


# --- places ------------------------------------------------------------------------------


def _village_named(text: str, town: Sequence[Village]) -> Village | None:
    key = _fold(text)
    stem = _SUFFIX.sub("", key)
    for village in town:
        name = _fold(village.name)
        if key in (village.id.casefold(), name) or (stem and stem == _SUFFIX.sub("", name)):
            return village
    return None


def _grid_in(text: str, village: Village) -> str | None:
    key = _fold(text)
    number = _GRID_NUMBER.fullmatch(key)
    for position, (grid_id, name) in enumerate(village.grids, start=1):
        folded = _fold(name)
        short = folded.removeprefix(_fold(village.name))
        if key in (grid_id.casefold(), folded, short):
            return grid_id
        if number and short in (f"第{int(number[1])}网格", f"{int(number[1])}网格"):
            return grid_id
        if number and not short and int(number[1]) == position:
            return grid_id
    return None


def _grid_anywhere(text: str, town: Sequence[Village]) -> list[tuple[Village, str]]:
    """Every grid of the town the text names (by id or name), in the town's order."""
    key = _fold(text)
    return [(village, grid_id) for village in town for grid_id, name in village.grids
            if key in (grid_id.casefold(), _fold(name))]  # fmt: skip


def parse_place(village_cell: Cell, grid_cell: Cell,
                town: Sequence[Village]) -> tuple[str, str] | Problem:  # fmt: skip
    """(village id, grid id) of the town for a row's 村/社区 and 网格 cells."""
    village_text, grid_text = text_of(village_cell), text_of(grid_cell)
    if not village_text and not grid_text:
        return Problem("village", Invalid("import_place_missing"))
    village = _village_named(village_text, town) if village_text else None
    if village_text and village is None:
        return Problem("village", Invalid("import_village_unknown", {"text": village_text}))
    if village is None:
        found = _grid_anywhere(grid_text, town)
        if not found:
            return Problem("grid", Invalid("import_grid_unknown", {"text": grid_text}))
        if len(found) > 1:  # "第1网格" in every village: never guess whose worker is told
            return Problem("grid", Invalid("import_grid_ambiguous", {"text": grid_text}))
        return found[0][0].id, found[0][1]
    if not grid_text:
        if len(village.grids) == 1:
            return village.id, village.grids[0][0]
        return Problem("grid", Invalid("import_grid_missing", {"village": village.name}))
    grid = _grid_in(grid_text, village)
    if grid is None:
        return Problem("grid", Invalid("import_grid_not_in_village",
                                       {"text": grid_text, "village": village.name}))  # fmt: skip
    return village.id, grid


# --- one row -----------------------------------------------------------------------------


def _value(problems: list[Problem], field: str, parsed: Any) -> Any:
    if isinstance(parsed, Invalid):
        problems.append(Problem(field, parsed))
        return None
    return parsed


def _required_text(cell: Cell, parse: Callable[[str], str | Invalid]) -> str | Invalid:
    text = text_of(cell)
    return parse(text) if text else Invalid("import_blank")


def parse_row(cells: Mapping[str, Cell], town: Sequence[Village],
              today: date) -> NewContact | tuple[Problem, ...]:  # fmt: skip
    """One row as a contact, or every problem it has (all of them at once: the leader fixes
    the row in one go)."""
    problems: list[Problem] = []
    name = _value(problems, "name", _required_text(cells.get("name"), parse_name))
    identity = _value(problems, "id_number", parse_id_cell(cells.get("id_number"), today))
    phone = _value(problems, "phone", parse_phone_cell(cells.get("phone")))
    address = _value(problems, "address", _required_text(cells.get("address"), parse_address))
    last = _value(problems, "last_exposure",
                  parse_exposure_date(cells.get("last_exposure"), today))  # fmt: skip
    kind = _value(problems, "kind", parse_kind(cells.get("kind")))
    exposure = _value(problems, "exposure", _optional(cells.get("exposure"), EXPOSURE_LIMIT))
    note = _value(problems, "note", _optional(cells.get("note"), NOTE_LIMIT))
    place = parse_place(cells.get("village"), cells.get("grid"), town)
    if isinstance(place, Problem):
        problems.append(place)
    if not any(text_of(cells.get(k)) for k in ("phone", "id_number")):
        problems.append(Problem("phone", Invalid("import_no_phone_or_id")))
    if problems:
        return tuple(problems)
    id_kind, id_number = identity if identity else (None, None)
    village_id, grid_id = place  # type: ignore[misc]
    return NewContact(kind=kind, last_exposure=last, name=name, phone=phone, id_kind=id_kind,
                      id_number=id_number, address=address, village_id=village_id,
                      grid_id=grid_id, exposure=exposure, note=note)  # fmt: skip


def _keys(contact: NewContact) -> list[tuple[str, ...]]:
    """What makes two rows the same person (bot.domain.records.same_person says anything but
    DIFFERENT): the same ID number, or the same name and phone."""
    keys: list[tuple[str, ...]] = []
    if contact.id_number:
        keys.append(("id", contact.id_number.upper()))
    if contact.phone:
        keys.append(("name_phone", contact.name, contact.phone))
    return keys


def parse_table(found: Table, town: Sequence[Village], today: date) -> Parsed:
    accepted: list[tuple[int, NewContact]] = []
    rejected: list[Rejected] = []
    seen: dict[tuple[str, ...], int] = {}
    for number, cells in found.records:
        row = parse_row(cells, town, today)
        if isinstance(row, NewContact):
            earlier = next((seen[k] for k in _keys(row) if k in seen), None)
            if earlier is not None:
                row = (Problem("person", Invalid("import_duplicate", {"row": earlier})),)
            else:
                seen.update(dict.fromkeys(_keys(row), number))
        if isinstance(row, NewContact):
            accepted.append((number, row))
        else:
            rejected.append(Rejected(number, text_of(cells.get("name"))[:NAME_LIMIT], row))
    return Parsed(tuple(accepted), tuple(rejected), found.ignored)


def parse_file(data: bytes, town: Sequence[Village], today: date) -> Parsed | Invalid:
    """A CDC list's bytes read, its columns found and every row checked; Invalid when the
    file as a whole cannot be used (unreadable, too big, a required column missing)."""
    sheet: Sheet | Invalid = read_sheet(data, LIMITS)
    if isinstance(sheet, Invalid):
        return sheet
    found = table(sheet, COLUMNS, REQUIRED, MAX_ROWS)
    if isinstance(found, Invalid):
        return found
    return parse_table(found, town, today)
