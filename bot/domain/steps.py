"""The one ``Step`` of every conversation's step table, and its building blocks.

A flow declares its questions as ``Step`` rows whose ``choices`` and ``text`` are small
functions of (answer, answers so far, the flow's Context). The conversation runtime
(bot/flows/engine.py) reads a step to know what it accepts and how to show it. Pure: no
telegram, no SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.domain.invalid import Invalid

Data = dict[str, Any]  # the answers so far
Updates = dict[str, Any]  # the answers one step adds


@dataclass(frozen=True)
class Lookup:
    """A parser's request for what only I/O can answer (a report found by its reference).

    The flow resolves it (in its scope, audited) into updates or an Invalid."""

    what: str
    value: Any


Parsed = Updates | Invalid | Lookup
Choices = Callable[[Data, Any], tuple[str, ...]]
TextParser = Callable[[str, Data, Any], Parsed]
LocationParser = Callable[[float, float], Updates | Invalid]
# Whose number a shared contact card may be, given the answers so far (see ``contact_refusal``)
Whose = Callable[[Data], str]
SELF, OTHER, ANYONE = "self", "other", "anyone"


@dataclass(frozen=True)
class Step:
    """One question. ``choices`` are its buttons; ``text`` parses a typed answer (a shared
    contact's phone number too, when ``contact``); ``photo`` names the answer a photo is
    stored under; ``location`` parses a location pin. A step that asks for a contact or a
    location shows a reply keyboard (its choices as text buttons); others inline buttons,
    ``per_row`` a row. ``group`` is what "change a field" on the summary card edits together.
    ``contact_of`` says whose contact card the step takes (default: the sender's own when
    ``contact``, else none)."""

    key: str
    group: str = ""
    choices: Choices | None = None
    text: TextParser | None = None
    contact: bool = False
    photo: str = ""
    location: LocationParser | None = None
    per_row: int = 1
    contact_of: Whose | None = None

    def whose_contact(self, data: Data) -> str | None:
        """Whose shared contact card answers this step (None: a card is not an answer)."""
        if self.contact_of is not None:
            return self.contact_of(data)
        return SELF if self.contact else None

    def values(self, data: Data, ctx: Any) -> tuple[str, ...]:
        return self.choices(data, ctx) if self.choices is not None else ()

    def accepts_text(self) -> bool:
        return self.text is not None

    def expects(self) -> str:
        """The reason code for an answer of a kind this step does not take."""
        if self.photo:
            return "expect_photo"
        if self.location is not None:
            return "expect_location"
        return "expect_text" if self.text is not None else "expect_choice"


def contact_refusal(whose: str, contact_user_id: int | None, sender: int) -> Invalid | None:
    """Why a shared contact card (of Telegram user ``contact_user_id``, None: not a Telegram
    user) does not answer a question for ``whose`` number; None when it does. Only a card
    carrying the sender's own user id is the sender's: one from the address book is not."""
    own = contact_user_id == sender
    if whose == SELF and not own:
        return Invalid("contact_not_own")
    if whose == OTHER and own:
        return Invalid("contact_is_own")
    return None


def fixed_choices(values: tuple[str, ...]) -> Choices:
    """The ``choices`` of a step whose buttons do not depend on earlier answers."""
    return lambda data, ctx: values


def store_answer(key: str, parse: Callable[[str], Any]) -> TextParser:
    """The ``text`` of a step that parses the typed text into one answer under ``key``
    (or refuses it with the parser's Invalid)."""

    def apply(text: str, data: Data, ctx: Any) -> Updates | Invalid:
        value = parse(text)
        return value if isinstance(value, Invalid) else {key: value}

    return apply
