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

_lock = threading.Lock()


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
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    _, family = cjk_font()
    font = FontProperties(family=[family, "DejaVu Sans"], size=10)
    big = FontProperties(family=[family, "DejaVu Sans"], size=13)
    x = list(range(len(days)))
    labels = [f"{d.month}/{d.day}" for d in days]

    with _lock:  # FreeType objects are shared between figures
        fig = Figure(figsize=(8, 6), dpi=110, layout="constrained")
        FigureCanvasAgg(fig)
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        fig.suptitle(text.title, fontproperties=big)
        width = 0.4
        top.bar([i - width / 2 for i in x], arrivals, width, label=text.arrivals, color="#4C72B0")
        top.bar([i + width / 2 for i in x], alerts, width, label=text.alerts, color="#C44E52")
        for i, (a, b) in enumerate(zip(arrivals, alerts, strict=True)):
            for value, dx in ((a, -width / 2), (b, width / 2)):
                if value:
                    top.annotate(
                        str(value),
                        (i + dx, value),
                        ha="center",
                        va="bottom",
                        fontsize=8,
                        xytext=(0, 1),
                        textcoords="offset points",
                    )
        top.legend(prop=font, loc="upper left")
        top.set_ylabel(text.people, fontproperties=font)
        bottom.plot(x, monitoring, marker="o", color="#55A868", label=text.monitoring)
        bottom.fill_between(x, monitoring, alpha=0.15, color="#55A868")
        bottom.legend(prop=font, loc="upper left")
        bottom.set_ylabel(text.people, fontproperties=font)
        for ax in (top, bottom):
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(bottom=0, top=max(1, *_values(ax)) * 1.15)
            ax.grid(axis="y", alpha=0.3)
            ax.spines[["top", "right"]].set_visible(False)
        bottom.set_xticks(x, labels, fontsize=8)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _values(ax) -> list[float]:
    values: list[float] = [0]
    for container in ax.containers:
        values += [bar.get_height() for bar in container]
    for line in ax.get_lines():
        values += list(line.get_ydata())
    return values
