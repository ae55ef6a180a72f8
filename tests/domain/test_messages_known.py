"""Splitting long messages and photo captions (known answers), and the callback data of the
buttons: what is ours, and the handler pattern for several flows."""

from __future__ import annotations

import re

import pytest

from bot.domain.callbacks import callback_pattern, parse_callback
from bot.domain.messages import CAPTION_LIMIT, MESSAGE_LIMIT, message_parts, split_message


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", [""]),
        ("a" * 25, ["a" * 10, "a" * 10, "a" * 5]),  # a line longer than the limit is cut
        ("x\n" + "a" * 25 + "\ny", ["x", "a" * 10, "a" * 10, "a" * 5 + "\ny"]),
        ("abc\ndef\nghi", ["abc\ndef", "ghi"]),
        ("a" * 10, ["a" * 10]),
    ],
)
def test_split_message(text: str, parts: list[str]) -> None:
    assert split_message(text, 10) == parts


def test_a_photo_carries_what_fits_its_caption_and_the_rest_follows() -> None:
    lines = [f"{i:04d}" + "字" * 95 for i in range(30)]  # 100 characters a line
    text = "\n".join(lines)
    caption = "\n".join(lines[:10])  # ten lines and their nine line breaks: 1009 characters
    assert len(caption) <= CAPTION_LIMIT < len(caption) + 101
    assert message_parts(text, b"png") == [(caption, b"png"), ("\n".join(lines[10:]), None)]
    assert message_parts(text, None) == [(text, None)]
    long = "\n".join(["字" * 100] * 50)  # 5,049 characters: two text messages
    assert [len(p) for p, _ in message_parts(long, None)] == [4039, 1009]
    assert len(long) > MESSAGE_LIMIT


@pytest.mark.parametrize(
    ("data", "parts"),
    [
        ("v1:tip:ok:7", ["ok", "7"]),
        ("v1:tip", []),
        ("v1", None),
        ("v0:tip:ok", None),
        ("v1:case:ok", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_callback(data: str | None, parts: list[str] | None) -> None:
    assert parse_callback(data, "tip") == parts


def test_callback_pattern_for_several_flows_matches_whole_names_only() -> None:
    one, two = callback_pattern("tip"), callback_pattern("tip", "case")
    assert re.match(one, "v1:tip:ok") and not re.match(one, "v1:tipx:ok")
    assert re.match(two, "v1:tip:ok") and re.match(two, "v1:case:ok")
    for other in ("v1:tipx:ok", "v1:ca:ok", "xcase:ok", "v2:tip:ok"):
        assert not re.match(two, other), other
