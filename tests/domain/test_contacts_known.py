"""Close contacts' rules (known answers, written out by hand): the measure from the last
exposure per kind, the stronger kind and the later exposure, a measure raised and never
lowered, who a new contact already is (ID number first, then name and phone; a contact before
an arrival), the reference numbers and ID/passport numbers as typed, and the flow's steps."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import Measure
from bot.domain import contacts as c
from bot.domain.contacts import CONTACT, PERSON, Held, Known, NewContact
from bot.domain.invalid import Invalid
from bot.domain.parsing import id_check_char
from bot.domain.records import PersonRecord
from bot.domain.steps import Lookup

D = date.fromisoformat
ISOLATION_14 = Measure(kind="centralized_isolation", days=14, test_days=(1, 4, 7, 14))
HOME_7 = Measure(kind="home_observation", days=7, test_days=(7,))
ID17 = "50011619900101123"
ID_NUMBER = ID17 + id_check_char(ID17)
OTHER_ID = "11010519491231002X"


# --- measures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "exposure", "kind", "start", "end", "tests"),
    [
        (ISOLATION_14, "2020-10-25", "centralized_isolation", "2020-10-26", "2020-11-08",
         ("2020-10-26", "2020-10-29", "2020-11-01", "2020-11-08")),
        (ISOLATION_14, "2020-12-31", "centralized_isolation", "2021-01-01", "2021-01-14",
         ("2021-01-01", "2021-01-04", "2021-01-07", "2021-01-14")),
        (HOME_7, "2020-10-25", "home_observation", "2020-10-26", "2020-11-01", ("2020-11-01",)),
    ],
)  # fmt: skip
def test_the_measure_runs_from_the_day_after_the_last_exposure(
    measure: Measure, exposure: str, kind: str, start: str, end: str, tests: tuple[str, ...]
) -> None:
    plan = c.measure_plan(measure, D(exposure))
    assert (plan.kind, plan.start, plan.end) == (kind, D(start), D(end))
    assert plan.test_dates == tuple(D(t) for t in tests)


def test_the_default_measure_of_each_kind_is_14_days_of_centralised_isolation() -> None:
    from bot.config import Measures

    for field in ("close_contact", "secondary_contact"):
        measure = Measures.model_fields[field].default
        assert (measure.kind, measure.days, measure.test_days) == (
            "centralized_isolation", 14, (1, 4, 7, 14))  # fmt: skip
    assert c.MEASURES == {"close": "close_contact", "secondary": "secondary_contact"}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("close", "secondary", "close"), ("secondary", "close", "close"),
     ("secondary", "secondary", "secondary"), ("close", "close", "close")],
)  # fmt: skip
def test_the_stronger_kind(a: str, b: str, expected: str) -> None:
    assert c.stronger(a, b) == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (("secondary", "2020-10-20"), ("close", "2020-10-18"), ("close", "2020-10-20")),
        (("close", "2020-10-18"), ("secondary", "2020-10-22"), ("close", "2020-10-22")),
        (("secondary", "2020-10-18"), ("secondary", "2020-10-18"), ("secondary", "2020-10-18")),
    ],
)  # fmt: skip
def test_exposed_again_the_stronger_kind_and_the_later_exposure_win(
    old: tuple[str, str], new: tuple[str, str], expected: tuple[str, str]
) -> None:
    assert c.merged(old[0], D(old[1]), new[0], D(new[1])) == (expected[0], D(expected[1]))


def _held(kind: str, start: str, end: str) -> Held:
    return Held(kind, D(start), D(end))


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        (None, ("centralized_isolation", "2020-10-26", "2020-11-08"),
         ("centralized_isolation", "2020-10-26", "2020-11-08")),
        # an arrival under home monitoring becomes a close contact: raised, counted from the
        # exposure (not from the arrival: the tests of days 1, 4, 7, 14 follow the exposure)
        (("home_monitoring", "2020-10-25", "2020-11-08"),
         ("centralized_isolation", "2020-10-26", "2020-11-08"),
         ("centralized_isolation", "2020-10-26", "2020-11-08")),
        (("self_monitoring", "2020-10-10", "2020-11-20"),
         ("centralized_isolation", "2020-10-26", "2020-11-08"),
         ("centralized_isolation", "2020-10-26", "2020-11-08")),
        # at the fever clinic: stays there, 14 days from the exposure
        (("medical_care", "2020-10-20", "2020-10-30"),
         ("centralized_isolation", "2020-10-26", "2020-11-08"),
         ("medical_care", "2020-10-26", "2020-11-08")),
        # isolated already: the later exposure starts the 14 days again
        (("centralized_isolation", "2020-10-26", "2020-11-08"),
         ("centralized_isolation", "2020-10-30", "2020-11-12"),
         ("centralized_isolation", "2020-10-30", "2020-11-12")),
        # as strict and longer already (an overseas arrival's 21 days): kept
        (("centralized_isolation", "2020-10-20", "2020-11-09"),
         ("centralized_isolation", "2020-10-26", "2020-11-08"),
         ("centralized_isolation", "2020-10-20", "2020-11-09")),
        # never lowered, never shortened
        (("centralized_isolation", "2020-10-26", "2020-11-12"),
         ("home_observation", "2020-10-27", "2020-11-02"),
         ("centralized_isolation", "2020-10-26", "2020-11-12")),
        (("home_observation", "2020-10-26", "2020-11-01"),
         ("home_monitoring", "2020-10-26", "2020-11-01"),
         ("home_observation", "2020-10-26", "2020-11-01")),
        (("self_monitoring", "2020-10-26", "2020-11-01"),
         ("home_observation", "2020-10-26", "2020-11-01"),
         ("home_observation", "2020-10-26", "2020-11-01")),
        # a kind nobody knows counts for nothing
        (("mystery", "2020-10-26", "2020-11-01"),
         ("self_monitoring", "2020-10-26", "2020-11-01"),
         ("self_monitoring", "2020-10-26", "2020-11-01")),
    ],
)  # fmt: skip
def test_a_measure_is_raised_never_lowered(
    current: tuple[str, str, str] | None, new: tuple[str, str, str],
    expected: tuple[str, str, str],
) -> None:  # fmt: skip
    before = _held(*current) if current else None
    assert c.raised(before, _held(*new)) == _held(*expected)


@pytest.mark.parametrize(
    ("state", "current", "new", "expected"),
    [
        # still under it: raised
        ("traced", ("centralized_isolation", "2020-10-02", "2020-10-15"),
         ("centralized_isolation", "2020-10-10", "2020-10-23"), False),
        ("isolating", ("centralized_isolation", "2020-10-02", "2020-10-15"),
         ("centralized_isolation", "2020-10-16", "2020-10-29"), False),  # the next day: one run
        # over before the new one begins: afresh, never merged across the gap
        ("traced", ("centralized_isolation", "2020-10-02", "2020-10-15"),
         ("centralized_isolation", "2020-10-17", "2020-10-30"), True),
        # in a stay still (not released yet): raised, the stay answers for them
        ("isolating", ("centralized_isolation", "2020-10-02", "2020-10-15"),
         ("centralized_isolation", "2020-10-17", "2020-10-30"), False),
        # released or closed: afresh, whatever the dates
        ("released", ("centralized_isolation", "2020-10-02", "2020-10-15"),
         ("centralized_isolation", "2020-10-26", "2020-11-08"), True),
        ("released", ("centralized_isolation", "2020-10-02", "2020-10-15"),
         ("centralized_isolation", "2020-10-10", "2020-10-23"), True),
        ("closed", ("home_observation", "2020-10-02", "2020-10-08"),
         ("home_observation", "2020-10-05", "2020-10-11"), True),
    ],
)  # fmt: skip
def test_exposed_again_after_the_measure_is_over_starts_afresh(
    state: str, current: tuple[str, str, str], new: tuple[str, str, str], expected: bool
) -> None:
    assert c.afresh(state, _held(*current), _held(*new)) is expected


# --- who the new contact is -----------------------------------------------------------------

NEW = PersonRecord("张三", "13812345678", "id", ID_NUMBER)
NEW_NO_ID = PersonRecord("张三", "13812345678", None, None)


def _contact(i: int, phone: str | None = "13812345678", number: str | None = ID_NUMBER) -> Known:
    return Known(CONTACT, i, PersonRecord("张三", phone, "id" if number else None, number))


def _person(i: int, idx: int = 0, phone: str | None = "13812345678",
            number: str | None = ID_NUMBER) -> Known:  # fmt: skip
    return Known(PERSON, i, PersonRecord("张三", phone, "id" if number else None, number), idx)


@pytest.mark.parametrize(
    ("new", "known", "expected"),
    [
        (NEW, [], None),
        # the same ID number: a contact before an arrival's person, whatever the order
        (NEW, [_person(7), _contact(3)], _contact(3)),
        # the ID number before name and phone: the person by ID, not the contact by phone
        (NEW, [_contact(3, number=None), _person(7, phone="13900000000")],
         _person(7, phone="13900000000")),
        # no ID number given: name and phone; a contact first
        (NEW_NO_ID, [_person(7), _contact(3)], _contact(3)),
        (NEW_NO_ID, [_person(7, idx=2)], _person(7, idx=2)),
        # name and phone alike but another ID number: another person
        (NEW, [_contact(3, number=OTHER_ID)], None),
        # the first of several arrivals (newest first, as storage gives them)
        (NEW_NO_ID, [_person(9), _person(7)], _person(9)),
        # an ID on one side only and another phone: nobody
        (NEW, [_contact(3, phone="13900000000", number=None)], None),
    ],
)  # fmt: skip
def test_who_the_new_contact_already_is(
    new: PersonRecord, known: list[Known], expected: Known | None
) -> None:
    assert c.pick(new, known) == expected


# --- reference numbers and identity numbers as typed ------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("XF-20201026-0042", "XF-20201026-0042"),
        ("xf 20201026 0042", "XF-20201026-0042"),
        ("XF-MJ-20201120-0001", "XF-MJ-20201120-0001"),
        ("xfmj202011200001", "XF-MJ-20201120-0001"),
        ("XF—MJ—20201120—0001", "XF-MJ-20201120-0001"),
        ("ＸＦ－ＭＪ－２０２０１１２０－０００１", "XF-MJ-20201120-0001"),
    ],
)
def test_reference_numbers_as_typed(typed: str, expected: str) -> None:
    assert c.parse_ref(typed) == expected


@pytest.mark.parametrize(
    "typed", ["", "hello", "XF-20201332-0001", "XF-2020102-0001", "XF-MJ-20201120-001", "12345"]
)
def test_not_a_reference_number(typed: str) -> None:
    assert c.parse_ref(typed) == Invalid("contact_ref_format")


def test_which_reference_numbers_name_a_contact() -> None:
    assert c.is_contact_ref("XF-MJ-20201120-0001")
    assert not c.is_contact_ref("XF-20201026-0042")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (ID_NUMBER, ("id", ID_NUMBER)),
        ("110105 19491231 002x", ("id", OTHER_ID)),
        ("E12345678", ("passport", "E12345678")),
        ("e 1234 5678", ("passport", "E12345678")),
        ("123456789", ("passport", "123456789")),  # a US passport is nine digits
        ("5001161990010112", Invalid("id_length", {"length": 16})),
        (ID17 + ("0" if ID_NUMBER[-1] != "0" else "1"), Invalid("id_checksum")),
        ("E1", Invalid("passport_format")),
        ("11010519491231", Invalid("id_length", {"length": 14})),  # digits of an ID's length
        ("1101051949123", ("passport", "1101051949123")),
    ],
)
def test_an_id_or_passport_number(typed: str, expected: object) -> None:
    assert c.parse_identity(typed, date(2020, 10, 26)) == expected


_code = st.text(alphabet="ABCDEFGHIJKLNOPQRSTUVWXYZ", min_size=1, max_size=4)  # no M: no "MJ"
_day = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(_code, st.booleans(), _day, st.integers(0, 9999), st.sampled_from(["-", " ", "", "—"]),
       st.booleans())  # fmt: skip
def test_any_reference_number_reads_back_canonical(
    code: str, contact: bool, day: date, n: int, dash: str, lower: bool
) -> None:
    parts = [code, *(["MJ"] if contact else []), day.strftime("%Y%m%d"), f"{n:04d}"]
    typed = dash.join(parts)
    assert c.parse_ref(typed.lower() if lower else typed) == "-".join(parts)


@given(st.text(max_size=60))
def test_any_text_is_a_reference_or_a_reason(text: str) -> None:
    parsed = c.parse_ref(text)
    assert isinstance(parsed, Invalid) or c.parse_ref(parsed) == parsed


@given(st.text(max_size=60))
def test_any_text_is_an_identity_or_a_reason(text: str) -> None:
    parsed = c.parse_identity(text, date(2020, 10, 26))
    assert isinstance(parsed, Invalid) or (
        parsed[0] in ("id", "passport")
        and c.parse_identity(parsed[1], date(2020, 10, 26)) == parsed
    )


# --- the flow's steps -----------------------------------------------------------------------

CTX = c.Context(villages={"xf": ("XF01", "XF02")}, today=date(2020, 10, 26))
NEW_ANSWERS = {"name": "张三", "phone": "13812345678", "id_kind": "id", "id_number": ID_NUMBER,
               "village": "xf", "grid": "XF01", "address": "幸福小区1栋", "kind": "close",
               "last_exposure": "2020-10-25", "exposure": "同住", "note": None}  # fmt: skip


def test_a_reference_number_is_looked_up() -> None:
    assert c._person_text("xf-mj-20201120-0001", {}, CTX) == Lookup("ref", "XF-MJ-20201120-0001")


@pytest.mark.parametrize(
    ("current", "data", "expected"),
    [
        ("person", {}, "name"),
        ("person", {"ref": "XF-20201026-0001"}, "kind"),
        ("person", {"ref": "XF-20201026-0001", "members": ["张三", "李四"]}, "member"),
        ("person", {"ref": "XF-20201026-0001", "members": ["张三"]}, "kind"),
        ("member", {"ref": "XF-20201026-0001", "members": ["张三", "李四"]}, "kind"),
        ("address", {}, "kind"),
        ("kind", {}, "last_exposure"),
        ("exposure", {}, "note"),
        ("note", {}, "summary"),
    ],
)
def test_the_next_question(current: str, data: dict, expected: str) -> None:
    assert c.next_step(current, data) == expected


@pytest.mark.parametrize(
    ("step", "value", "data", "expected"),
    [
        ("person", "new", {"ref": "XF-20201026-0001"},
         {"ref": None, "members": None, "member": 0, "ref_name": None}),
        ("member", "1", {"members": ["张三", "李四"]}, {"member": 1, "ref_name": "李四"}),
        ("phone", "skip", {}, {"phone": None}),
        ("id_number", "skip", {}, {"id_kind": None, "id_number": None}),
        ("village", "xf", {}, {"village": "xf", "grid": None}),
        ("last_exposure", "today", {}, {"last_exposure": "2020-10-26"}),
        ("last_exposure", "yesterday", {}, {"last_exposure": "2020-10-25"}),
        ("kind", "secondary", {}, {"kind": "secondary"}),
        ("kind", "distant", {}, Invalid("choice_stale")),
        ("member", "2", {"members": ["张三", "李四"]}, Invalid("choice_stale")),
    ],
)  # fmt: skip
def test_a_pressed_button(step: str, value: str, data: dict, expected: object) -> None:
    assert c.apply_choice(c.STEPS[step], value, data, CTX) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("10-25", {"last_exposure": "2020-10-25"}), ("明天", Invalid("date_format")),
     ("10-27", Invalid("date_future")), ("2020-10-01", Invalid("date_too_old", {"days": 21}))],
)  # fmt: skip
def test_the_last_exposure_as_typed(typed: str, expected: object) -> None:
    assert c.STEPS["last_exposure"].text(typed, {}, CTX) == expected


@pytest.mark.parametrize(
    ("drop", "expected"),
    [(None, None), ("name", "name"), ("address", "address"), ("kind", "kind"),
     ("last_exposure", "last_exposure"), ("exposure", "exposure")],
)  # fmt: skip
def test_what_a_draft_lacks(drop: str | None, expected: str | None) -> None:
    data = {k: v for k, v in NEW_ANSWERS.items() if k != drop}
    assert c.missing_for_submit(data, CTX) == expected


def test_a_grid_of_another_village_is_asked_again() -> None:
    assert c.missing_for_submit({**NEW_ANSWERS, "grid": "SQ01"}, CTX) == "village"


def test_a_person_by_reference_lacks_no_personal_data() -> None:
    data = {"ref": "XF-20201026-0001", "kind": "close", "last_exposure": "2020-10-25",
            "exposure": "同桌吃饭"}  # fmt: skip
    assert c.missing_for_submit(data, CTX) is None
    assert c.missing_for_submit({**data, "kind": "distant"}, CTX) == "kind"


def test_the_answers_as_one_contact() -> None:
    assert c.entry(NEW_ANSWERS) == NewContact(
        kind="close", last_exposure=date(2020, 10, 25), name="张三", phone="13812345678",
        id_kind="id", id_number=ID_NUMBER, address="幸福小区1栋", village_id="xf",
        grid_id="XF01", exposure="同住", note=None,
    )  # fmt: skip
    by_ref = {"ref": "XF-20201026-0001", "member": 1, "kind": "secondary",
              "last_exposure": "2020-10-24", "exposure": "同车", "note": "司机"}  # fmt: skip
    assert c.entry(by_ref) == NewContact(
        kind="secondary", last_exposure=date(2020, 10, 24), ref="XF-20201026-0001", member=1,
        exposure="同车", note="司机",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("parse", "limit"), [(c.parse_exposure, c.EXPOSURE_LIMIT), (c.parse_note, c.NOTE_LIMIT)]
)
def test_how_exposed_and_the_note_are_free_text_within_a_limit(parse, limit: int) -> None:
    assert (c.EXPOSURE_LIMIT, c.NOTE_LIMIT) == (100, 200)
    assert parse(" 同住 ") == "同住"
    assert parse("住" * limit) == "住" * limit
    assert isinstance(parse("住" * (limit + 1)), Invalid)


def test_a_new_contact_as_a_person_record() -> None:
    entry = NewContact(kind="close", last_exposure=date(2020, 10, 25), name="王五",
                       phone="13900001111", id_kind="passport", id_number="E12345678")  # fmt: skip
    assert entry.person == PersonRecord("王五", "13900001111", "passport", "E12345678")
