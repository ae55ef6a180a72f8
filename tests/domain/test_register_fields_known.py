"""Known answers for the registers' domain rules the rows rely on (bot/domain/registers.py):
sex from a mainland ID number, the day fields, and the codes a reader's words are given for."""

from __future__ import annotations

import pytest

from bot.domain.registers import CODES, DAY_FIELDS, FIELDS, REGISTERS, sex_of


@pytest.mark.parametrize(
    ("id_kind", "number", "sex"),
    [
        ("id", "11010519491231002X", "female"),  # 17th digit 2
        ("id", "500381198503120012", "male"),  # 17th digit 1
        ("id", "500381201006010028", "female"),
        ("id", "110105194912310093", "male"),  # 9
        ("id", "110105194912310000", "female"),  # 0 is even
        ("passport", "E12345678", None),
        ("passport", "110105194912310093", None),  # a passport number tells nothing
        ("id", None, None),
        (None, "110105194912310093", None),
        ("id", "", None),
        ("id", "11010519491231009", None),  # 17 characters: not a full number
        ("id", "1101051949123100933", None),  # 19
        ("id", "1101051949123100X3", None),  # no digit where the sex is told
    ],
)
def test_sex_of(id_kind: str | None, number: str | None, sex: str | None) -> None:
    assert sex_of(id_kind, number) == sex


def test_every_register_has_fields_numbered_rows_and_its_day_fields() -> None:
    assert set(FIELDS) == set(REGISTERS) == set(DAY_FIELDS)
    assert all("seq" in FIELDS[r] for r in REGISTERS)
    assert DAY_FIELDS["monitoring"] == {"temperatures"}
    assert all(DAY_FIELDS[r] <= FIELDS[r] for r in REGISTERS)
    assert not any(DAY_FIELDS[r] for r in REGISTERS if r != "monitoring")


def test_the_tips_register_has_no_tipster_field() -> None:
    assert not any("tipster" in field for field in FIELDS["tips"])


def test_codes_are_named_without_repeats() -> None:
    assert CODES["flag"] == ("yes", "no")
    assert CODES["checkin"] == ("missed",)
    assert "planned" in CODES["test_result"]
    assert all(codes and len(set(codes)) == len(codes) for codes in CODES.values())
