"""Is a newly reported person one already registered? Known answers for the rule of issue 10
(written out by hand: the code is not its own oracle). The same ID number is the same person;
a different one never is, whatever the name and phone; without one, the same name and phone
is. Where the evidence disagrees, nobody is merged: CONFLICT (keep both, the worker checks)."""

from __future__ import annotations

import pytest

from bot.domain.records import (
    CONFLICT,
    DIFFERENT,
    SAME,
    Identified,
    PersonRecord,
    Registered,
    identify,
    merged,
    same_person,
)

ID_A = "11010519491231002X"
ID_B = "500116199212310453"
PHONE = "13812345678"


def person(
    name: str = "张三", phone: str | None = PHONE, number: str | None = ID_A
) -> PersonRecord:
    return PersonRecord(name, phone, "id" if number else None, number)


@pytest.mark.parametrize(
    ("new", "old", "verdict"),
    [
        # both with an ID number: the number decides
        (person(), person(), SAME),
        (person(phone="13911112222"), person(), SAME),  # a new phone, the same person
        (person(number=ID_A.lower()), person(), SAME),  # the check letter's case
        (person(number=ID_B), person(), CONFLICT),  # same name and phone: never merged
        (person(name="李四", number=ID_B), person(), DIFFERENT),
        (person(phone="13911112222", number=ID_B), person(), DIFFERENT),
        (person(name="李四"), person(), CONFLICT),  # the same number under another name
        # one side without an ID number: the name and phone together
        (person(number=None), person(), SAME),
        (person(), person(number=None), SAME),
        (person(number=None), person(number=None), SAME),
        (person(number=None, phone="13911112222"), person(number=None), DIFFERENT),
        (person(number=None, name="李四"), person(number=None), DIFFERENT),
        (person(name="李四", number=None), person(), DIFFERENT),
        # no phone (a companion): too little to tell
        (person(phone=None, number=None), person(phone=None, number=None), DIFFERENT),
        (person(phone=None, number=ID_B), person(phone=None), DIFFERENT),
        (person(phone=None), person(phone=None), SAME),  # the number still decides
    ],
)
def test_same_person(new: PersonRecord, old: PersonRecord, verdict: str) -> None:
    assert same_person(new, old) == verdict


def test_merged_keeps_an_id_number_given_before() -> None:
    without = person(number=None, phone="13911112222")
    assert merged(without, person()) == PersonRecord("张三", "13911112222", "id", ID_A)
    assert merged(person(number=ID_A), person(number=None)) == person()
    assert merged(without, person(number=None)) == without
    passport = PersonRecord("John", PHONE, "passport", "E1234567")
    assert merged(PersonRecord("John", PHONE, None, None), passport) == passport
    corrected = person(number=ID_B)  # a new ID number replaces the one given before
    assert merged(corrected, person()) == corrected


def at(report_id: int, idx: int, who: PersonRecord) -> Registered:
    return Registered(report_id, f"R{report_id}", idx, who)


@pytest.mark.parametrize(
    ("registered", "expected"),
    [
        ([], Identified()),
        ([at(2, 0, person())], Identified(own=at(2, 0, person()))),
        # his own newest report before an older one, and before a companion entry
        ([at(5, 1, person()), at(3, 0, person()), at(1, 0, person())],
         Identified(own=at(3, 0, person()))),
        # only listed as someone's companion: linked there
        ([at(4, 2, person()), at(2, 1, person())], Identified(companion=at(4, 2, person()))),
        # the same name and phone under another ID number: named, not matched
        ([at(4, 0, person(number=ID_B))], Identified(conflicts=("R4",))),
        ([at(4, 0, person(number=ID_B)), at(3, 0, person())],
         Identified(own=at(3, 0, person()), conflicts=("R4",))),
        ([at(4, 0, person(name="李四")), at(4, 1, person(number=ID_B, name="李四"))],
         Identified(conflicts=("R4",))),
        # a look-alike inside the report that is his own is not flagged again
        ([at(3, 1, person(number=ID_B)), at(3, 0, person())],
         Identified(own=at(3, 0, person()))),
        ([at(6, 0, person(name="王五", number=ID_B))], Identified()),
    ],
)  # fmt: skip
def test_identify(registered: list[Registered], expected: Identified) -> None:
    assert identify(person(), registered) == expected
