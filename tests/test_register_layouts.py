"""The nine shipped register layouts (templates/registers/*.toml): each parses, names only
its register's fields, masks every personal value for a reader not entitled to it, and
writes IDs and phones as text."""

from __future__ import annotations

import re

import pytest

from bot.domain.registers import CODES, FIELDS, REGISTERS
from bot.runtime import registers
from bot.runtime.render import Renderer

# field -> the mask a shipped layout must put on it (a column showing it unmasked would give
# a village's IDs to anyone who may export without being entitled to them)
PERSONAL = {
    "name": "name", "person_name": "name", "companions": "name", "case_names": "name",
    "id_number": "id_number",
    "phone": "phone", "person_phone": "phone",
}  # fmt: skip
HAN = re.compile(r"[\u4e00-\u9fff]")
TEXT = ("id_number", "phone", "person_phone", "ref", "trip", "room", "direct_report_no")


def test_every_shipped_layout_parses() -> None:
    assert registers.problems(None) == []
    assert set(registers.layouts(None)) == set(REGISTERS)


@pytest.mark.parametrize("register", REGISTERS)
def test_a_layout_names_its_fields_masks_personal_data_and_keeps_ids_text(register: str) -> None:
    layout = registers.layouts(None)[register]
    columns = {column.value: column for column in layout.columns}
    assert set(columns) <= FIELDS[register]
    assert layout.columns[0].value == "seq" and layout.columns[0].header == "序号"
    for field, mask in PERSONAL.items():
        if field in columns and not (register == "units" and field == "name"):
            assert columns[field].mask == mask, f"{register}.{field}"
    for field in TEXT:
        if field in columns:
            assert columns[field].format == "text", f"{register}.{field}"
    for column in layout.columns:
        assert column.header.strip() and column.header_en.strip()
        assert not HAN.search(column.header_en), column.header_en  # English: no 汉字


def test_the_personal_registers_show_who() -> None:
    """Each register about people has 姓名, 身份证号 and 联系电话 columns."""
    layouts = registers.layouts(None)
    for register in ("arrivals", "monitoring", "cases", "contacts", "isolation"):
        shown = {column.value for column in layouts[register].columns}
        assert {"name", "id_number", "phone", "village", "grid", "address"} <= shown, register
    assert {"temperatures"} <= {c.value for c in layouts["monitoring"].columns}
    assert "days" in {c.format for c in layouts["monitoring"].columns}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_code_has_a_word_in_each_locale(locale: str) -> None:
    render = Renderer()
    words = {(kind, code): render.text(locale, "registers", "code", kind=kind, code=code)
             for kind, codes in CODES.items() for code in codes}  # fmt: skip
    assert [key for key, word in words.items() if not word] == []
    assert render.text(locale, "registers", "code", kind="risk", code="nonsense") == ""
    if locale == "zh_CN":
        assert words["checkin", "missed"] == "未报" and words["flag", "yes"] == "是"
        assert words["measure", "home_monitoring"] == "居家健康监测"
