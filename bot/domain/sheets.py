"""Reading a table someone uploaded (an XLSX workbook or a CSV file) and finding its columns
by their header names: the CDC's contact lists (bot/domain/contact_import.py) and any other
bulk import.

Pure: bytes in, values out. A file that cannot be read gives an ``Invalid`` naming why, in the
words of ``templates/<locale>/sheets.j2``-style codes rendered by the importing module.

- XLSX through openpyxl (read-only, cached values of formulas); the first sheet. An old
  binary .xls is refused with a reason (save it as .xlsx or CSV), never guessed at.
- CSV as Excel saves it in a Chinese office: UTF-8 with or without BOM, UTF-16 with BOM
  ("Unicode text"), or GBK (read as GB18030, its superset); comma, tab or semicolon.
- The header is the first non-empty row that names at least two known columns (a title
  row such as "附件1：密切接触者名单" above it is skipped); without one, the first non-empty
  row, whose missing columns are then named.
- Header names are compared normalised: full-width to half-width (NFKC), no spaces, no
  case, no required-column star, no bracketed remark ("联系电话（手机）" is "联系电话").
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from bot.domain.invalid import Invalid

Cell = str | int | float | bool | date | datetime | time | None

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary workbook (OLE2)
HEADER_SCAN = 10  # non-empty rows looked at for the header (title rows above it)
HEADER_MIN_KNOWN = 2  # known columns that make a row the header
DELIMITERS = (",", "\t", ";")


@dataclass(frozen=True)
class Limits:
    """What one upload may hold. ``max_scanned``: rows read at most, empty ones included (a
    sheet formatted down to row 1,048,576 must not keep the bot busy)."""

    max_bytes: int
    max_rows: int
    max_columns: int = 60
    max_scanned: int = 100_000


@dataclass(frozen=True)
class Row:
    number: int  # as the leader sees it: the spreadsheet's row number, the CSV's record number
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Sheet:
    """The non-empty rows of the file, in order (header not yet found)."""

    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Column:
    """A column to find: its ``key`` in the records (and in the importer's messages, which
    name it in the reader's words), and the header names it goes by."""

    key: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """The header found and the data rows below it, as {column key: cell}."""

    header_row: int
    records: tuple[tuple[int, dict[str, Cell]], ...]  # (row number, cells by column key)
    ignored: tuple[str, ...]  # header names no column goes by, as written


# --- reading -----------------------------------------------------------------------------


def read_sheet(data: bytes, limits: Limits) -> Sheet | Invalid:
    """The non-empty rows of an XLSX or CSV file's bytes, or why it cannot be read."""
    if len(data) > limits.max_bytes:
        return Invalid("sheet_too_big", {"limit_kb": limits.max_bytes // 1024})
    if not data.strip():
        return Invalid("sheet_empty")
    if data.startswith(XLS_MAGIC):
        return Invalid("sheet_xls")
    rows = _xlsx_rows(data) if data.startswith(XLSX_MAGIC) else _csv_rows(data)
    if isinstance(rows, Invalid):
        return rows
    return _collect(rows, limits)


def _collect(rows: Iterator[tuple[int, tuple[Cell, ...]]], limits: Limits) -> Sheet | Invalid:
    kept: list[Row] = []
    try:
        for number, raw in rows:
            if number > limits.max_scanned:
                return Invalid("sheet_too_long", {"limit": limits.max_scanned})
            cells = tuple(_blank_to_none(c) for c in raw)
            if all(c is None for c in cells):
                continue
            if len(_trimmed(cells)) > limits.max_columns:
                return Invalid("sheet_too_wide", {"limit": limits.max_columns})
            kept.append(Row(number, _trimmed(cells)))
            # the header and the title rows above it come on top of the data rows
            if len(kept) > limits.max_rows + HEADER_SCAN:
                return Invalid("sheet_too_many_rows", {"limit": limits.max_rows})
    except Exception:  # the rows are parsed as they are read: a damaged file fails here
        return Invalid("sheet_unreadable")
    if not kept:
        return Invalid("sheet_empty")
    return Sheet(tuple(kept))


def _blank_to_none(cell: Cell) -> Cell:
    if isinstance(cell, str) and not cell.strip():
        return None
    return cell


def _trimmed(cells: tuple[Cell, ...]) -> tuple[Cell, ...]:
    """Without the empty cells at the end of the row."""
    end = len(cells)
    while end and cells[end - 1] is None:
        end -= 1
    return cells[:end]


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, tuple[Cell, ...]]] | Invalid:
    # imported here: openpyxl takes a while to import, and only an upload needs it
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or foreign zip (a .docx): openpyxl raises many kinds
        return Invalid("sheet_unreadable")
    if not book.worksheets:
        return Invalid("sheet_empty")
    return _xlsx_numbered(book.worksheets[0].iter_rows())


def _xlsx_numbered(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, tuple[Cell, ...]]]:
    """Each row with the number Excel shows: that of its cells (an empty row has none, and
    is dropped anyway)."""
    number = 0
    for row in rows:
        number = next((c.row for c in row if getattr(c, "row", None)), number + 1)
        yield number, tuple(c.value for c in row)


def _numbered(
    rows: Iterable[tuple[Cell, ...]], first: int
) -> Iterator[tuple[int, tuple[Cell, ...]]]:
    for offset, cells in enumerate(rows):
        yield first + offset, tuple(cells)


def _csv_rows(data: bytes) -> Iterator[tuple[int, tuple[Cell, ...]]] | Invalid:
    text = decode_text(data)
    if text is None or "\x00" in text:
        return Invalid("sheet_unreadable")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    return _numbered((tuple(r) for r in reader), 1)


def decode_text(data: bytes) -> str | None:
    """The text of a CSV file as Excel saves it: a BOM names the encoding; without one,
    UTF-8 if it decodes, else GB18030 (GBK's superset, what 'CSV' means on a Chinese
    Windows); None when neither decodes it."""
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _delimiter(text: str) -> str:
    """The delimiter the first non-empty line uses most (a comma when it uses none)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max(DELIMITERS, key=first.count) if any(d in first for d in DELIMITERS) else ","


# --- header ------------------------------------------------------------------------------

Header = tuple[dict[str, int], tuple[str, ...]]  # {column key: position}, names not known

_REMARK = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】")
_NOISE = re.compile(r"[\s*:：_\-·.]+")


def header_key(text: str) -> str:
    """A header name as compared: NFKC, no remark in brackets, no spaces, stars, colons,
    dashes or dots, case-folded ("联系电话（手机）*" and "联系 电话" are "联系电话")."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    without = _REMARK.sub("", folded)
    return _NOISE.sub("", without or folded)


def _index(columns: Sequence[Column]) -> dict[str, str]:
    return {header_key(alias): c.key for c in columns for alias in c.aliases}


def _matches(cells: tuple[Cell, ...], index: Mapping[str, str]) -> int:
    return len({index[k] for c in cells if isinstance(c, str) and (k := header_key(c)) in index})


def locate_header(sheet: Sheet, columns: Sequence[Column]) -> int:
    """Index into ``sheet.rows`` of the header: the first of the first rows that names at
    least two known columns, else the first row."""
    index = _index(columns)
    for position, row in enumerate(sheet.rows[:HEADER_SCAN]):
        if _matches(row.cells, index) >= HEADER_MIN_KNOWN:
            return position
    return 0


def map_header(cells: Sequence[Cell], columns: Sequence[Column],
               required: Sequence[tuple[str, ...]]) -> Header | Invalid:  # fmt: skip
    """{column key: position} of the header's cells, and the header names no column goes by.
    ``required``: groups of column keys of which at least one must be present each (the
    groups lacking are named by their keys). Two
    cells naming the same column are refused (which one holds the data cannot be decided)."""
    index = _index(columns)
    found: dict[str, int] = {}
    ignored: list[str] = []
    for position, cell in enumerate(cells):
        text = "" if cell is None else str(cell)
        key = index.get(header_key(text)) if text.strip() else None
        if key is None:
            if text.strip():
                ignored.append(text.strip())
        elif key in found:
            return Invalid("sheet_duplicate_column", {"name": text.strip()})
        else:
            found[key] = position
    missing = [list(group) for group in required if not set(group) & set(found)]
    if missing:
        return Invalid("sheet_missing_columns", {"groups": missing})
    return found, tuple(ignored)


def table(sheet: Sheet, columns: Sequence[Column], required: Sequence[tuple[str, ...]],
          max_rows: int) -> Table | Invalid:  # fmt: skip
    """The sheet's data rows keyed by column, below the header (see ``locate_header``)."""
    at = locate_header(sheet, columns)
    header = sheet.rows[at]
    mapped = map_header(header.cells, columns, required)
    if isinstance(mapped, Invalid):
        return mapped
    positions, ignored = mapped
    data = sheet.rows[at + 1 :]
    if not data:
        return Invalid("sheet_no_rows")
    if len(data) > max_rows:
        return Invalid("sheet_too_many_rows", {"limit": max_rows})
    records = tuple(
        (row.number, {key: _cell(row.cells, at_) for key, at_ in positions.items()}) for row in data
    )
    return Table(header.number, records, ignored)


def _cell(cells: tuple[Cell, ...], position: int) -> Cell:
    return cells[position] if position < len(cells) else None
