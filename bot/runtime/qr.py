"""QR codes as PNG (segno, pure Python): a venue's code that opens the arrival form with the
venue prefilled (``bot.domain.units.venue_link``), and the posters' codes.

Error correction M (15% of the code may be lost): a code printed and taped to a reception desk
gets scuffed. The quiet zone of four modules is the standard's, which phone scanners expect.
"""

from __future__ import annotations

import io

import segno

ERROR = "m"
SCALE = 10  # pixels per module: a 400-odd pixel square, sharp when Telegram shows or prints it
BORDER = 4


def code(link: str) -> segno.QRCode:
    """The QR code of ``link`` exactly as given (no upper-casing: a t.me payload is
    case-sensitive)."""
    return segno.make_qr(link, error=ERROR, boost_error=False)


def png(link: str) -> bytes:
    buffer = io.BytesIO()
    code(link).save(buffer, kind="png", scale=SCALE, border=BORDER)
    return buffer.getvalue()
