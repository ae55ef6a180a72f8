"""The wheel is self-contained: pyproject's package data name every data file of the checkout
(bin/smoke builds and installs the wheel for real, on other Pythons), and the code finds them
through bot/runtime/assets.py."""

from __future__ import annotations

import glob
import tomllib
from pathlib import Path

from bot.runtime import assets, chart
from bot.runtime.render import TEMPLATES

ROOT = Path(__file__).resolve().parents[1]
DATA = ("templates", "scenarios", "data")


def package_data() -> dict[str, list[str]]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["tool"]["setuptools"]["package-data"]


def test_every_data_file_of_the_checkout_is_package_data() -> None:
    packaged = {p for pattern in package_data()["bot._files"]
                for p in glob.glob(pattern, root_dir=ROOT)}  # fmt: skip
    files = {p.relative_to(ROOT).as_posix() for folder in DATA for p in (ROOT / folder).rglob("*")
             if p.is_file() and not p.name.startswith(".")}  # fmt: skip
    assert files - packaged == set(), "add a pattern to bot._files in pyproject.toml"
    assert "config.example.toml" in packaged


def test_the_font_and_its_license_are_package_data() -> None:
    packaged = {p for pattern in package_data()["bot"]
                for p in glob.glob(pattern, root_dir=ROOT / "bot")}  # fmt: skip
    fonts = {f"runtime/fonts/{p.name}" for p in (ROOT / "bot/runtime/fonts").iterdir()}
    assert fonts <= packaged
    assert f"runtime/{chart.FONT_RESOURCE[1]}" in fonts
    assert "runtime/fonts/LICENSE-NotoSansCJK.txt" in fonts


def test_a_checkout_uses_its_top_level_folders() -> None:
    assert assets.root() == ROOT
    assert TEMPLATES == ROOT / "templates"
    assert assets.example_config() == ROOT / "config.example.toml"
    assert sorted(p.name for p in assets.drills().glob("*.toml"))
