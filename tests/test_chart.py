"""The daily report's chart renders every Chinese label with real glyphs (no missing-glyph
boxes) on a machine with no CJK font of its own: the font ships inside the package."""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from pathlib import Path

from matplotlib.ft2font import FT2Font

from bot.runtime import chart
from bot.runtime.render import LOCALES, Renderer
from storage.stats import VillageCounts

RENDERER = Renderer()
DAYS = [date(2020, 10, 13) + timedelta(days=i) for i in range(14)]


def chart_text(locale: str, town: str = "先锋镇") -> chart.ChartText:
    words = {n: RENDERER.text(locale, "digest", f"chart_{n}")
             for n in ("arrivals", "alerts", "monitoring", "people")}  # fmt: skip
    return chart.ChartText(title=RENDERER.text(locale, "digest", "chart_title", town=town),
                           **words)  # fmt: skip


def test_the_font_comes_from_the_package_and_has_every_label_glyph() -> None:
    path, _ = chart.cjk_font()
    assert path == chart._package_font() and path.is_relative_to(Path(chart.__file__).parent)
    font = FT2Font(str(path))
    for locale in LOCALES:
        text = chart_text(locale)
        labels = "".join([text.title, text.arrivals, text.alerts, text.monitoring, text.people,
                          *(f"{d.month}/{d.day}" for d in DAYS), "0123456789"])  # fmt: skip
        missing = [ch for ch in labels if not ch.isspace() and font.get_char_index(ord(ch)) == 0]
        assert missing == [], (locale, missing)
        assert chart.missing_glyphs(labels) == []
    # Village names of a town: every common character is there (GBK coverage).
    assert chart.missing_glyphs("先锋社区石桥村杉坪村凤凰村保坪村椒园村綦江璧山") == []


def test_render_has_no_missing_glyph_warning_and_is_a_png() -> None:
    for locale in LOCALES:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            png = chart.render(DAYS, arrivals=[i % 4 for i in range(14)],
                               alerts=[i % 2 for i in range(14)],
                               monitoring=[100 + 3 * i for i in range(14)],
                               text=chart_text(locale))  # fmt: skip
        glyph_warnings = [str(w.message) for w in caught if "missing from" in str(w.message)]
        assert glyph_warnings == []
        assert png.startswith(chart.PNG_SIGNATURE)
        assert len(png) > 10_000


def test_an_all_zero_chart_renders() -> None:
    png = chart.render(DAYS, [0] * 14, [0] * 14, [0] * 14, chart_text("zh_CN"))
    assert png.startswith(chart.PNG_SIGNATURE)


def test_a_glyph_the_font_lacks_is_reported() -> None:
    # U+10FFFD (a private-use code point) is in no font: the check is not vacuous.
    assert chart.missing_glyphs("先\U0010fffd") == ["\U0010fffd"]


def test_counts_quiet_and_all_zero() -> None:
    c = VillageCounts()
    assert c.quiet and c.all_zero
    c.monitoring = 3
    assert c.quiet and not c.all_zero
    c.tips_overdue = 1
    assert not c.quiet
