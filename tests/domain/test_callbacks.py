"""The one builder and parser of callback data (bot.domain.callbacks)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.domain import monitoring as dm
from bot.domain.callbacks import button, callback, callback_pattern, inline_markup, parse_callback


def test_callback_is_versioned_and_parses_back() -> None:
    data = callback("tip", "42", "ok")
    assert data == "v1:tip:42:ok"
    assert parse_callback(data, "tip") == ["42", "ok"]
    assert parse_callback(data, "tp") is None
    assert parse_callback("v0:tip:42:ok", "tip") is None
    assert parse_callback(None, "tip") is None


def test_callback_over_64_bytes_is_refused() -> None:
    callback("ack", "x" * 57)  # 64 bytes: fine
    with pytest.raises(ValueError, match="64 bytes"):
        callback("ack", "x" * 58)
    with pytest.raises(ValueError):
        callback("ack", "网" * 20)  # 60 bytes of UTF-8 in 20 characters


def test_pattern_matches_only_its_flows() -> None:
    assert re.match(callback_pattern("tk"), "v1:tk:o:1")
    assert not re.match(callback_pattern("tk"), "v1:tkx:o:1")
    menu = callback_pattern("menu", "lang", "my")
    assert re.match(menu, "v1:lang:en") and re.match(menu, "v1:my:withdraw:3")
    assert not re.match(menu, "v1:mystery:1")


def test_outbox_markup_dicts() -> None:
    assert inline_markup([[button("收到", callback("ack", "case:1"))]]) == {
        "inline_keyboard": [[{"text": "收到", "callback_data": "v1:ack:case:1"}]]
    }


def test_formats_of_buttons_already_in_chats_are_kept() -> None:
    """Buttons sent before the builders were shared must still parse."""
    assert dm.CheckinAction(7, 1600000000, "temperature", tenths=365).encode() == (
        "v1:ci:7:1600000000:t:365"
    )
    assert dm.CheckinAction(7, 1600000000, "other").encode() == "v1:ci:7:1600000000:o"
    assert dm.CheckinAction(7, 1600000000, "symptom", mask=3, choice="d").encode() == (
        "v1:ci:7:1600000000:s:3:d"
    )
    assert dm.sample_callback(9, date(2020, 11, 3)) == "v1:mo:9:sample:20201103"
