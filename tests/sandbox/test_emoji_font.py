"""The page brings its own emoji font (sandbox/static/emoji.ttf, made by bin/make-emoji-font),
so a machine with no emoji font (a bare Debian) shows the bot's 🚨 ✅ 📍 and not boxes. The
emoji are the characters of the ``paicha-emoji`` @font-face's ``unicode-range`` in style.css:
the font must have every one of them that the bot's text and the page use."""

from __future__ import annotations

import glob
import importlib.machinery
import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

from fontTools.ttLib import TTFont

from tests.sandbox.test_page import Page, page  # noqa: F401 (the page fixture)

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "sandbox" / "static"
FONT = STATIC / "emoji.ttf"
MAX_BYTES = 300_000


def generator() -> ModuleType:
    """bin/make-emoji-font, whose scan of the sources the test shares."""
    path = ROOT / "bin" / "make-emoji-font"
    loader = importlib.machinery.SourceFileLoader("make_emoji_font", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_emoji_font_has_every_emoji_the_bot_and_the_page_use() -> None:
    assert FONT.is_file(), "run .venv/bin/python bin/make-emoji-font"
    assert FONT.stat().st_size < MAX_BYTES
    make = generator()
    used = make.used()
    # the range is read and means emoji: the bot's own, and no text symbol
    assert {ord(ch) for ch in "🚨✅📍📋⚠🟢"} <= used
    assert not {ord(ch) for ch in "✓✗→═℃先"} & make.unicode_range()
    cmap = TTFont(str(FONT)).getBestCmap()
    missing = "".join(sorted(chr(p) for p in used - set(cmap)))
    assert missing == "", f"not in emoji.ttf: {missing!r}; run bin/make-emoji-font"
    assert {ord(ch) for ch in make.EXTRA} <= set(cmap)


def test_the_emoji_font_draws_color_bitmaps_under_its_own_name() -> None:
    font = TTFont(str(FONT))
    assert {"CBDT", "CBLC"} <= set(font.keys())
    assert font["name"].getDebugName(1) != "Noto Color Emoji"  # a cut, named as one
    license_text = (STATIC / "emoji.license.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in license_text


async def test_the_page_serves_the_emoji_font_and_uses_it_first(page: Page) -> None:  # noqa: F811
    response = await page.client.get("/sandbox/static/emoji.ttf")
    assert response.status == 200 and response.content_type == "font/ttf"
    assert await response.read() == FONT.read_bytes()
    css = await (await page.client.get("/sandbox/static/style.css")).text()
    face = next(b for b in re.findall(r"@font-face\s*{([^}]*)}", css) if "paicha-emoji" in b)
    assert 'url("/sandbox/static/emoji.ttf")' in face and "unicode-range" in face
    emoji = re.search(r"--emoji:\s*([^;]*);", css)
    assert emoji and emoji.group(1).startswith('"paicha-emoji"')


def test_the_emoji_font_is_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["sandbox"]
    packaged = {p for pattern in patterns for p in glob.glob(pattern, root_dir=ROOT / "sandbox")}
    assert {"static/emoji.ttf", "static/emoji.license.txt"} <= packaged
