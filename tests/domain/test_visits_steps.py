"""Door-to-door screening: what the worker types at the door (known answers)."""

from __future__ import annotations

import pytest

from bot.domain import visits
from bot.domain.invalid import Invalid

TEMPERATURES = [
    ("36.5", (36.5,)),
    ("36.5 36.7，37.4", (36.5, 36.7, 37.4)),
    ("36.5、36.7；37.4;36.1/36.2", (36.5, 36.7, 37.4, 36.1, 36.2)),
    ("  36.5  ", (36.5,)),
    ("３６.５", (36.5,)),
    ("36,5", (36.5,)),  # a decimal comma
    ("36.5,36.7", (36.5, 36.7)),
    ("36,5,37", Invalid("temp_format")),  # "5" is no temperature, nor is "36,5,37"
    ("36.5,abc", Invalid("temp_format")),
    ("", Invalid("text_empty")),
    ("  ，、 ", Invalid("text_empty")),
    ("36.5 abc 50", Invalid("temp_format")),
    ("36.5 50", Invalid("temp_range", {"low": 35.0, "high": 42.0})),
    (" ".join(["36.5"] * 30), (36.5,) * 30),
    (" ".join(["36.5"] * 31), Invalid("visits.too_many_temperatures", {"limit": 30})),
    (" ".join(["36.5,36.6"] * 15), (36.5, 36.6) * 15),
    (" ".join(["36.5,36.6"] * 15) + " 37", Invalid("visits.too_many_temperatures", {"limit": 30})),
]


@pytest.mark.parametrize(("text", "expected"), TEMPERATURES)
def test_parse_temperatures(text, expected) -> None:
    assert visits.parse_temperatures(text) == expected


PEOPLE = [
    ("3", 3),
    ("0", 0),
    ("50", 50),
    ("51", Invalid("visits.people_format")),
    ("3人", 3),
    (" 3 人 ", 3),
    ("３", 3),
    ("007", 7),
    ("1000", Invalid("visits.people_format")),
    ("", Invalid("visits.people_format")),
    ("人", Invalid("visits.people_format")),
    ("three", Invalid("visits.people_format")),
    ("-1", Invalid("visits.people_format")),
    ("3人人", Invalid("visits.people_format")),
]


@pytest.mark.parametrize(("text", "expected"), PEOPLE)
def test_parse_people(text, expected) -> None:
    assert visits.parse_people(text) == expected


@pytest.mark.parametrize(
    ("temperatures", "fever"),
    [((), False), ((36.5,), False), ((37.2,), False), ((37.3,), True), ((36.5, 38.0), True),
     ([37.3], True)],
)  # fmt: skip
def test_has_fever(temperatures, fever) -> None:
    assert visits.has_fever(temperatures) is fever
