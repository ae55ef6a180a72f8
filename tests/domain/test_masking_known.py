"""``shown``: the value in full for the entitled reader, masked for a broadcast, nothing for
no value, whoever reads (known answers)."""

from __future__ import annotations

import pytest

from bot.domain.masking import Audience, shown


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("name", "张三丰", "张**"),
        ("phone", "13812345678", "138****5678"),
        ("id", "500116199212310453", "5001**********0453"),
    ],
)
def test_shown_in_full_only_to_the_entitled(kind: str, value: str, masked: str) -> None:
    assert shown(kind, value, Audience.ENTITLED) == value
    assert shown(kind, value, Audience.BROADCAST) == masked


@pytest.mark.parametrize("audience", list(Audience))
@pytest.mark.parametrize("value", [None, ""])
def test_no_value_shows_nothing(audience: Audience, value: str | None) -> None:
    assert shown("phone", value, audience) == ""
