"""Writing a register (台账) as the town's offices keep it: an XLSX workbook with the title rows
a Chinese office expects above a frozen, filtered header, ready to print; or a plain CSV for
other programs.

Synchronous and streaming (bot/runtime/xlsx.py: rows deflated into the file as they come): callers
run it in a worker thread over rows read from a read-only connection, so a 100,000-row export
neither blocks the bot nor fills its memory. The words around the data (title rows, day
headers, page footer) come from ``templates/<locale>/registers.j2`` through a ``text``
function the caller passes in (``services.text``), so this module never imports services.

The layouts are ``templates/registers/<register>.toml``; a town overrides any of them with a
file of the same name in its ``[registers] dir``.
"""

from __future__ import annotations

import csv
import html
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.registers import REGISTERS, Column, Layout, LayoutError, masked, parse
from bot.runtime import assets, xlsx
from bot.runtime.xlsx import Style

MODULE = "registers"  # templates/<locale>/registers.j2
TITLE_ROWS = 3  # title, period, filed by: the header is the 4th row
HEADER_ROW = TITLE_ROWS
MAX_BYTES = 49_000_000  # Telegram's bots may send documents of up to 50 MB
# How often a part's size is taken, and the margin over it: what the compressor still holds (a
# deflate block: about 30 KB measured, at most its 64 KB of input) and what closing adds (the
# worksheet's last elements, the workbook, the zip's directory: about 2 KB).
CHECK_ROWS = 200
OVERHEAD = 70_000
TITLE_HEIGHT = 30  # points: the title's row, for its 18-point letters
NUMBER_STYLES = {"integer": Style.INTEGER, "number": Style.NUMBER, "temperature": Style.DECIMAL}
CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")  # a cell a spreadsheet would read as a formula


def shipped() -> Path:
    return assets.templates() / "registers"


def _load(path: Path, register: str, where: str) -> Layout:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise LayoutError([f"{where}: no such file"]) from error
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise LayoutError([f"{where}: cannot be read ({error})"]) from error
    return parse(register, data, where)


def _sources(directory: Path | None) -> Iterable[tuple[str, Path, str]]:
    """(register, file, name in problems): the town's file where it has one, else the shipped."""
    for register in REGISTERS:
        own = directory / f"{register}.toml" if directory else None
        if own is not None and own.exists():
            yield register, own, str(own)
        else:
            yield register, shipped() / f"{register}.toml", f"templates/registers/{register}.toml"


def problems(directory: Path | None) -> list[str]:
    """Every problem of the layouts in use (for ``paicha check-config``), shipped and town's,
    plus any file in the town's folder that names no register."""
    found: list[str] = []
    for register, path, where in _sources(directory):
        try:
            _load(path, register, where)
        except LayoutError as error:
            found.extend(error.problems)
    if directory is not None:
        if not directory.is_dir():
            return [*found, f"{directory}: no such folder (registers.dir)"]
        found += [
            f"{path}: not a register ({', '.join(REGISTERS)})"
            for path in sorted(directory.glob("*.toml"))
            if path.stem not in REGISTERS
        ]
    return found


def layouts(directory: Path | None) -> dict[str, Layout]:
    """Every register's layout: the shipped one, or the town's file of the same name."""
    found: dict[str, Layout] = {}
    errors: list[str] = []
    for register, path, where in _sources(directory):
        try:
            found[register] = _load(path, register, where)
        except LayoutError as error:
            errors.extend(error.problems)
    if errors:
        raise LayoutError(errors)
    return found


@dataclass(frozen=True)
class Heading:
    town: str
    office: str  # 填报单位
    author: str  # 填报人
    made_at: datetime  # aware
    start: date | None
    end: date | None


@dataclass(frozen=True)
class Written:
    paths: list[Path]
    rows: int


class Words:
    """The words around the data in ``locale``, from templates/<locale>/registers.j2.
    ``text`` is services.text: (locale, module, name, **params) -> str."""

    def __init__(self, text: Callable[..., str], locale: str) -> None:
        self._text = text
        self.locale = locale

    def __call__(self, name: str, **params: Any) -> str:
        # The renderer escapes for Telegram's HTML; a cell is plain text.
        return html.unescape(self._text(self.locale, MODULE, name, **params))

    def office(self, town: str) -> str:
        """The default 填报单位: the town's epidemic office."""
        return self("office", town=town)


def _headers(layout: Layout, locale: str, words: Words, days: Sequence[date]) -> list[str]:
    headers: list[str] = []
    for column in layout.columns:
        if column.format == "days":
            headers += [words("day", d=d) for d in days]
        else:
            headers.append(column.header_en if locale == "en" else column.header)
    return headers


def _widths(layout: Layout, days: Sequence[date]) -> list[int]:
    widths: list[int] = []
    for column in layout.columns:
        widths += [column.width] * (len(days) if column.format == "days" else 1)
    return widths


Getter = Callable[[Mapping[str, Any]], Any]
Put = Callable[[str, Any], str]  # (the cell's ref, its value) -> the cell's XML


def _cells(layout: Layout, entitled: bool, days: Sequence[date]) -> list[tuple[Column, Getter]]:
    """Each column of the sheet (a ``days`` column expanded, one per day) with the function
    giving its value of a row, masked unless the reader is entitled: chosen once, not per
    cell."""
    found: list[tuple[Column, Getter]] = []
    for column in layout.columns:
        if column.format == "days":
            found += [(column, partial(_day, column, day)) for day in days]
        elif entitled or column.mask == "none":
            found.append((column, column.cell))
        else:
            found.append((column, partial(_masked, column)))
    return found


def _day(column: Column, day: date, row: Mapping[str, Any]) -> Any:
    return (column.cell(row) or {}).get(day)


def _masked(column: Column, row: Mapping[str, Any]) -> Any:
    return masked(column.mask, column.cell(row))


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    """A naive datetime in the town's time (Excel has no time zones)."""
    return value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value


def _text(ref: str, value: Any) -> str:
    """IDs and phones stay text (never 1.1E+17); so does anything that is not of its column's
    kind, shown as it is rather than dropped."""
    if value is None or value == "":
        return xlsx.blank_cell(ref, Style.TEXT)
    return xlsx.text_cell(ref, str(value), Style.TEXT)


def _number(style: int, ref: str, value: Any) -> str:
    # type(), not isinstance: a bool is no number here
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return xlsx.number_cell(ref, value, style)
    return _text(ref, value)


def _moment(style: int, tz: ZoneInfo, ref: str, value: Any) -> str:
    if isinstance(value, datetime):
        local = _local(value, tz)
        return xlsx.number_cell(
            ref, xlsx.serial(local.date() if style == Style.DATE else local), style
        )
    if isinstance(value, date):
        return xlsx.number_cell(ref, xlsx.serial(value), style)
    return _text(ref, value)


def _put(column: Column, tz: ZoneInfo) -> Put:
    """How a cell of ``column`` is written, chosen once per column."""
    if column.format in NUMBER_STYLES:
        return partial(_number, NUMBER_STYLES[column.format])
    if column.format == "date":
        return partial(_moment, Style.DATE, tz)
    if column.format == "datetime":
        return partial(_moment, Style.DATETIME, tz)
    return _text


Plan = list[tuple[str, Getter, Put]]  # per column: its letter, its value, its writing


def _plan(layout: Layout, entitled: bool, days: Sequence[date], tz: ZoneInfo) -> Plan:
    return [
        (xlsx.column_letter(index), get, _put(column, tz))
        for index, (column, get) in enumerate(_cells(layout, entitled, days))
    ]


class _Part:
    """One workbook of an export: the title rows and header, then rows until it is full."""

    def __init__(self, path: Path, setup: _Setup) -> None:
        self.book = xlsx.Writer(path, setup.sheet, made=setup.made)
        self.compressed = 0
        setup.begin(self.book)

    @property
    def rows(self) -> int:
        """The data rows written so far."""
        return self.book.rows - HEADER_ROW - 1

    def add(self, plan: Plan, row: Mapping[str, Any]) -> None:
        number = str(self.book.rows + 1)
        self.book.row("".join([put(letter + number, get(row)) for letter, get, put in plan]))

    def full(self, max_bytes: int) -> bool:
        """Whether the part must end here: another CHECK_ROWS rows like the last could pass
        ``max_bytes`` with what closing adds (or the worksheet's size zip32 can record)."""
        before, self.compressed = self.compressed, self.book.size()
        grown = self.compressed - before
        return self.compressed + 2 * grown + OVERHEAD > max_bytes or self.book.raw > xlsx.RAW_MAX

    def discard(self) -> None:
        self.book.discard()

    def close(self) -> Path:
        return self.book.close()


@dataclass(frozen=True)
class _Setup:
    sheet: xlsx.Sheet
    made: datetime
    title: str
    period: str
    filed: str
    headers: list[str]

    def begin(self, book: xlsx.Writer) -> None:
        last = len(self.headers) - 1
        book.row(xlsx.text_cell("A1", self.title, Style.TITLE), height=TITLE_HEIGHT)
        if last > 0:
            book.merge((0, 0), (0, last))
        book.row(xlsx.text_cell("A2", self.period, Style.LINE))
        book.row(xlsx.text_cell("A3", self.filed, Style.LINE))
        number = HEADER_ROW + 1
        book.row(
            "".join(
                xlsx.text_cell(f"{xlsx.column_letter(index)}{number}", header, Style.HEADER)
                for index, header in enumerate(self.headers)
            )
        )


def _part_path(path: Path, number: int) -> Path:
    return path.with_name(f"{path.stem}-{number}{path.suffix}")


def write_xlsx(
    path: Path,
    layout: Layout,
    rows: Iterable[Mapping[str, Any]],
    *,
    heading: Heading,
    words: Words,
    tz: ZoneInfo,
    entitled: bool,
    days: Sequence[date] = (),
    max_bytes: int = MAX_BYTES,
) -> Written:
    """Write ``rows`` to ``path``; when one file would pass ``max_bytes``, to ``<stem>-1.xlsx``,
    ``<stem>-2.xlsx``…, each a complete register with its title rows and header."""
    english = words.locale == "en"
    title = words("title", town=heading.town, register=layout.title_en if english else layout.title)
    setup = _Setup(
        sheet=xlsx.Sheet(
            name=layout.sheet_en if english else layout.sheet,
            widths=_widths(layout, days),
            header_row=HEADER_ROW,
            page_header=title,
            page_footer=words("footer"),
            author=heading.author,
        ),
        made=heading.made_at,
        title=title,
        period=words("period", start=heading.start, end=heading.end),
        filed=words(
            "filed", office=heading.office, author=heading.author, made=_local(heading.made_at, tz)
        ),
        headers=_headers(layout, words.locale, words, days),
    )
    plan = _plan(layout, entitled, days, tz)
    paths: list[Path] = []
    part: _Part | None = None
    count = 0
    try:
        for row in rows:
            if part is None:  # opened when a row comes: no trailing part with a header alone
                part = _Part(_next_path(path, paths), setup)
            part.add(plan, row)
            count += 1
            if part.rows % CHECK_ROWS == 0 and part.full(max_bytes):
                paths.append(part.close())
                part = None
    except BaseException:  # no file of personal data left behind, nor parts of a register
        if part is not None:
            part.discard()
        for done in paths:
            done.unlink(missing_ok=True)
        raise
    if part is None and not paths:  # no rows: the register with its header alone
        part = _Part(path, setup)
    if part is not None:
        paths.append(part.close())
    return Written(paths, count)


def _next_path(path: Path, paths: list[Path]) -> Path:
    """The next part's file: ``path`` for the first; from the second on, ``<stem>-N``, the
    first renamed ``<stem>-1``."""
    if not paths:
        return path
    if len(paths) == 1:
        paths[0] = paths[0].rename(_part_path(path, 1))
    return _part_path(path, len(paths) + 1)


def _csv_text(value: str) -> str:
    """A text cell a spreadsheet would take for a number (an 18-digit ID becomes
    1.10101E+17, its last digits lost; a leading 0 is dropped) or for a formula (a resident's
    "=HYPERLINK(…)" would run) gets a leading TAB. Excel, WPS and LibreOffice then keep the
    cell as text, and the TAB is invisible. ``="…"`` would do for Excel alone: LibreOffice's
    CSV import shows it as the literal formula text."""
    if value[:1] in CSV_RISKY or _numeric(value):
        return "\t" + value
    return value


def _numeric(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _csv_cell(column: Column, value: Any, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = _local(value, tz)
        return (
            local.date().isoformat() if column.format == "date" else local.isoformat(" ", "minutes")
        )
    if isinstance(value, date):
        return value.isoformat()
    if column.format == "temperature" and isinstance(value, int | float):
        return f"{value:.1f}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return _csv_text(str(value))


def write_csv(
    path: Path,
    layout: Layout,
    rows: Iterable[Mapping[str, Any]],
    *,
    words: Words,
    tz: ZoneInfo,
    entitled: bool,
    days: Sequence[date] = (),
) -> Written:
    """The header row and one line per row, UTF-8 with a BOM (so Excel reads the Chinese):
    no title rows, so other programs read it as it is."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(_headers(layout, words.locale, words, days))
        cells = _cells(layout, entitled, days)
        for row in rows:
            writer.writerow(_csv_cell(column, get(row), tz) for column, get in cells)
            count += 1
    return Written([path], count)
