"""Door-to-door screening (入户排查): parsing of what the worker types at the door."""

from __future__ import annotations

import re

from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_temperature

FEVER = 37.3  # 体温 ≥ 37.3℃: 发热
MAX_TEMPERATURES = 30
MAX_PEOPLE = 50
_SEPARATORS = re.compile(r"[\s，、；;/]+")
_COUNT = re.compile(r"[0-9]{1,3}")
_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _piece(piece: str) -> list[float] | Invalid:
    """ "36.5" one value; "36.5,36.7" two; "36,5" one (a decimal comma)."""
    if "," in piece:
        parts = [parse_temperature(p) for p in piece.split(",")]
        if all(p and not isinstance(p, Invalid) for p in parts):
            return parts  # type: ignore[return-value]
    value = parse_temperature(piece)
    return value if isinstance(value, Invalid) else [value]


def parse_temperatures(text: str) -> tuple[float, ...] | Invalid:
    """Temperatures taken at a household, e.g. "36.5 36.7，37.4"; each checked as in the
    arrival report (parse_temperature): the first bad one is the reason."""
    pieces = [p for p in _SEPARATORS.split(text.translate(_DIGITS).strip()) if p]
    if not pieces:
        return Invalid("text_empty")
    values: list[float] = []
    for piece in pieces:
        found = _piece(piece)
        if isinstance(found, Invalid):
            return found
        values.extend(found)
    if len(values) > MAX_TEMPERATURES:
        return Invalid("visits.too_many_temperatures", {"limit": MAX_TEMPERATURES})
    return tuple(values)


def parse_people(text: str) -> int | Invalid:
    """How many people were at home: 0..MAX_PEOPLE (digits, "3人")."""
    cleaned = text.translate(_DIGITS).strip().removesuffix("人").strip()
    if not _COUNT.fullmatch(cleaned):
        return Invalid("visits.people_format")
    value = int(cleaned)
    if value > MAX_PEOPLE:
        return Invalid("visits.people_format")
    return value


def has_fever(temperatures: tuple[float, ...] | list[float]) -> bool:
    return any(t >= FEVER for t in temperatures)
