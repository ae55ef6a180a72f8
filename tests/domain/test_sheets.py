"""Reading uploaded tables (bot/domain/sheets.py): known answers for the files Chinese offices
save (GBK and BOM CSV, UTF-16 text, XLSX with a title row), the header found by its names in
several spellings, the limits named; properties over generated headers and bytes."""

from __future__ import annotations

import codecs
import io
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from bot.domain.invalid import Invalid
from bot.domain.sheets import (
    Column,
    Limits,
    Row,
    Sheet,
    decode_text,
    header_key,
    map_header,
    read_sheet,
    table,
)

LIMITS = Limits(max_bytes=10_000, max_rows=5, max_columns=6, max_scanned=50)
COLUMNS = (
    Column("name", ("姓名", "名字", "name")),
    Column("phone", ("联系电话", "手机号", "phone")),
    Column("when", ("末次接触时间", "末次暴露日期")),
)
REQUIRED = (("name",), ("phone", "when"))


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def cells(sheet: Sheet | Invalid) -> list[tuple[int, tuple[object, ...]]]:
    assert isinstance(sheet, Sheet), sheet
    return [(r.number, r.cells) for r in sheet.rows]


def code(result: object) -> str | None:
    return result.code if isinstance(result, Invalid) else None


# --- reading ------------------------------------------------------------------------------

CSV_TEXT = "姓名,联系电话\n张三,13800138000\n\n李四,13900139000\n"
EXPECTED = [(1, ("姓名", "联系电话")), (2, ("张三", "13800138000")), (4, ("李四", "13900139000"))]


@pytest.mark.parametrize(
    "data",
    [
        CSV_TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + CSV_TEXT.encode("utf-8"),
        CSV_TEXT.encode("gbk"),  # what Excel writes on a Chinese Windows
        CSV_TEXT.encode("gb18030"),
        CSV_TEXT.encode("utf-16"),  # with its BOM: Excel's "Unicode text"
        CSV_TEXT.replace(",", "\t").encode("utf-8"),
        CSV_TEXT.replace(",", ";").encode("gbk"),
        CSV_TEXT.replace("\n", "\r\n").encode("gbk"),
    ],
    ids=["utf8", "bom", "gbk", "gb18030", "utf16", "tab", "semicolon", "crlf"],
)
def test_csv_encodings_and_delimiters(data: bytes) -> None:
    assert cells(read_sheet(data, LIMITS)) == EXPECTED


def test_gbk_is_not_read_as_utf8() -> None:
    assert decode_text("疾控中心".encode("gbk")) == "疾控中心"
    assert decode_text(b"\xff\xfe\x00") is None  # UTF-16 BOM with an odd byte


def test_xlsx_rows_numbered_as_excel_shows_them_with_dates_as_cells() -> None:
    data = xlsx([[], ["姓名", "末次接触时间"], ["张三", date(2020, 10, 25)], [], ["李四", 7]])
    assert cells(read_sheet(data, LIMITS)) == [
        (2, ("姓名", "末次接触时间")),
        (3, ("张三", datetime(2020, 10, 25))),
        (5, ("李四", 7)),
    ]


def test_quoted_csv_cell_with_comma_and_newline() -> None:
    data = '姓名,备注\n"张三","同桌, 就餐\n两小时"\n'.encode()
    assert cells(read_sheet(data, LIMITS))[1] == (2, ("张三", "同桌, 就餐\n两小时"))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "sheet_empty"),
        (b" \n\r\n ", "sheet_empty"),
        (b",,,\n,,\n", "sheet_empty"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "sheet_xls"),
        (b"PK\x03\x04not a zip", "sheet_unreadable"),
        (b"a,b\x00c\n", "sheet_unreadable"),
        (b"x" * 10_001, "sheet_too_big"),
        ("\n".join(f"{i},x" for i in range(20)).encode(), "sheet_too_many_rows"),
        (b"a\n" + b"\n" * 60 + b"b\n", "sheet_too_long"),
        (b"1,2,3,4,5,6,7\n", "sheet_too_wide"),
    ],
    ids=["nothing", "blank", "commas", "xls", "bad zip", "nul", "big", "rows", "long", "wide"],
)
def test_files_that_cannot_be_used(data: bytes, expected: str) -> None:
    assert code(read_sheet(data, LIMITS)) == expected


def test_limits_are_named() -> None:
    assert read_sheet(b"x" * 20_480, Limits(max_bytes=10_240, max_rows=1)) == Invalid(
        "sheet_too_big", {"limit_kb": 10}
    )
    many = "\n".join(["姓名", *["张三"] * 16]).encode()
    assert read_sheet(many, LIMITS) == Invalid("sheet_too_many_rows", {"limit": 5})


def test_not_a_workbook_zip() -> None:
    out = io.BytesIO()
    with __import__("zipfile").ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    assert code(read_sheet(out.getvalue(), LIMITS)) == "sheet_unreadable"


# --- header -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("姓名", "姓名"),
        (" 姓 名 ", "姓名"),
        ("姓名*", "姓名"),
        ("*姓名：", "姓名"),
        ("联系电话（手机）", "联系电话"),
        ("联系电话(手机)", "联系电话"),
        ("联系电话【必填】", "联系电话"),
        ("ＮＡＭＥ", "name"),
        ("Phone_Number", "phonenumber"),
        ("Last-Exposure", "lastexposure"),
        ("（备注）", "(备注)"),
    ],
)
def test_header_key(written: str, key: str) -> None:
    assert header_key(written) == key


@pytest.mark.parametrize(
    "header",
    [
        ("姓名", "联系电话"),
        ("名字", "手机号"),
        ("姓 名", "手机号（本人）"),
        ("NAME", "Phone"),
        ("姓名*", "末次暴露日期"),
    ],
)
def test_header_spellings(header: tuple[str, ...]) -> None:
    found = map_header(header, COLUMNS, REQUIRED)
    assert not isinstance(found, Invalid)
    assert set(found[0]) & {"name"} and len(found[0]) == 2


def test_missing_columns_named_by_group() -> None:
    assert map_header(("名字", "住址"), COLUMNS, REQUIRED) == Invalid(
        "sheet_missing_columns", {"groups": [["phone", "when"]]}
    )
    assert map_header(("地址",), COLUMNS, REQUIRED) == Invalid(
        "sheet_missing_columns", {"groups": [["name"], ["phone", "when"]]}
    )


def test_two_cells_for_one_column_refused() -> None:
    assert map_header(("姓名", "手机号", "名字"), COLUMNS, REQUIRED) == Invalid(
        "sheet_duplicate_column", {"name": "名字"}
    )


def test_unknown_columns_are_listed_not_used() -> None:
    assert map_header(("序号", "姓名", None, "手机号", "身高"), COLUMNS, REQUIRED) == (
        {"name": 1, "phone": 3},
        ("序号", "身高"),
    )


def test_title_row_above_the_header_is_skipped() -> None:
    sheet = read_sheet(
        xlsx([["附件1：密切接触者名单"], ["序号", "姓名", "手机号"], [1, "张三", 13800138000]]),
        LIMITS,
    )
    found = table(sheet, COLUMNS, REQUIRED, 5)
    assert not isinstance(found, Invalid)
    assert found.header_row == 2
    assert found.records == ((3, {"name": "张三", "phone": 13800138000}),)
    assert found.ignored == ("序号",)


def test_without_a_known_header_the_first_row_is_named() -> None:
    sheet = Sheet((Row(1, ("名单",)), Row(2, ("张三", "x"))))
    assert code(table(sheet, COLUMNS, REQUIRED, 5)) == "sheet_missing_columns"


def test_short_rows_and_no_rows() -> None:
    sheet = Sheet((Row(1, ("姓名", "手机号")), Row(2, ("张三",))))
    found = table(sheet, COLUMNS, REQUIRED, 5)
    assert not isinstance(found, Invalid)
    assert found.records == ((2, {"name": "张三", "phone": None}),)
    assert table(Sheet((Row(1, ("姓名", "手机号")),)), COLUMNS, REQUIRED, 5) == Invalid(
        "sheet_no_rows"
    )
    rows = (Row(1, ("姓名", "手机号")), *(Row(i, ("张三", "1")) for i in range(2, 5)))
    assert table(Sheet(rows), COLUMNS, REQUIRED, 2) == Invalid("sheet_too_many_rows", {"limit": 2})


# --- properties -----------------------------------------------------------------------------

ALIASES = [(c.key, a) for c in COLUMNS for a in c.aliases]
DECORATIONS = st.sampled_from(["", " ", "*", "（必填）", "：", "(手机)"])


@settings(max_examples=100, deadline=None)
@given(
    chosen=st.lists(st.sampled_from(ALIASES), unique_by=lambda p: p[0], min_size=1),
    noise=st.lists(st.sampled_from(["序号", "身高", "籍贯", ""]), max_size=3),
    before=DECORATIONS,
    after=DECORATIONS,
    data=st.data(),
)
def test_any_spelling_of_the_known_names_is_found_where_it_stands(
    chosen: list[tuple[str, str]], noise: list[str], before: str, after: str, data: st.DataObject
) -> None:
    header = [f"{before}{alias.upper()}{after}" for _, alias in chosen] + noise
    order = data.draw(st.permutations(range(len(header))))
    shuffled = [header[i] for i in order]
    found = map_header(shuffled, COLUMNS, ())
    assert not isinstance(found, Invalid)
    for position, i in enumerate(order):
        if i < len(chosen):
            assert found[0][chosen[i][0]] == position


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=20), st.integers()), max_size=8))
def test_map_header_never_crashes(header: list[object]) -> None:
    found = map_header(header, COLUMNS, REQUIRED)
    assert isinstance(found, Invalid | tuple)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_read_sheet_never_crashes_on_bytes(data: bytes) -> None:
    assert isinstance(read_sheet(data, LIMITS), Sheet | Invalid)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(st.text(alphabet="张三李四13,\"\n 姓名", min_size=1, max_size=6), min_size=1,
                 max_size=4),
        min_size=1, max_size=5,
    )
)  # fmt: skip
def test_csv_written_by_the_csv_module_reads_back(rows: list[list[str]]) -> None:
    out = io.StringIO()
    __import__("csv").writer(out).writerows(rows)
    sheet = read_sheet(out.getvalue().encode("gb18030"), Limits(10_000, 10, 10, 50))
    kept = [tuple(c.strip() and c for c in r) for r in rows]
    expected = [
        tuple(None if not c.strip() else c for c in r) for r in kept if any(c.strip() for c in r)
    ]
    expected = [r[: max(i + 1 for i, c in enumerate(r) if c is not None)] for r in expected]
    if expected:
        assert [r.cells for r in cells_of(sheet)] == expected
    else:
        assert code(sheet) == "sheet_empty"


def cells_of(sheet: Sheet | Invalid) -> tuple[Row, ...]:
    assert isinstance(sheet, Sheet), sheet
    return sheet.rows


def test_header_needs_two_known_names_within_the_first_ten_rows() -> None:
    one_known = Sheet((Row(1, ("名单", "姓名")), Row(2, ("姓名", "手机号")), Row(3, ("张三", "1"))))
    assert table(one_known, COLUMNS, REQUIRED, 5).header_row == 2
    titles = tuple(Row(i, (f"标题{i}",)) for i in range(1, 10))
    ninth = Sheet((*titles, Row(10, ("姓名", "手机号")), Row(11, ("张三", "1"))))
    assert table(ninth, COLUMNS, REQUIRED, 5).header_row == 10
    tenth = Sheet((*titles, Row(10, ("标题",)), Row(11, ("姓名", "手机号")), Row(12, ("张三",))))
    assert code(table(tenth, COLUMNS, REQUIRED, 5)) == "sheet_missing_columns"


def test_default_limits() -> None:
    limits = Limits(max_bytes=10**6, max_rows=3)
    assert code(read_sheet(("x," * 60 + "x\n").encode(), limits)) == "sheet_too_wide"
    assert not isinstance(read_sheet(("x," * 59 + "x\n").encode(), limits), Invalid)
    tall = b"a\n" + b"\n" * 99_998 + b"b\n"
    assert not isinstance(read_sheet(tall, limits), Invalid)
    assert code(read_sheet(tall + b"\nc\n", limits)) == "sheet_too_long"
