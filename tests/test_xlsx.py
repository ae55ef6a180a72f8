"""The hand-written XLSX writer (bot/runtime/xlsx.py) read back as others read it: openpyxl
(styles, merged title, frozen pane, filter, print setup), Python's zipfile and an XML parser
(a valid zip, well-formed parts, the worksheet's elements in the schema's order), LibreOffice
(one headless run for the module: the values come back as a town office would see them).
Known answers for Excel's column letters, date serials and the cell text's escaping; a
property test that any text survives a cell."""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.runtime import registers, xlsx
from bot.runtime.xlsx import Sheet, Style, Writer

MADE = datetime(2020, 11, 20, 1, 5, tzinfo=UTC)
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
ID = "110101199001011234"
HOSTILE = "A&B <b>\"quoted\"</b> 'single' 张\x0b三\x00 🙂 "
# CT_Worksheet's sequence, as far as the writer uses it
ORDER = (
    "sheetPr",
    "dimension",
    "sheetViews",
    "sheetFormatPr",
    "cols",
    "sheetData",
    "autoFilter",
    "mergeCells",
    "printOptions",
    "pageMargins",
    "pageSetup",
    "headerFooter",
)


@pytest.mark.parametrize(
    ("index", "letters"),
    [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"), (701, "ZZ"), (702, "AAA"),
     (16383, "XFD")],
)  # fmt: skip
def test_column_letters(index, letters):
    assert xlsx.column_letter(index) == letters


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (date(1900, 3, 1), 61),
        (date(2020, 11, 19), 44154),
        (datetime(2020, 11, 19, 12, 0), 44154.5),
        (datetime(2020, 11, 20, 0, 30), 44155 + 1 / 48),
        (datetime(2020, 11, 20, 0, 0, 1, 500_000), 44155 + 1.5 / 86400),
    ],
)
def test_dates_are_excel_serial_numbers(value, number):
    assert xlsx.serial(value) == pytest.approx(number, abs=1e-9)
    assert isinstance(xlsx.serial(value), int) == (type(value) is date)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("张三", "张三"),
        ("a&b<c>d", "a&amp;b&lt;c&gt;d"),
        ("&amp;", "&amp;amp;"),
        ("say \"hi\" 'x'", "say \"hi\" 'x'"),
        ("张\x0b三", "张三"),
        ("\x00\x08\x1f\x7f", "\x7f"),
        ("tab\tnew\nline", "tab\tnew\nline"),
        ("cr\r\n", "cr&#13;\n"),
        ("🙂", "🙂"),
        ("\ud800a\udfff", "a"),
        ("\ufffe\uffffb", "b"),
    ],
)
def test_escape(text, escaped):
    assert xlsx.escape(text) == escaped


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("x" * 32_767, "x" * 32_767),
        ("x" * 32_768, "x" * 32_766 + "…"),
        ("x" * 40_000, "x" * 32_766 + "…"),
        ("🙂" * 16_383 + "x", "🙂" * 16_383 + "x"),  # 32,767 UTF-16 units: Excel's limit
        ("🙂" * 16_384, "🙂" * 16_383 + "…"),
        ("x" + "🙂" * 16_384, "x" + "🙂" * 16_382 + "…"),
        ("&" * 32_768, "&amp;" * 32_766 + "…"),
    ],
)
def test_text_longer_than_excel_allows_is_cut(text, kept):
    assert xlsx.escape(text) == kept
    assert units(xlsx.escape(text).replace("&amp;", "&")) <= xlsx.MAX_CHARS


def read_cell(xml: str) -> str:
    t = ET.fromstring(xml.replace("<c ", f'<c xmlns="{MAIN[1:-1]}" ', 1)).find(f"{MAIN}is/{MAIN}t")
    assert t is not None
    return t.text or ""


def allowed(char: str) -> bool:
    """What XML 1.0 lets a document hold (of the characters a str may have)."""
    if char in "\t\n\r":
        return True
    return char >= " " and not "\ud800" <= char <= "\udfff" and char not in "\ufffe\uffff"


# hypothesis draws no lone surrogates by itself: they are sampled in
ALPHABET = st.characters(blacklist_categories=()) | st.sampled_from("\ud800\udfff\ufffe\x0b\r&<>")


@given(st.text(ALPHABET, max_size=300))
def test_any_text_survives_a_cell_but_what_xml_forbids(text):
    xml = xlsx.text_cell("B7", text, Style.TEXT)
    xml.encode()  # no lone surrogate left
    assert read_cell(xml) == "".join(c for c in text if allowed(c))


def test_cells_by_type():
    assert xlsx.cell("A1", None) == '<c r="A1" s="0"/>'
    assert xlsx.cell("A1", 3) == '<c r="A1" s="0"><v>3</v></c>'
    assert xlsx.cell("A1", 36.5, Style.DECIMAL) == '<c r="A1" s="7"><v>36.5</v></c>'
    assert xlsx.cell("A1", date(2020, 11, 19)) == '<c r="A1" s="0"><v>44154</v></c>'
    assert "<t>True</t>" in xlsx.cell("A1", True)  # a bool is not a number
    assert "<t>nan</t>" in xlsx.cell("A1", math.nan)  # Excel has no NaN: shown as text
    assert "<t>inf</t>" in xlsx.cell("A1", math.inf)
    assert '<t xml:space="preserve"> a </t>' in xlsx.cell("A1", " a ")


SHEET = Sheet(
    name="来返人员",
    widths=[10, 20, 12, 17, 8],
    header_row=3,
    page_header="先锋镇 A&B",
    page_footer="第 &P 页，共 &N 页",
    author="王建国",
)
HEADERS = ("姓名", "身份证号", "到达日期", "报告时间", "体温")


def register(path: Path, rows: int = 2, sheet: Sheet = SHEET) -> Path:
    """A workbook as bot/runtime/registers.py makes one: title rows, header, data."""
    book = Writer(path, sheet, made=MADE)
    book.row(xlsx.text_cell("A1", "先锋镇 来返人员登记台账", Style.TITLE), height=30)
    book.merge((0, 0), (0, len(sheet.widths) - 1))
    book.row(xlsx.text_cell("A2", "统计时段：全部", Style.LINE))
    book.row(xlsx.text_cell("A3", "填报单位：先锋镇", Style.LINE))
    book.row("".join(xlsx.cell(f"{xlsx.column_letter(c)}4", h, Style.HEADER)
                     for c, h in enumerate(HEADERS)))  # fmt: skip
    for n in range(5, 5 + rows):
        book.row(
            xlsx.text_cell(f"A{n}", HOSTILE if n == 5 else f"人{n}", Style.TEXT)
            + xlsx.text_cell(f"B{n}", ID, Style.TEXT)
            + xlsx.number_cell(f"C{n}", xlsx.serial(date(2020, 11, 19)), Style.DATE)
            + xlsx.number_cell(f"D{n}", xlsx.serial(datetime(2020, 11, 20, 0, 30)), Style.DATETIME)
            + xlsx.number_cell(f"E{n}", 36.54, Style.DECIMAL)
        )
    return book.close()


def test_openpyxl_reads_the_register_with_its_styles(tmp_path):
    sheet = openpyxl.load_workbook(register(tmp_path / "r.xlsx")).active
    assert sheet.title == "来返人员"
    assert sheet["A1"].value == "先锋镇 来返人员登记台账"
    assert sheet["A1"].font.b and sheet["A1"].font.sz == 18
    assert sheet.row_dimensions[1].height == 30
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:E1"]
    assert [c.value for c in sheet[4]] == list(HEADERS)
    assert all(c.font.b and c.border.left.style == "thin" and c.alignment.wrap_text
               for c in sheet[4])  # fmt: skip
    assert sheet["A4"].fill.fgColor.rgb == "FFD9D9D9"
    name, id_number, arrived, reported, temperature = sheet[5]
    assert name.value == "A&B <b>\"quoted\"</b> 'single' 张三 🙂 "
    assert (id_number.value, id_number.data_type, id_number.number_format) == (ID, "s", "@")
    assert (arrived.value, arrived.number_format) == (datetime(2020, 11, 19), "yyyy-mm-dd")
    assert reported.value == datetime(2020, 11, 20, 0, 30)
    assert reported.number_format == "yyyy-mm-dd hh:mm"
    assert (temperature.value, temperature.number_format) == (36.54, "0.0")
    assert sheet["A6"].value == "人6"
    assert sheet.freeze_panes == "A5"
    assert sheet.auto_filter.ref == "A4:E6"
    assert sheet.print_title_rows == "$4:$4"
    assert sheet.column_dimensions["B"].width == pytest.approx(20, abs=1)


def test_the_print_setup(tmp_path):
    sheet = openpyxl.load_workbook(register(tmp_path / "r.xlsx")).active
    setup = sheet.page_setup
    assert (setup.orientation, int(setup.paperSize), int(setup.fitToHeight)) == ("landscape", 9, 0)
    assert (setup.fitToWidth or 1) == 1  # 1 is the default: left out
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_options.horizontalCentered
    assert sheet.oddHeader.center.text == "先锋镇 A&&B"  # "&&" prints one "&"
    assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"


def test_a_sheet_with_a_header_alone(tmp_path):
    sheet = openpyxl.load_workbook(register(tmp_path / "r.xlsx", rows=0)).active
    assert sheet.auto_filter.ref == "A4:E4"
    assert sheet.max_row == 4


def test_the_zip_and_its_parts_are_valid(tmp_path):
    path = register(tmp_path / "r.xlsx")
    with zipfile.ZipFile(path) as book:
        assert book.testzip() is None
        assert book.namelist() == [
            "[Content_Types].xml",
            "_rels/.rels",
            "docProps/app.xml",
            "docProps/core.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
            "xl/worksheets/sheet1.xml",
            "xl/workbook.xml",
        ]
        parts = {name: ET.fromstring(book.read(name)) for name in book.namelist()}
    tags = [child.tag.removeprefix(MAIN) for child in parts["xl/worksheets/sheet1.xml"]]
    assert tags == sorted(tags, key=ORDER.index)
    names = parts["xl/workbook.xml"].find(f"{MAIN}definedNames")
    assert names is not None
    assert [(n.get("name"), n.get("hidden"), n.text) for n in names] == [
        ("_xlnm._FilterDatabase", "1", "'来返人员'!$A$4:$E$6"),
        ("_xlnm.Print_Titles", None, "'来返人员'!$4:$4"),
    ]
    created = parts["docProps/core.xml"].find("{http://purl.org/dc/terms/}created")
    assert created is not None and created.text == "2020-11-20T01:05:00Z"


def test_a_sheet_name_with_quotes_and_ampersands(tmp_path):
    sheet = Sheet(name="O'Neil & Co", widths=[10] * 5, header_row=3)
    book = openpyxl.load_workbook(register(tmp_path / "r.xlsx", sheet=sheet))
    assert book.active.title == "O'Neil & Co"
    assert book.active.print_title_rows == "$4:$4"


def test_size_is_the_bytes_written_so_far(tmp_path):
    path = tmp_path / "r.xlsx"
    book = Writer(path, SHEET, made=MADE)
    sizes = []
    for n in range(1, 3001):
        book.row(xlsx.text_cell(f"A{n}", f"第{n}行 {n * 7919 % 10007}", Style.TEXT))
        if n % 500 == 0:
            sizes.append(book.size())
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]  # it grows with the rows
    book.close()
    # what the compressor held and closing added: within the callers' margin (OVERHEAD)
    assert sizes[-1] < path.stat().st_size <= sizes[-1] + registers.OVERHEAD
    assert openpyxl.load_workbook(path).active["A3000"].value.startswith("第3000行")


def test_discard_leaves_no_file(tmp_path):
    path = tmp_path / "r.xlsx"
    book = Writer(path, SHEET, made=MADE)
    book.row(xlsx.text_cell("A1", ID, Style.TEXT))
    book.discard()
    assert list(tmp_path.iterdir()) == []


def test_values_are_typed_by_the_cell(tmp_path):
    path = tmp_path / "v.xlsx"
    book = Writer(path, Sheet("S", [10] * 6, header_row=0), made=MADE)
    book.values([None, 7, 2.5, math.nan, True, "x"])
    book.close()
    assert next(openpyxl.load_workbook(path).active.iter_rows(values_only=True)) == (
        None, 7, 2.5, "nan", "True", "x",
    )  # fmt: skip


@pytest.fixture(scope="module")
def libreoffice(tmp_path_factory) -> Path:
    """The register converted to CSV by LibreOffice, once for the module (it takes seconds)."""
    if shutil.which("soffice") is None:
        pytest.fail("soffice not installed: bin/test installs Debian's libreoffice-calc-nogui")
    folder = tmp_path_factory.mktemp("libreoffice")
    path = register(folder / "register.xlsx")
    profile = Path("/tmp") / f"paicha-lo-{uuid.uuid4().hex}"
    try:
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir",
             str(folder / "out"), str(path)],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return folder / "out" / "register.csv"


def test_libreoffice_opens_it_and_gives_the_values_back(libreoffice):
    with libreoffice.open(encoding="utf-8", newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0][0] == "先锋镇 来返人员登记台账"
    assert lines[3] == list(HEADERS)
    assert lines[4] == [
        "A&B <b>\"quoted\"</b> 'single' 张三 🙂 ",
        ID,
        "2020-11-19",
        "2020-11-20 00:30",
        "36.5",
    ]
    assert lines[5][0] == "人6"
