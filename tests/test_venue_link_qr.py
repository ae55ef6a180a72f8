"""The venue's QR code (bot.runtime.qr): a PNG whose modules are exactly the QR code of the
venue's deep link, written out by hand here (decoding the picture with a QR reader is issue
14's poster test); and the link itself fits Telegram's deep-link rules."""

from __future__ import annotations

import re
import struct
import zlib

import segno

from bot.domain.units import venue_link, venue_payload
from bot.flows.arrivals import venue_unit
from bot.runtime import qr

LINK = "https://t.me/paicha_bot?start=u-xfhotel"
PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


def png_modules(data: bytes) -> list[list[int]]:
    """The dark (1) and light (0) modules of a 1-bit greyscale PNG (what segno writes), one
    per ``qr.SCALE`` pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, header, idat = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert (depth, colour) == (1, 0)
    raw = zlib.decompress(idat)
    stride = (width + 7) // 8 + 1
    rows = []
    for y in range(0, height, qr.SCALE):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0  # no filter
        bits = [(line[1 + x // 8] >> (7 - x % 8)) & 1 for x in range(0, width, qr.SCALE)]
        rows.append([1 - bit for bit in bits])  # a 0 bit is black: a dark module
    return rows


def expected_modules(link: str) -> list[list[int]]:
    matrix = segno.make_qr(link, error="m", boost_error=False).matrix
    size = len(matrix) + 2 * qr.BORDER
    blank = [[0] * size for _ in range(qr.BORDER)]
    margin = [0] * qr.BORDER
    return [*blank, *([*margin, *map(int, row), *margin] for row in matrix), *blank]


def test_the_png_is_the_qr_code_of_the_exact_link() -> None:
    assert png_modules(qr.png(LINK)) == expected_modules(LINK)


def test_another_link_is_another_picture() -> None:
    other = LINK.replace("xfhotel", "xfhotem")
    assert png_modules(qr.png(other)) == expected_modules(other)
    assert png_modules(qr.png(other)) != png_modules(qr.png(LINK))


def test_the_code_is_of_the_link_as_written() -> None:
    code = qr.code(LINK)
    assert code.mode == "byte" and code.error == "M"  # not upper-cased into alphanumeric


def test_the_venue_link_and_its_payload() -> None:
    assert venue_link("paicha_bot", "xfhotel") == LINK
    payload = venue_payload("xfhotel")
    assert PAYLOAD.fullmatch(payload) and venue_unit(payload) == "xfhotel"
    assert venue_unit(venue_payload("DW0001")) == "DW0001"


def test_payloads_that_are_no_venue() -> None:
    for payload in (None, "", "u-", "a-XF01", "u-Hotel!", "u-" + "a" * 17, "xu-hotel"):
        assert venue_unit(payload) is None, payload
