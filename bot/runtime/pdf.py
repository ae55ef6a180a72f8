"""A small PDF writer (fpdf2) with the bundled CJK font: A4 pages of headings, lines of text
and images, for the release certificate (解除隔离证明) and the QR posters (二维码张贴), which
are also made as PNG (their page rasterised by pypdfium2).

The font is the one the charts use (bot.runtime.chart.FONT_RESOURCE: Noto Sans CJK SC cut to
GB2312), embedded as a subset of the glyphs used. Names are arbitrary user text: a character
the font has no glyph for (a rare surname character outside GB2312, an emoji) is printed as
``MISSING`` (□), never dropped silently and never a crash; ``missing`` says which were
replaced, so the caller can tell the reader where to find the name in full. fpdf2 (and the
numpy and Pillow it brings) is imported on the first document, not at the bot's start.

A document sent through the outbox is stored as its ``recipe`` (a layout of ``LAYOUTS``, its
words, its creation time) and made by the outbox worker right before it is sent (``make``):
building one takes up to a second, never inside a write transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from importlib import resources
from io import BytesIO
from pathlib import Path

from fontTools.ttLib import TTFont

from bot.runtime.chart import FONT_RESOURCE

FAMILY = "cjk"
MISSING = "□"  # in GB2312 (A1F5): the font has it
MARGIN_MM = 20
PDF_SIGNATURE = b"%PDF-"


def font_path() -> Path:
    package, name = FONT_RESOURCE
    return Path(str(resources.files(package).joinpath(name)))


@cache
def _covered() -> frozenset[int]:
    """The code points the font has a glyph for."""
    with TTFont(font_path(), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing(text: str) -> list[str]:
    """The characters of ``text`` the font cannot print (whitespace aside), in order, once."""
    covered = _covered()
    return list(dict.fromkeys(ch for ch in text if not ch.isspace() and ord(ch) not in covered))


def printable(text: str) -> str:
    """``text`` with every character the font lacks replaced by ``MISSING`` (a space the font
    lacks, a tab say, by a plain space); line breaks kept."""
    covered = _covered()
    return "".join(ch if ch == "\n" or ord(ch) in covered else " " if ch.isspace() else MISSING
                   for ch in text)  # fmt: skip


class Document:
    """An A4 portrait document; each method adds to the current page, ``page`` starts one."""

    def __init__(self, title: str, created: datetime, *, flowing: bool = True) -> None:
        """``flowing``: text that passes the bottom margin goes on a new page; not flowing
        (a poster: one page each), it goes on into the margin."""
        from fpdf import FPDF

        self._pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        self._pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self._pdf.set_auto_page_break(auto=flowing, margin=MARGIN_MM)
        self._pdf.add_font(FAMILY, fname=str(font_path()))
        self._pdf.set_title(printable(title))
        self._pdf.set_creation_date(created)  # the same input gives the same bytes
        self.page()

    def page(self) -> None:
        self._pdf.add_page()

    def heading(self, text: str, size: float = 22, gap: float = 10) -> None:
        """A centred heading, then ``gap`` mm of space."""
        self._text(text, size, "C")
        self._pdf.ln(gap)

    def paragraph(self, text: str, size: float = 13, align: str = "L", gap: float = 3) -> None:
        """Text wrapped to the page's width (``align`` L, C, R or J), then ``gap`` mm."""
        self._text(text, size, align)
        self._pdf.ln(gap)

    def image(self, data: bytes, width_mm: float) -> None:
        """A PNG or JPEG, centred, ``width_mm`` wide."""
        x = (self._pdf.w - width_mm) / 2
        self._pdf.image(BytesIO(data), x=x, w=width_mm)

    def beside(self, data: bytes, width_mm: float, text: str, size: float = 13) -> None:
        """A PNG or JPEG ``width_mm`` wide at the left margin, ``text`` wrapped to its right,
        then on below the taller of the two."""
        pdf = self._pdf
        top = pdf.get_y()
        pdf.image(BytesIO(data), x=pdf.l_margin, y=top, w=width_mm)
        pdf.set_xy(pdf.l_margin + width_mm + 5, top + 2)
        pdf.set_font(FAMILY, size=size)
        pdf.multi_cell(0, size * 0.5, printable(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), top + width_mm))

    def _text(self, text: str, size: float, align: str) -> None:
        self._pdf.set_font(FAMILY, size=size)
        self._pdf.multi_cell(0, size * 0.5, printable(text), align=align,
                             new_x="LMARGIN", new_y="NEXT")  # fmt: skip

    def output(self) -> bytes:
        return bytes(self._pdf.output())


def certificate(words: Sequence[str], created: datetime) -> bytes:
    """The release certificate (解除集中隔离医学观察告知书) on an A4 page: ``words`` are its
    title, number, body and signature (bot.actions.release.certificate_words)."""
    title, number, body, sign = words
    document = Document(title, created)
    document.heading(title)
    document.paragraph(number, size=11, align="R", gap=8)
    document.paragraph(body, gap=12)
    document.paragraph(sign, align="R")
    return document.output()


# A poster's words, in this order (bot.actions.posters writes them).
POSTER = ("heading", "place", "arrival_link", "steps", "tip_link", "tip_caption", "contacts",
          "hotline")  # fmt: skip
ARRIVAL_QR_MM, TIP_QR_MM = 90, 38  # the arrival's code fills the page, the tips' is its aside


def posters(words: Sequence[str], created: datetime) -> bytes:
    """QR posters (二维码张贴), one A4 page each: ``words`` are ``POSTER``'s for each poster
    in turn. Large print for a 60-year-old reader: the place, the arrival form's code, three
    steps, then the tip form's smaller code, whom to call and the town's hotline."""
    from bot.runtime import qr

    pages = [words[i : i + len(POSTER)] for i in range(0, len(words), len(POSTER))]
    if not pages or len(pages[-1]) != len(POSTER):
        raise ValueError(f"posters take {len(POSTER)} words a page, not {len(words)}")
    document = Document(pages[0][0], created, flowing=False)
    for number, page in enumerate(pages):
        heading, place, arrival, steps, tip, tip_caption, contacts, hotline = page
        if number:
            document.page()
        document.heading(heading, size=30, gap=2)
        document.heading(place, size=22, gap=3)
        document.image(qr.png(arrival), ARRIVAL_QR_MM)
        document.paragraph(steps, size=22, gap=3)
        document.beside(qr.png(tip), TIP_QR_MM, tip_caption, size=15)
        document.paragraph(contacts, size=16, gap=1)
        document.paragraph(hotline, size=18, gap=0)
    return document.output()


PNG_DPI = 150  # an A4 page of 1240 x 1754 pixels: sharp on a phone, prints as it looks


def poster_png(words: Sequence[str], created: datetime) -> bytes:
    """One poster as a PNG image: its PDF page rasterised by PDFium (pypdfium2), so the image
    is the printed page itself, not a second drawing of it."""
    import pypdfium2

    document = pypdfium2.PdfDocument(posters(words, created))
    try:
        if len(document) != 1:
            raise ValueError("a PNG holds one poster")
        image = document[0].render(scale=PNG_DPI / 72).to_pil()
    finally:
        document.close()
    buffer = BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


LAYOUTS: dict[str, Callable[[Sequence[str], datetime], bytes]] = {
    "certificate": certificate,
    "posters": posters,
    "poster_png": poster_png,
}


def recipe(layout: str, words: Sequence[str], created: datetime) -> str:
    """What ``make`` builds a document from (stored in its outbox row): the same recipe
    gives the same bytes."""
    if layout not in LAYOUTS:
        raise ValueError(f"no document layout {layout!r}")
    return json.dumps({"layout": layout, "words": list(words), "created": created.isoformat()},
                      ensure_ascii=False)  # fmt: skip


def make(recipe: str) -> bytes:
    """The document of a ``recipe``: a few hundred ms of font subsetting, to be run off the
    event loop and outside any transaction (the outbox worker does)."""
    spec = json.loads(recipe)
    return LAYOUTS[spec["layout"]](spec["words"], datetime.fromisoformat(spec["created"]))
