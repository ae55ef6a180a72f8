"""Every kind of button has one owner: the prefix of its callback data (``v1:<prefix>:...``)
is matched by exactly one handler of the bot. Two nouns that picked the same prefix (the
contact list's import and the check-in buttons once both used ``ci``) would have the first
handler registered swallow the other's presses without a word."""

from __future__ import annotations

import re
from collections import Counter

from telegram.ext import CallbackQueryHandler

from bot.domain.callbacks import CALLBACK_VERSION
from tests.harness import Harness

_PATTERN = re.compile(rf"^\^{CALLBACK_VERSION}:(?:\(\?:)?(?P<names>[^)]+?)\)?:$")


def prefixes(pattern: str) -> list[str]:
    """The prefixes a ``callback_pattern`` matches: ``^v1:tip:`` or ``^v1:(?:a|b):``."""
    match = _PATTERN.match(pattern)
    assert match, f"a button handler's pattern is not a callback_pattern: {pattern!r}"
    return [re.sub(r"\\(.)", r"\1", name) for name in match["names"].split("|")]


async def test_each_button_prefix_is_handled_by_one_handler(harness: Harness) -> None:
    claimed: Counter[str] = Counter()
    for group in harness.app.handlers.values():
        for handler in group:
            if isinstance(handler, CallbackQueryHandler) and handler.pattern is not None:
                claimed.update(prefixes(handler.pattern.pattern))
    assert {"ci", "mo", "ack", "cs"} <= set(claimed), claimed  # the parser reads real patterns
    twice = sorted(prefix for prefix, count in claimed.items() if count > 1)
    assert twice == [], f"button prefixes handled twice: {twice}"
