"""Whose shared contact card answers which phone question (bot.domain.steps), known answers:
"my number" only from a card carrying the sender's own user id."""

from __future__ import annotations

import pytest

from bot.domain import arrivals, tips
from bot.domain.steps import ANYONE, OTHER, SELF, Step, contact_refusal

ME, SOMEONE = 111, 222


@pytest.mark.parametrize(("whose", "card_of", "expected"), [
    (SELF, ME, None),
    (SELF, SOMEONE, "contact_not_own"),
    (SELF, None, "contact_not_own"),  # an address-book card of no Telegram user
    (OTHER, SOMEONE, None),
    (OTHER, None, None),
    (OTHER, ME, "contact_is_own"),
    (ANYONE, ME, None),
    (ANYONE, SOMEONE, None),
    (ANYONE, None, None),
])  # fmt: skip
def test_contact_refusal_known(whose: str, card_of: int | None, expected: str | None) -> None:
    refused = contact_refusal(whose, card_of, ME)
    assert (refused.code if refused else None) == expected


@pytest.mark.parametrize(("step", "data", "expected"), [
    (arrivals.STEPS["phone"], {"relation": "self"}, SELF),
    (arrivals.STEPS["phone"], {"relation": "family"}, ANYONE),
    (arrivals.STEPS["phone"], {"relation": "guest"}, ANYONE),
    (arrivals.STEPS["phone"], {}, ANYONE),
    (arrivals.STEPS["companion_phone"], {"relation": "self"}, ANYONE),
    (tips.STEPS["phone"], {}, OTHER),
    (tips.STEPS["name"], {}, None),
    (arrivals.STEPS["name"], {"relation": "self"}, None),
    (Step("phone", contact=True), {}, SELF),  # a step with the share button: one's own
    (Step("phone"), {}, None),
])  # fmt: skip
def test_whose_contact_each_step_takes(step: Step, data: dict, expected: str | None) -> None:
    assert step.whose_contact(data) == expected
