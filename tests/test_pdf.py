"""The PDF writer (bot.runtime.pdf): the bundled CJK font embedded as a subset, the text read
back as written, a character the font lacks printed as □ (never a crash), images for posters,
the same bytes for the same input."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from bot.runtime import pdf
from tests.pdf_text import pdf_lines

CREATED = datetime(2020, 11, 9, 1, 0, tzinfo=UTC)


def test_known_characters_and_replacements() -> None:
    assert pdf.missing("王喆 😀先锋镇 Ab1") == ["喆", "😀"]
    assert pdf.printable("王喆 😀先锋镇 Ab1") == "王□ □先锋镇 Ab1"
    assert (
        pdf.printable("解除集中隔离医学观察告知书：（）—·") == "解除集中隔离医学观察告知书：（）—·"
    )
    assert pdf.missing("𠀀𠀀") == ["𠀀"]  # each once
    assert pdf.printable("a\nb\tc\u3000d\u2003e") == "a\nb c\u3000d e"  # U+2003: not in GB2312


@given(st.text(max_size=40))
def test_printable_keeps_the_length_and_leaves_only_what_prints(text: str) -> None:
    shown = pdf.printable(text)
    assert len(shown) == len(text)
    assert pdf.printable(shown) == shown and not pdf.missing(shown)
    for before, after in zip(text, shown, strict=True):
        assert after == before or after == (" " if before.isspace() else pdf.MISSING)


def test_a_document_reads_back_with_its_font_subset_embedded() -> None:
    doc = pdf.Document("解除隔离", CREATED)
    doc.heading("解除集中隔离医学观察告知书")
    doc.paragraph("姓名：王喆 身份证件号码：5002**********1234", align="J")
    data = doc.output()
    assert data.startswith(pdf.PDF_SIGNATURE)
    assert b"/FontFile2" in data and len(data) < 60_000  # a subset, not the 2 MB font
    lines = pdf_lines(data)
    assert lines[0] == "解除集中隔离医学观察告知书"
    assert "姓名：王□ 身份证件号码：5002**********1234" in lines
    again = pdf.Document("解除隔离", CREATED)
    again.heading("解除集中隔离医学观察告知书")
    again.paragraph("姓名：王喆 身份证件号码：5002**********1234", align="J")
    assert again.output() == data


def test_pages_and_images_for_posters() -> None:
    png = BytesIO()
    Image.new("RGB", (20, 20), "red").save(png, "PNG")
    doc = pdf.Document("海报", CREATED)
    doc.heading("扫码申报")
    doc.image(png.getvalue(), width_mm=60)
    doc.page()
    doc.paragraph("第二页", align="C")
    data = doc.output()
    assert b"/Count 2" in data
    assert pdf_lines(data) == ["扫码申报", "第二页"]


def test_a_recipe_makes_the_same_certificate_every_time() -> None:
    """What the outbox keeps of a document (bot.runtime.pdf.recipe): made again after a
    restart, it gives the same bytes."""
    words = ["解除集中隔离医学观察告知书", "编号：XF-JC-20201109-0007", "王喆：……", "先锋镇"]
    recipe = pdf.recipe("certificate", words, CREATED)
    data = pdf.make(recipe)
    assert data == pdf.make(recipe) == pdf.certificate(words, CREATED)
    assert pdf_lines(data)[:2] == ["解除集中隔离医学观察告知书", "编号：XF-JC-20201109-0007"]
    with pytest.raises(ValueError, match="layout"):
        pdf.recipe("poster", words, CREATED)
