"""Pure parsers of what residents and workers type: each returns its value or an Invalid.

No parser raises on any ``str``: every answer is first normalised with NFKC (full-width
digits, letters and punctuation typed on Chinese keyboards become ASCII), trimmed, and
bounded in length. Error codes name macros in ``templates/<locale>/errors.j2``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import phonenumbers

from bot.domain.invalid import Invalid

# NFKC can expand a character (e.g. "㍿" -> "株式会社"); refusing very long raw input before
# normalising keeps the work bounded whatever a user pastes.
_RAW_FACTOR = 4
_RAW_SLACK = 64

NAME_LIMIT = 30
PHONE_LIMIT = 30
ID_LIMIT = 40
PASSPORT_LIMIT = 40
DATE_LIMIT = 40
PLATE_LIMIT = 20
TRIP_LIMIT = 30
TEMPERATURE_LIMIT = 20
ADDRESS_LIMIT = 100
ADDRESS_MIN = 2

TEMP_LOW = Decimal("35.0")
TEMP_HIGH = Decimal("42.0")


def too_long(limit: int) -> Invalid:
    return Invalid("too_long", {"limit": limit})


# Characters nobody sees: zero-width, direction marks and isolates, the BOM, soft hyphen and
# controls (C0 but tab and line breaks, DEL, C1). Pasted from other apps or typed to fool the
# bot, they would make an empty name look filled in, or one name look like two; they are
# removed from every answer before it is checked.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)


def visible(text: str) -> str:
    """``text`` without the characters nobody sees (``_INVISIBLE``)."""
    return _INVISIBLE.sub("", text)


# The dashes a reference number may be typed with (Chinese keyboards, word processors), and
# "_" or "/": all read as "-" (str.translate table).
DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−_/", "-"))


def clean(text: str, limit: int) -> str | Invalid:
    """Invisible characters removed, NFKC, trimmed; ``too_long`` when the result exceeds
    ``limit`` characters."""
    if len(text) > limit * _RAW_FACTOR + _RAW_SLACK:
        return too_long(limit)
    normalised = visible(unicodedata.normalize("NFKC", text)).strip()
    if len(normalised) > limit:
        return too_long(limit)
    return normalised


def _squeeze(text: str) -> str:
    """Drop all whitespace: users space out numbers and codes as they read them aloud."""
    return "".join(text.split())


# --- names -----------------------------------------------------------------------------

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f〇"
_LATIN = "A-Za-zÀ-ÖØ-öø-ÿĀ-ſ"
# Minority and foreign names are written with a middle dot (买买提·艾力); the dot has several
# code points depending on the keyboard, so all are accepted and stored as U+00B7.
_DOTS = "·•・‧"
_NAME = re.compile(rf"[{_HAN}{_LATIN}{_DOTS} '’\-‐]+")
_NAME_LETTER = re.compile(rf"[{_HAN}{_LATIN}]")
_DOT_TRANS = str.maketrans(dict.fromkeys(_DOTS, "·") | {"’": "'", "‐": "-"})
# A full name has a surname and a given name: two characters at least (张三, Li Na); "张" or
# "A." alone is no one's name.
NAME_MIN_LETTERS = 2


def parse_name(text: str) -> str | Invalid:
    cleaned = clean(text, NAME_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    name = " ".join(cleaned.split())
    if not name:
        return Invalid("name_empty")
    if not _NAME.fullmatch(name) or not _NAME_LETTER.search(name):
        return Invalid("name_invalid")
    if len(_NAME_LETTER.findall(name)) < NAME_MIN_LETTERS:
        return Invalid("name_short")
    return name.translate(_DOT_TRANS)


# --- phone -----------------------------------------------------------------------------

_PHONE_CHARS = re.compile(r"\+?[0-9 ()\-.]+")
_MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


def parse_phone(text: str) -> str | Invalid:
    cleaned = clean(text, PHONE_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    digits = re.sub(r"\D", "", cleaned)
    if not _PHONE_CHARS.fullmatch(cleaned) or len(digits) < 5:
        return Invalid("phone_format")
    try:
        number = phonenumbers.parse(cleaned, "CN")
    except phonenumbers.NumberParseException:
        return Invalid("phone_format")
    if (
        phonenumbers.region_code_for_number(number) != "CN"
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _MOBILE_TYPES
    ):
        return Invalid("phone_not_mobile")
    return str(number.national_number)


# --- resident ID (GB 11643-1999) -------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_PROVINCES = frozenset(
    [
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
    ]
)
_EARLIEST_BIRTH = date(1900, 1, 1)


def id_check_char(first17: str) -> str:
    """The 18th character for 17 digits (public so tests and fixtures can build valid IDs)."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _id_birth(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def parse_id_number(text: str, today: date | None = None) -> str | Invalid:
    cleaned = clean(text, ID_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    number = _squeeze(cleaned).upper()
    if len(number) != 18:
        return Invalid("id_length", {"length": len(number)})
    if not _ID_SHAPE.fullmatch(number):
        return Invalid("id_chars")
    if int(number[:2]) not in _PROVINCES:
        return Invalid("id_region")
    birth = _id_birth(number)
    if birth is None or not _EARLIEST_BIRTH <= birth <= (today or date.today()):
        return Invalid("id_birthdate")
    if id_check_char(number[:17]) != number[17]:
        return Invalid("id_checksum")
    return number


# --- passport --------------------------------------------------------------------------

_PASSPORT = re.compile(r"[A-Z0-9]{5,20}")


def parse_passport(text: str) -> str | Invalid:
    cleaned = clean(text, PASSPORT_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    number = _squeeze(cleaned).upper()
    if not _PASSPORT.fullmatch(number):
        return Invalid("passport_format")
    return number


# --- dates -----------------------------------------------------------------------------

_RELATIVE_DAYS = {
    "今天": 0,
    "今日": 0,
    "today": 0,
    "昨天": 1,
    "昨日": 1,
    "yesterday": 1,
    "前天": 2,
}
_FULL_DATES = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})[日号]?"),
)
_MONTH_DAYS = (
    re.compile(r"(\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{1,2})月(\d{1,2})[日号]?"),
)


def full_date(text: str) -> date | Invalid | None:
    """A date written with its year (2020-12-31, 2020年12月31日, ...), with no window: None
    when the text is no full date, Invalid when it names no day of the calendar."""
    for pattern in _FULL_DATES:
        if match := pattern.fullmatch(text):
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                return Invalid("date_invalid")
    return None


FUTURE_WINDOW_DAYS = 60


def _recent_month_day(month: int, day: int, today: date) -> date | Invalid:
    """The latest date with this month and day not after today; 2/29 looks back to a leap
    year (and is then usually too old, which is the honest answer). A date a few weeks ahead
    this year is a future date, not one from last year ("10月27日" typed on 26 October)."""
    try:
        ahead = date(today.year, month, day) - today
    except ValueError:
        ahead = None
    if ahead is not None and 0 < ahead.days <= FUTURE_WINDOW_DAYS:
        return Invalid("date_future")
    for year in range(today.year, today.year - 5, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    return Invalid("date_invalid")


def _month_day(text: str, today: date) -> date | Invalid | None:
    for pattern in _MONTH_DAYS:
        if match := pattern.fullmatch(text):
            month, day = (int(g) for g in match.groups())
            return _recent_month_day(month, day, today)
    return None


def parse_date(text: str, today: date, max_back_days: int = 30) -> date | Invalid:
    cleaned = clean(text, DATE_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    compact = _squeeze(cleaned).lower()
    if compact in _RELATIVE_DAYS:
        value: date | Invalid | None = today - timedelta(days=_RELATIVE_DAYS[compact])
    else:
        value = full_date(compact)
        if value is None:
            value = _month_day(compact, today)
    if value is None:
        return Invalid("date_format")
    if isinstance(value, Invalid):
        return value
    if value > today:
        return Invalid("date_future")
    if (today - value).days > max_back_days:
        return Invalid("date_too_old", {"days": max_back_days})
    return value


# --- licence plates --------------------------------------------------------------------

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_BODY = re.compile(
    r"[A-Z]"
    r"(?:"
    r"[DF][A-HJ-NP-Z0-9][0-9]{4}"  # small new-energy vehicle
    r"|[0-9]{5}[DF]"  # large new-energy vehicle
    r"|[A-HJ-NP-Z0-9]{5}[挂学警港澳]?"  # ordinary
    # trailer, learner, police and HK/Macau plates have four characters before the suffix
    r"|[A-HJ-NP-Z0-9]{4}[挂学警港澳]"
    r")"
)
_PLATE_NOISE = re.compile(r"[\s·•・.\-]")


def parse_plate(text: str) -> str | Invalid:
    cleaned = clean(text, PLATE_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    plate = _PLATE_NOISE.sub("", cleaned).upper()
    if not plate:
        return Invalid("plate_format")
    if plate[0] not in PLATE_PROVINCES:
        return Invalid("plate_province")
    if not _PLATE_BODY.fullmatch(plate[1:]):
        return Invalid("plate_format")
    return plate


# --- trips -----------------------------------------------------------------------------

_TRAIN = re.compile(r"[GDCZTKYSL]?[0-9]{1,4}")
_FLIGHT = re.compile(r"(?=[0-9]?[A-Z])[A-Z0-9]{2}[0-9]{1,4}[A-Z]?")
TRIP_KINDS = ("train", "flight", "coach")


def parse_trip_number(kind: str, text: str) -> str | Invalid:
    """Train or flight number, or free text for a coach; ``kind`` is chosen by our own
    buttons, so an unknown kind is a programming error and raises ValueError."""
    if kind == "coach":
        return parse_text(text, TRIP_LIMIT)
    if kind not in TRIP_KINDS:
        raise ValueError(f"unknown trip kind {kind!r}")
    cleaned = clean(text, TRIP_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    number = _squeeze(cleaned).upper()
    pattern, code = (_TRAIN, "train_format") if kind == "train" else (_FLIGHT, "flight_format")
    if not pattern.fullmatch(number):
        return Invalid(code)
    return number


# --- temperature -----------------------------------------------------------------------

# "36度5" is how many people say 36.5 aloud, so it is accepted as well.
_TEMPERATURE = re.compile(r"([0-9]{2,3}(?:[.,][0-9]+)?)(?:°c|°|c|℃|度|摄氏度)?")
_SPOKEN_TEMPERATURE = re.compile(r"([0-9]{2})度([0-9])")


def _temperature_value(text: str) -> Decimal | None:
    if match := _SPOKEN_TEMPERATURE.fullmatch(text):
        return Decimal(f"{match[1]}.{match[2]}")
    if match := _TEMPERATURE.fullmatch(text):
        try:
            return Decimal(match[1].replace(",", "."))
        except InvalidOperation:
            return None
    return None


def parse_temperature(text: str) -> float | Invalid:
    cleaned = clean(text, TEMPERATURE_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    value = _temperature_value(_squeeze(cleaned).lower())
    if value is None:
        return Invalid("temp_format")
    rounded = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if not TEMP_LOW <= rounded <= TEMP_HIGH:
        return Invalid("temp_range", {"low": float(TEMP_LOW), "high": float(TEMP_HIGH)})
    return float(rounded)


# --- free text -------------------------------------------------------------------------


def parse_address(text: str) -> str | Invalid:
    cleaned = clean(text, ADDRESS_LIMIT)
    if isinstance(cleaned, Invalid):
        return cleaned
    if len(cleaned) < ADDRESS_MIN:
        return Invalid("address_short")
    # an address names its place in letters or digits: "A." or "。。" says nothing
    if sum(c.isalnum() for c in cleaned) < ADDRESS_MIN:
        return Invalid("address_invalid")
    return cleaned


def parse_text(text: str, limit: int) -> str | Invalid:
    cleaned = clean(text, limit)
    if isinstance(cleaned, Invalid):
        return cleaned
    if not cleaned:
        return Invalid("text_empty")
    return cleaned
