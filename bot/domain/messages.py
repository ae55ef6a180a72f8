"""Telegram's size limits on one message, and splitting a long text to fit them."""

from __future__ import annotations

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024  # a photo's caption


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split at line breaks so no part exceeds Telegram's limit; a line is never cut inside
    unless it alone is longer than the limit (our templates never open a tag across lines)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


def message_parts(text: str, photo: bytes | None) -> list[tuple[str, bytes | None]]:
    """(text, photo) per row. A photo carries what fits its caption; the rest follows as text."""
    if photo is None:
        return [(part, None) for part in split_message(text, MESSAGE_LIMIT)]
    caption, *rest = split_message(text, CAPTION_LIMIT)
    parts: list[tuple[str, bytes | None]] = [(caption, photo)]
    if rest:
        # split_message joined lines with "\n", so this rebuilds the remainder exactly.
        parts += [(part, None) for part in split_message("\n".join(rest), MESSAGE_LIMIT)]
    return parts
