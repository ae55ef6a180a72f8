"""A minimal streaming XLSX (Office Open XML SpreadsheetML) writer: one worksheet per file,
inline strings, a fixed small table of styles, the print setup of a register (台账).

Hand-written because the register export must write 100,000 rows in under 10 s: xlsxwriter
costs 5–7 µs a cell (its bare write_row loop alone took 18–21 s for 100k rows × 29 columns),
while formatting the XML with f-strings and deflating it straight into the file writes the
whole register, layout and masking included, in under 6 s (bench/export.py prints both). The
workbook's fixed parts (content types, relationships, workbook, styles) are those xlsxwriter
writes for the same features, less its unused theme, so Excel, WPS and LibreOffice read it as
they read xlsxwriter's.

The zip is the standard library's (``zipfile``): the worksheet streams into its member as
it is made. The file's size so far (``size``) is what has reached the disk, short of what the
compressor still holds (a block: tens of KB), which the caller's margin covers when it ends a
part before Telegram's 50 MB. A part never reaches zip64's sizes: callers split far below
2 GiB (RAW_MAX).

Elements follow the order the schema demands (CT_Worksheet: sheetPr, dimension, sheetViews,
sheetFormatPr, cols, sheetData, autoFilter, mergeCells, printOptions, pageMargins, pageSetup,
headerFooter): Excel refuses a file with them out of order. ``<dimension>`` is left out (it is
optional): it comes before the rows, whose number is known only at the end.
"""

from __future__ import annotations

import contextlib
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

MAX_CHARS = 32_767  # Excel's limit on a cell's text
CUT = "…"
# Excel's 1900 date system counts days from 1899-12-30 (right from 1900-03-01 on, after the
# 1900-02-29 it believes in).
EPOCH = date(1899, 12, 30).toordinal()
SECONDS_A_DAY = 86_400
RAW_MAX = 2**31 - 2**27  # the worksheet's bytes: zipfile writes zip32 members below 2 GiB
CHUNK = 1 << 20  # rows are deflated in chunks of about this many characters
WIDTH_PAD = 0.7109375  # what Excel adds to a width in characters for the cell's padding
TITLE_HEIGHT = 30

# Characters XML 1.0 forbids (controls other than tab, newline and CR; lone surrogates, which
# UTF-8 cannot carry; U+FFFE/U+FFFF): a resident's name with \x0b must not corrupt the file.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Style:
    """The cell formats of styles.xml (cellXfs), by position (plain ints: an IntEnum in an
    f-string costs a call through Enum.__format__ per cell)."""

    DEFAULT = 0
    TITLE = 1  # 18 pt bold, centred: the register's title, merged across the columns
    LINE = 2  # the lines under the title (period, filed by)
    HEADER = 3  # bold, bordered, wrapped, grey
    TEXT = 4  # "@": IDs and phones stay text, never 1.1E+17
    DATE = 5  # yyyy-mm-dd
    DATETIME = 6  # yyyy-mm-dd hh:mm
    DECIMAL = 7  # 0.0 (temperatures)
    INTEGER = 8  # 0
    NUMBER = 9  # General


def escape(text: str) -> str:
    """``text`` as XML character data: & < > escaped, CR kept (a parser reads a bare CR as a
    newline), characters XML forbids dropped, cut to Excel's limit with "…"."""
    special = _SPECIAL.search(text) is not None  # hardly ever: a cell is mostly left as it is
    if special:
        text = _FORBIDDEN.sub("", text)
    if len(text) > MAX_CHARS // 2:  # a code point is one or two of the UTF-16 units Excel counts
        text = _cut(text)
    if not special:
        return text
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;")


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str) -> str:
    """``text`` cut to Excel's MAX_CHARS UTF-16 units, ending "…" when cut."""
    if _units(text) <= MAX_CHARS:
        return text
    kept = text[: MAX_CHARS - 1]
    while (excess := _units(kept) - (MAX_CHARS - 1)) > 0:
        kept = kept[: -((excess + 1) // 2)]  # each code point dropped is 1 or 2 units
    return kept + CUT


def _attribute(text: str) -> str:
    return escape(text).replace('"', "&quot;")


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def serial(value: date) -> float | int:
    """A naive date or datetime as Excel's serial number (days since 1899-12-30)."""
    days = value.toordinal() - EPOCH
    if not isinstance(value, datetime):
        return days
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    return days + seconds / SECONDS_A_DAY


def text_cell(ref: str, text: str, style: int) -> str:
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def number_cell(ref: str, number: float, style: int) -> str:
    return f'<c r="{ref}" s="{style}"><v>{number!r}</v></c>'


def blank_cell(ref: str, style: int) -> str:
    return f'<c r="{ref}" s="{style}"/>'


def cell(ref: str, value: Any, style: int = Style.DEFAULT) -> str:
    """Any value by its type: None blank, a number a number, a date a serial, else text."""
    if value is None:
        return blank_cell(ref, style)
    if isinstance(value, int) and not isinstance(value, bool):
        return number_cell(ref, value, style)
    if isinstance(value, float) and math.isfinite(value):  # Excel has no NaN nor infinity
        return number_cell(ref, value, style)
    if isinstance(value, date):
        return number_cell(ref, serial(value), style)
    return text_cell(ref, str(value), style)


@dataclass(frozen=True)
class Sheet:
    """A worksheet's setup: what stays the same in every part of an export."""

    name: str  # ≤ 31 characters, none of []:*?/\
    widths: Sequence[int]  # in characters, one per column
    header_row: int  # 0-based: frozen below it, filtered from it, repeated on every page
    page_header: str = ""  # centred at the top of each printed page ("&" is literal)
    page_footer: str = ""  # centred at the bottom; Excel's codes (&P, &N) work
    author: str = ""


class Writer:
    """One workbook being written to ``path``: ``row`` after ``row``, then ``close``."""

    def __init__(self, path: Path, sheet: Sheet, *, made: datetime) -> None:
        self.path = path
        self.sheet = sheet
        self.rows = 0  # rows written so far; the next is rows + 1 in Excel's numbering
        self.raw = 0  # the worksheet's bytes before deflate
        self._merged: list[str] = []
        self._buffer: list[str] = []
        self._buffered = 0
        # deflate at zlib's default level (6): the 100k-row bench's file is 14% smaller than at
        # 1 (18 MB, not 21: a quicker download on a village's mobile data) for 0.7 s more
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        try:
            for name, content in _fixed_parts(sheet, made):
                self._zip.writestr(_member(name), content)
            self._sheet = self._zip.open(_member(WORKSHEET), "w")
            self._put(_sheet_head(sheet))
        except BaseException:
            self.discard()
            raise

    def row(self, cells: str, height: float | None = None) -> None:
        """A row of cells as made by ``text_cell``, ``number_cell``… with refs in row
        ``self.rows + 1``."""
        self.rows += 1
        tall = f' ht="{height}" customHeight="1"' if height else ""
        self._buffer.append(f'<row r="{self.rows}"{tall}>{cells}</row>')
        self._buffered += len(cells)
        if self._buffered > CHUNK:
            self._drain()

    def values(self, values: Iterable[Any], style: int = Style.DEFAULT) -> None:
        """A row of any values, typed by ``cell``: simple, not the fastest."""
        number = self.rows + 1
        self.row(
            "".join(cell(f"{column_letter(c)}{number}", v, style) for c, v in enumerate(values))
        )

    def merge(self, first: tuple[int, int], last: tuple[int, int]) -> None:
        """Merge the cells from (row, column) to (row, column), 0-based."""
        self._merged.append(f"{_ref(*first)}:{_ref(*last)}")

    def size(self) -> int:
        """The file's bytes so far: the worksheet deflated up to its last row, but for what the
        compressor still holds."""
        self._drain()
        return self._zip.fp.tell()

    def close(self) -> Path:
        """Finish the file; if that fails, none is left half written."""
        last = max(self.rows - 1, self.sheet.header_row)
        span = (_ref(self.sheet.header_row, 0), _ref(last, len(self.sheet.widths) - 1))
        try:
            self._put(_sheet_tail(self.sheet, ":".join(span), self._merged))
            self._sheet.close()
            self._zip.writestr(_member("xl/workbook.xml"), _workbook(self.sheet, span))
            self._zip.close()
        except BaseException:
            self.discard()
            raise
        return self.path

    def discard(self) -> None:
        """Drop the unfinished file: it may hold personal data. (Closed first, so nothing
        writes to it after it is gone; a failure to close, a full disk say, changes nothing.)"""
        with contextlib.suppress(Exception):
            self._sheet.close()
        with contextlib.suppress(Exception):
            self._zip.close()
        self.path.unlink(missing_ok=True)

    def _put(self, text: str) -> None:
        self._buffer.append(text)
        self._drain()

    def _drain(self) -> None:
        data = "".join(self._buffer).encode()
        self._buffer.clear()
        self._buffered = 0
        self.raw += len(data)
        self._sheet.write(data)


def _ref(row: int, column: int) -> str:
    return f"{column_letter(column)}{row + 1}"


def _absolute(ref: str) -> str:
    letters = ref.rstrip("0123456789")
    return f"${letters}${ref[len(letters) :]}"


WORKSHEET = "xl/worksheets/sheet1.xml"


def _member(name: str) -> zipfile.ZipInfo:
    """A member dated 1980-01-01, as xlsxwriter writes: the same rows give the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


# --- the parts ----------------------------------------------------------------------------

_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE = "application/vnd.openxmlformats-officedocument"

_CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/docProps/app.xml" ContentType="{_OFFICE}.extended-properties+xml"/>'
    '<Override PartName="/docProps/core.xml" '
    'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_OFFICE}.spreadsheetml.styles+xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE}.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_OFFICE}.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)

_ROOT_RELS = (
    f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)

_WORKBOOK_RELS = (
    f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)

_FONT = '<sz val="{size}"/><name val="Calibri"/><family val="2"/>'
_THIN = '<{side} style="thin"><color auto="1"/></{side}>'
_BORDER = "".join(_THIN.format(side=s) for s in ("left", "right", "top", "bottom"))
_CENTRED = '<alignment horizontal="center" vertical="center"/>'
_WRAPPED = '<alignment horizontal="center" vertical="center" wrapText="1"/>'
_STYLES = (
    f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="4"><numFmt numFmtId="164" formatCode="@"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="166" formatCode="yyyy-mm-dd hh:mm"/>'
    '<numFmt numFmtId="167" formatCode="0.0"/></numFmts>'
    f'<fonts count="3"><font>{_FONT.format(size=11)}</font><font><b/>{_FONT.format(size=18)}'
    f"</font><font><b/>{_FONT.format(size=11)}</font></fonts>"
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFD9D9D9"/><bgColor indexed="64"/>'
    "</patternFill></fill></fills>"
    f'<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    f"<border>{_BORDER}<diagonal/></border></borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="10">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
    f'applyAlignment="1">{_CENTRED}</xf>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="2" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" '
    f'applyBorder="1" applyAlignment="1">{_WRAPPED}</xf>'
    + "".join(
        f'<xf numFmtId="{n}" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" '
        'applyBorder="1"/>'
        for n in (164, 165, 166, 167, 1, 0)
    )
    + "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
    'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
)


def _core(sheet: Sheet, made: datetime) -> str:
    stamp = made.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:creator>{escape(sheet.author)}</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _app(sheet: Sheet) -> str:
    name = escape(sheet.name)
    return (
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
        'docPropsVTypes"><Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity>'
        '<ScaleCrop>false</ScaleCrop><HeadingPairs><vt:vector size="4" baseType="variant">'
        "<vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4>"
        "</vt:variant><vt:variant><vt:lpstr>Named Ranges</vt:lpstr></vt:variant><vt:variant>"
        "<vt:i4>1</vt:i4></vt:variant></vt:vector></HeadingPairs><TitlesOfParts>"
        f'<vt:vector size="2" baseType="lpstr"><vt:lpstr>{name}</vt:lpstr>'
        f"<vt:lpstr>{name}!Print_Titles</vt:lpstr>"
        "</vt:vector></TitlesOfParts><LinksUpToDate>false</LinksUpToDate><SharedDoc>false"
        "</SharedDoc><HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion>"
        "</Properties>"
    )


def _fixed_parts(sheet: Sheet, made: datetime) -> list[tuple[str, str]]:
    parts = [
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _ROOT_RELS),
        ("docProps/app.xml", _app(sheet)),
        ("docProps/core.xml", _core(sheet, made)),
        ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
        ("xl/styles.xml", _STYLES),
    ]
    return [(name, _DECLARATION + xml) for name, xml in parts]


def _quoted(name: str) -> str:
    """A sheet's name in a formula: always quoted (spaces, CJK), its quotes doubled."""
    return "'" + _attribute(name).replace("'", "''") + "'"


def _workbook(sheet: Sheet, span: tuple[str, str]) -> str:
    name = _quoted(sheet.name)
    first, last = (_absolute(ref) for ref in span)
    header = sheet.header_row + 1
    return (
        f'{_DECLARATION}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<fileVersion appName="xl" lastEdited="4" lowestEdited="4" rupBuild="4505"/>'
        '<workbookPr defaultThemeVersion="124226"/><bookViews><workbookView xWindow="240" '
        'yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews>'
        f'<sheets><sheet name="{_attribute(sheet.name)}" sheetId="1" r:id="rId1"/></sheets>'
        '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
        f"{name}!{first}:{last}</definedName>"
        '<definedName name="_xlnm.Print_Titles" localSheetId="0">'
        f"{name}!${header}:${header}</definedName></definedNames>"
        '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
    )


def _sheet_head(sheet: Sheet) -> str:
    below = sheet.header_row + 1
    cols = "".join(
        f'<col min="{n}" max="{n}" width="{width + WIDTH_PAD}" customWidth="1"/>'
        for n, width in enumerate(sheet.widths, start=1)
    )
    return (
        f'{_DECLARATION}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        f'<pane ySplit="{below}" topLeftCell="A{below + 1}" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
    )


def _sheet_tail(sheet: Sheet, span: str, merged: Sequence[str]) -> str:
    merges = "".join(f'<mergeCell ref="{ref}"/>' for ref in merged)
    merge_cells = f'<mergeCells count="{len(merged)}">{merges}</mergeCells>' if merged else ""
    top = f"<oddHeader>{escape('&C' + sheet.page_header.replace('&', '&&'))}</oddHeader>"
    bottom = f"<oddFooter>{escape('&C' + sheet.page_footer)}</oddFooter>"
    return (
        f'</sheetData><autoFilter ref="{span}"/>{merge_cells}'
        '<printOptions horizontalCentered="1"/>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        '<pageSetup paperSize="9" fitToHeight="0" orientation="landscape"/>'
        f"<headerFooter>{top if sheet.page_header else ''}"
        f"{bottom if sheet.page_footer else ''}</headerFooter>"
        "</worksheet>"
    )
