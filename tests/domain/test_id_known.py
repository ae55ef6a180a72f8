"""Resident ID numbers (GB 11643-1999) against known answers, not against the code's own check
function: real-format numbers (Jiangjin district of Chongqing, 500116; valid birth dates;
three-digit sequence codes) whose check characters were worked out outside this code base,
one for each remainder of the weighted sum modulo 11, so a wrong entry anywhere in the
check-character table, or a wrong weight, is caught."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.invalid import Invalid
from bot.domain.parsing import id_check_char, parse_id_number

TODAY = date(2020, 10, 26)

# remainder of sum(digit * weight) mod 11 -> a valid number whose check character it gives.
# Remainders map to check characters 1 0 X 9 8 7 6 5 4 3 2.
KNOWN = {
    0: "500116196002290171",  # born 29 February 1960 (a leap day)
    1: "500116196605190700",
    2: "50011620100115055X",
    3: "500116198802290769",
    4: "500116193308080608",
    5: "500116201506010827",
    6: "500116200010260246",
    7: "500116197807040385",
    8: "500116194910010324",
    9: "500116199212310453",  # remainder 9: check character 3
    10: "500116198503120102",  # remainder 10: check character 2
}

# Numbers printed in the standard and in published guides (the second is from before 1900:
# a valid check character, but the parser refuses the birth date).
PUBLISHED = ["11010519491231002X", "440524188001010014"]


def test_the_table_covers_every_remainder_and_check_character() -> None:
    assert sorted(KNOWN) == list(range(11))
    assert [KNOWN[r][17] for r in range(11)] == list("10X98765432")


@pytest.mark.parametrize("number", [*KNOWN.values(), *PUBLISHED])
def test_check_character_of_known_numbers(number: str) -> None:
    assert id_check_char(number[:17]) == number[17]


@pytest.mark.parametrize("number", KNOWN.values())
def test_known_numbers_are_accepted(number: str) -> None:
    assert parse_id_number(number, TODAY) == number
    assert parse_id_number(number.lower(), TODAY) == number


@pytest.mark.parametrize("number", KNOWN.values())
def test_every_other_check_character_is_refused(number: str) -> None:
    for wrong in "0123456789X":
        if wrong != number[17]:
            assert parse_id_number(number[:17] + wrong, TODAY) == Invalid("id_checksum")


@pytest.mark.parametrize(
    "number",
    ["500116190001010038", "500116202010260042"],  # born 1 January 1900, and born TODAY
    ids=["earliest birth", "born today"],
)
def test_the_first_and_last_birth_dates_accepted(number: str) -> None:
    assert parse_id_number(number, TODAY) == number


def test_check_character_needs_exactly_17_digits() -> None:
    for short in ("", "5001161992123104", "500116199212310453"):
        with pytest.raises(ValueError):
            id_check_char(short)


def test_published_examples() -> None:
    assert parse_id_number("11010519491231002X", TODAY) == "11010519491231002X"
    assert parse_id_number("440524188001010014", TODAY) == Invalid("id_birthdate")
