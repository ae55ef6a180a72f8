"""Where the project's data files are — templates, the example config, the demo regions, the
drills — in a checkout and in an installed wheel alike.

A checkout keeps them at the top (``templates/``, ``config.example.toml``,
``data/regions.toml``, ``scenarios/``). A wheel carries the same tree as package data of
``bot._files`` (setup.py adds that package, pyproject.toml maps it onto the checkout's root and
names its files), so paths relative to each other resolve alike in both: the example config's
``regions.file = "data/regions.toml"`` is the packaged demo regions once installed.
The files belong to the ``bot`` package actually imported: a wheel uses its own copy, a
checkout (editable install, tests, ``mutants/``) its top-level folders.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

PACKAGED = "_files"  # bot/_files/ in a wheel


@cache
def root() -> Path:
    """The folder holding templates/, config.example.toml, data/ and scenarios/."""
    packaged = Path(str(resources.files("bot").joinpath(PACKAGED)))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2]  # the checkout: bot/runtime/assets.py -> ../..


def templates() -> Path:
    """Jinja2 templates, one folder per locale."""
    return root() / "templates"


def example_config() -> Path:
    """config.example.toml: the demo town, the sandbox's default config."""
    return root() / "config.example.toml"


def drills() -> Path:
    """The drill scenarios (``scenarios/*.toml``) the sandbox page lists."""
    return root() / "scenarios"
