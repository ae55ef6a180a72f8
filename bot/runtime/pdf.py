"""A small PDF writer (fpdf2) with the bundled CJK font: A4 pages of headings, lines of text
and images, for the release certificate (解除隔离证明) and printable posters.

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

    def __init__(self, title: str, created: datetime) -> None:
        from fpdf import FPDF

        self._pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        self._pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self._pdf.set_auto_page_break(auto=True, margin=MARGIN_MM)
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


LAYOUTS: dict[str, Callable[[Sequence[str], datetime], bytes]] = {"certificate": certificate}


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
