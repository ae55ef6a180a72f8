"""The text of a PDF written by bot.runtime.pdf, read back for tests without a PDF library:
the content streams' strings (two-byte character ids) through the font's ToUnicode map.
Lines as drawn, one per text object (a wrapped paragraph is several lines)."""

from __future__ import annotations

import re
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_BFCHAR = re.compile(rb"<([0-9A-F]{4})> <([0-9A-F]{4,8})>")
_SHOWN = re.compile(rb"\((.*?)(?<!\\)\) Tj", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _streams(data: bytes) -> list[bytes]:
    found = []
    for raw in _STREAM.findall(data):
        try:
            found.append(zlib.decompress(raw))
        except zlib.error:
            found.append(raw)
    return found


def _unescape(literal: bytes) -> bytes:
    """A PDF literal string's bytes (backslash escapes; octal ones are not written by fpdf2)."""
    return re.sub(rb"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), literal, flags=re.S)


def pdf_lines(data: bytes) -> list[str]:
    assert data.startswith(b"%PDF-"), "not a PDF"
    streams = _streams(data)
    chars = {
        int(cid, 16): chr(int(code, 16))
        for stream in streams
        if b"beginbfchar" in stream
        for cid, code in _BFCHAR.findall(stream)
    }
    lines = []
    for stream in streams:
        for literal in _SHOWN.findall(stream):
            raw = _unescape(literal)
            ids = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
            lines.append("".join(chars.get(i, "\ufffd") for i in ids))
    return lines
