"""The daily report's chart: a PNG of the last 14 days, drawn with matplotlib (Agg).

A fresh machine has no CJK font, so the package ships one: Noto Sans CJK SC Regular cut to
GB2312 (``fonts/NotoSansCJKsc-Regular-GB2312.ttf``, 2 MB, SIL OFL 1.1, license beside it;
``bin/make-font`` rebuilds it from Debian's ``fonts-noto-cjk``). Without it every Chinese label
would be a row of missing-glyph boxes. matplotlib is imported on the first chart, not at
start-up; rendering is CPU work, so callers run it in a thread (``asyncio.to_thread``). Only
the object-oriented API is used (no pyplot global state).
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# The packaged font (package data of bot.runtime).
FONT_RESOURCE = ("bot.runtime", "fonts/NotoSansCJKsc-Regular-GB2312.ttf")
# Installed system fonts tried when the packaged font is missing (a broken install).
SYSTEM_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_lock = threading.RLock()  # cjk_font() takes it too, inside a chart's


class NoCJKFont(RuntimeError):
    """No font with Chinese glyphs: the packaged font is missing and the system has none."""


@dataclass(frozen=True)
class ChartText:
    """Every word on the chart (from the templates)."""

    title: str
    arrivals: str
    alerts: str
    monitoring: str
    people: str  # y axis


def _package_font() -> Path | None:
    package, name = FONT_RESOURCE
    path = Path(str(resources.files(package).joinpath(name)))
    return path if path.is_file() else None


@cache
def cjk_font() -> tuple[Path, str]:
    """(file, family name) of the CJK font, registered with matplotlib. Raises NoCJKFont."""
    from matplotlib import font_manager

    with _lock:
        path = _package_font()
        if path is not None:
            font_manager.fontManager.addfont(str(path))
            return path, font_manager.FontProperties(fname=str(path)).get_name()
        for family in SYSTEM_FAMILIES:
            found = font_manager.findfont(family, fallback_to_default=False)
            if found:
                return Path(found), family
    raise NoCJKFont(f"no font with Chinese glyphs: {FONT_RESOURCE[1]} is missing from bot.runtime")


def missing_glyphs(text: str, path: Path | None = None) -> list[str]:
    """Characters of ``text`` the CJK font has no glyph for (whitespace aside)."""
    from matplotlib.ft2font import FT2Font

    font = FT2Font(str(path or cjk_font()[0]))
    return sorted({ch for ch in text if not ch.isspace() and font.get_char_index(ord(ch)) == 0})


def render(
    days: Sequence[date],
    arrivals: Sequence[int],
    alerts: Sequence[int],
    monitoring: Sequence[int],
    text: ChartText,
) -> bytes:
    """The PNG: new arrivals and alerts per day (bars, top), people under monitoring (line,
    bottom: it is often a hundred times larger, so it gets its own scale)."""
    x = list(range(len(days)))
    with _lock:  # FreeType objects are shared between figures
        fig, font = _figure(text.title, (8, 6))
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        width = 0.4
        for dx, values, label, color in ((-width / 2, arrivals, text.arrivals, "#4C72B0"),
                                         (width / 2, alerts, text.alerts, "#C44E52")):  # fmt: skip
            _bars(top, [i + dx for i in x], values, width, label, color)
        bottom.plot(x, monitoring, marker="o", color="#55A868", label=text.monitoring)
        bottom.fill_between(x, monitoring, alpha=0.15, color="#55A868")
        for ax in (top, bottom):
            _axis(ax, text.people, font)
        bottom.set_xticks(x, [f"{d.month}/{d.day}" for d in days], fontsize=8)
        return _png(fig)


def trend(days: Sequence[date], values: Sequence[int], title: str, series: str,
          people: str) -> bytes:  # fmt: skip
    """A PNG of one count per day (bars, each labelled up to a month), for /stats' 按日趋势."""
    x = list(range(len(days)))
    step = max(1, len(days) // 16)  # at most ~16 day labels, however long the range
    with _lock:
        fig, font = _figure(title, (8, 4.5))
        ax = fig.subplots()
        _bars(ax, x, values, 0.7, series, "#4C72B0", labelled=len(days) <= 31)
        _axis(ax, people, font)
        ax.set_xticks(x[::step], [f"{d.month}/{d.day}" for d in days][::step], fontsize=8)
        return _png(fig)


def _figure(title: str, size: tuple[float, float]) -> tuple[Any, Any]:
    """A titled figure of ``size`` inches (its canvas attached), and the labels' font."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    _, family = cjk_font()
    fig = Figure(figsize=size, dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(title, fontproperties=FontProperties(family=[family, "DejaVu Sans"], size=13))
    return fig, FontProperties(family=[family, "DejaVu Sans"], size=10)


def _bars(ax: Any, x: Sequence[float], values: Sequence[int], width: float, label: str,
          color: str, labelled: bool = True) -> None:  # fmt: skip
    """Bars, each non-zero one with its value above it (``labelled``)."""
    ax.bar(x, values, width, label=label, color=color)
    for at, value in zip(x, values, strict=True):
        if labelled and value:
            ax.annotate(str(value), (at, value), ha="center", va="bottom", fontsize=8,
                        xytext=(0, 1), textcoords="offset points")  # fmt: skip


def _axis(ax: Any, people: str, font: Any) -> None:
    """The legend, the y axis (whole people, from 0 with room above the tallest) and the
    light grid every chart shares."""
    from matplotlib.ticker import MaxNLocator

    ax.legend(prop=font, loc="upper left")
    ax.set_ylabel(people, fontproperties=font)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0, top=max(1, *_values(ax)) * 1.15)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _values(ax: Any) -> list[float]:
    values: list[float] = [0]
    for container in ax.containers:
        values += [bar.get_height() for bar in container]
    for line in ax.get_lines():
        values += list(line.get_ydata())
    return values
