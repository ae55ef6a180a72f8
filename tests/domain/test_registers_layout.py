"""Register layouts (bot/domain/registers.py): what a layout file may say, the problems named
with their paths, the cells a column gives, and masking — known answers, plus properties of
the parser over any mapping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import registers
from bot.domain.registers import Column, Layout, LayoutError, masked, parse

WHERE = "registers/arrivals.toml"
FIELDS = frozenset({"name", "id_number", "phone", "village", "grid", "arrived_on", "temps"})
DAYS = frozenset({"temps"})


@pytest.fixture(autouse=True)
def fields() -> Iterator[None]:
    with _fields():
        yield


def _fields():
    return patch.multiple(
        registers,
        FIELDS={**registers.FIELDS, "arrivals": FIELDS},
        DAY_FIELDS={**registers.DAY_FIELDS, "arrivals": DAYS},
    )


def column(**changes: object) -> dict[str, object]:
    return {"header": "姓名", "header_en": "Name", "value": "name", **changes}


def layout(*columns: dict[str, object], **changes: object) -> dict[str, object]:
    return {
        "title": "来返人员登记台账",
        "title_en": "Arrivals",
        "columns": list(columns),
        **changes,
    }


def problems(data: object, register: str = "arrivals") -> list[str]:
    with pytest.raises(LayoutError) as error:
        parse(register, data, WHERE)
    return error.value.problems


def test_a_full_layout_is_read_as_written():
    data = layout(
        column(),
        column(
            header="身份证号",
            header_en="ID number",
            value="id_number",
            width=20,
            format="text",
            mask="id_number",
        ),
        column(header="体温", header_en="Temperature", value="temps", format="days", width=9),
        sheet="来返人员",
        sheet_en="Arrivals sheet",
    )
    assert parse("arrivals", data, WHERE) == Layout(
        "arrivals",
        "来返人员登记台账",
        "Arrivals",
        "来返人员",
        "Arrivals sheet",
        (
            Column("姓名", "Name", "name", 12, "text", "none"),
            Column("身份证号", "ID number", "id_number", 20, "text", "id_number"),
            Column("体温", "Temperature", "temps", 9, "days", "none"),
        ),
    )


@pytest.mark.parametrize(
    ("title", "sheet"),
    [
        ("来返人员登记台账", "来返人员登记台账"),
        ("a[b]:c*d?e/f\\g", "abcdefg"),  # Excel refuses these in a sheet's name
        ("表" * 40, "表" * 31),
        ("[]", "Sheet1"),
    ],
)
def test_the_sheet_is_named_after_the_title_when_not_given(title, sheet):
    parsed = parse("arrivals", layout(column(), title=title, title_en=title), WHERE)
    assert (parsed.sheet, parsed.sheet_en) == (sheet, sheet)


CASES = [
    ("not a table", [f"{WHERE}: a table is required"]),
    (
        layout(column(), extra=1),
        [
            f"{WHERE}: extra: unknown key (known: columns, sheet, sheet_en, title, title_en)",
        ],
    ),
    (
        {"columns": [column()]},
        [
            f"{WHERE}: title: a non-empty text is required",
            f"{WHERE}: title_en: a non-empty text is required",
        ],
    ),
    (layout(column(), title="  "), [f"{WHERE}: title: a non-empty text is required"]),
    (layout(), [f"{WHERE}: columns: at least one [[columns]] table is required"]),
    (
        {"title": "t", "title_en": "t", "columns": "name"},
        [f"{WHERE}: columns: at least one [[columns]] table is required"],
    ),
    (layout("name"), [f"{WHERE}: columns[0]: a table is required"]),
    (
        layout(column(), column(value="nam", format="datee")),
        [
            f'{WHERE}: columns[1].format: "datee" is not one of text, integer, number, date, '
            "datetime, temperature, days"
        ],
    ),
    (
        layout(column(mask="idcard")),
        [f'{WHERE}: columns[0].mask: "idcard" is not one of none, name, phone, id_number, address'],
    ),
    (
        layout(column(width=0), column(header="b", header_en="b", width=101)),
        [
            f"{WHERE}: columns[0].width: 0 is not a whole number 1..100",
            f"{WHERE}: columns[1].width: 101 is not a whole number 1..100",
        ],
    ),
    (layout(column(width=True)), [f"{WHERE}: columns[0].width: True is not a whole number 1..100"]),
    (layout(column(width=12.5)), [f"{WHERE}: columns[0].width: 12.5 is not a whole number 1..100"]),
    (
        layout(column(colour="red")),
        [
            f"{WHERE}: columns[0].colour: unknown key (known: format, header, header_en, mask, "
            "value, width)"
        ],
    ),
    (
        layout(column(header="")),
        [f"{WHERE}: columns[0].header: a non-empty text is required"],
    ),
    (
        layout(column(header_en=None)),
        [f"{WHERE}: columns[0].header_en: a non-empty text is required"],
    ),
    (layout(column(value=3)), [f"{WHERE}: columns[0].value: a non-empty text is required"]),
    (
        layout(column(value="surname")),
        [f'{WHERE}: columns[0].value: "surname" is not a field of arrivals'],
    ),
    (
        layout(column(value="village ~ street ~ house")),
        [f"{WHERE}: columns[0].value: house, street: not a field of arrivals"],
    ),
    (
        layout(column(value="name.__class__")),
        [f'{WHERE}: columns[0].value: "__class__": no attribute with "_" may be read'],
    ),
    (
        layout(column(value="village ~")),
        [
            f'{WHERE}: columns[0].value: "village ~" is not a valid expression '
            "(unexpected 'end of template')"
        ],
    ),
    (
        layout(column(value="name }} {{ phone")),
        [
            WHERE + ': columns[0].value: "name }} {{ phone" is not a valid expression '
            "(unexpected text after the expression)"
        ],
    ),
    (
        layout(column(value="name|shout")),
        [
            f'{WHERE}: columns[0].value: "name|shout" is not a valid expression '
            "(No filter named 'shout'.)"
        ],
    ),
    (
        layout(column(value="name", format="days")),
        [f'{WHERE}: columns[0].value: "name" is not a day mapping of arrivals (those: temps)'],
    ),
    (
        layout(column(), column(header_en="Name 2"), column(header="姓名2")),
        [
            f'{WHERE}: columns[1].header: "姓名" appears twice',
            f'{WHERE}: columns[2].header_en: "Name" appears twice',
        ],
    ),
    (
        layout(column(), sheet="名" * 32, sheet_en="a/b"),
        [
            f"{WHERE}: sheet: 32 characters, Excel allows at most 31",
            f"{WHERE}: sheet_en: none of */:?[\\] is allowed",
        ],
    ),
    (layout(column(), sheet=""), [f"{WHERE}: sheet: a non-empty text is required"]),
    (
        layout(column(value="temps")),
        [
            f'{WHERE}: columns[0].value: "temps" is a day mapping: only a format = "days" '
            "column may show it"
        ],
    ),
    (
        layout(column(value="temps", format="text")),
        [
            f'{WHERE}: columns[0].value: "temps" is a day mapping: only a format = "days" '
            "column may show it"
        ],
    ),
    (
        layout(column(value="name ~ temps")),
        [
            f'{WHERE}: columns[0].value: temps: a day mapping, only a format = "days" column '
            "may show it"
        ],
    ),
    (
        layout(column(value="temps ~ grid ~ temps")),
        [
            f'{WHERE}: columns[0].value: temps: a day mapping, only a format = "days" column '
            "may show it"
        ],
    ),
]


@pytest.mark.parametrize(("data", "expected"), CASES)
def test_each_problem_is_named_with_its_path(data, expected):
    assert problems(data) == expected


def test_a_register_that_does_not_exist_is_refused():
    assert problems(layout(column()), "births") == [
        f"{WHERE}: 'births' is not a register (arrivals, monitoring, tips, visits, cases, "
        "contacts, isolation, units, audit)"
    ]


def test_a_days_column_on_a_register_without_day_fields_names_none():
    assert problems(layout(column(format="days")), "tips") == [
        f'{WHERE}: columns[0].value: "name" is not a day mapping of tips (those: none)'
    ]


def test_an_expression_of_known_fields_and_constants_is_accepted():
    parsed = parse(
        "arrivals",
        layout(
            column(value="village ~ ' ' ~ grid"),
            column(header="b", header_en="b", value="none"),
            column(header="c", header_en="c", value="name|upper if name else '—'"),
        ),
        WHERE,
    )
    assert [c.value for c in parsed.columns] == [
        "village ~ ' ' ~ grid",
        "none",
        "name|upper if name else '—'",
    ]


ROW = {
    "name": "张三",
    "id_number": "110101199001011234",
    "phone": "13800138000",
    "village": "先锋村",
    "grid": "一组",
    "arrived_on": date(2020, 11, 1),
    "temps": {date(2020, 11, 1): "36.5"},
}


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("name", "张三"),
        ("arrived_on", date(2020, 11, 1)),
        ("village ~ ' ' ~ grid", "先锋村 一组"),
        ("grid or '—'", "一组"),
        ("none", None),
        ("true", True),
        ("True", True),
        ("false", False),
        ("False", False),
        ("None", None),
        ("arrived_on.month", 11),
        ("temps", {date(2020, 11, 1): "36.5"}),
    ],
)
def test_a_column_gives_its_cell(value, cell):
    assert Column("h", "h", value).cell(ROW) == cell


def test_a_field_missing_from_the_row_is_an_error_not_a_blank():
    with pytest.raises(KeyError):
        Column("h", "h", "name").cell({})
    with pytest.raises(Exception, match="grid"):
        Column("h", "h", "village ~ grid").cell({"village": "先锋村"})


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("none", "110101199001011234", "110101199001011234"),
        ("id_number", "110101199001011234", "1101**********1234"),
        ("phone", "13800138000", "138****8000"),
        ("name", "张三丰", "张**"),
        ("address", "先锋镇先锋村三组12号", "先锋镇先锋村***"),
        ("address", "先锋镇先锋村", "先锋镇先锋村"),
        ("address", "先锋村", "先锋村"),
        ("id_number", 110101199001011234, "1101**********1234"),
        ("phone", None, None),
        ("name", "", ""),
        # a cell of several names (同行人员, 关联病例姓名): each one masked on its own
        ("name", "李四、王五", "李*、王*"),
        ("name", "欧阳娜娜、李四", "欧***、李*"),
        ("name", "李四、", "李*、"),
        ("phone", "13800138000、13900139000", "138****8000、139****9000"),
        (
            "id_number",
            "110101199001011234、11010119900101567X",
            "1101**********1234、1101**********567X",
        ),
        ("address", "先锋镇先锋村三组、四组", "先锋镇先锋村***"),  # one place: masked whole
    ],
)
def test_masking_known(kind, value, shown):
    assert masked(kind, value) == shown


# --- properties ------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(sorted(FIELDS) + list(registers.FORMATS) + list(registers.MASKS)),
    st.sampled_from(["village ~ grid", "name|upper", "{{", "}}", "name.__x", "a.b", "x(", "'"]),
)
keys = st.sampled_from(
    [*sorted(registers.LAYOUT_KEYS | registers.COLUMN_KEYS), "other", ""]
) | st.text(max_size=6)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(data=st.one_of(values, st.dictionaries(keys, values, max_size=6)))
def test_any_mapping_gives_a_layout_or_a_layout_error(data):
    with _fields():
        try:
            parse("arrivals", data, WHERE)
        except LayoutError as error:
            assert error.problems
            assert all(p.startswith(f"{WHERE}: ") for p in error.problems)


headers = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
columns = st.fixed_dictionaries(
    {
        "header": headers.filter(str.strip),
        "header_en": headers.filter(str.strip),
        "value": st.sampled_from([*sorted(FIELDS - DAYS), "village ~ ' ' ~ grid"]),
        "width": st.integers(1, 100),
        "format": st.sampled_from([f for f in registers.FORMATS if f != "days"]),
        "mask": st.sampled_from(registers.MASKS),
    }
)


@settings(max_examples=200, deadline=None)
@given(
    cols=st.lists(columns, min_size=1, max_size=6, unique_by=(lambda c: c["header"],)).filter(
        lambda cs: len({c["header_en"] for c in cs}) == len(cs)
    ),
    title=headers.filter(str.strip),
)
def test_a_valid_layout_round_trips(cols, title):
    with _fields():
        parsed = parse("arrivals", {"title": title, "title_en": title, "columns": cols}, WHERE)
    written = [
        {
            "header": c.header,
            "header_en": c.header_en,
            "value": c.value,
            "width": c.width,
            "format": c.format,
            "mask": c.mask,
        }
        for c in parsed.columns
    ]
    assert written == cols
    assert parsed.title == parsed.title_en == title
