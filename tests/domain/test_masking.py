"""Masking personal data shown to people other than its owner."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.masking import mask_id, mask_name, mask_phone


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("500101199001011234", "5001**********1234"),
        ("50038119900101123X", "5003**********123X"),
        ("E12345678", "E1*****78"),
        ("abcde", "ab*de"),
        ("abc", "a*c"),
        ("ab", "**"),
        ("a", "*"),
        ("", ""),
    ],
)
def test_mask_id(value: str, expected: str) -> None:
    assert mask_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("13812345678", "138****5678"), ("02312345", "02****45"), ("", "")],
)
def test_mask_phone(value: str, expected: str) -> None:
    assert mask_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("张三丰", "张**"), ("李四", "李*"), ("王", "王"), ("", "")],
)
def test_mask_name(value: str, expected: str) -> None:
    assert mask_name(value) == expected


@given(st.text())
def test_masks_keep_length_and_hide_something(value: str) -> None:
    for mask in (mask_id, mask_phone):
        masked = mask(value)
        assert len(masked) == len(value)
        assert not value or "*" in masked
    assert len(mask_name(value)) == len(value)
    assert mask_name(value)[:1] == value[:1]
