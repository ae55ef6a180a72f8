"""Names and addresses made of nothing anyone can read (zero-width, direction and control
characters) or of one letter and punctuation are refused; invisible characters inside an
otherwise valid answer are dropped before it is stored."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_address, parse_name, parse_phone, parse_text

# Written out here (not imported): the test must not take the code's own list as its oracle.
INVISIBLE = (
    [chr(c) for c in range(0x200B, 0x2010)]  # zero-width space .. right-to-left mark
    + [chr(c) for c in range(0x202A, 0x202F)]  # embeddings and overrides
    + [chr(c) for c in range(0x2060, 0x2070)]  # word joiner .. isolates, deprecated formats
    + ["\ufeff", "\u00ad", "\u061c"]  # BOM, soft hyphen, Arabic letter mark
    + [chr(c) for c in range(0x00, 0x20) if chr(c) not in "\t\n\r"]  # C0 controls
    + [chr(c) for c in range(0x7F, 0xA0)]  # DEL and C1 controls
)
junk = st.text(alphabet=st.sampled_from(INVISIBLE), min_size=1, max_size=40)


def code(result: object) -> str | None:
    return result.code if isinstance(result, Invalid) else None


NAMES = [
    ("张三", "张三"),
    ("阿卜杜拉·艾买提", "阿卜杜拉·艾买提"),
    ("买买提•艾力", "买买提·艾力"),
    ("欧阳娜娜", "欧阳娜娜"),
    ("李\u200d四", "李四"),
    ("\u202e张三\u202c", "张三"),
    ("\ufeff王五", "王五"),
    ("张\u200b 三", "张 三"),
    ("Li Na", "Li Na"),
    ("Li", "Li"),
    ("O'Neil", "O'Neil"),
    ("A.", "name_invalid"),
    ("A-", "name_short"),
    ("A·", "name_short"),
    ("张", "name_short"),
    ("张·", "name_short"),
    ("\u200b张\u200b", "name_short"),
    ("..", "name_invalid"),
    ("\u200b\u200b", "name_empty"),
    ("\u202e\u202d", "name_empty"),
    ("\x01\x02", "name_empty"),
    ("\u2066\u2069", "name_empty"),
]


@pytest.mark.parametrize(("text", "expected"), NAMES)
def test_names_known(text: str, expected: str) -> None:
    result = parse_name(text)
    assert (code(result) or result) == expected


ADDRESSES = [
    ("先锋街12号2单元301", "先锋街12号2单元301"),
    ("先锋镇\u200b新街村3组", "先锋镇新街村3组"),
    ("5号", "5号"),
    ("滨江路88号\u202e", "滨江路88号"),
    ("A.", "address_invalid"),
    ("。。", "address_invalid"),
    ("..", "address_invalid"),
    ("3-", "address_invalid"),
    ("张", "address_short"),
    ("\u200b\u200b", "address_short"),
    ("\u200b街\u200b", "address_short"),
    ("\x00\x7f\x85", "address_short"),
]


@pytest.mark.parametrize(("text", "expected"), ADDRESSES)
def test_addresses_known(text: str, expected: str) -> None:
    result = parse_address(text)
    assert (code(result) or result) == expected


@pytest.mark.parametrize("char", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_each_invisible_character_is_dropped(char: str) -> None:
    assert parse_text(f"甲{char}乙", 10) == "甲乙"


# the visible neighbours of the invisible ranges stay (NFKC leaves them as they are)
@pytest.mark.parametrize(
    "char", ["\u007e", "\u00a1", "\u00ae", "\u061b", "\u2010", "\u2030", "\u205e"]
)
def test_visible_neighbours_stay(char: str) -> None:
    assert parse_text(f"甲{char}乙", 10) == f"甲{char}乙"


def test_invisible_characters_do_not_hide_a_phone_number() -> None:
    assert parse_phone("138\u200b1234\u20605678") == "13812345678"


def test_line_breaks_stay_in_free_text() -> None:
    assert parse_text("发烧\n咳嗽", 50) == "发烧\n咳嗽"


@given(junk)
def test_only_invisible_characters_are_refused_everywhere(text: str) -> None:
    assert isinstance(parse_name(text), Invalid)
    assert isinstance(parse_address(text), Invalid)
    assert code(parse_text(text, 50)) == "text_empty"


@given(junk, junk, st.sampled_from(["张三", "阿卜杜拉·艾买提", "欧阳娜娜", "李四"]))
def test_a_valid_name_is_stored_without_invisible_characters(
    before: str, inside: str, name: str
) -> None:
    typed = before + name[0] + inside + name[1:]
    assert parse_name(typed) == name


@given(junk, st.sampled_from(["先锋街12号", "新街村3组", "滨江路88号2单元"]))
def test_a_valid_address_is_stored_without_invisible_characters(inside: str, address: str) -> None:
    assert parse_address(address[:2] + inside + address[2:]) == address
