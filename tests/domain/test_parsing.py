"""Parsers of user input: examples with exact codes, and properties over generated input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.invalid import Invalid
from bot.domain.parsing import (
    PLATE_PROVINCES,
    id_check_char,
    parse_address,
    parse_date,
    parse_id_number,
    parse_name,
    parse_passport,
    parse_phone,
    parse_plate,
    parse_temperature,
    parse_text,
    parse_trip_number,
)

TODAY = date(2020, 11, 5)
FULLWIDTH = str.maketrans("0123456789-.", "０１２３４５６７８９－．")


def code(result: object) -> str | None:
    return result.code if isinstance(result, Invalid) else None


def make_id(prefix: str, birth: date, serial: str) -> str:
    body = f"{prefix}{birth:%Y%m%d}{serial}"
    return body + id_check_char(body)


VALID_ID = make_id("500381", date(1990, 1, 1), "123")


# --- every parser: never raises on any text -------------------------------------------

PARSERS: list[Callable[[str], object]] = [
    parse_name,
    parse_phone,
    lambda t: parse_id_number(t, TODAY),
    parse_passport,
    lambda t: parse_date(t, TODAY),
    parse_plate,
    lambda t: parse_trip_number("train", t),
    lambda t: parse_trip_number("flight", t),
    lambda t: parse_trip_number("coach", t),
    parse_temperature,
    parse_address,
    lambda t: parse_text(t, 50),
]


@pytest.mark.parametrize("parser", PARSERS)
@given(text=st.text())
def test_never_raises(parser: Callable[[str], object], text: str) -> None:
    assert parser(text) is not None


@pytest.mark.parametrize("parser", PARSERS)
def test_huge_input_is_too_long(parser: Callable[[str], object]) -> None:
    assert code(parser("1" * 100_000)) == "too_long"


# --- names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张三", "张三"),
        ("  李 四  ", "李 四"),
        ("买买提•艾力", "买买提·艾力"),
        ("John O'Brien-Smith", "John O'Brien-Smith"),
        ("Ｗａｎｇ　Ｗｅｉ", "Wang Wei"),
    ],
)
def test_name_accepted(text: str, expected: str) -> None:
    assert parse_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "name_empty"),
        ("   ", "name_empty"),
        ("张3", "name_invalid"),
        ("李@", "name_invalid"),
        ("---", "name_invalid"),
        ("张" * 31, "too_long"),
    ],
)
def test_name_rejected(text: str, expected: str) -> None:
    assert code(parse_name(text)) == expected


@given(st.text(alphabet="张王李赵钱孙abcXYZ", min_size=2, max_size=30))  # a full name: 2 letters
def test_name_generated_accepted_and_idempotent(text: str) -> None:
    name = parse_name(text)
    assert name == text
    assert parse_name(name) == name


# --- phones ---------------------------------------------------------------------------

MOBILE_PREFIXES = [*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159]
MOBILE_PREFIXES += [*range(180, 190), 198, 199]


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "0086138 1234 5678",
        "１３８１２３４５６７８",
    ],
)
def test_phone_accepted(text: str) -> None:
    assert parse_phone(text) == "13812345678"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", "phone_format"),
        ("123", "phone_format"),
        ("", "phone_format"),
        ("12345678901", "phone_not_mobile"),
        ("023 1234 5678", "phone_not_mobile"),
        ("+1 650 253 0000", "phone_not_mobile"),
        ("1381234567", "phone_not_mobile"),
    ],
)
def test_phone_rejected(text: str, expected: str) -> None:
    assert code(parse_phone(text)) == expected


@given(
    st.sampled_from(MOBILE_PREFIXES),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.sampled_from(["{}", "{} ", "+86{}", "0086 {}", "{}\n"]),
)
def test_phone_generated_accepted(prefix: int, rest: str, shape: str) -> None:
    number = f"{prefix}{rest}"
    assert parse_phone(shape.format(number)) == number
    assert parse_phone(number) == number


# --- resident ID ----------------------------------------------------------------------


def test_id_accepted_with_lowercase_x_and_spaces() -> None:
    body = "11010519491231002"
    assert id_check_char(body) == "X"
    assert parse_id_number(f" {body}x ", TODAY) == f"{body}X"
    assert parse_id_number("110105 19491231 002X", TODAY) == f"{body}X"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12345", "id_length"),
        ("", "id_length"),
        ("5003811990010112A4", "id_chars"),
        (make_id("990381", date(1990, 1, 1), "123"), "id_region"),
        ("50038119901301123" + "0", "id_birthdate"),
        (make_id("500381", date(1899, 12, 31), "123"), "id_birthdate"),
        (make_id("500381", TODAY + timedelta(days=1), "123"), "id_birthdate"),
        (VALID_ID[:17] + ("0" if VALID_ID[17] != "0" else "1"), "id_checksum"),
        ("1" * 41, "too_long"),
    ],
)
def test_id_rejected(text: str, expected: str) -> None:
    assert code(parse_id_number(text, TODAY)) == expected


def test_id_length_reports_length() -> None:
    assert parse_id_number("1234567", TODAY) == Invalid("id_length", {"length": 7})


PROVINCE_CODES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43]
PROVINCE_CODES += [44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83]


@given(
    st.sampled_from(PROVINCE_CODES),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.text(alphabet="0123456789", min_size=3, max_size=3),
)
def test_id_generated_accepted(province: int, area: str, birth: date, serial: str) -> None:
    number = make_id(f"{province}{area}", birth, serial)
    assert parse_id_number(number.lower(), TODAY) == number
    assert parse_id_number(number.translate(FULLWIDTH), TODAY) == number


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X"))
def test_id_wrong_check_char_never_accepted(body: str, check: str) -> None:
    result = parse_id_number(body + check, TODAY)
    assert isinstance(result, Invalid) or check == id_check_char(body)


# --- passport -------------------------------------------------------------------------


def test_passport() -> None:
    assert parse_passport(" e1234 5678 ") == "E12345678"
    assert code(parse_passport("E12")) == "passport_format"
    assert code(parse_passport("E1234-5678")) == "passport_format"
    assert code(parse_passport("A" * 21)) == "passport_format"


@given(st.text(alphabet="ABCDEFGHXYZabcxyz0123456789", min_size=5, max_size=20))
def test_passport_generated_accepted_and_idempotent(text: str) -> None:
    value = parse_passport(text)
    assert value == text.upper()
    assert parse_passport(value) == value


# --- dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2020-10-26",
        "2020/10/26",
        "2020.10.26",
        "20201026",
        "10/26",
        "10-26",
        "10.26",
        "10月26日",
        "10月26号",
        "10月26",
        "2020年10月26日",
        "１０月２６日",
        " 10 / 26 ",
    ],
)
def test_date_formats(text: str) -> None:
    assert parse_date(text, TODAY) == date(2020, 10, 26)


@pytest.mark.parametrize(
    ("text", "days"), [("今天", 0), ("Today", 0), ("昨天", 1), ("YESTERDAY", 1), ("前天", 2)]
)
def test_date_words(text: str, days: int) -> None:
    assert parse_date(text, TODAY) == TODAY - timedelta(days=days)


def test_month_day_is_most_recent_not_after_today() -> None:
    assert parse_date("10/26", date(2021, 1, 5), max_back_days=100) == date(2020, 10, 26)
    assert parse_date("1/5", date(2021, 1, 5)) == date(2021, 1, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "date_format"),
        ("下周", "date_format"),
        ("2020-1026", "date_format"),
        ("2/30", "date_invalid"),
        ("13/1", "date_invalid"),
        ("2020-02-30", "date_invalid"),
        ("2020-11-06", "date_future"),
        ("2020-10-05", "date_too_old"),
        ("11/6", "date_future"),  # tomorrow, not last year
        ("1/20", "date_too_old"),  # far ahead this year: it means last January
    ],
)
def test_date_rejected(text: str, expected: str) -> None:
    assert code(parse_date(text, TODAY)) == expected


def test_date_too_old_reports_days() -> None:
    assert parse_date("2020-01-01", TODAY, 14) == Invalid("date_too_old", {"days": 14})


DATE_SHAPES = ["{:%Y-%m-%d}", "{:%Y/%m/%d}", "{:%Y.%m.%d}", "{:%Y%m%d}", "{:%Y年%m月%d日}"]
DATE_SHAPES += ["{d.month}/{d.day}", "{d.month}-{d.day}", "{d.month}.{d.day}"]
DATE_SHAPES += ["{d.month}月{d.day}日", "{d.month}月{d.day}号", "{d.month}月{d.day}"]


@given(
    st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)),
    st.integers(min_value=0, max_value=30),
    st.sampled_from(DATE_SHAPES),
)
def test_date_generated_accepted_and_idempotent(today: date, back: int, shape: str) -> None:
    day = today - timedelta(days=back)
    text = shape.format(day, d=day) if "{:" in shape else shape.format(d=day)
    assert parse_date(text, today) == day
    assert parse_date(day.isoformat(), today) == day


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)), st.integers(1, 400))
def test_date_future_never_accepted(today: date, ahead: int) -> None:
    day = today + timedelta(days=ahead)
    assert code(parse_date(day.isoformat(), today)) == "date_future"


# --- plates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("渝A12345", "渝A12345"),
        ("渝a·12345", "渝A12345"),
        (" 渝 A-1234 5 ", "渝A12345"),
        ("渝AD12345", "渝AD12345"),
        ("渝A12345F", "渝A12345F"),
        ("粤Z1234港", "粤Z1234港"),
        ("渝B12345挂", "渝B12345挂"),
        ("渝Ａ１２３４５", "渝A12345"),
    ],
)
def test_plate_accepted(text: str, expected: str) -> None:
    assert parse_plate(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "plate_format"),
        ("A12345", "plate_province"),
        ("中A12345", "plate_province"),
        ("渝A1234", "plate_format"),
        ("渝A1234O", "plate_format"),
        ("渝1A2345", "plate_format"),
        ("渝AA12345", "plate_format"),
        ("渝A123456", "plate_format"),
    ],
)
def test_plate_rejected(text: str, expected: str) -> None:
    assert code(parse_plate(text)) == expected


PLATE_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
DIGITS = "0123456789"
PLATE_BODIES = st.one_of(
    st.text(alphabet=PLATE_ALNUM, min_size=5, max_size=5),
    st.builds(
        lambda df, c, d: df + c + d,
        st.sampled_from("DF"),
        st.sampled_from(PLATE_ALNUM),
        st.text(alphabet=DIGITS, min_size=4, max_size=4),
    ),
    st.builds(
        lambda d, df: d + df,
        st.text(alphabet=DIGITS, min_size=5, max_size=5),
        st.sampled_from("DF"),
    ),
)


@given(
    st.sampled_from(PLATE_PROVINCES),
    st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"),
    PLATE_BODIES,
    st.sampled_from(["", "·", " ", "-"]),
)
def test_plate_generated_accepted_and_idempotent(
    province: str, letter: str, body: str, separator: str
) -> None:
    plate = f"{province}{letter}{body}"
    assert parse_plate(f"{province}{letter.lower()}{separator}{body}") == plate
    assert parse_plate(plate) == plate


# --- trips ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("train", "g1234", "G1234"),
        ("train", "K50", "K50"),
        ("train", "1461", "1461"),
        ("train", "Ｄ ２２２", "D222"),
        ("flight", "ca4321", "CA4321"),
        ("flight", "3U8881", "3U8881"),
        ("flight", "MU5101", "MU5101"),
        ("flight", "MU 5101A", "MU5101A"),
        ("coach", " 江津客运站—先锋 ", "江津客运站—先锋"),
    ],
)
def test_trip_accepted(kind: str, text: str, expected: str) -> None:
    assert parse_trip_number(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("train", "X123", "train_format"),
        ("train", "G12345", "train_format"),
        ("train", "", "train_format"),
        ("flight", "12345", "flight_format"),
        ("flight", "CA", "flight_format"),
        ("flight", "CAA4321", "flight_format"),
        ("coach", "", "text_empty"),
        ("coach", "站" * 31, "too_long"),
        ("train", "G" * 31, "too_long"),
    ],
)
def test_trip_rejected(kind: str, text: str, expected: str) -> None:
    assert code(parse_trip_number(kind, text)) == expected


def test_trip_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_trip_number("boat", "1")


@given(st.sampled_from("GDCZTKYSL") | st.just(""), st.integers(1, 9999))
def test_train_generated_accepted(prefix: str, number: int) -> None:
    value = parse_trip_number("train", f"{prefix.lower()}{number}")
    assert value == f"{prefix}{number}"
    assert parse_trip_number("train", value) == value


@given(
    st.sampled_from(["CA", "MU", "CZ", "3U", "HU", "9C", "G5"]),
    st.integers(1, 9999),
    st.sampled_from(["", "A", "Z"]),
)
def test_flight_generated_accepted(airline: str, number: int, suffix: str) -> None:
    value = parse_trip_number("flight", f"{airline} {number}{suffix}".lower())
    assert value == f"{airline}{number}{suffix}"
    assert parse_trip_number("flight", value) == value


# --- temperature ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["36.5", "36.5℃", "36.5度", "36,5", "36.5°C", " 36.5 ℃ ", "３６．５", "36度5", "36.45"]
)
def test_temperature_accepted(text: str) -> None:
    assert parse_temperature(text) == 36.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "temp_format"),
        ("正常", "temp_format"),
        ("36.5.1", "temp_format"),
        ("-36", "temp_format"),
        ("34.9", "temp_range"),
        ("42.1", "temp_range"),
        ("98.6", "temp_range"),
    ],
)
def test_temperature_rejected(text: str, expected: str) -> None:
    assert code(parse_temperature(text)) == expected


def test_temperature_range_params_and_bounds() -> None:
    assert parse_temperature("30") == Invalid("temp_range", {"low": 35.0, "high": 42.0})
    assert parse_temperature("35") == 35.0
    assert parse_temperature("42.0") == 42.0
    assert parse_temperature("34.95") == 35.0


@given(st.integers(350, 420), st.sampled_from(["{}", "{}℃", "{}度", "{}°C", "{} ℃"]))
def test_temperature_generated_accepted(tenths: int, shape: str) -> None:
    text = f"{tenths // 10}.{tenths % 10}"
    value = parse_temperature(shape.format(text))
    assert value == tenths / 10
    assert parse_temperature(str(value)) == value
    assert parse_temperature(text.replace(".", ",")) == value


# --- address and free text ------------------------------------------------------------


def test_address() -> None:
    assert parse_address("  先锋镇杨家店村3组12号 ") == "先锋镇杨家店村3组12号"
    assert code(parse_address("1")) == "address_short"
    assert code(parse_address("   ")) == "address_short"
    assert parse_address("x" * 101) == Invalid("too_long", {"limit": 100})


def test_text() -> None:
    assert parse_text(" 咳嗽 ", 10) == "咳嗽"
    assert code(parse_text(" \n ", 10)) == "text_empty"
    assert parse_text("a" * 11, 10) == Invalid("too_long", {"limit": 10})


@given(st.text(min_size=1, max_size=100))
def test_address_and_text_idempotent(text: str) -> None:
    for parse in (parse_address, lambda t: parse_text(t, 100)):
        value = parse(text)
        if not isinstance(value, Invalid):
            assert parse(value) == value


# Arbitrary text rarely looks like a date or a number; these alphabets reach the deeper
# branches (phonenumbers, date arithmetic, Decimal) with near-miss input.
NEAR_MISS = {
    parse_phone: "+0123456789 ()-.",
    (lambda t: parse_date(t, TODAY)): "0123456789-/.年月日号 ",
    parse_temperature: "0123456789.,度℃°C ",
    (lambda t: parse_id_number(t, TODAY)): "0123456789Xx ",
    parse_plate: "渝京AZDF0123456789挂学·- ",
}


@pytest.mark.parametrize(("parser", "alphabet"), NEAR_MISS.items())
@given(data=st.data())
def test_never_raises_on_near_misses(
    parser: Callable[[str], object], alphabet: str, data: st.DataObject
) -> None:
    text = data.draw(st.text(alphabet=alphabet, max_size=25))
    assert parser(text) is not None
