"""Building blocks of the step tables (STEPS) of the arrival, case and tip conversations.

Each flow's domain module declares its questions as ``Step`` rows whose ``choices`` and ``text``
are small functions of (answer, answers so far, the flow's Context). The two most common
shapes, a fixed set of buttons and "parse the text into one answer", were written once per
flow; they are here once. Pure: no telegram, no SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain.invalid import Invalid

Data = dict[str, Any]  # the answers so far
Updates = dict[str, Any]  # the answers one step adds


def fixed_choices(values: tuple[str, ...]) -> Callable[[Data, Any], tuple[str, ...]]:
    """The ``choices`` of a step whose buttons do not depend on earlier answers."""
    return lambda data, ctx: values


def store_answer(
    key: str, parse: Callable[[str], Any]
) -> Callable[[str, Data, Any], Updates | Invalid]:
    """The ``text`` of a step that parses the typed text into one answer under ``key``
    (or refuses it with the parser's Invalid)."""

    def apply(text: str, data: Data, ctx: Any) -> Updates | Invalid:
        value = parse(text)
        return value if isinstance(value, Invalid) else {key: value}

    return apply
