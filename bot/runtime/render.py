"""Jinja2 environment: every user-facing word comes from ``templates/<locale>/<module>.j2``.

Each template file is a set of macros, one per message, so both locales can be compared
macro by macro and a message is rendered as ``renderer.text(locale, "arrivals", "ask_name")``.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"


def locale_for(language_code: str | None) -> str:
    """Telegram's language_code to one of our locales; Chinese unless the user speaks English."""
    if language_code and language_code.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


class Renderer:
    def __init__(self, root: Path = TEMPLATES) -> None:
        self.env = Environment(
            loader=FileSystemLoader(root),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self._module = cache(self._load)
        self._labels = lru_cache(maxsize=1024)(self.text)

    def _load(self, locale: str, module: str) -> Any:
        return self.env.get_template(f"{locale}/{module}.j2").module

    def text(self, locale: str, module: str, name: str, /, **params: Any) -> str:
        """Render one message; surrounding whitespace is trimmed so templates stay readable."""
        macro = getattr(self._module(locale, module), name)
        return str(macro(**params)).strip()

    def label(self, locale: str, module: str, name: str, /, **params: Any) -> str:
        """``text`` of a short text that many messages repeat (a button's label), rendered
        once per locale and parameters: a check-in wave shows everyone the same buttons."""
        return self._labels(locale, module, name, **params)

    def messages(self, locale: str, module: str) -> set[str]:
        """Names of the messages a locale defines in a module (for the locale parity test)."""
        mod = self._module(locale, module)
        return {name for name in dir(mod) if not name.startswith("_")}

    def modules(self, locale: str) -> set[str]:
        return {p.stem for p in (TEMPLATES / locale).glob("*.j2")}
